//! `--signing-key`: every file a run writes carries a detached signature
//! that openssl itself accepts (`openssl dgst -sha256 -verify signer.pem
//! -signature FILE.sig FILE`), with RSA and ECDSA P-256 keys made by
//! openssl; an altered file fails openssl and `verify-signature` alike.

use crate::support::trail::{self, run};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
/// `openssl genpkey` arguments for the two kinds of key.
const RSA_2048: [&str; 4] = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
const P256: [&str; 4] = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// The trail the signing tests validate.
fn six_hours() -> trail::Trail {
    trail::simulate(&["--start-time", "2026-03-01", "--hours", "6", "--seed", "5"])
}

/// A package folder `name` in `work`: the trail's bucket and its keys.
fn package(t: &trail::Trail, work: &Path, name: &str) -> std::path::PathBuf {
    let pkg = work.join(name);
    std::fs::create_dir(&pkg).unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(t.bucket_dir())
        .arg(&pkg)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::copy(t.keys(), pkg.join("public-keys.json")).unwrap();
    pkg
}

/// A private key made by openssl (`genpkey`), PEM.
fn openssl_key(dir: &Path, name: &str, args: &[&str]) -> String {
    let path = dir.join(name);
    let mut cmd = Command::new("openssl");
    cmd.args(["genpkey", "-out", path.to_str().unwrap()])
        .args(args);
    assert!(cmd.status().unwrap().success(), "openssl genpkey {args:?}");
    format!("file:{}", path.display())
}

/// openssl's own verdict on a detached signature.
fn openssl_verifies(file: &Path) -> bool {
    let signer = file.with_file_name("signer.pem");
    let sig = format!("{}.sig", file.display());
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", signer.to_str().unwrap()])
        .args(["-signature", &sig, file.to_str().unwrap()])
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

fn validate(t: &trail::Trail, out: &Path, key: &str, extra: &[&str]) -> trail::Run {
    let flags = [&["--format", "json", "--signing-key", key][..], extra].concat();
    trail::validate_local(t, "2026-03-01T06:00:00Z", &out.join("report.json"), &flags)
}

#[test]
fn every_file_a_run_writes_verifies_with_openssl() {
    let t = six_hours();
    let keys = tempfile::tempdir().unwrap();
    let rsa = openssl_key(keys.path(), "rsa.pem", &RSA_2048);
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let (html, metrics, cp) = (o.join("r.html"), o.join("m.prom"), o.join("cp.json"));
    let extra = [
        "--html",
        html.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
    ];
    let r = validate(&t, o, &rsa, &extra);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["report.json", "r.html", "m.prom", "cp.json"] {
        assert!(openssl_verifies(&o.join(f)), "{f}");
    }
    // The next night reads the checkpoint only if the signing key signed
    // it (no state key: the run would sign what follows from it).
    let again = validate(&t, o, &rsa, &extra);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let mut edited = std::fs::read(&cp).unwrap();
    edited.push(b'\n');
    std::fs::write(&cp, &edited).unwrap();
    let refused = validate(&t, o, &rsa, &extra);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("not signed by the signing key"),
        "{}",
        refused.stderr
    );
    // The report names the signer by its SubjectPublicKeyInfo's SHA-256.
    let der = Command::new("openssl")
        .args([
            "pkey",
            "-pubin",
            "-in",
            o.join("signer.pem").to_str().unwrap(),
            "-outform",
            "DER",
        ])
        .output()
        .unwrap()
        .stdout;
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["provenance"]["signer"],
        hex::encode(Sha256::digest(&der))
    );
    // It names what it rests on: the command line and each input's SHA-256.
    let keys_sha = hex::encode(Sha256::digest(std::fs::read(t.keys()).unwrap()));
    let inputs = report["provenance"]["inputs"].as_array().unwrap();
    let named =
        |i: &&serde_json::Value| i["flag"] == "--public-keys" && i["sha256"] == keys_sha.as_str();
    assert!(inputs.iter().any(|i| named(&i)), "{report:#}");
    assert_eq!(report["provenance"]["command"][1], "validate", "{report:#}");
    // An altered report fails openssl and verify-signature alike.
    let report = o.join("report.json");
    let signer = o.join("signer.pem");
    let check = || {
        run(&[
            "verify-signature",
            report.to_str().unwrap(),
            "--public-key",
            signer.to_str().unwrap(),
        ])
    };
    assert_eq!(check().code, 0, "{}", check().stderr);
    // Whose key it is comes from elsewhere: the fingerprint the operator
    // published.
    let fp = hex::encode(Sha256::digest(&der));
    let with = |fp: &str| {
        let args = ["verify-signature", report.to_str().unwrap(), "--public-key"];
        run(&[&args[..], &[signer.to_str().unwrap(), "--fingerprint", fp]].concat())
    };
    assert_eq!(with(&fp).code, 0);
    assert_eq!(with(&"0".repeat(64)).code, 1);
    let mut bytes = std::fs::read(&report).unwrap();
    bytes.push(b' ');
    std::fs::write(&report, bytes).unwrap();
    assert!(!openssl_verifies(&report));
    assert_eq!(check().code, 1);
}

#[test]
fn an_ecdsa_key_signs_and_a_bad_key_is_one_sentence() {
    let t = six_hours();
    let keys = tempfile::tempdir().unwrap();
    let ec = openssl_key(keys.path(), "ec.pem", &P256);
    let out = tempfile::tempdir().unwrap();
    let r = validate(&t, out.path(), &ec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(openssl_verifies(&out.path().join("report.json")));
    let weak = openssl_key(
        keys.path(),
        "weak.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    );
    let garbage = keys.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let garbage = format!("file:{}", garbage.display());
    for key in [weak.as_str(), garbage.as_str(), "rsa.pem"] {
        let r = validate(&t, out.path(), key, &[]);
        assert_eq!(r.code, 2, "{key}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

/// A KMS SIGN_VERIFY key signs through KMS (the test endpoint holds the
/// private key): openssl accepts the signature with the public key KMS
/// gave; a key KMS refuses is exit 2 before the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kms_key_signs_through_kms() {
    use crate::support::cloudtrail::{self, CloudTrailState};
    let t = six_hours();
    let keys = tempfile::tempdir().unwrap();
    let pem = openssl_key(keys.path(), "kms.pem", &RSA_2048);
    let pem = std::fs::read_to_string(pem.trim_start_matches("file:")).unwrap();
    let state = std::sync::Arc::new(CloudTrailState {
        signing_key: Some(pem),
        ..Default::default()
    });
    let endpoint = cloudtrail::start(state.clone()).await;
    let env = crate::support::aws_env("http://127.0.0.1:9", Some(&endpoint));
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-sign";
    let root = t.root().to_str().unwrap().to_string();
    let trail_keys = t.keys();
    let args = |key: &str| {
        vec![
            "validate".to_string(),
            "--local".into(),
            root.clone(),
            "--trail-arn".into(),
            ARN.into(),
            "--public-keys".into(),
            trail_keys.to_str().unwrap().into(),
            "--start-time".into(),
            "2026-03-01T00:00:00Z".into(),
            "--end-time".into(),
            "2026-03-01T06:00:00Z".into(),
            "--format".into(),
            "json".into(),
            "--report-file".into(),
            report.to_str().unwrap().into(),
            "--signing-key".into(),
            key.into(),
        ]
    };
    let a = args(arn);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = crate::support::run_bin(&refs, &env).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(openssl_verifies(&report));
    assert_eq!(state.count("Sign"), 1);
    // KMS refusing the key: one sentence, exit 2.
    let denied = CloudTrailState::default();
    let endpoint = cloudtrail::start(std::sync::Arc::new(denied)).await;
    let env = crate::support::aws_env("http://127.0.0.1:9", Some(&endpoint));
    let r = crate::support::run_bin(&refs, &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("GetPublicKey"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

/// Seals `dir` as acquire does (`sha256sum` lines over every file) and
/// puts VERIFY.sh in it.
fn seal(dir: &Path) {
    std::fs::write(
        dir.join("VERIFY.sh"),
        trailproof::report::evidence::VERIFY_SH,
    )
    .unwrap();
    let mut files = Vec::new();
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = format!("{rel}{}", e.file_name().to_str().unwrap());
            match e.file_type().unwrap().is_dir() {
                true => walk(&e.path(), &format!("{name}/"), out),
                false if name != "SHA256SUMS" => out.push(name),
                false => {}
            }
        }
    }
    walk(dir, "", &mut files);
    files.sort();
    let sums: String = files
        .iter()
        .map(|f| {
            format!(
                "{}  {f}\n",
                hex::encode(Sha256::digest(std::fs::read(dir.join(f)).unwrap()))
            )
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

/// `sh VERIFY.sh` with nothing on PATH but the shell, openssl, gzip,
/// sha256sum, jq, sed, grep and coreutils.
fn verify_sh(dir: &Path) -> (i32, String) {
    verify_sh_with(dir, &[])
}

/// `verify_sh` with more of the verifier's settings (`TSA_CAFILE`,
/// `SIGNER_SHA256`).
pub(crate) fn verify_sh_with(dir: &Path, settings: &[(&str, &str)]) -> (i32, String) {
    let bin = dir.parent().unwrap().join("bin");
    if !bin.exists() {
        std::fs::create_dir(&bin).unwrap();
        let tools = [
            "sh",
            "openssl",
            "gzip",
            "sha256sum",
            "jq",
            "sed",
            "grep",
            "cut",
            "head",
            "tr",
            "sort",
            "mktemp",
            "rm",
            "dirname",
            "base64",
            "basenc",
            "md5sum",
            "du",
            "awk",
            "date",
        ];
        for t in tools {
            let found = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(t))
                .find(|p| p.exists());
            std::os::unix::fs::symlink(found.unwrap_or_else(|| panic!("no {t}")), bin.join(t))
                .unwrap();
        }
    }
    // The fingerprints a verifier's own ListPublicKeys would give.
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("public-keys.json")).unwrap()).unwrap();
    let fingerprints: Vec<&str> = keys["PublicKeyList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["Fingerprint"].as_str())
        .collect();
    let out = Command::new(bin.join("sh"))
        .arg(dir.join("VERIFY.sh"))
        .env_clear()
        .env("PATH", &bin)
        .env("CLOUDTRAIL_FINGERPRINTS", fingerprints.join(" "))
        .envs(settings.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_package_verifies_itself_with_standard_tools() {
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "4", "--seed", "9"]);
    let work = tempfile::tempdir().unwrap();
    let pkg = package(&t, work.path(), "pkg");
    seal(&pkg);
    let (code, out) = verify_sh(&pkg);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED") && !out.contains("FAILED"), "{out}");
    assert!(out.contains("OK      link to"), "{out}");
    // Without the verifier's own fingerprints, the keys are the package's
    // word: exit 3, said.
    let bare = Command::new("sh")
        .arg(pkg.join("VERIFY.sh"))
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(3), "{bare:?}");
    // A log file changed and the package sealed again: the digest's
    // signed SHA-256 still names the original.
    let log = pkg.join(&t.out.bucket).join(&t.out.log_keys[1]);
    std::fs::write(&log, trailproof::verify::gzip::gzip(b"{\"Records\":[]}")).unwrap();
    seal(&pkg);
    let (code, out) = verify_sh(&pkg);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not the one the digest signs"), "{out}");
    // The seal's list edited: `sha256sum -c` fails.
    let sums = std::fs::read_to_string(pkg.join("SHA256SUMS")).unwrap();
    std::fs::write(pkg.join("SHA256SUMS"), sums.replacen('0', "1", 1)).unwrap();
    assert_eq!(verify_sh(&pkg).0, 1);
}

#[test]
fn a_forged_digest_fails_the_package_check() {
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "3", "--seed", "9"]);
    let work = tempfile::tempdir().unwrap();
    let pkg = package(&t, work.path(), "pkg");
    // A digest rewritten (one log file dropped from it) and sealed again.
    let digest = pkg.join(&t.out.bucket).join(&t.out.digest_keys[1]);
    let gz = std::fs::read(&digest).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&trailproof::verify::gzip::inflate_to_vec(&gz, 1 << 24).unwrap())
            .unwrap();
    doc["logFiles"].as_array_mut().unwrap().pop();
    std::fs::write(
        &digest,
        trailproof::verify::gzip::gzip(doc.to_string().as_bytes()),
    )
    .unwrap();
    seal(&pkg);
    let (code, out) = verify_sh(&pkg);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("its signature does not verify"), "{out}");
}

/// A package from which a middle digest was deleted (the altered log file
/// it listed goes unchecked with it), or whose public key was swapped for
/// another under the genuine key's fingerprint, fails however it is sealed.
#[test]
fn a_deleted_digest_or_a_swapped_key_fails_the_package_check() {
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "4", "--seed", "9"]);
    let work = tempfile::tempdir().unwrap();
    let pkg = package(&t, work.path(), "deleted");
    let middle = pkg.join(&t.out.bucket).join(&t.out.digest_keys[1]);
    std::fs::remove_file(&middle).unwrap();
    std::fs::remove_file(format!("{}.metadata.json", middle.display())).unwrap();
    seal(&pkg);
    let (code, out) = verify_sh(&pkg);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a signed digest names it, and it is not in the package"),
        "{out}"
    );
    let pkg = package(&t, work.path(), "swapped");
    let path = pkg.join("public-keys.json");
    let mut keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let other = trail::simulate_own_key(&["--start-time", "2026-03-01", "--hours", "1"]);
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(other.keys()).unwrap()).unwrap();
    keys["PublicKeyList"][0]["Value"] = theirs["PublicKeyList"][0]["Value"].clone();
    std::fs::write(&path, keys.to_string()).unwrap();
    seal(&pkg);
    let (code, out) = verify_sh(&pkg);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("its value is not the key of that fingerprint"),
        "{out}"
    );
}
