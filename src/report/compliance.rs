//! The run as compliance findings, the shape Security Hub (ASFF) and the
//! SIEMs (OCSF) take: one per chain and window (passed, failed, or not
//! proven) and one per object that is not valid. Ids are stable over runs
//! of the same window, so the next run updates a finding instead of adding
//! another. `ocsf.rs` and `asff.rs` render these; the words come from
//! `explain.rs`, as in every other report.

use crate::report::explain;
use crate::verify::model::{ChainReport, ChainStatus, Problem, Report, Status, Summary};

/// One chain as the findings see it.
#[derive(Clone, Copy)]
pub(crate) struct Chain<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub report: &'a Report,
    pub status: ChainStatus,
}

impl<'a> From<&'a ChainReport> for Chain<'a> {
    fn from(c: &'a ChainReport) -> Self {
        Chain {
            account: &c.account,
            region: &c.region,
            report: &c.report,
            status: c.status(),
        }
    }
}
use crate::verify::time::{display, Timestamp};
use sha2::{Digest as _, Sha256};

/// The control a finding evidences, as the frameworks name it.
pub(crate) const REQUIREMENTS: [&str; 3] = [
    "CIS AWS Foundations Benchmark: CloudTrail log file validation",
    "NIST SP 800-53 Rev. 5 AU-9 (Protection of Audit Information)",
    "NIST SP 800-53 Rev. 5 AU-10 (Non-repudiation)",
];

/// Where the check stands for the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    /// Neither passed nor failed: not proven, not judged, not read.
    Warning,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The trail's chain of one account and region, over the window.
    Chain,
    /// One object in the trail's folders.
    Object {
        bucket: String,
        key: String,
        digest: bool,
        problem: Option<Problem>,
    },
}

/// One compliance finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// Stable over runs: a chain's by its trail, account, region and
    /// window (a run over another window, shorter or later, never takes
    /// over a finding); an object's by its trail, account, region, name and
    /// outcome (found failed again, it updates its finding whatever the
    /// window; a weaker outcome, such as archived or unjudged, is a finding
    /// of its own and never turns a failure into a warning).
    pub id: String,
    pub trail_arn: String,
    pub account: String,
    pub region: String,
    pub window: (Timestamp, Timestamp),
    pub subject: Subject,
    pub outcome: Outcome,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    /// What to do next; None when nothing is to be done.
    pub remediation: Option<String>,
    /// The events the finding bears on: the object's hour or events.
    pub span: Option<(Timestamp, Timestamp)>,
    /// The chain's counts (chain findings only).
    pub counts: Option<Summary>,
}

/// Every finding of a run: each chain's, then its objects'.
pub(crate) fn of_chains(chains: &[Chain<'_>]) -> Vec<Finding> {
    chains
        .iter()
        .flat_map(|c| {
            let place = (c.account, c.region);
            std::iter::once(chain_finding(c)).chain(object_findings(c.report, place))
        })
        .collect()
}

fn chain_finding(c: &Chain<'_>) -> Finding {
    let (r, account, region) = (c.report, c.account, c.region);
    let nothing_yet = explain::pending_from([r]).is_some_and(|from| from <= r.requested_start);
    let (outcome, severity, title, remediation) = match c.status {
        ChainStatus::Proven if nothing_yet => (
            Outcome::Warning,
            Severity::Low,
            "CloudTrail logs: nothing to prove yet".to_string(),
            Some(
                "Run again once the window's digests are due (about an hour after it).".to_string(),
            ),
        ),
        ChainStatus::Proven => (
            Outcome::Pass,
            Severity::Informational,
            "CloudTrail logs proven intact".to_string(),
            None,
        ),
        ChainStatus::Tampered => (
            Outcome::Fail,
            Severity::Critical,
            format!("CloudTrail logs tampered with: {}", explain::counted([r])),
            Some(
                "Treat the untrusted spans' events as unrecorded; follow each object finding's \
                 remediation; preserve the evidence (trailproof acquire) before anything is \
                 restored; find who wrote the objects (S3 server access logs, data events)."
                    .to_string(),
            ),
        ),
        ChainStatus::Missing => (
            Outcome::Warning,
            Severity::High,
            "CloudTrail logs expected but none found".to_string(),
            Some(
                "Check that the trail delivers for this account and region and that the run \
                 reads the right bucket and prefix."
                    .to_string(),
            ),
        ),
        ChainStatus::Unproven | ChainStatus::UnprovenAllowed => (
            Outcome::Warning,
            Severity::Medium,
            "CloudTrail log coverage not proven".to_string(),
            Some(
                "Read the gaps in the report: find who stopped logging or validation (the \
                 report's gap events, CloudTrail event history) and turn them back on."
                    .to_string(),
            ),
        ),
    };
    let verdict = explain::verdict_of(r.verdict(), &[r]);
    Finding {
        id: stable_id(&[
            &r.trail_arn,
            account,
            region,
            &display(r.requested_start),
            &display(r.requested_end),
        ]),
        trail_arn: r.trail_arn.clone(),
        account: account.to_string(),
        region: region.to_string(),
        window: (r.requested_start, r.requested_end),
        subject: Subject::Chain,
        outcome,
        severity,
        title: format!("{title} ({account} {region})"),
        description: format!(
            "{} to {}: {verdict}{}",
            display(r.requested_start),
            display(r.requested_end),
            explained_gaps(r)
        ),
        remediation,
        span: None,
        counts: Some(r.summary()),
    }
}

/// The gaps CloudTrail's records explain (not failures, but hours the
/// trail did not record), with their cause and who made the calls.
fn explained_gaps(r: &Report) -> String {
    let spans: Vec<String> = r
        .gaps
        .iter()
        .filter(|g| g.explained)
        .map(|g| {
            let who: Vec<String> = g.by.iter().filter_map(|a| a.arn.clone()).collect();
            let cause = g.cause.as_deref().unwrap_or("explained");
            let by = match who.is_empty() {
                true => String::new(),
                false => format!(" by {}", who.join(", ")),
            };
            format!("{} to {} ({cause}{by})", display(g.start), display(g.end))
        })
        .collect();
    match spans.is_empty() {
        true => String::new(),
        false => format!(
            ". Not recorded, as CloudTrail's records explain: {}",
            spans.join("; ")
        ),
    }
}

/// One finding per digest, log file and unexpected object that is not valid.
fn object_findings<'a>(
    r: &'a Report,
    place: (&'a str, &'a str),
) -> impl Iterator<Item = Finding> + 'a {
    let digests = r
        .digests
        .iter()
        .filter(|d| d.status != Status::Valid)
        .map(move |d| {
            let problem = d.finding.as_ref().map(|f| f.problem);
            let span = d.start.zip(d.end);
            let object = Object {
                bucket: &d.bucket,
                key: &d.key,
                digest: true,
                status: d.status,
            };
            object_finding(r, place, object, problem, d.finding.as_ref(), span)
        });
    let logs = r
        .logs
        .iter()
        .filter(|l| l.status != Status::Valid)
        .map(move |l| {
            let problem = l.finding.as_ref().map(|f| f.problem);
            let span = l.oldest_event.zip(l.newest_event);
            let object = Object {
                bucket: &l.bucket,
                key: &l.key,
                digest: false,
                status: l.status,
            };
            object_finding(r, place, object, problem, l.finding.as_ref(), span)
        });
    let unexpected = r.unexpected.iter().map(move |o| {
        let object = Object {
            bucket: &o.bucket,
            key: &o.key,
            digest: false,
            status: Status::Invalid,
        };
        object_finding(
            r,
            place,
            object,
            Some(o.finding.problem),
            Some(&o.finding),
            None,
        )
    });
    digests.chain(logs).chain(unexpected)
}

struct Object<'a> {
    bucket: &'a str,
    key: &'a str,
    digest: bool,
    status: Status,
}

fn object_finding(
    r: &Report,
    (account, region): (&str, &str),
    o: Object<'_>,
    problem: Option<Problem>,
    finding: Option<&crate::verify::model::Finding>,
    span: Option<(Timestamp, Timestamp)>,
) -> Finding {
    let plain = problem.map(|p| explain::plain(p, o.digest));
    let (outcome, severity) = judged(o.status, problem);
    let what = plain
        .as_ref()
        .map_or("object not verified", |p| p.counted.0);
    let mut description = plain.as_ref().map_or("", |p| p.meaning).to_string();
    if let Some(f) = finding {
        description.push_str(&format!(" ({}", f.reason));
        if let Some(d) = &f.detail {
            description.push_str(&format!(": {d}"));
        }
        description.push(')');
    }
    Finding {
        id: stable_id(&[
            &r.trail_arn,
            account,
            region,
            o.bucket,
            o.key,
            outcome_name(outcome),
        ]),
        trail_arn: r.trail_arn.clone(),
        account: account.to_string(),
        region: region.to_string(),
        window: (r.requested_start, r.requested_end),
        subject: Subject::Object {
            bucket: o.bucket.to_string(),
            key: o.key.to_string(),
            digest: o.digest,
            problem,
        },
        outcome,
        severity,
        title: format!("{what}: s3://{}/{}", o.bucket, o.key),
        description: match description.trim() {
            "" => "The object could not be verified.".to_string(),
            d => d.to_string(),
        },
        remediation: plain.map(|p| p.next.to_string()),
        span,
        counts: None,
    }
}

/// Invalid is a failure; what could be neither verified nor refuted is a
/// warning, weighed by how much it hides.
fn judged(status: Status, problem: Option<Problem>) -> (Outcome, Severity) {
    match (status, problem) {
        (Status::Valid, _) => (Outcome::Pass, Severity::Informational),
        (Status::Invalid, _) => (Outcome::Fail, Severity::High),
        (_, Some(Problem::NoDigest | Problem::Archived)) => (Outcome::Warning, Severity::Low),
        (_, Some(Problem::KeyNotInFile)) => (Outcome::Warning, Severity::Medium),
        // Listed only by a bad digest, or covered by none: nothing vouches.
        _ => (Outcome::Warning, Severity::High),
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Warning => "warning",
        Outcome::Fail => "fail",
    }
}

/// `trailproof-` and the SHA-256 of the parts: the same parts, the same id,
/// whatever characters an object's name holds.
fn stable_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    format!("trailproof-{}", hex::encode(h.finalize()))
}

/// The ARN of an S3 object (`arn:aws:s3:::bucket/key`).
pub(crate) fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// At most `max` bytes of `s`, cut at a character boundary with an
/// ellipsis: the formats bound their text fields.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
