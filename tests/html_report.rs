//! The HTML report's structure, checked with an HTML parser: the verdict,
//! one timeline cell per hour, one row per finding, and an object key that
//! is markup rendered as text (the only script is the report's own).

use scraper::{Html, Selector};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trailproof");

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

#[test]
fn html_report_shows_findings_and_escapes_hostile_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--out",
            dir.path().to_str().unwrap(),
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--hours",
            "6",
            "--logs-per-hour",
            "2",
            "--seed",
            "2",
            "--damage",
            "tamper-log@3",
            "--damage",
            "gap@1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let day = dir
        .path()
        .join("trailproof-sample-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01");
    // A file name cannot hold "/", so no closing tag; an element is enough.
    let hostile = "<img src=x onerror=alert(1)><script>alert(2).json.gz";
    std::fs::write(day.join(hostile), b"x").unwrap();
    let html = dir.path().join("report.html");
    let out = Command::new(BIN)
        .args([
            "validate",
            "--local",
            dir.path().to_str().unwrap(),
            "--public-keys",
            dir.path().join("public-keys.json").to_str().unwrap(),
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail",
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T06:00:00Z",
            "--html",
            html.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&html).unwrap();
    let doc = Html::parse_document(&text);
    let verdict: String = doc
        .select(&sel("#verdict"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert_eq!(verdict, "evidence of tampering");
    assert_eq!(
        doc.select(&sel(".timeline .cell")).count(),
        6,
        "one cell per hour"
    );
    assert_eq!(doc.select(&sel(".timeline .cell.invalid")).count(), 1);
    assert_eq!(doc.select(&sel(".timeline .cell.gap-explained")).count(), 1);
    let rows: Vec<String> = doc
        .select(&sel("table.findings tr.finding"))
        .map(|r| r.text().collect::<String>())
        .collect();
    assert!(
        rows.iter().any(|r| r.contains("hash value doesn't match")),
        "{rows:#?}"
    );
    assert!(rows.iter().any(|r| r.contains(hostile)), "{rows:#?}");
    // Findings grouped by kind, each with what it means and what to do.
    let groups: Vec<String> = doc
        .select(&sel(".group"))
        .map(|g| g.text().collect::<String>())
        .collect();
    assert!(
        groups.iter().any(|g| g.contains("1 log file altered")
            && g.contains("What this means")
            && g.contains("What to do next")),
        "{groups:#?}"
    );
    assert!(groups
        .iter()
        .any(|g| g.contains("1 unexpected object") && g.contains(hostile)));
    // An explained gap is not a finding: it has its own table, with the
    // record that explains it.
    let gaps: Vec<String> = doc
        .select(&sel("table.gaps tbody tr"))
        .map(|r| r.text().collect::<String>())
        .collect();
    assert!(
        gaps.len() == 1 && gaps[0].contains("logging_stopped") && gaps[0].contains("yes"),
        "{gaps:#?}"
    );
    let line: String = doc
        .select(&sel("#verdict-line"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(line.contains("1 log file altered"), "{line}");
    let checked: String = doc
        .select(&sel("table.checked"))
        .next()
        .unwrap()
        .text()
        .collect();
    for want in ["Window", "local copy", "public-keys.json", "trailproof "] {
        assert!(checked.contains(want), "{want}: {checked}");
    }
    // The key is text: no image, and the only script element is the report's own.
    assert_eq!(doc.select(&sel("img")).count(), 0);
    assert_eq!(doc.select(&sel("script")).count(), 1);
    assert!(!text.contains("<img src=x"));
    // Self-contained: nothing is fetched (links only within the page).
    assert_eq!(doc.select(&sel("[src]")).count(), 0);
    for a in doc.select(&sel("[href]")) {
        assert!(a.value().attr("href").unwrap().starts_with('#'));
    }
}
