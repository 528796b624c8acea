//! Where a report comes from, stated in every format: the tool and its
//! version, when, what was read, which keys the proof rests on, and the
//! checkpoint and state key in effect. An auditor who receives the report
//! can reproduce it from these lines.

use crate::plan::checkpoint::Checkpoint;
use crate::plan::connect::Sources;
use crate::request::{Place, ValidateRequest};
use crate::verify::model::{ChainSummary, Provenance};

/// `trailproof <version>`.
pub fn tool() -> String {
    format!("trailproof {}", env!("CARGO_PKG_VERSION"))
}

/// The provenance of one validation run.
pub(crate) fn of_run(
    req: &ValidateRequest,
    sources: &Sources,
    checkpoint: Option<&Checkpoint>,
    summaries: &[ChainSummary],
) -> Provenance {
    let place = match &sources.prefix {
        Some(p) => format!("s3://{}/{}", sources.bucket, p.trim_end_matches('/')),
        None => format!("s3://{}", sources.bucket),
    };
    let source = match (&req.source.place, &req.tuning.endpoint_url) {
        (Place::Live { .. }, Some(url)) => format!("{place} (live, through {url})"),
        (Place::Live { .. }, None) => format!("{place} (live: S3 and the CloudTrail API)"),
        (Place::Local { dir, .. }, _) => format!("local copy {} of {place}", dir.display()),
    };
    let public_keys = match &req.source.keys_file {
        Some(f) => format!("file {}", f.display()),
        None => "CloudTrail ListPublicKeys".to_string(),
    };
    let checkpoint = match (req.state.checkpoint.as_ref(), checkpoint) {
        (Some(path), Some(cp)) => Some(format!(
            "{path} (written {}): {}",
            cp.written,
            crate::plan::build::checkpoint_window(req, cp)
        )),
        (Some(path), None) => Some(format!("{path} (none yet: every chain read in full)")),
        _ => None,
    };
    let state_key = req.state.key.as_ref().map(|k| k.describe());
    let mut p = stamped(source, public_keys, checkpoint, state_key, summaries);
    p.signer = req.state.signer.as_ref().map(|s| s.public().fingerprint());
    p.timestamp_authority = req.state.tsa.as_ref().map(|t| t.url());
    // The keys and records the run used, also when an acquired folder
    // supplied them rather than a flag.
    let mut inputs = req.inputs.clone();
    let used = [
        ("public keys", req.source.keys_file.as_ref()),
        ("gap records", req.source.gap_events.as_ref()),
    ];
    for (what, path) in used {
        let Some(path) = path else { continue };
        if !inputs.iter().any(|(_, p)| p == path) {
            inputs.push((what.to_string(), path.clone()));
        }
    }
    p.inputs = inputs
        .iter()
        .map(|(flag, path)| crate::verify::model::Input {
            flag: flag.clone(),
            path: path.display().to_string(),
            sha256: std::fs::read(path)
                .ok()
                .map(|b| crate::verify::digest::sha256_hex(&b)),
        })
        .collect();
    p
}

/// The provenance of a merge: the shard reports it read, and where their
/// runs say the keys came from.
pub(crate) fn of_merge(
    reports: &[String],
    keys_from: String,
    state_key: Option<String>,
    summaries: &[ChainSummary],
) -> Provenance {
    let source = format!(
        "merge of {} shard reports: {}",
        reports.len(),
        reports.join(", ")
    );
    stamped(source, keys_from, None, state_key, summaries)
}

/// Tool, time and the keys the verified digests were signed with, added
/// to what was read.
fn stamped(
    source: String,
    public_keys: String,
    checkpoint: Option<String>,
    state_key: Option<String>,
    summaries: &[ChainSummary],
) -> Provenance {
    Provenance {
        tool: tool(),
        generated_at: crate::verify::time::display(chrono::Utc::now()),
        source,
        public_keys,
        key_fingerprints: Provenance::fingerprints_of(summaries),
        checkpoint,
        state_key,
        signer: None,
        timestamp_authority: None,
        caller: None,
        command: crate::sources::tsa::shown_command(
            std::env::args_os().map(|a| a.to_string_lossy().into_owned()),
        ),
        host: host(),
        inputs: Vec::new(),
    }
}

/// The machine's name, where the system says it.
fn host() -> Option<String> {
    let named = std::env::var("HOSTNAME").ok();
    let kernel = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    named
        .or_else(kernel)
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
