//! The exit-0 contract in live mode: S3 (s3s-fs on 127.0.0.1) and our
//! CloudTrail JSON 1.1 endpoint. A truncated tail and a gap widened
//! backwards are found, with and without CloudTrail's help.

use crate::support;

use chrono::{Duration, DurationRound};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use support::cloudtrail::CloudTrailState;
use support::{aws_env, json_run, sim_upload_at, start_s3};
use trailproof::verify::time::{display, parse_user_time};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

fn trail(bucket: &str) -> Value {
    json!({
        "Name": "sample-trail", "TrailARN": ARN, "S3BucketName": bucket,
        "HomeRegion": "us-east-1", "IsMultiRegionTrail": false,
        "IsOrganizationTrail": false, "LogFileValidationEnabled": true
    })
}

fn not_found(v: &Value) -> Vec<String> {
    v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["problem"] == "not_found")
        .map(|d| {
            let k = d["key"].as_str().unwrap();
            k[k.len() - 24..k.len() - 8].to_string()
        })
        .collect()
}

/// The newest digests deleted, `--end-time` left at now: offline rules
/// (no CloudTrail call) fail the run; with GetTrailStatus each deleted
/// digest is a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_tail_with_the_default_end() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let now_hour = chrono::Utc::now()
        .duration_trunc(Duration::hours(1))
        .unwrap();
    let start = display(now_hour - Duration::hours(6));
    let damage = ["--damage", "delete-digest@4", "--damage", "delete-digest@5"];
    sim_upload_at(&s3, dir.path(), "tail", &start, &damage).await;
    let keys = dir.path().join("public-keys.json");
    let keys = keys.to_str().unwrap();
    let base = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        &start,
        "--format",
        "json",
    ];
    let mut offline = base.to_vec();
    offline.extend_from_slice(&["--s3-bucket", "tail", "--public-keys", keys]);
    let (code, v, err) = json_run(&offline, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(code, 1, "{v:#} {err}");
    assert_eq!(v["gaps"][0]["kind"], "no_later_digest");

    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(Path::new(keys)),
        trails: vec![trail("tail")],
        latest_digest_delivery: Some((now_hour.timestamp() + 120) as f64),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let (code, v, err) = json_run(&base, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(state.count("GetTrailStatus"), 1);
    let missing = not_found(&v);
    let want: Vec<String> = [0, 1]
        .iter()
        .map(|h| {
            (now_hour - Duration::hours(*h))
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        })
        .collect();
    assert_eq!(missing, want, "{v:#}");
}

/// Next to a real gap, the hours before it deleted with their logs (and so
/// the trail's own record of the stop): LookupEvents still has it, and the
/// deleted hours are findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_widened_backwards_is_found_with_lookup_events() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let start = "2026-03-01T00:00:00Z";
    let mut damage = vec!["--damage", "gap@3"];
    for d in [
        "delete-digest@1",
        "delete-digest@2",
        "delete-log@1.0",
        "delete-log@1.1",
        "delete-log@1.2",
        "delete-log@2.0",
        "delete-log@2.1",
        "delete-log@2.2",
    ] {
        damage.extend_from_slice(&["--damage", d]);
    }
    sim_upload_at(&s3, dir.path(), "widened", start, &damage).await;
    let keys = dir.path().join("public-keys.json");
    // LookupEvents answers with what CloudTrail recorded (epoch times on the wire).
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lookup-events.json")).unwrap())
            .unwrap();
    let events: Vec<Value> = file["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let t = parse_user_time(e["EventTime"].as_str().unwrap()).unwrap();
            let mut e = e.clone();
            e["EventTime"] = json!(t.timestamp() as f64);
            e
        })
        .collect();
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        trails: vec![trail("widened")],
        events,
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        start,
        "--end-time",
        "2026-03-01T06:00:00Z",
        "--format",
        "json",
    ];
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 1, "{v:#} {err}");
    assert!(state.count("LookupEvents") >= 1);
    let missing = not_found(&v);
    assert_eq!(missing, ["20260301T030000Z", "20260301T020000Z"], "{v:#}");
    assert_eq!(v["gaps"][0]["cause"], "logging_stopped");
    assert_eq!(v["gaps"][0]["explained"], true);
    // Offline, with no record of the stop, the same trail is not proven.
    let mut local = args.to_vec();
    local.extend_from_slice(&[
        "--local",
        dir.path().to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
    ]);
    let (code, _, err) = json_run(&local, &[]).await;
    assert_eq!(code, 3, "{err}");
}

/// After a genuine StopLogging, everything from the restart on is deleted
/// and a later day folder is stuffed with 10,800 empty objects named like
/// another trail's digests. The look-ahead lists with the trail's own name
/// in each day folder, so it still finds the next genuine digest and its
/// pointer: the deletion is found (it was exit 0 when the look-ahead gave
/// up after ten pages and took "nothing there" for an answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_ahead_is_not_defeated_by_other_trails_keys() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--hours", "30", "--damage", "gap@5"];
    sim_upload_at(&s3, dir.path(), "stuffed", "2026-03-01T00:00:00Z", &extra).await;
    let account = s3.root.path().join("stuffed/AWSLogs/123456789012");
    delete_from_the_restart(&account);
    let later = account.join("CloudTrail-Digest/us-east-1/2026/03/02");
    for i in 0..10_800 {
        let name = format!(
            "123456789012_CloudTrail-Digest_us-east-1_another-trail_us-east-1_20260302T{:02}{:02}{:02}Z.json.gz",
            i / 3600,
            i / 60 % 60,
            i % 60
        );
        std::fs::write(later.join(name), b"").unwrap();
    }
    let (code, v, err) = past_the_restart(&s3, dir.path(), "stuffed").await;
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert!(!not_found(&v).is_empty(), "{v:#}");
}

/// The same deletion after a genuine stop, live with `--s3-bucket` and
/// `--public-keys`, hidden by one object per later day folder named with
/// the trail's own digest name and a character that sorts before every
/// genuine digest: the look-ahead never jumps from such a name, so the next
/// genuine digest is found (its pointer names the deleted ones), and the
/// planted name is an `unexpected_object`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_carrying_the_trails_own_digest_name_does_not_hide_the_look_ahead() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--hours", "30", "--damage", "gap@5"];
    sim_upload_at(&s3, dir.path(), "decoy", "2026-03-01T00:00:00Z", &extra).await;
    let account = s3.root.path().join("decoy/AWSLogs/123456789012");
    delete_from_the_restart(&account);
    let own = "123456789012_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_";
    let decoy = format!("{own}!x");
    std::fs::write(
        account
            .join("CloudTrail-Digest/us-east-1/2026/03/02")
            .join(&decoy),
        b"x",
    )
    .unwrap();
    let (code, v, err) = past_the_restart(&s3, dir.path(), "decoy").await;
    assert_eq!(code, 1, "{err}\n{v:#}");
    assert!(!not_found(&v).is_empty(), "{v:#}");
    assert!(
        v["unexpected"].to_string().contains(&decoy),
        "{:#}",
        v["unexpected"]
    );
}

/// Everything of 2026-03-01 from the restart after hour 5's gap on (logs
/// from 06:00, digests ending from 07:00), as an attacker deletes them.
fn delete_from_the_restart(account: &std::path::Path) {
    for (kind, from) in [
        ("CloudTrail", "20260301T0600Z"),
        ("CloudTrail-Digest", "20260301T070000Z"),
    ] {
        let day = account.join(kind).join("us-east-1/2026/03/01");
        for e in std::fs::read_dir(&day).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let stamp = name
                .split('_')
                .find(|p| p.starts_with("20260301T"))
                .unwrap_or("");
            if stamp.trim_end_matches(".json.gz") >= from {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
}

/// Live with `--s3-bucket` and `--public-keys` (no CloudTrail call) over the
/// first 12 hours of the trail in `bucket`.
async fn past_the_restart(
    s3: &support::S3Server,
    dir: &std::path::Path,
    bucket: &str,
) -> (i32, serde_json::Value, String) {
    let keys = dir.join("public-keys.json");
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--s3-bucket",
        bucket,
        "--public-keys",
        keys.to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T12:00:00Z",
        "--format",
        "json",
    ];
    json_run(&args, &aws_env(&s3.endpoint, None)).await
}
