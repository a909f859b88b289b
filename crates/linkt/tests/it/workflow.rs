//! Workflow helpers: the pagination stream and the run waiter.
//!
//! Scripted page sequences run against httpmock; the stateful cases run
//! against `linkt-mock`, whose simulated clock the client's sleep function
//! advances, so no test waits on the wall clock.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use httpmock::MockServer;
use linkt::{Client, ErrorKind, Paginate as _, RunOutcome, RunStatus, types};
use linkt_mock::RunFault;
use serde_json::{Value, json};

use crate::client;

fn icp(n: u32) -> Value {
    json!({
        "id": format!("507f1f77bcf86cd7994390{n:02}"),
        "name": format!("ICP {n}"),
        "description": "",
        "entity_targets": [{ "entity_type": "company", "root": true, "description": "x" }],
        "created_at": "2025-01-05T12:00:00Z",
        "updated_at": "2025-01-05T12:00:00Z"
    })
}

fn icp_page(ids: &[u32], page: u32, total: u32) -> Value {
    json!({
        "icps": ids.iter().map(|n| icp(*n)).collect::<Vec<_>>(),
        "page": page,
        "page_size": 2,
        "total": total
    })
}

fn names(icps: &[linkt::types::IcpResponse]) -> Vec<String> {
    icps.iter().map(|icp| icp.name.clone()).collect()
}

/// Serves `pages[i]` for `page=i+1` and counts the calls.
async fn serve_pages<'a>(server: &'a MockServer, pages: &[Value]) -> Vec<httpmock::Mock<'a>> {
    let mut mocks = Vec::new();
    for (i, body) in pages.iter().enumerate() {
        let page = (i + 1).to_string();
        let body = body.clone();
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method("GET")
                        .path("/v1/icp")
                        .query_param("page", page)
                        .query_param("page_size", "2");
                    then.status(200).json_body(body);
                })
                .await,
        );
    }
    mocks
}

#[tokio::test]
async fn stream_walks_pages_until_total() {
    let server = MockServer::start_async().await;
    let pages = [
        icp_page(&[1, 2], 1, 5),
        icp_page(&[3, 4], 2, 5),
        icp_page(&[5], 3, 5),
    ];
    let mocks = serve_pages(&server, &pages).await;
    // A fourth request would be a bug: the third page reaches the total.
    let beyond = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp").query_param("page", "4");
            then.status(200).json_body(icp_page(&[], 4, 5));
        })
        .await;
    let (client, _) = client(&server.base_url());

    let icps: Vec<_> = client
        .icp_list()
        .page(1)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("all pages");

    assert_eq!(names(&icps), ["ICP 1", "ICP 2", "ICP 3", "ICP 4", "ICP 5"]);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
    beyond.assert_calls_async(0).await;
}

#[tokio::test]
async fn stream_starts_at_the_builders_page() {
    let server = MockServer::start_async().await;
    let pages = [
        icp_page(&[1, 2], 1, 5),
        icp_page(&[3, 4], 2, 5),
        icp_page(&[5], 3, 5),
    ];
    let mocks = serve_pages(&server, &pages).await;
    let (client, _) = client(&server.base_url());

    let icps: Vec<_> = client
        .icp_list()
        .page(2)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("pages 2 and 3");

    assert_eq!(names(&icps), ["ICP 3", "ICP 4", "ICP 5"]);
    mocks[0].assert_calls_async(0).await;
}

#[tokio::test]
async fn an_insertion_between_pages_does_not_repeat_or_lose_items() {
    // Newest first, two per page. After page 1 was read, ICP 6 is created:
    // it takes position 1 and pushes ICP 4 from page 1 onto page 2, and the
    // total grows to 6.
    let server = MockServer::start_async().await;
    let pages = [
        icp_page(&[5, 4], 1, 5),
        icp_page(&[4, 3], 2, 6),
        icp_page(&[2, 1], 3, 6),
    ];
    let mocks = serve_pages(&server, &pages).await;
    let (client, _) = client(&server.base_url());

    let icps: Vec<_> = client
        .icp_list()
        .page(1)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("all pages");

    assert_eq!(names(&icps), ["ICP 5", "ICP 4", "ICP 3", "ICP 2", "ICP 1"]);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn pages_stream_reports_each_page_as_served() {
    let server = MockServer::start_async().await;
    let pages = [
        icp_page(&[5, 4], 1, 5),
        icp_page(&[4, 3], 2, 6),
        icp_page(&[2, 1], 3, 6),
    ];
    serve_pages(&server, &pages).await;
    let (client, _) = client(&server.base_url());

    let served: Vec<_> = client
        .icp_list()
        .page(1)
        .page_size(2)
        .pages()
        .try_collect()
        .await
        .expect("all pages");

    let shape: Vec<_> = served
        .iter()
        .map(|page| (page.page, page.items.len(), page.total))
        .collect();
    assert_eq!(shape, [(1, 2, 5), (2, 2, 6), (3, 2, 6)]);
    assert_eq!(
        names(&served[1].items),
        ["ICP 4", "ICP 3"],
        "repeats are kept"
    );
}

#[tokio::test]
async fn an_empty_page_ends_the_stream_even_if_total_says_more() {
    let server = MockServer::start_async().await;
    let pages = [icp_page(&[1, 2], 1, 9), icp_page(&[], 2, 9)];
    let mocks = serve_pages(&server, &pages).await;
    let (client, _) = client(&server.base_url());

    let icps: Vec<_> = client
        .icp_list()
        .page(1)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("pages");

    assert_eq!(names(&icps), ["ICP 1", "ICP 2"]);
    mocks[1].assert_calls_async(1).await;
}

#[tokio::test]
async fn an_error_is_yielded_once_and_ends_the_stream() {
    let server = MockServer::start_async().await;
    serve_pages(&server, &[icp_page(&[1, 2], 1, 4)]).await;
    let missing = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp").query_param("page", "2");
            then.status(404).json_body(json!({ "detail": "gone" }));
        })
        .await;
    let (client, _) = client(&server.base_url());

    let results: Vec<Result<_, linkt::Error>> =
        futures::StreamExt::collect(client.icp_list().page(1).page_size(2).stream()).await;

    assert_eq!(results.len(), 3, "two items, then the error");
    assert!(results[0].is_ok() && results[1].is_ok());
    let err = results[2].as_ref().expect_err("page 2 fails");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    missing.assert_calls_async(1).await;
}

// ---------------------------------------------------------------------------
// Against linkt-mock: a live list, and runs on the simulated clock.

/// A linkt-mock server and a client whose sleeps advance the server's clock
/// and are recorded.
async fn mock() -> (linkt_mock::MockServer, Client, crate::Sleeps) {
    let server = linkt_mock::MockServer::start().await.expect("mock starts");
    let sleeps = crate::Sleeps::default();
    let recorder = sleeps.clone();
    let clock = server.clock().clone();
    let client = server
        .client_builder(server.api_key())
        .expect("builder")
        .sleep_with(move |delay| {
            recorder.0.lock().expect("sleeps").push(delay);
            clock.advance(delay);
            std::future::ready(())
        })
        .build()
        .expect("client");
    (server, client, sleeps)
}

async fn create_icp(client: &Client, name: &str) -> types::IcpResponse {
    let body: types::CreateIcpRequest = serde_json::from_value(json!({
        "name": name,
        "description": "Mid-market B2B SaaS companies and their sales leaders",
        "entity_targets": [
            { "entity_type": "company", "root": true, "description": "B2B SaaS, 50-500 employees" },
            { "entity_type": "person", "desired_count": 1, "description": "VP of Sales" }
        ]
    }))
    .expect("icp body");
    client
        .icp_create()
        .body(body)
        .send()
        .await
        .expect("icp")
        .into_inner()
}

/// An ICP with company and person sheets and a search task: what a search
/// run needs. Returns the ICP id and the task id.
async fn search_world(client: &Client) -> (String, String) {
    let icp = create_icp(client, "Search world").await;
    for entity_type in ["company", "person"] {
        let body: types::CreateSheetRequest = serde_json::from_value(json!({
            "name": format!("{entity_type} sheet"),
            "description": format!("{entity_type} results of the search"),
            "icp_id": icp.id,
            "entity_type": entity_type
        }))
        .expect("sheet body");
        client
            .sheet_create()
            .body(body)
            .send()
            .await
            .expect("sheet");
    }
    let body: types::CreateTaskRequest = serde_json::from_value(json!({
        "name": "Search",
        "description": "Find companies and one sales leader each",
        "flow_name": "search",
        "deployment_name": "main",
        "icp_id": icp.id,
        "task_config": { "type": "search", "desired_contact_count": 1, "user_feedback": "" }
    }))
    .expect("task body");
    let task = client.task_create().body(body).send().await.expect("task");
    (icp.id, task.into_inner().id)
}

fn execute<'a>(
    client: &'a Client,
    icp_id: &str,
    task_id: &str,
    num_results: u64,
) -> linkt::builder::TaskExecute<'a> {
    let body: types::ExecuteTaskRequest = serde_json::from_value(json!({
        "icp_id": icp_id,
        "parameters": { "num_results": num_results }
    }))
    .expect("execute body");
    client.task_execute().task_id(task_id).body(body)
}

/// Statuses reported to a progress callback, in order.
#[derive(Clone, Default)]
struct Reported(Arc<Mutex<Vec<linkt::Progress>>>);

impl Reported {
    fn callback(&self) -> impl FnMut(&linkt::Progress) + Send + 'static {
        let reported = self.0.clone();
        move |progress| reported.lock().expect("progress").push(progress.clone())
    }

    fn all(&self) -> Vec<linkt::Progress> {
        self.0.lock().expect("progress").clone()
    }

    fn statuses(&self) -> Vec<RunStatus> {
        self.all().into_iter().map(|p| p.status).collect()
    }
}

fn operations(server: &linkt_mock::MockServer, name: &str) -> usize {
    server
        .journal()
        .iter()
        .filter(|exchange| exchange.operation.as_deref() == Some(name))
        .count()
}

#[tokio::test]
async fn an_icp_created_after_the_cursor_is_yielded_once() {
    let (_server, client, _) = mock().await;
    for n in 1..=5 {
        create_icp(&client, &format!("ICP {n}")).await;
    }

    // Oldest first (the default order): a new ICP lands after the cursor.
    let mut stream = client.icp_list().page_size(2).stream();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(stream.next().await.expect("item").expect("ok").name);
    }
    create_icp(&client, "ICP 6").await;
    while let Some(icp) = stream.next().await {
        seen.push(icp.expect("ok").name);
    }

    assert_eq!(seen, ["ICP 1", "ICP 2", "ICP 3", "ICP 4", "ICP 5", "ICP 6"]);
}

#[tokio::test]
async fn an_icp_created_before_the_cursor_repeats_nothing_and_loses_nothing() {
    let (server, client, _) = mock().await;
    for n in 1..=5 {
        server.clock().advance(Duration::from_secs(1));
        create_icp(&client, &format!("ICP {n}")).await;
    }
    let newest_first = || {
        client
            .icp_list()
            .order(-1)
            .sort_by("created_at")
            .page_size(2)
    };

    // Read one page, then create an ICP, which becomes the first item of the
    // list, then read the rest; once item by item and once page by page.
    let mut items = newest_first().stream();
    let mut pages = newest_first().pages();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(items.next().await.expect("item").expect("ok").name);
    }
    let first_page = pages.next().await.expect("page").expect("ok");
    server.clock().advance(Duration::from_secs(1));
    create_icp(&client, "ICP 6").await;
    while let Some(icp) = items.next().await {
        seen.push(icp.expect("ok").name);
    }
    let rest: Vec<_> = pages.try_collect().await.expect("pages");

    assert_eq!(seen, ["ICP 5", "ICP 4", "ICP 3", "ICP 2", "ICP 1"]);
    let raw: Vec<String> = std::iter::once(first_page)
        .chain(rest)
        .flat_map(|page| page.items)
        .map(|icp| icp.name)
        .collect();
    assert_eq!(
        raw,
        ["ICP 5", "ICP 4", "ICP 4", "ICP 3", "ICP 2", "ICP 1"],
        "the raw pages repeat the item pushed across the page boundary"
    );
}

#[tokio::test]
async fn every_list_endpoint_streams_each_item_once() {
    let (_server, client, _) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 5))
        .await
        .expect("run");
    assert!(outcome.is_completed(), "{outcome:?}");
    for n in 0..3 {
        let file = linkt::FilePart::csv(format!("f{n}.csv"), "company_name\nAcme\n");
        client
            .files_upload()
            .body(file)
            .send()
            .await
            .expect("upload");
    }
    let schedule: types::CreateScheduleRequest = serde_json::from_value(json!({
        "name": "Weekly", "task_id": task_id, "icp_id": icp_id,
        "cron_expression": "0 9 * * 1", "parameters": {}
    }))
    .expect("schedule body");
    client
        .schedule_create()
        .body(schedule)
        .send()
        .await
        .expect("schedule");

    /// Streams `request` two per page and compares with one large page.
    async fn check<'a, R>(what: &str, request: R) -> usize
    where
        R: linkt::PagedRequest<'a> + Clone,
        R::Item: std::fmt::Debug + PartialEq,
    {
        let streamed: Vec<R::Item> = request.clone().stream().try_collect().await.expect(what);
        let pages: Vec<_> = request.pages().try_collect().await.expect(what);
        let ids: BTreeSet<_> = streamed.iter().filter_map(|i| R::item_id(i)).collect();
        assert_eq!(ids.len(), streamed.len(), "{what}: an item was repeated");
        let total = pages.first().map_or(0, |page| page.total);
        assert_eq!(
            streamed.len() as u64,
            total,
            "{what}: every item of the total"
        );
        streamed.len()
    }

    let counts = [
        check("icps", client.icp_list().page_size(2)).await,
        check("sheets", client.sheet_list().page_size(2)).await,
        check("entities", client.entity_list().page_size(2)).await,
        check("search", client.entity_search().q("a").page_size(2)).await,
        check("tasks", client.task_list().page_size(2)).await,
        check("signals", client.signal_list().page_size(2)).await,
        check("runs", client.run_list().page_size(2)).await,
        check("schedules", client.schedule_list().page_size(2)).await,
        check("files", client.files_list().page_size(2)).await,
    ];
    // 5 companies and one person each; two sheets; three files.
    assert_eq!(counts[2], 10, "{counts:?}");
    assert_eq!(counts[1], 2);
    assert_eq!(counts[8], 3);
    assert!(counts[6] >= 1 && counts[7] == 1, "{counts:?}");
}

#[tokio::test]
async fn waiter_reports_progress_and_completes() {
    let (server, client, sleeps) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    let reported = Reported::default();
    let started = server.clock().now();

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 3))
        .queue_counts(true)
        .on_progress(reported.callback())
        .await
        .expect("wait");

    let RunOutcome::Completed(run) = &outcome else {
        panic!("expected completion, got {outcome:?}");
    };
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.document.get("output").is_some_and(Value::is_object));
    let statuses = reported.statuses();
    assert_eq!(
        statuses.first(),
        Some(&RunStatus::Scheduled),
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&RunStatus::Completed), "{statuses:?}");
    assert!(statuses.contains(&RunStatus::Running), "{statuses:?}");
    let last = reported.all().pop().expect("progress");
    let queue = last.queue.expect("queue counts");
    assert_eq!(queue.completed, 3, "{queue:?}");
    // The poll interval backs off: 1 s, 2 s, 4 s, ... and the simulated time
    // the wait took is exactly what it slept.
    let sleeps = sleeps.recorded();
    assert_eq!(
        &sleeps[..3],
        &[1, 2, 4].map(Duration::from_secs),
        "{sleeps:?}"
    );
    let slept: Duration = sleeps.iter().sum();
    let simulated = (server.clock().now() - started).to_std().expect("forward");
    assert_eq!(simulated, slept);
    assert_eq!(last.elapsed.as_secs(), slept.as_secs());
}

#[tokio::test]
async fn poll_interval_is_capped() {
    let (_server, client, sleeps) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 10))
        .poll_interval(Duration::from_secs(2))
        .max_poll_interval(Duration::from_secs(5))
        .await
        .expect("wait");

    assert!(outcome.is_completed(), "{outcome:?}");
    let sleeps = sleeps.recorded();
    assert!(sleeps.len() > 4, "{sleeps:?}");
    assert_eq!(&sleeps[..3], &[2, 4, 5].map(Duration::from_secs));
    assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(5)));
}

#[tokio::test]
async fn a_zero_poll_interval_is_raised_to_the_minimum() {
    let (_server, client, sleeps) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 1))
        .poll_interval(Duration::ZERO)
        .max_poll_interval(Duration::ZERO)
        .await
        .expect("wait");

    assert!(outcome.is_completed(), "{outcome:?}");
    let sleeps = sleeps.recorded();
    assert!(!sleeps.is_empty());
    assert!(
        sleeps.iter().all(|d| *d == linkt::wait::MIN_POLL_INTERVAL),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn waiter_reports_a_failed_run_with_its_error() {
    let (server, client, _) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    server
        .faults()
        .fail_next_run(RunFault::Failed("search provider unavailable".into()));

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 4))
        .await
        .expect("wait");

    match outcome {
        RunOutcome::Failed { status, error, run } => {
            assert_eq!(status, RunStatus::Failed);
            assert_eq!(error.as_deref(), Some("search provider unavailable"));
            assert_eq!(run.error(), error);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn waiter_reports_a_crashed_run_as_failed() {
    let (server, client, _) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    server.faults().fail_next_run(RunFault::Crashed);

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 4))
        .await
        .expect("wait");

    assert!(
        matches!(
            &outcome,
            RunOutcome::Failed {
                status: RunStatus::Crashed,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn cancel_handle_cancels_the_run() {
    let (server, client, _) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    let waiter = client.execute_and_wait(execute(&client, &icp_id, &task_id, 20));
    let handle = waiter.cancel_handle();
    let reported = Reported::default();
    let mut record = reported.callback();

    let outcome = waiter
        .on_progress(move |progress| {
            record(progress);
            if progress.status == RunStatus::Running {
                handle.cancel();
            }
        })
        .await
        .expect("wait");

    let RunOutcome::Cancelled(run) = &outcome else {
        panic!("expected a cancelled run, got {outcome:?}");
    };
    assert_eq!(operations(&server, "run_cancel"), 1);
    let on_server = client
        .run_retrieve()
        .run_id(run.id.as_str())
        .send()
        .await
        .expect("run");
    assert_eq!(on_server.get("status"), Some(&json!("CANCELED")));
    assert_eq!(
        reported.statuses().last(),
        Some(&RunStatus::Canceled),
        "{:?}",
        reported.statuses()
    );
}

#[tokio::test]
async fn waiting_for_a_finished_run_polls_once() {
    let (server, client, sleeps) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;
    let first = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 1))
        .await
        .expect("first wait");
    let before = operations(&server, "run_retrieve");

    let again = client
        .wait_for_run(first.run().id.clone())
        .await
        .expect("second wait");

    assert_eq!(again.run().id, first.run().id);
    assert!(again.is_completed());
    assert_eq!(operations(&server, "run_retrieve"), before + 1);
    let _ = sleeps;
}

#[tokio::test]
async fn deadline_times_out_and_leaves_the_run_running() {
    let (server, client, sleeps) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 50))
        .deadline(Duration::from_secs(60))
        .await
        .expect("wait");

    let RunOutcome::TimedOut {
        last_status,
        run,
        cancel_requested,
    } = &outcome
    else {
        panic!("expected a timeout, got {outcome:?}");
    };
    assert_eq!(*last_status, RunStatus::Running);
    assert!(!cancel_requested);
    // 1 + 2 + 4 + 8 + 16 = 31 s, then the last sleep is cut to end at the
    // deadline; the few milliseconds the requests took count too.
    let sleeps = sleeps.recorded();
    assert_eq!(&sleeps[..5], &[1, 2, 4, 8, 16].map(Duration::from_secs));
    assert_eq!(sleeps.len(), 6, "{sleeps:?}");
    let total: Duration = sleeps.iter().sum();
    assert!(
        total <= Duration::from_secs(60) && total > Duration::from_secs(59),
        "{sleeps:?}"
    );
    assert_eq!(operations(&server, "run_cancel"), 0);
    let on_server = client
        .run_retrieve()
        .run_id(run.id.as_str())
        .send()
        .await
        .expect("run");
    assert_eq!(on_server.get("status"), Some(&json!("RUNNING")));
}

#[tokio::test]
async fn deadline_with_cancel_on_deadline_cancels_the_run() {
    let (server, client, _) = mock().await;
    let (icp_id, task_id) = search_world(&client).await;

    let outcome = client
        .execute_and_wait(execute(&client, &icp_id, &task_id, 50))
        .deadline(Duration::from_secs(20))
        .cancel_on_deadline(true)
        .await
        .expect("wait");

    let RunOutcome::TimedOut {
        cancel_requested,
        run,
        ..
    } = &outcome
    else {
        panic!("expected a timeout, got {outcome:?}");
    };
    assert!(cancel_requested);
    assert_eq!(operations(&server, "run_cancel"), 1);
    let on_server = client
        .run_retrieve()
        .run_id(run.id.as_str())
        .send()
        .await
        .expect("run");
    assert_eq!(on_server.get("status"), Some(&json!("CANCELED")));
}

#[tokio::test]
async fn waiting_for_an_unknown_run_is_not_found() {
    let (_server, client, _) = mock().await;

    let err = client
        .wait_for_run("507f1f77bcf86cd799439099")
        .await
        .expect_err("no such run");

    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn every_run_status_is_parsed_from_its_name_in_any_case() {
    let statuses = [
        RunStatus::Scheduled,
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Paused,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Canceled,
        RunStatus::Crashed,
    ];
    for status in statuses {
        let name = status.as_str().to_owned();
        assert_eq!(RunStatus::parse(&name), status, "{name}");
        assert_eq!(
            RunStatus::parse(&name.to_ascii_lowercase()),
            status,
            "{name}"
        );
        assert_eq!(status.to_string(), name);
    }
    assert_eq!(RunStatus::parse("cancelled"), RunStatus::Canceled);
    let unknown = RunStatus::parse("Thawing");
    assert_eq!(unknown, RunStatus::Other("Thawing".to_owned()));
    assert_eq!(unknown.as_str(), "Thawing");
    assert!(!unknown.is_terminal());
}

const RUN_ID: &str = "507f1f77bcf86cd799439011";

/// A server whose run `RUN_ID` is already `status`, with `queue` as its queue.
async fn finished_run(status: &str, queue: Value) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/run/{RUN_ID}"));
            then.status(200)
                .json_body(json!({ "id": RUN_ID, "status": status, "error": "no credits left" }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path(format!("/v1/run/{RUN_ID}/queue"));
            then.status(200).json_body(queue);
        })
        .await;
    server
}

fn queue(extra: Value) -> Value {
    let mut queue = json!({ "entities": [], "limit": 100, "offset": 0, "stats": {}, "total": 0 });
    if let (Some(queue), Value::Object(extra)) = (queue.as_object_mut(), extra) {
        queue.extend(extra);
    }
    queue
}

#[tokio::test]
async fn queue_counts_are_reported_per_state_with_their_total() {
    let server = finished_run(
        "COMPLETED",
        queue(json!({ "state_counts": {
            "queued": 1, "processing": 2, "completed": 4, "discarded": 8, "unheard_of": 16
        } })),
    )
    .await;
    let (client, _) = client(&server.base_url());
    let reported = Reported::default();

    let outcome = client
        .wait_for_run(RUN_ID)
        .queue_counts(true)
        .on_progress(reported.callback())
        .await
        .expect("wait");

    assert!(outcome.is_completed(), "{outcome:?}");
    let counts = reported.all()[0].queue.expect("queue counts");
    assert_eq!(
        (
            counts.queued,
            counts.processing,
            counts.completed,
            counts.discarded
        ),
        (1, 2, 4, 8)
    );
    assert_eq!(
        counts.total(),
        15,
        "a state this client does not know is not counted"
    );
}

#[tokio::test]
async fn queue_counts_without_state_counts_count_the_entities_by_state() {
    let states = [
        "queued",
        "processing",
        "processing",
        "completed",
        "completed",
        "completed",
    ]
    .into_iter()
    .chain([
        "discarded",
        "discarded",
        "discarded",
        "discarded",
        "unheard_of",
    ]);
    let mut entities: Vec<Value> = states.map(|state| json!({ "state": state })).collect();
    entities.push(json!({ "name": "no state" }));
    let server = finished_run("FAILED", queue(json!({ "entities": entities }))).await;
    let (client, _) = client(&server.base_url());
    let reported = Reported::default();

    let outcome = client
        .wait_for_run(RUN_ID)
        .queue_counts(true)
        .on_progress(reported.callback())
        .await
        .expect("wait");

    assert!(!outcome.is_completed(), "{outcome:?}");
    let RunOutcome::Failed { status, error, .. } = &outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(*status, RunStatus::Failed);
    assert_eq!(error.as_deref(), Some("no credits left"));
    let counts = reported.all()[0].queue.expect("queue counts");
    assert_eq!(
        (
            counts.queued,
            counts.processing,
            counts.completed,
            counts.discarded
        ),
        (1, 2, 3, 4)
    );
    assert_eq!(counts.total(), 10);
}

#[test]
fn a_waiter_shows_its_run_and_settings() {
    let (client, _) = client("http://127.0.0.1:9");
    let waiter = client
        .wait_for_run(RUN_ID)
        .poll_interval(Duration::from_secs(2))
        .deadline(Duration::from_secs(60))
        .queue_counts(true);
    let shown = format!("{waiter:?}");
    assert!(shown.starts_with("RunWaiter"), "{shown}");
    for part in [
        &format!("run {RUN_ID}"),
        "poll_interval: 2s",
        "max_poll_interval: 30s",
        "deadline: Some(60s)",
        "cancel_on_deadline: false",
        "queue_counts: true",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
}

/// A keep-alive HTTP server answering each `GET` with `respond(path, phase)`
/// (a JSON body), `phase` being read when the request arrives.
async fn scripted_server(
    phase: Arc<std::sync::atomic::AtomicUsize>,
    respond: fn(&str, usize) -> Value,
) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let phase = phase.clone();
            tokio::spawn(async move {
                let mut read = Vec::new();
                let mut buffer = [0; 4096];
                loop {
                    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
                        .await
                    {
                        Ok(Ok(n)) if n > 0 => read.extend_from_slice(&buffer[..n]),
                        _ => return,
                    }
                    while let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&read[..end]).into_owned();
                        read.drain(..end + 4);
                        let path = head.split(' ').nth(1).unwrap_or_default();
                        let path = path.split('?').next().unwrap_or_default();
                        let body = respond(path, phase.load(Ordering::SeqCst)).to_string();
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn progress_is_reported_when_the_queue_counts_change_and_only_then() {
    // Poll by poll (each sleep moves to the next phase): the run is
    // RUNNING with the same counts twice, then its counts change, then it
    // completes.
    fn respond(path: &str, phase: usize) -> Value {
        let (status, queued, completed) = match phase {
            0 | 1 => ("RUNNING", 2, 0),
            2 => ("RUNNING", 1, 1),
            _ => ("COMPLETED", 0, 2),
        };
        if path.ends_with("/queue") {
            queue(json!({ "state_counts": { "queued": queued, "completed": completed } }))
        } else {
            json!({ "id": RUN_ID, "status": status })
        }
    }
    let phase = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let base_url = scripted_server(phase.clone(), respond).await;
    let client = Client::builder()
        .api_key(linkt::ApiKey::new(crate::KEY).expect("valid key"))
        .base_url(base_url)
        .sleep_with(move |_| {
            phase.fetch_add(1, Ordering::SeqCst);
            std::future::ready(())
        })
        .build()
        .expect("client");
    let reported = Reported::default();

    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .wait_for_run(RUN_ID)
            .queue_counts(true)
            .on_progress(reported.callback())
            .wait(),
    )
    .await
    .expect("in time")
    .expect("wait");

    assert!(outcome.is_completed(), "{outcome:?}");
    let reports: Vec<(u32, RunStatus, u64, u64)> = reported
        .all()
        .into_iter()
        .map(|p| {
            let queue = p.queue.expect("queue counts");
            (p.polls, p.status, queue.queued, queue.completed)
        })
        .collect();
    assert_eq!(
        reports,
        [
            (1, RunStatus::Running, 2, 0),
            (3, RunStatus::Running, 1, 1),
            (4, RunStatus::Completed, 0, 2),
        ]
    );
}

#[tokio::test]
async fn a_cancel_wakes_a_waiter_in_the_middle_of_its_sleep() {
    let server = linkt_mock::MockServer::start().await.expect("mock starts");
    // A sleep that never ends: only the cancel can wake the waiter.
    let client = server
        .client_builder(server.api_key())
        .expect("builder")
        .sleep_with(|_| futures::future::pending::<()>())
        .build()
        .expect("client");
    let (icp_id, task_id) = search_world(&client).await;
    let waiter = client.execute_and_wait(execute(&client, &icp_id, &task_id, 20));
    let handle = waiter.cancel_handle();
    // Long after the first poll, on a local server: the waiter is asleep.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle.cancel();
    });

    let outcome = tokio::time::timeout(Duration::from_secs(10), waiter.wait())
        .await
        .expect("the cancel ended the sleep")
        .expect("wait");

    assert!(matches!(outcome, RunOutcome::Cancelled(_)), "{outcome:?}");
    assert_eq!(operations(&server, "run_cancel"), 1);
}
