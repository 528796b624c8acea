//! A shard report as written (schema 2 JSON), read back into the report
//! model, and its state-key authentication.

use super::MergeError;
use crate::report::model::{
    ChainReport, DigestVerdict, EstateReport, Finding, Gap, GapKind, LogVerdict, ObjectVerdict,
    Problem, Report, ShardInfo, Status, Untrusted,
};
use crate::verify::state_key::{Purpose, StateKey};
use crate::verify::time::{parse_digest_time, Timestamp};
use serde::Deserialize;

#[derive(Deserialize)]
struct SpanIn {
    start: String,
    end: String,
}

#[derive(Deserialize)]
struct ShardIn {
    index: usize,
    count: usize,
    fingerprint: String,
    selection: String,
    units: Vec<crate::plan::shard::Unit>,
}

#[derive(Deserialize)]
struct RefIn {
    bucket: String,
    key: String,
}

#[derive(Deserialize)]
struct DigestIn {
    bucket: String,
    key: String,
    status: Status,
    problem: Option<Problem>,
    message: Option<String>,
    detail: Option<String>,
    backfill: bool,
    start: Option<String>,
    end: Option<String>,
    discovered: bool,
    previous: Option<RefIn>,
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct LogIn {
    bucket: String,
    key: String,
    status: Status,
    problem: Option<Problem>,
    message: Option<String>,
    detail: Option<String>,
    digest: Option<String>,
    oldest_event_time: Option<String>,
    newest_event_time: Option<String>,
}

#[derive(Deserialize)]
struct GapIn {
    start: String,
    end: String,
    cause: Option<String>,
    kind: GapKind,
    backfill: bool,
    explained: bool,
    evidence: Option<String>,
}

#[derive(Deserialize)]
struct ObjectIn {
    bucket: String,
    key: String,
    problem: Problem,
    message: String,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct UntrustedIn {
    start: String,
    end: String,
    reasons: Vec<String>,
}

#[derive(Deserialize)]
struct SummaryIn {
    #[serde(default)]
    allow_gaps: bool,
    #[serde(default)]
    allow_narrowing: bool,
    /// Absent from an older trailproof's report, whose narrowing and
    /// home-call verdicts lived in its sentences: such a report is refused.
    coverage_narrowed: Option<bool>,
}

#[derive(Deserialize)]
struct ChainIn {
    account: String,
    region: String,
    expected_because: Option<String>,
    slice: Option<SpanIn>,
    digests: Vec<DigestIn>,
    logs: Vec<LogIn>,
    gaps: Vec<GapIn>,
    unexpected: Vec<ObjectIn>,
    untrusted: Vec<UntrustedIn>,
    unproven: Vec<String>,
    notes: Vec<String>,
    summary: SummaryIn,
    #[serde(default)]
    blind_spots: Vec<crate::report::model::BlindSpot>,
    #[serde(default)]
    coverage_changes: Option<Vec<crate::verify::selectors::CoverageChange>>,
    #[serde(default)]
    lifecycle_calls: Option<Vec<crate::verify::lifecycle::LifecycleEvent>>,
    #[serde(default)]
    home_calls_unread: bool,
    #[serde(default)]
    expected_selectors: Option<crate::verify::selectors::Settings>,
}

#[derive(Deserialize)]
struct EstateIn {
    schema_version: u32,
    trail_arn: String,
    requested: SpanIn,
    shard: Option<ShardIn>,
    chains: Vec<ChainIn>,
    notes: Vec<String>,
}

fn time(s: &str) -> Option<Timestamp> {
    parse_digest_time(s)
}

fn finding(
    problem: Option<Problem>,
    message: Option<String>,
    detail: Option<String>,
) -> Option<Finding> {
    problem.map(|p| Finding {
        problem: p,
        reason: message.unwrap_or_default(),
        detail,
    })
}

impl From<DigestIn> for DigestVerdict {
    fn from(d: DigestIn) -> Self {
        DigestVerdict {
            bucket: d.bucket,
            key: d.key,
            backfill: d.backfill,
            status: d.status,
            finding: finding(d.problem, d.message, d.detail),
            start: d.start.as_deref().and_then(time),
            end: d.end.as_deref().and_then(time),
            discovered: d.discovered,
            previous: d.previous.map(|p| (p.bucket, p.key)),
            fingerprint: d.fingerprint,
        }
    }
}

impl From<LogIn> for LogVerdict {
    fn from(l: LogIn) -> Self {
        LogVerdict {
            bucket: l.bucket,
            key: l.key,
            status: l.status,
            finding: finding(l.problem, l.message, l.detail),
            digest_key: l.digest,
            oldest_event: l.oldest_event_time.as_deref().and_then(time),
            newest_event: l.newest_event_time.as_deref().and_then(time),
        }
    }
}

impl From<ObjectIn> for ObjectVerdict {
    fn from(o: ObjectIn) -> Self {
        ObjectVerdict {
            bucket: o.bucket,
            key: o.key,
            finding: Finding {
                problem: o.problem,
                reason: o.message,
                detail: o.detail,
            },
        }
    }
}

impl GapIn {
    fn gap(self) -> Option<Gap> {
        Some(Gap {
            start: time(&self.start)?,
            end: time(&self.end)?,
            backfill: self.backfill,
            cause: self.cause,
            kind: self.kind,
            explained: self.explained,
            evidence: self.evidence,
        })
    }
}

impl UntrustedIn {
    /// Only the reasons this version knows: a report cannot add new ones.
    fn span(self) -> Option<Untrusted> {
        let reasons = self
            .reasons
            .iter()
            .filter_map(|r| crate::report::model::Reason::named(r))
            .collect();
        Some(Untrusted {
            start: time(&self.start)?,
            end: time(&self.end)?,
            reasons,
        })
    }
}

fn chain_from(c: ChainIn, start: Timestamp, end: Timestamp, trail: &str) -> ChainReport {
    let slice = c
        .slice
        .as_ref()
        .and_then(|s| Some((time(&s.start)?, time(&s.end)?)));
    let (rs, re) = slice.unwrap_or((start, end));
    let report = Report {
        trail_arn: trail.to_string(),
        requested_start: rs,
        requested_end: re,
        found: None,
        digests: c.digests.into_iter().map(DigestVerdict::from).collect(),
        logs: c.logs.into_iter().map(LogVerdict::from).collect(),
        gaps: c.gaps.into_iter().filter_map(GapIn::gap).collect(),
        entries: Vec::new(),
        notes: c.notes,
        unexpected: c.unexpected.into_iter().map(ObjectVerdict::from).collect(),
        untrusted: c
            .untrusted
            .into_iter()
            .filter_map(UntrustedIn::span)
            .collect(),
        unproven: c.unproven,
        allow_gaps: c.summary.allow_gaps,
        newest: None,
        blind_spots: c.blind_spots,
        coverage_changes: c.coverage_changes,
        lifecycle_calls: c.lifecycle_calls,
        home_calls_unread: c.home_calls_unread,
        allow_narrowing: c.summary.allow_narrowing,
        coverage_narrowed: c.summary.coverage_narrowed.unwrap_or(true),
        expected_coverage: c.expected_selectors,
    };
    let mut report = report;
    report.newest = newest_valid(&report.digests);
    ChainReport {
        account: c.account,
        region: c.region,
        expected_because: c.expected_because,
        slice,
        report,
    }
}

/// Checks a shard report's `authentication` against the state key and
/// returns its run id.
pub fn authenticate(name: &str, bytes: &[u8], key: &dyn StateKey) -> Result<String, MergeError> {
    let refused = || MergeError::NotAuthentic(name.to_string());
    let mut v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| MergeError::Unreadable(name.to_string(), e.to_string()))?;
    let auth = v.get_mut("authentication").ok_or_else(refused)?;
    let mac = auth
        .as_object_mut()
        .and_then(|a| a.remove("mac"))
        .and_then(|m| m.as_str().map(str::to_string))
        .ok_or_else(refused)?;
    let run_id = auth["run_id"].as_str().ok_or_else(refused)?.to_string();
    let body = serde_json::to_vec(&v).unwrap_or_default();
    let checked = key
        .verify(Purpose::ShardReport, &body, &mac)
        .map_err(|e| MergeError::KeyUnavailable(name.to_string(), e.to_string()))?;
    if !checked {
        return Err(refused());
    }
    Ok(run_id)
}

/// The newest valid standard digest, for the metrics' staleness gauge (a
/// shard report carries no signature: a merge writes no checkpoint).
pub(super) fn newest_valid(
    digests: &[DigestVerdict],
) -> Option<crate::report::model::NewestDigest> {
    digests
        .iter()
        .filter(|d| d.status == Status::Valid && !d.backfill)
        .filter_map(|d| Some((d.end?, d)))
        .max_by_key(|(end, _)| *end)
        .map(|(end, d)| crate::report::model::NewestDigest {
            bucket: d.bucket.clone(),
            key: d.key.clone(),
            end,
            signature: String::new(),
            sha256: String::new(),
        })
}

/// Reads one shard's report.
pub fn read(name: &str, bytes: &[u8]) -> Result<EstateReport, MergeError> {
    let doc: EstateIn = serde_json::from_slice(bytes)
        .map_err(|e| MergeError::Unreadable(name.to_string(), e.to_string()))?;
    if doc.schema_version != crate::report::json::SCHEMA_ESTATE && doc.schema_version != 2 {
        return Err(MergeError::Unreadable(
            name.to_string(),
            format!("schema_version {}", doc.schema_version),
        ));
    }
    let (Some(start), Some(end)) = (time(&doc.requested.start), time(&doc.requested.end)) else {
        return Err(MergeError::Unreadable(
            name.to_string(),
            "bad requested times".into(),
        ));
    };
    let shard = doc
        .shard
        .ok_or_else(|| MergeError::NotAShard(name.to_string()))?;
    if doc
        .chains
        .iter()
        .any(|c| c.summary.coverage_narrowed.is_none())
    {
        return Err(MergeError::Unreadable(
            name.to_string(),
            "written by an older trailproof (no summary.coverage_narrowed): run its shards \
             again with this version"
                .into(),
        ));
    }
    let trail = doc.trail_arn.clone();
    Ok(EstateReport {
        chains: doc
            .chains
            .into_iter()
            .map(|c| chain_from(c, start, end, &trail))
            .collect(),
        trail_arn: doc.trail_arn,
        requested_start: start,
        requested_end: end,
        notes: doc.notes,
        shard: Some(ShardInfo {
            index: shard.index,
            count: shard.count,
            fingerprint: shard.fingerprint,
            selection: shard.selection,
            units: shard.units,
        }),
    })
}
