//! `--notify`: the one message a run that did not prove its window sends
//! to the alert channel (SNS for people, EventBridge for rules). The
//! on-call engineer reads the subject and the first line on a phone; a
//! rule matches the detail's `verdict` and `exit_status`.

use crate::report::compliance::{printable, Chain};
use crate::report::explain;
pub(crate) use crate::sources::notify::Alert;
use crate::verify::model::{ChainStatus, ChainSummary, Verdict};
use crate::verify::time::display;
use crate::verify::time::Timestamp;
use serde_json::{json, Value};

/// Chains named one by one; the rest are counted (SNS takes 256 KB).
const NAMED_CHAINS: usize = 50;

/// Where the run left its reports, for the message's last lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct Places {
    pub report: Option<String>,
    pub html: Option<String>,
}

/// Bytes of a sentence the alert quotes (a verdict line over many
/// chains, an error): SNS and EventBridge refuse 256 KB.
const SENTENCE_BYTES: usize = 2048;

/// What the alert is of. The counts and the window are the whole run's:
/// `chains` may hold only those that did not pass (an estate streamed
/// as JSON Lines keeps no others).
pub(crate) struct Run<'a> {
    pub trail: &'a str,
    pub verdict: Verdict,
    pub window: (Timestamp, Timestamp),
    /// Every chain of the run.
    pub summaries: &'a [ChainSummary],
    /// A write that failed after the verdict (the exit status is 2).
    pub failed: Option<&'a str>,
}

/// The alert of a run that decided its verdicts.
pub(crate) fn of_run(run: &Run<'_>, chains: &[Chain<'_>], at: &Places) -> Alert {
    let reports: Vec<_> = chains.iter().map(|c| c.report).collect();
    let line = one_line(&explain::verdict_of(run.verdict, &reports));
    let code = run
        .failed
        .map_or(run.verdict.exit_code(), |_| Verdict::NotRun.exit_code());
    let (trail, (start, end)) = (one_line(run.trail), run.window);
    let counts = counts(run.summaries);
    let mut text = vec![format!("trailproof: {line}"), format!("Trail: {trail}")];
    if let Some(failed) = run.failed {
        let failed = one_line(failed);
        text.push(format!("Then the run failed: {failed} (exit {code})"));
    }
    text.push(format!("Window: {} to {}", display(start), display(end)));
    text.push(format!("Exit status: {code}"));
    text.push(counts_line(&counts));
    text.extend(chain_lines(chains, run.summaries.len()));
    text.extend(places_lines(at));
    let detail = json!({
        "verdict": verdict_name(run.verdict),
        "exit_status": code,
        "summary": line,
        "error": run.failed.map(one_line),
        "trail": trail,
        "window": {"start": display(start), "end": display(end)},
        "counts": counts,
        "chains": chain_details(chains),
        "chains_total": run.summaries.len(),
        "report": at.report,
        "html": at.html,
    });
    Alert {
        subject: subject(verdict_word(run.verdict), run.trail, code),
        text: text.join("\n") + "\n",
        detail,
        resources: arn_of(&trail),
    }
}

/// A sentence as one line within [`SENTENCE_BYTES`]: control and
/// direction characters (an echoed name or error can hold any) shown as
/// `U+XXXX`.
fn one_line(s: &str) -> String {
    crate::report::compliance::clip(&printable(s), SENTENCE_BYTES)
}

/// The alert of a run that could not decide anything (exit 2): a
/// broken nightly job must not fall silent.
pub(crate) fn of_failure(trail: &str, error: &str) -> Alert {
    let code = Verdict::NotRun.exit_code();
    let (error, shown) = (one_line(error), one_line(trail));
    let text = format!(
        "trailproof: the run could not finish, so nothing was proven: {error}\n\
         Trail: {shown}\nExit status: {code}\n\
         Fix the cause and run again; until then the window is not proven.\n"
    );
    Alert {
        subject: subject("RUN FAILED", trail, code),
        text,
        detail: json!({
            "verdict": verdict_name(Verdict::NotRun),
            "exit_status": code,
            "summary": format!("the run could not finish: {error}"),
            "trail": shown,
            "chains": [],
            "chains_total": 0,
        }),
        resources: arn_of(&shown),
    }
}

/// SNS refuses a subject of 100 characters or more, or with a line break
/// or non-ASCII: only the trail's name, as its name rules spell it.
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

/// The detail's `verdict`, which rules match (docs/output.md#alerts).
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

/// The whole run's counts, from every chain's summary.
fn counts(summaries: &[ChainSummary]) -> Value {
    let (mut dv, mut dn, mut lv, mut ln, mut gaps) = (0, 0, 0, 0, 0);
    for s in summaries {
        dv += s.counts.digests.valid;
        dn += s.counts.digests.not_valid();
        lv += s.counts.logs.valid;
        ln += s.counts.logs.not_valid();
        gaps += s.gaps_unexplained;
    }
    json!({
        "digests_valid": dv, "digests_not_valid": dn,
        "logs_valid": lv, "logs_not_valid": ln,
        "unexplained_gaps": gaps,
    })
}

fn counts_line(c: &Value) -> String {
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
fn chain_lines(chains: &[Chain<'_>], total: usize) -> Vec<String> {
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
    let passed = total.saturating_sub(failing.len());
    out.push(format!("Chains proven intact: {passed} of {total}."));
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

/// Where to read on: the alert only summarizes.
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

/// EventBridge's Resources take ARNs only (a merge may know no trail).
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
        let summaries: Vec<ChainSummary> = (0..90)
            .map(|_| ChainSummary::tampered_example("111122223333", "eu-west-1"))
            .collect();
        let run = Run {
            trail: "arn:x",
            verdict: Verdict::NotProven,
            window: (t, t),
            summaries: &summaries,
            failed: Some("cannot write\nthe report \u{202e}"),
        };
        let a = of_run(&run, &all, &Places::default());
        assert!(a.text.contains("  and 20 more\n"), "{}", a.text);
        assert!(a.text.contains("Chains proven intact: 20 of 90."));
        assert!(a.text.contains("Report: on the job's standard output"));
        assert_eq!(a.detail["chains"].as_array().map(Vec::len), Some(50));
        assert_eq!(a.detail["chains_total"], 90);
        assert_eq!(a.detail["verdict"], "not_proven");
        assert!(a.subject.contains("NOT PROVEN") && a.subject.ends_with("(exit 2)"));
        let failed = "Then the run failed: cannot writeU+000Athe report U+202E (exit 2)\n";
        assert!(a.text.contains(failed), "{}", a.text);
    }
}
