//! Shards and their merge: 1..4 shards of an estate (by chain) and of one
//! damaged chain (by time slice) merge into the unsharded verdicts; the
//! merge refuses mismatched and incomplete shard sets; `--shard auto/N`
//! reads the Kubernetes and AWS Batch index variables.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");
const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/sample-trail";

fn simulate(dir: &Path, extra: &[&str]) {
    let mut args = vec!["--start-time", "2026-03-01T00:00:00Z", "--hours", "12"];
    args.extend([
        "--logs-per-hour",
        "2",
        "--records-per-log",
        "3",
        "--seed",
        "21",
    ]);
    args.extend(["--account-id", "111111111111"]);
    args.extend_from_slice(extra);
    crate::support::trail::simulate_in(dir, &args);
}

fn validate(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let keys = dir.join("public-keys.json");
    let mut args = vec![
        "validate",
        "--local",
        dir.to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01T00:00:00Z",
    ];
    if !extra.contains(&"--end-time") {
        args.extend_from_slice(&["--end-time", "2026-03-01T12:00:00Z"]);
    }
    args.extend_from_slice(extra);
    let mut cmd = Command::new(BIN);
    cmd.args(&args);
    for v in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn merge(files: &[String]) -> (i32, String, String) {
    let mut args = vec!["merge", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let out = Command::new(BIN).args(&args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs N shards into files; returns their paths.
fn shards(dir: &Path, extra: &[&str], n: usize) -> Vec<String> {
    (0..n)
        .map(|k| {
            let file = dir.join(format!("shard-{k}-of-{n}.json"));
            let shard = format!("{}/{n}", k + 1);
            let mut a = extra.to_vec();
            a.extend_from_slice(&["--shard", &shard, "--report-file", file.to_str().unwrap()]);
            let (code, out, err) = validate(dir, &a, &[]);
            assert!(out.is_empty(), "the report went to --report-file");
            assert!(code == 0 || code == 1 || code == 3, "{err}");
            // A shard's report says first that it is no verdict on the estate.
            let head = format!("shard {} of {n}: not a verdict on the estate", k + 1);
            assert!(err.contains(&head), "{err}");
            let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            assert!(v["verdict_scope"].as_str().unwrap().starts_with(&head));
            // Its text would read as a verdict: refused.
            let mut text = extra.to_vec();
            text.extend_from_slice(&["--shard", &shard, "--output", "text"]);
            let (code, _, err) = validate(dir, &text, &[]);
            assert_eq!(code, 2, "{err}");
            file.to_str().unwrap().to_string()
        })
        .collect()
}

/// Per chain: every object's verdict, the gaps, and the exit status.
fn verdicts(v: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in v["chains"].as_array().unwrap() {
        let id = format!("{} {}", c["account"], c["region"]);
        let mut objects: Vec<String> = ["digests", "logs", "unexpected"]
            .iter()
            .flat_map(|k| c[k].as_array().unwrap())
            .map(|o| format!("{} {} {}", o["key"], o["status"], o["problem"]))
            .collect();
        objects.sort();
        let mut gaps: Vec<String> = c["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                format!(
                    "{} {} {} {}",
                    g["start"], g["end"], g["kind"], g["explained"]
                )
            })
            .collect();
        gaps.sort();
        out.insert(
            id,
            serde_json::json!({"objects": objects, "gaps": gaps, "exit": c["summary"]["exit_code"],
                               "untrusted": c["untrusted"]}),
        );
    }
    out
}

/// Every chain of the estate, as JSON.
const ESTATE: [&str; 6] = ["--account-id", "all", "--region", "all", "--format", "json"];

/// An estate of 2 accounts x 2 regions, with `extra` simulate arguments.
fn simulate_estate(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "--accounts",
        "111111111111,222222222222",
        "--regions",
        "us-east-1,eu-west-1",
    ];
    args.extend_from_slice(extra);
    simulate(dir, &args);
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    // An estate of 2 x 2 chains.
    simulate_estate(dir.path(), &[]);
    let estate = ESTATE;
    let (code, whole, _) = validate(dir.path(), &estate, &[]);
    assert_eq!(code, 0);
    let mut whole: Value = serde_json::from_str(&whole).unwrap();
    // Provenance says where each document came from: it differs by design.
    let whole_prov = whole.as_object_mut().unwrap().remove("provenance").unwrap();
    assert!(whole_prov["tool"]
        .as_str()
        .unwrap()
        .starts_with("trailproof "));
    assert!(whole_prov["source"]
        .as_str()
        .unwrap()
        .starts_with("local copy "));
    assert!(!whole_prov["key_fingerprints"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(whole["schema_version"], 5);
    for n in 1..=4 {
        let files = shards(dir.path(), &estate[..4], n);
        let (code, merged, err) = merge(&files);
        assert_eq!(code, 0, "{n} shards: {err}");
        let mut merged: Value = serde_json::from_str(&merged).unwrap();
        // Bar the merge's own note that the reports are not authenticated.
        let notes = merged["notes"].as_array_mut().unwrap();
        let before = notes.len();
        notes.retain(|n| {
            !n.as_str()
                .unwrap()
                .starts_with("Shard reports are not authenticated")
        });
        assert_eq!(
            notes.len() + 1,
            before,
            "the merge says the reports are not authenticated"
        );
        let prov = merged
            .as_object_mut()
            .unwrap()
            .remove("provenance")
            .unwrap();
        assert!(prov["source"].as_str().unwrap().starts_with("merge of "));
        assert_eq!(prov["key_fingerprints"], whole_prov["key_fingerprints"]);
        assert_eq!(merged, whole, "{n} shards by chain");
    }

    // The auditor's page and the metrics of a sharded run come from merge:
    // the same page as the unsharded run's, bar the note on the shards.
    let page = dir.path().join("whole.html");
    let whole_prom = dir.path().join("whole.prom");
    let mut a = estate.to_vec();
    a.extend_from_slice(&["--html", page.to_str().unwrap()]);
    a.extend_from_slice(&["--metrics", whole_prom.to_str().unwrap()]);
    assert_eq!(validate(dir.path(), &a, &[]).0, 0);
    let files = shards(dir.path(), &estate[..4], 3);
    let (merged_page, prom) = (dir.path().join("merged.html"), dir.path().join("m.prom"));
    let mut m = vec!["merge", "--html", merged_page.to_str().unwrap()];
    m.extend_from_slice(&["--metrics", prom.to_str().unwrap()]);
    m.extend(files.iter().map(String::as_str));
    let out = Command::new(BIN).args(&m).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let squeeze = |s: String| s.split_whitespace().collect::<String>();
    let merged = squeeze(std::fs::read_to_string(&merged_page).unwrap());
    assert!(merged.contains("<li>Shardreportsarenotauthenticated"));
    // Bar the merge's note on the shards, and the provenance rows (where
    // from, which keys, when): they say how each page was made.
    let cut = |mut s: String, open: &str, close: &str| {
        while let Some(at) = s.find(open) {
            let end = at + s[at..].find(close).unwrap() + close.len();
            s.replace_range(at..end, "");
        }
        s
    };
    let bare = |s: String| {
        let s = cut(s, "<li>Shardreportsarenotauthenticated", "</li>");
        let s = cut(s, "<ulclass=\"notes\"></ul>", "</ul>");
        ["Source", "Publickeys", "Report", "Command", "Inputs"]
            .iter()
            .fold(s, |s, row| cut(s, &format!("<tr><th>{row}</th>"), "</tr>"))
    };
    let whole_page = squeeze(std::fs::read_to_string(&page).unwrap());
    assert_eq!(bare(merged), bare(whole_page));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("trailproof_exit_status 0"), "{text}");
    // The staleness gauge is the newest verified digest's, as unsharded.
    let newest = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .lines()
            .filter(|l| l.starts_with("trailproof_newest_verified_digest_end_seconds{"))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let whole_text = std::fs::read_to_string(&whole_prom).unwrap();
    assert_eq!(newest(&text).len(), 4, "{text}");
    assert_eq!(newest(&text), newest(&whole_text));
    // A merge that fails (a shard missing) says so in the metrics too.
    let mut m = vec!["merge", "--metrics", prom.to_str().unwrap()];
    m.extend(files[..2].iter().map(String::as_str));
    let out = Command::new(BIN).args(&m).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("trailproof_exit_status 2"), "{text}");
    // A shard's own page would look like a verdict on the estate: refused.
    let mut a = estate.to_vec();
    a.extend_from_slice(&["--shard", "1/2", "--html", page.to_str().unwrap()]);
    let (code, _, err) = validate(dir.path(), &a, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("trailproof merge --html"), "{err}");

    // One chain with damage, cut into time slices.
    let one = tempfile::tempdir().unwrap();
    simulate(
        one.path(),
        &[
            "--damage",
            "tamper-log@2",
            "--damage",
            "delete-digest@7",
            "--damage",
            "gap@5",
            "--damage",
            "validation-off@9",
        ],
    );
    let (code, whole, _) = validate(one.path(), &["--format", "json", "--shard", "1/1"], &[]);
    assert_eq!(code, 1);
    let whole: Value = serde_json::from_str(&whole).unwrap();
    for n in 2..=4 {
        let files = shards(one.path(), &[], n);
        let sliced: Value =
            serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert!(
            sliced["chains"][0]["slice"].is_object(),
            "{n} shards cut the chain"
        );
        let (code, merged, err) = merge(&files);
        assert_eq!(code, 1, "{err}");
        let merged: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(verdicts(&merged), verdicts(&whole), "{n} slices");
        assert_eq!(merged["summary"], whole["summary"], "{n} slices");
    }
}

#[test]
fn merge_refuses_incomplete_and_foreign_shard_sets() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), &[]);
    let files = shards(dir.path(), &[], 3);
    let one_line = |(code, _, err): (i32, String, String), needle: &str| {
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    };
    one_line(merge(&files[..2]), "shard 3 of 3 is missing");
    let twice = vec![
        files[0].clone(),
        files[1].clone(),
        files[1].clone(),
        files[2].clone(),
    ];
    one_line(merge(&twice), "given twice");
    // A shard of another window.
    let other = dir.path().join("other.json");
    let (code, _, err) = validate(
        dir.path(),
        &[
            "--end-time",
            "2026-03-01T11:00:00Z",
            "--shard",
            "3/3",
            "--report-file",
            other.to_str().unwrap(),
        ],
        &[],
    );
    assert!(code == 0 || code == 3, "{err}");
    let mixed = vec![
        files[0].clone(),
        files[1].clone(),
        other.to_str().unwrap().to_string(),
    ];
    one_line(merge(&mixed), "another window");
    // A shard report edited after the fact: a chain removed, or the plan
    // rewritten to match, or the fingerprint copied onto another plan.
    let edited = dir.path().join("edited.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    v["chains"] = serde_json::json!([]);
    std::fs::write(&edited, v.to_string()).unwrap();
    let forged = vec![
        files[0].clone(),
        edited.to_str().unwrap().to_string(),
        files[2].clone(),
    ];
    one_line(merge(&forged), "inconsistent");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    v["shard"]["units"] = serde_json::json!([]);
    std::fs::write(&edited, v.to_string()).unwrap();
    let forged = vec![
        edited.to_str().unwrap().to_string(),
        files[0].clone(),
        files[2].clone(),
    ];
    one_line(merge(&forged), "fingerprint does not match its plan");
    // A whole run's report is not a shard.
    let (_, whole, _) = validate(
        dir.path(),
        &["--format", "json", "--region", "us-east-1,eu-west-1"],
        &[],
    );
    let whole_file = dir.path().join("whole.json");
    std::fs::write(&whole_file, whole).unwrap();
    one_line(
        merge(&[whole_file.to_str().unwrap().to_string()]),
        "not a shard",
    );
}

#[test]
fn shard_index_comes_from_kubernetes_or_aws_batch() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), &[]);
    for var in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
        let (code, out, err) = validate(dir.path(), &["--shard", "auto/2"], &[(var, "1")]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["shard"]["index"], 1, "{var}");
        assert_eq!(v["shard"]["count"], 2);
    }
    // K counts from 1, as wherever K/N is met; 0 is refused with the range.
    let (code, _, err) = validate(dir.path(), &["--shard", "0/2"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("K counts from 1"), "{err}");
    let (code, _, err) = validate(dir.path(), &["--shard", "auto/2"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("JOB_COMPLETION_INDEX"), "{err}");
}

/// Under a state key every shard report carries its run id and a MAC:
/// merge refuses a report whose findings were blanked, one written
/// without the key, and an old report of the same plan from another run.
#[test]
fn merge_refuses_edited_and_replayed_reports_under_a_state_key() {
    let dir = tempfile::tempdir().unwrap();
    simulate(
        dir.path(),
        &[
            "--accounts",
            "111111111111,222222222222",
            "--damage",
            "tamper-log@1",
        ],
    );
    let key = dir.path().join("state.key");
    std::fs::write(&key, [9u8; 40]).unwrap();
    let key_arg = format!("file:{}", key.display());
    let estate = [
        "--account-id",
        "all",
        "--format",
        "json",
        "--state-key",
        &key_arg,
    ];
    let run = |id: &str| {
        let mut a = estate.to_vec();
        a.extend_from_slice(&["--run-id", id]);
        (0..2)
            .map(|k| {
                let file = dir.path().join(format!("{id}-{k}.json"));
                let shard = format!("{}/2", k + 1);
                let mut b = a.clone();
                b.extend_from_slice(&["--shard", &shard, "--report-file", file.to_str().unwrap()]);
                let (code, _, err) = validate(dir.path(), &b, &[]);
                assert!(code == 0 || code == 1, "{err}");
                file.to_str().unwrap().to_string()
            })
            .collect::<Vec<String>>()
    };
    let merge_with = |files: &[String], extra: &[&str]| {
        let mut a = vec!["merge", "--format", "json", "--state-key", &key_arg];
        a.extend_from_slice(extra);
        a.extend(files.iter().map(String::as_str));
        let out = Command::new(BIN).args(&a).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let old = run("night-1");
    let new = run("night-2");
    let tonight = ["--run-id", "night-2"];
    assert_eq!(merge_with(&new, &tonight).0, 1, "the tampered log is found");
    // Under a key, merge must be told which run it merges.
    let (code, err) = merge_with(&new, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--run-id"), "{err}");
    // An old report of the same plan, from another run.
    let (code, err) = merge_with(&[new[0].clone(), old[1].clone()], &tonight);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("belongs to run night-1, not night-2"), "{err}");
    let (code, err) = merge_with(&old, &tonight);
    assert_eq!(code, 2, "{err}");
    // Findings blanked: the MAC no longer matches.
    for f in &new {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for c in v["chains"].as_array_mut().unwrap() {
            for l in c["logs"].as_array_mut().unwrap() {
                l["status"] = Value::from("valid");
                l["problem"] = Value::Null;
                l["message"] = Value::Null;
            }
        }
        std::fs::write(f, v.to_string()).unwrap();
    }
    let (code, err) = merge_with(&new, &tonight);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not authenticated by the state key"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // Reports written without the key.
    let plain: Vec<String> = (0..2)
        .map(|k| {
            let file = dir.path().join(format!("plain-{k}.json"));
            let shard = format!("{}/2", k + 1);
            let a = [
                "--account-id",
                "all",
                "--format",
                "json",
                "--shard",
                &shard,
                "--report-file",
                file.to_str().unwrap(),
            ];
            validate(dir.path(), &a, &[]);
            file.to_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(merge_with(&plain, &tonight).0, 2);
    // A shard under a key with no run id is refused up front.
    let (code, _, err) = validate(
        dir.path(),
        &[estate.as_slice(), &["--shard", "1/2"]].concat(),
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--run-id"), "{err}");
}

/// A selector change is recorded in the home chain's logs only: shards
/// without the home chain cannot see it, and merge marks their chains with
/// the calls the home chain's shard reported, as one run marks them.
#[test]
fn merge_gives_every_shard_the_home_chains_narrowing() {
    let dir = tempfile::tempdir().unwrap();
    simulate_estate(dir.path(), &["--damage", "narrow@1", "--damage", "widen@2"]);
    let estate = ESTATE;
    let (code, whole, _) = validate(dir.path(), &estate, &[]);
    assert_eq!(code, 3);
    let whole: Value = serde_json::from_str(&whole).unwrap();
    let mut merged_runs = Vec::new();
    // 4 shards hold a chain each; 6 cut chains into time slices.
    for n in [4, 6] {
        let files = shards(dir.path(), &estate[..4], n);
        let (code, merged, err) = merge(&files);
        assert_eq!(code, 3, "{n} shards: {err}");
        merged_runs.push(serde_json::from_str::<Value>(&merged).unwrap());
    }
    for v in std::iter::once(&whole).chain(&merged_runs) {
        for c in v["chains"].as_array().unwrap() {
            assert!(
                c["unproven"].to_string().contains("Coverage narrowed at")
                    && c["unproven"]
                        .to_string()
                        .contains("\"kind\":\"coverage_narrowed\"")
                    && c["home_calls_unread"].is_null()
                    && !c["notes"].to_string().contains("home region"),
                "{} {}: {} {}",
                c["account"],
                c["region"],
                c["unproven"],
                c["notes"]
            );
        }
    }
}

/// An organization's stop is recorded once, in the home chain's logs: the
/// shard that holds the home chain reports its lifecycle calls and merge
/// explains every other shard's gap with them, as one run does (exit 0 on
/// an intact estate, by chain and by time slice).
#[test]
fn merge_explains_every_shards_gap_with_the_home_chains_stop() {
    for (damage, cause) in [
        ("gap@5", "logging_stopped"),
        ("validation-off@5", "validation_disabled"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        simulate_estate(dir.path(), &["--damage", damage]);
        let estate = ESTATE;
        let (code, _, err) = validate(dir.path(), &estate, &[]);
        assert_eq!(code, 0, "{damage}: {err}");
        for n in [4, 6] {
            let files = shards(dir.path(), &estate[..4], n);
            let (code, merged, err) = merge(&files);
            let v: Value = serde_json::from_str(&merged).unwrap_or(Value::Null);
            assert_eq!(code, 0, "{damage}, {n} shards: {err}\n{v:#}");
            for c in v["chains"].as_array().unwrap() {
                assert_eq!(c["gaps"][0]["cause"], cause, "{c:#}");
            }
        }
    }
}

/// The documented sequences under a state key, with the variables the
/// schedulers set. AWS Batch: array children get `AWS_BATCH_JOB_ID`
/// `<array id>:<index>` and `AWS_BATCH_JOB_ARRAY_INDEX`, the dependent merge
/// job an id of its own (never taken as the run's), and `--run-id <array
/// id>`. Kubernetes: an Indexed Job sets only `JOB_COMPLETION_INDEX`; both
/// Jobs carry `TRAILPROOF_RUN_ID`.
#[test]
fn the_documented_batch_and_kubernetes_sequences_merge_under_a_state_key() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), &[]);
    let key = dir.path().join("state.key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let key_arg = format!("file:{}", key.display());
    let file = dir.path().join("{scheduler}-shard-{shard}.json");
    let shard = |scheduler: &str, env: &[(&str, &str)]| {
        let pattern = file.to_str().unwrap().replace("{scheduler}", scheduler);
        let mut env = env.to_vec();
        env.push(("TRAILPROOF_STATE_KEY", &key_arg));
        let args = [
            "--shard",
            "auto/2",
            "--report-file",
            &pattern,
            "--format",
            "json",
        ];
        let (code, _, err) = validate(dir.path(), &args, &env);
        assert!(code == 0 || code == 1, "{err}");
    };
    let merge = |scheduler: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["merge", "--format", "json"]).args(extra);
        for k in 1..=2 {
            cmd.arg(dir.path().join(format!("{scheduler}-shard-{k}.json")));
        }
        for v in [
            "AWS_BATCH_JOB_ID",
            "TRAILPROOF_RUN_ID",
            "JOB_COMPLETION_INDEX",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("TRAILPROOF_STATE_KEY", &key_arg);
        cmd.envs(env.iter().copied());
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    for k in ["0", "1"] {
        let id = format!("4f1c-arr:{k}");
        shard(
            "batch",
            &[("AWS_BATCH_JOB_ID", &id), ("AWS_BATCH_JOB_ARRAY_INDEX", k)],
        );
    }
    let merge_job = [("AWS_BATCH_JOB_ID", "9d2e-merge")];
    let (code, err) = merge("batch", &["--run-id", "4f1c-arr"], &merge_job);
    assert_eq!(code, 0, "{err}");
    // Without --run-id the merge job's own id is not taken for the run's.
    let (code, err) = merge("batch", &[], &merge_job);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--run-id") && !err.contains("belongs to run"),
        "{err}"
    );
    for k in ["0", "1"] {
        shard(
            "k8s",
            &[
                ("JOB_COMPLETION_INDEX", k),
                ("TRAILPROOF_RUN_ID", "trailproof-2026-03"),
            ],
        );
    }
    let (code, err) = merge("k8s", &[], &[("TRAILPROOF_RUN_ID", "trailproof-2026-03")]);
    assert_eq!(code, 0, "{err}");
}

/// A shard report of an older trailproof kept its narrowing verdict in its
/// sentences only (`unproven` as strings, schema 4): merge refuses it
/// rather than read it as proven.
#[test]
fn merge_refuses_a_shard_report_of_an_older_trailproof() {
    let dir = tempfile::tempdir().unwrap();
    simulate_estate(dir.path(), &[]);
    let files = shards(dir.path(), &ESTATE[..4], 2);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    v["schema_version"] = 4.into();
    for c in v["chains"].as_array_mut().unwrap() {
        c["unproven"] = serde_json::json!(["Coverage narrowed at 2026-03-01T02:00:05Z"]);
    }
    std::fs::write(&files[0], v.to_string()).unwrap();
    let (code, _, err) = merge(&files);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("older trailproof"), "{err}");
}

/// A chain whose summary says what its findings do not (here: narrowed,
/// with no narrowing among its reasons) is refused, not believed either way.
#[test]
fn merge_refuses_a_chain_whose_summary_disagrees_with_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    simulate_estate(dir.path(), &[]);
    let files = shards(dir.path(), &ESTATE[..4], 2);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    v["chains"][0]["summary"]["coverage_narrowed"] = true.into();
    std::fs::write(&files[0], v.to_string()).unwrap();
    let (code, _, err) = merge(&files);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not match its findings"), "{err}");
}

/// A single chain's report (`validate` without --shard) given to merge:
/// said as such, with the option that makes a shard's report.
#[test]
fn merge_names_a_single_chains_report_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), &[]);
    let file = dir.path().join("one.json");
    let report = file.to_str().unwrap();
    let (code, _, err) = validate(
        dir.path(),
        &["--format", "json", "--report-file", report],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = merge(&[report.to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("a single chain's report") && err.contains("--shard K/N"),
        "{err}"
    );
}
