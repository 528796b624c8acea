//! Running commands: turns arguments into a plan, picks the edges (local
//! directory or AWS), runs the engine and renders. Operational failures
//! become one sentence and exit status 2.

pub mod acquire;

use crate::cli::{Cli, Command, Format, KeysArgs, MergeArgs, SimulateCmd, ValidateArgs};
use crate::plan::chains::{ChainPlan, Pick};
use crate::plan::shard::Shard;
use crate::report::model::Report;
use crate::report::model::ShardInfo;
use crate::run::engine::{Engine, LifecycleLookup, Plan};
use crate::run::progress::{Bar, Progress, Silent};
use crate::sources::aws::AwsOptions;
use crate::sources::cloudtrail::CloudTrail;
use crate::sources::keys::{FileKeys, KeySource};
use crate::sources::store::limit::Limited;
use crate::sources::store::local::LocalStore;
use crate::sources::store::s3::S3Store;
use crate::sources::store::ObjectStore;
use crate::verify::arn::TrailArn;
use crate::verify::layout::AccountRoot;
use crate::verify::lifecycle::LifecycleEvent;
use crate::verify::proof::TrailStatus;
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::time::{parse_user_time, Timestamp};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

/// Exit status for usage and operational errors.
pub const EXIT_ERROR: i32 = 2;

/// A failure of the run as a whole, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Operational(String),
}

pub(crate) fn usage(e: impl std::fmt::Display) -> AppError {
    AppError::Usage(e.to_string())
}

pub(crate) fn operational(e: impl std::fmt::Display) -> AppError {
    AppError::Operational(e.to_string())
}

/// Runs a parsed command line and returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Validate(args) => {
            crate::run::kernel_hints::apply();
            runtime().and_then(|rt| rt.block_on(validate(args)))
        }
        Command::Simulate(args) => simulate(args),
        Command::Keys(args) => runtime().and_then(|rt| rt.block_on(keys(args))),
        Command::Merge(args) => runtime().and_then(|rt| rt.block_on(merge(args))),
        Command::Acquire(cmd) => {
            runtime().and_then(|rt| rt.block_on(crate::commands::acquire::run(cmd)))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trailproof: {e}");
            EXIT_ERROR
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| operational(format!("cannot start the async runtime: {e}")))
}

/// The validated, typed form of `validate`'s arguments.
pub(crate) struct Request {
    pub(crate) arn: TrailArn,
    /// None: from the checkpoint.
    pub(crate) start: Option<Timestamp>,
    pub(crate) end: Timestamp,
    pub(crate) accounts: Pick,
    pub(crate) regions: Pick,
    /// `--shard`, with K read from the environment for `auto/N`.
    pub(crate) shard: Option<Shard>,
}

impl Request {
    /// One account and one region: the AWS CLI's single chain.
    fn single(&self) -> Option<(&str, &str)> {
        Some((self.accounts.single()?, self.regions.single()?))
    }
}

pub(crate) fn request(args: &ValidateArgs) -> Result<Request, AppError> {
    let arn = TrailArn::parse(&args.trail_arn).map_err(usage)?;
    let start = match &args.start_time {
        Some(s) => Some(parse_user_time(s).map_err(usage)?),
        None if args.checkpoint.is_some() => None,
        None => {
            return Err(usage(
                "--start-time is required (or a --checkpoint to start from)",
            ))
        }
    };
    let end = match &args.end_time {
        Some(s) => parse_user_time(s).map_err(usage)?,
        None => chrono::Utc::now(),
    };
    if start.is_some_and(|s| s > end) {
        return Err(usage(
            "Invalid time range specified: start-time must occur before end-time",
        ));
    }
    let accounts = Pick::parse(args.account_id.as_deref().unwrap_or(&arn.account));
    if let Pick::List(v) = &accounts {
        if let Some(bad) = v
            .iter()
            .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
            .or(v.is_empty().then_some(&arn.account))
        {
            return Err(usage(format!(
                "--account-id must be 12 digits, a comma-separated list of them, or all; got {bad:?}"
            )));
        }
    }
    let regions = Pick::parse(args.region.as_deref().unwrap_or(&arn.region));
    if let Pick::List(v) = &regions {
        let region_like = |r: &String| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if let Some(bad) = v.iter().find(|r| !region_like(r)) {
            return Err(usage(format!(
                "--region must be a region name, a comma-separated list of them, or all; got {bad:?}"
            )));
        }
        if v.is_empty() {
            return Err(usage("--region must name at least one region, or all"));
        }
    }
    if let Some(o) = &args.organization_id {
        if !o.starts_with("o-") || o.len() < 3 || !o[2..].bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(usage(format!(
                "--organization-id must look like o-xxxxxxxxxx, got {o:?}"
            )));
        }
    }
    if args.concurrency == Some(0) {
        return Err(usage("--concurrency must be at least 1"));
    }
    let shard = match &args.shard {
        None => None,
        Some(text) => Some(Shard::parse(text, |v| std::env::var(v).ok()).map_err(usage)?),
    };
    Ok(Request {
        arn,
        start,
        end,
        accounts,
        regions,
        shard,
    })
}

fn progress(args: &ValidateArgs) -> Arc<dyn Progress> {
    if !args.quiet && std::io::stderr().is_terminal() {
        Arc::new(Bar::new())
    } else {
        Arc::new(Silent)
    }
}

/// Reads a keys file as written by `aws cloudtrail list-public-keys`.
pub fn load_keys_file(path: &Path) -> Result<PublicKeySet, AppError> {
    let bytes = std::fs::read(path).map_err(|e| {
        operational(format!(
            "cannot read public keys file {}: {e}",
            path.display()
        ))
    })?;
    PublicKeySet::from_json(&bytes).map_err(|e| {
        operational(format!(
            "public keys file {} is not usable: {e}",
            path.display()
        ))
    })
}

/// The one bucket directory in DIR, when the user did not name one.
fn sole_bucket(dir: &Path) -> Result<String, AppError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| operational(format!("cannot read {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    match names.len() {
        1 => Ok(names.remove(0)),
        0 => Err(operational(format!(
            "{} holds no bucket directory",
            dir.display()
        ))),
        _ => Err(usage(format!(
            "{} holds several buckets ({}); name one with --s3-bucket",
            dir.display(),
            names.join(", ")
        ))),
    }
}

async fn validate(args: ValidateArgs) -> Result<i32, AppError> {
    let req = request(&args)?;
    let Some(dir) = args.local.clone() else {
        return validate_live(args, req).await;
    };
    let (args, dir_notes) = acquired_defaults(args, &dir);
    let dir = &dir;
    let Some(keys_path) = &args.public_keys else {
        return Err(usage("--public-keys FILE is required with --local"));
    };
    let keys: Arc<dyn KeySource> = Arc::new(FileKeys(load_keys_file(keys_path)?));
    let store = LocalStore::new(dir)
        .map_err(|e| operational(format!("cannot use {} as a local copy: {e}", dir.display())))?;
    let bucket_named = args
        .s3_bucket
        .as_ref()
        .is_some_and(|b| dir.join(b).is_dir());
    if !bucket_named && dir.join("AWSLogs").is_dir() {
        return Err(usage(format!(
            "{} looks like one bucket's contents (it holds AWSLogs/ directly, as `aws s3 sync` \
             writes it); pass its parent as --local and its name as --s3-bucket",
            dir.display()
        )));
    }
    let bucket = match &args.s3_bucket {
        Some(b) => b.clone(),
        None => sole_bucket(dir)?,
    };
    if !dir.join(&bucket).is_dir() {
        return Err(operational(format!(
            "bucket {bucket} is not in {}",
            dir.display()
        )));
    }
    let concurrency = args.concurrency.unwrap_or_else(|| {
        2 * std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let live = Live {
        notes: dir_notes,
        ..Live::default()
    };
    run_chains(
        Arc::new(store),
        keys,
        &args,
        &req,
        bucket,
        concurrency,
        live,
    )
    .await
}

/// A directory written by `trailproof acquire` carries the keys, the
/// lifecycle records and the trail's settings: used unless given.
fn acquired_defaults(mut args: ValidateArgs, dir: &Path) -> (ValidateArgs, Vec<String>) {
    use crate::commands::acquire::{EVENTS_FILE, KEYS_FILE, MANIFEST_FILE, TRAIL_FILE};
    let mut notes = Vec::new();
    // Only a directory `acquire` wrote (it has a manifest): files that merely
    // sit next to a copy are not taken as evidence unasked.
    if !dir.join(MANIFEST_FILE).is_file() {
        return (args, notes);
    }
    if args.public_keys.is_none() && dir.join(KEYS_FILE).is_file() {
        args.public_keys = Some(dir.join(KEYS_FILE));
        notes.push(format!(
            "Public keys taken from {}: whoever can write the directory chooses them; give \
             --public-keys from a source you trust (trailproof keys) to rule that out",
            dir.join(KEYS_FILE).display()
        ));
    }
    if args.gap_events.is_none() && dir.join(EVENTS_FILE).is_file() {
        args.gap_events = Some(dir.join(EVENTS_FILE));
        notes.push(format!(
            "Lifecycle records taken from {}",
            dir.join(EVENTS_FILE).display()
        ));
    }
    let trail: Option<serde_json::Value> = std::fs::read(dir.join(TRAIL_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(t) = trail.as_ref().and_then(|t| t["trailList"].get(0)) {
        if t["TrailARN"].as_str() == Some(args.trail_arn.as_str()) {
            if args.s3_bucket.is_none() {
                args.s3_bucket = t["S3BucketName"].as_str().map(str::to_string);
            }
            if args.s3_prefix.is_none() {
                args.s3_prefix = t["S3KeyPrefix"].as_str().map(str::to_string);
            }
        }
    }
    (args, notes)
}

/// What live mode adds to a run: CloudTrail's view of the trail.
#[derive(Default)]
struct Live {
    /// GetTrailStatus; `covers_region` is set per chain from `multi_region`.
    status: Option<TrailStatus>,
    multi_region: Option<bool>,
    /// Organizations ListAccounts (live, `--account-id all`, organization trails).
    org_accounts: Option<Result<Vec<String>, String>>,
    lookup: Option<Arc<dyn LifecycleLookup>>,
    organization_trail: Option<bool>,
    notes: Vec<String>,
}

/// Live mode: S3 and the CloudTrail API through the standard AWS configuration.
async fn validate_live(args: ValidateArgs, req: Request) -> Result<i32, AppError> {
    live_run(args, req, None).await
}

/// A live run; with `acquire`, every object read or listed in the trail's
/// folders is also copied into that directory (see `acquire.rs`).
pub(crate) async fn live_run(
    args: ValidateArgs,
    req: Request,
    acquire: Option<&crate::commands::acquire::Capture>,
) -> Result<i32, AppError> {
    let home_or_single = req
        .single()
        .map_or(req.arn.region.clone(), |(_, r)| r.to_string());
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: args.profile.clone(),
        region: Some(home_or_single),
        read_timeout: Some(args.read_timeout()),
    })
    .await;
    let cloudtrail = Arc::new(CloudTrail::new(cfg.clone()));
    let mut args = args;
    // With both --s3-bucket and --public-keys a run makes no CloudTrail call.
    let uses_cloudtrail = args.s3_bucket.is_none() || args.public_keys.is_none();
    let mut live = Live::default();
    // Auditors in a log-archive account often cannot describe the trail;
    // with --s3-bucket its description is optional.
    let info = if args.s3_bucket.is_none() {
        Some(
            cloudtrail
                .describe_trail(&req.arn)
                .await
                .map_err(operational)?,
        )
    } else if uses_cloudtrail {
        cloudtrail.describe_trail(&req.arn).await.ok()
    } else {
        None
    };
    if let Some(info) = &info {
        if !info.log_file_validation_enabled {
            live.notes.push(format!(
                "Log file validation is disabled for trail {}: no new digests are being delivered",
                req.arn.arn
            ));
        }
        if args.s3_prefix.is_none() && args.s3_bucket.is_none() {
            args.s3_prefix = info.prefix.clone();
        }
        live.organization_trail = Some(info.is_organization_trail);
        live.multi_region = Some(info.is_multi_region);
    }
    if uses_cloudtrail {
        // Without the trail's description (no permission), only the home
        // region is known to be covered, and a recent digest delivery is
        // what says validation is on.
        let validation = info.as_ref().is_none_or(|i| i.log_file_validation_enabled);
        live.status = cloudtrail.trail_status(&req.arn, validation, true).await;
    }
    let bucket = match (&args.s3_bucket, &info) {
        (Some(b), _) => b.clone(),
        (None, Some(i)) => i.bucket.clone(),
        (None, None) => return Err(usage("--s3-bucket is required")),
    };
    let keys: Arc<dyn KeySource> = match &args.public_keys {
        Some(p) => Arc::new(FileKeys(load_keys_file(p)?)),
        None => cloudtrail.clone(),
    };
    if uses_cloudtrail {
        live.lookup = Some(cloudtrail.clone());
    }
    let path_style = args.s3_path_style
        || crate::sources::aws::s3_endpoint_override(&cfg)
            .is_some_and(|e| crate::sources::aws::needs_path_style(&e));
    let mut store: Arc<dyn ObjectStore> =
        Arc::new(S3Store::new(cfg.clone(), path_style, args.max_attempts));
    if let Some(capture) = acquire {
        store = capture.wrap(store, &cfg, &cloudtrail, info.as_ref());
    }
    if req.accounts == Pick::All && live.organization_trail != Some(false) {
        live.org_accounts = Some(crate::sources::organizations::active_accounts(&cfg).await);
    }
    let concurrency = args.concurrency.unwrap_or(64);
    run_chains(store, keys, &args, &req, bucket, concurrency, live).await
}

/// `trailproof merge REPORT...`.
async fn merge(args: MergeArgs) -> Result<i32, AppError> {
    let mut reports = Vec::new();
    for name in &args.reports {
        let bytes = crate::report::output::read(
            name,
            crate::report::output::Remote::profile(args.profile.as_deref()),
        )
        .await
        .map_err(operational)?;
        reports.push((
            name.clone(),
            crate::report::merge::read(name, &bytes).map_err(usage)?,
        ));
    }
    let time = |t: &Option<String>| t.as_deref().map(parse_user_time).transpose().map_err(usage);
    let expect = crate::report::merge::Expect {
        trail_arn: args.trail_arn.clone(),
        start: time(&args.start_time)?,
        end: time(&args.end_time)?,
    };
    let estate = crate::report::merge::merge(reports, &expect).map_err(usage)?;
    let mut buf = Vec::new();
    let res = match &args.output {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            crate::run::estate::render(&estate, args.format, args.verbose, &mut out)
        }
        Some(_) => crate::run::estate::render(&estate, args.format, args.verbose, &mut buf),
    };
    match res {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(operational(format!("cannot write the report: {e}"))),
    }
    if let Some(target) = &args.output {
        crate::report::output::write(
            target,
            buf,
            crate::report::output::Remote::profile(args.profile.as_deref()),
        )
        .await
        .map_err(operational)?;
    }
    Ok(estate.exit_code())
}

/// `trailproof simulate [--upload]`.
fn simulate(cmd: SimulateCmd) -> Result<i32, AppError> {
    let out = crate::simulate::run(&cmd.sim).map_err(operational)?;
    println!("{}", out.summary_text());
    if cmd.upload {
        let rt = runtime()?;
        let n = rt.block_on(async {
            let cfg = crate::sources::aws::load(&AwsOptions {
                profile: cmd.profile.clone(),
                region: None,
                read_timeout: None,
            })
            .await;
            let path_style = crate::sources::aws::s3_endpoint_override(&cfg)
                .is_some_and(|e| crate::sources::aws::needs_path_style(&e));
            let store = S3Store::new(cfg, path_style, 5);
            crate::sources::store::s3::upload_dir(&store, &out.out).await
        });
        let n = n.map_err(|e| operational(format!("upload failed: {e}")))?;
        println!("Uploaded {n} objects.");
    }
    Ok(0)
}

/// `trailproof keys`: ListPublicKeys written as a keys file.
async fn keys(args: KeysArgs) -> Result<i32, AppError> {
    let now = chrono::Utc::now();
    let start = match &args.start_time {
        Some(s) => parse_user_time(s).map_err(usage)?,
        None => now,
    };
    let end = match &args.end_time {
        Some(s) => parse_user_time(s).map_err(usage)?,
        None => now,
    };
    if start > end {
        return Err(usage(
            "Invalid time range specified: start-time must occur before end-time",
        ));
    }
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: args.profile.clone(),
        region: Some(args.region.clone()),
        read_timeout: None,
    })
    .await;
    let ct = CloudTrail::new(cfg);
    let mut set = PublicKeySet::new();
    set.extend(
        ct.list_public_keys(&args.region, start, end)
            .await
            .map_err(operational)?,
    );
    let text = set.to_json();
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| operational(format!("cannot write {}: {e}", p.display())))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// Lifecycle records from `--gap-events FILE`.
fn load_gap_events(args: &ValidateArgs, arn: &TrailArn) -> Result<Vec<LifecycleEvent>, AppError> {
    let Some(path) = &args.gap_events else {
        return Ok(Vec::new());
    };
    let bytes = std::fs::read(path)
        .map_err(|e| operational(format!("cannot read {}: {e}", path.display())))?;
    crate::verify::lifecycle::from_lookup_events_json(&bytes, arn).map_err(|e| {
        usage(format!(
            "{} is not the output of `aws cloudtrail lookup-events`: {e}",
            path.display()
        ))
    })
}

/// Resolves the organization folder, plans the chains and runs them with
/// one engine: one bound on requests in flight for the whole run.
async fn run_chains(
    store: Arc<dyn ObjectStore>,
    keys: Arc<dyn KeySource>,
    args: &ValidateArgs,
    req: &Request,
    bucket: String,
    concurrency: usize,
    live: Live,
) -> Result<i32, AppError> {
    if !(0..=24 * 60).contains(&args.delivery_grace) {
        return Err(usage("--delivery-grace must be between 0 and 1440 minutes"));
    }
    let known_events = load_gap_events(args, &req.arn)?;
    let org = match &args.organization_id {
        Some(o) => Some(o.clone()),
        None => discover_org(store.as_ref(), args, req, &bucket, &live).await?,
    };
    let started = std::time::Instant::now();
    let settings = crate::plan::checkpoint::Settings {
        trail_arn: req.arn.arn.clone(),
        bucket: bucket.clone(),
        prefix: args.s3_prefix.clone(),
        organization_id: org.clone(),
    };
    let (old, old_etag) = match load_checkpoint(args, &settings).await? {
        Some((cp, etag)) => (Some(cp), etag),
        None => (None, None),
    };
    if old.is_some() && args.shard.is_some() {
        return Err(usage("--checkpoint and --shard cannot be combined"));
    }
    let start =
        match (req.start, &old) {
            (Some(s), _) => s,
            (None, Some(cp)) => cp
                .chains
                .iter()
                .filter_map(|r| r.end_time())
                .min()
                .ok_or_else(|| usage("the checkpoint records no chain: give --start-time"))?,
            (None, None) => return Err(usage(
                "--start-time is required for the first run (the checkpoint does not exist yet)",
            )),
        };
    if start > req.end {
        return Err(usage("the checkpoint is newer than --end-time"));
    }
    if let Some(cp) = &old {
        if let Some(r) = cp
            .chains
            .iter()
            .find(|r| r.end_time().is_some_and(|e| e > req.end))
        {
            return Err(usage(format!(
                "the checkpoint records account {} region {} up to {}, after --end-time",
                r.account, r.region, r.end
            )));
        }
    }
    let base = Plan {
        trail: req.arn.clone(),
        digest_bucket: bucket.clone(),
        root: AccountRoot::new(args.s3_prefix.as_deref(), org.as_deref(), &req.arn.account),
        source_region: req.arn.region.clone(),
        start,
        end: req.end,
        now: chrono::Utc::now(),
        grace: chrono::Duration::minutes(args.delivery_grace),
        concurrency,
        check_unreferenced: !args.skip_unreferenced,
        max_log_inflated: args.max_log_bytes,
        status: None,
        known_events,
        allow_gaps: args.allow_gaps,
        checkpoint: None,
        events_window: (start, req.end),
        local_copy: args.local.is_some(),
        keys_from_file: args.public_keys.is_some(),
        require_digest_folder: true,
    };
    let engine = Engine {
        store: Arc::new(Limited::new(store, concurrency)),
        keys,
        progress: progress(args),
        lookup: live.lookup.clone(),
        cpu: Engine::cpu_pool(),
        buffers: Engine::buffer_budget(),
        inflater: match args.inflater {
            crate::cli::InflaterArg::Whole => crate::verify::gzip::Inflater::Whole,
            crate::cli::InflaterArg::Stream => crate::verify::gzip::Inflater::Stream,
        },
    };
    let chain_plan = |account: &str, region: &str| {
        let mut p = base.clone();
        p.root = AccountRoot::new(args.s3_prefix.as_deref(), org.as_deref(), account);
        p.source_region = region.to_string();
        p.status = live.status.clone().map(|mut s| {
            s.covers_region = region == req.arn.region || live.multi_region == Some(true);
            s
        });
        if let Some(r) = old.as_ref().and_then(|cp| cp.record(account, region)) {
            let recorded = r.end_time().unwrap_or(p.start);
            // An explicit --start-time earlier than the record widens the
            // window; the record never narrows what was asked for.
            p.start = match req.start {
                Some(s) => s.min(recorded),
                None => recorded,
            };
            p.checkpoint = Some(r.clone());
            // A recorded chain whose folder is gone is a finding, not a typo.
            p.require_digest_folder = false;
        }
        p
    };
    let shard = req.shard;
    if let (Some((account, region)), None) = (req.single(), shard) {
        if req.start.is_none()
            && old
                .as_ref()
                .is_some_and(|cp| cp.record(account, region).is_none())
        {
            return Err(usage(format!(
                "the checkpoint does not record account {account} region {region}: give --start-time"
            )));
        }
        let plan = chain_plan(account, region);
        let mut report = engine.validate(&plan).await.map_err(operational)?;
        report.notes.extend(live.notes);
        to_output(args, shard, |out| {
            render_single(&report, args, account, region, out)
        })
        .await?;
        if let Some(path) = &args.html {
            let html = crate::report::html::render_single(&report, account, region)
                .map_err(operational)?;
            crate::report::output::write(&path.to_string_lossy(), html.into_bytes(), args.remote())
                .await
                .map_err(operational)?;
        }
        let summaries = vec![report.chain_summary(account, region)];
        let code = report.exit_code();
        let old = (old, old_etag);
        finish(args, settings, old, summaries, code, started).await?;
        return Ok(code);
    }
    let mut notes = live.notes.clone();
    let chains = match req.single() {
        Some((account, region)) => vec![ChainPlan {
            account: account.to_string(),
            region: region.to_string(),
            has_digest_folder: true,
            has_log_folder: true,
            expected_because: None,
        }],
        None => {
            let (store, root) = (engine.store.as_ref(), &base.root);
            plan_estate(
                store,
                args,
                req,
                &bucket,
                org.as_deref(),
                root,
                &live,
                &mut notes,
            )
            .await?
        }
    };
    let mut chains = chains;
    if let Some(cp) = &old {
        // A chain the checkpoint knows is validated again, folders or not.
        for r in &cp.chains {
            if !chains
                .iter()
                .any(|c| c.account == r.account && c.region == r.region)
            {
                chains.push(ChainPlan {
                    account: r.account.clone(),
                    region: r.region.clone(),
                    has_digest_folder: false,
                    has_log_folder: false,
                    expected_because: Some("the checkpoint records it".into()),
                });
            }
        }
        if req.start.is_none() {
            if let Some(c) = chains
                .iter()
                .find(|c| cp.record(&c.account, &c.region).is_none())
            {
                return Err(usage(format!(
                    "the checkpoint does not record account {} region {}: give --start-time",
                    c.account, c.region
                )));
            }
        }
    }
    if shard.is_some() && args.metrics.is_some() {
        return Err(usage(
            "--metrics and --shard cannot be combined: merge, then report",
        ));
    }
    let ids: Vec<(String, String)> = chains
        .iter()
        .map(|c| (c.account.clone(), c.region.clone()))
        .collect();
    let (units, shard_info) = match shard {
        None => (crate::plan::shard::units(&ids, start, req.end, 1), None),
        Some(s) => {
            let all = crate::plan::shard::units(&ids, start, req.end, s.count);
            if args.end_time.is_none() {
                return Err(usage(
                    "--shard needs --end-time: every shard must validate the same window",
                ));
            }
            // Everything that can change a verdict: shards run with other
            // options would not add up to one run.
            let selection = format!(
                "accounts={:?} regions={:?} prefix={:?} organization={:?} bucket={bucket} \
                 allow_gaps={} skip_unreferenced={} grace={} gap_events={:?} max_log_bytes={} \
                 keys={:?} local={}",
                req.accounts,
                req.regions,
                args.s3_prefix,
                org,
                args.allow_gaps,
                args.skip_unreferenced,
                args.delivery_grace,
                args.gap_events,
                args.max_log_bytes,
                args.public_keys.as_ref().map(|_| "file"),
                args.local.is_some()
            );
            let fingerprint =
                crate::plan::shard::fingerprint(&req.arn.arn, start, req.end, &selection, &all);
            let mine = crate::plan::shard::mine(&all, s);
            let info = ShardInfo {
                index: s.index,
                count: s.count,
                fingerprint,
                selection,
                units: all,
            };
            (mine, Some(info))
        }
    };
    let single = req.single().is_some();
    let units = units
        .into_iter()
        .filter_map(|u| {
            let c = chains
                .iter()
                .find(|c| c.account == u.account && c.region == u.region)?
                .clone();
            let mut p = chain_plan(&c.account, &c.region);
            p.require_digest_folder = single;

            if let Some((a, b)) = u.slice {
                p.start = a;
                p.end = b;
            }
            Some((c, p, u.slice))
        })
        .collect();
    let job = crate::run::estate::Job {
        units,
        trail_arn: req.arn.arn.clone(),
        start,
        end: req.end,
        notes,
        shard: shard_info,
    };
    let mut buf = Vec::new();
    let (code, summaries) = match &args.output {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            crate::run::estate::run(&engine, job, args, &mut out).await
        }
        Some(_) => crate::run::estate::run(&engine, job, args, &mut buf).await,
    }
    .map_err(operational)?;
    if args.output.is_some() {
        to_output(args, shard, |out| out.write_all(&buf).map_err(operational)).await?;
    }
    finish(args, settings, (old, old_etag), summaries, code, started).await?;
    Ok(code)
}

/// The checkpoint given with --checkpoint, or None when it does not exist
/// yet (the first run); anything unusable is an error, never a silent full
/// or empty run.
async fn load_checkpoint(
    args: &ValidateArgs,
    settings: &crate::plan::checkpoint::Settings,
) -> Result<Option<(crate::plan::checkpoint::Checkpoint, Option<String>)>, AppError> {
    let Some(target) = &args.checkpoint else {
        return Ok(None);
    };
    match crate::report::output::read_versioned(target, args.remote()).await {
        Ok(None) => Ok(None),
        Ok(Some((bytes, etag))) => {
            crate::plan::checkpoint::Checkpoint::parse(target, &bytes, settings)
                .map(|cp| Some((cp, etag)))
                .map_err(usage)
        }
        Err(e) => Err(operational(e)),
    }
}

/// After a complete run: the new checkpoint and the metrics.
async fn finish(
    args: &ValidateArgs,
    settings: crate::plan::checkpoint::Settings,
    (old, old_etag): (Option<crate::plan::checkpoint::Checkpoint>, Option<String>),
    summaries: Vec<crate::report::model::ChainSummary>,
    code: i32,
    started: std::time::Instant,
) -> Result<(), AppError> {
    // Metrics first: a checkpoint write that fails must not leave the last
    // run's verdict in place.
    if let Some(path) = &args.metrics {
        let text =
            crate::report::metrics::render(&summaries, code, started.elapsed().as_secs_f64());
        crate::report::output::write(&path.to_string_lossy(), text.into_bytes(), args.remote())
            .await
            .map_err(operational)?;
    }
    if let Some(target) = &args.checkpoint {
        // A chain advances only when proven strictly: not under
        // --allow-gaps, and with its folders scanned.
        let proven: Vec<crate::plan::checkpoint::Record> = summaries
            .iter()
            .filter(|s| s.strictly_proven && !args.skip_unreferenced)
            .filter_map(|s| {
                let n = s.newest.as_ref()?;
                Some(crate::plan::checkpoint::Record {
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
        let cp = crate::plan::checkpoint::next(settings, old.as_ref(), proven, chrono::Utc::now());
        let bytes = cp.to_json().into_bytes();
        let written = crate::report::output::write_versioned(
            target,
            bytes,
            old_etag.as_deref(),
            args.remote(),
        )
        .await;
        if let Err(e) = written {
            // A verdict of tampering or of an unproven window outranks the
            // failed write: say it, keep the status.
            if code != crate::report::model::exit::PROVEN {
                eprintln!("trailproof: {e}");
            } else {
                return Err(operational(e));
            }
        }
    }
    Ok(())
}

/// The chains of an estate: the bucket's folders for the selection, plus
/// member accounts the organization lists that have none.
#[allow(clippy::too_many_arguments)]
async fn plan_estate(
    store: &dyn ObjectStore,
    args: &ValidateArgs,
    req: &Request,
    bucket: &str,
    org: Option<&str>,
    root: &AccountRoot,
    live: &Live,
    notes: &mut Vec<String>,
) -> Result<Vec<ChainPlan>, AppError> {
    let mut chains = crate::plan::chains::plan_chains(
        store,
        bucket,
        args.s3_prefix.as_deref(),
        org,
        &req.accounts,
        &req.regions,
        std::slice::from_ref(&req.arn.region),
    )
    .await
    .map_err(|e| operational(format!("cannot list bucket {bucket}: {e}")))?;
    if req.accounts == Pick::All && live.org_accounts.is_none() {
        notes.push(
            "Accounts are those with a folder in the bucket: an account whose folders were \
             deleted entirely is not noticed (name the accounts with --account-id, or let live \
             mode use organizations:ListAccounts)"
                .to_string(),
        );
    }
    match (&live.org_accounts, org.is_some()) {
        (Some(Ok(active)), true) => {
            crate::plan::chains::add_silent_accounts(&mut chains, active, &req.arn.region)
        }
        (Some(Err(why)), true) => notes.push(format!(
            "Member accounts could not be listed (organizations:ListAccounts: {why}): an account \
             with no folder at all goes unnoticed"
        )),
        _ => {}
    }
    if chains.is_empty() {
        let hint = crate::plan::discover::what_exists(store, bucket, root, &req.arn.region).await;
        return Err(usage(format!(
            "no account or region folder of the trail matches the selection ({hint})"
        )));
    }
    Ok(chains)
}

/// Renders to stdout, or with `--output` into a file or S3 object.
async fn to_output(
    args: &ValidateArgs,
    shard: Option<Shard>,
    render: impl FnOnce(&mut dyn std::io::Write) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let Some(target) = &args.output else {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        return render(&mut out);
    };
    let target = output_target(target, shard)?;
    let mut buf: Vec<u8> = Vec::new();
    render(&mut buf)?;
    crate::report::output::write(&target, buf, args.remote())
        .await
        .map_err(operational)
}

/// `{shard}` in `--output` becomes the shard's index, so every child of an
/// array job writes its own report from one command line.
fn output_target(target: &str, shard: Option<Shard>) -> Result<String, AppError> {
    if !target.contains("{shard}") {
        return Ok(target.to_string());
    }
    let Some(s) = shard else {
        return Err(usage("{shard} in --output needs --shard"));
    };
    Ok(target.replace("{shard}", &s.index.to_string()))
}

/// The organization folder when the user did not name it: for one
/// account, the folder holding its digests; for an estate, the one folder
/// holding digests of the trail.
async fn discover_org(
    store: &dyn ObjectStore,
    args: &ValidateArgs,
    req: &Request,
    bucket: &str,
    live: &Live,
) -> Result<Option<String>, AppError> {
    let (account, region) = match (req.accounts.single(), req.regions.single()) {
        (Some(a), Some(r)) => (a.to_string(), r.to_string()),
        (Some(a), None) => (a.to_string(), req.arn.region.clone()),
        _ => (String::new(), String::new()),
    };
    let want = crate::plan::discover::Want {
        prefix: args.s3_prefix.as_deref(),
        account: &account,
        region: &region,
        trail_name: &req.arn.name,
        organization_trail: live.organization_trail,
    };
    let found = if account.is_empty() {
        crate::plan::discover::discover_estate_org(store, bucket, &want).await
    } else {
        crate::plan::discover::discover_org_id(store, bucket, &want).await
    };
    found.map_err(|e| match e {
        crate::plan::discover::ResolveError::Ambiguous { .. } => usage(e),
        crate::plan::discover::ResolveError::Store(s) => {
            operational(format!("cannot list bucket {bucket}: {s}"))
        }
    })
}

/// One chain's report in the chosen format (text on stdout and stderr as
/// the AWS CLI prints it; the stdout part into `out`).
fn render_single(
    report: &Report,
    args: &ValidateArgs,
    account: &str,
    region: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), AppError> {
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let res = match args.format {
        Format::Text => crate::report::text::render(report, args.verbose, out, &mut err),
        Format::Json => out.write_all(crate::report::json::render(report).as_bytes()),
        Format::Jsonl => {
            let mut lines =
                crate::report::jsonl::chain_lines(account, region, report, args.verbose);
            lines.extend(crate::report::jsonl::closing_lines(
                &[],
                &[report.exit_code()],
            ));
            lines.iter().try_for_each(|l| writeln!(out, "{l}"))
        }
    };
    match res.and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(operational(format!("cannot write the report: {e}"))),
    }
}
