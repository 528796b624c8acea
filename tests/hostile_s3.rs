//! An unverified digest names hostile objects (a path escaping upwards, a
//! very long key, a NUL, markup): nothing it names is fetched, each is
//! reported `unverified`, and the run goes on.

use crate::support;

use serde_json::Value;
use support::{aws_env, json_run, sim_upload_at, start_s3};
use trailproof::verify::gzip::{gzip, inflate_to_vec};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_digest_makes_nothing_fetched() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload_at(
        &s3,
        dir.path(),
        "hostile",
        "2026-03-01T00:00:00Z",
        &["--damage", "forge-digest@2"],
    )
    .await;
    // The forged digest, as the server stores it, gets hostile entries.
    let key = trailproof::verify::layout::DigestSeries {
        root: trailproof::verify::layout::AccountRoot::new(None, None, "123456789012"),
        source_region: "us-east-1".into(),
        trail_name: "sample-trail".into(),
        home_region: "us-east-1".into(),
    }
    .key(
        trailproof::verify::time::parse_user_time("2026-03-01T03:00:00Z").unwrap(),
        false,
    );
    let path = s3.root.path().join("hostile").join(&key);
    let mut doc: Value =
        serde_json::from_slice(&inflate_to_vec(&std::fs::read(&path).unwrap(), 1 << 24).unwrap())
            .unwrap();
    let hostile = [
        "../../../../etc/passwd".to_string(),
        format!("AWSLogs/{}", "a".repeat(3000)),
        "AWSLogs/x\u{0}y.json.gz".to_string(),
        "AWSLogs/<script>alert(1)</script>.json.gz".to_string(),
    ];
    for k in &hostile {
        doc["logFiles"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "s3Bucket": "hostile", "s3Object": k, "hashValue": "00", "hashAlgorithm": "SHA-256"
            }));
    }
    std::fs::write(&path, gzip(doc.to_string().as_bytes())).unwrap();
    let keys = dir.path().join("public-keys.json");
    let args = [
        "validate",
        "--trail-arn",
        ARN,
        "--s3-bucket",
        "hostile",
        "--public-keys",
        keys.to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
        "--format",
        "json",
    ];
    s3.faults.requests.lock().unwrap().clear();
    let (code, v, err) = json_run(&args, &aws_env(&s3.endpoint, None)).await;
    assert_eq!(code, 1, "{err}");
    let requests = s3.faults.requests.lock().unwrap().clone();
    for r in &requests {
        assert!(
            !r.contains("passwd")
                && !r.contains("aaaaaaaaaa")
                && !r.contains("%00")
                && !r.contains("script"),
            "fetched because an unverified digest named it: {r}"
        );
    }
    for k in &hostile {
        let l = v["logs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["key"] == k.as_str())
            .unwrap_or_else(|| panic!("{k} missing from the report"));
        assert_eq!(l["status"], "unverified");
        assert_eq!(l["problem"], "digest_invalid");
    }
}
