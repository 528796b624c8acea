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
use crate::verify::recovery::{self, Expected, Listed, Lost, ObjectKind, Outcome, Recovered};
use futures::StreamExt;

/// Largest version read whole to try it.
const MAX_VERSION_BYTES: u64 = 64 * 1024 * 1024;
/// Keys whose versions are listed and read at once.
const IN_FLIGHT: usize = 8;

/// One object to recover.
struct Wanted {
    bucket: String,
    key: String,
    object: ObjectKind,
    expected: Expected,
}

/// Listing or reading versions was refused: one sentence for the run.
struct Refused(String);

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
            .and_then(|v| v.digest.previous_signature.clone())
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
        if all.is_empty() {
            return None;
        }
        // One listing says whether versions can be read at all: a copy
        // keeps none, and a refusal or a server without them is one line.
        let why = match self.store.versions(&all[0].bucket, &all[0].key).await {
            Ok(None) => return None,
            Ok(Some(_)) => None,
            Err(e) => Some(
                refusal(&e)
                    .err()
                    .map_or_else(|| not_possible(&e), |Refused(w)| w),
            ),
        };
        if let Some(why) = why {
            return Some(recovery::Recovery {
                objects: Vec::new(),
                refused: Some(why),
                not_tried: all.len(),
            });
        }
        let not_tried = all.len().saturating_sub(recovery::MAX_RECOVERED);
        all.truncate(recovery::MAX_RECOVERED);
        let tried: Vec<Result<Recovered, Refused>> = futures::stream::iter(&all)
            .map(|w| self.recover_one(plan, w, near, keys))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let mut out = recovery::Recovery {
            not_tried,
            ..Default::default()
        };
        for t in tried {
            match t {
                Ok(r) => out.objects.push(r),
                Err(Refused(why)) => {
                    out.not_tried += 1;
                    out.refused.get_or_insert(why);
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
    ) -> Result<Recovered, Refused> {
        let done = |outcome| Recovered {
            bucket: w.bucket.clone(),
            key: w.key.clone(),
            object: w.object,
            outcome,
        };
        let listed = match self.store.versions(&w.bucket, &w.key).await {
            Ok(l) => l.unwrap_or_default(),
            Err(e) => return refusal(&e).map(|lost| done(Outcome::NotRecovered(lost))),
        };
        let candidates = recovery::candidates(&listed);
        if candidates.is_empty() {
            return Ok(done(Outcome::NotRecovered(Lost::NoEarlierVersion)));
        }
        for c in &candidates {
            let obj = match self
                .store
                .get_version(&w.bucket, &w.key, &c.version_id)
                .await
            {
                Ok(o) => o,
                Err(e) => return refusal(&e).map(|lost| done(Outcome::NotRecovered(lost))),
            };
            let metadata = obj.metadata.clone();
            let Ok(bytes) = obj.read_to_vec(MAX_VERSION_BYTES).await else {
                continue;
            };
            if !self
                .is_original(plan, w, &bytes, &metadata, near, keys)
                .await
            {
                continue;
            }
            if let Some(dir) = &plan.recover_to {
                let wrote = crate::sources::recovered::write_original(
                    dir, &w.bucket, &w.key, &bytes, &metadata,
                );
                if let Err(e) = wrote {
                    let detail = format!("recovered but not written to {}: {e}", dir.display());
                    return Ok(done(Outcome::NotRecovered(Lost::Unreadable { detail })));
                }
            }
            return Ok(done(recovered(&listed, c, &bytes)));
        }
        let tried = candidates.len();
        Ok(done(Outcome::NotRecovered(Lost::NoneMatches { tried })))
    }

    /// Whether one version's bytes pass the check the current ones failed.
    async fn is_original(
        &self,
        plan: &Plan,
        w: &Wanted,
        bytes: &[u8],
        metadata: &std::collections::HashMap<String, String>,
        near: &Neighbours<'_>,
        keys: &PublicKeySet,
    ) -> bool {
        match w.object {
            ObjectKind::Digest => {
                let raw = Raw::Bytes {
                    compressed: bytes.to_vec(),
                    metadata: metadata.clone(),
                };
                let state = check_raw(&w.bucket, &w.key, &raw, keys, &plan.source_region);
                let NodeState::Checked(DigestCheck::Verified(v)) = &state else {
                    return false;
                };
                let signed = recovery::Signed {
                    signature: &v.signature_hex,
                    previous: v.digest.previous.as_ref().map(|p| (&*p.bucket, &*p.key)),
                    previous_signature: v.digest.previous_signature.as_deref(),
                };
                recovery::is_original_digest(signed, &w.expected, &|b, k| near.signature_of(b, k))
            }
            ObjectKind::Log => {
                let Ok(_permit) = self.cpu.acquire().await else {
                    return false;
                };
                let (max, owned) = (plan.max_log_inflated, bytes.to_vec());
                let hashed = tokio::task::spawn_blocking(move || {
                    crate::verify::gzip::hash_bytes_observed(&owned, max, |_| {})
                });
                let sha = hashed.await.ok().and_then(Result::ok).map(|h| h.sha256_hex);
                sha.is_some_and(|h| recovery::is_original_log(&h, &w.expected))
            }
        }
    }
}

/// The original found: its version, and what happened to it since.
fn recovered(listed: &[Listed], original: &Listed, bytes: &[u8]) -> Outcome {
    let (fate, latest) = recovery::fate(listed, original);
    Outcome::Recovered {
        version_id: original.version_id.clone(),
        last_modified: original.last_modified,
        fate,
        latest_version_id: latest,
        sha256: crate::verify::digest::sha256_hex(bytes),
    }
}

fn not_possible(e: &StoreError) -> String {
    format!("the bucket's versions could not be listed ({e}): the originals were not looked for")
}

/// A refused listing or read stops recovery for the run; any other error
/// is this object's.
fn refusal(e: &StoreError) -> Result<Lost, Refused> {
    match e {
        StoreError::AccessDenied(why) => Err(Refused(format!(
            "reading the bucket's versions was refused ({why}): grant s3:ListBucketVersions and \
             s3:GetObjectVersion to recover the originals"
        ))),
        StoreError::Credentials(why) => Err(Refused(why.clone())),
        other => Ok(Lost::Unreadable {
            detail: other.to_string(),
        }),
    }
}
