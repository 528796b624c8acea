//! `trailproof acquire --out DIR`: evidence someone else can re-verify
//! offline. A live validation of the window runs through a recording store,
//! so exactly the objects the proof rests on (every digest and log file
//! read, every object listed in the trail's folders) land in DIR in the
//! `--local` layout; then the public keys of the window, the lifecycle
//! records (LookupEvents), the trail's description, the live report,
//! `manifest.json` (every file's size and SHA-256, the command, the time,
//! the caller's identity) and `SHA256SUMS` (`sha256sum -c` format).
//! `validate --local DIR` finds the keys, records and settings by itself.

use crate::cli::{AcquireCmd, Format};
use crate::commands::{live_run, operational, request, usage, AppError};
use crate::sources::cloudtrail::{CloudTrail, TrailInfo};
use crate::sources::store::record::{Known, Recording};
use crate::sources::store::ObjectStore;
use crate::verify::digest::sha256_hex;
use aws_config::SdkConfig;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files at the top of DIR (next to the bucket folders).
pub const KEYS_FILE: &str = "public-keys.json";
pub const EVENTS_FILE: &str = "lookup-events.json";
pub const TRAIL_FILE: &str = "trail.json";
pub const REPORT_FILE: &str = "live-report.json";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SUMS_FILE: &str = "SHA256SUMS";

/// What the live run hands over for the capture.
pub struct Capture {
    out: PathBuf,
    known: Known,
    parts: Mutex<Option<Parts>>,
}

struct Parts {
    recording: Arc<Recording>,
    cfg: SdkConfig,
    cloudtrail: Arc<CloudTrail>,
    trail: Option<TrailInfo>,
}

impl Capture {
    /// Wraps the run's store in a recording one (called by the live run).
    pub fn wrap(
        &self,
        store: Arc<dyn ObjectStore>,
        cfg: &SdkConfig,
        cloudtrail: &Arc<CloudTrail>,
        trail: Option<&TrailInfo>,
    ) -> Arc<dyn ObjectStore> {
        let recording = Arc::new(Recording::new(store, &self.out, self.known.clone()));
        *self.parts.lock().unwrap_or_else(|p| p.into_inner()) = Some(Parts {
            recording: recording.clone(),
            cfg: cfg.clone(),
            cloudtrail: cloudtrail.clone(),
            trail: trail.cloned(),
        });
        recording
    }
}

/// Files of an earlier attempt, as its manifest recorded them.
fn earlier(out: &Path) -> Known {
    let Ok(bytes) = std::fs::read(out.join(MANIFEST_FILE)) else {
        return Known::new();
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
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

pub async fn run(cmd: AcquireCmd) -> Result<i32, AppError> {
    let mut args = cmd.validate;
    if args.local.is_some() {
        return Err(usage("acquire copies from S3; --local does not apply"));
    }
    std::fs::create_dir_all(&cmd.out)
        .map_err(|e| operational(format!("cannot create {}: {e}", cmd.out.display())))?;
    args.format = Format::Json;
    args.output = Some(cmd.out.join(REPORT_FILE).to_string_lossy().to_string());
    args.checkpoint = None;
    args.shard = None;
    let req = request(&args)?;
    let (start, end, arn) = (req.start, req.end, req.arn.clone());
    let capture = Capture {
        out: cmd.out.clone(),
        known: earlier(&cmd.out),
        parts: Mutex::new(None),
    };
    let code = live_run(args.clone(), req, Some(&capture)).await?;
    let parts = capture
        .parts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| operational("the live run did not start"))?;
    let mut notes: Vec<String> = Vec::new();
    let prefix = args
        .s3_prefix
        .clone()
        .or_else(|| parts.trail.as_ref().and_then(|t| t.prefix.clone()));
    let folders = vec![crate::verify::layout::AccountRoot::awslogs_prefix(
        prefix.as_deref(),
    )];
    for (b, k, e) in parts.recording.copy_listed(&folders).await {
        notes.push(format!("s3://{b}/{k} could not be copied: {e}"));
    }
    let from = start.unwrap_or(end) - chrono::Duration::days(1);
    write_keys(
        &cmd.out,
        &args,
        &parts,
        from,
        end + chrono::Duration::hours(2),
    )
    .await?;
    match parts.cloudtrail.lookup_raw(&arn, from, end).await {
        Some(events) => write_json(&cmd.out.join(EVENTS_FILE), &json!({ "Events": events }))?,
        None => notes.push("LookupEvents could not be read: no gap records captured".into()),
    }
    if let Some(t) = &parts.trail {
        let doc = json!({"trailList": [{
            "TrailARN": arn.arn, "S3BucketName": t.bucket, "S3KeyPrefix": t.prefix,
            "HomeRegion": t.home_region, "IsMultiRegionTrail": t.is_multi_region,
            "IsOrganizationTrail": t.is_organization_trail,
            "LogFileValidationEnabled": t.log_file_validation_enabled,
        }]});
        write_json(&cmd.out.join(TRAIL_FILE), &doc)?;
    }
    let caller = caller_identity(&parts.cfg).await;
    let n = seal(&cmd.out, caller, &notes)?;
    for note in &notes {
        eprintln!("trailproof: {note}");
    }
    eprintln!(
        "Acquired {n} files into {}; verify with `sha256sum -c {SUMS_FILE}` there and \
         `trailproof validate --local {}`",
        cmd.out.display(),
        cmd.out.display()
    );
    Ok(code)
}

fn write_json(path: &Path, v: &Value) -> Result<(), AppError> {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    std::fs::write(path, text + "\n")
        .map_err(|e| operational(format!("cannot write {}: {e}", path.display())))
}

/// The keys of every region whose digests were copied, for the window.
async fn write_keys(
    out: &Path,
    args: &crate::cli::ValidateArgs,
    parts: &Parts,
    from: crate::verify::time::Timestamp,
    to: crate::verify::time::Timestamp,
) -> Result<(), AppError> {
    if let Some(p) = &args.public_keys {
        std::fs::copy(p, out.join(KEYS_FILE))
            .map_err(|e| operational(format!("cannot copy {}: {e}", p.display())))?;
        return Ok(());
    }
    let regions: std::collections::BTreeSet<String> = parts
        .recording
        .copied
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(|(_, k)| crate::verify::layout::parse_digest_key(k).map(|d| d.source_region))
        .collect();
    // Every key the live run used (look-ahead digests, backfill digests
    // signed later), plus the window's keys of every region seen.
    let mut set = crate::verify::pubkeys::PublicKeySet::new();
    set.extend(parts.cloudtrail.cached_keys().await);
    for r in regions {
        let keys = parts
            .cloudtrail
            .list_public_keys(&r, from, to)
            .await
            .map_err(operational)?;
        set.extend(keys);
    }
    std::fs::write(out.join(KEYS_FILE), set.to_json())
        .map_err(|e| operational(format!("cannot write {KEYS_FILE}: {e}")))
}

/// STS GetCallerIdentity: who acquired the evidence.
async fn caller_identity(cfg: &SdkConfig) -> Value {
    let client = aws_sdk_sts::Client::new(cfg);
    match client.get_caller_identity().send().await {
        Ok(o) => json!({"Account": o.account(), "Arn": o.arn(), "UserId": o.user_id()}),
        Err(e) => json!({"error": crate::sources::aws::sentence(&e)}),
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = format!("{rel}{name}");
        if entry.file_type()?.is_dir() {
            files(&entry.path(), &format!("{path}/"), out)?;
        } else if path != MANIFEST_FILE && path != SUMS_FILE {
            out.push(path);
        }
    }
    Ok(())
}

/// manifest.json and SHA256SUMS over everything in DIR.
fn seal(dir: &Path, caller: Value, notes: &[String]) -> Result<usize, AppError> {
    let io = |e: std::io::Error| operational(format!("cannot seal {}: {e}", dir.display()));
    let mut names = Vec::new();
    files(dir, "", &mut names).map_err(io)?;
    names.sort();
    let mut entries = Vec::new();
    let mut sums = String::new();
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).map_err(io)?;
        let sha = sha256_hex(&bytes);
        sums.push_str(&format!("{sha}  {name}\n"));
        entries.push(json!({"path": name, "size": bytes.len(), "sha256": sha}));
    }
    let manifest = json!({
        "trailproof_manifest": 1,
        "command": std::env::args().collect::<Vec<_>>(),
        "time": crate::verify::time::display(chrono::Utc::now()),
        "trailproof_version": env!("CARGO_PKG_VERSION"),
        "caller": caller,
        "notes": notes,
        "files": entries,
    });
    write_json(&dir.join(MANIFEST_FILE), &manifest)?;
    let m = std::fs::read(dir.join(MANIFEST_FILE)).map_err(io)?;
    sums.push_str(&format!("{}  {MANIFEST_FILE}\n", sha256_hex(&m)));
    std::fs::write(dir.join(SUMS_FILE), sums).map_err(io)?;
    Ok(names.len() + 1)
}
