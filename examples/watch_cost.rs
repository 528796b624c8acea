//! What the retention watch costs in S3 requests, counted by the tests' S3
//! server: a simulated chain-year (three log files an hour) uploaded, a first
//! checkpointed run over the year (the full proof: a GET per object), then
//! the next night's run over the next day, which watches the proven year
//! by listing it. Prints both nights' requests by kind.
//!
//! Usage: scripts/watch-cost.sh (puts the release binary on PATH)

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

/// Requests since `from`, by kind: object GETs, LIST pages, others.
fn counted(faults: &support::Faults, from: usize) -> BTreeMap<&'static str, usize> {
    let all = faults.requests.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = BTreeMap::new();
    for r in &all[from..] {
        let kind = match r.split_once(' ') {
            Some(("GET", p)) if p.contains("list-type") || p.contains("prefix=") => "LIST",
            Some(("GET", p)) if p.contains("x-id=GetObject") || !p.contains('?') => "GET (object)",
            Some(("GET", _)) => "GET (bucket configuration)",
            Some(("HEAD", _)) => "HEAD",
            _ => "other",
        };
        *out.entry(kind).or_insert(0) += 1;
    }
    out
}

#[tokio::main]
async fn main() {
    let s3 = support::start_s3().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let days: i64 = std::env::var("WATCH_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(365);
    let hours = ((days + 1) * 24).to_string();
    let sim = ["--hours", hours.as_str()];
    let start = "2025-03-01T00:00:00Z";
    support::sim_upload_to(&s3.endpoint, dir.path(), "year", start, &sim).await;
    let t = |d: i64| {
        let s = trailproof::verify::time::parse_user_time(start).expect("a time");
        trailproof::verify::time::display(s + chrono::Duration::days(d))
    };
    let keys = dir.path().join("public-keys.json");
    let checkpoint = dir.path().join("checkpoint.json");
    let env = support::aws_env(&s3.endpoint, None);
    let night = |end: String| {
        let (keys, checkpoint) = (keys.clone(), checkpoint.clone());
        let env = env.clone();
        async move {
            let args = [
                "validate",
                "--trail-arn",
                ARN,
                "--s3-bucket",
                "year",
                "--start-time",
                start,
                "--end-time",
                &end,
                "--quiet",
                "--format",
                "json",
                "--public-keys",
                keys.to_str().unwrap_or_default(),
                "--checkpoint",
                checkpoint.to_str().unwrap_or_default(),
            ];
            support::run_bin(&args, &env).await.code
        }
    };
    let before = s3.faults.requests.lock().map(|r| r.len()).unwrap_or(0);
    let first = night(t(days)).await;
    let mid = s3.faults.requests.lock().map(|r| r.len()).unwrap_or(0);
    let next = night(t(days + 1)).await;
    println!("chain of {days} days, three log files an hour");
    println!(
        "first night (the full proof), exit {first}: {:?}",
        counted(&s3.faults, before)
    );
    println!(
        "next night (one new day, the year watched), exit {next}: {:?}",
        counted(&s3.faults, mid)
    );
}
