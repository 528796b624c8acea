//! `--recover DIR`: the verified originals, written in the local layout
//! (`DIR/<bucket>/<key>`, a digest's metadata beside it in
//! `<key>.metadata.json`) so `validate --local DIR` reads them as a copy.

use crate::sources::store::local::{check_segment_path, METADATA_SUFFIX};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Where one original goes; a key that would leave `dir` is refused.
fn path(dir: &Path, bucket: &str, key: &str) -> io::Result<PathBuf> {
    check_segment_path(bucket, false)
        .and_then(|_| check_segment_path(key, true))
        .map_err(|why| io::Error::other(format!("{bucket}/{key}: {why}")))?;
    Ok(dir.join(bucket).join(key))
}

/// Writes one original's bytes (and its metadata, when it has any).
pub(crate) fn write_original(
    dir: &Path,
    bucket: &str,
    key: &str,
    bytes: &[u8],
    metadata: &HashMap<String, String>,
) -> io::Result<()> {
    let target = path(dir, bucket, key)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&target, bytes)?;
    if !metadata.is_empty() {
        let side = path(dir, bucket, &format!("{key}{METADATA_SUFFIX}"))?;
        let json = serde_json::to_vec_pretty(metadata).map_err(io::Error::other)?;
        std::fs::write(side, json)?;
    }
    Ok(())
}
