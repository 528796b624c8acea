//! Test servers on 127.0.0.1: a real S3 server (s3s + s3s-fs serving a
//! temporary directory) with fault injection, and a CloudTrail JSON 1.1
//! endpoint answering from a simulated trail.

#![allow(dead_code)]

pub mod alerts;
mod serve;
pub use serve::{amz_target, bind, serve_each, sts_caller, Answer};
pub mod cloudtrail;
/// The test binary's own (the examples that share these servers have no
/// binary to run).
#[cfg(test)]
pub mod trail;
pub mod tsa;
pub mod versioned;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const ACCESS_KEY: &str = "AKIDTRAILPROOFTEST";
pub const SECRET_KEY: &str = "trailproof-test-secret";

/// Faults the S3 server injects, and what it saw.
#[derive(Default)]
pub struct Faults {
    /// Answer this many requests with 503 SlowDown before serving normally.
    pub throttle: AtomicUsize,
    /// Keys answered with 403 AccessDenied.
    pub deny: Mutex<Vec<String>>,
    /// Bucket configuration S3 would answer, by subresource (`versioning`,
    /// `object-lock`, `lifecycle`): the status and the XML body (s3s-fs
    /// keeps no configuration and answers NotImplemented).
    pub bucket_config: Mutex<Vec<(&'static str, u16, String)>>,
    /// ListObjectVersions answered with 403 AccessDenied.
    pub deny_versions: std::sync::atomic::AtomicBool,
    /// Keys in GLACIER: a GET is answered 403 InvalidObjectState, as S3
    /// answers for an archived object that was not restored.
    pub archived: Mutex<Vec<String>>,
    /// Keys whose next GET drops the connection halfway through the body (once each).
    pub drop_once: Mutex<Vec<String>>,
    /// Keys whose next GET sends half the body and then nothing (once each).
    pub stall_once: Mutex<Vec<String>>,
    /// (method, path?query) of every request.
    pub requests: Mutex<Vec<String>>,
    /// Random faults on GETs, per thousand requests (0: none), drawn from
    /// `seed` and the request's number so a run is reproducible.
    pub fault_permille: AtomicUsize,
    pub seed: AtomicUsize,
    /// Faults injected, by kind.
    pub injected: Mutex<std::collections::BTreeMap<&'static str, usize>>,
}

/// The faults the server injects at random: 503 SlowDown, 500, the
/// connection closed before any response, the body cut halfway with the
/// whole length promised, a Content-Length longer than the body, no
/// response at all, and half a body and then nothing (the last two never
/// end: the client's read timeout must).
const FAULT_KINDS: [&str; 7] = [
    "slow_down_503",
    "internal_500",
    "reset_before_body",
    "reset_mid_body",
    "long_content_length",
    "stall_before_headers",
    "stall_mid_body",
];

/// A body that sends `bytes`, then nothing, ever (a hung server).
fn stalled_body(bytes: bytes::Bytes) -> s3s::Body {
    use futures::StreamExt;
    let first: Result<hyper::body::Frame<bytes::Bytes>, std::io::Error> =
        Ok(hyper::body::Frame::data(bytes));
    s3s::Body::http_body(http_body_util::StreamBody::new(
        futures::stream::iter([first]).chain(futures::stream::pending()),
    ))
}

/// A body that sends `bytes`, then fails: the connection is cut with the
/// response's Content-Length still owed.
fn cut_body(bytes: bytes::Bytes) -> s3s::Body {
    let frames: Vec<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>> = vec![
        Ok(hyper::body::Frame::data(bytes)),
        Err(std::io::Error::other("injected: connection cut")),
    ];
    s3s::Body::http_body(http_body_util::StreamBody::new(futures::stream::iter(
        frames,
    )))
}

/// Replaces a response's body: `reshape` gets the whole body and returns
/// what to send and the Content-Length to promise.
async fn reshaped(
    resp: http::Response<s3s::Body>,
    reshape: impl FnOnce(bytes::Bytes) -> (s3s::Body, usize),
) -> http::Response<s3s::Body> {
    let (parts, body) = resp.into_parts();
    let full = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let (body, promised) = reshape(full);
    let mut resp = http::Response::from_parts(parts, body);
    resp.headers_mut().insert("content-length", promised.into());
    resp
}

/// A deterministic draw in [0, 1000) for request `n`.
fn draw(seed: usize, n: usize, salt: usize) -> usize {
    let mut x = (seed as u64) ^ ((n as u64) << 20) ^ ((salt as u64) << 52) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x % 1000) as usize
}

impl Faults {
    pub fn count(&self, needle: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .count()
    }
}

pub struct S3Server {
    pub endpoint: String,
    pub root: tempfile::TempDir,
    pub faults: Arc<Faults>,
}

/// S3's answer to a GET of an object in GLACIER that was not restored.
fn archived_error() -> http::Response<s3s::Body> {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidObjectState</Code>\
                <Message>The operation is not valid for the object's storage class</Message>\
                <StorageClass>GLACIER</StorageClass></Error>";
    http::Response::builder()
        .status(403)
        .header("content-type", "application/xml")
        .body(s3s::Body::from(body.to_string()))
        .unwrap()
}

fn xml_error(status: u16, code: &str) -> http::Response<s3s::Body> {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code} (injected by the test server)</Message></Error>");
    http::Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(s3s::Body::from(body))
        .unwrap()
}

/// Starts s3s-fs on 127.0.0.1:0 on the current runtime.
pub async fn start_s3() -> S3Server {
    let root = tempfile::tempdir().unwrap();
    let (endpoint, faults) = serve_s3(root.path(), 0).await;
    S3Server {
        endpoint,
        root,
        faults,
    }
}

/// Serves `root` over the S3 API on 127.0.0.1:`port` (0: any), with TCP_NODELAY
/// (s3s-fs' own binary leaves it off, and delayed ACKs then cost ~40 ms a request).
pub async fn serve_s3(root: &std::path::Path, port: u16) -> (String, Arc<Faults>) {
    serve(s3s_fs::FileSystem::new(root).unwrap(), port).await
}

/// A bucket store that keeps every version, served like [`start_s3`].
pub struct VersionedServer {
    pub endpoint: String,
    pub store: versioned::VersionedStore,
    pub faults: Arc<Faults>,
}

/// Starts the versioned store on 127.0.0.1:0 on the current runtime.
pub async fn start_versioned_s3() -> VersionedServer {
    let store = versioned::VersionedStore::default();
    let (endpoint, faults) = serve(store.clone(), 0).await;
    VersionedServer {
        endpoint,
        store,
        faults,
    }
}

/// Serves any S3 implementation with the fault layer in front.
async fn serve(store: impl s3s::S3, port: u16) -> (String, Arc<Faults>) {
    let mut b = s3s::service::S3ServiceBuilder::new(store);
    b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let s3 = b.build();
    let faults = Arc::new(Faults::default());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let f = faults.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let s3 = s3.clone();
            let f = f.clone();
            let svc = service_fn(move |req: http::Request<Incoming>| {
                let s3 = s3.clone();
                let f = f.clone();
                async move {
                    let line = format!(
                        "{} {}",
                        req.method(),
                        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("")
                    );
                    let is_get = line.starts_with("GET ") && !line.contains("list-type");
                    let n = {
                        let mut r = f.requests.lock().unwrap();
                        r.push(line);
                        r.len()
                    };
                    let rate = f.fault_permille.load(Ordering::SeqCst);
                    let fault =
                        (is_get && rate > 0 && draw(f.seed.load(Ordering::SeqCst), n, 0) < rate)
                            .then(|| {
                                FAULT_KINDS
                                    [draw(f.seed.load(Ordering::SeqCst), n, 1) % FAULT_KINDS.len()]
                            });
                    if let Some(kind) = fault {
                        *f.injected.lock().unwrap().entry(kind).or_insert(0) += 1;
                        match kind {
                            "slow_down_503" => return Ok(xml_error(503, "SlowDown")),
                            "internal_500" => return Ok(xml_error(500, "InternalError")),
                            "reset_before_body" => {
                                return Err(s3s::HttpError::new(Box::new(std::io::Error::other(
                                    "injected reset",
                                ))))
                            }
                            "stall_before_headers" => std::future::pending::<()>().await,
                            _ => {}
                        }
                    }
                    if f.throttle
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return Ok::<_, s3s::HttpError>(xml_error(503, "SlowDown"));
                    }
                    let path = req.uri().path().to_string();
                    if f.deny
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|k| path.ends_with(k.as_str()))
                    {
                        return Ok(xml_error(403, "AccessDenied"));
                    }
                    let query = req.uri().query().unwrap_or("").to_string();
                    if f.deny_versions.load(Ordering::SeqCst) && query.contains("versions") {
                        return Ok(xml_error(403, "AccessDenied"));
                    }
                    let asked = |sub: &str| {
                        query
                            .split('&')
                            .any(|p| p == sub || p.starts_with(&format!("{sub}=")))
                    };
                    let config = f.bucket_config.lock().unwrap().clone();
                    if let Some((_, status, body)) = config.iter().find(|(sub, ..)| asked(sub)) {
                        return Ok(http::Response::builder()
                            .status(*status)
                            .header("content-type", "application/xml")
                            .body(s3s::Body::from(body.clone()))
                            .unwrap());
                    }
                    let archived = f
                        .archived
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|k| path.ends_with(k.as_str()));
                    if archived && req.method() == http::Method::GET {
                        return Ok(archived_error());
                    }
                    let dropping = {
                        let mut d = f.drop_once.lock().unwrap();
                        let hit = d.iter().position(|k| path.ends_with(k.as_str()));
                        hit.map(|i| d.remove(i)).is_some()
                    };
                    let stalling = {
                        let mut d = f.stall_once.lock().unwrap();
                        let hit = d.iter().position(|k| path.ends_with(k.as_str()));
                        hit.map(|i| d.remove(i)).is_some()
                    };
                    let resp = hyper::service::Service::call(&s3, req).await?;
                    let dropping = dropping || fault == Some("reset_mid_body");
                    if !resp.status().is_success() {
                        return Ok(resp);
                    }
                    let half = |full: bytes::Bytes| full.slice(..full.len() / 2);
                    Ok(match fault {
                        // Half the body, then nothing, ever.
                        _ if stalling || fault == Some("stall_mid_body") => {
                            reshaped(resp, |full| (stalled_body(half(full.clone())), full.len()))
                                .await
                        }
                        // The whole body, but more bytes promised than sent.
                        Some("long_content_length") => {
                            reshaped(resp, |full| {
                                let promised = full.len() + 7;
                                (cut_body(full), promised)
                            })
                            .await
                        }
                        // Promise the whole body, send half of it, and hang up.
                        _ if dropping => {
                            reshaped(resp, |full| (cut_body(half(full.clone())), full.len())).await
                        }
                        _ => resp,
                    })
                }
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    });
    (endpoint, faults)
}

/// Reads a whole request body (test endpoint helper).
pub async fn body_bytes(req: http::Request<Incoming>) -> Vec<u8> {
    req.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default()
}

/// Environment for a trailproof subprocess talking to the test servers only.
pub fn aws_env(s3: &str, cloudtrail: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET_KEY.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL_S3".to_string(), s3.to_string()),
        ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
        ("AWS_CONFIG_FILE".to_string(), "/nonexistent".to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".to_string(),
            "/nonexistent".to_string(),
        ),
        // Keep the SDK's retry backoff short in tests.
        ("AWS_RETRY_MODE".to_string(), "standard".to_string()),
    ];
    // Never the real CloudTrail: without a test endpoint, a closed local port.
    let ct = cloudtrail.unwrap_or("http://127.0.0.1:9");
    v.push(("AWS_ENDPOINT_URL_CLOUDTRAIL".to_string(), ct.to_string()));
    // The same test endpoint answers Organizations' ListAccounts.
    v.push(("AWS_ENDPOINT_URL_ORGANIZATIONS".to_string(), ct.to_string()));
    // STS (acquire's caller identity) never leaves this machine either.
    v.push(("AWS_ENDPOINT_URL_STS".to_string(), ct.to_string()));
    // KMS state keys and Account's ListRegions too.
    v.push(("AWS_ENDPOINT_URL_KMS".to_string(), ct.to_string()));
    v.push(("AWS_ENDPOINT_URL_ACCOUNT".to_string(), ct.to_string()));
    // Alerts and Security Hub: a closed port unless a test starts them.
    for service in ["SNS", "EVENTBRIDGE", "SECURITYHUB"] {
        let url = "http://127.0.0.1:9".to_string();
        v.push((format!("AWS_ENDPOINT_URL_{service}"), url));
    }
    v
}

pub struct CountedRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with a clean AWS environment plus `env`.
pub async fn run_bin(args: &[&str], env: &[(String, String)]) -> CountedRun {
    let mut cmd = tokio::process::Command::new(
        option_env!("CARGO_BIN_EXE_trailproof").unwrap_or("trailproof"),
    );
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("trailproof took over 120 s")
        .unwrap();
    CountedRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Counts how many times `f` was called.
#[derive(Default)]
pub struct Counter(pub AtomicUsize);

/// Simulates a 6-hour trail from `start` into `dir` (3 log files an hour)
/// and uploads it to the S3 server as bucket `bucket`.
pub async fn sim_upload_at(
    s3: &S3Server,
    dir: &std::path::Path,
    bucket: &str,
    start: &str,
    extra: &[&str],
) {
    sim_upload_to(&s3.endpoint, dir, bucket, start, extra).await
}

/// [`sim_upload_at`] to any S3 endpoint (the versioned store's too).
pub async fn sim_upload_to(
    endpoint: &str,
    dir: &std::path::Path,
    bucket: &str,
    start: &str,
    extra: &[&str],
) {
    let mut args = vec![
        "simulate",
        "--out",
        dir.to_str().unwrap(),
        "--start-time",
        start,
        "--logs-per-hour",
        "3",
        "--records-per-log",
        "5",
        "--seed",
        "11",
        "--bucket",
        bucket,
        "--upload",
    ];
    if !extra.contains(&"--hours") {
        args.extend_from_slice(&["--hours", "6"]);
    }
    args.extend_from_slice(extra);
    let r = run_bin(&args, &aws_env(endpoint, None)).await;
    assert_eq!(
        r.code, 0,
        "simulate --upload failed: {}\n{}",
        r.stdout, r.stderr
    );
}

/// Runs trailproof with `--format json` among `args`; (exit status, report, stderr).
pub async fn json_run(args: &[&str], env: &[(String, String)]) -> (i32, serde_json::Value, String) {
    let r = run_bin(args, env).await;
    let mut v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    // Where the report came from (source, time) differs between runs of
    // the same verdicts: checked where it is the subject.
    let prov = v.as_object_mut().and_then(|o| o.remove("provenance"));
    assert!(
        prov.as_ref().is_some_and(|p| p["tool"].is_string()),
        "no provenance: {}",
        r.stdout
    );
    (r.code, v, r.stderr)
}
