//! Scheduled runs against S3: the checkpoint lives in S3 too, and the
//! second run's requests are proportional to the new hours only.

use crate::support;

use support::{aws_env, json_run, sim_upload_at, start_s3};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpointed_night_reads_only_the_new_day() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload_at(
        &s3,
        dir.path(),
        "nightly",
        "2026-03-01T00:00:00Z",
        &["--hours", "12"],
    )
    .await;
    let keys = dir.path().join("public-keys.json");
    let env = aws_env(&s3.endpoint, None);
    let base = [
        "validate",
        "--trail-arn",
        ARN,
        "--s3-bucket",
        "nightly",
        "--public-keys",
        keys.to_str().unwrap(),
        "--format",
        "json",
        "--checkpoint",
        "s3://nightly/trailproof/checkpoint.json",
    ];
    let mut first = base.to_vec();
    first.extend_from_slice(&[
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
    ]);
    let (code, _, err) = json_run(&first, &env).await;
    assert_eq!(code, 0, "{err}");

    s3.faults.requests.lock().unwrap().clear();
    // The checkpoint's body stalls halfway once: read again, not waited on
    // for ever.
    s3.faults
        .stall_once
        .lock()
        .unwrap()
        .push("trailproof/checkpoint.json".into());
    let mut second = base.to_vec();
    second.extend_from_slice(&[
        "--end-time",
        "2026-03-01T12:00:00Z",
        "--read-timeout",
        "0.5",
    ]);
    let (code, v, err) = json_run(&second, &env).await;
    assert_eq!(code, 0, "{err}");
    assert!(s3.faults.stall_once.lock().unwrap().is_empty());
    let requests = s3.faults.requests.lock().unwrap().clone();
    let gets = requests
        .iter()
        .filter(|r| r.starts_with("GET /nightly/AWSLogs/"))
        .count();
    // The recorded digest (06:00, the window's end) and 6 newer ones, the
    // 18 log files of hours 7-12: nothing of the first window is read again.
    assert_eq!(gets, 7 + 18, "{requests:#?}");
    assert_eq!(v["summary"]["logs"]["total"], 18);
}
