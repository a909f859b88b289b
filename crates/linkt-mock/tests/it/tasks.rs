//! Tasks: configurations stored with their defaults, updates, listing,
//! execution preconditions and the delete guard.

use linkt::ErrorKind;
use linkt::types::{self, CreateTaskRequestTaskConfig as Config, TaskResponseTaskConfig as Stored};

use crate::{
    KEY_A, KEY_B, advance, client, create_icp, create_search_task, error, execute, finish,
    run_status, searchable_icp, server,
};

fn task_body(
    name: &str,
    flow: &str,
    icp_id: &str,
    config: Option<Config>,
) -> types::builder::CreateTaskRequest {
    types::CreateTaskRequest::builder()
        .name(name)
        .description(format!("{name} task"))
        .flow_name(flow)
        .deployment_name("main")
        .icp_id(Some(icp_id.parse().expect("icp id")))
        .task_config(config)
}

fn signal_type(ty: types::SignalTypeConfigType, display: &str) -> types::SignalTypeConfig {
    linkt::build!(types::SignalTypeConfig {
        description: format!("{display} news"),
        display,
        type_: ty,
    })
    .expect("every field is set")
}

#[tokio::test]
async fn configurations_are_stored_with_defaults() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Tasks").await;

    let search = create_search_task(&a, &icp.id, 3).await;
    let Some(Stored::SearchTaskConfigResponse(config)) = &search.task_config else {
        panic!("search config: {:?}", search.task_config);
    };
    assert_eq!(
        (config.desired_contact_count, config.user_feedback.as_str()),
        (3, "")
    );
    let fetched = a
        .task_retrieve()
        .task_id(search.id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(fetched.into_inner(), search);

    // The typed client always sends the `type` tag (the generator makes the
    // discriminator required); the stored configuration keeps it.
    let ingest = linkt::build!(types::IngestTaskConfig {
        csv_entity_type: "company",
        file_id: "507f1f77bcf86cd799439001",
        primary_column: "name",
        type_: types::IngestTaskConfigType::Ingest,
        webhook_url: None,
    })
    .expect("every field is set");
    let created = a
        .task_create()
        .body(task_body(
            "Ingest",
            "ingest",
            &icp.id,
            Some(Config::IngestTaskConfig(ingest)),
        ))
        .send()
        .await
        .expect("create");
    assert!(
        matches!(&created.task_config, Some(Stored::IngestTaskConfigResponse(c)) if c.type_ == types::IngestTaskConfigResponseType::Ingest),
        "{:?}",
        created.task_config
    );

    let topic = types::SignalTopicConfig::builder()
        .type_(types::SignalTopicConfigType::SignalTopic)
        .topic_criteria("AI startups in healthcare raising Series A")
        .signal_types(vec![signal_type(
            types::SignalTypeConfigType::Funding,
            "Funding",
        )]);
    let topic = types::SignalTopicConfig::try_from(topic).expect("topic");
    let created = a
        .task_create()
        .body(task_body(
            "Topic",
            "signal",
            &icp.id,
            Some(Config::SignalTopicConfig(topic)),
        ))
        .send()
        .await
        .expect("create");
    let Some(Stored::SignalTopicConfigResponse(config)) = &created.task_config else {
        panic!("topic config: {:?}", created.task_config);
    };
    assert_eq!(config.entity_type, types::EntityType::Company);
    assert_eq!(
        config.monitoring_frequency,
        types::SignalTopicConfigResponseMonitoringFrequency::Weekly
    );

    let err = error(
        a.task_create()
            .body(task_body("x", "search", "ffffffffffffffffffffffff", None))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    finish(&server);
}

#[tokio::test]
async fn update_list_and_sort() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Tasks").await;
    let search = create_search_task(&a, &icp.id, 1).await;
    advance(&server, 1);
    let profile = types::ProfilePromptConfig::try_from(
        types::ProfilePromptConfig::builder()
            .type_(types::ProfilePromptConfigType::Profile)
            .prompt("Analyze {{ company_name }}"),
    )
    .expect("profile");
    a.task_create()
        .body(task_body(
            "Profiles",
            "profile",
            &icp.id,
            Some(Config::ProfilePromptConfig(profile)),
        ))
        .send()
        .await
        .expect("create");
    advance(&server, 1);
    a.task_update()
        .task_id(search.id.as_str())
        .body(types::UpdateTaskRequest::builder().name(Some("Zebra search".parse().expect("name"))))
        .send()
        .await
        .expect("update");
    let updated = a
        .task_retrieve()
        .task_id(search.id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(updated.name, "Zebra search");
    assert_eq!(updated.flow_name, "search", "flow_name is immutable");
    assert_eq!(updated.task_config, search.task_config);
    assert!(updated.updated_at > search.updated_at);

    let searches = a
        .task_list()
        .flow_name("search")
        .send()
        .await
        .expect("list");
    assert_eq!(searches.total, 1);
    let by_name = a
        .task_list()
        .sort_by("name")
        .order(-1)
        .send()
        .await
        .expect("list");
    let names: Vec<&str> = by_name.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Zebra search", "Profiles"]);
    let err = error(a.task_list().page_size(101_u64).send().await);
    assert_eq!(err.kind(), ErrorKind::Validation);
    finish(&server);
}

#[tokio::test]
async fn execute_needs_an_icp_with_sheets() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "No sheets yet").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let err = error(
        a.task_execute()
            .task_id(task.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message().contains("`company` sheet"),
        "{}",
        err.message()
    );

    let orphan = a
        .task_create()
        .body(
            types::CreateTaskRequest::builder()
                .name("No ICP")
                .description("d")
                .flow_name("search")
                .deployment_name("main"),
        )
        .send()
        .await
        .expect("create");
    let err = error(
        a.task_execute()
            .task_id(orphan.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("icp_id"), "{}", err.message());

    // The ICP can come with the execution instead.
    let (ready, _, _) = searchable_icp(&a, "Ready").await;
    let run = a
        .task_execute()
        .task_id(orphan.id.as_str())
        .body(types::ExecuteTaskRequest::builder().icp_id(Some(ready.id.parse().expect("id"))))
        .send()
        .await
        .expect("execute");
    assert_eq!(run.status, "SCHEDULED");
    let mut bad = serde_json::Map::new();
    bad.insert("num_results".into(), 0.into());
    let err = error(
        a.task_execute()
            .task_id(orphan.id.as_str())
            .body(
                types::ExecuteTaskRequest::builder()
                    .icp_id(Some(ready.id.parse().expect("id")))
                    .parameters(bad),
            )
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let b = client(&server, KEY_B);
    let err = error(
        b.task_execute()
            .task_id(orphan.id.as_str())
            .body(types::ExecuteTaskRequest::builder())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    finish(&server);
}

#[tokio::test]
async fn delete_is_refused_while_a_run_is_active() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, _, _) = searchable_icp(&a, "Guarded").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run = execute(&a, &task.id, 2).await;
    let err = error(a.task_delete().task_id(task.id.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message().contains(&run), "{}", err.message());
    advance(&server, 10);
    assert_eq!(run_status(&a, &run).await, "RUNNING");
    assert_eq!(
        error(a.task_delete().task_id(task.id.as_str()).send().await).kind(),
        ErrorKind::Conflict
    );

    advance(&server, 600);
    assert_eq!(run_status(&a, &run).await, "COMPLETED");
    a.task_delete()
        .task_id(task.id.as_str())
        .send()
        .await
        .expect("delete");
    let err = error(a.task_retrieve().task_id(task.id.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        run_status(&a, &run).await,
        "COMPLETED",
        "runs outlive their task"
    );
    finish(&server);
}
