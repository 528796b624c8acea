//! A selector or trail change is one API call, recorded once: in the logs
//! of the trail's home region and account, and in that region's event
//! history. A chain of another region (a multi-region trail) or account (an
//! organization trail) recorded less just the same, but its own logs do not
//! say so; and a change made before the window says what the trail
//! recorded at its start (so that the first change in the window can be
//! judged). Live, the home region's event history holds both.

use super::blind::history_from;
use super::Engine;
use crate::plan::Plan;
use crate::verify::selectors::CoverageChange;
use chrono::{Duration, DurationRound};

impl Engine {
    /// The trail's coverage changes this chain's logs cannot hold, and why
    /// some could not be read (a note for the report).
    pub(super) async fn home_coverage(&self, plan: &Plan) -> (Vec<CoverageChange>, Option<String>) {
        let Some(lookup) = self.lookup.as_ref() else {
            return (Vec::new(), None);
        };
        let home =
            plan.root.account == plan.trail.account && plan.source_region == plan.trail.region;
        // The home chain's own logs hold the window's changes: only what
        // came before is missed, and that is no finding.
        let unread = |why: String| {
            (!home).then(|| {
                format!(
                    "Coverage changes recorded in the trail's home region ({} {}) are not read \
                     for this chain: {why}",
                    plan.trail.account, plan.trail.region
                )
            })
        };
        match lookup.caller_account().await {
            Ok(a) if a == plan.trail.account => {}
            Ok(a) => {
                let why = format!(
                    "event history of account {} is not readable with account {a}'s credentials",
                    plan.trail.account
                );
                return (Vec::new(), unread(why));
            }
            Err(why) => {
                let why = format!("the caller's account is unknown ({why})");
                return (Vec::new(), unread(why));
            }
        }
        // One answer for every chain and slice of the run: the hour bounds it.
        let kept = history_from();
        let from = kept.duration_trunc(Duration::hours(1)).unwrap_or(kept) + Duration::hours(1);
        let to = plan.events_window.1.max(plan.end);
        match lookup.coverage_changes(&plan.trail, from, to).await {
            None => (
                Vec::new(),
                unread("LookupEvents failed or was denied".into()),
            ),
            Some(found) if plan.start - Duration::hours(2) < from => {
                let why = "event history keeps only the last 90 days of the window".to_string();
                (found, unread(why))
            }
            Some(found) => (found, None),
        }
    }
}
