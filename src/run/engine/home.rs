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
use crate::report::model::HOME_UNREAD;
use crate::verify::selectors::CoverageChange;
use chrono::{Duration, DurationRound};

impl Engine {
    /// The trail's coverage changes this chain's logs cannot hold, and why
    /// some could not be read (a note for the report).
    pub(super) async fn home_coverage(&self, plan: &Plan) -> (Vec<CoverageChange>, Option<String>) {
        let home = plan.is_home_chain();
        // An estate validates its home chain first: its verified logs' calls.
        let verified = match home {
            true => None,
            false => self
                .home_changes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&plan.trail.arn)
                .cloned(),
        };
        let (mut found, note) = self.history_coverage(plan, home).await;
        if let Some(v) = verified {
            found.extend(v);
            // The home chain's verified logs hold every call of the window.
            return (found, None);
        }
        (found, note)
    }

    /// The trail's configuration calls in its home region's event history,
    /// or why they could not be read.
    async fn history_coverage(
        &self,
        plan: &Plan,
        home: bool,
    ) -> (Vec<CoverageChange>, Option<String>) {
        // The home chain's own logs hold the window's changes: only what
        // came before is missed, and that is no finding.
        let unread = |why: String| match home {
            false => Some(format!(
                "{HOME_UNREAD} ({} {}) are not read for this chain: {why}",
                plan.trail.account, plan.trail.region
            )),
            true => Some(format!(
                "The trail's configuration calls before the window are not read from event \
                 history ({why}): what it recorded at the window's start is taken as everything \
                 it records now, or everything"
            )),
        };
        let Some(lookup) = self.lookup.as_ref() else {
            if home {
                // Offline the chain's own logs are all there is: nothing to say.
                return (Vec::new(), None);
            }
            let why = "this run makes no CloudTrail call (offline, or --s3-bucket with \
                       --public-keys)";
            return (Vec::new(), unread(why.to_string()));
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
        // Up to the run, so that a change after the window is seen as such.
        let to = plan.events_window.1.max(plan.end).max(plan.now);
        if to <= from {
            let why = "the window is older than event history's 90 days".to_string();
            return (Vec::new(), unread(why));
        }
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
