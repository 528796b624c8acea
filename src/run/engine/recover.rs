//! Phase 7 (live): where an object the signed chain expects is gone or
//! altered, its original from the bucket's versions, dated. The verdict
//! does not change (the bucket was tampered with); the report says what
//! can be given back and when it was taken.

use super::logs::LogBook;
use super::walk::{check_raw, Raw};
use super::Engine;
use crate::plan::Plan;
use crate::sources::store::StoreError;
use crate::verify::chain::{Node, NodeState};
use crate::verify::digest_check::DigestCheck;
use crate::verify::model::{Problem, Report, Status};
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::recovery::{
    self, Blocked, Expected, Listed, Lost, ObjectKind, Outcome, Recovered,
};
use futures::StreamExt;

/// Largest digest version read to try it (compressed; real ones are a
/// few kilobytes).
const MAX_DIGEST_VERSION: u64 = 16 * 1024 * 1024;
/// Largest log file version read whole to try it (compressed).
const MAX_LOG_VERSION: u64 = 64 * 1024 * 1024;
/// Keys whose versions are listed and read at once: at most this many
/// versions are held in memory.
const IN_FLIGHT: usize = 4;

/// One object to recover.
struct Wanted {
    bucket: String,
    key: String,
    object: ObjectKind,
    expected: Expected,
}

/// The chains' digests, to judge a candidate's links.
pub(super) struct Neighbours<'a> {
    pub nodes: [&'a [Node]; 2],
}

impl Neighbours<'_> {
    fn verified(&self) -> impl Iterator<Item = &crate::verify::digest_check::VerifiedDigest> {
        self.nodes
            .iter()
            .flat_map(|n| n.iter())
            .filter_map(Node::verified)
    }

    /// The signature a verified successor says `key`'s digest had.
    fn successor_says(&self, bucket: &str, key: &str) -> Option<String> {
        self.verified()
            .find(|v| {
                v.digest
                    .previous
                    .as_ref()
                    .is_some_and(|p| p.bucket == bucket && p.key == key)
            })
            .and_then(|v| v.digest.previous_signature.as_deref().map(str::to_string))
    }

    /// The signature of the verified digest at (bucket, key).
    fn signature_of(&self, bucket: &str, key: &str) -> Option<String> {
        self.verified()
            .find(|v| v.digest.bucket == bucket && v.digest.key == key)
            .map(|v| v.signature_hex.clone())
    }
}

/// What a digest failed with that its versions may undo.
fn lost_digest(p: Problem) -> bool {
    matches!(
        p,
        Problem::NotFound
            | Problem::Signature
            | Problem::Format
            | Problem::TrailingData
            | Problem::Moved
    )
}

fn lost_log(p: Problem) -> bool {
    matches!(
        p,
        Problem::NotFound | Problem::HashMismatch | Problem::TrailingData | Problem::Format
    )
}

/// Every object the chain expected that failed, with what its original was.
fn wanted(report: &Report, book: &LogBook, near: &Neighbours<'_>) -> Vec<Wanted> {
    let failed =
        |status: Status, f: Option<&crate::verify::model::Finding>, lost: fn(Problem) -> bool| {
            status == Status::Invalid && f.is_some_and(|f| lost(f.problem))
        };
    let digests = report
        .digests
        .iter()
        .filter(|d| failed(d.status, d.finding.as_ref(), lost_digest))
        .map(|d| Wanted {
            bucket: d.bucket.clone(),
            key: d.key.clone(),
            object: ObjectKind::Digest,
            expected: Expected::Digest {
                signature: near.successor_says(&d.bucket, &d.key),
            },
        });
    let logs = report
        .logs
        .iter()
        .filter(|l| failed(l.status, l.finding.as_ref(), lost_log))
        .filter_map(|l| {
            let plan = &book.plans[*book.index.get(&(l.bucket.clone(), l.key.clone()))?];
            let (sha256, _) = plan.expected.first()?;
            // Digests that sign different values: no version can be both.
            plan.expected
                .iter()
                .all(|(h, _)| h == sha256)
                .then_some(())?;
            Some(Wanted {
                bucket: l.bucket.clone(),
                key: l.key.clone(),
                object: ObjectKind::Log,
                expected: Expected::Log {
                    sha256: sha256.clone(),
                },
            })
        });
    digests.chain(logs).collect()
}

impl Engine {
    /// Tries every failed object's versions; None when the store keeps no
    /// versions (a local copy) or nothing failed.
    pub(super) async fn recover(
        &self,
        plan: &Plan,
        report: &Report,
        book: &LogBook,
        near: &Neighbours<'_>,
        keys: &PublicKeySet,
    ) -> Option<recovery::Recovery> {
        let mut all = wanted(report, book, near);
        let first = all.first()?;
        // One listing says whether versions can be read at all: a copy
        // keeps none, and a refusal or a server without them is one line.
        // One key's own trouble (a listing cut by versions piled on it) is
        // that key's, never the run's.
        let blocked = match self.store.versions(&first.bucket, &first.key).await {
            Ok(None) => return None,
            Ok(Some(_)) | Err(StoreError::ListingCut(_)) => None,
            Err(e) => Some(blocked(&e)),
        };
        let mut out = recovery::Recovery {
            not_tried: all.len().saturating_sub(recovery::MAX_RECOVERED),
            ..Default::default()
        };
        if let Some(b) = blocked {
            out.not_tried = all.len();
            out.blocked = Some(b);
            return Some(out);
        }
        all.truncate(recovery::MAX_RECOVERED);
        let tried: Vec<Result<Recovered, Blocked>> = futures::stream::iter(&all)
            .map(|w| self.recover_one(plan, w, near, keys))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for t in tried {
            match t {
                Ok(r) => out.objects.push(r),
                Err(b) => {
                    out.not_tried += 1;
                    out.blocked.get_or_insert(b);
                }
            }
        }
        Some(out)
    }

    async fn recover_one(
        &self,
        plan: &Plan,
        w: &Wanted,
        near: &Neighbours<'_>,
        keys: &PublicKeySet,
    ) -> Result<Recovered, Blocked> {
        let done = |outcome| Recovered {
            bucket: w.bucket.clone(),
            key: w.key.clone(),
            object: w.object,
            outcome,
        };
        let listed = match self.store.versions(&w.bucket, &w.key).await {
            Ok(l) => l.unwrap_or_default(),
            Err(e @ (StoreError::AccessDenied(_) | StoreError::Credentials(_))) => {
                return Err(blocked(&e))
            }
            Err(e) => {
                let detail = e.to_string();
                return Ok(done(Outcome::NotRecovered(Lost::Unreadable { detail })));
            }
        };
        let (candidates, untried) = recovery::candidates(&listed, not_before(w));
        if candidates.is_empty() {
            return Ok(done(Outcome::NotRecovered(Lost::NoEarlierVersion)));
        }
        let mut unreadable = 0;
        for c in &candidates {
            // A version that cannot be read (archived, another key's
            // encryption, too large) is passed over, never the end.
            let Some(version) = self.read_version(w, &c.version_id).await else {
                unreadable += 1;
                continue;
            };
            let (original, version) = self.is_original(plan, w, version, near, keys).await;
            let Raw::Bytes {
                compressed: bytes,
                metadata,
            } = version
            else {
                continue;
            };
            if original {
                let written = plan.recover_to.as_deref().map(|dir| {
                    let at = (w.bucket.as_str(), w.key.as_str());
                    crate::sources::store::local::write_object(dir, at, &bytes, &metadata)
                });
                let not_written = written.and_then(Result::err).map(|e| e.to_string());
                return Ok(done(recovered(&listed, c, &bytes, not_written)));
            }
        }
        let tried = candidates.len();
        Ok(done(Outcome::NotRecovered(Lost::NoneMatches {
            tried,
            unreadable,
            untried,
        })))
    }

    /// One version's bytes and metadata, if it can be read and is no
    /// larger than an object of its kind can be.
    async fn read_version(&self, w: &Wanted, version: &str) -> Option<Raw> {
        let limit = match w.object {
            ObjectKind::Digest => MAX_DIGEST_VERSION,
            ObjectKind::Log => MAX_LOG_VERSION,
        };
        let mut obj = self
            .store
            .get_version(&w.bucket, &w.key, version)
            .await
            .ok()?;
        if obj.len.is_some_and(|n| n > limit) {
            return None;
        }
        let metadata = std::mem::take(&mut obj.metadata);
        let compressed = obj.read_to_vec(limit).await.ok()?;
        Some(Raw::Bytes {
            compressed,
            metadata,
        })
    }

    /// Whether one version's bytes pass the check the current ones failed;
    /// the version is handed back (its bytes are not copied to be checked).
    async fn is_original(
        &self,
        plan: &Plan,
        w: &Wanted,
        version: Raw,
        near: &Neighbours<'_>,
        keys: &PublicKeySet,
    ) -> (bool, Raw) {
        match w.object {
            ObjectKind::Digest => {
                let state = check_raw(&w.bucket, &w.key, &version, keys, &plan.source_region);
                let NodeState::Checked(DigestCheck::Verified(v)) = &state else {
                    return (false, version);
                };
                let signed = recovery::Signed {
                    signature: &v.signature_hex,
                    previous: v.digest.previous.as_ref().map(|p| (&*p.bucket, &*p.key)),
                    previous_signature: v.digest.previous_signature.as_deref(),
                };
                let linked = |b: &str, k: &str| near.signature_of(b, k);
                (
                    recovery::is_original_digest(signed, &w.expected, &linked),
                    version,
                )
            }
            ObjectKind::Log => {
                let Ok(_permit) = self.cpu.acquire().await else {
                    return (false, version);
                };
                let max = plan.max_log_inflated;
                let hashed = tokio::task::spawn_blocking(move || {
                    let hash = match &version {
                        Raw::Bytes { compressed, .. } => {
                            crate::verify::gzip::hash_bytes_observed(compressed, max, |_| {}).ok()
                        }
                        Raw::Error(_) => None,
                    };
                    (hash.map(|h| h.sha256_hex), version)
                });
                let Ok((sha, version)) = hashed.await else {
                    return (false, Raw::Error(StoreError::Io("hashing stopped".into())));
                };
                let original = sha.is_some_and(|h| recovery::is_original_log(&h, &w.expected));
                (original, version)
            }
        }
    }
}

/// Written before this, a version is not CloudTrail's: the time the key
/// names (a digest's end, a log file's), less a quarter of an hour.
fn not_before(w: &Wanted) -> Option<chrono::DateTime<chrono::Utc>> {
    use crate::verify::layout::{parse_digest_key, parse_log_key};
    let named = match w.object {
        ObjectKind::Digest => parse_digest_key(&w.key).map(|d| d.end),
        ObjectKind::Log => parse_log_key(&w.key).map(|l| l.time),
    };
    named.map(|t| t - chrono::Duration::minutes(15))
}

/// The original found: its version, and what happened to it since.
fn recovered(
    listed: &[Listed],
    original: &Listed,
    bytes: &[u8],
    not_written: Option<String>,
) -> Outcome {
    let (fate, latest) = recovery::fate(listed, original);
    Outcome::Recovered {
        version_id: original.version_id.clone(),
        last_modified: original.last_modified,
        fate,
        latest_version_id: latest,
        sha256: crate::verify::digest::sha256_hex(bytes),
        not_written,
    }
}

/// Why the versions could not be looked at, for the whole run.
fn blocked(e: &StoreError) -> Blocked {
    let detail = e.to_string();
    match e {
        StoreError::AccessDenied(_) | StoreError::Credentials(_) => Blocked::Refused { detail },
        _ => Blocked::Unlistable { detail },
    }
}
