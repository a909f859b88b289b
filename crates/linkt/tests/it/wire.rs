//! What goes over the wire: headers, multipart uploads, CSV downloads,
//! and the transport rules for the key.

use futures::TryStreamExt as _;
use httpmock::MockServer;
use linkt::{ApiKey, Client, ErrorKind, FilePart, ResponseExt as _};
use serde_json::json;

use crate::{KEY, client, client_with};

#[tokio::test]
async fn every_request_carries_the_key_user_agent_retry_count_and_default_headers() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .query_param("page", "2")
                .header("x-api-key", KEY)
                .header("x-linkt-retry-count", "0")
                .header("x-team", "growth")
                .header_matches("user-agent", r"^linkt-rust/\d+\.\d+\.\d+$");
            then.status(200)
                .header("x-request-id", "req-1")
                .header("x-ratelimit-limit", "60")
                .header("x-ratelimit-remaining", "59")
                .header("x-ratelimit-reset", "30")
                .json_body(json!({ "icps": [], "page": 2, "page_size": 20, "total": 0 }));
        })
        .await;

    let (client, _) = client_with(
        &server.base_url(),
        Client::builder().default_header("x-team", "growth"),
    );
    let page = client.icp_list().page(2).send().await.expect("listed");

    mock.assert_async().await;
    assert_eq!(page.total, 0);
    assert_eq!(page.request_id(), Some("req-1"));
    let limit = page.rate_limit().expect("rate-limit headers");
    assert_eq!((limit.limit, limit.remaining), (Some(60), Some(59)));
    assert_eq!(client.last_rate_limit().and_then(|l| l.remaining), Some(59));
}

#[tokio::test]
async fn query_arrays_are_sent_as_repeated_keys() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/entity/counts")
                .query_param("icp_id", "507f1f77bcf86cd799439011")
                .query_param("icp_id", "507f1f77bcf86cd799439012");
            then.status(200).json_body(json!({ "total": 3 }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let counts = client
        .entity_get_counts()
        .icp_id(vec![
            "507f1f77bcf86cd799439011".to_owned(),
            "507f1f77bcf86cd799439012".to_owned(),
        ])
        .send()
        .await
        .expect("counts");
    mock.assert_async().await;
    assert_eq!(counts.total, 3);
}

#[tokio::test]
async fn files_upload_sends_one_multipart_file_part() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v1/files/upload")
                .header_matches(
                    "content-type",
                    r"^multipart/form-data; boundary=linkt-[0-9a-f]{32}$",
                )
                .body_includes(
                    "Content-Disposition: form-data; name=\"file\"; filename=\"companies.csv\"\r\n",
                )
                .body_includes(
                    "Content-Type: text/csv\r\n\r\nname,website\nAcme,acme.example\n\r\n--linkt-",
                );
            then.status(200).json_body(json!({
                "file_id": "507f1f77bcf86cd799439001",
                "name": "companies.csv",
                "s3_uri": "s3://bucket/companies.csv",
                "content_type": "text/csv",
                "size_bytes": 31,
                "processing_status": "pending"
            }));
        })
        .await;

    let (client, _) = client(&server.base_url());
    let uploaded = client
        .files_upload()
        .body(FilePart::csv(
            "companies.csv",
            "name,website\nAcme,acme.example\n",
        ))
        .send()
        .await
        .expect("uploaded");

    mock.assert_async().await;
    assert_eq!(uploaded.file_id, "507f1f77bcf86cd799439001");
    assert_eq!(
        uploaded.processing_status,
        linkt::types::CsvProcessingStatus::Pending
    );
}

#[tokio::test]
async fn entity_export_returns_the_csv_bytes() {
    let csv = "Name,Website,status\nAcme,acme.example,new\n";
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/entity/export")
                .query_param("format", "combined")
                .query_param("icp_id", "507f1f77bcf86cd799439011");
            then.status(200)
                .header("content-type", "text/csv")
                .body(csv);
        })
        .await;

    let (client, _) = client(&server.base_url());
    let response = client
        .entity_export()
        .format(linkt::types::EntityExportFormat::Combined)
        .icp_id(vec!["507f1f77bcf86cd799439011".to_owned()])
        .send()
        .await
        .expect("exported");
    let chunks: Vec<bytes::Bytes> = response
        .into_inner()
        .into_inner()
        .try_collect()
        .await
        .expect("body");
    assert_eq!(chunks.concat(), csv.as_bytes());
}

#[test]
fn the_key_is_refused_over_plain_http_to_a_remote_host() {
    let err = Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .base_url("http://api.linkt.ai")
        .build()
        .expect_err("insecure");
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("api.linkt.ai"), "{err}");
    assert!(!err.to_string().contains(KEY));

    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:3000",
        "http://[::1]:9",
    ] {
        Client::builder()
            .api_key(ApiKey::new(KEY).expect("key"))
            .base_url(local)
            .build()
            .unwrap_or_else(|err| panic!("{local}: {err}"));
    }
    Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .base_url("http://api.linkt.ai")
        .allow_insecure_http(true)
        .build()
        .expect("explicitly allowed");
}

#[test]
fn environment_and_base_url_together_are_ambiguous() {
    let err = Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .environment(linkt::Environment::Staging)
        .base_url("https://example.com")
        .build()
        .expect_err("ambiguous");
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

#[test]
fn invalid_default_headers_are_reported_by_build() {
    let err = Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .default_header("bad header", "x")
        .build()
        .expect_err("invalid name");
    assert!(err.to_string().contains("bad header"), "{err}");
    let err = Client::builder()
        .api_key(ApiKey::new(KEY).expect("key"))
        .default_header("x-api-key", "other")
        .build()
        .expect_err("key header");
    assert!(err.to_string().contains("api_key"), "{err}");
}
