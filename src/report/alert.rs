//! `--notify`: the one message a run that did not prove its window sends
//! to the alert channel (SNS for people, EventBridge for rules). The
//! on-call engineer reads the subject and the first line on a phone; a
//! rule matches the detail's `verdict` and `exit_status`.

use crate::report::compliance::Chain;
use crate::report::explain;
pub(crate) use crate::sources::notify::Alert;
use crate::verify::model::{ChainStatus, Verdict};
use crate::verify::time::display;
use serde_json::{json, Value};

/// Chains named one by one; the rest are counted (SNS takes 256 KB).
const NAMED_CHAINS: usize = 50;

/// Where the run left its reports, for the message's last lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct Places {
    pub report: Option<String>,
    pub html: Option<String>,
}

/// The alert of a run that decided its verdicts.
pub(crate) fn of_run(trail: &str, chains: &[Chain<'_>], verdict: Verdict, at: &Places) -> Alert {
    let reports: Vec<_> = chains.iter().map(|c| c.report).collect();
    let line = explain::verdict_of(verdict, &reports);
    let window = window(chains);
    let mut text = vec![format!("trailproof: {line}"), format!("Trail: {trail}")];
    if let Some((s, e)) = window {
        text.push(format!("Window: {} to {}", display(s), display(e)));
    }
    text.push(format!("Exit status: {}", verdict.exit_code()));
    text.push(counts_line(chains));
    text.extend(chain_lines(chains));
    text.extend(places_lines(at));
    let detail = json!({
        "verdict": verdict_name(verdict),
        "exit_status": verdict.exit_code(),
        "summary": line,
        "trail": trail,
        "window": window.map(|(s, e)| json!({"start": display(s), "end": display(e)})),
        "counts": counts(chains),
        "chains": chain_details(chains),
        "chains_total": chains.len(),
        "report": at.report,
        "html": at.html,
    });
    Alert {
        subject: subject(verdict_word(verdict), trail, verdict.exit_code()),
        text: text.join("\n") + "\n",
        detail,
        resources: arn_of(trail),
    }
}

/// The alert of a run that could not decide anything (exit 2): a
/// broken nightly job must not fall silent.
pub(crate) fn of_failure(trail: &str, error: &str) -> Alert {
    let code = Verdict::NotRun.exit_code();
    let text = format!(
        "trailproof: the run could not finish, so nothing was proven: {error}\n\
         Trail: {trail}\nExit status: {code}\n\
         Fix the cause and run again; until then the window is not proven.\n"
    );
    Alert {
        subject: subject("RUN FAILED", trail, code),
        text,
        detail: json!({
            "verdict": verdict_name(Verdict::NotRun),
            "exit_status": code,
            "summary": format!("the run could not finish: {error}"),
            "trail": trail,
            "chains": [],
            "chains_total": 0,
        }),
        resources: arn_of(trail),
    }
}

fn subject(word: &str, trail: &str, code: i32) -> String {
    let name = trail.rsplit('/').next().unwrap_or(trail);
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(60)
        .collect();
    let name = if name.is_empty() { "trail" } else { &name };
    format!("trailproof: {word}: {name} (exit {code})")
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Proven => "PROVEN",
        Verdict::NotProven => "NOT PROVEN",
        Verdict::Tampered => "TAMPERED",
        Verdict::NotRun => "RUN FAILED",
    }
}

/// The detail's `verdict`, as the JSON report's names go.
fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Proven => "proven",
        Verdict::NotProven => "not_proven",
        Verdict::Tampered => "tampered",
        Verdict::NotRun => "not_run",
    }
}

fn status_name(s: ChainStatus) -> &'static str {
    match s {
        ChainStatus::Tampered => "tampered",
        ChainStatus::Missing => "missing",
        ChainStatus::Unproven => "unproven",
        ChainStatus::UnprovenAllowed => "unproven_allowed",
        ChainStatus::Proven => "proven",
    }
}

fn window(
    chains: &[Chain<'_>],
) -> Option<(
    crate::verify::time::Timestamp,
    crate::verify::time::Timestamp,
)> {
    let start = chains.iter().map(|c| c.report.requested_start).min()?;
    let end = chains.iter().map(|c| c.report.requested_end).max()?;
    Some((start, end))
}

fn counts(chains: &[Chain<'_>]) -> Value {
    let (mut dv, mut dn, mut lv, mut ln, mut gaps) = (0, 0, 0, 0, 0);
    for c in chains {
        let s = c.report.summary();
        dv += s.digests.valid;
        dn += s.digests.not_valid();
        lv += s.logs.valid;
        ln += s.logs.not_valid();
        gaps += s.unexplained_gaps;
    }
    json!({
        "digests_valid": dv, "digests_not_valid": dn,
        "logs_valid": lv, "logs_not_valid": ln,
        "unexplained_gaps": gaps,
    })
}

fn counts_line(chains: &[Chain<'_>]) -> String {
    let c = counts(chains);
    format!(
        "Digests: {} valid, {} not valid. Log files: {} valid, {} not valid. Unexplained gaps: {}.",
        c["digests_valid"],
        c["digests_not_valid"],
        c["logs_valid"],
        c["logs_not_valid"],
        c["unexplained_gaps"]
    )
}

/// The chains that did not pass, by name, then how many passed.
fn chain_lines(chains: &[Chain<'_>]) -> Vec<String> {
    let failing: Vec<_> = chains
        .iter()
        .filter(|c| c.status != ChainStatus::Proven)
        .collect();
    let mut out = Vec::new();
    if !failing.is_empty() {
        out.push("Chains that did not pass:".to_string());
    }
    for c in failing.iter().take(NAMED_CHAINS) {
        let what = explain::counted([c.report]);
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(": {what}")
        };
        out.push(format!(
            "  {} {}: {}{what}",
            c.account,
            c.region,
            status_name(c.status).replace('_', " ")
        ));
    }
    if failing.len() > NAMED_CHAINS {
        out.push(format!("  and {} more", failing.len() - NAMED_CHAINS));
    }
    let passed = chains.len() - failing.len();
    out.push(format!(
        "Chains proven intact: {passed} of {}.",
        chains.len()
    ));
    out
}

fn chain_details(chains: &[Chain<'_>]) -> Vec<Value> {
    let failing = chains.iter().filter(|c| c.status != ChainStatus::Proven);
    failing
        .take(NAMED_CHAINS)
        .map(|c| {
            let s = c.report.summary();
            json!({
                "account": c.account, "region": c.region,
                "status": status_name(c.status),
                "exit_status": c.report.verdict().exit_code(),
                "logs_not_valid": s.logs.not_valid(),
                "digests_not_valid": s.digests.not_valid(),
                "unexplained_gaps": s.unexplained_gaps,
            })
        })
        .collect()
}

fn places_lines(at: &Places) -> Vec<String> {
    let mut out = Vec::new();
    match &at.report {
        Some(r) => out.push(format!("Report: {r}")),
        None => out.push("Report: on the job's standard output".to_string()),
    }
    if let Some(h) = &at.html {
        out.push(format!("HTML report: {h}"));
    }
    out
}

fn arn_of(trail: &str) -> Vec<String> {
    match trail.starts_with("arn:") {
        true => vec![trail.to_string()],
        false => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::model::Report;

    fn chains(reports: &[Report], status: ChainStatus) -> Vec<Chain<'_>> {
        reports
            .iter()
            .map(|report| Chain {
                account: "111122223333",
                region: "eu-west-1",
                report,
                status,
            })
            .collect()
    }

    /// A trail name is the operator's, but the subject must stay one
    /// ASCII line under 100 characters whatever it holds.
    #[test]
    fn the_subject_is_one_short_ascii_line() {
        let hostile = format!(
            "arn:aws:cloudtrail:us-east-1:1:trail/a\nb\u{202e}{}",
            "x".repeat(300)
        );
        for trail in [hostile.as_str(), "", "not an arn"] {
            let a = of_failure(trail, "no credentials");
            assert!(a.subject.len() < 100, "{}", a.subject);
            assert!(a.subject.is_ascii() && !a.subject.contains('\n'));
            assert!(a.subject.starts_with("trailproof: RUN FAILED: "));
        }
        assert!(of_failure("x", "e").resources.is_empty(), "not an ARN");
    }

    /// Fifty failing chains by name, the rest counted; the detail holds
    /// the same fifty and the total.
    #[test]
    fn many_chains_are_counted_past_fifty() {
        let t = chrono::DateTime::UNIX_EPOCH;
        let reports: Vec<Report> = (0..70).map(|_| Report::empty("arn:x", t, t)).collect();
        let all = chains(&reports, ChainStatus::Unproven);
        let a = of_run("arn:x", &all, Verdict::NotProven, &Places::default());
        assert!(a.text.contains("  and 20 more\n"), "{}", a.text);
        assert!(a.text.contains("Chains proven intact: 0 of 70."));
        assert!(a.text.contains("Report: on the job's standard output"));
        assert_eq!(a.detail["chains"].as_array().map(Vec::len), Some(50));
        assert_eq!(a.detail["chains_total"], 70);
        assert_eq!(a.detail["verdict"], "not_proven");
        assert!(a.subject.contains("NOT PROVEN"));
    }
}
