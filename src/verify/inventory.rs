//! The retention watch's inventory: per chain and UTC day, a commitment
//! (SHA-256) over every object the chain's digest and log day folders held
//! when the days were proven, by key and by what says its bytes are the
//! same (S3: size, ETag, LastModified; a local copy: the SHA-256 of its
//! bytes and of a digest's metadata). Sealed in the checkpoint, it lets a
//! nightly run see, by listing alone, that something behind its checkpoint
//! was deleted, overwritten, added or moved, and prove those days again.

use crate::verify::digest::sha256_hex;
use crate::verify::time::{display, parse_digest_time, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one chain's proven days held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The first instant the watch covers (the first proven window's
    /// start): objects named before it were never verified and are not
    /// committed to.
    pub since: String,
    /// The last instant it covers (the checkpoint's digest end).
    pub until: String,
    /// `YYYY-MM-DD` -> commitment (hex).
    pub days: BTreeMap<String, String>,
}

impl Inventory {
    pub fn since_time(&self) -> Option<Timestamp> {
        parse_digest_time(&self.since)
    }

    pub fn until_time(&self) -> Option<Timestamp> {
        parse_digest_time(&self.until)
    }

    /// The days whose commitment differs from `fresh` (changed, emptied
    /// or newly holding objects), earliest first.
    pub fn changed_days(&self, fresh: &BTreeMap<String, String>) -> Vec<NaiveDate> {
        let days = self.days.keys().chain(fresh.keys());
        let mut changed: Vec<NaiveDate> = days
            .filter(|d| self.days.get(*d) != fresh.get(*d))
            .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .collect();
        changed.sort();
        changed.dedup();
        changed
    }
}

/// One object of a day folder: its key, what says it is unchanged, and the
/// time its name says (None: a name CloudTrail never writes).
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub tag: String,
    pub named: Option<Timestamp>,
}

/// A chain's day folders as listed tonight.
pub type Listed = BTreeMap<NaiveDate, Vec<Entry>>;

/// A day's commitment over (key, tag) pairs, in any order.
pub fn commitment(mut entries: Vec<(String, String)>) -> String {
    entries.sort();
    let mut text = String::new();
    for (key, tag) in entries {
        text.push_str(&format!("{key}\t{tag}\n"));
    }
    sha256_hex(text.as_bytes())
}

/// The days from `since` to `until`, both included, as the folders name them.
pub fn days(since: Timestamp, until: Timestamp) -> Vec<NaiveDate> {
    let (mut d, last) = (since.date_naive(), until.date_naive());
    let mut out = Vec::new();
    while d <= last {
        out.push(d);
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// The instant a day begins.
pub fn day_start(day: NaiveDate) -> Timestamp {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// An inventory's `since`/`until` as written.
pub fn stamp(t: Timestamp) -> String {
    display(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    #[test]
    fn a_changed_added_or_emptied_day_is_found() {
        let c = |v: &[(&str, &str)]| {
            commitment(
                v.iter()
                    .map(|(k, t)| (k.to_string(), t.to_string()))
                    .collect(),
            )
        };
        let old = Inventory {
            since: "2026-03-01T00:00:00Z".into(),
            until: "2026-03-03T06:00:00Z".into(),
            days: [
                ("2026-03-01".to_string(), c(&[("a", "1"), ("b", "2")])),
                ("2026-03-02".to_string(), c(&[("c", "3")])),
                ("2026-03-03".to_string(), c(&[("d", "4")])),
            ]
            .into(),
        };
        assert_eq!(
            c(&[("b", "2"), ("a", "1")]),
            old.days["2026-03-01"],
            "order-free"
        );
        let mut fresh = old.days.clone();
        assert!(old.changed_days(&fresh).is_empty());
        fresh.insert("2026-03-02".into(), c(&[("c", "3x")]));
        fresh.remove("2026-03-03");
        let changed = old.changed_days(&fresh);
        let want: Vec<NaiveDate> = ["2026-03-02", "2026-03-03"]
            .iter()
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
            .collect();
        assert_eq!(changed, want);
        let t = |s| parse_user_time(s).unwrap();
        assert_eq!(
            days(t("2026-03-01T05:00:00Z"), t("2026-03-03T00:00:00Z")).len(),
            3
        );
    }
}
