//! JSON Lines: one object per finding as each chain is decided (a line per
//! invalid, unverified or unexpected object, gap and untrusted span, each
//! with account and region), then one summary line. Lines are written as
//! chains finish, so memory holds only the chains in flight, never the run.

use crate::verify::model::{
    ChainReport, EstateReport, Finding, Provenance, Report, Status, Verdict,
};
use crate::verify::time::display;
use crate::verify::time::Timestamp;
use serde_json::{json, Value};

fn finding_fields(v: &mut Value, f: Option<&Finding>) {
    v["problem"] = json!(f.map(|f| f.problem.as_str()));
    v["message"] = json!(f.map(|f| f.reason.as_str()));
    v["detail"] = json!(f.and_then(|f| f.detail.as_deref()));
}

/// The lines for one chain; `verbose` adds the valid objects.
pub(crate) fn chain_lines(account: &str, region: &str, r: &Report, verbose: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |mut v: Value| {
        v["account"] = json!(account);
        v["region"] = json!(region);
        out.push(v.to_string());
    };
    for d in r
        .digests
        .iter()
        .filter(|d| verbose || d.status != Status::Valid)
    {
        let mut v = json!({
            "type": "digest", "bucket": d.bucket, "key": d.key, "status": d.status,
            "backfill": d.backfill, "discovered": d.discovered,
            "start": d.start.map(display), "end": d.end.map(display),
        });
        finding_fields(&mut v, d.finding.as_ref());
        push(v);
    }
    for l in r
        .logs
        .iter()
        .filter(|l| verbose || l.status != Status::Valid)
    {
        let mut v = json!({
            "type": "log", "bucket": l.bucket, "key": l.key, "status": l.status,
            "digest": l.digest_key,
            "oldest_event_time": l.oldest_event.map(display),
            "newest_event_time": l.newest_event.map(display),
        });
        finding_fields(&mut v, l.finding.as_ref());
        push(v);
    }
    for o in &r.unexpected {
        let mut v =
            json!({"type": "unexpected", "bucket": o.bucket, "key": o.key, "status": "invalid"});
        finding_fields(&mut v, Some(&o.finding));
        push(v);
    }
    for g in &r.gaps {
        push(json!({
            "type": "gap", "start": display(g.start), "end": display(g.end), "kind": g.kind,
            "cause": g.cause, "explained": g.explained, "evidence": g.evidence,
            "backfill": g.backfill,
        }));
    }
    for u in &r.untrusted {
        push(json!({
            "type": "untrusted", "start": display(u.start), "end": display(u.end),
            "reasons": u.reasons,
        }));
    }
    for u in &r.unproven {
        let mut v = serde_json::to_value(u).unwrap_or_default();
        v["type"] = json!("unproven");
        v["reason"] = json!(crate::report::explain::unproven(u));
        push(v);
    }
    for note in &crate::report::explain::notes(r) {
        push(json!({"type": "note", "note": note}));
    }
    for b in &r.blind_spots {
        let mut v = serde_json::to_value(b).unwrap_or_default();
        v["type"] = json!(b.kind);
        push(v);
    }
    for p in r.protections.iter().flatten() {
        let mut v = serde_json::to_value(p).unwrap_or_default();
        v["type"] = json!("protection");
        push(v);
    }
    for o in r.recovery.iter().flat_map(|rec| &rec.objects) {
        let mut v = serde_json::to_value(o).unwrap_or_default();
        v["type"] = json!("recovered");
        v["message"] = json!(crate::report::explain::recovered(o));
        push(v);
    }
    for c in &r.bucket_calls {
        let mut v = serde_json::to_value(c).unwrap_or_default();
        v["type"] = json!("bucket_call");
        v["message"] = json!(crate::report::explain::bucket_call(c));
        push(v);
    }
    if r.bucket_calls_left_out > 0 {
        push(json!({"type": "bucket_calls_left_out", "count": r.bucket_calls_left_out}));
    }
    if let Some(b) = r.recovery.as_ref().and_then(|rec| rec.blocked.as_ref()) {
        let mut v = serde_json::to_value(b).unwrap_or_default();
        v["type"] = json!("recovery_blocked");
        v["message"] = json!(crate::report::explain::recovery_blocked(b));
        push(v);
    }
    let s = r.summary();
    push(json!({
        "type": "chain", "digests": s.digests, "logs": s.logs, "gaps": s.gaps,
        "unexplained_gaps": s.unexplained_gaps, "unexpected_objects": s.unexpected_objects,
        "exit_code": r.exit_code(),
    }));
    out
}

/// Lines for a chain of an estate run; a chain none of whose folders exist
/// says so on its `chain` line (`missing`, and why it was expected).
pub(crate) fn estate_chain_lines(c: &ChainReport, verbose: bool) -> Vec<String> {
    let mut lines = chain_lines(&c.account, &c.region, &c.report, verbose);
    if let (Some(why), Some(last)) = (&c.expected_because, lines.last_mut()) {
        if let Ok(mut v) = serde_json::from_str::<Value>(last) {
            v["missing"] = json!(c.missing());
            v["expected_because"] = json!(why);
            *last = v.to_string();
        }
    }
    lines
}

/// What the summary line says of the run as a whole.
pub(crate) struct Head<'a> {
    pub trail_arn: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub provenance: Option<&'a Provenance>,
}

impl<'a> Head<'a> {
    pub(crate) fn of_chain(r: &'a Report, provenance: Option<&'a Provenance>) -> Head<'a> {
        Head {
            trail_arn: &r.trail_arn,
            start: r.requested_start,
            end: r.requested_end,
            provenance,
        }
    }

    pub(crate) fn of_estate(e: &'a EstateReport, provenance: Option<&'a Provenance>) -> Head<'a> {
        Head {
            trail_arn: &e.trail_arn,
            start: e.requested_start,
            end: e.requested_end,
            provenance,
        }
    }
}

/// The closing lines: the run's notes, then totals per outcome of the
/// chains' verdicts and the run's exit status (the worst), with the trail,
/// the window and the provenance.
pub(crate) fn closing_lines(
    notes: &[String],
    verdicts: &[Verdict],
    head: &Head<'_>,
) -> Vec<String> {
    let count = |v: Verdict| verdicts.iter().filter(|&&x| x == v).count();
    let mut out: Vec<String> = notes
        .iter()
        .map(|n| json!({"type": "note", "note": n}).to_string())
        .collect();
    out.push(
        json!({
            "type": "summary", "chains": verdicts.len(), "proven": count(Verdict::Proven),
            "tampered": count(Verdict::Tampered), "unproven": count(Verdict::NotProven),
            "exit_code": Verdict::worst(verdicts.iter().copied()).exit_code(),
            "trail_arn": head.trail_arn,
            "requested": {"start": display(head.start), "end": display(head.end)},
            "provenance": head.provenance,
        })
        .to_string(),
    );
    out
}
