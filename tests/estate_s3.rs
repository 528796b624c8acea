//! The estate run live: an organization trail in s3s-fs, described by our
//! CloudTrail endpoint, with and without Organizations' ListAccounts.

use crate::support;

use serde_json::{json, Value};
use std::sync::Arc;
use support::cloudtrail::CloudTrailState;
use support::{aws_env, json_run, run_bin, start_s3};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_live_with_and_without_list_accounts() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = [
        "simulate",
        "--out",
        dir.path().to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--hours",
        "3",
        "--logs-per-hour",
        "2",
        "--seed",
        "4",
        "--bucket",
        "org",
        "--trail-name",
        "org-trail",
        "--s3-prefix",
        "pfx",
        "--organization-id",
        "o-abc1234567",
        "--accounts",
        "111111111111,222222222222",
        "--regions",
        "us-east-1,eu-west-1",
        "--upload",
    ];
    let r = run_bin(&sim, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys = dir.path().join("public-keys.json");
    let account = |id: &str, status: &str| json!({"Id": id, "Status": status});
    let mut state = CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        trails: vec![json!({
            "Name": "org-trail", "TrailARN": ARN, "S3BucketName": "org", "S3KeyPrefix": "pfx",
            "HomeRegion": "us-east-1", "IsMultiRegionTrail": false, "IsOrganizationTrail": true,
            "LogFileValidationEnabled": true
        })],
        accounts: Some(vec![
            account("111111111111", "ACTIVE"),
            account("222222222222", "ACTIVE"),
            account("444444444444", "ACTIVE"),
            account("555555555555", "SUSPENDED"),
        ]),
        ..Default::default()
    };
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T03:00:00Z",
        "--account-id",
        "all",
        "--region",
        "all",
        "--format",
        "json",
    ];
    let ct = support::cloudtrail::start(Arc::new(std::mem::take(&mut state))).await;
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 3, "{err} {v:#}");
    let chains: Vec<(String, String, i64)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["account"].as_str().unwrap().to_string(),
                c["region"].as_str().unwrap().to_string(),
                c["summary"]["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, i64)> = [
        ("111111111111", "eu-west-1", 0),
        ("111111111111", "us-east-1", 0),
        ("222222222222", "eu-west-1", 0),
        ("222222222222", "us-east-1", 0),
        ("444444444444", "eu-west-1", 3),
        ("444444444444", "us-east-1", 3),
    ]
    .iter()
    .map(|(a, r, c)| (a.to_string(), r.to_string(), *c))
    .collect();
    assert_eq!(chains, want);

    // Without the permission: the four chains found, and one note.
    let denied = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&keys),
        trails: vec![json!({
            "Name": "org-trail", "TrailARN": ARN, "S3BucketName": "org", "S3KeyPrefix": "pfx",
            "HomeRegion": "us-east-1", "IsMultiRegionTrail": false, "IsOrganizationTrail": true,
            "LogFileValidationEnabled": true
        })],
        ..Default::default()
    });
    let ct = support::cloudtrail::start(denied).await;
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, Some(&ct))).await;
    assert_eq!(code, 0, "{err} {v:#}");
    assert_eq!(v["chains"].as_array().unwrap().len(), 4);
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("organizations:ListAccounts"))
            .count(),
        1,
        "{notes:?}"
    );

    // The same estate from the local copy: the same verdicts.
    let mut local: Vec<&str> = args.to_vec();
    local.extend_from_slice(&[
        "--local",
        dir.path().to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--s3-prefix",
        "pfx",
    ]);
    let (code_local, mut v_local, _) = json_run(&local, &[]).await;
    assert_eq!(code_local, 0);
    let mut v = v;
    v["notes"] = Value::Null;
    v_local["notes"] = Value::Null;
    // Chains of other regions and accounts say what event history they
    // could not read (live: no permission; offline: no CloudTrail call).
    for c in v["chains"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .chain(v_local["chains"].as_array_mut().unwrap().iter_mut())
    {
        c["notes"] = json!([]);
        // Only a live run reads the bucket's protections.
        c.as_object_mut().unwrap().remove("protections");
    }
    assert_eq!(v["chains"], v_local["chains"]);

    // Two shards write their reports to S3 (no shared disk); the merge reads
    // them from there and gives the unsharded verdicts.
    let env = aws_env(&s3.endpoint, None);
    for k in 0..2 {
        let shard = format!("{}/2", k + 1);
        let mut a = local.clone();
        a.extend_from_slice(&[
            "--shard",
            &shard,
            "--report-file",
            "s3://org/reports/shard-{shard}.json",
        ]);
        let r = run_bin(&a, &env).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let merge = [
        "merge",
        "s3://org/reports/shard-1.json",
        "s3://org/reports/shard-2.json",
        "--format",
        "json",
    ];
    let (code, merged, err) = json_run(&merge, &env).await;
    assert_eq!(code, 0, "{err}");
    v_local["notes"] = Value::Null;
    let mut merged = merged;
    merged["notes"] = Value::Null;
    for c in merged["chains"].as_array_mut().unwrap() {
        c["notes"] = json!([]);
    }
    assert_eq!(merged["chains"], v_local["chains"]);
}
