//! Live mode against real servers on 127.0.0.1: s3s-fs serving the trail
//! over the S3 REST API, and our CloudTrail JSON 1.1 endpoint. The same
//! simulated trails validated from S3 and from the local copy must give
//! identical JSON reports.

use crate::support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use support::cloudtrail::CloudTrailState;
use support::{aws_env, json_run, run_bin, sim_upload_at, start_s3, S3Server};

const START: &str = "2026-03-01T00:00:00Z";
const END: &str = "2026-03-01T06:00:00Z";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

/// Simulates a 6-hour trail into `dir` and uploads it to the S3 server.
async fn sim_upload(s3: &S3Server, dir: &Path, bucket: &str, extra: &[&str]) {
    sim_upload_at(s3, dir, bucket, START, extra).await
}

fn base_args<'a>(arn: &'a str, keys: &'a str) -> Vec<&'a str> {
    vec![
        "validate",
        "--trail-arn",
        arn,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
        "--public-keys",
        keys,
    ]
}

/// Validates from S3 (with `--s3-bucket`) and from the local copy; asserts identical reports.
async fn compare(s3: &S3Server, dir: &Path, bucket: &str, extra: &[&str]) -> (i32, Value) {
    compare_arn(s3, dir, bucket, ARN, extra).await
}

async fn compare_arn(
    s3: &S3Server,
    dir: &Path,
    bucket: &str,
    arn: &str,
    extra: &[&str],
) -> (i32, Value) {
    let keys = dir.join("public-keys.json");
    let keys = keys.to_str().unwrap();
    let mut live = base_args(arn, keys);
    live.extend_from_slice(&["--s3-bucket", bucket]);
    live.extend_from_slice(extra);
    let (code_s3, mut v_s3, err) = json_run(&live, &aws_env(&s3.endpoint, None)).await;
    // Only a live run reads the bucket's protections and looks for
    // versions (s3s-fs keeps none: one line says so): the rest must agree.
    assert!(v_s3["protections"].is_array(), "{v_s3:#}");
    v_s3.as_object_mut().unwrap().remove("protections");
    if let Some(rec) = v_s3.as_object_mut().unwrap().remove("recovery") {
        assert_eq!(rec["blocked"]["why"], "unlistable", "{rec:#}");
    }
    let mut local = base_args(arn, keys);
    local.extend_from_slice(&["--local", dir.to_str().unwrap(), "--s3-bucket", bucket]);
    local.extend_from_slice(extra);
    let (code_local, v_local, _) = json_run(&local, &[]).await;
    assert_eq!(
        v_s3, v_local,
        "S3 and --local reports differ ({bucket}); stderr: {err}"
    );
    assert_eq!(code_s3, code_local);
    (code_s3, v_s3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_local_agree_on_the_damage_matrix() {
    let s3 = start_s3().await;
    let cases: &[&[&str]] = &[
        &[],
        &["tamper-log@2"],
        &["delete-log@2"],
        &["append-log@2"],
        &["delete-digest@2"],
        &["move-digest@2"],
        &["forge-digest@2"],
        &["unsign-digest@2"],
        &["gap@2"],
        &["validation-off@2"],
        &["empty-hour@2"],
        &["unreferenced-log@2"],
        &["forge-digest@2", "delete-digest@3"],
        &["delete-digest@2", "delete-digest@3"],
        &["gap@1", "tamper-log@2"],
    ];
    for (i, damage) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let bucket = format!("matrix-{i}");
        let mut extra = Vec::new();
        for d in damage.iter() {
            extra.push("--damage");
            extra.push(*d);
        }
        sim_upload(&s3, dir.path(), &bucket, &extra).await;
        let (code, v) = compare(&s3, dir.path(), &bucket, &[]).await;
        let clean = damage.is_empty()
            || damage == &["gap@2"]
            || damage == &["validation-off@2"]
            || damage == &["empty-hour@2"];
        assert_eq!(code, if clean { 0 } else { 1 }, "{damage:?}: {v:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_prefix_and_multi_region_with_s3_bucket() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    // Short names: s3s-fs 0.14.1 stores metadata in a file named after the
    // base64 of bucket and key, which passes 255 bytes for longer keys.
    sim_upload(
        &s3,
        dir.path(),
        "org-b",
        &[
            "--organization-id",
            "o-abc123def4",
            "--s3-prefix",
            "t",
            "--region",
            "eu-west-1",
            "--trail-name",
            "st",
        ],
    )
    .await;
    // No --organization-id: it is discovered from the bucket.
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/st";
    let (code, v) = compare_arn(
        &s3,
        dir.path(),
        "org-b",
        arn,
        &["--s3-prefix", "t", "--region", "eu-west-1"],
    )
    .await;
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["digests"]["valid"], 6);
    assert!(v["digests"][0]["key"]
        .as_str()
        .unwrap()
        .starts_with("t/AWSLogs/o-abc123def4/123456789012/CloudTrail-Digest/eu-west-1/"));

    // --endpoint-url reaches S3 as the AWS CLI's flag does, with no
    // endpoint variable set; and it beats a variable that points elsewhere.
    let keys = dir.path().join("public-keys.json");
    let mut args = base_args(arn, keys.to_str().unwrap());
    args.extend_from_slice(&[
        "--s3-bucket",
        "org-b",
        "--s3-prefix",
        "t",
        "--region",
        "eu-west-1",
    ]);
    args.extend_from_slice(&["--endpoint-url", &s3.endpoint]);
    let env: Vec<(String, String)> = aws_env(&s3.endpoint, None)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "AWS_ENDPOINT_URL_S3" => (k, "http://127.0.0.1:9".to_string()),
            _ => (k, v),
        })
        .collect();
    let (code, v_flag, err) = json_run(&args, &env).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v_flag["summary"], v["summary"]);
    args.pop();
    args.push("s3.example");
    let r = run_bin(&args, &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--endpoint-url"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_across_buckets_and_a_separate_log_bucket() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(
        &s3,
        dir.path(),
        "first-bucket",
        &["--switch-bucket", "second-bucket@3"],
    )
    .await;
    // Validation starts in the trail's current bucket and follows the chain back.
    let (code, v) = compare(&s3, dir.path(), "second-bucket", &[]).await;
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["digests"]["valid"], 6, "{v:#}");
    let buckets: Vec<&str> = v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["bucket"].as_str().unwrap())
        .collect();
    assert_eq!(
        buckets,
        [
            "second-bucket",
            "second-bucket",
            "second-bucket",
            "first-bucket",
            "first-bucket",
            "first-bucket"
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    sim_upload(
        &s3,
        dir.path(),
        "digest-bucket",
        &["--log-bucket", "log-bucket"],
    )
    .await;
    let (code, v) = compare(&s3, dir.path(), "digest-bucket", &[]).await;
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["logs"][0]["bucket"], "log-bucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_throttling_and_request_counts() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(&s3, dir.path(), "faults", &[]).await;
    let keys = dir.path().join("public-keys.json");
    let keys = keys.to_str().unwrap();
    let mut args = base_args(ARN, keys);
    args.extend_from_slice(&["--s3-bucket", "faults"]);
    let env = aws_env(&s3.endpoint, None);

    // Clean run: one GET per object, nothing downloaded twice.
    s3.faults.requests.lock().unwrap().clear();
    let (code, v, _) = json_run(&args, &env).await;
    assert_eq!(code, 0);
    let requests = s3.faults.requests.lock().unwrap().clone();
    for d in v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["logs"].as_array().unwrap())
    {
        let key = d["key"].as_str().unwrap();
        let gets = requests
            .iter()
            .filter(|r| r.starts_with("GET ") && r.split('?').next().unwrap().ends_with(key))
            .count();
        assert_eq!(gets, 1, "{key}: {requests:#?}");
    }
    let lists = requests
        .iter()
        .filter(|r| r.contains("list-type=2"))
        .count();
    // The digest folder, the log day folder, and the levels above the day
    // folders (region, year, month) of both trees, so that every object
    // there gets a verdict.
    assert!(lists <= 11, "{lists} LIST requests: {requests:#?}");

    // Throttled: the SDK retries 503 SlowDown and the verdicts do not change.
    s3.faults
        .throttle
        .store(3, std::sync::atomic::Ordering::SeqCst);
    let (code2, v2, _) = json_run(&args, &env).await;
    assert_eq!(code2, 0);
    assert_eq!(v2, v);
    assert_eq!(
        s3.faults.throttle.load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    // A connection dropped in the middle of a log file's body: retried, same verdicts.
    let dropped = v["logs"][7]["key"].as_str().unwrap().to_string();
    s3.faults.drop_once.lock().unwrap().push(dropped.clone());
    let gets = || s3.faults.count(&format!("GET /faults/{dropped}"));
    let before = gets();
    let (code_d, v_d, err_d) = json_run(&args, &env).await;
    assert_eq!(gets() - before, 2, "one dropped GET and one retry");
    assert!(
        s3.faults.drop_once.lock().unwrap().is_empty(),
        "the fault was not triggered"
    );
    assert_eq!((code_d, &v_d), (0, &v), "{err_d}");

    // Access denied on one log file: a finding on that object, the run goes on.
    let denied = v["logs"][4]["key"].as_str().unwrap().to_string();
    s3.faults.deny.lock().unwrap().push(denied.clone());
    let (code3, v3, _) = json_run(&args, &env).await;
    assert_eq!(code3, 1);
    let logs = v3["logs"].as_array().unwrap();
    assert_eq!(logs.len(), v["logs"].as_array().unwrap().len());
    for l in logs {
        if l["key"] == denied.as_str() {
            assert_eq!(l["status"], "invalid");
            assert_eq!(l["problem"], "access_denied");
        } else {
            assert_eq!(l["status"], "valid");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trail_and_keys_come_from_cloudtrail() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(
        &s3,
        dir.path(),
        "ct-bucket",
        &["--s3-prefix", "pfx", "--damage", "gap@2"],
    )
    .await;
    let mut keys = CloudTrailState::keys_from_file(&dir.path().join("public-keys.json"));
    // Real keys from 2018-2023 do not overlap the range and must not matter.
    keys.extend(
        CloudTrailState::keys_from_file(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/real/us-west-2-keys.json"
        )))
        .into_iter()
        .take(3),
    );
    let state = Arc::new(CloudTrailState {
        keys,
        trails: vec![json!({
            "Name": "sample-trail", "TrailARN": ARN, "S3BucketName": "ct-bucket", "S3KeyPrefix": "pfx",
            "HomeRegion": "us-east-1", "IsMultiRegionTrail": false, "IsOrganizationTrail": false, "LogFileValidationEnabled": true,
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        })],
        key_state: Some(("PendingDeletion".into(), Some(1772344800.0))),
        events: vec![json!({
            "EventName": "StopLogging", "EventTime": 1772330460.0,
            "CloudTrailEvent": format!("{{\"eventName\":\"StopLogging\",\"requestParameters\":{{\"name\":\"{ARN}\"}}}}")
        })],
        page_size: 1,
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
    ];
    let (code, mut v, err) = json_run(&args, &env).await;
    assert_eq!(code, 0, "{v:#} {err}");
    assert_eq!(v["summary"]["digests"]["valid"], 5);
    assert_eq!(v["gaps"][0]["cause"], "logging_stopped", "{:#}", v["gaps"]);
    assert_eq!(state.count("DescribeTrails"), 1);
    assert!(state.count("ListPublicKeys") >= 1);
    // The trail's KMS key is pending deletion: its log files will be lost.
    let key = v["protections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "trail_key");
    let key = key.cloned().unwrap_or_default();
    assert_eq!(key["state"], "unprotected", "{key:#}");
    assert!(
        key["detail"]
            .as_str()
            .unwrap_or("")
            .contains("PendingDeletion"),
        "{key:#}"
    );

    // The same trail from the local copy (same verdicts; the gap cause needs the API).
    let keys = dir.path().join("public-keys.json");
    let mut local = base_args(ARN, keys.to_str().unwrap());
    local.extend_from_slice(&[
        "--local",
        dir.path().to_str().unwrap(),
        "--s3-prefix",
        "pfx",
    ]);
    let (_, mut v_local, _) = json_run(&local, &[]).await;
    v_local["gaps"][0]["cause"] = json!("logging_stopped");
    // Event history is asked live only, and here cannot be (the caller's
    // account is unknown, and the window is older than it keeps).
    assert!(
        v["blind_spots"][0]["events"].is_null(),
        "{}",
        v["blind_spots"]
    );
    assert!(v["blind_spots"][0]["note"].is_string());
    v["blind_spots"] = v_local["blind_spots"].clone();
    // Live, the report says the trail's calls before the window were not
    // read from event history (the caller's account is unknown).
    assert!(
        v["notes"]
            .to_string()
            .contains("not read from event history"),
        "{}",
        v["notes"]
    );
    v["notes"] = v_local["notes"].clone();
    // Only a live run reads the bucket's protections.
    v.as_object_mut().unwrap().remove("protections");
    assert_eq!(v, v_local);

    // `trailproof keys` writes a keys file that validates the same trail offline.
    let out = dir.path().join("fetched-keys.json");
    let r = run_bin(
        &[
            "keys",
            "--region",
            "us-east-1",
            "--start-time",
            START,
            "--end-time",
            END,
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fetched: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(fetched["PublicKeyList"].as_array().unwrap().len(), 1);

    // An unknown trail is one sentence and exit 2.
    let other = "arn:aws:cloudtrail:us-east-1:123456789012:trail/nope";
    let r = run_bin(
        &["validate", "--trail-arn", other, "--start-time", START],
        &env,
    )
    .await;
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        format!("trailproof: A trail could not be found for {other}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_failures_exit_2_with_one_sentence() {
    let s3 = start_s3().await;
    let keys = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/sample/public-keys.json"
    );
    let mut args = base_args(ARN, keys);
    args.extend_from_slice(&["--s3-bucket", "no-such-bucket"]);
    let r = run_bin(&args, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-bucket"), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);

    // No credentials at all.
    let env: Vec<(String, String)> = aws_env(&s3.endpoint, None)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY_ID") && !k.starts_with("AWS_SECRET"))
        .collect();
    let mut args = base_args(ARN, keys);
    args.extend_from_slice(&["--s3-bucket", "whatever"]);
    let r = run_bin(&args, &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Told by the credential provider's error type: the store's own words.
    assert!(r.stderr.contains("no usable credentials"), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains('{'), "no SDK debug dump: {}", r.stderr);

    // An endpoint nobody listens on: one sentence, no SDK debug dump.
    let mut args = base_args(ARN, keys);
    args.extend_from_slice(&["--s3-bucket", "b", "--max-attempts", "1"]);
    let r = run_bin(&args, &aws_env("http://127.0.0.1:9", None)).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains('{') && !r.stderr.contains("DispatchFailure("),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fingerprint_gets_a_second_look_up_around_the_digest() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(&s3, dir.path(), "relookup", &[]).await;
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        // The first query covers [start, end + 2 h] (8 h) and finds nothing.
        max_query_seconds: Some(3.0 * 3600.0),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
        "--s3-bucket",
        "relookup",
    ];
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 0, "{v:#} {err}");
    assert_eq!(v["summary"]["digests"]["valid"], 6);
    // One range query, then one look-up for the one unknown fingerprint.
    assert_eq!(state.count("ListPublicKeys"), 2);
}

/// Deleting the newest digests goes unnoticed by the AWS CLI; with
/// GetTrailStatus saying later digests were delivered, each is a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_tail_is_found_with_the_trail_status() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(
        &s3,
        dir.path(),
        "tail",
        &["--damage", "delete-digest@4", "--damage", "delete-digest@5"],
    )
    .await;
    let keys = dir.path().join("public-keys.json");
    let mut args = base_args(ARN, keys.to_str().unwrap());
    args.extend_from_slice(&["--s3-bucket", "tail"]);
    // Without a trail status: a gap, not a finding (logging may have stopped).
    let (code, v, _) = json_run(&args, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(code, 1, "{v:#}"); // the logs of the deleted hours are unreferenced
    assert_eq!(v["summary"]["digests"]["invalid"], 0, "{v:#}");
    assert_eq!(v["gaps"][0]["kind"], "no_later_digest");
    // CloudTrail delivered the digest ending 06:00 at 06:05.
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        latest_digest_delivery: Some(1772344800.0 + 300.0),
        digest_delivery_error: Some("AccessDenied".into()),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let live = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
        "--s3-bucket",
        "tail",
    ];
    let (code, v, err) = json_run(&live, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(state.count("GetTrailStatus"), 1);
    let missing: Vec<&str> = v["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["problem"] == "not_found")
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 2, "{v:#}");
    assert!(
        missing[0].ends_with("_20260301T060000Z.json.gz")
            && missing[1].ends_with("_20260301T050000Z.json.gz")
    );
    assert!(v["gaps"].as_array().unwrap().is_empty());
    // CloudTrail says its last digest delivery failed: shown as such.
    let delivery = v["protections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "delivery")
        .cloned();
    let delivery = delivery.unwrap_or_default();
    assert_eq!(delivery["state"], "unprotected", "{delivery:#}");
    assert!(delivery["detail"]
        .as_str()
        .unwrap_or("")
        .contains("LatestDigestDeliveryError: AccessDenied"));
}

/// A multi-region trail of one account, `--region all`: the regions
/// account:ListRegions reports enabled are expected (an opt-in one with no
/// folder is MISSING); without the permission, the partition's regions that
/// need no opt-in, and the note says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_regions_come_from_account_list_regions() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = ["--regions", "us-east-1,eu-west-1"];
    sim_upload(&s3, dir.path(), "mrt", &sim).await;
    let region = |name: &str, status: &str| json!({"RegionName": name, "RegionOptStatus": status});
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        trails: vec![sample_trail("mrt", true)],
        regions: std::sync::Mutex::new(Some(vec![
            region("us-east-1", "ENABLED_BY_DEFAULT"),
            region("eu-west-1", "ENABLED_BY_DEFAULT"),
            region("me-south-1", "ENABLED"),
            region("ap-east-1", "DISABLED"),
        ])),
        caller_account: Some("123456789012".into()),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
        "--region",
        "all",
    ];
    let (code, v, err) = json_run(&args, &env).await;
    assert_eq!(code, 3, "{err}");
    let chains: Vec<(String, i64)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = c["region"].as_str().unwrap().to_string();
            (r, c["summary"]["exit_code"].as_i64().unwrap())
        })
        .collect();
    let want = [("eu-west-1", 0), ("me-south-1", 3), ("us-east-1", 0)];
    let want: Vec<(String, i64)> = want.iter().map(|(r, c)| (r.to_string(), *c)).collect();
    assert_eq!(chains, want);
    assert!(v["notes"].to_string().contains("(account:ListRegions)"));
    // The caller is the trail's account: asked without an account id.
    let asked = state.last.lock().unwrap()["ListRegions"].clone();
    assert!(asked.get("AccountId").is_none(), "{asked}");

    *state.regions.lock().unwrap() = None;
    let (code, v, err) = json_run(&args, &env).await;
    assert_eq!(code, 3, "{err}");
    assert_eq!(v["chains"].as_array().unwrap().len(), 17);
    let notes = v["notes"].to_string();
    assert!(notes.contains("account:ListRegions: "), "{notes}");
}

/// Live, a gap (logging stopped, explained by the trail's own records)
/// lists the write events CloudTrail's event history holds for it, with
/// who and from where; read events are not listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_lists_what_event_history_holds() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    // Event history keeps 90 days: a window ten days ago.
    let hour = |h: i64| hour_from_now(h - 240);
    // The window starts an hour into the trail (not at its creation).
    let (start, end) = (hour(1), hour(7));
    let sim = ["--damage", "gap@3", "--hours", "7"];
    sim_upload_at(&s3, dir.path(), "blind", &hour(0), &sim).await;
    let event = |name: &str, read_only: &str, at: &str, who: &str| {
        let t = trailproof::verify::time::parse_user_time(at)
            .unwrap()
            .timestamp() as f64;
        let record = json!({"eventName": name, "eventTime": at, "sourceIPAddress": "203.0.113.66",
                            "userIdentity": {"arn": who}});
        json!({"EventName": name, "EventTime": t, "ReadOnly": read_only,
               "EventSource": "ec2.amazonaws.com", "Username": "x",
               "CloudTrailEvent": record.to_string()})
    };
    let intruder = "arn:aws:sts::123456789012:assumed-role/intruder/s";
    let at = |h: i64, m: i64| {
        let t = trailproof::verify::time::parse_user_time(&hour(h)).unwrap();
        trailproof::verify::time::display(t + chrono::Duration::minutes(m))
    };
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        trails: vec![sample_trail("blind", false)],
        events: vec![
            event("RunInstances", "false", &at(3, 30), intruder),
            event("DescribeInstances", "true", &at(3, 31), intruder),
            event("TerminateInstances", "false", &at(5, 30), intruder),
        ],
        caller_account: Some("123456789012".into()),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        &start,
        "--end-time",
        &end,
    ];
    let mut json_args = args.to_vec();
    json_args.extend_from_slice(&["--format", "json"]);
    let (code, v, err) = json_run(&json_args, &env).await;
    assert_eq!(code, 0, "{err}");
    let spots = v["blind_spots"].as_array().unwrap();
    assert_eq!(
        spots.len(),
        1,
        "{spots:?} gaps {} untrusted {}",
        v["gaps"],
        v["untrusted"]
    );
    let events = spots[0]["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        1,
        "{} events {:?}",
        spots[0],
        state
            .events
            .iter()
            .map(|e| e["EventTime"].clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(events[0]["name"], "RunInstances");
    assert_eq!(events[0]["actor"], intruder);
    assert_eq!(events[0]["source_ip"], "203.0.113.66");
    let r = run_bin(&args, &env).await;
    assert!(
        r.stdout.contains("write event(s)") && r.stdout.contains("RunInstances by arn:aws:sts"),
        "{}",
        r.stdout
    );
}

/// A trail whose management writes were switched off before the window
/// (the record of that is outside it) and on again inside it: no recorded
/// change narrows the window, but `--cross-check-events` finds the write
/// events event history holds that no verified log contains. Live, the
/// present selectors (GetEventSelectors) are held against the last
/// recorded change: fewer now, with no record, is a finding too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_check_finds_the_writes_the_selectors_left_out() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    // A simulated day ending within the last hours (event history keeps 90 days).
    let hour = |h: i64| hour_from_now(h - 25);
    let sim = [
        "--hours", "24", "--damage", "narrow@1", "--damage", "widen@6",
    ];
    sim_upload_at(&s3, dir.path(), "crosscheck", &hour(0), &sim).await;
    let history = CloudTrailState::events_from_file(&dir.path().join("lookup-events.json"));
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        trails: vec![sample_trail("crosscheck", false)],
        events: history.clone(),
        caller_account: Some("123456789012".into()),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let (start, end) = (hour(4), hour(24));
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--cross-check-events",
    ];
    let mut json_args = args.to_vec();
    json_args.extend_from_slice(&["--format", "json"]);
    let (code, v, err) = json_run(&json_args, &env).await;
    assert_eq!(code, 3, "{err} {}", v["unproven"]);
    let spot = v["blind_spots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "not_recorded")
        .unwrap_or_else(|| panic!("{}", v["blind_spots"]))
        .clone();
    let missing = spot["events"].as_array().unwrap();
    // Exactly the writes of the narrowed hours inside the window.
    let t = |s: &Value| trailproof::verify::time::parse_user_time(s.as_str().unwrap()).unwrap();
    let (from, until) = (
        t(&json!(hour(4))),
        t(&json!(hour(6))) + chrono::Duration::seconds(5),
    );
    let expected: Vec<&Value> = history
        .iter()
        .filter(|e| e["ReadOnly"] == "false" && e["EventSource"] != "cloudtrail.amazonaws.com")
        .filter(|e| {
            let at = chrono::DateTime::from_timestamp(e["EventTime"].as_f64().unwrap() as i64, 0)
                .unwrap();
            at >= from && at < until
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        missing.len(),
        expected.len(),
        "{spot} {} {} {}",
        v["unproven"],
        v["untrusted"],
        v["notes"]
    );
    assert!(missing
        .iter()
        .all(|e| e["id"].is_string() && e["actor"].is_string()));
    assert!(
        v["unproven"].to_string().contains("not_recorded")
            && v["unproven"]
                .to_string()
                .contains("\"kind\":\"not_recorded\""),
        "{}",
        v["unproven"]
    );
    let html = dir.path().join("crosscheck.html");
    let mut with_html = args.to_vec();
    with_html.extend_from_slice(&["--html", html.to_str().unwrap()]);
    let r = run_bin(&with_html, &env).await;
    assert!(
        r.stdout.contains("Cross-check with event history")
            && r.stdout.contains("no verified log file contains"),
        "{}",
        r.stdout
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Write events the trail did not record") && page.contains("ops-automation"),
        "the HTML report lists the cross-check and the narrowing"
    );
    // For a look in a browser (scripts/html-check.sh reads it from here).
    if let Ok(keep) = std::env::var("TRAILPROOF_KEEP_HTML") {
        std::fs::copy(&html, keep).unwrap();
    }
    // Accepted narrowing: shown, not failed.
    let mut allowed = json_args.clone();
    allowed.push("--allow-narrowing");
    let (code, v, err) = json_run(&allowed, &env).await;
    assert_eq!(code, 0, "{err} {}", v["unproven"]);
    assert_eq!(v["narrowing_shown"][0]["kind"], "not_recorded", "{v:#}");
    assert!(v["narrowing_shown"].to_string().contains("not_recorded"));

    // The trail records reads only now, but the last change its logs show
    // turned everything on: a change the verified logs do not show.
    *state.event_selectors.lock().unwrap() = Some(json!({"EventSelectors": [
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": true, "DataResources": []}]}));
    let mut plain = args[..7].to_vec();
    plain.extend_from_slice(&["--format", "json"]);
    let (code, v, err) = json_run(&plain, &env).await;
    assert_eq!(code, 3, "{err}");
    assert!(
        v["unproven"]
            .to_string()
            .contains("verified logs do not show")
            && v["unproven"]
                .to_string()
                .contains("management write events"),
        "{}",
        v["unproven"]
    );
}

/// A multi-region trail's selectors are changed by one call, recorded in
/// its home region only: a chain of another region recorded less just the
/// same, and live the home region's event history says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowing_recorded_in_the_home_region_marks_other_regions() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let hour = |h: i64| hour_from_now(h - 240);
    let sim = [
        "--region",
        "eu-west-1",
        "--damage",
        "narrow@2",
        "--damage",
        "widen@4",
    ];
    sim_upload_at(&s3, dir.path(), "away", &hour(0), &sim).await;
    let mut state = CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        trails: vec![sample_trail("away", true)],
        events: CloudTrailState::events_from_file(&dir.path().join("lookup-events.json")),
        caller_account: Some("123456789012".into()),
        ..Default::default()
    };
    let (start, end) = (hour(1), hour(6));
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--region",
        "eu-west-1",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--format",
        "json",
    ];
    let ct = support::cloudtrail::start(Arc::new(std::mem::take(&mut state))).await;
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 3, "{err} {}", v["notes"]);
    let unproven = v["unproven"].to_string();
    assert!(
        unproven.contains("Coverage narrowed at") && unproven.contains("ops-automation"),
        "{unproven}"
    );
    // Without the trail's event history the report says what it could not read.
    let denied = CloudTrailState {
        keys: CloudTrailState::keys_from_file(&dir.path().join("public-keys.json")),
        trails: vec![sample_trail("away", true)],
        caller_account: Some("999999999999".into()),
        ..Default::default()
    };
    let ct = support::cloudtrail::start(Arc::new(denied)).await;
    let (_, v, _) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    let unread = &v["home_calls_unread"];
    assert!(
        unread["reason"]
            .as_str()
            .unwrap_or("")
            .contains("home region")
            && unread["why"].is_string(),
        "{v:#}"
    );
}

/// The hour `h` hours from now, at its start, as the tool prints times.
fn hour_from_now(h: i64) -> String {
    let t = (chrono::Utc::now().timestamp() / 3600 + h) * 3600;
    trailproof::verify::time::display(chrono::DateTime::from_timestamp(t, 0).unwrap())
}

/// The simulated trail as DescribeTrails describes it.
fn sample_trail(bucket: &str, multi_region: bool) -> Value {
    json!({
        "Name": "sample-trail", "TrailARN": ARN, "S3BucketName": bucket,
        "HomeRegion": "us-east-1", "IsMultiRegionTrail": multi_region,
        "IsOrganizationTrail": false, "LogFileValidationEnabled": true
    })
}

/// Every object of the trail deleted from the bucket, while CloudTrail says
/// the trail delivers to this bucket and prefix with validation on: not a
/// typo (exit 2) but tampering, one `not_found` per hour CloudTrail has
/// delivered; with no delivery reported, not proven.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_trail_deleted_is_a_finding_where_cloudtrail_says_it_delivers_there() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(&s3, dir.path(), "gone", &[]).await;
    std::fs::remove_dir_all(s3.root.path().join("gone/AWSLogs/123456789012")).unwrap();
    let keys = dir.path().join("public-keys.json");
    let live = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
    ];
    for (delivered, want) in [(Some(1772344800.0 + 300.0), 1), (None, 3)] {
        let state = Arc::new(CloudTrailState {
            keys: CloudTrailState::keys_from_file(&keys),
            trails: vec![sample_trail("gone", false)],
            latest_digest_delivery: delivered,
            ..Default::default()
        });
        let ct = support::cloudtrail::start(state.clone()).await;
        let (code, v, err) = json_run(&live, &aws_env(&s3.endpoint, Some(&ct))).await;
        assert_eq!(code, want, "{err}\n{v:#}");
        if want == 1 {
            let missing = v["digests"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["problem"] == "not_found")
                .count();
            assert_eq!(missing, 6, "{v:#}");
        }
    }
    // A region the multi-region trail delivers (ListRegions: enabled),
    // every object of it deleted: judged as deleted digests, not a typo.
    let region = |name: &str| json!({"RegionName": name, "RegionOptStatus": "ENABLED_BY_DEFAULT"});
    let sim2 = tempfile::tempdir().unwrap();
    sim_upload(&s3, sim2.path(), "gone-eu", &["--region", "eu-west-1"]).await;
    std::fs::remove_dir_all(s3.root.path().join("gone-eu/AWSLogs/123456789012")).unwrap();
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&sim2.path().join("public-keys.json")),
        trails: vec![sample_trail("gone-eu", true)],
        regions: std::sync::Mutex::new(Some(vec![region("us-east-1"), region("eu-west-1")])),
        latest_digest_delivery: Some(1772344800.0 + 300.0),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let mut args = live.to_vec();
    args.extend_from_slice(&["--region", "eu-west-1"]);
    let r = support::run_bin(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    // CloudTrail's word is about the trail's own chains: a typo in the
    // account or region stays a usage error.
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        trails: vec![sample_trail("gone", true)],
        latest_digest_delivery: Some(1772344800.0 + 300.0),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    for typo in [
        ["--account-id", "123456789013", "--region", "us-east-1"],
        ["--account-id", "123456789012", "--region", "eu-west-3"],
    ] {
        let mut args = live.to_vec();
        args.extend_from_slice(&typo);
        let r = support::run_bin(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
        assert_eq!(r.code, 2, "{typo:?}: {}", r.stderr);
    }
    // Offline (or without CloudTrail's word) it may be a typo: exit 2, and
    // the sentence names the deletion too.
    let mut args = base_args(ARN, keys.to_str().unwrap());
    args.extend_from_slice(&["--s3-bucket", "gone"]);
    let r = support::run_bin(&args, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("deleted"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

/// Objects a lifecycle rule moved to GLACIER (GET answers 403
/// InvalidObjectState): an archived log file, and an archived digest whose
/// hour's log files it alone could vouch for, are "archived, not verified":
/// exit 3, named, never exit 1 and never missing; `--restore-plan` lists
/// them. A log altered elsewhere is still exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_objects_are_not_proven_never_tampered() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(&s3, dir.path(), "cold", &[]).await;
    let keys = dir.path().join("public-keys.json");
    let plan = dir.path().join("restore.json");
    let mut args = base_args(ARN, keys.to_str().unwrap());
    args.extend_from_slice(&[
        "--s3-bucket",
        "cold",
        "--restore-plan",
        plan.to_str().unwrap(),
    ]);
    let env = aws_env(&s3.endpoint, None);
    let (code, clean, _) = json_run(&args, &env).await;
    assert_eq!(code, 0);
    let log = clean["logs"][1]["key"].as_str().unwrap().to_string();
    let digest = clean["digests"][2].clone();
    let digest_key = digest["key"].as_str().unwrap().to_string();
    s3.faults
        .archived
        .lock()
        .unwrap()
        .extend([log.clone(), digest_key.clone()]);

    let (code, v, err) = json_run(&args, &env).await;
    assert_eq!(code, 3, "{err}\n{v:#}");
    let problem = |kind: &str, key: &str| {
        let o = v[kind]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == key)
            .cloned();
        o.map(|o| (o["status"].clone(), o["problem"].clone()))
    };
    assert_eq!(
        problem("logs", &log),
        Some(("unverified".into(), "archived".into())),
        "{v:#}"
    );
    assert_eq!(
        problem("digests", &digest_key),
        Some(("unverified".into(), "archived".into())),
        "{v:#}"
    );
    // The archived digest's log files: not verified, named, not unreferenced.
    let under: Vec<&Value> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["digest"].is_null() && l["key"] != log.as_str())
        .collect();
    assert!(!under.is_empty(), "{v:#}");
    assert!(under.iter().all(|l| l["problem"] == "archived"), "{v:#}");
    assert_eq!(v["summary"]["tampered"], false, "{v:#}");
    assert!(
        v["unproven"].to_string().contains("\"kind\":\"archived\""),
        "{v:#}"
    );
    // The plan names every archived object, the digest and the log first of all.
    let plan_doc: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let listed: Vec<&str> = plan_doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&log.as_str()) && listed.contains(&digest_key.as_str()));
    let to_restore = |key: &str| {
        let o = plan_doc["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == key);
        o.map(|o| o["restore"].clone())
    };
    assert_eq!(to_restore(&log), Some(true.into()));
    assert_eq!(to_restore(&digest_key), Some(true.into()));
    assert_eq!(plan_doc["restore_requests"], 2, "{plan_doc:#}");
    // An estate streamed as JSON Lines keeps its chains for the plan.
    let mut streamed = args.clone();
    for a in streamed.iter_mut().filter(|a| **a == "json") {
        *a = "jsonl";
    }
    streamed.extend(["--account-id", "all", "--region", "all"]);
    let r = run_bin(&streamed, &env).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    let again: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(again["restore_requests"], 2, "{again:#}");
    // --allow-gaps does not pass an archived object: it is no gap.
    let mut lenient = args.clone();
    lenient.push("--allow-gaps");
    assert_eq!(json_run(&lenient, &env).await.0, 3);
    // Tampering next to it is still tampering.
    let other = clean["logs"][12]["key"].as_str().unwrap();
    let stored = s3.root.path().join("cold").join(other);
    std::fs::write(&stored, trailproof::verify::gzip::gzip(b"{\"Records\":[]}")).unwrap();
    let (code, v, err) = json_run(&args, &env).await;
    assert_eq!(code, 1, "{err}\n{v:#}");
}

/// S3's answers for the bucket's configuration, as the SDK reads them.
fn config(faults: &support::Faults, answers: &[(&'static str, u16, &str)]) {
    let xml = |body: &str| match body.starts_with('<') {
        true => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
        // A bucket policy is answered as JSON.
        false => body.to_string(),
    };
    let mut c = faults.bucket_config.lock().unwrap();
    c.clear();
    c.extend(
        answers
            .iter()
            .map(|(sub, status, body)| (*sub, *status, xml(body))),
    );
}

/// The bucket's protections next to the verdict: suspended versioning, no
/// Object Lock and a lifecycle rule deleting the trail's objects after 30
/// days are each UNPROTECTED in the text, JSON, JSON Lines and metrics;
/// shown without failing, but `--require-protections` makes them exit 3;
/// a refused read is unknown (never protected); a bucket that keeps its
/// evidence long enough passes `--require-retention`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buckets_protections_are_shown_and_can_be_required() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload(&s3, dir.path(), "kept", &[]).await;
    let keys = dir.path().join("public-keys.json");
    let metrics = dir.path().join("m.prom");
    let mut args = base_args(ARN, keys.to_str().unwrap());
    args.extend_from_slice(&[
        "--s3-bucket",
        "kept",
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    let env = aws_env(&s3.endpoint, None);
    let no_lock =
        "<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>none</Message></Error>";
    config(&s3.faults, &[
        ("versioning", 200, "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"),
        ("object-lock", 404, no_lock),
        ("lifecycle", 200, "<LifecycleConfiguration><Rule><ID>tidy</ID><Filter><Prefix>AWSLogs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"),
        ("policy", 200, r#"{"Version":"2012-10-17","Statement":[{"Sid":"ops","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ops"},"Action":"s3:Delete*","Resource":"arn:aws:s3:::kept/*"}]}"#),
        ("publicAccessBlock", 200, "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>"),
        ("encryption", 200, "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"),
        ("replication", 404, "<Error><Code>ReplicationConfigurationNotFoundError</Code><Message>none</Message></Error>"),
        ("logging", 200, "<BucketLoggingStatus></BucketLoggingStatus>"),
    ]);
    let (code, v, err) = json_run(&args, &env).await;
    assert_eq!(code, 0, "shown, not required: {err}");
    let states: Vec<(String, String)> = v["protections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().into(),
                p["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    let unprotected = |k: &str| (k.to_string(), "unprotected".to_string());
    assert_eq!(
        states,
        vec![
            unprotected("versioning"),
            unprotected("object_lock"),
            unprotected("lifecycle"),
            unprotected("policy"),
            ("public_access".into(), "protected".into()),
            ("encryption".into(), "protected".into()),
            unprotected("replication"),
            unprotected("access_logging"),
            // No CloudTrail call in this run: delivery and the trail's
            // key are unknown.
            ("delivery".into(), "unknown".into()),
            ("trail_key".into(), "unknown".into()),
        ],
        "{v:#}"
    );
    assert!(v["protections"][2]["detail"]
        .as_str()
        .unwrap()
        .contains("rule tidy deletes the trail's objects after 30 days"));
    let policy = v["protections"][3]["detail"].as_str().unwrap();
    assert!(
        policy.contains("statement ops lets") && policy.contains("s3:DeleteObject"),
        "{policy}"
    );
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(prom.contains("protection=\"lifecycle\"} 0"), "{prom}");
    // Required: exit 3, said why, whatever --allow-gaps says.
    let mut required = args.clone();
    required.extend_from_slice(&[
        "--require-protections",
        "versioning,object-lock,lifecycle",
        "--allow-gaps",
    ]);
    let html = dir.path().join("protections.html");
    let mut paged = required.clone();
    paged.extend_from_slice(&["--html", html.to_str().unwrap()]);
    let (code, v, _) = json_run(&paged, &env).await;
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Protections of the trail's bucket") && page.contains("p-unprotected"));
    // For a look in a browser.
    if let Ok(keep) = std::env::var("TRAILPROOF_KEEP_PROTECTIONS_HTML") {
        std::fs::copy(&html, keep).unwrap();
    }
    assert_eq!(code, 3, "{v:#}");
    assert!(
        v["unproven"]
            .to_string()
            .contains("\"kind\":\"protection_missing\""),
        "{v:#}"
    );
    let mut text = required.clone();
    text.retain(|a| *a != "json" && *a != "--format");
    let r = run_bin(&text, &env).await;
    assert!(
        r.stdout.contains("Protections of the trail's bucket:") && r.stdout.contains("UNPROTECTED"),
        "{}",
        r.stdout
    );
    let mut lines = required.clone();
    let at = lines.iter().position(|a| *a == "json").unwrap();
    lines[at] = "jsonl";
    let r = run_bin(&lines, &env).await;
    assert_eq!(
        r.stdout.matches("\"type\":\"protection\"").count(),
        10,
        "{}",
        r.stdout
    );
    // A refused read is unknown, and unknown is not protected.
    config(
        &s3.faults,
        &[
            (
                "versioning",
                200,
                "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
            ),
            (
                "object-lock",
                403,
                "<Error><Code>AccessDenied</Code><Message>no</Message></Error>",
            ),
            (
                "lifecycle",
                404,
                "<Error><Code>NoSuchLifecycleConfiguration</Code><Message>none</Message></Error>",
            ),
        ],
    );
    let (code, v, _) = json_run(&required, &env).await;
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["protections"][1]["state"], "unknown", "{v:#}");
    assert_eq!(v["protections"][0]["state"], "protected", "{v:#}");
    assert_eq!(v["protections"][2]["state"], "protected", "{v:#}");
    // Kept long enough: every protection holds, exit 0.
    config(&s3.faults, &[
        ("versioning", 200, "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
        ("object-lock", 200, "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>400</Days></DefaultRetention></Rule></ObjectLockConfiguration>"),
        ("lifecycle", 404, "<Error><Code>NoSuchLifecycleConfiguration</Code><Message>none</Message></Error>"),
    ]);
    let mut kept = required.clone();
    kept.extend_from_slice(&["--require-retention", "365"]);
    let (code, v, err) = json_run(&kept, &env).await;
    assert_eq!(code, 0, "{err}\n{}", v["protections"]);
}

/// Event history is asked only for the calls that can change the verdict:
/// a window that ended long before the run asks it nothing (its
/// configuration calls after the window cannot change it, and it is never
/// compared with what the trail records now); a window ending at the run
/// asks for the trail's configuration calls up to the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_history_is_asked_only_what_can_change_the_verdict() {
    let now = chrono::Utc::now();
    let recent = (now - chrono::Duration::hours(4))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string();
    let old_end = "2026-03-01T04:00:00Z";
    for (start, end, asked) in [(START, old_end, 0), (recent.as_str(), "", 4)] {
        let s3 = start_s3().await;
        let sim = tempfile::tempdir().unwrap();
        sim_upload_at(&s3, sim.path(), "hist", start, &["--hours", "4"]).await;
        let keys = CloudTrailState::keys_from_file(&sim.path().join("public-keys.json"));
        let state = Arc::new(CloudTrailState {
            keys,
            trails: vec![sample_trail("hist", false)],
            caller_account: Some("123456789012".into()),
            ..Default::default()
        });
        let ct = support::cloudtrail::start(state.clone()).await;
        let env = aws_env(&s3.endpoint, Some(&ct));
        let mut args = vec!["validate", "--format", "json", "--trail-arn", ARN];
        args.extend(["--start-time", start]);
        if !end.is_empty() {
            args.extend(["--end-time", end]);
        }
        let r = run_bin(&args, &env).await;
        let (code, err) = (r.code, &r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
        assert!(code == 0 || code == 3, "{err}\n{v:#}");
        assert_eq!(
            state.count("LookupEvents"),
            asked,
            "window from {start}: {v:#}"
        );
        let caller = &v["provenance"]["caller"];
        assert_eq!(caller, "arn:aws:iam::123456789012:user/auditor", "{err}");
    }
}
