//! Coverage changes: the calls that make a trail record less without
//! stopping it (`PutEventSelectors` turning management events, their writes
//! or a bucket's data events off, `UpdateTrail` turning multi-region or
//! global service events off) and the calls that restore it, read from the
//! trail's own verified log files or from `get-event-selectors` JSON. The
//! digests of such a trail stay perfectly valid, so an intruder's narrowing
//! is invisible to integrity checks alone. Pure; the spans are
//! `narrowing.rs`.
//!
//! Kept apart from the lifecycle records on purpose: the proof of the
//! window reads every lifecycle record that is not a stop as a restart, and
//! a selector change must never explain a gap.

use crate::verify::arn::TrailArn;
use crate::verify::time::{parse_user_time, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Data events of one resource type, reads or writes, on ARNs starting
/// with a prefix (`""`: every resource of the type), unless some other
/// condition filters them (an exact ARN, an event name, a caller...): a
/// filtered scope covers only the same filtered scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DataScope {
    pub resource_type: String,
    /// `read` or `write`.
    pub access: String,
    pub arn_prefix: String,
    /// The other conditions, in a canonical form ("" for none).
    pub filter: String,
}

impl std::fmt::Display for DataScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match self.arn_prefix.as_str() {
            "" => "every resource".to_string(),
            p => p.to_string(),
        };
        write!(f, "{} data {} on {on}", self.resource_type, self.access)?;
        match self.filter.as_str() {
            "" => Ok(()),
            filter => write!(f, " where {filter}"),
        }
    }
}

/// What a trail records, setting by setting (None: not known, or not set
/// by a change). A change sets some of them and leaves the rest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    pub management_reads: Option<bool>,
    pub management_writes: Option<bool>,
    pub multi_region: Option<bool>,
    pub global_events: Option<bool>,
    /// The data events recorded.
    pub data: Option<BTreeSet<DataScope>>,
    /// The event sources whose management events are left out (a
    /// condition other than an exclusion is kept as its own words).
    pub excluded_sources: Option<BTreeSet<String>>,
}

const FLAG_NAMES: [&str; 4] = [
    "management read events",
    "management write events",
    "other regions' events (multi-region)",
    "global service events",
];

impl Settings {
    fn flags(&self) -> [Option<bool>; 4] {
        [
            self.management_reads,
            self.management_writes,
            self.multi_region,
            self.global_events,
        ]
    }

    /// What `reference` records that `self` does not, in words (an unknown
    /// reference setting counts as on: full coverage).
    pub(crate) fn lost_from(&self, reference: &Settings) -> Vec<String> {
        let mut lost: Vec<String> = self
            .flags()
            .iter()
            .zip(reference.flags())
            .zip(FLAG_NAMES)
            .filter(|((now, was), _)| **now == Some(false) && *was != Some(false))
            .map(|(_, name)| name.to_string())
            .collect();
        if let Some(now) = &self.excluded_sources {
            // An unknown reference left none out.
            let was = reference.excluded_sources.clone().unwrap_or_default();
            lost.extend(
                now.difference(&was)
                    .map(|s| format!("management events of {s}")),
            );
        }
        if let (Some(now), Some(was)) = (&self.data, &reference.data) {
            lost.extend(
                was.iter()
                    .filter(|scope| !covers(now, scope))
                    .map(|s| s.to_string()),
            );
        }
        lost
    }

    /// Records less than everything in some setting it knows.
    pub fn narrows(&self) -> bool {
        !self.lost_from(&Settings::default()).is_empty()
    }

    /// `self` with `change`'s settings applied over it.
    pub fn then(&self, change: &Settings) -> Settings {
        Settings {
            management_reads: change.management_reads.or(self.management_reads),
            management_writes: change.management_writes.or(self.management_writes),
            multi_region: change.multi_region.or(self.multi_region),
            global_events: change.global_events.or(self.global_events),
            data: change.data.clone().or_else(|| self.data.clone()),
            excluded_sources: change
                .excluded_sources
                .clone()
                .or_else(|| self.excluded_sources.clone()),
        }
    }

    /// The settings of `self` that none of `changes` sets: what the trail
    /// recorded before them, when `self` is what it records now.
    pub(crate) fn untouched_by(&self, changes: &[CoverageChange]) -> Settings {
        let set = changes
            .iter()
            .fold(Settings::default(), |acc, c| acc.then(&c.settings));
        self.masked(&set, false)
    }

    /// The settings both know, for comparing a recorded state with another.
    pub(crate) fn known_in(&self, other: &Settings) -> Settings {
        self.masked(other, true)
    }

    /// `self`'s settings where `by` knows the same setting (`known`) or
    /// does not (`!known`); the others unknown.
    fn masked(&self, by: &Settings, known: bool) -> Settings {
        fn keep<T: Clone>(mine: &Option<T>, theirs: &Option<impl Sized>, known: bool) -> Option<T> {
            mine.clone().filter(|_| theirs.is_some() == known)
        }
        Settings {
            management_reads: keep(&self.management_reads, &by.management_reads, known),
            management_writes: keep(&self.management_writes, &by.management_writes, known),
            multi_region: keep(&self.multi_region, &by.multi_region, known),
            global_events: keep(&self.global_events, &by.global_events, known),
            data: keep(&self.data, &by.data, known),
            excluded_sources: keep(&self.excluded_sources, &by.excluded_sources, known),
        }
    }

    /// The data scopes of both.
    pub(crate) fn with_data_of(mut self, other: &Settings) -> Settings {
        if let Some(more) = &other.data {
            let mut all = self.data.take().unwrap_or_default();
            all.extend(more.iter().cloned());
            self.data = Some(all);
        }
        self
    }
}

/// `set` records `scope`'s events: a scope of the same type and access on
/// a prefix of its ARNs.
fn covers(set: &BTreeSet<DataScope>, scope: &DataScope) -> bool {
    set.iter().any(|s| {
        s == scope
            || (s.filter.is_empty()
                && s.resource_type == scope.resource_type
                && s.access == scope.access
                && scope.arn_prefix.starts_with(&s.arn_prefix))
    })
}

/// One recorded change of what the trail records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The caller as a value (key kind, MFA, agent...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<crate::verify::actor::Actor>,
    /// Read from event history (LookupEvents), not from a verified log of
    /// this chain: one before the window only says what the trail recorded
    /// at its start.
    pub from_history: bool,
}

/// One record -> a coverage change of `trail`, or None.
pub(crate) fn from_record(rec: &Value, trail: &TrailArn) -> Option<CoverageChange> {
    if rec.get("eventSource")?.as_str()? != "cloudtrail.amazonaws.com"
        || rec.get("errorCode").is_some_and(|v| !v.is_null())
    {
        return None;
    }
    let params = rec.get("requestParameters").and_then(Value::as_object);
    let named = params
        .and_then(|p| p.get("trailName").or_else(|| p.get("name")))
        .and_then(Value::as_str)
        .unwrap_or("");
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
        // New selectors the record does not show: taken as recording no
        // management events until a later change shows coverage again.
        "PutEventSelectors" => params.and_then(event_selectors).unwrap_or_else(|| {
            let (s, _) = management(false, false, BTreeSet::new(), BTreeSet::new(), "");
            let what = "PutEventSelectors whose new selectors its record does not show \
                        (taken as recording no management events)";
            (s, what.to_string())
        }),
        "UpdateTrail" => trail_flags(params?)?,
        "CreateTrail" => trail_created(params?),
        // Changes nothing by itself; a CreateTrail after it is a trail
        // re-created, judged against what the deleted one recorded.
        "DeleteTrail" => (Settings::default(), "the trail deleted".to_string()),
        // Insights are analysis, not recording: shown, never a narrowing.
        "PutInsightSelectors" => (Settings::default(), insight_words(params?)),
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
        who: Some(crate::verify::actor::of_record(rec)),
        from_history: false,
    })
}

/// The settings in `aws cloudtrail get-event-selectors` JSON (PascalCase,
/// as the API answers; camelCase as a log record's requestParameters is
/// read too): the compliance baseline of `--expect-selectors`, or what the
/// trail records now.
pub(crate) fn from_get_event_selectors(doc: &Value) -> Result<Settings, SelectorsError> {
    let camel = camel_keys(doc);
    let params = camel.as_object().ok_or(SelectorsError::NotAnObject)?;
    let listed = |k: &str| params.get(k).and_then(Value::as_array).map(Vec::len);
    if listed("advancedEventSelectors").unwrap_or(0) + listed("eventSelectors").unwrap_or(0) == 0
        && (listed("advancedEventSelectors").is_some() || listed("eventSelectors").is_some())
    {
        return Err(SelectorsError::NoSelectors);
    }
    let types = params
        .get("eventSelectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("readWriteType"));
    for t in types {
        if !matches!(t.as_str(), Some("All" | "ReadOnly" | "WriteOnly")) {
            return Err(SelectorsError::ReadWriteType(t.to_string()));
        }
    }
    event_selectors(params)
        .map(|(s, _)| s)
        .ok_or(SelectorsError::NeitherKind)
}

/// Why a `get-event-selectors` document says nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorsError {
    #[error("it is not a JSON object like `aws cloudtrail get-event-selectors` prints")]
    NotAnObject,
    #[error("it lists no selectors (a trail with none records nothing)")]
    NoSelectors,
    #[error("ReadWriteType {0} is none of All, ReadOnly, WriteOnly")]
    ReadWriteType(String),
    #[error(
        "it has neither \"EventSelectors\" nor \"AdvancedEventSelectors\" as `aws cloudtrail \
         get-event-selectors` prints them"
    )]
    NeitherKind,
}

/// PascalCase keys to camelCase, at every depth (values untouched).
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_lowercase().chain(c).collect(),
                        None => String::new(),
                    };
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// What a PutEventSelectors call (or get-event-selectors) records.
fn event_selectors(params: &Map<String, Value>) -> Option<(Settings, String)> {
    if let Some(advanced) = params
        .get("advancedEventSelectors")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        return Some(advanced_selectors(advanced));
    }
    let selectors = params.get("eventSelectors")?.as_array()?;
    let (mut reads, mut writes) = (false, false);
    let mut excluded: Option<BTreeSet<String>> = None;
    let mut data = BTreeSet::new();
    for s in selectors {
        let rw = s
            .get("readWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All");
        let access = accesses(Some(rw == "ReadOnly").filter(|_| rw != "All"));
        for r in s
            .get("dataResources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            for value in strings(r.get("values")) {
                for a in &access {
                    data.insert(scope(kind, a, value, ""));
                }
            }
        }
        if s.get("includeManagementEvents").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        match rw {
            "ReadOnly" => reads = true,
            "WriteOnly" => writes = true,
            _ => (reads, writes) = (true, true),
        }
        let here: BTreeSet<String> = strings(s.get("excludeManagementEventSources"))
            .into_iter()
            .map(str::to_string)
            .collect();
        excluded = both_leave_out(excluded, here);
    }
    let excluded = excluded.unwrap_or_default();
    Some(management(reads, writes, excluded, data, "event selectors"))
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// "read" and "write", or the one `read_only` says.
fn accesses(read_only: Option<bool>) -> Vec<&'static str> {
    match read_only {
        Some(true) => vec!["read"],
        Some(false) => vec!["write"],
        None => vec!["read", "write"],
    }
}

fn scope(kind: &str, access: &str, prefix: &str, filter: &str) -> DataScope {
    let prefix = prefix.trim_end_matches(':');
    DataScope {
        resource_type: kind.to_string(),
        access: access.to_string(),
        // `arn:aws:s3`, `arn:aws:s3:::` and no ARN at all: every resource
        // of the type; any other prefix (`arn:aws:s3x`) is itself.
        arn_prefix: match service_root(prefix, kind) {
            true => String::new(),
            false => prefix.to_string(),
        },
        filter: filter.to_string(),
    }
}

/// `arn:<partition>:<service>` of the resource type's own service (`s3`
/// for `AWS::S3::Object`), in a partition CloudTrail runs in.
fn service_root(prefix: &str, kind: &str) -> bool {
    let service = kind.split("::").nth(1).unwrap_or("").to_ascii_lowercase();
    let parts: Vec<&str> = prefix.split(':').collect();
    matches!(parts.as_slice(), ["arn", p, s]
        if ["aws", "aws-cn", "aws-us-gov"].contains(p) && !service.is_empty() && *s == service)
}

/// A source is left out only if every management selector leaves it out.
fn both_leave_out(
    so_far: Option<BTreeSet<String>>,
    here: BTreeSet<String>,
) -> Option<BTreeSet<String>> {
    Some(match so_far {
        None => here,
        Some(s) => s.intersection(&here).cloned().collect(),
    })
}

/// Operators of an advanced field selector that have values (an API
/// answer lists empty ones too).
fn conditions(f: &Value) -> Vec<(String, Vec<&str>)> {
    [
        "equals",
        "startsWith",
        "endsWith",
        "notEquals",
        "notStartsWith",
        "notEndsWith",
    ]
    .iter()
    .map(|op| (op.to_string(), strings(f.get(*op))))
    .filter(|(_, v)| !v.is_empty())
    .collect()
}

/// The scopes of a data (or network activity) selector: its resource
/// types, ARN prefixes (`startsWith`), and every other condition as a
/// filter.
fn data_scopes(fields: &[&Value], category: &[&str], read_only: Option<bool>) -> Vec<DataScope> {
    let mut filter: Vec<String> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for f in fields {
        let name = f.get("field").and_then(Value::as_str).unwrap_or("");
        for (op, values) in conditions(f) {
            match (name, op.as_str()) {
                ("eventCategory" | "readOnly", _) => {}
                ("resources.type", "equals") => kinds.extend(values.iter().map(|v| v.to_string())),
                ("resources.ARN", "startsWith") => {
                    prefixes.extend(values.iter().map(|v| v.to_string()))
                }
                _ => {
                    let mut values = values.clone();
                    values.sort();
                    filter.push(format!("{name} {op} {}", values.join("|")))
                }
            }
        }
    }
    if kinds.is_empty() {
        kinds = category.iter().map(|c| c.to_string()).collect();
    }
    if prefixes.is_empty() {
        prefixes.push(String::new());
    }
    filter.sort();
    let filter = filter.join(" and ");
    let mut out = Vec::new();
    for kind in &kinds {
        for p in &prefixes {
            for a in accesses(read_only) {
                out.push(scope(kind, a, p, &filter));
            }
        }
    }
    out
}

/// Advanced selectors: the management ones (`eventCategory = Management`,
/// and what their `readOnly` and `eventSource` fields leave out) and the
/// data ones (`resources.type`, `resources.ARN`, `readOnly`).
fn advanced_selectors(selectors: &[Value]) -> (Settings, String) {
    let (mut reads, mut writes) = (false, false);
    let mut excluded: Option<BTreeSet<String>> = None;
    let mut data = BTreeSet::new();
    for s in selectors {
        let fields: Vec<&Value> = s
            .get("fieldSelectors")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let field = |name: &str| {
            fields
                .iter()
                .copied()
                .find(|f| f.get("field").and_then(Value::as_str) == Some(name))
        };
        let has = |f: &Value, op: &str, value: &str| strings(f.get(op)).contains(&value);
        // readOnly = true (or != false): reads only; = false (or != true): writes only.
        let read_only =
            field("readOnly").map(|f| has(f, "equals", "true") || has(f, "notEquals", "false"));
        let category = field("eventCategory");
        if category.is_some_and(|f| has(f, "equals", "Management")) {
            match read_only {
                Some(true) => reads = true,
                Some(false) => writes = true,
                None => (reads, writes) = (true, true),
            }
            // Any condition on the source leaves some sources out.
            let mut here = BTreeSet::new();
            for (op, values) in field("eventSource").map(conditions).unwrap_or_default() {
                for v in values {
                    here.insert(match op.as_str() {
                        "notEquals" => v.to_string(),
                        _ => format!("every source but those where eventSource {op} {v}"),
                    });
                }
            }
            excluded = both_leave_out(excluded, here);
        } else if let Some(category) = category.map(|f| strings(f.get("equals"))) {
            data.extend(data_scopes(&fields, &category, read_only));
        }
    }
    let excluded = excluded.unwrap_or_default();
    management(reads, writes, excluded, data, "advanced event selectors")
}

fn management(
    reads: bool,
    writes: bool,
    excluded: BTreeSet<String>,
    data: BTreeSet<DataScope>,
    how: &str,
) -> (Settings, String) {
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
    if !excluded.is_empty() && (reads || writes) {
        what.push_str(", and exclude some event sources' management events");
    }
    match data.len() {
        0 => what.push_str(", and no data events"),
        n => what.push_str(&format!(", and data events in {n} scope(s)")),
    }
    let settings = Settings {
        management_reads: Some(reads),
        management_writes: Some(writes),
        excluded_sources: Some(excluded),
        data: Some(data),
        ..Settings::default()
    };
    (settings, what)
}

fn insight_words(params: &Map<String, Value>) -> String {
    let kinds: Vec<&str> = params
        .get("insightSelectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("insightType").and_then(Value::as_str))
        .collect();
    match kinds.is_empty() {
        true => "Insights turned off".to_string(),
        false => format!("Insights on for {}", kinds.join(", ")),
    }
}

/// A trail created (or re-created under the same name): CloudTrail's
/// defaults, every management event and no data events, with the flags
/// its request sets. Earlier selectors of a deleted trail do not carry over.
fn trail_created(params: &Map<String, Value>) -> (Settings, String) {
    let flag = |k: &str, default: bool| params.get(k).and_then(Value::as_bool).unwrap_or(default);
    let (mut settings, _) = management(true, true, BTreeSet::new(), BTreeSet::new(), "");
    settings.multi_region = Some(flag("isMultiRegionTrail", false));
    settings.global_events = Some(flag("includeGlobalServiceEvents", true));
    (
        settings,
        "a new trail: every management event, no data events".to_string(),
    )
}

/// UpdateTrail's settings: the flags that set what is recorded, and where
/// the logs now go (shown in the report, not a narrowing: the chain in the
/// old place ends, which the proof of the window sees).
fn trail_flags(params: &Map<String, Value>) -> Option<(Settings, String)> {
    let flag = |k: &str| params.get(k).and_then(Value::as_bool);
    let settings = Settings {
        multi_region: flag("isMultiRegionTrail"),
        global_events: flag("includeGlobalServiceEvents"),
        ..Settings::default()
    };
    let words = |f: Option<bool>, name: &str| {
        f.map(|on| format!("{name} {}", if on { "on" } else { "off" }))
    };
    let place = |k: &str, name: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .map(|v| format!("{name} to {v}"))
    };
    let said: Vec<String> = [
        words(settings.multi_region, "multi-region"),
        words(settings.global_events, "global service events"),
        place("s3BucketName", "the bucket"),
        place("s3KeyPrefix", "the key prefix"),
        place("kmsKeyId", "the KMS key"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!said.is_empty()).then(|| (settings, format!("UpdateTrail set {}", said.join(" and "))))
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
        // Insights off is shown, not a narrowing.
        let insights = json!({"trailName": ARN, "insightSelectors": []});
        let c = from_record(
            &rec("PutInsightSelectors", "2026-03-01T02:00:00Z", insights),
            &trail,
        )
        .unwrap();
        assert!(!c.narrows && c.what == "Insights turned off", "{c:?}");
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
}
