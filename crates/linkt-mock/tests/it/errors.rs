//! Authentication, organization scoping, validation and rate limits, as the
//! client sees them (error kinds) and as they are on the wire.

use linkt::types::{self, EntityType};
use linkt::{ErrorKind, Plan, RetryPolicy};
use linkt_mock::{KeyConfig, MockServer};
use serde_json::{Value, json};

use crate::{
    KEY_A, KEY_A_RO, KEY_B, advance, client, create_icp, create_search_task, error, execute,
    finish, raw, searchable_icp, server,
};

#[tokio::test]
async fn missing_or_unknown_keys_are_401() {
    let server = server().await;
    let response = raw()
        .get(format!("{}/v1/icp", server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("x-api-key")
    );

    let stranger = client(&server, "lk-nobody");
    let err = error(stranger.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(err.request_id().is_some());
    assert!(
        !err.to_string().contains("lk-nobody"),
        "the key is never echoed"
    );
    finish(&server);
}

#[tokio::test]
async fn read_only_keys_read_their_org_and_cannot_write() {
    let server = server().await;
    let writer = client(&server, KEY_A);
    let reader = client(&server, KEY_A_RO);
    let icp = create_icp(&writer, "Shared by the org").await;
    let seen = reader
        .icp_retrieve()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("read");
    assert_eq!(seen.name, "Shared by the org");

    let err = error(reader.icp_delete().icp_id(icp.id.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = error(
        reader
            .icp_update()
            .icp_id(icp.id.as_str())
            .body(types::UpdateIcpRequest::builder().name(Some("renamed".parse().expect("name"))))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(
        writer
            .icp_retrieve()
            .icp_id(icp.id.as_str())
            .send()
            .await
            .is_ok(),
        "nothing was deleted"
    );
    finish(&server);
}

#[tokio::test]
async fn other_organizations_records_are_404_everywhere() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let b = client(&server, KEY_B);
    let (icp, companies, _) = searchable_icp(&a, "A's ICP").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run_id = execute(&a, &task.id, 1).await;
    advance(&server, 60);
    let entity = a.entity_list().send().await.expect("list").entities[0]
        .id
        .clone();

    let not_found = |err: linkt::Error| {
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    };
    not_found(error(b.icp_retrieve().icp_id(icp.id.as_str()).send().await));
    not_found(error(b.icp_delete().icp_id(icp.id.as_str()).send().await));
    not_found(error(
        b.icp_get_active_runs().icp_id(icp.id.as_str()).send().await,
    ));
    not_found(error(
        b.sheet_retrieve()
            .sheet_id(companies.id.as_str())
            .send()
            .await,
    ));
    not_found(error(
        b.sheet_schema_get()
            .sheet_id(companies.id.as_str())
            .send()
            .await,
    ));
    not_found(error(
        b.entity_retrieve().entity_id(entity.as_str()).send().await,
    ));
    not_found(error(
        b.entity_delete().entity_id(entity.as_str()).send().await,
    ));
    not_found(error(
        b.task_retrieve().task_id(task.id.as_str()).send().await,
    ));
    not_found(error(
        b.task_execute()
            .task_id(task.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    ));
    not_found(error(b.run_retrieve().run_id(run_id.as_str()).send().await));
    not_found(error(b.run_cancel().run_id(run_id.as_str()).send().await));
    // Referencing another organization's ICP in a body is 404 too.
    not_found(error(
        b.sheet_create()
            .body(
                types::CreateSheetRequest::builder()
                    .name("x")
                    .description("x")
                    .icp_id(icp.id.clone())
                    .entity_type(EntityType::Company),
            )
            .send()
            .await,
    ));
    // Lists only show the caller's organization.
    assert_eq!(b.icp_list().send().await.expect("list").total, 0);
    assert_eq!(b.entity_list().send().await.expect("list").total, 0);
    assert_eq!(b.run_list().send().await.expect("list").total, 0);
    assert_eq!(a.icp_list().send().await.expect("list").total, 1);
    finish(&server);
}

#[tokio::test]
async fn invalid_parameters_are_fastapi_422s() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let err = error(a.entity_list().page_size(500_u64).send().await);
    assert_eq!(err.kind(), ErrorKind::Validation);
    let issue = &err.validation_errors()[0];
    assert_eq!(issue.path(), "query.page_size");
    assert_eq!(issue.error_type, "less_than_equal");
    assert_eq!(issue.msg, "Input should be less than or equal to 100");

    // Shapes the typed client cannot send, on the wire.
    let url = format!("{}/v1/icp", server.base_url());
    let post = |body: &'static str| {
        raw()
            .post(url.clone())
            .header("x-api-key", KEY_A)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response =
        post(r#"{"name": "", "entity_targets": [{"entity_type": "company", "desired_count": 0}]}"#)
            .await
            .expect("request");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    let detail = body["detail"].as_array().expect("issues");
    let locs: Vec<&Value> = detail.iter().map(|d| &d["loc"]).collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "name"]),
            &json!(["body", "description"]),
            &json!(["body", "entity_targets", 0, "description"]),
            &json!(["body", "entity_targets", 0, "desired_count"]),
        ]
    );
    assert_eq!(detail[0]["type"], "string_too_short");
    assert_eq!(detail[0]["ctx"], json!({"min_length": 1}));
    assert_eq!(detail[1]["type"], "missing");
    assert_eq!(detail[1]["msg"], "Field required");
    assert_eq!(detail[3]["type"], "greater_than_equal");

    let response = post("{not json").await.expect("request");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["detail"][0]["type"], "json_invalid");
    assert_eq!(body["detail"][0]["loc"], json!(["body", 1]));

    let response = raw()
        .get(format!("{}/v1/entity/search?page=zero", server.base_url()))
        .header("x-api-key", KEY_A)
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    let kinds: Vec<(&str, &str)> = body["detail"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|d| {
            (
                d["loc"][1].as_str().unwrap_or(""),
                d["type"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(kinds, [("q", "missing"), ("page", "int_parsing")]);

    let response = raw()
        .get(format!("{}/v1/run/not-an-object-id", server.base_url()))
        .header("x-api-key", KEY_A)
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["detail"][0]["loc"], json!(["path", "run_id"]));
    assert_eq!(body["detail"][0]["type"], "string_pattern_mismatch");
    finish(&server);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let server = server().await;
    let response = raw()
        .get(format!("{}/v1/nothing", server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    let response = raw()
        .patch(format!("{}/v1/icp", server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");
    finish(&server);
}

#[tokio::test]
async fn rate_limits_follow_the_plan_on_the_simulated_clock() {
    let server = MockServer::builder()
        .start_time(crate::start())
        .key_config(KeyConfig::new(KEY_A).plan(Plan::Custom {
            per_minute: 3,
            per_day: 5,
        }))
        .key_config(KeyConfig::new(KEY_B).plan(Plan::Free))
        .start()
        .await
        .expect("server");
    let a = client(&server, KEY_A);
    for remaining in [2_u64, 1, 0] {
        let response = a.icp_list().send().await.expect("within the limit");
        let limit = linkt::ResponseExt::rate_limit(&response).expect("rate-limit headers");
        assert_eq!((limit.limit, limit.remaining), (Some(3), Some(remaining)));
    }
    let err = error(a.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.message(), "rate_limit_exceeded");
    let retry_after = err.retry_after().expect("Retry-After");
    assert_eq!(
        retry_after.as_secs(),
        60,
        "the clock starts on a minute boundary"
    );
    assert_eq!(err.rate_limit().and_then(|r| r.remaining), Some(0));

    // Another key has its own budget.
    let b = client(&server, KEY_B);
    let response = b.icp_list().send().await.expect("other key");
    let limit = linkt::ResponseExt::rate_limit(&response).expect("headers");
    assert_eq!((limit.limit, limit.remaining), (Some(60), Some(59)));

    // The next minute opens the window again, until the daily quota runs out.
    advance(&server, 60);
    a.icp_list().send().await.expect("new minute");
    a.icp_list().send().await.expect("new minute");
    let err = error(a.icp_list().send().await);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.retry_after().expect("Retry-After").as_secs() > 3600,
        "waits for the next day"
    );

    // A retrying client sleeps on the simulated clock and gets through.
    advance(&server, 86_400);
    let retrying = server
        .client_builder(KEY_A)
        .expect("key")
        .retry_policy(RetryPolicy::default())
        .build()
        .expect("client");
    for _ in 0..3 {
        retrying.icp_list().send().await.expect("within the limit");
    }
    let before = server.clock().now();
    retrying
        .icp_list()
        .send()
        .await
        .expect("retried after Retry-After");
    assert!(
        (server.clock().now() - before).num_seconds() >= 1,
        "the wait advanced simulated time"
    );
    finish(&server);
}

#[tokio::test]
async fn rate_limit_headers_on_the_wire_are_x_ratelimit_and_retry_after() {
    let server = MockServer::builder()
        .start_time(crate::start())
        .key_config(KeyConfig::new(KEY_A).plan(Plan::Custom {
            per_minute: 1,
            per_day: 0,
        }))
        .start()
        .await
        .expect("server");
    let get = || {
        raw()
            .get(format!("{}/v1/icp", server.base_url()))
            .header("x-api-key", KEY_A)
            .send()
    };
    let text = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ok = get().await.expect("request");
    assert_eq!(ok.status(), 200);
    assert_eq!(text(&ok, "x-ratelimit-limit").as_deref(), Some("1"));
    assert_eq!(text(&ok, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(text(&ok, "x-ratelimit-reset").as_deref(), Some("60"));
    assert_eq!(text(&ok, "retry-after"), None);

    advance(&server, 15);
    let limited = get().await.expect("request");
    assert_eq!(limited.status(), 429);
    assert_eq!(
        text(&limited, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    assert_eq!(text(&limited, "x-ratelimit-reset").as_deref(), Some("45"));
    assert_eq!(text(&limited, "retry-after").as_deref(), Some("45"));
    finish(&server);
}

#[tokio::test]
async fn every_response_has_a_request_id_and_rate_limit_headers() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let response = a.sheet_schema_get_default().send().await.expect("defaults");
    let id = linkt::ResponseExt::request_id(&response)
        .expect("request id")
        .to_owned();
    assert!(linkt::ResponseExt::rate_limit(&response).is_some());
    let err = error(a.icp_retrieve().icp_id("missing").send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let other = err.request_id().expect("request id on errors too");
    assert_ne!(other, id);
    assert!(err.rate_limit().is_some());
    finish(&server);
}
