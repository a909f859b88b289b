//! CPU time of the current thread, for the bench thread's CPU time per call.
//!
//! On 64-bit Linux this is `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, exact to
//! the nanosecond and including the running time slice (unlike
//! `/proc/thread-self/schedstat`, which only advances at scheduler events).
//! Elsewhere it is unknown, and the report leaves the CPU table out.
//!
//! The one foreign call needs `unsafe`, allowed in this module only.
#![allow(unsafe_code, reason = "one call to clock_gettime")]

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod imp {
    /// `struct timespec` on 64-bit Linux: `time_t` and `long` are 64 bits.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    /// `CLOCK_THREAD_CPUTIME_ID` from `<time.h>` on Linux.
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }

    pub(super) fn thread_cpu_ns() -> Option<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `struct timespec` for the
        // duration of the call, and the clock id is a constant Linux defines.
        let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc != 0 {
            return None;
        }
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u64::try_from(ts.tv_nsec).ok()?;
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod imp {
    pub(super) fn thread_cpu_ns() -> Option<u64> {
        None
    }
}

/// CPU time used by the current thread so far, in ns, where the platform tells.
pub(crate) fn thread_cpu_ns() -> Option<u64> {
    imp::thread_cpu_ns()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let Some(before) = thread_cpu_ns() else {
            return; // not measurable on this platform
        };
        let started = std::time::Instant::now();
        let mut x = 0_u64;
        while started.elapsed() < std::time::Duration::from_millis(5) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = thread_cpu_ns().expect("measurable once, measurable again");
        assert!(after > before, "{after} <= {before}");
    }
}
