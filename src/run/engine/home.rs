//! A selector or trail change is one API call, recorded once: in the logs
//! of the trail's home region and account, and in that region's event
//! history. A chain of another region (a multi-region trail) or account (an
//! organization trail) recorded less just the same, but its own logs do not
//! say so; and a change made before the window says what the trail
//! recorded at its start (so that the first change in the window can be
//! judged). Live, the home region's event history holds both. A stop is
//! one call too: recorded in the home chain, it stops every chain.

use super::Engine;
use crate::plan::Plan;
use crate::verify::lifecycle::{EventSource, LifecycleEvent};
use crate::verify::selectors::CoverageChange;
use chrono::{Duration, DurationRound};

/// Why event history's calls were not read.
enum Unread {
    Offline,
    Because(String),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Offline => f.write_str(
                "this run makes no CloudTrail call (offline, or --s3-bucket with --public-keys)",
            ),
            Unread::Because(why) => f.write_str(why),
        }
    }
}

impl Engine {
    /// The trail's coverage changes this chain's logs cannot hold, why some
    /// could not be read (a note for the report), and whether the home
    /// chain's calls are what was not read (a merge can supply them).
    pub(super) async fn home_coverage(
        &self,
        plan: &Plan,
    ) -> (Vec<CoverageChange>, Option<String>, Option<String>) {
        let home = plan.is_home_chain();
        // An estate starts its home units first: their verified logs' calls.
        let shared = match home {
            true => None,
            false => {
                let calls = &self.home_calls;
                calls.get(&plan.trail.arn, plan.start, plan.end).await
            }
        };
        let (mut found, unread) = self.history_coverage(plan).await;
        let complete = shared.as_ref().is_some_and(|(_, complete)| *complete);
        found.extend(shared.map(|(v, _)| v).unwrap_or_default());
        let (note, home_unread) = match (home || complete, unread) {
            (_, None) => (None, None),
            // Offline the home chain's own logs are all there is.
            (true, Some(Unread::Offline)) => (None, None),
            (true, Some(why)) => (
                Some(format!(
                    "The trail's configuration calls before the window are not read from event \
                     history ({why}): what it recorded at the window's start is taken as \
                     everything it records now, or everything"
                )),
                None,
            ),
            (false, Some(why)) => (None, Some(why.to_string())),
        };
        (found, note, home_unread)
    }

    /// Asks event history for the trail's configuration calls now, beside
    /// the listing and hashing, so the home chain finds the answer waiting
    /// when it needs it (the calls are paced at 2 per second; asked at the
    /// end they were most of a clean day's wall time).
    pub(crate) async fn prefetch_history(&self, plan: &Plan) {
        if plan.is_home_chain() {
            let _ = self.history_coverage(plan).await;
        }
    }

    /// The trail's configuration calls in its home region's event history,
    /// or why they could not be read.
    async fn history_coverage(&self, plan: &Plan) -> (Vec<CoverageChange>, Option<Unread>) {
        let unread = |why: String| Some(Unread::Because(why));
        let Some(lookup) = self.lookup.as_ref() else {
            return (Vec::new(), Some(Unread::Offline));
        };
        // The calls are in the trail's own account's event history.
        if let Some(why) = self.history_refused(&plan.trail.account).await {
            return (Vec::new(), unread(why));
        }
        // One answer for every chain and slice of the run: the hour bounds it.
        let from = first_full_hour(self.history_from);
        let to = history_to(plan);
        if to <= from {
            let why = "the window is older than event history's 90 days".to_string();
            return (Vec::new(), unread(why));
        }
        match lookup.coverage_changes(&plan.trail, from, to).await {
            None => (
                Vec::new(),
                unread("LookupEvents failed or was denied".into()),
            ),
            // Against event history's edge as it is now: the run's fixed
            // start (the answer's key) ages while the run goes on.
            Some(found)
                if plan.start - Duration::hours(2)
                    < from.max(first_full_hour(super::blind::history_from())) =>
            {
                let why = "event history keeps only the last 90 days of the window".to_string();
                (found, unread(why))
            }
            Some(found) => (found, None),
        }
    }
}

/// The first whole hour event history still holds after `kept`.
fn first_full_hour(kept: crate::verify::time::Timestamp) -> crate::verify::time::Timestamp {
    kept.duration_trunc(Duration::hours(1)).unwrap_or(kept) + Duration::hours(1)
}

/// Where the configuration calls that can change the verdict end. Up to
/// the run when the window ends within two hours of it: a change after the
/// window must be seen as such before what the trail records now is taken
/// for the window's. A window that ended earlier is never compared with
/// what the trail records now, and calls after it cannot change its
/// verdict: the calls end with it (an old window asks event history
/// nothing). The whole window's end, not a slice's: one answer for all.
fn history_to(plan: &Plan) -> crate::verify::time::Timestamp {
    let end = plan.events_window.1.max(plan.end);
    match end + Duration::hours(2) >= plan.now {
        true => end.max(plan.now),
        false => end.duration_round_up(Duration::hours(1)).unwrap_or(end),
    }
}

impl Engine {
    /// A stop is recorded once, in the home chain, and stops every chain:
    /// the home chain gives its verified logs' lifecycle calls to the run
    /// (and returns them for its report), another chain that must explain a
    /// gap takes them. A call in a log that could not be read again is
    /// missing: then nothing is given, and the others explain nothing with
    /// an incomplete list.
    pub(super) async fn share_lifecycle(
        &self,
        plan: &Plan,
        events: &mut Vec<LifecycleEvent>,
        needs_events: bool,
        logs_read: bool,
    ) -> Option<Vec<LifecycleEvent>> {
        if plan.is_home_chain() {
            let own = logs_read.then(|| own_calls(events))?;
            self.home_calls.put_lifecycle(&plan.trail.arn, &own);
            return Some(own);
        }
        if needs_events {
            events.extend(self.home_calls.lifecycle(&plan.trail.arn).await);
        }
        None
    }
}

/// The lifecycle calls the chain's own verified logs hold, in one order
/// whatever order the logs were read in (a shard report carries them).
fn own_calls(events: &[LifecycleEvent]) -> Vec<LifecycleEvent> {
    let own = events.iter().filter(|e| e.source == EventSource::TrailLogs);
    crate::verify::lifecycle::in_one_order(own.cloned().collect())
}
