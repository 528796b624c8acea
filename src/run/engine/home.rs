//! A selector or trail change is one API call, recorded once: in the logs
//! of the trail's home region and account. A chain of another region (a
//! multi-region trail) or account (an organization trail) recorded less
//! just the same, but its own logs do not say so; live, the home region's
//! event history does. Only ever adds narrowing, never removes it.

use super::blind::history_from;
use super::Engine;
use crate::plan::Plan;
use crate::verify::selectors::CoverageChange;
use chrono::Duration;

impl Engine {
    /// The trail's coverage changes this chain's logs cannot hold, and why
    /// some could not be read (a note for the report).
    pub(super) async fn home_coverage(&self, plan: &Plan) -> (Vec<CoverageChange>, Option<String>) {
        let home =
            plan.root.account == plan.trail.account && plan.source_region == plan.trail.region;
        let Some(lookup) = self.lookup.as_ref().filter(|_| !home) else {
            return (Vec::new(), None);
        };
        let unread = |why: String| {
            format!(
                "Coverage changes recorded in the trail's home region ({} {}) are not read for \
                 this chain: {why}",
                plan.trail.account, plan.trail.region
            )
        };
        match lookup.caller_account().await {
            Ok(a) if a == plan.trail.account => {}
            Ok(a) => {
                let why = format!(
                    "event history of account {} is not readable with account {a}'s credentials",
                    plan.trail.account
                );
                return (Vec::new(), Some(unread(why)));
            }
            Err(why) => {
                let why = format!("the caller's account is unknown ({why})");
                return (Vec::new(), Some(unread(why)));
            }
        }
        let from = plan.events_window.0.min(plan.start) - Duration::hours(2);
        let to = plan.events_window.1.max(plan.end);
        match lookup.coverage_changes(&plan.trail, from, to).await {
            None => (
                Vec::new(),
                Some(unread("LookupEvents failed or was denied".into())),
            ),
            Some(found) if from < history_from() => {
                let why = "event history keeps only the last 90 days of the window".to_string();
                (found, Some(unread(why)))
            }
            Some(found) => (found, None),
        }
    }
}
