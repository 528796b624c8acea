//! Coverage changes: the calls that make a trail record less without
//! stopping it (`PutEventSelectors` turning management events or their
//! writes off, `UpdateTrail` turning multi-region or global service events
//! off) and the calls that restore it, read from the trail's own verified
//! log files. The digests of such a trail stay perfectly valid, so an
//! intruder's narrowing is invisible to integrity checks alone; the spans
//! it leaves are "coverage narrowed". Pure.
//!
//! Kept apart from the lifecycle records on purpose: the proof of the
//! window reads every lifecycle record that is not a stop as a restart, and
//! a selector change must never explain a gap.

use crate::report::model::{merge_untrusted, Report, Untrusted};
use crate::verify::arn::TrailArn;
use crate::verify::time::{display, parse_user_time, Timestamp};
use serde_json::Value;

/// One recorded change of what the trail records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageChange {
    pub time: Timestamp,
    /// Records less than full management coverage from here on.
    pub narrows: bool,
    /// What the call set, in words.
    pub what: String,
    pub event_name: String,
    pub actor: Option<String>,
    pub source_ip: Option<String>,
}

/// A span of the window the trail recorded less in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The change that opened it.
    pub by: CoverageChange,
    /// Whether a later change restored coverage (else it lasts to the end).
    pub restored: bool,
}

/// The coverage changes about `trail` in a log file's inflated bytes.
pub fn from_log_file(inflated: &[u8], trail: &TrailArn) -> Vec<CoverageChange> {
    let Ok(doc) = serde_json::from_slice::<Value>(inflated) else {
        return Vec::new();
    };
    doc.get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .filter_map(|r| from_record(r, trail))
                .collect()
        })
        .unwrap_or_default()
}

/// One record -> a coverage change of `trail`, or None.
pub fn from_record(rec: &Value, trail: &TrailArn) -> Option<CoverageChange> {
    if rec.get("eventSource")?.as_str()? != "cloudtrail.amazonaws.com"
        || rec.get("errorCode").is_some_and(|v| !v.is_null())
    {
        return None;
    }
    let params = rec.get("requestParameters")?.as_object()?;
    let named = params
        .get("trailName")
        .or_else(|| params.get("name"))
        .and_then(Value::as_str)?;
    let own_account = rec
        .get("recipientAccountId")
        .and_then(Value::as_str)
        .is_some_and(|a| a == trail.account);
    if !(named == trail.arn || (named == trail.name && own_account)) {
        return None;
    }
    let name = rec.get("eventName")?.as_str()?;
    let (narrows, what) = match name {
        "PutEventSelectors" => event_selectors(params)?,
        "UpdateTrail" => trail_flags(params)?,
        _ => return None,
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let identity = rec.get("userIdentity");
    Some(CoverageChange {
        time: parse_user_time(rec.get("eventTime")?.as_str()?).ok()?,
        narrows,
        what,
        event_name: name.to_string(),
        actor: text(identity.and_then(|u| u.get("arn"))),
        source_ip: text(rec.get("sourceIPAddress")),
    })
}

/// Management-event coverage of a PutEventSelectors call: (narrows, what).
fn event_selectors(params: &serde_json::Map<String, Value>) -> Option<(bool, String)> {
    if let Some(advanced) = params
        .get("advancedEventSelectors")
        .and_then(Value::as_array)
    {
        return Some(advanced_selectors(advanced));
    }
    let selectors = params.get("eventSelectors")?.as_array()?;
    let (mut reads, mut writes) = (false, false);
    for s in selectors {
        if s.get("includeManagementEvents").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        match s
            .get("readWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All")
        {
            "ReadOnly" => reads = true,
            "WriteOnly" => writes = true,
            _ => (reads, writes) = (true, true),
        }
    }
    Some(management(reads, writes, "event selectors"))
}

/// Advanced selectors: the ones on `eventCategory = Management`, and what
/// their `readOnly` and `eventSource` fields leave out.
fn advanced_selectors(selectors: &[Value]) -> (bool, String) {
    let (mut reads, mut writes, mut partial) = (false, false, false);
    for s in selectors {
        let fields = s
            .get("fieldSelectors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let equals = |f: &Value, field: &str, value: &str| {
            f.get("field").and_then(Value::as_str) == Some(field)
                && f.get("equals")
                    .and_then(Value::as_array)
                    .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(value)))
        };
        if !fields
            .iter()
            .any(|f| equals(f, "eventCategory", "Management"))
        {
            continue;
        }
        let read_only = fields.iter().find_map(|f| {
            (f.get("field").and_then(Value::as_str) == Some("readOnly"))
                .then(|| equals(f, "readOnly", "true"))
        });
        match read_only {
            Some(true) => reads = true,
            Some(false) => writes = true,
            None => (reads, writes) = (true, true),
        }
        partial |= fields.iter().any(|f| {
            f.get("field").and_then(Value::as_str) == Some("eventSource")
                && (f.get("notEquals").is_some() || f.get("notStartsWith").is_some())
        });
    }
    match management(reads, writes, "advanced event selectors") {
        (false, _) if partial => (
            true,
            "advanced event selectors exclude some event sources' management events".into(),
        ),
        other => other,
    }
}

fn management(reads: bool, writes: bool, how: &str) -> (bool, String) {
    match (reads, writes) {
        (true, true) => (false, format!("{how} record all management events")),
        (true, false) => (
            true,
            format!("{how} record management read events only: write events go unrecorded"),
        ),
        (false, true) => (
            true,
            format!("{how} record management write events only: read events go unrecorded"),
        ),
        (false, false) => (true, format!("{how} record no management events")),
    }
}

/// UpdateTrail flags that narrow what is recorded: (narrows, what).
fn trail_flags(params: &serde_json::Map<String, Value>) -> Option<(bool, String)> {
    let flag = |k: &str| params.get(k).and_then(Value::as_bool);
    let mut off = Vec::new();
    let mut on = Vec::new();
    for (key, words) in [
        ("isMultiRegionTrail", "multi-region"),
        ("includeGlobalServiceEvents", "global service events"),
    ] {
        match flag(key) {
            Some(false) => off.push(words),
            Some(true) => on.push(words),
            None => {}
        }
    }
    match (off.is_empty(), on.is_empty()) {
        (true, true) => None,
        (false, _) => Some((
            true,
            format!("UpdateTrail turned {} off", off.join(" and ")),
        )),
        (true, false) => Some((false, format!("UpdateTrail turned {} on", on.join(" and ")))),
    }
}

/// The spans of `[start, end)` the trail recorded less in: from each
/// narrowing change to the next change that restores full coverage.
pub fn narrowed_spans(
    changes: &[CoverageChange],
    start: Timestamp,
    end: Timestamp,
) -> Vec<Narrowed> {
    let mut sorted: Vec<&CoverageChange> = changes.iter().collect();
    sorted.sort_by_key(|c| c.time);
    sorted.dedup_by(|a, b| a.time == b.time && a.what == b.what);
    let mut out = Vec::new();
    let mut open: Option<&CoverageChange> = None;
    for c in sorted {
        match (open, c.narrows) {
            (None, true) => open = Some(c),
            (Some(o), false) => {
                out.push((o, c.time, true));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(o) = open {
        out.push((o, end, false));
    }
    out.into_iter()
        .filter(|(o, until, _)| *until > start && o.time < end)
        .map(|(o, until, restored)| Narrowed {
            start: o.time.max(start),
            end: until.min(end),
            by: o.clone(),
            restored,
        })
        .collect()
}

/// Marks a chain's report: every narrowed span is untrusted and, unless
/// `allow` (`--allow-narrowing`), leaves coverage not proven, saying who,
/// when, from where and what changed.
pub fn mark(report: &mut Report, changes: &[CoverageChange], allow: bool) {
    let spans = narrowed_spans(changes, report.requested_start, report.requested_end);
    if spans.is_empty() {
        return;
    }
    for n in spans {
        let mut who = String::new();
        if let Some(a) = &n.by.actor {
            who.push_str(&format!(" by {a}"));
        }
        if let Some(ip) = &n.by.source_ip {
            who.push_str(&format!(" from {ip}"));
        }
        let until = match n.restored {
            true => format!("until {}, when it was restored", display(n.end)),
            false => format!("to the window's end {}", display(n.end)),
        };
        let line = format!(
            "Coverage narrowed at {}{who} ({}: {}), {until}",
            display(n.by.time),
            n.by.event_name,
            n.by.what
        );
        match allow {
            true => report
                .notes
                .push(format!("{line} (shown, not failed: --allow-narrowing)")),
            false => report.unproven.push(line),
        }
        report.untrusted.push(Untrusted {
            start: n.start,
            end: n.end,
            reasons: vec!["coverage_narrowed"],
        });
    }
    report.untrusted = merge_untrusted(std::mem::take(&mut report.untrusted));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";

    fn rec(name: &str, at: &str, params: Value) -> Value {
        json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": name,
               "eventTime": at, "recipientAccountId": "123456789012",
               "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/intruder/x"},
               "sourceIPAddress": "198.51.100.7", "requestParameters": params})
    }

    #[test]
    fn selector_and_flag_changes_are_read() {
        let trail = TrailArn::parse(ARN).unwrap();
        let ro = json!({"trailName": ARN, "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]});
        let c = from_record(
            &rec("PutEventSelectors", "2026-03-01T02:00:00Z", ro),
            &trail,
        )
        .unwrap();
        assert!(
            c.narrows && c.what.contains("write events go unrecorded"),
            "{c:?}"
        );
        assert_eq!(
            c.actor.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/intruder/x")
        );
        let all = json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All"}]});
        let c = from_record(
            &rec("PutEventSelectors", "2026-03-01T05:00:00Z", all),
            &trail,
        )
        .unwrap();
        assert!(!c.narrows);
        let off = json!({"trailName": ARN, "eventSelectors": [{"includeManagementEvents": false, "dataResources": []}]});
        assert!(
            from_record(
                &rec("PutEventSelectors", "2026-03-01T02:00:00Z", off),
                &trail
            )
            .unwrap()
            .narrows
        );
        let adv = json!({"trailName": ARN, "advancedEventSelectors": [{"fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["true"]}]}]});
        assert!(
            from_record(
                &rec("PutEventSelectors", "2026-03-01T02:00:00Z", adv),
                &trail
            )
            .unwrap()
            .narrows
        );
        let adv_all = json!({"trailName": ARN, "advancedEventSelectors": [{"fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]}]}]});
        assert!(
            !from_record(
                &rec("PutEventSelectors", "2026-03-01T02:00:00Z", adv_all),
                &trail
            )
            .unwrap()
            .narrows
        );
        let mr = json!({"name": ARN, "isMultiRegionTrail": false});
        assert!(
            from_record(&rec("UpdateTrail", "2026-03-01T02:00:00Z", mr), &trail)
                .unwrap()
                .narrows
        );
        // Validation alone is a lifecycle record, not a coverage change.
        let v = json!({"name": ARN, "enableLogFileValidation": false});
        assert!(from_record(&rec("UpdateTrail", "2026-03-01T02:00:00Z", v), &trail).is_none());
        // Another trail's selectors, or a failed call, change nothing here.
        let other = json!({"trailName": "arn:aws:cloudtrail:us-east-1:123456789012:trail/x", "eventSelectors": []});
        assert!(from_record(
            &rec("PutEventSelectors", "2026-03-01T02:00:00Z", other),
            &trail
        )
        .is_none());
        let mut failed = rec(
            "UpdateTrail",
            "2026-03-01T02:00:00Z",
            json!({"name": ARN, "isMultiRegionTrail": false}),
        );
        failed["errorCode"] = json!("AccessDenied");
        assert!(from_record(&failed, &trail).is_none());
    }

    #[test]
    fn a_narrowing_lasts_until_coverage_is_restored() {
        let t = |h: u32| parse_user_time(&format!("2026-03-01T{h:02}:00:00Z")).unwrap();
        let change = |h, narrows| CoverageChange {
            time: t(h),
            narrows,
            what: format!("{narrows}"),
            event_name: "PutEventSelectors".into(),
            actor: None,
            source_ip: None,
        };
        let spans = narrowed_spans(
            &[change(5, false), change(2, true), change(3, true)],
            t(0),
            t(10),
        );
        assert_eq!(spans.len(), 1);
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(2), t(5), true)
        );
        let open = narrowed_spans(&[change(8, true)], t(0), t(10));
        assert_eq!(
            (open[0].start, open[0].end, open[0].restored),
            (t(8), t(10), false)
        );
        // Outside the window, or restored before it: nothing.
        assert!(narrowed_spans(&[change(1, true), change(2, false)], t(3), t(10)).is_empty());
        assert!(narrowed_spans(&[change(11, true)], t(3), t(10)).is_empty());
    }
}
