//! Pagination against servers that do not advance: the stream ends with an
//! error instead of asking again, and a page cap bounds every walk.
//!
//! Each walk is bounded by `tokio::time::timeout`, so a stream that spins
//! fails its test instead of hanging it; a passing walk ends in milliseconds.

use std::time::Duration;

use futures::StreamExt as _;
use httpmock::MockServer;
use linkt::{ErrorKind, Paginate as _};
use serde_json::{Value, json};

use crate::client;

/// Far more than a walk of a few local pages takes.
const BOUND: Duration = Duration::from_secs(10);

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

fn icp_page(ids: &[u32], page: u32, page_size: u32, total: u32) -> Value {
    json!({
        "icps": ids.iter().map(|n| icp(*n)).collect::<Vec<_>>(),
        "page": page,
        "page_size": page_size,
        "total": total
    })
}

/// Everything a stream yields, or a failure if it has not ended within
/// [`BOUND`].
async fn drain<T>(
    stream: impl futures::Stream<Item = Result<T, linkt::Error>>,
) -> Vec<Result<T, linkt::Error>> {
    tokio::time::timeout(BOUND, stream.collect::<Vec<_>>())
        .await
        .expect("the stream did not end: it keeps asking for pages")
}

fn names(items: &[Result<linkt::types::IcpResponse, linkt::Error>]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.as_ref().ok().map(|icp| icp.name.clone()))
        .collect()
}

#[tokio::test]
async fn a_server_that_always_answers_page_one_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200).json_body(icp_page(&[1, 2], 1, 2, 100));
        })
        .await;
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page_size(2).stream()).await;

    assert_eq!(names(&results), ["ICP 1", "ICP 2"]);
    assert_eq!(results.len(), 3, "two items, then one error");
    let err = results[2]
        .as_ref()
        .expect_err("the stream ends with an error");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(
        err.to_string(),
        "pagination stopped: the server answered page 1 when page 2 was asked for"
    );
    let requests = mock.calls_async().await;
    assert!(requests <= 3, "{requests} requests");
}

/// Serves `body` for `page=number` (with `page_size=2`) and returns its mock.
async fn serve(server: &MockServer, number: u32, body: Value) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/icp")
                .query_param("page", number.to_string())
                .query_param("page_size", "2");
            then.status(200).json_body(body);
        })
        .await
}

#[tokio::test]
async fn the_pages_of_a_server_that_always_answers_page_one_end_with_an_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/icp");
            then.status(200).json_body(icp_page(&[1, 2], 1, 2, 100));
        })
        .await;
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page_size(2).pages()).await;

    assert_eq!(results.len(), 2, "one page, then one error");
    assert_eq!(results[0].as_ref().expect("page 1").page, 1);
    let err = results[1]
        .as_ref()
        .expect_err("the stream ends with an error");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(mock.calls_async().await, 2);
}

#[tokio::test]
async fn a_server_whose_pages_repeat_the_same_ids_ends_the_stream_with_an_error() {
    // Each page is numbered as asked, but brings ICPs 1 and 2 again.
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for number in 1..=5 {
        mocks.push(serve(&server, number, icp_page(&[1, 2], number, 2, 100)).await);
    }
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream()).await;

    assert_eq!(names(&results), ["ICP 1", "ICP 2"]);
    assert_eq!(results.len(), 3, "two items, then one error");
    let err = results[2]
        .as_ref()
        .expect_err("the stream ends with an error");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(
        err.message(),
        "page 2 brought only items already seen while the server counts 100 and 2 were seen"
    );
    mocks[0].assert_calls_async(1).await;
    mocks[1].assert_calls_async(1).await;
    mocks[2].assert_calls_async(0).await;
}

#[tokio::test]
async fn a_page_cap_ends_a_longer_list_with_an_error() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for number in 1..=5 {
        let ids = [number * 2 - 1, number * 2];
        mocks.push(serve(&server, number, icp_page(&ids, number, 2, 10)).await);
    }
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream().max_pages(2)).await;

    assert_eq!(names(&results), ["ICP 1", "ICP 2", "ICP 3", "ICP 4"]);
    assert_eq!(results.len(), 5, "two pages of items, then one error");
    let err = results[4].as_ref().expect_err("the cap ends the stream");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.message().contains("cap of 2 pages"), "{err}");
    mocks[0].assert_calls_async(1).await;
    mocks[1].assert_calls_async(1).await;
    mocks[2].assert_calls_async(0).await;
}

#[tokio::test]
async fn a_cap_the_list_fits_in_changes_nothing() {
    let server = MockServer::start_async().await;
    for number in 1..=3 {
        let ids: Vec<u32> = [number * 2 - 1, number * 2]
            .into_iter()
            .filter(|n| *n <= 5)
            .collect();
        serve(&server, number, icp_page(&ids, number, 2, 5)).await;
    }
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream().max_pages(3)).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(names(&results).len(), 5);
}

#[tokio::test]
async fn more_items_than_the_total_end_the_stream_with_an_error() {
    // The server echoes `page_size` 0, so position never reaches `total`,
    // and it keeps sending new ICPs past the 3 it counts.
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for number in 1..=4 {
        let ids = [number * 2 - 1, number * 2];
        mocks.push(serve(&server, number, icp_page(&ids, number, 0, 3)).await);
    }
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream()).await;

    assert_eq!(names(&results), ["ICP 1", "ICP 2", "ICP 3", "ICP 4"]);
    let err = results[4]
        .as_ref()
        .expect_err("the stream ends with an error");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(
        err.message(),
        "the server counts 3 items but 4 different ones were seen by page 2"
    );
    mocks[2].assert_calls_async(0).await;
}

#[tokio::test]
async fn a_page_of_repeats_pushed_by_insertions_before_the_cursor_is_progress() {
    // Newest first, two per page. After page 1 was read, ICPs 6 and 7 are
    // created: they push ICPs 5 and 4 onto page 2, and the total grows by 2.
    let server = MockServer::start_async().await;
    let pages = [
        icp_page(&[5, 4], 1, 2, 5),
        icp_page(&[5, 4], 2, 2, 7),
        icp_page(&[3, 2], 3, 2, 7),
        icp_page(&[1], 4, 2, 7),
    ];
    for (number, body) in (1..).zip(pages) {
        serve(&server, number, body).await;
    }
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream()).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        names(&results),
        ["ICP 5", "ICP 4", "ICP 3", "ICP 2", "ICP 1"]
    );
}

#[tokio::test]
async fn as_many_different_items_as_the_total_is_not_an_error() {
    // The server echoes `page_size` 0, so position never reaches `total`;
    // after page 2 exactly the 4 items it counts were seen, which is not
    // more than it counts: page 3 is asked for, and its emptiness ends the list.
    let server = MockServer::start_async().await;
    serve(&server, 1, icp_page(&[1, 2], 1, 0, 4)).await;
    serve(&server, 2, icp_page(&[3, 4], 2, 0, 4)).await;
    let last = serve(&server, 3, icp_page(&[], 3, 0, 4)).await;
    let (client, _) = client(&server.base_url());

    let results = drain(client.icp_list().page(1).page_size(2).stream()).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(names(&results), ["ICP 1", "ICP 2", "ICP 3", "ICP 4"]);
    last.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_stream_hints_the_items_of_the_page_it_holds() {
    let server = MockServer::start_async().await;
    serve(&server, 1, icp_page(&[1, 2], 1, 2, 3)).await;
    serve(&server, 2, icp_page(&[3], 2, 2, 3)).await;
    let (client, _) = client(&server.base_url());

    let mut stream = client.icp_list().page(1).page_size(2).stream();
    assert_eq!(format!("{stream:?}"), "Paginated { .. }");
    // Nothing is known before the first page, nor ever of the pages after.
    assert_eq!(futures::Stream::size_hint(&stream), (0, None));
    let first = tokio::time::timeout(BOUND, stream.next())
        .await
        .expect("in time");
    assert_eq!(first.expect("an item").expect("ICP 1").name, "ICP 1");
    assert_eq!(
        futures::Stream::size_hint(&stream),
        (1, None),
        "ICP 2 is held"
    );
    let rest = drain(stream).await;
    assert_eq!(names(&rest), ["ICP 2", "ICP 3"]);
}
