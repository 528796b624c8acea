//! JSON output: one document per run. The schema is a public interface
//! (documented in the README); add fields, never rename or remove them.

use crate::report::model::{
    EstateReport, Finding, GapKind, Provenance, Report, Status, Summary, Verdict,
};

/// One chain's document: schema 1 plus `provenance` and digests'
/// `fingerprint`.
pub const SCHEMA_CHAIN: u32 = 3;
/// An estate's (or a shard's) document: schema 2 plus `provenance`,
/// `verdict_scope` and digests' `fingerprint`.
pub const SCHEMA_ESTATE: u32 = 4;
use crate::verify::time::{display, Timestamp};
use serde::Serialize;

#[derive(Serialize)]
struct Span {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct DigestOut<'a> {
    bucket: &'a str,
    key: &'a str,
    status: Status,
    problem: Option<&'static str>,
    message: Option<&'a str>,
    detail: Option<&'a str>,
    backfill: bool,
    start: Option<String>,
    end: Option<String>,
    /// Not listed in the bucket: found through a pointer or inferred.
    discovered: bool,
    previous: Option<ObjectRef<'a>>,
    /// The key fingerprint a valid digest's signature verified with.
    fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct ObjectRef<'a> {
    bucket: &'a str,
    key: &'a str,
}

#[derive(Serialize)]
struct LogOut<'a> {
    bucket: &'a str,
    key: &'a str,
    status: Status,
    problem: Option<&'static str>,
    message: Option<&'a str>,
    detail: Option<&'a str>,
    digest: Option<&'a str>,
    oldest_event_time: Option<String>,
    newest_event_time: Option<String>,
}

#[derive(Serialize)]
struct ObjectOut<'a> {
    bucket: &'a str,
    key: &'a str,
    status: Status,
    problem: &'static str,
    message: &'a str,
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct UntrustedOut<'a> {
    start: String,
    end: String,
    reasons: &'a [crate::report::model::Reason],
}

#[derive(Serialize)]
struct GapOut<'a> {
    start: String,
    end: String,
    cause: Option<&'a str>,
    kind: GapKind,
    backfill: bool,
    explained: bool,
    evidence: Option<&'a str>,
}

#[derive(Serialize)]
struct SummaryOut {
    #[serde(flatten)]
    counts: Summary,
    all_valid: bool,
    tampered: bool,
    coverage_proven: bool,
    /// `--allow-gaps` was given: unexplained gaps did not set the status.
    allow_gaps: bool,
    /// `--allow-narrowing` was given.
    allow_narrowing: bool,
    /// The trail recorded less in some span (not passed by
    /// `--allow-narrowing`): exit 3 whatever `--allow-gaps` says.
    coverage_narrowed: bool,
    exit_code: i32,
}

#[derive(Serialize)]
struct ReportOut<'a> {
    schema_version: u32,
    trail_arn: &'a str,
    requested: Span,
    provenance: Option<&'a Provenance>,
    #[serde(flatten)]
    chain: ChainOut<'a>,
}

/// Everything one chain's report holds: the whole schema-1 document but
/// its header, and one entry of schema 2's `chains[]`.
#[derive(Serialize)]
pub(crate) struct ChainOut<'a> {
    found: Option<Span>,
    digests: Vec<DigestOut<'a>>,
    logs: Vec<LogOut<'a>>,
    gaps: Vec<GapOut<'a>>,
    unexpected: Vec<ObjectOut<'a>>,
    untrusted: Vec<UntrustedOut<'a>>,
    unproven: &'a [String],
    notes: &'a [String],
    summary: SummaryOut,
    /// What event history holds for the spans the trail did not record.
    blind_spots: &'a [crate::report::model::BlindSpot],
    /// The home chain's coverage changes from its verified logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage_changes: Option<&'a [crate::verify::selectors::CoverageChange]>,
    /// This chain could not read the trail's configuration calls of the
    /// home chain (merge supplies them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    home_calls_unread: bool,
    /// The home chain's lifecycle calls from its verified logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_calls: Option<&'a [crate::verify::lifecycle::LifecycleEvent]>,
    /// `--expect-selectors`, as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_selectors: Option<&'a crate::verify::selectors::Settings>,
}

fn parts(f: &Option<Finding>) -> (Option<&'static str>, Option<&str>, Option<&str>) {
    match f {
        None => (None, None, None),
        Some(f) => (
            Some(f.problem.as_str()),
            Some(f.reason.as_str()),
            f.detail.as_deref(),
        ),
    }
}

fn span(a: Timestamp, b: Timestamp) -> Span {
    Span {
        start: display(a),
        end: display(b),
    }
}

/// Renders the report as one pretty-printed JSON document plus newline.
pub fn render(report: &Report, provenance: Option<&Provenance>) -> String {
    let doc = ReportOut {
        schema_version: SCHEMA_CHAIN,
        trail_arn: &report.trail_arn,
        requested: span(report.requested_start, report.requested_end),
        provenance,
        chain: chain_out(report),
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// One chain's findings and summary.
pub(crate) fn chain_out(report: &Report) -> ChainOut<'_> {
    ChainOut {
        found: report.found.map(|(a, b)| span(a, b)),
        digests: report.digests.iter().map(digest_out).collect(),
        logs: report.logs.iter().map(log_out).collect(),
        gaps: report
            .gaps
            .iter()
            .map(|g| GapOut {
                start: display(g.start),
                end: display(g.end),
                cause: g.cause.as_deref(),
                kind: g.kind,
                backfill: g.backfill,
                explained: g.explained,
                evidence: g.evidence.as_deref(),
            })
            .collect(),
        unexpected: report
            .unexpected
            .iter()
            .map(|o| ObjectOut {
                bucket: &o.bucket,
                key: &o.key,
                status: Status::Invalid,
                problem: o.finding.problem.as_str(),
                message: &o.finding.reason,
                detail: o.finding.detail.as_deref(),
            })
            .collect(),
        untrusted: report
            .untrusted
            .iter()
            .map(|u| UntrustedOut {
                start: display(u.start),
                end: display(u.end),
                reasons: &u.reasons,
            })
            .collect(),
        unproven: &report.unproven,
        notes: &report.notes,
        blind_spots: &report.blind_spots,
        coverage_changes: report.coverage_changes.as_deref(),
        home_calls_unread: report.home_calls_unread,
        lifecycle_calls: report.lifecycle_calls.as_deref(),
        expected_selectors: report.expected_coverage.as_ref(),
        summary: SummaryOut {
            counts: report.summary(),
            all_valid: report.all_valid(),
            tampered: report.tampered(),
            coverage_proven: !report.coverage_unproven(),
            allow_gaps: report.allow_gaps,
            allow_narrowing: report.allow_narrowing,
            coverage_narrowed: report.coverage_narrowed,
            exit_code: report.exit_code(),
        },
    }
}

fn digest_out(d: &crate::report::model::DigestVerdict) -> DigestOut<'_> {
    let (problem, message, detail) = parts(&d.finding);
    DigestOut {
        bucket: &d.bucket,
        key: &d.key,
        status: d.status,
        problem,
        message,
        detail,
        backfill: d.backfill,
        start: d.start.map(display),
        end: d.end.map(display),
        discovered: d.discovered,
        previous: d
            .previous
            .as_ref()
            .map(|(b, k)| ObjectRef { bucket: b, key: k }),
        fingerprint: d.fingerprint.as_deref(),
    }
}

fn log_out(l: &crate::report::model::LogVerdict) -> LogOut<'_> {
    let (problem, message, detail) = parts(&l.finding);
    LogOut {
        bucket: &l.bucket,
        key: &l.key,
        status: l.status,
        problem,
        message,
        detail,
        digest: l.digest_key.as_deref(),
        oldest_event_time: l.oldest_event.map(display),
        newest_event_time: l.newest_event.map(display),
    }
}

#[derive(Serialize)]
struct EstateChainOut<'a> {
    account: &'a str,
    region: &'a str,
    /// Why the chain was validated although none of its folders exist.
    expected_because: Option<&'a str>,
    /// The part of the window this shard validated (null: all of it).
    slice: Option<Span>,
    #[serde(flatten)]
    chain: ChainOut<'a>,
}

#[derive(Serialize)]
struct ShardOut<'a> {
    index: usize,
    count: usize,
    fingerprint: &'a str,
    selection: &'a str,
    units: &'a [crate::plan::shard::Unit],
}

#[derive(Serialize, Default)]
struct EstateSummaryOut {
    chains: usize,
    proven: usize,
    tampered: usize,
    unproven: usize,
    digests: crate::report::model::Counts,
    logs: crate::report::model::Counts,
    exit_code: i32,
}

#[derive(Serialize)]
struct EstateOut<'a> {
    schema_version: u32,
    /// A shard's report says first that it is no verdict on the estate.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict_scope: Option<String>,
    trail_arn: &'a str,
    requested: Span,
    provenance: Option<&'a Provenance>,
    /// Which share of a sharded run this is (null: the whole run).
    shard: Option<ShardOut<'a>>,
    chains: Vec<EstateChainOut<'a>>,
    notes: &'a [String],
    summary: EstateSummaryOut,
}

/// What a shard's report is, said at its top and on stderr (`index` from 0).
pub fn shard_scope(index: usize, count: usize) -> String {
    format!(
        "shard {} of {count}: not a verdict on the estate; its exit status counts its own chains \
         only (run `trailproof merge` over every shard's report)",
        index + 1
    )
}

/// Schema 2: every chain of an estate run, each with schema 1's per-chain
/// fields, and the estate's totals.
pub fn render_estate(estate: &EstateReport, provenance: Option<&Provenance>) -> String {
    let mut summary = EstateSummaryOut {
        chains: estate.chains.len(),
        exit_code: estate.exit_code(),
        ..Default::default()
    };
    for c in &estate.chains {
        match c.report.verdict() {
            Verdict::Tampered | Verdict::NotRun => summary.tampered += 1,
            Verdict::NotProven => summary.unproven += 1,
            Verdict::Proven => summary.proven += 1,
        }
        let s = c.report.summary();
        summary.digests.merge(&s.digests);
        summary.logs.merge(&s.logs);
    }
    let doc = EstateOut {
        schema_version: SCHEMA_ESTATE,
        provenance,
        verdict_scope: estate.shard.as_ref().map(|s| shard_scope(s.index, s.count)),
        trail_arn: &estate.trail_arn,
        requested: span(estate.requested_start, estate.requested_end),
        shard: estate.shard.as_ref().map(|s| ShardOut {
            index: s.index,
            count: s.count,
            fingerprint: &s.fingerprint,
            selection: &s.selection,
            units: &s.units,
        }),
        chains: estate
            .chains
            .iter()
            .map(|c| EstateChainOut {
                account: &c.account,
                region: &c.region,
                expected_because: c.expected_because.as_deref(),
                slice: c.slice.map(|(a, b)| span(a, b)),
                chain: chain_out(&c.report),
            })
            .collect(),
        notes: &estate.notes,
        summary,
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
