//! `trailproof acquire`: evidence copied from S3 (and CloudTrail) into a
//! directory validates offline with the live run's verdicts; `sha256sum -c`
//! accepts it; a file tampered with afterwards is caught both ways; a
//! second acquire into the same directory fetches nothing again.

use crate::support;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::process::Command;
use std::sync::Arc;
use support::cloudtrail::CloudTrailState;
use support::{aws_env, json_run, run_bin, sim_upload_at, start_s3};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";

/// The sample trail as DescribeTrails describes it, delivering to `bucket`.
fn sample_trail(bucket: &str) -> Value {
    json!({
        "Name": "sample-trail", "TrailARN": ARN, "S3BucketName": bucket,
        "HomeRegion": "us-east-1", "IsMultiRegionTrail": false,
        "IsOrganizationTrail": false, "LogFileValidationEnabled": true
    })
}

/// Every object's verdict, independent of order.
fn verdicts(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = ["digests", "logs", "unexpected"]
        .iter()
        .flat_map(|k| v[k].as_array().cloned().unwrap_or_default())
        .map(|o| format!("{} {} {}", o["key"], o["status"], o["problem"]))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquired_evidence_validates_offline_with_the_live_verdicts() {
    let s3 = start_s3().await;
    let sim = tempfile::tempdir().unwrap();
    let damage = ["--damage", "tamper-log@2", "--damage", "gap@4"];
    sim_upload_at(&s3, sim.path(), "evidence", "2026-03-01T00:00:00Z", &damage).await;
    let keys = CloudTrailState::keys_from_file(&sim.path().join("public-keys.json"));
    let state = Arc::new(CloudTrailState {
        keys,
        trails: vec![sample_trail("evidence")],
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let window = [
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
    ];
    let mut live = vec!["validate", "--format", "json"];
    live.extend_from_slice(&window);
    let (code_live, v_live, err) = json_run(&live, &env).await;
    assert_eq!(code_live, 1, "{err}");

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("evidence-dir");
    // The operator's state key authenticates the directory's manifest.
    let key = out.path().join("state.key");
    std::fs::write(&key, [3u8; 32]).unwrap();
    let key_arg = format!("file:{}", key.display());
    // And the operator's signing key signs it for anyone with openssl.
    let signing = out.path().join("signing.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-out", signing.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let signing_arg = format!("file:{}", signing.display());
    let mut acquire = vec![
        "acquire",
        "--out",
        dir.to_str().unwrap(),
        "--state-key",
        &key_arg,
        "--signing-key",
        &signing_arg,
    ];
    acquire.extend_from_slice(&window);
    let r = run_bin(&acquire, &env).await;
    assert_eq!(
        r.code, 1,
        "acquire gives the live run's status: {}",
        r.stderr
    );
    for f in [
        "public-keys.json",
        "trail.json",
        "manifest.json",
        "manifest.mac",
        "SHA256SUMS",
        "live-report.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // The package checks itself with standard tools: the tampered log
    // file fails it, the operator's signatures pass.
    let checked = std::process::Command::new("sh")
        .arg(dir.join("VERIFY.sh"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{said}");
    assert!(said.contains("is not the one the digest signs"), "{said}");
    assert!(
        said.contains("OK      manifest.json: signed by signer.pem"),
        "{said}"
    );
    for signed in ["manifest.json", "SHA256SUMS", "live-report.json"] {
        let f = dir.join(signed);
        let verified = std::process::Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-verify",
                dir.join("signer.pem").to_str().unwrap(),
            ])
            .args([
                "-signature",
                &format!("{}.sig", f.display()),
                f.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(verified.status.success(), "{signed}: {verified:?}");
    }
    // The manifest pins the version of every object it copied from S3.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let copied: Vec<&serde_json::Value> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().contains("/AWSLogs/"))
        // A digest's metadata file is the local layout's, not an object.
        .filter(|f| !f["path"].as_str().unwrap().ends_with(".metadata.json"))
        .collect();
    assert!(!copied.is_empty());
    assert!(
        copied
            .iter()
            .all(|f| f["etag"].as_str().is_some_and(|e| !e.is_empty())),
        "{manifest:#}"
    );

    // Without the key, DIR's keys and records are not evidence.
    let mut unkeyed = vec![
        "validate",
        "--format",
        "json",
        "--local",
        dir.to_str().unwrap(),
    ];
    unkeyed.extend_from_slice(&window);
    let r = run_bin(&unkeyed, &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--state-key"), "{}", r.stderr);

    // Offline, with nothing but DIR and the key: the same verdicts.
    let mut offline = vec![
        "validate",
        "--format",
        "json",
        "--local",
        dir.to_str().unwrap(),
        "--state-key",
        &key_arg,
    ];
    offline.extend_from_slice(&window);
    let (code, v_off, err) = json_run(&offline, &[]).await;
    assert_eq!(code, code_live, "{err}");
    assert_eq!(verdicts(&v_off), verdicts(&v_live));
    assert_eq!(v_off["gaps"][0]["cause"], "logging_stopped");
    // The window is older than event history's 90 days: the gap's events
    // are not known, and the report says why.
    let live_spot = &v_live["blind_spots"][0];
    assert!(
        live_spot["events"].is_null()
            && live_spot["note"]
                .to_string()
                .contains("older than event history's 90 days"),
        "{live_spot}"
    );
    // What event history answered for the gap is the live run's, said so.
    let spots = v_off["blind_spots"].as_array().unwrap();
    assert_eq!(spots.len(), v_live["blind_spots"].as_array().unwrap().len());
    assert!(
        !spots.is_empty()
            && spots[0]["note"]
                .to_string()
                .contains("as event history answered the acquisition's live run"),
        "{spots:?}"
    );
    assert!(v_off["notes"]
        .to_string()
        .contains("authenticated by the state key"));

    // Records edited after acquisition: not used, and said.
    let events = dir.join("lookup-events.json");
    let original = std::fs::read(&events).unwrap();
    std::fs::write(&events, r#"{"Events": []}"#).unwrap();
    let (_, v_edit, _) = json_run(&offline, &[]).await;
    assert!(
        v_edit["notes"]
            .to_string()
            .contains("differ from what the manifest records"),
        "{:#}",
        v_edit["notes"]
    );
    std::fs::write(&events, original).unwrap();

    // The sealed top-level files of another acquisition under the same key
    // (another window) put in DIR's place: refused, one sentence.
    let other = out.path().join("other-window");
    let acquire_other = vec![
        "acquire",
        "--out",
        other.to_str().unwrap(),
        "--state-key",
        &key_arg,
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T02:00:00Z",
        "--end-time",
        "2026-03-01T03:00:00Z",
    ];
    let r = run_bin(&acquire_other, &env).await;
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let top = [
        "manifest.json",
        "manifest.mac",
        "public-keys.json",
        "lookup-events.json",
        "live-report.json",
        "trail.json",
        "SHA256SUMS",
    ];
    let saved: Vec<Vec<u8>> = top
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    for f in top {
        std::fs::copy(other.join(f), dir.join(f)).unwrap();
    }
    let r = run_bin(&offline, &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does not cover"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    for (f, bytes) in top.iter().zip(saved) {
        std::fs::write(dir.join(f), bytes).unwrap();
    }
    // A window reaching before the acquired one, and another trail.
    let mut earlier = offline.clone();
    let at = earlier
        .iter()
        .position(|a| *a == "2026-03-01T00:00:00Z")
        .unwrap();
    earlier[at] = "2026-02-28T23:00:00Z";
    let r = run_bin(&earlier, &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does not cover"), "{}", r.stderr);

    kms_state_key_seals_the_manifest(&out, &window, &env, &state, &v_live).await;

    let sums = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );

    // A second acquire fetches nothing it already holds.
    let object_gets = || {
        s3.faults
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|q| q.starts_with("GET /evidence/AWSLogs/"))
            .count()
    };
    s3.faults.requests.lock().unwrap().clear();
    let r = run_bin(&acquire, &env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(object_gets(), 0, "resumed acquisition read objects again");

    // A manifest the key does not authenticate (hand-edited) is no reason to
    // serve files from disk instead of S3: everything is read again.
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text} ")).unwrap();
    s3.faults.requests.lock().unwrap().clear();
    let r = run_bin(&acquire, &env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        object_gets() > 0,
        "an unauthenticated manifest stood in for S3"
    );

    // A file changed in DIR afterwards: sha256sum and the validation catch it.
    let log = v_live["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["status"] == "valid")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        dir.join("evidence").join(&log),
        trailproof::verify::gzip::gzip(b"{\"Records\":[]}"),
    )
    .unwrap();
    let sums = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!sums.status.success());
    let (code, v_off, _) = json_run(&offline, &[]).await;
    assert_eq!(code, 1);
    let problem = v_off["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == log.as_str())
        .unwrap()["problem"]
        .clone();
    assert_eq!(problem, "hash_mismatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquired_estate_validates_offline_with_the_live_verdicts() {
    let s3 = start_s3().await;
    let sim = tempfile::tempdir().unwrap();
    let arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail";
    let r = run_bin(
        &[
            "simulate",
            "--out",
            sim.path().to_str().unwrap(),
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--hours",
            "3",
            "--logs-per-hour",
            "2",
            "--seed",
            "6",
            "--bucket",
            "orgev",
            "--trail-name",
            "org-trail",
            "--organization-id",
            "o-abc1234567",
            "--accounts",
            "111111111111,222222222222",
            "--regions",
            "us-east-1,eu-west-1",
            "--damage",
            "delete-log@1",
            "--upload",
        ],
        &aws_env(&s3.endpoint, None),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&sim.path().join("public-keys.json")),
        trails: vec![json!({
            "Name": "org-trail", "TrailARN": arn, "S3BucketName": "orgev",
            "HomeRegion": "us-east-1", "IsMultiRegionTrail": true,
            "IsOrganizationTrail": true, "LogFileValidationEnabled": true
        })],
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let window = [
        "--trail-arn",
        arn,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T03:00:00Z",
        "--account-id",
        "all",
        "--region",
        "all",
    ];
    let mut live = vec!["validate", "--format", "json"];
    live.extend_from_slice(&window);
    let (code_live, v_live, err) = json_run(&live, &env).await;
    assert_eq!(code_live, 1, "{err}");
    let out = tempfile::tempdir().unwrap();
    let key = sim.path().join("state.key");
    std::fs::write(&key, [4u8; 48]).unwrap();
    let key_arg = format!("file:{}", key.display());
    let mut acquire = vec![
        "acquire",
        "--out",
        out.path().to_str().unwrap(),
        "--state-key",
        &key_arg,
    ];
    acquire.extend_from_slice(&window);
    let r = run_bin(&acquire, &env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut offline = vec![
        "validate",
        "--format",
        "json",
        "--local",
        out.path().to_str().unwrap(),
        "--state-key",
        &key_arg,
    ];
    offline.extend_from_slice(&window);
    let (code, v_off, err) = json_run(&offline, &[]).await;
    assert_eq!(code, 1, "{err}");
    let chains = |v: &Value| -> Vec<(String, Vec<String>)> {
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (format!("{} {}", c["account"], c["region"]), verdicts(c)))
            .collect()
    };
    assert_eq!(chains(&v_off), chains(&v_live));
    // A multi-region trail (DescribeTrails live, trail.json offline): every
    // region that needs no opt-in is expected in both accounts, so a region
    // deleted from every account would be a MISSING chain.
    assert_eq!(chains(&v_live).len(), 2 * 17);
    let missing = v_live["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["region"] == "ap-south-1")
        .all(|c| c["summary"]["exit_code"] == 3);
    assert!(missing, "an expected region with no folder is not proven");
    // An organization trail's enabled regions are not asked of the
    // management account: its members' opt-in regions differ.
    assert_eq!(state.count("ListRegions"), 0);
}

/// A KMS HMAC key as the state key: `acquire` seals the manifest with
/// GenerateMac, `validate --local` checks it with VerifyMac; another key's
/// seal does not verify, and KMS refusing is an error, not a verdict.
async fn kms_state_key_seals_the_manifest(
    out: &tempfile::TempDir,
    window: &[&str],
    env: &[(String, String)],
    state: &CloudTrailState,
    v_live: &Value,
) {
    let dir = out.path().join("kms-dir");
    let arn = "arn:aws:kms:us-east-1:111122223333:key/state";
    let mut acquire = vec![
        "acquire",
        "--out",
        dir.to_str().unwrap(),
        "--state-key",
        arn,
    ];
    acquire.extend_from_slice(window);
    let r = run_bin(&acquire, env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(state.count("GenerateMac"), 1);
    let offline = |key: &'static str| {
        let mut v = vec![
            "validate",
            "--format",
            "json",
            "--local",
            dir.to_str().unwrap(),
        ];
        v.extend_from_slice(&["--state-key", key]);
        v.extend_from_slice(window);
        v
    };
    let (code, v, err) = json_run(&offline(arn), env).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(verdicts(&v), verdicts(v_live));
    assert!(state.count("VerifyMac") >= 1);
    let r = run_bin(
        &offline("arn:aws:kms:us-east-1:111122223333:key/other"),
        env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not authenticated by the state key"),
        "{}",
        r.stderr
    );
    let r = run_bin(
        &offline("arn:aws:kms:us-east-1:111122223333:key/denied"),
        env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("KMS VerifyMac"), "{}", r.stderr);
    let r = run_bin(&offline("arn:aws:kms:us-east-1:1111:key/x"), env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a KMS key ARN"), "{}", r.stderr);
}

/// Every object of the trail deleted, then acquired: live, CloudTrail says
/// the trail delivers there (one `not_found` per delivered hour); offline,
/// the acquired description the manifest vouches for says the same, so the
/// missing folder is no typo (exit 3: the expected span cannot be stated
/// without CloudTrail's status), never exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquired_trail_whose_objects_were_all_deleted_is_no_typo() {
    let s3 = start_s3().await;
    let sim = tempfile::tempdir().unwrap();
    sim_upload_at(&s3, sim.path(), "wiped", "2026-03-01T00:00:00Z", &[]).await;
    std::fs::remove_dir_all(s3.root.path().join("wiped/AWSLogs/123456789012")).unwrap();
    let state = Arc::new(CloudTrailState {
        keys: CloudTrailState::keys_from_file(&sim.path().join("public-keys.json")),
        trails: vec![sample_trail("wiped")],
        latest_digest_delivery: Some(1772344800.0 + 300.0),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state.clone()).await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("wiped-dir");
    let key = out.path().join("state.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    let key_arg = format!("file:{}", key.display());
    let window = [
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T06:00:00Z",
    ];
    let mut acquire = vec![
        "acquire",
        "--out",
        dir.to_str().unwrap(),
        "--state-key",
        &key_arg,
    ];
    acquire.extend_from_slice(&window);
    let r = run_bin(&acquire, &env).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut offline = vec![
        "validate",
        "--local",
        dir.to_str().unwrap(),
        "--state-key",
        &key_arg,
    ];
    offline.extend_from_slice(&window);
    let r = run_bin(&offline, &[]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    // Without the key the description is not evidence: it may be a typo.
    let mut unkeyed = vec![
        "validate",
        "--local",
        dir.to_str().unwrap(),
        "--public-keys",
        sim.path()
            .join("public-keys.json")
            .to_str()
            .unwrap()
            .to_string()
            .leak(),
    ];
    unkeyed.extend_from_slice(&window);
    let r = run_bin(&unkeyed, &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// The issue's bar: a package signed with a PEM key and time-stamped by a
/// local authority verifies with `openssl dgst` and `openssl ts -verify`,
/// and its VERIFY.sh passes with only the standard tools on PATH; one log
/// file, one digest or the manifest altered afterwards fails it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_time_stamped_package_verifies_with_openssl_alone() {
    let s3 = start_s3().await;
    let sim = tempfile::tempdir().unwrap();
    sim_upload_at(&s3, sim.path(), "sealed", "2026-03-01T00:00:00Z", &[]).await;
    let keys = CloudTrailState::keys_from_file(&sim.path().join("public-keys.json"));
    let state = Arc::new(CloudTrailState {
        keys,
        trails: vec![sample_trail("sealed")],
        caller_account: Some("123456789012".into()),
        ..Default::default()
    });
    let ct = support::cloudtrail::start(state).await;
    let authority = support::tsa::start().await;
    let env = aws_env(&s3.endpoint, Some(&ct));
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pkg");
    let signing = out.path().join("signing.pem");
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .args(["-out", signing.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let signing_arg = format!("file:{}", signing.display());
    let args = [
        "acquire",
        "--out",
        dir.to_str().unwrap(),
        "--signing-key",
        &signing_arg,
        "--tsa-url",
        &authority.url,
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T02:00:00Z",
    ];
    let r = run_bin(&args, &env).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let root = authority.root.clone();
    for f in ["manifest.json", "SHA256SUMS", "live-report.json"] {
        let file = dir.join(f);
        let dgst = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(dir.join("signer.pem"))
            .arg("-signature")
            .arg(format!("{}.sig", file.display()))
            .arg(&file)
            .output()
            .unwrap();
        assert!(dgst.status.success(), "{f}: {dgst:?}");
        assert!(support::tsa::openssl_verifies(&file, &root), "{f}");
    }
    // The live report says who acquired it.
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("live-report.json")).unwrap()).unwrap();
    assert_eq!(
        report["provenance"]["caller"], "arn:aws:iam::123456789012:user/auditor",
        "{report:#}"
    );
    assert_eq!(report["provenance"]["timestamp_authority"], authority.url);
    // AWS's answers the run relied on, each with its request id.
    let answers: Value =
        serde_json::from_slice(&std::fs::read(dir.join("aws-answers.json")).unwrap()).unwrap();
    let answered = |op: &str| {
        answers["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["operation"] == op)
            .cloned()
            .unwrap_or_else(|| panic!("no {op} in {answers:#}"))
    };
    let keys = answered("ListPublicKeys");
    assert_eq!(keys["request_id"], "test-ListPublicKeys", "{keys:#}");
    assert!(keys["response"]["PublicKeyList"][0]["Fingerprint"].is_string());
    for op in [
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "GetCallerIdentity",
    ] {
        assert!(answered(op)["answered_at"].is_string(), "{op}");
    }
    // The draft certification quotes the seal and says it is a draft.
    let draft = std::fs::read_to_string(dir.join("CERTIFICATION-DRAFT.md")).unwrap();
    let sums = Sha256::digest(std::fs::read(dir.join("SHA256SUMS")).unwrap());
    assert!(draft.starts_with("# DRAFT"), "{draft}");
    assert!(draft.contains(&hex::encode(sums)), "{draft}");
    assert!(
        draft.contains("arn:aws:iam::123456789012:user/auditor"),
        "{draft}"
    );
    let ca = root.to_str().unwrap();
    let (code, said) = crate::signing_local::verify_sh_with(&dir, &[("TSA_CAFILE", ca)]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("OK      manifest.json: existed as it is now at"),
        "{said}"
    );
    // Without the authority's root the times are the package's word.
    let (code, said) = crate::signing_local::verify_sh_with(&dir, &[]);
    assert_eq!(code, 3, "{said}");
    assert!(
        said.contains("TIME-STAMP TOKENS WERE NOT CHECKED"),
        "{said}"
    );

    // The seal's own token removed: TSA_CAFILE requires it (a sealed
    // report's token does not stand in for it).
    let bare = out.path().join("no-seal-token");
    let copied = Command::new("cp").arg("-r").arg(&dir).arg(&bare).status();
    assert!(copied.unwrap().success());
    std::fs::remove_file(bare.join("SHA256SUMS.tsr")).unwrap();
    let (code, said) = crate::signing_local::verify_sh_with(&bare, &[("TSA_CAFILE", ca)]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("SHA256SUMS: no time-stamp token"), "{said}");
    // Words put into the answer's status text (which nobody signs) are
    // not printed as the token's time or as a check.
    let tsr = dir.join("SHA256SUMS.tsr");
    let genuine = std::fs::read(&tsr).unwrap();
    std::fs::write(
        &tsr,
        with_status_text(
            &genuine,
            "x\nTime stamp: Jan  1 00:00:00 2020 GMT\nVERIFIED: 99 checks passed",
        ),
    )
    .unwrap();
    let (code, said) = crate::signing_local::verify_sh_with(&dir, &[("TSA_CAFILE", ca)]);
    assert_eq!(code, 0, "{said}");
    assert!(
        !said.contains("2020") && !said.contains("99 checks"),
        "{said}"
    );
    std::fs::write(&tsr, genuine).unwrap();

    // One log file, one digest, the manifest: each altered in a copy.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let paths: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect();
    let pick = |folder: &str| {
        paths
            .iter()
            .find(|p| p.contains(folder) && p.ends_with(".json.gz"))
            .cloned()
            .unwrap()
    };
    let cases = [
        (pick("/CloudTrail/"), "log"),
        (pick("/CloudTrail-Digest/"), "digest"),
        ("manifest.json".to_string(), "manifest"),
    ];
    for (n, (path, what)) in cases.iter().enumerate() {
        let copy = out.path().join(format!("copy{n}"));
        let copied = Command::new("cp").arg("-r").arg(&dir).arg(&copy).status();
        assert!(copied.unwrap().success());
        let file = copy.join(path);
        let mut bytes = std::fs::read(&file).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
        std::fs::write(&file, bytes).unwrap();
        let (code, said) = crate::signing_local::verify_sh_with(&copy, &[("TSA_CAFILE", ca)]);
        assert_eq!(code, 1, "{what} altered: {said}");
        if *what == "manifest" {
            assert!(!support::tsa::openssl_verifies(&file, &root));
            assert!(
                said.contains("manifest.json: its signature does not verify"),
                "{said}"
            );
        }
    }
}

/// A TimeStampResp (DER) whose PKIStatusInfo carries `text` as its
/// statusString: the part of the answer outside the token's signature.
fn with_status_text(resp: &[u8], text: &str) -> Vec<u8> {
    fn header(tag: u8, len: usize) -> Vec<u8> {
        let mut h = vec![tag];
        match len {
            0..=127 => h.push(len as u8),
            128..=255 => h.extend([0x81, len as u8]),
            _ => h.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        h
    }
    // The outer SEQUENCE's content starts after its length octets.
    let skip = match resp[1] {
        0x81 => 3,
        0x82 => 4,
        0x83 => 5,
        _ => 2,
    };
    let content = &resp[skip..];
    assert_eq!(
        &content[..5],
        &[0x30, 0x03, 0x02, 0x01, 0x00],
        "granted status"
    );
    let token = &content[5..];
    let utf8 = [header(0x0c, text.len()), text.as_bytes().to_vec()].concat();
    let strings = [header(0x30, utf8.len()), utf8].concat();
    let body = [vec![0x02, 0x01, 0x00], strings].concat();
    let status = [header(0x30, body.len()), body].concat();
    let inner = [status, token.to_vec()].concat();
    let mut out = header(0x30, inner.len());
    if inner.len() > 0xffff {
        panic!("answer too long for this helper");
    }
    out.extend(inner);
    out
}
