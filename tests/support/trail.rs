//! The shared trail builder: a trail simulated in-process from the
//! `simulate` command's own arguments (so a test reads as the command a
//! user would type), with the simulator's typed output (which objects each
//! damage touched), the binary run on it, and a typed result.

use clap::Parser;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use trailproof::cli::{Cli, Command as Sub};
use trailproof::simulate::signer::Signer;
use trailproof::simulate::SimOutput;

pub const BIN: &str = env!("CARGO_BIN_EXE_trailproof");

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report on stdout, whose `exit_code` must be the process's.
    pub fn json(&self) -> Value {
        let v: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr));
        let said = v["summary"]["exit_code"].as_i64();
        assert_eq!(said.map(|c| c as i32), Some(self.code), "{}", self.stderr);
        v
    }
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Run {
    let out = Command::new(BIN).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A simulated trail in its own temporary directory.
pub struct Trail {
    pub dir: tempfile::TempDir,
    pub out: SimOutput,
}

impl Trail {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The folder of the trail's bucket.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root().join(&self.out.bucket)
    }

    /// The public keys file the simulator wrote.
    pub fn keys(&self) -> PathBuf {
        self.out.keys_file.clone()
    }

    /// Every object key a damage touched (deleted, changed, moved to,
    /// forged, added, or dropped from a forged digest).
    pub fn damaged_keys(&self) -> BTreeSet<String> {
        let effects = self.out.damage.iter().map(|a| &a.effect);
        effects.flat_map(|e| e.keys()).map(str::to_string).collect()
    }
}

/// One signing key for the test binary's trails: generating a key is the
/// slow part of simulating.
fn shared_signer() -> Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::generate().unwrap()).clone()
}

/// Simulates a trail with the `simulate` command's arguments (`--out` is
/// the trail's own directory), signed with the shared key.
pub fn simulate(args: &[&str]) -> Trail {
    simulate_with(args, Some(shared_signer()))
}

/// An intact trail of three hours from 2026-03-01T00:00Z (seed 4): what
/// a run that must pass, or one with a single planted object, starts from.
pub fn three_hours() -> Trail {
    simulate(&[
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--hours",
        "3",
        "--seed",
        "4",
    ])
}

/// The same with a key of its own (a trail whose keys must not verify
/// another's digests).
pub fn simulate_own_key(args: &[&str]) -> Trail {
    simulate_with(args, None)
}

/// Simulates into `dir` (a test's own layout), signed with the shared key.
pub fn simulate_in(dir: &Path, args: &[&str]) -> SimOutput {
    write(dir, args, Some(shared_signer()))
}

fn simulate_with(args: &[&str], signer: Option<Signer>) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let out = write(dir.path(), args, signer);
    Trail { dir, out }
}

fn write(dir: &Path, args: &[&str], signer: Option<Signer>) -> SimOutput {
    let mut full = vec!["trailproof", "simulate", "--out", dir.to_str().unwrap()];
    full.extend_from_slice(args);
    let Sub::Simulate(cmd) = Cli::try_parse_from(&full).unwrap().command else {
        unreachable!("simulate parses as simulate");
    };
    let (mut spec, accounts, regions) = cmd.sim.to_spec().unwrap();
    spec.signer = signer;
    trailproof::simulate::run(&spec, &accounts, &regions)
        .unwrap_or_else(|e| panic!("simulate {args:?}: {e}"))
}

/// `validate --local` of a simulated sample trail over 2026-03-01 from
/// midnight to `end`, with the report in `report` and `extra` flags.
pub fn validate_local(t: &Trail, end: &str, report: &Path, extra: &[&str]) -> Run {
    let (root, keys) = (
        t.root().display().to_string(),
        t.keys().display().to_string(),
    );
    let report = report.display().to_string();
    let mut args = vec!["validate", "--local", &root, "--public-keys", &keys];
    args.extend([
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail",
    ]);
    args.extend(["--start-time", "2026-03-01T00:00:00Z", "--end-time", end]);
    args.extend(["--report-file", &report]);
    args.extend_from_slice(extra);
    run(&args)
}
