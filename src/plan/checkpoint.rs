//! Checkpoints for scheduled runs: per chain, the newest verified digest
//! (where it is, when it ends, its signature and the SHA-256 of its
//! inflated bytes) and the trail settings it was made for. The next run
//! starts there, checks that the recorded digest is still exactly what it
//! was, and that the first newer digest vouches for it: a nightly job does
//! a day's work yet proves the chain unbroken from the record on (what lies
//! behind the record is not read again).
//! Pure: parsing, checking and the verdict on the recorded digest.

use crate::verify::chain::{Node, NodeState};
use crate::verify::model::{Finding, Problem};
use crate::verify::time::{display, parse_digest_time, Timestamp};
use serde::{Deserialize, Serialize};

/// The format version this build writes and reads.
pub(crate) const VERSION: u32 = 1;

/// One chain's newest verified digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub account: String,
    pub region: String,
    pub bucket: String,
    pub key: String,
    /// digestEndTime, `YYYY-MM-DDTHH:MM:SSZ`.
    pub end: String,
    /// The signature metadata (hex).
    pub signature: String,
    /// SHA-256 of the inflated bytes (hex).
    pub sha256: String,
    /// The retention watch's commitment to the chain's proven days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<crate::verify::inventory::Inventory>,
}

impl Record {
    pub fn end_time(&self) -> Option<Timestamp> {
        parse_digest_time(&self.end)
    }
}

/// What a checkpoint was made for: a checkpoint of another trail, bucket,
/// prefix or organization folder is refused, never silently reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub trail_arn: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub trailproof_checkpoint: u32,
    pub settings: Settings,
    /// When the run that wrote it finished.
    pub written: String,
    /// The earliest window start the chains were proven from (the first
    /// run's `--start-time`): an explicit `--start-time` before it widens
    /// the window, one at or after it leaves each chain at its record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    pub chains: Vec<Record>,
    /// HMAC-SHA256 by the operator's state key over the rest (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// Why a checkpoint cannot be used (exit 2, never a silent full or empty run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {0} is not a trailproof checkpoint ({1}); move it away to start over with --start-time")]
    Corrupt(String, String),
    #[error("checkpoint {0} has format version {1}, this trailproof reads version {VERSION}")]
    Version(String, u32),
    #[error("checkpoint {0} was made for {1}, not this run's {2}; use one checkpoint per trail and bucket")]
    Foreign(String, String, String),
}

impl Checkpoint {
    /// Parses and checks a checkpoint read from `name`.
    pub fn parse(
        name: &str,
        bytes: &[u8],
        settings: &Settings,
    ) -> Result<Checkpoint, CheckpointError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| CheckpointError::Corrupt(name.to_string(), e.to_string()))?;
        let version = v
            .get("trailproof_checkpoint")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                CheckpointError::Corrupt(name.to_string(), "no format version".into())
            })?;
        if version != u64::from(VERSION) {
            return Err(CheckpointError::Version(name.to_string(), version as u32));
        }
        let cp: Checkpoint = serde_json::from_value(v)
            .map_err(|e| CheckpointError::Corrupt(name.to_string(), e.to_string()))?;
        let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        if let Some(bad) = cp
            .chains
            .iter()
            .find(|r| r.end_time().is_none() || !hex(&r.signature) || !hex(&r.sha256))
        {
            return Err(CheckpointError::Corrupt(
                name.to_string(),
                format!("bad record for {} {}", bad.account, bad.region),
            ));
        }
        let what = |s: &Settings| {
            format!(
                "trail {} in s3://{}/{}{}",
                s.trail_arn,
                s.bucket,
                s.prefix.as_deref().unwrap_or(""),
                s.organization_id
                    .as_deref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default()
            )
        };
        if cp.settings != *settings {
            return Err(CheckpointError::Foreign(
                name.to_string(),
                what(&cp.settings),
                what(settings),
            ));
        }
        Ok(cp)
    }

    /// What the state key's MAC covers: everything but the MAC.
    pub(crate) fn signed_body(&self) -> Vec<u8> {
        let mut c = self.clone();
        c.mac = None;
        c.to_json().into_bytes()
    }

    pub(crate) fn start_time(&self) -> Option<Timestamp> {
        self.start.as_deref().and_then(parse_digest_time)
    }

    pub fn record(&self, account: &str, region: &str) -> Option<&Record> {
        self.chains
            .iter()
            .find(|r| r.account == account && r.region == region)
    }

    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// A new checkpoint: the chains proven this run advance to their newest
/// verified digest; every other chain keeps its old record (so the next run
/// checks again from there and reports again what it found).
pub fn next(
    settings: Settings,
    old: Option<&Checkpoint>,
    proven: Vec<Record>,
    now: Timestamp,
    run_start: Option<Timestamp>,
) -> Checkpoint {
    let old_start = old.and_then(|o| o.start.as_deref().and_then(parse_digest_time));
    // An earlier start is earned only by proving every known chain from
    // it: a widening night that failed must leave the start where it was
    // proven, so the next night with that --start-time widens again
    // rather than resuming behind damage nobody proved away.
    let all_proven = old.is_none_or(|o| {
        o.chains.iter().all(|rec| {
            proven
                .iter()
                .any(|c| c.account == rec.account && c.region == rec.region)
        })
    });
    let start = match (old, old_start, run_start) {
        (None, _, s) => s,
        (Some(_), Some(a), Some(b)) if all_proven => Some(a.min(b)),
        (Some(_), a, _) => a,
    };
    let mut chains = proven;
    // Every chain the old checkpoint knew stays known, even one this run did
    // not plan (its folders deleted): the next run starts there again.
    if let Some(old) = old {
        for rec in &old.chains {
            if !chains
                .iter()
                .any(|c| c.account == rec.account && c.region == rec.region)
            {
                chains.push(rec.clone());
            }
        }
    }
    chains.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    Checkpoint {
        trailproof_checkpoint: VERSION,
        settings,
        written: display(now),
        start: start.map(display),
        chains,
        mac: None,
    }
}

/// Checks the recorded digest against what the walk found, before the chain
/// is analysed: gone is `not_found`, changed is a broken link (history
/// rewritten), and when newer digests exist, one of them must vouch for it.
pub fn check(record: &Record, nodes: &mut Vec<Node>) {
    let idx = nodes
        .iter()
        .position(|n| n.bucket == record.bucket && n.key == record.key);
    let Some(i) = idx else {
        let finding = Finding::new(
            Problem::NotFound,
            crate::verify::digest_check::reason::NOT_FOUND,
        )
        .with_detail(format!(
            "the checkpoint records this digest (ending {}) as verified; it is gone since \
                 (deleted behind the checkpoint)",
            record.end
        ));
        let mut node = Node::new(
            &record.bucket,
            &record.key,
            false,
            NodeState::Unreadable(finding),
        );
        node.key_end = record.end_time();
        nodes.push(node);
        return;
    };
    let rewritten = |why: String| {
        NodeState::Unreadable(
            Finding::new(
                Problem::ChainLink,
                "does not match the checkpoint (history rewritten)",
            )
            .with_detail(why),
        )
    };
    match nodes[i].verified() {
        None => {
            // Its own finding (unreadable, bad signature...) already says enough.
        }
        Some(v)
            if v.sha256_hex != record.sha256.to_ascii_lowercase()
                || v.signature_hex != record.signature.to_ascii_lowercase()
                || Some(v.digest.end) != record.end_time() =>
        {
            let short = |s: &str| s.chars().take(16).collect::<String>();
            nodes[i].state = rewritten(format!(
                "the checkpoint recorded end {}, SHA-256 {} and signature {}..., the digest has \
                 end {}, SHA-256 {} and signature {}...",
                record.end,
                record.sha256,
                short(&record.signature),
                v.digest.end_raw,
                v.sha256_hex,
                short(&v.signature_hex)
            ));
        }
        Some(_) => {
            let end = record.end_time();
            let newer: Vec<&Node> = nodes
                .iter()
                .filter(|n| !n.backfill && n.end() > end && n.verified().is_some())
                .collect();
            let vouched = newer.iter().any(|n| {
                n.verified()
                    .and_then(|v| v.digest.previous.as_ref())
                    .is_some_and(|p| p.bucket == record.bucket && p.key == record.key)
            });
            let restarted = newer
                .iter()
                .min_by_key(|n| n.end())
                .and_then(|n| n.verified())
                .is_some_and(|v| v.digest.previous.is_none());
            if !newer.is_empty() && !vouched && !restarted {
                nodes[i].state = rewritten(
                    "no newer digest vouches for the checkpointed one: the chain after it was \
                     rewritten or cut"
                        .to_string(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            trail_arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t".into(),
            bucket: "b".into(),
            prefix: None,
            organization_id: None,
        }
    }

    #[test]
    fn corrupt_foreign_and_old_checkpoints_are_refused() {
        let day = crate::verify::time::parse_user_time("2026-03-01").unwrap();
        let cp = next(settings(), None, vec![], day, Some(day));
        assert_eq!(cp.start_time(), Some(day));
        // A later run keeps the earliest start it was proven from.
        let later = next(
            settings(),
            Some(&cp),
            vec![],
            day,
            Some(day + chrono::Duration::days(3)),
        );
        assert_eq!(later.start_time(), Some(day));
        let text = cp.to_json();
        assert!(Checkpoint::parse("c", text.as_bytes(), &settings()).is_ok());
        assert!(matches!(
            Checkpoint::parse("c", b"{not json", &settings()),
            Err(CheckpointError::Corrupt(..))
        ));
        let old = text.replace(
            "\"trailproof_checkpoint\": 1",
            "\"trailproof_checkpoint\": 0",
        );
        assert!(matches!(
            Checkpoint::parse("c", old.as_bytes(), &settings()),
            Err(CheckpointError::Version(..))
        ));
        let mut other = settings();
        other.bucket = "elsewhere".into();
        assert!(matches!(
            Checkpoint::parse("c", text.as_bytes(), &other),
            Err(CheckpointError::Foreign(..))
        ));
    }
}
