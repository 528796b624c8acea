//! `--format ocsf`: JSON Lines of OCSF 1.4 Compliance Finding events
//! (class 2003), what Security Lake and the SIEMs ingest: one per chain
//! and window, one per object that is not valid.

use crate::report::compliance::{self, clip, Finding, Outcome, Severity, Subject};
use crate::verify::time::Timestamp;
use serde_json::{json, Value};

/// The schema version the events follow.
pub(crate) const OCSF_VERSION: &str = "1.4.0";
const CLASS_UID: u32 = 2003;
/// Create: each run reports what it found as of now.
const ACTIVITY_ID: u32 = 1;

/// One line per finding, in the run's order.
pub(crate) fn render(findings: &[Finding], now: Timestamp) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&event(f, now).to_string());
        out.push('\n');
    }
    out
}

fn event(f: &Finding, now: Timestamp) -> Value {
    let (start, end) = f.span.unwrap_or(f.window);
    let mut v = json!({
        "activity_id": ACTIVITY_ID, "activity_name": "Create",
        "category_uid": 2, "category_name": "Findings",
        "class_uid": CLASS_UID, "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID, "type_name": "Compliance Finding: Create",
        "severity_id": severity_id(f.severity), "severity": severity_name(f.severity),
        "time": now.timestamp_millis(),
        "start_time": start.timestamp_millis(), "end_time": end.timestamp_millis(),
        "message": f.title,
        "status_id": 1, "status": "New",
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": "trailproof", "vendor_name": "trailproof",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "finding_info": {
            "uid": f.id, "title": clip(&f.title, 256), "desc": f.description,
            "types": ["CloudTrail log file integrity"],
        },
        "compliance": {
            "standards": ["CIS AWS Foundations Benchmark", "NIST SP 800-53 Rev. 5"],
            "requirements": compliance::REQUIREMENTS,
            "control": "CloudTrail log file validation",
            "status_id": status_id(f.outcome), "status": status_name(f.outcome),
        },
        "cloud": {
            "provider": "AWS", "region": f.region,
            "account": {"uid": f.account, "type_id": 10, "type": "AWS Account"},
        },
        "resources": [resource(f)],
        "unmapped": unmapped(f),
    });
    if let Some(r) = &f.remediation {
        v["remediation"] = json!({ "desc": r });
    }
    v
}

fn resource(f: &Finding) -> Value {
    let (kind, name) = match &f.subject {
        Subject::Chain => ("AWS::CloudTrail::Trail", f.trail.name.as_str()),
        Subject::Object { key, .. } => ("AWS::S3::Object", key.as_str()),
    };
    json!({
        "uid": compliance::resource_arn(f), "type": kind, "name": name, "region": f.region,
    })
}

/// trailproof's own fields: the window, the problem and the chain's counts.
fn unmapped(f: &Finding) -> Value {
    let mut v = json!({
        "trail_arn": f.trail.arn,
        "window": {
            "start": crate::verify::time::display(f.window.0),
            "end": crate::verify::time::display(f.window.1),
        },
    });
    if let Subject::Object { problem, .. } = &f.subject {
        v["problem"] = json!(problem.map(|p| p.as_str()));
    }
    if let Some(c) = &f.counts {
        v["counts"] = serde_json::to_value(c).unwrap_or_default();
    }
    json!({ "trailproof": v })
}

fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

fn status_id(o: Outcome) -> u8 {
    match o {
        Outcome::Pass => 1,
        Outcome::Warning => 2,
        Outcome::Fail => 3,
    }
}

fn status_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "Pass",
        Outcome::Warning => "Warning",
        Outcome::Fail => "Fail",
    }
}
