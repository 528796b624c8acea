//! Hostile object keys inside a digest that *verifies*. A validly signed
//! digest is trusted and every log file it lists is fetched, so the local
//! store's key checks are the last line of defence: keys climbing out with
//! `..`, absolute keys, a NUL, a 3,000-character name, lookalike unicode and
//! symlinks leading out of DIR must each get a non-valid verdict, the run
//! must finish (exit 1, no panic), and nothing outside DIR may be read. The
//! planted file outside DIR holds real gzip with exactly the hash the digest
//! gives, so had it been read it would show as `valid`.
//!
//! A second test signs digests whose JSON is ambiguous (duplicate members,
//! bytes that are not UTF-8) and pins down what the validator makes of them.

use crate::support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::OnceLock;
use support::json_run;
use trailproof::simulate::signer::Signer;
use trailproof::simulate::{write_trail, SimOutput, SimSpec};
use trailproof::verify::digest::sha256_hex;
use trailproof::verify::gzip::{gzip, inflate_to_vec};
use trailproof::verify::layout::{log_key, AccountRoot};
use trailproof::verify::time::parse_user_time;

const START: &str = "2026-03-01T00:00:00Z";
const END: &str = "2026-03-01T02:00:00Z";
const BUCKET: &str = "hostile-verified";
const ACCOUNT: &str = "123456789012";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
/// The folder holding the newest hour's log files.
const LOG_DIR: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01";

/// One RSA key for every trail: generating it is the slow part, and signing
/// with it in-process is what lets a test re-sign an edited digest (a
/// `trailproof simulate` subprocess never reveals its private key).
fn signer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::generate().unwrap())
}

/// A two-hour trail, two log files an hour, signed with [`signer`]; its
/// public key is in DIR/public-keys.json.
fn trail() -> (tempfile::TempDir, SimOutput) {
    let dir = tempfile::tempdir().unwrap();
    let out = write_trail(&SimSpec {
        out: dir.path().to_path_buf(),
        start: parse_user_time(START).unwrap(),
        hours: 2,
        logs_per_hour: 2,
        records_per_log: 3,
        bucket: BUCKET.into(),
        log_bucket: None,
        account: ACCOUNT.into(),
        trail_name: "sample-trail".into(),
        home_region: "us-east-1".into(),
        region: "us-east-1".into(),
        prefix: None,
        org_id: None,
        window_offset_seconds: 0,
        seed: Some(3),
        damage: vec![],
        damage_chains: Vec::new(),
        keys_file: None,
        switch_bucket: None,
        backfill: None,
        rotate_key: None,
        signer: Some(signer().clone()),
        no_gap_records: false,
        trail_account: None,
    })
    .unwrap();
    (dir, out)
}

/// Replaces the newest digest's inflated JSON by `edit(text)` and signs it
/// as CloudTrail would (same end time, location and previous signature), so
/// it verifies. The newest digest has no successor whose link would break.
/// Returns the digest's key.
fn resign_newest(dir: &Path, out: &SimOutput, edit: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let key = out.digest_keys.last().unwrap().clone();
    let path = dir.join(BUCKET).join(&key);
    let text = inflate_to_vec(&std::fs::read(&path).unwrap(), 1 << 24).unwrap();
    let doc: Value = serde_json::from_slice(&text).unwrap();
    let edited = edit(&text);
    let signature = signer()
        .sign_digest(
            doc["digestEndTime"].as_str().unwrap(),
            BUCKET,
            &key,
            &edited,
            doc["previousDigestSignature"].as_str(),
        )
        .unwrap();
    std::fs::write(&path, gzip(&edited)).unwrap();
    let meta = json!({"signature": signature, "signature-algorithm": "SHA256withRSA"});
    std::fs::write(
        format!("{}.metadata.json", path.display()),
        meta.to_string(),
    )
    .unwrap();
    key
}

/// `validate --local DIR --format json`: (exit status, report).
async fn validate(dir: &Path) -> (i32, Value) {
    let keys = dir.join("public-keys.json");
    let args = [
        "validate",
        "--local",
        dir.to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--trail-arn",
        ARN,
        "--s3-bucket",
        BUCKET,
        "--start-time",
        START,
        "--end-time",
        END,
        "--format",
        "json",
    ];
    let (code, v, err) = json_run(&args, &[]).await;
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(v["summary"]["exit_code"], code, "{err}");
    (code, v)
}

/// `status:problem` of the one verdict on `key` among `v[kind]`.
fn verdict(v: &Value, kind: &str, key: &str) -> String {
    let hits: Vec<&Value> = v[kind]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["key"] == key)
        .collect();
    assert_eq!(hits.len(), 1, "{kind} {key:?}: {} verdicts", hits.len());
    format!(
        "{}:{}",
        hits[0]["status"].as_str().unwrap(),
        hits[0]["problem"].as_str().unwrap_or("")
    )
}

#[tokio::test]
async fn hostile_keys_in_a_verified_digest_read_nothing_outside_dir() {
    let (dir, out) = trail();
    let bucket_dir = dir.path().join(BUCKET);
    // Real gzip outside DIR, and the hash the digest will give for it.
    let outside = tempfile::tempdir().unwrap();
    let outside_dir = outside.path().canonicalize().unwrap();
    let body = br#"{"Records":[]}"#;
    let planted = outside_dir.join("planted.json.gz");
    std::fs::write(&planted, gzip(body)).unwrap();
    let planted_hash = sha256_hex(body);
    let planted_abs = planted.to_str().unwrap().to_string();
    // A symlinked log file and a symlinked folder, both leading to it.
    let at = parse_user_time("2026-03-01T01:30:00Z").unwrap();
    let root = AccountRoot::new(None, None, ACCOUNT);
    let link_key = log_key(&root, "us-east-1", at, "SymlinkOutOfDir1");
    std::os::unix::fs::symlink(&planted, bucket_dir.join(&link_key)).unwrap();
    std::os::unix::fs::symlink(&outside_dir, bucket_dir.join(LOG_DIR).join("escape.d")).unwrap();
    // A real log file and its hash: a key that stops at its NUL would verify.
    let real = out.log_keys.last().unwrap().clone();
    let real_gz = std::fs::read(bucket_dir.join(&real)).unwrap();
    let real_hash = sha256_hex(&inflate_to_vec(&real_gz, 1 << 24).unwrap());
    let zeros = "0".repeat(64);

    // (what, key, hashValue, expected verdict)
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "`..` segments",
            format!("{LOG_DIR}/../../../../../../../../etc/passwd"),
            zeros.clone(),
            "invalid:read_error",
        ),
        (
            "`..` segments reaching the planted file",
            format!("{LOG_DIR}/{}{}", "../".repeat(64), &planted_abs[1..]),
            planted_hash.clone(),
            "invalid:read_error",
        ),
        (
            "absolute key",
            "/etc/passwd".into(),
            zeros.clone(),
            "invalid:read_error",
        ),
        (
            "absolute key of the planted file",
            planted_abs.clone(),
            planted_hash.clone(),
            "invalid:read_error",
        ),
        (
            "NUL after a real key",
            format!("{real}\0.json.gz"),
            real_hash,
            "invalid:read_error",
        ),
        (
            "3,000-character file name",
            format!("{LOG_DIR}/{}.json.gz", "a".repeat(3000)),
            zeros.clone(),
            "invalid:read_error",
        ),
        (
            "lookalike dots and slashes, RTL override, ESC, BOM",
            format!(
                "{LOG_DIR}/{}etc\u{2215}passwd\u{202E}zg.nosj\u{1b}[2J\u{FEFF}",
                "\u{FF0E}\u{FF0E}\u{FF0F}".repeat(8)
            ),
            zeros.clone(),
            "invalid:not_found",
        ),
        (
            "symlinked file leading out",
            link_key,
            planted_hash.clone(),
            "invalid:read_error",
        ),
        (
            "symlinked folder leading out",
            format!("{LOG_DIR}/escape.d/planted.json.gz"),
            planted_hash,
            "invalid:read_error",
        ),
    ];
    let digest_key = resign_newest(dir.path(), &out, |text| {
        let mut doc: Value = serde_json::from_slice(text).unwrap();
        for (_, key, hash, _) in &cases {
            doc["logFiles"].as_array_mut().unwrap().push(json!({
                "s3Bucket": BUCKET, "s3Object": key, "hashValue": hash, "hashAlgorithm": "SHA-256"
            }));
        }
        doc.to_string().into_bytes()
    });

    let (code, v) = validate(dir.path()).await;
    assert_eq!(code, 1, "{v:#}");
    // The digest verified: its entries were trusted and followed.
    assert_eq!(verdict(&v, "digests", &digest_key), "valid:");
    for (what, key, _, want) in &cases {
        assert_eq!(verdict(&v, "logs", key), *want, "{what}: {key:?}");
    }
    // The honest files still verify, and nothing else does.
    for key in &out.log_keys {
        assert_eq!(verdict(&v, "logs", key), "valid:", "{key}");
    }
    let valid = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "valid")
        .count();
    assert_eq!(valid, out.log_keys.len(), "{v:#}");
}

/// Where an edit goes in the digest's JSON text.
enum At {
    /// Right after the opening brace (before every member).
    Front,
    /// Right before the closing brace (after every member).
    Back,
    /// First in the logFiles array.
    LogFiles,
}

fn splice(text: &[u8], at: &At, extra: &[u8]) -> Vec<u8> {
    assert!(text.starts_with(b"{") && text.ends_with(b"}"));
    let i = match at {
        At::Front => 1,
        At::Back => text.len() - 1,
        At::LogFiles => {
            let open = b"\"logFiles\":[";
            text.windows(open.len()).position(|w| w == open).unwrap() + open.len()
        }
    };
    [&text[..i], extra, &text[i..]].concat()
}

/// A signed digest's JSON may repeat a member. `Digest::parse`
/// (src/digest.rs) reads a `serde_json::Value`, whose map keeps the *last*
/// value of a repeated member (serde_json's Value visitor inserts every
/// member, and insert overwrites): deterministic, and the same reading as
/// Python's `json.loads` in the AWS CLI, so both tools check the same
/// fingerprint and list. The signature covers the exact bytes, so only the
/// key's holder can write such a digest; the safe behaviour asserted here is
/// that the shadowed member is never trusted: a bogus fingerprint last fails
/// the digest, and files listed only by a shadowed logFiles are reported
/// unreferenced, not valid. Bytes that are not UTF-8 (an overlong `/`, a
/// lone surrogate escape) make the digest a format error, and its files
/// unreferenced.
#[tokio::test]
async fn ambiguous_json_in_a_signed_digest_is_read_one_way() {
    let fake_fp: &[u8] = b"\"digestPublicKeyFingerprint\":\"00000000000000000000000000000000\"";
    // (what, where, inserted bytes, newest digest, its two log files, exit)
    let cases = [
        (
            "bogus fingerprint first, real one last",
            At::Front,
            [fake_fp, &b","[..]].concat(),
            "valid:",
            "valid:",
            0,
        ),
        (
            "real fingerprint first, bogus one last",
            At::Back,
            [&b","[..], fake_fp].concat(),
            "invalid:public_key",
            "unverified:digest_invalid",
            1,
        ),
        (
            "logFiles shadowed by an empty logFiles",
            At::Back,
            b",\"logFiles\":[]".to_vec(),
            "valid:",
            "unverified:unreferenced",
            1,
        ),
        (
            "overlong UTF-8 `/` in a key",
            At::LogFiles,
            b"{\"s3Bucket\":\"hostile-verified\",\"s3Object\":\"AWSLogs\xC0\xAF..\xC0\xAF..\xC0\xAFetc\xC0\xAFpasswd\",\"hashValue\":\"00\"},".to_vec(),
            "invalid:format",
            "unverified:unreferenced",
            1,
        ),
        (
            "lone surrogate escape in a key",
            At::LogFiles,
            b"{\"s3Bucket\":\"hostile-verified\",\"s3Object\":\"AWSLogs/\\udc80.json.gz\",\"hashValue\":\"00\"},".to_vec(),
            "invalid:format",
            "unverified:unreferenced",
            1,
        ),
    ];
    for (what, at, extra, want_digest, want_logs, want_code) in &cases {
        let (dir, out) = trail();
        let key = resign_newest(dir.path(), &out, |text| splice(text, at, extra));
        let (code, v) = validate(dir.path()).await;
        assert_eq!(verdict(&v, "digests", &key), *want_digest, "{what}\n{v:#}");
        for log in &out.log_keys[out.log_keys.len() - 2..] {
            assert_eq!(verdict(&v, "logs", log), *want_logs, "{what}: {log}");
        }
        assert_eq!(code, *want_code, "{what}\n{v:#}");
    }
}
