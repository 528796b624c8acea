//! Prometheus text exposition (format 0.0.4, the node_exporter textfile
//! collector's input) for scheduled runs: per chain, the newest verified
//! digest, objects by status, gaps, untrusted seconds and exit status; per
//! run, its duration and exit status. Written by hand: a dozen gauges do
//! not need a registry, and label values are escaped as the format says.

use crate::report::model::{ChainSummary, Counts};
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

/// The metrics of a run over `chains`.
pub fn render(chains: &[ChainSummary], exit_code: i32, duration_seconds: f64) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "trailproof_newest_verified_digest_end_seconds",
        "End time (Unix seconds) of the newest verified digest of the chain.",
    );
    for c in chains {
        // 0 when nothing verified: a staleness alert then fires too.
        let end = c.newest.as_ref().map_or(0, |n| n.end.timestamp());
        let _ = writeln!(
            out,
            "trailproof_newest_verified_digest_end_seconds{{{}}} {end}",
            chain_labels(c)
        );
    }
    family(
        &mut out,
        "trailproof_objects",
        "Digest and log files of the chain by verdict.",
    );
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
                let _ = writeln!(
                    out,
                    "trailproof_objects{{{},kind=\"{kind}\",status=\"{status}\"}} {v}",
                    chain_labels(c)
                );
            }
        }
        let _ = writeln!(
            out,
            "trailproof_objects{{{},kind=\"unexpected\",status=\"invalid\"}} {}",
            chain_labels(c),
            c.counts.unexpected_objects
        );
    }
    family(
        &mut out,
        "trailproof_gaps",
        "Gaps in the chain's digests, explained by CloudTrail's records or not.",
    );
    for c in chains {
        for (explained, v) in [("true", c.gaps_explained), ("false", c.gaps_unexplained)] {
            let _ = writeln!(
                out,
                "trailproof_gaps{{{},explained=\"{explained}\"}} {v}",
                chain_labels(c)
            );
        }
    }
    family(
        &mut out,
        "trailproof_untrusted_seconds",
        "Seconds of the window whose events cannot be trusted.",
    );
    for c in chains {
        let _ = writeln!(
            out,
            "trailproof_untrusted_seconds{{{}}} {}",
            chain_labels(c),
            c.untrusted_seconds
        );
    }
    family(
        &mut out,
        "trailproof_chain_exit_status",
        "0 proven, 1 tampered, 3 coverage not proven.",
    );
    for c in chains {
        let _ = writeln!(
            out,
            "trailproof_chain_exit_status{{{}}} {}",
            chain_labels(c),
            c.exit_code
        );
    }
    family(
        &mut out,
        "trailproof_run_duration_seconds",
        "Wall time of the run.",
    );
    let _ = writeln!(out, "trailproof_run_duration_seconds {duration_seconds:.3}");
    family(
        &mut out,
        "trailproof_exit_status",
        "The run's exit status: 0 proven, 1 tampered, 3 coverage not proven.",
    );
    let _ = writeln!(out, "trailproof_exit_status {exit_code}");
    family(
        &mut out,
        "trailproof_last_run_timestamp_seconds",
        "When the run finished (Unix seconds).",
    );
    let _ = writeln!(
        out,
        "trailproof_last_run_timestamp_seconds {}",
        chrono::Utc::now().timestamp()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Summary;

    #[test]
    fn label_values_are_escaped_and_every_sample_has_a_family() {
        let c = ChainSummary {
            account: "a\"b\\c\nd".into(),
            region: "us-east-1".into(),
            exit_code: 1,
            strictly_proven: false,
            newest: None,
            counts: Summary::default(),
            gaps_explained: 0,
            gaps_unexplained: 2,
            untrusted_seconds: 3600,
        };
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
