//! Each kind of finding in plain words, for the people who read reports:
//! what it is called in a count, what it means, and what to do next. The
//! text verdict line and the HTML page both read from here, so a finding
//! is explained the same way wherever it is shown.

use crate::verify::model::{Problem, Report, Unproven, Verdict};
use crate::verify::time::{display, Timestamp};

/// How one kind of finding reads.
pub struct Plain {
    /// In a count: `3 log files altered` (singular, plural).
    pub counted: (&'static str, &'static str),
    pub meaning: &'static str,
    pub next: &'static str,
}

/// The words for `problem` found on a digest (`digest`) or a log file.
pub fn plain(problem: Problem, digest: bool) -> Plain {
    let p = |one, many, meaning, next| Plain {
        counted: (one, many),
        meaning,
        next,
    };
    match (problem, digest) {
        (Problem::NotFound, true) => p(
            "digest file missing",
            "digest files missing",
            "A digest file that CloudTrail delivered, or was due to deliver, is not in the bucket: deleted, or never written.",
            "Check the bucket's versioning and S3 server access logs or CloudTrail data events for a DeleteObject on that key; restore it from a noncurrent version if one exists.",
        ),
        (Problem::NotFound, false) => p(
            "log file missing",
            "log files missing",
            "A log file that a verified digest lists is not in the bucket: the events it held are gone.",
            "Look for a DeleteObject on that key (versioning, S3 access logs, data events) and restore the noncurrent version; treat the events of its hour as unrecorded.",
        ),
        (Problem::AccessDenied, _) => p(
            "object unreadable (access denied)",
            "objects unreadable (access denied)",
            "The store refused to read the object, so nothing is known of its bytes.",
            "Grant s3:GetObject on the trail's folders (and kms:Decrypt for SSE-KMS) and run again.",
        ),
        (Problem::ReadError, _) => p(
            "object unreadable",
            "objects unreadable",
            "The object could not be read (network, I/O or an unsafe name), so nothing is known of its bytes.",
            "Run again; if it persists, read the object by hand and compare with the digest.",
        ),
        (Problem::Signature, _) => p(
            "digest signature invalid",
            "digest signatures invalid",
            "The digest's RSA signature does not verify: its content or its signature metadata was changed after CloudTrail signed it.",
            "Treat the digest and every log file it lists as untrusted; compare with a noncurrent version and find who wrote the object.",
        ),
        (Problem::Moved, _) => p(
            "digest file moved",
            "digest files moved",
            "The digest names another bucket or key than where it was found: it was copied or moved there.",
            "Find the object at the key it names; a copy in the wrong place proves nothing about that place.",
        ),
        (Problem::Format, true) => p(
            "digest file malformed",
            "digest files malformed",
            "The digest is not CloudTrail's gzip JSON with the fields it always has.",
            "Treat its hour as unverified; compare with a noncurrent version and find who wrote the object.",
        ),
        (Problem::Format, false) => p(
            "log file malformed",
            "log files malformed",
            "The log file is not a single gzip member: it was rewritten after delivery.",
            "Treat its events as untrusted; compare with a noncurrent version.",
        ),
        (Problem::PublicKey, _) => p(
            "digest signed by an unknown key",
            "digests signed by an unknown key",
            "No CloudTrail public key matches the digest's fingerprint at its time: forged, or the keys given do not cover it.",
            "Fetch the keys for the digest's time (`trailproof keys`); if the fingerprint is still unknown, the digest is forged.",
        ),
        (Problem::ChainLink, _) => p(
            "digest chain broken",
            "digest chain links broken",
            "A signed digest is not the one its successor vouches for: a digest was swapped for another genuine one.",
            "Find the digest the successor names (previousDigestS3Object) and where it went.",
        ),
        (Problem::HashMismatch, _) => p(
            "log file altered",
            "log files altered",
            "The log file's bytes do not hash to the value its signed digest records: its events were changed after delivery.",
            "Treat its events as untrusted; restore the noncurrent version and find who wrote the object.",
        ),
        (Problem::TrailingData, _) => p(
            "object with appended data",
            "objects with appended data",
            "Bytes were appended after the end of the gzip data: some readers would see events CloudTrail never delivered.",
            "Restore the noncurrent version; find who wrote the object.",
        ),
        (Problem::Unreferenced, _) => p(
            "log file no digest lists",
            "log files no digest lists",
            "A log file in the trail's folders that no digest lists: planted, or its digest was deleted.",
            "Do not trust its events; check who wrote it (S3 access logs, data events) and whether its hour's digest is missing.",
        ),
        (Problem::DigestInvalid, _) => p(
            "log file listed only by a bad digest",
            "log files listed only by bad digests",
            "The log file is listed only by digests that failed verification, so nothing vouches for it.",
            "Resolve the digest's finding first; its log files follow.",
        ),
        (Problem::UnexpectedObject, _) => p(
            "unexpected object",
            "unexpected objects",
            "An object in the trail's folders with a name CloudTrail never writes.",
            "Find who wrote it; remove it if it is not needed as evidence.",
        ),
        (Problem::KeyNotInFile, true) => p(
            "digest not judged with this keys file",
            "digests not judged with this keys file",
            "The digest is signed with a key the public keys file lacks, at a time the file holds no key for (a key rotation after the file was made): this file can neither verify nor refute it.",
            "Fetch the keys for its time with `trailproof keys` (the note gives the command), add them to the file and run again.",
        ),
        (Problem::KeyNotInFile, false) => p(
            "log file listed only by an unjudged digest",
            "log files listed only by unjudged digests",
            "The log file is listed only by digests this keys file cannot judge, so nothing vouches for it yet.",
            "Run again with the keys for its digest's time.",
        ),
        (Problem::Archived, true) => p(
            "digest file archived",
            "digest files archived",
            "The digest is in an archive storage class (a lifecycle rule moved it): it was not read, so it is neither verified nor refuted.",
            "Restore it (`--restore-plan FILE` lists what to restore) and run again; check that the lifecycle rule keeps digests readable for as long as audits need them.",
        ),
        (Problem::Archived, false) => p(
            "log file archived",
            "log files archived",
            "The log file is in an archive storage class, or the only digest that could list it is: it was not read against a signed hash.",
            "Restore it and its digest (`--restore-plan FILE` lists them) and run again.",
        ),
        (Problem::NoDigest, _) => p(
            "log file without a digest",
            "log files without a digest",
            "A log file delivered while no digest was written (validation or logging off, or its digest not due yet): nothing vouches for it, and nothing says it was changed.",
            "Expected during an explained gap or in the newest hour; otherwise run again after the next digest.",
        ),
    }
}

/// `3 log files altered, 1 digest file missing`: the findings that make
/// chains tampered (as `Report::tampered` counts them), most frequent first.
pub(crate) fn counted<'a>(reports: impl IntoIterator<Item = &'a Report>) -> String {
    let mut counts: Vec<(&'static str, &'static str, usize)> = Vec::new();
    let mut add = |problem: Problem, digest: bool| {
        let w = plain(problem, digest).counted;
        match counts.iter_mut().find(|(one, _, _)| *one == w.0) {
            Some(c) => c.2 += 1,
            None => counts.push((w.0, w.1, 1)),
        }
    };
    for (problem, digest) in reports.into_iter().flat_map(Report::tampering) {
        if let Some(p) = problem {
            add(p, digest);
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.2));
    if counts.is_empty() {
        return "objects that could not be verified".to_string();
    }
    counts
        .iter()
        .map(|(one, many, n)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closing line over `reports` (one chain, or an estate's chains as
/// one): what made the verdict `v`, in words.
pub(crate) fn verdict_of(v: Verdict, reports: &[&Report]) -> String {
    let unexplained: usize = reports
        .iter()
        .map(|r| r.gaps.iter().filter(|g| g.unexplained()).count())
        .sum();
    let mut why: Vec<String> = Vec::new();
    for u in reports.iter().flat_map(|r| &r.unproven).map(unproven) {
        if !why.contains(&u) {
            why.push(u);
        }
    }
    if unexplained > 0 {
        why.push(format!(
            "{unexplained} gap(s) that no CloudTrail record explains"
        ));
    }
    let start = reports.iter().map(|r| r.requested_start).min();
    let pending = pending_from(reports.iter().copied()).zip(start);
    let mut tampering = counted(reports.iter().copied());
    tampering.push_str(&recovered_tally(reports));
    verdict(v, &tampering, &why.join("; "), pending)
}

/// The verdict line's word on the originals the bucket's versions gave
/// back (empty where recovery was not tried).
fn recovered_tally(reports: &[&Report]) -> String {
    let tried: Vec<_> = reports.iter().filter_map(|r| r.recovery.as_ref()).collect();
    let (back, all) = tried
        .iter()
        .map(|r| r.tally())
        .fold((0, 0), |a, t| (a.0 + t.0, a.1 + t.1));
    match (tried.is_empty(), all) {
        (true, _) | (_, 0) => String::new(),
        _ if back == all => {
            format!("; every original ({all}) recovered from the bucket's versions")
        }
        _ => format!(
            "; {} of {all} original(s) not recovered from the bucket's versions",
            all - back
        ),
    }
}

/// One recovered (or lost) original, in words.
pub(crate) fn recovered(r: &crate::verify::recovery::Recovered) -> String {
    use crate::verify::recovery::{Fate, Lost, Outcome};
    match &r.outcome {
        Outcome::Recovered {
            version_id,
            last_modified,
            fate,
            latest_version_id,
            not_written,
            ..
        } => {
            let then = match fate {
                Fate::Overwritten { at, by } => {
                    format!("overwritten at {} by version {by}", display(*at))
                }
                Fate::Deleted { at, by } => {
                    format!("deleted at {} (delete marker {by})", display(*at))
                }
                Fate::Current => "it is the current version again".to_string(),
            };
            let latest = latest_version_id
                .as_deref()
                .map(|l| format!("; latest version now {l}"))
                .unwrap_or_default();
            let kept = not_written
                .as_deref()
                .map(|e| format!("; not written to --recover's directory: {e}"))
                .unwrap_or_default();
            format!(
                "original recovered: version {version_id} written {}, {then}{latest}{kept}",
                display(*last_modified)
            )
        }
        Outcome::NotRecovered(Lost::NoEarlierVersion) => {
            "not recovered: the bucket keeps no earlier version of it".to_string()
        }
        Outcome::NotRecovered(Lost::NoneMatches {
            tried,
            unreadable,
            untried,
        }) => {
            let mut why = format!(
                "not recovered: none of the {tried} earlier version(s) tried is what the signed \
                 chain expects"
            );
            if *unreadable > 0 {
                why.push_str(&format!(" ({unreadable} could not be read)"));
            }
            if *untried > 0 {
                why.push_str(&format!("; {untried} newer version(s) not tried"));
            }
            why
        }
        Outcome::NotRecovered(Lost::Unreadable { detail }) => {
            format!("not recovered: its versions could not be listed ({detail})")
        }
    }
}

/// Why no original was looked for, in one line.
pub(crate) fn recovery_blocked(b: &crate::verify::recovery::Blocked) -> String {
    use crate::verify::recovery::Blocked;
    match b {
        Blocked::Refused { detail } => format!(
            "the originals were not looked for: listing the bucket's versions was refused \
             ({detail}); grant s3:ListBucketVersions and s3:GetObjectVersion"
        ),
        Blocked::Unlistable { detail } => format!(
            "the originals were not looked for: the bucket's versions could not be listed \
             ({detail})"
        ),
    }
}

/// Where the not-yet-due tail of the window begins, if it has one (the
/// digests of the newest hour arrive up to an hour or so later): a proof
/// says it ends there. The earliest over `reports`.
pub(crate) fn pending_from<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Option<Timestamp> {
    reports
        .into_iter()
        .flat_map(|r| r.untrusted.iter())
        .filter(|u| {
            u.reasons
                .contains(&crate::verify::model::Reason::NotYetDelivered)
        })
        .map(|u| u.start)
        .min()
}

/// Why coverage is not proven, in words.
pub fn unproven(u: &Unproven) -> String {
    match u {
        Unproven::CoverageNarrowed { .. } => narrowed(u),
        Unproven::NarrowedUnrecorded { after, lost } => format!(
            "Coverage narrowed at an unknown time after {}: the trail records less now \
             (GetEventSelectors, DescribeTrails) than the last change its verified logs show; no \
             longer recorded: {}. A change the verified logs do not show (one made within the \
             last hour may not be delivered yet)",
            display(*after),
            lost.join(", ")
        ),
        Unproven::NotRecorded {
            first_at,
            count,
            last_at,
            first_event,
            actor,
        } => {
            format!(
            "Coverage narrowed at {} (not_recorded): event history holds {count} write event(s) \
             up to {} that no verified log file of the trail contains, the first \
             {first_event}{}",
            display(*first_at),
            display(*last_at),
            actor.as_ref().map(|a| format!(" by {a}")).unwrap_or_default()
        )
        }
        Unproven::CallsUnread { files } => format!(
            "Coverage narrowed at an unknown time: {files} verified log file(s) that name a trail \
             call could not be read again for their records (S3 refused, or the object changed \
             between reads): a coverage change in them is not known"
        ),
        Unproven::StoppedToTheEnd => "the window ends while logging is stopped, and nothing here \
            shows it stayed stopped (a restart and everything after it may have been deleted): run \
            live with CloudTrail's status and event history (without --s3-bucket and \
            --public-keys, or with the trail account's credentials) or pass CloudTrail's records \
            with --gap-events"
            .to_string(),
        Unproven::RestartedBeforeTheEnd => "the window ends after a stop, but GetTrailStatus says \
            the trail is logging again since before the window's end, and no digest after the \
            stop is here: the restart's digests and logs were deleted, or validation was turned \
            off unrecorded"
            .to_string(),
        Unproven::Archived { objects } => format!(
            "{objects} object(s) in an archive storage class not read (restore them and run \
             again; --restore-plan FILE lists them)"
        ),
        Unproven::ProtectionMissing { protection, state } => format!(
            "the {} {} is {} and --require-protections asks for it",
            match protection {
                crate::verify::protections::ProtectionKind::Delivery
                | crate::verify::protections::ProtectionKind::TrailKey => "trail's",
                _ => "bucket's",
            },
            protection.name().replace('_', " "),
            match state {
                crate::verify::protections::ProtectionState::Unknown =>
                    "unknown (could not be read)",
                _ => "not in place",
            }
        ),
        Unproven::ListingBound => "the digest folder could not be listed to its end within the \
            listing bound (stuffed with other objects?): a later digest may exist"
            .to_string(),
        Unproven::NoDigestInWindow => {
            "no digest covers any part of the requested window".to_string()
        }
        Unproven::NoDigestFolder => "the trail's log folder holds log files but its digest \
            folder does not exist: either log file validation was never enabled for this trail, \
            or its digests were deleted"
            .to_string(),
        Unproven::KeysFileLacks { region, from, to } => format!(
            "Digests signed with keys the public keys file lacks, at times it holds no key for (a \
             key rotation after the file was made?), are not proven with this keys file: fetch \
             that span with `trailproof keys --region {region} --start-time {from} --end-time \
             {to}`, add it to the file and run again"
        ),
        Unproven::SlicesUnlinked {
            slice_start,
            bucket,
            key,
            previous_bucket: pb,
            previous_key: pk,
        } => format!(
            "the slice starting {} does not link to the slice before it: s3://{bucket}/{key} \
             names s3://{pb}/{pk}, which the slice before did not verify",
            slice_start.map(display).unwrap_or_default()
        ),
    }
}

/// Why a chain's coverage is not proven (exit 3), and the options that
/// bear on it.
pub(crate) fn not_proven(report: &Report) -> String {
    let n = report.gaps.iter().filter(|g| g.unexplained()).count();
    let mut why: Vec<String> = report.unproven.iter().map(unproven).collect();
    if n > 0 {
        why.push(format!("{n} gap(s) that no CloudTrail record explains"));
    }
    let narrowed = report.untrusted.iter().any(|u| {
        u.reasons
            .contains(&crate::verify::model::Reason::CoverageNarrowed)
    });
    let hint = match narrowed {
        true => "see --gap-events, --allow-gaps, --allow-narrowing",
        false => "see --gap-events, --allow-gaps",
    };
    format!(
        "Coverage of the requested window is not proven: {} ({hint})",
        why.join("; ")
    )
}

/// A narrowed span: who, when, from where, what changed and what was lost.
fn narrowed(u: &Unproven) -> String {
    let Unproven::CoverageNarrowed {
        at,
        actor,
        source_ip,
        event_name,
        what,
        lost,
        until,
        restored,
        ..
    } = u
    else {
        return String::new();
    };
    let who = actor.iter().map(|a| format!(" by {a}"));
    let from = source_ip.iter().map(|ip| format!(" from {ip}"));
    let who: String = who.chain(from).collect();
    let until = match restored {
        true => format!("until {}, when it was restored", display(*until)),
        false => format!("to the window's end {}", display(*until)),
    };
    format!(
        "Coverage narrowed at {}{who} ({event_name}: {what}; no longer recorded: {}), {until}",
        display(*at),
        lost.join(", ")
    )
}

/// A chain's notes for people: its own, why the home chain's calls were
/// not read, and the narrowing `--allow-narrowing` shows without failing.
pub fn notes(r: &Report) -> Vec<String> {
    let mut out = r.notes.clone();
    if let Some(why) = &r.home_calls_unread {
        out.push(home_unread(&r.trail_arn, why));
    }
    out.extend(
        r.narrowing_shown
            .iter()
            .map(|u| format!("{} (shown, not failed: --allow-narrowing)", unproven(u))),
    );
    out
}

/// Why a chain of another region or account could not read the trail's
/// configuration calls.
pub(crate) fn home_unread(trail_arn: &str, why: &str) -> String {
    let home = crate::verify::arn::TrailArn::parse(trail_arn)
        .map(|a| format!("{} {}", a.account, a.region))
        .unwrap_or_default();
    format!(
        "Coverage changes recorded in the trail's home region ({home}) are not read for this \
         chain: {why}"
    )
}

/// The closing line of a report: the verdict in words and the exit status
/// (`unproven` empty when coverage is proven; `pending` where digests not
/// yet due begin, and the window's start).
pub fn verdict(
    v: Verdict,
    tampering: &str,
    unproven: &str,
    pending: Option<(Timestamp, Timestamp)>,
) -> String {
    match (v, pending) {
        (Verdict::Proven, Some((from, start))) if unproven.is_empty() && from <= start => {
            return "Verdict: nothing to prove yet: the window's digests are not due yet (exit 0)"
                .to_string()
        }
        (Verdict::Proven, Some((from, _))) if unproven.is_empty() => {
            return format!(
                "Verdict: proven intact up to {}: every hour before it is covered by verified \
                 digests or by a gap CloudTrail's records explain; the digests after it are not \
                 due yet (exit 0)",
                crate::verify::time::display(from)
            )
        }
        _ => {}
    }
    match v {
        Verdict::Tampered if !unproven.is_empty() => format!(
            "Verdict: evidence of tampering: {tampering}; coverage not proven either: {unproven} \
             (exit 1)"
        ),
        Verdict::Tampered => format!("Verdict: evidence of tampering: {tampering} (exit 1)"),
        Verdict::NotProven => format!("Verdict: coverage not proven: {unproven} (exit 3)"),
        Verdict::NotRun => "Verdict: the run could not be done (exit 2)".to_string(),
        // Only --allow-gaps passes a run whose coverage is not proven.
        _ if !unproven.is_empty() => format!(
            "Verdict: no evidence of tampering, but coverage not proven: {unproven}, which \
             --allow-gaps does not count (exit 0)"
        ),
        _ => "Verdict: proven intact: every hour of the window is covered by verified digests \
              or by a gap CloudTrail's records explain (exit 0)"
            .to_string(),
    }
}

/// One call on the trail's bucket, key or trail, in words: what, on what,
/// who, with which credentials, from where and on whose word.
pub(crate) fn bucket_call(c: &crate::verify::bucket_calls::BucketCall) -> String {
    use crate::verify::bucket_calls::{CallKind::*, Credential};
    use crate::verify::lifecycle::EventSource;
    let t = &c.target;
    let what = match c.kind {
        PutBucketLifecycle => format!("set the lifecycle rules of bucket {t}"),
        DeleteBucketLifecycle => format!("deleted the lifecycle rules of bucket {t}"),
        PutBucketVersioning => format!("changed the versioning of bucket {t}"),
        PutBucketPolicy => format!("replaced the policy of bucket {t}"),
        DeleteBucketPolicy => format!("deleted the policy of bucket {t}"),
        PutBucketEncryption => format!("changed the default encryption of bucket {t}"),
        PutObjectLockConfiguration => format!("changed the Object Lock settings of bucket {t}"),
        DeleteBucketEncryption => format!("deleted the default encryption of bucket {t}"),
        PutBucketAcl => format!("replaced the access control list of bucket {t}"),
        PutBucketReplication => format!("changed the replication of bucket {t}"),
        DeleteBucketReplication => format!("deleted the replication of bucket {t}"),
        DisableKey => format!("disabled the trail's KMS key {t}"),
        ScheduleKeyDeletion => format!("scheduled the trail's KMS key {t} for deletion"),
        PutKeyPolicy => format!("replaced the key policy of the trail's KMS key {t}"),
        DeleteTrail => format!("deleted the trail {t}"),
        TrailMoved => format!("moved where the trail {t} delivers"),
    };
    let set: Vec<String> = c.changes.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let set = match set.is_empty() {
        true => String::new(),
        false => format!(" ({})", set.join(", ")),
    };
    let key = match c.credential {
        Some(Credential::LongLived) => "a long-lived access key (AKIA)",
        Some(Credential::Temporary) => "temporary credentials (ASIA)",
        None => "credentials of an unknown kind",
    };
    let mfa = match c.mfa {
        Some(true) => "with MFA",
        Some(false) => "without MFA",
        None => "MFA not stated",
    };
    let who = c.actor.as_deref().unwrap_or("an unnamed caller");
    let ip = c.source_ip.as_deref().unwrap_or("an unstated address");
    let word = match c.source {
        EventSource::TrailLogs | EventSource::HomeChainLogs => "a verified log file",
        EventSource::LookupEvents => "event history (not signed)",
        EventSource::EventsFile => "the operator's events file (not signed)",
    };
    format!(
        "{} {what}{set}: {who}, {key}, {mfa}, from {ip} (recorded in {word})",
        display(c.time)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_never_claims_hours_not_due_yet() {
        let t = |s: &str| crate::verify::time::parse_user_time(s).unwrap();
        let (start, from) = (t("2026-03-01T00:00:00Z"), t("2026-03-01T05:00:00Z"));
        let v = verdict(Verdict::Proven, "", "", Some((from, start)));
        assert!(
            v.starts_with("Verdict: proven intact up to 2026-03-01T05:00:00Z"),
            "{v}"
        );
        let v = verdict(Verdict::Proven, "", "", Some((start, start)));
        assert!(v.starts_with("Verdict: nothing to prove yet"), "{v}");
        let v = verdict(Verdict::Proven, "", "1 gap(s)", None);
        assert!(
            v.contains("coverage not proven") && v.ends_with("(exit 0)"),
            "{v}"
        );
        let v = verdict(Verdict::Tampered, "", "", None);
        assert!(v.contains("(exit 1)"), "{v}");
    }

    #[test]
    fn every_problem_has_words() {
        for p in Problem::ALL {
            for digest in [true, false] {
                let w = plain(p, digest);
                assert!(!w.counted.0.is_empty() && !w.meaning.is_empty() && !w.next.is_empty());
            }
        }
    }
}
