//! What the process tells the kernel about itself before its threads start:
//! trailproof is a throughput job that reads and frees a buffer per object.
//! Each hint only lowers CPU time; none needs a privilege, and a kernel that
//! refuses one leaves the run exactly as it was.

/// Applies the hints to the calling thread and the process; threads started
/// afterwards (the runtime's workers and blocking pool) inherit them.
pub fn apply() {
    #[cfg(target_os = "linux")]
    {
        // SCHED_BATCH: a thread woken by arriving bytes waits for the end of
        // the running thread's slice instead of preempting the inflate. A
        // live run then switches about a fifth as often (5,500 to 1,100
        // context switches on the benchmark trail).
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is this thread and `param` outlives the call.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
        // No transparent huge pages: the allocator asks for them on its
        // arenas, and the first touch of each clears 2 MiB for buffers that
        // live a few milliseconds (up to a fifth of a run's CPU time).
        // SAFETY: a flag on this process, no pointers involved.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}
