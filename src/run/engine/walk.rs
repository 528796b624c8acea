//! Phase 1: list the chain's digests (from the window's first day folder to
//! the first digest past the window), fetch and check them, and follow
//! verified pointers the listing did not cover.

use super::{Engine, EngineError};
use crate::plan::Plan;
use crate::report::model::ObjectVerdict;
use crate::sources::store::StoreError;
use crate::verify::chain::{self, Node, NodeState};
use crate::verify::digest_check::{check_digest, DigestCheck, DigestInput};
use crate::verify::layout::{parse_digest_key, DigestSeries};
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::time::Timestamp;
use chrono::{Datelike, Duration};
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};

/// Largest compressed digest object we download.
const MAX_DIGEST_OBJECT: u64 = 64 * 1024 * 1024;

/// Upper bound on digests one run will consider (pointer chains included),
/// so a hostile bucket cannot make the walk run forever.
const MAX_DIGESTS: usize = 1_000_000;

/// How many listing pages past the window the look-ahead reads while it
/// finds no digest of this trail (another trail's keys, junk): a bound on
/// work, not on time, so a trail that stopped and restarted months later is
/// still seen.
pub const LOOKAHEAD_PAGES: usize = 10;

/// A digest object as downloaded (kept so a key refresh can re-check it).
pub(super) enum Raw {
    Bytes {
        compressed: Vec<u8>,
        metadata: HashMap<String, String>,
    },
    Error(StoreError),
}

/// What the walk found.
pub(super) struct Walk {
    pub nodes: Vec<Node>,
    /// Objects in the digest folder whose names CloudTrail never writes.
    pub unexpected: Vec<ObjectVerdict>,
    /// Digests fetched that carry no signature metadata at all.
    pub unsigned: usize,
    pub fetched: usize,
}

/// One listing of the digest folder: this series' keys and the strangers.
struct Listing {
    keys: Vec<String>,
    unexpected: Vec<String>,
}

impl Engine {
    pub(super) async fn walk_digests(
        &self,
        plan: &Plan,
        series: &DigestSeries,
        keyset: &mut PublicKeySet,
    ) -> Result<Walk, EngineError> {
        let concurrency = plan.concurrency.max(1);
        let mut listed_buckets: HashSet<String> = HashSet::new();
        let first = self.list_digests(&plan.digest_bucket, series, plan).await?;
        listed_buckets.insert(plan.digest_bucket.clone());
        let mut unexpected: Vec<ObjectVerdict> = first
            .unexpected
            .iter()
            .map(|k| crate::verify::coverage::unexpected_object(&plan.digest_bucket, k, "digest"))
            .collect();
        let mut queue: Vec<(String, String, bool)> = first
            .keys
            .into_iter()
            .map(|k| (plan.digest_bucket.clone(), k, true))
            .collect();
        let mut raws: HashMap<(String, String), Raw> = HashMap::new();
        let mut nodes: Vec<Node> = Vec::new();
        let mut asked: HashSet<String> = HashSet::new();
        while !queue.is_empty() && nodes.len() < MAX_DIGESTS {
            self.progress.add_digests(queue.len() as u64);
            let fetched = self.fetch_digests(&queue, concurrency).await;
            for ((bucket, key, listed), raw) in queue.drain(..).zip(fetched) {
                let state = check_raw(&bucket, &key, &raw, keyset, &plan.source_region);
                nodes.push(Node::new(&bucket, &key, listed, state));
                raws.insert((bucket, key), raw);
            }
            self.refresh_keys(plan, &mut nodes, &raws, keyset, &mut asked)
                .await?;
            // Follow verified pointers the listing did not cover; a chain that
            // moves to another bucket gets that bucket listed too.
            let targets = chain::pending_targets(&nodes, plan.start);
            let mut queued: HashSet<(String, String)> = HashSet::new();
            for (bucket, _) in &targets {
                if listed_buckets.insert(bucket.clone()) {
                    let more = self.list_digests(bucket, series, plan).await?;
                    unexpected.extend(
                        more.unexpected.iter().map(|k| {
                            crate::verify::coverage::unexpected_object(bucket, k, "digest")
                        }),
                    );
                    for k in more.keys {
                        let id = (bucket.clone(), k.clone());
                        if !raws.contains_key(&id) && queued.insert(id) {
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
        let unsigned = raws
            .values()
            .filter(
                |r| matches!(r, Raw::Bytes { metadata, .. } if !metadata.contains_key("signature")),
            )
            .count();
        let fetched = raws
            .values()
            .filter(|r| matches!(r, Raw::Bytes { .. }))
            .count();
        Ok(Walk {
            nodes,
            unexpected,
            unsigned,
            fetched,
        })
    }

    /// A fingerprint missing from the first answer gets one more look-up
    /// around that digest's own signing time before it is reported (for a
    /// backfill digest: its backfill-generation-timestamp, as the AWS CLI does).
    async fn refresh_keys(
        &self,
        plan: &Plan,
        nodes: &mut [Node],
        raws: &HashMap<(String, String), Raw>,
        keyset: &mut PublicKeySet,
        asked: &mut HashSet<String>,
    ) -> Result<(), EngineError> {
        let mut refreshed = false;
        for n in nodes.iter() {
            let NodeState::Checked(DigestCheck::Failed {
                unknown_fingerprint: Some(fp),
                parsed: Some(d),
                ..
            }) = &n.state
            else {
                continue;
            };
            if !asked.insert(fp.clone()) {
                continue;
            }
            let at = signing_time(raws.get(&(n.bucket.clone(), n.key.clone())), n.backfill)
                .unwrap_or(d.end);
            let more = self
                .keys
                .keys_between(
                    &plan.source_region,
                    at - Duration::hours(1),
                    at + Duration::hours(1),
                )
                .await?;
            refreshed |= !more.is_empty();
            keyset.extend(more);
        }
        if refreshed {
            for n in nodes.iter_mut() {
                let retry = matches!(&n.state, NodeState::Checked(DigestCheck::Failed { unknown_fingerprint: Some(fp), .. }) if keyset.get(fp).is_some());
                if retry {
                    if let Some(raw) = raws.get(&(n.bucket.clone(), n.key.clone())) {
                        n.state = check_raw(&n.bucket, &n.key, raw, keyset, &plan.source_region);
                    }
                }
            }
        }
        Ok(())
    }

    /// Lists this series' digest keys from the first day folder of the
    /// window to the first digest past `end + 1 h`, however far (look-ahead:
    /// its pointer vouches for the digests at the window's end; a restart
    /// there says the trail logged again). Keys CloudTrail never writes are
    /// returned apart.
    async fn list_digests(
        &self,
        bucket: &str,
        series: &DigestSeries,
        plan: &Plan,
    ) -> Result<Listing, EngineError> {
        let prefix = series.root.digest_region_prefix(&series.source_region);
        let day =
            |t: Timestamp| format!("{prefix}{:04}/{:02}/{:02}/", t.year(), t.month(), t.day());
        let first_day = day(plan.start - Duration::minutes(1));
        let past_window = day(plan.end + Duration::days(1));
        let mut pages_past = 0usize;
        let stop = plan.end + Duration::hours(1);
        let mut cutoff: Option<Timestamp> = None;
        let mut out = Listing {
            keys: Vec::new(),
            unexpected: Vec::new(),
        };
        let mut after = first_day.clone();
        let list_err = |source| EngineError::List {
            bucket: bucket.to_string(),
            prefix: prefix.clone(),
            source,
        };
        'pages: loop {
            let page = self
                .store
                .list_page(bucket, &prefix, Some(&after))
                .await
                .map_err(list_err)?;
            for k in &page.keys {
                if !k.starts_with(&prefix) || *k <= after {
                    continue; // a misbehaving server
                }
                let parsed = parse_digest_key(k);
                // Past the look-ahead digest only a backfill digest of the
                // same end remains (it sorts right after it): a log file it
                // lists is in the folders the scan reads.
                if let Some(c) = cutoff {
                    if !parsed
                        .as_ref()
                        .is_some_and(|p| series.owns(p) && p.end <= c)
                    {
                        break 'pages;
                    }
                }
                match parsed {
                    Some(p) if series.owns(&p) => {
                        if p.end < plan.start {
                            continue;
                        }
                        out.keys.push(k.clone());
                        if p.end > stop && !p.backfill {
                            cutoff = cutoff.or(Some(p.end));
                        }
                    }
                    // Another trail writing to the same folder: not ours to judge.
                    Some(p) if p.root == series.root && p.source_region == series.source_region => {
                    }
                    _ => out.unexpected.push(k.clone()),
                }
            }
            let Some(last) = page.keys.last().filter(|_| page.truncated) else {
                break;
            };
            if *last <= after {
                // A server that does not advance would loop forever, and a
                // listing cut short must not pass for a complete one.
                return Err(list_err(StoreError::Io(format!(
                    "listing of s3://{bucket}/{prefix} did not advance"
                ))));
            }
            if *last >= past_window {
                pages_past += 1;
                if pages_past >= LOOKAHEAD_PAGES {
                    break;
                }
            }
            after = last.clone();
        }
        Ok(out)
    }

    /// Downloads digests concurrently; results in input order.
    async fn fetch_digests(
        &self,
        items: &[(String, String, bool)],
        concurrency: usize,
    ) -> Vec<Raw> {
        let mut out: Vec<(usize, Raw)> = stream::iter(items.iter().enumerate())
            .map(|(i, (bucket, key, _))| async move {
                let mut attempt = 0;
                let raw = loop {
                    attempt += 1;
                    let raw = match self.store.get(bucket, key).await {
                        Ok(obj) => {
                            match obj.body.read_to_vec_sized(MAX_DIGEST_OBJECT, obj.len).await {
                                Ok(compressed) => Raw::Bytes {
                                    compressed,
                                    metadata: obj.metadata,
                                },
                                Err(e) => Raw::Error(e),
                            }
                        }
                        Err(e) => Raw::Error(e),
                    };
                    // A connection dropped mid-body (the SDK retries only up
                    // to the response headers) is not the object's fault.
                    match raw {
                        Raw::Error(StoreError::Io(_)) if attempt < super::BODY_ATTEMPTS => continue,
                        raw => break raw,
                    }
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
}

/// When a digest was signed: a backfill digest's generation time.
fn signing_time(raw: Option<&Raw>, backfill: bool) -> Option<Timestamp> {
    if !backfill {
        return None;
    }
    match raw? {
        Raw::Bytes { metadata, .. } => metadata
            .get("backfill-generation-timestamp")
            .and_then(|t| crate::verify::time::parse_user_time(t).ok()),
        Raw::Error(_) => None,
    }
}

fn check_raw(bucket: &str, key: &str, raw: &Raw, keys: &PublicKeySet, region: &str) -> NodeState {
    match raw {
        Raw::Error(e) => NodeState::Unreadable(super::store_finding(e)),
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
