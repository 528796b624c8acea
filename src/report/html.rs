//! One self-contained HTML file (no network fetch; prints well): the run's
//! parameters and verdict, then per chain a timeline of the window, the
//! findings table (sortable and filterable with a few lines of inline
//! script) and the untrusted spans. Every value comes through the template
//! engine's HTML escaping: object keys are attacker-chosen.

use crate::report::model::{ChainReport, EstateReport, Report, Status, Untrusted};
use crate::verify::time::{display, Timestamp};
use chrono::Duration;
use minijinja::{context, Environment};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/report.html");

/// Cells in a chain's timeline at most: hours up to about a month, days beyond.
const MAX_HOUR_CELLS: i64 = 24 * 31;

#[derive(Serialize)]
struct Cell {
    state: &'static str,
    title: String,
}

#[derive(Serialize)]
struct FindingRow {
    kind: &'static str,
    what: String,
    status: String,
    problem: String,
    message: String,
    detail: String,
}

#[derive(Serialize)]
struct Span {
    start: String,
    end: String,
    reasons: String,
}

#[derive(Serialize)]
struct ChainView {
    account: String,
    region: String,
    exit_code: i32,
    verdict: &'static str,
    expected_because: Option<String>,
    digests_valid: usize,
    digests_total: usize,
    logs_valid: usize,
    logs_total: usize,
    gaps: usize,
    cell_label: &'static str,
    cells: Vec<Cell>,
    untrusted: Vec<Span>,
    findings: Vec<FindingRow>,
}

fn verdict(code: i32) -> &'static str {
    match code {
        crate::report::model::exit::TAMPERED => "evidence of tampering",
        crate::report::model::exit::UNPROVEN => "coverage not proven",
        _ => "proven intact",
    }
}

/// The state of one cell: the worst untrusted reason overlapping it, else
/// verified when a valid digest covers it.
fn cell_state(r: &Report, a: Timestamp, b: Timestamp) -> (&'static str, String) {
    let overlapping: Vec<&Untrusted> = r
        .untrusted
        .iter()
        .filter(|u| u.start < b && u.end > a)
        .collect();
    let has = |why: &str| overlapping.iter().any(|u| u.reasons.contains(&why));
    let reasons: Vec<&str> = overlapping
        .iter()
        .flat_map(|u| u.reasons.iter().copied())
        .collect();
    let title = |what: &str| format!("{} to {}: {what}", display(a), display(b));
    if has("invalid_log_file") || has("digest_invalid") {
        return ("invalid", title(&reasons.join(", ")));
    }
    if has("digest_missing") {
        return ("missing", title(&reasons.join(", ")));
    }
    if has("unexplained_gap") {
        return ("gap", title("gap nothing explains"));
    }
    if has("explained_gap") {
        let cause = r
            .gaps
            .iter()
            .find(|g| g.start < b && g.end > a)
            .and_then(|g| g.cause.clone())
            .unwrap_or_else(|| "explained".into());
        return ("gap-explained", title(&format!("gap: {cause}")));
    }
    if has("not_yet_delivered") {
        return ("pending", title("digest not due yet"));
    }
    let covered = r.digests.iter().any(|d| {
        d.status == Status::Valid
            && !d.backfill
            && d.start.is_some_and(|s| s < b)
            && d.end.is_some_and(|e| e > a)
    });
    if covered {
        ("verified", title("verified"))
    } else {
        ("none", title("no digest"))
    }
}

fn cells(r: &Report) -> (&'static str, Vec<Cell>) {
    let (start, end) = (r.requested_start, r.requested_end);
    let hours = (end - start).num_hours().max(1);
    let (step, label) = if hours > MAX_HOUR_CELLS {
        (Duration::days(1), "day")
    } else {
        (Duration::hours(1), "hour")
    };
    let mut out = Vec::new();
    let mut a = start;
    while a < end && out.len() < 10_000 {
        let b = (a + step).min(end);
        let (state, title) = cell_state(r, a, b);
        out.push(Cell { state, title });
        a = b;
    }
    (label, out)
}

fn findings(r: &Report) -> Vec<FindingRow> {
    let mut out = Vec::new();
    let row = |kind,
               bucket: &str,
               key: &str,
               status: Status,
               f: Option<&crate::report::model::Finding>| {
        FindingRow {
            kind,
            what: format!("s3://{bucket}/{key}"),
            status: serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            problem: f
                .map(|f| f.problem.as_str().to_string())
                .unwrap_or_default(),
            message: f.map(|f| f.reason.clone()).unwrap_or_default(),
            detail: f.and_then(|f| f.detail.clone()).unwrap_or_default(),
        }
    };
    for d in r.digests.iter().filter(|d| d.status != Status::Valid) {
        out.push(row(
            "digest",
            &d.bucket,
            &d.key,
            d.status,
            d.finding.as_ref(),
        ));
    }
    for l in r.logs.iter().filter(|l| l.status != Status::Valid) {
        out.push(row("log", &l.bucket, &l.key, l.status, l.finding.as_ref()));
    }
    for o in &r.unexpected {
        out.push(row(
            "object",
            &o.bucket,
            &o.key,
            Status::Invalid,
            Some(&o.finding),
        ));
    }
    for g in &r.gaps {
        out.push(FindingRow {
            kind: "gap",
            what: format!("{} to {}", display(g.start), display(g.end)),
            status: if g.explained {
                "explained"
            } else {
                "unexplained"
            }
            .to_string(),
            problem: serde_json::to_value(g.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            message: g.cause.clone().unwrap_or_default(),
            detail: g.evidence.clone().unwrap_or_default(),
        });
    }
    for u in &r.unproven {
        out.push(FindingRow {
            kind: "coverage",
            what: String::new(),
            status: "unproven".into(),
            problem: String::new(),
            message: u.clone(),
            detail: String::new(),
        });
    }
    out
}

fn chain_view(c: &ChainReport) -> ChainView {
    let r = &c.report;
    let s = r.summary();
    let (cell_label, cells) = cells(r);
    ChainView {
        account: c.account.clone(),
        region: c.region.clone(),
        exit_code: r.exit_code(),
        verdict: verdict(r.exit_code()),
        expected_because: c.expected_because.clone(),
        digests_valid: s.digests.valid + s.backfill_digests.valid,
        digests_total: s.digests.total + s.backfill_digests.total,
        logs_valid: s.logs.valid,
        logs_total: s.logs.total,
        gaps: s.gaps,
        cell_label,
        cells,
        untrusted: r
            .untrusted
            .iter()
            .map(|u| Span {
                start: display(u.start),
                end: display(u.end),
                reasons: u.reasons.join(", "),
            })
            .collect(),
        findings: findings(r),
    }
}

/// The report of a run over one or more chains.
pub fn render(estate: &EstateReport) -> Result<String, String> {
    let mut env = Environment::new();
    // The `.html` name turns on HTML escaping of every value.
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let tmpl = env.get_template("report.html").map_err(|e| e.to_string())?;
    let chains: Vec<ChainView> = estate.chains.iter().map(chain_view).collect();
    let code = estate.exit_code();
    let mut notes = estate.notes.clone();
    for c in &estate.chains {
        notes.extend(c.report.notes.iter().cloned());
    }
    notes.dedup();
    tmpl.render(context! {
        trail_arn => estate.trail_arn,
        start => display(estate.requested_start),
        end => display(estate.requested_end),
        exit_code => code,
        verdict => verdict(code),
        generated => display(chrono::Utc::now()),
        version => env!("CARGO_PKG_VERSION"),
        notes => notes,
        chains => chains,
    })
    .map_err(|e| e.to_string())
}

/// One chain's report as a one-chain estate.
pub fn render_single(report: &Report, account: &str, region: &str) -> Result<String, String> {
    render(&EstateReport {
        trail_arn: report.trail_arn.clone(),
        requested_start: report.requested_start,
        requested_end: report.requested_end,
        chains: vec![ChainReport {
            account: account.to_string(),
            region: region.to_string(),
            expected_because: None,
            slice: None,
            report: report.clone(),
        }],
        notes: Vec::new(),
        shard: None,
    })
}
