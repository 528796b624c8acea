//! The proof of the window: does every instant of [start, end] lie under a
//! verified digest or under a gap CloudTrail itself explains? Closes the
//! chain's edges (the tail after the newest digest, the head before the
//! oldest), explains gaps from lifecycle records, turns "the stop came later
//! than the gap" into deleted digests, and lists the untrusted spans. Pure:
//! works on the chain outcome the engine already has.

use crate::verify::chain::{ChainOutcome, Node, MAX_INFERRED};
use crate::verify::layout::DigestSeries;
use crate::verify::lifecycle::{
    explain, explain_until, Explanation, Lifecycle, LifecycleEvent, SLACK,
};
use crate::verify::model::{Gap, GapKind, Reason, Status, Unproven, Untrusted};
use crate::verify::time::{display, Timestamp};
use chrono::Duration;

/// Default delivery grace: how long after a digest's window closes it may
/// still be on its way. CloudTrail delivers digests within minutes of the
/// hour; an hour of margin means normal delay never alarms.
pub(crate) const DEFAULT_GRACE_MINUTES: i64 = 60;

/// What CloudTrail's GetTrailStatus (and DescribeTrails) say about the trail
/// now, in live mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailStatus {
    pub is_logging: bool,
    pub validation_enabled: bool,
    /// The trail delivers digests for this chain's region (home region, or
    /// a multi-region trail).
    pub covers_region: bool,
    pub start_logging: Option<Timestamp>,
    pub latest_digest_delivery: Option<Timestamp>,
    /// LatestDeliveryError and LatestDigestDeliveryError, when CloudTrail
    /// says its last delivery of logs or digests failed.
    pub delivery_errors: Vec<String>,
}

/// The requested window and what is known about "now".
#[derive(Debug, Clone)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub now: Timestamp,
    pub grace: Duration,
    pub status: Option<TrailStatus>,
    /// The bucket inferred digests are named in when no digest is known.
    pub bucket: String,
    /// Every lifecycle record source answered in full.
    pub events_complete: bool,
    /// The digest listing reached a later digest or its folder's end: "no
    /// later digest" is known, not assumed because a bound ran out.
    pub listing_complete: bool,
    /// A record source beyond the trail's own logs (GetTrailStatus,
    /// LookupEvents, `--gap-events`, an acquired directory's authenticated
    /// records) could show a restart after a stop. Without one, a window
    /// that ends while stopped cannot tell "stayed stopped" from "restarted,
    /// then everything after deleted".
    pub restart_visible: bool,
}

/// What closing the window decided, beyond the gaps and inferred digests
/// written into the chain outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Closure {
    /// Spans whose digests are simply not due yet (newest hour): log files
    /// there cannot be verified yet and do not fail the run.
    pub pending: Option<(Timestamp, Timestamp)>,
    /// Why coverage is unproven without a gap to show it.
    pub unproven: Vec<Unproven>,
    /// The chain's log folder holds logs, its digest folder does not exist:
    /// its log files lack a digest rather than escaped one.
    pub no_digest_folder: bool,
}

/// Closes the standard chain's window. `nodes` are the chain's input nodes;
/// `events` every lifecycle record known (trail logs, LookupEvents, file).
pub(crate) fn close_window(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    w: &Window,
    events: &[LifecycleEvent],
) -> Closure {
    let mut closure = Closure::default();
    explain_restarts(nodes, out, series, events);
    resort(nodes, out);
    // An archived digest says nothing of when the chain goes on (its name
    // could be anyone's): the tail is judged from the newest other one.
    let newest = out
        .order
        .iter()
        .map(|&i| out.node(nodes, i))
        .find(|n| !n.archived())
        .cloned();
    match newest {
        None => close_empty(nodes, out, series, w, events, &mut closure),
        Some(newest) => {
            close_tail(nodes, out, series, w, events, &newest, &mut closure);
            resort(nodes, out);
            close_head(nodes, out, series, w, events);
        }
    }
    resort(nodes, out);
    closure
}

/// Explains each chain restart; a stop recorded later than the gap's start
/// means the digests in between were deleted.
fn explain_restarts(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    events: &[LifecycleEvent],
) {
    let mut additions: Vec<(String, Timestamp, Timestamp)> = Vec::new();
    for (at, gap) in out.gaps.iter_mut() {
        if gap.backfill {
            continue;
        }
        let bucket = nodes.get(*at).map(|n| n.bucket.clone()).unwrap_or_default();
        // A newer side that AWS signed as a new start (no previous digest)
        // is a restart wherever in its period the StartLogging falls.
        let signed_start_end = nodes
            .get(*at)
            .and_then(Node::verified)
            .filter(|v| v.digest.previous.is_none())
            .map(|v| v.digest.end);
        match explain_until(gap.start, Some(gap.end), signed_start_end, events) {
            Explanation::Explained { stop, restart } => {
                mark_explained(gap, &stop, restart.as_ref());
            }
            Explanation::StopLater { stop, restart } => {
                additions.push((bucket, gap.start, stop.time));
                gap.start = stop.time;
                mark_explained(gap, &stop, restart.as_ref());
            }
            Explanation::Unexplained => {}
        }
    }
    for (bucket, from, stop) in additions {
        infer_hourly(
            nodes.len(),
            out,
            &bucket,
            series,
            from,
            stop,
            &deleted_before_stop(stop),
        );
    }
}

fn deleted_before_stop(stop: Timestamp) -> String {
    format!(
        "inferred: logging or validation was stopped only at {} (CloudTrail's own record), so \
         CloudTrail delivered this digest; it was deleted (the key follows the hourly schedule)",
        display(stop)
    )
}

fn mark_explained(gap: &mut Gap, stop: &LifecycleEvent, restart: Option<&LifecycleEvent>) {
    gap.explained = true;
    gap.cause = Some(stop.kind.as_str().to_string());
    let mut ev = said(stop);
    if let Some(r) = restart {
        ev.push_str("; ");
        ev.push_str(&said(r));
    }
    gap.evidence = Some(ev);
    gap.by = [Some(stop), restart]
        .into_iter()
        .flatten()
        .filter_map(|e| e.who.clone())
        .collect();
}

/// A merged shard's chain: its unexplained gaps between two digests (a
/// chain restart AWS signed) explained by the home chain's calls, as the
/// engine explains them, and their untrusted spans with them; a tail gap
/// only where the home chain's own stopped tail was explained (its run
/// judged whether the trail stayed stopped). A head gap keeps its verdict.
pub(crate) fn explain_with_home_calls(
    report: &mut crate::verify::model::Report,
    calls: &[LifecycleEvent],
    stopped_to_the_end: bool,
) {
    let home = crate::verify::lifecycle::from_home_chain(calls);
    let digests = &report.digests;
    for gap in report.gaps.iter_mut() {
        let tail = gap.kind == GapKind::NoLaterDigest && stopped_to_the_end;
        if gap.explained || gap.backfill || !(gap.kind == GapKind::ChainRestart || tail) {
            continue;
        }
        // The newer side, when AWS signed it as a new start.
        let signed_start_end = digests
            .iter()
            .find(|d| d.status == Status::Valid && d.start == Some(gap.end) && !d.backfill)
            .filter(|d| d.previous.is_none())
            .and_then(|d| d.end);
        let end = (!tail).then_some(gap.end);
        if let Explanation::Explained { stop, restart } =
            explain_until(gap.start, end, signed_start_end, &home)
        {
            mark_explained(gap, &stop, restart.as_ref());
        }
    }
    now_explained(report);
}

/// After a merge explained gaps: the log files delivered while validation
/// was off lack a digest rather than escaped one (as in one run), and an
/// untrusted span that no unexplained gap touches any more is explained.
fn now_explained(report: &mut crate::verify::model::Report) {
    use crate::verify::coverage::{delivers_without_digests, while_no_digests};
    for l in report.logs.iter_mut() {
        let unreferenced = l
            .finding
            .as_ref()
            .is_some_and(|f| f.problem == crate::verify::model::Problem::Unreferenced);
        let at = crate::verify::layout::parse_log_key(&l.key).map(|k| k.time);
        let off = report
            .gaps
            .iter()
            .find(|g| delivers_without_digests(g) && at.is_some_and(|t| t >= g.start && t < g.end));
        if let (true, Some(g)) = (unreferenced, off) {
            l.finding = Some(while_no_digests(g));
        }
    }
    let gaps = &report.gaps;
    for u in report.untrusted.iter_mut() {
        let open = gaps
            .iter()
            .any(|g| g.unexplained() && g.start < u.end && g.end > u.start);
        if !open && u.reasons.contains(&Reason::UnexplainedGap) {
            u.reasons.retain(|r| *r != Reason::UnexplainedGap);
            if !u.reasons.contains(&Reason::ExplainedGap) {
                u.reasons.push(Reason::ExplainedGap);
            }
            u.reasons.sort();
        }
    }
}

/// `logging_stopped by arn:... from 10.0.0.1 at T (where the record is)`.
fn said(e: &LifecycleEvent) -> String {
    let mut s = e.kind.as_str().to_string();
    if let Some(a) = &e.actor {
        s.push_str(&format!(" by {a}"));
    }
    if let Some(ip) = &e.source_ip {
        s.push_str(&format!(" from {ip}"));
    }
    format!("{s} at {} ({})", display(e.time), source_name(e))
}

fn source_name(e: &LifecycleEvent) -> &'static str {
    use crate::verify::lifecycle::EventSource;
    match e.source {
        EventSource::TrailLogs => "recorded in the trail's verified log files",
        EventSource::HomeChainLogs => {
            "recorded in the verified log files of the trail's home account and region"
        }
        EventSource::LookupEvents => "LookupEvents",
        EventSource::EventsFile => "a lookup-events file given to the run",
    }
}

/// One inferred `not_found` digest per schedule slot in (from, until],
/// at most [`MAX_INFERRED`]; returns how many.
fn infer_hourly(
    input_len: usize,
    out: &mut ChainOutcome,
    bucket: &str,
    series: &DigestSeries,
    from: Timestamp,
    until: Timestamp,
    detail: &str,
) -> usize {
    let mut n = 0;
    let mut end = from + out.interval;
    while end < until + out.interval && n < MAX_INFERRED as usize {
        out.push_inferred(input_len, bucket, series, end, detail.to_string());
        end += out.interval;
        n += 1;
    }
    n
}

/// One inferred `not_found` digest ending at `from`, and one every
/// interval before it, while the end is after `down_to`; at most
/// [`MAX_INFERRED`]. Returns the end of the slot it stopped at.
fn infer_back(
    input_len: usize,
    out: &mut ChainOutcome,
    bucket: &str,
    series: &DigestSeries,
    from: Timestamp,
    down_to: Timestamp,
    detail: &str,
) -> Timestamp {
    let mut e = from;
    let mut n = 0;
    while e > down_to && n < MAX_INFERRED {
        out.push_inferred(input_len, bucket, series, e, detail.to_string());
        e -= out.interval;
        n += 1;
    }
    e
}

/// After the newest digest: covered, pending, proven deleted, explained or
/// unexplained.
fn close_tail(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    w: &Window,
    events: &[LifecycleEvent],
    newest: &Node,
    closure: &mut Closure,
) {
    let Some(last) = newest.end() else { return };
    if last >= w.end {
        return;
    }
    let cut = w
        .status
        .as_ref()
        .filter(|s| delivered_since(s, last, out.interval));
    if cut.is_none() && w.now < last + out.interval + w.grace {
        closure.pending = Some((last, w.end));
        return;
    }
    let mut gap = Gap::new(last, w.end, false, GapKind::NoLaterDigest);
    if let Some(s) = cut {
        // CloudTrail delivered digests after the newest one here: they were
        // deleted. A restart since then leaves the stopped span to explain.
        let from = s.start_logging.filter(|t| *t > last).unwrap_or(last);
        let n = infer_delivered(nodes.len(), out, &newest.bucket, series, from, s, w);
        stopped_then_deleted(out, last, from, n, n == MAX_INFERRED as usize, w, events);
        return;
    }
    // A restart record lost on the way (LookupEvents failed, a log could not
    // be re-read), or a listing cut short by its bound, could make a stopped
    // tail look final: explain nothing then.
    if !w.listing_complete {
        closure.unproven.push(Unproven::ListingBound);
    }
    if w.events_complete && w.listing_complete {
        if let Some(r) = restarted_since(last, events, w, out.interval) {
            // The trail stopped, then logged again: CloudTrail has delivered
            // a digest every hour since the restart, and none is here.
            let detail = format!(
                "inferred: logging restarted at {}, and CloudTrail delivers a digest every hour \
                 since; none of them is here",
                display(r)
            );
            let n = infer_hourly(nodes.len(), out, &newest.bucket, series, r, w.end, &detail);
            stopped_then_deleted(out, last, r, n, true, w, events);
            return;
        }
        match explain(last, None, events) {
            Explanation::Explained { stop, .. } => stopped_to_the_end(&mut gap, &stop, w, closure),
            Explanation::StopLater { stop, .. } => {
                infer_hourly(
                    nodes.len(),
                    out,
                    &newest.bucket,
                    series,
                    last,
                    stop.time,
                    &deleted_before_stop(stop.time),
                );
                gap.start = stop.time;
                stopped_to_the_end(&mut gap, &stop, w, closure);
            }
            Explanation::Unexplained => {}
        }
    }
    out.gaps.push((usize::MAX, gap));
}

/// A stop with nothing after it explains the window's end only where a
/// source that would show a restart was asked; otherwise not proven.
fn stopped_to_the_end(gap: &mut Gap, stop: &LifecycleEvent, w: &Window, closure: &mut Closure) {
    // CloudTrail's status: logging again since a time before the window's
    // end (or since an unknown time) contradicts "stayed stopped".
    // (Only a stopped logging has a start time to read; validation turned
    // off has none, and its records say the rest.)
    let restarted = w.status.as_ref().is_some_and(|s| {
        let since = s.start_logging.filter(|t| *t > stop.time);
        stop.kind == Lifecycle::LoggingStopped && s.is_logging && since.is_none_or(|t| t < w.end)
    });
    if restarted {
        closure.unproven.push(Unproven::RestartedBeforeTheEnd);
    } else if w.restart_visible {
        mark_explained(gap, stop, None);
    } else {
        closure.unproven.push(Unproven::StoppedToTheEnd);
    }
}

/// After `last` the trail was stopped until `from` (explained when the
/// records say so), then `n` delivered digests were inferred missing; a
/// span past them (when `rest_is_gap`) is a gap of its own.
fn stopped_then_deleted(
    out: &mut ChainOutcome,
    last: Timestamp,
    from: Timestamp,
    n: usize,
    rest_is_gap: bool,
    w: &Window,
    events: &[LifecycleEvent],
) {
    if from > last {
        let mut stopped = Gap::new(last, from, false, GapKind::ChainRestart);
        if let Explanation::Explained { stop, restart } = explain(last, Some(from), events) {
            mark_explained(&mut stopped, &stop, restart.as_ref());
        }
        out.gaps.push((usize::MAX, stopped));
    }
    let covered = from + out.interval * n as i32;
    if rest_is_gap && covered < w.end {
        let rest = Gap::new(covered, w.end, false, GapKind::NoLaterDigest);
        out.gaps.push((usize::MAX, rest));
    }
}

/// A restart recorded after the stop that explains a tail from `last`,
/// long enough ago that the new chain's first digest is due.
fn restarted_since(
    last: Timestamp,
    events: &[LifecycleEvent],
    w: &Window,
    interval: Duration,
) -> Option<Timestamp> {
    // With CloudTrail's status at hand, the tail's deliveries are known.
    if w.status.is_some() {
        return None;
    }
    let stop = events
        .iter()
        .filter(|e| e.kind.is_stop())
        .filter(|e| e.time > last - Duration::hours(1) - SLACK && e.time <= last + SLACK)
        .max_by_key(|e| e.time)?;
    // Only the call that undoes this stop restarts digests (validation
    // turned on does not restart a stopped trail's logging).
    let undoes = match stop.kind {
        Lifecycle::LoggingStopped => Lifecycle::LoggingStarted,
        Lifecycle::ValidationDisabled => Lifecycle::ValidationEnabled,
        _ => Lifecycle::TrailCreated,
    };
    let r = events
        .iter()
        .filter(|e| e.kind == undoes && e.time > stop.time && e.time < w.end)
        .min_by_key(|e| e.time)?;
    (r.time + interval + w.grace <= w.now).then_some(r.time)
}

/// CloudTrail delivered a digest of this chain after `last`: the next digest
/// ends an interval after it and cannot be delivered earlier.
fn delivered_since(s: &TrailStatus, last: Timestamp, interval: Duration) -> bool {
    s.covers_region
        && s.validation_enabled
        && s.latest_digest_delivery
            .is_some_and(|d| d > last + interval - SLACK)
}

/// One `not_found` per hourly slot after `from` that CloudTrail delivered
/// (up to its last delivery, or due since while it is still logging) and
/// that overlaps the window; at most [`MAX_INFERRED`].
fn infer_delivered(
    input_len: usize,
    out: &mut ChainOutcome,
    bucket: &str,
    series: &DigestSeries,
    from: Timestamp,
    s: &TrailStatus,
    w: &Window,
) -> usize {
    let detail = format!(
        "inferred: CloudTrail reports digest deliveries until {} (logging since {}), so it \
         delivered a digest every hour after {}; this one is gone (the key follows the hourly \
         schedule)",
        s.latest_digest_delivery
            .map(display)
            .unwrap_or_else(|| "unknown".into()),
        s.start_logging
            .map(display)
            .unwrap_or_else(|| "unknown".into()),
        display(from)
    );
    let delivered = |e: Timestamp| {
        s.latest_digest_delivery.is_some_and(|d| e <= d + SLACK)
            || (s.is_logging && e + w.grace <= w.now)
    };
    let mut n = 0usize;
    let mut e = from + out.interval;
    while delivered(e) && e - out.interval < w.end && n < MAX_INFERRED as usize {
        out.push_inferred(input_len, bucket, series, e, detail.clone());
        e += out.interval;
        n += 1;
    }
    n
}

fn restart_after(
    events: &[LifecycleEvent],
    after: Timestamp,
    before: Timestamp,
) -> Option<LifecycleEvent> {
    events
        .iter()
        .filter(|e| !e.kind.is_stop() && e.time > after && e.time < before)
        .min_by_key(|e| e.time)
        .cloned()
}

/// Before the oldest digest: a chain start after the requested start is a
/// gap to explain; a missing oldest digest means older ones are missing too.
fn close_head(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    w: &Window,
    events: &[LifecycleEvent],
) {
    let Some(&oldest_idx) = out.order.last() else {
        return;
    };
    let oldest = out.node(nodes, oldest_idx).clone();
    match oldest.verified() {
        Some(v) if v.digest.start <= w.start => {}
        Some(v) if v.digest.previous.is_none() => {
            let mut gap = Gap::new(w.start, v.digest.start, false, GapKind::BeforeFirstDigest);
            // A record lost on the way (LookupEvents denied) could be the
            // restart and stop of a deleted stretch: the head stays
            // unexplained then, as the report's note says.
            if w.events_complete {
                explain_head(
                    nodes.len(),
                    out,
                    series,
                    &oldest.bucket,
                    &mut gap,
                    v.digest.end,
                    w,
                    events,
                );
            }
            out.gaps.push((oldest_idx, gap));
        }
        // A verified digest with a predecessor was followed back by the walk:
        // the predecessor is in `nodes` unless it lies before the window.
        Some(_) => {}
        None => {
            let Some(end) = oldest.end() else { return };
            let first_missing_start = end - out.interval;
            if first_missing_start > w.start {
                let detail = "inferred: the chain continues before a missing digest, and no \
                              digest covers this hour (the key follows the hourly schedule)";
                let (input_len, bucket) = (nodes.len(), &oldest.bucket);
                let e = infer_back(
                    input_len,
                    out,
                    bucket,
                    series,
                    first_missing_start,
                    w.start,
                    detail,
                );
                if e > w.start {
                    out.gaps.push((
                        oldest_idx,
                        Gap::new(w.start, e, false, GapKind::BeforeFirstDigest),
                    ));
                }
            }
        }
    }
}

/// The span before a chain start is explained by a stop at or before the
/// window's start and a restart, or by the trail's creation inside it; a
/// stop inside the window means the digests from the window's start (or the
/// trail's creation) to the stop were deleted.
#[allow(clippy::too_many_arguments)]
fn explain_head(
    input_len: usize,
    out: &mut ChainOutcome,
    series: &DigestSeries,
    bucket: &str,
    gap: &mut Gap,
    first_end: Timestamp,
    w: &Window,
    events: &[LifecycleEvent],
) {
    let first = gap.end;
    let latest = |pred: &dyn Fn(&LifecycleEvent) -> bool| {
        events
            .iter()
            .filter(|e| e.time <= first + SLACK && pred(e))
            .max_by_key(|e| e.time)
            .cloned()
    };
    let stop = latest(&|e| e.kind.is_stop());
    let after_stop = |e: &LifecycleEvent| stop.as_ref().is_none_or(|s| e.time >= s.time);
    // The first digest is a new start AWS signed: its StartLogging may lie
    // anywhere in its period.
    let restart = events
        .iter()
        .filter(|e| e.time <= first_end.max(first) + SLACK)
        .filter(|e| !e.kind.is_stop() && e.time + SLACK >= w.start && after_stop(e))
        .max_by_key(|e| e.time)
        .cloned();
    let Some(restart) = restart else { return };
    match stop {
        Some(stop) if stop.time > w.start + SLACK => {
            // Logged from the window's start (or the trail's creation) to the stop.
            let since = latest(&|e| e.kind == Lifecycle::TrailCreated && e.time <= stop.time)
                .map_or(w.start, |c| c.time.max(w.start));
            let detail = deleted_before_stop(stop.time);
            infer_back(input_len, out, bucket, series, stop.time, since, &detail);
            gap.start = stop.time;
            mark_explained(gap, &stop, Some(&restart));
        }
        Some(stop) => mark_explained(gap, &stop, Some(&restart)),
        None => {
            let created =
                latest(&|e| e.kind == Lifecycle::TrailCreated && e.time + SLACK >= w.start);
            if let Some(c) = created {
                gap.explained = true;
                gap.cause = Some(c.kind.as_str().to_string());
                gap.evidence = Some(said(&c));
            }
        }
    }
}

/// No digest of the chain anywhere near the window.
fn close_empty(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    w: &Window,
    events: &[LifecycleEvent],
    closure: &mut Closure,
) {
    let cut = w
        .status
        .as_ref()
        .filter(|s| delivered_since(s, w.start, out.interval));
    if let Some(s) = cut {
        // CloudTrail delivered digests of the window: every one is gone.
        let from = s.start_logging.filter(|t| *t > w.start).unwrap_or(w.start);
        if from > w.start {
            out.gaps.push((
                usize::MAX,
                Gap::new(w.start, from, false, GapKind::BeforeFirstDigest),
            ));
        }
        if infer_delivered(nodes.len(), out, &w.bucket, series, from, s, w) > 0 {
            return;
        }
    }
    if w.now < w.start + out.interval + w.grace {
        closure.pending = Some((w.start, w.end));
        return;
    }
    let mut gap = Gap::new(w.start, w.end, false, GapKind::NoLaterDigest);
    let stop = events
        .iter()
        .filter(|e| e.kind.is_stop() && e.time <= w.start + SLACK)
        .max_by_key(|e| e.time);
    if !w.listing_complete {
        closure.unproven.push(Unproven::ListingBound);
    }
    let mut stopped = false;
    if let Some(stop) = stop.filter(|_| w.events_complete && w.listing_complete) {
        if restart_after(events, stop.time, w.end).is_none() {
            stopped_to_the_end(&mut gap, stop, w, closure);
            stopped = true;
        }
    }
    if !gap.explained && !stopped {
        closure.unproven.push(Unproven::NoDigestInWindow);
    }
    out.gaps.push((usize::MAX, gap));
}

/// Newest first again after inferred digests were added.
fn resort(nodes: &[Node], out: &mut ChainOutcome) {
    let ends: Vec<Option<Timestamp>> = (0..nodes.len() + out.inferred.len())
        .map(|i| out.node(nodes, i).end())
        .collect();
    out.order.sort_by(|&a, &b| ends[b].cmp(&ends[a]));
}

/// The spans of [start, end] whose events cannot be trusted.
pub(crate) fn untrusted_spans(
    digests: &[(Status, Option<Timestamp>, Option<Timestamp>, Reason)],
    gaps: &[Gap],
    invalid_logs: &[(Timestamp, Timestamp)],
    pending: Option<(Timestamp, Timestamp)>,
    interval: Duration,
    w: &Window,
) -> Vec<Untrusted> {
    let clip = |a: Timestamp, b: Timestamp, reason: Reason| Untrusted {
        start: a.max(w.start),
        end: b.min(w.end),
        reasons: vec![reason],
    };
    let mut spans = Vec::new();
    for &(status, start, end, reason) in digests {
        if status == Status::Valid {
            continue;
        }
        if let Some(e) = end {
            spans.push(clip(start.unwrap_or(e - interval), e, reason));
        }
    }
    for g in gaps.iter().filter(|g| !g.backfill) {
        let reason = match g.explained {
            true => Reason::ExplainedGap,
            false => Reason::UnexplainedGap,
        };
        spans.push(clip(g.start, g.end, reason));
    }
    for &(a, b) in invalid_logs {
        spans.push(clip(
            a,
            b.max(a + Duration::seconds(1)),
            Reason::InvalidLogFile,
        ));
    }
    if let Some((a, b)) = pending {
        spans.push(clip(a, b, Reason::NotYetDelivered));
    }
    crate::verify::model::merge_untrusted(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::chain::analyze;
    use crate::verify::chain::testing::{series, verified_with};
    use crate::verify::lifecycle::EventSource;
    use crate::verify::time::parse_user_time;

    fn t0() -> Timestamp {
        parse_user_time("2020-01-01T00:00:00Z").unwrap()
    }

    fn h(n: i64) -> Timestamp {
        t0() + Duration::hours(n)
    }

    /// A verified digest for [h(n), h(n+1)], linked to the previous hour unless a chain start.
    fn verified(n: i64, prev: bool) -> Node {
        verified_with(|k| h(k + 1), n, prev)
    }

    fn ev(kind: Lifecycle, at: Timestamp) -> LifecycleEvent {
        LifecycleEvent {
            time: at,
            kind,
            source: EventSource::TrailLogs,
            event_id: None,
            actor: None,
            source_ip: None,
            who: None,
        }
    }

    fn window(start: i64, end: i64, now: i64) -> Window {
        Window {
            start: h(start),
            end: h(end),
            now: h(now),
            grace: Duration::minutes(DEFAULT_GRACE_MINUTES),
            status: None,
            bucket: "b".into(),
            events_complete: true,
            listing_complete: true,
            restart_visible: true,
        }
    }

    fn missing_count(nodes: &[Node], out: &ChainOutcome) -> usize {
        out.order
            .iter()
            .filter(|&&i| {
                out.verdicts[i].0 != Status::Valid && out.node(nodes, i).key_end.is_some()
            })
            .count()
    }

    #[test]
    fn intact_window_needs_nothing() {
        let nodes: Vec<Node> = (0..4).map(|n| verified(n, n > 0)).collect();
        let mut out = analyze(&nodes, &series());
        let c = close_window(&nodes, &mut out, &series(), &window(0, 4, 10), &[]);
        assert!(out.gaps.is_empty() && c.unproven.is_empty() && c.pending.is_none());
    }

    #[test]
    fn overdue_tail_is_unexplained_offline_and_pending_when_recent() {
        let nodes: Vec<Node> = (0..2).map(|n| verified(n, n > 0)).collect();
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 4, 10), &[]);
        assert_eq!(out.gaps.len(), 1);
        assert!(out.gaps[0].1.unexplained());
        // Window ends now, newest digest ended 30 minutes ago: pending.
        let mut w = window(0, 2, 2);
        w.end = h(2) + Duration::minutes(30);
        w.now = w.end;
        let mut out = analyze(&nodes, &series());
        let c = close_window(&nodes, &mut out, &series(), &w, &[]);
        assert!(out.gaps.is_empty());
        assert_eq!(c.pending, Some((h(2), w.end)));
    }

    #[test]
    fn trail_status_turns_an_overdue_tail_into_deleted_digests() {
        let nodes: Vec<Node> = (0..2).map(|n| verified(n, n > 0)).collect();
        let mut out = analyze(&nodes, &series());
        let mut w = window(0, 5, 5);
        w.status = Some(TrailStatus {
            is_logging: true,
            validation_enabled: true,
            covers_region: true,
            start_logging: Some(h(-10)),
            latest_digest_delivery: Some(h(5)),
            delivery_errors: Vec::new(),
        });
        close_window(&nodes, &mut out, &series(), &w, &[]);
        assert!(missing_count(&nodes, &out) >= 2, "{out:?}");
        assert!(out
            .gaps
            .iter()
            .all(|(_, g)| !g.unexplained() || g.start >= h(3)));
    }

    #[test]
    fn stop_recorded_after_the_gap_start_means_deleted_digests() {
        // Real stop at 4:50; digests 3..4 deleted; restart at 7.
        let nodes = vec![
            verified(0, false),
            verified(1, true),
            verified(2, true),
            verified(7, false),
        ];
        let events = [
            ev(Lifecycle::LoggingStopped, h(4) + Duration::minutes(50)),
            ev(Lifecycle::LoggingStarted, h(7)),
        ];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 8, 20), &events);
        assert_eq!(missing_count(&nodes, &out), 2, "{out:?}");
        let gap = &out.gaps[0].1;
        assert!(gap.explained);
        assert_eq!(gap.start, h(4) + Duration::minutes(50));
        // Without the records the same chain is an unexplained gap.
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 8, 20), &[]);
        assert!(out.gaps[0].1.unexplained());
    }

    #[test]
    fn a_head_gap_stays_unexplained_when_records_are_incomplete() {
        // The chain starts at 3 (a restart); stop before the window.
        let nodes = vec![verified(3, false)];
        let events = [
            ev(Lifecycle::LoggingStopped, h(-1)),
            ev(Lifecycle::LoggingStarted, h(3) + Duration::minutes(1)),
        ];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(1, 4, 10), &events);
        assert!(out.gaps.iter().all(|(_, g)| g.explained), "{out:?}");
        let mut w = window(1, 4, 10);
        w.events_complete = false;
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps.iter().any(|(_, g)| g.unexplained()), "{out:?}");
    }

    #[test]
    fn a_listing_cut_by_its_bound_never_reads_as_nothing_there() {
        let nodes: Vec<Node> = (0..2).map(|n| verified(n, n > 0)).collect();
        let events = [ev(Lifecycle::LoggingStopped, h(2) - Duration::minutes(10))];
        let mut w = window(0, 4, 10);
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(
            out.gaps[0].1.explained,
            "complete listing: the stop explains the tail"
        );
        w.listing_complete = false;
        let mut out = analyze(&nodes, &series());
        let c = close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps[0].1.unexplained(), "{out:?}");
        assert!(c.unproven.contains(&Unproven::ListingBound), "{c:?}");
    }

    #[test]
    fn a_restart_anywhere_in_a_new_chains_first_period_closes_the_gap() {
        // Stopped at 1:50; the chain AWS signed as a new start covers 3..4,
        // and its first log file records the StartLogging at 3:07.
        let nodes = vec![verified(0, false), verified(1, true), verified(3, false)];
        let stopped = ev(Lifecycle::LoggingStopped, h(2) - Duration::minutes(10));
        for (restart, explained) in [
            (h(3) + Duration::minutes(7), true),
            (h(4) + Duration::minutes(4), true),
            (h(4) + Duration::minutes(6), false),
        ] {
            let events = [stopped.clone(), ev(Lifecycle::LoggingStarted, restart)];
            let mut out = analyze(&nodes, &series());
            close_window(&nodes, &mut out, &series(), &window(0, 4, 10), &events);
            assert_eq!(out.gaps.len(), 1, "{out:?}");
            assert_eq!(out.gaps[0].1.explained, explained, "restart at {restart}");
        }
        // At the window's head: the first digest is a new start (3..4).
        let nodes = vec![verified(3, false)];
        let events = [
            ev(Lifecycle::LoggingStopped, h(-1)),
            ev(Lifecycle::LoggingStarted, h(3) + Duration::minutes(20)),
        ];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(1, 4, 10), &events);
        assert!(out.gaps.iter().all(|(_, g)| g.explained), "{out:?}");
    }

    #[test]
    fn empty_window_is_unproven_unless_stopped_before() {
        let nodes: Vec<Node> = vec![];
        let mut out = analyze(&nodes, &series());
        let c = close_window(&nodes, &mut out, &series(), &window(0, 5, 20), &[]);
        assert_eq!(c.unproven.len(), 1);
        let mut out = analyze(&nodes, &series());
        let events = [ev(Lifecycle::LoggingStopped, h(-3))];
        let c = close_window(&nodes, &mut out, &series(), &window(0, 5, 20), &events);
        assert!(c.unproven.is_empty());
        assert!(out.gaps[0].1.explained);
    }

    #[test]
    fn chain_start_inside_the_window_needs_a_reason() {
        let nodes: Vec<Node> = (3..5).map(|n| verified(n, n > 3)).collect();
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 5, 20), &[]);
        assert_eq!(out.gaps.len(), 1);
        assert_eq!(out.gaps[0].1.kind, GapKind::BeforeFirstDigest);
        assert!(out.gaps[0].1.unexplained());
        let events = [
            ev(Lifecycle::LoggingStopped, h(-2)),
            ev(Lifecycle::LoggingStarted, h(3)),
        ];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 5, 20), &events);
        assert!(out.gaps[0].1.explained);
    }

    #[test]
    fn a_trail_created_then_stopped_inside_the_window_lost_digests() {
        // Created at 1, stopped at 3, restarted at 6 (the first digest we
        // have); the run 1..3 was deleted with its logs.
        let nodes: Vec<Node> = (6..8).map(|n| verified(n, n > 6)).collect();
        let events = [
            ev(Lifecycle::TrailCreated, h(1)),
            ev(Lifecycle::LoggingStarted, h(1)),
            ev(Lifecycle::LoggingStopped, h(3)),
            ev(Lifecycle::LoggingStarted, h(6)),
        ];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 8, 20), &events);
        assert!(missing_count(&nodes, &out) >= 2, "{out:?}");
    }

    #[test]
    fn a_deleted_newest_digest_is_not_pending_when_cloudtrail_delivered_it() {
        let nodes: Vec<Node> = (0..3).map(|n| verified(n, n > 0)).collect();
        let mut w = window(0, 4, 4);
        w.end = h(4) + Duration::minutes(10);
        w.now = w.end;
        w.status = Some(TrailStatus {
            is_logging: true,
            validation_enabled: true,
            covers_region: true,
            start_logging: None,
            latest_digest_delivery: Some(h(4) + Duration::minutes(3)),
            delivery_errors: Vec::new(),
        });
        let mut out = analyze(&nodes, &series());
        let c = close_window(&nodes, &mut out, &series(), &w, &[]);
        assert!(c.pending.is_none());
        assert_eq!(missing_count(&nodes, &out), 1, "{out:?}");
    }

    #[test]
    fn a_stopped_tail_is_not_explained_when_records_may_be_missing() {
        let nodes: Vec<Node> = (0..2).map(|n| verified(n, n > 0)).collect();
        let events = [ev(Lifecycle::LoggingStopped, h(2) - Duration::minutes(5))];
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &window(0, 6, 20), &events);
        assert!(out.gaps[0].1.explained);
        let mut w = window(0, 6, 20);
        w.events_complete = false;
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps[0].1.unexplained());
        // Offline with the trail's logs alone: a restart and everything
        // after it may be gone; not proven, with how to prove it.
        let mut w = window(0, 6, 20);
        w.restart_visible = false;
        let mut out = analyze(&nodes, &series());
        let closure = close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps[0].1.unexplained());
        assert_eq!(closure.unproven, vec![Unproven::StoppedToTheEnd]);
        // CloudTrail's status says the trail logs again since before the
        // window's end (no digest delivered: validation turned off since):
        // the stop does not explain the end; still stopped, it does.
        let mut w = window(0, 6, 20);
        w.status = Some(TrailStatus {
            is_logging: true,
            start_logging: Some(h(4)),
            ..TrailStatus::default()
        });
        let mut out = analyze(&nodes, &series());
        let closure = close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps[0].1.unexplained());
        assert_eq!(closure.unproven, vec![Unproven::RestartedBeforeTheEnd]);
        w.status = Some(TrailStatus::default());
        let mut out = analyze(&nodes, &series());
        close_window(&nodes, &mut out, &series(), &w, &events);
        assert!(out.gaps[0].1.explained);
    }
}
