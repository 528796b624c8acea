//! Scheduled runs offline: a checkpointed run, a second run that checks
//! only what is new yet proves the link to the first, deletion or rewriting
//! behind the checkpoint, unusable checkpoints, and the metrics file.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

fn simulate(dir: &Path) {
    let args = ["--start-time", "2026-03-01T00:00:00Z", "--hours", "12"];
    let shape = [
        "--logs-per-hour",
        "3",
        "--records-per-log",
        "3",
        "--seed",
        "8",
    ];
    crate::support::trail::simulate_in(dir, &[&args[..], &shape[..]].concat());
}

fn run(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let keys = dir.join("public-keys.json");
    let mut args = vec![
        "validate",
        "--local",
        dir.to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--trail-arn",
        ARN,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(BIN).args(&args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn checkpoint(dir: &Path) -> PathBuf {
    dir.join("checkpoint.json")
}

fn first_run(dir: &Path) -> Value {
    let cp = checkpoint(dir);
    let (code, _, err) = run(
        dir,
        &[
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T06:00:00Z",
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap()
}

fn second_run(dir: &Path) -> (i32, Value, String) {
    let cp = checkpoint(dir);
    run(
        dir,
        &[
            "--end-time",
            "2026-03-01T12:00:00Z",
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
    )
}

/// Flips a byte in the first log file of 2026-03-01 whose name holds `stamp`.
/// The log file delivered at `stamp` (`YYYYMMDDTHH`): its path and key.
fn find_log(dir: &Path, stamp: &str) -> (PathBuf, String) {
    let day = format!("{}/{}/{}", &stamp[..4], &stamp[4..6], &stamp[6..8]);
    let folder = format!("AWSLogs/123456789012/CloudTrail/us-east-1/{day}");
    let bucket = dir.join("trailproof-sample-bucket");
    let log = std::fs::read_dir(bucket.join(&folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().contains(stamp))
        .unwrap();
    let key = log
        .strip_prefix(&bucket)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    (log, key)
}

/// Replaces the records of the log file delivered at `stamp` with none
/// (valid gzip, valid JSON, other bytes); returns its key.
fn empty_a_log(dir: &Path, stamp: &str) -> String {
    let (log, key) = find_log(dir, stamp);
    std::fs::write(&log, trailproof::verify::gzip::gzip(b"{\"Records\":[]}")).unwrap();
    key
}

/// The problem a report names for log file `key`.
fn log_problem(v: &Value, key: &str) -> Option<Value> {
    let logs = v["logs"].as_array()?;
    logs.iter()
        .find(|l| l["key"] == key)
        .map(|l| l["problem"].clone())
}

fn alter_a_log(dir: &Path, stamp: &str) {
    let (log, _) = find_log(dir, stamp);
    let mut bytes = std::fs::read(&log).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    std::fs::write(&log, bytes).unwrap();
}

fn problem_of(v: &Value, key: &str) -> Option<String> {
    v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == key)
        .map(|d| d["problem"].as_str().unwrap_or("").to_string())
}

#[test]
fn the_next_run_checks_only_what_is_new_and_proves_the_link() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let cp = first_run(dir.path());
    assert_eq!(cp["trailproof_checkpoint"], 1);
    let rec = &cp["chains"][0];
    // The newest verified digest inside the window, not the look-ahead
    // digest past it: the look-ahead's log files lie in no night's window.
    assert_eq!(rec["end"], "2026-03-01T06:00:00Z");

    let page = dir.path().join("night2.html");
    let (cp_path, page_arg) = (checkpoint(dir.path()), page.to_str().unwrap().to_string());
    let night2 = ["--end-time", "2026-03-01T12:00:00Z", "--html", &page_arg];
    let (code, v, err) = run(
        dir.path(),
        &[&night2[..], &["--checkpoint", cp_path.to_str().unwrap()]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["requested"]["start"], "2026-03-01T06:00:00Z");
    // The whole window is accounted for: what this night read, and what it
    // relied on from the night that wrote the checkpoint.
    assert_eq!(v["relied_on"]["from"], "2026-03-01T00:00:00Z", "{v:#}");
    assert_eq!(v["relied_on"]["until"], "2026-03-01T06:00:00Z", "{v:#}");
    assert_eq!(v["relied_on"]["checkpoint_written"], cp["written"]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Relied on from earlier runs"), "{html}");
    assert!(html.contains("2026-03-01T00:00:00Z to 2026-03-01T06:00:00Z: verified digests"));
    // The recorded digest and the six after it; only the new hours' logs.
    assert_eq!(v["summary"]["digests"]["total"], 7, "{v:#}");
    assert_eq!(v["summary"]["logs"]["total"], 18);
    assert_eq!(
        problem_of(&v, rec["key"].as_str().unwrap()).as_deref(),
        Some("")
    );
    let cp2: Value =
        serde_json::from_str(&std::fs::read_to_string(checkpoint(dir.path())).unwrap()).unwrap();
    assert_eq!(cp2["chains"][0]["end"], "2026-03-01T12:00:00Z");
    assert_eq!(cp2["start"], "2026-03-01T00:00:00Z");
    assert!(v["notes"].to_string().contains("not read again"), "{v:#}");
}

/// Night 1 ends at 06:00 and reads the look-ahead digests' log files past
/// it; a log file of the hours after 06:00 altered after night 1 is read by
/// night 2 (the checkpoint never records a digest past the window's end).
#[test]
fn a_log_past_the_first_nights_end_is_read_by_the_next_night() {
    for hour in ["20260301T06", "20260301T07"] {
        let dir = tempfile::tempdir().unwrap();
        simulate(dir.path());
        let cp = first_run(dir.path());
        assert_eq!(cp["chains"][0]["end"], "2026-03-01T06:00:00Z");
        alter_a_log(dir.path(), hour);
        let (code, v, err) = second_run(dir.path());
        assert_eq!(code, 1, "{hour}: {err}\n{v:#}");
    }
}

/// A log file altered behind the checkpoint: the nightly command (its
/// `--start-time` no earlier than the checkpoint's start) finds it through
/// the retention watch (the day's listing no longer matches the inventory
/// the checkpoint sealed), validates that day again and names the file; a
/// `--start-time` before the checkpoint's start asks for that history too.
#[test]
fn a_log_altered_behind_the_checkpoint_is_found_by_the_retention_watch() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let cp_doc = first_run(dir.path());
    assert!(
        cp_doc["chains"][0]["inventory"]["days"]["2026-03-01"].is_string(),
        "{cp_doc:#}"
    );
    alter_a_log(dir.path(), "20260301T02");
    let cp = checkpoint(dir.path());
    let nightly = |start: &str| {
        run(
            dir.path(),
            &[
                "--start-time",
                start,
                "--end-time",
                "2026-03-01T12:00:00Z",
                "--checkpoint",
                cp.to_str().unwrap(),
            ],
        )
    };
    let (code, v, err) = nightly("2026-03-01T00:00:00Z");
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert!(
        v["notes"].to_string().contains("changed on 2026-03-01"),
        "{v:#}"
    );
    let altered = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"].as_str().unwrap().contains("20260301T02") && l["status"] != "valid");
    // A flipped byte of gzip data: no longer CloudTrail's gzip at all.
    assert_eq!(
        altered.map(|l| l["problem"].clone()),
        Some("format".into()),
        "{v:#}"
    );
    let (code, v, err) = nightly("2026-02-28T23:00:00Z");
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert!(
        v["notes"]
            .to_string()
            .contains("before the checkpoint's start"),
        "{v:#}"
    );
}

#[test]
fn deletion_or_rewriting_behind_the_checkpoint_is_found() {
    // The checkpointed digest deleted.
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let cp = first_run(dir.path());
    let key = cp["chains"][0]["key"].as_str().unwrap().to_string();
    let path = dir.path().join("trailproof-sample-bucket").join(&key);
    std::fs::remove_file(&path).unwrap();
    let (code, v, err) = second_run(dir.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(problem_of(&v, &key).as_deref(), Some("not_found"));
    // A failed run does not advance the checkpoint past the finding.
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(checkpoint(dir.path())).unwrap()).unwrap();
    assert_eq!(again["chains"][0]["key"], key.as_str());

    // The checkpointed digest swapped for another (the record no longer matches).
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    first_run(dir.path());
    let text = std::fs::read_to_string(checkpoint(dir.path())).unwrap();
    let mut cp: Value = serde_json::from_str(&text).unwrap();
    cp["chains"][0]["sha256"] = Value::from("00".repeat(32));
    std::fs::write(checkpoint(dir.path()), cp.to_string()).unwrap();
    let key = cp["chains"][0]["key"].as_str().unwrap().to_string();
    let (code, v, _) = second_run(dir.path());
    assert_eq!(code, 1);
    assert_eq!(problem_of(&v, &key).as_deref(), Some("chain_link"));

    // The chain after it rewritten so that nothing vouches for it.
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let cp = first_run(dir.path());
    let key = cp["chains"][0]["key"].as_str().unwrap().to_string();
    let next = key.replace("20260301T060000Z", "20260301T070000Z");
    let next_path = dir.path().join("trailproof-sample-bucket").join(&next);
    std::fs::remove_file(&next_path).unwrap();
    let (code, v, _) = second_run(dir.path());
    assert_eq!(code, 1);
    assert_eq!(problem_of(&v, &next).as_deref(), Some("not_found"));
}

#[test]
fn unusable_checkpoints_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let cp = first_run(dir.path());
    let path = checkpoint(dir.path());
    let one = |text: &str, needle: &str| {
        std::fs::write(&path, text).unwrap();
        let (code, v, err) = second_run(dir.path());
        assert_eq!(code, 2, "{v:#}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    };
    one("{not json", "not a trailproof checkpoint");
    let mut old = cp.clone();
    old["trailproof_checkpoint"] = Value::from(0);
    one(&old.to_string(), "format version 0");
    let mut foreign = cp.clone();
    foreign["settings"]["bucket"] = Value::from("another-bucket");
    one(&foreign.to_string(), "was made for");
    // No checkpoint yet and no --start-time: say what is needed.
    std::fs::remove_file(&path).unwrap();
    let (code, _, err) = second_run(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("--start-time"), "{err}");
}

#[test]
fn metrics_file_holds_one_sample_per_chain_and_status() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let metrics = dir.path().join("trailproof.prom");
    let (code, _, err) = run(
        dir.path(),
        &[
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T12:00:00Z",
            "--metrics",
            metrics.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let chain = "account=\"123456789012\",region=\"us-east-1\"";
    for want in [
        format!("trailproof_objects{{{chain},kind=\"digest\",status=\"valid\"}} 12"),
        format!("trailproof_objects{{{chain},kind=\"log\",status=\"valid\"}} 36"),
        format!("trailproof_chain_exit_status{{{chain}}} 0"),
        format!("trailproof_newest_verified_digest_end_seconds{{{chain}}} 1772366400"),
        "trailproof_exit_status 0".to_string(),
    ] {
        assert!(text.lines().any(|l| l == want), "{want} missing:\n{text}");
    }
    // A broken job (a corrupt checkpoint: exit 2) still writes its status,
    // so the alert on `trailproof_exit_status != 0` does not see the last 0.
    let cp = checkpoint(dir.path());
    std::fs::write(&cp, "{not json").unwrap();
    let (code, _, _) = run(
        dir.path(),
        &[
            "--end-time",
            "2026-03-01T12:00:00Z",
            "--checkpoint",
            cp.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.lines().any(|l| l == "trailproof_exit_status 2"),
        "{text}"
    );
    assert!(
        text.contains("trailproof_last_run_timestamp_seconds "),
        "{text}"
    );
}

/// The README's nightly command, unchanged night after night (always with
/// its `--start-time`), on an intact trail that stops and restarts logging
/// (the stop recorded in the checkpointed digest's log files), gets a
/// backfill digest and rotates its signing key: exit 0 every night, and each
/// night reads only what is new. Then a deletion behind the checkpoint is
/// caught.
#[test]
fn the_readme_nightly_command_passes_every_night_on_an_intact_trail() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--out",
            dir.path().to_str().unwrap(),
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--hours",
            "100",
            "--logs-per-hour",
            "2",
            "--records-per-log",
            "2",
            "--seed",
            "30",
            "--damage",
            "gap@40",
            "--backfill",
            "60",
            "--rotate-key",
            "75",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cp = checkpoint(dir.path());
    let t = |h: i64| {
        trailproof::verify::time::display(
            trailproof::verify::time::parse_user_time("2026-03-01T00:00:00Z").unwrap()
                + chrono::Duration::hours(h),
        )
    };
    // Each night's checkpoint records the digest ending at its end; the
    // next night reads from there through its own look-ahead (about two
    // hours past its end): nights three hours apart. Night 11 records the
    // digest whose log files hold the StopLogging of hour 40's gap.
    for night in 0..30 {
        let end = t(7 + 3 * night);
        let (code, v, err) = run(
            dir.path(),
            &[
                "--start-time",
                "2026-03-01T00:00:00Z",
                "--end-time",
                &end,
                "--checkpoint",
                cp.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "night {night} (to {end}): {err}\n{v:#}");
        if night > 0 {
            let logs = v["summary"]["logs"]["total"].as_u64().unwrap();
            assert!(
                logs <= 12,
                "night {night} read {logs} log files: only the new ones"
            );
        }
    }
    // A keys file made before the rotation: the new key's digests cannot
    // be judged with it (not proven, never "intact" and never "tampered"),
    // and the line gives the command that fetches the missing span.
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("public-keys.json")).unwrap(),
    )
    .unwrap();
    let mut old_only = keys.clone();
    let list = old_only["PublicKeyList"].as_array_mut().unwrap();
    list.sort_by_key(|k| k["ValidityEndTime"].to_string());
    list.truncate(1);
    let stale = dir.path().join("stale-keys.json");
    std::fs::write(&stale, old_only.to_string()).unwrap();
    let out = Command::new(BIN)
        .args([
            "validate",
            "--local",
            dir.path().to_str().unwrap(),
            "--public-keys",
            stale.to_str().unwrap(),
            "--trail-arn",
            ARN,
            "--start-time",
            &t(70),
            "--end-time",
            &t(80),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("trailproof keys --region us-east-1 --start-time 2026-03-03"),
        "{err}"
    );
    assert!(err.contains("not proven with this keys file"), "{err}");
    // In JSON: the new key's digests are key_not_in_file, and the file's
    // own key still verifies the rest.
    let keys_path = dir.path().join("public-keys.json");
    let full = std::fs::read(&keys_path).unwrap();
    std::fs::copy(&stale, &keys_path).unwrap();
    let (code, v, err) = run(dir.path(), &["--start-time", &t(70), "--end-time", &t(80)]);
    // Not a gap CloudTrail explains: --allow-gaps does not pass it.
    let (allowed, _, _) = run(
        dir.path(),
        &["--start-time", &t(70), "--end-time", &t(80), "--allow-gaps"],
    );
    std::fs::write(&keys_path, full).unwrap();
    assert_eq!(code, 3, "{err}");
    assert_eq!(allowed, 3);
    let problems: Vec<&str> = v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["problem"].as_str())
        .collect();
    assert!(problems.contains(&"key_not_in_file"), "{problems:?}");
    assert!(
        problems.iter().all(|p| *p == "key_not_in_file"),
        "{problems:?}"
    );
    assert!(
        v["summary"]["digests"]["valid"].as_u64().unwrap() > 0,
        "{v:#}"
    );

    // A digest behind the checkpoint deleted: found on the next night.
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    let key = rec["chains"][0]["key"].as_str().unwrap().to_string();
    std::fs::remove_file(dir.path().join("trailproof-sample-bucket").join(&key)).unwrap();
    let (code, v, err) = run(
        dir.path(),
        &[
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            &t(98),
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(problem_of(&v, &key).as_deref(), Some("not_found"));
}

/// Under a state key the checkpoint carries a MAC: moving a chain's record
/// to a later genuine digest (skipping what lies between), or a checkpoint
/// written without the key, is exit 2 with one sentence.
#[test]
fn an_edited_checkpoint_is_refused_under_a_state_key() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let key = dir.path().join("state.key");
    std::fs::write(&key, [42u8; 32]).unwrap();
    let key_arg = format!("file:{}", key.display());
    let cp = checkpoint(dir.path());
    let nightly = |end: &str| {
        run(
            dir.path(),
            &[
                "--start-time",
                "2026-03-01T00:00:00Z",
                "--end-time",
                end,
                "--checkpoint",
                cp.to_str().unwrap(),
                "--state-key",
                &key_arg,
            ],
        )
    };
    let (code, _, err) = nightly("2026-03-01T06:00:00Z");
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&cp).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["mac"].is_string(), "{v:#}");
    // Re-serialised untouched, it still verifies.
    std::fs::write(&cp, serde_json::to_string(&v).unwrap()).unwrap();
    let (code, v2, err) = nightly("2026-03-01T09:00:00Z");
    assert_eq!(code, 0, "{err}");
    assert!(v2["notes"]
        .to_string()
        .contains("authenticated by the state key"));
    // Moved to a later digest.
    std::fs::write(&cp, &text).unwrap();
    let rec = v["chains"][0]["key"].as_str().unwrap().to_string();
    v["chains"][0]["key"] = Value::from(rec.replace("T060000Z", "T100000Z"));
    v["chains"][0]["end"] = Value::from("2026-03-01T10:00:00Z");
    std::fs::write(&cp, v.to_string()).unwrap();
    let (code, _, err) = nightly("2026-03-01T12:00:00Z");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not authenticated by the state key"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // Written without the key.
    std::fs::remove_file(&cp).unwrap();
    first_run(dir.path());
    let (code, _, err) = nightly("2026-03-01T12:00:00Z");
    assert_eq!(code, 2, "{err}");
}

/// The retention watch, the issue's own case: nights a day apart; after
/// night 2, a log file of day 2 is altered and a digest of day 2 deleted
/// (both behind the checkpoint). Night 3 finds and names both, though its
/// window starts at the checkpoint; the checkpoint does not advance past
/// them, and an intact trail stays exit 0 each night before.
#[test]
fn the_retention_watch_finds_what_changed_a_day_behind_the_checkpoint() {
    let (dir, cp) = watched_trail(80, 41);
    let night = |end: &str| nightly(dir.path(), &cp, end);
    for end in ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"] {
        let (code, v, err) = night(end);
        assert_eq!(code, 0, "{end}: {err}\n{v:#}");
    }
    let log_key = empty_a_log(dir.path(), "20260302T05");
    let digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/02/\
                  123456789012_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_20260302T150000Z.json.gz";
    let digest_path = dir.path().join("trailproof-sample-bucket").join(digest);
    std::fs::remove_file(&digest_path).unwrap();
    std::fs::remove_file(format!("{}.metadata.json", digest_path.display())).unwrap();
    let (code, v, err) = night("2026-03-04T00:00:00Z");
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert!(
        v["notes"].to_string().contains("changed on 2026-03-02"),
        "{v:#}"
    );
    assert_eq!(
        problem_of(&v, digest).as_deref(),
        Some("not_found"),
        "{v:#}"
    );
    assert_eq!(
        log_problem(&v, &log_key),
        Some("hash_mismatch".into()),
        "{v:#}"
    );
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(
        again["chains"][0]["end"], "2026-03-03T00:00:00Z",
        "not advanced past them"
    );
}

/// The log files the checkpointed digest lists are behind the checkpoint
/// too: one altered after the night that recorded it is found when the
/// watch widens the chain back to its day (they are not skipped as
/// "verified by the run that recorded them").
#[test]
fn the_record_digests_own_log_files_are_watched() {
    let (dir, cp) = watched_trail(60, 43);
    let night = |end: &str| nightly(dir.path(), &cp, end);
    assert_eq!(night("2026-03-02T00:00:00Z").0, 0);
    let log_key = empty_a_log(dir.path(), "20260301T23");
    let (code, v, err) = night("2026-03-02T12:00:00Z");
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert_eq!(
        log_problem(&v, &log_key),
        Some("hash_mismatch".into()),
        "{v:#}"
    );
}

/// A trail of `hours` (one log file an hour) from 2026-03-01, and where
/// its checkpoint goes.
fn watched_trail(hours: u32, seed: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (hours, seed) = (hours.to_string(), seed.to_string());
    let args = ["--start-time", "2026-03-01T00:00:00Z", "--hours", &hours];
    let shape = [
        "--logs-per-hour",
        "1",
        "--records-per-log",
        "2",
        "--seed",
        &seed,
    ];
    crate::support::trail::simulate_in(dir.path(), &[&args[..], &shape[..]].concat());
    let cp = checkpoint(dir.path());
    (dir, cp)
}

/// The README's nightly command over the window to `end`.
fn nightly(dir: &Path, cp: &Path, end: &str) -> (i32, Value, String) {
    let cp = cp.to_str().unwrap();
    let args = [
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        end,
        "--checkpoint",
        cp,
    ];
    run(dir, &args)
}

/// A night that widens the window and fails does not move the checkpoint's
/// start back: the next night with the same `--start-time` widens again and
/// finds the same damage, and no report calls the unproven hours proven.
#[test]
fn a_failed_widening_night_leaves_the_start_where_it_was_proven() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let (cp, cp_arg) = (
        checkpoint(dir.path()),
        checkpoint(dir.path()).display().to_string(),
    );
    let night = |start: &str, end: &str| window_night(dir.path(), start, end);
    let (code, _, err) = night("2026-03-01T06:00:00Z", "2026-03-01T09:00:00Z");
    assert_eq!(code, 0, "{err}");
    // Hours never proven are altered; the operator widens the window.
    alter_a_log(dir.path(), "20260301T03");
    let (code, _, err) = night("2026-03-01T00:00:00Z", "2026-03-01T09:00:00Z");
    assert_eq!(code, 1, "{err}");
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(kept["start"], "2026-03-01T06:00:00Z", "{kept:#}");
    let (code, v, err) = night("2026-03-01T00:00:00Z", "2026-03-01T12:00:00Z");
    assert_eq!(
        code, 1,
        "the same damage, the same night after: {err}\n{v:#}"
    );
    // Without --start-time the night resumes at the record and says it
    // relies on what was proven: from 06:00, never the altered 03:00.
    let (_, v, _) = run(
        dir.path(),
        &[
            "--end-time",
            "2026-03-01T12:00:00Z",
            "--checkpoint",
            &cp_arg,
        ],
    );
    let from = v["relied_on"]["from"].as_str().unwrap_or("");
    assert!(
        v["relied_on"].is_null() || from >= "2026-03-01T06:00:00Z",
        "{v:#}"
    );
}

/// What a chain was proven from is its own: a first night that failed
/// from 00:00 and a second proven from 06:00 do not let a night from 00:00
/// resume at the record as if 00:00 to 06:00 had been proven.
#[test]
fn a_chain_proven_from_later_is_read_again_by_an_earlier_start() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    alter_a_log(dir.path(), "20260301T03");
    let night = |start: &str, end: &str| window_night(dir.path(), start, end).0;
    assert_eq!(night("2026-03-01T00:00:00Z", "2026-03-01T06:00:00Z"), 1);
    assert_eq!(night("2026-03-01T06:00:00Z", "2026-03-01T08:00:00Z"), 0);
    assert_eq!(night("2026-03-01T00:00:00Z", "2026-03-01T10:00:00Z"), 1);
}

/// A widening night that proves the chain moves its watch back with it:
/// a log file of the widened hours deleted afterwards is found.
#[test]
fn the_watch_covers_what_a_widening_night_proved() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let night = |start: &str, end: &str| window_night(dir.path(), start, end);
    assert_eq!(night("2026-03-01T06:00:00Z", "2026-03-01T09:00:00Z").0, 0);
    assert_eq!(night("2026-03-01T00:00:00Z", "2026-03-01T09:00:00Z").0, 0);
    let (log, _) = find_log(dir.path(), "20260301T03");
    std::fs::remove_file(log).unwrap();
    let (code, v, err) = night("2026-03-01T00:00:00Z", "2026-03-01T12:00:00Z");
    assert_eq!(code, 1, "{err}\n{v:#}");
}

/// One night of the window `start` to `end` with the folder's checkpoint.
fn window_night(dir: &Path, start: &str, end: &str) -> (i32, Value, String) {
    let cp = checkpoint(dir).display().to_string();
    let args = [
        "--start-time",
        start,
        "--end-time",
        end,
        "--checkpoint",
        &cp,
    ];
    run(dir, &args)
}
