//! The report model: one verdict per object, gaps, and a summary. Renderers
//! turn it into text or JSON; nothing here does I/O.

use crate::verify::time::Timestamp;
pub use crate::verify::unproven::Unproven;
use serde::{Deserialize, Serialize};

/// The outcome for one object. `Valid` only after its bytes were verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Invalid,
    /// Could not be verified (listed by a failed digest, or covered by no digest).
    Unverified,
}

/// Why an object is not valid. The names are the JSON `problem` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The object does not exist (deleted, or never delivered).
    NotFound,
    /// The store refused to read it.
    AccessDenied,
    /// Reading failed for another reason (network, I/O, unsafe key).
    ReadError,
    /// Signature missing, malformed or not matching.
    Signature,
    /// The digest names a different bucket/key than where it was found.
    Moved,
    /// Not gzip, not JSON, missing or mistyped fields.
    Format,
    /// No public key for its fingerprint, or signed outside the key's validity.
    PublicKey,
    /// Valid on its own, but not the digest its successor vouches for.
    ChainLink,
    /// A log file whose inflated bytes do not hash to the digest's value.
    HashMismatch,
    /// Bytes after the end of the gzip member.
    TrailingData,
    /// A log file that no digest references.
    Unreferenced,
    /// A log file listed only by digests that failed verification.
    DigestInvalid,
    /// An object in the trail's folders whose name CloudTrail never writes.
    UnexpectedObject,
    /// A log file delivered while CloudTrail wrote no digests (an explained
    /// gap, or the newest hour whose digest is not due yet): nothing can
    /// vouch for it, and nothing says it was tampered with.
    NoDigest,
    /// A digest signed with a key the operator's keys file lacks, at a time
    /// the file holds no key for (made before a rotation), or a log file
    /// listed only by such digests: not judged with this file.
    KeyNotInFile,
    /// In an archive storage class: not read, so neither verified nor
    /// refuted (not proven, never tampering).
    Archived,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::NotFound => "not_found",
            Problem::AccessDenied => "access_denied",
            Problem::ReadError => "read_error",
            Problem::Signature => "signature",
            Problem::Moved => "moved",
            Problem::Format => "format",
            Problem::PublicKey => "public_key",
            Problem::ChainLink => "chain_link",
            Problem::HashMismatch => "hash_mismatch",
            Problem::TrailingData => "trailing_data",
            Problem::Unreferenced => "unreferenced",
            Problem::DigestInvalid => "digest_invalid",
            Problem::UnexpectedObject => "unexpected_object",
            Problem::NoDigest => "no_digest",
            Problem::KeyNotInFile => "key_not_in_file",
            Problem::Archived => "archived",
        }
    }

    /// Every problem name, for documentation and tests.
    pub const ALL: [Problem; 16] = [
        Problem::NotFound,
        Problem::AccessDenied,
        Problem::ReadError,
        Problem::Signature,
        Problem::Moved,
        Problem::Format,
        Problem::PublicKey,
        Problem::ChainLink,
        Problem::HashMismatch,
        Problem::TrailingData,
        Problem::Unreferenced,
        Problem::DigestInvalid,
        Problem::UnexpectedObject,
        Problem::NoDigest,
        Problem::KeyNotInFile,
        Problem::Archived,
    ];
}

/// A finding that is not `valid`: the machine-readable problem, the reason
/// as the AWS CLI words it (text output prints it after `INVALID: `), and
/// optional detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub problem: Problem,
    pub reason: String,
    pub detail: Option<String>,
}

impl Finding {
    pub fn new(problem: Problem, reason: impl Into<String>) -> Self {
        Finding {
            problem,
            reason: reason.into(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The verdict on one digest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestVerdict {
    pub bucket: String,
    pub key: String,
    pub backfill: bool,
    pub status: Status,
    pub finding: Option<Finding>,
    /// The digest's window, when it could be read.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// Not listed in the bucket: discovered through a successor's pointer or
    /// inferred from the chain's timing.
    pub discovered: bool,
    /// The predecessor a verified digest vouches for (bucket, key): what a
    /// merge of time slices checks across the cut.
    pub previous: Option<(String, String)>,
    /// The public key fingerprint a verified digest's signature checked
    /// against (the report says which keys the proof rests on).
    pub fingerprint: Option<String>,
}

/// The verdict on one log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerdict {
    pub bucket: String,
    pub key: String,
    pub status: Status,
    pub finding: Option<Finding>,
    /// The digest that lists it (the first verified one), if any.
    pub digest_key: Option<String>,
    /// The events it holds, as its digest states them (oldestEventTime,
    /// newestEventTime): which events a finding on it affects.
    pub oldest_event: Option<Timestamp>,
    pub newest_event: Option<Timestamp>,
}

/// The verdict on an object whose name CloudTrail never writes, found in
/// the trail's digest or log folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVerdict {
    pub bucket: String,
    pub key: String,
    pub finding: Finding,
}

/// A span of the requested window whose events cannot be trusted, with
/// every reason that applies to some part of it (merged, sorted by start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    pub start: Timestamp,
    pub end: Timestamp,
    pub reasons: Vec<Reason>,
}

/// Why a span of the window cannot be trusted (JSON `untrusted[].reasons`,
/// in this order, which is their names' alphabetical order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The trail recorded less (its selectors or settings narrowed).
    CoverageNarrowed,
    DigestInvalid,
    DigestMissing,
    /// Logging or validation was off, as CloudTrail's records say.
    ExplainedGap,
    InvalidLogFile,
    /// The digest covering it is not due yet.
    NotYetDelivered,
    UnexplainedGap,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::CoverageNarrowed,
        Reason::DigestInvalid,
        Reason::DigestMissing,
        Reason::ExplainedGap,
        Reason::InvalidLogFile,
        Reason::NotYetDelivered,
        Reason::UnexplainedGap,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CoverageNarrowed => "coverage_narrowed",
            Reason::DigestInvalid => "digest_invalid",
            Reason::DigestMissing => "digest_missing",
            Reason::ExplainedGap => "explained_gap",
            Reason::InvalidLogFile => "invalid_log_file",
            Reason::NotYetDelivered => "not_yet_delivered",
            Reason::UnexplainedGap => "unexplained_gap",
        }
    }

    /// The reason of this JSON name, if this version knows it.
    pub fn named(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Merges overlapping or touching spans, keeping every reason once.
pub(crate) fn merge_untrusted(mut spans: Vec<Untrusted>) -> Vec<Untrusted> {
    spans.retain(|s| s.start < s.end);
    spans.sort_by_key(|s| (s.start, s.end));
    let mut out: Vec<Untrusted> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => {
                last.end = last.end.max(s.end);
                for r in s.reasons {
                    if !last.reasons.contains(&r) {
                        last.reasons.push(r);
                    }
                }
            }
            _ => out.push(s),
        }
    }
    for s in &mut out {
        s.reasons.sort_unstable();
    }
    out
}

/// Why a stretch of time has no digests, when something could tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// End of the last digest before the gap.
    pub start: Timestamp,
    /// Start of the digest that restarts the chain (or the requested end).
    pub end: Timestamp,
    pub backfill: bool,
    /// `validation_disabled`, `logging_stopped`, `trail_deleted`, ... or None when unknown.
    pub cause: Option<String>,
    /// Whether a chain restart (null previous pointers) marks it, as opposed
    /// to digests simply ending before the requested end.
    pub kind: GapKind,
    /// CloudTrail's own records say why (a stop in the hour before the gap,
    /// a restart before its end): such a gap does not fail the run.
    pub explained: bool,
    /// The records that explain it, for people (event, time, where found).
    pub evidence: Option<String>,
    /// Who made the calls that explain it (the stop, then the restart).
    pub by: Vec<crate::verify::actor::Actor>,
}

impl Gap {
    pub fn new(start: Timestamp, end: Timestamp, backfill: bool, kind: GapKind) -> Gap {
        Gap {
            start,
            end,
            backfill,
            cause: None,
            kind,
            explained: false,
            evidence: None,
            by: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// A digest restarted the chain while older digests exist.
    ChainRestart,
    /// No digest after this point up to the requested end (truncated tail,
    /// or the trail stopped).
    NoLaterDigest,
    /// No digest between the requested start and the first digest, which
    /// starts a chain (the trail was created, or restarted, inside the window).
    BeforeFirstDigest,
}

/// The order in which the AWS CLI would print things: digest lines, the
/// log lines of each digest, and gap lines between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Digest(usize),
    Log(usize),
    Gap(usize),
    Unexpected(usize),
}

/// Counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub valid: usize,
    pub invalid: usize,
    pub unverified: usize,
}

impl Counts {
    fn add(&mut self, s: Status) {
        self.total += 1;
        match s {
            Status::Valid => self.valid += 1,
            Status::Invalid => self.invalid += 1,
            Status::Unverified => self.unverified += 1,
        }
    }

    /// Adds another chain's counts.
    pub fn merge(&mut self, o: &Counts) {
        self.total += o.total;
        self.valid += o.valid;
        self.invalid += o.invalid;
        self.unverified += o.unverified;
    }

    /// Everything that is not valid (the AWS CLI's INVALID count).
    pub fn not_valid(&self) -> usize {
        self.invalid + self.unverified
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub digests: Counts,
    pub backfill_digests: Counts,
    pub logs: Counts,
    pub gaps: usize,
    pub unexplained_gaps: usize,
    pub unexpected_objects: usize,
}

/// What a run (or one chain of it) proves, worst last: the worst verdict of
/// an estate is its `max`. Words live in the renderers; the exit status in
/// [`Verdict::exit_code`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Every instant of the window is covered by verified digests or by a
    /// gap CloudTrail explains, and every object has a verdict.
    Proven,
    /// Nothing tampered was found, but coverage is not proven.
    NotProven,
    /// Evidence of tampering.
    Tampered,
    /// The run could not be done (a usage or operational error).
    NotRun,
}

impl Verdict {
    /// The process exit status (README: Exit status).
    pub const fn exit_code(self) -> i32 {
        match self {
            Verdict::Proven => exit::PROVEN,
            Verdict::NotProven => exit::UNPROVEN,
            Verdict::Tampered => exit::TAMPERED,
            Verdict::NotRun => exit::ERROR,
        }
    }

    /// The worst of `verdicts`; proven when there are none.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Proven)
    }
}

/// The exit statuses, as [`Verdict::exit_code`] maps verdicts to them.
pub mod exit {
    /// Every instant of the window is covered by verified digests or by a
    /// gap CloudTrail explains, and every object has a verdict.
    pub const PROVEN: i32 = 0;
    /// Evidence of tampering.
    pub const TAMPERED: i32 = 1;
    /// Usage or operational error.
    pub(crate) const ERROR: i32 = 2;
    /// Nothing tampered was found, but coverage is not proven.
    pub(crate) const UNPROVEN: i32 = 3;
}

/// A span the trail did not record (logging or validation off, coverage
/// narrowed, a gap nothing explains), with what CloudTrail's event history
/// (LookupEvents: 90 days of management events, independent of any trail)
/// holds for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlindSpot {
    /// A span the trail did not record, or (`--cross-check-events`) the
    /// write events event history holds that no verified log contains.
    #[serde(default)]
    pub kind: SpotKind,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Why the trail did not record it.
    pub why: String,
    /// The write events event history holds, oldest first; None when it
    /// could not be asked (offline, older than 90 days, no permission).
    pub events: Option<Vec<HistoryEvent>>,
    /// Why there are no events, or that the list was cut.
    pub note: Option<String>,
}

/// What a [`BlindSpot`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotKind {
    /// What happened while the trail did not record (a gap, a narrowing).
    #[default]
    BlindSpot,
    /// Write events of a proven span that the trail's verified logs lack.
    NotRecorded,
}

/// One management event from CloudTrail's event history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// CloudTrail's eventID: the same in event history and in log files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub time: Timestamp,
    pub name: String,
    pub source: Option<String>,
    pub actor: Option<String>,
    pub source_ip: Option<String>,
    pub resources: Vec<String>,
}

/// Everything a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub trail_arn: String,
    pub requested_start: Timestamp,
    pub requested_end: Timestamp,
    /// The span the valid digests cover, clipped to the request (AWS CLI semantics).
    pub found: Option<(Timestamp, Timestamp)>,
    pub digests: Vec<DigestVerdict>,
    pub logs: Vec<LogVerdict>,
    pub gaps: Vec<Gap>,
    /// Print order for the text renderer.
    pub entries: Vec<Entry>,
    /// Run-level remarks (e.g. "log file validation is disabled for this trail").
    pub notes: Vec<String>,
    /// Objects whose names CloudTrail never writes, in the trail's folders.
    pub unexpected: Vec<ObjectVerdict>,
    /// Merged spans of the window whose events cannot be trusted.
    pub untrusted: Vec<Untrusted>,
    /// Why coverage is not proven although nothing was found tampered
    /// (e.g. no digest at all where the trail should have written some).
    pub unproven: Vec<Unproven>,
    /// `--allow-gaps`: unexplained gaps do not change the status (AWS CLI behaviour).
    pub allow_gaps: bool,
    /// The newest verified standard digest (what a checkpoint records).
    pub newest: Option<NewestDigest>,
    /// What event history holds for the spans the trail did not record.
    pub blind_spots: Vec<BlindSpot>,
    /// The home chain's coverage changes, as its verified logs hold them:
    /// merge gives them to the chains of other shards (a call is recorded
    /// once).
    /// None: not the home chain, or not every file could be read.
    pub coverage_changes: Option<Vec<crate::verify::selectors::CoverageChange>>,
    /// The home chain's lifecycle calls (StopLogging, StartLogging, ...) as
    /// its verified logs hold them: a stop is recorded once and stops every
    /// chain, so merge explains the other shards' gaps with them.
    pub lifecycle_calls: Option<Vec<crate::verify::lifecycle::LifecycleEvent>>,
    /// `--allow-narrowing` was given.
    pub allow_narrowing: bool,
    /// The trail's bucket's protections (live runs).
    pub protections: Option<Vec<crate::verify::protections::Protection>>,
    /// Originals recovered from the bucket's versions (live runs where
    /// something failed).
    pub recovery: Option<crate::verify::recovery::Recovery>,
    /// Calls on the trail's bucket, key and trail, oldest first.
    pub bucket_calls: Vec<crate::verify::bucket_calls::BucketCall>,
    /// Calls of kinds already listed five times at each end, not listed.
    pub bucket_calls_left_out: usize,
    /// Narrowed spans `--allow-narrowing` shows without failing.
    pub narrowing_shown: Vec<Unproven>,
    /// A chain outside the home chain could not read the trail's
    /// configuration calls, and why: a merge that holds the home chain's
    /// report gives them to it.
    pub home_calls_unread: Option<String>,
    /// `--expect-selectors`: the baseline the chain was held to (merge
    /// holds the other shards' chains to it too).
    pub expected_coverage: Option<crate::verify::selectors::Settings>,
    /// A checkpointed night: the part of the requested window this run
    /// did not read again.
    pub relied_on: Option<ReliedOn>,
}

/// The part of the requested window before a checkpointed chain's
/// resume point: proven by the run that wrote the checkpoint, not read
/// again by this one (the report shows both, so the whole window is
/// accounted for).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReliedOn {
    /// The requested window's start.
    pub from: Timestamp,
    /// Where this run resumed (the recorded digest's end time).
    pub until: Timestamp,
    /// When the run that wrote the checkpoint finished.
    pub checkpoint_written: String,
    /// The recorded digest, `s3://bucket/key`.
    pub digest: String,
    /// Whether the operator's key vouches for the checkpoint (without it,
    /// whoever can write the checkpoint chooses this span).
    #[serde(default)]
    pub authenticated: bool,
}

/// The newest verified digest of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestDigest {
    pub bucket: String,
    pub key: String,
    pub end: Timestamp,
    pub signature: String,
    pub sha256: String,
}

/// What scheduled runs keep of a chain's report: enough for the checkpoint
/// and the metrics, whatever the output format dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSummary {
    pub account: String,
    pub region: String,
    pub exit_code: i32,
    /// Neither tampered nor unproven, whatever --allow-gaps made of it.
    pub strictly_proven: bool,
    pub newest: Option<NewestDigest>,
    pub counts: Summary,
    pub gaps_explained: usize,
    pub gaps_unexplained: usize,
    pub untrusted_seconds: i64,
    /// The fingerprints of the keys its verified digests were signed with.
    pub fingerprints: Vec<String>,
    /// Its bucket's protections (live runs).
    pub protections: Vec<crate::verify::protections::Protection>,
}

#[cfg(test)]
impl ChainSummary {
    /// A tampered chain with two unexplained gaps and an untrusted hour,
    /// nothing verified: what the metrics renderers' tests read.
    pub(crate) fn tampered_example(account: &str, region: &str) -> ChainSummary {
        ChainSummary {
            account: account.into(),
            region: region.into(),
            exit_code: 1,
            strictly_proven: false,
            newest: None,
            counts: Summary::default(),
            gaps_explained: 0,
            gaps_unexplained: 2,
            untrusted_seconds: 3600,
            fingerprints: Vec::new(),
            protections: Vec::new(),
        }
    }
}

/// Where a report comes from: what an auditor needs to reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// `trailproof <version>`.
    pub tool: String,
    pub generated_at: String,
    /// What was read: `s3://bucket/prefix`, a local copy, or shard reports.
    pub source: String,
    /// Where the public keys came from.
    pub public_keys: String,
    /// The fingerprints of the keys the verified digests were signed with.
    pub key_fingerprints: Vec<String>,
    /// The checkpoint in effect and what it means for the window (None:
    /// every chain was read from the requested start).
    pub checkpoint: Option<String>,
    /// What authenticates checkpoints, shard reports and acquired
    /// directories (None: nothing does).
    pub state_key: Option<String>,
    /// `--signing-key`: the SHA-256 of the signer's public key
    /// (SubjectPublicKeyInfo DER), whose signature every file written
    /// carries in FILE.sig.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// `--tsa-url`: the RFC 3161 authority that time-stamped every file
    /// written (FILE.tsr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_authority: Option<String>,
    /// Who ran it: the ARN of the live run's credentials (STS
    /// GetCallerIdentity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// The command line the run was given, word by word.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The machine it ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Every input file besides the trail, with its SHA-256 as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Input>,
}

/// One input file a report rests on.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Input {
    /// The flag that named it (`--public-keys`, `--checkpoint`, ...).
    pub flag: String,
    pub path: String,
    /// None: it could not be read when the report was written.
    pub sha256: Option<String>,
}

impl Provenance {
    /// The sorted, distinct fingerprints of `summaries`.
    pub(crate) fn fingerprints_of<'a>(
        summaries: impl IntoIterator<Item = &'a ChainSummary>,
    ) -> Vec<String> {
        let mut all: Vec<String> = summaries
            .into_iter()
            .flat_map(|s| s.fingerprints.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

impl Report {
    /// A report of a window nothing was found in yet.
    pub fn empty(trail_arn: &str, start: Timestamp, end: Timestamp) -> Report {
        Report {
            trail_arn: trail_arn.to_string(),
            requested_start: start,
            requested_end: end,
            found: None,
            digests: Vec::new(),
            logs: Vec::new(),
            gaps: Vec::new(),
            entries: Vec::new(),
            notes: Vec::new(),
            unexpected: Vec::new(),
            untrusted: Vec::new(),
            unproven: Vec::new(),
            allow_gaps: false,
            newest: None,
            blind_spots: Vec::new(),
            coverage_changes: None,
            lifecycle_calls: None,
            allow_narrowing: false,
            narrowing_shown: Vec::new(),
            protections: None,
            recovery: None,
            bucket_calls: Vec::new(),
            bucket_calls_left_out: 0,
            home_calls_unread: None,
            expected_coverage: None,
            relied_on: None,
        }
    }

    pub(crate) fn chain_summary(&self, account: &str, region: &str) -> ChainSummary {
        ChainSummary {
            account: account.to_string(),
            region: region.to_string(),
            exit_code: self.exit_code(),
            strictly_proven: !self.tampered() && !self.coverage_unproven(),
            newest: self.newest.clone(),
            counts: self.summary(),
            gaps_explained: self.gaps.iter().filter(|g| g.explained).count(),
            gaps_unexplained: self.gaps.iter().filter(|g| g.unexplained()).count(),
            untrusted_seconds: self
                .untrusted
                .iter()
                .map(|u| (u.end - u.start).num_seconds())
                .sum(),
            fingerprints: {
                let mut f: Vec<String> = self
                    .digests
                    .iter()
                    .filter(|d| d.status == Status::Valid)
                    .filter_map(|d| d.fingerprint.clone())
                    .collect();
                f.sort();
                f.dedup();
                f
            },
            protections: self.protections.clone().unwrap_or_default(),
        }
    }
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            gaps: self.gaps.len(),
            unexplained_gaps: self.gaps.iter().filter(|g| g.unexplained()).count(),
            unexpected_objects: self.unexpected.len(),
            ..Summary::default()
        };
        for d in &self.digests {
            if d.backfill {
                s.backfill_digests.add(d.status);
            } else {
                s.digests.add(d.status);
            }
        }
        for l in &self.logs {
            s.logs.add(l.status);
        }
        s
    }

    /// True when every object in range was verified.
    pub(crate) fn all_valid(&self) -> bool {
        self.digests.iter().all(|d| d.status == Status::Valid)
            && self.logs.iter().all(|l| l.status == Status::Valid)
            && self.unexpected.is_empty()
    }

    /// Evidence of tampering: any object not verified, except log files that
    /// no digest could cover because CloudTrail itself wrote none then.
    pub fn tampered(&self) -> bool {
        self.tampering().next().is_some()
    }

    /// The objects that make the chain tampered: each one's problem (None
    /// when it has no finding) and whether it is a digest. A log file
    /// delivered while no digest was written is not one.
    pub fn tampering(&self) -> impl Iterator<Item = (Option<Problem>, bool)> + '_ {
        let problem = |f: &Option<Finding>| f.as_ref().map(|f| f.problem);
        let digests = self
            .digests
            .iter()
            .filter(|d| d.status != Status::Valid)
            .map(move |d| (problem(&d.finding), true));
        let logs = self
            .logs
            .iter()
            .filter(|l| l.status != Status::Valid)
            .map(move |l| (problem(&l.finding), false))
            .filter(|(p, _)| *p != Some(Problem::NoDigest));
        let judged = |(p, _): &(Option<Problem>, bool)| {
            !matches!(p, Some(Problem::KeyNotInFile | Problem::Archived))
        };
        let (digests, logs) = (digests.filter(judged), logs.filter(judged));
        let objects = self
            .unexpected
            .iter()
            .map(|o| (Some(o.finding.problem), false));
        digests.chain(logs).chain(objects)
    }

    /// The trail recorded less in some span (only --allow-narrowing, which
    /// turns these lines into notes, passes them; --allow-gaps does not).
    pub fn narrowed(&self) -> bool {
        self.unproven.iter().any(Unproven::is_narrowing)
    }

    /// The objects in an archive storage class, not read: restored, they
    /// would be judged. Not a gap, so `--allow-gaps` does not pass them.
    pub fn archived(&self) -> usize {
        let archived =
            |f: &Option<Finding>| f.as_ref().is_some_and(|f| f.problem == Problem::Archived);
        let digests = self.digests.iter().filter(|d| archived(&d.finding)).count();
        digests + self.logs.iter().filter(|l| archived(&l.finding)).count()
    }

    /// Some digest could not be judged with the operator's keys file: not
    /// a gap CloudTrail explains, so `--allow-gaps` does not pass it.
    pub(crate) fn unjudged(&self) -> bool {
        let unjudged = |f: &Option<Finding>| {
            f.as_ref()
                .is_some_and(|f| f.problem == Problem::KeyNotInFile)
        };
        self.digests.iter().any(|d| unjudged(&d.finding))
    }

    /// Coverage of the window is not proven (an unexplained gap, an overdue
    /// tail, nothing found where the trail should have written something).
    pub(crate) fn coverage_unproven(&self) -> bool {
        // A protection the operator requires is no coverage: the window
        // is proven (a checkpoint advances), the run still fails on it.
        let coverage = self.unproven.iter().filter(|u| !u.required());
        self.gaps.iter().any(Gap::unexplained) || coverage.count() > 0
    }

    /// The process exit status (README: Exit status).
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }

    /// What the chain proves.
    pub fn verdict(&self) -> Verdict {
        if self.tampered() {
            Verdict::Tampered
        } else if (self.coverage_unproven() && !self.allow_gaps)
            || self.narrowed()
            || self.unjudged()
            || self.archived() > 0
            || self.unproven.iter().any(Unproven::required)
        {
            Verdict::NotProven
        } else {
            Verdict::Proven
        }
    }
}

impl Gap {
    /// A standard-chain gap nothing explains. Backfill chains have no
    /// schedule, so their gaps prove nothing either way.
    pub fn unexplained(&self) -> bool {
        !self.explained && !self.backfill
    }
}

/// One chain of an estate run and its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub account: String,
    pub region: String,
    /// Why the chain was validated although nothing of it was found.
    pub expected_because: Option<String>,
    /// The part of the window a shard validated; None: all of it.
    pub slice: Option<(Timestamp, Timestamp)>,
    pub report: Report,
}

/// A chain's verdict by name: the text table, the HTML page and the JSON
/// Lines chain line all call a chain by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainStatus {
    Tampered,
    /// Expected, and nothing of it was found.
    Missing,
    Unproven,
    /// Coverage not proven, passed by --allow-gaps.
    UnprovenAllowed,
    Proven,
}

impl ChainReport {
    /// Expected, yet not one digest or log file of it was found.
    pub fn missing(&self) -> bool {
        self.expected_because.is_some()
            && self.report.digests.is_empty()
            && self.report.logs.is_empty()
    }

    pub fn status(&self) -> ChainStatus {
        ChainStatus::of(&self.report, self.missing())
    }
}

impl ChainStatus {
    /// `missing`: expected, and nothing of it was found.
    pub fn of(report: &Report, missing: bool) -> ChainStatus {
        match report.verdict() {
            Verdict::Tampered | Verdict::NotRun => ChainStatus::Tampered,
            Verdict::NotProven if missing => ChainStatus::Missing,
            Verdict::NotProven => ChainStatus::Unproven,
            Verdict::Proven if report.coverage_unproven() => ChainStatus::UnprovenAllowed,
            Verdict::Proven => ChainStatus::Proven,
        }
    }
}

/// Which share of a sharded run a report holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    /// Names trail, window, selection, options and every unit (see `shard.rs`).
    pub fingerprint: String,
    /// What was selected and how (accounts, regions, prefix, options): part
    /// of the fingerprint, so the merge can recompute it.
    pub selection: String,
    /// Every unit of the whole run, so the merge can check that each shard
    /// holds exactly its share and the slices tile the window.
    pub units: Vec<crate::verify::shard::Unit>,
}

/// Every chain of an estate run (accounts x delivering regions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstateReport {
    pub trail_arn: String,
    pub requested_start: Timestamp,
    pub requested_end: Timestamp,
    /// Sorted by account, then region.
    pub chains: Vec<ChainReport>,
    /// Run-level remarks (e.g. accounts that could not be listed).
    pub notes: Vec<String>,
    /// Set on one shard's report; None on a whole (or merged) run.
    pub shard: Option<ShardInfo>,
}

impl EstateReport {
    /// The worst over all chains: tampering, then unproven coverage.
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }

    pub fn verdict(&self) -> Verdict {
        Verdict::worst(self.chains.iter().map(|c| c.report.verdict()))
    }
}

/// The AWS CLI's "Results found" span: valid digests, clipped to the request.
pub(crate) fn found_range(
    digests: &[DigestVerdict],
    start: Timestamp,
    end: Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    let mut out: Option<(Timestamp, Timestamp)> = None;
    for d in digests.iter().filter(|d| d.status == Status::Valid) {
        let (Some(s), Some(e)) = (d.start, d.end) else {
            continue;
        };
        let (s, e) = (s.max(start), e.min(end));
        if s > e {
            continue;
        }
        out = Some(match out {
            None => (s, e),
            Some((s0, e0)) => (s0.min(s), e0.max(e)),
        });
    }
    out
}

/// By account, region, then slice.
pub(crate) fn sort_chains(chains: &mut [ChainReport]) {
    chains.sort_by(|a, b| {
        (&a.account, &a.region, a.slice.map(|s| s.0)).cmp(&(
            &b.account,
            &b.region,
            b.slice.map(|s| s.0),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::Verdict;

    #[test]
    fn the_worst_verdict_decides_and_maps_to_one_exit_status() {
        use Verdict::*;
        assert_eq!(Verdict::worst([Proven, NotProven, Proven]), NotProven);
        assert_eq!(Verdict::worst([NotProven, Tampered]), Tampered);
        assert_eq!(Verdict::worst([]), Proven);
        let codes: Vec<i32> = [Proven, Tampered, NotRun, NotProven]
            .iter()
            .map(|v| v.exit_code())
            .collect();
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
