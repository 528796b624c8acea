//! Phase 5: list the trail's log folders for the window, so every object
//! there gets a verdict: log files no digest references, and objects whose
//! names CloudTrail never writes. A folder that cannot be listed is a
//! finding on that folder, not an abort.

use super::levels::Tree;
use super::logs::LogBook;
use super::{store_finding, Engine};
use crate::plan::Plan;
use crate::sources::store::list_while;
use crate::verify::chain::{ChainOutcome, Node};
use crate::verify::coverage::{classify_listed, Context, Scope};
use crate::verify::model::{LogVerdict, ObjectVerdict};
use crate::verify::proof::Closure;
use crate::verify::time::Timestamp;
use std::collections::HashSet;

impl Engine {
    /// Above the day folders of the log folders (every bucket the logs are
    /// in) and of the digest folder.
    async fn scan_trees(
        &self,
        plan: &Plan,
        buckets: &[String],
        scope: &crate::verify::coverage::Scope,
    ) -> Vec<ObjectVerdict> {
        let mut out = Vec::new();
        let log_name = format!("{}_CloudTrail_{}_", plan.root.account, plan.source_region);
        for b in buckets {
            let tree = Tree {
                bucket: b,
                region_prefix: plan.root.log_region_prefix(&plan.source_region),
                folder: "log",
                log_name: Some(log_name.clone()),
            };
            out.extend(self.scan_levels(&tree, scope).await);
        }
        let digests = Tree {
            bucket: &plan.digest_bucket,
            region_prefix: plan.root.digest_region_prefix(&plan.source_region),
            folder: "digest",
            log_name: None,
        };
        out.extend(self.scan_levels(&digests, scope).await);
        out
    }
}

/// What the log folders hold beyond what the digests list.
#[derive(Default)]
pub(super) struct Folders {
    pub logs: Vec<LogVerdict>,
    pub unexpected: Vec<ObjectVerdict>,
    /// The oldest log file still within the delivery grace that no digest
    /// lists: a checkpoint stays before it so the next run judges it.
    pub hold: Option<Timestamp>,
}

/// The window's log folders as listed (every object's key), and the
/// objects above the day folders; listed beside the log files' reads.
#[derive(Default)]
pub(super) struct Listing {
    scope: Option<Scope>,
    listed: Vec<(String, String)>,
    unexpected: Vec<ObjectVerdict>,
}

impl Engine {
    /// Lists the log folders of the window (from the digests as walked:
    /// nothing here waits on a log file's bytes).
    pub(super) async fn list_log_folders(
        &self,
        plan: &Plan,
        book: &LogBook,
        nodes: &[Node],
    ) -> Listing {
        let mut listing = Listing::default();
        if !plan.check_unreferenced {
            return listing;
        }
        let newest = nodes
            .iter()
            .filter_map(|n| n.verified().map(|v| v.digest.end))
            .max();
        let end = newest.map_or(plan.end, |e| e.max(plan.end));
        let Some(scope) = Scope::new(plan.start, end) else {
            return listing;
        };
        listing.scope = Some(scope);
        let mut buckets: Vec<String> = Vec::new();
        for p in book.plans.iter().filter(|p| !p.expected.is_empty()) {
            if !buckets.contains(&p.bucket) {
                buckets.push(p.bucket.clone());
            }
        }
        if buckets.is_empty() {
            buckets.push(plan.digest_bucket.clone());
        }
        let days = self.list_days(plan, &buckets, &scope);
        let trees = self.scan_trees(plan, &buckets, &scope);
        let ((listed, unlistable), trees) = futures::join!(days, trees);
        listing.listed = listed;
        listing.unexpected = unlistable;
        listing.unexpected.extend(trees);
        listing
    }

    /// Every key of the window's day folders; a folder that cannot be
    /// listed is a finding on it.
    async fn list_days(
        &self,
        plan: &Plan,
        buckets: &[String],
        scope: &Scope,
    ) -> (Vec<(String, String)>, Vec<ObjectVerdict>) {
        let (mut listed, mut unlistable) = (Vec::new(), Vec::new());
        for b in buckets {
            for day in scope.days() {
                let prefix = plan.root.log_day_prefix(&plan.source_region, day);
                match list_while(self.store.as_ref(), b, &prefix, None, |_| true).await {
                    Ok(keys) => listed.extend(
                        keys.into_iter()
                            .filter(|k| k.starts_with(&prefix))
                            .map(|k| (b.clone(), k)),
                    ),
                    Err(e) => {
                        let mut finding = store_finding(&e);
                        finding.reason =
                            format!("log folder could not be listed: {}", finding.reason);
                        unlistable.push(ObjectVerdict {
                            bucket: b.clone(),
                            key: prefix,
                            finding,
                        });
                    }
                }
            }
        }
        (listed, unlistable)
    }
}

/// What the listed folders hold beyond what the digests list, judged by
/// what the chain's proof says of their time.
pub(super) fn judge_log_folders(
    plan: &Plan,
    listing: Listing,
    book: &LogBook,
    (nodes, out, closure): (&[Node], &ChainOutcome, &Closure),
) -> Folders {
    let mut folders = Folders::default();
    let Some(scope) = listing.scope else {
        return folders;
    };
    folders.unexpected = listing.unexpected;
    let referenced: HashSet<(String, String)> =
        book.index.keys().chain(&book.vouched).cloned().collect();
    let (logs, strangers) = judge_unlisted(
        plan,
        (nodes, out, closure),
        scope,
        &listing.listed,
        &referenced,
    );
    let young_after = plan.now - plan.grace;
    folders.hold = logs
        .iter()
        .filter_map(|l| crate::verify::layout::parse_log_key(&l.key).map(|k| k.time))
        .filter(|t| *t > young_after)
        .min();
    folders.logs = logs;
    folders.unexpected.extend(strangers);
    folders
}

/// The verdicts of the listed objects no digest references, from what the
/// chain's proof says of their time: gaps, the pending tail, archived
/// digests' hours and verified digests' windows.
fn judge_unlisted(
    plan: &Plan,
    (nodes, out, closure): (&[Node], &ChainOutcome, &Closure),
    scope: Scope,
    listed: &[(String, String)],
    referenced: &HashSet<(String, String)>,
) -> (Vec<LogVerdict>, Vec<ObjectVerdict>) {
    let gaps: Vec<_> = out.gaps.iter().map(|(_, g)| g.clone()).collect();
    let archived: Vec<_> = nodes
        .iter()
        .filter(|n| n.archived())
        .filter_map(|n| n.key_end)
        .collect();
    let verified: Vec<_> = nodes
        .iter()
        .filter_map(|n| Some((n.start()?, n.end()?)))
        .collect();
    let cx = Context {
        root: &plan.root,
        region: &plan.source_region,
        scope,
        gaps: &gaps,
        pending: closure.pending,
        young_after: Some(plan.now - plan.grace),
        no_digest_folder: closure.no_digest_folder,
        archived: &archived,
        verified: &verified,
    };
    classify_listed(listed, referenced, &cx)
}
