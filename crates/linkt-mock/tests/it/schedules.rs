//! Schedules: cron validation (daily, weekly, monthly), the signal-task
//! frequency check, updates, listing and deletion.

use linkt::ErrorKind;
use linkt::types::{self, CreateTaskRequestTaskConfig as Config};

use crate::{KEY_A, KEY_B, client, create_icp, create_search_task, error, finish, server};

fn schedule(task_id: &str, icp_id: &str, cron: &str) -> types::builder::CreateScheduleRequest {
    types::CreateScheduleRequest::builder()
        .name(format!("Every {cron}"))
        .description(Some("Runs the task".into()))
        .task_id(task_id)
        .icp_id(icp_id)
        .cron_expression(cron)
}

#[tokio::test]
async fn create_list_update_delete() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Scheduled").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let mut created = Vec::new();
    for cron in ["0 9 * * *", "0 9 * * 1", "30 6 1 * *"] {
        let s = a
            .schedule_create()
            .body(schedule(&task.id, &icp.id, cron))
            .send()
            .await
            .expect("create");
        assert_eq!(s.status, "active");
        assert_eq!(s.cron_expression, cron);
        created.push(s.into_inner());
    }
    let fetched = a
        .schedule_retrieve()
        .schedule_id(created[0].id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(fetched.into_inner(), created[0]);

    let updated = a
        .schedule_update()
        .schedule_id(created[1].id.as_str())
        .body(
            types::UpdateScheduleRequest::builder()
                .status(Some(types::UpdateScheduleRequestStatus::Paused))
                .cron_expression(Some("15 8 * * 5".into())),
        )
        .send()
        .await
        .expect("update");
    assert_eq!(
        (updated.status.as_str(), updated.cron_expression.as_str()),
        ("paused", "15 8 * * 5")
    );
    assert_eq!(updated.name, created[1].name, "omitted fields stay");

    let paused = a
        .schedule_list()
        .status(types::ScheduleListStatus::Paused)
        .send()
        .await
        .expect("list");
    assert_eq!(paused.total, 1);
    let of_task = a
        .schedule_list()
        .task_id(task.id.as_str())
        .send()
        .await
        .expect("list");
    assert_eq!(of_task.total, 3);
    let by_name = a
        .schedule_list()
        .sort_by("name")
        .order(-1)
        .page_size(2_u64)
        .send()
        .await
        .expect("list");
    assert_eq!((by_name.total, by_name.schedules.len()), (3, 2));
    assert_eq!(
        by_name.schedules[0].id, created[2].id,
        "\"Every 30 …\" sorts last, so first descending"
    );

    a.schedule_delete()
        .schedule_id(created[2].id.as_str())
        .send()
        .await
        .expect("delete");
    let err = error(
        a.schedule_retrieve()
            .schedule_id(created[2].id.as_str())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(a.schedule_list().send().await.expect("list").total, 2);
    let b = client(&server, KEY_B);
    let err = error(
        b.schedule_retrieve()
            .schedule_id(created[0].id.as_str())
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    finish(&server);
}

#[tokio::test]
async fn cron_patterns_are_validated() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Cron").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    for cron in [
        "*/5 * * * *",
        "0 9 * 1 *",
        "0 9 1 * 1",
        "0 9 * *",
        "0 25 * * *",
    ] {
        let err = error(
            a.schedule_create()
                .body(schedule(&task.id, &icp.id, cron))
                .send()
                .await,
        );
        assert_eq!(err.kind(), ErrorKind::Validation, "{cron}");
        let issue = &err.validation_errors()[0];
        assert_eq!(issue.path(), "body.cron_expression");
        assert_eq!(issue.error_type, "value_error");
        assert!(issue.msg.starts_with("Value error, "), "{}", issue.msg);
    }
    let existing = a
        .schedule_create()
        .body(schedule(&task.id, &icp.id, "0 9 * * *"))
        .send()
        .await
        .expect("create");
    let err = error(
        a.schedule_update()
            .schedule_id(existing.id.as_str())
            .body(types::UpdateScheduleRequest::builder().cron_expression(Some("* * * * *".into())))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::Validation);
    let err = error(
        a.schedule_create()
            .body(schedule("ffffffffffffffffffffffff", &icp.id, "0 9 * * *"))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    finish(&server);
}

#[tokio::test]
async fn signal_schedules_match_the_monitoring_frequency() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Signals").await;
    let config = types::SignalTopicConfig::try_from(
        types::SignalTopicConfig::builder()
            .topic_criteria("Fintech funding")
            .monitoring_frequency(types::SignalTopicConfigMonitoringFrequency::Daily)
            .signal_types(vec![
                linkt::build!(types::SignalTypeConfig {
                    description: "Rounds",
                    display: "Funding",
                    type_: types::SignalTypeConfigType::Funding,
                })
                .expect("every field is set"),
            ])
            .type_(types::SignalTopicConfigType::SignalTopic),
    )
    .expect("config");
    let task = a
        .task_create()
        .body(
            types::CreateTaskRequest::builder()
                .name("Daily signals")
                .description("d")
                .flow_name("signal")
                .deployment_name("main")
                .icp_id(Some(icp.id.parse().expect("id")))
                .task_config(Some(Config::SignalTopicConfig(config))),
        )
        .send()
        .await
        .expect("task");
    let err = error(
        a.schedule_create()
            .body(schedule(&task.id, &icp.id, "0 9 * * 1"))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message().contains("monitors daily"),
        "{}",
        err.message()
    );
    a.schedule_create()
        .body(schedule(&task.id, &icp.id, "0 9 * * *"))
        .send()
        .await
        .expect("daily");
    finish(&server);
}
