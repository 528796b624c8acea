//! Completeness of log coverage: which log files in the trail's log folder
//! no digest references. Pure: works on listed keys and the chain's windows.

use crate::verify::layout::{parse_log_key, AccountRoot};
use crate::verify::model::{Finding, Gap, LogVerdict, ObjectVerdict, Problem, Status};
use crate::verify::time::Timestamp;
use chrono::{DurationRound, NaiveDate, TimeDelta};
use std::collections::HashSet;

/// The text reason for a log file no digest references.
pub(crate) const UNREFERENCED: &str = "not referenced by any digest";

/// The span in which every delivered log must be referenced by some digest
/// we read. Log keys carry the delivery minute only, so the edges are
/// rounded inwards: a log named in the first or last minute of the span may
/// belong to the neighbouring digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Scope {
    /// From the oldest covered start to the newest covered end.
    pub fn new(oldest_start: Timestamp, newest_end: Timestamp) -> Option<Scope> {
        let minute = TimeDelta::minutes(1);
        let floor = |t: Timestamp| t.duration_trunc(minute).unwrap_or(t);
        let start = {
            let f = floor(oldest_start);
            if f == oldest_start {
                f
            } else {
                f + minute
            }
        };
        let end = floor(newest_end);
        (start < end).then_some(Scope { start, end })
    }

    /// Whether a log delivered in this minute must be referenced.
    pub fn contains(&self, minute: Timestamp) -> bool {
        minute >= self.start && minute < self.end
    }

    /// The UTC days whose log folders must be listed.
    pub fn days(&self) -> Vec<NaiveDate> {
        // `end` is exclusive: a scope ending at midnight needs no folder for that day.
        let last = self.end - TimeDelta::seconds(1);
        match self.start <= last {
            true => crate::verify::inventory::days(self.start, last),
            false => Vec::new(),
        }
    }
}

/// The finding for an object whose name CloudTrail never writes, in the
/// trail's `folder` ("log" or "digest").
pub fn unexpected_object(bucket: &str, key: &str, folder: &str) -> ObjectVerdict {
    ObjectVerdict {
        bucket: bucket.to_string(),
        key: key.to_string(),
        finding: Finding::new(
            Problem::UnexpectedObject,
            format!("unexpected object in the trail's {folder} folder"),
        )
        .with_detail(
            "CloudTrail never writes an object of this name here (injected, renamed or misplaced)",
        ),
    }
}

/// The reason of a log file no digest lists yet, within the delivery grace.
const NOT_YET_LISTED: &str = "not yet listed by a digest";

/// What the window's proof says about a stretch of time, for log files no
/// digest references.
pub(crate) struct Context<'a> {
    pub root: &'a AccountRoot,
    pub region: &'a str,
    pub scope: Scope,
    pub gaps: &'a [Gap],
    /// The newest span whose digest is not due yet.
    pub pending: Option<(Timestamp, Timestamp)>,
    /// Log files named after this moment (now less the delivery grace) may
    /// still be waiting for their digest (a backfill digest comes later):
    /// not yet a finding, and no checkpoint passes them.
    pub young_after: Option<Timestamp>,
    /// No digest folder at all: logs lack a digest (validation never on,
    /// or every digest deleted), which the run's "not proven" says.
    pub no_digest_folder: bool,
    /// The end times of digests in an archive storage class: the log files
    /// of their hours may be the ones they list (not read, not refuted).
    pub archived: &'a [Timestamp],
    /// The windows of verified digests: a log file inside one that it does
    /// not list is unreferenced, whatever archived object is named nearby.
    pub verified: &'a [(Timestamp, Timestamp)],
}

/// Verdicts for the objects listed in the trail's log folders that no
/// digest references: log files inside the scope (unreferenced, or
/// `no_digest` where CloudTrail wrote no digest), and objects whose names
/// CloudTrail never writes (`unexpected_object`).
pub(crate) fn classify_listed(
    listed: &[(String, String)],
    referenced: &HashSet<(String, String)>,
    cx: &Context<'_>,
) -> (Vec<LogVerdict>, Vec<ObjectVerdict>) {
    let mut logs = Vec::new();
    let mut strangers = Vec::new();
    for (bucket, key) in listed {
        if referenced.contains(&(bucket.clone(), key.clone())) {
            continue;
        }
        let parsed = parse_log_key(key).filter(|p| p.root == *cx.root && p.region == cx.region);
        let Some(parsed) = parsed else {
            strangers.push(unexpected_object(bucket, key, "log"));
            continue;
        };
        if !cx.scope.contains(parsed.time) {
            continue;
        }
        let (status, finding) = log_finding(parsed.time, cx);
        logs.push(LogVerdict {
            bucket: bucket.clone(),
            key: key.clone(),
            status,
            finding: Some(finding),
            digest_key: None,
            oldest_event: None,
            newest_event: None,
        });
    }
    logs.sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    strangers.sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    (logs, strangers)
}

/// A gap in which CloudTrail delivers log files without digests: validation
/// off, as its records say.
pub(crate) fn delivers_without_digests(g: &Gap) -> bool {
    g.explained && g.cause.as_deref() == Some("validation_disabled")
}

/// The finding of a log file delivered during such a gap.
pub(crate) fn while_no_digests(g: &Gap) -> Finding {
    let cause = g.cause.as_deref().unwrap_or("explained");
    Finding::new(
        Problem::NoDigest,
        format!("not covered by any digest ({cause})"),
    )
    .with_detail(format!(
        "delivered while CloudTrail wrote no digests ({} to {}): {}",
        crate::verify::time::display(g.start),
        crate::verify::time::display(g.end),
        g.evidence.as_deref().unwrap_or(cause)
    ))
}

/// Why a log file delivered at `t` has no digest.
fn log_finding(t: Timestamp, cx: &Context<'_>) -> (Status, Finding) {
    if let Some((a, b)) = cx.pending.filter(|(a, b)| t >= *a && t <= *b) {
        let f =
            Finding::new(Problem::NoDigest, "not yet covered by a digest").with_detail(format!(
            "delivered after the newest digest ({}); the digest covering it is not due before {}",
            crate::verify::time::display(a),
            crate::verify::time::display(b)
        ));
        return (Status::Unverified, f);
    }
    if cx.no_digest_folder {
        let f = Finding::new(
            Problem::NoDigest,
            "not covered by any digest (no digest folder)",
        )
        .with_detail(
            "the trail has no digest folder: log file validation was never enabled, or \
                 every digest was deleted",
        );
        return (Status::Unverified, f);
    }
    // Log keys name the minute only: the hour before an archived digest's
    // end, from the minute it began.
    let hour_of = |e: &Timestamp| {
        let from = *e - chrono::Duration::hours(1) - chrono::Duration::minutes(1);
        t > from && t <= *e
    };
    let vouched = cx.verified.iter().any(|(a, b)| t >= *a && t < *b);
    let archived = cx.archived.iter().filter(|_| !vouched).find(|e| hour_of(e));
    if let Some(e) = archived {
        let f = Finding::new(Problem::Archived, "its digest is archived, not verified")
            .with_detail(format!(
                "the digest of its hour (ending {}) is in an archive storage class: restore it \
                 and run again to learn whether it lists this file",
                crate::verify::time::display(*e)
            ));
        return (Status::Unverified, f);
    }
    let in_gap = cx
        .gaps
        .iter()
        .filter(|g| !g.backfill)
        .find(|g| t >= g.start && t < g.end);
    match in_gap {
        // Only a trail whose validation was off delivers logs without
        // digests; while logging was stopped (or before the trail existed)
        // there are no log files to deliver.
        Some(g) if delivers_without_digests(g) => (Status::Unverified, while_no_digests(g)),
        Some(g) => {
            let f = Finding::new(
                Problem::Unreferenced,
                format!("{UNREFERENCED} (delivered during a gap)"),
            )
            .with_detail(format!(
                "delivered during a gap in the digest chain ({} to {}) that nothing explains",
                crate::verify::time::display(g.start),
                crate::verify::time::display(g.end)
            ));
            (Status::Unverified, f)
        }
        // Inside a verified digest's hour: a late file whose backfill
        // digest may still come, while within the delivery grace.
        None if cx.young_after.is_some_and(|a| t > a) => {
            let f = Finding::new(Problem::NoDigest, NOT_YET_LISTED).with_detail(
                "delivered less than the delivery grace before this run, inside an hour whose \
                 digest is here; no digest lists it yet (a late file's backfill digest may \
                 still come): the next run judges it",
            );
            (Status::Unverified, f)
        }
        None => {
            let f = Finding::new(Problem::Unreferenced, UNREFERENCED).with_detail(
                "inside the validated window, yet absent from every digest (injected, or its digest is missing)",
            );
            (Status::Unverified, f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::layout::log_key;
    use crate::verify::model::GapKind;
    use crate::verify::time::parse_user_time;

    fn t(s: &str) -> Timestamp {
        parse_user_time(s).unwrap()
    }

    #[test]
    fn scope_rounds_inwards_and_lists_days() {
        let s = Scope::new(t("2020-01-01T22:36:49Z"), t("2020-01-02T01:36:49Z")).unwrap();
        assert_eq!(s.start, t("2020-01-01T22:37:00Z"));
        assert_eq!(s.end, t("2020-01-02T01:36:00Z"));
        assert!(!s.contains(t("2020-01-01T22:36:00Z")));
        assert!(s.contains(t("2020-01-01T22:37:00Z")));
        assert!(!s.contains(t("2020-01-02T01:36:00Z")));
        assert_eq!(s.days().len(), 2);
        assert!(Scope::new(t("2020-01-01T00:00:10Z"), t("2020-01-01T00:00:50Z")).is_none());
    }

    #[test]
    fn only_unreferenced_in_scope_keys_of_this_trail_are_reported() {
        let root = AccountRoot::new(None, None, "123456789012");
        let other = AccountRoot::new(None, None, "999999999999");
        let k = |r: &AccountRoot, region: &str, at: &str, u: &str| {
            ("b".to_string(), log_key(r, region, t(at), u))
        };
        let referenced_one = k(&root, "us-east-1", "2020-01-01T10:10:00Z", "ref");
        let listed = vec![
            referenced_one.clone(),
            k(&root, "us-east-1", "2020-01-01T10:20:00Z", "inj"),
            k(&root, "us-east-1", "2020-01-01T11:20:00Z", "gap"),
            k(&root, "us-east-1", "2020-01-01T09:00:00Z", "before"),
            k(&root, "us-west-2", "2020-01-01T10:20:00Z", "region"),
            k(&other, "us-east-1", "2020-01-01T10:20:00Z", "acct"),
            ("b".to_string(), "junk".to_string()),
        ];
        let referenced: HashSet<_> = [referenced_one].into_iter().collect();
        let scope = Scope::new(t("2020-01-01T10:00:00Z"), t("2020-01-01T13:00:00Z")).unwrap();
        let gaps = [Gap::new(
            t("2020-01-01T11:00:00Z"),
            t("2020-01-01T12:00:00Z"),
            false,
            GapKind::ChainRestart,
        )];
        let cx = Context {
            root: &root,
            region: "us-east-1",
            scope,
            gaps: &gaps,
            pending: None,
            young_after: None,
            no_digest_folder: false,
            archived: &[],
            verified: &[],
        };
        let (v, strangers) = classify_listed(&listed, &referenced, &cx);
        assert_eq!(v.len(), 2);
        assert_eq!(strangers.len(), 3, "junk, other region, other account");
        assert!(v.iter().all(|l| l.status == Status::Unverified));
        let gap = v.iter().find(|l| l.key.contains("gap")).unwrap();
        assert!(gap.finding.as_ref().unwrap().reason.contains("gap"));
        let inj = v.iter().find(|l| l.key.contains("inj")).unwrap();
        assert_eq!(inj.finding.as_ref().unwrap().reason, UNREFERENCED);
    }
}
