//! The acquired directory's format: the files `acquire` writes next to the
//! bucket folders, the manifest that seals them (every file's size and
//! SHA-256, `SHA256SUMS` in `sha256sum -c` form), and its authentication
//! by the state key. Written by `report::evidence`, read by
//! `request::local`; one place so the two cannot drift apart.

use crate::verify::digest::sha256_hex;
use crate::verify::state_key::{Purpose, StateKey};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

/// Files `acquire` writes at the top of DIR (next to the bucket folders).
pub(crate) const KEYS_FILE: &str = "public-keys.json";
pub(crate) const EVENTS_FILE: &str = "lookup-events.json";
pub(crate) const TRAIL_FILE: &str = "trail.json";
/// AWS's answers the run relied on (the fields read, as the SDK parsed
/// them), with their request ids and times.
pub(crate) const ANSWERS_FILE: &str = "aws-answers.json";
/// The draft certification, written after the seal (it quotes the seal's
/// hashes) for a person to edit and sign: not sealed.
pub const CERTIFICATION_FILE: &str = "CERTIFICATION-DRAFT.md";
pub(crate) const REPORT_FILE: &str = "live-report.json";
pub(crate) const MANIFEST_FILE: &str = "manifest.json";
/// The state key's MAC over `manifest.json` (hex), written by `acquire`.
pub(crate) const MANIFEST_MAC_FILE: &str = "manifest.mac";
pub(crate) const SUMS_FILE: &str = "SHA256SUMS";

/// Why a directory's manifest cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ManifestError {
    #[error("the directory's manifest is not authenticated (no --state-key)")]
    NoKey,
    #[error(
        "the directory's manifest is not authenticated by the state key (edited, or acquired \
         without it)"
    )]
    NotAuthentic,
    #[error("the directory's manifest could not be checked: {0}")]
    KeyUnavailable(String),
    #[error("{0}")]
    Unreadable(String),
}

/// An acquired directory's manifest, when the state key's MAC over it
/// verifies. (`acquire` resumes only from such a manifest, and `validate
/// --local` takes keys and records only through one.)
pub(crate) fn authenticated_manifest(
    dir: &Path,
    key: Option<&dyn StateKey>,
) -> Result<Value, ManifestError> {
    let key = key.ok_or(ManifestError::NoKey)?;
    let manifest = std::fs::read(dir.join(MANIFEST_FILE))
        .map_err(|e| ManifestError::Unreadable(e.to_string()))?;
    let mac = std::fs::read_to_string(dir.join(MANIFEST_MAC_FILE)).unwrap_or_default();
    match key.verify(Purpose::Manifest, &manifest, &mac) {
        Ok(true) => {}
        Ok(false) => return Err(ManifestError::NotAuthentic),
        Err(e) => return Err(ManifestError::KeyUnavailable(e.to_string())),
    }
    serde_json::from_slice(&manifest).map_err(|e| ManifestError::Unreadable(e.to_string()))
}

/// The files (name to SHA-256) a manifest records.
pub(crate) fn files_of(manifest: &Value) -> HashMap<String, String> {
    manifest["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some((
                f["path"].as_str()?.to_string(),
                f["sha256"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The SHA-256 of a file's bytes, or None when it cannot be read.
pub(crate) fn sha256_of(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256_hex(&b))
}

/// Writes `v` pretty-printed with a final newline.
pub(crate) fn write_json(path: &Path, v: &Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    std::fs::write(path, text + "\n")
}

/// Every file under `dir` but the seal's own, relative, sorted.
fn files(dir: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = format!("{rel}{name}");
        if entry.file_type()?.is_dir() {
            files(&entry.path(), &format!("{path}/"), out)?;
        } else if ![MANIFEST_FILE, SUMS_FILE, MANIFEST_MAC_FILE]
            .iter()
            .any(|seal| {
                path == *seal || path == format!("{seal}.sig") || path == format!("{seal}.tsr")
            })
            && path != CERTIFICATION_FILE
        {
            out.push(path);
        }
    }
    Ok(())
}

/// What a manifest says besides its files: what it is bound to (trail,
/// window, place, sources), who acquired it and what could not be copied.
pub struct Header {
    pub binding: Value,
    pub caller: Value,
    pub notes: Vec<String>,
    /// The version each copied object was read at (`bucket/key`): the
    /// manifest pins it, so an investigation can ask S3 for exactly it.
    pub pins: HashMap<String, crate::sources::store::ReadPin>,
}

/// Writes manifest.json and SHA256SUMS over everything in DIR; returns
/// the number of files sealed.
pub fn seal(dir: &Path, header: Header) -> std::io::Result<usize> {
    let mut names = Vec::new();
    files(dir, "", &mut names)?;
    names.sort();
    let mut entries = Vec::new();
    let mut sums = String::new();
    for name in &names {
        let bytes = std::fs::read(dir.join(name))?;
        let sha = sha256_hex(&bytes);
        sums.push_str(&format!("{sha}  {name}\n"));
        let mut entry = json!({"path": name, "size": bytes.len(), "sha256": sha});
        if let Some(pin) = header.pins.get(name.as_str()) {
            entry["etag"] = json!(pin.etag);
            entry["version_id"] = json!(pin.version_id);
        }
        entries.push(entry);
    }
    let manifest = json!({
        "trailproof_manifest": 2,
        "acquired": header.binding,
        "command": crate::sources::tsa::shown_command(
            std::env::args_os().map(|a| a.to_string_lossy().into_owned())
        ),
        "time": crate::verify::time::display(chrono::Utc::now()),
        "trailproof_version": env!("CARGO_PKG_VERSION"),
        "caller": header.caller,
        "notes": header.notes,
        "files": entries,
    });
    write_json(&dir.join(MANIFEST_FILE), &manifest)?;
    let m = std::fs::read(dir.join(MANIFEST_FILE))?;
    sums.push_str(&format!("{}  {MANIFEST_FILE}\n", sha256_hex(&m)));
    std::fs::write(dir.join(SUMS_FILE), sums)?;
    Ok(names.len() + 1)
}
