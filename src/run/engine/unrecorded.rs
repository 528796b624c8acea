//! Phases 5 to 7: what the trail did not record. The coverage changes of
//! its verified logs (and, live, of its home region's event history) mark
//! the spans it recorded less in; event history lists what happened in
//! every blind spot; on request, event history's writes are checked
//! against the verified logs. Only ever makes a verdict stricter.

use super::logs::Records;
use super::Engine;
use crate::plan::Plan;
use crate::verify::model::{Report, Unproven};
use crate::verify::narrowing::{mark, record, Reference};
use chrono::Duration;

impl Engine {
    pub(super) async fn what_was_not_recorded(
        &self,
        plan: &Plan,
        report: &mut Report,
        records: Records,
    ) {
        let mut coverage = records.coverage;
        if plan.is_home_chain() {
            let complete = records.unread == 0;
            let window = (plan.start, plan.end);
            self.home_calls
                .put(&plan.trail.arn, window, &coverage, complete);
            report.coverage_changes = complete.then(|| coverage.clone());
        }
        let (from_home, home_note, home_unread) = self.home_coverage(plan).await;
        report.home_calls_unread = home_unread;
        coverage.extend(from_home);
        report.notes.extend(home_note);
        let reference = Reference {
            expected: plan.expected_coverage.as_ref(),
            // What the trail records now says what it recorded at the
            // window's start only if no change could fall after the window
            // (a nightly window ends at most this close to the run).
            now: plan
                .coverage_now
                .as_ref()
                .filter(|_| plan.end + Duration::hours(2) >= plan.now),
        };
        let narrowed = mark(report, &coverage, &reference, plan.allow_narrowing);
        report.blind_spots = self.blind_spots(plan, report, &narrowed).await;
        let logged = records.event_ids.into_iter().collect();
        self.cross_check(plan, report, &logged, records.ids_complete)
            .await;
        // Only the trail's home chain holds its configuration calls.
        if records.unread > 0 && plan.is_home_chain() {
            let unread = Unproven::CallsUnread {
                files: records.unread,
            };
            record(report, unread, plan.allow_narrowing);
        }
    }
}
