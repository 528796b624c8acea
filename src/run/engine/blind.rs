//! Phase 6 (live): what CloudTrail's event history holds for the spans the
//! trail did not record. LookupEvents keeps 90 days of management events
//! of the caller's account and region, independent of any trail, so a gap
//! or a narrowed span need not be a blank: its write events say what was
//! done while nothing was watching. Nothing here changes a verdict.

use super::Engine;
use crate::plan::Plan;
use crate::verify::model::{BlindSpot, Report, SpotKind};
use crate::verify::narrowing::Narrowed;
use crate::verify::time::{display, Timestamp};
use chrono::Duration;

/// Events listed per span at most (event history answers newest first).
const EVENTS_PER_SPAN: usize = 200;
/// How far back event history reaches (less a margin for a long run).
const HISTORY: Duration = Duration::days(90);
/// Spans asked per chain at most; the rest say so.
const SPANS_ASKED: usize = 20;

impl Engine {
    /// The blind spots of a chain's report, each with event history's
    /// write events where it can be asked.
    pub(super) async fn blind_spots(
        &self,
        plan: &Plan,
        report: &Report,
        narrowed: &[Narrowed],
    ) -> Vec<BlindSpot> {
        let Some(lookup) = &self.lookup else {
            // Offline: what event history answered when the copy was
            // acquired, for the spans of this window.
            let (from, to) = (report.requested_start, report.requested_end);
            return plan
                .recorded_spots
                .iter()
                .filter(|s| s.start < to && s.end > from)
                .cloned()
                .collect();
        };
        let spans = spans(report, narrowed);
        if spans.is_empty() {
            return Vec::new();
        }
        let refused = self.history_refused(&plan.root.account).await;
        let kept_from = history_from();
        let mut out = Vec::new();
        for (i, (start, end, why)) in spans.into_iter().enumerate() {
            let mut spot = BlindSpot {
                kind: SpotKind::BlindSpot,
                start,
                end,
                why,
                events: None,
                note: None,
            };
            spot.note = match &refused {
                _ if i >= SPANS_ASKED => Some(format!("not asked: {SPANS_ASKED} spans per chain")),
                _ if end <= kept_from => Some(
                    "older than event history's 90 days: what happened is not known".to_string(),
                ),
                Some(why) => Some(why.clone()),
                _ => None,
            };
            if spot.note.is_none() {
                let from = start.max(kept_from);
                let asked = lookup
                    .write_events(&plan.source_region, from, end, EVENTS_PER_SPAN)
                    .await;
                let mut notes = Vec::new();
                if from > start {
                    notes.push(format!(
                        "event history keeps nothing before {}",
                        display(from)
                    ));
                }
                match asked {
                    Ok((events, cut)) => {
                        if cut {
                            notes.push(format!("the latest {EVENTS_PER_SPAN} events only"));
                        }
                        spot.events = Some(events);
                    }
                    Err(why) => notes.push(format!("LookupEvents: {why}")),
                }
                spot.note = (!notes.is_empty()).then(|| notes.join("; "));
            }
            out.push(spot);
        }
        out
    }
}

/// The oldest instant event history still holds (less a margin for a
/// long run).
pub(super) fn history_from() -> Timestamp {
    chrono::Utc::now() - HISTORY + Duration::hours(1)
}

impl Engine {
    /// Why `account`'s event history cannot be read, if it cannot. It is
    /// the caller's account's: another account's chain would be shown
    /// someone else's events.
    pub(super) async fn history_refused(&self, account: &str) -> Option<String> {
        let lookup = self.lookup.as_ref()?;
        match lookup.caller_account().await {
            Err(why) => Some(format!("the caller's account is unknown ({why})")),
            Ok(a) if a != account => Some(format!(
                "event history of account {account} is not readable with account {a}'s \
                 credentials"
            )),
            Ok(_) => None,
        }
    }
}

/// The spans the trail did not record: its standard chain's gaps and the
/// spans its coverage was narrowed in, overlapping ones joined.
fn spans(report: &Report, narrowed: &[Narrowed]) -> Vec<(Timestamp, Timestamp, String)> {
    let mut all: Vec<(Timestamp, Timestamp, String)> = report
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
        .chain(
            narrowed
                .iter()
                .map(|n| (n.start, n.end, "coverage narrowed".to_string())),
        )
        .filter(|(a, b, _)| a < b)
        .collect();
    all.sort();
    let mut out: Vec<(Timestamp, Timestamp, String)> = Vec::new();
    for (a, b, why) in all {
        match out.last_mut() {
            Some(last) if a <= last.1 => {
                last.1 = last.1.max(b);
                if !last.2.contains(&why) {
                    last.2 = format!("{}; {why}", last.2);
                }
            }
            _ => out.push((a, b, why)),
        }
    }
    out
}
