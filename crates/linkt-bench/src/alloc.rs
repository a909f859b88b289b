//! A counting global allocator: how many heap allocations (and bytes) the
//! bench's threads asked for, the local server's thread excluded.
//!
//! On the current-thread runtime the calls and the connection tasks of both
//! HTTP pools run on the main thread; on the multi-thread runtime the calls
//! run on the main thread (in `block_on`, as in `#[tokio::main]`) and the
//! connection tasks on the workers. To count both alike, every thread counts
//! into a slot of its own (a cache line that only it writes, so counting costs
//! a load and a store, no atomic read-modify-write and no sharing), and a
//! [`Snapshot`] sums the slots. Threads beyond the slots share one overflow
//! slot, counted with atomic additions. The server thread calls
//! [`exclude_current_thread`] and is never counted.
//!
//! This is one of the two modules of the crate with `unsafe` code:
//! implementing [`GlobalAlloc`] requires it. Every method forwards to
//! [`System`] unchanged and only bumps two counters; the thread-local slot
//! index is const-initialised and has no destructor, so touching it never
//! allocates.
#![allow(unsafe_code, reason = "GlobalAlloc is an unsafe trait")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The allocator of the bench binary: [`System`], counted.
#[derive(Debug)]
pub(crate) struct Counting;

/// Slots owned by one thread each; slot `OWNED` is the shared overflow slot.
const OWNED: usize = 64;
/// Slot index of a thread that has not allocated yet.
const UNASSIGNED: usize = usize::MAX;
/// Slot index of a thread that is not counted.
const EXCLUDED: usize = usize::MAX - 1;

/// One thread's counts, alone on its cache line(s).
#[repr(align(128))]
struct Slot {
    allocations: AtomicU64,
    bytes: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Self {
            allocations: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

static SLOTS: [Slot; OWNED + 1] = [const { Slot::new() }; OWNED + 1];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(UNASSIGNED) };
}

fn count(bytes: usize) {
    // `try_with` because allocations can happen while the thread's locals are
    // being torn down; those are not counted.
    let _ = SLOT.try_with(|slot| {
        let mut index = slot.get();
        if index == EXCLUDED {
            return;
        }
        if index == UNASSIGNED {
            index = NEXT_SLOT.fetch_add(1, Relaxed).min(OWNED);
            slot.set(index);
        }
        let counts = &SLOTS[index];
        let bytes = bytes as u64;
        if index < OWNED {
            // Only this thread writes this slot: a plain load and store.
            let allocations = counts.allocations.load(Relaxed);
            counts.allocations.store(allocations + 1, Relaxed);
            counts
                .bytes
                .store(counts.bytes.load(Relaxed) + bytes, Relaxed);
        } else {
            counts.allocations.fetch_add(1, Relaxed);
            counts.bytes.fetch_add(bytes, Relaxed);
        }
    });
}

/// Stops counting the current thread's allocations (the local server's).
pub(crate) fn exclude_current_thread() {
    let _ = SLOT.try_with(|slot| slot.set(EXCLUDED));
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

/// Allocation counts of all counted threads so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub(crate) allocations: u64,
    /// Bytes requested by those calls.
    pub(crate) bytes: u64,
}

impl Snapshot {
    /// The counts of every counted thread, summed.
    pub(crate) fn now() -> Self {
        SLOTS.iter().fold(Self::default(), |sum, slot| Self {
            allocations: sum.allocations + slot.allocations.load(Relaxed),
            bytes: sum.bytes + slot.bytes.load(Relaxed),
        })
    }

    /// Counts since `earlier`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            allocations: self.allocations.saturating_sub(earlier.allocations),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_other_threads_and_not_excluded_ones() {
        // The test harness runs tests in parallel, so only lower bounds hold.
        let before = Snapshot::now();
        std::thread::spawn(|| std::hint::black_box(vec![0_u8; 1000]))
            .join()
            .expect("the counted thread ran");
        let counted = Snapshot::now().since(before);
        assert!(
            counted.allocations >= 1 && counted.bytes >= 1000,
            "{counted:?}"
        );

        let excluded = std::thread::spawn(|| {
            exclude_current_thread();
            let before = SLOTS.iter().map(|s| s.bytes.load(Relaxed)).sum::<u64>();
            drop(std::hint::black_box(vec![0_u8; 1 << 20]));
            let after = SLOTS.iter().map(|s| s.bytes.load(Relaxed)).sum::<u64>();
            after - before
        })
        .join()
        .expect("the excluded thread ran");
        assert!(excluded < 1 << 20, "an excluded thread's MiB was counted");
    }
}
