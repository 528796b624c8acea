//! Phase 5, above the day folders: so that every object under the trail's
//! folders for the window gets a verdict, not only those in its day
//! folders: loose objects at the region, year and month levels the window
//! touches, everything inside a folder whose name is not a date, and log
//! files named for the window but lying in another day's folder of its
//! months.

use super::{store_finding, Engine};
use crate::sources::store::{list_while, Level};
use crate::verify::coverage::{unexpected_object, Scope};
use crate::verify::model::ObjectVerdict;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeSet;

/// Keys reported one by one inside a folder that is not a date; past this,
/// the folder itself is reported with the count so far.
const MAX_JUNK_KEYS: usize = 1_000;

/// One folder tree of the trail (`CloudTrail/<region>/` or
/// `CloudTrail-Digest/<region>/`) and what the scan reports in it.
pub(super) struct Tree<'a> {
    pub bucket: &'a str,
    pub region_prefix: String,
    /// "log" or "digest", for the finding's wording.
    pub folder: &'static str,
    /// The start of this trail's log file names (`<account>_CloudTrail_<region>_`):
    /// set for the log tree, where a name of the window in another day's
    /// folder is looked for.
    pub log_name: Option<String>,
}

impl Engine {
    pub(super) async fn scan_levels(&self, tree: &Tree<'_>, scope: &Scope) -> Vec<ObjectVerdict> {
        let mut out = Vec::new();
        let days: BTreeSet<NaiveDate> = scope.days().into_iter().collect();
        let months: BTreeSet<(i32, u32)> = days.iter().map(|d| (d.year(), d.month())).collect();
        let region = self.level(tree, &tree.region_prefix, &mut out).await;
        for year in region.folders {
            let path = format!("{}{year}/", tree.region_prefix);
            let y = digits(&year, 4).and_then(|y| i32::try_from(y).ok());
            match y {
                Some(y) if months.iter().any(|m| m.0 == y) => {
                    self.scan_year(tree, &path, y, &months, &days, scope, &mut out)
                        .await
                }
                Some(_) => {}
                None => self.junk_folder(tree, &path, &mut out).await,
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    async fn scan_year(
        &self,
        tree: &Tree<'_>,
        path: &str,
        year: i32,
        months: &BTreeSet<(i32, u32)>,
        days: &BTreeSet<NaiveDate>,
        scope: &Scope,
        out: &mut Vec<ObjectVerdict>,
    ) {
        let level = self.level(tree, path, out).await;
        for month in level.folders {
            let month_path = format!("{path}{month}/");
            let m = digits(&month, 2).filter(|m| (1..=12).contains(m));
            match m {
                Some(m) if months.contains(&(year, m)) => {
                    let inner = self.level(tree, &month_path, out).await;
                    let mut other_days = Vec::new();
                    for day in inner.folders {
                        let day_path = format!("{month_path}{day}/");
                        let date =
                            digits(&day, 2).and_then(|d| NaiveDate::from_ymd_opt(year, m, d));
                        match date {
                            Some(d) if days.contains(&d) => {}
                            Some(_) => other_days.push(day_path),
                            None => self.junk_folder(tree, &day_path, out).await,
                        }
                    }
                    // One bounded listing per other day folder, side by side.
                    let found = futures::future::join_all(
                        other_days.iter().map(|d| self.misplaced(tree, d, scope)),
                    )
                    .await;
                    out.extend(found.into_iter().flatten());
                }
                Some(_) => {}
                None => self.junk_folder(tree, &month_path, out).await,
            }
        }
    }

    /// A level's folders; its loose objects are reported (CloudTrail writes
    /// objects only in day folders). A level that cannot be listed is a
    /// finding on it.
    async fn level(&self, tree: &Tree<'_>, prefix: &str, out: &mut Vec<ObjectVerdict>) -> Level {
        match self.store.list_level(tree.bucket, prefix).await {
            Ok(level) => {
                // The empty object a console makes to show the folder itself.
                let stray = level.objects.iter().filter(|k| k.as_str() != prefix);
                out.extend(stray.map(|k| unexpected_object(tree.bucket, k, tree.folder)));
                level
            }
            Err(e) => {
                out.push(unlisted(tree, prefix, &e));
                Level::default()
            }
        }
    }

    /// Everything inside a folder CloudTrail never makes.
    async fn junk_folder(&self, tree: &Tree<'_>, prefix: &str, out: &mut Vec<ObjectVerdict>) {
        let mut n = 0;
        let listed = list_while(self.store.as_ref(), tree.bucket, prefix, None, |_| {
            n += 1;
            n <= MAX_JUNK_KEYS
        })
        .await;
        match listed {
            Ok(keys) => {
                let cut = keys.len() >= MAX_JUNK_KEYS;
                out.extend(
                    keys.iter()
                        .map(|k| unexpected_object(tree.bucket, k, tree.folder)),
                );
                if cut {
                    let mut v = unexpected_object(tree.bucket, prefix, tree.folder);
                    v.finding.detail = Some(format!(
                        "a folder CloudTrail never makes, holding more than {MAX_JUNK_KEYS} objects \
                         (the first {MAX_JUNK_KEYS} are listed)"
                    ));
                    out.push(v);
                }
            }
            Err(e) => out.push(unlisted(tree, prefix, &e)),
        }
    }

    /// Log files in another day's folder whose names claim a minute of the
    /// window: their names sort together, so one bounded listing finds them.
    async fn misplaced(
        &self,
        tree: &Tree<'_>,
        day_prefix: &str,
        scope: &Scope,
    ) -> Vec<ObjectVerdict> {
        let Some(name) = &tree.log_name else {
            return Vec::new();
        };
        let prefix = format!("{day_prefix}{name}");
        let stamp = |t: crate::verify::time::Timestamp| t.format("%Y%m%dT%H%MZ").to_string();
        let from = format!(
            "{prefix}{}",
            stamp(scope.start - chrono::Duration::minutes(1))
        );
        let until = format!("{prefix}{}~", stamp(scope.end));
        let listed = list_while(
            self.store.as_ref(),
            tree.bucket,
            &prefix,
            Some(&from),
            |k| k <= until.as_str(),
        )
        .await;
        // A name whose date is its folder's is where CloudTrail puts it.
        let folder_date: String = day_prefix
            .trim_end_matches('/')
            .rsplitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let misplaced = |k: &&String| {
            k.get(prefix.len()..prefix.len() + 8)
                .is_some_and(|date| date != folder_date)
        };
        match listed {
            Ok(keys) => keys
                .iter()
                .filter(misplaced)
                .map(|k| unexpected_object(tree.bucket, k, tree.folder))
                .collect(),
            Err(e) => vec![unlisted(tree, day_prefix, &e)],
        }
    }
}

/// A folder name that is exactly `width` ASCII digits (`+1`, ` 01` and
/// `026` are not dates: what they hold is listed as junk).
fn digits(name: &str, width: usize) -> Option<u32> {
    (name.len() == width && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

fn unlisted(tree: &Tree<'_>, prefix: &str, e: &crate::sources::store::StoreError) -> ObjectVerdict {
    let mut finding = store_finding(e);
    finding.reason = format!(
        "{} folder could not be listed: {}",
        tree.folder, finding.reason
    );
    ObjectVerdict {
        bucket: tree.bucket.to_string(),
        key: prefix.to_string(),
        finding,
    }
}
