//! The report model: one verdict per object, gaps, and a summary. Renderers
//! turn it into text or JSON; nothing here does I/O.

use crate::timefmt::Timestamp;
use serde::Serialize;

/// The outcome for one object. `Valid` only after its bytes were verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Invalid,
    /// Could not be verified (listed by a failed digest, or covered by no digest).
    Unverified,
}

/// Why an object is not valid. The names are the JSON `problem` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
        }
    }

    /// Every problem name, for documentation and tests.
    pub const ALL: [Problem; 12] = [
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// A digest restarted the chain while older digests exist.
    ChainRestart,
    /// No digest after this point up to the requested end (truncated tail,
    /// or the trail stopped).
    NoLaterDigest,
}

/// The order in which the AWS CLI would print things: digest lines, the
/// log lines of each digest, and gap lines between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Digest(usize),
    Log(usize),
    Gap(usize),
}

/// Counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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

    /// Everything that is not valid (the AWS CLI's INVALID count).
    pub fn not_valid(&self) -> usize {
        self.invalid + self.unverified
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub digests: Counts,
    pub backfill_digests: Counts,
    pub logs: Counts,
    pub gaps: usize,
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
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            gaps: self.gaps.len(),
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

    /// True when every object in range was verified (gaps alone do not fail).
    pub fn all_valid(&self) -> bool {
        self.digests.iter().all(|d| d.status == Status::Valid)
            && self.logs.iter().all(|l| l.status == Status::Valid)
    }

    /// The process exit status for this report: 0 all verified, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.all_valid() {
            0
        } else {
            1
        }
    }
}
