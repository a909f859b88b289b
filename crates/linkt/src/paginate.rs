//! Pagination: every item of a page-based list endpoint as one
//! [`Stream`].
//!
//! This module holds the [`Paginate`] extension trait, the [`PagedRequest`]
//! trait implemented for the generated list builders, and the [`Page`] and
//! [`Paginated`] types. It knows nothing of individual resources beyond where
//! each list response keeps its items and their ids. The run queue, which
//! pages with `offset`/`limit`, is not covered.
//!
//! ```no_run
//! use futures::TryStreamExt as _;
//! use linkt::Paginate as _;
//!
//! # async fn example(client: &linkt::Client) -> Result<(), linkt::Error> {
//! let icps: Vec<linkt::types::IcpResponse> =
//!     client.icp_list().page_size(50).stream().try_collect().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # How pages are walked
//!
//! The first request is the builder as given: it starts at the builder's
//! `page` (page 1 when unset) with its `page_size` and filters. Each next
//! request asks for the page after the one the server reported. The stream
//! ends after the first of:
//!
//! - a page whose last position reaches the reported `total`
//!   (`(page - 1) * page_size + items >= total`, with the `page` and
//!   `page_size` the server echoed);
//! - an empty page;
//! - an error, which is yielded as the last item. Transient failures have
//!   already been retried by the client by then.
//!
//! # When the list changes during iteration
//!
//! Page-number pagination reads positions, not a snapshot. Between two
//! requests other writers can insert, delete or re-sort items:
//!
//! - **An insertion before the cursor** (e.g. a new item in a list sorted
//!   newest first) shifts every later item down one position, so the last item
//!   of the page just read reappears at the start of the next page. The stream
//!   remembers the id of every item it yielded and drops such repeats, so an
//!   item is never yielded twice. The `total` grows with the insertion, so no
//!   item at the end is missed.
//! - **An item inserted during iteration** is yielded if it lands after the
//!   cursor (e.g. appended to a list sorted oldest first) and not otherwise.
//! - **A deletion before the cursor** shifts later items up one position, so
//!   one item can move onto a page already read and be missed. Nothing on the
//!   client side can detect this; when completeness matters, iterate with a
//!   stable sort and a filter that excludes concurrent changes (e.g.
//!   `created_before` on `run_list`), or iterate again.
//! - An item whose sort key changes can move either way; if it is seen twice
//!   only the first copy is yielded.
//!
//! Every list item of the API carries an id (`id`, or `file_id` for files; the
//! free-form sheet and run documents are identified by their `id`, else
//! `_id`). An item without one is always yielded. Remembering ids costs memory
//! proportional to the number of items yielded.

use std::collections::HashSet;
use std::fmt;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, Stream};
use serde_json::{Map, Value};

use crate::{Error, builder, types};

/// One page of a list response: its items and the server's position data.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// Items on this page, in the server's order.
    pub items: Vec<T>,
    /// Page number the server reported (1-based).
    pub page: u64,
    /// Page size the server reported.
    pub page_size: u64,
    /// Number of matching items across all pages, as of this response.
    pub total: u64,
}

impl<T> Page<T> {
    /// A page from a list response's fields; negative numbers count as 0.
    pub fn new(items: Vec<T>, page: i64, page_size: i64, total: i64) -> Self {
        let non_negative = |n: i64| u64::try_from(n).unwrap_or(0);
        Self {
            items,
            page: non_negative(page),
            page_size: non_negative(page_size),
            total: non_negative(total),
        }
    }

    /// Whether this page reaches the end of the list: it is empty, or its
    /// last position is at or past `total`.
    pub fn is_last(&self) -> bool {
        let len = self.items.len() as u64;
        let before = self.page.saturating_sub(1).saturating_mul(self.page_size);
        len == 0 || before.saturating_add(len) >= self.total
    }
}

/// A list request that can be sent one page at a time: implemented for the
/// generated builders of every page-based list operation.
///
/// | builder | item |
/// |---|---|
/// | [`builder::IcpList`] | [`types::IcpResponse`] |
/// | [`builder::SheetList`] | sheet document (`Map<String, Value>`) |
/// | [`builder::EntityList`], [`builder::EntitySearch`] | [`types::EntityResponse`] |
/// | [`builder::TaskList`] | [`types::TaskResponse`] |
/// | [`builder::SignalList`] | [`types::SignalResponse`] |
/// | [`builder::RunList`] | run document (`Map<String, Value>`) |
/// | [`builder::ScheduleList`] | [`types::ScheduleResponse`] |
/// | [`builder::FilesList`] | [`types::FileSummary`] |
pub trait PagedRequest<'a>: Clone + Send + 'a {
    /// One item of the list.
    type Item: Send + 'a;

    /// The same request for another page (1-based).
    #[must_use]
    fn with_page(self, page: NonZeroU64) -> Self;

    /// Sends the request and returns its page.
    fn fetch(self) -> BoxFuture<'a, Result<Page<Self::Item>, Error>>;

    /// The item's identity, used to drop repeats across pages.
    fn item_id(item: &Self::Item) -> Option<&str>;
}

/// Streams of items and pages for every [`PagedRequest`], e.g.
/// `client.icp_list().page_size(50).stream()`.
pub trait Paginate<'a>: PagedRequest<'a> {
    /// Every item of the list, each at most once; see the
    /// [module docs](crate::paginate) for what happens when the list changes
    /// during iteration.
    fn stream(self) -> Paginated<'a, Self::Item>;

    /// The pages as the server returned them, without dropping repeats.
    fn pages(self) -> Paginated<'a, Page<Self::Item>>;
}

impl<'a, R: PagedRequest<'a>> Paginate<'a> for R {
    fn stream(self) -> Paginated<'a, Self::Item> {
        let mut seen = HashSet::<String>::new();
        let items = futures::StreamExt::flat_map(page_stream(self), move |page| {
            let batch: Vec<Result<R::Item, Error>> = match page {
                Ok(page) => page
                    .items
                    .into_iter()
                    .filter(|item| R::item_id(item).is_none_or(|id| seen.insert(id.to_owned())))
                    .map(Ok)
                    .collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(batch)
        });
        Paginated {
            inner: Box::pin(items),
        }
    }

    fn pages(self) -> Paginated<'a, Page<Self::Item>> {
        Paginated {
            inner: Box::pin(page_stream(self)),
        }
    }
}

/// Where the page walk is.
enum Cursor<R> {
    /// The next request to send.
    Next(R),
    /// The list (or an error) has ended the walk.
    Done,
}

fn page_stream<'a, R: PagedRequest<'a>>(
    request: R,
) -> impl Stream<Item = Result<Page<R::Item>, Error>> + Send + 'a {
    futures::stream::unfold(Cursor::Next(request), |cursor| async move {
        let Cursor::Next(request) = cursor else {
            return None;
        };
        let next = request.clone();
        match request.fetch().await {
            Ok(page) => {
                let cursor = match NonZeroU64::new(page.page.max(1).saturating_add(1)) {
                    Some(number) if !page.is_last() => Cursor::Next(next.with_page(number)),
                    _ => Cursor::Done,
                };
                Some((Ok(page), cursor))
            }
            Err(err) => Some((Err(err), Cursor::Done)),
        }
    })
}

/// A stream of list items (or pages) from [`Paginate`]; yields
/// `Result<T, linkt::Error>` and ends after the last page or the first error.
#[must_use = "streams do nothing unless polled"]
pub struct Paginated<'a, T> {
    inner: BoxStream<'a, Result<T, Error>>,
}

impl<T> fmt::Debug for Paginated<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginated").finish_non_exhaustive()
    }
}

impl<T> Stream for Paginated<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// The id of a free-form document: `id`, else `_id`.
fn document_id(document: &Map<String, Value>) -> Option<&str> {
    ["id", "_id"]
        .iter()
        .find_map(|key| document.get(*key).and_then(Value::as_str))
}

/// Implements [`PagedRequest`] for a generated list builder.
macro_rules! paged {
    ($builder:ident, $field:ident, $item:ty, page: $page:ty, id: |$it:ident| $id:expr) => {
        impl<'a> PagedRequest<'a> for builder::$builder<'a> {
            type Item = $item;

            fn with_page(self, page: NonZeroU64) -> Self {
                self.page(<$page>::try_from(page.get()).unwrap_or(<$page>::MAX))
            }

            fn fetch(self) -> BoxFuture<'a, Result<Page<Self::Item>, Error>> {
                Box::pin(async move {
                    let response = self.send().await?.into_inner();
                    Ok(Page::new(
                        response.$field,
                        response.page,
                        response.page_size,
                        response.total,
                    ))
                })
            }

            fn item_id($it: &Self::Item) -> Option<&str> {
                $id
            }
        }
    };
}

paged!(IcpList, icps, types::IcpResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(SheetList, sheets, Map<String, Value>, page: i64, id: |item| document_id(item));
paged!(EntityList, entities, types::EntityResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(EntitySearch, entities, types::EntityResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(TaskList, tasks, types::TaskResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(SignalList, signals, types::SignalResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(RunList, runs, Map<String, Value>, page: NonZeroU64, id: |item| document_id(item));
paged!(ScheduleList, schedules, types::ScheduleResponse, page: NonZeroU64, id: |item| Some(&item.id));
paged!(FilesList, files, types::FileSummary, page: NonZeroU64, id: |item| Some(&item.file_id));

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn last_page_is_decided_by_position_and_total() {
        assert!(!Page::new(vec![1, 2], 1, 2, 5).is_last());
        assert!(!Page::new(vec![3, 4], 2, 2, 5).is_last());
        assert!(Page::new(vec![5], 3, 2, 5).is_last());
        assert!(Page::new(vec![1, 2], 1, 2, 2).is_last());
        assert!(Page::new(Vec::<u8>::new(), 4, 2, 9).is_last());
        // A server that reports nonsense still ends the walk.
        assert!(Page::new(vec![1], -1, -5, -3).is_last());
    }
}
