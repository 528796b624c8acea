//! The proof of the window: does every instant of [start, end] lie under a
//! verified digest or under a gap CloudTrail itself explains? Closes the
//! chain's edges (the tail after the newest digest, the head before the
//! oldest), explains gaps from lifecycle records, turns "the stop came later
//! than the gap" into deleted digests, and lists the untrusted spans. Pure:
//! works on the chain outcome the engine already has.

use crate::chain::{ChainOutcome, Node, MAX_INFERRED};
use crate::gap_events::{explain, Explanation, LifecycleEvent, SLACK};
use crate::layout::DigestSeries;
use crate::report::{Gap, GapKind, Status, Untrusted};
use crate::timefmt::{display, Timestamp};
use chrono::Duration;

/// Default delivery grace: how long after a digest's window closes it may
/// still be on its way. CloudTrail delivers digests within minutes of the
/// hour; an hour of margin means normal delay never alarms.
pub const DEFAULT_GRACE_MINUTES: i64 = 60;

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
}

/// The requested window and what is known about "now".
#[derive(Debug, Clone)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub now: Timestamp,
    pub grace: Duration,
    pub status: Option<TrailStatus>,
}

/// What closing the window decided, beyond the gaps and inferred digests
/// written into the chain outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// Spans whose digests are simply not due yet (newest hour): log files
    /// there cannot be verified yet and do not fail the run.
    pub pending: Option<(Timestamp, Timestamp)>,
    /// Why coverage is unproven without a gap to show it.
    pub unproven: Vec<String>,
}

/// Closes the standard chain's window. `nodes` are the chain's input nodes;
/// `events` every lifecycle record known (trail logs, LookupEvents, file).
pub fn close_window(
    nodes: &[Node],
    out: &mut ChainOutcome,
    series: &DigestSeries,
    w: &Window,
    events: &[LifecycleEvent],
) -> Closure {
    let mut closure = Closure::default();
    explain_restarts(nodes, out, series, events);
    resort(nodes, out);
    let newest = out.order.first().map(|&i| out.node(nodes, i).clone());
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
        match explain(gap.start, Some(gap.end), events) {
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
    let mut ev = format!(
        "{} at {} ({})",
        stop.kind.as_str(),
        display(stop.time),
        source_name(stop)
    );
    if let Some(r) = restart {
        ev.push_str(&format!(
            "; {} at {} ({})",
            r.kind.as_str(),
            display(r.time),
            source_name(r)
        ));
    }
    gap.evidence = Some(ev);
}

fn source_name(e: &LifecycleEvent) -> &'static str {
    use crate::gap_events::EventSource;
    match e.source {
        EventSource::TrailLogs => "recorded in the trail's verified log files",
        EventSource::LookupEvents => "LookupEvents",
        EventSource::EventsFile => "--gap-events file",
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

/// After the newest digest: covered, pending, explained, proven deleted or
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
    let due = last + out.interval + w.grace;
    if w.now < due {
        closure.pending = Some((last, w.end));
        return;
    }
    let mut gap = Gap::new(last, w.end, false, GapKind::NoLaterDigest);
    match explain(last, None, events) {
        Explanation::Explained { stop, .. } => {
            mark_explained(&mut gap, &stop, None);
            if let Some(r) = restart_after(events, stop.time, w.end - out.interval - w.grace) {
                gap.explained = false;
                gap.evidence = Some(format!(
                    "{}; but {} at {} and no digest after it",
                    gap.evidence.unwrap_or_default(),
                    r.kind.as_str(),
                    display(r.time)
                ));
            }
        }
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
            mark_explained(&mut gap, &stop, None);
        }
        Explanation::Unexplained => {
            if let Some(s) = w.status.as_ref().filter(|s| proves_delivery(s, last)) {
                let detail =
                    format!(
                    "inferred: CloudTrail reports the trail logging with validation on since {} \
                     (last digest delivery {}), so it delivered a digest every hour after {}; \
                     this one is gone (the key follows the hourly schedule)",
                    s.start_logging.map(display).unwrap_or_else(|| "before".into()),
                    s.latest_digest_delivery.map(display).unwrap_or_else(|| "unknown".into()),
                    display(last)
                );
                // Every slot whose window overlaps the request and that was
                // delivered (CloudTrail says so, or its delivery time passed).
                let mut n = 0usize;
                let mut e = last + out.interval;
                let delivered = |e: Timestamp| {
                    e + w.grace <= w.now || s.latest_digest_delivery.is_some_and(|d| e <= d)
                };
                while delivered(e) && e - out.interval < w.end && n < MAX_INFERRED as usize {
                    out.push_inferred(nodes.len(), &newest.bucket, series, e, detail.clone());
                    e += out.interval;
                    n += 1;
                }
                let covered = last + out.interval * n as i32;
                if n == MAX_INFERRED as usize && covered < w.end {
                    // More missing than we name one by one: the rest stays a gap.
                    out.gaps.push((
                        usize::MAX,
                        Gap::new(covered, w.end, false, GapKind::NoLaterDigest),
                    ));
                }
                return;
            }
        }
    }
    out.gaps.push((usize::MAX, gap));
}

/// GetTrailStatus proves digests were delivered after `last`: the trail is
/// logging with validation on since before it, in this chain's region.
fn proves_delivery(s: &TrailStatus, last: Timestamp) -> bool {
    s.is_logging
        && s.validation_enabled
        && s.covers_region
        && s.start_logging.is_none_or(|t| t <= last)
        && s.latest_digest_delivery.is_some_and(|t| t > last)
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
            explain_head(
                nodes.len(),
                out,
                series,
                &oldest.bucket,
                &mut gap,
                w,
                events,
            );
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
                let mut e = first_missing_start;
                let mut n = 0;
                while e > w.start && n < MAX_INFERRED {
                    out.push_inferred(nodes.len(), &oldest.bucket, series, e, detail.into());
                    e -= out.interval;
                    n += 1;
                }
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
/// window's start, or by the trail's creation; a stop inside the window
/// means the digests from the window's start to the stop were deleted.
fn explain_head(
    input_len: usize,
    out: &mut ChainOutcome,
    series: &DigestSeries,
    bucket: &str,
    gap: &mut Gap,
    w: &Window,
    events: &[LifecycleEvent],
) {
    let first = gap.end;
    let in_span = |e: &&LifecycleEvent| e.time <= first + SLACK && e.time + SLACK >= w.start;
    // The trail's creation explains everything before it.
    let created = events
        .iter()
        .filter(in_span)
        .find(|e| e.kind == crate::gap_events::Lifecycle::TrailCreated);
    let restart = created.or_else(|| {
        events
            .iter()
            .filter(in_span)
            .filter(|e| !e.kind.is_stop())
            .max_by_key(|e| e.time)
    });
    let restart = restart.cloned();
    let stop = events
        .iter()
        .filter(|e| e.kind.is_stop() && e.time <= first + SLACK)
        .filter(|e| restart.as_ref().is_none_or(|r| e.time <= r.time))
        .max_by_key(|e| e.time)
        .cloned();
    let Some(restart) = restart else { return };
    match stop {
        Some(stop) if stop.time > w.start + SLACK => {
            let detail = deleted_before_stop(stop.time);
            let mut e = stop.time;
            let mut n = 0;
            while e > w.start && n < MAX_INFERRED {
                out.push_inferred(input_len, bucket, series, e, detail.clone());
                e -= out.interval;
                n += 1;
            }
            gap.start = stop.time;
            mark_explained(gap, &stop, Some(&restart));
        }
        Some(stop) => mark_explained(gap, &stop, Some(&restart)),
        None if restart.kind == crate::gap_events::Lifecycle::TrailCreated => {
            gap.explained = true;
            gap.cause = Some(restart.kind.as_str().to_string());
            gap.evidence = Some(format!(
                "{} at {} ({})",
                restart.kind.as_str(),
                display(restart.time),
                source_name(&restart)
            ));
        }
        None => {}
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
    if w.now < w.start + out.interval + w.grace {
        closure.pending = Some((w.start, w.end));
        return;
    }
    let mut gap = Gap::new(w.start, w.end, false, GapKind::NoLaterDigest);
    let stop = events
        .iter()
        .filter(|e| e.kind.is_stop() && e.time <= w.start + SLACK)
        .max_by_key(|e| e.time);
    if let Some(stop) = stop {
        if restart_after(events, stop.time, w.end - out.interval - w.grace).is_none() {
            mark_explained(&mut gap, stop, None);
        }
    }
    if !gap.explained {
        if let Some(s) = w.status.as_ref().filter(|s| proves_delivery(s, w.start)) {
            let _ = s;
            let detail = "inferred: CloudTrail reports the trail logging with validation on since \
                          before the window, yet no digest of the window exists";
            let n = infer_hourly(
                nodes.len(),
                out,
                series.root.account.as_str(),
                series,
                w.start,
                w.end - out.interval,
                detail,
            );
            if n > 0 {
                // Bucket unknown here: inferred digests name the series' bucket later.
                return;
            }
        }
        closure
            .unproven
            .push("no digest covers any part of the requested window".to_string());
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
pub fn untrusted_spans(
    digests: &[(Status, Option<Timestamp>, Option<Timestamp>, &'static str)],
    gaps: &[Gap],
    invalid_logs: &[(Timestamp, Timestamp)],
    pending: Option<(Timestamp, Timestamp)>,
    interval: Duration,
    w: &Window,
) -> Vec<Untrusted> {
    let clip = |a: Timestamp, b: Timestamp, reason: &'static str| Untrusted {
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
        let reason = if g.explained {
            "explained_gap"
        } else {
            "unexplained_gap"
        };
        spans.push(clip(g.start, g.end, reason));
    }
    for &(a, b) in invalid_logs {
        spans.push(clip(a, b.max(a + Duration::seconds(1)), "invalid_log_file"));
    }
    if let Some((a, b)) = pending {
        spans.push(clip(a, b, "not_yet_delivered"));
    }
    crate::report::merge_untrusted(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{analyze, NodeState};
    use crate::digest::{Digest, PreviousDigest};
    use crate::digest_verify::{DigestCheck, VerifiedDigest};
    use crate::gap_events::{EventSource, Lifecycle};
    use crate::layout::AccountRoot;
    use crate::timefmt::parse_user_time;

    fn series() -> DigestSeries {
        DigestSeries {
            root: AccountRoot::new(None, None, "123456789012"),
            source_region: "us-east-1".into(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        }
    }

    fn t0() -> Timestamp {
        parse_user_time("2020-01-01T00:00:00Z").unwrap()
    }

    fn h(n: i64) -> Timestamp {
        t0() + Duration::hours(n)
    }

    /// A verified digest for [h(n), h(n+1)], linked to the previous hour unless a chain start.
    fn verified(n: i64, prev: bool) -> Node {
        let s = series();
        let key = s.key(h(n + 1), false);
        let previous = prev.then(|| PreviousDigest {
            bucket: "b".into(),
            key: s.key(h(n), false),
            hash_value: Some(format!("hash{}", n - 1)),
            hash_algorithm: Some("SHA-256".into()),
            signature: Some(format!("sig{}", n - 1)),
        });
        let digest = Digest {
            account_id: None,
            start: h(n),
            end: h(n + 1),
            end_raw: display(h(n + 1)),
            bucket: "b".into(),
            key: key.clone(),
            fingerprint: "f".into(),
            signature_algorithm: None,
            previous_signature: previous.as_ref().and_then(|p| p.signature.clone()),
            previous,
            log_files: vec![],
        };
        Node::new(
            "b",
            &key,
            true,
            NodeState::Checked(DigestCheck::Verified(Box::new(VerifiedDigest {
                digest,
                sha256_hex: format!("hash{n}"),
                signature_hex: format!("sig{n}"),
            }))),
        )
    }

    fn ev(kind: Lifecycle, at: Timestamp) -> LifecycleEvent {
        LifecycleEvent {
            time: at,
            kind,
            source: EventSource::TrailLogs,
            event_id: None,
        }
    }

    fn window(start: i64, end: i64, now: i64) -> Window {
        Window {
            start: h(start),
            end: h(end),
            now: h(now),
            grace: Duration::minutes(DEFAULT_GRACE_MINUTES),
            status: None,
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
}
