//! The run as compliance findings, the shape Security Hub (ASFF) and the
//! SIEMs (OCSF) take: one per chain and window (passed, failed, or not
//! proven) and one per object that is not valid. Ids are stable over runs
//! of the same window, so the next run updates a finding instead of adding
//! another. `ocsf.rs` and `asff.rs` render these; the words come from
//! `explain.rs`, as in every other report.

use crate::report::explain;
use crate::verify::arn::TrailArn;
use crate::verify::model::{ChainReport, ChainStatus, Problem, Report, Status, Summary};
use crate::verify::time::{display, Timestamp};
use sha2::{Digest as _, Sha256};

/// One chain as the findings see it.
#[derive(Clone, Copy)]
pub(crate) struct Chain<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub report: &'a Report,
    pub status: ChainStatus,
}

impl<'a> Chain<'a> {
    /// A single-chain run's chain: nothing was expected of it beyond the
    /// request, so it is never `Missing`.
    pub fn single(account: &'a str, region: &'a str, report: &'a Report) -> Self {
        let status = ChainStatus::of(report, false);
        Chain {
            account,
            region,
            report,
            status,
        }
    }
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
    /// The trail, parsed once: its partition names the ARNs and its home
    /// region is where Security Hub takes the findings.
    pub trail: TrailArn,
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
            let trail = trail_of(&c.report.trail_arn);
            let objects = object_findings(c, trail.clone());
            std::iter::once(chain_finding(c, trail)).chain(objects)
        })
        .collect()
}

/// What a chain's status means as a finding: its outcome, severity,
/// title and what to do next.
fn chain_verdict(c: &Chain<'_>) -> (Outcome, Severity, String, Option<String>) {
    let r = c.report;
    let nothing_yet = explain::pending_from([r]).is_some_and(|from| from <= r.requested_start);
    match c.status {
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
    }
}

fn chain_finding(c: &Chain<'_>, trail: TrailArn) -> Finding {
    let (r, account, region) = (c.report, c.account, c.region);
    let (outcome, severity, title, remediation) = chain_verdict(c);
    let verdict = explain::verdict_of(r.verdict(), &[r]);
    Finding {
        id: stable_id(&[
            &r.trail_arn,
            account,
            region,
            &display(r.requested_start),
            &display(r.requested_end),
        ]),
        trail,
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
fn object_findings<'a>(c: &Chain<'a>, trail: TrailArn) -> impl Iterator<Item = Finding> + 'a {
    let r = c.report;
    let digests = r.digests.iter().filter(|d| d.status != Status::Valid);
    let digests = digests.map(|d| Object {
        bucket: &d.bucket,
        key: &d.key,
        digest: true,
        status: d.status,
        finding: d.finding.as_ref(),
        span: d.start.zip(d.end),
    });
    let logs = r.logs.iter().filter(|l| l.status != Status::Valid);
    let logs = logs.map(|l| Object {
        bucket: &l.bucket,
        key: &l.key,
        digest: false,
        status: l.status,
        finding: l.finding.as_ref(),
        span: l.oldest_event.zip(l.newest_event),
    });
    let unexpected = r.unexpected.iter().map(|o| Object {
        bucket: &o.bucket,
        key: &o.key,
        digest: false,
        status: Status::Invalid,
        finding: Some(&o.finding),
        span: None,
    });
    let c = *c;
    let objects = digests.chain(logs).chain(unexpected);
    objects.map(move |o| object_finding(&c, &trail, o))
}

/// One object that is not valid, as the report holds it.
struct Object<'a> {
    bucket: &'a str,
    key: &'a str,
    digest: bool,
    status: Status,
    finding: Option<&'a crate::verify::model::Finding>,
    /// Its events (a log) or hour (a digest).
    span: Option<(Timestamp, Timestamp)>,
}

fn object_finding(c: &Chain<'_>, trail: &TrailArn, o: Object<'_>) -> Finding {
    let (r, account, region) = (c.report, c.account, c.region);
    let problem = o.finding.map(|f| f.problem);
    let plain = problem.map(|p| explain::plain(p, o.digest));
    let (outcome, severity) = judged(o.status, problem);
    let what = plain
        .as_ref()
        .map_or("object not verified", |p| p.counted.0);
    let mut description = plain.as_ref().map_or("", |p| p.meaning).to_string();
    if let Some(f) = o.finding {
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
        trail: trail.clone(),
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
        span: o.span,
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

/// The ARN of what the finding is about: the trail's, or the S3
/// object's in the trail's partition (`arn:aws:s3:::bucket/key`).
pub(crate) fn resource_arn(f: &Finding) -> String {
    match &f.subject {
        Subject::Chain => f.trail.arn.clone(),
        Subject::Object { bucket, key, .. } => {
            format!("arn:{}:s3:::{bucket}/{key}", f.trail.partition)
        }
    }
}

/// The report's trail; one whose ARN does not parse (the request parses
/// every ARN it takes, so only a hand-made report) is taken as the aws
/// partition's, homed in us-east-1.
fn trail_of(arn: &str) -> TrailArn {
    TrailArn::parse(arn).unwrap_or_else(|_| TrailArn {
        arn: arn.to_string(),
        partition: "aws".to_string(),
        region: "us-east-1".to_string(),
        account: String::new(),
        name: arn.to_string(),
    })
}

/// At most `max` bytes of `s`, cut at a character boundary with an
/// ellipsis: the formats bound their text fields.
/// Text an attacker may have named, shown as it is: control and
/// direction characters written as `U+XXXX`. Security Hub's text fields
/// match `.*\S.*`, where `.` stops at a line break, so an object named
/// with one would have its finding refused on import; an alert's line
/// must stay one line.
pub(crate) fn printable(s: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !s.chars().any(hidden) {
        return s.to_string();
    }
    s.chars()
        .map(|c| match hidden(c) {
            true => format!("U+{:04X}", c as u32),
            false => c.to_string(),
        })
        .collect()
}

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
