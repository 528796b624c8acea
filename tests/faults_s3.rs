//! Reliability under injected faults: with 10% of GETs answered by 503,
//! 500, a reset before the response, a body cut halfway, a Content-Length
//! longer than the body, no response at all or half a body and then
//! nothing (`--read-timeout 0.5`), every run gives exactly the fault-free verdicts
//! (or, where a fault persists, `read_error` on that object): never `valid`
//! for bytes not fully read, never a lost object. Prints the figures the
//! README's reliability table quotes.

use crate::support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use support::{aws_env, json_run, sim_upload_at, start_s3};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

/// Every object's verdict, by key (of one chain's report, or of every
/// chain of an estate's).
fn verdicts(v: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let chains = match v["chains"].as_array() {
        Some(c) => c.iter().collect(),
        None => vec![v],
    };
    for c in chains {
        for kind in ["digests", "logs", "unexpected"] {
            for o in c[kind].as_array().into_iter().flatten() {
                out.insert(
                    o["key"].as_str().unwrap().to_string(),
                    format!("{} {}", o["status"], o["problem"]),
                );
            }
        }
    }
    out
}

/// Runs `args` fault-free, then once per seed with 10% of GETs faulty, and
/// checks every faulty run against the fault-free one. Returns (requests,
/// faults injected) over the faulty runs.
async fn agree_under_faults(
    s3: &support::S3Server,
    args: &[&str],
    want_code: i32,
    seeds: std::ops::RangeInclusive<usize>,
) -> (usize, usize) {
    let env = aws_env(&s3.endpoint, None);
    let (code, clean, err) = json_run(args, &env).await;
    assert_eq!(code, want_code, "{err}");
    let want = verdicts(&clean);
    assert!(!want.is_empty());
    let mut requests = 0;
    s3.faults.injected.lock().unwrap().clear();
    for seed in seeds {
        s3.faults.requests.lock().unwrap().clear();
        s3.faults.seed.store(seed, Ordering::SeqCst);
        s3.faults.fault_permille.store(100, Ordering::SeqCst);
        let (code, v, err) = json_run(args, &env).await;
        s3.faults.fault_permille.store(0, Ordering::SeqCst);
        requests += s3.faults.requests.lock().unwrap().len();
        let got = verdicts(&v);
        assert_eq!(
            got.len(),
            want.len(),
            "seed {seed}: an object was lost\n{err}"
        );
        for (key, w) in &want {
            let g = &got[key];
            assert!(
                g == w || (g.contains("read_error") && !w.starts_with("\"valid")),
                "seed {seed}: {key}: {g} instead of {w}"
            );
            assert!(
                !g.starts_with("\"valid") || w.starts_with("\"valid"),
                "{key}"
            );
        }
        assert_eq!(code, want_code, "seed {seed}");
    }
    let injected = s3.faults.injected.lock().unwrap().clone();
    let total: usize = injected.values().sum();
    println!(
        "reliability: {requests} requests, {total} faults injected {injected:?}, verdicts equal"
    );
    (requests, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_faults_change_no_verdict() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let damage = [
        "--damage",
        "tamper-log@1",
        "--damage",
        "delete-log@2",
        "--damage",
        "append-log@3",
        "--damage",
        "delete-digest@4",
        "--damage",
        "gap@5",
    ];
    sim_upload_at(&s3, dir.path(), "faulty", "2026-03-01T00:00:00Z", &damage).await;
    let keys = dir.path().join("public-keys.json");
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--s3-bucket",
        "faulty",
        "--public-keys",
        keys.to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
        "--format",
        "json",
        "--read-timeout",
        "0.5",
    ];
    let (_, total) = agree_under_faults(&s3, &args, 1, 1..=5).await;
    assert!(total > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_faults_change_no_verdict_across_an_estate() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let estate = [
        "--hours",
        "3",
        "--trail-name",
        "org-trail",
        "--organization-id",
        "o-abc1234567",
        "--accounts",
        "111111111111,222222222222",
        "--regions",
        "us-east-1,eu-west-1",
    ];
    sim_upload_at(&s3, dir.path(), "estate", "2026-03-01T00:00:00Z", &estate).await;
    let keys = dir.path().join("public-keys.json");
    let args = [
        "validate",
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail",
        "--s3-bucket",
        "estate",
        "--public-keys",
        keys.to_str().unwrap(),
        "--account-id",
        "all",
        "--region",
        "all",
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T03:00:00Z",
        "--format",
        "json",
        "--read-timeout",
        "0.5",
    ];
    let (_, total) = agree_under_faults(&s3, &args, 0, 11..=13).await;
    assert!(total > 0);
}
