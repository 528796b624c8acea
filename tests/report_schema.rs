//! The JSON report's one schema, both ways: a report rendered, parsed back
//! and rendered again gives the same bytes, for single chains and estates,
//! with every finding kind, every reason, every kind of unproven coverage
//! and attacker-chosen text. A field written but not read (or read but not
//! written) fails here, not silently in `merge`.

use proptest::prelude::*;
use trailproof::report::json::{parse, parse_estate, render, render_estate};
use trailproof::verify::model::{
    BlindSpot, ChainReport, DigestVerdict, EstateReport, Finding, Gap, GapKind, HistoryEvent,
    LogVerdict, ObjectVerdict, Problem, Provenance, Reason, Report, ShardInfo, SpotKind, Status,
    Unproven, Untrusted,
};
use trailproof::verify::protections::{Protection, ProtectionKind, ProtectionState};
use trailproof::verify::recovery::{Blocked, Fate, Lost, ObjectKind, Outcome, Recovered, Recovery};
use trailproof::verify::shard::Unit;
use trailproof::verify::time::{parse_user_time, Timestamp};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t";

fn t(minutes: u32) -> Timestamp {
    parse_user_time("2026-03-01T00:00:00Z").unwrap() + chrono::Duration::minutes(minutes.into())
}

const STATUSES: [Status; 3] = [Status::Valid, Status::Invalid, Status::Unverified];
const KINDS: [GapKind; 3] = [
    GapKind::ChainRestart,
    GapKind::NoLaterDigest,
    GapKind::BeforeFirstDigest,
];

/// Every kind of unproven coverage, with `text` and `m` in its data.
fn every_unproven(text: &str, m: u32) -> Vec<Unproven> {
    let s = text.to_string();
    vec![
        Unproven::CoverageNarrowed {
            at: t(m),
            actor: Some(s.clone()),
            source_ip: None,
            event_name: "PutEventSelectors".into(),
            what: s.clone(),
            lost: vec![s.clone(), "write events".into()],
            until: t(m + 60),
            restored: m.is_multiple_of(2),
            who: Some(trailproof::verify::actor::Actor {
                source_ip: Some(text.to_string()),
                ..Default::default()
            }),
        },
        Unproven::NarrowedUnrecorded {
            after: t(m),
            lost: vec![s.clone()],
        },
        Unproven::NotRecorded {
            first_at: t(m),
            count: m as usize,
            last_at: t(m + 1),
            first_event: s.clone(),
            actor: None,
        },
        Unproven::CallsUnread { files: 2 },
        Unproven::StoppedToTheEnd,
        Unproven::RestartedBeforeTheEnd,
        Unproven::Archived { objects: 3 },
        Unproven::ProtectionMissing {
            protection: ProtectionKind::ObjectLock,
            state: ProtectionState::Unknown,
        },
        Unproven::ListingBound,
        Unproven::NoDigestInWindow,
        Unproven::NoDigestFolder,
        Unproven::KeysFileLacks {
            region: s.clone(),
            from: "2026-02-28".into(),
            to: "2026-03-02".into(),
        },
        Unproven::SlicesUnlinked {
            slice_start: Some(t(m)),
            bucket: s.clone(),
            key: s.clone(),
            previous_bucket: "b".into(),
            previous_key: s,
        },
    ]
}

fn finding(p: Problem, text: &str, detail: bool) -> Finding {
    let f = Finding::new(p, text.to_string());
    match detail {
        true => f.with_detail(format!("{text} <detail>")),
        false => f,
    }
}

/// A report with one object of every finding kind, every status, gap
/// kind and reason, and `text` wherever the report carries text.
fn report(text: &str, m: u32, start: Timestamp, end: Timestamp) -> Report {
    let mut r = Report::empty(ARN, start, end);
    r.found = Some((t(m), t(m + 30)));
    for (i, p) in Problem::ALL.into_iter().enumerate() {
        let at = m + i as u32;
        r.digests.push(DigestVerdict {
            bucket: format!("b{i}"),
            key: format!("{text}/{i}"),
            backfill: i % 2 == 0,
            status: STATUSES[i % 3],
            finding: (i % 4 != 0).then(|| finding(p, text, i % 3 == 0)),
            start: (i % 5 != 0).then(|| t(at)),
            end: Some(t(at + 60)),
            discovered: i % 3 == 1,
            previous: (i % 2 == 1).then(|| ("b".to_string(), format!("{text}{i}"))),
            fingerprint: (i % 3 == 2).then(|| "0123abcd".to_string()),
        });
        r.logs.push(LogVerdict {
            bucket: "b".into(),
            key: format!("{text}.json.gz#{i}"),
            status: STATUSES[(i + 1) % 3],
            finding: (i % 2 == 0).then(|| finding(p, text, i % 4 == 1)),
            digest_key: (i % 3 != 0).then(|| format!("d{i}")),
            oldest_event: (i % 2 == 1).then(|| t(at)),
            newest_event: Some(t(at + 5)),
        });
        r.unexpected.push(ObjectVerdict {
            bucket: "b".into(),
            key: format!("../{text}"),
            finding: finding(p, text, i % 2 == 0),
        });
    }
    for (i, kind) in KINDS.into_iter().enumerate() {
        r.gaps.push(Gap {
            start: t(m + i as u32),
            end: t(m + 90),
            backfill: i == 1,
            cause: (i != 0).then(|| "logging_stopped".to_string()),
            kind,
            explained: i == 2,
            evidence: (i == 2).then(|| format!("StopLogging by {text}")),
            by: vec![trailproof::verify::actor::Actor {
                arn: Some(text.to_string()),
                mfa: Some(true),
                ..Default::default()
            }],
        });
    }
    r.untrusted = vec![Untrusted {
        start: t(m),
        end: t(m + 120),
        reasons: Reason::ALL.to_vec(),
    }];
    r.unproven = every_unproven(text, m);
    r.narrowing_shown = every_unproven(text, m + 7).into_iter().take(3).collect();
    r.notes = vec![text.to_string(), "<script>alert(1)</script>".into()];
    r.home_calls_unread = m.is_multiple_of(2).then(|| text.to_string());
    r.allow_gaps = m.is_multiple_of(3);
    r.allow_narrowing = m.is_multiple_of(5);
    r.blind_spots = vec![BlindSpot {
        kind: SpotKind::NotRecorded,
        start: t(m),
        end: t(m + 60),
        why: text.to_string(),
        events: Some(vec![HistoryEvent {
            id: Some("e1".into()),
            time: t(m + 1),
            name: "DeleteBucket".into(),
            source: None,
            actor: Some(text.to_string()),
            source_ip: None,
            resources: vec![text.to_string()],
        }]),
        note: None,
    }];
    r.lifecycle_calls = (m % 2 == 1).then(Vec::new);
    r.coverage_changes = (m % 3 == 1).then(Vec::new);
    r.protections = Some(vec![Protection {
        kind: ProtectionKind::Lifecycle,
        state: ProtectionState::Unprotected,
        detail: text.to_string(),
    }]);
    r.recovery = m.is_multiple_of(2).then(|| recovery(text, m));
    r
}

/// Every outcome of a recovery: recovered (overwritten, deleted, current
/// again) and lost (each why).
fn recovery(text: &str, m: u32) -> Recovery {
    let object = |outcome| Recovered {
        bucket: "b".into(),
        key: format!("k/{text}"),
        object: if m.is_multiple_of(4) {
            ObjectKind::Log
        } else {
            ObjectKind::Digest
        },
        outcome,
    };
    let got = |fate| Outcome::Recovered {
        version_id: text.to_string(),
        last_modified: t(m),
        fate,
        latest_version_id: m.is_multiple_of(3).then(|| text.to_string()),
        sha256: "00ff".into(),
        not_written: m.is_multiple_of(4).then(|| text.to_string()),
    };
    Recovery {
        objects: vec![
            object(got(Fate::Overwritten {
                at: t(m + 1),
                by: text.to_string(),
            })),
            object(got(Fate::Deleted {
                at: t(m + 2),
                by: "m".into(),
            })),
            object(got(Fate::Current)),
            object(Outcome::NotRecovered(Lost::NoEarlierVersion)),
            object(Outcome::NotRecovered(Lost::NoneMatches {
                tried: m as usize,
                unreadable: 1,
                untried: 2,
            })),
            object(Outcome::NotRecovered(Lost::Unreadable {
                detail: text.to_string(),
            })),
        ],
        blocked: match m % 3 {
            0 => None,
            1 => Some(Blocked::Refused {
                detail: text.to_string(),
            }),
            _ => Some(Blocked::Unlistable {
                detail: text.to_string(),
            }),
        },
        not_tried: m as usize % 5,
    }
}

fn provenance(text: &str) -> Provenance {
    Provenance {
        tool: "trailproof test".into(),
        generated_at: "2026-03-02T00:00:00Z".into(),
        source: format!("s3://b/{text}"),
        public_keys: "ListPublicKeys".into(),
        key_fingerprints: vec!["0123abcd".into()],
        checkpoint: Some(text.to_string()),
        state_key: None,
        signer: Some(text.to_string()),
        timestamp_authority: Some(text.to_string()),
        caller: Some(text.to_string()),
        command: vec!["trailproof".into(), text.to_string()],
        host: Some(text.to_string()),
        inputs: vec![trailproof::verify::model::Input {
            flag: "--public-keys".into(),
            path: text.to_string(),
            sha256: None,
        }],
    }
}

fn estate(text: &str, m: u32, sharded: bool) -> EstateReport {
    let (start, end) = (t(0), t(24 * 60));
    let chains = ["us-east-1", "eu-west-1"]
        .into_iter()
        .enumerate()
        .map(|(i, region)| {
            let slice = (i == 1).then_some((t(60), end));
            let (a, b) = slice.unwrap_or((start, end));
            ChainReport {
                account: "111122223333".into(),
                region: region.into(),
                expected_because: (i == 1).then(|| text.to_string()),
                slice,
                report: report(text, m + i as u32, a, b),
            }
        });
    EstateReport {
        trail_arn: ARN.into(),
        requested_start: start,
        requested_end: end,
        chains: chains.collect(),
        notes: vec![text.to_string()],
        shard: sharded.then(|| ShardInfo {
            index: 1,
            count: 2,
            fingerprint: "f".into(),
            selection: text.to_string(),
            units: vec![Unit {
                account: "111122223333".into(),
                region: "eu-west-1".into(),
                slice: Some((t(60), end)),
            }],
        }),
    }
}

#[test]
fn a_chain_with_every_kind_renders_the_same_after_parsing() {
    let r = report("name \"quoted\" é", 4, t(0), t(24 * 60));
    let p = provenance("x");
    let once = render(&r, Some(&p));
    let (back, prov) = parse(once.as_bytes()).unwrap();
    assert_eq!(render(&back, prov.as_ref()), once);
    for kind in [
        "coverage_narrowed",
        "slices_unlinked",
        "keys_file_lacks",
        "home_calls_unread",
    ] {
        assert!(once.contains(kind), "{kind}");
    }
}

#[test]
fn an_estate_and_a_shard_render_the_same_after_parsing() {
    for sharded in [false, true] {
        let e = estate("<b>ü", 4, sharded);
        let once = render_estate(&e, Some(&provenance("y")));
        let (back, prov) = parse_estate(once.as_bytes()).unwrap();
        assert_eq!(render_estate(&back, prov.as_ref()), once);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn render_parse_render_is_the_same_bytes(
        text in "\\PC{0,16}",
        m in 0u32..600,
        sharded: bool,
        with_provenance: bool,
    ) {
        let p = with_provenance.then(|| provenance(&text));
        let r = report(&text, m, t(0), t(24 * 60));
        let once = render(&r, p.as_ref());
        let (back, prov) = parse(once.as_bytes()).unwrap();
        prop_assert_eq!(render(&back, prov.as_ref()), once);
        let e = estate(&text, m, sharded);
        let once = render_estate(&e, p.as_ref());
        let (back, prov) = parse_estate(once.as_bytes()).unwrap();
        prop_assert_eq!(render_estate(&back, prov.as_ref()), once);
    }
}
