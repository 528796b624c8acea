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
        rows.iter().any(|r| r.contains("hash_mismatch")),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(hostile) && r.contains("unexpected_object")),
        "{rows:#?}"
    );
    assert!(
        rows.iter().any(|r| r.contains("logging_stopped")),
        "{rows:#?}"
    );
    // The key is text: no image, and the only script element is the report's own.
    assert_eq!(doc.select(&sel("img")).count(), 0);
    assert_eq!(doc.select(&sel("script")).count(), 1);
    assert!(!text.contains("<img src=x"));
    // Self-contained: nothing is fetched.
    for attr in ["src", "href"] {
        assert_eq!(doc.select(&sel(&format!("[{attr}]"))).count(), 0, "{attr}");
    }
}
