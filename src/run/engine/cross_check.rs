//! Phase 7 (live, `--cross-check-events`): the write events CloudTrail's
//! event history holds for the window's proven spans must be in the
//! trail's verified logs. One that is not was never recorded by the trail
//! (its selectors left it out, perhaps since before the window, where no
//! recorded change shows it): evidence that the trail did not see what
//! happened. Such events make coverage not proven, like a narrowing.

use super::Engine;
use crate::plan::Plan;
use crate::verify::model::{BlindSpot, HistoryEvent, Report, SpotKind, Unproven};
use crate::verify::time::Timestamp;
use chrono::Duration;
use std::collections::HashSet;

/// Write events read from event history at most per chain (25 s of
/// LookupEvents pages at its 2 requests per second).
const CROSS_CHECK_CAP: usize = 2500;
/// Events this close to the window's end may be in a log file delivered
/// after it: not checked.
const DELIVERY_MARGIN: Duration = Duration::minutes(30);

impl Engine {
    /// The cross-check's spot, its finding in the report, or nothing
    /// when not asked for.
    pub(super) async fn cross_check(
        &self,
        plan: &Plan,
        report: &mut Report,
        ids: &HashSet<String>,
        ids_complete: bool,
    ) {
        if !plan.cross_check {
            return;
        }
        let start = report.requested_start.max(super::blind::history_from());
        // Up to what the valid digests cover: later log files are not read.
        let covered = report.found.map_or(start, |(_, e)| e);
        let end = report.requested_end.min(covered) - DELIVERY_MARGIN;
        let mut spot = BlindSpot {
            kind: SpotKind::NotRecorded,
            start,
            end,
            why: "write events of proven spans that no verified log file contains".to_string(),
            events: None,
            note: None,
        };
        let mut notes = vec![format!(
            "the last {} minutes the digests cover are not checked (their events may be in \
             later log files)",
            DELIVERY_MARGIN.num_minutes()
        )];
        let asked = match (&self.lookup, self.history_refused(&plan.root.account).await) {
            (None, _) => Err("no CloudTrail access in this run".to_string()),
            (_, Some(why)) => Err(why),
            (Some(_), None) if end <= start => {
                Err("no span the valid digests cover lies within event history's 90 days".into())
            }
            (Some(lookup), None) => lookup
                .write_events(&plan.source_region, start, end, CROSS_CHECK_CAP)
                .await
                .map_err(|e| e.to_string()),
        };
        match asked {
            Err(why) => notes.insert(0, why),
            Ok((events, cut)) => {
                if cut {
                    notes.push(format!("the latest {CROSS_CHECK_CAP} write events only"));
                }
                if !ids_complete {
                    notes.push(
                        "some verified log files could not be read for their event IDs: an \
                         event listed may be in one of them"
                            .to_string(),
                    );
                }
                let missing = not_in_logs(events, ids, report);
                if let Some(line) = finding(&missing) {
                    crate::verify::narrowing::record(report, line, plan.allow_narrowing);
                }
                spot.events = Some(missing);
            }
        }
        spot.note = Some(notes.join("; "));
        report.blind_spots.push(spot);
    }
}

/// The events no verified log holds, outside the spans already known not
/// to be recorded (gaps, narrowed or otherwise untrusted spans: their
/// events are listed with them).
fn not_in_logs(
    events: Vec<HistoryEvent>,
    ids: &HashSet<String>,
    report: &Report,
) -> Vec<HistoryEvent> {
    // An event just before such a span may be in a log file delivered in
    // it, which no valid digest lists.
    let blind = |t: Timestamp| {
        report
            .gaps
            .iter()
            .any(|g| g.start - DELIVERY_MARGIN <= t && t < g.end)
            || report
                .untrusted
                .iter()
                .any(|u| u.start - DELIVERY_MARGIN <= t && t < u.end)
    };
    events
        .into_iter()
        .filter(|e| e.id.as_ref().is_some_and(|id| !ids.contains(id)))
        .filter(|e| !blind(e.time))
        .collect()
}

fn finding(missing: &[HistoryEvent]) -> Option<Unproven> {
    let (first, last) = (missing.first()?, missing.last()?);
    Some(Unproven::NotRecorded {
        first_at: first.time,
        count: missing.len(),
        last_at: last.time,
        first_event: first.name.clone(),
        actor: first.actor.clone(),
    })
}
