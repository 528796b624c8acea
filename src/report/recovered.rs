//! `--recover DIR`'s `manifest.json`: each original written into DIR (its
//! bucket, key, VersionId, when it was written and what happened to it
//! since, and the SHA-256 of the file as written), and each object whose
//! original did not come back, so an investigation knows what it holds.

use crate::verify::model::Report;
use crate::verify::recovery::Outcome;
use serde_json::{json, Value};

/// The manifest over `chains` (account, region, report), pretty JSON.
pub fn render(chains: &[(&str, &str, &Report)]) -> String {
    let (mut recovered, mut lost): (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
    let mut refused: Vec<String> = Vec::new();
    for (account, region, r) in chains {
        let Some(rec) = &r.recovery else { continue };
        refused.extend(
            rec.blocked
                .as_ref()
                .map(crate::report::explain::recovery_blocked),
        );
        for o in &rec.objects {
            let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.insert("account".into(), json!(account));
                m.insert("region".into(), json!(region));
                m.insert("file".into(), json!(format!("{}/{}", o.bucket, o.key)));
            }
            match o.outcome {
                Outcome::Recovered { .. } => recovered.push(v),
                Outcome::NotRecovered(_) => lost.push(v),
            }
        }
    }
    let doc = json!({
        "note": "Each file is the original of an object the signed CloudTrail chain expects, \
                 read from the bucket's versions and verified as the chain signed it (a digest's \
                 signature and links, a log file's SHA-256). `sha256` is of the file as written.",
        "recovered": recovered,
        "not_recovered": lost,
        "not_looked_for": refused,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
