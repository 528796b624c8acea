//! The JSON report's schema: one set of types that both writes a report
//! and reads it back (`merge` reads shard reports with them), so a field
//! added here is carried both ways. Times are written as the report shows
//! them (`2026-03-01T05:00:00Z`). Public interface (docs/output.md): add
//! fields, never rename or remove them.

use crate::verify::model::{
    BlindSpot, DigestVerdict, Finding, Gap, GapKind, LogVerdict, ObjectVerdict, Problem,
    Provenance, Reason, Report, ShardInfo, Status, Summary, Unproven, Untrusted,
};
use crate::verify::time::{display, parse_digest_time, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Span {
    pub start: String,
    pub end: String,
}

impl Span {
    pub fn of((a, b): (Timestamp, Timestamp)) -> Span {
        Span {
            start: display(a),
            end: display(b),
        }
    }

    pub fn times(&self) -> Option<(Timestamp, Timestamp)> {
        Some((time(&self.start)?, time(&self.end)?))
    }
}

fn time(s: &str) -> Option<Timestamp> {
    parse_digest_time(s)
}

fn time_of(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref().and_then(time)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

/// A finding as JSON spells it: the problem's name, the message, detail.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Said {
    pub problem: Option<Problem>,
    pub message: Option<String>,
    pub detail: Option<String>,
}

impl Said {
    fn of(f: &Option<Finding>) -> Said {
        match f {
            None => Said::default(),
            Some(f) => Said {
                problem: Some(f.problem),
                message: Some(f.reason.clone()),
                detail: f.detail.clone(),
            },
        }
    }

    fn finding(self) -> Option<Finding> {
        self.problem.map(|p| Finding {
            problem: p,
            reason: self.message.unwrap_or_default(),
            detail: self.detail,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Digest {
    pub bucket: String,
    pub key: String,
    pub status: Status,
    #[serde(flatten)]
    pub said: Said,
    pub backfill: bool,
    pub start: Option<String>,
    pub end: Option<String>,
    /// Not listed in the bucket: found through a pointer or inferred.
    pub discovered: bool,
    pub previous: Option<ObjectRef>,
    /// The key fingerprint a valid digest's signature verified with.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl Digest {
    fn of(d: &DigestVerdict) -> Digest {
        Digest {
            bucket: d.bucket.clone(),
            key: d.key.clone(),
            status: d.status,
            said: Said::of(&d.finding),
            backfill: d.backfill,
            start: d.start.map(display),
            end: d.end.map(display),
            discovered: d.discovered,
            previous: d.previous.as_ref().map(|(b, k)| ObjectRef {
                bucket: b.clone(),
                key: k.clone(),
            }),
            fingerprint: d.fingerprint.clone(),
        }
    }

    fn verdict(self) -> DigestVerdict {
        DigestVerdict {
            start: time_of(&self.start),
            end: time_of(&self.end),
            bucket: self.bucket,
            key: self.key,
            backfill: self.backfill,
            status: self.status,
            finding: self.said.finding(),
            discovered: self.discovered,
            previous: self.previous.map(|p| (p.bucket, p.key)),
            fingerprint: self.fingerprint,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Log {
    pub bucket: String,
    pub key: String,
    pub status: Status,
    #[serde(flatten)]
    pub said: Said,
    pub digest: Option<String>,
    pub oldest_event_time: Option<String>,
    pub newest_event_time: Option<String>,
}

impl Log {
    fn of(l: &LogVerdict) -> Log {
        Log {
            bucket: l.bucket.clone(),
            key: l.key.clone(),
            status: l.status,
            said: Said::of(&l.finding),
            digest: l.digest_key.clone(),
            oldest_event_time: l.oldest_event.map(display),
            newest_event_time: l.newest_event.map(display),
        }
    }

    fn verdict(self) -> LogVerdict {
        LogVerdict {
            oldest_event: time_of(&self.oldest_event_time),
            newest_event: time_of(&self.newest_event_time),
            bucket: self.bucket,
            key: self.key,
            status: self.status,
            finding: self.said.finding(),
            digest_key: self.digest,
        }
    }
}

/// An object whose name CloudTrail never writes: always invalid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub status: Status,
    pub problem: Problem,
    pub message: String,
    pub detail: Option<String>,
}

impl Object {
    fn of(o: &ObjectVerdict) -> Object {
        Object {
            bucket: o.bucket.clone(),
            key: o.key.clone(),
            status: Status::Invalid,
            problem: o.finding.problem,
            message: o.finding.reason.clone(),
            detail: o.finding.detail.clone(),
        }
    }

    fn verdict(self) -> ObjectVerdict {
        ObjectVerdict {
            bucket: self.bucket,
            key: self.key,
            finding: Finding {
                problem: self.problem,
                reason: self.message,
                detail: self.detail,
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Distrust {
    pub start: String,
    pub end: String,
    /// Only the reasons this version knows: a report cannot add new ones.
    #[serde(deserialize_with = "known_reasons")]
    pub reasons: Vec<Reason>,
}

fn known_reasons<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Reason>, D::Error> {
    let names: Vec<String> = Vec::deserialize(d)?;
    Ok(names.iter().filter_map(|n| Reason::named(n)).collect())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GapOut {
    pub start: String,
    pub end: String,
    pub cause: Option<String>,
    pub kind: GapKind,
    pub backfill: bool,
    pub explained: bool,
    pub evidence: Option<String>,
    /// Who made the calls that explain it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<crate::verify::actor::Actor>,
}

impl GapOut {
    fn of(g: &Gap) -> GapOut {
        GapOut {
            start: display(g.start),
            end: display(g.end),
            cause: g.cause.clone(),
            kind: g.kind,
            backfill: g.backfill,
            explained: g.explained,
            evidence: g.evidence.clone(),
            by: g.by.clone(),
        }
    }

    fn gap(self) -> Option<Gap> {
        Some(Gap {
            start: time(&self.start)?,
            end: time(&self.end)?,
            backfill: self.backfill,
            cause: self.cause,
            kind: self.kind,
            explained: self.explained,
            evidence: self.evidence,
            by: self.by,
        })
    }
}

/// Why coverage is not proven: its `kind` and data, and `reason` in words
/// (written for people; read back from `kind` and the data alone).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Why {
    #[serde(flatten)]
    pub what: Unproven,
    #[serde(default)]
    pub reason: String,
}

impl Why {
    fn of(u: &Unproven) -> Why {
        Why {
            what: u.clone(),
            reason: crate::report::explain::unproven(u),
        }
    }
}

/// Why this chain could not read the home chain's configuration calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HomeUnread {
    pub why: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChainSummary {
    #[serde(flatten)]
    pub counts: Summary,
    pub all_valid: bool,
    pub tampered: bool,
    pub coverage_proven: bool,
    /// `--allow-gaps` was given: unexplained gaps did not set the status.
    pub allow_gaps: bool,
    /// `--allow-narrowing` was given.
    pub allow_narrowing: bool,
    /// The trail recorded less in some span (not passed by
    /// `--allow-narrowing`): exit 3 whatever `--allow-gaps` says.
    pub coverage_narrowed: bool,
    pub exit_code: i32,
}

/// Everything one chain's report holds: the whole single-chain document
/// but its header, and one entry of an estate's `chains[]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Chain {
    pub found: Option<Span>,
    pub digests: Vec<Digest>,
    pub logs: Vec<Log>,
    pub gaps: Vec<GapOut>,
    pub unexpected: Vec<Object>,
    pub untrusted: Vec<Distrust>,
    pub unproven: Vec<Why>,
    /// Narrowed spans `--allow-narrowing` shows without failing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrowing_shown: Vec<Why>,
    pub notes: Vec<String>,
    pub summary: ChainSummary,
    /// What event history holds for the spans the trail did not record.
    #[serde(default)]
    pub blind_spots: Vec<BlindSpot>,
    /// The home chain's coverage changes from its verified logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_changes: Option<Vec<crate::verify::selectors::CoverageChange>>,
    /// This chain could not read the trail's configuration calls of the
    /// home chain (merge supplies them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_calls_unread: Option<HomeUnread>,
    /// The home chain's lifecycle calls from its verified logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_calls: Option<Vec<crate::verify::lifecycle::LifecycleEvent>>,
    /// `--expect-selectors`, as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_selectors: Option<crate::verify::selectors::Settings>,
    /// The trail's bucket's protections (live runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protections: Option<Vec<crate::verify::protections::Protection>>,
    /// Originals recovered from the bucket's versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<crate::verify::recovery::Recovery>,
    /// Calls on the trail's bucket, key and trail, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bucket_calls: Vec<crate::verify::bucket_calls::BucketCall>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bucket_calls_left_out: usize,
    /// A checkpointed night: the window's span earlier runs proved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relied_on: Option<crate::verify::model::ReliedOn>,
}

impl Chain {
    pub fn of(r: &Report) -> Chain {
        Chain {
            found: r.found.map(Span::of),
            digests: r.digests.iter().map(Digest::of).collect(),
            logs: r.logs.iter().map(Log::of).collect(),
            gaps: r.gaps.iter().map(GapOut::of).collect(),
            unexpected: r.unexpected.iter().map(Object::of).collect(),
            untrusted: r.untrusted.iter().map(distrust).collect(),
            unproven: r.unproven.iter().map(Why::of).collect(),
            narrowing_shown: r.narrowing_shown.iter().map(Why::of).collect(),
            notes: r.notes.clone(),
            summary: summary(r),
            blind_spots: r.blind_spots.clone(),
            coverage_changes: r.coverage_changes.clone(),
            home_calls_unread: r.home_calls_unread.as_ref().map(|why| HomeUnread {
                why: why.clone(),
                reason: crate::report::explain::home_unread(&r.trail_arn, why),
            }),
            lifecycle_calls: r.lifecycle_calls.clone(),
            expected_selectors: r.expected_coverage.clone(),
            protections: r.protections.clone(),
            recovery: r.recovery.clone(),
            bucket_calls: r.bucket_calls.clone(),
            bucket_calls_left_out: r.bucket_calls_left_out,
            relied_on: r.relied_on.clone(),
        }
    }

    /// The chain's report over `window` (its slice, or the whole window).
    pub fn report(self, trail_arn: &str, window: (Timestamp, Timestamp)) -> Report {
        let mut r = Report::empty(trail_arn, window.0, window.1);
        r.found = self.found.as_ref().and_then(Span::times);
        r.digests = self.digests.into_iter().map(Digest::verdict).collect();
        r.logs = self.logs.into_iter().map(Log::verdict).collect();
        r.gaps = self.gaps.into_iter().filter_map(GapOut::gap).collect();
        r.unexpected = self.unexpected.into_iter().map(Object::verdict).collect();
        r.untrusted = self.untrusted.iter().filter_map(untrusted).collect();
        r.unproven = self.unproven.into_iter().map(|w| w.what).collect();
        r.narrowing_shown = self.narrowing_shown.into_iter().map(|w| w.what).collect();
        r.notes = self.notes;
        r.allow_gaps = self.summary.allow_gaps;
        r.allow_narrowing = self.summary.allow_narrowing;
        r.blind_spots = self.blind_spots;
        r.coverage_changes = self.coverage_changes;
        r.home_calls_unread = self.home_calls_unread.map(|h| h.why);
        r.lifecycle_calls = self.lifecycle_calls;
        r.expected_coverage = self.expected_selectors;
        r.protections = self.protections;
        r.recovery = self.recovery;
        r.bucket_calls = self.bucket_calls;
        r.bucket_calls_left_out = self.bucket_calls_left_out;
        r.relied_on = self.relied_on;
        r
    }
}

fn distrust(u: &Untrusted) -> Distrust {
    Distrust {
        start: display(u.start),
        end: display(u.end),
        reasons: u.reasons.clone(),
    }
}

fn untrusted(d: &Distrust) -> Option<Untrusted> {
    Some(Untrusted {
        start: time(&d.start)?,
        end: time(&d.end)?,
        reasons: d.reasons.clone(),
    })
}

fn summary(r: &Report) -> ChainSummary {
    ChainSummary {
        counts: r.summary(),
        all_valid: r.all_valid(),
        tampered: r.tampered(),
        coverage_proven: !r.coverage_unproven(),
        allow_gaps: r.allow_gaps,
        allow_narrowing: r.allow_narrowing,
        coverage_narrowed: r.narrowed(),
        exit_code: r.exit_code(),
    }
}

/// A single chain's document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChainDoc {
    pub schema_version: u32,
    pub trail_arn: String,
    pub requested: Span,
    pub provenance: Option<Provenance>,
    #[serde(flatten)]
    pub chain: Chain,
}

/// One chain of an estate's document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EstateChain {
    pub account: String,
    pub region: String,
    /// Why the chain was validated although none of its folders exist.
    pub expected_because: Option<String>,
    /// The part of the window this shard validated (null: all of it).
    pub slice: Option<Span>,
    #[serde(flatten)]
    pub chain: Chain,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EstateSummary {
    pub chains: usize,
    pub proven: usize,
    pub tampered: usize,
    pub unproven: usize,
    pub digests: crate::verify::model::Counts,
    pub logs: crate::verify::model::Counts,
    pub exit_code: i32,
}

/// An estate's (or a shard's) document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EstateDoc {
    pub schema_version: u32,
    /// A shard's report says first that it is no verdict on the estate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_scope: Option<String>,
    pub trail_arn: String,
    pub requested: Span,
    #[serde(default)]
    pub provenance: Option<Provenance>,
    /// Which share of a sharded run this is (null: the whole run).
    pub shard: Option<ShardInfo>,
    pub chains: Vec<EstateChain>,
    pub notes: Vec<String>,
    #[serde(default)]
    pub summary: EstateSummary,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
