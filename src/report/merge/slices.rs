//! One chain's time slices joined into the chain's report, each slice's
//! first digest vouching for a digest of the slice before.

use super::read::newest_valid;
use crate::verify::model::{
    ChainReport, DigestVerdict, Entry, EstateReport, Finding, GapKind, LogVerdict, Problem, Report,
    Status, Unproven,
};
use crate::verify::time::Timestamp;
use std::collections::{BTreeMap, HashSet};

/// Every chain's slices joined, and the run's notes once each.
pub(super) fn combine(
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

/// One chain from its time slices (oldest first): objects once each (the
/// worse verdict where two slices disagree), gaps once each, and the link
/// across every cut checked.
pub(super) fn join_slices(
    slices: Vec<ChainReport>,
    start: Timestamp,
    end: Timestamp,
) -> ChainReport {
    let mut out = slices[0].clone();
    if slices.len() == 1 && out.slice.is_none() {
        out.report.found = crate::verify::model::found_range(&out.report.digests, start, end);
        rebuild_entries(&mut out.report);
        return out;
    }
    out.slice = None;
    let r = &mut out.report;
    chain_wide(r, &slices, start, end);
    let (mut digest_index, mut log_index) = (Default::default(), Default::default());
    // Newest slice first, as digests are listed newest first.
    for (i, s) in slices.iter().enumerate().rev() {
        take_slice(r, &s.report, &mut digest_index, &mut log_index);
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
    r.narrowing_shown.extend(
        slices
            .iter()
            .flat_map(|s| s.report.narrowing_shown.iter().cloned()),
    );
    // In the order of their words, as the sentences were sorted before
    // they had kinds.
    for lines in [&mut r.unproven, &mut r.narrowing_shown] {
        lines.sort_by_cached_key(crate::report::explain::unproven);
        lines.dedup();
    }
    r.untrusted = crate::verify::model::merge_untrusted(std::mem::take(&mut r.untrusted));
    r.found = crate::verify::model::found_range(&r.digests, start, end);
    r.newest = newest_valid(&r.digests);
    rebuild_entries(r);
    out
}

/// What the joined chain holds of its slices as a whole: the window, what
/// the slices' words will be gathered into, and the home chain's calls
/// (known only when every slice read them all).
fn chain_wide(r: &mut Report, slices: &[ChainReport], start: Timestamp, end: Timestamp) {
    r.requested_start = start;
    r.requested_end = end;
    r.digests.clear();
    r.logs.clear();
    r.gaps.clear();
    r.unexpected.clear();
    r.untrusted.clear();
    r.unproven.clear();
    r.narrowing_shown.clear();
    r.home_calls_unread = slices
        .iter()
        .find_map(|s| s.report.home_calls_unread.clone());
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
}

/// One slice's objects, notes, blind spots and untrusted spans, each once
/// (an object in two slices keeps its worst verdict).
fn take_slice(
    r: &mut Report,
    s: &Report,
    digest_index: &mut std::collections::HashMap<(String, String), usize>,
    log_index: &mut std::collections::HashMap<(String, String), usize>,
) {
    for d in &s.digests {
        let key = |x: &DigestVerdict| (x.bucket.clone(), x.key.clone());
        let rank = |x: &DigestVerdict| severity(x.status, x.finding.as_ref());
        upsert(&mut r.digests, digest_index, d.clone(), key, rank);
    }
    for l in &s.logs {
        let key = |x: &LogVerdict| (x.bucket.clone(), x.key.clone());
        let rank = |x: &LogVerdict| severity(x.status, x.finding.as_ref());
        upsert(&mut r.logs, log_index, l.clone(), key, rank);
    }
    for o in &s.unexpected {
        if !r
            .unexpected
            .iter()
            .any(|x| x.bucket == o.bucket && x.key == o.key)
        {
            r.unexpected.push(o.clone());
        }
    }
    for n in &s.notes {
        if !r.notes.contains(n) {
            r.notes.push(n.clone());
        }
    }
    for b in &s.blind_spots {
        if !r.blind_spots.contains(b) {
            r.blind_spots.push(b.clone());
        }
    }
    for u in &s.untrusted {
        r.untrusted.push(u.clone());
    }
}

/// Gaps once each, newest first as the engine lists them. A slice sees a
/// chain start after its own start as a gap from there; the slice before
/// saw the whole gap.
pub(super) fn join_gaps(r: &mut Report, slices: &[ChainReport]) {
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
pub(super) fn severity(status: Status, f: Option<&Finding>) -> u8 {
    // Not judged (archived, a keys file that cannot judge) ranks below
    // what is tampering, so one slice's judgement is never hidden by it.
    match (status, f.map(|f| f.problem)) {
        (Status::Invalid, _) => 4,
        (Status::Unverified, Some(Problem::NoDigest)) => 1,
        (Status::Unverified, Some(Problem::Archived | Problem::KeyNotInFile)) => 2,
        (Status::Unverified, _) => 3,
        (Status::Valid, _) => 0,
    }
}

/// Keeps one verdict per object: the worst any slice gave.
pub(super) fn upsert<T>(
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
pub(super) fn unlinked(earlier: &ChainReport, later: &ChainReport) -> Option<Unproven> {
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
    Some(Unproven::SlicesUnlinked {
        slice_start: later.slice.map(|s| s.0),
        bucket: oldest.bucket.clone(),
        key: oldest.key.clone(),
        previous_bucket: pb.clone(),
        previous_key: pk.clone(),
    })
}

/// The AWS CLI's order again: each digest, then the log files it lists,
/// then the rest.
pub(super) fn rebuild_entries(r: &mut Report) {
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
