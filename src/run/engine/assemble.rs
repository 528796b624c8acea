//! Phase 6: one report from the phases' results, in the order the AWS CLI
//! prints (each digest, then the log files it lists, gaps between).

use super::folders::Folders;
use super::logs::LogBook;
use crate::plan::Plan;
use crate::verify::chain::{ChainOutcome, Node};
use crate::verify::model::{DigestVerdict, Entry, LogVerdict, ObjectVerdict, Report, Status};
use crate::verify::proof::{untrusted_spans, Closure};
use crate::verify::time::Timestamp;
use std::collections::HashSet;

/// The standard and backfill chains, as analysed and closed.
pub(super) struct Chains<'a> {
    pub std_nodes: &'a [Node],
    pub std_out: &'a ChainOutcome,
    pub bf_nodes: &'a [Node],
    pub bf_out: &'a ChainOutcome,
}

/// Every log file the chains' digests list, valid digests' hashes first seen.
pub(super) fn log_book(
    chains: &[(&[Node], &ChainOutcome)],
    skip: Option<&crate::plan::checkpoint::Record>,
) -> LogBook {
    let mut book = LogBook::default();
    for (nodes, out) in chains {
        for &idx in &out.order {
            let node = out.node(nodes, idx);
            // The checkpointed digest's log files were verified by the run
            // that recorded it.
            let valid = out.verdicts[idx].0 == Status::Valid;
            if skip.is_some_and(|r| r.bucket == node.bucket && r.key == node.key) {
                // Still theirs: a log file a vouched-for digest lists is
                // never "not referenced by any digest".
                if let (true, Some(d)) = (valid, node.parsed()) {
                    book.vouched.extend(
                        d.log_files
                            .iter()
                            .map(|lf| (lf.bucket.clone(), lf.key.clone())),
                    );
                }
                continue;
            }
            let unjudged = out.verdicts[idx]
                .1
                .as_ref()
                .is_some_and(|f| f.problem == crate::verify::model::Problem::KeyNotInFile);
            if let Some(d) = node.parsed() {
                for lf in &d.log_files {
                    book.add(lf, &node.key, valid, unjudged);
                }
            }
        }
    }
    book
}

pub(super) fn report(
    plan: &Plan,
    chains: Chains<'_>,
    book: &LogBook,
    log_verdicts: Vec<LogVerdict>,
    folders: Folders,
    digest_strangers: Vec<ObjectVerdict>,
    closure: &Closure,
) -> Report {
    let hold = folders.hold;
    let mut report = Report {
        trail_arn: plan.trail.arn.clone(),
        requested_start: plan.start,
        requested_end: plan.end,
        found: None,
        digests: Vec::new(),
        logs: log_verdicts,
        gaps: Vec::new(),
        entries: Vec::new(),
        notes: Vec::new(),
        unexpected: Vec::new(),
        untrusted: Vec::new(),
        unproven: closure.unproven.clone(),
        allow_gaps: plan.allow_gaps,
        newest: newest(
            chains.std_nodes,
            chains.std_out,
            hold.map_or(plan.end, |h| h.min(plan.end)),
        ),
        blind_spots: Vec::new(),
        coverage_changes: None,
        lifecycle_calls: None,
        allow_narrowing: plan.allow_narrowing,
        narrowing_shown: Vec::new(),
        protections: plan.protections.clone(),
        recovery: None,
        bucket_calls: Vec::new(),
        bucket_calls_left_out: 0,
        home_calls_unread: None,
        expected_coverage: plan.expected_coverage.clone(),
        // A chain widened back behind its record relies on less.
        relied_on: plan.relied_on.clone().and_then(|mut r| {
            r.until = r.until.min(plan.start);
            (r.until > r.from).then_some(r)
        }),
    };
    let mut seen_logs: HashSet<usize> = HashSet::new();
    for (nodes, out) in [
        (chains.std_nodes, chains.std_out),
        (chains.bf_nodes, chains.bf_out),
    ] {
        push_chain(&mut report, book, &mut seen_logs, nodes, out);
    }
    for v in folders.logs {
        report.entries.push(Entry::Log(report.logs.len()));
        report.logs.push(v);
    }
    push_strangers(&mut report, digest_strangers, folders.unexpected);
    if !plan.check_unreferenced {
        report.notes.push(
            "Log folders were not listed (--skip-unreferenced): injected log files would go unnoticed"
                .to_string(),
        );
    }
    report.found = crate::verify::model::found_range(&report.digests, plan.start, plan.end);
    report.unproven.extend(missing_protections(plan));
    let archived = report.archived();
    if archived > 0 {
        let said = crate::verify::unproven::Unproven::Archived { objects: archived };
        report.unproven.push(said);
    }
    let pending = pending_with(closure.pending, hold, plan.end);
    report.untrusted = untrusted_of(&report, plan, pending, chains.std_out.interval);
    report
}

/// The protections `--require-protections` asks for that do not hold.
fn missing_protections(plan: &Plan) -> Vec<crate::verify::unproven::Unproven> {
    use crate::verify::protections::ProtectionState;
    let found = plan.protections.as_deref().unwrap_or_default();
    let state = |k| {
        found
            .iter()
            .find(|p| p.kind == k)
            .map_or(ProtectionState::Unknown, |p| p.state)
    };
    let missing = plan.require_protections.iter().map(|k| (*k, state(*k)));
    missing
        .filter(|(_, s)| *s != ProtectionState::Protected)
        .map(
            |(protection, state)| crate::verify::unproven::Unproven::ProtectionMissing {
                protection,
                state,
            },
        )
        .collect()
}

/// The spans of the window whose events cannot be trusted, from the
/// report's digests, gaps and invalid log files and what is pending.
fn untrusted_of(
    report: &Report,
    plan: &Plan,
    pending: Option<(Timestamp, Timestamp)>,
    interval: chrono::Duration,
) -> Vec<crate::verify::model::Untrusted> {
    let digest_spans: Vec<_> = report
        .digests
        .iter()
        .filter(|d| !d.backfill)
        .map(|d| (d.status, d.start, d.end, digest_reason(d)))
        .collect();
    let invalid_logs: Vec<(Timestamp, Timestamp)> = report
        .logs
        .iter()
        .filter(|l| l.status == Status::Invalid)
        .filter_map(|l| Some((l.oldest_event?, l.newest_event?)))
        .collect();
    untrusted_spans(
        &digest_spans,
        &report.gaps,
        &invalid_logs,
        pending,
        interval,
        &plan.window(true, true, true),
    )
}

/// Objects CloudTrail never writes: the walk and the level scan can both
/// meet one, which is listed once.
fn push_strangers(report: &mut Report, digest: Vec<ObjectVerdict>, folders: Vec<ObjectVerdict>) {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for o in digest.into_iter().chain(folders) {
        if !seen.insert((o.bucket.clone(), o.key.clone())) {
            continue;
        }
        report
            .entries
            .push(Entry::Unexpected(report.unexpected.len()));
        report.unexpected.push(o);
    }
}

/// A log file still within the delivery grace that no digest lists is not
/// yet vouched for: from it on, the window is pending, not trusted.
fn pending_with(
    pending: Option<(Timestamp, Timestamp)>,
    hold: Option<Timestamp>,
    end: Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    match (pending, hold) {
        (p, None) => p,
        (Some((a, b)), Some(h)) => Some((a.min(h), b)),
        (None, Some(h)) => Some((h, end.max(h))),
    }
}

fn digest_reason(d: &DigestVerdict) -> crate::verify::model::Reason {
    use crate::verify::model::{Problem, Reason};
    match d.finding.as_ref().map(|f| f.problem) {
        Some(Problem::NotFound) => Reason::DigestMissing,
        _ => Reason::DigestInvalid,
    }
}

fn push_chain(
    report: &mut Report,
    book: &LogBook,
    seen_logs: &mut HashSet<usize>,
    nodes: &[Node],
    out: &ChainOutcome,
) {
    let push_gaps = |report: &mut Report, at: usize| {
        for (_, gap) in out.gaps.iter().filter(|(a, _)| *a == at) {
            report.entries.push(Entry::Gap(report.gaps.len()));
            report.gaps.push(gap.clone());
        }
    };
    push_gaps(report, usize::MAX);
    for &idx in &out.order {
        let node = out.node(nodes, idx);
        let (status, finding) = out.verdicts[idx].clone();
        let (start, end) = digest_window(node, out);
        report.entries.push(Entry::Digest(report.digests.len()));
        report.digests.push(DigestVerdict {
            bucket: node.bucket.clone(),
            key: node.key.clone(),
            backfill: node.backfill,
            status,
            finding,
            start,
            end,
            discovered: !node.listed,
            previous: node
                .verified()
                .and_then(|v| v.digest.previous.as_ref())
                .map(|p| (p.bucket.clone(), p.key.clone())),
            fingerprint: node.verified().map(|v| v.digest.fingerprint.clone()),
        });
        if let Some(d) = node.parsed() {
            for lf in &d.log_files {
                if let Some(&li) = book.index.get(&(lf.bucket.clone(), lf.key.clone())) {
                    if seen_logs.insert(li) {
                        report.entries.push(Entry::Log(li));
                    }
                }
            }
        }
        push_gaps(report, idx);
    }
}

/// The newest standard digest that verified and keeps its verdict (a
/// broken link makes it invalid), ending by `limit`: what a checkpoint may
/// record. Past the window's end (the look-ahead) its log files were read
/// but lie outside every report's window, and a log file still awaiting its
/// digest lies before `limit` too: the next run starts early enough to
/// read them.
fn newest(
    nodes: &[Node],
    out: &ChainOutcome,
    limit: Timestamp,
) -> Option<crate::verify::model::NewestDigest> {
    nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| out.verdicts[*i].0 == Status::Valid)
        .filter_map(|(_, n)| Some((n, n.verified()?)))
        .filter(|(_, v)| v.digest.end <= limit)
        .max_by_key(|(_, v)| v.digest.end)
        .map(|(n, v)| crate::verify::model::NewestDigest {
            bucket: n.bucket.clone(),
            key: n.key.clone(),
            end: v.digest.end,
            signature: v.signature_hex.clone(),
            sha256: v.sha256_hex.clone(),
        })
}

/// A digest's window: as signed when verified; else as written (for
/// timing only), or one schedule slot ending at its key's time.
fn digest_window(node: &Node, out: &ChainOutcome) -> (Option<Timestamp>, Option<Timestamp>) {
    if let Some(v) = node.verified() {
        return (Some(v.digest.start), Some(v.digest.end));
    }
    // Unsigned content could shift the span a finding covers: the key's
    // time (what the listing and the schedule say) comes first.
    match (node.key_end, node.parsed()) {
        (Some(e), _) => (Some(e - out.interval), Some(e)),
        (None, Some(d)) => (Some(d.start), Some(d.end)),
        (None, None) => (None, None),
    }
}
