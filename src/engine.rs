//! The engine: lists, fetches and checks digests and log files
//! concurrently, then hands the results to the pure chain and coverage
//! logic and assembles the report. The only module that schedules work.

use crate::arn::TrailArn;
use crate::chain::{self, Node, NodeState};
use crate::coverage::{self, Scope};
use crate::digest_verify::{check_digest, reason, DigestCheck, DigestInput};
use crate::gzip::{hash_stream, GzipError};
use crate::keysource::{KeySource, KeySourceError};
use crate::layout::{parse_digest_key, AccountRoot, DigestSeries};
use crate::progress::Progress;
use crate::pubkeys::PublicKeySet;
use crate::report::{DigestVerdict, Entry, Finding, Gap, LogVerdict, Problem, Report, Status};
use crate::store::{list_while, ObjectStore, StoreError};
use crate::timefmt::Timestamp;
use chrono::Duration;
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Largest compressed digest object we download.
const MAX_DIGEST_OBJECT: u64 = 64 * 1024 * 1024;

/// Upper bound on digests one run will consider (pointer chains included),
/// so a hostile bucket cannot make the walk run forever.
const MAX_DIGESTS: usize = 1_000_000;

/// What to validate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub trail: TrailArn,
    /// Where the digests are (the trail's bucket).
    pub digest_bucket: String,
    pub root: AccountRoot,
    /// The region that delivered the digests (`CloudTrail-Digest/<region>/`).
    pub source_region: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Objects in flight at once.
    pub concurrency: usize,
    /// Also look for log files no digest references.
    pub check_unreferenced: bool,
    /// Largest inflated log file accepted (gzip bombs).
    pub max_log_inflated: u64,
    /// When CloudTrail last delivered a digest for this trail and region
    /// (GetTrailStatus, live mode): digests missing before it were deleted.
    pub latest_digest_delivery: Option<Timestamp>,
}

/// Errors that make a run meaningless.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot list s3://{bucket}/{prefix}: {source}")]
    List {
        bucket: String,
        prefix: String,
        source: StoreError,
    },
    #[error("cannot get public keys: {0}")]
    Keys(#[from] KeySourceError),
}

/// Runs validations against one store and one key source.
pub struct Engine {
    pub store: Arc<dyn ObjectStore>,
    pub keys: Arc<dyn KeySource>,
    pub progress: Arc<dyn Progress>,
}

/// A digest object as downloaded (kept so a key refresh can re-check it).
enum Raw {
    Bytes {
        compressed: Vec<u8>,
        metadata: HashMap<String, String>,
    },
    Error(StoreError),
}

/// Maps a store error on one object to a finding on that object.
pub fn store_finding(e: &StoreError) -> Finding {
    match e {
        StoreError::NotFound => Finding::new(Problem::NotFound, reason::NOT_FOUND),
        StoreError::NoSuchBucket(b) => Finding::new(Problem::NotFound, reason::NOT_FOUND)
            .with_detail(format!("bucket {b} does not exist")),
        StoreError::AccessDenied(m) => {
            Finding::new(Problem::AccessDenied, "access denied").with_detail(m.clone())
        }
        StoreError::TooLarge(_) => {
            Finding::new(Problem::Format, reason::INVALID_FORMAT).with_detail(e.to_string())
        }
        StoreError::BadMetadata(_) => {
            Finding::new(Problem::Signature, reason::SIGNATURE_FAILED).with_detail(e.to_string())
        }
        StoreError::InvalidKey(_) | StoreError::Credentials(_) | StoreError::Io(_) => {
            Finding::new(Problem::ReadError, "could not be read").with_detail(e.to_string())
        }
    }
}

/// One log file to verdict: the hashes valid digests expect of it, and the
/// failed digests that also list it.
struct LogPlan {
    bucket: String,
    key: String,
    expected: Vec<(String, String)>,
    failed_digests: Vec<String>,
}

impl Engine {
    pub async fn validate(&self, plan: &Plan) -> Result<Report, EngineError> {
        let series = DigestSeries {
            root: plan.root.clone(),
            source_region: plan.source_region.clone(),
            trail_name: plan.trail.name.clone(),
            home_region: plan.trail.region.clone(),
        };
        let concurrency = plan.concurrency.max(1);

        // Listing first would waste time when no keys exist (aws-cli #4250):
        // keys first, then the listing.
        let mut keyset = PublicKeySet::new();
        keyset.extend(
            self.keys
                .keys_between(
                    &plan.source_region,
                    plan.start,
                    plan.end + Duration::hours(2),
                )
                .await?,
        );

        let mut listed_buckets: HashSet<String> = HashSet::new();
        let mut queue: Vec<(String, String, bool)> = self
            .list_digests(&plan.digest_bucket, &series, plan)
            .await?
            .into_iter()
            .map(|k| (plan.digest_bucket.clone(), k, true))
            .collect();
        listed_buckets.insert(plan.digest_bucket.clone());

        let mut raws: HashMap<(String, String), Raw> = HashMap::new();
        let mut nodes: Vec<Node> = Vec::new();
        let mut asked_fingerprints: HashSet<String> = HashSet::new();
        while !queue.is_empty() && nodes.len() < MAX_DIGESTS {
            self.progress.add_digests(queue.len() as u64);
            let fetched = self.fetch_digests(&queue, concurrency).await;
            for ((bucket, key, listed), raw) in queue.drain(..).zip(fetched) {
                let state = check_raw(&bucket, &key, &raw, &keyset, &plan.source_region);
                nodes.push(Node::new(&bucket, &key, listed, state));
                raws.insert((bucket, key), raw);
            }
            // A fingerprint missing from the first answer gets one more
            // look-up around that digest's own time before it is reported.
            let mut refreshed = false;
            for n in &nodes {
                if let NodeState::Checked(DigestCheck::Failed {
                    unknown_fingerprint: Some(fp),
                    parsed: Some(d),
                    ..
                }) = &n.state
                {
                    if asked_fingerprints.insert(fp.clone()) {
                        let more = self
                            .keys
                            .keys_between(
                                &plan.source_region,
                                d.end - Duration::hours(1),
                                d.end + Duration::hours(1),
                            )
                            .await?;
                        refreshed |= !more.is_empty();
                        keyset.extend(more);
                    }
                }
            }
            if refreshed {
                for n in nodes.iter_mut() {
                    if matches!(&n.state, NodeState::Checked(DigestCheck::Failed { unknown_fingerprint: Some(fp), .. }) if keyset.get(fp).is_some())
                    {
                        if let Some(raw) = raws.get(&(n.bucket.clone(), n.key.clone())) {
                            n.state =
                                check_raw(&n.bucket, &n.key, raw, &keyset, &plan.source_region);
                        }
                    }
                }
            }
            // Follow verified pointers the listing did not cover; a chain that
            // moves to another bucket gets that bucket listed too.
            let targets = chain::pending_targets(&nodes, plan.start);
            let mut queued: HashSet<(String, String)> = HashSet::new();
            for (bucket, _) in &targets {
                if listed_buckets.insert(bucket.clone()) {
                    for k in self.list_digests(bucket, &series, plan).await? {
                        if !raws.contains_key(&(bucket.clone(), k.clone()))
                            && queued.insert((bucket.clone(), k.clone()))
                        {
                            queue.push((bucket.clone(), k, true));
                        }
                    }
                }
            }
            for (bucket, key) in targets {
                if queued.insert((bucket.clone(), key.clone())) {
                    queue.push((bucket, key, false));
                }
            }
        }
        drop(raws);

        let (std_nodes, bf_nodes): (Vec<Node>, Vec<Node>) =
            nodes.into_iter().partition(|n| !n.backfill);
        let mut report = Report {
            trail_arn: plan.trail.arn.clone(),
            requested_start: plan.start,
            requested_end: plan.end,
            found: None,
            digests: Vec::new(),
            logs: Vec::new(),
            gaps: Vec::new(),
            entries: Vec::new(),
            notes: Vec::new(),
        };
        let mut log_plans: Vec<LogPlan> = Vec::new();
        let mut log_index: HashMap<(String, String), usize> = HashMap::new();
        let mut verified_log_buckets: Vec<String> = Vec::new();
        let mut std_gaps: Vec<Gap> = Vec::new();
        let mut scope_bounds: Option<(Timestamp, Timestamp)> = None;
        let mut tail_end: Option<Timestamp> = None;

        for chain_nodes in [&std_nodes, &bf_nodes] {
            if chain_nodes.is_empty() {
                continue;
            }
            let outcome = chain::analyze(
                chain_nodes,
                &series,
                plan.end,
                chrono::Utc::now(),
                plan.latest_digest_delivery,
            );
            for (at, gap) in &outcome.gaps {
                if *at == usize::MAX {
                    report.entries.push(Entry::Gap(report.gaps.len()));
                    report.gaps.push(gap.clone());
                    if !gap.backfill {
                        // The digests covering this tail are overdue: log
                        // files delivered in it are covered by none.
                        std_gaps.push(gap.clone());
                        tail_end = Some(gap.end);
                    }
                }
            }
            for &idx in &outcome.order {
                let node = if idx < chain_nodes.len() {
                    &chain_nodes[idx]
                } else {
                    &outcome.inferred[idx - chain_nodes.len()]
                };
                let (status, finding) = outcome.verdicts[idx].clone();
                let verified = node.verified();
                let di = report.digests.len();
                report.digests.push(DigestVerdict {
                    bucket: node.bucket.clone(),
                    key: node.key.clone(),
                    backfill: node.backfill,
                    status,
                    finding,
                    start: verified.map(|v| v.digest.start),
                    end: verified.map(|v| v.digest.end).or(node.key_end),
                    discovered: !node.listed,
                });
                report.entries.push(Entry::Digest(di));
                if !node.backfill {
                    if let (Some(v), Some(e)) = (verified.map(|v| v.digest.start), node.end()) {
                        scope_bounds = Some(match scope_bounds {
                            None => (v, e),
                            Some((s0, e0)) => (s0.min(v), e0.max(e)),
                        });
                    } else if let (Some(e), Some((s0, e0))) = (node.end(), scope_bounds) {
                        scope_bounds = Some((s0, e0.max(e)));
                    }
                }
                if let Some(d) = node.parsed() {
                    for lf in &d.log_files {
                        let id = (lf.bucket.clone(), lf.key.clone());
                        let li = match log_index.get(&id) {
                            Some(&li) => li,
                            None => {
                                let li = log_plans.len();
                                log_plans.push(LogPlan {
                                    bucket: lf.bucket.clone(),
                                    key: lf.key.clone(),
                                    expected: Vec::new(),
                                    failed_digests: Vec::new(),
                                });
                                log_index.insert(id, li);
                                report.entries.push(Entry::Log(li));
                                li
                            }
                        };
                        if status == Status::Valid {
                            log_plans[li]
                                .expected
                                .push((lf.hash_value.to_ascii_lowercase(), node.key.clone()));
                            if !verified_log_buckets.contains(&lf.bucket) {
                                verified_log_buckets.push(lf.bucket.clone());
                            }
                        } else {
                            log_plans[li].failed_digests.push(node.key.clone());
                        }
                    }
                }
                for (at, gap) in &outcome.gaps {
                    if *at == idx {
                        report.entries.push(Entry::Gap(report.gaps.len()));
                        report.gaps.push(gap.clone());
                        if !node.backfill {
                            std_gaps.push(gap.clone());
                        }
                    }
                }
            }
        }
        // Log files: verify the ones valid digests vouch for; the rest are
        // unverified, never silently dropped.
        self.progress.add_logs(log_plans.len() as u64);
        let mut log_verdicts: Vec<Option<LogVerdict>> = Vec::with_capacity(log_plans.len());
        let mut jobs = Vec::new();
        for (i, lp) in log_plans.iter().enumerate() {
            if lp.expected.is_empty() {
                let detail = format!(
                    "listed only by digest(s) that failed verification: {}",
                    lp.failed_digests.join(", ")
                );
                log_verdicts.push(Some(LogVerdict {
                    bucket: lp.bucket.clone(),
                    key: lp.key.clone(),
                    status: Status::Unverified,
                    finding: Some(
                        Finding::new(
                            Problem::DigestInvalid,
                            "not verified: its digest failed verification",
                        )
                        .with_detail(detail),
                    ),
                    digest_key: lp.failed_digests.first().cloned(),
                }));
                self.progress.log_done(0);
            } else {
                log_verdicts.push(None);
                jobs.push(i);
            }
        }

        // Unreferenced log files, listed while nothing else needs the store.
        let mut unreferenced = Vec::new();
        if plan.check_unreferenced {
            let bounds = scope_bounds.map(|(s, e)| (s, tail_end.map_or(e, |t| e.max(t))));
            if let Some(scope) = bounds.and_then(|(s, e)| Scope::new(s, e)) {
                let buckets = if verified_log_buckets.is_empty() {
                    vec![plan.digest_bucket.clone()]
                } else {
                    verified_log_buckets.clone()
                };
                let mut listed = Vec::new();
                for b in &buckets {
                    for day in scope.days() {
                        let prefix = plan.root.log_day_prefix(&plan.source_region, day);
                        let keys = list_while(self.store.as_ref(), b, &prefix, None, |_| true)
                            .await
                            .map_err(|source| EngineError::List {
                                bucket: b.clone(),
                                prefix: prefix.clone(),
                                source,
                            })?;
                        listed.extend(keys.into_iter().map(|k| (b.clone(), k)));
                    }
                }
                let referenced: HashSet<(String, String)> = log_index.keys().cloned().collect();
                unreferenced = coverage::unreferenced_logs(
                    &listed,
                    &referenced,
                    &plan.root,
                    &plan.source_region,
                    scope,
                    &std_gaps,
                );
            }
        }

        let max_inflated = plan.max_log_inflated;
        let results: Vec<(usize, LogVerdict)> = stream::iter(jobs)
            .map(|i| {
                let lp = &log_plans[i];
                async move { (i, self.check_log(lp, max_inflated).await) }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (i, v) in results {
            log_verdicts[i] = Some(v);
        }
        report.logs = log_verdicts.into_iter().flatten().collect();
        for v in unreferenced {
            report.entries.push(Entry::Log(report.logs.len()));
            report.logs.push(v);
        }

        report.found = found_range(&report.digests, plan.start, plan.end);
        self.progress.finish();
        Ok(report)
    }

    /// Lists this series' digest keys for [start, end + 1 h], as the AWS CLI
    /// does, from the key the digest at start - 1 min would have.
    async fn list_digests(
        &self,
        bucket: &str,
        series: &DigestSeries,
        plan: &Plan,
    ) -> Result<Vec<String>, EngineError> {
        let prefix = series.root.digest_region_prefix(&series.source_region);
        let marker = series.key(plan.start - Duration::minutes(1), false);
        let stop = plan.end + Duration::hours(1);
        let mut keep = Vec::new();
        let keys = list_while(self.store.as_ref(), bucket, &prefix, Some(&marker), |k| {
            match parse_digest_key(k) {
                Some(p) if series.owns(&p) => p.end <= stop,
                _ => true,
            }
        })
        .await
        .map_err(|source| EngineError::List {
            bucket: bucket.to_string(),
            prefix: prefix.clone(),
            source,
        })?;
        for k in keys {
            if let Some(p) = parse_digest_key(&k) {
                if series.owns(&p) && p.end >= plan.start {
                    keep.push(k);
                }
            }
        }
        Ok(keep)
    }

    /// Downloads digests concurrently; results in input order.
    async fn fetch_digests(
        &self,
        items: &[(String, String, bool)],
        concurrency: usize,
    ) -> Vec<Raw> {
        let mut out: Vec<(usize, Raw)> = stream::iter(items.iter().enumerate())
            .map(|(i, (bucket, key, _))| async move {
                let raw = match self.store.get(bucket, key).await {
                    Ok(obj) => match obj.body.read_to_vec(MAX_DIGEST_OBJECT).await {
                        Ok(compressed) => Raw::Bytes {
                            compressed,
                            metadata: obj.metadata,
                        },
                        Err(e) => Raw::Error(e),
                    },
                    Err(e) => Raw::Error(e),
                };
                self.progress.digest_done();
                (i, raw)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// Streams one log file through inflate + SHA-256 on a blocking thread.
    async fn check_log(&self, lp: &LogPlan, max_inflated: u64) -> LogVerdict {
        let verdict = |status, finding| LogVerdict {
            bucket: lp.bucket.clone(),
            key: lp.key.clone(),
            status,
            finding,
            digest_key: lp.expected.first().map(|(_, d)| d.clone()),
        };
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let obj = match self.store.get(&lp.bucket, &lp.key).await {
                Ok(o) => o,
                Err(e) => {
                    self.progress.log_done(0);
                    return verdict(Status::Invalid, Some(store_finding(&e)));
                }
            };
            let handle = tokio::runtime::Handle::current();
            let body = obj.body;
            let res = tokio::task::spawn_blocking(move || {
                hash_stream(body.into_blocking(handle), max_inflated)
            })
            .await;
            match res {
                // A connection dropped mid-body is not the object's fault: retry once.
                Ok(Err(GzipError::Read(_))) if attempt < 2 => continue,
                Ok(r) => break r,
                Err(join) => break Err(GzipError::Read(join.to_string())),
            }
        };
        match outcome {
            Ok(h) => {
                self.progress.log_done(h.compressed_len);
                let mismatched: Vec<&String> = lp
                    .expected
                    .iter()
                    .filter(|(want, _)| *want != h.sha256_hex)
                    .map(|(_, d)| d)
                    .collect();
                if mismatched.is_empty() {
                    verdict(Status::Valid, None)
                } else {
                    let detail = format!(
                        "SHA-256 of the inflated file is {}; digest {} expects {}",
                        h.sha256_hex,
                        mismatched[0],
                        lp.expected
                            .iter()
                            .find(|(w, _)| *w != h.sha256_hex)
                            .map(|(w, _)| w.as_str())
                            .unwrap_or("")
                    );
                    verdict(
                        Status::Invalid,
                        Some(
                            Finding::new(Problem::HashMismatch, reason::HASH_MISMATCH)
                                .with_detail(detail),
                        ),
                    )
                }
            }
            Err(e) => {
                self.progress.log_done(0);
                let finding = match &e {
                    GzipError::TrailingData => {
                        Finding::new(Problem::TrailingData, reason::TRAILING_DATA)
                    }
                    GzipError::Read(m) => {
                        Finding::new(Problem::ReadError, "could not be read").with_detail(m.clone())
                    }
                    GzipError::Corrupt(_) | GzipError::TooLarge(_) => {
                        Finding::new(Problem::Format, reason::INVALID_FORMAT)
                            .with_detail(e.to_string())
                    }
                };
                verdict(Status::Invalid, Some(finding))
            }
        }
    }
}

fn check_raw(bucket: &str, key: &str, raw: &Raw, keys: &PublicKeySet, region: &str) -> NodeState {
    match raw {
        Raw::Error(e) => NodeState::Unreadable(store_finding(e)),
        Raw::Bytes {
            compressed,
            metadata,
        } => {
            let backfill = parse_digest_key(key)
                .map(|p| p.backfill)
                .unwrap_or_else(|| key.ends_with("_backfill.json.gz"));
            NodeState::Checked(check_digest(
                &DigestInput {
                    bucket,
                    key,
                    compressed,
                    metadata,
                    backfill,
                    key_region: region,
                },
                keys,
            ))
        }
    }
}

/// The AWS CLI's "Results found" span: valid digests, clipped to the request.
fn found_range(
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
        out = Some(match out {
            None => (s, e),
            Some((s0, e0)) => (s0.min(s), e0.max(e)),
        });
    }
    out
}
