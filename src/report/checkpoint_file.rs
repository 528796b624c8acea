//! The checkpoint as a file or S3 object: read before the plan (its
//! seams), written after a complete run (the chains proven strictly
//! advance). The format and its checks are `plan::checkpoint`.

use super::output::Remote;
use crate::plan::checkpoint::{Checkpoint, Record, Settings};
use crate::report::model::{exit, ChainSummary};

/// Why a checkpoint could not be used or kept.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    /// It exists but is not this run's checkpoint (wrong trail, corrupt).
    #[error("{0}")]
    Unusable(String),
    #[error("{0}")]
    Io(String),
}

/// The checkpoint read, and the version it had (S3's ETag).
pub struct Loaded {
    pub checkpoint: Option<Checkpoint>,
    etag: Option<String>,
}

/// The checkpoint named by `--checkpoint`, or none when it does not exist
/// yet (the first run); anything unusable is an error, never a silent full
/// or empty run.
pub async fn load(
    target: Option<&str>,
    settings: &Settings,
    remote: Remote<'_>,
) -> Result<Loaded, CheckpointFileError> {
    let none = Loaded {
        checkpoint: None,
        etag: None,
    };
    let Some(target) = target else {
        return Ok(none);
    };
    match super::output::read_versioned(target, remote).await {
        Ok(None) => Ok(none),
        Ok(Some((bytes, etag))) => Checkpoint::parse(target, &bytes, settings)
            .map(|cp| Loaded {
                checkpoint: Some(cp),
                etag,
            })
            .map_err(|e| CheckpointFileError::Unusable(e.to_string())),
        Err(e) => Err(CheckpointFileError::Io(e)),
    }
}

/// Writes the next checkpoint. A chain advances only when proven strictly:
/// not under --allow-gaps, and with its folders scanned. A failed write
/// under a verdict of tampering or of an unproven window is said on
/// stderr and the verdict kept; under a proof it is the run's error.
#[allow(clippy::too_many_arguments)]
pub async fn write_next(
    target: Option<&str>,
    settings: Settings,
    old: Loaded,
    summaries: &[ChainSummary],
    folders_scanned: bool,
    run_start: Option<crate::verify::time::Timestamp>,
    code: i32,
    remote: Remote<'_>,
) -> Result<(), CheckpointFileError> {
    let Some(target) = target else {
        return Ok(());
    };
    let proven: Vec<Record> = summaries
        .iter()
        .filter(|s| s.strictly_proven && folders_scanned)
        .filter_map(|s| {
            let n = s.newest.as_ref()?;
            Some(Record {
                account: s.account.clone(),
                region: s.region.clone(),
                bucket: n.bucket.clone(),
                key: n.key.clone(),
                end: crate::verify::time::display(n.end),
                signature: n.signature.clone(),
                sha256: n.sha256.clone(),
            })
        })
        .collect();
    let cp = crate::plan::checkpoint::next(
        settings,
        old.checkpoint.as_ref(),
        proven,
        chrono::Utc::now(),
        run_start,
    );
    let bytes = cp.to_json().into_bytes();
    let written = super::output::write_versioned(target, bytes, old.etag.as_deref(), remote).await;
    match written {
        Err(e) if code != exit::PROVEN => {
            eprintln!("trailproof: {e}");
            Ok(())
        }
        Err(e) => Err(CheckpointFileError::Io(e)),
        Ok(()) => Ok(()),
    }
}
