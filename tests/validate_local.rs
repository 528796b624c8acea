//! End-to-end: `trailproof simulate` writes a signed trail (optionally
//! damaged), `trailproof validate --local` checks it; we assert the JSON
//! verdicts, the text lines byte for byte, and the exit status.

use crate::support::trail::{self, Run, Trail};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use trailproof::verify::gzip::inflate_to_vec;
use trailproof::verify::layout::{parse_digest_key, parse_log_key, AccountRoot, DigestSeries};
use trailproof::verify::time::{parse_user_time, Timestamp};

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");
const START: &str = "2026-03-01T00:00:00Z";
const BUCKET: &str = "trailproof-sample-bucket";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const HOURS: i64 = 6;
/// Log files of the whole window.
const N: usize = 3 * HOURS as usize;

/// The closing line of a proven run.
const PROVEN: &str = "Verdict: proven intact: every hour of the window is covered by verified digests or by a gap CloudTrail's records explain (exit 0)";

fn simulate(extra: &[&str]) -> Trail {
    let hours = HOURS.to_string();
    let mut args = vec!["--start-time", START, "--hours", &hours];
    args.extend([
        "--logs-per-hour",
        "3",
        "--records-per-log",
        "5",
        "--seed",
        "7",
    ]);
    args.extend_from_slice(extra);
    trail::simulate(&args)
}

fn end_time() -> String {
    trailproof::verify::time::display(t(START) + chrono::Duration::hours(HOURS))
}

fn t(s: &str) -> Timestamp {
    parse_user_time(s).unwrap()
}

fn validate(trail: &Trail, extra: &[&str]) -> Run {
    let end = end_time();
    let keys = trail.keys();
    let mut args = vec![
        "validate",
        "--local",
        trail.root().to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        &end,
    ];
    args.extend_from_slice(extra);
    trail::run(&args)
}

fn validate_json(trail: &Trail, extra: &[&str]) -> (i32, Value) {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(extra);
    let r = validate(trail, &a);
    (r.code, r.json())
}

/// Every key below the bucket directory (no metadata sidecars).
fn keys_on_disk(trail: &Trail) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let k = p.strip_prefix(base).unwrap().to_str().unwrap().to_string();
                if !k.ends_with(".metadata.json") {
                    out.push(k);
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(&trail.bucket_dir(), &trail.bucket_dir(), &mut v);
    v.sort();
    v
}

fn series() -> DigestSeries {
    DigestSeries {
        root: AccountRoot::new(None, None, "123456789012"),
        source_region: "us-east-1".into(),
        trail_name: "sample-trail".into(),
        home_region: "us-east-1".into(),
    }
}

fn digest_key(hour: i64) -> String {
    series().key(t(START) + chrono::Duration::hours(hour + 1), false)
}

/// Log keys on disk delivered in hour `h` of the simulation.
fn logs_in_hour(trail: &Trail, h: i64) -> Vec<String> {
    let from = t(START) + chrono::Duration::hours(h);
    let to = from + chrono::Duration::hours(1);
    keys_on_disk(trail)
        .into_iter()
        .filter(|k| parse_log_key(k).is_some_and(|p| p.time >= from && p.time < to))
        .collect()
}

/// (status, problem) per key, asserting each key has exactly one verdict.
fn verdicts(v: &Value, kind: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for d in v[kind].as_array().unwrap() {
        let key = d["key"].as_str().unwrap().to_string();
        let problem = d["problem"].as_str().unwrap_or("").to_string();
        let status = d["status"].as_str().unwrap().to_string();
        assert!(
            out.insert(key.clone(), (status, problem)).is_none(),
            "{key} has two verdicts"
        );
    }
    out
}

/// Nothing on disk in range vanishes from the report.
fn assert_complete(trail: &Trail, v: &Value) {
    let digests = verdicts(v, "digests");
    let logs = verdicts(v, "logs");
    for k in keys_on_disk(trail) {
        if parse_digest_key(&k).is_some() {
            assert!(
                digests.contains_key(&k),
                "digest {k} missing from the report"
            );
        } else if parse_log_key(&k).is_some() {
            assert!(logs.contains_key(&k), "log {k} missing from the report");
        }
    }
}

fn problems(m: &BTreeMap<String, (String, String)>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (status, problem) in m.values() {
        *out.entry(format!("{status}:{problem}")).or_insert(0) += 1;
    }
    out
}

#[test]
fn clean_trail_is_valid_and_prints_the_cli_lines() {
    let trail = simulate(&[]);
    let r = validate(&trail, &["--verbose"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    // Rebuild what the AWS CLI prints from the files themselves.
    let mut want = format!(
        "Validating log files for trail {ARN} between {START} and {}\n\n",
        end_time()
    );
    // The AWS CLI's lines, in the order of the time each concerns (a
    // digest's start, a log file's oldest event).
    let mut lines: Vec<(String, String)> = Vec::new();
    for h in (0..HOURS).rev() {
        let key = digest_key(h);
        let gz = std::fs::read(trail.bucket_dir().join(&key)).unwrap();
        let d: Value = serde_json::from_slice(&inflate_to_vec(&gz, 1 << 24).unwrap()).unwrap();
        let start = d["digestStartTime"].as_str().unwrap().to_string();
        lines.push((start, format!("Digest file\ts3://{BUCKET}/{key}\tvalid\n")));
        for lf in d["logFiles"].as_array().unwrap() {
            lines.push((
                lf["oldestEventTime"].as_str().unwrap().to_string(),
                format!(
                    "Log file\ts3://{}/{}\tvalid\n",
                    lf["s3Bucket"].as_str().unwrap(),
                    lf["s3Object"].as_str().unwrap()
                ),
            ));
        }
    }
    let logs = lines.len() - HOURS as usize;
    lines.sort_by_key(|l| t(&l.0));
    for (_, line) in lines {
        want.push_str(&line);
    }
    want.push_str(&format!(
        "\nResults requested for {START} to {}\nResults found for {START} to {}:\n\n{HOURS}/{HOURS} digest files valid\n{logs}/{logs} log files valid\n{PROVEN}\n",
        end_time(),
        end_time()
    ));
    assert_eq!(r.stdout, want);
    // Without --verbose only the header and summary remain.
    let r = validate(&trail, &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with(&format!(
        "Validating log files for trail {ARN} between {START} and {}\n\nResults requested",
        end_time()
    )));
    let (code, v) = validate_json(&trail, &[]);
    assert_eq!(code, 0);
    assert_complete(&trail, &v);
    assert_eq!(v["summary"]["digests"]["valid"], HOURS);
    assert_eq!(v["found"]["start"], START);
    assert!(v["gaps"].as_array().unwrap().is_empty());
}

#[test]
fn tampered_log_is_a_hash_mismatch_line_on_stderr() {
    let trail = simulate(&["--damage", "tamper-log@2"]);
    let r = validate(&trail, &[]);
    assert_eq!(r.code, 1);
    let log = &logs_in_hour(&trail, 2)[0];
    assert_eq!(
        r.stderr,
        format!("Log file\ts3://{BUCKET}/{log}\tINVALID: hash value doesn't match\n\n")
    );
    let total = 3 * HOURS;
    assert!(r.stdout.ends_with(&format!(
        "\n{HOURS}/{HOURS} digest files valid\n{}/{total} log files valid, 1/{total} log files INVALID\nVerdict: evidence of tampering: 1 log file altered (exit 1)\n",
        total - 1
    )), "{}", r.stdout);
}

struct Case {
    damage: &'static [&'static str],
    exit: i32,
    digests: Vec<(&'static str, usize)>,
    logs: Vec<(&'static str, usize)>,
    gaps: usize,
}

fn check_case(c: &Case) {
    let mut args = Vec::new();
    for d in c.damage {
        args.push("--damage");
        args.push(*d);
    }
    let trail = simulate(&args);
    let (code, v) = validate_json(&trail, &[]);
    assert_complete(&trail, &v);
    let label = c.damage.join(" + ");
    let digests = problems(&verdicts(&v, "digests"));
    let logs = problems(&verdicts(&v, "logs"));
    let want_d: BTreeMap<String, usize> =
        c.digests.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    let want_l: BTreeMap<String, usize> = c.logs.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    assert_eq!(digests, want_d, "{label}: digests\n{v:#}");
    assert_eq!(logs, want_l, "{label}: logs\n{v:#}");
    assert_eq!(
        v["gaps"].as_array().unwrap().len(),
        c.gaps,
        "{label}: gaps\n{:#}",
        v["gaps"]
    );
    assert_eq!(code, c.exit, "{label}");
    // The text form agrees with the JSON on what is wrong.
    let r = validate(&trail, &[]);
    assert_eq!(r.code, c.exit);
    let invalid_lines = r
        .stderr
        .lines()
        .filter(|l| l.contains("\tINVALID: "))
        .count();
    let not_valid = v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["logs"].as_array().unwrap())
        .filter(|x| x["status"] != "valid")
        .count();
    assert_eq!(invalid_lines, not_valid, "{label}: {}", r.stderr);
}

/// Each damage kind alone: its objects' verdicts, its gaps, its exit
/// status, and the text form agreeing with the JSON (one test per kind).
macro_rules! damage_alone {
    ($($(#[$doc:meta])* $name:ident: $damage:literal => $case:tt)*) => {$(
        $(#[$doc])*
        #[test]
        fn $name() {
            check_case(&damage_case!($damage, $case));
        }
    )*};
}

macro_rules! damage_case {
    ($damage:literal, { exit: $exit:expr, digests: $d:expr, logs: $l:expr, gaps: $g:expr $(,)? }) => {
        Case {
            damage: &[$damage],
            exit: $exit,
            digests: $d,
            logs: $l,
            gaps: $g,
        }
    };
}

damage_alone! {
    tamper_log_at_2: "tamper-log@2" => {
        exit: 1,
        digests: vec![("valid:", 6)],
        logs: vec![("valid:", N - 1), ("invalid:hash_mismatch", 1)],
        gaps: 0
    }
    delete_log_at_2: "delete-log@2" => {
        exit: 1,
        digests: vec![("valid:", 6)],
        logs: vec![("valid:", N - 1), ("invalid:not_found", 1)],
        gaps: 0
    }
    append_log_at_2: "append-log@2" => {
        exit: 1,
        digests: vec![("valid:", 6)],
        logs: vec![("valid:", N - 1), ("invalid:trailing_data", 1)],
        gaps: 0
    }
    delete_digest_at_2: "delete-digest@2" => {
        exit: 1,
        digests: vec![("valid:", 5), ("invalid:not_found", 1)],
        logs: vec![("valid:", N - 3), ("unverified:unreferenced", 3)],
        gaps: 0
    }
    move_digest_at_2: "move-digest@2" => {
        exit: 1,
        digests: vec![
            ("valid:", 5),
            ("invalid:not_found", 1),
            ("invalid:moved", 1),
        ],
        logs: vec![("valid:", N - 3), ("unverified:digest_invalid", 3)],
        gaps: 0
    }
    forge_digest_at_2: "forge-digest@2" => {
        exit: 1,
        digests: vec![("valid:", 5), ("invalid:signature", 1)],
        logs: vec![
            ("valid:", N - 3),
            ("unverified:digest_invalid", 2),
            ("unverified:unreferenced", 1),
        ],
        gaps: 0
    }
    unsign_digest_at_2: "unsign-digest@2" => {
        exit: 1,
        digests: vec![("valid:", 5), ("invalid:signature", 1)],
        logs: vec![("valid:", N - 3), ("unverified:digest_invalid", 3)],
        gaps: 0
    }
    gap_at_2: "gap@2" => {
        exit: 0,
        digests: vec![("valid:", 5)],
        logs: vec![("valid:", N - 3)],
        gaps: 1
    }
    /// Validation off for an hour, with the UpdateTrail calls recorded
    /// in the trail's own verified logs: an explained gap; its log files
    /// cannot be verified but do not fail the run.
    validation_off_at_2: "validation-off@2" => {
        exit: 0,
        digests: vec![("valid:", 5)],
        logs: vec![("valid:", N - 3), ("unverified:no_digest", 3)],
        gaps: 1
    }
    empty_hour_at_2: "empty-hour@2" => {
        exit: 0,
        digests: vec![("valid:", 6)],
        logs: vec![("valid:", N - 3)],
        gaps: 0
    }
    /// The newest digest deleted: offline this is an overdue tail (a gap),
    /// and the hour's log files are covered by no digest.
    delete_digest_at_5: "delete-digest@5" => {
        exit: 1,
        digests: vec![("valid:", 5)],
        logs: vec![("valid:", N - 3), ("unverified:unreferenced", 3)],
        gaps: 1
    }
    unreferenced_log_at_2: "unreferenced-log@2" => {
        exit: 1,
        digests: vec![("valid:", 6)],
        logs: vec![("valid:", N), ("unverified:unreferenced", 1)],
        gaps: 0
    }
}

#[test]
fn combined_damage_keeps_one_verdict_per_object() {
    let n = 3 * HOURS as usize;
    let cases = [
        // A forged digest next to a deleted one.
        Case {
            damage: &["forge-digest@2", "delete-digest@3"],
            exit: 1,
            digests: vec![
                ("valid:", 4),
                ("invalid:signature", 1),
                ("invalid:not_found", 1),
            ],
            logs: vec![
                ("valid:", n - 6),
                ("unverified:digest_invalid", 2),
                ("unverified:unreferenced", 4),
            ],
            gaps: 0,
        },
        // Two consecutive deleted digests are two findings (aws-cli #7054).
        Case {
            damage: &["delete-digest@2", "delete-digest@3"],
            exit: 1,
            digests: vec![("valid:", 4), ("invalid:not_found", 2)],
            logs: vec![("valid:", n - 6), ("unverified:unreferenced", 6)],
            gaps: 0,
        },
        // A gap next to a tampered log.
        Case {
            damage: &["gap@1", "tamper-log@2"],
            exit: 1,
            digests: vec![("valid:", 5)],
            logs: vec![("valid:", n - 4), ("invalid:hash_mismatch", 1)],
            gaps: 1,
        },
        Case {
            damage: &["delete-log@0", "append-log@5", "unsign-digest@3"],
            exit: 1,
            digests: vec![("valid:", 5), ("invalid:signature", 1)],
            logs: vec![
                ("valid:", n - 5),
                ("invalid:not_found", 1),
                ("invalid:trailing_data", 1),
                ("unverified:digest_invalid", 3),
            ],
            gaps: 0,
        },
    ];
    for c in &cases {
        check_case(c);
    }
}

#[test]
fn deleted_digest_prints_not_found_and_unreferenced_logs() {
    let trail = simulate(&["--damage", "delete-digest@2"]);
    let r = validate(&trail, &[]);
    assert_eq!(r.code, 1);
    let mut want = format!(
        "Digest file\ts3://{BUCKET}/{}\tINVALID: not found\n\n",
        digest_key(2)
    );
    for l in logs_in_hour(&trail, 2) {
        want.push_str(&format!(
            "Log file\ts3://{BUCKET}/{l}\tINVALID: not referenced by any digest\n\n"
        ));
    }
    assert_eq!(r.stderr, want);
    assert!(r.stdout.contains("\n5/6 digest files valid, 1/6 digest files INVALID\n15/18 log files valid, 3/18 log files INVALID\n"), "{}", r.stdout);
}

#[test]
fn gap_line_matches_the_cli() {
    let trail = simulate(&["--damage", "gap@2"]);
    let r = validate(&trail, &[]);
    assert_eq!(r.code, 0);
    // The AWS CLI's line, then who stopped logging when, as the records say.
    assert!(
        r.stderr.starts_with(
            "No log files were delivered by CloudTrail between 2026-03-01T02:00:00Z and 2026-03-01T03:00:00Z\nExplained: logging_stopped by arn:"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stdout.ends_with(&format!("{PROVEN}\n")), "{}", r.stdout);
    let (_, v) = validate_json(&trail, &[]);
    assert_eq!(v["gaps"][0]["start"], "2026-03-01T02:00:00Z");
    assert_eq!(v["gaps"][0]["end"], "2026-03-01T03:00:00Z");
    assert_eq!(v["gaps"][0]["kind"], "chain_restart");
}

#[test]
fn naming_forms_prefix_org_multi_region_offset() {
    let trail = simulate(&[
        "--s3-prefix",
        "team/logs",
        "--organization-id",
        "o-abc123def4",
        "--region",
        "eu-west-1",
        "--trail-name",
        "org_trail.v2",
        "--window-offset-seconds",
        "2209",
    ]);
    let end = end_time();
    // The window starts with the chain's first digest: the trail's
    // creation is recorded once, in its home region (us-east-1), whose logs
    // this run of eu-west-1 alone does not read.
    let start = "2026-03-01T00:36:49Z";
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org_trail.v2";
    let keys = trail.keys();
    let run = |extra: &[&str]| {
        let mut a = vec![
            "validate",
            "--local",
            trail.root().to_str().unwrap(),
            "--public-keys",
            keys.to_str().unwrap(),
            "--trail-arn",
            arn,
            "--start-time",
            start,
            "--end-time",
            &end,
            "--s3-prefix",
            "/team/logs/",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        Command::new(BIN).args(&a).output().unwrap()
    };
    // The organization id is discovered from the bucket.
    let out = run(&[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["summary"]["digests"]["valid"], HOURS, "{v:#}");
    assert!(v["digests"][0]["key"]
        .as_str()
        .unwrap()
        .starts_with("team/logs/AWSLogs/o-abc123def4/123456789012/CloudTrail-Digest/eu-west-1/"));
    assert_complete(&trail, &v);
    let out = run(&["--organization-id", "o-abc123def4"]);
    assert_eq!(out.status.code(), Some(0));
}

/// `validate` on a simulated trail with the arguments `args` makes of its
/// directory and keys file: exit 2, one sentence holding `needle`.
fn usage_error(args: impl Fn(&str, &str) -> Vec<String>, needle: &str) {
    let trail = simulate(&[]);
    let root = trail.root().to_str().unwrap().to_string();
    let keys = trail.keys().to_str().unwrap().to_string();
    let args = args(&root, &keys);
    let mut full = vec!["validate"];
    full.extend(args.iter().map(String::as_str));
    let r = trail::run(&full);
    assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    assert_eq!(
        r.stderr.trim_end().lines().count(),
        1,
        "{args:?}: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_invalid_trail_arn_is_said_as_the_aws_cli_says_it() {
    let args = |root: &str, k: &str| {
        let a = [
            "--local",
            root,
            "--public-keys",
            k,
            "--trail-arn",
            "foo:bar:baz",
        ];
        strings(&[&a[..], &["--start-time", START]].concat())
    };
    usage_error(args, "Invalid trail ARN provided: foo:bar:baz");
}

#[test]
fn an_unparsable_date_is_said_as_the_aws_cli_says_it() {
    let args = |root: &str, k: &str| {
        let a = ["--local", root, "--public-keys", k, "--trail-arn", ARN];
        strings(&[&a[..], &["--start-time", "foo"]].concat())
    };
    usage_error(args, "Unable to parse date value: foo");
}

#[test]
fn a_start_after_the_end_is_refused() {
    let args = |root: &str, k: &str| {
        let a = ["--local", root, "--public-keys", k, "--trail-arn", ARN];
        let w = ["--start-time", "2015-01-01", "--end-time", "2014-01-01"];
        strings(&[&a[..], &w[..]].concat())
    };
    usage_error(args, "start-time must occur before end-time");
}

#[test]
fn a_local_directory_that_does_not_exist_is_named() {
    let args = |_: &str, k: &str| {
        let a = [
            "--local",
            "/nonexistent/dir",
            "--public-keys",
            k,
            "--trail-arn",
            ARN,
        ];
        strings(&[&a[..], &["--start-time", START]].concat())
    };
    usage_error(args, "/nonexistent/dir");
}

#[test]
fn a_keys_file_that_does_not_exist_is_a_usage_error() {
    let args = |root: &str, _: &str| {
        let a = ["--local", root, "--public-keys", "/nonexistent/keys.json"];
        strings(&[&a[..], &["--trail-arn", ARN, "--start-time", START]].concat())
    };
    usage_error(args, "keys");
}

#[test]
fn offline_without_public_keys_asks_for_them() {
    let args = |root: &str, _: &str| {
        strings(&["--local", root, "--trail-arn", ARN, "--start-time", START])
    };
    usage_error(args, "--public-keys");
}

#[test]
fn a_bucket_the_copy_does_not_hold_is_named() {
    let args = |root: &str, k: &str| {
        let a = ["--local", root, "--public-keys", k, "--trail-arn", ARN];
        strings(&[&a[..], &["--start-time", START, "--s3-bucket", "nope"]].concat())
    };
    usage_error(args, "nope");
}

#[test]
fn a_directory_given_as_the_keys_file_is_a_usage_error() {
    let args = |root: &str, _: &str| {
        let a = ["--local", root, "--public-keys", root, "--trail-arn", ARN];
        strings(&[&a[..], &["--start-time", START]].concat())
    };
    usage_error(args, "keys");
}

/// A role switches management write events off for three hours and back:
/// every digest and log file is valid, yet the trail recorded less. The
/// span is not proven (exit 3) and names who, when, from where and what;
/// `--allow-narrowing` shows it and passes.
#[test]
fn narrowed_coverage_names_who_changed_it() {
    let trail = simulate(&["--damage", "narrow@2", "--damage", "widen@5"]);
    let (code, v) = validate_json(&trail, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["summary"]["logs"]["invalid"], 0);
    assert_eq!(
        v["unproven"][0]["kind"], "coverage_narrowed",
        "{}",
        v["unproven"]
    );
    assert_eq!(v["unproven"][0]["at"], "2026-03-01T02:00:05Z");
    let why = v["unproven"][0]["reason"].as_str().unwrap();
    for want in [
        "assumed-role/ops-automation",
        "198.51.100.23",
        "2026-03-01T02:00:05Z",
        "write events go unrecorded",
        "until 2026-03-01T05:00:05Z",
    ] {
        assert!(why.contains(want), "{want}: {why}");
    }
    let spans: Vec<&Value> = v["untrusted"].as_array().unwrap().iter().collect();
    assert!(spans
        .iter()
        .any(|s| s["reasons"].to_string().contains("coverage_narrowed")
            && s["start"] == "2026-03-01T02:00:05Z"));
    // --allow-gaps (the AWS CLI's leniency) does not pass a narrowing.
    assert_eq!(validate_json(&trail, &["--allow-gaps"]).0, 3);
    let (code, v) = validate_json(&trail, &["--allow-narrowing"]);
    assert_eq!(code, 0);
    assert_eq!(v["narrowing_shown"][0]["kind"], "coverage_narrowed");
    assert!(v["narrowing_shown"]
        .to_string()
        .contains("assumed-role/ops-automation"));
    // Narrowed and not restored within the window: to its end.
    let open = simulate(&["--damage", "narrow@4"]);
    let (code, v) = validate_json(&open, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["unproven"][0]["restored"], false);
    assert!(v["unproven"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("to the window's end"));
    // An unnarrowed trail with a widening only: nothing changes.
    let widened = simulate(&["--damage", "widen@3"]);
    assert_eq!(validate_json(&widened, &[]).0, 0);
}

/// `--expect-selectors`: a trail that by design records writes only is
/// held to that baseline (its re-applied selectors are no narrowing), a
/// baseline of another trail or with no selectors is exit 2 in one
/// sentence, and `--cross-check-events` needs a live run.
#[test]
fn a_baseline_file_and_its_mistakes() {
    let trail = simulate(&["--damage", "narrow@2"]);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, v: Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    // The simulated narrowing sets ReadOnly: a ReadOnly baseline accepts it.
    let read_only = file(
        "ro.json",
        json!({"TrailARN": ARN, "EventSelectors": [{"ReadWriteType": "ReadOnly",
               "IncludeManagementEvents": true, "DataResources": []}]}),
    );
    let (code, v) = validate_json(&trail, &["--expect-selectors", &read_only]);
    assert_eq!(code, 0, "{}", v["unproven"]);
    // Held to everything, the same trail is narrowed.
    let all = file(
        "all.json",
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}),
    );
    assert_eq!(validate_json(&trail, &["--expect-selectors", &all]).0, 3);
    for (name, doc, says) in [
        (
            "other.json",
            json!({"TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/other",
                   "EventSelectors": [{"ReadWriteType": "All"}]}),
            "not of",
        ),
        (
            "empty.json",
            json!({"EventSelectors": []}),
            "lists no selectors",
        ),
    ] {
        let r = validate(&trail, &["--expect-selectors", &file(name, doc)]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains(says) && r.stderr.lines().count() <= 2,
            "{}",
            r.stderr
        );
    }
    let r = validate(&trail, &["--cross-check-events"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("live run"), "{}", r.stderr);
}

/// `validate --help` groups its options and ends with the exit statuses;
/// `acquire --help` does not offer what acquire refuses.
#[test]
fn help_is_grouped_and_honest() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let v = help(&["validate", "--help"]);
    for heading in [
        "What to validate:",
        "Where from:",
        "Output:",
        "Scheduled runs and shards:",
        "Tuning:",
    ] {
        assert!(v.contains(heading), "{heading}");
    }
    assert!(v.contains("Exit status:") && v.contains("  3  coverage not proven"));
    let a = help(&["acquire", "--help"]);
    for refused in ["--local ", "--report-file ", "--shard ", "--format "] {
        let offered = a.lines().any(|l| l.trim_start().starts_with(refused));
        assert!(!offered, "{refused}");
    }
}

/// `--output` is the format, as in the AWS CLI; a file is `--report-file`.
#[test]
fn aws_cli_output_flag_names_the_format() {
    let trail = simulate(&[]);
    let text = validate(&trail, &["--output", "text"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.starts_with("Validating log files for trail"));
    let (code, v) = validate_json(&trail, &["--output", "json"]);
    assert_eq!(code, 0);
    assert!(v["summary"].is_object());
    let file = trail.root().join("report.json");
    let r = validate(&trail, &["--output", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--report-file"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    assert!(!file.exists());
    let r = validate(&trail, &["--format", "json", "--output", "text"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The old shard spelling, `--output FILE`, is told the new flag.
    let r = validate(
        &trail,
        &["--shard", "1/2", "--output", file.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--report-file"), "{}", r.stderr);
    // --allow-gaps passes a gap nothing explains; the verdict says it is
    // not a proof.
    let gap = simulate(&["--damage", "gap@2", "--no-gap-records"]);
    let r = validate(&gap, &["--allow-gaps", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("Verdict: no evidence of tampering, but coverage not proven")
            && r.stdout.lines().count() == 1,
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("Not explained: "), "{}", r.stderr);
    let r = validate(&trail, &["--output", "table"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = validate(
        &trail,
        &["--format", "json", "--report-file", file.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(v["summary"].is_object());
}

#[test]
fn hostile_objects_are_findings_not_crashes() {
    let trail = simulate(&[]);
    let bucket = trail.bucket_dir();
    // A digest replaced by a gzip bomb (keeps its metadata).
    let bomb = trailproof::verify::gzip::gzip(&vec![b' '; 70 * 1024 * 1024]);
    std::fs::write(bucket.join(digest_key(4)), bomb).unwrap();
    // A digest whose metadata sidecar is garbage.
    std::fs::write(
        bucket.join(format!("{}.metadata.json", digest_key(3))),
        b"{\"signature\": [1,2]}",
    )
    .unwrap();
    // A log file replaced by a symlink leading out of the directory.
    let logs = logs_in_hour(&trail, 1);
    std::fs::remove_file(bucket.join(&logs[0])).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", bucket.join(&logs[0])).unwrap();
    // A log file that is deeply nested JSON, truncated gzip, and an empty file.
    std::fs::write(
        bucket.join(&logs[1]),
        trailproof::verify::gzip::gzip("[".repeat(200_000).as_bytes()),
    )
    .unwrap();
    let good = std::fs::read(bucket.join(&logs[2])).unwrap();
    std::fs::write(bucket.join(&logs[2]), &good[..good.len() / 2]).unwrap();
    let logs5 = logs_in_hour(&trail, 5);
    std::fs::write(bucket.join(&logs5[0]), b"").unwrap();
    let (code, v) = validate_json(&trail, &[]);
    assert_eq!(code, 1);
    assert_complete(&trail, &v);
    let d = verdicts(&v, "digests");
    assert_eq!(d[&digest_key(4)], ("invalid".into(), "format".into()));
    assert_eq!(d[&digest_key(3)], ("invalid".into(), "signature".into()));
    let l = verdicts(&v, "logs");
    assert_eq!(l[&logs[0]], ("invalid".into(), "read_error".into()));
    assert_eq!(l[&logs[1]], ("invalid".into(), "hash_mismatch".into()));
    assert_eq!(l[&logs[2]], ("invalid".into(), "format".into()));
    assert_eq!(l[&logs5[0]], ("invalid".into(), "format".into()));
    let set: BTreeSet<&str> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(set.len(), v["logs"].as_array().unwrap().len());
}

/// The README's first command: the committed sample trail's findings.
#[test]
fn readme_sample_trail_shows_its_two_findings() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample");
    let keys = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/sample/public-keys.json"
    );
    let out = Command::new(BIN)
        .args([
            "validate",
            "--local",
            root,
            "--public-keys",
            keys,
            "--trail-arn",
            ARN,
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T06:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{err}");
    // Oldest first: the gap at 01:00, then the log file of 03:29.
    assert_eq!(lines[0], "No log files were delivered by CloudTrail between 2026-03-01T01:00:00Z and 2026-03-01T02:00:00Z");
    assert!(lines[1].starts_with("Not explained: "));
    assert!(lines[2].starts_with("Log file\ts3://trailproof-sample-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01/"));
    assert!(lines[2].ends_with("\tINVALID: hash value doesn't match"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .ends_with("\n5/5 digest files valid\n19/20 log files valid, 1/20 log files INVALID\nVerdict: evidence of tampering: 1 log file altered; coverage not proven either: 1 gap(s) that no CloudTrail record explains (exit 1)\n"),
        "{stdout}"
    );
}

/// Backfill digests form their own chain; the AWS CLI prefixes their lines
/// with `(backfill) ` and counts them on their own line.
#[test]
fn backfill_digest_is_validated_in_its_own_pass() {
    let trail = simulate(&["--backfill", "2"]);
    let r = validate(&trail, &["--verbose"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let bf = series().key(t(START) + chrono::Duration::hours(3), true);
    assert!(
        r.stdout.contains(&format!(
            "(backfill) Digest file\ts3://{BUCKET}/{bf}\tvalid\n"
        )),
        "{}",
        r.stdout
    );
    let total = 3 * HOURS + 1;
    assert!(
        r.stdout.ends_with(&format!("\n{HOURS}/{HOURS} digest files valid\n1/1 backfill digest files valid\n{total}/{total} log files valid\n{PROVEN}\n")),
        "{}",
        r.stdout
    );
    // Without its backfill digest the late log file is unreferenced.
    std::fs::remove_file(trail.bucket_dir().join(&bf)).unwrap();
    let (code, v) = validate_json(&trail, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["logs"]["unverified"], 1);
    // Unsigned backfill digest: invalid, with the (backfill) prefix.
    let trail = simulate(&["--backfill", "2"]);
    std::fs::remove_file(trail.bucket_dir().join(format!("{bf}.metadata.json"))).unwrap();
    let r = validate(&trail, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with(&format!("(backfill) Digest file\ts3://{BUCKET}/{bf}\tINVALID: signature verification failed\n\n")), "{}", r.stderr);
}

/// Calls that weaken the trail's bucket, in its verified logs, are named
/// with who made them and how (the bucket-side story), in every format.
#[test]
fn the_calls_that_weaken_the_bucket_are_named_with_who_and_how() {
    let trail = simulate(&["--bucket", BUCKET, "--damage", "weaken-bucket@1"]);
    let r = validate(&trail, &["--format", "json"]);
    assert_eq!(r.code, 0, "a call is no tampering: {}", r.stderr);
    let v = r.json();
    let calls = v["bucket_calls"]
        .as_array()
        .unwrap_or_else(|| panic!("{v:#}"));
    let kinds: Vec<&str> = calls.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["put_bucket_lifecycle", "put_bucket_versioning"],
        "{v:#}"
    );
    assert_eq!(calls[0]["credential"], "long_lived");
    assert_eq!(calls[0]["mfa"], false);
    assert_eq!(calls[1]["credential"], "temporary");
    assert_eq!(calls[1]["mfa"], true);
    assert_eq!(calls[1]["changes"], json!([["versioning", "Suspended"]]));
    assert_eq!(calls[0]["changes"], json!([["expiration_days", "1"]]));
    assert_eq!(calls[1]["source"], "trail_logs");
    let text = validate(&trail, &[]);
    assert!(
        text.stdout.contains(
            "changed the versioning of bucket trailproof-sample-bucket (versioning=Suspended): \
             arn:aws:sts::123456789012:assumed-role/storage-admin/session-7, temporary \
             credentials (ASIA), with MFA, from 198.51.100.77 (recorded in a verified log file)"
        ),
        "{}",
        text.stdout
    );
    let lines = validate(&trail, &["--format", "jsonl"]);
    assert_eq!(lines.stdout.matches("\"type\":\"bucket_call\"").count(), 2);
}

/// The people in the story are values: an explained gap names who
/// stopped and restarted logging, a narrowing who narrowed, each with the
/// kind of key, MFA and address, in JSON.
#[test]
fn gaps_and_narrowings_name_their_callers_as_values() {
    let trail = simulate(&["--damage", "gap@2"]);
    let v = validate(&trail, &["--format", "json"]).json();
    let gap = &v["gaps"][0];
    assert_eq!(gap["explained"], true, "{v:#}");
    let by = gap["by"].as_array().unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(by.len(), 2, "the stop and the restart: {gap:#}");
    assert_eq!(by[0]["credential"], "long_lived");
    assert_eq!(by[0]["type"], "IAMUser");
    assert!(by[0]["arn"].as_str().unwrap().contains(":user/"));
    let narrowed = simulate(&["--damage", "narrow@2"]);
    let v = validate(&narrowed, &["--format", "json"]).json();
    let who = &v["unproven"][0]["who"];
    assert_eq!(who["type"], "AssumedRole", "{v:#}");
    assert_eq!(who["source_ip"], "198.51.100.23");
}
