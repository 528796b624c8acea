//! The S3 key layout CloudTrail writes, built and parsed without I/O.
//!
//! Everything that decides which objects belong to a trail lives here, so the
//! rules for prefixes, organization trails, multi-region naming and trail names
//! containing `_` or `.` are tested in one place.

use crate::verify::time::{key_stamp, parse_key_stamp, Timestamp};
use chrono::{Datelike, NaiveDate};

/// Where in a bucket one account's CloudTrail files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRoot {
    /// The trail's S3 key prefix, without leading or trailing `/`; None when unset.
    pub prefix: Option<String>,
    /// Organization id (`o-...`) for organization trails.
    pub org_id: Option<String>,
    pub account: String,
}

impl AccountRoot {
    pub fn new(prefix: Option<&str>, org_id: Option<&str>, account: &str) -> Self {
        let prefix = prefix
            .map(|p| p.trim_matches('/').to_string())
            .filter(|p| !p.is_empty());
        AccountRoot {
            prefix,
            org_id: org_id.map(str::to_string).filter(|o| !o.is_empty()),
            account: account.to_string(),
        }
    }

    /// `[prefix/]AWSLogs/[o-id/]account/`
    fn base(&self) -> String {
        let mut s = String::new();
        if let Some(p) = &self.prefix {
            s.push_str(p);
            s.push('/');
        }
        s.push_str("AWSLogs/");
        if let Some(o) = &self.org_id {
            s.push_str(o);
            s.push('/');
        }
        s.push_str(&self.account);
        s.push('/');
        s
    }

    /// The folder holding one region's digests: listing it finds every trail's digests.
    pub(crate) fn digest_region_prefix(&self, source_region: &str) -> String {
        format!("{}CloudTrail-Digest/{}/", self.base(), source_region)
    }

    /// The folder holding one region's log files.
    pub(crate) fn log_region_prefix(&self, source_region: &str) -> String {
        format!("{}CloudTrail/{}/", self.base(), source_region)
    }

    /// One day's folder of log files, the unit we list to find unreferenced logs.
    pub(crate) fn log_day_prefix(&self, source_region: &str, day: NaiveDate) -> String {
        format!(
            "{}{:04}/{:02}/{:02}/",
            self.log_region_prefix(source_region),
            day.year(),
            day.month(),
            day.day()
        )
    }

    /// Whether a trail described as delivering to `described` (bucket,
    /// prefix) writes under the folder a run reads at `read`: the same
    /// bucket, and prefixes that name one `AWSLogs/` folder.
    pub(crate) fn same_place(described: (&str, Option<&str>), read: (&str, Option<&str>)) -> bool {
        described.0 == read.0 && Self::awslogs_prefix(described.1) == Self::awslogs_prefix(read.1)
    }

    /// The prefix under which an organization's member accounts live, used to
    /// discover the organization id from a bucket listing.
    pub(crate) fn awslogs_prefix(prefix: Option<&str>) -> String {
        match prefix
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            Some(p) => format!("{p}/AWSLogs/"),
            None => "AWSLogs/".to_string(),
        }
    }
}

/// The identity of a trail's digest chain within one source region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSeries {
    pub root: AccountRoot,
    pub source_region: String,
    pub trail_name: String,
    pub home_region: String,
}

impl DigestSeries {
    /// The key CloudTrail gives the digest ending at `end`.
    pub fn key(&self, end: Timestamp, backfill: bool) -> String {
        format!(
            "{}{:04}/{:02}/{:02}/{}_CloudTrail-Digest_{}_{}_{}_{}{}.json.gz",
            self.root.digest_region_prefix(&self.source_region),
            end.year(),
            end.month(),
            end.day(),
            self.root.account,
            self.source_region,
            self.trail_name,
            self.home_region,
            key_stamp(end),
            if backfill { "_backfill" } else { "" }
        )
    }

    /// Whether a parsed key belongs to this series (same folder, trail and regions).
    /// The start of every digest file name of this series in a day folder
    /// (`<account>_CloudTrail-Digest_<region>_<trail>_<home region>_`), the
    /// prefix the AWS CLI lists with.
    pub(crate) fn file_prefix(&self) -> String {
        format!(
            "{}_CloudTrail-Digest_{}_{}_{}_",
            self.root.account, self.source_region, self.trail_name, self.home_region
        )
    }

    pub fn owns(&self, parts: &DigestKey) -> bool {
        parts.root == self.root
            && parts.source_region == self.source_region
            && parts.trail_name == self.trail_name
            && parts.home_region == self.home_region
    }
}

/// A digest key taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    pub root: AccountRoot,
    pub source_region: String,
    pub trail_name: String,
    pub home_region: String,
    /// The digest's end time, as written in the key.
    pub end: Timestamp,
    pub backfill: bool,
}

/// A log file key taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    pub root: AccountRoot,
    pub region: String,
    /// The minute in the file name: when CloudTrail delivered it.
    pub time: Timestamp,
    pub unique: String,
}

/// Builds a log file key; `time` is truncated to the minute as CloudTrail does.
pub fn log_key(root: &AccountRoot, region: &str, time: Timestamp, unique: &str) -> String {
    format!(
        "{}{:04}/{:02}/{:02}/{}_CloudTrail_{}_{}_{}.json.gz",
        root.log_region_prefix(region),
        time.year(),
        time.month(),
        time.day(),
        root.account,
        region,
        time.format("%Y%m%dT%H%MZ"),
        unique
    )
}

/// A folder name that can be a region (not every such name is one).
pub(crate) fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_org_id(s: &str) -> bool {
    s.len() > 2 && s.starts_with("o-") && s[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Splits `dir` (the part before the date folders) into root and the region,
/// checking the `<kind>` folder name (`CloudTrail` or `CloudTrail-Digest`).
fn parse_dir(parts: &[&str], kind: &str) -> Option<(AccountRoot, String)> {
    // parts: [..prefix.., AWSLogs, [o-id], account, kind, region]
    let n = parts.len();
    if n < 4 || parts[n - 2] != kind || !is_region(parts[n - 1]) || !is_account(parts[n - 3]) {
        return None;
    }
    let account = parts[n - 3].to_string();
    let region = parts[n - 1].to_string();
    let (org, awslogs_at) = if parts[n - 4] == "AWSLogs" {
        (None, n - 4)
    } else if n >= 5 && is_org_id(parts[n - 4]) && parts[n - 5] == "AWSLogs" {
        (Some(parts[n - 4].to_string()), n - 5)
    } else {
        return None;
    };
    let prefix = if awslogs_at == 0 {
        None
    } else {
        Some(parts[..awslogs_at].join("/"))
    };
    if prefix.as_deref().is_some_and(|p| p.is_empty()) {
        return None;
    }
    Some((
        AccountRoot {
            prefix,
            org_id: org,
            account,
        },
        region,
    ))
}

/// Checks the `YYYY/MM/DD` folders and returns that date.
fn parse_date_dirs(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Parses a digest key in any of CloudTrail's forms; None for anything else.
pub fn parse_digest_key(key: &str) -> Option<DigestKey> {
    let parts: Vec<&str> = key.split('/').collect();
    let n = parts.len();
    if n < 8 {
        return None;
    }
    let file = parts[n - 1];
    let date = parse_date_dirs(parts[n - 4], parts[n - 3], parts[n - 2])?;
    let (root, source_region) = parse_dir(&parts[..n - 4], "CloudTrail-Digest")?;
    let stem = file.strip_suffix(".json.gz")?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let lead = format!("{}_CloudTrail-Digest_{}_", root.account, source_region);
    let rest = stem.strip_prefix(&lead)?;
    // rest = <trail-name>_<home-region>_<stamp>; the name may contain `_`.
    let (rest, stamp) = rest.rsplit_once('_')?;
    let (trail_name, home_region) = rest.rsplit_once('_')?;
    let end = parse_key_stamp(stamp).filter(|_| stamp.len() == 16)?;
    if trail_name.is_empty() || !is_region(home_region) || end.date_naive() != date {
        return None;
    }
    Some(DigestKey {
        root,
        source_region,
        trail_name: trail_name.to_string(),
        home_region: home_region.to_string(),
        end,
        backfill,
    })
}

/// Parses a log file key; None for anything that is not a CloudTrail log key.
pub fn parse_log_key(key: &str) -> Option<LogKey> {
    let parts: Vec<&str> = key.split('/').collect();
    let n = parts.len();
    if n < 8 {
        return None;
    }
    let file = parts[n - 1];
    let date = parse_date_dirs(parts[n - 4], parts[n - 3], parts[n - 2])?;
    let (root, region) = parse_dir(&parts[..n - 4], "CloudTrail")?;
    let stem = file.strip_suffix(".json.gz")?;
    let lead = format!("{}_CloudTrail_{}_", root.account, region);
    let rest = stem.strip_prefix(&lead)?;
    let (stamp, unique) = rest.split_once('_')?;
    let time = parse_key_stamp(stamp).filter(|_| stamp.len() == 14)?;
    if unique.is_empty() || time.date_naive() != date {
        return None;
    }
    Some(LogKey {
        root,
        region,
        time,
        unique: unique.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    fn series(
        prefix: Option<&str>,
        org: Option<&str>,
        name: &str,
        src: &str,
        home: &str,
    ) -> DigestSeries {
        DigestSeries {
            root: AccountRoot::new(prefix, org, "123456789012"),
            source_region: src.into(),
            trail_name: name.into(),
            home_region: home.into(),
        }
    }

    #[test]
    fn builds_the_cli_example_key() {
        let s = series(None, None, "foo", "us-east-1", "us-east-1");
        let t = parse_user_time("2014-08-09T23:59:00Z").unwrap();
        assert_eq!(
            s.key(t, false),
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2014/08/09/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20140809T235900Z.json.gz"
        );
    }

    #[test]
    fn every_naming_form_round_trips() {
        let t = parse_user_time("2015-08-16T23:05:50Z").unwrap();
        let cases = [
            series(None, None, "foo", "us-east-1", "us-east-1"),
            series(Some("my/pre.fix"), None, "a_b.c", "us-east-1", "us-east-1"),
            series(
                None,
                Some("o-abc123def4"),
                "org_trail",
                "eu-west-1",
                "us-east-1",
            ),
            series(
                Some("p"),
                Some("o-abc123def4"),
                "t",
                "ap-southeast-2",
                "us-west-2",
            ),
            series(None, None, "x_us-east-1_y", "us-east-1", "us-east-1"),
        ];
        for s in cases {
            for backfill in [false, true] {
                let key = s.key(t, backfill);
                let p = parse_digest_key(&key).unwrap_or_else(|| panic!("{key}"));
                assert!(s.owns(&p), "{key}");
                assert_eq!(p.end, t);
                assert_eq!(p.backfill, backfill);
            }
        }
    }

    #[test]
    fn other_trails_and_regions_are_not_owned() {
        let t = parse_user_time("2015-08-16T23:05:50Z").unwrap();
        let mine = series(None, None, "a", "us-east-1", "us-east-1");
        let other = series(None, None, "a_us-east-1_x", "us-east-1", "us-east-1");
        let p = parse_digest_key(&other.key(t, false)).unwrap();
        assert!(!mine.owns(&p));
        let other_region = series(None, None, "a", "us-west-2", "us-east-1");
        assert!(!mine.owns(&parse_digest_key(&other_region.key(t, false)).unwrap()));
    }

    #[test]
    fn junk_keys_do_not_parse() {
        for k in [
            "",
            "foo/baz/bar",
            "file.txt",
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/16/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20150816T230550Z.json",
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/17/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20150816T230550Z.json.gz",
            "AWSLogs/12345678901/CloudTrail-Digest/us-east-1/2015/08/16/12345678901_CloudTrail-Digest_us-east-1_foo_us-east-1_20150816T230550Z.json.gz",
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/16/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_2015081XT230550Z.json.gz",
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/16/123456789012_CloudTrail-Digest_us-east-1__us-east-1_20150816T230550Z.json.gz",
            "/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/16/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20150816T230550Z.json.gz",
            "AWSLogs/123456789012/CloudTrail-Digest/US_EAST/2015/08/16/123456789012_CloudTrail-Digest_US_EAST_foo_us-east-1_20150816T230550Z.json.gz",
        ] {
            assert!(parse_digest_key(k).is_none(), "{k}");
        }
    }

    #[test]
    fn real_digest_key_parses() {
        let k = "AWSLogs/144492464627/CloudTrail-Digest/us-west-2/2020/09/11/144492464627_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz";
        let p = parse_digest_key(k).unwrap();
        assert_eq!(p.trail_name, "leh-ct-test");
        assert_eq!(p.end, parse_user_time("2020-09-11T19:36:49Z").unwrap());
    }

    #[test]
    fn log_keys_round_trip_in_every_form() {
        let t = parse_user_time("2020-09-11T19:26:24Z").unwrap();
        for root in [
            AccountRoot::new(None, None, "144492464627"),
            AccountRoot::new(Some("/a/b/"), None, "144492464627"),
            AccountRoot::new(None, Some("o-aa11bb22cc"), "144492464627"),
        ] {
            let k = log_key(&root, "us-west-2", t, "AbCdEf0123456789");
            let p = parse_log_key(&k).unwrap_or_else(|| panic!("{k}"));
            assert_eq!(p.root, root);
            assert_eq!(p.region, "us-west-2");
            assert_eq!(p.time, parse_user_time("2020-09-11T19:26:00Z").unwrap());
            assert_eq!(p.unique, "AbCdEf0123456789");
        }
        let real = "AWSLogs/144492464627/CloudTrail/us-west-2/2020/09/11/144492464627_CloudTrail_us-west-2_20200911T1835Z_nS1ZTA2ELySf3lNh.json.gz";
        assert!(parse_log_key(real).is_some());
        assert!(
            parse_log_key("AWSLogs/144492464627/CloudTrail/us-west-2/2020/09/11/x.json.gz")
                .is_none()
        );
        assert!(parse_digest_key(real).is_none());
    }

    #[test]
    fn prefixes_are_normalised() {
        let r = AccountRoot::new(Some("/logs/"), None, "123456789012");
        assert_eq!(
            r.digest_region_prefix("us-east-1"),
            "logs/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/"
        );
        let r = AccountRoot::new(Some(""), Some("o-12345"), "123456789012");
        assert_eq!(
            r.log_region_prefix("us-east-1"),
            "AWSLogs/o-12345/123456789012/CloudTrail/us-east-1/"
        );
        assert_eq!(
            r.log_day_prefix("us-east-1", NaiveDate::from_ymd_opt(2020, 1, 2).unwrap()),
            "AWSLogs/o-12345/123456789012/CloudTrail/us-east-1/2020/01/02/"
        );
        assert_eq!(AccountRoot::awslogs_prefix(Some("p/")), "p/AWSLogs/");
    }
}
