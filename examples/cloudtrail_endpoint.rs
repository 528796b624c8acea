//! The tests' CloudTrail JSON 1.1 endpoint as a process, for the end-to-end
//! comparison (trailproof and the AWS CLI ask it for ListPublicKeys).
//!
//! Usage: cloudtrail_endpoint --keys FILE [--port P] [--max-seconds N]
//!        [--caller-account ID]  (answer STS GetCallerIdentity as that
//!        account, so a live run reads event history as it would on AWS)

#[path = "../tests/support/cloudtrail.rs"]
mod cloudtrail;
#[path = "../tests/support/serve.rs"]
mod serve;
use serve::{amz_target, bind, serve_each, sts_caller, Answer};

use std::sync::Arc;

/// Used by the shared endpoint code.
async fn body_bytes(req: http::Request<hyper::body::Incoming>) -> Vec<u8> {
    use http_body_util::BodyExt;
    req.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |n: &str| {
        args.iter()
            .position(|a| a == n)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let Some(keys) = get("--keys") else {
        eprintln!("usage: cloudtrail_endpoint --keys FILE [--port P] [--max-seconds N]");
        std::process::exit(2);
    };
    let port: u16 = get("--port").and_then(|p| p.parse().ok()).unwrap_or(0);
    let max: u64 = get("--max-seconds")
        .and_then(|p| p.parse().ok())
        .unwrap_or(3600);
    let state = Arc::new(cloudtrail::CloudTrailState {
        keys: cloudtrail::CloudTrailState::keys_from_file(std::path::Path::new(&keys)),
        caller_account: get("--caller-account"),
        ..Default::default()
    });
    let url = cloudtrail::start_on(state, port).await;
    println!("{url}");
    tokio::time::sleep(std::time::Duration::from_secs(max)).await;
}
