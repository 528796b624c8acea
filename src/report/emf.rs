//! `--metrics-format emf`: the metrics as CloudWatch Embedded Metric
//! Format lines, for runs in Lambda, ECS and AWS Batch, whose stdout (or a
//! file the CloudWatch agent tails) becomes CloudWatch metrics without a
//! PutMetricData call: one line per chain (dimensions Account, Region),
//! one for the run (dimension Trail).

use crate::verify::model::ChainSummary;
use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub(crate) const NAMESPACE: &str = "trailproof";

/// One JSON object a line.
pub fn render(
    trail_arn: &str,
    chains: &[ChainSummary],
    exit_code: i32,
    duration_seconds: f64,
) -> String {
    let now = chrono::Utc::now();
    let mut out = String::new();
    for c in chains {
        out.push_str(&chain_line(c, now).to_string());
        out.push('\n');
    }
    let run = [
        ("RunDurationSeconds", "Seconds", json!(duration_seconds)),
        ("ExitStatus", "None", json!(exit_code)),
        ("ChainsNotProven", "Count", json!(not_proven(chains))),
    ];
    out.push_str(&line(now, &[("Trail", trail_arn)], &run).to_string());
    out.push('\n');
    out
}

fn not_proven(chains: &[ChainSummary]) -> usize {
    chains.iter().filter(|c| c.exit_code != 0).count()
}

fn chain_line(c: &ChainSummary, now: chrono::DateTime<chrono::Utc>) -> Value {
    let (d, l) = (&c.counts.digests, &c.counts.logs);
    let mut metrics = vec![
        ("DigestsValid", "Count", json!(d.valid)),
        ("DigestsNotValid", "Count", json!(d.not_valid())),
        ("LogsValid", "Count", json!(l.valid)),
        ("LogsNotValid", "Count", json!(l.not_valid())),
        (
            "UnexpectedObjects",
            "Count",
            json!(c.counts.unexpected_objects),
        ),
        ("GapsExplained", "Count", json!(c.gaps_explained)),
        ("GapsUnexplained", "Count", json!(c.gaps_unexplained)),
        ("UntrustedSeconds", "Seconds", json!(c.untrusted_seconds)),
        ("ChainExitStatus", "None", json!(c.exit_code)),
    ];
    // Absent when nothing verified: an alarm on it treats missing data as
    // breaching, as a stale chain is.
    if let Some(n) = &c.newest {
        let age = (now - n.end).num_seconds().max(0);
        metrics.push(("NewestVerifiedDigestAgeSeconds", "Seconds", json!(age)));
    }
    line(
        now,
        &[("Account", &c.account), ("Region", &c.region)],
        &metrics,
    )
}

/// One EMF document: the directive, the dimension values and the metric
/// values as top-level members.
fn line(
    now: chrono::DateTime<chrono::Utc>,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, Value)],
) -> Value {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit }))
        .collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": defs,
            }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), json!(v));
    }
    for (name, _, v) in metrics {
        doc.insert((*name).into(), v.clone());
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric the directive names is a top-level number, every
    /// dimension a top-level string, within EMF's limits.
    #[test]
    fn each_line_is_a_complete_emf_document() {
        let c = ChainSummary::tampered_example("111111111111", "eu-west-1");
        let text = render("arn:aws:cloudtrail:us-east-1:1:trail/t", &[c], 1, 1.5);
        let docs: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len(), 2);
        for d in &docs {
            let directive = &d["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], NAMESPACE);
            assert!(d["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
            for dims in directive["Dimensions"].as_array().unwrap() {
                let dims = dims.as_array().unwrap();
                assert!(dims.len() <= 30);
                for k in dims {
                    assert!(d[k.as_str().unwrap()].is_string(), "{d}");
                }
            }
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!(metrics.len() <= 100);
            for m in metrics {
                assert!(d[m["Name"].as_str().unwrap()].is_number(), "{d}");
            }
        }
        assert_eq!(docs[0]["GapsUnexplained"], 2);
        assert_eq!(docs[0]["Account"], "111111111111");
        assert!(docs[0].get("NewestVerifiedDigestAgeSeconds").is_none());
        assert_eq!(docs[1]["ExitStatus"], 1);
        assert_eq!(docs[1]["ChainsNotProven"], 1);
    }
}
