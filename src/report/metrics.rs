//! Prometheus text exposition (format 0.0.4, the node_exporter textfile
//! collector's input) for scheduled runs: per chain, the newest verified
//! digest, objects by status, gaps, untrusted seconds and exit status; per
//! run, its duration and exit status. Written by hand: a dozen gauges do
//! not need a registry, and label values are escaped as the format says.

use crate::verify::model::{ChainSummary, Counts};
use std::fmt::Write;

/// `\`, `"` and newlines escaped, as label values require.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn chain_labels(c: &ChainSummary) -> String {
    format!(
        "account=\"{}\",region=\"{}\"",
        escape(&c.account),
        escape(&c.region)
    )
}

/// One gauge family: its help, its type and its samples (labels, value).
fn gauge(out: &mut String, name: &str, help: &str, samples: Vec<(String, String)>) {
    family(out, name, help);
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// One sample per chain.
fn per_chain(
    chains: &[ChainSummary],
    value: impl Fn(&ChainSummary) -> String,
) -> Vec<(String, String)> {
    chains.iter().map(|c| (chain_labels(c), value(c))).collect()
}

/// Digest and log files of every chain by kind and verdict.
fn objects(chains: &[ChainSummary]) -> Vec<(String, String)> {
    let mut samples = Vec::new();
    for c in chains {
        let kinds: [(&str, &Counts); 3] = [
            ("digest", &c.counts.digests),
            ("backfill_digest", &c.counts.backfill_digests),
            ("log", &c.counts.logs),
        ];
        for (kind, n) in kinds {
            for (status, v) in [
                ("valid", n.valid),
                ("invalid", n.invalid),
                ("unverified", n.unverified),
            ] {
                let labels = format!("{},kind=\"{kind}\",status=\"{status}\"", chain_labels(c));
                samples.push((labels, v.to_string()));
            }
        }
        let labels = format!("{},kind=\"unexpected\",status=\"invalid\"", chain_labels(c));
        samples.push((labels, c.counts.unexpected_objects.to_string()));
    }
    samples
}

fn gaps(chains: &[ChainSummary]) -> Vec<(String, String)> {
    let mut samples = Vec::new();
    for c in chains {
        for (explained, v) in [("true", c.gaps_explained), ("false", c.gaps_unexplained)] {
            let labels = format!("{},explained=\"{explained}\"", chain_labels(c));
            samples.push((labels, v.to_string()));
        }
    }
    samples
}

/// One sample per chain and protection.
fn protections(chains: &[ChainSummary]) -> Vec<(String, String)> {
    use crate::verify::protections::ProtectionState;
    let mut samples = Vec::new();
    for c in chains {
        for p in &c.protections {
            let labels = format!("{},protection=\"{}\"", chain_labels(c), p.kind.name());
            let v = match p.state {
                ProtectionState::Protected => "1",
                ProtectionState::Unprotected => "0",
                ProtectionState::Unknown => "-1",
            };
            samples.push((labels, v.to_string()));
        }
    }
    samples
}

/// The metrics of a run over `chains`.
pub fn render(chains: &[ChainSummary], exit_code: i32, duration_seconds: f64) -> String {
    let mut out = String::new();
    gauge(
        &mut out,
        "trailproof_newest_verified_digest_end_seconds",
        "End time (Unix seconds) of the newest verified digest of the chain.",
        // 0 when nothing verified: a staleness alert then fires too.
        per_chain(chains, |c| {
            c.newest
                .as_ref()
                .map_or(0, |n| n.end.timestamp())
                .to_string()
        }),
    );
    let o = &mut out;
    gauge(
        o,
        "trailproof_objects",
        "Digest and log files of the chain by verdict.",
        objects(chains),
    );
    gauge(
        o,
        "trailproof_gaps",
        "Gaps in the chain's digests, explained by CloudTrail's records or not.",
        gaps(chains),
    );
    gauge(
        o,
        "trailproof_untrusted_seconds",
        "Seconds of the window whose events cannot be trusted.",
        per_chain(chains, |c| c.untrusted_seconds.to_string()),
    );
    gauge(
        o,
        "trailproof_chain_exit_status",
        "0 proven, 1 tampered, 3 coverage not proven.",
        per_chain(chains, |c| c.exit_code.to_string()),
    );
    gauge(
        o,
        "trailproof_protection",
        "The chain's bucket's protections: 1 protected, 0 unprotected, -1 unknown (live runs).",
        protections(chains),
    );
    let run = |v: String| vec![(String::new(), v)];
    gauge(
        o,
        "trailproof_run_duration_seconds",
        "Wall time of the run.",
        run(format!("{duration_seconds:.3}")),
    );
    gauge(
        o,
        "trailproof_exit_status",
        "The run's exit status: 0 proven, 1 tampered, 3 coverage not proven.",
        run(exit_code.to_string()),
    );
    gauge(
        o,
        "trailproof_last_run_timestamp_seconds",
        "When the run finished (Unix seconds).",
        run(chrono::Utc::now().timestamp().to_string()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_every_sample_has_a_family() {
        let c = ChainSummary::tampered_example("a\"b\\c\nd", "us-east-1");
        let text = render(&[c], 1, 1.5);
        assert!(text.contains("account=\"a\\\"b\\\\c\\nd\""), "{text}");
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(typed.contains(name), "{line}");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
        assert!(text.contains("trailproof_gaps{account=\"a\\\"b\\\\c\\nd\",region=\"us-east-1\",explained=\"false\"} 2"));
    }
}
