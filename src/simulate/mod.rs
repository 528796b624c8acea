//! `trailproof simulate`: writes a synthetic trail, correctly signed the way
//! CloudTrail signs (so `aws cloudtrail validate-logs` accepts the undamaged
//! output), in the local layout, with its public-keys file, and optionally
//! damaged in every way the validator must notice.

pub mod damage;
pub mod history;
pub mod records;
pub mod signer;

use crate::sources::store::local::METADATA_SUFFIX;
use crate::verify::digest::sha256_hex;
use crate::verify::gzip::{gzip, inflate_to_vec};
use crate::verify::layout::{log_key, AccountRoot, DigestSeries};
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::time::{display, Timestamp};
use chrono::Duration;
use damage::{Applied, Damage, DamageKind, Effect};
use history::History;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use signer::Signer;
use std::path::{Path, PathBuf};

/// Why a trail could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("signing failed: {0}")]
    Sign(#[from] signer::SignError),
}

/// Everything the simulator needs, independent of the command line.
#[derive(Clone)]
pub struct SimSpec {
    pub out: PathBuf,
    pub start: Timestamp,
    pub hours: usize,
    pub logs_per_hour: usize,
    pub records_per_log: usize,
    pub bucket: String,
    pub log_bucket: Option<String>,
    pub account: String,
    pub trail_name: String,
    pub home_region: String,
    pub region: String,
    pub prefix: Option<String>,
    pub org_id: Option<String>,
    pub window_offset_seconds: u32,
    pub seed: Option<u64>,
    pub damage: Vec<Damage>,
    /// Per damage, the one chain of an estate it hits (account, region;
    /// `*` for any); None, or no entry, hits every chain.
    pub damage_chains: Vec<Option<(String, String)>>,
    pub keys_file: Option<PathBuf>,
    /// (bucket, first hour) after a bucket change.
    pub switch_bucket: Option<(String, usize)>,
    /// Hour that gets a backfill digest.
    pub backfill: Option<usize>,
    /// From this hour on, digests are signed with a new key (a rotation):
    /// the keys file holds both, each valid for its side with an hour of
    /// overlap.
    pub rotate_key: Option<usize>,
    /// A key to sign with (tests reuse one; generation is the slow part).
    pub signer: Option<Signer>,
    /// Leave the lifecycle records of gaps out of the logs.
    pub no_gap_records: bool,
    /// The trail's own account (an organization trail's management
    /// account) when it is not `account`: the trail's calls are recorded
    /// once, in that account's home-region logs, never in a member's.
    pub trail_account: Option<String>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct SimOutput {
    pub out: PathBuf,
    pub keys_file: PathBuf,
    pub bucket: String,
    pub log_bucket: String,
    pub trail_arn: String,
    pub region: String,
    pub prefix: Option<String>,
    pub org_id: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub digest_keys: Vec<String>,
    pub log_keys: Vec<String>,
    pub damage: Vec<Applied>,
    /// Several accounts or regions were written.
    pub estate: bool,
}

impl SimOutput {
    /// The command that validates what was written.
    pub(crate) fn validate_command(&self) -> String {
        let mut cmd = format!(
            "trailproof validate --local {} --public-keys {} --trail-arn {} --start-time {} --end-time {}",
            self.out.display(),
            self.keys_file.display(),
            self.trail_arn,
            display(self.start),
            display(self.end)
        );
        if let Some(p) = &self.prefix {
            cmd.push_str(&format!(" --s3-prefix {p}"));
        }
        if let Some(o) = &self.org_id {
            cmd.push_str(&format!(" --organization-id {o}"));
        }
        if self.estate {
            cmd.push_str(" --account-id all --region all");
        } else if !self.trail_arn.contains(&format!(":{}:", self.region)) {
            cmd.push_str(&format!(" --region {}", self.region));
        }
        cmd
    }

    /// What `trailproof simulate` prints.
    pub(crate) fn summary_text(&self) -> String {
        let mut s = format!(
            "Wrote {} digest files and {} log files for {} ({} to {}) under {}\nPublic keys: {}\n",
            self.digest_keys.len(),
            self.log_keys.len(),
            self.trail_arn,
            display(self.start),
            display(self.end),
            self.out.display(),
            self.keys_file.display()
        );
        for d in &self.damage {
            s.push_str(&format!("Damage: {d}\n"));
        }
        s.push_str(&format!("Validate with:\n  {}", self.validate_command()));
        s
    }
}

fn invalid(msg: impl Into<String>) -> SimError {
    SimError::Invalid(msg.into())
}

impl SimSpec {
    fn check(&self) -> Result<(), SimError> {
        if self.hours == 0 || self.hours > 24 * 366 {
            return Err(invalid("--hours must be between 1 and 8784"));
        }
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("--account-id must be 12 digits"));
        }
        if self.window_offset_seconds >= 3600 {
            return Err(invalid("--window-offset-seconds must be below 3600"));
        }
        for name in [&self.bucket, &self.trail_name] {
            if name.is_empty() || name.contains('/') || name.contains("..") {
                return Err(invalid(format!(
                    "{name:?} is not a usable bucket or trail name"
                )));
            }
        }
        for d in &self.damage {
            if d.hour >= self.hours {
                return Err(invalid(format!(
                    "damage {d}: hour out of range (0..{})",
                    self.hours
                )));
            }
            let is_log_damage = matches!(
                d.kind,
                DamageKind::TamperLog | DamageKind::DeleteLog | DamageKind::AppendLog
            );
            if is_log_damage && d.log_index >= self.logs_per_hour {
                return Err(invalid(format!(
                    "damage {d}: the hour has only {} log files",
                    self.logs_per_hour
                )));
            }
        }
        Ok(())
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    let io = |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

fn read(path: &Path) -> Result<Vec<u8>, SimError> {
    std::fs::read(path).map_err(|source| SimError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn remove(path: &Path) -> Result<(), SimError> {
    std::fs::remove_file(path).map_err(|source| SimError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn metadata_json(signature: &str) -> String {
    json!({"signature": signature, "signature-algorithm": "SHA256withRSA"}).to_string()
}

/// A digest as CloudTrail lays it out: compact JSON in AWS's field order.
struct DigestDoc<'a> {
    account: &'a str,
    start: Timestamp,
    end: Timestamp,
    bucket: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    previous: Option<(&'a str, &'a str, &'a str, &'a str)>,
    logs: &'a [LogEntry],
}

struct LogEntry {
    bucket: String,
    key: String,
    hash: String,
    newest: Timestamp,
    oldest: Timestamp,
}

impl DigestDoc<'_> {
    fn to_json(&self) -> String {
        let s = |v: &str| Value::from(v).to_string();
        let t = |v: Timestamp| s(&display(v));
        let opt = |v: Option<&str>| v.map(s).unwrap_or_else(|| "null".to_string());
        let newest = self.logs.iter().map(|l| l.newest).max();
        let oldest = self.logs.iter().map(|l| l.oldest).min();
        let logs: Vec<String> = self
            .logs
            .iter()
            .map(|l| {
                format!(
                    "{{\"s3Bucket\":{},\"s3Object\":{},\"hashValue\":{},\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":{},\"oldestEventTime\":{}}}",
                    s(&l.bucket),
                    s(&l.key),
                    s(&l.hash),
                    t(l.newest),
                    t(l.oldest)
                )
            })
            .collect();
        let (pb, pk, ph, ps) = match self.previous {
            Some((b, k, h, sig)) => (Some(b), Some(k), Some(h), Some(sig)),
            None => (None, None, None, None),
        };
        format!(
            "{{\"awsAccountId\":{},\"digestStartTime\":{},\"digestEndTime\":{},\"digestS3Bucket\":{},\"digestS3Object\":{},\"digestPublicKeyFingerprint\":{},\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":{},\"oldestEventTime\":{},\"previousDigestS3Bucket\":{},\"previousDigestS3Object\":{},\"previousDigestHashValue\":{},\"previousDigestHashAlgorithm\":{},\"previousDigestSignature\":{},\"logFiles\":[{}]}}",
            s(self.account),
            t(self.start),
            t(self.end),
            s(self.bucket),
            s(self.key),
            s(self.fingerprint),
            newest.map(t).unwrap_or_else(|| "null".into()),
            oldest.map(t).unwrap_or_else(|| "null".into()),
            opt(pb),
            opt(pk),
            opt(ph),
            opt(ph.map(|_| "SHA-256")),
            opt(ps),
            logs.join(",")
        )
    }
}

fn unique_id(rng: &mut impl Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Writes one log file delivered at `at`; returns its digest entry.
fn write_log(
    spec: &SimSpec,
    rng: &mut impl Rng,
    root: &AccountRoot,
    log_bucket: &str,
    at: Timestamp,
    extra: &[(Timestamp, Value)],
    history: &mut History,
) -> Result<LogEntry, SimError> {
    let key = log_key(root, &spec.region, at, &unique_id(rng));
    let mut times: Vec<Timestamp> = (0..spec.records_per_log.max(1))
        .map(|_| at - Duration::seconds(rng.gen_range(30..300)))
        .collect();
    times.sort();
    let mut recs: Vec<Value> = Vec::new();
    for t in times.iter().take(spec.records_per_log) {
        let r = records::record(rng, &spec.account, &spec.region, &display(*t));
        // A narrowed trail's logs leave its writes out; event history keeps them.
        match history.excludes(*t, &r) {
            true => history.records.push(r),
            false => recs.push(r),
        }
    }
    for (t, r) in extra {
        recs.push(r.clone());
        history.records.push(r.clone());
        times.push(*t);
    }
    times.sort();
    let body = json!({ "Records": recs }).to_string();
    write(
        &spec.out.join(log_bucket).join(&key),
        &gzip(body.as_bytes()),
    )?;
    Ok(LogEntry {
        bucket: log_bucket.to_string(),
        key,
        hash: sha256_hex(body.as_bytes()),
        newest: times.last().copied().unwrap_or(at),
        oldest: times.first().copied().unwrap_or(at),
    })
}

/// The keys a trail is signed with: one, or two across a rotation.
struct Signers {
    first: Signer,
    rotated: Option<(usize, Signer)>,
}

impl Signers {
    fn of(spec: &SimSpec) -> Result<Signers, SimError> {
        let first = match &spec.signer {
            Some(s) => s.clone(),
            None => Signer::generate().map_err(SimError::Sign)?,
        };
        let rotated = match spec.rotate_key {
            Some(h) => Some((h, Signer::generate().map_err(SimError::Sign)?)),
            None => None,
        };
        Ok(Signers { first, rotated })
    }

    /// The key that signs hour `h`'s digest.
    fn at(&self, h: usize) -> &Signer {
        match &self.rotated {
            Some((from, s)) if h >= *from => s,
            _ => &self.first,
        }
    }

    /// Adds the public keys to the keys file (chains written into the same
    /// directory share one), each valid for its side with an hour of overlap.
    fn publish(&self, spec: &SimSpec, out: &SimOutput, first: Timestamp) -> Result<(), SimError> {
        let keys_from = spec.start - Duration::days(1);
        let mut set = std::fs::read(&out.keys_file)
            .ok()
            .and_then(|b| PublicKeySet::from_json(&b).ok())
            .unwrap_or_default();
        let keys_until = out.end + Duration::days(30);
        let hour = Duration::hours(1);
        match &self.rotated {
            Some((h, new)) => {
                let at = first + hour * *h as i32;
                set.insert(self.first.public_key(keys_from, at + hour));
                set.insert(new.public_key(at - hour, keys_until));
            }
            None => set.insert(self.first.public_key(keys_from, keys_until)),
        }
        write(&out.keys_file, set.to_json().as_bytes())
    }
}

/// Where a simulated chain's objects go, hour by hour.
struct Layout<'a> {
    spec: &'a SimSpec,
    root: AccountRoot,
    series: DigestSeries,
    log_bucket: String,
    /// The start of the first hour (the window offset applied).
    first: Timestamp,
}

impl Layout<'_> {
    fn of(spec: &SimSpec) -> Layout<'_> {
        let root = AccountRoot::new(
            spec.prefix.as_deref(),
            spec.org_id.as_deref(),
            &spec.account,
        );
        let series = DigestSeries {
            root: root.clone(),
            source_region: spec.region.clone(),
            trail_name: spec.trail_name.clone(),
            home_region: spec.home_region.clone(),
        };
        let log_bucket = spec
            .log_bucket
            .clone()
            .unwrap_or_else(|| spec.bucket.clone());
        let first = spec.start + Duration::seconds(i64::from(spec.window_offset_seconds));
        Layout {
            spec,
            root,
            series,
            log_bucket,
            first,
        }
    }

    /// The trail's bucket for hour h (it may change mid-chain).
    fn bucket_at(&self, h: usize) -> String {
        match &self.spec.switch_bucket {
            Some((b, from)) if h >= *from => b.clone(),
            _ => self.spec.bucket.clone(),
        }
    }

    fn log_bucket_at(&self, h: usize) -> String {
        match &self.spec.switch_bucket {
            Some((b, from)) if h >= *from => b.clone(),
            _ => self.log_bucket.clone(),
        }
    }

    fn hour_start(&self, h: usize) -> Timestamp {
        self.first + Duration::hours(h as i64)
    }

    fn output(&self) -> SimOutput {
        let spec = self.spec;
        SimOutput {
            out: spec.out.clone(),
            keys_file: spec
                .keys_file
                .clone()
                .unwrap_or_else(|| spec.out.join("public-keys.json")),
            bucket: spec.bucket.clone(),
            log_bucket: self.log_bucket.clone(),
            trail_arn: format!(
                "arn:aws:cloudtrail:{}:{}:trail/{}",
                spec.home_region, spec.account, spec.trail_name
            ),
            region: spec.region.clone(),
            prefix: self.root.prefix.clone(),
            org_id: self.root.org_id.clone(),
            start: self.first,
            end: self.hour_start(spec.hours),
            digest_keys: Vec::new(),
            log_keys: Vec::new(),
            damage: Vec::new(),
            estate: false,
        }
    }
}

/// (bucket, key, sha256 of inflated bytes, signature) of a digest: what
/// the next one points back to.
type Previous = (String, String, String, String);

/// Writes the trail and applies the damage. The honest part is exactly what
/// CloudTrail writes; see validation.md.
pub fn write_trail(spec: &SimSpec) -> Result<SimOutput, SimError> {
    spec.check()?;
    let signers = Signers::of(spec)?;
    let mut rng = match spec.seed {
        Some(s) => rand::rngs::StdRng::seed_from_u64(s),
        None => rand::rngs::StdRng::from_entropy(),
    };
    let layout = Layout::of(spec);
    let mut out = layout.output();
    let mut history = History {
        narrowed: narrowed_spans(spec, layout.first),
        records: Vec::new(),
    };
    let calls = recorded_calls(spec, layout.first, &mut history);
    // Per hour: the log entries delivered and the digest key (if any).
    let mut hour_logs: Vec<Vec<LogEntry>> = Vec::new();
    let mut hour_digest: Vec<Option<(String, String)>> = Vec::new();
    let mut previous: Option<Previous> = None;
    for h in 0..spec.hours {
        let shape = |kind| spec.damage.iter().any(|d| d.hour == h && d.kind == kind);
        let logging_off = shape(DamageKind::Gap) || shape(DamageKind::Recreate);
        if logging_off {
            history.activity_while_off(&spec.account, &spec.region, layout.hour_start(h));
        }
        let logs = match logging_off || shape(DamageKind::EmptyHour) {
            true => Vec::new(),
            false => write_hour_logs(&layout, h, &calls, &mut rng, &mut history)?,
        };
        out.log_keys.extend(logs.iter().map(|l| l.key.clone()));
        if logging_off || shape(DamageKind::ValidationOff) {
            previous = None;
            hour_logs.push(logs);
            hour_digest.push(None);
            continue;
        }
        let written = write_hour_digest(&layout, h, &signers, &logs, previous.as_ref(), false)?;
        out.digest_keys.push(written.1.clone());
        hour_digest.push(Some((written.0.clone(), written.1.clone())));
        previous = Some(written);
        hour_logs.push(logs);
    }
    if let Some(h) = spec.backfill {
        write_backfill(&layout, h, &signers, &mut rng, &mut history, &mut out)?;
    }
    signers.publish(spec, &out, layout.first)?;
    write_history(spec, layout.first, history)?;
    for d in &spec.damage {
        if d.kind.shapes_build() {
            out.damage.push(Applied {
                damage: *d,
                effect: Effect::Built,
            });
            continue;
        }
        let (root, first) = (&layout.root, layout.first);
        let effect = apply(
            spec,
            &mut rng,
            root,
            &layout.log_bucket,
            &hour_logs,
            &hour_digest,
            d,
            first,
        )?;
        out.damage.push(Applied { damage: *d, effect });
    }
    Ok(out)
}

/// The trail's calls this chain's logs record (hour, call, in the hour's
/// first log or its last): recorded once, in the home chain's logs; a
/// selector change made from elsewhere goes to event history instead.
fn recorded_calls(
    spec: &SimSpec,
    first: Timestamp,
    history: &mut History,
) -> Vec<(usize, &'static str, bool)> {
    let home_chain = spec.region == spec.home_region && spec.account == trail_account(spec);
    let mut calls = if spec.no_gap_records || !home_chain {
        Vec::new()
    } else {
        lifecycle_plan(spec)
    };
    // Selector changes are recorded whatever --no-gap-records says, as
    // CloudTrail records a call: in the logs of the region it was made in
    // (the trail's home), and in that region's event history.
    for d in &spec.damage {
        let call = match d.kind {
            DamageKind::Narrow => "PutEventSelectors:ReadOnly",
            DamageKind::Widen => "PutEventSelectors:All",
            DamageKind::WeakenBucket if home_chain => {
                calls.push((d.hour, "PutBucketLifecycle", true));
                calls.push((d.hour, "PutBucketVersioning", true));
                continue;
            }
            _ => continue,
        };
        if home_chain {
            calls.push((d.hour, call, true));
        } else {
            let t = first + Duration::hours(d.hour as i64) + Duration::seconds(5);
            let mut rng = rand::rngs::StdRng::seed_from_u64(t.timestamp() as u64);
            history
                .records
                .push(lifecycle_record(spec, &mut rng, call, t));
        }
    }
    calls
}

/// Hour `h`'s log files, the trail's calls of that hour in the first (a
/// restart) or the last (a stop).
fn write_hour_logs(
    layout: &Layout<'_>,
    h: usize,
    calls: &[(usize, &'static str, bool)],
    rng: &mut rand::rngs::StdRng,
    history: &mut History,
) -> Result<Vec<LogEntry>, SimError> {
    let spec = layout.spec;
    let ws = layout.hour_start(h);
    let spacing = (3600 - 120) / spec.logs_per_hour.max(1) as i64;
    let mut logs = Vec::new();
    for i in 0..spec.logs_per_hour {
        let at = ws + Duration::seconds(60 + spacing * i as i64 + rng.gen_range(0..spacing.max(1)));
        let last = spec.logs_per_hour - 1;
        let extra: Vec<(Timestamp, Value)> = calls
            .iter()
            .filter(|(hour, _, first)| *hour == h && (if *first { i == 0 } else { i == last }))
            .map(|(_, name, first)| {
                let t = match *first {
                    true => ws + Duration::seconds(5),
                    false => at - Duration::seconds(10),
                };
                let mut seeded = rand::rngs::StdRng::seed_from_u64(t.timestamp() as u64);
                (t, lifecycle_record(spec, &mut seeded, name, t))
            })
            .collect();
        let bucket = layout.log_bucket_at(h);
        let entry = write_log(spec, rng, &layout.root, &bucket, at, &extra, history)?;
        logs.push(entry);
    }
    Ok(logs)
}

/// Hour `h`'s signed digest, pointing back to `previous` (a backfill
/// digest: its own chain, listing a late file).
fn write_hour_digest(
    layout: &Layout<'_>,
    h: usize,
    signers: &Signers,
    logs: &[LogEntry],
    previous: Option<&Previous>,
    backfill: bool,
) -> Result<Previous, SimError> {
    let (ws, we) = (layout.hour_start(h), layout.hour_start(h + 1));
    let key = layout.series.key(we, backfill);
    let bucket = layout.bucket_at(h);
    let doc = DigestDoc {
        account: &layout.spec.account,
        start: ws,
        end: we,
        bucket: &bucket,
        key: &key,
        fingerprint: &signers.at(h).fingerprint,
        previous: previous
            .map(|(b, k, hsh, sig)| (b.as_str(), k.as_str(), hsh.as_str(), sig.as_str())),
        logs,
    };
    let text = doc.to_json();
    let sha = sha256_hex(text.as_bytes());
    let prev_sig = previous.map(|(_, _, _, s)| s.as_str());
    let signature = signers
        .at(h)
        .sign_digest(&display(we), &bucket, &key, text.as_bytes(), prev_sig)
        .map_err(SimError::Sign)?;
    let path = layout.spec.out.join(&bucket).join(&key);
    write(&path, &gzip(text.as_bytes()))?;
    let meta = match backfill {
        // A backfill digest says when it was generated, as CloudTrail's do.
        true => json!({
            "signature": signature,
            "signature-algorithm": "SHA256withRSA",
            "backfill-generation-timestamp": display(we + Duration::hours(2)),
        })
        .to_string(),
        false => metadata_json(&signature),
    };
    write(&sidecar(&path), meta.as_bytes())?;
    Ok((bucket, key, sha, signature))
}

/// A late log file of hour `h` and the backfill digest that lists it.
fn write_backfill(
    layout: &Layout<'_>,
    h: usize,
    signers: &Signers,
    rng: &mut rand::rngs::StdRng,
    history: &mut History,
    out: &mut SimOutput,
) -> Result<(), SimError> {
    let spec = layout.spec;
    if h >= spec.hours {
        return Err(invalid(format!(
            "--backfill {h}: hour out of range (0..{})",
            spec.hours
        )));
    }
    let at = layout.hour_start(h) + Duration::seconds(45 * 60 + 13);
    let late = write_log(
        spec,
        rng,
        &layout.root,
        &layout.log_bucket_at(h),
        at,
        &[],
        history,
    )?;
    out.log_keys.push(late.key.clone());
    let (_, key, _, _) = write_hour_digest(layout, h, signers, &[late], None, true)?;
    out.digest_keys.push(key);
    Ok(())
}

/// Event history's records (`lookup-events.json`): the calls the logs
/// leave out (`--no-gap-records`), activity while logging was off, and
/// selector changes made from another region.
fn write_history(spec: &SimSpec, first: Timestamp, mut history: History) -> Result<(), SimError> {
    if spec.no_gap_records {
        // The records the logs leave out are still in event history.
        history.records.extend(lifecycle_history(spec, first));
    }
    if history.records.is_empty() {
        return Ok(());
    }
    let file = spec.out.join("lookup-events.json");
    let events = history.to_json(std::fs::read(&file).ok().as_deref());
    let text = serde_json::to_string_pretty(&events).unwrap_or_default();
    write(&file, text.as_bytes())
}

/// Where the calls that open and close each run of gap hours are recorded:
/// (hour, call, in the hour's first log (restart) or its last (stop)).
fn lifecycle_plan(spec: &SimSpec) -> Vec<(usize, &'static str, bool)> {
    let off = |h: usize| {
        spec.damage
            .iter()
            .find(|d| {
                d.hour == h
                    && matches!(
                        d.kind,
                        DamageKind::Gap | DamageKind::ValidationOff | DamageKind::Recreate
                    )
            })
            .map(|d| d.kind)
    };
    let mut out = Vec::new();
    if off(0).is_none() {
        // The trail is created at the start: its first log records it.
        out.push((0, "CreateTrail", true));
        out.push((0, "StartLogging", true));
    }
    let mut h = 0;
    while h < spec.hours {
        let Some(kind) = off(h) else {
            h += 1;
            continue;
        };
        let run_start = h;
        while h < spec.hours && off(h).is_some() {
            h += 1;
        }
        let (stop, start) = match kind {
            DamageKind::ValidationOff => ("UpdateTrail:false", "UpdateTrail:true"),
            DamageKind::Recreate => ("DeleteTrail", "CreateTrail:again"),
            _ => ("StopLogging", "StartLogging"),
        };
        if run_start > 0 {
            out.push((run_start - 1, stop, false));
        }
        if h < spec.hours {
            out.push((h, start, true));
            if kind == DamageKind::Recreate {
                out.push((h, "StartLogging", true));
            }
        }
    }
    out
}

/// The account the trail belongs to (and whose logs record its calls).
fn trail_account(spec: &SimSpec) -> &str {
    spec.trail_account.as_deref().unwrap_or(&spec.account)
}

/// A CloudTrail record of a trail-lifecycle call (`UpdateTrail:false` sets
/// enableLogFileValidation false).
fn lifecycle_record(spec: &SimSpec, rng: &mut impl Rng, call: &str, at: Timestamp) -> Value {
    if call.starts_with("PutBucket") {
        return bucket_record(spec, rng, call, at);
    }
    let account = trail_account(spec);
    let arn = format!(
        "arn:aws:cloudtrail:{}:{}:trail/{}",
        spec.home_region, account, spec.trail_name
    );
    let (name, params) = match call.split_once(':') {
        Some(("PutEventSelectors", rw)) => (
            "PutEventSelectors",
            json!({"trailName": arn, "eventSelectors": [
                {"readWriteType": rw, "includeManagementEvents": true, "dataResources": []}]}),
        ),
        // Re-created with CloudTrail's defaults but for global service
        // events, which it leaves out.
        Some(("CreateTrail", _)) => (
            "CreateTrail",
            json!({"name": spec.trail_name, "s3BucketName": spec.bucket,
                   "enableLogFileValidation": true, "isMultiRegionTrail": false,
                   "includeGlobalServiceEvents": false}),
        ),
        Some((n, v)) => (
            n,
            json!({"name": arn, "enableLogFileValidation": v == "true"}),
        ),
        None if call == "CreateTrail" => (
            call,
            json!({"name": spec.trail_name, "s3BucketName": spec.bucket,
                   "enableLogFileValidation": true, "isMultiRegionTrail": false}),
        ),
        None => (call, json!({"name": arn})),
    };
    let mut r = records::record(rng, account, &spec.home_region, &display(at));
    r["eventSource"] = Value::from("cloudtrail.amazonaws.com");
    r["eventName"] = Value::from(name);
    r["requestParameters"] = params;
    r["responseElements"] = if name == "UpdateTrail" || name == "CreateTrail" {
        json!({"name": spec.trail_name, "trailARN": arn, "logFileValidationEnabled": call.ends_with("true")})
    } else {
        Value::Null
    };
    r["readOnly"] = Value::from(false);
    if name == "PutEventSelectors" {
        // A named role, as an intruder with stolen credentials would be.
        r["userIdentity"] = json!({
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{}:assumed-role/ops-automation/session-1", account),
            "accountId": account,
        });
        r["sourceIPAddress"] = Value::from("198.51.100.23");
        r["responseElements"] =
            json!({"trailARN": arn, "eventSelectors": r["requestParameters"]["eventSelectors"]});
    }
    r
}

/// `weaken-bucket`'s calls on the trail's bucket: a lifecycle rule that
/// expires everything after a day, made with an IAM user's long-lived key
/// and no MFA; versioning suspended by a role with MFA.
fn bucket_record(spec: &SimSpec, rng: &mut impl Rng, call: &str, at: Timestamp) -> Value {
    let account = trail_account(spec);
    let mut r = records::record(rng, account, &spec.home_region, &display(at));
    r["eventSource"] = Value::from("s3.amazonaws.com");
    r["eventName"] = Value::from(call);
    r["readOnly"] = Value::from(false);
    r["eventID"] = Value::from(format!("{call}-{}", at.timestamp()));
    r["responseElements"] = Value::Null;
    if call == "PutBucketLifecycle" {
        r["requestParameters"] = json!({"bucketName": spec.bucket, "lifecycle": "",
            "LifecycleConfiguration": {"Rule": {"ID": "tidy", "Status": "Enabled",
                "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}}});
        r["userIdentity"]["sessionContext"] = json!({"attributes": {"mfaAuthenticated": "false"}});
    } else {
        r["requestParameters"] = json!({"bucketName": spec.bucket, "versioning": "",
            "VersioningConfiguration": {"Status": "Suspended"}});
        r["userIdentity"] = json!({
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{account}:assumed-role/storage-admin/session-7"),
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLESESSION7",
            "sessionContext": {"attributes": {"mfaAuthenticated": "true"}},
        });
        r["sourceIPAddress"] = Value::from("198.51.100.77");
    }
    r
}

/// The lifecycle records of the gaps as event history holds them, for a
/// trail whose logs leave them out (`--no-gap-records`).
fn lifecycle_history(spec: &SimSpec, first: Timestamp) -> Vec<Value> {
    lifecycle_plan(spec)
        .into_iter()
        .map(|(h, call, is_start)| {
            let ws = first + Duration::hours(h as i64);
            let t = match is_start {
                true => ws + Duration::seconds(5),
                false => ws + Duration::minutes(50),
            };
            let mut rng = rand::rngs::StdRng::seed_from_u64(t.timestamp() as u64);
            lifecycle_record(spec, &mut rng, call, t)
        })
        .collect()
}

/// The spans `narrow@H` leaves the trail recording reads only, each until
/// the next `widen@H` (the selector calls are in the hour's first log).
fn narrowed_spans(spec: &SimSpec, first: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    let mut changes: Vec<(usize, bool)> = spec
        .damage
        .iter()
        .filter_map(|d| match d.kind {
            DamageKind::Narrow => Some((d.hour, true)),
            DamageKind::Widen => Some((d.hour, false)),
            _ => None,
        })
        .collect();
    changes.sort();
    let at = |h: usize| first + Duration::hours(h as i64) + Duration::seconds(5);
    let mut out = Vec::new();
    let mut open: Option<Timestamp> = None;
    for (h, narrows) in changes {
        match (open, narrows) {
            (None, true) => open = Some(at(h)),
            (Some(from), false) => {
                out.push((from, at(h)));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(from) = open {
        out.push((from, at(spec.hours + 1)));
    }
    out
}

fn sidecar(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(METADATA_SUFFIX);
    PathBuf::from(s)
}

/// Deletes log file `l`.
fn delete_log(spec: &SimSpec, l: &LogEntry) -> Result<Effect, SimError> {
    remove(&spec.out.join(&l.bucket).join(&l.key))?;
    Ok(Effect::DeletedLog {
        bucket: l.bucket.clone(),
        key: l.key.clone(),
    })
}

/// Appends a second gzip member of forged records to log file `l`.
fn append_log(
    spec: &SimSpec,
    rng: &mut impl Rng,
    l: &LogEntry,
    first: Timestamp,
) -> Result<Effect, SimError> {
    let path = spec.out.join(&l.bucket).join(&l.key);
    let mut bytes = read(&path)?;
    let record = records::record(rng, &spec.account, &spec.region, &display(first));
    bytes.extend(gzip(json!({ "Records": [record] }).to_string().as_bytes()));
    write(&path, &bytes)?;
    Ok(Effect::AppendedLog {
        bucket: l.bucket.clone(),
        key: l.key.clone(),
    })
}

/// Deletes digest `key` and its metadata.
fn delete_digest(bucket_dir: &Path, bucket: String, key: String) -> Result<Effect, SimError> {
    let path = bucket_dir.join(&key);
    remove(&path)?;
    remove(&sidecar(&path))?;
    Ok(Effect::DeletedDigest { bucket, key })
}

/// Changes a record of log file `l` (its digest unchanged).
fn tamper_log(spec: &SimSpec, l: &LogEntry) -> Result<Effect, SimError> {
    let path = spec.out.join(&l.bucket).join(&l.key);
    let body = inflate_to_vec(&read(&path)?, 1 << 31).map_err(|e| invalid(e.to_string()))?;
    let mut v: Value = serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
    if let Some(r) = v.pointer_mut("/Records/0/sourceIPAddress") {
        *r = Value::from("198.51.100.66");
    } else {
        v["Records"] = json!([{"eventName": "DeleteTrail"}]);
    }
    write(&path, &gzip(v.to_string().as_bytes()))?;
    Ok(Effect::ChangedLog {
        bucket: l.bucket.clone(),
        key: l.key.clone(),
    })
}

/// Moves digest `key` (and its metadata) to the key 30 s later.
fn move_digest(bucket_dir: &Path, bucket: &str, key: &str) -> Result<Effect, SimError> {
    let parsed = crate::verify::layout::parse_digest_key(key)
        .ok_or_else(|| invalid("unparsable digest key"))?;
    let series = DigestSeries {
        root: parsed.root,
        source_region: parsed.source_region,
        trail_name: parsed.trail_name,
        home_region: parsed.home_region,
    };
    let new_key = series.key(parsed.end + Duration::seconds(30), false);
    let (from, to) = (bucket_dir.join(key), bucket_dir.join(&new_key));
    write(&to, &read(&from)?)?;
    write(&sidecar(&to), &read(&sidecar(&from))?)?;
    remove(&from)?;
    remove(&sidecar(&from))?;
    Ok(Effect::MovedDigest {
        bucket: bucket.to_string(),
        key: key.to_string(),
        to: new_key,
    })
}

/// Rewrites digest `key` without its last log entry, signed with a key of
/// the attacker's own.
fn forge_digest(bucket_dir: &Path, bucket: &str, key: &str) -> Result<Effect, SimError> {
    let path = bucket_dir.join(key);
    let text = inflate_to_vec(&read(&path)?, 1 << 30).map_err(|e| invalid(e.to_string()))?;
    let mut v: Value = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
    let dropped = v["logFiles"].as_array_mut().and_then(|a| a.pop());
    let forged = v.to_string();
    let attacker = Signer::generate().map_err(SimError::Sign)?;
    let prev_sig = v["previousDigestSignature"].as_str();
    let end = v["digestEndTime"].as_str().unwrap_or_default();
    let sig = attacker
        .sign_digest(end, bucket, key, forged.as_bytes(), prev_sig)
        .map_err(SimError::Sign)?;
    write(&path, &gzip(forged.as_bytes()))?;
    write(&sidecar(&path), metadata_json(&sig).as_bytes())?;
    Ok(Effect::ForgedDigest {
        bucket: bucket.to_string(),
        key: key.to_string(),
        dropped: dropped.and_then(|x| x["s3Object"].as_str().map(str::to_string)),
    })
}

/// Applies one post-build damage; returns what it did, naming the key.
#[allow(clippy::too_many_arguments)]
fn apply(
    spec: &SimSpec,
    rng: &mut impl Rng,
    root: &AccountRoot,
    log_bucket: &str,
    hour_logs: &[Vec<LogEntry>],
    hour_digest: &[Option<(String, String)>],
    d: &Damage,
    first: Timestamp,
) -> Result<Effect, SimError> {
    let log = || {
        hour_logs[d.hour].get(d.log_index).ok_or_else(|| {
            invalid(format!(
                "damage {d}: hour {} has no log file {}",
                d.hour, d.log_index
            ))
        })
    };
    let digest = || {
        hour_digest[d.hour]
            .clone()
            .map(|(_, k)| k)
            .ok_or_else(|| invalid(format!("damage {d}: hour {} has no digest", d.hour)))
    };
    let (digest_bucket, _) = hour_digest[d.hour]
        .clone()
        .unwrap_or_else(|| (spec.bucket.clone(), String::new()));
    let bucket_dir = spec.out.join(&digest_bucket);
    match d.kind {
        DamageKind::TamperLog => tamper_log(spec, log()?),
        DamageKind::DeleteLog => delete_log(spec, log()?),
        DamageKind::AppendLog => append_log(spec, rng, log()?, first),
        DamageKind::DeleteDigest => delete_digest(&bucket_dir, digest_bucket, digest()?),
        DamageKind::MoveDigest => move_digest(&bucket_dir, &digest_bucket, &digest()?),
        DamageKind::ForgeDigest => forge_digest(&bucket_dir, &digest_bucket, &digest()?),
        DamageKind::UnsignDigest => {
            let key = digest()?;
            remove(&sidecar(&bucket_dir.join(&key)))?;
            let bucket = digest_bucket;
            Ok(Effect::UnsignedDigest { bucket, key })
        }
        DamageKind::UnreferencedLog => {
            let at = first + Duration::hours(d.hour as i64) + Duration::seconds(1800 + 7);
            let entry = write_log(
                spec,
                rng,
                root,
                log_bucket,
                at,
                &[],
                &mut History::default(),
            )?;
            Ok(Effect::AddedLog {
                bucket: entry.bucket,
                key: entry.key,
            })
        }
        DamageKind::Gap
        | DamageKind::Recreate
        | DamageKind::ValidationOff
        | DamageKind::EmptyHour
        | DamageKind::Narrow
        | DamageKind::Widen
        | DamageKind::WeakenBucket => Ok(Effect::Built),
    }
}

/// Runs `trailproof simulate`: one trail, or one chain per account and
/// delivering region (an estate), each region with its own signing key.
pub fn run(spec: &SimSpec, accounts: &[String], regions: &[String]) -> Result<SimOutput, SimError> {
    let spec = spec.clone();
    if accounts.len() <= 1 && regions.len() <= 1 {
        let mut spec = spec;
        if let (Some(a), Some(r)) = (accounts.first(), regions.first()) {
            spec.account = a.clone();
            spec.region = r.clone();
        }
        return write_trail(&spec);
    }
    let mut all: Option<SimOutput> = None;
    for (ri, region) in regions.iter().enumerate() {
        let signer = Signer::generate().map_err(SimError::Sign)?;
        for (ai, account) in accounts.iter().enumerate() {
            let mut one = spec.clone();
            one.account = account.clone();
            one.region = region.clone();
            let hits = |i: usize| match spec.damage_chains.get(i).cloned().flatten() {
                None => true,
                Some((a, r)) => (a == "*" || a == *account) && (r == "*" || r == *region),
            };
            one.damage = (0..spec.damage.len())
                .filter(|i| hits(*i))
                .map(|i| spec.damage[i])
                .collect();
            one.damage_chains = Vec::new();
            one.signer = Some(signer.clone());
            // The first account is the trail's (the management account).
            one.trail_account = accounts.first().cloned();
            one.seed = spec.seed.map(|s| s + (ri * accounts.len() + ai) as u64);
            let out = write_trail(&one)?;
            match &mut all {
                None => all = Some(out),
                Some(a) => {
                    a.digest_keys.extend(out.digest_keys);
                    a.log_keys.extend(out.log_keys);
                    a.damage.extend(out.damage);
                }
            }
        }
    }
    let mut out = all.ok_or_else(|| invalid("no account or region to write"))?;
    out.estate = true;
    Ok(out)
}
