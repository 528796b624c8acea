//! Originals recovered from a versioned bucket: where the signed chain
//! expects an object that is gone or altered, an earlier version of the
//! same key is the original only if its bytes pass the check the current
//! ones failed (a digest's signature and links, a log's signed SHA-256).
//! Dates what happened to it from the versions that came after. Pure: the
//! engine lists and reads; this decides.

use crate::verify::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Most objects one chain tries to recover: past it, the rest are counted.
pub const MAX_RECOVERED: usize = 200;

/// Most versions of one key read before giving up on it.
pub const MAX_VERSIONS_READ: usize = 20;

/// One entry of a key's version listing (ListObjectVersions), exactly
/// that key's; a listing holds them in S3's order (versions newest first,
/// then delete markers newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub version_id: String,
    pub last_modified: Timestamp,
    pub delete_marker: bool,
    pub latest: bool,
}

/// Which object of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Digest,
    Log,
}

/// What the signed chain says the original was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The SHA-256 (hex) of the inflated log file its verified digest signs.
    Log { sha256: String },
    /// A digest: its signature as its verified successor names it (None:
    /// no verified successor).
    Digest { signature: Option<String> },
}

/// What happened to the original after it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Fate {
    /// A new version replaced it at `at`.
    Overwritten { at: Timestamp, by: String },
    /// A delete marker hid it at `at`.
    Deleted { at: Timestamp, by: String },
    /// It is still the latest version (it was read changed, or not found,
    /// and is back).
    Current,
}

/// Why no original was recovered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Lost {
    /// The bucket holds no earlier version of the key.
    NoEarlierVersion,
    /// Earlier versions exist; none of those tried is what the chain
    /// signed (`unreadable` of them could not be read, `untried` were past
    /// the cap or the listing's end).
    NoneMatches {
        tried: usize,
        unreadable: usize,
        untried: usize,
    },
    /// Listing the key's versions failed (not refused).
    Unreadable { detail: String },
}

/// The outcome for one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Recovered {
        version_id: String,
        last_modified: Timestamp,
        #[serde(flatten)]
        fate: Fate,
        /// The key's latest version (or delete marker) now.
        latest_version_id: Option<String>,
        /// SHA-256 (hex) of the original's bytes as stored.
        sha256: String,
        /// `--recover DIR` could not write it (the error).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_written: Option<String>,
    },
    NotRecovered(Lost),
}

/// One object the chain expected, and whether its original came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    pub bucket: String,
    pub key: String,
    pub object: ObjectKind,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Why no object's versions were looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Blocked {
    /// ListObjectVersions was refused (the error): the permissions to grant.
    Refused { detail: String },
    /// The store answered the listing with an error (no versions API).
    Unlistable { detail: String },
}

/// A chain's recovery: each object tried, and why some were not.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recovery {
    pub objects: Vec<Recovered>,
    /// Listing versions was refused or impossible: one line, for every
    /// object (counted in `not_tried`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
    /// Objects past [`MAX_RECOVERED`], not tried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_tried: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Recovery {
    /// (recovered, expected): how many originals came back of how many.
    pub fn tally(&self) -> (usize, usize) {
        let back = self
            .objects
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Recovered { .. }))
            .count();
        (back, self.objects.len() + self.not_tried)
    }
}

/// The versions worth reading, oldest first (CloudTrail writes an object
/// once; an attacker can add versions after it, never before): not delete
/// markers, not the latest (it is what was read and failed), at most
/// [`MAX_VERSIONS_READ`]. The count past the cap is the second value.
///
/// `not_before`: the time the key names (a digest's end, a log file's
/// delivery) less a few minutes; a version written earlier cannot be
/// CloudTrail's, so versions planted ahead of it cannot crowd it out.
pub fn candidates(listed: &[Listed], not_before: Option<Timestamp>) -> (Vec<&Listed>, usize) {
    // S3 lists a key's versions newest first: reversed, a tie within one
    // second (LastModified's resolution) stays in the order written.
    let mut out: Vec<&Listed> = listed
        .iter()
        .rev()
        .filter(|l| !l.delete_marker && !l.latest)
        .filter(|l| not_before.is_none_or(|t| l.last_modified >= t))
        .collect();
    out.sort_by_key(|l| l.last_modified);
    let past = out.len().saturating_sub(MAX_VERSIONS_READ);
    out.truncate(MAX_VERSIONS_READ);
    (out, past)
}

/// What came after `original` (the next newer entry of the key; within
/// one second, S3's LastModified resolution, the latest entry is last) and
/// the latest entry's id.
pub fn fate(listed: &[Listed], original: &Listed) -> (Fate, Option<String>) {
    // Within the original's second, only what S3 lists before it (its
    // versions newest first; delete markers apart) came after it.
    let at = listed
        .iter()
        .position(|l| l.version_id == original.version_id);
    let after_it = |(i, l): &(usize, &Listed)| {
        l.last_modified > original.last_modified
            || (l.last_modified == original.last_modified
                && (l.delete_marker || l.latest || at.is_some_and(|a| *i < a)))
    };
    let mut newer: Vec<&Listed> = listed
        .iter()
        .enumerate()
        .filter(|(_, l)| l.version_id != original.version_id)
        .filter(after_it)
        .map(|(_, l)| l)
        .rev()
        .collect();
    newer.sort_by_key(|l| (l.last_modified, l.latest));
    let latest = listed
        .iter()
        .find(|l| l.latest)
        .map(|l| l.version_id.clone());
    let fate = match newer.first() {
        None => Fate::Current,
        Some(n) if n.delete_marker => Fate::Deleted {
            at: n.last_modified,
            by: n.version_id.clone(),
        },
        Some(n) => Fate::Overwritten {
            at: n.last_modified,
            by: n.version_id.clone(),
        },
    };
    (fate, latest)
}

/// What a digest version says of itself, once its own signature verified.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub signature: &'a str,
    /// The predecessor it names (bucket, key) and that one's signature.
    pub previous: Option<(&'a str, &'a str)>,
    pub previous_signature: Option<&'a str>,
}

/// A digest version whose signature verified is the original only if it
/// links where its verified neighbours say: its successor names its
/// signature, and the predecessor it names, where verified
/// (`signature_of`), has the signature it names.
pub fn is_original_digest(
    signed: Signed<'_>,
    expected: &Expected,
    signature_of: &dyn Fn(&str, &str) -> Option<String>,
) -> bool {
    let Expected::Digest { signature } = expected else {
        return false;
    };
    let next_ok = signature
        .as_ref()
        .is_none_or(|s| s.eq_ignore_ascii_case(signed.signature));
    let back_ok = match signed.previous.and_then(|(b, k)| signature_of(b, k)) {
        None => true,
        Some(known) => signed
            .previous_signature
            .is_some_and(|s| s.eq_ignore_ascii_case(&known)),
    };
    next_ok && back_ok
}

/// A log version is the original only if its inflated SHA-256 is the
/// signed value.
pub fn is_original_log(inflated_sha256: &str, expected: &Expected) -> bool {
    matches!(expected, Expected::Log { sha256 } if sha256.eq_ignore_ascii_case(inflated_sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> Timestamp {
        crate::verify::time::parse_user_time(&format!("2026-03-0{h}T00:00:00Z")).unwrap()
    }

    fn l(id: &str, h: u32, marker: bool, latest: bool) -> Listed {
        Listed {
            version_id: id.into(),
            last_modified: at(h),
            delete_marker: marker,
            latest,
        }
    }

    #[test]
    fn the_latest_and_delete_markers_are_never_candidates() {
        let listed = [
            l("a", 1, false, false),
            l("b", 2, false, false),
            l("c", 3, true, true),
        ];
        let (tried, past) = candidates(&listed, None);
        let ids: Vec<&str> = tried.iter().map(|c| c.version_id.as_str()).collect();
        assert_eq!((ids, past), (vec!["a", "b"], 0), "oldest first");
        let listed = [l("a", 1, false, false), l("b", 2, false, true)];
        assert_eq!(candidates(&listed, None).0.len(), 1);
        let many: Vec<Listed> = (0..MAX_VERSIONS_READ + 3)
            .map(|i| l(&i.to_string(), 1, false, false))
            .collect();
        assert_eq!(candidates(&many, None).1, 3);
    }

    #[test]
    fn the_next_version_dates_what_happened() {
        let listed = [
            l("a", 1, false, false),
            l("m", 2, true, false),
            l("b", 3, false, true),
        ];
        let (f, latest) = fate(&listed, &listed[0]);
        assert_eq!(
            f,
            Fate::Deleted {
                at: at(2),
                by: "m".into()
            }
        );
        assert_eq!(latest.as_deref(), Some("b"));
        // Overwritten within the second it was written, then deleted.
        // (In S3's order: versions newest first, then delete markers.)
        let tied = [
            l("x", 1, false, false),
            l("a", 1, false, false),
            l("m", 2, true, true),
        ];
        let (f, _) = fate(&tied, &tied[1]);
        assert_eq!(
            f,
            Fate::Overwritten {
                at: at(1),
                by: "x".into()
            }
        );
        let (f, _) = fate(&listed, &listed[2]);
        assert_eq!(f, Fate::Current);
        let listed = [l("a", 1, false, false), l("b", 1, false, true)];
        let (f, _) = fate(&listed, &listed[0]);
        assert_eq!(
            f,
            Fate::Overwritten {
                at: at(1),
                by: "b".into()
            }
        );
    }

    #[test]
    fn a_digest_version_must_link_where_its_neighbours_say() {
        let e = Expected::Digest {
            signature: Some("AA".into()),
        };
        let signed = Signed {
            signature: "aa",
            previous: Some(("b", "p")),
            previous_signature: Some("cc"),
        };
        let known = |_: &str, _: &str| Some("CC".to_string());
        assert!(is_original_digest(signed, &e, &known));
        let other = |_: &str, _: &str| Some("dd".to_string());
        assert!(!is_original_digest(signed, &e, &other));
        let unknown = |_: &str, _: &str| None;
        assert!(is_original_digest(signed, &e, &unknown));
        let replaced = Expected::Digest {
            signature: Some("ab".into()),
        };
        assert!(!is_original_digest(signed, &replaced, &unknown));
    }

    #[test]
    fn an_older_version_of_the_same_second_is_no_overwrite() {
        let listed = [
            l("a", 1, false, false),
            l("y", 1, false, false),
            l("m", 2, true, true),
        ];
        let (f, _) = fate(&listed, &listed[0]);
        assert_eq!(
            f,
            Fate::Deleted {
                at: at(2),
                by: "m".into()
            }
        );
        // Versions planted before CloudTrail could write never crowd it out.
        let planted = [l("late", 3, false, false), l("early", 1, false, false)];
        let (tried, _) = candidates(&planted, Some(at(2)));
        assert_eq!(tried.len(), 1);
        assert_eq!(tried[0].version_id, "late");
    }

    #[test]
    fn a_log_version_must_hash_to_the_signed_value() {
        let e = Expected::Log {
            sha256: "AB".into(),
        };
        assert!(is_original_log("ab", &e));
        assert!(!is_original_log("ac", &e));
        let d = Expected::Digest { signature: None };
        assert!(!is_original_log("ab", &d));
    }
}
