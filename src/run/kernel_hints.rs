//! What a validation tells the kernel about itself before its threads
//! start: it is a throughput job that reads and frees a buffer per object.
//! Each hint only lowers CPU time; none needs a privilege, and a kernel that
//! refuses one leaves the run exactly as it was.

/// Which hints the kernel took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub batch: bool,
    pub no_huge_pages: bool,
}

/// Applies the hints to the calling thread and the process; threads started
/// afterwards (the runtime's workers and blocking pool) inherit them, and
/// so do child processes (a `credential_process` helper).
pub(crate) fn apply() -> Applied {
    #[cfg(target_os = "linux")]
    {
        // SCHED_BATCH: a thread woken by arriving bytes waits for the end of
        // the running thread's slice instead of preempting the inflate. A
        // live run then switches about a fifth as often (5,500 to 1,100
        // context switches on the benchmark trail). Only from the normal
        // policy: a real-time or idle policy the operator chose is kept.
        // SAFETY: pid 0 is this thread and `param` outlives the call.
        let batch = unsafe {
            libc::sched_getscheduler(0) == libc::SCHED_OTHER && {
                let param = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) == 0
            }
        };
        // No transparent huge pages: the allocator asks for them on its
        // arenas, and the first touch of each clears 2 MiB for buffers that
        // live a few milliseconds (up to a fifth of a run's CPU time).
        // SAFETY: a flag on this process; the unused arguments are passed
        // as the unsigned longs the kernel reads.
        let zero: libc::c_ulong = 0;
        let no_huge_pages = unsafe {
            libc::prctl(
                libc::PR_SET_THP_DISABLE,
                1 as libc::c_ulong,
                zero,
                zero,
                zero,
            )
        } == 0;
        Applied {
            batch,
            no_huge_pages,
        }
    }
    #[cfg(not(target_os = "linux"))]
    Applied {
        batch: false,
        no_huge_pages: false,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn hints_the_kernel_took_hold_for_threads_started_after() {
        // On a thread of its own, so the scheduling policy of the harness's
        // other threads is left as it was (the huge-page flag is the whole
        // process's, which is harmless for tests). A kernel or sandbox may
        // refuse a hint; what it took must then be in force.
        std::thread::spawn(|| {
            let applied = super::apply();
            // SAFETY: reads the calling thread's policy.
            let policy = std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) })
                .join()
                .unwrap();
            if applied.batch {
                assert_eq!(policy, libc::SCHED_BATCH);
            }
            let zero: libc::c_ulong = 0;
            // SAFETY: reads a flag of this process.
            let flag = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, zero, zero, zero, zero) };
            if applied.no_huge_pages {
                assert_eq!(flag, 1);
            }
        })
        .join()
        .unwrap();
    }
}
