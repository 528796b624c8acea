//! `acquire`'s extra sink: evidence someone else can re-verify offline.
//! The live run reads through a recording store, so exactly the objects the
//! proof rests on (every digest and log file read, every object listed in
//! the trail's folders) land in DIR in the `--local` layout; this adds the
//! public keys of the window, the lifecycle records (LookupEvents), the
//! trail's description, `manifest.json` (every file's size and SHA-256, the
//! command, the time, the caller's identity) and `SHA256SUMS` (`sha256sum
//! -c` format). `validate --local DIR` finds the keys, records and
//! settings by itself (`request::local`).

use crate::plan::connect::Live;
use crate::request::ValidateRequest;
use crate::sources::evidence::{
    write_json, Header, ANSWERS_FILE, EVENTS_FILE, KEYS_FILE, MANIFEST_FILE, MANIFEST_MAC_FILE,
    REPORT_FILE, SUMS_FILE, TRAIL_FILE,
};
use crate::sources::store::record::{Known, Recording};
use crate::verify::state_key::{Purpose, StateKey};
use serde_json::{json, Value};
use std::path::Path;

/// Why the evidence could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EvidenceError(String);

fn io_error(e: impl std::fmt::Display) -> EvidenceError {
    EvidenceError(e.to_string())
}

/// Files of an earlier attempt, as its manifest recorded them.
pub fn earlier(out: &Path, key: Option<&dyn StateKey>) -> Known {
    // Only a manifest the state key authenticates may stand in for S3: one
    // anybody could write would let a planted file replace what S3 holds.
    let Ok(v) = crate::sources::evidence::authenticated_manifest(out, key) else {
        return Known::new();
    };
    v["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| {
                    Some((
                        f["path"].as_str()?.to_string(),
                        (f["size"].as_u64()?, f["sha256"].as_str()?.to_string()),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Removes what an earlier acquisition (or anybody) left at the top of DIR
/// where this one writes: a file this run does not rewrite (LookupEvents
/// denied, no trail description) must not be sealed as if it had.
pub(crate) fn clear_generated(out: &Path) -> Result<(), EvidenceError> {
    let generated = [
        KEYS_FILE,
        EVENTS_FILE,
        ANSWERS_FILE,
        crate::report::certification::FILE,
        TRAIL_FILE,
        REPORT_FILE,
        MANIFEST_FILE,
        MANIFEST_MAC_FILE,
        SUMS_FILE,
    ];
    // An earlier attempt's signatures, tokens and signer too: a resumed
    // package is signed and time-stamped by this run or not at all.
    let signed = generated.iter().map(|f| format!("{f}.sig"));
    let stamped = generated.iter().map(|f| format!("{f}.tsr"));
    for f in generated
        .iter()
        .map(|f| f.to_string())
        .chain(signed)
        .chain(stamped)
    {
        match std::fs::remove_file(out.join(&f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(e)),
            _ => {}
        }
    }
    match std::fs::remove_file(out.join("signer.pem")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
        _ => Ok(()),
    }
}

/// `VERIFY.sh`: the package's own check with openssl and the shell's
/// tools, for an outsider without trailproof.
pub const VERIFY_SH: &str = include_str!("templates/VERIFY.sh");
/// `VERIFY.md`: the same steps in words, for an auditor.
pub const VERIFY_MD: &str = include_str!("templates/VERIFY.md");

/// Writes everything but the objects (which the recording store copied
/// as the run read them) and seals DIR. Returns the number of files.
pub async fn write(
    out: &Path,
    req: &ValidateRequest,
    live: &Live,
    recording: &Recording,
    outcome: &crate::run::Outcome,
) -> Result<usize, EvidenceError> {
    let mut notes: Vec<String> = Vec::new();
    let prefix = req
        .selection
        .prefix
        .clone()
        .or_else(|| live.trail.as_ref().and_then(|t| t.prefix.clone()));
    let folders = vec![crate::verify::layout::AccountRoot::awslogs_prefix(
        prefix.as_deref(),
    )];
    for (b, k, e) in recording.copy_listed(&folders).await {
        notes.push(format!("s3://{b}/{k} could not be copied: {e}"));
    }
    let end = req.window.end;
    let from = req.window.start.unwrap_or(end) - chrono::Duration::days(1);
    let to = end + chrono::Duration::hours(2);
    write_keys(out, req, live, recording, from, to).await?;
    for (name, text) in [("VERIFY.sh", VERIFY_SH), ("VERIFY.md", VERIFY_MD)] {
        std::fs::write(out.join(name), text).map_err(io_error)?;
    }
    let lookup_read = match live.cloudtrail.lookup_raw(&req.trail, from, end).await {
        Some(events) => {
            json_file(&out.join(EVENTS_FILE), &json!({ "Events": events }))?;
            true
        }
        None => {
            notes.push("LookupEvents could not be read: no gap records captured".into());
            false
        }
    };
    if let Some(t) = &live.trail {
        let doc = json!({"trailList": [{
            "TrailARN": req.trail.arn, "S3BucketName": t.bucket, "S3KeyPrefix": t.prefix,
            "HomeRegion": t.home_region, "IsMultiRegionTrail": t.is_multi_region,
            "IsOrganizationTrail": t.is_organization_trail,
            "LogFileValidationEnabled": t.log_file_validation_enabled,
        }]});
        json_file(&out.join(TRAIL_FILE), &doc)?;
    }
    // The bucket's folder, even when nothing of the trail is left in it:
    // the copy says so rather than not being a copy at all.
    let bucket = req
        .selection
        .bucket
        .clone()
        .or_else(|| live.trail.as_ref().map(|t| t.bucket.clone()));
    let one_folder = |b: &&String| !b.is_empty() && !b.contains(['/', '\\']) && !b.starts_with('.');
    if let Some(b) = bucket.as_ref().filter(one_folder) {
        std::fs::create_dir_all(out.join(b)).map_err(io_error)?;
    }
    let identity = live.cloudtrail.caller().await;
    let caller = match &identity {
        Ok(i) => json!({"Account": i.account, "Arn": i.arn, "UserId": i.user_id}),
        Err(e) => json!({"error": e.to_string()}),
    };
    // Every answer AWS gave the run, last: the keys and records above
    // were asked for too.
    let answers = live.cloudtrail.transcript.answers();
    json_file(&out.join(ANSWERS_FILE), &json!({ "answers": answers }))?;
    let place = (bucket.as_deref(), prefix.as_deref());
    let pins = recording
        .pins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let header = Header {
        binding: binding(req, live, place, lookup_read),
        caller,
        notes: notes.clone(),
        pins,
    };
    let n = crate::sources::evidence::seal(out, header)
        .map_err(|e| io_error(format!("cannot seal {}: {e}", out.display())))?;
    attest_seal(out, req).await?;
    let who = Acquisition {
        bucket: bucket.unwrap_or_default(),
        caller: identity.ok().map(|i| i.arn),
        files: n,
    };
    write_certification(out, req, outcome, who)?;
    for note in &notes {
        eprintln!("trailproof: {note}");
    }
    Ok(n)
}

/// The seal vouched for: the state key's MAC over the manifest, and the
/// signing key's signature and the authority's token over the manifest and
/// SHA256SUMS, so whoever holds the public key checks the package with
/// openssl, without the secret the MAC needs (`sha256sum -c` checks every
/// file against a list the signature covers).
async fn attest_seal(out: &Path, req: &ValidateRequest) -> Result<(), EvidenceError> {
    if let Some(key) = &req.state.key {
        let manifest = std::fs::read(out.join(MANIFEST_FILE)).map_err(io_error)?;
        let mac = key.sign(Purpose::Manifest, &manifest).map_err(io_error)?;
        std::fs::write(out.join(MANIFEST_MAC_FILE), mac + "\n").map_err(io_error)?;
    }
    let attested = req.state.signer.is_some() || req.state.tsa.is_some();
    for sealed in [MANIFEST_FILE, SUMS_FILE].iter().filter(|_| attested) {
        let bytes = std::fs::read(out.join(sealed)).map_err(io_error)?;
        let target = crate::sources::output::Destination::File(out.join(sealed));
        let signed = crate::sources::output::sign_beside(&target, &bytes, req.remote());
        signed.await.map_err(io_error)?;
    }
    Ok(())
}

/// What the acquisition found out about itself, for the certification.
struct Acquisition {
    bucket: String,
    caller: Option<String>,
    files: usize,
}

/// `CERTIFICATION-DRAFT.md`, quoting the seal's hashes.
fn write_certification(
    out: &Path,
    req: &ValidateRequest,
    outcome: &crate::run::Outcome,
    who: Acquisition,
) -> Result<(), EvidenceError> {
    use crate::report::certification::{self, Facts};
    let sha = |name: &str| {
        std::fs::read(out.join(name))
            .map(|b| crate::verify::digest::sha256_hex(&b))
            .map_err(io_error)
    };
    let provenance = outcome.provenance.as_ref();
    let display = crate::verify::time::display;
    let window = match req.window.start {
        Some(s) => format!("{} to {}", display(s), display(req.window.end)),
        None => format!("up to {}", display(req.window.end)),
    };
    let facts = Facts {
        version: env!("CARGO_PKG_VERSION").to_string(),
        time: display(chrono::Utc::now()),
        trail_arn: req.trail.arn.clone(),
        bucket: who.bucket,
        caller: who.caller,
        host: provenance
            .and_then(|p| p.host.as_deref())
            .map(|h| h.chars().filter(|c| !c.is_control()).collect()),
        binary_sha256: certification::binary_sha256(),
        platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        command: certification::command_line(
            &provenance.map(|p| p.command.clone()).unwrap_or_default(),
        ),
        window,
        verdict: crate::report::text::closing_verdict(&outcome.verdicts),
        files: who.files,
        sums_sha256: sha(SUMS_FILE)?,
        manifest_sha256: sha(MANIFEST_FILE)?,
        signer: req.state.signer.as_ref().map(|s| s.public().fingerprint()),
        tsa: req.state.tsa.as_ref().map(|t| t.url()),
    };
    let text = certification::render(&facts).map_err(io_error)?;
    std::fs::write(out.join(certification::FILE), text).map_err(io_error)
}

/// Writes one JSON file of the package, naming it when that fails.
fn json_file(path: &Path, v: &Value) -> Result<(), EvidenceError> {
    write_json(path, v).map_err(|e| io_error(format!("cannot write {}: {e}", path.display())))
}

/// The keys of every region whose digests were copied, for the window.
async fn write_keys(
    out: &Path,
    req: &ValidateRequest,
    live: &Live,
    recording: &Recording,
    from: crate::verify::time::Timestamp,
    to: crate::verify::time::Timestamp,
) -> Result<(), EvidenceError> {
    if let Some(p) = &req.source.keys_file {
        std::fs::copy(p, out.join(KEYS_FILE))
            .map_err(|e| io_error(format!("cannot copy {}: {e}", p.display())))?;
        return Ok(());
    }
    let regions: std::collections::BTreeSet<String> = recording
        .copied
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(|(_, k)| crate::verify::layout::parse_digest_key(k).map(|d| d.source_region))
        .collect();
    // Every key the live run used (look-ahead digests, backfill digests
    // signed later), plus the window's keys of every region seen.
    let mut set = crate::verify::pubkeys::PublicKeySet::new();
    set.extend(live.cloudtrail.cached_keys().await);
    for r in regions {
        let keys = live
            .cloudtrail
            .list_public_keys(&r, from, to)
            .await
            .map_err(io_error)?;
        set.extend(keys);
    }
    std::fs::write(out.join(KEYS_FILE), set.to_json())
        .map_err(|e| io_error(format!("cannot write {KEYS_FILE}: {e}")))
}

/// What the manifest binds its files to: the trail, the window, where the
/// objects came from and which sources answered. `validate --local` refuses
/// a manifest that does not cover its run, so the sealed files of another
/// acquisition under the same key cannot stand in.
fn binding(
    req: &ValidateRequest,
    live: &Live,
    (bucket, prefix): (Option<&str>, Option<&str>),
    lookup_read: bool,
) -> Value {
    let display = crate::verify::time::display;
    json!({
        "trail_arn": req.trail.arn,
        "window": {"start": req.window.start.map(display), "end": display(req.window.end)},
        "bucket": bucket,
        "prefix": prefix,
        "sources": {
            "public_keys": if req.source.keys_file.is_some() { "file" } else { "ListPublicKeys" },
            "lookup_events": lookup_read,
            "describe_trails": live.trail.is_some(),
        },
    })
}
