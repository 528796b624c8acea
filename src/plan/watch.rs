//! The retention watch behind the checkpoint: what a chain's proven days
//! hold now, listed (and, for a local copy, hashed), against the
//! inventory the checkpoint sealed when they were proven. A day that
//! differs is proven again: the chain's window is widened back to it, so
//! the run's own checks name what was deleted, overwritten, added or moved.

use super::Plan;
use crate::plan::checkpoint::Record;
use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::inventory::{commitment, day_start, days, stamp, Inventory};
use crate::verify::layout::{parse_digest_key, parse_log_key};
use crate::verify::time::Timestamp;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The largest object a local copy's watch hashes (digests and log files
/// are far smaller).
const MAX_HASHED: u64 = 1 << 30;

/// What a chain's days from `since` to `until` hold now.
pub(crate) async fn inventory(
    store: &dyn ObjectStore,
    plan: &Plan,
    since: Timestamp,
    until: Timestamp,
) -> Result<Inventory, StoreError> {
    let mut out = BTreeMap::new();
    for day in days(since, until) {
        let mut entries = Vec::new();
        for prefix in day_prefixes(plan, day) {
            entries.extend(day_entries(store, &plan.digest_bucket, &prefix, since, until).await?);
        }
        if !entries.is_empty() {
            out.insert(day.format("%Y-%m-%d").to_string(), commitment(entries));
        }
    }
    Ok(Inventory {
        since: stamp(since),
        until: stamp(until),
        days: out,
    })
}

/// The chain's digest and log folders of one day.
fn day_prefixes(plan: &Plan, day: NaiveDate) -> [String; 2] {
    let digests = format!(
        "{}{}/",
        plan.root.digest_region_prefix(&plan.source_region),
        day.format("%Y/%m/%d")
    );
    [digests, plan.root.log_day_prefix(&plan.source_region, day)]
}

/// Every object of one day folder named within [since, until] (and every
/// object whose name says no time: a stranger is held to the day too),
/// with what says it is unchanged.
async fn day_entries(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<(String, String)>, StoreError> {
    let named = |key: &str| {
        let digest = parse_digest_key(key).map(|d| d.end);
        digest.or_else(|| parse_log_key(key).map(|l| l.time))
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_page(bucket, prefix, after.as_deref()).await?;
        for (key, tag) in page.keys.iter().zip(&page.tags) {
            if named(key).is_some_and(|t| t < since || t > until) {
                continue;
            }
            let tag = match tag {
                Some(t) => t.clone(),
                None => hashed(store, bucket, key).await?,
            };
            out.push((key.clone(), tag));
        }
        match (page.truncated, page.keys.last()) {
            (true, Some(last)) if after.as_deref() != Some(last.as_str()) => {
                after = Some(last.clone())
            }
            _ => return Ok(out),
        }
    }
}

/// A local copy says nothing of an object in its listing: the SHA-256 of
/// its bytes, and of its metadata (a digest's signature), says it.
async fn hashed(store: &dyn ObjectStore, bucket: &str, key: &str) -> Result<String, StoreError> {
    let obj = store.get(bucket, key).await?;
    let mut meta: Vec<String> = obj
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    meta.sort();
    let bytes = obj.read_to_vec(MAX_HASHED).await?;
    let digest = crate::verify::digest::sha256_hex(&bytes);
    Ok(format!("{}:{digest}:{}", bytes.len(), meta.join(",")))
}

/// Checks a chain's proven days against the inventory its record carries
/// and, where something changed, widens the plan back to the first changed
/// day. Returns the note for the report.
pub(crate) async fn behind(
    store: &dyn ObjectStore,
    plan: &mut Plan,
    record: &Record,
    authenticated: bool,
) -> Result<String, StoreError> {
    let chain = format!("{} {}", plan.root.account, plan.source_region);
    let Some(old) = &record.inventory else {
        plan.watch_since = record.end_time();
        return Ok(format!(
            "Retention watch ({chain}): the checkpoint holds no inventory yet; the days proven \
             from tonight on are watched"
        ));
    };
    let (Some(since), Some(until)) = (old.since_time(), old.until_time()) else {
        return Err(StoreError::Io(format!(
            "the checkpoint's inventory for {chain} is unreadable"
        )));
    };
    plan.watch_since = Some(since);
    let fresh = inventory(store, plan, since, until).await?;
    let changed = old.changed_days(&fresh.days);
    plan.watch_listed = Some(fresh);
    let sealed = match authenticated {
        true => "sealed by the state key",
        false => {
            "not authenticated: without --state-key whoever can write the checkpoint can \
                  rewrite it"
        }
    };
    let Some(first) = changed.first() else {
        return Ok(format!(
            "Retention watch ({chain}): the {} day(s) proven since {} are unchanged (inventory {sealed})",
            old.days.len(),
            old.since
        ));
    };
    plan.start = plan.start.min(day_start(*first).max(since));
    let list: Vec<String> = changed.iter().map(|d| d.to_string()).collect();
    Ok(format!(
        "Retention watch ({chain}): objects behind the checkpoint changed on {} (deleted, \
         overwritten, added or moved since they were proven; inventory {sealed}): the chain is \
         validated again from {}",
        list.join(", "),
        crate::verify::time::display(plan.start)
    ))
}

/// The inventory each proven chain's checkpoint record carries: its days
/// from where the watch began to the digest the record names.
pub(crate) async fn inventories(
    store: &dyn ObjectStore,
    watched: &[Plan],
    summaries: &[crate::verify::model::ChainSummary],
) -> Result<Vec<(String, String, Inventory)>, StoreError> {
    let mut out = Vec::new();
    for s in summaries.iter().filter(|s| s.strictly_proven) {
        let Some(newest) = &s.newest else { continue };
        let plan = watched
            .iter()
            .find(|p| p.root.account == s.account && p.source_region == s.region);
        let Some((plan, since)) = plan.and_then(|p| Some((p, p.watch_since?))) else {
            continue;
        };
        let since = since.min(newest.end);
        let inv = match &plan.watch_listed {
            Some(listed) => extended(store, plan, listed, since, newest.end).await?,
            None => inventory(store, plan, since, newest.end).await?,
        };
        out.push((s.account.clone(), s.region.clone(), inv));
    }
    Ok(out)
}

/// The inventory to `until`: the days before the last one `listed` covered
/// are taken from it (listed tonight, then proven by this run), the rest
/// listed now.
async fn extended(
    store: &dyn ObjectStore,
    plan: &Plan,
    listed: &Inventory,
    since: Timestamp,
    until: Timestamp,
) -> Result<Inventory, StoreError> {
    let Some(from) = listed.until_time().map(|t| day_start(t.date_naive())) else {
        return inventory(store, plan, since, until).await;
    };
    let mut inv = inventory(store, plan, from.max(since), until).await?;
    let before = listed
        .days
        .iter()
        .filter(|(d, _)| **d < from.format("%Y-%m-%d").to_string());
    inv.days.extend(before.map(|(d, c)| (d.clone(), c.clone())));
    inv.since = stamp(since);
    Ok(inv)
}
