//! `trailproof merge`: shard reports (the estate JSON schema) back into the report
//! and exit status of the unsharded run. Refuses reports of other trails,
//! windows, selections or shard sets (a missing or duplicated shard), and
//! where a chain was cut into time slices, checks that the first digest of
//! each slice vouches for a digest of the slice before: sharding never
//! weakens the proof. One file a job: `read` reads and authenticates a
//! report, `checks` holds the shards to one run, `slices` joins a chain's
//! time slices, `home` gives every chain the home chain's calls.

mod checks;
mod home;
mod read;
mod slices;

pub use read::{authenticate, read};

use crate::verify::model::EstateReport;
use crate::verify::time::Timestamp;
use checks::{check_first, check_shard};
use home::{share_home_changes, share_home_lifecycle};
use slices::combine;

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0} is not a trailproof shard report (schema {v} JSON): {1}", v = crate::report::json::SCHEMA_ESTATE)]
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
