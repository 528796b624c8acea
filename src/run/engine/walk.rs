//! Phase 1: list the chain's digests (from the window's first day folder to
//! the first digest past the window), fetch and check them, and follow
//! verified pointers the listing did not cover.

use super::{Engine, EngineError};
use crate::plan::Plan;
use crate::sources::store::StoreError;
use crate::verify::chain::{self, Node, NodeState};
use crate::verify::digest_check::{check_digest, DigestCheck, DigestInput};
use crate::verify::layout::{parse_digest_key, DigestSeries};
use crate::verify::model::ObjectVerdict;
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::time::Timestamp;
use chrono::{Datelike, Duration};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Largest compressed digest object we download.
const MAX_DIGEST_OBJECT: u64 = 64 * 1024 * 1024;

/// Upper bound on digests one run will consider (pointer chains included),
/// so a hostile bucket cannot make the walk run forever.
const MAX_DIGESTS: usize = 1_000_000;

/// How many listing requests past the window the look-ahead makes before
/// it gives up ("not proven"): about two per day folder that other trails
/// share, so years of a stopped trail's folder are still read; a bound on
/// work, not on time.
pub(crate) const LOOKAHEAD_REQUESTS: usize = 2_000;

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
    /// Every listing reached a later digest or its folder's end.
    pub listing_complete: bool,
    /// Other trails' names seen in the digest folder, each with one key.
    pub other_trails: BTreeMap<String, String>,
}

/// One listing of the digest folder: this series' keys and the strangers.
/// What the walk has yet to fetch and what its listings found.
struct Frontier {
    /// (bucket, key, listed): listed, or named by a verified pointer.
    queue: Vec<(String, String, bool)>,
    /// Queued in this round (a key listed and pointed to is fetched once).
    queued: HashSet<(String, String)>,
    listed: HashSet<String>,
    complete: bool,
    unexpected: Vec<ObjectVerdict>,
    other_trails: std::collections::BTreeMap<String, String>,
}

impl Frontier {
    fn new() -> Frontier {
        Frontier {
            queue: Vec::new(),
            queued: HashSet::new(),
            listed: HashSet::new(),
            complete: true,
            unexpected: Vec::new(),
            other_trails: Default::default(),
        }
    }

    /// Queues a digest not fetched yet, once.
    fn push(&mut self, seen: &HashSet<(String, String)>, bucket: &str, key: String, listed: bool) {
        let id = (bucket.to_string(), key);
        if !seen.contains(&id) && self.queued.insert(id.clone()) {
            self.queue.push((id.0, id.1, listed));
        }
    }
}

/// What the walk keeps of the digests it fetched: their names, two counts,
/// and the bytes only of those signed with a key unknown when they were
/// checked, which a refreshed key set checks again (kept to the walk's
/// end: a later round may bring their key). The rest are dropped once
/// checked, so a chain-year does not hold 8,760 objects and their
/// metadata.
#[derive(Default)]
struct Fetched {
    seen: HashSet<(String, String)>,
    held: HashMap<(String, String), Raw>,
    /// Read whole (an unreadable object is not counted).
    read: usize,
    /// Read whole with no signature metadata at all.
    unsigned: usize,
}

impl Fetched {
    fn note(&mut self, bucket: String, key: String, raw: Raw, state: &NodeState) {
        if let Raw::Bytes { metadata, .. } = &raw {
            self.read += 1;
            self.unsigned += usize::from(!metadata.contains_key("signature"));
        }
        let id = (bucket, key);
        if may_check_again(state) {
            self.held.insert(id.clone(), raw);
        }
        self.seen.insert(id);
    }
}

/// Failed only for want of its key: a key set refreshed around its time
/// may verify it.
fn may_check_again(state: &NodeState) -> bool {
    matches!(
        state,
        NodeState::Checked(DigestCheck::Failed {
            unknown_fingerprint: Some(_),
            ..
        })
    )
}

struct Listing {
    keys: Vec<String>,
    unexpected: Vec<String>,
    /// The look-ahead reached a later digest or the folder's end.
    complete: bool,
    /// Other trails whose digests share the folder (a few names, each with
    /// one of its keys).
    other_trails: BTreeMap<String, String>,
}

/// The digest listing's state across pages.
struct Pages<'a> {
    series: &'a DigestSeries,
    start: Timestamp,
    /// The look-ahead looks for the first standard digest ending after this.
    stop: Timestamp,
    past_window: String,
    prefix: &'a str,
    own_name: String,
    /// Set once the look-ahead digest is found: its backfill digest's key,
    /// the last one of ours that matters.
    last_wanted: Option<String>,
    out: Listing,
}

/// What to do after a page.
enum Step {
    Done,
    /// Resume after this key (past the window: ours is further on).
    Jump(String),
    /// Resume after the page's last key.
    Next,
}

impl Pages<'_> {
    fn take(&mut self, keys: &[String], after: &str) -> Step {
        for k in keys {
            if !k.starts_with(self.prefix) || k.as_str() <= after {
                continue; // a misbehaving server
            }
            if self.last_wanted.as_ref().is_some_and(|w| k > w) {
                return Step::Done;
            }
            let ahead = *k >= self.past_window && self.last_wanted.is_none();
            let jump = match parse_digest_key(k) {
                Some(p) if self.series.owns(&p) => {
                    if p.end >= self.start {
                        self.out.keys.push(k.clone());
                        if p.end > self.stop && !p.backfill && self.last_wanted.is_none() {
                            self.last_wanted = Some(self.series.key(p.end, true));
                        }
                    }
                    None
                }
                // Another trail writing to the same folder: not ours to
                // judge; past the window, skip to where ours would be.
                Some(p)
                    if p.root == self.series.root
                        && p.source_region == self.series.source_region =>
                {
                    if self.out.other_trails.len() < 10 {
                        let name = p.trail_name.clone();
                        self.out
                            .other_trails
                            .entry(name)
                            .or_insert_with(|| k.clone());
                    }
                    ahead
                        .then(|| skip_to_own(k, self.prefix, &self.own_name))
                        .flatten()
                }
                // Past the window a stranger is skipped, unless its name
                // carries this trail's own: that is ours to judge anywhere.
                _ if ahead && !carries_name(k, &self.own_name) => {
                    skip_to_own(k, self.prefix, &self.own_name)
                }
                _ => {
                    self.out.unexpected.push(k.clone());
                    None
                }
            };
            if let Some(j) = jump {
                return Step::Jump(j);
            }
        }
        Step::Next
    }
}

/// The object's file name starts with this trail's own digest name.
fn carries_name(k: &str, own_name: &str) -> bool {
    k.rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with(own_name))
}

/// Where to resume after key `k` (past the window, not ours): this trail's
/// own name in `k`'s day folder when `k` sorts before it, else the next
/// calendar day's folder when `k` sorts after every key carrying the own
/// name. A key that carries the own name itself is never jumped from: a
/// name chosen to sort first in that range would otherwise hide the
/// genuine digests behind it. None: the listing walks on, bounded.
fn skip_to_own(k: &str, prefix: &str, own_name: &str) -> Option<String> {
    let rest = k.strip_prefix(prefix)?;
    let day = rest.get(..11)?;
    let date = chrono::NaiveDate::parse_from_str(day.get(..10)?, "%Y/%m/%d").ok()?;
    if !day.ends_with('/') {
        return None;
    }
    let own = format!("{prefix}{day}{own_name}");
    if *k < *own {
        return Some(own);
    }
    if k.starts_with(&own) {
        return None;
    }
    let next = date.succ_opt()?;
    Some(format!("{prefix}{}/", next.format("%Y/%m/%d")))
}

impl Engine {
    pub(super) async fn walk_digests(
        &self,
        plan: &Plan,
        series: &DigestSeries,
        keyset: &mut PublicKeySet,
    ) -> Result<Walk, EngineError> {
        let concurrency = plan.concurrency.max(1);
        let mut frontier = Frontier::new();
        let mut fetched = Fetched::default();
        let bucket = &plan.digest_bucket;
        for key in self.list_into(&mut frontier, bucket, series, plan).await? {
            frontier.push(&fetched.seen, bucket, key, true);
        }
        let other_trails = frontier.other_trails.clone();
        let mut nodes: Vec<Node> = Vec::new();
        let mut asked: HashSet<String> = HashSet::new();
        while !frontier.queue.is_empty() && nodes.len() < MAX_DIGESTS {
            let queue = std::mem::take(&mut frontier.queue);
            self.progress.add_digests(queue.len() as u64);
            let raws = self.fetch_digests(&queue, concurrency).await;
            for ((bucket, key, listed), raw) in queue.into_iter().zip(raws) {
                let state = check_raw(&bucket, &key, &raw, keyset, &plan.source_region);
                nodes.push(Node::new(&bucket, &key, listed, state));
                fetched.note(bucket, key, raw, &nodes[nodes.len() - 1].state);
            }
            self.refresh_keys(plan, &mut nodes, &fetched.held, keyset, &mut asked)
                .await?;
            // Follow verified pointers the listing did not cover; a chain that
            // moves to another bucket gets that bucket listed too.
            let targets = chain::pending_targets(&nodes, plan.start);
            for (bucket, _) in &targets {
                if !frontier.listed.contains(bucket) {
                    for key in self.list_into(&mut frontier, bucket, series, plan).await? {
                        frontier.push(&fetched.seen, bucket, key, true);
                    }
                }
            }
            for (bucket, key) in targets {
                frontier.push(&fetched.seen, &bucket, key, false);
            }
            frontier.queued.clear();
        }
        Ok(Walk {
            nodes,
            unexpected: frontier.unexpected,
            unsigned: fetched.unsigned,
            fetched: fetched.read,
            listing_complete: frontier.complete,
            other_trails,
        })
    }

    /// Lists `bucket`'s digest folder: its objects CloudTrail never names
    /// and whether the listing ended go into the frontier; its digest keys
    /// are returned.
    async fn list_into(
        &self,
        frontier: &mut Frontier,
        bucket: &str,
        series: &DigestSeries,
        plan: &Plan,
    ) -> Result<Vec<String>, EngineError> {
        let first = frontier.listed.is_empty();
        frontier.listed.insert(bucket.to_string());
        let listed = self.list_digests(bucket, series, plan).await?;
        frontier.complete &= listed.complete;
        if first {
            frontier.other_trails = listed.other_trails.clone();
        }
        let unexpected = listed.unexpected.iter();
        frontier.unexpected.extend(
            unexpected.map(|k| crate::verify::coverage::unexpected_object(bucket, k, "digest")),
        );
        Ok(listed.keys)
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
    /// there says the trail logged again), and a backfill digest of the same
    /// end. Keys CloudTrail never writes are returned apart. Past the window,
    /// the listing jumps to this trail's own name in each day folder, so
    /// other trails' keys cannot use up its bound; a bound that runs out
    /// leaves `complete` false ("not proven"), never "nothing there".
    async fn list_digests(
        &self,
        bucket: &str,
        series: &DigestSeries,
        plan: &Plan,
    ) -> Result<Listing, EngineError> {
        let prefix = series.root.digest_region_prefix(&series.source_region);
        let day =
            |t: Timestamp| format!("{prefix}{:04}/{:02}/{:02}/", t.year(), t.month(), t.day());
        let past_window = day(plan.end + Duration::days(1));
        let mut pages = Pages {
            series,
            start: plan.start,
            stop: plan.end + Duration::hours(1),
            past_window: past_window.clone(),
            prefix: &prefix,
            own_name: series.file_prefix(),
            last_wanted: None,
            out: Listing {
                keys: Vec::new(),
                unexpected: Vec::new(),
                complete: true,
                other_trails: BTreeMap::new(),
            },
        };
        let mut after = day(plan.start - Duration::minutes(1));
        let mut requests_ahead = 0usize;
        let list_err = |source| EngineError::List {
            bucket: bucket.to_string(),
            prefix: prefix.clone(),
            source,
        };
        loop {
            let page = self
                .store
                .list_page(bucket, &prefix, Some(&after))
                .await
                .map_err(list_err)?;
            let jump = match pages.take(&page.keys, &after) {
                Step::Done => return Ok(pages.out),
                Step::Jump(j) => Some(j),
                Step::Next => None,
            };
            let next = match jump {
                Some(j) => j,
                None => {
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
                    last.clone()
                }
            };
            if next >= past_window {
                requests_ahead += 1;
                if requests_ahead > LOOKAHEAD_REQUESTS {
                    pages.out.complete = false;
                    break;
                }
            }
            after = next;
        }
        Ok(pages.out)
    }

    /// Downloads digests concurrently; results in input order.
    pub(super) async fn fetch_digests(
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

pub(super) fn check_raw(
    bucket: &str,
    key: &str,
    raw: &Raw,
    keys: &PublicKeySet,
    region: &str,
) -> NodeState {
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

#[cfg(test)]
mod tests {
    use super::skip_to_own;

    #[test]
    fn past_the_window_the_listing_skips_to_the_trails_own_name() {
        let p = "AWSLogs/1/CloudTrail-Digest/us-east-1/";
        let own = "1_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_";
        let other = format!("{p}2026/03/02/1_CloudTrail-Digest_us-east-1_another-trail_x.json.gz");
        assert_eq!(
            skip_to_own(&other, p, own),
            Some(format!("{p}2026/03/02/{own}"))
        );
        let later = format!("{p}2026/03/31/1_CloudTrail-Digest_us-east-1_zzz-trail_x.json.gz");
        assert_eq!(skip_to_own(&later, p, own), Some(format!("{p}2026/04/01/")));
        assert_eq!(skip_to_own(&format!("{p}junk/x"), p, own), None);
        // A name that carries ours is walked past, never jumped from.
        assert_eq!(skip_to_own(&format!("{p}2026/03/02/{own}!x"), p, own), None);
        assert_eq!(skip_to_own(&format!("{p}2026/13/45/x"), p, own), None);
    }
}
