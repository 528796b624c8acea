//! Look-behind: a window that starts while logging was stopped begins with
//! a chain that AWS signed as a new start, and the StopLogging that
//! explains the span before it lies in the log files of the last digest
//! before the window, which the walk never reads. That digest is found,
//! verified like any other, and only its log files' lifecycle records are
//! taken: nothing before the window is reported, and a digest or log file
//! that does not verify contributes nothing.

use super::logs::LogBook;
use super::walk::check_raw;
use super::Engine;
use crate::plan::Plan;
use crate::sources::store::list_while;
use crate::verify::chain::{ChainOutcome, Node};
use crate::verify::layout::{parse_digest_key, DigestSeries};
use crate::verify::lifecycle::{Lifecycle, LifecycleEvent, SLACK};
use crate::verify::pubkeys::PublicKeySet;
use crate::verify::time::Timestamp;
use chrono::Duration;

/// Day folders searched back at most (for a trail's digests before a
/// window, when a name looks like a typo).
const LOOK_BEHIND_DAYS: i64 = 31;

impl Engine {
    /// Lifecycle records from the verified digest before the window, when
    /// the window's oldest digest is a chain start after the window's start.
    pub(super) async fn look_behind(
        &self,
        plan: &Plan,
        series: &DigestSeries,
        nodes: &[Node],
        out: &ChainOutcome,
        keyset: &PublicKeySet,
        events: &[LifecycleEvent],
    ) -> Vec<LifecycleEvent> {
        let oldest = out.order.last().map(|&i| out.node(nodes, i));
        let Some(v) = oldest.and_then(Node::verified) else {
            return Vec::new();
        };
        if v.digest.previous.is_some() || v.digest.start <= plan.start {
            return Vec::new();
        }
        // Only a digest ending within the hour before the window is read:
        // what lay between an older one and the window (a restart, its
        // digests and logs deleted) no record here could rule out.
        let since = plan.start - Duration::hours(1) - SLACK;
        // The records at hand already speak: the trail's creation inside
        // the window's head, or a stop in that hour.
        let first = v.digest.start;
        let known = events.iter().any(|e| {
            (e.kind == Lifecycle::TrailCreated && e.time + SLACK >= plan.start && e.time <= first)
                || (e.kind.is_stop() && e.time > since && e.time <= first + SLACK)
        });
        if known {
            return Vec::new();
        }
        let Some(key) = self.digest_before(plan, series, first, since).await else {
            return Vec::new();
        };
        let mut keys = keyset.clone();
        if let Some(end) = parse_digest_key(&key).map(|p| p.end) {
            let hour = Duration::hours(1);
            let around = self
                .keys
                .keys_between(&plan.source_region, end - hour, end + hour);
            keys.extend(around.await.unwrap_or_default());
        }
        let Some(node) = self.fetch_checked(plan, &key, &keys).await else {
            return Vec::new();
        };
        let Some(before) = node.verified() else {
            return Vec::new();
        };
        let mut book = LogBook::default();
        for lf in &before.digest.log_files {
            book.add(lf, &key, true, false);
        }
        let (_, records, _) = self.verify_logs(&book, plan, false).await;
        records.lifecycle
    }

    /// One digest of the plan's bucket, fetched and checked as the walk
    /// checks every digest.
    async fn fetch_checked(&self, plan: &Plan, key: &str, keys: &PublicKeySet) -> Option<Node> {
        let bucket = &plan.digest_bucket;
        let item = (bucket.clone(), key.to_string(), true);
        let raw = self.fetch_digests(&[item], 1).await.pop()?;
        let state = check_raw(bucket, key, &raw, keys, &plan.source_region);
        Some(Node::new(bucket, key, true, state))
    }

    /// The key of this series' newest standard digest ending at or before
    /// `chain_start`, searched day folder by day folder with the trail's own
    /// file names.
    async fn digest_before(
        &self,
        plan: &Plan,
        series: &DigestSeries,
        chain_start: Timestamp,
        since: Timestamp,
    ) -> Option<String> {
        let region = series.root.digest_region_prefix(&series.source_region);
        for back in 0..LOOK_BEHIND_DAYS {
            let day = chain_start - Duration::days(back);
            if day.date_naive() < since.date_naive() {
                return None;
            }
            let prefix = format!(
                "{region}{}/{}",
                day.format("%Y/%m/%d"),
                series.file_prefix()
            );
            let keys = list_while(
                self.store.as_ref(),
                &plan.digest_bucket,
                &prefix,
                None,
                |_| true,
            )
            .await
            .ok()?;
            let found = keys
                .into_iter()
                .filter_map(|k| parse_digest_key(&k).map(|p| (p, k)))
                .filter(|(p, _)| series.owns(p) && !p.backfill)
                .filter(|(p, _)| p.end <= chain_start && p.end >= since)
                .max_by_key(|(p, _)| p.end);
            if let Some((_, k)) = found {
                return Some(k);
            }
        }
        None
    }
}

impl Engine {
    /// A typo in the trail's name: not one digest of this name from the
    /// window on, none in the month before it, and a digest of another trail
    /// in the folder that verifies (so that trail is real, not a planted
    /// name). Offline or without CloudTrail's word on the trail only: live,
    /// DescribeTrails already knows the name.
    pub(super) async fn refuse_other_trails_name(
        &self,
        plan: &Plan,
        series: &DigestSeries,
        walk: &super::walk::Walk,
        keyset: &PublicKeySet,
    ) -> Result<(), super::EngineError> {
        if !walk.nodes.is_empty() || !plan.require_digest_folder || plan.status.is_some() {
            return Ok(());
        }
        let Some(key) = walk.other_trails.values().next() else {
            return Ok(());
        };
        let month_before = plan.start - Duration::days(LOOK_BEHIND_DAYS);
        if self
            .digest_before(plan, series, plan.start, month_before)
            .await
            .is_some()
        {
            return Ok(());
        }
        let node = self.fetch_checked(plan, key, keyset).await;
        if node.as_ref().and_then(Node::verified).is_none() {
            return Ok(());
        }
        let found: Vec<&str> = walk.other_trails.keys().map(String::as_str).collect();
        Err(super::EngineError::OtherTrails {
            trail: plan.trail.name.clone(),
            found: found.join(", "),
        })
    }
}
