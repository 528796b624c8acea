//! Originals recovered from a versioned bucket (the versioned store in
//! tests/support, over HTTP with the AWS SDK): an overwritten log file and
//! a deleted digest are named with their original VersionIds and the
//! times they were overwritten and deleted, and `--recover` writes them.

use crate::support;

use serde_json::Value;
use support::{aws_env, json_run, run_bin, sim_upload_to, start_versioned_s3};

const START: &str = "2026-03-01T00:00:00Z";
const END: &str = "2026-03-01T06:00:00Z";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const WRITTEN: &str = "2026-03-01T07:00:00.000Z";
const OVERWRITTEN: &str = "2026-03-03T10:00:00.000Z";
const DELETED: &str = "2026-03-03T11:00:00.000Z";

fn args<'a>(keys: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
        "--public-keys",
        keys,
        "--s3-bucket",
        "kept",
    ];
    a.extend_from_slice(extra);
    a
}

/// The recovery entry for `key`.
fn entry<'a>(v: &'a Value, key: &str) -> &'a Value {
    let all = v["recovery"]["objects"].as_array();
    let found = all.and_then(|a| a.iter().find(|o| o["key"] == key));
    found.unwrap_or_else(|| panic!("{key} not in the recovery: {v:#}"))
}

/// A versioned bucket `kept` holding a simulated trail whose versions are
/// stamped `written` (None: the clock); the keys file's path.
async fn versioned_trail(
    written: Option<&str>,
) -> (support::VersionedServer, tempfile::TempDir, String) {
    let s3 = start_versioned_s3().await;
    *s3.store.clock.lock().unwrap() = written.map(str::to_string);
    let dir = tempfile::tempdir().unwrap();
    sim_upload_to(&s3.endpoint, dir.path(), "kept", START, &[]).await;
    let keys = dir.path().join("public-keys.json");
    let keys = keys.to_str().unwrap().to_string();
    (s3, dir, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_versioned_bucket_gives_back_what_was_overwritten_and_deleted() {
    let (s3, dir, keys) = versioned_trail(Some(WRITTEN)).await;
    let keys = keys.as_str();
    let env = aws_env(&s3.endpoint, None);
    let (code, clean, err) = json_run(&args(keys, &[]), &env).await;
    assert_eq!(code, 0, "{err}\n{clean:#}");
    assert!(
        clean.get("recovery").is_none(),
        "nothing failed, nothing tried"
    );

    let log = clean["logs"][1]["key"].as_str().unwrap().to_string();
    let digest = clean["digests"][2]["key"].as_str().unwrap().to_string();
    let log_versions = s3.store.versions("kept", &log);
    let digest_versions = s3.store.versions("kept", &digest);
    *s3.store.clock.lock().unwrap() = Some(OVERWRITTEN.into());
    let forged = trailproof::verify::gzip::gzip(b"{\"Records\":[]}");
    let by = s3
        .store
        .push("kept", &log, Some(forged.clone().into()), None);
    // Versions piled on after it never hide the original (tried oldest first).
    *s3.store.clock.lock().unwrap() = Some("2026-03-03T10:30:00.000Z".into());
    for _ in 0..25 {
        s3.store
            .push("kept", &log, Some(forged.clone().into()), None);
    }
    *s3.store.clock.lock().unwrap() = Some(DELETED.into());
    let marker = s3.store.push("kept", &digest, None, None);

    let out = dir.path().join("originals");
    let out_s = out.to_str().unwrap();
    let html = dir.path().join("r.html");
    let html_s = html.to_str().unwrap();
    let (code, v, err) = json_run(&args(keys, &["--recover", out_s, "--html", html_s]), &env).await;
    assert_eq!(code, 1, "the bucket was tampered with: {err}\n{v:#}");
    let l = entry(&v, &log);
    assert_eq!(l["outcome"], "recovered", "{v:#}");
    assert_eq!(l["version_id"], log_versions[0].id.as_str());
    assert_eq!(l["what"], "overwritten");
    assert_eq!(l["at"], "2026-03-03T10:00:00Z");
    assert_eq!(l["by"], by.as_str());
    let d = entry(&v, &digest);
    assert_eq!(d["outcome"], "recovered", "{v:#}");
    assert_eq!(d["version_id"], digest_versions[0].id.as_str());
    assert_eq!(d["what"], "deleted");
    assert_eq!(d["at"], "2026-03-03T11:00:00Z");
    assert_eq!(d["latest_version_id"], marker.as_str());

    // The originals, byte for byte, with a manifest of their versions.
    let written = std::fs::read(out.join("kept").join(&log)).unwrap();
    assert_eq!(written, log_versions[0].body.clone().unwrap());
    assert!(out
        .join("kept")
        .join(format!("{digest}.metadata.json"))
        .exists());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["recovered"].as_array().unwrap().len(),
        2,
        "{manifest:#}"
    );

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Originals in the bucket&#x27;s versions")
            || page.contains("Originals in the bucket's versions")
    );
    assert!(page.contains("deleted at 2026-03-03T11:00:00Z"), "{page}");
    std::fs::copy(&html, "/tmp/recover.html").ok();

    // The text says it in the verdict line.
    let mut text_args = args(keys, &[]);
    text_args[8] = "text";
    let text = run_bin(&text_args, &env).await;
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("every original (2) recovered from the bucket's versions"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_version_listing_is_one_line_and_no_error() {
    let (s3, dir, keys) = versioned_trail(None).await;
    let keys = keys.as_str();
    let env = aws_env(&s3.endpoint, None);
    let (_, clean, _) = json_run(&args(keys, &[]), &env).await;
    for i in [1, 2] {
        let log = clean["logs"][i]["key"].as_str().unwrap();
        s3.store.push("kept", log, None, None);
    }
    s3.faults
        .deny_versions
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (code, v, err) = json_run(&args(keys, &[]), &env).await;
    assert_eq!(code, 1, "{err}\n{v:#}");
    let rec = &v["recovery"];
    assert_eq!(rec["blocked"]["why"], "refused", "{v:#}");
    assert_eq!(rec["objects"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(rec["not_tried"], 2);
    let mut text_args = args(keys, &[]);
    text_args[8] = "text";
    let text = run_bin(&text_args, &env).await;
    let said = "grant s3:ListBucketVersions and s3:GetObjectVersion";
    assert_eq!(text.stdout.matches(said).count(), 1, "{}", text.stdout);
    // A local copy keeps no versions, shards would overwrite one manifest,
    // S3 is no place for the originals: usage errors, one sentence each.
    let fresh = dir.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    let cases = [
        &["--recover", fresh, "--shard", "1/2"][..],
        &["--recover", "s3://b/x"][..],
    ];
    for extra in cases {
        let r = run_bin(&args(keys, extra), &env).await;
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let r = run_bin(
        &[
            "validate",
            "--trail-arn",
            ARN,
            "--start-time",
            START,
            "--local",
            dir.path().to_str().unwrap(),
            "--recover",
            "x",
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--recover"), "{}", r.stderr);
}

/// Where the run finds tampering, event history's calls on the trail's
/// bucket (the last 90 days, by resource name) join the story: who
/// suspended versioning, with which credentials, from where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_brings_event_historys_calls_on_the_bucket() {
    use std::sync::Arc;
    use support::cloudtrail::CloudTrailState;
    let (s3, _dir, keys) = versioned_trail(None).await;
    let keys = std::path::PathBuf::from(keys);
    let at = chrono::Utc::now() - chrono::Duration::days(3);
    let record = serde_json::json!({
        "eventTime": trailproof::verify::time::display(at), "eventSource": "s3.amazonaws.com",
        "eventName": "PutBucketVersioning", "eventID": "e-1", "sourceIPAddress": "192.0.2.5",
        "requestParameters": {"bucketName": "kept",
            "VersioningConfiguration": {"Status": "Suspended"}},
        "userIdentity": {"arn": "arn:aws:iam::123456789012:user/mallory",
            "accessKeyId": "AKIAMALLORY"},
    });
    let event = serde_json::json!({
        "EventName": "PutBucketVersioning", "EventTime": at.timestamp() as f64,
        "EventSource": "s3.amazonaws.com", "Resources": [{"ResourceName": "kept"}],
        "CloudTrailEvent": record.to_string(),
    });
    // Keys from CloudTrail (a run given a keys file and a bucket asks
    // CloudTrail nothing).
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        events: vec![event],
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let mut live = args("", &[]);
    live.drain(9..11); // no --public-keys
    let (code, clean, err) = json_run(&live, &env).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        clean.get("bucket_calls").is_none(),
        "an intact trail asks nothing more"
    );
    assert_eq!(state.count("LookupEvents"), 0);
    let log = clean["logs"][4]["key"].as_str().unwrap().to_string();
    s3.store.push("kept", &log, None, None);
    let (code, v, err) = json_run(&live, &env).await;
    assert_eq!(code, 1, "{err}");
    let calls = v["bucket_calls"]
        .as_array()
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(calls.len(), 1, "{v:#}");
    assert_eq!(calls[0]["actor"], "arn:aws:iam::123456789012:user/mallory");
    assert_eq!(calls[0]["credential"], "long_lived");
    assert_eq!(calls[0]["source"], "lookup_events");
}

/// Live, over a bucket that lists ETags: a log file overwritten behind the
/// nightly checkpoint is seen by the retention watch the next night, named
/// `hash_mismatch`, and its original is recovered and dated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_watch_sees_an_overwrite_behind_the_checkpoint_and_dates_it() {
    let (s3, dir, keys) = versioned_trail(Some(WRITTEN)).await;
    let env = aws_env(&s3.endpoint, None);
    let checkpoint = dir.path().join("checkpoint.json");
    let checkpoint = checkpoint.to_str().unwrap();
    let night = |end: &'static str| {
        let mut a = args(&keys, &["--checkpoint", checkpoint]);
        a[6] = end; // --end-time
        a
    };
    let (code, first, err) = json_run(&night("2026-03-01T04:00:00Z"), &env).await;
    assert_eq!(code, 0, "{err}");
    let log = first["logs"][1]["key"].as_str().unwrap().to_string();
    let (code, _, err) = json_run(&night("2026-03-01T05:00:00Z"), &env).await;
    assert_eq!(code, 0, "an intact night: {err}");
    *s3.store.clock.lock().unwrap() = Some(OVERWRITTEN.into());
    let forged = trailproof::verify::gzip::gzip(b"{\"Records\":[]}");
    s3.store.push("kept", &log, Some(forged.into()), None);
    let (code, v, err) = json_run(&night("2026-03-01T06:00:00Z"), &env).await;
    assert_eq!(code, 1, "{err}\n{v:#}");
    let seen = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == log.as_str());
    assert_eq!(
        seen.map(|l| l["problem"].clone()),
        Some("hash_mismatch".into()),
        "{v:#}"
    );
    let l = entry(&v, &log);
    assert_eq!(l["what"], "overwritten");
    assert_eq!(l["at"], "2026-03-03T10:00:00Z");
}
