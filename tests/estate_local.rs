//! The estate run offline: a simulated organization (3 accounts x 3
//! regions, a prefix), damage in two chains, a region folder with logs but
//! no digests, an account with no folder; one report, one table, the worst
//! exit status, and JSON Lines parsed line by line.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");
const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail";
const ORG: &str = "o-abc1234567";
const BUCKET: &str = "org-bucket";

struct Org {
    dir: tempfile::TempDir,
}

impl Org {
    fn new() -> Org {
        Org::with(&[])
    }

    /// The organization with `extra` simulate arguments (damage).
    fn with(extra: &[&str]) -> Org {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--start-time", "2026-03-01T00:00:00Z", "--hours", "4"];
        args.extend([
            "--logs-per-hour",
            "2",
            "--records-per-log",
            "3",
            "--seed",
            "9",
        ]);
        args.extend([
            "--bucket",
            BUCKET,
            "--trail-name",
            "org-trail",
            "--s3-prefix",
            "pfx",
        ]);
        args.extend(["--organization-id", ORG]);
        args.extend(["--accounts", "111111111111,222222222222,333333333333"]);
        args.extend(["--regions", "us-east-1,eu-west-1,ap-south-1"]);
        args.extend_from_slice(extra);
        crate::support::trail::simulate_in(dir.path(), &args);
        Org { dir }
    }

    fn chain_dir(&self, account: &str, kind: &str, region: &str) -> PathBuf {
        self.dir
            .path()
            .join(BUCKET)
            .join(format!("pfx/AWSLogs/{ORG}/{account}/{kind}/{region}"))
    }

    /// `validate` over the organization's window, with `extra`.
    fn command(&self, extra: &[&str]) -> Command {
        let keys = self.dir.path().join("public-keys.json");
        let mut cmd = Command::new(BIN);
        cmd.args([
            "validate",
            "--local",
            self.dir.path().to_str().unwrap(),
            "--public-keys",
            keys.to_str().unwrap(),
            "--trail-arn",
            ARN,
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T04:00:00Z",
            "--s3-prefix",
            "pfx",
        ]);
        cmd.args(extra);
        cmd
    }

    fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let out = self.command(extra).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if !p.to_str().unwrap().ends_with(".metadata.json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn chain<'a>(v: &'a Value, account: &str, region: &str) -> &'a Value {
    v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["account"] == account && c["region"] == region)
        .unwrap_or_else(|| panic!("no chain {account} {region}"))
}

#[test]
fn an_organization_in_one_run() {
    let org = Org::new();
    let (code, out, err) = org.run(&["--account-id", "all", "--region", "all", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    // What `all` cannot see is said: a region deleted from every account.
    assert!(
        out.contains("a region whose folders were deleted from every account is not noticed"),
        "{out}"
    );

    // Damage in two chains: a tampered log, a deleted digest.
    let log = files(&org.chain_dir("222222222222", "CloudTrail", "eu-west-1"))[2].clone();
    std::fs::write(&log, trailproof::verify::gzip::gzip(b"{\"Records\":[]}")).unwrap();
    let digest = files(&org.chain_dir("333333333333", "CloudTrail-Digest", "us-east-1"))[1].clone();
    std::fs::remove_file(&digest).unwrap();
    // A region folder with logs but no digests.
    std::fs::remove_dir_all(org.chain_dir("111111111111", "CloudTrail-Digest", "ap-south-1"))
        .unwrap();
    // An account whose eu-west-1 folders are gone altogether.
    std::fs::remove_dir_all(org.chain_dir("333333333333", "CloudTrail-Digest", "eu-west-1"))
        .unwrap();
    std::fs::remove_dir_all(org.chain_dir("333333333333", "CloudTrail", "eu-west-1")).unwrap();

    let (code, out, err) = org.run(&["--account-id", "all", "--region", "all", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 5);
    assert_eq!(
        v["chains"].as_array().unwrap().len(),
        9,
        "every chain considered"
    );
    let code_of = |a: &str, r: &str| chain(&v, a, r)["summary"]["exit_code"].as_i64().unwrap();
    assert_eq!(code_of("222222222222", "eu-west-1"), 1);
    assert_eq!(code_of("333333333333", "us-east-1"), 1);
    assert_eq!(
        code_of("111111111111", "ap-south-1"),
        1,
        "logs without digests"
    );
    assert_eq!(
        code_of("333333333333", "eu-west-1"),
        3,
        "a region that should deliver"
    );
    assert!(chain(&v, "333333333333", "eu-west-1")["expected_because"].is_string());
    assert_eq!(code_of("111111111111", "us-east-1"), 0);
    assert_eq!(v["summary"]["tampered"], 3);
    assert_eq!(v["summary"]["unproven"], 1);
    assert_eq!(v["summary"]["proven"], 5);
    assert_eq!(v["summary"]["exit_code"], 1);

    // An account the trail never wrote to, named explicitly.
    let (code, out, _) = org.run(&[
        "--account-id",
        "111111111111,444444444444",
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(
        chain(&v, "444444444444", "us-east-1")["summary"]["exit_code"],
        3
    );

    // Text: the AWS CLI's lines per chain, then the estate table.
    let (code, out, _) = org.run(&["--account-id", "all", "--region", "all"]);
    assert_eq!(code, 1);
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Estate of 9 chains"))
        .collect();
    assert_eq!(table.len(), 13, "{out}");
    assert!(table
        .iter()
        .any(|l| l.starts_with("222222222222  eu-west-1") && l.ends_with("TAMPERED")));
    assert!(table
        .iter()
        .any(|l| l.starts_with("333333333333  eu-west-1") && l.ends_with("MISSING")));
    assert!(
        table[11].starts_with("total") && table[11].ends_with("(exit 1)"),
        "{}",
        table[11]
    );
    // The closing line says the verdict in words and what made it.
    assert!(
        table[12].starts_with("Verdict: evidence of tampering: 3 of 9 chains (")
            && table[12].ends_with("(exit 1)"),
        "{}",
        table[12]
    );

    // JSON Lines: every line parses; findings carry account and region.
    let (code, out, _) = org.run(&[
        "--account-id",
        "all",
        "--region",
        "all",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 1);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["chains"], 9);
    assert_eq!(last["exit_code"], 1);
    let tampered_log = log.file_name().unwrap().to_str().unwrap();
    assert!(lines.iter().any(|l| l["type"] == "log"
        && l["key"].as_str().unwrap().ends_with(tampered_log)
        && l["account"] == "222222222222"
        && l["region"] == "eu-west-1"
        && l["problem"] == "hash_mismatch"));
    assert!(
        lines
            .iter()
            .all(|l| l["type"] != "log" || l["status"] != "valid"),
        "valid objects only with --verbose"
    );

    // An estate's report that nobody received (its reader went away) is
    // not a verdict: exit 2, as a failed write always was.
    let mut child = org
        .command(&["--account-id", "all", "--region", "all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

/// `simulate --damage KIND@H:ACCOUNT/REGION` damages one chain of an
/// estate; the report finds it there and nowhere else.
#[test]
fn damage_aimed_at_one_chain_hits_only_it() {
    let org = Org::with(&["--damage", "tamper-log@2:222222222222/eu-west-1"]);
    let (code, out, err) = org.run(&["--account-id", "all", "--region", "all", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let tampered: Vec<String> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["summary"]["exit_code"] == 1)
        .map(|c| {
            format!(
                "{} {}",
                c["account"].as_str().unwrap(),
                c["region"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(tampered, ["222222222222 eu-west-1"]);
}

/// A selector change is recorded once, in the home chain's logs (the
/// management account's home region): offline, every other chain of the
/// estate is marked from those verified logs, since the estate validates
/// its home chain first.
#[test]
fn a_narrowing_in_the_home_chain_marks_every_chain() {
    let org = Org::with(&["--damage", "narrow@1", "--damage", "widen@3"]);
    let (code, out, err) = org.run(&["--account-id", "all", "--region", "all", "--format", "json"]);
    assert_eq!(code, 3, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let chains = v["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 9);
    for c in chains {
        assert!(
            c["unproven"].to_string().contains("Coverage narrowed at"),
            "{} {}: {} {}",
            c["account"],
            c["region"],
            c["unproven"],
            c["notes"]
        );
    }
}

/// An organization trail's stop is recorded once, in the management
/// account's home chain (as CloudTrail records it), and stops every
/// chain's delivery: the home chain's verified record explains the same
/// gap in every chain of the estate (exit 0 on an intact estate).
#[test]
fn an_organization_trails_stop_explains_every_chain() {
    let org = Org::with(&["--damage", "gap@2"]);
    // The simulator writes the calls where CloudTrail does: only there.
    let stop_in = |account: &str, region: &str| {
        files(&org.chain_dir(account, "CloudTrail", region))
            .iter()
            .any(|p| {
                let mut text = String::new();
                let bytes = std::fs::read(p).unwrap();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut text,
                )
                .unwrap();
                text.contains("\"StopLogging\"")
            })
    };
    assert!(stop_in("111111111111", "us-east-1"));
    assert!(!stop_in("222222222222", "us-east-1"));
    assert!(!stop_in("111111111111", "eu-west-1"));
    let (code, out, err) = org.run(&["--account-id", "all", "--region", "all", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    assert_eq!(code, 0, "{err}\n{v:#}");
    for c in v["chains"].as_array().unwrap() {
        assert_eq!(c["gaps"][0]["cause"], "logging_stopped", "{c:#}");
    }
}
