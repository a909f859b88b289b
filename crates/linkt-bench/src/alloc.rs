//! A counting global allocator: how many heap allocations (and bytes) the
//! current thread asked for.
//!
//! Counts are per thread, so the local server, which runs on its own thread,
//! never shows up in the client's or the floor's numbers. Both run on the
//! bench's single-threaded runtime, on the main thread, together with the
//! connection tasks of their HTTP pools.
//!
//! This is the only module of the crate with `unsafe` code: implementing
//! [`GlobalAlloc`] requires it. Every method forwards to [`System`] unchanged
//! and only bumps two thread-local counters, which are const-initialised and
//! have no destructor, so touching them never allocates.
#![allow(unsafe_code, reason = "GlobalAlloc is an unsafe trait")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator of the bench binary: [`System`], counted.
#[derive(Debug)]
pub(crate) struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with` because allocations can happen while the thread's locals are
    // being torn down; those are not counted.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + bytes as u64));
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees carry over; the counters neither allocate nor panic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocation counts of the current thread so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub(crate) allocations: u64,
    /// Bytes requested by those calls.
    pub(crate) bytes: u64,
}

impl Snapshot {
    /// The current thread's counts.
    pub(crate) fn now() -> Self {
        Self {
            allocations: ALLOCATIONS.with(Cell::get),
            bytes: BYTES.with(Cell::get),
        }
    }

    /// Counts since `earlier`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            allocations: self.allocations - earlier.allocations,
            bytes: self.bytes - earlier.bytes,
        }
    }
}
