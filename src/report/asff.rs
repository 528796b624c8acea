//! `--format asff`: the findings in the AWS Security Finding Format, as
//! Security Hub's BatchImportFindings takes them (a JSON array; the same
//! Id on the next run updates the finding). Each finding belongs to its
//! chain's account, under that account's default product in the trail's
//! home region, where the import sends it.

use crate::report::compliance::{self, clip, printable, Finding, Outcome, Severity, Subject};
use crate::sources::securityhub::{
    Asff, AsffCompliance, AsffRecommendation, AsffRemediation, AsffResource, AsffSeverity,
};
use crate::verify::time::Timestamp;
use std::collections::BTreeMap;

/// The findings as a JSON array, pretty-printed.
pub(crate) fn render(findings: &[Finding], now: Timestamp) -> String {
    let all: Vec<Asff> = findings.iter().map(|f| of(f, now)).collect();
    let mut out = serde_json::to_string_pretty(&all).unwrap_or_default();
    out.push('\n');
    out
}

/// The account's own product ARN in the trail's home region.
pub(crate) fn product_arn(f: &Finding) -> String {
    let (t, account) = (&f.trail, &f.account);
    format!(
        "arn:{}:securityhub:{}:{account}:product/{account}/default",
        t.partition, t.region
    )
}

/// One finding as the file and the import carry it.
pub(crate) fn of(f: &Finding, now: Timestamp) -> Asff {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Asff {
        schema_version: "2018-10-08",
        id: f.id.clone(),
        product_arn: product_arn(f),
        generator_id: generator(f),
        aws_account_id: f.account.clone(),
        types: vec!["Software and Configuration Checks/AWS Security Best Practices"],
        created_at: at.clone(),
        updated_at: at,
        severity: AsffSeverity {
            label: label(f.severity),
        },
        title: clip(&printable(&f.title), 256),
        description: clip(&printable(&f.description), 1024),
        resources: vec![resource(f)],
        compliance: AsffCompliance {
            status: status(f.outcome),
            related_requirements: compliance::REQUIREMENTS.to_vec(),
        },
        company_name: "trailproof",
        product_name: "trailproof",
        product_fields: product_fields(f),
        remediation: f.remediation.as_ref().map(|r| AsffRemediation {
            recommendation: AsffRecommendation {
                text: clip(&printable(r), 512),
            },
        }),
        home_region: f.trail.region.clone(),
    }
}

fn generator(f: &Finding) -> String {
    match &f.subject {
        Subject::Chain => "trailproof/chain".to_string(),
        Subject::Object { problem, .. } => format!(
            "trailproof/{}",
            problem.map_or("unverified", |p| p.as_str())
        ),
    }
}

fn resource(f: &Finding) -> AsffResource {
    let kind = match f.subject {
        Subject::Chain => "AwsCloudTrailTrail",
        Subject::Object { .. } => "AwsS3Object",
    };
    AsffResource {
        kind,
        id: printable(&compliance::resource_arn(f)),
        partition: f.trail.partition.clone(),
        // A region folder an attacker named can be any 32 characters; the
        // field takes 16, and an import would drop the very finding that
        // names it. The name stays in ProductFields.
        region: region_like(&f.region).then(|| f.region.clone()),
    }
}

/// An AWS region's shape (`us-east-1`, `us-gov-west-1`), at most 16 long.
fn region_like(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    let words = |p: &[&str]| {
        p.iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
    };
    r.len() <= 16
        && parts.len() >= 3
        && parts[0].len() == 2
        && words(&parts[..parts.len() - 1])
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Strings only, each at most 2,048 characters.
fn product_fields(f: &Finding) -> BTreeMap<String, String> {
    let d = crate::verify::time::display;
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(format!("trailproof/{k}"), clip(&printable(&v), 2048));
    };
    put("Region", f.region.clone());
    put("WindowStart", d(f.window.0));
    put("WindowEnd", d(f.window.1));
    if let Some((s, e)) = f.span {
        put("EventsFrom", d(s));
        put("EventsTo", d(e));
    }
    if let Subject::Object {
        problem: Some(p), ..
    } = &f.subject
    {
        put("Problem", p.as_str().to_string());
    }
    if let Some(c) = &f.counts {
        put("DigestsValid", c.digests.valid.to_string());
        put("LogsValid", c.logs.valid.to_string());
        put("LogsNotValid", c.logs.not_valid().to_string());
        put("UnexplainedGaps", c.unexplained_gaps.to_string());
    }
    m
}

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

fn status(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASSED",
        Outcome::Warning => "WARNING",
        Outcome::Fail => "FAILED",
    }
}
