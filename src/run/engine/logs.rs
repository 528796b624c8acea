//! Phase 3: verify the log files valid digests vouch for (streamed inflate +
//! SHA-256), and collect the trail's lifecycle records from the verified
//! ones: CloudTrail records StopLogging before it stops, so a trail's own
//! logs explain its gaps, offline and beyond LookupEvents' 90 days.

use super::{store_finding, Engine};
use crate::sources::store::{Body, Object};
use crate::verify::bucket_calls::{self, Scope};
use crate::verify::digest::LogFileRef;
use crate::verify::digest_check::reason;
use crate::verify::gzip::{
    hash_bytes_observed, hash_stream_observed, inflate_to_vec, GzipError, Inflater, StreamHash,
};
use crate::verify::lifecycle::{from_record, EventSource, LifecycleEvent};
use crate::verify::model::{Finding, LogVerdict, Problem, Status};
use crate::verify::record_watch::RecordWatch;
use crate::verify::selectors::CoverageChange;
use crate::verify::time::Timestamp;
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::io::Read as _;

/// What verified log files say of the trail: its lifecycle records, and the
/// changes of what it records (kept apart: only the former explain gaps).
#[derive(Debug, Default)]
pub(super) struct Records {
    pub lifecycle: Vec<LifecycleEvent>,
    /// Calls on the trail's bucket, key or trail (the bucket-side story).
    pub bucket_calls: Vec<bucket_calls::BucketCall>,
    /// Verified files that name such a call but could not be read again.
    pub calls_unread: usize,
    pub coverage: Vec<CoverageChange>,
    /// `--cross-check-events`: the eventID of every record of every
    /// verified file, and whether every one could be read.
    pub event_ids: Vec<String>,
    pub ids_complete: bool,
    /// Verified files that name a trail call but could not be read again
    /// for their records: a coverage change in one would go unseen.
    pub unread: usize,
}

impl Records {
    fn extend(&mut self, other: Records) {
        self.lifecycle.extend(other.lifecycle);
        self.bucket_calls.extend(other.bucket_calls);
        self.calls_unread += other.calls_unread;
        self.coverage.extend(other.coverage);
        self.event_ids.extend(other.event_ids);
        self.ids_complete &= other.ids_complete;
        self.unread += other.unread;
    }

    fn none() -> Records {
        Records {
            ids_complete: true,
            ..Records::default()
        }
    }

    /// The records of a verified file's inflated bytes, parsed once.
    /// A file kept only for a bucket-side call that cannot be parsed
    /// leaves the story short, never the proof (`trail_call`: it names a
    /// trail call the proof reads).
    fn from_log(inflated: &[u8], scope: &Scope, ids: bool, trail_call: bool) -> Records {
        let trail = &scope.trail;
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(inflated) else {
            return Records {
                ids_complete: !ids,
                unread: usize::from(trail_call),
                calls_unread: usize::from(!trail_call),
                ..Records::default()
            };
        };
        let recs = doc
            .get("Records")
            .and_then(serde_json::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let event_ids = match ids {
            true => recs
                .iter()
                .filter_map(|r| r.get("eventID")?.as_str().map(str::to_string))
                .collect(),
            false => Vec::new(),
        };
        Records {
            lifecycle: recs
                .iter()
                .filter_map(|r| from_record(r, trail, EventSource::TrailLogs))
                .collect(),
            bucket_calls: recs
                .iter()
                .filter_map(|r| bucket_calls::from_record(r, scope, EventSource::TrailLogs))
                .collect(),
            coverage: recs
                .iter()
                .filter_map(|r| crate::verify::selectors::from_record(r, trail))
                .collect(),
            event_ids,
            ids_complete: true,
            unread: 0,
            calls_unread: 0,
        }
    }
}

/// Whose calls the verified logs are read for: the trail's buckets (the
/// digests' and every log file's), its KMS key, the trail.
pub(super) fn scope_of(plan: &crate::plan::Plan, book: &LogBook) -> Scope {
    let mut buckets = vec![plan.digest_bucket.clone()];
    for lp in &book.plans {
        if !buckets.contains(&lp.bucket) {
            buckets.push(lp.bucket.clone());
        }
    }
    Scope {
        buckets,
        key: plan.trail_key.clone(),
        trail: plan.trail.clone(),
    }
}

/// Largest verified log file re-read to extract lifecycle records.
const MAX_EVENT_SCAN: u64 = 256 * 1024 * 1024;

/// One log file to verdict: the hashes valid digests expect of it, and the
/// failed digests that also list it.
pub(super) struct LogPlan {
    pub bucket: String,
    pub key: String,
    pub expected: Vec<(String, String)>,
    pub failed_digests: Vec<String>,
    /// Some digest that lists it failed for a reason other than a key the
    /// operator's keys file lacks.
    pub judged_failure: bool,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
}

/// Every log file some digest lists, once each, in first-listed order.
#[derive(Default)]
pub(super) struct LogBook {
    pub plans: Vec<LogPlan>,
    pub index: HashMap<(String, String), usize>,
    /// Log files of the checkpointed digest: verified by the run that
    /// recorded it, not read again, but referenced all the same.
    pub vouched: HashSet<(String, String)>,
}

impl LogBook {
    /// Records that digest `digest_key` (valid or not; `unjudged`: signed
    /// with a key the keys file lacks for its time) lists `lf`.
    pub(crate) fn add(&mut self, lf: &LogFileRef, digest_key: &str, valid: bool, unjudged: bool) {
        let id = (lf.bucket.clone(), lf.key.clone());
        let li = *self.index.entry(id).or_insert_with(|| {
            self.plans.push(LogPlan {
                bucket: lf.bucket.clone(),
                key: lf.key.clone(),
                expected: Vec::new(),
                failed_digests: Vec::new(),
                judged_failure: false,
                oldest: None,
                newest: None,
            });
            self.plans.len() - 1
        });
        let p = &mut self.plans[li];
        if valid {
            // Event times only as a verified digest states them.
            if p.expected.is_empty() {
                p.oldest = lf.oldest_event;
                p.newest = lf.newest_event;
            }
            p.expected
                .push((lf.hash_value.to_ascii_lowercase(), digest_key.to_string()));
        } else {
            p.failed_digests.push(digest_key.to_string());
            p.judged_failure |= !unjudged;
        }
    }
}

/// The outcome of streaming one object: its hash, and whether its bytes
/// name a lifecycle call.
struct Streamed {
    hash: StreamHash,
    names_lifecycle: bool,
    /// They name a call on the trail's bucket or key.
    names_bucket: bool,
    /// The compressed bytes as hashed, when small enough to keep: a file
    /// that names a lifecycle call is parsed from them, not read twice.
    kept: Option<Vec<u8>>,
}

/// A large log file (or `--inflater stream`): streamed through inflate +
/// SHA-256 on a blocking thread, never held whole.
async fn hash_streamed(body: Body, max: u64, all: bool) -> Result<Streamed, GzipError> {
    let handle = tokio::runtime::Handle::current();
    let res = tokio::task::spawn_blocking(move || {
        let mut watch = RecordWatch::watching(all);
        let mut tee = Tee {
            inner: body.into_blocking(handle),
            copy: Vec::new(),
            overflow: false,
        };
        let hash = hash_stream_observed(&mut tee, max, |chunk| watch.feed(chunk))?;
        Ok(Streamed {
            kept: (watch.keeps() && !tee.overflow).then_some(tee.copy),
            hash,
            names_lifecycle: watch.hit,
            names_bucket: watch.bucket_hit,
        })
    })
    .await;
    res.unwrap_or_else(|join| Err(GzipError::Read(join.to_string())))
}

/// A small log file's bytes: already fetched, or a local file to read.
enum Held {
    Fetched(Vec<u8>),
    Local(Box<dyn std::io::Read + Send>),
}

/// Largest compressed log file kept in memory while it streams, and
/// largest read whole before inflating.
const KEEP_COMPRESSED: usize = 4 * 1024 * 1024;

/// Copies what passes through, up to a cap.
struct Tee<R> {
    inner: R,
    copy: Vec<u8>,
    overflow: bool,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.overflow {
            if self.copy.len() + n > KEEP_COMPRESSED {
                self.overflow = true;
                self.copy = Vec::new();
            } else {
                self.copy.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

impl Engine {
    /// Verdicts in book order, the lifecycle records of verified files, and
    /// whether every file that names a lifecycle call could be parsed.
    /// With `ids` (`--cross-check-events`) every verified file is parsed
    /// for its records' eventIDs.
    pub(super) async fn verify_logs(
        &self,
        book: &LogBook,
        plan: &crate::plan::Plan,
        ids: bool,
    ) -> (Vec<LogVerdict>, Records, bool) {
        self.progress.add_logs(book.plans.len() as u64);
        let scope = scope_of(plan, book);
        let (scope, max_inflated) = (&scope, plan.max_log_inflated);
        let results: Vec<(usize, LogVerdict, Option<Records>)> =
            stream::iter(book.plans.iter().enumerate())
                .map(|(i, lp)| async move {
                    let (v, ev) = self.check_log(lp, scope, max_inflated, ids).await;
                    (i, v, ev)
                })
                .buffer_unordered(plan.concurrency.max(1))
                .collect()
                .await;
        let mut verdicts: Vec<Option<LogVerdict>> = vec![None; book.plans.len()];
        let mut events = Records::none();
        let mut complete = true;
        for (i, v, ev) in results {
            verdicts[i] = Some(v);
            match ev {
                Some(ev) => events.extend(ev),
                None => {
                    complete = false;
                    events.ids_complete = false;
                    events.unread += 1;
                }
            }
        }
        (verdicts.into_iter().flatten().collect(), events, complete)
    }

    async fn check_log(
        &self,
        lp: &LogPlan,
        scope: &Scope,
        max_inflated: u64,
        ids: bool,
    ) -> (LogVerdict, Option<Records>) {
        let verdict = |status, finding| LogVerdict {
            bucket: lp.bucket.clone(),
            key: lp.key.clone(),
            status,
            finding,
            digest_key: lp
                .expected
                .first()
                .map(|(_, d)| d.clone())
                .or_else(|| lp.failed_digests.first().cloned()),
            oldest_event: lp.oldest,
            newest_event: lp.newest,
        };
        if lp.expected.is_empty() {
            self.progress.log_done(0);
            let detail = format!(
                "listed only by digest(s) that failed verification: {}",
                lp.failed_digests.join(", ")
            );
            let f = match lp.judged_failure {
                true => Finding::new(
                    Problem::DigestInvalid,
                    "not verified: its digest failed verification",
                ),
                false => Finding::new(
                    Problem::KeyNotInFile,
                    "not verified: its digest is not judged with this keys file",
                ),
            }
            .with_detail(detail);
            return (verdict(Status::Unverified, Some(f)), Some(Records::none()));
        }
        let streamed = match self
            .stream_log(&lp.bucket, &lp.key, max_inflated, ids)
            .await
        {
            Ok(s) => s,
            Err(f) => {
                self.progress.log_done(0);
                // Archived: not read, so neither verified nor refuted, and
                // the records it may hold are not known (not "none").
                if f.problem == Problem::Archived {
                    return (verdict(Status::Unverified, Some(f)), None);
                }
                return (verdict(Status::Invalid, Some(f)), Some(Records::none()));
            }
        };
        self.progress.log_done(streamed.hash.compressed_len);
        let got = &streamed.hash.sha256_hex;
        if let Some((want, digest)) = lp.expected.iter().find(|(w, _)| w != got) {
            let detail =
                format!("SHA-256 of the inflated file is {got}; digest {digest} expects {want}");
            let f = Finding::new(Problem::HashMismatch, reason::HASH_MISMATCH).with_detail(detail);
            return (verdict(Status::Invalid, Some(f)), Some(Records::none()));
        }
        let (trail_call, bucket_call) = (streamed.names_lifecycle, streamed.names_bucket);
        let events = match trail_call || bucket_call || ids {
            false => Some(Records::none()),
            true => match self
                .lifecycle_records(lp, got, scope, streamed.kept, (ids, trail_call))
                .await
            {
                // Only a file that names a trail call can hide a record
                // the proof needs; one naming a bucket call, the story.
                None if !trail_call => Some(Records {
                    ids_complete: !ids,
                    calls_unread: usize::from(bucket_call),
                    ..Records::none()
                }),
                r => r,
            },
        };
        (verdict(Status::Valid, None), events)
    }

    /// Reads one object through inflate + SHA-256 (and the lifecycle
    /// watch). A connection dropped mid-body is not the object's fault: read
    /// again, up to [`super::BODY_ATTEMPTS`] times.
    async fn stream_log(
        &self,
        bucket: &str,
        key: &str,
        max: u64,
        all: bool,
    ) -> Result<Streamed, Finding> {
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let obj = self
                .store
                .get(bucket, key)
                .await
                .map_err(|e| store_finding(&e))?;
            let held = self.inflater != Inflater::Stream
                && obj.len.is_some_and(|n| n <= KEEP_COMPRESSED as u64);
            let res = if held {
                self.hash_held(obj, max, all).await
            } else {
                hash_streamed(obj.body, max, all).await
            };
            match res {
                Err(GzipError::Read(_)) if attempt < super::BODY_ATTEMPTS => continue,
                r => break r,
            }
        };
        outcome.map_err(|e| match &e {
            GzipError::TrailingData => Finding::new(Problem::TrailingData, reason::TRAILING_DATA),
            GzipError::Read(m) => {
                Finding::new(Problem::ReadError, "could not be read").with_detail(m.clone())
            }
            GzipError::Corrupt(_) | GzipError::TooLarge(_) => {
                Finding::new(Problem::Format, reason::INVALID_FORMAT).with_detail(e.to_string())
            }
        })
    }

    /// A typical log file (at most [`KEEP_COMPRESSED`]): a network body is
    /// read whole on the async side (no hand-off per chunk), then inflated
    /// in one buffer and hashed under a CPU permit; a local file is read
    /// and hashed in one blocking task.
    async fn hash_held(&self, obj: Object, max: u64, all: bool) -> Result<Streamed, GzipError> {
        let read = |e: crate::sources::store::StoreError| GzipError::Read(e.to_string());
        let len = obj.len;
        let units = len.unwrap_or(0).div_ceil(super::BUFFER_UNIT).max(1) as u32;
        let _budget = self
            .buffers
            .acquire_many(units)
            .await
            .map_err(|e| GzipError::Read(e.to_string()))?;
        // A network body is read here; a local file on the blocking thread.
        let source = match obj.body {
            Body::Async(_) => Held::Fetched(
                obj.read_to_vec(KEEP_COMPRESSED as u64)
                    .await
                    .map_err(read)?,
            ),
            Body::Blocking(r) => Held::Local(r),
        };
        let _permit = self
            .cpu
            .acquire()
            .await
            .map_err(|e| GzipError::Read(e.to_string()))?;
        let res = tokio::task::spawn_blocking(move || {
            let compressed = match source {
                Held::Fetched(v) => v,
                Held::Local(r) => {
                    let mut v = Vec::with_capacity(len.map_or(0, |n| n as usize + 1));
                    r.take(KEEP_COMPRESSED as u64 + 1)
                        .read_to_end(&mut v)
                        .map_err(|e| GzipError::Read(e.to_string()))?;
                    if v.len() > KEEP_COMPRESSED {
                        return Err(GzipError::Read("the file grew while it was read".into()));
                    }
                    v
                }
            };
            let mut watch = RecordWatch::watching(all);
            let hash = hash_bytes_observed(&compressed, max, |c| watch.feed(c))?;
            Ok(Streamed {
                kept: watch.keeps().then_some(compressed),
                hash,
                names_lifecycle: watch.hit,
                names_bucket: watch.bucket_hit,
            })
        })
        .await;
        res.unwrap_or_else(|join| Err(GzipError::Read(join.to_string())))
    }

    /// Parses a verified log file's lifecycle records from the bytes kept
    /// while it streamed, or from a second read of a large one; either way
    /// only if the bytes hash to what the digest vouched for (an object can
    /// be swapped between two reads).
    async fn lifecycle_records(
        &self,
        lp: &LogPlan,
        want: &str,
        scope: &Scope,
        kept: Option<Vec<u8>>,
        (ids, trail_call): (bool, bool),
    ) -> Option<Records> {
        let compressed = match kept {
            Some(k) => k,
            None => {
                let obj = self.store.get(&lp.bucket, &lp.key).await.ok()?;
                let c = obj.read_to_vec(MAX_EVENT_SCAN).await.ok()?;
                c
            }
        };
        let scope = scope.clone();
        let want = want.to_string();
        tokio::task::spawn_blocking(move || {
            let inflated = inflate_to_vec(&compressed, MAX_EVENT_SCAN).ok()?;
            // Swapped since it was verified: its records count for nothing.
            (crate::verify::digest::sha256_hex(&inflated) == want)
                .then(|| Records::from_log(&inflated, &scope, ids, trail_call))
        })
        .await
        .ok()
        .flatten()
    }
}
