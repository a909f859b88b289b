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
//! # A stream must make progress
//!
//! A server that ignores `page`, or repeats itself, would otherwise be asked
//! for pages forever while the stream yields nothing new. So the stream never
//! asks for a page twice: it ends with one [`ErrorKind::Pagination`] error,
//! saying what the server did, when
//!
//! - the server answers another page than the one asked for (e.g. "the
//!   server answered page 1 when page 2 was asked for"); that page is not
//!   yielded. The first page is taken as the server numbers it;
//! - a page brings only items already seen while `total` says more remain,
//!   unless `total` grew by at least that page's length since the page
//!   before (insertions before the cursor push seen items onto the next
//!   page; see below);
//! - more different items were seen than the server's `total` while it
//!   says more remain (e.g. a `page_size` echoed smaller than the pages);
//! - the walk has received its page cap, [`DEFAULT_MAX_PAGES`] unless
//!   [`Paginated::max_pages`] says otherwise, and the list has not ended.
//!
//! Items of the pages before the error have been yielded, and the request
//! for the next page is not sent. Telling repeats apart uses the ids the
//! stream remembers (below); [`Paginate::pages`] remembers them too, for the
//! same checks, though it yields pages with their repeats.
//!
//! [`ErrorKind::Pagination`]: crate::ErrorKind::Pagination
//!
//! ```no_run
//! use futures::TryStreamExt as _;
//! use linkt::Paginate as _;
//!
//! # async fn example(client: &linkt::Client) -> Result<(), linkt::Error> {
//! // At most 20 requests of 50 ICPs: an error instead of the 21st.
//! let icps: Vec<linkt::types::IcpResponse> = client
//!     .icp_list()
//!     .page_size(50)
//!     .stream()
//!     .max_pages(20)
//!     .try_collect()
//!     .await?;
//! # Ok(())
//! # }
//! ```
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
use std::task::{Context, Poll, ready};

use futures::future::BoxFuture;
use futures::stream::Stream;
use serde_json::{Map, Value};

use crate::{Error, builder, types};

/// How many pages a stream asks for at most, unless
/// [`Paginated::max_pages`] says otherwise: 10,000 pages, a million items at
/// 100 a page.
pub const DEFAULT_MAX_PAGES: u64 = 10_000;

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
    /// during iteration, and for the error that ends a stream whose server
    /// does not advance or that reaches its page cap
    /// ([`Paginated::max_pages`]).
    fn stream(self) -> Paginated<'a, Self::Item>;

    /// The pages as the server returned them, without dropping repeats,
    /// with the same checks and cap as [`stream`](Self::stream).
    fn pages(self) -> Paginated<'a, Page<Self::Item>>;
}

impl<'a, R: PagedRequest<'a>> Paginate<'a> for R {
    fn stream(self) -> Paginated<'a, Self::Item> {
        Paginated {
            inner: Box::new(Items {
                pages: Walk::new(self, true),
                buffered: Vec::new().into_iter(),
            }),
        }
    }

    fn pages(self) -> Paginated<'a, Page<Self::Item>> {
        Paginated {
            inner: Box::new(Walk::new(self, false)),
        }
    }
}

/// Where the page walk is.
enum State<'a, R: PagedRequest<'a>> {
    /// The next request to send.
    Next(R),
    /// A request in flight, and a copy of it to ask for the page after.
    Fetching {
        next: R,
        page: BoxFuture<'a, Result<Page<R::Item>, Error>>,
    },
    /// The walk stopped: this error is the last thing it yields.
    Failed(Error),
    /// The list (or an error) has ended the walk.
    Done,
}

/// The pages of a list, one request at a time, each checked for progress
/// (see the [module docs](crate::paginate)).
struct Walk<'a, R: PagedRequest<'a>> {
    state: State<'a, R>,
    /// Whether pages lose the items already seen ([`Paginate::stream`]).
    drop_repeats: bool,
    /// The page number the walk asked for, once it chose one (every page but
    /// the first).
    asked: Option<u64>,
    /// Pages received.
    pages: u64,
    /// The cap on `pages`.
    max_pages: u64,
    /// The ids seen, to tell repeats.
    seen: HashSet<String>,
    /// Different items seen: new ids, and items without one.
    different: u64,
    /// The `total` of the page before.
    total: Option<u64>,
}

// No field is ever pinned: the request is moved out, the future is boxed.
impl<'a, R: PagedRequest<'a>> Unpin for Walk<'a, R> {}

/// What to do after a page the server answered with the page asked for.
enum Then {
    /// Ask for this page.
    Ask(NonZeroU64),
    /// The list has ended.
    End,
    /// Stop with this error instead of asking for another page.
    Stop(Error),
}

impl<'a, R: PagedRequest<'a>> Walk<'a, R> {
    fn new(request: R, drop_repeats: bool) -> Self {
        Walk {
            state: State::Next(request),
            drop_repeats,
            asked: None,
            pages: 0,
            max_pages: DEFAULT_MAX_PAGES,
            seen: HashSet::new(),
            different: 0,
            total: None,
        }
    }

    /// Checks the page the server answered, drops its repeats (for
    /// [`Paginate::stream`]) and decides what comes next; an error when it
    /// is not the page asked for.
    fn advance(&mut self, mut page: Page<R::Item>) -> Result<(Page<R::Item>, Then), Error> {
        self.pages += 1;
        if let Some(asked) = self.asked.filter(|asked| *asked != page.page) {
            return Err(Error::pagination(format!(
                "the server answered page {} when page {asked} was asked for",
                page.page
            )));
        }
        let last = page.is_last();
        let len = page.items.len() as u64;
        let seen = &mut self.seen;
        let mut new = 0_u64;
        let drop_repeats = self.drop_repeats;
        page.items.retain(|item| {
            let is_new = R::item_id(item).is_none_or(|id| seen.insert(id.to_owned()));
            new += u64::from(is_new);
            is_new || !drop_repeats
        });
        self.different = self.different.saturating_add(new);
        let grew = self
            .total
            .is_some_and(|before| page.total >= before.saturating_add(len));
        self.total = Some(page.total);
        let then = if last {
            Then::End
        } else if new == 0 && !grew {
            Then::Stop(Error::pagination(format!(
                "page {} brought only items already seen while the server counts {} and {} were seen",
                page.page, page.total, self.different
            )))
        } else if self.different > page.total {
            Then::Stop(Error::pagination(format!(
                "the server counts {} items but {} different ones were seen by page {}",
                page.total, self.different, page.page
            )))
        } else {
            let number = page.page.max(1).saturating_add(1);
            self.asked = Some(number);
            NonZeroU64::new(number).map_or(Then::End, Then::Ask)
        };
        Ok((page, then))
    }
}

impl<'a, R: PagedRequest<'a>> Stream for Walk<'a, R> {
    type Item = Result<Page<R::Item>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let walk = &mut *self;
        loop {
            match std::mem::replace(&mut walk.state, State::Done) {
                State::Next(_) if walk.pages >= walk.max_pages => {
                    return Poll::Ready(Some(Err(Error::pagination(format!(
                        "reached the cap of {} pages before the end of the list \
                         (raise it with `Paginated::max_pages`)",
                        walk.max_pages
                    )))));
                }
                State::Next(request) => {
                    walk.state = State::Fetching {
                        next: request.clone(),
                        page: request.fetch(),
                    };
                }
                State::Fetching { next, mut page } => {
                    let Poll::Ready(result) = page.as_mut().poll(cx) else {
                        walk.state = State::Fetching { next, page };
                        return Poll::Pending;
                    };
                    let (page, then) = match result.and_then(|page| walk.advance(page)) {
                        Ok(advanced) => advanced,
                        Err(err) => return Poll::Ready(Some(Err(err))),
                    };
                    walk.state = match then {
                        Then::Ask(number) => State::Next(next.with_page(number)),
                        Then::End => State::Done,
                        Then::Stop(err) => State::Failed(err),
                    };
                    return Poll::Ready(Some(Ok(page)));
                }
                State::Failed(err) => return Poll::Ready(Some(Err(err))),
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// The items of a [`Walk`]'s pages, one at a time.
struct Items<'a, R: PagedRequest<'a>> {
    pages: Walk<'a, R>,
    buffered: std::vec::IntoIter<R::Item>,
}

// No field is ever pinned (see `Walk`); the items are only moved out.
impl<'a, R: PagedRequest<'a>> Unpin for Items<'a, R> {}

impl<'a, R: PagedRequest<'a>> Stream for Items<'a, R> {
    type Item = Result<R::Item, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let items = &mut *self;
        loop {
            if let Some(item) = items.buffered.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            match ready!(Pin::new(&mut items.pages).poll_next(cx)) {
                Some(Ok(page)) => items.buffered = page.items.into_iter(),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.buffered.len(), None)
    }
}

/// A page walk behind [`Paginated`], whatever it yields.
trait Walker<'a, T>: Stream<Item = Result<T, Error>> + Send + Unpin {
    fn set_max_pages(&mut self, max: u64);
}

impl<'a, R: PagedRequest<'a>> Walker<'a, Page<R::Item>> for Walk<'a, R> {
    fn set_max_pages(&mut self, max: u64) {
        self.max_pages = max;
    }
}

impl<'a, R: PagedRequest<'a>> Walker<'a, R::Item> for Items<'a, R> {
    fn set_max_pages(&mut self, max: u64) {
        self.pages.max_pages = max;
    }
}

/// A stream of list items (or pages) from [`Paginate`]; yields
/// `Result<T, linkt::Error>` and ends after the last page or the first error.
#[must_use = "streams do nothing unless polled"]
pub struct Paginated<'a, T> {
    inner: Box<dyn Walker<'a, T> + 'a>,
}

impl<T> Paginated<'_, T> {
    /// Asks for at most `max` pages (default [`DEFAULT_MAX_PAGES`]): when
    /// the list has not ended by then, the stream ends with an
    /// [`ErrorKind::Pagination`](crate::ErrorKind::Pagination) error instead
    /// of asking for more. A cap of
    /// 0 asks for nothing and yields that error. Counts the pages already
    /// received when set during iteration.
    pub fn max_pages(mut self, max: u64) -> Self {
        self.inner.set_max_pages(max);
        self
    }
}

impl<T> fmt::Debug for Paginated<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginated").finish_non_exhaustive()
    }
}

impl<T> Stream for Paginated<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.inner).poll_next(cx)
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
    use std::sync::{Arc, Mutex};

    use futures::StreamExt as _;

    use super::*;

    /// A list request answered in memory by `answer(page asked)`, recording
    /// the pages asked for.
    #[derive(Clone)]
    struct Scripted {
        page: u64,
        asked: Arc<Mutex<Vec<u64>>>,
        answer: fn(u64) -> Page<String>,
    }

    impl Scripted {
        fn new(answer: fn(u64) -> Page<String>) -> Self {
            Scripted {
                page: 1,
                asked: Arc::default(),
                answer,
            }
        }

        fn asked(&self) -> Vec<u64> {
            self.asked.lock().expect("asked").clone()
        }
    }

    impl<'a> PagedRequest<'a> for Scripted {
        type Item = String;

        fn with_page(mut self, page: NonZeroU64) -> Self {
            self.page = page.get();
            self
        }

        fn fetch(self) -> BoxFuture<'a, Result<Page<String>, Error>> {
            self.asked.lock().expect("asked").push(self.page);
            let page = (self.answer)(self.page);
            Box::pin(async move { Ok(page) })
        }

        fn item_id(item: &String) -> Option<&str> {
            Some(item)
        }
    }

    fn collect<T>(stream: Paginated<'_, T>) -> Vec<Result<T, Error>> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(stream.collect())
    }

    /// One new item per page, numbered as asked, and a list that never ends.
    fn endless(page: u64) -> Page<String> {
        Page::new(vec![format!("item {page}")], page as i64, 1, i64::MAX)
    }

    #[test]
    fn an_endless_list_stops_at_the_default_cap() {
        let request = Scripted::new(endless);

        let results = collect(request.clone().stream());

        assert_eq!(results.len() as u64, DEFAULT_MAX_PAGES + 1);
        let err = results
            .last()
            .and_then(|r| r.as_ref().err())
            .expect("an error");
        assert_eq!(err.kind(), crate::ErrorKind::Pagination);
        assert_eq!(
            err.message(),
            "reached the cap of 10000 pages before the end of the list \
             (raise it with `Paginated::max_pages`)"
        );
        let asked = request.asked();
        assert_eq!(asked.len() as u64, DEFAULT_MAX_PAGES);
        assert!(
            asked.iter().copied().eq(1..=DEFAULT_MAX_PAGES),
            "each page once, in order"
        );
    }

    #[test]
    fn a_cap_of_zero_asks_for_nothing() {
        let request = Scripted::new(endless);

        let results = collect(request.clone().pages().max_pages(0));

        assert_eq!(results.len(), 1);
        assert!(results[0].is_err());
        assert!(request.asked().is_empty());
    }

    #[test]
    fn a_page_not_asked_for_is_not_yielded() {
        // Answers page 3 when asked for page 2.
        let request = Scripted::new(|page| {
            let number = if page == 2 { 3 } else { page };
            Page::new(vec![format!("item {number}")], number as i64, 1, 10)
        });

        let results = collect(request.clone().pages());

        assert_eq!(results.len(), 2, "page 1, then the error");
        assert_eq!(results[0].as_ref().expect("page 1").items, ["item 1"]);
        let err = results[1].as_ref().expect_err("page 3 is not page 2");
        assert_eq!(
            err.message(),
            "the server answered page 3 when page 2 was asked for"
        );
        assert_eq!(request.asked(), [1, 2]);
    }

    #[test]
    fn pages_keep_their_repeats_and_still_stop_on_a_page_of_repeats() {
        let request = Scripted::new(|page| Page::new(vec!["same".to_owned()], page as i64, 1, 10));

        let results = collect(request.clone().pages());

        assert_eq!(results.len(), 3, "two pages, then the error");
        assert_eq!(results[1].as_ref().expect("page 2").items, ["same"]);
        assert!(results[2].is_err());
        assert_eq!(request.asked(), [1, 2]);
    }

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
