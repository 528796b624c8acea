//! The command line (clap only, and its one conversion into typed
//! requests in `to_request`): option names and meanings follow `aws cloudtrail
//! validate-logs` so existing scripts carry over; everything else is ours.
//! The doc comments here are `--help` text, not HTML: `<bucket>` is a
//! placeholder, as in the AWS CLI's help.
#![allow(rustdoc::invalid_html_tags)]

pub mod to_request;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "trailproof",
    version,
    about = "Prove AWS CloudTrail logs have not been tampered with"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Said at the end of `validate --help`.
const EXIT_STATUSES: &str = "Exit status:
  0  proven intact: every hour of the window is covered by verified digests or by a gap
     CloudTrail's own records explain, and every object in the trail's folders has a verdict
  1  evidence of tampering: an object was altered, deleted, moved, forged or planted
  3  coverage not proven: a gap nothing explains, an overdue tail, nothing found where the
     trail should have written something (--allow-gaps makes this 0, as the AWS CLI does)
  2  the run could not be done as asked (usage, credentials, keys file, unreadable source)";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a trail's digest chain and log files for a time range.
    #[command(after_help = EXIT_STATUSES)]
    Validate(ValidateArgs),
    /// Write a synthetic, correctly signed trail (optionally damaged) in the local layout.
    Simulate(SimulateCmd),
    /// Print CloudTrail's public keys for a region and range, for later offline use
    /// (the format of `aws cloudtrail list-public-keys`).
    Keys(KeysArgs),
    /// Combine the reports of `validate --shard K/N` (files or s3:// URLs) into
    /// the report and exit status of the unsharded run.
    Merge(MergeArgs),
    /// Copy a trail's evidence for the window (digests with their metadata, log
    /// files, public keys, gap records, the trail's description) into DIR in the
    /// --local layout, with manifest.json and SHA256SUMS, for offline re-verification.
    Acquire(AcquireCmd),
    /// Check a file's detached signature written with --signing-key (what
    /// `openssl dgst -sha256 -verify signer.pem -signature FILE.sig FILE` checks).
    VerifySignature(VerifySignatureArgs),
}

/// `trailproof verify-signature FILE --public-key signer.pem`.
#[derive(Args, Debug, Clone)]
pub struct VerifySignatureArgs {
    /// The signed file.
    pub file: PathBuf,
    /// The signer's public key, PEM (the signer.pem written beside the file).
    #[arg(long, value_name = "PEM")]
    pub public_key: PathBuf,
    /// The signature (default: FILE.sig).
    #[arg(long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// The signer's fingerprint as the operator published it (the SHA-256
    /// of its public key, hex): a package carries its own signer.pem, so
    /// only a fingerprint from elsewhere says whose key it is.
    #[arg(long, value_name = "HEX")]
    pub fingerprint: Option<String>,
}

/// `acquire` writes its report as DIR/live-report.json and copies from S3:
/// the options that would say otherwise are not shown (and are refused).
#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("local", |a| a.hide(true)),
    mut_arg("format", |a| a.hide(true)),
    mut_arg("output", |a| a.hide(true)),
    mut_arg("report_file", |a| a.hide(true)),
    mut_arg("checkpoint", |a| a.hide(true)),
    mut_arg("shard", |a| a.hide(true)),
    mut_arg("notify", |a| a.hide(true)),
    mut_arg("notify_always", |a| a.hide(true)),
    mut_arg("security_hub", |a| a.hide(true))
)]
pub struct AcquireCmd {
    /// Directory to copy into (resumable: files a previous attempt's
    /// manifest vouches for are not fetched again).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub validate: ValidateArgs,
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// Every shard's report (paths or s3://bucket/key).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<String>,
    /// Report format (default: text).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The report format, as the AWS CLI's --output: text, awscli, json,
    /// jsonl, ocsf or asff.
    #[arg(long, value_name = "text|awscli|json|jsonl|ocsf|asff")]
    pub output: Option<String>,
    /// Print a line for every valid digest and log file too.
    #[arg(long)]
    pub verbose: bool,
    /// Write the merged report to a file or s3://bucket/key instead of stdout.
    #[arg(long, value_name = "PATH|s3://BUCKET/KEY")]
    pub report_file: Option<String>,
    /// AWS profile for s3:// reports.
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every AWS request to URL (S3, CloudTrail and the rest), as the
    /// AWS CLI's --endpoint-url does for its service.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Refuse shards of any other trail.
    #[arg(long)]
    pub trail_arn: Option<String>,
    /// Refuse shards of any other window (start).
    #[arg(long)]
    pub start_time: Option<String>,
    /// Refuse shards of any other window (end).
    #[arg(long)]
    pub end_time: Option<String>,
    /// Refuse shard reports the key does not authenticate (file:PATH or a
    /// KMS HMAC key ARN; default from TRAILPROOF_STATE_KEY).
    #[arg(long, value_name = "file:PATH|KMS-ARN")]
    pub state_key: Option<String>,
    /// Sign the merged report, page and metrics (file:PATH, a PEM RSA
    /// 2048+ or P-256 private key, or a KMS SIGN_VERIFY key ARN): FILE.sig
    /// and signer.pem beside each.
    #[arg(long, value_name = "file:PATH|KMS-ARN")]
    pub signing_key: Option<String>,
    /// Time-stamp each file written by this RFC 3161 authority: FILE.tsr
    /// (`openssl ts -verify -data FILE -in FILE.tsr -CAfile ROOT`).
    #[arg(long, value_name = "URL")]
    pub tsa_url: Option<String>,
    /// Refuse shard reports of any other run (default: TRAILPROOF_RUN_ID;
    /// under AWS Batch pass the array job's id: the merge job has its own).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Also write the merged report as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write metrics of the merged run to FILE (`-`: stdout after the report).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// The metrics' format: Prometheus text (node_exporter textfile) or
    /// CloudWatch Embedded Metric Format lines.
    #[arg(long, value_enum, default_value = "prometheus")]
    pub metrics_format: MetricsFormat,
    #[command(flatten)]
    pub deliveries: DeliveryArgs,
}

#[derive(Args, Debug, Clone)]
pub struct SimulateCmd {
    #[command(flatten)]
    pub sim: SimulateArgs,
    /// Also upload the trail through PutObject (with the digest metadata) to the S3
    /// endpoint of the standard AWS configuration (e.g. AWS_ENDPOINT_URL_S3).
    #[arg(long)]
    pub upload: bool,
    /// AWS profile for --upload.
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Directory to write into: DIR/<bucket>/<key> plus the public-keys file.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Start of the first digest window's hour (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub start_time: String,
    /// Hours (digest windows) to write.
    #[arg(long, default_value_t = 3)]
    pub hours: usize,
    #[arg(long, default_value_t = 4)]
    pub logs_per_hour: usize,
    #[arg(long, default_value_t = 20)]
    pub records_per_log: usize,
    #[arg(long, default_value = "trailproof-sample-bucket")]
    pub bucket: String,
    /// Bucket for log files (default: the digest bucket).
    #[arg(long)]
    pub log_bucket: Option<String>,
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    #[arg(long, default_value = "sample-trail")]
    pub trail_name: String,
    #[arg(long, default_value = "us-east-1")]
    pub home_region: String,
    /// Delivering region (default: the home region); differs for multi-region trails.
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub s3_prefix: Option<String>,
    /// Write an organization trail's layout (AWSLogs/<o-id>/<account>/...).
    #[arg(long)]
    pub organization_id: Option<String>,
    /// Seconds after the hour at which digest windows start (real ones are not aligned).
    #[arg(long, default_value_t = 0)]
    pub window_offset_seconds: u32,
    /// Seed for ids and records (the RSA key is always fresh).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Damage to inject: KIND@HOUR[.N], repeatable; `:ACCOUNT/REGION` hits one
    /// chain of an estate (`*` for any). Kinds: tamper-log, delete-log,
    /// append-log, delete-digest, move-digest, forge-digest, unsign-digest, gap,
    /// validation-off, empty-hour, unreferenced-log, narrow, widen.
    #[arg(long = "damage", value_name = "KIND@HOUR[.N][:ACCOUNT/REGION]")]
    pub damage: Vec<String>,
    /// Where to write the public keys (default: DIR/public-keys.json).
    #[arg(long)]
    pub keys_file: Option<PathBuf>,
    /// From hour H on, deliver digests and logs to another bucket (the trail's
    /// bucket was changed; the chain continues across buckets): BUCKET@H.
    #[arg(long, value_name = "BUCKET@HOUR")]
    pub switch_bucket: Option<String>,
    /// Also deliver a backfill digest for hour H: a late log file the hour's
    /// digest does not list, in a `_backfill` digest of its own chain.
    #[arg(long, value_name = "HOUR")]
    pub backfill: Option<usize>,
    /// From hour H on, sign digests with a new key (a key rotation); the
    /// keys file holds both.
    #[arg(long, value_name = "HOUR")]
    pub rotate_key: Option<usize>,
    /// Do not record the StopLogging / UpdateTrail / StartLogging calls that
    /// open and close gaps (`gap`, `validation-off`) in the trail's own logs:
    /// the gaps are then unexplained offline.
    #[arg(long)]
    pub no_gap_records: bool,
    /// Write one chain per account of this comma-separated list (an
    /// organization trail's estate; default: --account-id).
    #[arg(long, value_name = "LIST")]
    pub accounts: Option<String>,
    /// Write one chain per delivering region of this comma-separated list
    /// (one signing key per region, as CloudTrail has; default: --region).
    #[arg(long, value_name = "LIST")]
    pub regions: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct KeysArgs {
    /// Region whose keys to fetch (keys differ per region).
    #[arg(long)]
    pub region: String,
    /// Start of the range (default: now).
    #[arg(long)]
    pub start_time: Option<String>,
    /// End of the range (default: now).
    #[arg(long)]
    pub end_time: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Send every AWS request to URL (S3, CloudTrail and the rest), as the
    /// AWS CLI's --endpoint-url does for its service.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// `--inflater` (hidden: for the side-by-side CPU benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InflaterArg {
    Whole,
    Stream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsFormat {
    Prometheus,
    Emf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// One JSON object per finding, as each chain is decided, then a summary line.
    Jsonl,
    /// `aws cloudtrail validate-logs`'s text byte for byte: newest first,
    /// no explanation under gaps, no verdict line (for scripts that parse it).
    Awscli,
    /// OCSF 1.4 Compliance Finding events (class 2003), one JSON object a
    /// line: one per chain and window, one per object that is not valid.
    Ocsf,
    /// AWS Security Finding Format: a JSON array that Security Hub's
    /// BatchImportFindings takes; the same Id on the next run updates it.
    Asff,
}

#[derive(Args, Debug, Clone)]
pub struct ValidateArgs {
    /// ARN of the trail (arn:aws:cloudtrail:<region>:<account>:trail/<name>).
    #[arg(long, help_heading = "What to validate")]
    pub trail_arn: String,
    /// Start of the range: RFC 3339 (offsets are converted to UTC) or YYYY-MM-DD.
    /// Optional with a --checkpoint that records every chain.
    #[arg(long, help_heading = "What to validate")]
    pub start_time: Option<String>,
    /// End of the range (default: now).
    #[arg(long, help_heading = "What to validate")]
    pub end_time: Option<String>,
    /// Bucket holding the digests (default: the trail's bucket; required offline
    /// when DIR holds several buckets).
    #[arg(long, help_heading = "What to validate")]
    pub s3_bucket: Option<String>,
    /// Key prefix the trail writes under.
    #[arg(long, help_heading = "What to validate")]
    pub s3_prefix: Option<String>,
    /// Accounts whose digests are validated: one, a comma-separated list, or
    /// `all` (every account folder of the trail). Default: the ARN's account.
    #[arg(long, help_heading = "What to validate")]
    pub account_id: Option<String>,
    /// Organization id for organization trails (default: discovered from the bucket).
    #[arg(long, help_heading = "What to validate")]
    pub organization_id: Option<String>,
    /// Delivering regions to validate: one, a comma-separated list, or `all`
    /// (every region folder found). Default: the trail ARN's region.
    #[arg(long, help_heading = "What to validate")]
    pub region: Option<String>,
    /// Print a line for every valid digest and log file too.
    #[arg(long, help_heading = "Output")]
    pub verbose: bool,
    /// Read objects from a local copy: DIR/<bucket>/<key> (+ <key>.metadata.json).
    #[arg(help_heading = "Where from", long, value_name = "DIR")]
    pub local: Option<PathBuf>,
    /// Public keys as printed by `aws cloudtrail list-public-keys`.
    #[arg(help_heading = "Where from", long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    /// Report format (default: text).
    #[arg(help_heading = "Output", long, value_enum)]
    pub format: Option<Format>,
    /// The report format, as the AWS CLI's --output: text, awscli, json,
    /// jsonl, ocsf or asff.
    #[arg(
        help_heading = "Output",
        long,
        value_name = "text|awscli|json|jsonl|ocsf|asff"
    )]
    pub output: Option<String>,
    /// Objects in flight at once (default: 64 against S3, 2 per core offline).
    #[arg(long, help_heading = "Tuning")]
    pub concurrency: Option<usize>,
    /// Do not list the log folders for log files no digest references.
    #[arg(long, help_heading = "What counts as a finding")]
    pub skip_unreferenced: bool,
    /// Largest inflated log file accepted, in bytes (protects against gzip bombs).
    #[arg(help_heading = "What counts as a finding", long, default_value_t = 4 * 1024 * 1024 * 1024)]
    pub max_log_bytes: u64,
    /// Inflater for log files (benchmarking: `stream` is the earlier
    /// flate2 streaming path for every file).
    #[arg(help_heading = "Tuning", long, value_enum, default_value_t = InflaterArg::Whole, hide = true)]
    pub inflater: InflaterArg,
    /// No progress bar.
    #[arg(long, help_heading = "Output")]
    pub quiet: bool,
    /// AWS profile (default: the standard chain: environment, files, SSO, roles).
    #[arg(long, help_heading = "Where from")]
    pub profile: Option<String>,
    /// Send every AWS request to URL (S3, CloudTrail and the rest), as the
    /// AWS CLI's --endpoint-url does for its service.
    #[arg(help_heading = "Where from", long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Use path-style S3 addressing (automatic for IP-address and localhost endpoints).
    #[arg(long, help_heading = "Where from")]
    pub s3_path_style: bool,
    /// Attempts per S3 request (throttling and dropped connections are retried).
    #[arg(help_heading = "Tuning", long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Seconds a connection, a response or a body may go without a byte
    /// before the request is retried (a stalled server does not hang the run).
    #[arg(help_heading = "Tuning", long, value_name = "SECONDS", default_value_t = crate::sources::store::stall::DEFAULT_READ_TIMEOUT.as_secs_f64(), value_parser = parse_seconds)]
    pub read_timeout: f64,
    /// Unexplained gaps do not change the exit status (the AWS CLI's behaviour).
    #[arg(long, help_heading = "What counts as a finding")]
    pub allow_gaps: bool,
    /// Spans where the trail recorded less (event selectors or UpdateTrail
    /// narrowed it) are shown but do not change the exit status.
    #[arg(long, help_heading = "What counts as a finding")]
    pub allow_narrowing: bool,
    /// Bucket protections that must hold (versioning, object-lock,
    /// lifecycle, policy, public-access, encryption, replication,
    /// access-logging, delivery, trail-key; comma-separated): one unprotected or
    /// unknown is exit 3.
    #[arg(long, help_heading = "What counts as a finding", value_name = "LIST")]
    pub require_protections: Option<String>,
    /// Days the trail's objects must be kept: a lifecycle rule deleting them
    /// sooner, or an Object Lock default retention shorter, is unprotected.
    #[arg(long, help_heading = "What counts as a finding", value_name = "DAYS")]
    pub require_retention: Option<i32>,
    /// The event selectors the trail must keep, as `aws cloudtrail
    /// get-event-selectors` prints them: recording less than they do is a
    /// narrowing, from the window's start on.
    #[arg(long, help_heading = "What counts as a finding", value_name = "FILE")]
    pub expect_selectors: Option<PathBuf>,
    /// Live, for forensic windows (at most 14 days): write events
    /// CloudTrail's event history holds for the window's proven spans must
    /// be in the trail's verified logs; those that are not are reported
    /// (not_recorded).
    #[arg(long, help_heading = "What counts as a finding")]
    pub cross_check_events: bool,
    /// Minutes a digest may arrive after its hour before its absence is a finding.
    #[arg(help_heading = "What counts as a finding", long, value_name = "MINUTES", default_value_t = crate::verify::proof::DEFAULT_GRACE_MINUTES)]
    pub delivery_grace: i64,
    /// Validate shard K of N (K from 1 to N; `auto/N` takes K from
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX): chains, or time
    /// slices of a chain, split deterministically; the report is JSON for
    /// `trailproof merge`.
    #[arg(help_heading = "Scheduled runs and shards", long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Write the report to a file (atomically) or to s3://bucket/key
    /// instead of stdout; `{shard}` becomes the shard's K.
    #[arg(help_heading = "Output", long, value_name = "PATH|s3://BUCKET/KEY")]
    pub report_file: Option<String>,
    /// Start each chain at its newest verified digest recorded here (a file,
    /// or s3://bucket/key), and record the new newest ones after a complete
    /// run (written atomically; on S3 only if nobody else wrote it since).
    #[arg(
        help_heading = "Scheduled runs and shards",
        long,
        value_name = "FILE|s3://BUCKET/KEY"
    )]
    pub checkpoint: Option<String>,
    /// Also write a self-contained HTML report (timeline, findings, untrusted spans) to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write metrics to FILE, atomically (`-`: stdout after the report).
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// The metrics' format: Prometheus text (node_exporter textfile) or
    /// CloudWatch Embedded Metric Format lines (Lambda, ECS, AWS Batch).
    #[arg(
        help_heading = "Output",
        long,
        value_enum,
        default_value = "prometheus"
    )]
    pub metrics_format: MetricsFormat,
    /// Write the objects found in an archive storage class (JSON: what to
    /// restore before the window can be proven) to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub restore_plan: Option<PathBuf>,
    /// Write the originals recovered from the bucket's versions (objects
    /// the signed chain expects that are gone or altered) into DIR, a new
    /// or empty directory, with manifest.json (live runs).
    #[arg(help_heading = "Output", long, value_name = "DIR")]
    pub recover: Option<PathBuf>,
    /// Lifecycle records that explain gaps offline: the JSON printed by
    /// `aws cloudtrail lookup-events` (StopLogging, StartLogging, UpdateTrail, ...).
    #[arg(help_heading = "Where from", long, value_name = "FILE")]
    pub gap_events: Option<PathBuf>,
    /// The operator's key authenticating checkpoints, shard reports and
    /// acquired directories: file:PATH (32+ bytes) or the ARN of a KMS
    /// HMAC_256 key; default from TRAILPROOF_STATE_KEY.
    #[arg(
        help_heading = "Scheduled runs and shards",
        long,
        value_name = "file:PATH|KMS-ARN"
    )]
    pub state_key: Option<String>,
    /// Sign every file the run writes (report, HTML, metrics, checkpoint,
    /// shard report, acquired manifest) with this private key: file:PATH
    /// (PEM, RSA 2048+ or ECDSA P-256) or the ARN of a KMS SIGN_VERIFY key
    /// (RSA or ECC_NIST_P256). Each FILE gets FILE.sig (`openssl dgst
    /// -sha256 -verify signer.pem -signature FILE.sig FILE`) and signer.pem.
    #[arg(
        help_heading = "Scheduled runs and shards",
        long,
        value_name = "file:PATH|KMS-ARN"
    )]
    pub signing_key: Option<String>,
    /// Time-stamp every file the run writes by this RFC 3161 time-stamp
    /// authority (http:// or https://): FILE.tsr beside FILE, which
    /// `openssl ts -verify -data FILE -in FILE.tsr -CAfile ROOT` checks. The
    /// token dates the file by the authority's clock, not the operator's.
    #[arg(help_heading = "Scheduled runs and shards", long, value_name = "URL")]
    pub tsa_url: Option<String>,
    /// Shared by every shard of one run (default: TRAILPROOF_RUN_ID, or an
    /// AWS Batch array job's id), so merge can refuse an old shard report.
    #[arg(help_heading = "Scheduled runs and shards", long, value_name = "ID")]
    pub run_id: Option<String>,
    #[command(flatten)]
    pub deliveries: DeliveryArgs,
}

/// Alerts and Security Hub, shared by `validate` and `merge`.
#[derive(Args, Debug, Clone, Default)]
pub struct DeliveryArgs {
    /// On any exit but 0, send one message with the verdict, the counts,
    /// the chains and where the report is: sns:TOPIC_ARN or
    /// eventbridge:BUS (a name or ARN). Repeat for several. A failed
    /// message is a warning; it never changes the exit status.
    #[arg(
        help_heading = "Alerts and Security Hub",
        long,
        value_name = "sns:TOPIC_ARN|eventbridge:BUS"
    )]
    pub notify: Vec<String>,
    /// Send the --notify message after a run that exits 0 too.
    #[arg(help_heading = "Alerts and Security Hub", long, requires = "notify")]
    pub notify_always: bool,
    /// Import the findings (as --format asff writes them) into Security
    /// Hub with BatchImportFindings, in the trail's home region; only the
    /// caller's own account's findings are taken. A failed import is a
    /// warning; it never changes the exit status.
    #[arg(help_heading = "Alerts and Security Hub", long)]
    pub security_hub: bool,
}

/// Positive, finite seconds (fractions allowed).
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.01..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0.01 and 86400"
        )),
    }
}
