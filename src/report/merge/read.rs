//! A shard report read back into the report model (with the JSON schema's
//! own types), and its state-key authentication.

use super::MergeError;
use crate::verify::model::{DigestVerdict, EstateReport, Provenance, Status};
use crate::verify::state_key::{Purpose, StateKey};

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
pub(super) fn newest_valid(
    digests: &[DigestVerdict],
) -> Option<crate::verify::model::NewestDigest> {
    digests
        .iter()
        .filter(|d| d.status == Status::Valid && !d.backfill)
        .filter_map(|d| Some((d.end?, d)))
        .max_by_key(|(end, _)| *end)
        .map(|(end, d)| crate::verify::model::NewestDigest {
            bucket: d.bucket.clone(),
            key: d.key.clone(),
            end,
            signature: String::new(),
            sha256: String::new(),
        })
}

/// Reads one shard's report and where it came from.
pub fn read(name: &str, bytes: &[u8]) -> Result<(EstateReport, Option<Provenance>), MergeError> {
    let (mut estate, provenance) = crate::report::json::parse_estate(bytes)
        .map_err(|e| MergeError::Unreadable(name.to_string(), e.to_string()))?;
    if estate.shard.is_none() {
        return Err(MergeError::NotAShard(name.to_string()));
    }
    for c in &mut estate.chains {
        c.report.newest = newest_valid(&c.report.digests);
    }
    Ok((estate, provenance))
}
