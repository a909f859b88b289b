//! A server newer than the client: values, fields and union members the
//! spec does not list yet, and success statuses other than the documented
//! one, through the real client.

use httpmock::MockServer;
use linkt::types;
use serde_json::{Value, json};

use crate::client;

fn entity_json(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "sheet_id": "507f1f77bcf86cd799439012",
        "sheet_name": "Companies",
        "icp_id": "507f1f77bcf86cd799439011",
        "entity_type": "company",
        "data": { "name": { "value": "Acme" } },
        "status": status,
        "created_at": "2025-01-05T12:00:00Z",
        "updated_at": "2025-01-06T08:30:00Z",
        // A field the spec does not list yet.
        "archived_at": "2025-02-01T00:00:00Z"
    })
}

fn task_json(id: &str, config: Value) -> Value {
    json!({
        "id": id,
        "name": "Find companies",
        "description": "Search task",
        "flow_name": "search",
        "deployment_name": "main",
        "task_config": config,
        "created_at": "2025-01-05T12:00:00Z",
        "updated_at": "2025-01-06T08:30:00Z"
    })
}

#[tokio::test]
async fn an_unknown_enum_value_and_an_extra_field_decode_and_round_trip() {
    let server = MockServer::start_async().await;
    let body = entity_json("507f1f77bcf86cd799439099", "archived");
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/entity/507f1f77bcf86cd799439099");
            then.status(200).json_body(body.clone());
        })
        .await;
    let (client, _) = client(&server.base_url());

    let entity = client
        .entity_retrieve()
        .entity_id("507f1f77bcf86cd799439099")
        .send()
        .await
        .expect("an entity with a new status decodes")
        .into_inner();
    mock.assert_async().await;

    let status = entity.status.as_ref().expect("a status");
    assert!(status.is_unknown());
    assert_eq!(status.as_str(), "archived");
    assert_eq!(status.to_string(), "archived");
    assert!(!matches!(
        status,
        types::EntityResponseStatus::New
            | types::EntityResponseStatus::Reviewed
            | types::EntityResponseStatus::Passed
            | types::EntityResponseStatus::Contacted
    ));

    // Round trip: the unknown value comes back unchanged; the unknown field
    // is not kept (the client ignores fields it does not know).
    let encoded = serde_json::to_value(&entity).expect("encodes");
    assert_eq!(encoded["status"], "archived");
    assert!(encoded.get("archived_at").is_none());
    let mut expected = body;
    expected.as_object_mut().map(|o| o.remove("archived_at"));
    let again: types::EntityResponse = serde_json::from_value(encoded.clone()).expect("decodes");
    assert_eq!(again, entity);
    assert_eq!(encoded["data"], expected["data"]);
}

#[tokio::test]
async fn a_page_with_one_new_kind_of_item_still_succeeds() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/entity");
            then.status(200).json_body(json!({
                "entities": [
                    entity_json("507f1f77bcf86cd799439001", "new"),
                    entity_json("507f1f77bcf86cd799439002", "snoozed"),
                    entity_json("507f1f77bcf86cd799439003", "passed"),
                ],
                "page": 1, "page_size": 20, "total": 3
            }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let page = client
        .entity_list()
        .send()
        .await
        .expect("the page decodes")
        .into_inner();
    let statuses: Vec<&str> = page
        .entities
        .iter()
        .map(|e| e.status.as_ref().map_or("", |s| s.as_str()))
        .collect();
    assert_eq!(statuses, ["new", "snoozed", "passed"]);
    assert_eq!(
        page.entities[0].status,
        Some(types::EntityResponseStatus::New)
    );
    assert_eq!(
        page.entities[2].status,
        Some(types::EntityResponseStatus::Passed)
    );
}

#[tokio::test]
async fn an_unknown_union_member_is_kept_whole_and_round_trips() {
    let server = MockServer::start_async().await;
    let new_kind = json!({
        "type": "enrich-v2",
        "sources": ["crunchbase", "web"],
        "limits": { "per_run": 50 },
        "webhook_url": null
    });
    let search = json!({
        "type": "search",
        "desired_contact_count": 2,
        "user_feedback": ""
    });
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/task");
            then.status(200).json_body(json!({
                "tasks": [
                    task_json("507f1f77bcf86cd799439013", search.clone()),
                    task_json("507f1f77bcf86cd799439014", new_kind.clone()),
                ],
                "page": 1, "page_size": 20, "total": 2
            }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let page = client
        .task_list()
        .send()
        .await
        .expect("a list with a new kind of task decodes")
        .into_inner();

    let known = page.tasks[0].task_config.as_ref().expect("config");
    let types::TaskResponseTaskConfig::SearchTaskConfigResponse(config) = known else {
        panic!("a search config decodes as one: {known:?}");
    };
    assert_eq!(config.desired_contact_count, 2);
    assert_eq!(known.tag(), Some("search"));

    let unknown = page.tasks[1].task_config.as_ref().expect("config");
    assert!(unknown.is_unknown());
    assert_eq!(unknown.tag(), Some("enrich-v2"));
    assert_eq!(serde_json::to_value(unknown).expect("encodes"), new_kind);
    assert_eq!(
        serde_json::to_value(known).expect("encodes")["type"],
        "search"
    );
}

#[tokio::test]
async fn a_create_answered_201_succeeds() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v1/icp");
            then.status(201).json_body(crate::icp_json());
        })
        .await;
    let (client, _) = client(&server.base_url());
    let created = client
        .icp_create()
        .body(
            types::CreateIcpRequest::builder()
                .name("Enterprise SaaS Companies")
                .description("Mid-market B2B SaaS companies")
                .entity_targets(vec![
                    linkt::build!(types::EntityTargetConfig {
                        description: "B2B SaaS".to_owned(),
                        entity_type: "company".to_owned(),
                        root: true,
                    })
                    .expect("a target"),
                ]),
        )
        .send()
        .await
        .expect("201 Created is success");
    assert_eq!(created.status(), 201);
    assert_eq!(created.name, "Enterprise SaaS Companies");
}

#[tokio::test]
async fn a_delete_answered_200_with_a_body_succeeds() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path("/v1/icp/507f1f77bcf86cd799439011");
            then.status(200).json_body(json!({ "deleted": true }));
        })
        .await;
    let (client, _) = client(&server.base_url());
    let response = client
        .icp_delete()
        .icp_id("507f1f77bcf86cd799439011")
        .send()
        .await
        .expect("200 is success for a delete documented as 204");
    assert_eq!(response.status(), 200);
    mock.assert_async().await;
}

#[tokio::test]
async fn a_3xx_or_4xx_is_still_a_failure() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path("/v1/icp/507f1f77bcf86cd799439011");
            then.status(304);
        })
        .await;
    let (client, _) = crate::client_with(
        &server.base_url(),
        linkt::Client::builder().retry_policy(linkt::RetryPolicy::none()),
    );
    let err = client
        .icp_delete()
        .icp_id("507f1f77bcf86cd799439011")
        .send()
        .await
        .expect_err("304 is not success");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(304));
}

#[tokio::test]
async fn requests_can_carry_values_the_client_does_not_know() {
    let server = MockServer::start_async().await;
    let update = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path("/v1/entity/507f1f77bcf86cd799439099")
                .body_includes(r#""status":"archived""#);
            then.status(200)
                .json_body(entity_json("507f1f77bcf86cd799439099", "archived"));
        })
        .await;
    let runs = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/run")
                .query_param("status", "QUEUED_FOR_GPU");
            then.status(200)
                .json_body(json!({ "runs": [], "page": 1, "page_size": 20, "total": 0 }));
        })
        .await;
    let (client, _) = client(&server.base_url());

    let status: types::UpdateEntityRequestStatus = "archived".parse().expect("infallible");
    assert!(status.is_unknown());
    client
        .entity_update()
        .entity_id("507f1f77bcf86cd799439099")
        .body(types::UpdateEntityRequest::builder().status(Some(status)))
        .send()
        .await
        .expect("update with a new status");
    update.assert_async().await;

    client
        .run_list()
        .status(types::RunListStatus::from("QUEUED_FOR_GPU"))
        .send()
        .await
        .expect("filter by a new run status");
    runs.assert_async().await;

    // A task configuration of a kind the client does not know, sent as is.
    let config: serde_json::Map<String, Value> =
        serde_json::from_value(json!({ "type": "enrich-v2", "sources": ["web"] }))
            .expect("an object");
    let config = types::CreateTaskRequestTaskConfig::from(config);
    let encoded = serde_json::to_value(&config).expect("encodes");
    assert_eq!(encoded, json!({ "type": "enrich-v2", "sources": ["web"] }));
}

#[test]
fn a_known_value_never_becomes_unknown() {
    for value in types::EntityResponseStatus::KNOWN {
        let parsed: types::EntityResponseStatus = value.parse().expect("infallible");
        assert!(!parsed.is_unknown(), "{value}");
        let decoded: types::EntityResponseStatus =
            serde_json::from_value(json!(value)).expect("decodes");
        assert_eq!(parsed, decoded);
    }
    assert_eq!(
        types::TaskResponseTaskConfig::KNOWN.len(),
        8,
        "the response union has the spec's eight members"
    );
}
