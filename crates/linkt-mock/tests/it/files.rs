//! Files: multipart upload, CSV processing on the simulated clock, listing,
//! and ingest runs that turn rows into entities.

use linkt::types::{self, CreateTaskRequestTaskConfig as Config, CsvProcessingStatus as Status};
use linkt::{ErrorKind, FilePart};
use serde_json::{Value, json};

use crate::{
    KEY_A, KEY_B, advance, client, create_icp, create_sheet, error, execute, finish, raw, server,
};

const CSV: &str = "company_name,website,industry,external_id\r\n\
                   Globex,https://globex.example,Manufacturing,001A\r\n\
                   \"Initech, Inc\",https://initech.example,Software,001B\r\n\
                   Umbrella,https://umbrella.example,Biotech,\r\n";

#[tokio::test]
async fn uploads_are_processed_on_the_simulated_clock() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let uploaded = a
        .files_upload()
        .body(FilePart::csv("companies.csv", CSV))
        .send()
        .await
        .expect("upload")
        .into_inner();
    assert_eq!(uploaded.name, "companies.csv");
    assert_eq!(uploaded.content_type, "text/csv");
    assert_eq!(uploaded.size_bytes, CSV.len() as i64);
    assert_eq!(uploaded.processing_status, Status::Pending);
    assert!(uploaded.csv_metadata.is_empty(), "not parsed yet");
    assert!(uploaded.s3_uri.starts_with("s3://"));

    let status = |id: String| {
        let a = a.clone();
        async move {
            a.files_retrieve()
                .file_id(id)
                .send()
                .await
                .expect("retrieve")
                .into_inner()
        }
    };
    advance(&server, 1);
    assert_eq!(
        status(uploaded.file_id.clone()).await.processing_status,
        Some(Status::Processing)
    );
    advance(&server, 1);
    let done = status(uploaded.file_id.clone()).await;
    assert_eq!(done.processing_status, Some(Status::Completed));
    let meta = Value::Object(done.csv_metadata);
    assert_eq!(meta["row_count"], 3);
    assert_eq!(
        meta["columns"],
        json!(["company_name", "website", "industry", "external_id"])
    );
    assert_eq!(meta["encoding"], "utf-8");
    assert_eq!(meta["preview_rows"][1]["company_name"], "Initech, Inc");

    a.files_upload()
        .body(FilePart::csv("more.csv", "name\nA\n"))
        .send()
        .await
        .expect("upload");
    let listed = a.files_list().send().await.expect("list");
    assert_eq!(listed.total, 2);
    assert_eq!(listed.files[0].file_id, uploaded.file_id);
    assert_eq!(listed.files[0].size_bytes, CSV.len() as i64);
    let paged = a
        .files_list()
        .page(2_u64)
        .page_size(1_u64)
        .send()
        .await
        .expect("list");
    assert_eq!(paged.files[0].name, "more.csv");

    let b = client(&server, KEY_B);
    let err = error(
        b.files_retrieve()
            .file_id(uploaded.file_id.as_str())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(b.files_list().send().await.expect("list").total, 0);
    finish(&server);
}

#[tokio::test]
async fn excel_and_broken_files_fail_processing() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let xlsx = a
        .files_upload()
        .body(FilePart::xlsx("book.xlsx", vec![0x50, 0x4b, 0x03, 0x04]))
        .send()
        .await
        .expect("upload");
    assert_eq!(xlsx.original_file_type.as_deref(), Some("xlsx"));
    let empty = a
        .files_upload()
        .body(FilePart::csv("empty.csv", ""))
        .send()
        .await
        .expect("upload");
    advance(&server, 5);
    for id in [&xlsx.file_id, &empty.file_id] {
        let file = a
            .files_retrieve()
            .file_id(id.as_str())
            .send()
            .await
            .expect("retrieve");
        assert_eq!(file.processing_status, Some(Status::Failed));
        assert!(file.csv_metadata["error"].is_string());
    }
    finish(&server);
}

#[tokio::test]
async fn uploads_without_a_file_part_are_422() {
    let server = server().await;
    let url = format!("{}/v1/files/upload", server.base_url());
    let response = raw()
        .post(url.clone())
        .header("x-api-key", KEY_A)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhello\r\n--XYZ--\r\n")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "file"]));
    assert_eq!(body["detail"][0]["type"], "missing");
    let response = raw()
        .post(url)
        .header("x-api-key", KEY_A)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    finish(&server);
}

#[tokio::test]
async fn ingest_runs_turn_rows_into_entities() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Ingest").await;
    let sheet = create_sheet(&a, &icp.id, types::EntityType::Company).await;
    let file = a
        .files_upload()
        .body(FilePart::csv("companies.csv", CSV))
        .send()
        .await
        .expect("upload");
    let config = |primary: &str| {
        Config::IngestTaskConfig(
            linkt::build!(types::IngestTaskConfig {
                csv_entity_type: "company",
                file_id: file.file_id.clone(),
                primary_column: primary,
                type_: types::IngestTaskConfigType::Ingest,
                webhook_url: None,
            })
            .expect("every field is set"),
        )
    };
    let create = |primary: &'static str| {
        a.task_create().body(
            types::CreateTaskRequest::builder()
                .name("CSV enrichment")
                .description("Enrich the uploaded companies")
                .flow_name("ingest")
                .deployment_name("main")
                .icp_id(Some(icp.id.parse().expect("id")))
                .task_config(Some(config(primary))),
        )
    };
    let task = create("company_name").send().await.expect("task");
    let err = error(
        a.task_execute()
            .task_id(task.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    );
    assert_eq!(
        err.kind(),
        ErrorKind::BadRequest,
        "the file is still pending"
    );
    assert!(
        err.message().contains("processing_status"),
        "{}",
        err.message()
    );

    advance(&server, 2);
    let wrong = create("nope").send().await.expect("task");
    let err = error(
        a.task_execute()
            .task_id(wrong.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    );
    assert!(err.message().contains("company_name"), "{}", err.message());

    let run = execute(&a, &task.id, 1).await;
    advance(&server, 600);
    let doc = a
        .run_retrieve()
        .run_id(run.as_str())
        .send()
        .await
        .expect("run");
    assert_eq!(
        (doc["status"].as_str(), doc["task_type"].as_str()),
        (Some("COMPLETED"), Some("ingest"))
    );
    let entities = a
        .entity_list()
        .sheet_id(sheet.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(entities.total, 3);
    let initech = &entities.entities[1];
    assert_eq!(initech.data["name"]["value"], "Initech, Inc");
    assert_eq!(initech.data["industry"]["value"], "Software");
    assert_eq!(initech.external_id.as_deref(), Some("001B"));
    assert_eq!(initech.external_source.as_deref(), Some("salesforce"));
    assert!(entities.entities[2].external_id.is_none());

    let by_external = a
        .entity_list()
        .external_id("001A")
        .send()
        .await
        .expect("list");
    assert_eq!(by_external.total, 1);
    assert_eq!(by_external.entities[0].data["name"]["value"], "Globex");
    let other_source = a
        .entity_list()
        .external_id("001A")
        .external_source("hubspot")
        .send()
        .await
        .expect("list");
    assert_eq!(other_source.total, 0);
    finish(&server);
}
