//! Explains gaps in a digest chain from trail-lifecycle management events
//! (StopLogging, StartLogging, UpdateTrail, DeleteTrail, CreateTrail). Pure.

use crate::verify::arn::TrailArn;
use crate::verify::time::{parse_json_time, parse_user_time, Timestamp};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Where a lifecycle record came from (strongest first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    TrailLogs,
    /// The verified logs of the trail's home chain (its own account and
    /// home region), where a call is recorded once for every chain.
    HomeChainLogs,
    LookupEvents,
    EventsFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    LoggingStopped,
    ValidationDisabled,
    TrailDeleted,
    LoggingStarted,
    ValidationEnabled,
    TrailCreated,
}

impl Lifecycle {
    pub(crate) fn is_stop(self) -> bool {
        matches!(
            self,
            Lifecycle::LoggingStopped | Lifecycle::ValidationDisabled | Lifecycle::TrailDeleted
        )
    }

    /// The word used in reports, e.g. "logging_stopped".
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::LoggingStopped => "logging_stopped",
            Lifecycle::ValidationDisabled => "validation_disabled",
            Lifecycle::TrailDeleted => "trail_deleted",
            Lifecycle::LoggingStarted => "logging_started",
            Lifecycle::ValidationEnabled => "validation_enabled",
            Lifecycle::TrailCreated => "trail_created",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LifecycleEvent {
    pub time: Timestamp,
    pub kind: Lifecycle,
    pub source: EventSource,
    pub event_id: Option<String>,
    /// Who made the call, as the record says: `userIdentity.arn` and
    /// `sourceIPAddress` (attacker-controlled only where the record is).
    pub actor: Option<String>,
    pub source_ip: Option<String>,
    /// The caller as a value (key kind, MFA, agent...), when read from a
    /// record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<crate::verify::actor::Actor>,
}

/// Events sorted by time, kind and id, each once: one order whatever order
/// the logs (or a merge's slices) were read in.
pub(crate) fn in_one_order(mut events: Vec<LifecycleEvent>) -> Vec<LifecycleEvent> {
    events.sort_by(|a, b| {
        let key = |e: &LifecycleEvent| (e.time, e.kind.as_str(), e.event_id.clone());
        key(a).cmp(&key(b))
    });
    events.dedup();
    events
}

/// The home chain's own calls as another chain of the trail reads them:
/// recorded once, there, for every chain (the report says where).
pub(crate) fn from_home_chain(calls: &[LifecycleEvent]) -> Vec<LifecycleEvent> {
    calls
        .iter()
        .map(|e| LifecycleEvent {
            source: EventSource::HomeChainLogs,
            ..e.clone()
        })
        .collect()
}

/// One CloudTrail record -> a lifecycle event about `trail`, or None.
pub(crate) fn from_record(
    record: &Value,
    trail: &TrailArn,
    source: EventSource,
) -> Option<LifecycleEvent> {
    from_record_with(record, trail, source, None, None)
}

fn from_record_with(
    record: &Value,
    trail: &TrailArn,
    source: EventSource,
    fallback_time: Option<Timestamp>,
    fallback_id: Option<&str>,
) -> Option<LifecycleEvent> {
    let rec = record.as_object()?;
    let service = |v: &Value| v.as_str() != Some("cloudtrail.amazonaws.com");
    // Another service's event, or a failed call (which changed nothing).
    if rec.get("eventSource").is_some_and(service)
        || rec.get("errorCode").is_some_and(|v| !v.is_null())
    {
        return None;
    }
    let params = rec.get("requestParameters").and_then(Value::as_object);
    let kind = match rec.get("eventName")?.as_str()? {
        "StopLogging" => Lifecycle::LoggingStopped,
        "StartLogging" => Lifecycle::LoggingStarted,
        "DeleteTrail" => Lifecycle::TrailDeleted,
        "CreateTrail" => Lifecycle::TrailCreated,
        "UpdateTrail" => match params?.get("enableLogFileValidation")?.as_bool()? {
            true => Lifecycle::ValidationEnabled,
            false => Lifecycle::ValidationDisabled,
        },
        _ => return None,
    };
    // CloudTrail always names the service; a record without it is hand-made.
    rec.get("eventSource")?;
    if !names_trail(record, trail) {
        return None;
    }
    let time = rec.get("eventTime").and_then(Value::as_str);
    let time = time
        .and_then(|s| parse_user_time(s).ok())
        .or(fallback_time)?;
    let event_id = rec
        .get("eventID")
        .and_then(Value::as_str)
        .or(fallback_id)
        .map(str::to_string);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let identity = rec.get("userIdentity");
    Some(LifecycleEvent {
        time,
        kind,
        source,
        event_id,
        actor: text(identity.and_then(|u| u.get("arn")))
            .or_else(|| text(identity.and_then(|u| u.get("invokedBy")))),
        source_ip: text(rec.get("sourceIPAddress")),
        who: Some(crate::verify::actor::of_record(record)),
    })
}

/// Whether a trail call's record is about `trail`: by its ARN (asked or
/// answered), or by its bare name where the record states the trail's
/// account and region (a bare name resolves in the caller's account and
/// region; a hand-written record naming neither explains nothing).
pub(crate) fn names_trail(record: &Value, trail: &TrailArn) -> bool {
    let name = record
        .pointer("/requestParameters/name")
        .and_then(Value::as_str);
    let answered = record
        .pointer("/responseElements/trailARN")
        .and_then(Value::as_str);
    let by_arn = name == Some(trail.arn.as_str()) || answered == Some(trail.arn.as_str());
    let by_name = name == Some(trail.name.as_str()) && {
        let user = record.pointer("/userIdentity/accountId");
        let account = record.get("recipientAccountId").or(user);
        account.is_some_and(|a| a.as_str() == Some(&trail.account))
            && record
                .get("awsRegion")
                .is_some_and(|r| r.as_str() == Some(&trail.region))
    };
    by_arn || by_name
}

/// All lifecycle events in a log file's inflated bytes ({"Records":[...]}).
/// Malformed input yields an empty Vec. (The engine reads records as it
/// hashes; this whole-file form is the tests'.)
#[cfg(test)]
fn from_log_file(inflated: &[u8], trail: &TrailArn) -> Vec<LifecycleEvent> {
    let Ok(doc) = serde_json::from_slice::<Value>(inflated) else {
        return Vec::new();
    };
    match doc.get("Records").and_then(Value::as_array) {
        Some(records) => records
            .iter()
            .filter_map(|r| from_record(r, trail, EventSource::TrailLogs))
            .collect(),
        None => Vec::new(),
    }
}

/// Why a `lookup-events` document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupEventsError {
    #[error("The lookup-events output is not valid JSON ({0}).")]
    NotJson(String),
    #[error("The lookup-events output has no \"Events\" array.")]
    NoEvents,
    #[error("Entry {0} of the lookup-events \"Events\" array is not an object.")]
    NotAnObject(usize),
}

/// The JSON printed by `aws cloudtrail lookup-events`. Entries whose
/// CloudTrailEvent is missing or unreadable, or not about the trail, are skipped.
pub(crate) fn from_lookup_events_json(
    bytes: &[u8],
    trail: &TrailArn,
) -> Result<Vec<LifecycleEvent>, LookupEventsError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| LookupEventsError::NotJson(e.to_string()))?;
    let events = doc
        .get("Events")
        .and_then(Value::as_array)
        .ok_or(LookupEventsError::NoEvents)?;
    let mut out = Vec::new();
    for (i, entry) in events.iter().enumerate() {
        let entry = entry.as_object().ok_or(LookupEventsError::NotAnObject(i))?;
        let Some(record) = entry
            .get("CloudTrailEvent")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            continue;
        };
        let fallback_time = entry.get("EventTime").and_then(parse_json_time);
        let fallback_id = entry.get("EventId").and_then(Value::as_str);
        out.extend(from_record_with(
            &record,
            trail,
            EventSource::LookupEvents,
            fallback_time,
            fallback_id,
        ));
    }
    Ok(out)
}

/// Slack for clock differences between the record and digest times.
pub(crate) const SLACK: Duration = Duration::minutes(5);

/// What the events say about one gap [start, end) of a chain (end None: the
/// gap runs to the window's end, "tail").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation {
    /// A stop in (start - 1h - SLACK, start + SLACK] and, for gaps with an
    /// end, a restart in [start - SLACK, end + SLACK].
    Explained {
        stop: LifecycleEvent,
        restart: Option<LifecycleEvent>,
    },
    /// The stop came after start + SLACK (and before the end): the digests
    /// between `start` and `stop.time` were deleted.
    StopLater {
        stop: LifecycleEvent,
        restart: Option<LifecycleEvent>,
    },
    Unexplained,
}

impl Explanation {
    pub fn cause(&self) -> Option<&'static str> {
        match self {
            Explanation::Explained { stop, .. } | Explanation::StopLater { stop, .. } => {
                Some(stop.kind.as_str())
            }
            Explanation::Unexplained => None,
        }
    }
}

fn sub(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Latest by time; on a tie, the stronger source.
fn latest<'a>(it: impl Iterator<Item = &'a LifecycleEvent>) -> Option<&'a LifecycleEvent> {
    it.max_by(|a, b| a.time.cmp(&b.time).then(b.source.cmp(&a.source)))
}

/// Picks the explanation for a gap.
///
/// The chosen stop must not be followed by a restart before the gap (or, for
/// a tail, at all): a trail that logged again should have digests. Stop /
/// start / stop cycles inside the gap resolve to the last stop (`StopLater`).
pub fn explain(start: Timestamp, end: Option<Timestamp>, events: &[LifecycleEvent]) -> Explanation {
    explain_until(start, end, None, events)
}

/// [`explain`], for a gap whose newer side is a digest AWS signed as a new
/// start (no previous digest): CloudTrail's first log file after a restart
/// may record the StartLogging anywhere in that digest's period, which
/// ends at `signed_start_end`.
pub(crate) fn explain_until(
    start: Timestamp,
    end: Option<Timestamp>,
    signed_start_end: Option<Timestamp>,
    events: &[LifecycleEvent],
) -> Explanation {
    let lo = sub(sub(start, Duration::hours(1)), SLACK);
    let hi = add(start, SLACK);
    let before_end = |t: Timestamp| end.is_none_or(|e| t < e);
    let stops = || {
        events
            .iter()
            .filter(move |e| e.kind.is_stop() && e.time > lo && before_end(e.time))
    };
    let starts = || events.iter().filter(|e| !e.kind.is_stop());
    let Some(last) = latest(stops()) else {
        return Explanation::Unexplained;
    };
    let (stop, explained) = if last.time <= hi {
        (last, true)
    } else {
        match latest(stops().filter(|e| e.time <= hi)) {
            // Still off between the early stop and the last one: the early one counts.
            Some(early) if !starts().any(|s| s.time > early.time && s.time < last.time) => {
                (early, true)
            }
            _ => (last, false),
        }
    };
    // The first start after the stop must fall in [start - SLACK, end + SLACK]
    // (earlier: the trail logged again before the gap; the end reaches to
    // the end of a new chain's first period) and, for a tail, not exist.
    // A deleted trail logs again only once re-created: its CreateTrail is
    // the restart the explanation names (a StartLogging in the same second
    // may sort first).
    let earliest = |kinds: &dyn Fn(Lifecycle) -> bool| {
        starts()
            .filter(|s| s.time >= stop.time && kinds(s.kind))
            .min_by(|a, b| a.time.cmp(&b.time).then(a.source.cmp(&b.source)))
    };
    let first = match stop.kind {
        Lifecycle::TrailDeleted => earliest(&|k| k == Lifecycle::TrailCreated),
        _ => None,
    }
    .or_else(|| earliest(&|_| true));
    let restart_by = |e: Timestamp| add(signed_start_end.map_or(e, |s| s.max(e)), SLACK);
    let restart = match (end, first) {
        (Some(e), Some(r)) if r.time >= sub(start, SLACK) && r.time <= restart_by(e) => {
            Some(r.clone())
        }
        (None, None) => None,
        _ => return Explanation::Unexplained,
    };
    let stop = stop.clone();
    if explained {
        Explanation::Explained { stop, restart }
    } else {
        Explanation::StopLater { stop, restart }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Lifecycle::*;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";

    fn t(hm: &str) -> Timestamp {
        parse_user_time(&format!("2026-03-01T{hm}:00Z")).unwrap()
    }

    fn rec(name: &str, params: Value) -> Value {
        json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": name,
               "eventTime": "2026-03-01T01:58:00Z", "eventID": "e1", "awsRegion": "us-east-1",
               "recipientAccountId": "123456789012", "requestParameters": params})
    }

    fn kind(r: &Value) -> Option<Lifecycle> {
        let trail = TrailArn::parse(ARN).unwrap();
        from_record(r, &trail, EventSource::TrailLogs).map(|e| e.kind)
    }

    #[test]
    fn records() {
        let n = |name: &str| json!({"name": name});
        let v = |on: bool| json!({"name": ARN, "enableLogFileValidation": on});
        let other_arn = ARN.replace("/main", "/other");
        for (name, params, want) in [
            ("StopLogging", n(ARN), Some(LoggingStopped)),
            ("StartLogging", n("main"), Some(LoggingStarted)),
            ("DeleteTrail", n("main"), Some(TrailDeleted)),
            ("CreateTrail", n("main"), Some(TrailCreated)),
            ("UpdateTrail", v(false), Some(ValidationDisabled)),
            ("UpdateTrail", v(true), Some(ValidationEnabled)),
            (
                "UpdateTrail",
                json!({"name": ARN, "s3BucketName": "b"}),
                None,
            ),
            ("StopLogging", n("other"), None),
            ("StopLogging", n(&other_arn), None),
        ] {
            assert_eq!(kind(&rec(name, params)), want, "{name}");
        }
        for (field, value) in [
            ("errorCode", "AccessDenied"),
            ("awsRegion", "eu-west-1"),
            ("recipientAccountId", "999999999999"),
            ("eventSource", "s3.amazonaws.com"),
            ("eventTime", "yesterday"),
        ] {
            let mut r = rec("StopLogging", n("main"));
            r[field] = json!(value);
            assert_eq!(kind(&r), None, "{field}");
        }
    }

    #[test]
    fn documents_and_hostile_input() {
        let trail = TrailArn::parse(ARN).unwrap();
        let stop = rec("StopLogging", json!({"name": ARN}));
        let doc = json!({"Records": [stop, 5, rec("ListTrails", json!({}))]});
        let got = from_log_file(doc.to_string().as_bytes(), &trail);
        assert_eq!((got.len(), got[0].event_id.as_deref()), (1, Some("e1")));
        let deep = "[".repeat(10_000);
        let bad: [&[u8]; 5] = [
            b"not json",
            br#"{"Records":{}}"#,
            b"[]",
            deep.as_bytes(),
            b"",
        ];
        for bad in bad {
            assert!(from_log_file(bad, &trail).is_empty());
            assert!(from_lookup_events_json(bad, &trail).is_err());
        }
        assert!(from_lookup_events_json(br#"{"Events":[1]}"#, &trail).is_err());
        // lookup-events: the record's own eventTime wins; else EventTime (string or epoch).
        let mut bare = stop.clone();
        bare["eventTime"] = Value::Null;
        let (bare, other) = (bare.to_string(), rec("StopLogging", json!({"name": "x"})));
        let doc = json!({"Events": [
            {"EventId": "a", "EventTime": "2026-03-01T01:58:00+00:00", "CloudTrailEvent": bare},
            {"EventId": "b", "EventTime": 1772330280, "CloudTrailEvent": bare},
            {"EventId": "c", "EventTime": 0, "CloudTrailEvent": stop.to_string()},
            {"EventId": "d", "EventTime": 0, "CloudTrailEvent": other.to_string()},
            {"EventId": "e", "EventTime": 0, "CloudTrailEvent": deep},
        ], "NextToken": "x"});
        let got = from_lookup_events_json(doc.to_string().as_bytes(), &trail).unwrap();
        assert!(got.len() == 3 && got.iter().all(|e| e.time == t("01:58")));
        assert!(got.iter().all(|e| e.source == EventSource::LookupEvents));
    }

    fn ev(hm: &str, kind: Lifecycle) -> LifecycleEvent {
        let (time, source) = (t(hm), EventSource::EventsFile);
        LifecycleEvent {
            time,
            kind,
            source,
            event_id: None,
            actor: None,
            source_ip: None,
            who: None,
        }
    }

    /// Explains the gap [02:00, end) as "E|L|U [stop [restart]]".
    fn run(end: Option<&str>, events: &[(&str, Lifecycle)]) -> String {
        let events: Vec<_> = events.iter().map(|&(hm, kind)| ev(hm, kind)).collect();
        let (tag, stop, restart) = match explain(t("02:00"), end.map(t), &events) {
            Explanation::Explained { stop, restart } => ("E", Some(stop), restart),
            Explanation::StopLater { stop, restart } => ("L", Some(stop), restart),
            Explanation::Unexplained => ("U", None, None),
        };
        let hm = |e: Option<LifecycleEvent>| {
            e.map_or(String::new(), |e| e.time.format(" %H:%M").to_string())
        };
        format!("{tag}{}{}", hm(stop), hm(restart))
    }

    #[test]
    fn explanations() {
        let (stop, start) = (("01:58", LoggingStopped), ("05:30", LoggingStarted));
        let end = Some("06:00");
        assert_eq!(run(end, &[start, stop]), "E 01:58 05:30");
        assert_eq!(run(None, &[stop]), "E 01:58"); // tail
        assert_eq!(run(None, &[stop, start]), "U"); // restarted, yet no digests
        assert_eq!(run(end, &[stop]), "U"); // no restart
        assert_eq!(run(end, &[("00:54", ValidationDisabled), start]), "U"); // too early
        let resumed = [("01:30", LoggingStopped), ("01:40", TrailCreated), start];
        assert_eq!(run(end, &resumed), "U"); // logging resumed before the gap
        assert_eq!(run(end, &[]), "U");
        // Stops after the gap began: digests were deleted; the last stop counts.
        let (s1, r1) = (("03:00", LoggingStopped), ("03:10", LoggingStarted));
        let (s2, r2) = (("04:00", TrailDeleted), ("05:00", TrailCreated));
        assert_eq!(run(end, &[s1, r1]), "L 03:00 03:10");
        assert_eq!(run(None, &[s1]), "L 03:00");
        assert_eq!(run(end, &[s1, r1, s2, r2]), "L 04:00 05:00");
        // A redundant later stop (no restart between) keeps the first one.
        let redundant = [s2, ("01:59", ValidationDisabled), r2];
        assert_eq!(run(end, &redundant), "E 01:59 05:00");
        let got = explain(t("02:00"), None, &[ev("01:59", TrailDeleted)]);
        assert_eq!(got.cause(), Some("trail_deleted"));
        assert_eq!(Explanation::Unexplained.cause(), None);
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        let both = [ev("01:59", LoggingStopped), ev("02:30", LoggingStarted)];
        let _ = (explain(min, Some(max), &both), explain(max, None, &both));
    }
}
