//! What a run's home chains share with its other chains: the trail's
//! configuration and lifecycle calls their verified logs hold (a call is
//! recorded once, in the home chain's logs, yet a stop stops every chain).
//! An estate starts its home units first; the others wait for them only
//! when they need the calls.

use crate::verify::lifecycle::LifecycleEvent;
use crate::verify::selectors::CoverageChange;
use crate::verify::time::Timestamp;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The calls of one trail's home units, and the windows they cover.
#[derive(Default, Clone)]
struct Record {
    changes: Vec<CoverageChange>,
    /// Windows whose every verified log was read for its records.
    complete: Vec<(Timestamp, Timestamp)>,
    /// StopLogging, StartLogging, DeleteTrail, CreateTrail, UpdateTrail
    /// (validation) in the home chains' verified logs.
    lifecycle: Vec<LifecycleEvent>,
}

#[derive(Default)]
pub struct HomeCalls {
    by_trail: Mutex<HashMap<String, Record>>,
    /// Home units of this run not finished yet.
    pending: AtomicUsize,
    done: tokio::sync::Notify,
}

impl HomeCalls {
    /// The run holds `n` home units (an estate calls this before starting).
    pub fn expect(&self, n: usize) {
        self.pending.store(n, Ordering::SeqCst);
    }

    /// A home unit finished, whatever its outcome.
    pub(crate) fn unit_done(&self) {
        let left = self.pending.fetch_sub(1, Ordering::SeqCst);
        if left <= 1 {
            self.pending.store(0, Ordering::SeqCst);
        }
        self.done.notify_waiters();
    }

    /// A home unit's calls; `complete` when every verified log of its
    /// window was read for its records.
    pub fn put(
        &self,
        trail: &str,
        window: (Timestamp, Timestamp),
        changes: &[CoverageChange],
        complete: bool,
    ) {
        let mut all = self.by_trail.lock().unwrap_or_else(|p| p.into_inner());
        let r = all.entry(trail.to_string()).or_default();
        r.changes.extend(changes.iter().cloned());
        if complete {
            r.complete.push(window);
        }
    }

    /// A home unit's lifecycle calls, as its verified logs hold them.
    pub(crate) fn put_lifecycle(&self, trail: &str, own: &[LifecycleEvent]) {
        let mut all = self.by_trail.lock().unwrap_or_else(|p| p.into_inner());
        let r = all.entry(trail.to_string()).or_default();
        r.lifecycle
            .extend(crate::verify::lifecycle::from_home_chain(own));
    }

    /// The trail's calls once every home unit has finished, and whether
    /// they are all of `[start, end)`'s (complete home windows cover it).
    pub async fn get(
        &self,
        trail: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<(Vec<CoverageChange>, bool)> {
        let r = self.finished(trail).await?;
        Some((r.changes, covers(&r.complete, start, end)))
    }

    /// The trail's lifecycle records in its home chains' verified logs,
    /// once every home unit has finished.
    pub async fn lifecycle(&self, trail: &str) -> Vec<LifecycleEvent> {
        self.finished(trail)
            .await
            .map(|r| r.lifecycle)
            .unwrap_or_default()
    }

    async fn finished(&self, trail: &str) -> Option<Record> {
        loop {
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) == 0 {
                break;
            }
            notified.await;
        }
        let all = self.by_trail.lock().unwrap_or_else(|p| p.into_inner());
        all.get(trail).cloned()
    }
}

/// Whether the windows, joined, cover `[start, end)`.
fn covers(windows: &[(Timestamp, Timestamp)], start: Timestamp, end: Timestamp) -> bool {
    let mut sorted = windows.to_vec();
    sorted.sort();
    let mut reached = start;
    for (a, b) in sorted {
        if a <= reached && b > reached {
            reached = b;
        }
    }
    reached >= end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    #[test]
    fn windows_cover_only_without_holes() {
        let t = |h: u32| parse_user_time(&format!("2026-03-01T{h:02}:00:00Z")).unwrap();
        assert!(covers(&[(t(4), t(8)), (t(0), t(4))], t(1), t(8)));
        assert!(!covers(&[(t(0), t(3)), (t(4), t(8))], t(0), t(8)));
        assert!(!covers(&[(t(1), t(8))], t(0), t(8)));
        assert!(!covers(&[], t(0), t(1)));
    }
}
