//! The retention watch behind the checkpoint: what a chain's proven days
//! hold now, listed (and, for a local copy, hashed) before anything is
//! read, against the inventory the checkpoint sealed when they were
//! proven. A day that differs is proven again: the chain's window is
//! widened back to it, so the run's own checks name what was deleted,
//! overwritten, added or moved. The next inventory is made from the same
//! listing (never from one taken after the run read the objects).

use super::Plan;
use crate::plan::checkpoint::Record;
use crate::sources::store::limit::ReadPins;
use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::inventory::{commitment, day_start, days, stamp, Entry, Inventory, Listed};
use crate::verify::layout::{parse_digest_key, parse_log_key};
use crate::verify::time::Timestamp;
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// The largest object a local copy's watch hashes (digests and log files
/// are far smaller).
const MAX_HASHED: u64 = 1 << 30;

/// The longest span an inventory may cover: a checkpoint claiming more is
/// refused rather than listed day by day.
const MAX_WATCHED_DAYS: i64 = 20 * 366;

/// The commitments of `listed` over [since, until].
fn committed(listed: &Listed, since: Timestamp, until: Timestamp) -> BTreeMap<String, String> {
    let within = |e: &&Entry| e.named.is_none_or(|t| t >= since && t <= until);
    let days = listed
        .iter()
        .filter(|(d, _)| **d >= since.date_naive() && **d <= until.date_naive());
    days.filter_map(|(d, entries)| {
        let kept: Vec<(String, String)> = entries
            .iter()
            .filter(within)
            .map(|e| (e.key.clone(), e.tag.clone()))
            .collect();
        (!kept.is_empty()).then(|| (d.format("%Y-%m-%d").to_string(), commitment(kept)))
    })
    .collect()
}

/// Lists the chain's digest and log folders of every day from `since` to
/// `until`.
async fn list_days(
    store: &dyn ObjectStore,
    plan: &Plan,
    since: Timestamp,
    until: Timestamp,
) -> Result<Listed, StoreError> {
    let mut out = Listed::new();
    for day in days(since, until) {
        let mut entries = Vec::new();
        for prefix in day_prefixes(plan, day) {
            entries.extend(day_entries(store, &plan.digest_bucket, &prefix).await?);
        }
        out.insert(day, entries);
    }
    Ok(out)
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

/// Every object of one day folder, with what says it is unchanged.
async fn day_entries(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<Entry>, StoreError> {
    let named = |key: &str| {
        let digest = parse_digest_key(key).map(|d| d.end);
        digest.or_else(|| parse_log_key(key).map(|l| l.time))
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_page(bucket, prefix, after.as_deref()).await?;
        if page.tags.len() != page.keys.len() {
            return Err(StoreError::Io(format!(
                "the listing of {prefix} has no tag per key"
            )));
        }
        for (key, tag) in page.keys.iter().zip(&page.tags) {
            let tag = match tag {
                Some(t) => t.clone(),
                None => hashed(store, bucket, key).await?,
            };
            out.push(Entry {
                key: key.clone(),
                tag,
                named: named(key),
            });
        }
        match (page.truncated, page.keys.last()) {
            (false, _) => return Ok(out),
            (true, Some(last)) if after.as_deref() != Some(last.as_str()) => {
                after = Some(last.clone())
            }
            _ => {
                return Err(StoreError::Io(format!(
                    "the listing of {prefix} does not advance"
                )))
            }
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

/// The chain's days as they are before tonight's run reads anything, to
/// past the window's end (the next inventory's last day is tonight's).
async fn list_tonight(
    store: &dyn ObjectStore,
    plan: &mut Plan,
    since: Timestamp,
) -> Result<(), StoreError> {
    let until = plan.end + Duration::hours(2);
    plan.watch_listed = Some(list_days(store, plan, since, until).await?);
    Ok(())
}

/// Where the watch of a recorded chain begins: the inventory's start, or
/// a later `--start-time` (days before it are no longer watched: a
/// lifecycle rule that expires them is then no finding).
fn watched_since(old: &Inventory, start: Option<Timestamp>) -> Option<Timestamp> {
    let since = old.since_time()?;
    Some(match start.map(|s| day_start(s.date_naive())) {
        Some(s) if s > since => s,
        _ => since,
    })
}

/// Checks a chain's proven days against the inventory its record carries
/// and, where something changed, widens the plan back to the first changed
/// day; lists tonight's days for the next inventory. Returns the note.
pub(crate) async fn behind(
    store: &dyn ObjectStore,
    plan: &mut Plan,
    record: &Record,
    start: Option<Timestamp>,
    authenticated: bool,
) -> Result<String, StoreError> {
    let chain = format!("{} {}", plan.root.account, plan.source_region);
    let Some(old) = &record.inventory else {
        let since = record.end_time().unwrap_or(plan.start);
        plan.watch_since = Some(since);
        list_tonight(store, plan, since).await?;
        return Ok(format!(
            "Retention watch ({chain}): the checkpoint holds no inventory yet; the days proven \
             from tonight on are watched"
        ));
    };
    let corrupt = || StoreError::Io(format!("the checkpoint's inventory for {chain} is not one"));
    let (Some(since), Some(until), Some(recorded)) = (
        watched_since(old, start),
        old.until_time(),
        record.end_time(),
    ) else {
        return Err(corrupt());
    };
    if since > until || until != recorded || (until - since).num_days() > MAX_WATCHED_DAYS {
        return Err(corrupt());
    }
    // A widened night proves the chain from its earlier start: tonight's
    // inventory, if the chain is proven, commits to that span too (the
    // comparison below stays within what the old one committed to).
    let tonight_since = since.min(plan.start);
    plan.watch_since = Some(tonight_since);
    list_tonight(store, plan, tonight_since).await?;
    let listed = plan
        .watch_listed
        .as_ref()
        .map(|l| committed(l, since, until))
        .unwrap_or_default();
    let kept = old
        .days
        .iter()
        .filter(|(d, _)| **d >= since.format("%Y-%m-%d").to_string());
    let old_days = Inventory {
        days: kept.map(|(d, c)| (d.clone(), c.clone())).collect(),
        ..old.clone()
    };
    let changed = old_days.changed_days(&listed);
    let sealed = match authenticated {
        true => "sealed by the state key",
        false => {
            "not authenticated: without --state-key whoever can write the checkpoint can \
                  rewrite it"
        }
    };
    let retired = match old.since_time().is_some_and(|s| s < since) {
        true => format!(
            "; days before {} are no longer watched (--start-time is later than the watch's \
             start {})",
            stamp(since),
            old.since
        ),
        false => String::new(),
    };
    let Some(first) = changed.first() else {
        return Ok(format!(
            "Retention watch ({chain}): the {} day(s) proven since {} are unchanged (inventory \
             {sealed}){retired}",
            old_days.days.len(),
            stamp(since)
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

/// A chain the checkpoint does not record yet: its days are listed before
/// the run, so its first inventory is what was there when it was proven.
pub(crate) async fn first_night(
    store: &dyn ObjectStore,
    plan: &mut Plan,
) -> Result<(), StoreError> {
    let Some(since) = plan.watch_since else {
        return Ok(());
    };
    list_tonight(store, plan, since).await
}

/// The ETag a listing's tag holds (S3: `size:etag:lastmodified`).
fn listed_etag(tag: &str) -> Option<&str> {
    tag.split(':').nth(1).filter(|e| !e.is_empty())
}

/// Leaves out of `listed` each day holding an object the run read at
/// another version than listed (changed between the listing and the read,
/// and maybe back after): the next night sees that day as changed.
fn read_as_listed(bucket: &str, listed: &Listed, pins: &ReadPins) -> Listed {
    let pins = pins.lock().unwrap_or_else(|p| p.into_inner());
    let same = |e: &Entry| {
        let read = pins.get(&(bucket.to_string(), e.key.clone()));
        match (read.and_then(|p| p.etag.as_deref()), listed_etag(&e.tag)) {
            (Some(got), Some(want)) => got.trim_matches('"') == want.trim_matches('"'),
            _ => true,
        }
    };
    let kept = listed
        .iter()
        .filter(|(_, entries)| entries.iter().all(same));
    kept.map(|(d, e)| (*d, e.clone())).collect()
}

/// The inventory each proven chain's checkpoint record carries: its days
/// from where the watch began to the digest the record names, from the
/// listing taken before the run (a day read at another version is left
/// out, to be proven again).
pub(crate) fn inventories(
    watched: &[Plan],
    summaries: &[crate::verify::model::ChainSummary],
    pins: &ReadPins,
) -> Vec<(String, String, Inventory)> {
    let mut out = Vec::new();
    for s in summaries.iter().filter(|s| s.strictly_proven) {
        let Some(newest) = &s.newest else { continue };
        let plan = watched
            .iter()
            .find(|p| p.root.account == s.account && p.source_region == s.region);
        let Some((listed, since)) =
            plan.and_then(|p| Some((p.watch_listed.as_ref()?, p.watch_since?)))
        else {
            continue;
        };
        let since = since.min(newest.end);
        let bucket = plan.map(|p| p.digest_bucket.as_str()).unwrap_or_default();
        let listed = read_as_listed(bucket, listed, pins);
        let inv = Inventory {
            since: stamp(since),
            until: stamp(newest.end),
            days: committed(&listed, since, newest.end),
        };
        out.push((s.account.clone(), s.region.clone(), inv));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::store::ReadPin;

    /// A day holding an object the run read at another ETag than listed
    /// (swapped between the listing and the read) is left out of the next
    /// inventory; one read as listed, or not read, stays.
    #[test]
    fn a_day_read_at_another_version_is_not_sealed() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let entry = |key: &str, etag: &str| Entry {
            key: key.into(),
            tag: format!("10:{etag}:2026-03-01T00:00:00Z"),
            named: None,
        };
        let listed: Listed = [
            (day(1), vec![entry("a", "\"e1\"")]),
            (day(2), vec![entry("b", "\"e2\""), entry("c", "\"e3\"")]),
        ]
        .into();
        let pins = ReadPins::default();
        let pin = |etag: &str| ReadPin {
            etag: Some(etag.into()),
            version_id: None,
        };
        pins.lock()
            .unwrap()
            .insert(("bk".into(), "a".into()), pin("e1"));
        pins.lock()
            .unwrap()
            .insert(("bk".into(), "b".into()), pin("\"swapped\""));
        let kept = read_as_listed("bk", &listed, &pins);
        assert!(kept.contains_key(&day(1)));
        assert!(!kept.contains_key(&day(2)));
    }
}
