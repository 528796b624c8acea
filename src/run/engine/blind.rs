//! Phase 6 (live): what CloudTrail's event history holds for the spans the
//! trail did not record. LookupEvents keeps 90 days of management events
//! of the caller's account and region, independent of any trail, so a gap
//! or a narrowed span need not be a blank: its write events say what was
//! done while nothing was watching.

use super::Engine;
use crate::plan::Plan;
use crate::report::model::{BlindSpot, Report};
use crate::verify::time::Timestamp;
use chrono::Duration;

/// Events listed per span at most (the rest are counted as cut).
const EVENTS_PER_SPAN: usize = 200;
/// How far back event history reaches.
const HISTORY_DAYS: i64 = 90;

impl Engine {
    /// The blind spots of a chain's report, each with event history's
    /// write events where it can be asked.
    pub(super) async fn blind_spots(&self, plan: &Plan, report: &Report) -> Vec<BlindSpot> {
        let Some(lookup) = &self.lookup else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (start, end, why) in spans(report) {
            let mut spot = BlindSpot {
                start,
                end,
                why,
                events: None,
                note: None,
            };
            if plan.root.account != plan.trail.account {
                spot.note = Some(format!(
                    "event history of account {} is not readable with this run's credentials",
                    plan.root.account
                ));
            } else if end < plan.now - Duration::days(HISTORY_DAYS) {
                spot.note = Some(format!(
                    "older than event history's {HISTORY_DAYS} days: what happened is not known"
                ));
            } else {
                let from = start.max(plan.now - Duration::days(HISTORY_DAYS));
                let asked = lookup
                    .write_events(&plan.source_region, from, end, EVENTS_PER_SPAN)
                    .await;
                match asked {
                    Ok((events, cut)) => {
                        if cut {
                            spot.note = Some(format!("the first {EVENTS_PER_SPAN} events only"));
                        }
                        spot.events = Some(events);
                    }
                    Err(why) => spot.note = Some(format!("LookupEvents: {why}")),
                }
            }
            out.push(spot);
        }
        out
    }
}

/// The spans the trail did not record: its standard chain's gaps and the
/// spans its coverage was narrowed in.
fn spans(report: &Report) -> Vec<(Timestamp, Timestamp, String)> {
    let mut out: Vec<(Timestamp, Timestamp, String)> = report
        .gaps
        .iter()
        .filter(|g| !g.backfill)
        .map(|g| {
            let why = match (&g.cause, g.explained) {
                (Some(c), true) => c.replace('_', " "),
                _ => "a gap no record explains".to_string(),
            };
            (g.start, g.end, why)
        })
        .collect();
    out.extend(
        report
            .untrusted
            .iter()
            .filter(|u| u.reasons.contains(&"coverage_narrowed"))
            .map(|u| (u.start, u.end, "coverage narrowed".to_string())),
    );
    out.retain(|(a, b, _)| a < b);
    out.sort();
    out.dedup();
    out
}
