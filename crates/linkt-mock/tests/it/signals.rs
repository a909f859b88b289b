//! Signals: created by signal runs (topic and sheet monitoring), read-only,
//! listed with their filters.

use linkt::ErrorKind;
use linkt::types::{self, CreateTaskRequestTaskConfig as Config, EntityType};

use crate::{
    KEY_A, KEY_B, advance, client, create_icp, create_search_task, create_sheet, error, execute,
    finish, searchable_icp, server,
};

fn signal_types() -> Vec<types::SignalTypeConfig> {
    vec![
        linkt::build!(types::SignalTypeConfig {
            description: "Venture rounds",
            display: "Funding Rounds",
            type_: types::SignalTypeConfigType::Funding,
        })
        .expect("every field is set"),
        linkt::build!(types::SignalTypeConfig {
            description: "New executives",
            display: "Leadership Changes",
            type_: types::SignalTypeConfigType::LeadershipChange,
        })
        .expect("every field is set"),
    ]
}

async fn signal_task(client: &linkt::Client, icp_id: &str, config: Config) -> types::TaskResponse {
    client
        .task_create()
        .body(
            types::CreateTaskRequest::builder()
                .name("Signal monitor")
                .description("Weekly signal monitoring")
                .flow_name("signal")
                .deployment_name("main")
                .icp_id(Some(icp_id.parse().expect("id")))
                .task_config(Some(config)),
        )
        .send()
        .await
        .expect("task_create")
        .into_inner()
}

#[tokio::test]
async fn topic_runs_create_signals_that_list_and_filter() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "AI in healthcare").await;
    let sheet = create_sheet(&a, &icp.id, EntityType::Company).await;
    let topic = types::SignalTopicConfig::try_from(
        types::SignalTopicConfig::builder()
            .topic_criteria("AI startups in healthcare raising Series A")
            .signal_types(signal_types())
            .type_(types::SignalTopicConfigType::SignalTopic),
    )
    .expect("topic");
    let task = signal_task(&a, &icp.id, Config::SignalTopicConfig(topic)).await;
    let run = execute(&a, &task.id, 4).await;
    advance(&server, 25);
    assert_eq!(
        a.signal_list().send().await.expect("list").total,
        2,
        "signals appear as the run goes"
    );
    advance(&server, 600);

    let all = a
        .signal_list()
        .icp_id(icp.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(all.total, 4);
    let first = &all.signals[0];
    assert_eq!(first.signal_type.as_deref(), Some("funding"));
    assert_eq!(first.signal_display_name.as_deref(), Some("Funding Rounds"));
    assert_eq!(
        first.entity_ids.len(),
        1,
        "topic monitoring creates the entity it reports on"
    );
    let entity = a
        .entity_retrieve()
        .entity_id(first.entity_ids[0].as_str())
        .send()
        .await
        .expect("entity");
    assert_eq!(entity.sheet_id, sheet.id);
    assert_eq!(
        first
            .metadata
            .as_ref()
            .and_then(|m| m.get("run_id"))
            .and_then(|v| v.as_str()),
        Some(run.as_str())
    );

    let fetched = a
        .signal_retrieve()
        .signal_id(first.id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(&fetched.into_inner(), first);

    let leadership = a
        .signal_list()
        .signal_type("leadership_change")
        .send()
        .await
        .expect("list");
    assert_eq!(leadership.total, 2);
    let strong = a
        .signal_list()
        .strength("strong")
        .send()
        .await
        .expect("list");
    assert_eq!(strong.total, 2);
    let by_entity = a
        .signal_list()
        .entity_id(first.entity_ids[0].clone())
        .send()
        .await
        .expect("list");
    assert_eq!(by_entity.total, 1);
    let searched = a
        .signal_list()
        .search_term("LEADERSHIP")
        .send()
        .await
        .expect("list");
    assert_eq!(searched.total, 2);
    let by_score = a
        .signal_list()
        .sort_by("score")
        .order(1)
        .send()
        .await
        .expect("list");
    let scores: Vec<f64> = by_score.signals.iter().filter_map(|s| s.score).collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
    let paged = a
        .signal_list()
        .page(2_u64)
        .page_size(3_u64)
        .send()
        .await
        .expect("list");
    assert_eq!((paged.total, paged.signals.len()), (4, 1));

    advance(&server, 3 * 86_400);
    assert_eq!(
        a.signal_list()
            .days(2_u64)
            .send()
            .await
            .expect("list")
            .total,
        0
    );
    assert_eq!(
        a.signal_list()
            .days(7_u64)
            .send()
            .await
            .expect("list")
            .total,
        4
    );

    let b = client(&server, KEY_B);
    assert_eq!(b.signal_list().send().await.expect("list").total, 0);
    let err = error(
        b.signal_retrieve()
            .signal_id(first.id.as_str())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);

    a.icp_delete()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("delete");
    assert_eq!(
        a.signal_list().send().await.expect("list").total,
        0,
        "signals go with their ICP"
    );
    finish(&server);
}

#[tokio::test]
async fn sheet_runs_monitor_the_entities_of_a_discovery_icp() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (discovery, companies, _) = searchable_icp(&a, "Discovery").await;
    let search = create_search_task(&a, &discovery.id, 1).await;
    execute(&a, &search.id, 3).await;
    advance(&server, 600);
    let found = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list");
    a.entity_bulk_update_status()
        .body(
            types::BulkUpdateStatusRequest::builder()
                .entity_ids(vec![found.entities[0].id.clone()])
                .status(Some("passed".into())),
        )
        .send()
        .await
        .expect("bulk");

    let monitoring = create_icp(&a, "Monitoring").await;
    let mut filters = serde_json::Map::new();
    filters.insert(
        "status".into(),
        serde_json::json!({"$in": ["new", "reviewed"]}),
    );
    let config = types::SignalSheetConfig::try_from(
        types::SignalSheetConfig::builder()
            .source_icp_id(discovery.id.clone())
            .signal_types(signal_types())
            .entity_filters(Some(filters))
            .type_(types::SignalSheetConfigType::SignalSheet),
    )
    .expect("config");
    let task = signal_task(&a, &monitoring.id, Config::SignalSheetConfig(config)).await;
    execute(&a, &task.id, 1).await;
    advance(&server, 600);
    let signals = a
        .signal_list()
        .icp_id(monitoring.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(signals.total, 2, "the passed company is filtered out");
    for signal in &signals.signals {
        let entity = &signal.entity_ids[0];
        assert!(found.entities.iter().any(|e| &e.id == entity));
        assert_ne!(entity, &found.entities[0].id);
    }
    finish(&server);
}
