//! The soundness matrix: for every damage kind the simulator knows, alone
//! and in every pair, no damaged object is `valid`, and every undamaged
//! object that can be verified (its hour's digest intact, not in a gap) is.

use crate::support;
use crate::support::trail::simulate;
use std::collections::{BTreeMap, BTreeSet};
use trailproof::simulate::damage::DamageKind;
use trailproof::verify::layout::parse_log_key;
use trailproof::verify::time::{parse_user_time, Timestamp};

const START: &str = "2026-03-01T00:00:00Z";

/// Hours whose digest or logs the kind disturbs for everything in them.
fn disturbs_hour(kind: DamageKind) -> bool {
    matches!(
        kind,
        DamageKind::DeleteDigest
            | DamageKind::MoveDigest
            | DamageKind::ForgeDigest
            | DamageKind::UnsignDigest
            | DamageKind::Gap
            | DamageKind::ValidationOff
    )
}

fn run(damage: &[(DamageKind, usize)]) {
    let mut args: Vec<String> = ["--start-time", START, "--hours", "6"]
        .into_iter()
        .chain([
            "--logs-per-hour",
            "2",
            "--records-per-log",
            "2",
            "--seed",
            "13",
        ])
        .map(str::to_string)
        .collect();
    for (k, h) in damage {
        args.push("--damage".into());
        args.push(format!("{}@{h}", k.name()));
    }
    let trail = simulate(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let label = format!("{damage:?}");
    let damaged = trail.damaged_keys();
    let keys = trail.out.keys_file.to_str().unwrap().to_string();
    let v = support::trail::run(&[
        "validate",
        "--local",
        trail.root().to_str().unwrap(),
        "--public-keys",
        &keys,
        "--trail-arn",
        &trail.out.trail_arn,
        "--start-time",
        START,
        "--end-time",
        "2026-03-01T06:00:00Z",
        "--format",
        "json",
    ])
    .json();
    let mut verdict: BTreeMap<String, String> = BTreeMap::new();
    for kind in ["digests", "logs", "unexpected"] {
        for o in v[kind].as_array().unwrap() {
            verdict.insert(
                o["key"].as_str().unwrap().to_string(),
                o["status"].as_str().unwrap().to_string(),
            );
        }
    }
    for k in &damaged {
        let got = verdict.get(k).map(String::as_str);
        assert!(
            got.is_some() && got != Some("valid"),
            "{label}: damaged {k} is {got:?}\n{v:#}"
        );
    }
    let start: Timestamp = parse_user_time(START).unwrap();
    let disturbed: BTreeSet<usize> = damage
        .iter()
        .filter(|(k, _)| disturbs_hour(*k))
        .map(|(_, h)| *h)
        .collect();
    for (key, status) in &verdict {
        if damaged.contains(key) {
            continue;
        }
        let hour = match parse_log_key(key) {
            Some(l) => ((l.time - start).num_minutes() / 60) as usize,
            // Digests: the hour they close.
            None => match trailproof::verify::layout::parse_digest_key(key) {
                Some(d) => ((d.end - start).num_minutes() / 60 - 1).max(0) as usize,
                None => continue,
            },
        };
        if !disturbed.contains(&hour) {
            assert_eq!(status, "valid", "{label}: undamaged {key}\n{v:#}");
        }
    }
}

#[test]
fn every_damage_kind_alone_and_in_every_pair() {
    let kinds: Vec<DamageKind> = DamageKind::ALL.iter().map(|(_, k)| *k).collect();
    for &a in &kinds {
        run(&[(a, 2)]);
    }
    for (i, &a) in kinds.iter().enumerate() {
        for &b in &kinds[i + 1..] {
            run(&[(a, 1), (b, 3)]);
        }
    }
}
