//! CPU time: of the whole process, and of one thread through its CPU clock,
//! for the bench's CPU time per call (the process's, less the local server
//! thread's).
//!
//! On 64-bit Linux these are `clock_gettime` on `CLOCK_PROCESS_CPUTIME_ID`
//! and on the clock `pthread_getcpuclockid` gives for a thread: exact to the nanosecond and including running time slices
//! (unlike `/proc/…/schedstat`, which only advances at scheduler events).
//! Elsewhere they are unknown, and the report leaves the CPU table out.
//!
//! The foreign calls need `unsafe`, allowed in this module only.
#![allow(
    unsafe_code,
    reason = "calls to clock_gettime and pthread_getcpuclockid"
)]

use std::thread::JoinHandle;

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod imp {
    use std::os::unix::thread::{JoinHandleExt as _, RawPthread};
    use std::thread::JoinHandle;

    /// `struct timespec` on 64-bit Linux: `time_t` and `long` are 64 bits.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    /// `CLOCK_PROCESS_CPUTIME_ID` from `<time.h>` on Linux.
    pub(super) const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        fn pthread_getcpuclockid(thread: RawPthread, clock: *mut i32) -> i32;
    }

    pub(super) fn read(clock: i32) -> Option<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `struct timespec` for the
        // duration of the call; an unknown clock id makes it fail, not UB.
        let rc = unsafe { clock_gettime(clock, &mut ts) };
        if rc != 0 {
            return None;
        }
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u64::try_from(ts.tv_nsec).ok()?;
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
    }

    pub(super) fn thread_clock<T>(thread: &JoinHandle<T>) -> Option<i32> {
        let mut clock = 0;
        // SAFETY: the handle keeps the thread joinable, so its `pthread_t`
        // is valid; `clock` is a valid, writable `clockid_t` (an `int`).
        let rc = unsafe { pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) };
        (rc == 0).then_some(clock)
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod imp {
    use std::thread::JoinHandle;

    pub(super) const CLOCK_PROCESS_CPUTIME_ID: i32 = 0;

    pub(super) fn read(_clock: i32) -> Option<u64> {
        None
    }

    pub(super) fn thread_clock<T>(_thread: &JoinHandle<T>) -> Option<i32> {
        None
    }
}

/// CPU time used by the whole process so far, in ns, where the platform tells.
pub(crate) fn process_cpu_ns() -> Option<u64> {
    imp::read(imp::CLOCK_PROCESS_CPUTIME_ID)
}

/// The CPU clock of a running thread, readable from any thread.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThreadClock(i32);

impl ThreadClock {
    /// The clock of `thread`, where the platform has one. Valid while the
    /// thread runs (the bench's server thread runs until the process exits).
    pub(crate) fn of<T>(thread: &JoinHandle<T>) -> Option<Self> {
        imp::thread_clock(thread).map(Self)
    }

    /// CPU time used by the thread so far, in ns.
    pub(crate) fn now_ns(self) -> Option<u64> {
        imp::read(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(duration: std::time::Duration) {
        let started = std::time::Instant::now();
        let mut x = 0_u64;
        while started.elapsed() < duration {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    #[test]
    fn process_cpu_time_advances_with_work() {
        let Some(before) = process_cpu_ns() else {
            return; // not measurable on this platform
        };
        // 20 ms of spinning is at least 2 ms of CPU, even on a loaded machine.
        spin(std::time::Duration::from_millis(20));
        let after = process_cpu_ns().expect("measurable once, measurable again");
        assert!(after >= before + 2_000_000, "{after} - {before} < 2 ms");
    }

    #[test]
    fn another_threads_clock_counts_its_work() {
        let (spun, has_spun) = std::sync::mpsc::channel::<()>();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            spin(std::time::Duration::from_millis(20));
            let _ = spun.send(());
            let _ = wait.recv();
        });
        let Some(clock) = ThreadClock::of(&worker) else {
            let _ = done.send(());
            return; // not measurable on this platform
        };
        // 20 ms of spinning is at least 2 ms of CPU, even on a loaded machine.
        let _ = has_spun.recv();
        let used = clock.now_ns().expect("a running thread's clock");
        let _ = done.send(());
        worker.join().expect("the worker ran");
        assert!(used >= 2_000_000, "the worker's clock shows {used} ns");
    }
}
