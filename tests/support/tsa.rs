//! An RFC 3161 time-stamp authority on 127.0.0.1: `openssl ts -reply`
//! behind a small HTTP server, with its own root and time-stamping
//! certificate made by openssl, so tokens are checked with `openssl ts
//! -verify -CAfile root.pem` exactly as an auditor would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A running authority.
pub struct Tsa {
    pub url: String,
    /// The root certificate (PEM) its tokens chain to.
    pub root: PathBuf,
    /// Answer HTTP 500 while set.
    pub failing: Arc<AtomicBool>,
    /// Flip the answer's last byte (the signature's) while set.
    pub corrupt: Arc<AtomicBool>,
    /// Requests answered.
    pub served: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// How the authority signs: its key (`openssl req -newkey` arguments)
/// and its digest.
#[derive(Clone, Copy)]
pub struct Signing {
    pub key: [&'static str; 3],
    pub digest: &'static str,
}

/// ECDSA P-256 with SHA-256.
pub const P256_SHA256: Signing = Signing {
    key: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    digest: "sha256",
};
/// ECDSA P-384 with SHA-384.
pub const P384_SHA384: Signing = Signing {
    key: ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    digest: "sha384",
};
/// RSA 2048 with SHA-512.
pub const RSA_SHA512: Signing = Signing {
    key: ["rsa:2048", "-pkeyopt", "rsa_keygen_bits:2048"],
    digest: "sha512",
};

/// A root CA, a time-stamping certificate it issued, and openssl's
/// `[tsa]` configuration, in `dir`.
fn make_authority(dir: &Path, signing: Signing) {
    let [kind, opt, value] = signing.key;
    let ec = ["-newkey", kind, opt, value, "-nodes"];
    let mut root = vec!["req", "-x509", "-keyout", "ca.key", "-out", "root.pem"];
    root.extend(ec);
    root.extend(["-days", "3650", "-subj", "/CN=trailproof test root"]);
    root.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    root.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, &root);
    let mut csr = vec!["req", "-keyout", "tsa.key", "-out", "tsa.csr"];
    csr.extend(ec);
    csr.extend(["-subj", "/CN=trailproof test TSA"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=critical,timeStamping\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tsa.pem",
            "-days",
            "3650",
            "-extfile",
            "ext.cnf",
        ],
    );
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let (d, digest) = (dir.display(), signing.digest);
    std::fs::write(
        dir.join("tsa.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {d}/serial\n\
             crypto_device = builtin\nsigner_cert = {d}/tsa.pem\nsigner_key = {d}/tsa.key\n\
             signer_digest = {digest}\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n\
             accuracy = secs:1\nclock_precision_digits = 3\nordering = yes\ntsa_name = yes\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n"
        ),
    )
    .unwrap();
}

/// `openssl ts -reply` for one query (one at a time: the serial file).
fn reply(dir: &Path, query: &[u8], n: usize) -> Option<Vec<u8>> {
    let q = dir.join(format!("q{n}.tsq"));
    let r = dir.join(format!("r{n}.tsr"));
    std::fs::write(&q, query).ok()?;
    let out = Command::new("openssl")
        .args(["ts", "-reply", "-config"])
        .arg(dir.join("tsa.cnf"))
        .arg("-queryfile")
        .arg(&q)
        .arg("-out")
        .arg(&r)
        .output()
        .ok()?;
    out.status.success().then(|| std::fs::read(&r).ok())?
}

/// What every connection of the authority shares.
struct Shared {
    dir: PathBuf,
    failing: Arc<AtomicBool>,
    corrupt: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    /// One `openssl ts -reply` at a time (its serial file).
    one: tokio::sync::Mutex<()>,
}

/// The authority's answer to one query: None is HTTP 500.
async fn answer(shared: Arc<Shared>, query: Vec<u8>) -> Option<Vec<u8>> {
    if shared.failing.load(Ordering::SeqCst) {
        return None;
    }
    let _one = shared.one.lock().await;
    let n = shared.served.fetch_add(1, Ordering::SeqCst);
    let dir = shared.dir.clone();
    let mut body = tokio::task::spawn_blocking(move || reply(&dir, &query, n))
        .await
        .ok()
        .flatten()?;
    if let (true, Some(last)) = (shared.corrupt.load(Ordering::SeqCst), body.last_mut()) {
        // The last byte is the signature's.
        *last ^= 1;
    }
    Some(body)
}

/// Starts the authority on 127.0.0.1:0.
pub async fn start() -> Tsa {
    start_signing(P256_SHA256).await
}

/// Starts an authority that signs with `signing`.
pub async fn start_signing(signing: Signing) -> Tsa {
    let dir = tempfile::tempdir().unwrap();
    make_authority(dir.path(), signing);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let shared = Arc::new(Shared {
        dir: dir.path().to_path_buf(),
        failing: Arc::new(AtomicBool::new(false)),
        corrupt: Arc::new(AtomicBool::new(false)),
        served: Arc::new(AtomicUsize::new(0)),
        one: tokio::sync::Mutex::new(()),
    });
    let tsa = Tsa {
        url,
        root: dir.path().join("root.pem"),
        failing: shared.failing.clone(),
        corrupt: shared.corrupt.clone(),
        served: shared.served.clone(),
        _dir: dir,
    };
    super::serve_each(listener, move |req| {
        let shared = shared.clone();
        async move {
            let query = super::body_bytes(req).await;
            let resp = match answer(shared, query).await {
                Some(body) => http::Response::builder()
                    .status(200)
                    .header("content-type", "application/timestamp-reply")
                    .body(http_body_util::Full::new(bytes::Bytes::from(body))),
                None => http::Response::builder()
                    .status(500)
                    .body(http_body_util::Full::new(bytes::Bytes::new())),
            };
            resp.unwrap()
        }
    });
    tsa
}

/// openssl's verdict on `FILE.tsr` against the root.
pub fn openssl_verifies(file: &Path, root: &Path) -> bool {
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-data"])
        .arg(file)
        .arg("-in")
        .arg(format!("{}.tsr", file.display()))
        .arg("-CAfile")
        .arg(root)
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verification: OK")
}
