//! `trailproof merge`: shard reports (schema 2 JSON) back into the report
//! and exit status of the unsharded run. Refuses reports of other trails,
//! windows, selections or shard sets (a missing or duplicated shard), and
//! where a chain was cut into time slices, checks that the first digest of
//! each slice vouches for a digest of the slice before: sharding never
//! weakens the proof.

use crate::report::model::{
    ChainReport, DigestVerdict, Entry, EstateReport, Finding, Gap, GapKind, LogVerdict,
    ObjectVerdict, Problem, Report, ShardInfo, Status, Untrusted, HOME_UNREAD,
};
use crate::verify::state_key::{Purpose, StateKey};
use crate::verify::time::{parse_digest_time, Timestamp};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0} is not a trailproof shard report (schema 4 JSON): {1}")]
    Unreadable(String, String),
    #[error("{0} is not a shard's report (no \"shard\"): run it with --shard K/N")]
    NotAShard(String),
    #[error("{0} belongs to another run ({1}); merge only the shards of one run")]
    Mismatch(String, &'static str),
    #[error("shard {k} of {n} is missing", k = .0 + 1, n = .1)]
    Missing(usize, usize),
    #[error("shard {k} of {n} is given twice", k = .0 + 1, n = .1)]
    Duplicate(usize, usize),
    #[error("no report to merge")]
    Empty,
    #[error("{0} is inconsistent: {1}")]
    Inconsistent(String, String),
    #[error("the shards validated {0}, not what --{1} names")]
    NotRequested(&'static str, &'static str),
    #[error("{0} is not authenticated by the state key (edited, or written without it)")]
    NotAuthentic(String),
    #[error("cannot check {0} with the state key: {1}")]
    KeyUnavailable(String, String),
    #[error("{0} belongs to run {1}, not {2}: merge only the reports of one run")]
    OtherRun(String, String, String),
}

/// What the operator expects the shards to hold (merge's own options).
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub trail_arn: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

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
fn newest_valid(digests: &[DigestVerdict]) -> Option<crate::report::model::NewestDigest> {
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

/// Checks that the reports are exactly the shards of one run (the
/// fingerprint recomputed from the plan each carries, every shard holding
/// exactly its units, the units tiling the window), then merges.
pub fn merge(
    reports: Vec<(String, EstateReport)>,
    expect: &Expect,
) -> Result<EstateReport, MergeError> {
    let Some((name0, first)) = reports.first() else {
        return Err(MergeError::Empty);
    };
    let s0 = check_first(name0, first, expect)?;
    let (trail, start, end) = (
        first.trail_arn.clone(),
        first.requested_start,
        first.requested_end,
    );
    let mut seen = vec![false; s0.count];
    for (name, r) in &reports {
        let index = check_shard(name, r, first, &s0)?;
        if std::mem::replace(&mut seen[index], true) {
            return Err(MergeError::Duplicate(index, s0.count));
        }
    }
    if let Some(k) = seen.iter().position(|x| !x) {
        return Err(MergeError::Missing(k, s0.count));
    }
    let (mut chains, notes) = combine(reports, start, end);
    share_home_changes(&trail, &mut chains);
    share_home_lifecycle(&trail, &mut chains);
    Ok(EstateReport {
        trail_arn: trail,
        requested_start: start,
        requested_end: end,
        chains,
        notes,
        shard: None,
    })
}

/// A shard without the trail's home chain could not read the trail's
/// configuration calls; the shard that held it reported the ones its
/// verified logs hold: every other chain is marked with them here, as one
/// run marks them (a baseline given to the shards is not applied again).
fn share_home_changes(trail: &str, chains: &mut [ChainReport]) {
    let Ok(arn) = crate::verify::arn::TrailArn::parse(trail) else {
        return;
    };
    let is_home = |c: &ChainReport| c.account == arn.account && c.region == arn.region;
    // Unknown (a file of the home chain could not be read, or an older
    // report): the other chains keep saying what they could not read.
    let Some(changes) = chains
        .iter()
        .find(|c| is_home(c))
        .and_then(|c| c.report.coverage_changes.clone())
    else {
        return;
    };
    for c in chains.iter_mut().filter(|c| !is_home(c)) {
        if c.report.home_calls_unread {
            c.report.home_calls_unread = false;
            // What the note said could not be read is read now.
            c.report.notes.retain(|n| !n.starts_with(HOME_UNREAD));
            let allow = c.report.allow_narrowing;
            let expected = c.report.expected_coverage.clone();
            let reference = crate::verify::narrowing::Reference {
                expected: expected.as_ref(),
                now: None,
            };
            crate::verify::narrowing::mark(&mut c.report, &changes, &reference, allow);
            for lines in [&mut c.report.unproven, &mut c.report.notes] {
                let mut seen = std::collections::HashSet::new();
                lines.retain(|n| seen.insert(n.clone()));
            }
        }
    }
}

/// A stop is recorded once, in the home chain's logs, and stops every
/// chain: the shard that held the home chain reported the lifecycle calls
/// its verified logs hold, and the other shards' gaps are explained with
/// them here, as one run explains them.
fn share_home_lifecycle(trail: &str, chains: &mut [ChainReport]) {
    let Ok(arn) = crate::verify::arn::TrailArn::parse(trail) else {
        return;
    };
    let is_home = |c: &ChainReport| c.account == arn.account && c.region == arn.region;
    let Some(home) = chains.iter().find(|c| is_home(c)) else {
        return;
    };
    let Some(calls) = home.report.lifecycle_calls.clone() else {
        return;
    };
    // The home chain's run judged whether the trail stayed stopped to the
    // window's end (with the sources it had): its verdict holds for all.
    let stopped_to_the_end = home
        .report
        .gaps
        .iter()
        .any(|g| g.kind == GapKind::NoLaterDigest && g.explained);
    for c in chains.iter_mut().filter(|c| !is_home(c)) {
        crate::verify::proof::explain_with_home_calls(&mut c.report, &calls, stopped_to_the_end);
    }
}

/// The first report sets what every other must match: it must be what
/// the operator asked for, and its own plan must be consistent.
fn check_first(
    name0: &str,
    first: &EstateReport,
    expect: &Expect,
) -> Result<ShardInfo, MergeError> {
    let Some(s0) = first.shard.clone() else {
        return Err(MergeError::NotAShard(name0.to_string()));
    };
    let (trail, start, end) = (&first.trail_arn, first.requested_start, first.requested_end);
    if expect.trail_arn.as_ref().is_some_and(|t| t != trail) {
        return Err(MergeError::NotRequested("another trail", "trail-arn"));
    }
    if expect.start.is_some_and(|t| t != start) {
        return Err(MergeError::NotRequested("another window", "start-time"));
    }
    if expect.end.is_some_and(|t| t != end) {
        return Err(MergeError::NotRequested("another window", "end-time"));
    }
    let inconsistent = |why: &str| MergeError::Inconsistent(name0.to_string(), why.to_string());
    if s0.count == 0 || s0.count > 100_000 {
        return Err(inconsistent("shard count out of range"));
    }
    let recomputed = crate::plan::shard::fingerprint(trail, start, end, &s0.selection, &s0.units);
    if recomputed != s0.fingerprint {
        return Err(inconsistent("its fingerprint does not match its plan"));
    }
    tiles(&s0.units, start, end).map_err(|e| inconsistent(&e))?;
    Ok(s0)
}

/// One report against the first: same run, its own units. Returns its index.
fn check_shard(
    name: &str,
    r: &EstateReport,
    first: &EstateReport,
    s0: &ShardInfo,
) -> Result<usize, MergeError> {
    let s = r
        .shard
        .as_ref()
        .ok_or_else(|| MergeError::NotAShard(name.to_string()))?;
    let mismatch = |what| Err(MergeError::Mismatch(name.to_string(), what));
    if r.trail_arn != first.trail_arn {
        return mismatch("another trail");
    }
    if (r.requested_start, r.requested_end) != (first.requested_start, first.requested_end) {
        return mismatch("another window");
    }
    if s.count != s0.count {
        return mismatch("another shard count");
    }
    if s.fingerprint != s0.fingerprint || s.selection != s0.selection || s.units != s0.units {
        return mismatch("another selection, options or plan");
    }
    if s.index >= s.count {
        return mismatch("a shard index out of range");
    }
    holds_its_units(r, s).map_err(|e| MergeError::Inconsistent(name.to_string(), e))?;
    Ok(s.index)
}

/// Every chain's slices joined, and the run's notes once each.
fn combine(
    reports: Vec<(String, EstateReport)>,
    start: Timestamp,
    end: Timestamp,
) -> (Vec<ChainReport>, Vec<String>) {
    let mut notes: Vec<String> = Vec::new();
    let mut by_chain: BTreeMap<(String, String), Vec<ChainReport>> = BTreeMap::new();
    for (_, r) in reports {
        for n in r.notes {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        for c in r.chains {
            by_chain
                .entry((c.account.clone(), c.region.clone()))
                .or_default()
                .push(c);
        }
    }
    let chains = by_chain
        .into_values()
        .map(|mut slices| {
            slices.sort_by_key(|c| c.slice.map(|s| s.0));
            join_slices(slices, start, end)
        })
        .collect();
    (chains, notes)
}

/// Each chain's units are either one whole-window unit or slices that
/// tile [start, end] without holes or overlaps.
fn tiles(
    units: &[crate::plan::shard::Unit],
    start: Timestamp,
    end: Timestamp,
) -> Result<(), String> {
    type Slices = Vec<Option<(Timestamp, Timestamp)>>;
    let mut by_chain: BTreeMap<(&str, &str), Slices> = BTreeMap::new();
    for u in units {
        by_chain
            .entry((&u.account, &u.region))
            .or_default()
            .push(u.slice);
    }
    for ((a, r), mut slices) in by_chain {
        if slices.len() == 1 && slices[0].is_none() {
            continue;
        }
        slices.sort();
        let mut at = start;
        for s in slices {
            let Some((x, y)) = s else {
                return Err(format!("chain {a} {r} is both whole and sliced"));
            };
            if x != at || y <= x {
                return Err(format!(
                    "the slices of chain {a} {r} do not tile the window"
                ));
            }
            at = y;
        }
        if at != end {
            return Err(format!(
                "the slices of chain {a} {r} stop before the window's end"
            ));
        }
    }
    Ok(())
}

/// A shard's chains are exactly the units the plan gives it.
fn holds_its_units(r: &EstateReport, s: &ShardInfo) -> Result<(), String> {
    type Id = (String, String, Option<(Timestamp, Timestamp)>);
    let shard = crate::plan::shard::Shard {
        index: s.index,
        count: s.count,
    };
    let mut want: Vec<Id> = crate::plan::shard::mine(&s.units, shard)
        .into_iter()
        .map(|u| (u.account, u.region, u.slice))
        .collect();
    let mut got: Vec<Id> = r
        .chains
        .iter()
        .map(|c| (c.account.clone(), c.region.clone(), c.slice))
        .collect();
    want.sort();
    got.sort();
    if want != got {
        return Err(format!(
            "it holds {} chain report(s) where its share of the plan is {}",
            got.len(),
            want.len()
        ));
    }
    Ok(())
}

/// One chain from its time slices (oldest first): objects once each (the
/// worse verdict where two slices disagree), gaps once each, and the link
/// across every cut checked.
fn join_slices(slices: Vec<ChainReport>, start: Timestamp, end: Timestamp) -> ChainReport {
    let mut out = slices[0].clone();
    if slices.len() == 1 && out.slice.is_none() {
        out.report.found = crate::report::model::found_range(&out.report.digests, start, end);
        rebuild_entries(&mut out.report);
        return out;
    }
    out.slice = None;
    let r = &mut out.report;
    r.requested_start = start;
    r.requested_end = end;
    r.digests.clear();
    r.logs.clear();
    r.gaps.clear();
    r.unexpected.clear();
    r.untrusted.clear();
    r.unproven.clear();
    r.coverage_narrowed = slices.iter().any(|s| s.report.coverage_narrowed);
    r.home_calls_unread = slices.iter().any(|s| s.report.home_calls_unread);
    r.notes.clear();
    r.blind_spots.clear();
    // The home chain's calls are known only if every slice read them all.
    r.coverage_changes = slices
        .iter()
        .map(|s| s.report.coverage_changes.clone())
        .collect::<Option<Vec<_>>>()
        .map(|all| all.concat());
    // Likewise its lifecycle calls: a slice that missed some would let a
    // later stop go unseen.
    r.lifecycle_calls = slices
        .iter()
        .map(|s| s.report.lifecycle_calls.clone())
        .collect::<Option<Vec<_>>>()
        .map(|all| crate::verify::lifecycle::in_one_order(all.concat()));
    let (mut digest_index, mut log_index) = (Default::default(), Default::default());
    // Newest slice first, as digests are listed newest first.
    for (i, s) in slices.iter().enumerate().rev() {
        for d in &s.report.digests {
            let key = |x: &DigestVerdict| (x.bucket.clone(), x.key.clone());
            let rank = |x: &DigestVerdict| severity(x.status, x.finding.as_ref());
            upsert(&mut r.digests, &mut digest_index, d.clone(), key, rank);
        }
        for l in &s.report.logs {
            let key = |x: &LogVerdict| (x.bucket.clone(), x.key.clone());
            let rank = |x: &LogVerdict| severity(x.status, x.finding.as_ref());
            upsert(&mut r.logs, &mut log_index, l.clone(), key, rank);
        }
        for o in &s.report.unexpected {
            if !r
                .unexpected
                .iter()
                .any(|x| x.bucket == o.bucket && x.key == o.key)
            {
                r.unexpected.push(o.clone());
            }
        }
        for n in &s.report.notes {
            if !r.notes.contains(n) {
                r.notes.push(n.clone());
            }
        }
        for b in &s.report.blind_spots {
            if !r.blind_spots.contains(b) {
                r.blind_spots.push(b.clone());
            }
        }
        for u in &s.report.untrusted {
            r.untrusted.push(u.clone());
        }
        if i > 0 {
            if let Some(broken) = unlinked(&slices[i - 1], s) {
                r.unproven.push(broken);
            }
        }
    }
    join_gaps(r, &slices);
    r.unproven.extend(
        slices
            .iter()
            .flat_map(|s| s.report.unproven.iter().cloned()),
    );
    r.unproven.sort();
    r.unproven.dedup();
    r.untrusted = crate::report::model::merge_untrusted(std::mem::take(&mut r.untrusted));
    r.found = crate::report::model::found_range(&r.digests, start, end);
    r.newest = newest_valid(&r.digests);
    rebuild_entries(r);
    out
}

/// Gaps once each, newest first as the engine lists them. A slice sees a
/// chain start after its own start as a gap from there; the slice before
/// saw the whole gap.
fn join_gaps(r: &mut Report, slices: &[ChainReport]) {
    for (i, s) in slices.iter().enumerate().rev() {
        let before: HashSet<Timestamp> = match i.checked_sub(1) {
            Some(p) => slices[p]
                .report
                .gaps
                .iter()
                .filter(|g| !g.backfill)
                .map(|g| g.end)
                .collect(),
            None => HashSet::new(),
        };
        for g in &s.report.gaps {
            if g.kind == GapKind::BeforeFirstDigest && !g.backfill && before.contains(&g.end) {
                continue;
            }
            if !r.gaps.contains(g) {
                r.gaps.push(g.clone());
            }
        }
    }
}

/// How bad a verdict is: invalid, unverified, unverified without a digest
/// to blame (`no_digest`), valid.
fn severity(status: Status, f: Option<&Finding>) -> u8 {
    match (status, f.map(|f| f.problem)) {
        (Status::Invalid, _) => 3,
        (Status::Unverified, Some(Problem::NoDigest)) => 1,
        (Status::Unverified, _) => 2,
        (Status::Valid, _) => 0,
    }
}

/// Keeps one verdict per object: the worst any slice gave.
fn upsert<T>(
    list: &mut Vec<T>,
    index: &mut std::collections::HashMap<(String, String), usize>,
    item: T,
    key: impl Fn(&T) -> (String, String),
    rank: impl Fn(&T) -> u8,
) {
    match index.get(&key(&item)) {
        Some(&i) => {
            if rank(&item) > rank(&list[i]) {
                list[i] = item;
            }
        }
        None => {
            index.insert(key(&item), list.len());
            list.push(item);
        }
    }
}

/// The oldest standard digest of `later` must name a digest of `earlier`
/// (or of itself) as its predecessor, unless it starts a chain.
fn unlinked(earlier: &ChainReport, later: &ChainReport) -> Option<String> {
    let oldest = later
        .report
        .digests
        .iter()
        .filter(|d| !d.backfill && d.status == Status::Valid)
        .min_by_key(|d| d.end)?;
    let (pb, pk) = oldest.previous.as_ref()?;
    let known = |r: &Report| {
        r.digests
            .iter()
            .any(|d| &d.bucket == pb && &d.key == pk && d.status == Status::Valid)
    };
    if known(&earlier.report) || known(&later.report) {
        return None;
    }
    Some(format!(
        "the slice starting {} does not link to the slice before it: s3://{}/{} names s3://{pb}/{pk}, \
         which the slice before did not verify",
        later
            .slice
            .map(|s| crate::verify::time::display(s.0))
            .unwrap_or_default(),
        oldest.bucket,
        oldest.key
    ))
}

/// The AWS CLI's order again: each digest, then the log files it lists,
/// then the rest.
fn rebuild_entries(r: &mut Report) {
    r.entries.clear();
    let mut done = vec![false; r.logs.len()];
    let mut by_digest: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (li, l) in r.logs.iter().enumerate() {
        if let Some(d) = l.digest_key.as_deref() {
            by_digest.entry(d).or_default().push(li);
        }
    }
    for (di, d) in r.digests.iter().enumerate() {
        r.entries.push(Entry::Digest(di));
        for &li in by_digest
            .get(d.key.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            if !done[li] {
                done[li] = true;
                r.entries.push(Entry::Log(li));
            }
        }
    }
    for (li, d) in done.iter().enumerate() {
        if !d {
            r.entries.push(Entry::Log(li));
        }
    }
    for gi in 0..r.gaps.len() {
        r.entries.push(Entry::Gap(gi));
    }
    for ui in 0..r.unexpected.len() {
        r.entries.push(Entry::Unexpected(ui));
    }
}
