//! `--notify` and `--security-hub` against their services' protocols on
//! 127.0.0.1: one alert on any exit but 0 (and on 0 with
//! `--notify-always`), throttled answers retried, a failed delivery a
//! warning that never changes the exit status, and the findings imported
//! in batches of at most 100, from the caller's own account only.

use crate::support::alerts::{self, AlertsState};
use crate::support::trail::{simulate, simulate_in, three_hours, Trail};
use crate::support::{aws_env, run_bin, CountedRun};
use serde_json::Value;
use std::sync::Arc;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const TOPIC: &str = "sns:arn:aws:sns:us-east-1:123456789012:trail-alerts";
const ALTERED: &str = "123456789012_CloudTrail_us-east-1_20260301T0329Z_UwnQ0tJFLnpXvT4S.json.gz";

/// `validate` of a local copy at `root` over 2026-03-01 until `end`, with
/// SNS, EventBridge, Security Hub and STS at `url`.
async fn validate(root: &str, keys: &str, end: &str, url: &str, extra: &[&str]) -> CountedRun {
    validate_of(ARN, (root, keys), end, url, extra).await
}

async fn validate_of(
    arn: &str,
    (root, keys): (&str, &str),
    end: &str,
    url: &str,
    extra: &[&str],
) -> CountedRun {
    let mut args = vec!["validate", "--local", root, "--public-keys", keys];
    args.extend(["--trail-arn", arn, "--start-time", "2026-03-01T00:00:00Z"]);
    args.extend(["--end-time", end]);
    args.extend_from_slice(extra);
    let mut env = aws_env("http://127.0.0.1:9", None);
    env.extend(alerts::env(url));
    run_bin(&args, &env).await
}

async fn sample(url: &str, extra: &[&str]) -> CountedRun {
    let keys = "testdata/sample/public-keys.json";
    validate("testdata/sample", keys, "2026-03-01T06:00:00Z", url, extra).await
}

async fn on_trail(t: &Trail, end: &str, url: &str, extra: &[&str]) -> CountedRun {
    let (root, keys) = (
        t.root().display().to_string(),
        t.keys().display().to_string(),
    );
    validate(&root, &keys, end, url, extra).await
}

async fn endpoint(state: AlertsState) -> (Arc<AlertsState>, String) {
    let state = Arc::new(state);
    let url = alerts::start(state.clone()).await;
    (state, url)
}

fn throttling(services: &[(&'static str, usize)]) -> AlertsState {
    let s = AlertsState::default();
    s.throttle.lock().unwrap().extend(services.iter().copied());
    s
}

/// Tampering: one SNS message and one EventBridge event, each after a
/// throttled answer (EventBridge's also after an entry throttled inside a
/// 200, which the SDK does not retry), with the verdict, the counts, the
/// chain and where the report is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_announced_once_on_each_channel() {
    let mut state = throttling(&[("sns", 1), ("events", 1)]);
    state.caller_account = Some("123456789012".into());
    *state.entry_throttles.lock().unwrap() = 1;
    let (state, url) = endpoint(state).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let report_s = report.display().to_string();
    let extra = [
        "--notify",
        TOPIC,
        "--notify",
        "eventbridge:audit-bus",
        "--format",
        "json",
        "--security-hub",
    ];
    let r = sample(
        &url,
        &[&extra[..], &["--report-file", report_s.as_str()]].concat(),
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "{}", r.stderr);
    let m = &published[0];
    assert_eq!(m["TopicArn"], TOPIC.trim_start_matches("sns:"));
    assert_eq!(m["Subject"], "trailproof: TAMPERED: sample-trail (exit 1)");
    let text = &m["Message"];
    assert!(text.contains("1 log file altered"), "{text}");
    assert!(text.contains("123456789012 us-east-1: tampered"), "{text}");
    assert!(text.contains(&format!("Report: {report_s}")), "{text}");
    assert!(text.contains("Exit status: 1"), "{text}");
    assert_eq!(state.requests("sns"), 2, "one throttled, one sent");
    let events = state.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["Source"], "trailproof");
    assert_eq!(e["DetailType"], "Trailproof Verdict");
    assert_eq!(e["EventBusName"], "audit-bus");
    assert_eq!(e["Resources"][0], ARN);
    let detail: Value = serde_json::from_str(e["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["verdict"], "tampered");
    assert_eq!(detail["exit_status"], 1);
    assert_eq!(detail["counts"]["logs_not_valid"], 1);
    assert_eq!(detail["chains"][0]["status"], "tampered");
    assert_eq!(detail["report"], report_s.as_str());
    assert_eq!(
        state.requests("events"),
        3,
        "throttled, entry throttled, sent"
    );
    assert!(r.stderr.contains("alert sent to"), "{}", r.stderr);
    // The alert first: a job's time limit must not cut it off behind the
    // import.
    let order = state.order.lock().unwrap().clone();
    assert_eq!(order.last(), Some(&"securityhub"), "{order:?}");
    assert!(order[..order.len() - 1].iter().all(|s| *s != "securityhub"));
    // The alert never stands in for the report.
    assert!(std::fs::read_to_string(&report).unwrap().contains(ALTERED));
}

/// An intact run is quiet; with --notify-always it says PROVEN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intact_run_is_quiet_unless_asked() {
    let (state, url) = endpoint(AlertsState::default()).await;
    let t = three_hours();
    let end = "2026-03-01T02:00:00Z";
    let r = on_trail(&t, end, &url, &["--notify", TOPIC]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(state.requests("sns"), 0);
    let r = on_trail(&t, end, &url, &["--notify", TOPIC, "--notify-always"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert!(published[0]["Subject"].contains("PROVEN"));
    assert!(published[0]["Message"].contains("Chains proven intact: 1 of 1."));
}

/// A channel that refuses is a warning: tampering still exits 1, an
/// intact run still exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_alert_never_changes_the_exit_status() {
    let state = AlertsState {
        deny: vec!["sns", "events"],
        ..Default::default()
    };
    let (_state, url) = endpoint(state).await;
    let both = ["--notify", TOPIC, "--notify", "eventbridge:default"];
    let r = sample(&url, &both).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: the alert to sns:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("the caller needs sns:Publish"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Error {"), "no debug dump: {}", r.stderr);
    assert!(r
        .stderr
        .contains("warning: the alert to eventbridge:default"));
    let t = three_hours();
    let always = [&both[..], &["--notify-always"]].concat();
    let r = on_trail(&t, "2026-03-01T02:00:00Z", &url, &always).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Nobody listening at all: the same.
    let r = sample("http://127.0.0.1:9", &both).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// A run that breaks (exit 2) still alerts; a misspelt channel or one
/// given to a shard is a usage error before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_run_alerts_and_a_typo_is_refused() {
    let (state, url) = endpoint(AlertsState::default()).await;
    let missing = "testdata/no-such-copy";
    let keys = "testdata/sample/public-keys.json";
    let end = "2026-03-01T06:00:00Z";
    let r = validate(missing, keys, end, &url, &["--notify", TOPIC]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "{}", r.stderr);
    assert!(published[0]["Subject"].contains("RUN FAILED"));
    assert!(published[0]["Message"].contains("nothing was proven"));
    for (bad, says) in [
        (
            &["--notify", "arn:aws:sns:us-east-1:123456789012:t"][..],
            "sns:arn:aws:sns",
        ),
        (
            &["--notify", "slack:#audit"][..],
            "sns:TOPIC_ARN or eventbridge:BUS",
        ),
        (&["--notify", TOPIC, "--shard", "1/2"][..], "merge"),
        (
            &["--notify", TOPIC, "--endpoint-url", "localhost:1"][..],
            "is not a URL",
        ),
        (&["--notify-always"][..], "--notify"),
    ] {
        let r = sample(&url, bad).await;
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{bad:?}: {}", r.stderr);
        assert!(r.stderr.lines().count() <= 6, "{}", r.stderr);
        assert!(
            !r.stderr.contains("Request {"),
            "no debug dump: {}",
            r.stderr
        );
    }
    assert_eq!(state.requests("sns"), 1, "a typo sends nothing");
}

/// 210 altered logs and the chain: 211 findings in three requests (100,
/// 100 and 11), the first throttled once and retried; the second fails
/// (400), which costs its batch only; a refused finding is named; the
/// findings are the file's, field for field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_hub_takes_the_findings_in_batches_of_100() {
    let t = simulate(&[
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--hours",
        "70",
        "--logs-per-hour",
        "3",
        "--records-per-log",
        "1",
        "--seed",
        "8",
    ]);
    let logs = t.bucket_dir().join("AWSLogs/123456789012/CloudTrail");
    let mut altered = 0;
    for f in walk(&logs) {
        std::fs::write(&f, b"altered").unwrap();
        altered += 1;
    }
    assert_eq!(altered, 210);
    let mut state = throttling(&[("securityhub", 1)]);
    state.caller_account = Some("123456789012".into());
    state.refuse_ids = Some("trailproof-".into());
    state.fail_import = Some(3);
    let (state, url) = endpoint(state).await;
    let end = "2026-03-03T21:00:00Z";
    let r = on_trail(&t, end, &url, &["--security-hub", "--format", "asff"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let batches = state.imports.lock().unwrap().clone();
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 11], "{}", r.stderr);
    assert_eq!(
        state.requests("securityhub"),
        4,
        "one throttled, one failed"
    );
    let file: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(file.len(), 211);
    let sent: Vec<Value> = batches.concat();
    let expected = file[..100].iter().chain(&file[200..]);
    for (s, f) in sent.iter().zip(expected) {
        for k in [
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Title",
            "Description",
        ] {
            assert_eq!(s[k], f[k], "{k}");
        }
        assert_eq!(s["Compliance"]["Status"], f["Compliance"]["Status"]);
        assert_eq!(s["Resources"][0]["Id"], f["Resources"][0]["Id"]);
        assert_eq!(s["Severity"]["Label"], f["Severity"]["Label"]);
    }
    // Every finding refused: each said (ten by name), none fatal.
    assert!(
        r.stderr
            .contains("Security Hub took 0 finding(s) in us-east-1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("refused 101 more finding(s)"),
        "{}",
        r.stderr
    );
    let failed = "100 finding(s) not imported: InvalidInputException";
    assert!(r.stderr.contains(failed), "{}", r.stderr);
}

/// An estate of two accounts: only the caller's findings are sent; the
/// other account's are counted with what to do. A denied import is a
/// warning and the exit status stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_hub_takes_only_the_callers_account() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--start-time", "2026-03-01T00:00:00Z", "--hours", "3"];
    args.extend(["--seed", "6", "--accounts", "111111111111,222222222222"]);
    args.extend(["--damage", "tamper-log@1:222222222222/us-east-1"]);
    let out = simulate_in(dir.path(), &args);
    // An attacker's object whose name breaks a line: its finding must
    // still be importable.
    let odd = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/line\nbreak\u{202e}.json.gz";
    let path = dir.path().join(&out.bucket).join(odd);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"planted").unwrap();
    let state = AlertsState {
        caller_account: Some("111111111111".into()),
        ..Default::default()
    };
    let (state, url) = endpoint(state).await;
    let (root, keys) = (
        dir.path().display().to_string(),
        out.keys_file.display().to_string(),
    );
    // Streamed JSON Lines: the chains are still kept for the import.
    let estate = ["--account-id", "all", "--security-hub", "--format", "jsonl"];
    let arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/sample-trail";
    let place = (root.as_str(), keys.as_str());
    let end = "2026-03-01T02:00:00Z";
    let r = validate_of(arn, place, end, &url, &estate).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sent = state.imports.lock().unwrap().concat();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|f| f["AwsAccountId"] == "111111111111"));
    let planted = sent
        .iter()
        .find(|f| f["Title"].as_str().unwrap().contains("breakU+202E"));
    assert!(planted.is_some(), "{}", r.stderr);
    assert!(!r.stderr.contains("refused"), "{}", r.stderr);
    assert!(
        r.stderr.contains("of account 222222222222 not imported"),
        "{}",
        r.stderr
    );
    let denied = AlertsState {
        caller_account: Some("111111111111".into()),
        deny: vec!["securityhub"],
        ..Default::default()
    };
    let (_denied, url) = endpoint(denied).await;
    let r = validate_of(arn, place, end, &url, &estate).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the caller needs securityhub:BatchImportFindings"),
        "{}",
        r.stderr
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A sharded run is announced once, by `merge`, with the whole run's
/// verdict; a merge that breaks alerts too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_announces_the_sharded_run() {
    let (state, url) = endpoint(AlertsState::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard-1.json").display().to_string();
    let r = sample(&url, &["--shard", "1/1", "--report-file", &shard]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(state.requests("sns"), 0, "a shard never alerts");
    let mut env = aws_env("http://127.0.0.1:9", None);
    env.extend(alerts::env(&url));
    let r = run_bin(&["merge", &shard, "--notify", TOPIC], &env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let missing = dir.path().join("shard-2.json").display().to_string();
    let r = run_bin(&["merge", &shard, &missing, "--notify", TOPIC], &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The state key's mount went away: operational, announced.
    let gone = [
        "merge",
        &shard,
        "--notify",
        TOPIC,
        "--state-key",
        "file:/gone/key",
    ];
    let r = run_bin(&gone, &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // A misspelt flag: said at once, nothing sent.
    let r = run_bin(&["merge", &shard, "--notify", TOPIC, "--run-id"], &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    let subjects: Vec<&str> = published.iter().map(|m| m["Subject"].as_str()).collect();
    assert_eq!(
        subjects,
        [
            "trailproof: TAMPERED: sample-trail (exit 1)",
            "trailproof: RUN FAILED: unknown (exit 2)",
            "trailproof: RUN FAILED: unknown (exit 2)"
        ]
    );
    assert!(published[2]["Message"].contains("/gone/key"));
}

/// A write that fails after the verdict (the report to an S3 nobody
/// answers at) is exit 2, and the alert still carries the verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_after_the_verdict_still_announces_it() {
    let (state, url) = endpoint(AlertsState::default()).await;
    let to = ["--notify", TOPIC, "--notify", "eventbridge:default"];
    let r = sample(
        &url,
        &[&to[..], &["--report-file", "s3://audit/r.txt"]].concat(),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "{}", r.stderr);
    assert_eq!(
        published[0]["Subject"],
        "trailproof: TAMPERED: sample-trail (exit 2)"
    );
    let text = &published[0]["Message"];
    assert!(text.contains("1 log file altered"), "{text}");
    assert!(text.contains("Then the run failed: "), "{text}");
    let events = state.events.lock().unwrap().clone();
    let detail: Value = serde_json::from_str(events[0]["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["verdict"], "tampered");
    assert_eq!(detail["exit_status"], 2);
    assert!(detail["error"].as_str().is_some_and(|e| !e.is_empty()));
}

/// A streamed estate keeps only the chains that did not pass, yet the
/// alert counts the whole run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_estates_alert_counts_every_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--start-time", "2026-03-01T00:00:00Z", "--hours", "3"];
    args.extend(["--seed", "6", "--accounts", "111111111111,222222222222"]);
    args.extend(["--regions", "us-east-1,eu-west-1"]);
    args.extend(["--damage", "tamper-log@1:222222222222/eu-west-1"]);
    let out = simulate_in(dir.path(), &args);
    let (state, url) = endpoint(AlertsState::default()).await;
    let (root, keys) = (
        dir.path().display().to_string(),
        out.keys_file.display().to_string(),
    );
    let arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/sample-trail";
    let mut estate = vec!["--account-id", "all", "--region", "all"];
    estate.extend(["--format", "jsonl", "--notify", TOPIC]);
    let place = (root.as_str(), keys.as_str());
    let r = validate_of(arn, place, "2026-03-01T02:00:00Z", &url, &estate).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let published = state.published.lock().unwrap().clone();
    let text = &published[0]["Message"];
    assert!(text.contains("Chains proven intact: 3 of 4."), "{text}");
    assert!(
        text.contains("  222222222222 eu-west-1: tampered"),
        "{text}"
    );
    let valid: usize = text
        .split("Log files: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(valid > 20, "every chain's logs are counted: {text}");
}
