//! The central workflow end to end: ICP → sheets → custom fields → task →
//! execute → run on the simulated clock → entities → export; then every raw
//! response body the server sent is validated against the spec.

use futures::TryStreamExt as _;
use linkt::types::{self, CustomFieldDefinitionFieldType};
use serde_json::json;

use crate::{
    KEY_A, advance, client, create_search_task, execute, finish, run_status, searchable_icp, server,
};

#[tokio::test]
async fn search_run_fills_the_sheets_as_simulated_time_passes() {
    let server = server().await;
    let client = client(&server, KEY_A);
    let (icp, companies, people) = searchable_icp(&client, "Enterprise SaaS").await;

    let field = |name: &str, ty| {
        types::CustomFieldDefinition::try_from(
            types::CustomFieldDefinition::builder()
                .name(name)
                .field_type(ty)
                .description(format!("{name} of the company")),
        )
        .expect("field")
    };
    client
        .sheet_schema_add_fields()
        .sheet_id(companies.id.as_str())
        .body(
            linkt::build!(types::AddCustomFieldsRequest {
                fields: vec![
                    field("primary_product", CustomFieldDefinitionFieldType::String),
                    field("employee_count", CustomFieldDefinitionFieldType::Integer),
                ],
            })
            .expect("every field is set"),
        )
        .send()
        .await
        .expect("add fields");
    let schema = client
        .sheet_schema_get()
        .sheet_id(companies.id.as_str())
        .send()
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.properties.contains_key("primary_product"));
    assert!(
        schema.properties.contains_key("website"),
        "default fields stay"
    );

    let task = create_search_task(&client, &icp.id, 2).await;
    // 5 companies: the 5th candidate is discarded, so 6 queue entries.
    let run_id = execute(&client, &task.id, 5).await;
    assert_eq!(run_status(&client, &run_id).await, "SCHEDULED");
    let active = client
        .icp_get_active_runs()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("active");
    assert_eq!(active.runs.len(), 1);
    assert_eq!(active.runs[0].id, run_id);
    assert_eq!(active.runs[0].task_type.as_deref(), Some("search"));

    advance(&server, 2);
    assert_eq!(run_status(&client, &run_id).await, "PENDING");
    advance(&server, 3);
    assert_eq!(run_status(&client, &run_id).await, "RUNNING");
    let list = |sheet: String| {
        let client = client.clone();
        async move {
            client
                .entity_list()
                .sheet_id(sheet)
                .send()
                .await
                .expect("entity_list")
                .into_inner()
        }
    };
    assert_eq!(list(companies.id.clone()).await.total, 0);

    advance(&server, 10);
    let first = list(companies.id.clone()).await;
    assert_eq!(first.total, 1, "one company after the first item");
    let company = &first.entities[0];
    assert_eq!(company.icp_id, icp.id);
    assert_eq!(company.sheet_name, companies.name);
    assert!(
        company.data.contains_key("primary_product"),
        "custom fields are researched"
    );
    assert_eq!(company.status, Some(types::EntityResponseStatus::New));
    let contacts = list(people.id.clone()).await;
    assert_eq!(contacts.total, 2);
    assert!(
        contacts
            .entities
            .iter()
            .all(|p| p.parent_id.as_deref() == Some(company.id.as_str()))
    );

    let queue = client
        .run_get_queue()
        .run_id(run_id.as_str())
        .send()
        .await
        .expect("queue")
        .into_inner();
    let states = queue.state_counts.clone().expect("state counts");
    assert_eq!(
        (states["completed"], states["processing"], states["queued"]),
        (1, 1, 4)
    );
    assert_eq!(
        queue.entities.len(),
        5,
        "the current queue: processing and queued"
    );

    advance(&server, 60);
    assert_eq!(run_status(&client, &run_id).await, "COMPLETED");
    assert_eq!(list(companies.id.clone()).await.total, 5);
    assert_eq!(list(people.id.clone()).await.total, 10);
    let run = client
        .run_retrieve()
        .run_id(run_id.as_str())
        .send()
        .await
        .expect("run")
        .into_inner();
    assert_eq!(
        run.0["output"]["resources"]["entities_created"]
            .as_array()
            .map(Vec::len),
        Some(15)
    );
    assert!(
        client
            .icp_get_active_runs()
            .icp_id(icp.id.as_str())
            .send()
            .await
            .expect("active")
            .runs
            .is_empty()
    );

    let history = client
        .run_get_queue()
        .run_id(run_id.as_str())
        .include_history(true)
        .send()
        .await
        .expect("queue")
        .into_inner();
    assert_eq!(history.entities.len(), 6);
    let discarded: Vec<_> = history
        .entities
        .iter()
        .filter(|e| e["state"] == "discarded")
        .collect();
    assert_eq!(discarded.len(), 1);
    assert!(discarded[0]["reason"].is_string());
    let only_discarded = client
        .run_get_queue()
        .run_id(run_id.as_str())
        .include_history(true)
        .state("discarded")
        .send()
        .await
        .expect("queue");
    assert_eq!(only_discarded.total, 1);
    let paged = client
        .run_get_queue()
        .run_id(run_id.as_str())
        .include_history(true)
        .offset(4)
        .limit(std::num::NonZeroU64::new(10).expect("limit"))
        .send()
        .await
        .expect("queue");
    assert_eq!((paged.entities.len(), paged.offset, paged.total), (2, 4, 2));

    let csv = client
        .entity_export()
        .icp_id(vec![icp.id.clone()])
        .format(types::EntityExportFormat::Combined)
        .send()
        .await
        .expect("export")
        .into_inner();
    let bytes: Vec<u8> = csv
        .into_inner()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("csv body");
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("Person Name,"), "{header}");
    assert!(header.contains("Company Primary Product"), "{header}");
    assert_eq!(lines.count(), 10, "one row per person");

    // Every raw body the server sent validates against the spec.
    let journal = server.journal();
    assert!(journal.len() > 20);
    for exchange in &journal {
        let op = exchange
            .operation
            .as_deref()
            .expect("every request matched an operation");
        let status = exchange.status.expect("no dropped connection");
        server
            .spec()
            .check_response(op, status, &exchange.body)
            .unwrap_or_else(|issues| panic!("{op} {status}: {issues:?}"));
        assert!(exchange.request_id.starts_with("req_"));
    }
    // And a body the spec rejects is caught by the same check.
    let bad = json!({"icps": [{"id": 1}], "page": 1, "page_size": 20, "total": 1}).to_string();
    assert!(
        server
            .spec()
            .check_response("icp_list", 200, bad.as_bytes())
            .is_err()
    );
    finish(&server);
}

#[tokio::test]
async fn several_servers_run_at_once_with_their_own_state_and_clock() {
    let (a, b) = tokio::join!(server(), server());
    assert_ne!(a.base_url(), b.base_url());
    let ca = client(&a, KEY_A);
    let cb = client(&b, KEY_A);
    crate::create_icp(&ca, "Only on A").await;
    advance(&a, 3600);
    assert_eq!(ca.icp_list().send().await.expect("list").total, 1);
    assert_eq!(cb.icp_list().send().await.expect("list").total, 0);
    assert_ne!(a.clock().now(), b.clock().now());
    finish(&a);
    finish(&b);
}
