//! The exit-0 contract, offline: every attack on the window's edges, gaps
//! and folders found in the issue ends non-zero with the right findings,
//! and every operator mistake is one sentence and exit status 2.

use crate::support::trail::{run, simulate, simulate_own_key, Run, Trail};
use chrono::{Duration, DurationRound};
use serde_json::Value;
use std::path::{Path, PathBuf};
use trailproof::verify::layout::{parse_log_key, AccountRoot, DigestSeries};
use trailproof::verify::time::{display, parse_user_time, Timestamp};

const BUCKET: &str = "trailproof-sample-bucket";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const START: &str = "2026-03-01T00:00:00Z";

fn t(s: &str) -> Timestamp {
    parse_user_time(s).unwrap()
}

/// A simulated 6-hour trail (3 log files an hour) and what tests do to it.
struct Sim {
    trail: Trail,
    start: Timestamp,
}

fn sim_args(start: Timestamp, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--start-time", &display(start)]
        .into_iter()
        .chain([
            "--logs-per-hour",
            "3",
            "--records-per-log",
            "4",
            "--seed",
            "5",
        ])
        .map(str::to_string)
        .collect();
    if !extra.contains(&"--hours") {
        args.extend(["--hours".to_string(), "6".to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn sim_at(start: Timestamp, extra: &[&str]) -> Sim {
    let trail = simulate(&strs(&sim_args(start, extra)));
    Sim { trail, start }
}

/// The same trail signed with a key of its own.
fn sim_own_key(extra: &[&str]) -> Sim {
    let start = t(START);
    let trail = simulate_own_key(&strs(&sim_args(start, extra)));
    Sim { trail, start }
}

fn sim(extra: &[&str]) -> Sim {
    sim_at(t(START), extra)
}

impl Sim {
    fn root(&self) -> String {
        self.trail.root().to_str().unwrap().to_string()
    }

    fn bucket_dir(&self) -> PathBuf {
        self.trail.root().join(BUCKET)
    }

    fn keys(&self) -> String {
        self.trail.out.keys_file.to_str().unwrap().to_string()
    }

    fn hour(&self, h: i64) -> Timestamp {
        self.start + Duration::hours(h)
    }

    fn digest_path(&self, h: i64) -> PathBuf {
        let series = DigestSeries {
            root: AccountRoot::new(None, None, "123456789012"),
            source_region: "us-east-1".into(),
            trail_name: "sample-trail".into(),
            home_region: "us-east-1".into(),
        };
        self.bucket_dir().join(series.key(self.hour(h + 1), false))
    }

    fn delete_digest(&self, h: i64) {
        let p = self.digest_path(h);
        std::fs::remove_file(&p).unwrap();
        let mut meta = p.into_os_string();
        meta.push(".metadata.json");
        std::fs::remove_file(meta).unwrap();
    }

    /// Log files on disk delivered in hour `h`.
    fn logs(&self, h: i64) -> Vec<PathBuf> {
        let dir = self
            .bucket_dir()
            .join("AWSLogs/123456789012/CloudTrail/us-east-1")
            .join(self.hour(h).format("%Y/%m/%d").to_string());
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| {
            let key = p.strip_prefix(self.bucket_dir()).unwrap().to_str().unwrap();
            parse_log_key(key).is_some_and(|k| k.time >= self.hour(h) && k.time < self.hour(h + 1))
        });
        v.sort();
        v
    }

    /// Every digest and log file of these hours, as an attacker deletes them.
    fn delete_hours(&self, hours: impl IntoIterator<Item = i64>) {
        for h in hours {
            self.delete_digest(h);
            self.delete_logs(h);
        }
    }

    fn delete_logs(&self, h: i64) {
        for p in self.logs(h) {
            std::fs::remove_file(p).unwrap();
        }
    }

    fn tamper_logs(&self, h: i64) {
        for p in self.logs(h) {
            std::fs::write(p, trailproof::verify::gzip::gzip(b"{\"Records\":[]}")).unwrap();
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let p = self.bucket_dir().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn run(&self, extra: &[&str]) -> Run {
        let root = self.root();
        let keys = self.keys();
        let mut args = vec![
            "validate",
            "--local",
            &root,
            "--public-keys",
            &keys,
            "--trail-arn",
            ARN,
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn json(&self, extra: &[&str]) -> (i32, Value) {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(extra);
        let r = self.run(&a);
        (r.code, r.json())
    }

    fn window(&self, from: i64, to: i64) -> Vec<String> {
        vec![
            "--start-time".into(),
            display(self.hour(from)),
            "--end-time".into(),
            display(self.hour(to)),
        ]
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// (key suffix, problem) of every digest that is not valid.
fn bad_digests(v: &Value) -> Vec<(String, String)> {
    v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "valid")
        .map(|d| {
            let k = d["key"].as_str().unwrap();
            (
                k[k.len() - 24..].to_string(),
                d["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn log_problem(v: &Value, path: &Path) -> Option<String> {
    let name = path.file_name().unwrap().to_str().unwrap();
    v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"].as_str().unwrap().ends_with(name))
        .map(|l| l["problem"].as_str().unwrap_or("").to_string())
}

#[test]
fn intact_trail_ending_now_is_proven_with_the_default_end() {
    let now_hour = chrono::Utc::now()
        .duration_trunc(Duration::hours(1))
        .unwrap();
    let s = sim_at(now_hour - Duration::hours(6), &[]);
    let start = display(s.start);
    let (code, v) = s.json(&["--start-time", &start]);
    assert_eq!(code, 0, "{v:#}");
    // The newest hour's digest is not due yet: said, but not a finding.
    let u = v["untrusted"].as_array().unwrap();
    assert!(
        u.iter().all(|x| x["reasons"][0] == "not_yet_delivered"),
        "{u:#?}"
    );
    // An end a year ahead is clamped to now, with a note: the year to come
    // is not "pending" delivery.
    let year_ahead = display(now_hour + Duration::days(365));
    let (code, v) = s.json(&["--start-time", &start, "--end-time", &year_ahead]);
    assert_eq!(code, 0, "{v:#}");
    let end = trailproof::verify::time::parse_user_time(v["requested"]["end"].as_str().unwrap());
    assert!(end.unwrap() <= chrono::Utc::now(), "{v:#}");
    assert!(
        v["notes"].to_string().contains("in the future"),
        "{:#}",
        v["notes"]
    );
}

/// A late log file of the last hour whose backfill digest has not come
/// yet: within the delivery grace a note (no digest lists it yet), and the
/// checkpoint stays before it so the next night judges it; past the grace
/// the finding it always was.
#[test]
fn a_late_log_before_its_backfill_digest_waits_for_the_grace() {
    let now_hour = chrono::Utc::now()
        .duration_trunc(Duration::hours(1))
        .unwrap();
    let s = sim_at(now_hour - Duration::hours(6), &["--backfill", "5"]);
    let series = DigestSeries {
        root: AccountRoot::new(None, None, "123456789012"),
        source_region: "us-east-1".into(),
        trail_name: "sample-trail".into(),
        home_region: "us-east-1".into(),
    };
    let backfill = s.bucket_dir().join(series.key(s.hour(6), true));
    std::fs::remove_file(&backfill).unwrap();
    let late = s
        .logs(5)
        .into_iter()
        .find(|p| {
            p.to_str()
                .unwrap()
                .contains(&s.hour(5).format("%Y%m%dT%H45Z").to_string())
        })
        .unwrap();
    let start = display(s.start);
    let cp = s.trail.root().join("checkpoint.json");
    let cp_arg = cp.to_str().unwrap();
    let (code, v) = s.json(&[
        "--start-time",
        &start,
        "--delivery-grace",
        "120",
        "--checkpoint",
        cp_arg,
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        log_problem(&v, &late).as_deref(),
        Some("no_digest"),
        "{v:#}"
    );
    // From it on the window is pending, not trusted.
    let late_at = s.hour(5) + Duration::minutes(45);
    assert!(
        v["untrusted"].as_array().unwrap().iter().any(|u| {
            u["reasons"].to_string().contains("not_yet_delivered")
                && t(u["start"].as_str().unwrap()) <= late_at
        }),
        "{:#}",
        v["untrusted"]
    );
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    let end = t(recorded["chains"][0]["end"].as_str().unwrap());
    assert!(end <= s.hour(5), "{recorded:#}");
    let (code, v) = s.json(&["--start-time", &start, "--delivery-grace", "10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(log_problem(&v, &late).as_deref(), Some("unreferenced"));
}

#[test]
fn truncated_tail_with_the_default_end_is_not_proven() {
    let now_hour = chrono::Utc::now()
        .duration_trunc(Duration::hours(1))
        .unwrap();
    let s = sim_at(now_hour - Duration::hours(6), &[]);
    let start = display(s.start);
    s.delete_digest(4);
    s.delete_digest(5);
    s.tamper_logs(4);
    // Logs left behind in the truncated tail: evidence (exit 1), each reported.
    let (code, v) = s.json(&["--start-time", &start]);
    assert_eq!(code, 1, "{v:#}");
    for p in s.logs(4).iter().chain(&s.logs(5)) {
        assert_eq!(log_problem(&v, p).as_deref(), Some("unreferenced"), "{p:?}");
    }
    assert_eq!(v["gaps"][0]["kind"], "no_later_digest");
    assert_eq!(v["gaps"][0]["explained"], false);
    // The logs deleted too: nothing tampered is in sight, but the tail is unproven.
    s.delete_logs(4);
    s.delete_logs(5);
    let r = s.run(&["--start-time", &start]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("Coverage of the requested window is not proven"),
        "{}",
        r.stderr
    );
    // --allow-gaps restores the AWS CLI's answer.
    assert_eq!(s.run(&["--start-time", &start, "--allow-gaps"]).code, 0);
}

#[test]
fn digests_cut_at_the_window_end_are_found_by_looking_ahead() {
    let s = sim(&[]);
    s.delete_hours(2..=4);
    let w = s.window(0, 4);
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 1, "{v:#}");
    let bad = bad_digests(&v);
    for end in ["20260301T030000Z", "20260301T040000Z", "20260301T050000Z"] {
        assert!(
            bad.iter()
                .any(|(k, p)| k.starts_with(end) && p == "not_found"),
            "{end} not reported: {bad:?}"
        );
    }
}

#[test]
fn whole_window_wiped_is_tampering() {
    let s = sim(&[]);
    for h in 0..=2 {
        s.delete_digest(h);
    }
    s.tamper_logs(1);
    let w = s.window(0, 3);
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 1, "{v:#}");
    let bad = bad_digests(&v);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().all(|(_, p)| p == "not_found"));
    for p in s.logs(1) {
        assert_eq!(log_problem(&v, &p).as_deref(), Some("unreferenced"));
    }
}

/// A local copy cut at the tail, with a planted `manifest.json` (so the
/// directory looks acquired) and a `lookup-events.json` holding a forged
/// StopLogging before the cut: records from a directory that no state key
/// authenticates are not evidence, so the tail stays unexplained.
#[test]
fn a_planted_manifest_and_forged_stop_do_not_explain_a_cut_tail() {
    let s = sim(&[]);
    s.delete_hours(4..6);
    let events = s.trail.root().join("lookup-events.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&events).unwrap()).unwrap();
    let list = doc["Events"].as_array_mut().unwrap();
    let mut stop = list
        .iter()
        .find(|e| e["EventName"] == "StartLogging")
        .unwrap()
        .clone();
    let at = display(s.hour(4) - Duration::minutes(5));
    stop["EventName"] = Value::from("StopLogging");
    stop["EventTime"] = Value::from(at.clone());
    let inner = stop["CloudTrailEvent"].as_str().unwrap().to_string();
    let mut inner: Value = serde_json::from_str(&inner).unwrap();
    inner["eventName"] = Value::from("StopLogging");
    inner["eventTime"] = Value::from(at);
    inner["eventID"] = Value::from("00000000-0000-0000-0000-00000000f00d");
    stop["CloudTrailEvent"] = Value::from(inner.to_string());
    stop["EventId"] = Value::from("00000000-0000-0000-0000-00000000f00d");
    list.push(stop);
    std::fs::write(&events, doc.to_string()).unwrap();
    std::fs::write(s.trail.root().join("manifest.json"), "{}").unwrap();
    let r = s.run(&strs(&s.window(0, 6)));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not used"), "{}", r.stderr);
}

/// Logging really stopped and restarted (CloudTrail's records given with
/// `--gap-events`); everything from the restart on is deleted. The restart
/// record proves CloudTrail delivered digests after it: deleted digests,
/// not an unexplained tail.
#[test]
fn a_recorded_restart_makes_a_deleted_tail_tampering() {
    let s = sim(&["--damage", "gap@2"]);
    s.delete_hours(3..6);
    let events = s.trail.root().join("lookup-events.json");
    let mut a = s.window(0, 6);
    a.extend([
        "--gap-events".to_string(),
        events.to_str().unwrap().to_string(),
    ]);
    let (code, v) = s.json(&strs(&a));
    assert_eq!(code, 1, "{v:#}");
    let bad = bad_digests(&v);
    assert!(
        bad.iter().all(|(_, p)| p == "not_found") && !bad.is_empty(),
        "{bad:?}"
    );
}

/// A genuine stop, the restart and everything after it in its day deleted,
/// and in each later day folder an object named with the trail's own digest
/// name and a character that sorts before every genuine digest: the
/// look-ahead must not jump past the day on it. The later genuine digests
/// are found (their pointers name the deleted ones) and the planted names
/// are `unexpected_object`, whichever side of the window they lie.
#[test]
fn names_carrying_the_trails_own_digest_name_do_not_hide_the_look_ahead() {
    let s = sim(&["--hours", "30", "--damage", "gap@5"]);
    s.delete_hours(6..23);
    let own = "123456789012_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_";
    let folder = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03";
    let decoys = [
        format!("{folder}/02/{own}!x"),
        format!("{folder}/02/{own}0_us-east-1_20260302T000000Z.json.gz"),
        format!("{folder}/03/{own}!x"),
        format!("{folder}/01/{own}!inside"),
    ];
    for k in &decoys {
        s.put(k, b"x");
    }
    let events = s.trail.root().join("lookup-events.json");
    for extra in [vec![], vec!["--gap-events", events.to_str().unwrap()]] {
        let mut a = s.window(0, 12);
        a.extend(extra.iter().map(|x| x.to_string()));
        let (code, v) = s.json(&strs(&a));
        assert_eq!(code, 1, "{v:#}");
        let bad = bad_digests(&v);
        assert!(bad.iter().any(|(_, p)| p == "not_found"), "{bad:?}");
        let unexpected: Vec<&str> = v["unexpected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap())
            .collect();
        // The second parses (another trail's name may extend ours); the
        // third lies past the look-ahead digest, which ends the listing.
        for k in [&decoys[0], &decoys[3]] {
            assert!(unexpected.contains(&k.as_str()), "{k}: {unexpected:?}");
        }
    }
}

/// Offline, a chain that ends in a genuine StopLogging whose restart and
/// everything after it were deleted: the trail's logs alone cannot show
/// the restart, so the stopped tail is not proven (never exit 0), with one
/// sentence on how to prove it; CloudTrail's records prove an intact stop.
#[test]
fn a_stopped_tail_offline_is_proven_only_by_records_that_would_show_a_restart() {
    let s = sim(&["--damage", "gap@2"]);
    s.delete_hours(3..6);
    let r = s.run(&strs(&s.window(0, 6)));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--gap-events"), "{}", r.stderr);
    // An intact trail that really stayed stopped to the window's end: its
    // records (LookupEvents' answer) prove it.
    let s = sim(&["--damage", "gap@5"]);
    let r = s.run(&strs(&s.window(0, 6)));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let events = s.trail.root().join("lookup-events.json");
    let mut a = s.window(0, 6);
    a.extend([
        "--gap-events".to_string(),
        events.to_str().unwrap().to_string(),
    ]);
    let (code, v) = s.json(&strs(&a));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["gaps"][0]["cause"], "logging_stopped", "{v:#}");
}

/// DeleteTrail, then CreateTrail under the same name an hour later with
/// less coverage (global service events left out): the re-created trail is
/// held to what the deleted one recorded (not proven), and the hour between
/// is a gap whose explanation names both calls.
#[test]
fn a_trail_deleted_and_re_created_with_less_coverage_is_not_proven() {
    let s = sim(&["--damage", "recreate@3"]);
    let (code, v) = s.json(&strs(&s.window(0, 6)));
    assert_eq!(code, 3, "{v:#}");
    let unproven = v["unproven"].to_string();
    assert!(unproven.contains("Coverage narrowed at"), "{unproven}");
    assert!(unproven.contains("CreateTrail"), "{unproven}");
    let gap = &v["gaps"][0];
    assert_eq!(gap["cause"], "trail_deleted", "{v:#}");
    assert!(
        gap["evidence"].as_str().unwrap().contains("trail_created"),
        "{gap:#}"
    );
}

/// The digest folder deleted while the log files stay: no typo (the logs
/// are the trail's), so not "check --account-id" but not proven, naming
/// both causes (validation never on, or the digests deleted).
#[test]
fn a_deleted_digest_folder_is_not_an_operator_mistake() {
    let s = sim(&[]);
    let digests = s
        .bucket_dir()
        .join("AWSLogs/123456789012/CloudTrail-Digest");
    std::fs::remove_dir_all(digests).unwrap();
    let r = s.run(&strs(&s.window(0, 6)));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("validation was never enabled") && r.stderr.contains("deleted"),
        "{}",
        r.stderr
    );
}

/// A window that starts while logging was stopped: the StopLogging lies in
/// the log files of the last digest before the window, read by looking
/// behind (it was "not proven" on an intact trail).
#[test]
fn a_window_that_starts_while_logging_was_stopped_is_proven() {
    let s = sim(&["--damage", "gap@2"]);
    let start = display(s.hour(2) + Duration::minutes(30));
    let end = display(s.hour(6));
    let (code, v) = s.json(&["--start-time", &start, "--end-time", &end]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["gaps"][0]["cause"], "logging_stopped", "{v:#}");
    // Nothing before the window is reported.
    assert!(v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["end"].as_str() > Some(start.as_str())));
}

/// Every digest of the trail deleted and one empty object named like
/// another trail's digest planted: not the operator's typo (that trail's
/// digest does not verify), so the logs left behind are findings.
#[test]
fn a_planted_other_trail_name_does_not_make_deletion_a_typo() {
    let s = sim(&[]);
    let day = s
        .bucket_dir()
        .join("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/01");
    for h in 0..6 {
        s.delete_digest(h);
    }
    std::fs::write(
        day.join("123456789012_CloudTrail-Digest_us-east-1_other-trail_us-east-1_20260301T030000Z.json.gz"),
        b"",
    )
    .unwrap();
    let r = s.run(&strs(&s.window(0, 6)));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}

/// Logging stopped, restarted, stopped again and restarted; the window
/// starts inside the second stretch of logging, whose digests and logs
/// (with the records of its start and stop) are deleted. The first stop,
/// hours before the window, does not explain the window's head.
#[test]
fn an_old_stop_behind_the_window_does_not_explain_deleted_logging() {
    let s = sim(&["--damage", "gap@1", "--damage", "gap@4"]);
    s.delete_hours(2..4);
    let start = display(s.hour(3) + Duration::minutes(30));
    let end = display(s.hour(6));
    let (code, v) = s.json(&["--start-time", &start, "--end-time", &end]);
    assert_eq!(code, 3, "{v:#}");
}

#[test]
fn gap_widened_backwards_is_never_proven() {
    // Logging really stopped in hour 3 (recorded in hour 2's last log);
    // the attacker deletes the digests and logs of hours 1 and 2.
    let s = sim(&["--damage", "gap@3"]);
    let w = s.window(0, 6);
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 0, "the honest gap is explained: {v:#}");
    assert_eq!(v["gaps"][0]["cause"], "logging_stopped");
    s.delete_hours(1..=2);
    // Offline, the stop record went with the deleted logs: unexplained.
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 3, "{v:#}");
    // With CloudTrail's record of the stop, the hours before it were deleted.
    let events = s.trail.root().join("lookup-events.json");
    let mut a = w.clone();
    a.extend([
        "--gap-events".to_string(),
        events.to_str().unwrap().to_string(),
    ]);
    let (code, v) = s.json(&strs(&a));
    assert_eq!(code, 1, "{v:#}");
    let bad = bad_digests(&v);
    assert!(
        bad.iter().any(|(k, _)| k.starts_with("20260301T020000Z")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|(k, _)| k.starts_with("20260301T030000Z")),
        "{bad:?}"
    );
    assert_eq!(v["gaps"][0]["explained"], true);
}

#[test]
fn injected_and_oddly_named_objects_get_a_verdict() {
    let s = sim(&["--window-offset-seconds", "1800"]);
    let day = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01/";
    let log = trailproof::verify::gzip::gzip(b"{\"Records\":[]}");
    let strangers = [
        format!("{day}evil.json.gz"),
        format!("{day}123456789012_cloudtrail_us-east-1_20260301T0210Z_abcdefghijklmnop.json.gz"),
        format!("{day}123456789012_CloudTrail_us-east-1_20260301T0210Z_abcdefghijklmnop.json"),
        format!("{day}999999999999_CloudTrail_us-east-1_20260301T0210Z_abcdefghijklmnop.json.gz"),
        format!(
            "{day}sub/123456789012_CloudTrail_us-east-1_20260301T0210Z_abcdefghijklmnop.json.gz"
        ),
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/01/evil.json.gz".to_string(),
        // A `.metadata.json` that is not a digest's metadata is an object.
        format!("{day}123456789012_CloudTrail_us-east-1_20260301T0210Z_abcdefghijklmnop.json.gz.metadata.json"),
        format!("{day}orphan.metadata.json"),
        // Above the day folders, at every level, in both trees.
        "AWSLogs/123456789012/CloudTrail/us-east-1/junk.json.gz".to_string(),
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/junk.json.gz".to_string(),
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/junk.json.gz".to_string(),
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/junk.json.gz".to_string(),
        // Inside folders CloudTrail never makes.
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/1st/x.json.gz".to_string(),
        "AWSLogs/123456789012/CloudTrail/us-east-1/extra/2026/03/01/x.json.gz".to_string(),
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/+1/x.json.gz".to_string(),
        // Correctly named for the window, in another day's folder.
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/02/123456789012_CloudTrail_us-east-1_20260301T0210Z_misplacedmisplac.json.gz".to_string(),
    ];
    for k in &strangers {
        s.put(k, &log);
    }
    // Correctly named, inside the window, before the trail's first digest.
    let early =
        format!("{day}123456789012_CloudTrail_us-east-1_20260301T0010Z_earlyearlyearly1.json.gz");
    s.put(&early, &log);
    let w = vec![
        "--start-time".to_string(),
        START.to_string(),
        "--end-time".to_string(),
        "2026-03-01T06:30:00Z".to_string(),
    ];
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 1, "{v:#}");
    let unexpected: Vec<&str> = v["unexpected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    for k in &strangers {
        assert!(
            unexpected.contains(&k.as_str()),
            "{k} not reported: {unexpected:?}"
        );
    }
    assert_eq!(
        log_problem(&v, Path::new(&early)).as_deref(),
        Some("unreferenced")
    );
    // The text output names every one, with its key as written.
    let r = s.run(&strs(&w));
    for k in &strangers {
        assert!(
            r.stderr
                .contains(&format!("Object\ts3://{BUCKET}/{k}\tINVALID: ")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn logs_under_a_missing_digest_that_starts_before_the_window_are_reported() {
    let s = sim(&[]);
    s.delete_digest(2);
    let w = vec![
        "--start-time".to_string(),
        "2026-03-01T02:30:00Z".to_string(),
        "--end-time".to_string(),
        "2026-03-01T06:00:00Z".to_string(),
    ];
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 1, "{v:#}");
    for p in s.logs(2) {
        let key = p
            .strip_prefix(s.bucket_dir())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if parse_log_key(&key).unwrap().time >= t("2026-03-01T02:31:00Z") {
            assert_eq!(
                log_problem(&v, &p).as_deref(),
                Some("unreferenced"),
                "{key}"
            );
        }
    }
}

#[test]
fn organization_discovery_is_not_hijacked_by_junk() {
    let s = sim(&["--organization-id", "o-abc123def4"]);
    // Junk in the plain folder and in a fake organization folder.
    s.put(
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/01/junk.json.gz",
        b"junk",
    );
    s.put(
        "AWSLogs/o-fake999999/123456789012/CloudTrail-Digest/us-east-1/2026/03/01/x.json.gz",
        b"junk",
    );
    let w = s.window(0, 6);
    let (code, v) = s.json(&strs(&w));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["digests"]["valid"], 6);
    // A second folder with real digests of this trail: ask, never guess.
    let src = s
        .bucket_dir()
        .join("AWSLogs/o-abc123def4/123456789012/CloudTrail-Digest");
    let dst = s
        .bucket_dir()
        .join("AWSLogs/123456789012/CloudTrail-Digest");
    copy_dir(&src, &dst);
    let r = s.run(&strs(&w));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("o-abc123def4") && r.stderr.contains("--organization-id"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1);
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// History deleted up to a genuine restart (digests and every earlier log
/// file), audited over the deleted span: the restart digest has no
/// predecessor and nothing lies before it, but no creation record says the
/// trail began there. A finding's path (not proven), never "you asked for a
/// window before the trail existed".
#[test]
fn deleted_history_before_a_restart_is_not_an_operator_mistake() {
    let s = sim(&["--damage", "gap@2"]);
    s.delete_hours(0..2);
    let r = s.run(&strs(&s.window(0, 2)));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
}

/// An operator's mistake: exit 2, one sentence on stderr, nothing on stdout.
fn mistake(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// The whole window with `extra`.
fn whole(s: &Sim, extra: &[&str]) -> Run {
    let mut a = s.window(0, 6);
    a.extend(extra.iter().map(|x| x.to_string()));
    s.run(&strs(&a))
}

/// `validate --local DIR --public-keys KEYS --trail-arn ARN` over the window.
fn local(s: &Sim, dir: &str, keys: &str, arn: &str, extra: &[&str]) -> Run {
    let w = s.window(0, 6);
    let mut a = vec![
        "validate",
        "--local",
        dir,
        "--public-keys",
        keys,
        "--trail-arn",
        arn,
    ];
    a.extend(strs(&w));
    a.extend_from_slice(extra);
    run(&a)
}

#[test]
fn a_region_typo_names_the_region_the_folder_holds() {
    mistake(&whole(&sim(&[]), &["--region", "us-east-2"]), "us-east-1");
}

#[test]
fn an_account_typo_names_the_account_the_folder_holds() {
    let r = whole(&sim(&[]), &["--account-id", "123456789013"]);
    mistake(&r, "123456789012");
}

#[test]
fn a_prefix_typo_names_what_the_folder_holds() {
    mistake(&whole(&sim(&[]), &["--s3-prefix", "logs"]), "AWSLogs");
}

#[test]
fn an_organization_typo_says_which_option_to_use() {
    let r = whole(&sim(&[]), &["--organization-id", "o-typo000000"]);
    mistake(&r, "--account-id or --organization-id");
}

/// A date typed without dashes is a date, not seconds of 1970; an empty
/// window is refused.
#[test]
fn a_date_without_dashes_is_a_date_and_an_empty_window_is_refused() {
    let s = sim(&[]);
    let r = s.run(&[
        "--start-time",
        "20260301",
        "--end-time",
        "2026-03-01T06:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = s.run(&["--start-time", START, "--end-time", START]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("equals end-time"), "{}", r.stderr);
}

/// An output folder that does not exist fails at once, before any object
/// is read (not after the run, in place of the verdict).
#[test]
fn an_output_folder_that_does_not_exist_fails_first() {
    let r = whole(&sim(&[]), &["--html", "no-such-folder/r.html"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the folder no-such-folder does not exist"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

/// A time the parser cannot read names the accepted forms.
#[test]
fn an_unreadable_time_names_the_accepted_forms() {
    let r = sim(&[]).run(&["--start-time", "yesterday"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("accepted: 2026-03-01T00:00:00Z"),
        "{}",
        r.stderr
    );
}

/// A typo in the trail's name: the folder holds another trail's digests.
#[test]
fn a_trail_name_typo_names_the_trails_the_folder_holds() {
    let s = sim(&[]);
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trial";
    let r = local(&s, &s.root(), &s.keys(), arn, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("digests of trail(s) sample-trail"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

/// A region no partition has is a typo, not a MISSING chain.
#[test]
fn a_region_no_partition_has_is_a_typo() {
    let r = whole(&sim(&[]), &["--region", "us-eats-1"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not a region name"), "{}", r.stderr);
}

/// A year typo: a window that has not begun is not a proof of anything;
/// a window years before the trail began has nothing of it to prove.
#[test]
fn a_year_typo_is_refused_in_one_sentence() {
    let s = sim(&[]);
    for (from, to, needle) in [
        (
            "2062-03-01T00:00:00Z",
            "2062-03-02T00:00:00Z",
            "in the future",
        ),
        (
            "2023-03-01T00:00:00Z",
            "2023-03-02T00:00:00Z",
            "first digest",
        ),
    ] {
        let r = s.run(&["--start-time", from, "--end-time", to]);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(needle), "{}", r.stderr);
        assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    }
}

/// `aws s3 sync s3://bucket DIR`: DIR holds AWSLogs/ directly; the hint
/// names the bucket the digests belong to.
#[test]
fn a_copy_of_one_buckets_contents_names_the_folder_to_make() {
    let s = sim(&[]);
    let bucket_dir = s.bucket_dir();
    let r = local(&s, bucket_dir.to_str().unwrap(), &s.keys(), ARN, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("looks like one bucket's contents"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("folder named trailproof-sample-bucket"),
        "{}",
        r.stderr
    );
}

/// Following the old hint with a folder named otherwise (`--local parent
/// --s3-bucket copy`): every digest "moved" was a flood of findings; it is
/// the copy's name, said once.
#[test]
fn a_bucket_folder_named_otherwise_is_said_once() {
    let s = sim(&[]);
    std::fs::rename(s.bucket_dir(), s.trail.root().join("copy")).unwrap();
    let r = local(&s, &s.root(), &s.keys(), ARN, &["--s3-bucket", "copy"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("rename copy to trailproof-sample-bucket"),
        "{}",
        r.stderr
    );
}

/// Keys of another region (or another trail's keys file): a file that
/// holds keys for the digests' time but not their fingerprint. Forged
/// digests cannot be told from another region's file offline, so they are
/// findings, with a note saying how to rule out the mistake.
#[test]
fn another_regions_keys_file_is_findings_with_a_note() {
    let (s, other) = (sim(&[]), sim_own_key(&[]));
    let r = local(&s, &s.root(), &other.keys(), ARN, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("were forged, or the file is another region's")
            && r.stderr.contains("trailproof keys --region us-east-1"),
        "{}",
        r.stderr
    );
}

/// A keys file made before a key rotation: the digests' keys are not in
/// it, and no key of it covers their time. The stale file, said with the
/// command that fetches the missing span (not "public key not found" on
/// every digest).
#[test]
fn a_keys_file_from_before_a_rotation_names_the_span_to_fetch() {
    let (s, other) = (sim(&[]), sim_own_key(&[]));
    let stale = s.trail.root().join("stale-keys.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(other.keys()).unwrap()).unwrap();
    for k in doc["PublicKeyList"].as_array_mut().unwrap() {
        k["ValidityStartTime"] = Value::from("2025-01-01T00:00:00Z");
        k["ValidityEndTime"] = Value::from("2026-02-01T00:00:00Z");
    }
    std::fs::write(&stale, doc.to_string()).unwrap();
    let r = local(&s, &s.root(), stale.to_str().unwrap(), ARN, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("trailproof keys --region us-east-1 --start-time 2026-02-28"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

/// A copy made without the digests' metadata.
#[test]
fn a_copy_without_the_digests_metadata_is_said_once() {
    let s = sim(&[]);
    for h in 0..6 {
        let mut meta = s.digest_path(h).into_os_string();
        meta.push(".metadata.json");
        std::fs::remove_file(meta).unwrap();
    }
    let r = whole(&s, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("signature metadata"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1);
}
