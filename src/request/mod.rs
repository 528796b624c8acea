//! The typed request: what the user asked for, checked once. The command
//! line (`cli`) is turned into these values in one conversion that raises
//! every usage error; nothing below the commands sees a flag, so a rule
//! about the window or the selection is written against these types.

pub mod deliveries;
pub mod local;
pub mod state_key;

pub use crate::sources::output::Destination;
use crate::verify::arn::TrailArn;
use crate::verify::gzip::Inflater;
use crate::verify::shard::Shard;
use crate::verify::time::Timestamp;
use std::path::PathBuf;
use std::time::Duration;

/// A request that cannot be run, worded for the person at the terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The command line contradicts itself or names nothing usable.
    #[error("{0}")]
    Usage(String),
    /// A file or directory the request names cannot be read.
    #[error("{0}")]
    Unreadable(String),
}

/// One of `--account-id` / `--region`: everything found, or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    All,
    List(Vec<String>),
}

impl Pick {
    /// `all`, or a comma-separated list (empty items are ignored).
    pub fn parse(s: &str) -> Pick {
        if s.trim().eq_ignore_ascii_case("all") {
            return Pick::All;
        }
        let mut v: Vec<String> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if !v.iter().any(|x| x == item) {
                v.push(item.to_string());
            }
        }
        Pick::List(v)
    }

    /// The one value of a single-item list.
    pub fn single(&self) -> Option<&str> {
        match self {
            Pick::List(v) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }
}

/// `validate` (and `acquire`, which is a validation that keeps its evidence).
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    pub trail: TrailArn,
    pub window: RequestedWindow,
    pub selection: Selection,
    pub source: Source,
    pub checks: Checks,
    pub output: Outputs,
    pub state: State,
    pub tuning: Tuning,
    /// Every input file the run reads besides the trail (the flag that
    /// named it, its path): the report names each with its SHA-256.
    pub inputs: Vec<(String, PathBuf)>,
}

/// The window as asked for.
#[derive(Debug, Clone)]
pub struct RequestedWindow {
    /// None: each chain starts where the checkpoint recorded it.
    pub start: Option<Timestamp>,
    pub end: Timestamp,
    /// `--end-time` was given (shards must all validate the same window).
    pub end_given: bool,
    /// What the conversion changed (an end in the future clamped to now).
    pub notes: Vec<String>,
}

/// Which chains: accounts, delivering regions, and where their folders are.
#[derive(Debug, Clone)]
pub struct Selection {
    pub accounts: Pick,
    pub regions: Pick,
    /// None: the trail's bucket (live) or DIR's only bucket (offline).
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    /// None: discovered from the bucket.
    pub organization_id: Option<String>,
}

impl Selection {
    /// One account and one region: the AWS CLI's single chain.
    pub fn single(&self) -> Option<(&str, &str)> {
        Some((self.accounts.single()?, self.regions.single()?))
    }
}

/// Where objects, keys and lifecycle records come from.
#[derive(Debug, Clone)]
pub struct Source {
    pub place: Place,
    /// `--public-keys` (or the acquired directory's keys).
    pub keys_file: Option<PathBuf>,
    /// `--gap-events` (or the acquired directory's records).
    pub gap_events: Option<PathBuf>,
}

/// A blind spot of an acquisition's live run, with its chain's account and
/// region (None: the live run validated one chain).
pub(crate) type RecordedSpot = (
    Option<String>,
    Option<String>,
    crate::verify::model::BlindSpot,
);

#[derive(Debug, Clone)]
pub enum Place {
    /// A local copy: `DIR/<bucket>/<key>`; the bucket is in the selection.
    Local {
        dir: PathBuf,
        /// What DIR supplied unasked (keys, records), said in the report.
        notes: Vec<String>,
        /// The regions an acquired directory's live run validated.
        expected_regions: Vec<String>,
        /// What event history held for its blind spots.
        recorded_spots: Vec<RecordedSpot>,
        /// Its authenticated description says the trail delivers to the
        /// copy's bucket and prefix with validation on.
        delivers_here: bool,
    },
    /// S3 and the CloudTrail API through the standard AWS configuration.
    Live { path_style: bool, max_attempts: u32 },
}

/// What counts as a finding.
#[derive(Debug, Clone)]
pub struct Checks {
    pub allow_gaps: bool,
    /// Coverage narrowed by selector or trail changes is shown, not failed.
    pub allow_narrowing: bool,
    /// `--expect-selectors FILE`: the coverage the trail must keep.
    pub expected_coverage: Option<crate::verify::selectors::Settings>,
    /// `--cross-check-events`.
    pub cross_check: bool,
    pub grace: chrono::Duration,
    pub check_unreferenced: bool,
    pub max_log_bytes: u64,
    pub inflater: Inflater,
    /// `--require-protections`: what must be protected, else exit 3.
    pub require_protections: Vec<crate::verify::protections::ProtectionKind>,
    /// `--require-retention DAYS`.
    pub require_retention: Option<i32>,
}

/// Where the report goes and in which forms.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub format: Format,
    pub verbose: bool,
    pub quiet: bool,
    /// `--report-file` with `{shard}` already replaced; None: stdout.
    pub report: Option<Destination>,
    pub html: Option<Destination>,
    pub metrics: Option<Destination>,
    /// `--metrics -`: the metrics on stdout, after the report.
    pub metrics_stdout: bool,
    pub metrics_format: MetricsFormat,
    /// `--restore-plan`: the archived objects to restore.
    pub restore_plan: Option<Destination>,
    /// `--recover DIR`: the originals recovered from the bucket's versions.
    pub recover: Option<std::path::PathBuf>,
    /// `acquire`: keep AWS's raw answers for the package.
    pub keep_answers: bool,
    /// Where the verdict is announced beyond the files: alerts and
    /// Security Hub.
    pub deliveries: deliveries::Deliveries,
}

/// How the metrics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// Prometheus text exposition, for node_exporter's textfile collector.
    Prometheus,
    /// CloudWatch Embedded Metric Format, one JSON document a line.
    Emf,
}

/// What carries over between runs and machines.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub checkpoint: Option<Destination>,
    pub shard: Option<Shard>,
    /// Authenticates checkpoints, shard reports and acquired manifests.
    pub key: Option<std::sync::Arc<dyn crate::verify::state_key::StateKey>>,
    /// Shared by the shards of one run, so an old report cannot replay.
    pub run_id: Option<String>,
    /// `--signing-key`: signs every file the run writes.
    pub signer: Option<std::sync::Arc<crate::sources::signing::Signer>>,
    /// `--tsa-url`: time-stamps every file the run writes.
    pub tsa: Option<std::sync::Arc<crate::sources::tsa::Tsa>>,
}

/// How the run reaches AWS.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Objects in flight (64 against S3, 2 per core offline, unless given).
    pub concurrency: usize,
    pub read_timeout: Duration,
    pub profile: Option<String>,
    /// `--endpoint-url`, for every AWS service the run calls.
    pub endpoint_url: Option<String>,
}

impl Tuning {
    /// How this run reaches reports and checkpoints on S3.
    pub(crate) fn remote(&self) -> crate::sources::output::Remote<'_> {
        crate::sources::output::Remote {
            profile: self.profile.as_deref(),
            read_timeout: Some(self.read_timeout),
            endpoint_url: self.endpoint_url.as_deref(),
            signer: None,
            tsa: None,
        }
    }
}

impl ValidateRequest {
    /// How this run writes and reads its files: the tuning's reach, and
    /// the signing key every file written is signed with.
    pub(crate) fn remote(&self) -> crate::sources::output::Remote<'_> {
        crate::sources::output::Remote {
            signer: self.state.signer.as_deref(),
            tsa: self.state.tsa.as_deref(),
            ..self.tuning.remote()
        }
    }

    pub(crate) fn is_local(&self) -> bool {
        matches!(self.source.place, Place::Local { .. })
    }
}

/// The report's format on stdout or in `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The AWS CLI's lines (and an estate table).
    Text,
    Json,
    /// One JSON object per finding, as each chain is decided, then a summary line.
    Jsonl,
    /// The AWS CLI's text exactly (newest first, none of our own lines).
    AwsCli,
    /// OCSF Compliance Finding events, one a line.
    Ocsf,
    /// AWS Security Finding Format findings (a JSON array).
    Asff,
}

/// `trailproof merge`: shard reports into the report of the whole run.
#[derive(Clone)]
pub(crate) struct MergeRequest {
    pub reports: Vec<Destination>,
    /// What the shards must be of (`--trail-arn`, `--start-time`,
    /// `--end-time`), when given.
    pub trail_arn: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub outputs: Outputs,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Authenticates the shards' reports (all of run `run_id`).
    pub key: Option<std::sync::Arc<dyn crate::verify::state_key::StateKey>>,
    pub run_id: Option<String>,
    /// `--signing-key`: signs the merged files.
    pub signer: Option<std::sync::Arc<crate::sources::signing::Signer>>,
    /// `--tsa-url`: time-stamps them.
    pub tsa: Option<std::sync::Arc<crate::sources::tsa::Tsa>>,
}

impl MergeRequest {
    pub(crate) fn remote(&self) -> crate::sources::output::Remote<'_> {
        crate::sources::output::Remote {
            endpoint_url: self.endpoint_url.as_deref(),
            signer: self.signer.as_deref(),
            tsa: self.tsa.as_deref(),
            ..crate::sources::output::Remote::profile(self.profile.as_deref())
        }
    }
}

/// `trailproof keys`: ListPublicKeys for a region and span, as a keys file.
#[derive(Debug, Clone)]
pub(crate) struct KeysRequest {
    pub region: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// None: stdout.
    pub out: Option<std::path::PathBuf>,
}
