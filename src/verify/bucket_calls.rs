//! The bucket-side story: the calls, in the trail's verified logs or in
//! event history, that weaken what keeps the evidence (the trail's bucket's
//! lifecycle, versioning, policy, encryption and Object Lock, the trail's
//! KMS key) or move it (DeleteTrail, UpdateTrail to another bucket, prefix
//! or key), each with who made it and how. Pure: the engine hands in
//! records.

use crate::verify::arn::TrailArn;
use crate::verify::lifecycle::EventSource;
use crate::verify::time::{parse_user_time, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a call did to the evidence's keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    PutBucketLifecycle,
    DeleteBucketLifecycle,
    PutBucketVersioning,
    PutBucketPolicy,
    DeleteBucketPolicy,
    PutBucketEncryption,
    PutObjectLockConfiguration,
    DeleteBucketEncryption,
    PutBucketAcl,
    PutBucketReplication,
    DeleteBucketReplication,
    DisableKey,
    ScheduleKeyDeletion,
    PutKeyPolicy,
    DeleteTrail,
    /// UpdateTrail changing S3BucketName, S3KeyPrefix or KmsKeyId.
    TrailMoved,
}

pub use crate::verify::actor::Credential;

/// One call, as its record states it (attacker-controlled only where the
/// record is: from verified logs it is CloudTrail's word).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketCall {
    pub time: Timestamp,
    pub kind: CallKind,
    /// The bucket, key or trail the call named.
    pub target: String,
    /// What it set, as (field, value) pairs from the request (the
    /// versioning status, the new bucket, the deletion window...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<(String, String)>,
    pub actor: Option<String>,
    pub credential: Option<Credential>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub mfa: Option<bool>,
    pub source_ip: Option<String>,
    pub event_id: Option<String>,
    pub source: EventSource,
}

/// Whose calls count: the trail's buckets, its KMS key, the trail itself.
#[derive(Debug, Clone)]
pub struct Scope {
    pub buckets: Vec<String>,
    /// The trail's KMS key (ARN); None: KMS calls are not judged.
    pub key: Option<String>,
    pub trail: TrailArn,
}

/// Each call read, by service and event name (CloudTrail records
/// PutBucketLifecycleConfiguration as PutBucketLifecycle; both are taken).
/// DeleteTrail and UpdateTrail are the trail's calls, which the lifecycle
/// watch sees.
const CALLS: [(&str, &str, CallKind); 17] = [
    (S3, "PutBucketLifecycle", CallKind::PutBucketLifecycle),
    (
        S3,
        "PutBucketLifecycleConfiguration",
        CallKind::PutBucketLifecycle,
    ),
    (S3, "DeleteBucketLifecycle", CallKind::DeleteBucketLifecycle),
    (S3, "PutBucketVersioning", CallKind::PutBucketVersioning),
    (S3, "PutBucketPolicy", CallKind::PutBucketPolicy),
    (S3, "DeleteBucketPolicy", CallKind::DeleteBucketPolicy),
    (S3, "PutBucketEncryption", CallKind::PutBucketEncryption),
    (
        S3,
        "DeleteBucketEncryption",
        CallKind::DeleteBucketEncryption,
    ),
    (
        S3,
        "PutObjectLockConfiguration",
        CallKind::PutObjectLockConfiguration,
    ),
    (S3, "PutBucketAcl", CallKind::PutBucketAcl),
    (S3, "PutBucketReplication", CallKind::PutBucketReplication),
    (
        S3,
        "DeleteBucketReplication",
        CallKind::DeleteBucketReplication,
    ),
    (KMS, "DisableKey", CallKind::DisableKey),
    (KMS, "ScheduleKeyDeletion", CallKind::ScheduleKeyDeletion),
    (KMS, "PutKeyPolicy", CallKind::PutKeyPolicy),
    (TRAIL, "DeleteTrail", CallKind::DeleteTrail),
    (TRAIL, "UpdateTrail", CallKind::TrailMoved),
];

const S3: &str = "s3.amazonaws.com";
const KMS: &str = "kms.amazonaws.com";
const TRAIL: &str = "cloudtrail.amazonaws.com";

/// Whether a verified log file naming this event is parsed for the story
/// (the record watch asks; the names are rare in a real trail).
pub fn watched(name: &[u8]) -> bool {
    CALLS.iter().any(|(_, n, _)| n.as_bytes() == name)
}

/// The event names asked of event history (LookupEvents by name).
pub fn names() -> impl Iterator<Item = &'static str> {
    CALLS.iter().map(|(_, n, _)| *n)
}

fn kind_of(source: &str, name: &str) -> Option<CallKind> {
    let call = CALLS.iter().find(|(s, n, _)| *s == source && *n == name);
    call.map(|(_, _, k)| *k)
}

/// The call one record makes on the evidence, if it makes one and
/// succeeded.
pub fn from_record(rec: &Value, scope: &Scope, source: EventSource) -> Option<BucketCall> {
    let obj = rec.as_object()?;
    if obj.get("errorCode").is_some_and(|v| !v.is_null()) {
        return None;
    }
    let name = obj.get("eventName")?.as_str()?;
    let kind = kind_of(obj.get("eventSource")?.as_str()?, name)?;
    let params = obj.get("requestParameters").and_then(Value::as_object);
    let (target, changes) = target_of(kind, rec, params, scope)?;
    let who = crate::verify::actor::of_record(rec);
    Some(BucketCall {
        time: parse_user_time(obj.get("eventTime")?.as_str()?).ok()?,
        kind,
        target,
        changes,
        actor: who.arn,
        credential: who.credential,
        mfa: who.mfa,
        source_ip: who.source_ip,
        event_id: who.event_id,
        source,
    })
}

type Params<'a> = Option<&'a serde_json::Map<String, Value>>;

/// The call's target when it is the trail's bucket, key or the trail, and
/// what it set; None for anyone else's.
fn target_of(
    kind: CallKind,
    rec: &Value,
    params: Params<'_>,
    scope: &Scope,
) -> Option<(String, Vec<(String, String)>)> {
    let param = |k: &str| params.and_then(|p| p.get(k)).and_then(Value::as_str);
    let field = |path: &str| rec.pointer(path).map(scalar).filter(|s| !s.is_empty());
    match kind {
        CallKind::DisableKey | CallKind::ScheduleKeyDeletion | CallKind::PutKeyPolicy => {
            let id = param("keyId")?;
            let key = scope.key.as_deref().filter(|k| same_key(k, id))?;
            let days = field("/requestParameters/pendingWindowInDays");
            Some((key.to_string(), pairs([("pending_window_days", days)])))
        }
        CallKind::DeleteTrail | CallKind::TrailMoved => {
            let ours = crate::verify::lifecycle::names_trail(rec, &scope.trail);
            let moved = [
                ("s3_bucket_name", field("/requestParameters/s3BucketName")),
                ("s3_key_prefix", field("/requestParameters/s3KeyPrefix")),
                ("kms_key_id", field("/requestParameters/kmsKeyId")),
            ];
            let changes = pairs(moved);
            let counts = kind == CallKind::DeleteTrail || !changes.is_empty();
            (ours && counts).then(|| (scope.trail.arn.clone(), changes))
        }
        _ => {
            let bucket = param("bucketName")?;
            scope.buckets.iter().any(|b| b == bucket).then_some(())?;
            let set = [
                (
                    "versioning",
                    field("/requestParameters/VersioningConfiguration/Status"),
                ),
                (
                    "mfa_delete",
                    field("/requestParameters/VersioningConfiguration/MfaDelete"),
                ),
                ("expiration_days", soonest(rec, "/Expiration/Days")),
                ("expiration_date", soonest(rec, "/Expiration/Date")),
                (
                    "noncurrent_expiration_days",
                    soonest(rec, "/NoncurrentVersionExpiration/NoncurrentDays"),
                ),
            ];
            Some((bucket.to_string(), pairs(set)))
        }
    }
}

/// The soonest value at `path` over a lifecycle request's rules (one rule
/// or a list): the rule that deletes first is the one that matters.
fn soonest(rec: &Value, path: &str) -> Option<String> {
    let rules = rec.pointer("/requestParameters/LifecycleConfiguration/Rule")?;
    let one = std::slice::from_ref(rules);
    let all = rules.as_array().map_or(one, Vec::as_slice);
    let values = all.iter().filter_map(|r| r.pointer(path)).map(scalar);
    // Days as numbers, dates as ISO text: both order by their own compare.
    values
        .filter(|v| !v.is_empty())
        .min_by(|a, b| match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        })
}

fn pairs<const N: usize>(found: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    found
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A request's keyId (an id, an ARN or an alias) names the trail's key
/// (an ARN) when it is the key's ARN or its id.
fn same_key(key_arn: &str, id: &str) -> bool {
    let key_id = key_arn.rsplit('/').next().unwrap_or(key_arn);
    !id.is_empty() && (id == key_arn || id == key_id)
}

/// Calls of one kind on one target listed at most from event history: the
/// first and the last this many (a hostile or busy account can make
/// thousands).
pub const SHOWN_PER_KIND: usize = 5;

/// Calls sorted by time, each once, and how many were left out. A call
/// read from a verified log and from event history is one: the verified
/// record is kept (an unsigned one with its eventID never displaces it).
pub fn in_one_order(mut calls: Vec<BucketCall>) -> (Vec<BucketCall>, usize) {
    calls.sort_by(|a, b| (&a.event_id, a.source).cmp(&(&b.event_id, b.source)));
    calls.dedup_by(|later, kept| later.event_id.is_some() && later.event_id == kept.event_id);
    calls.sort_by_key(|c| (c.time, c.kind, c.source));
    let mut seen: std::collections::HashMap<(CallKind, String), usize> = Default::default();
    for c in &calls {
        *seen.entry((c.kind, c.target.clone())).or_default() += 1;
    }
    let mut nth: std::collections::HashMap<(CallKind, String), usize> = Default::default();
    let before = calls.len();
    // A call from a verified log is never left out: only event history's
    // (which anyone able to call the API can pad) is thinned.
    calls.retain(|c| {
        let id = (c.kind, c.target.clone());
        let total = seen.get(&id).copied().unwrap_or(0);
        let i = nth.entry(id).or_default();
        *i += 1;
        let verified = matches!(
            c.source,
            EventSource::TrailLogs | EventSource::HomeChainLogs
        );
        verified || *i <= SHOWN_PER_KIND || *i > total.saturating_sub(SHOWN_PER_KIND)
    });
    let left_out = before - calls.len();
    (calls, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        Scope {
            buckets: vec!["kept".into()],
            key: Some("arn:aws:kms:us-east-1:123456789012:key/1234abcd".into()),
            trail: TrailArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:trail/main").unwrap(),
        }
    }

    fn rec(source: &str, name: &str, params: Value, key: &str, mfa: &str) -> Value {
        json!({
            "eventTime": "2026-03-01T01:00:00Z", "eventSource": source, "eventName": name,
            "requestParameters": params, "sourceIPAddress": "203.0.113.9", "eventID": name,
            "userIdentity": {"arn": "arn:aws:iam::123456789012:user/ops", "accessKeyId": key,
                "sessionContext": {"attributes": {"mfaAuthenticated": mfa}}},
        })
    }

    #[test]
    fn a_bucket_call_names_who_and_how() {
        let r = rec(
            "s3.amazonaws.com",
            "PutBucketVersioning",
            json!({"bucketName": "kept", "VersioningConfiguration": {"Status": "Suspended"}}),
            "AKIAEXAMPLE",
            "false",
        );
        let c = from_record(&r, &scope(), EventSource::TrailLogs).unwrap();
        assert_eq!(c.kind, CallKind::PutBucketVersioning);
        assert_eq!(c.credential, Some(Credential::LongLived));
        assert_eq!(c.mfa, Some(false));
        assert_eq!(
            c.changes,
            vec![("versioning".to_string(), "Suspended".to_string())]
        );
        let other = rec(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "else"}),
            "ASIA1",
            "true",
        );
        assert!(from_record(&other, &scope(), EventSource::TrailLogs).is_none());
    }

    #[test]
    fn an_unsigned_record_never_displaces_a_verified_one() {
        let r = rec(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "kept"}),
            "AKIAX",
            "false",
        );
        let verified = from_record(&r, &scope(), EventSource::TrailLogs).unwrap();
        let mut forged = from_record(&r, &scope(), EventSource::LookupEvents).unwrap();
        forged.time -= chrono::Duration::seconds(1);
        forged.actor = Some("someone else".into());
        let (kept, left_out) = in_one_order(vec![forged, verified.clone()]);
        assert_eq!((kept, left_out), (vec![verified.clone()], 0));
        let padded = |source| -> Vec<BucketCall> {
            (0..30)
                .map(|i| BucketCall {
                    event_id: Some(i.to_string()),
                    source,
                    ..verified.clone()
                })
                .collect()
        };
        let history = padded(EventSource::LookupEvents);
        assert_eq!(in_one_order(history).1, 30 - 2 * SHOWN_PER_KIND);
        assert_eq!(
            in_one_order(padded(EventSource::TrailLogs)).1,
            0,
            "verified: all kept"
        );
    }

    #[test]
    fn only_the_trails_key_and_moves_of_the_trail_count() {
        let k = rec(
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            json!({"keyId": "1234abcd", "pendingWindowInDays": 7}),
            "ASIAX",
            "true",
        );
        let c = from_record(&k, &scope(), EventSource::LookupEvents).unwrap();
        assert_eq!(
            (c.credential, c.mfa),
            (Some(Credential::Temporary), Some(true))
        );
        assert_eq!(
            c.changes,
            vec![("pending_window_days".to_string(), "7".to_string())]
        );
        let other = rec(
            "kms.amazonaws.com",
            "DisableKey",
            json!({"keyId": "99"}),
            "ASIAX",
            "true",
        );
        assert!(from_record(&other, &scope(), EventSource::TrailLogs).is_none());
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";
        let moved = rec(
            "cloudtrail.amazonaws.com",
            "UpdateTrail",
            json!({"name": arn, "s3BucketName": "elsewhere"}),
            "AKIAX",
            "false",
        );
        assert_eq!(
            from_record(&moved, &scope(), EventSource::TrailLogs)
                .unwrap()
                .kind,
            CallKind::TrailMoved
        );
        let validation = rec(
            "cloudtrail.amazonaws.com",
            "UpdateTrail",
            json!({"name": arn, "enableLogFileValidation": false}),
            "AKIAX",
            "false",
        );
        assert!(from_record(&validation, &scope(), EventSource::TrailLogs).is_none());
    }
}
