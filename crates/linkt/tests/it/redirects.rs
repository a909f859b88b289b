//! Redirects are not followed. A 3xx from the API host is a typed failure
//! that keeps its status and names where it pointed (without userinfo,
//! query or fragment); the target never sees a request, so never the key; a
//! `POST` never turns into a `GET`; a redirect is never retried. With a
//! `reqwest::Client` of the user's whose policy follows redirects, the call
//! fails instead of returning the redirected answer.

use httpmock::{Mock, MockServer};
use linkt::{Client, ErrorKind};
use serde_json::json;

use crate::{KEY, client, client_with, icp_json};

const ICP_ID: &str = "507f1f77bcf86cd799439011";

/// What must not show in an error about a redirect to [`secret_location`].
const SECRETS: [&str; 5] = ["hunter2", "user:", "s3cret", "token=", "#frag"];

/// Mocks on `other` answering anything with an ICP, as a redirect target
/// would: the first counts requests carrying the key, the second all the
/// others.
async fn catch_all(other: &MockServer) -> (Mock<'_>, Mock<'_>) {
    let keyed = other
        .mock_async(|when, then| {
            when.header("x-api-key", KEY);
            then.status(200).json_body(icp_json());
        })
        .await;
    let any = other
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(icp_json());
        })
        .await;
    (keyed, any)
}

/// A `Location` on `other` with userinfo, a query and a fragment.
fn secret_location(other: &MockServer) -> String {
    format!(
        "http://user:hunter2@127.0.0.1:{}/v1/icp/{ICP_ID}?token=s3cret#frag",
        other.port()
    )
}

/// `err` is the refusal of a `status` redirect to `target`.
#[track_caller]
fn assert_refused(err: &linkt::Error, status: u16, target: &str, attempts: u32) {
    let shown = err.to_string();
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{shown}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{shown}");
    assert_eq!(err.attempts(), Some(attempts), "{shown}");
    assert!(!err.is_retryable(), "{shown}");
    let note = format!("redirect to {target} not followed");
    assert!(err.message().contains(&note), "{:?}", err.message());
    assert!(shown.contains(&note), "{shown}");
    for secret in SECRETS.iter().chain([&KEY]) {
        assert!(!shown.contains(secret), "{secret} in {shown}");
        assert!(!format!("{err:?}").contains(secret), "{secret} in {err:?}");
    }
}

/// A `GET` answered `status` with a `Location` on another port.
async fn get_redirected_to_another_port(status: u16) {
    let api = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let (keyed, any) = catch_all(&other).await;
    let location = secret_location(&other);
    let redirect = api
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
            then.status(status).header("location", &location);
        })
        .await;

    let (client, sleeps) = client(&api.base_url());
    let result = client.icp_retrieve().icp_id(ICP_ID).send().await;

    assert_eq!(keyed.calls_async().await, 0, "the key reached {location}");
    assert_eq!(any.calls_async().await, 0, "{location} was requested");
    let err = result.expect_err("a redirect is an error");
    let target = format!("http://127.0.0.1:{}/v1/icp/{ICP_ID}", other.port());
    assert_refused(&err, status, &target, 1);
    redirect.assert_calls_async(1).await;
    assert_eq!(sleeps.recorded(), vec![]);
}

#[tokio::test]
async fn a_302_to_another_port_is_an_error_and_the_key_never_leaves() {
    get_redirected_to_another_port(302).await;
}

#[tokio::test]
async fn a_307_to_another_port_is_an_error_and_the_key_never_leaves() {
    get_redirected_to_another_port(307).await;
}

fn create_body() -> linkt::types::builder::CreateIcpRequest {
    linkt::types::CreateIcpRequest::builder()
        .name("Enterprise SaaS Companies")
        .description("Mid-market B2B SaaS companies")
        .entity_targets(vec![])
}

#[tokio::test]
async fn a_post_answered_307_or_308_never_reaches_another_port() {
    for status in [307, 308] {
        let api = MockServer::start_async().await;
        let other = MockServer::start_async().await;
        let (keyed, any) = catch_all(&other).await;
        let location = secret_location(&other);
        let create = api
            .mock_async(|when, then| {
                when.method("POST").path("/v1/icp");
                then.status(status).header("location", &location);
            })
            .await;

        let (client, _) = client(&api.base_url());
        let result = client.icp_create().body(create_body()).send().await;

        assert_eq!(
            keyed.calls_async().await,
            0,
            "{status}: the key reached {location}"
        );
        assert_eq!(
            any.calls_async().await,
            0,
            "{status}: {location} was requested"
        );
        let err = result.expect_err("a redirect is an error");
        let target = format!("http://127.0.0.1:{}/v1/icp/{ICP_ID}", other.port());
        assert_refused(&err, status, &target, 1);
        create.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn a_post_answered_302_or_303_is_an_error_not_the_answer_to_a_get() {
    for status in [302, 303] {
        let api = MockServer::start_async().await;
        let create = api
            .mock_async(|when, then| {
                when.method("POST").path("/v1/icp");
                then.status(status)
                    .header("location", format!("/v1/icp/{ICP_ID}?created=1"));
            })
            .await;
        let get = api
            .mock_async(|when, then| {
                when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
                then.status(200).json_body(icp_json());
            })
            .await;

        let (client, sleeps) = client(&api.base_url());
        let result = client.icp_create().body(create_body()).send().await;

        assert_eq!(
            get.calls_async().await,
            0,
            "{status}: the redirect was followed"
        );
        let err = result.expect_err("a redirect is an error");
        let target = format!("{}/v1/icp/{ICP_ID}", api.base_url());
        assert_refused(&err, status, &target, 1);
        assert_eq!(err.operation_id(), Some("icp_create"));
        create.assert_calls_async(1).await;
        assert_eq!(sleeps.recorded(), vec![]);
    }
}

#[tokio::test]
async fn a_redirect_is_not_retried_even_when_the_server_says_so() {
    let api = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let busy = other
        .mock_async(|when, then| {
            when.any_request();
            then.status(503).json_body(json!({ "detail": "busy" }));
        })
        .await;
    let redirect = api
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
            then.status(307)
                .header("location", format!("{}/v1/icp/{ICP_ID}", other.base_url()))
                .header("x-should-retry", "true")
                .header("retry-after-ms", "10");
        })
        .await;

    let (client, sleeps) = client(&api.base_url());
    let result = client.icp_retrieve().icp_id(ICP_ID).send().await;

    assert_eq!(sleeps.recorded(), vec![], "the redirect was retried");
    assert_eq!(busy.calls_async().await, 0, "the redirect was followed");
    let err = result.expect_err("a redirect is an error");
    assert_eq!(err.attempts(), Some(1), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307), "{err}");
    redirect.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_redirect_answering_a_retry_ends_the_retries() {
    let api = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let (keyed, any) = catch_all(&other).await;
    let location = secret_location(&other);
    let path = format!("/v1/icp/{ICP_ID}");
    let mut attempts = Vec::new();
    for (retry, status) in [("0", 503), ("1", 302), ("2", 200)] {
        attempts.push(
            api.mock_async(|when, then| {
                when.method("GET")
                    .path(&path)
                    .header("x-linkt-retry-count", retry);
                then.status(status)
                    .header("location", &location)
                    .header("x-should-retry", "true")
                    .json_body(icp_json());
            })
            .await,
        );
    }

    let (client, sleeps) = client(&api.base_url());
    let result = client.icp_retrieve().icp_id(ICP_ID).send().await;

    assert_eq!(keyed.calls_async().await, 0, "the key reached {location}");
    assert_eq!(any.calls_async().await, 0, "{location} was requested");
    let err = result.expect_err("a redirect is an error");
    let target = format!("http://127.0.0.1:{}/v1/icp/{ICP_ID}", other.port());
    assert_refused(&err, 302, &target, 2);
    assert_eq!(sleeps.recorded().len(), 1);
    let calls: Vec<usize> = futures::future::join_all(attempts.iter().map(Mock::calls_async)).await;
    assert_eq!(calls, [1, 1, 0]);
}

/// A user's `reqwest::Client`, which installs the TLS provider as the
/// builder's own client would.
fn reqwest_client(policy: reqwest::redirect::Policy) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .expect("a reqwest client")
}

#[tokio::test]
async fn a_users_client_without_redirects_refuses_them_like_the_default() {
    let api = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let (keyed, any) = catch_all(&other).await;
    let location = secret_location(&other);
    api.mock_async(|when, then| {
        when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
        then.status(302).header("location", &location);
    })
    .await;

    let builder =
        Client::builder().reqwest_client(reqwest_client(reqwest::redirect::Policy::none()));
    let (client, _) = client_with(&api.base_url(), builder);
    let result = client.icp_retrieve().icp_id(ICP_ID).send().await;

    assert_eq!(keyed.calls_async().await + any.calls_async().await, 0);
    let err = result.expect_err("a redirect is an error");
    let target = format!("http://127.0.0.1:{}/v1/icp/{ICP_ID}", other.port());
    assert_refused(&err, 302, &target, 1);
}

#[tokio::test]
async fn a_redirect_a_users_client_followed_fails_the_call() {
    let api = MockServer::start_async().await;
    let create = api
        .mock_async(|when, then| {
            when.method("POST").path("/v1/icp");
            then.status(302)
                .header("location", format!("/v1/icp/{ICP_ID}?token=s3cret"));
        })
        .await;
    let get = api
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
            then.status(200).json_body(icp_json());
        })
        .await;

    // reqwest's default policy: follows, and turns the POST into a GET.
    let builder =
        Client::builder().reqwest_client(reqwest_client(reqwest::redirect::Policy::default()));
    let (client, sleeps) = client_with(&api.base_url(), builder);
    let result = client.icp_create().body(create_body()).send().await;

    let err = result.expect_err("the GET's answer is not the POST's");
    let shown = err.to_string();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{shown}");
    assert!(
        shown.contains(&format!(
            "followed a redirect to {}/v1/icp/{ICP_ID}",
            api.base_url()
        )),
        "{shown}"
    );
    assert!(shown.contains("Policy::none()"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
    create.assert_calls_async(1).await;
    // The user's client did follow: the hooks see the hop only afterwards.
    get.assert_calls_async(1).await;
    assert_eq!(sleeps.recorded(), vec![]);
}

#[tokio::test]
async fn a_redirect_a_users_client_followed_to_a_503_is_not_retried() {
    let api = MockServer::start_async().await;
    let retrieve = api
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/icp/{ICP_ID}"));
            then.status(302).header("location", "/v1/moved");
        })
        .await;
    let moved = api
        .mock_async(|when, then| {
            when.method("GET").path("/v1/moved");
            then.status(503);
        })
        .await;

    let builder =
        Client::builder().reqwest_client(reqwest_client(reqwest::redirect::Policy::default()));
    let (client, sleeps) = client_with(&api.base_url(), builder);
    let err = client
        .icp_retrieve()
        .icp_id(ICP_ID)
        .send()
        .await
        .expect_err("the 503 of another URL");

    // Repeating the request would follow the redirect again: one attempt,
    // and the error names where the client went, not the 503.
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.attempts(), Some(1), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "followed a redirect to {}/v1/moved",
            api.base_url()
        )),
        "{err}"
    );
    retrieve.assert_calls_async(1).await;
    moved.assert_calls_async(1).await;
    assert_eq!(sleeps.recorded(), vec![]);
}
