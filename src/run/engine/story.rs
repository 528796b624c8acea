//! Phase 8: the bucket-side story. The calls on the trail's bucket, key
//! and trail that its verified logs hold, and, where the run found
//! tampering, what the home region's event history holds of the last 90
//! days (the change that made deletion possible may predate the window):
//! who weakened what keeps the evidence, and when.

use super::logs::{scope_of, LogBook};
use super::Engine;
use crate::plan::Plan;
use crate::verify::bucket_calls::{in_one_order, BucketCall};
use crate::verify::model::Report;
use chrono::Duration;

/// How far back CloudTrail's event history reaches.
const HISTORY_DAYS: i64 = 90;

impl Engine {
    /// The story's calls, oldest first, and how many were left out.
    pub(super) async fn bucket_story(
        &self,
        plan: &Plan,
        book: &LogBook,
        mut calls: Vec<BucketCall>,
        report: &mut Report,
    ) {
        // An intact trail's nightly run asks event history nothing more.
        let wanted = report.tampered() || report.recovery.is_some();
        if let (Some(lookup), true) = (&self.lookup, wanted) {
            let scope = scope_of(plan, book);
            let from = plan.now - Duration::days(HISTORY_DAYS);
            let (found, complete) = lookup.bucket_calls(&scope, from, plan.now).await;
            calls.extend(found);
            if !complete {
                report.notes.push(
                    "Event history's calls on the trail's bucket were not all read (a call \
                     failed, or more pages than read): the calls shown from it are the latest"
                        .to_string(),
                );
            }
        }
        let (calls, left_out) = in_one_order(calls);
        report.bucket_calls = calls;
        report.bucket_calls_left_out = left_out;
    }
}
