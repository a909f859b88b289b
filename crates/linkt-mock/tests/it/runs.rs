//! Runs on the simulated clock: status transitions, listing and filters,
//! cancellation, injected failures, deletion and the legacy create.

use linkt::ErrorKind;
use linkt::types::{self, RunListStatus};
use linkt_mock::{RunFault, Timing};

use crate::{
    KEY_A, advance, client, create_search_task, error, execute, finish, run_status, searchable_icp,
    server,
};

#[tokio::test]
async fn status_moves_through_every_phase() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, _, _) = searchable_icp(&a, "Phases").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run = execute(&a, &task.id, 2).await;
    // 2 s scheduled, 3 s pending, 2 items of 10 s, 2 s to finish.
    let mut seen = Vec::new();
    for _ in 0..30 {
        seen.push(run_status(&a, &run).await);
        advance(&server, 1);
    }
    seen.dedup();
    assert_eq!(seen, ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]);
    let doc = a
        .run_retrieve()
        .run_id(run.as_str())
        .send()
        .await
        .expect("run")
        .into_inner();
    assert_eq!(doc["task_id"], task.id.as_str());
    assert_eq!(doc["icp_id"], icp.id.as_str());
    assert_eq!(doc["task_type"], "search");
    assert_eq!(doc["agent_type"], "task");
    assert_eq!(doc["input"]["parameters"]["num_results"], 2);
    assert_eq!(
        doc["output"]["resources"]["entities_created"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert!(doc["error"].is_null());
    assert_eq!(doc["updated_at"], "2025-01-06T09:00:27Z");
    finish(&server);
}

#[tokio::test]
async fn cancel_stops_the_run_and_its_entities() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = searchable_icp(&a, "Cancel").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run = execute(&a, &task.id, 5).await;
    advance(&server, 25); // two companies done
    a.run_cancel()
        .run_id(run.as_str())
        .send()
        .await
        .expect("cancel");
    assert_eq!(run_status(&a, &run).await, "CANCELED");
    advance(&server, 600);
    assert_eq!(run_status(&a, &run).await, "CANCELED");
    let companies = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(companies.total, 2, "no entity after the cancellation");
    let queue = a
        .run_get_queue()
        .run_id(run.as_str())
        .include_history(true)
        .send()
        .await
        .expect("queue");
    let counts = queue.state_counts.clone().expect("counts");
    assert_eq!(
        (counts["completed"], counts["discarded"], counts["queued"]),
        (2, 4, 0)
    );
    assert!(queue.entities.iter().any(|e| e["reason"] == "run canceled"));
    let doc = a
        .run_retrieve()
        .run_id(run.as_str())
        .send()
        .await
        .expect("run");
    assert!(doc["output"].is_null());
    // Cancelling a finished run changes nothing.
    a.run_cancel()
        .run_id(run.as_str())
        .send()
        .await
        .expect("cancel again");
    assert_eq!(run_status(&a, &run).await, "CANCELED");
    let done = execute(&a, &task.id, 1).await;
    advance(&server, 600);
    a.run_cancel()
        .run_id(done.as_str())
        .send()
        .await
        .expect("cancel completed");
    assert_eq!(run_status(&a, &done).await, "COMPLETED");
    finish(&server);
}

#[tokio::test]
async fn injected_run_failures_end_runs_halfway() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = searchable_icp(&a, "Failing").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    server.faults().fail_next_run(RunFault::Failed(
        "upstream search provider unavailable".into(),
    ));
    server.faults().fail_next_run(RunFault::Crashed);
    let failed = execute(&a, &task.id, 4).await;
    let crashed = execute(&a, &task.id, 4).await;
    let fine = execute(&a, &task.id, 4).await;
    advance(&server, 15);
    assert_eq!(run_status(&a, &failed).await, "RUNNING");
    advance(&server, 600);
    assert_eq!(run_status(&a, &failed).await, "FAILED");
    assert_eq!(run_status(&a, &crashed).await, "CRASHED");
    assert_eq!(run_status(&a, &fine).await, "COMPLETED");
    let doc = a
        .run_retrieve()
        .run_id(failed.as_str())
        .send()
        .await
        .expect("run");
    assert_eq!(doc["error"], "upstream search provider unavailable");
    // Two of the four companies were done before each failure.
    let by_run = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(by_run.total, 2 + 2 + 4);
    let failed_list = a
        .run_list()
        .status(RunListStatus::Failed)
        .send()
        .await
        .expect("list");
    assert_eq!(failed_list.total, 1);
    assert_eq!(failed_list.runs[0]["id"], failed.as_str());
    finish(&server);
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, _, _) = searchable_icp(&a, "Many runs").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let first = execute(&a, &task.id, 1).await;
    advance(&server, 100);
    let second = execute(&a, &task.id, 1).await;
    advance(&server, 1);
    let legacy = a
        .run_create()
        .body(
            types::CreateRunRequest::builder()
                .agent_id("507f1f77bcf86cd799439030")
                .parameters(serde_json::Map::new())
                .icp_id(Some(icp.id.parse().expect("id"))),
        )
        .send()
        .await
        .expect("legacy run")
        .into_inner();
    assert_eq!(legacy["agent_type"], "play");
    assert_eq!(legacy["status"], "SCHEDULED");
    assert!(legacy["task_id"].is_null());

    let all = a.run_list().send().await.expect("list");
    assert_eq!(all.total, 3);
    let ids: Vec<&str> = all
        .runs
        .iter()
        .map(|r| r["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        [
            first.as_str(),
            second.as_str(),
            legacy["id"].as_str().unwrap_or("")
        ]
    );
    let of_task = a
        .run_list()
        .task_id(task.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(of_task.total, 2);
    let completed = a
        .run_list()
        .status(RunListStatus::Completed)
        .send()
        .await
        .expect("list");
    assert_eq!(
        completed
            .runs
            .iter()
            .map(|r| r["id"].as_str())
            .collect::<Vec<_>>(),
        [Some(first.as_str())]
    );
    let plays = a.run_list().agent_type("play").send().await.expect("list");
    assert_eq!(plays.total, 1);
    let searches = a
        .run_list()
        .task_type("search")
        .icp_id(icp.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(searches.total, 2);
    let recent = a
        .run_list()
        .created_after(server.clock().now() - chrono::Duration::seconds(50))
        .send()
        .await
        .expect("list");
    assert_eq!(recent.total, 2);
    let newest = a
        .run_list()
        .sort_by("created_at")
        .order(-1)
        .page_size(1_u64)
        .send()
        .await
        .expect("list");
    assert_eq!((newest.total, newest.runs.len()), (3, 1));
    assert_eq!(newest.runs[0]["id"], legacy["id"]);
    let page_two = a
        .run_list()
        .page(2_u64)
        .page_size(2_u64)
        .send()
        .await
        .expect("list");
    assert_eq!(page_two.runs.len(), 1);

    let active = a
        .icp_get_active_runs()
        .icp_id(icp.id.as_str())
        .send()
        .await
        .expect("active");
    assert_eq!(active.runs.len(), 2, "the second search and the legacy run");
    assert!(
        active
            .runs
            .iter()
            .any(|r| r.agent_type == "play" && r.task_type.is_none())
    );

    a.run_delete()
        .run_id(first.as_str())
        .send()
        .await
        .expect("delete");
    let err = error(a.run_retrieve().run_id(first.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(a.run_list().send().await.expect("list").total, 2);
    finish(&server);
}

#[tokio::test]
async fn timing_is_configurable() {
    let server = linkt_mock::MockServer::builder()
        .key(KEY_A)
        .timing(Timing {
            scheduled: std::time::Duration::ZERO,
            pending: std::time::Duration::from_secs(1),
            per_item: std::time::Duration::from_secs(60),
            ..Timing::default()
        })
        .start()
        .await
        .expect("server");
    let a = client(&server, KEY_A);
    let (icp, companies, _) = searchable_icp(&a, "Slow").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run = a
        .task_execute()
        .task_id(task.id.as_str())
        .body(types::ExecuteTaskRequest::builder())
        .send()
        .await
        .expect("execute");
    assert_eq!(run.status, "PENDING", "no scheduled phase");
    advance(&server, 60);
    assert_eq!(
        a.entity_list()
            .sheet_id(companies.id.clone())
            .send()
            .await
            .expect("list")
            .total,
        0
    );
    advance(&server, 1);
    assert_eq!(
        a.entity_list()
            .sheet_id(companies.id.clone())
            .send()
            .await
            .expect("list")
            .total,
        1
    );
    finish(&server);
}

#[tokio::test]
async fn by_default_the_clock_starts_at_the_wall_clock_so_time_filters_match() {
    let before = chrono::Utc::now();
    let server = linkt_mock::MockServer::builder()
        .key(KEY_A)
        .start()
        .await
        .expect("server");
    let started = server.clock().now();
    assert!(
        started <= chrono::Utc::now() && before - started < chrono::Duration::seconds(1),
        "the clock starts at {started}, the wall clock was at {before}"
    );
    let a = client(&server, KEY_A);
    let (icp, _, _) = searchable_icp(&a, "Today").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    let run = execute(&a, &task.id, 1).await;
    let doc = a
        .run_retrieve()
        .run_id(run.as_str())
        .send()
        .await
        .expect("run")
        .into_inner();
    let created_at = doc["created_at"].as_str().expect("created_at");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(created_at).expect("a timestamp"),
        started
    );

    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let last_hour = a
        .run_list()
        .created_after(hour_ago)
        .send()
        .await
        .expect("list");
    assert_eq!(last_hour.total, 1);
    let older = a
        .run_list()
        .created_before(hour_ago)
        .send()
        .await
        .expect("list");
    assert_eq!(older.total, 0);
    finish(&server);
}
