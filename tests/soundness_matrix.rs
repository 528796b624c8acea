//! The soundness matrix: for every damage kind the simulator knows, alone
//! and in every pair, no damaged object is `valid`, and every undamaged
//! object that can be verified (its hour's digest intact, not in a gap) is.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use trailproof::simulate::damage::DamageKind;
use trailproof::verify::layout::parse_log_key;
use trailproof::verify::time::{parse_user_time, Timestamp};

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");
const START: &str = "2026-03-01T00:00:00Z";

/// Objects a damage description names: every `s3://bucket/key`, the key a
/// digest was moved to, and the log a forged digest dropped.
fn damaged_keys(stdout: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in stdout.lines().filter(|l| l.starts_with("Damage: ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let w = w.trim_end_matches(',');
            if let Some(rest) = w.strip_prefix("s3://") {
                if let Some((_, key)) = rest.split_once('/') {
                    out.insert(key.to_string());
                }
            }
            let before = if i > 0 { words[i - 1] } else { "" };
            let moved_to = line.contains(": moved ") && before == "to";
            if !w.starts_with("s3://") && (moved_to || before == "dropping") {
                out.insert(w.to_string());
            }
        }
    }
    out
}

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
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "simulate",
        "--out",
        dir.path().to_str().unwrap(),
        "--start-time",
        START,
        "--hours",
        "6",
        "--logs-per-hour",
        "2",
        "--records-per-log",
        "2",
        "--seed",
        "13",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, h) in damage {
        args.push("--damage".into());
        args.push(format!("{}@{h}", k.name()));
    }
    let out = Command::new(BIN).args(&args).output().unwrap();
    let label = format!("{damage:?}");
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let damaged = damaged_keys(&String::from_utf8_lossy(&out.stdout));
    let out = Command::new(BIN)
        .args([
            "validate",
            "--local",
            dir.path().to_str().unwrap(),
            "--public-keys",
            dir.path().join("public-keys.json").to_str().unwrap(),
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail",
            "--start-time",
            START,
            "--end-time",
            "2026-03-01T06:00:00Z",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{label}: {}", String::from_utf8_lossy(&out.stderr)));
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
