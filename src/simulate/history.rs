//! The simulated trail's event history: what `aws cloudtrail lookup-events`
//! would print for the account and region. CloudTrail's event history holds
//! every management event whatever a trail's selectors say, so it holds the
//! write events a narrowed trail left out of its logs and what was done
//! while logging was off; written as `lookup-events.json` for `--gap-events`
//! and the test CloudTrail endpoint.

use super::records;
use crate::verify::time::Timestamp;
use chrono::Duration;
use rand::SeedableRng;
use serde_json::{json, Value};

/// Records for event history, and the spans the trail's own logs leave
/// write events out of (its selectors recorded reads only).
#[derive(Default)]
pub struct History {
    pub narrowed: Vec<(Timestamp, Timestamp)>,
    pub records: Vec<Value>,
}

impl History {
    /// Whether a record at `t` is left out of the trail's logs: a write
    /// event inside a narrowed span.
    pub(crate) fn excludes(&self, t: Timestamp, record: &Value) -> bool {
        record["readOnly"] == Value::Bool(false)
            && self.narrowed.iter().any(|(a, b)| *a <= t && t < *b)
    }

    /// What was done while logging was off in the hour from `start`: two
    /// write calls an intruder would make, in event history only.
    pub(crate) fn activity_while_off(&mut self, account: &str, region: &str, start: Timestamp) {
        for minutes in [20, 40] {
            let t = start + Duration::minutes(minutes);
            let mut rng = rand::rngs::StdRng::seed_from_u64(t.timestamp() as u64 ^ 0x5eed);
            self.records
                .push(records::write_record(&mut rng, account, region, t));
        }
    }

    /// The `lookup-events` JSON, merged with what `existing` (an earlier
    /// chain's file in the same directory) holds.
    pub(crate) fn to_json(&self, existing: Option<&[u8]>) -> Value {
        let mut events: Vec<Value> = existing
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| v.get("Events").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        events.extend(self.records.iter().map(lookup_event));
        json!({ "Events": events })
    }
}

/// One record as `lookup-events` prints it.
pub(crate) fn lookup_event(r: &Value) -> Value {
    let time = r["eventTime"].as_str().unwrap_or_default();
    let resource = r["requestParameters"]["name"]
        .as_str()
        .or_else(|| r["requestParameters"]["trailName"].as_str());
    json!({
        "EventId": r["eventID"],
        "EventName": r["eventName"],
        "ReadOnly": if r["readOnly"] == Value::Bool(true) { "true" } else { "false" },
        "EventTime": time.replace('Z', "+00:00"),
        "EventSource": r["eventSource"],
        "Username": r["userIdentity"]["userName"].as_str()
            .or_else(|| r["userIdentity"]["arn"].as_str()),
        "Resources": resource.map(|n| vec![json!({"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": n})])
            .unwrap_or_default(),
        "CloudTrailEvent": r.to_string(),
    })
}
