//! The reports are exactly the shards of one run: the plan each carries,
//! every shard holding exactly its units, the units tiling the window.

use super::{Expect, MergeError};
use crate::verify::model::{EstateReport, ShardInfo};
use crate::verify::time::Timestamp;
use std::collections::BTreeMap;

/// The first report sets what every other must match: it must be what
/// the operator asked for, and its own plan must be consistent.
pub(super) fn check_first(
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
    let recomputed = crate::verify::shard::fingerprint(trail, start, end, &s0.selection, &s0.units);
    if recomputed != s0.fingerprint {
        return Err(inconsistent("its fingerprint does not match its plan"));
    }
    tiles(&s0.units, start, end).map_err(|e| inconsistent(&e))?;
    Ok(s0)
}

/// One report against the first: same run, its own units. Returns its index.
pub(super) fn check_shard(
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

/// Each chain's units are either one whole-window unit or slices that
/// tile [start, end] without holes or overlaps.
pub(super) fn tiles(
    units: &[crate::verify::shard::Unit],
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
pub(super) fn holds_its_units(r: &EstateReport, s: &ShardInfo) -> Result<(), String> {
    type Id = (String, String, Option<(Timestamp, Timestamp)>);
    let shard = crate::verify::shard::Shard {
        index: s.index,
        count: s.count,
    };
    let mut want: Vec<Id> = crate::verify::shard::mine(&s.units, shard)
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
