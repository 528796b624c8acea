//! The checkpoint as a file or S3 object: read before the plan (its
//! seams), written after a complete run (the chains proven strictly
//! advance). The format and its checks are `plan::checkpoint`.

use crate::plan::checkpoint::{Checkpoint, Record, Settings};
use crate::request::ValidateRequest;
use crate::run::Outcome;
use crate::verify::model::Verdict;
use crate::verify::state_key::{Purpose, StateKey};

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
    req: &ValidateRequest,
    settings: &Settings,
) -> Result<Loaded, CheckpointFileError> {
    let none = Loaded {
        checkpoint: None,
        etag: None,
    };
    let Some(target) = req.state.checkpoint.as_ref() else {
        return Ok(none);
    };
    let (key, remote) = (req.state.key.as_deref(), req.remote());
    match crate::sources::output::read_versioned(target, remote).await {
        Ok(None) => Ok(none),
        Ok(Some((bytes, etag))) => {
            let name = target.to_string();
            let cp = Checkpoint::parse(&name, &bytes, settings)
                .map_err(|e| CheckpointFileError::Unusable(e.to_string()))?;
            authenticate(&name, &cp, key)?;
            if let (None, Some(signer)) = (key, req.state.signer.as_deref()) {
                signed_by_the_signer(target, &bytes, signer, remote).await?;
            }
            Ok(Loaded {
                checkpoint: Some(cp),
                etag,
            })
        }
        Err(e) => Err(CheckpointFileError::Io(e.to_string())),
    }
}

/// With a signing key and no state key, the checkpoint must carry the
/// signing key's signature: the run is about to sign what follows from it.
async fn signed_by_the_signer(
    target: &crate::sources::output::Destination,
    bytes: &[u8],
    signer: &crate::sources::signing::Signer,
    remote: crate::sources::output::Remote<'_>,
) -> Result<(), CheckpointFileError> {
    let public = signer.public();
    let signed = crate::sources::output::signed_by(target, bytes, public, remote).await;
    match signed.map_err(|e| CheckpointFileError::Io(e.to_string()))? {
        true => Ok(()),
        false => Err(CheckpointFileError::Unusable(format!(
            "checkpoint {target} is not signed by the signing key (edited, or written without \
             it); move it away to start over with --start-time"
        ))),
    }
}

/// With a state key, a checkpoint must carry its MAC: an edited one (a
/// chain moved to a later digest, skipping what lies between) is refused.
fn authenticate(
    target: &str,
    cp: &Checkpoint,
    key: Option<&dyn StateKey>,
) -> Result<(), CheckpointFileError> {
    let Some(key) = key else {
        return Ok(());
    };
    let mac = cp.mac.as_deref().unwrap_or("");
    let checked = key
        .verify(Purpose::Checkpoint, &cp.signed_body(), mac)
        .map_err(|e| CheckpointFileError::Io(format!("checkpoint {target}: {e}")))?;
    if checked {
        return Ok(());
    }
    Err(CheckpointFileError::Unusable(format!(
        "checkpoint {target} is not authenticated by the state key (edited, or written without \
         it); move it away to start over with --start-time"
    )))
}

/// Writes the next checkpoint. A chain advances only when proven strictly:
/// not under --allow-gaps, and with its folders scanned. A failed write
/// under a verdict of tampering or of an unproven window is said on
/// stderr and the verdict kept; under a proof it is the run's error.
pub(crate) async fn write_next(
    req: &ValidateRequest,
    settings: Settings,
    old: Loaded,
    outcome: &Outcome,
    inventories: &[(String, String, crate::verify::inventory::Inventory)],
) -> Result<(), CheckpointFileError> {
    let Some(target) = req.state.checkpoint.as_ref() else {
        return Ok(());
    };
    let (key, remote) = (req.state.key.as_deref(), req.remote());
    let (summaries, verdict) = (&outcome.summaries, outcome.verdict());
    let folders_scanned = req.checks.check_unreferenced;
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
                inventory: inventories
                    .iter()
                    .find(|(a, r, _)| *a == s.account && *r == s.region)
                    .map(|(_, _, i)| i.clone()),
            })
        })
        .collect();
    let mut cp = crate::plan::checkpoint::next(
        settings,
        old.checkpoint.as_ref(),
        proven,
        chrono::Utc::now(),
        req.window.start,
    );
    if let Some(key) = key {
        let mac = key
            .sign(Purpose::Checkpoint, &cp.signed_body())
            .map_err(|e| CheckpointFileError::Io(format!("checkpoint {target}: {e}")))?;
        cp.mac = Some(mac);
    }
    let bytes = cp.to_json().into_bytes();
    let written =
        crate::sources::output::write_versioned(target, bytes, old.etag.as_deref(), remote).await;
    match written {
        Err(e) if verdict != Verdict::Proven => {
            super::say(format_args!("{e}"));
            Ok(())
        }
        Err(e) => Err(CheckpointFileError::Io(e.to_string())),
        Ok(()) => Ok(()),
    }
}
