//! Credentials never reach output: a recognisable secret key and session
//! token, a successful run with every output (text, JSON, metrics, HTML, a
//! checkpoint) and a failing one (a wrong secret), and none of it holds them.

use crate::support;

use support::{aws_env, run_bin, sim_upload_at, start_s3, SECRET_KEY};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const TOKEN: &str = "TRAILPROOF-FAKE-SESSION-TOKEN-7f3a9c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_output() {
    let s3 = start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    sim_upload_at(
        &s3,
        dir.path(),
        "secrets",
        "2026-03-01T00:00:00Z",
        &["--damage", "tamper-log@2"],
    )
    .await;
    let keys = dir.path().join("public-keys.json");
    let out = tempfile::tempdir().unwrap();
    let file = |n: &str| out.path().join(n).to_str().unwrap().to_string();
    let (metrics, html, cp, report) = (
        file("m.prom"),
        file("r.html"),
        file("cp.json"),
        file("r.json"),
    );
    let mut env = aws_env(&s3.endpoint, None);
    env.push(("AWS_SESSION_TOKEN".into(), TOKEN.into()));
    let base = [
        "validate",
        "--trail-arn",
        ARN,
        "--s3-bucket",
        "secrets",
        "--public-keys",
        keys.to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
    ];
    let mut seen = String::new();
    for extra in [
        vec!["--verbose"],
        vec![
            "--format",
            "json",
            "--metrics",
            &metrics,
            "--html",
            &html,
            "--checkpoint",
            &cp,
        ],
        vec!["--format", "jsonl", "--report-file", &report],
    ] {
        let mut a = base.to_vec();
        a.extend(extra);
        let r = run_bin(&a, &env).await;
        seen.push_str(&r.stdout);
        seen.push_str(&r.stderr);
    }
    // A wrong secret: the error says so without repeating either.
    let wrong = "TRAILPROOF-WRONG-SECRET-0b1c2d";
    let bad: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| {
            let v = if k == "AWS_SECRET_ACCESS_KEY" {
                wrong.to_string()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let r = run_bin(&base, &bad).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Told by S3's error code (SignatureDoesNotMatch), not as access denied.
    assert!(r.stderr.contains("no usable credentials"), "{}", r.stderr);
    seen.push_str(&r.stdout);
    seen.push_str(&r.stderr);
    for f in [&metrics, &html, &cp, &report] {
        seen.push_str(&std::fs::read_to_string(f).unwrap_or_default());
    }
    for secret in [SECRET_KEY, TOKEN, wrong] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
    assert!(
        seen.contains("hash value doesn't match"),
        "the runs did run"
    );
}
