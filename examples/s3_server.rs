//! The tests' S3 server (s3s-fs 0.14.1 over a directory, TCP_NODELAY on) as
//! a process, for the estate benchmark: s3s-fs' own binary leaves Nagle on,
//! and the delayed-ACK stall (~40 ms a request) would then be what is measured.
//!
//! Usage: s3_server --root DIR [--port P] [--max-seconds N]
//! (access key AKIDTRAILPROOFTEST, secret trailproof-test-secret)

#[path = "../tests/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |n: &str| {
        args.iter()
            .position(|a| a == n)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let Some(root) = get("--root") else {
        eprintln!("usage: s3_server --root DIR [--port P] [--max-seconds N]");
        std::process::exit(2);
    };
    let port: u16 = get("--port").and_then(|p| p.parse().ok()).unwrap_or(0);
    let max: u64 = get("--max-seconds")
        .and_then(|p| p.parse().ok())
        .unwrap_or(3600);
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("cannot create {root}: {e}"));
    let (url, _faults) = support::serve_s3(std::path::Path::new(&root), port).await;
    println!("{url}");
    tokio::time::sleep(std::time::Duration::from_secs(max)).await;
}
