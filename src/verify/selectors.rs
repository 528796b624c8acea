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

/// What a trail records, setting by setting: full coverage is every one
/// true. A change sets some of them and leaves the rest as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub management_reads: Option<bool>,
    pub management_writes: Option<bool>,
    /// No event source's management events are excluded.
    pub all_sources: Option<bool>,
    pub multi_region: Option<bool>,
    pub global_events: Option<bool>,
}

impl Settings {
    fn fields(&self) -> [Option<bool>; 5] {
        [
            self.management_reads,
            self.management_writes,
            self.all_sources,
            self.multi_region,
            self.global_events,
        ]
    }

    /// Some setting this change sets records less.
    pub fn narrows(&self) -> bool {
        self.fields().contains(&Some(false))
    }

    /// `self` with `change`'s settings applied over it.
    fn then(self, change: &Settings) -> Settings {
        Settings {
            management_reads: change.management_reads.or(self.management_reads),
            management_writes: change.management_writes.or(self.management_writes),
            all_sources: change.all_sources.or(self.all_sources),
            multi_region: change.multi_region.or(self.multi_region),
            global_events: change.global_events.or(self.global_events),
        }
    }
}

/// One recorded change of what the trail records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageChange {
    pub time: Timestamp,
    /// Records less than full coverage in some setting it sets.
    pub narrows: bool,
    pub settings: Settings,
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
    let answered_arn = rec
        .get("responseElements")
        .and_then(|r| r.get("trailARN"))
        .and_then(Value::as_str);
    // A bare name resolves in the caller's account and region: both must
    // be the trail's (a same-named trail elsewhere is another trail).
    let here = |field: &str, want: &str| {
        rec.get(field)
            .and_then(Value::as_str)
            .is_some_and(|v| v == want)
    };
    let by_name = named == trail.name
        && here("recipientAccountId", &trail.account)
        && here("awsRegion", &trail.region);
    if !(named == trail.arn || answered_arn == Some(trail.arn.as_str()) || by_name) {
        return None;
    }
    let name = rec.get("eventName")?.as_str()?;
    let (settings, what) = match name {
        "PutEventSelectors" => event_selectors(params)?,
        "UpdateTrail" => trail_flags(params)?,
        _ => return None,
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let identity = rec.get("userIdentity");
    Some(CoverageChange {
        time: parse_user_time(rec.get("eventTime")?.as_str()?).ok()?,
        narrows: settings.narrows(),
        settings,
        what,
        event_name: name.to_string(),
        actor: text(identity.and_then(|u| u.get("arn"))),
        source_ip: text(rec.get("sourceIPAddress")),
    })
}

/// Management-event coverage of a PutEventSelectors call.
fn event_selectors(params: &serde_json::Map<String, Value>) -> Option<(Settings, String)> {
    if let Some(advanced) = params
        .get("advancedEventSelectors")
        .and_then(Value::as_array)
    {
        return Some(advanced_selectors(advanced));
    }
    let selectors = params.get("eventSelectors")?.as_array()?;
    let (mut reads, mut writes, mut partial) = (false, false, false);
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
        partial |= s
            .get("excludeManagementEventSources")
            .and_then(Value::as_array)
            .is_some_and(|v| !v.is_empty());
    }
    Some(management(reads, writes, partial, "event selectors"))
}

/// Advanced selectors: the ones on `eventCategory = Management`, and what
/// their `readOnly` and `eventSource` fields leave out.
fn advanced_selectors(selectors: &[Value]) -> (Settings, String) {
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
        let not_equals = |f: &Value, value: &str| {
            f.get("notEquals")
                .and_then(Value::as_array)
                .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(value)))
        };
        // readOnly = true (or != false): reads only; = false (or != true): writes only.
        let read_only = fields.iter().find_map(|f| {
            (f.get("field").and_then(Value::as_str) == Some("readOnly"))
                .then(|| equals(f, "readOnly", "true") || not_equals(f, "false"))
        });
        match read_only {
            Some(true) => reads = true,
            Some(false) => writes = true,
            None => (reads, writes) = (true, true),
        }
        partial |= fields.iter().any(|f| {
            f.get("field").and_then(Value::as_str) == Some("eventSource")
                && ["notEquals", "notStartsWith", "notEndsWith"]
                    .iter()
                    .any(|k| f.get(k).is_some())
        });
    }
    management(reads, writes, partial, "advanced event selectors")
}

fn management(reads: bool, writes: bool, partial: bool, how: &str) -> (Settings, String) {
    let settings = Settings {
        management_reads: Some(reads),
        management_writes: Some(writes),
        all_sources: Some(!partial),
        ..Settings::default()
    };
    let mut what = match (reads, writes) {
        (true, true) => format!("{how} record all management events"),
        (true, false) => {
            format!("{how} record management read events only: write events go unrecorded")
        }
        (false, true) => {
            format!("{how} record management write events only: read events go unrecorded")
        }
        (false, false) => format!("{how} record no management events"),
    };
    if partial && (reads || writes) {
        what.push_str(", and exclude some event sources' management events");
    }
    (settings, what)
}

/// UpdateTrail flags that set what is recorded.
fn trail_flags(params: &serde_json::Map<String, Value>) -> Option<(Settings, String)> {
    let flag = |k: &str| params.get(k).and_then(Value::as_bool);
    let settings = Settings {
        multi_region: flag("isMultiRegionTrail"),
        global_events: flag("includeGlobalServiceEvents"),
        ..Settings::default()
    };
    let words = |f: Option<bool>, name: &str| {
        f.map(|on| format!("{name} {}", if on { "on" } else { "off" }))
    };
    let said: Vec<String> = [
        words(settings.multi_region, "multi-region"),
        words(settings.global_events, "global service events"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!said.is_empty()).then(|| {
        (
            settings,
            format!("UpdateTrail turned {}", said.join(" and ")),
        )
    })
}

/// The spans of `[start, end)` the trail recorded less in. Coverage is
/// taken as full before the first recorded change (what it was before the
/// window is not known); each change sets some settings, and a span lasts
/// from the change that left any setting narrowed until every one is full
/// again, so widening one setting never closes a span another keeps open.
pub fn narrowed_spans(
    changes: &[CoverageChange],
    start: Timestamp,
    end: Timestamp,
) -> Vec<Narrowed> {
    let mut sorted: Vec<&CoverageChange> = changes.iter().collect();
    // Widenings first within a second: the order files finished in must
    // not decide a span (ties are rare; this one never hides a narrowing).
    sorted.sort_by_key(|c| (c.time, c.narrows, c.what.clone()));
    sorted.dedup();
    let mut out = Vec::new();
    let mut open: Option<&CoverageChange> = None;
    let mut state = Settings::default();
    for c in sorted {
        state = state.then(&c.settings);
        match (open, state.narrows()) {
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
pub fn mark(report: &mut Report, changes: &[CoverageChange], allow: bool) -> Vec<Narrowed> {
    let spans = narrowed_spans(changes, report.requested_start, report.requested_end);
    if spans.is_empty() {
        return spans;
    }
    for n in &spans {
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
            "{}{}{who} ({}: {}), {until}",
            crate::report::model::NARROWED,
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
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";

    fn rec(name: &str, at: &str, params: Value) -> Value {
        json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": name,
               "eventTime": at, "recipientAccountId": "123456789012", "awsRegion": "us-east-1",
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
        let excluded = json!({"trailName": ARN, "eventSelectors": [{"readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]}]});
        assert!(
            from_record(
                &rec("PutEventSelectors", "2026-03-01T02:00:00Z", excluded),
                &trail
            )
            .unwrap()
            .narrows
        );
        let not_false = json!({"trailName": ARN, "advancedEventSelectors": [
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "notEquals": ["false"]}]},
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]}]});
        assert!(
            !from_record(
                &rec("PutEventSelectors", "2026-03-01T02:00:00Z", not_false),
                &trail
            )
            .unwrap()
            .narrows
        );
        // A same-named trail in another region is another trail.
        let mut elsewhere = rec(
            "PutEventSelectors",
            "2026-03-01T02:00:00Z",
            json!({"trailName": "main", "eventSelectors": [{"readWriteType": "ReadOnly"}]}),
        );
        elsewhere["awsRegion"] = json!("eu-west-1");
        assert!(from_record(&elsewhere, &trail).is_none());
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
        let change = |h, settings: Settings| CoverageChange {
            time: t(h),
            narrows: settings.narrows(),
            settings,
            what: format!("{settings:?}"),
            event_name: "PutEventSelectors".into(),
            actor: None,
            source_ip: None,
        };
        let mgmt = |reads, writes| Settings {
            management_reads: Some(reads),
            management_writes: Some(writes),
            all_sources: Some(true),
            ..Settings::default()
        };
        let region = |on| Settings {
            multi_region: Some(on),
            ..Settings::default()
        };
        let spans = narrowed_spans(
            &[
                change(5, mgmt(true, true)),
                change(2, mgmt(true, false)),
                change(3, mgmt(false, true)),
            ],
            t(0),
            t(10),
        );
        assert_eq!(spans.len(), 1);
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(2), t(5), true)
        );
        let open = narrowed_spans(&[change(8, mgmt(true, false))], t(0), t(10));
        assert_eq!(
            (open[0].start, open[0].end, open[0].restored),
            (t(8), t(10), false)
        );
        // Widening another setting does not close the span.
        let spoof = narrowed_spans(
            &[change(2, mgmt(true, false)), change(3, region(true))],
            t(0),
            t(10),
        );
        assert_eq!((spoof[0].end, spoof[0].restored), (t(10), false));
        // Restoring the selectors while multi-region is off leaves it open.
        let two = [
            change(2, mgmt(true, false)),
            change(3, region(false)),
            change(4, mgmt(true, true)),
        ];
        let spans = narrowed_spans(&two, t(0), t(10));
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(2), t(10), false)
        );
        // Outside the window, or restored before it: nothing.
        let before = [change(1, mgmt(true, false)), change(2, mgmt(true, true))];
        assert!(narrowed_spans(&before, t(3), t(10)).is_empty());
        assert!(narrowed_spans(&[change(11, mgmt(false, false))], t(3), t(10)).is_empty());
    }
}
