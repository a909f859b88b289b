//! ICPs: create, read, update, list (pagination, sorting, mode), delete
//! with its cascade, and active runs.

use linkt::ErrorKind;
use linkt::types::{self, EntityType};

use crate::{
    KEY_A, advance, client, create_icp, create_search_task, error, execute, finish, searchable_icp,
    server, target,
};

#[tokio::test]
async fn create_then_retrieve_update_and_list() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Fintech").await;
    assert_eq!(icp.id.len(), 24);
    assert_eq!(icp.entity_targets.len(), 2);
    assert!(icp.entity_targets[0].root && !icp.entity_targets[1].root);
    assert_eq!(icp.created_at, server.clock().now());

    let listed = a.icp_list().send().await.expect("list");
    assert_eq!((listed.total, listed.icps.len()), (1, 1));
    assert_eq!(listed.icps[0], icp);

    advance(&server, 30);
    let updated = a
        .icp_update()
        .icp_id(icp.id.as_str())
        .body(types::UpdateIcpRequest::builder().name(Some("Fintech (Q2)".parse().expect("name"))))
        .send()
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.name, "Fintech (Q2)");
    assert_eq!(updated.description, icp.description, "omitted fields stay");
    assert!(updated.updated_at > icp.updated_at);
    let fetched = a
        .icp_retrieve()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(fetched.into_inner(), updated);
    finish(&server);
}

#[tokio::test]
async fn list_pages_and_sorts() {
    let server = server().await;
    let a = client(&server, KEY_A);
    for name in ["Charlie", "alpha", "Bravo", "delta", "Echo"] {
        create_icp(&a, name).await;
        advance(&server, 1);
    }
    let page = |page: u64, size: u64| a.icp_list().page(page).page_size(size).send();
    let first = page(1, 2).await.expect("page 1");
    let third = page(3, 2).await.expect("page 3");
    let beyond = page(4, 2).await.expect("page 4");
    assert_eq!((first.total, first.page, first.page_size), (5, 1, 2));
    let names: Vec<_> = first.icps.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["Charlie", "alpha"], "oldest first by default");
    assert_eq!(third.icps.len(), 1);
    assert!(beyond.icps.is_empty());
    assert_eq!(beyond.total, 5);

    let by_name = a
        .icp_list()
        .sort_by("name")
        .order(-1)
        .send()
        .await
        .expect("sorted");
    let names: Vec<_> = by_name.icps.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["Echo", "delta", "Charlie", "Bravo", "alpha"]);
    let newest = a
        .icp_list()
        .sort_by("created_at")
        .order(-1)
        .page_size(1_u64)
        .send()
        .await
        .expect("newest");
    assert_eq!(newest.icps[0].name, "Echo");

    let err = error(a.icp_list().sort_by("colour").send().await);
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("created_at"), "{}", err.message());

    let monitoring = a
        .icp_list()
        .mode(types::IcpListMode::Monitoring)
        .send()
        .await
        .expect("mode");
    assert_eq!(monitoring.total, 0);
    let discovery = a
        .icp_list()
        .mode(types::IcpListMode::Discovery)
        .send()
        .await
        .expect("mode");
    assert_eq!(discovery.total, 5);
    finish(&server);
}

#[tokio::test]
async fn targets_are_checked() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let body = |targets: Vec<types::EntityTargetConfig>| {
        types::CreateIcpRequest::builder()
            .name("x")
            .description("x")
            .entity_targets(targets)
    };
    let err = error(a.icp_create().body(body(vec![])).send().await);
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let err = error(
        a.icp_create()
            .body(body(vec![target("company", true), target("person", true)]))
            .send()
            .await,
    );
    assert!(err.message().contains("root"), "{}", err.message());
    finish(&server);
}

#[tokio::test]
async fn delete_cascades_to_everything_of_the_icp() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, people) = searchable_icp(&a, "Doomed").await;
    let (keep, keep_sheet, _) = searchable_icp(&a, "Kept").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let kept_task = create_search_task(&a, &keep.id, 1).await;
    let done = execute(&a, &task.id, 2).await;
    execute(&a, &kept_task.id, 2).await;
    advance(&server, 120);
    let schedule = a
        .schedule_create()
        .body(
            types::CreateScheduleRequest::builder()
                .name("Weekly")
                .task_id(task.id.as_str())
                .icp_id(icp.id.as_str())
                .cron_expression("0 9 * * 1"),
        )
        .send()
        .await
        .expect("schedule");
    // A run still going when the ICP is deleted is canceled.
    let running = execute(&a, &task.id, 2).await;
    advance(&server, 10);
    assert_eq!(
        a.entity_list()
            .icp_id(vec![icp.id.clone()])
            .send()
            .await
            .expect("list")
            .total,
        4
    );

    a.icp_delete()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("delete");

    let gone = |err: linkt::Error| assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    gone(error(a.icp_retrieve().icp_id(icp.id.as_str()).send().await));
    gone(error(
        a.sheet_retrieve()
            .sheet_id(companies.id.as_str())
            .send()
            .await,
    ));
    gone(error(
        a.sheet_retrieve().sheet_id(people.id.as_str()).send().await,
    ));
    gone(error(
        a.task_retrieve().task_id(task.id.as_str()).send().await,
    ));
    gone(error(
        a.schedule_retrieve()
            .schedule_id(schedule.id.as_str())
            .send()
            .await,
    ));
    assert_eq!(
        a.entity_list()
            .icp_id(vec![icp.id.clone()])
            .send()
            .await
            .expect("list")
            .total,
        0
    );
    assert_eq!(crate::run_status(&a, &running).await, "CANCELED");
    assert_eq!(
        crate::run_status(&a, &done).await,
        "COMPLETED",
        "finished runs stay"
    );

    // The other ICP is untouched.
    a.icp_retrieve()
        .icp_id(keep.id.as_str())
        .send()
        .await
        .expect("kept");
    let kept = a
        .entity_list()
        .sheet_id(keep_sheet.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(kept.total, 2);
    assert_eq!(a.sheet_list().send().await.expect("sheets").total, 2);
    assert_eq!(a.task_list().send().await.expect("tasks").total, 1);
    let _ = EntityType::Company;
    finish(&server);
}
