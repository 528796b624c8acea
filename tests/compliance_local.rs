//! `--format ocsf` and `--format asff`: the findings compliance teams
//! ingest, checked against the OCSF class's required attributes (vendored
//! from the schema) and ASFF's required fields and limits, on the sample
//! trail, an intact trail and a damaged estate.

use crate::support::trail::{run, simulate, three_hours, Run, Trail};
use serde_json::Value;
use std::collections::BTreeSet;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail";
const ALTERED: &str = "123456789012_CloudTrail_us-east-1_20260301T0329Z_UwnQ0tJFLnpXvT4S.json.gz";

/// `validate` of the sample trail's ARN over a local copy at `root` (keys
/// beside it), from 2026-03-01T00:00Z to `end`, with `extra`.
fn validate(root: &str, keys: &str, end: &str, extra: &[&str]) -> Run {
    run(&validate_args(root, keys, end, extra))
}

fn validate_args<'a>(
    root: &'a str,
    keys: &'a str,
    end: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["validate", "--local", root, "--public-keys", keys];
    args.extend(["--trail-arn", ARN, "--start-time", "2026-03-01T00:00:00Z"]);
    args.extend(["--end-time", end]);
    args.extend_from_slice(extra);
    args
}

/// The same over a simulated trail.
fn validate_trail(t: &Trail, end: &str, extra: &[&str]) -> Run {
    let (root, keys) = (
        t.root().display().to_string(),
        t.keys().display().to_string(),
    );
    validate(&root, &keys, end, extra)
}

const SAMPLE: &str = "testdata/sample";
const SAMPLE_KEYS: &str = "testdata/sample/public-keys.json";
const SAMPLE_END: &str = "2026-03-01T06:00:00Z";

/// The sample trail in testdata/, its six hours.
fn sample(extra: &[&str]) -> Run {
    validate(SAMPLE, SAMPLE_KEYS, SAMPLE_END, extra)
}

fn lines(r: &Run) -> Vec<Value> {
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn schema() -> Value {
    let text = include_str!("schemas/ocsf_compliance_finding_1.4.0.json");
    serde_json::from_str(text).unwrap()
}

/// Every attribute the class and its objects require, present and of the
/// right kind; enumerations inside the schema's values.
fn check_ocsf(e: &Value, s: &Value) {
    for a in s["required"].as_array().unwrap() {
        let a = a.as_str().unwrap();
        assert!(!e[a].is_null(), "required {a} missing in {e}");
    }
    assert_eq!(e["class_uid"], s["class_uid"]);
    assert_eq!(e["category_uid"], s["category_uid"]);
    let type_uid = e["class_uid"].as_u64().unwrap() * 100 + e["activity_id"].as_u64().unwrap();
    assert_eq!(e["type_uid"].as_u64(), Some(type_uid));
    assert!(
        e["time"].as_i64().unwrap() > 1_700_000_000_000,
        "time is in milliseconds"
    );
    assert_eq!(e["metadata"]["version"], s["version"]);
    // The cloud profile is declared, so cloud is required too.
    let profiles = e["metadata"]["profiles"].as_array().unwrap();
    assert!(profiles.iter().any(|p| p == "cloud"));
    let objects = [
        ("metadata", &e["metadata"]),
        ("product", &e["metadata"]["product"]),
        ("finding_info", &e["finding_info"]),
        ("compliance", &e["compliance"]),
        ("cloud", &e["cloud"]),
        ("account", &e["cloud"]["account"]),
    ];
    let resources = e["resources"].as_array().unwrap();
    assert!(!resources.is_empty());
    let remediation = (!e["remediation"].is_null()).then(|| ("remediation", &e["remediation"]));
    let all = objects
        .into_iter()
        .chain(remediation)
        .chain(resources.iter().map(|r| ("resource_details", r)));
    for (name, obj) in all {
        let spec = &s["objects"][name];
        for a in spec["required"].as_array().unwrap() {
            let a = a.as_str().unwrap();
            assert!(!obj[a].is_null(), "{name}.{a} missing in {e}");
        }
        if let Some(one) = spec["at_least_one"].as_array() {
            assert!(
                one.iter().any(|a| !obj[a.as_str().unwrap()].is_null()),
                "{name}: {obj}"
            );
        }
    }
    for (field, value) in [
        ("activity_id", &e["activity_id"]),
        ("severity_id", &e["severity_id"]),
        ("status_id", &e["status_id"]),
        ("compliance.status_id", &e["compliance"]["status_id"]),
    ] {
        let key = value.as_u64().unwrap().to_string();
        assert!(!s["enums"][field][&key].is_null(), "{field} = {key}");
    }
    let requirements = e["compliance"]["requirements"].as_array().unwrap();
    let words: Vec<&str> = requirements.iter().map(|r| r.as_str().unwrap()).collect();
    assert!(words.iter().any(|r| r.contains("AU-9")) && words.iter().any(|r| r.contains("AU-10")));
    assert!(words
        .iter()
        .any(|r| r.contains("CIS") && r.contains("log file validation")));
}

/// Every field BatchImportFindings requires, within its limits.
fn check_asff(f: &Value) {
    for a in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "UpdatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    ] {
        assert!(!f[a].is_null(), "{a} missing in {f}");
    }
    assert_eq!(f["SchemaVersion"], "2018-10-08");
    let account = f["AwsAccountId"].as_str().unwrap();
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let product = format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default");
    assert_eq!(f["ProductArn"], product.as_str());
    let len = |k: &str| f[k].as_str().unwrap().chars().count();
    assert!((1..=512).contains(&len("Id")) && (1..=512).contains(&len("GeneratorId")));
    assert!((1..=256).contains(&len("Title")), "{}", f["Title"]);
    assert!((1..=1024).contains(&len("Description")));
    if let Some(t) = f["Remediation"]["Recommendation"]["Text"].as_str() {
        assert!((1..=512).contains(&t.chars().count()));
    }
    let types = f["Types"].as_array().unwrap();
    assert!(types.iter().all(|t| t
        .as_str()
        .unwrap()
        .starts_with("Software and Configuration Checks/")));
    assert!(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
        .contains(&f["Severity"]["Label"].as_str().unwrap()));
    assert!(["PASSED", "WARNING", "FAILED"].contains(&f["Compliance"]["Status"].as_str().unwrap()));
    let resources = f["Resources"].as_array().unwrap();
    assert!((1..=32).contains(&resources.len()));
    for r in resources {
        assert!(["AwsS3Object", "AwsCloudTrailTrail"].contains(&r["Type"].as_str().unwrap()));
        assert!(r["Id"].as_str().unwrap().starts_with("arn:aws:"));
    }
    chrono::DateTime::parse_from_rfc3339(f["CreatedAt"].as_str().unwrap()).unwrap();
    for (k, v) in f["ProductFields"].as_object().unwrap() {
        assert!(k.len() <= 128 && v.as_str().unwrap().len() <= 2048);
        assert!(shown(v.as_str().unwrap()), "{v}");
    }
    // Security Hub's text fields match `.*\S.*`: one line, something shown.
    let mut texts = vec![&f["Title"], &f["Description"]];
    texts.extend(resources.iter().map(|r| &r["Id"]));
    texts.push(&f["Remediation"]["Recommendation"]["Text"]);
    for t in texts.iter().filter_map(|t| t.as_str()) {
        assert!(shown(t) && t.chars().any(|c| !c.is_whitespace()), "{t:?}");
    }
    assert!(serde_json::to_vec(f).unwrap().len() < 240 * 1024);
}

/// No control or direction character (a line break fails Security Hub's
/// pattern; a bidi override turns a name around on screen).
fn shown(s: &str) -> bool {
    !s.chars().any(|c| {
        c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

/// The sample trail's one altered log is a FAIL finding naming it, the
/// chain a FAIL; every event passes the class's schema.
#[test]
fn the_sample_trails_ocsf_fails_the_altered_log() {
    let r = sample(&["--format", "ocsf"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let events = lines(&r);
    let s = schema();
    events.iter().for_each(|e| check_ocsf(e, &s));
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["compliance"]["status"] == "Fail")
        .collect();
    assert!(failed.iter().any(|e| {
        e["resources"][0]["uid"]
            .as_str()
            .unwrap()
            .ends_with(ALTERED)
            && e["resources"][0]["type"] == "AWS::S3::Object"
            && e["unmapped"]["trailproof"]["problem"] == "hash_mismatch"
            && !e["remediation"]["desc"].is_null()
    }));
    let chain = &events[0];
    assert_eq!(chain["resources"][0]["uid"], ARN);
    assert_eq!(chain["compliance"]["status_id"], 3);
    assert_eq!(chain["severity_id"], 5);
}

/// An intact trail: one PASS per chain, nothing failed, exit 0.
#[test]
fn an_intact_trails_ocsf_has_no_failure() {
    let t = three_hours();
    let r = validate_trail(&t, "2026-03-01T02:00:00Z", &["--format", "ocsf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events = lines(&r);
    let s = schema();
    events.iter().for_each(|e| check_ocsf(e, &s));
    assert_eq!(events.len(), 1, "{}", r.stdout);
    assert_eq!(events[0]["compliance"]["status"], "Pass");
    assert_eq!(events[0]["severity_id"], 1);
    assert!(events[0]["remediation"].is_null());
    assert_eq!(
        events[0]["unmapped"]["trailproof"]["counts"]["digests"]["invalid"],
        0
    );
}

/// ASFF: FAILED, the required fields within their limits, and the same Ids
/// on a second run (so Security Hub updates rather than duplicates).
#[test]
fn the_sample_trails_asff_fails_with_ids_stable_over_runs() {
    let first = sample(&["--format", "asff"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let a: Vec<Value> = serde_json::from_str(&first.stdout).unwrap();
    a.iter().for_each(check_asff);
    assert_eq!(a[0]["Compliance"]["Status"], "FAILED");
    assert_eq!(a[0]["Resources"][0]["Type"], "AwsCloudTrailTrail");
    assert!(a.iter().any(|f| f["Compliance"]["Status"] == "FAILED"
        && f["Resources"][0]["Id"].as_str().unwrap().ends_with(ALTERED)
        && f["GeneratorId"] == "trailproof/hash_mismatch"));
    let b: Vec<Value> = serde_json::from_str(&sample(&["--format", "asff"]).stdout).unwrap();
    let ids = |v: &[Value]| {
        v.iter()
            .map(|f| f["Id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    let distinct: BTreeSet<String> = ids(&a).into_iter().collect();
    assert_eq!(distinct.len(), a.len(), "one Id per finding");
    // The OCSF uid of a finding is its ASFF Id.
    let o: Vec<String> = lines(&sample(&["--format", "ocsf"]))
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(o, ids(&a));
}

/// An estate with one damaged chain and an attacker-named object: one
/// finding per chain in its own account, the damage only in its chain, and
/// the hostile name carried as data (valid JSON, within the limits).
#[test]
fn an_estates_findings_belong_to_their_chains() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--hours",
        "3",
        "--seed",
        "6",
    ];
    args.extend([
        "--accounts",
        "111111111111,222222222222",
        "--regions",
        "us-east-1,eu-west-1",
    ]);
    args.extend(["--damage", "tamper-log@1:222222222222/eu-west-1"]);
    let out = crate::support::trail::simulate_in(dir.path(), &args);
    let odd = format!(
        "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/\"quote\u{202e}\n{}.json.gz",
        "x".repeat(200)
    );
    let path = dir.path().join(&out.bucket).join(&odd);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"planted").unwrap();
    let (root, keys) = (
        dir.path().display().to_string(),
        out.keys_file.display().to_string(),
    );
    let arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/sample-trail";
    let args = [
        "validate",
        "--local",
        &root,
        "--public-keys",
        &keys,
        "--trail-arn",
        arn,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T02:00:00Z",
        "--account-id",
        "all",
        "--region",
        "all",
    ];
    let r = run(&[&args[..], &["--format", "asff"]].concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let a: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    a.iter().for_each(check_asff);
    let chains: Vec<&Value> = a
        .iter()
        .filter(|f| f["GeneratorId"] == "trailproof/chain")
        .collect();
    assert_eq!(chains.len(), 4);
    let failed: BTreeSet<String> = chains
        .iter()
        .filter(|f| f["Compliance"]["Status"] == "FAILED")
        .map(|f| {
            format!(
                "{} {}",
                f["AwsAccountId"].as_str().unwrap(),
                f["ProductFields"]["trailproof/Region"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from([
            "111111111111 us-east-1".to_string(),
            "222222222222 eu-west-1".to_string()
        ])
    );
    let planted = a
        .iter()
        .find(|f| f["Resources"][0]["Id"].as_str().unwrap().contains("quote"))
        .expect("the planted object has a finding");
    assert_eq!(planted["AwsAccountId"], "111111111111");
    assert_eq!(planted["Compliance"]["Status"], "FAILED");
    let o = run(&[&args[..], &["--format", "ocsf"]].concat());
    let events = lines(&o);
    let s = schema();
    events.iter().for_each(|e| check_ocsf(e, &s));
    assert_eq!(events.len(), a.len());
}

/// `--metrics-format emf`: CloudWatch Embedded Metric Format lines, in a
/// file or on stdout after the report; a broken job's line says exit 2.
#[test]
fn emf_metrics_go_to_a_file_or_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics.jsonl");
    let as_emf = ["--metrics-format", "emf"];
    let r = sample(
        &[
            &as_emf[..],
            &["--metrics", file.to_str().unwrap(), "--quiet"],
        ]
        .concat(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["Account"], "123456789012");
    assert_eq!(docs[0]["LogsNotValid"], 1);
    assert_eq!(
        docs[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1],
        "Region"
    );
    assert_eq!(docs[1]["ExitStatus"], 1);
    // Beside a text report on stdout, the lines follow it.
    let r = sample(&[&as_emf[..], &["--metrics", "-"]].concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let emf = r
        .stdout
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"_aws\""));
    assert_eq!(emf.count(), 2, "{}", r.stdout);
    // A JSON report on stdout stays one document: refused, one sentence.
    let r = sample(&[&as_emf[..], &["--metrics", "-", "--format", "json"]].concat());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--report-file"), "{}", r.stderr);
    // A closed stdout is not a panic.
    let mut child = std::process::Command::new(crate::support::trail::BIN)
        .args(validate_args(
            SAMPLE,
            SAMPLE_KEYS,
            SAMPLE_END,
            &[&as_emf[..], &["--metrics", "-"]].concat(),
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    let extra = ["--metrics-format", "emf", "--metrics", "-"];
    let broken = validate("/nonexistent/copy", SAMPLE_KEYS, SAMPLE_END, &extra);
    assert_eq!(broken.code, 2);
    let line: Value = serde_json::from_str(broken.stdout.trim()).unwrap();
    assert_eq!(line["ExitStatus"], 2);
    assert_eq!(line["Trail"], ARN);
    // A shard, which writes no metrics, refuses them without writing any.
    let shard = [&extra[..], &["--shard", "1/2"]].concat();
    let refused = sample(&shard);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(refused.stdout, "", "{}", refused.stderr);
}

/// A run over another window never takes over a chain's finding: a
/// shorter window that passes gets an Id of its own, so it cannot turn the
/// longer window's FAILED into PASSED. The altered log, found failed again,
/// keeps its Id whatever the window.
#[test]
fn another_window_never_takes_over_a_chains_finding() {
    let t = simulate(&[
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--hours",
        "7",
        "--seed",
        "4",
        "--damage",
        "tamper-log@4",
    ]);
    let asff = |end: &str| -> Vec<Value> {
        let r = validate_trail(&t, end, &["--format", "asff"]);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let (short, long) = (asff("2026-03-01T02:00:00Z"), asff("2026-03-01T06:00:00Z"));
    assert_eq!(short[0]["Compliance"]["Status"], "PASSED");
    assert_eq!(long[0]["Compliance"]["Status"], "FAILED");
    assert_ne!(short[0]["Id"], long[0]["Id"]);
    let altered = |v: &[Value]| {
        v.iter()
            .find(|f| f["GeneratorId"] == "trailproof/hash_mismatch")
            .map(|f| f["Id"].clone())
    };
    assert!(altered(&long).is_some());
    assert_eq!(altered(&long), altered(&asff("2026-03-01T05:30:00Z")));
}

/// A region folder an attacker names (any 32 characters) cannot make the
/// failing findings unimportable: Resources' Region holds only a region's
/// shape, at most 16 characters.
#[test]
fn a_planted_region_folder_keeps_findings_importable() {
    let t = three_hours();
    let odd = t.bucket_dir().join(format!(
        "AWSLogs/123456789012/CloudTrail/{}/2026/03/01/planted.json.gz",
        "a".repeat(32)
    ));
    std::fs::create_dir_all(odd.parent().unwrap()).unwrap();
    std::fs::write(&odd, b"planted").unwrap();
    let extra = ["--region", "all", "--format", "asff"];
    let r = validate_trail(&t, "2026-03-01T02:00:00Z", &extra);
    assert_ne!(r.code, 0, "{}", r.stderr);
    let a: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    a.iter().for_each(check_asff);
    assert!(a.iter().any(|f| f["Compliance"]["Status"] != "PASSED"
        && f["ProductFields"]["trailproof/Region"]
            .as_str()
            .unwrap()
            .len()
            == 32));
    for f in &a {
        for res in f["Resources"].as_array().unwrap() {
            if let Some(region) = res["Region"].as_str() {
                assert!(region.len() <= 16, "{region}");
            }
        }
    }
}

/// A trail in another partition names its objects in that partition, in
/// both formats (the ARN's partition, parsed once).
#[test]
fn another_partitions_findings_name_it() {
    let arn = ARN.replace("arn:aws:", "arn:aws-cn:");
    let with_arn = |format: &'static str| {
        let mut args = validate_args(SAMPLE, SAMPLE_KEYS, SAMPLE_END, &["--format", format]);
        let at = args.iter().position(|a| *a == ARN).unwrap();
        args[at] = &arn;
        run(&args)
    };
    for e in lines(&with_arn("ocsf")) {
        let uid = e["resources"][0]["uid"].as_str().unwrap();
        assert!(uid.starts_with("arn:aws-cn:"), "{uid}");
    }
    let a: Vec<Value> = serde_json::from_str(&with_arn("asff").stdout).unwrap();
    for f in &a {
        assert!(f["Resources"][0]["Id"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws-cn:"));
        assert_eq!(f["Resources"][0]["Partition"], "aws-cn");
        let product = f["ProductArn"].as_str().unwrap();
        assert!(
            product.starts_with("arn:aws-cn:securityhub:us-east-1:"),
            "{product}"
        );
    }
}
