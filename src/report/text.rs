//! Text output, line for line what `aws cloudtrail validate-logs` prints
//! (valid lines on stdout with --verbose, INVALID lines and gaps on stderr,
//! the same spacing rules and summary), so scripts that parse it keep working.
//! Our extra findings use the same line shapes with their own reasons.

use crate::verify::model::{Counts, Entry, Finding, GapKind, Report, SpotKind, Status, Verdict};
use crate::verify::time::{display, Timestamp};
use std::io::{self, Write};

/// How the text report is shaped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape<'a> {
    /// The `valid` lines too, as the AWS CLI's --verbose.
    pub verbose: bool,
    /// Only the findings and the verdict (`--quiet`).
    pub quiet: bool,
    /// An estate's chain (account, region): every stderr line names it, so
    /// `2>err.log` keeps the context.
    pub chain: Option<(&'a str, &'a str)>,
    /// The AWS CLI's lines and order only (`--format awscli`).
    pub awscli: bool,
    /// Who checked, with what: said once, above the verdict, in a report
    /// written to a file.
    pub provenance: Option<&'a crate::verify::model::Provenance>,
}

/// Tracks the AWS CLI's blank-line rule: an error line is preceded by a
/// blank line unless the previous status already ended with one.
struct Lines<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    last_double: bool,
    /// `[account region] ` before every stderr line of an estate's chain.
    prefix: String,
}

impl Lines<'_> {
    fn status(&mut self, msg: &str) -> io::Result<()> {
        writeln!(self.out, "{msg}")?;
        self.last_double = false;
        Ok(())
    }

    /// One object's line: `valid` on stdout (verbose only), else `INVALID: reason` on stderr.
    fn object(
        &mut self,
        kind: &str,
        bucket: &str,
        key: &str,
        status: Status,
        finding: Option<&Finding>,
        verbose: bool,
    ) -> io::Result<()> {
        let (bucket, key) = (printable(bucket), printable(key));
        if status == Status::Valid {
            if verbose {
                self.status(&format!("{kind}\ts3://{bucket}/{key}\tvalid"))?;
            }
            return Ok(());
        }
        let reason = finding.map(|f| f.reason.as_str()).unwrap_or("unverified");
        self.error(&format!("{kind}\ts3://{bucket}/{key}\tINVALID: {reason}"))
    }

    /// An error line (or lines): each escaped (records and notes quote
    /// what the trail's records say, which a forger chooses) and, in an
    /// estate, prefixed with its chain.
    fn error(&mut self, msg: &str) -> io::Result<()> {
        let msg = msg
            .lines()
            .map(|l| {
                // The tabs are the report's own column separators.
                let cols: Vec<_> = l.split('\t').map(printable).collect();
                format!("{}{}", self.prefix, cols.join("\t"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        if self.last_double {
            write!(self.err, "{msg}\n\n")?;
        } else {
            write!(self.err, "\n{msg}\n\n")?;
        }
        self.last_double = true;
        Ok(())
    }
}

fn ratio(out: &mut dyn Write, c: &Counts, name: &str) -> io::Result<()> {
    if c.total == 0 {
        return Ok(());
    }
    write!(out, "\n{}/{} {name} files valid", c.valid, c.total)?;
    if c.not_valid() > 0 {
        write!(out, ", {}/{} {name} files INVALID", c.not_valid(), c.total)?;
    }
    Ok(())
}

/// Writes the report: the AWS CLI's lines, findings in the order of the
/// time they concern (oldest first), then the verdict line.
pub fn render(
    report: &Report,
    shape: Shape<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let shape = Shape {
        quiet: shape.quiet && !shape.awscli,
        ..shape
    };
    if !shape.quiet {
        write!(
            out,
            "Validating log files for trail {} between {} and {}\n\n",
            report.trail_arn,
            display(report.requested_start),
            display(report.requested_end)
        )?;
    }
    let mut lines = Lines {
        out,
        err,
        last_double: true,
        prefix: shape
            .chain
            .map(|(a, r)| format!("[{a} {r}] "))
            .unwrap_or_default(),
    };
    if !shape.quiet && !shape.awscli {
        for note in crate::report::explain::notes(report) {
            lines.error(&note)?;
        }
    }
    let entries = match shape.awscli {
        true => report.entries.clone(),
        false => chronological(report),
    };
    for entry in entries {
        lines.entry(report, entry, shape)?;
    }
    // Exit status 3 is ours alone: say why, where the AWS CLI says nothing.
    if report.verdict() == Verdict::NotProven && !shape.awscli {
        lines.error(&crate::report::explain::not_proven(report))?;
    }
    let Lines {
        out, last_double, ..
    } = lines;
    if shape.quiet {
        // An estate's quiet run says one verdict, for the whole estate.
        return match shape.chain {
            Some(_) => Ok(()),
            None => writeln!(out, "{}", verdict_line(report)),
        };
    }
    if !last_double {
        writeln!(out)?;
    }
    summary(report, out)?;
    if shape.awscli {
        return Ok(());
    }
    blind_spots(report, out)?;
    protections(report, out)?;
    recovery(report, out)?;
    if !report.bucket_calls.is_empty() {
        writeln!(
            out,
            "Calls on the trail's bucket, key and trail (oldest first):"
        )?;
        for c in &report.bucket_calls {
            writeln!(
                out,
                "  {}",
                printable(&crate::report::explain::bucket_call(c))
            )?;
        }
        if report.bucket_calls_left_out > 0 {
            let n = report.bucket_calls_left_out;
            writeln!(
                out,
                "  ({n} more of the same kinds from event history, not listed)"
            )?;
        }
    }
    if let Some(p) = shape.provenance {
        provenance(p, out)?;
    }
    writeln!(out, "{}", verdict_line(report))
}

/// Who checked, where, and the files besides the trail the proof rests
/// on (the JSON's provenance has the command line and the rest).
fn provenance(p: &crate::verify::model::Provenance, out: &mut dyn Write) -> io::Result<()> {
    let host = p.host.as_deref().map(|h| format!(" on {h}"));
    let caller = p.caller.as_deref().map(|c| format!(" as {c}"));
    let line = format!(
        "Checked by {}{}{}",
        p.tool,
        host.unwrap_or_default(),
        caller.unwrap_or_default()
    );
    writeln!(out, "{}", printable(&line))?;
    for i in &p.inputs {
        let hash = i.sha256.as_deref().unwrap_or("(unreadable)");
        let line = format!("  {} {}  SHA-256 {hash}", i.flag, i.path);
        writeln!(out, "{}", printable(&line))?;
    }
    if let Some(s) = &p.signer {
        writeln!(out, "  every file written signed by the key {s} (FILE.sig)")?;
    }
    if let Some(t) = &p.timestamp_authority {
        let line = format!("  every file written time-stamped by {t} (FILE.tsr)");
        writeln!(out, "{}", printable(&line))?;
    }
    Ok(())
}

/// The originals the bucket's versions gave back, one line each.
fn recovery(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(rec) = &report.recovery else {
        return Ok(());
    };
    writeln!(out, "Originals in the bucket's versions:")?;
    for r in &rec.objects {
        let line = crate::report::explain::recovered(r);
        let line = format!("s3://{}/{}: {line}", r.bucket, r.key);
        writeln!(out, "  {}", printable(&line))?;
    }
    if let Some(b) = &rec.blocked {
        let why = crate::report::explain::recovery_blocked(b);
        writeln!(out, "  {}", printable(&why))?;
    }
    if rec.not_tried > 0 {
        writeln!(out, "  {} more object(s) not tried", rec.not_tried)?;
    }
    Ok(())
}

/// The bucket's protections, one line each (live runs).
fn protections(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    use crate::verify::protections::ProtectionState;
    let Some(all) = &report.protections else {
        return Ok(());
    };
    writeln!(out, "Protections of the trail's bucket:")?;
    for p in all {
        let state = match p.state {
            ProtectionState::Protected => "protected",
            ProtectionState::Unprotected => "UNPROTECTED",
            ProtectionState::Unknown => "unknown",
        };
        let name = p.kind.name().replace('_', " ");
        writeln!(out, "  {name:<15} {state:<12} {}", printable(&p.detail))?;
    }
    Ok(())
}

/// Events listed per blind spot in text (JSON has them all).
const EVENTS_SHOWN: usize = 20;

/// What event history holds for each span the trail did not record.
fn blind_spots(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for b in &report.blind_spots {
        let (head, what) = match b.kind {
            SpotKind::BlindSpot => (
                format!(
                    "Event history (LookupEvents) for {} to {}, {}",
                    display(b.start),
                    display(b.end),
                    b.why
                ),
                "write event(s)",
            ),
            SpotKind::NotRecorded => (
                format!(
                    "Cross-check with event history (LookupEvents) for {} to {}",
                    display(b.start),
                    display(b.end)
                ),
                "write event(s) no verified log file contains (not_recorded)",
            ),
        };
        let note = b.note.as_deref().map(printable).unwrap_or_default();
        let Some(events) = &b.events else {
            writeln!(out, "{head}: not read ({note})")?;
            continue;
        };
        let cut = if note.is_empty() {
            String::new()
        } else {
            format!(" ({note})")
        };
        writeln!(out, "{head}: {} {what}{cut}", events.len())?;
        for e in events.iter().take(EVENTS_SHOWN) {
            let mut line = format!("  {}  {}", display(e.time), printable(&e.name));
            if let Some(a) = &e.actor {
                line.push_str(&format!(" by {}", printable(a)));
            }
            if let Some(ip) = &e.source_ip {
                line.push_str(&format!(" from {}", printable(ip)));
            }
            if !e.resources.is_empty() {
                line.push_str(&format!(" on {}", printable(&e.resources.join(", "))));
            }
            writeln!(out, "{line}")?;
        }
        if events.len() > EVENTS_SHOWN {
            writeln!(
                out,
                "  ... and {} more (every one in --format json)",
                events.len() - EVENTS_SHOWN
            )?;
        }
    }
    Ok(())
}

/// The report's lines ordered by the time each concerns, oldest first (the
/// AWS CLI walks newest first, which reads backwards); an object whose time
/// is unknown keeps its place after those that have one.
fn chronological(report: &Report) -> Vec<Entry> {
    use crate::verify::layout::{parse_digest_key, parse_log_key};
    let when = |e: &Entry| -> Option<Timestamp> {
        match *e {
            Entry::Digest(i) => {
                let d = &report.digests[i];
                d.start.or_else(|| {
                    parse_digest_key(&d.key).map(|k| k.end - chrono::Duration::hours(1))
                })
            }
            Entry::Log(i) => {
                let l = &report.logs[i];
                l.oldest_event
                    .or_else(|| parse_log_key(&l.key).map(|k| k.time))
            }
            Entry::Gap(i) => Some(report.gaps[i].start),
            Entry::Unexpected(_) => None,
        }
    };
    let mut entries = report.entries.clone();
    entries.sort_by_key(|e| when(e).map_or((1, None), |t| (0, Some(t))));
    entries
}

/// The closing line: the verdict in words, what made it, the exit status.
/// The run's closing `Verdict:` line, of one chain or an estate.
pub(crate) fn closing_verdict(verdicts: &crate::run::Verdicts) -> String {
    match verdicts {
        crate::run::Verdicts::Chain { report, .. } => verdict_line(report),
        crate::run::Verdicts::Estate(estate) => estate_verdict(estate),
    }
}

fn verdict_line(report: &Report) -> String {
    crate::report::explain::verdict_of(report.verdict(), &[report])
}

impl Lines<'_> {
    /// One line of the report, in the AWS CLI's order.
    fn entry(&mut self, report: &Report, entry: Entry, shape: Shape<'_>) -> io::Result<()> {
        let verbose = shape.verbose;
        match entry {
            Entry::Digest(i) => {
                let d = &report.digests[i];
                let kind = if d.backfill {
                    "(backfill) Digest file"
                } else {
                    "Digest file"
                };
                let finding = d.finding.as_ref();
                self.object(kind, &d.bucket, &d.key, d.status, finding, verbose)
            }
            Entry::Log(i) => {
                let l = &report.logs[i];
                let finding = l.finding.as_ref();
                self.object("Log file", &l.bucket, &l.key, l.status, finding, verbose)
            }
            Entry::Gap(i) if shape.awscli => self.error(&cli_gap_line(&report.gaps[i])),
            Entry::Gap(i) => self.error(&gap_line(&report.gaps[i])),
            Entry::Unexpected(i) => {
                let o = &report.unexpected[i];
                let finding = Some(&o.finding);
                self.object(
                    "Object",
                    &o.bucket,
                    &o.key,
                    Status::Invalid,
                    finding,
                    verbose,
                )
            }
        }
    }
}

/// The AWS CLI's gap line, then ours: whether CloudTrail's own records
/// explain it, and who did what when, as they say.
fn gap_line(g: &crate::verify::model::Gap) -> String {
    let cli = cli_gap_line(g);
    match (&g.evidence, g.explained) {
        (Some(ev), true) => format!("{cli}\nExplained: {}", printable(ev)),
        (_, true) => format!("{cli}\nExplained by CloudTrail's records"),
        (_, false) if g.backfill => {
            format!("{cli}\nBetween backfill digests, which follow no schedule: not a finding")
        }
        (_, false) => format!(
            "{cli}\nNot explained: no CloudTrail record stops logging or validation before it"
        ),
    }
}

fn cli_gap_line(g: &crate::verify::model::Gap) -> String {
    let prefix = if g.backfill { "(backfill) " } else { "" };
    let (start, end) = (display(g.start), display(g.end));
    match g.kind {
        GapKind::ChainRestart => format!(
            "{prefix}No log files were delivered by CloudTrail between {start} and {end}"
        ),
        GapKind::NoLaterDigest => format!(
            "{prefix}No digest files found between {start} and {end} (deleted, or logging was stopped)"
        ),
        GapKind::BeforeFirstDigest => format!(
            "{prefix}No digest files found between {start} and {end} (the chain starts there)"
        ),
    }
}

/// The AWS CLI's closing lines: what was asked, what was found, the counts.
fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Results requested for {} to {}",
        display(report.requested_start),
        display(report.requested_end)
    )?;
    let s = report.summary();
    if s.digests.total == 0 && s.backfill_digests.total == 0 {
        writeln!(out, "No digests found")?;
        return Ok(());
    }
    match report.found {
        None => writeln!(out, "No valid digests found in range")?,
        Some((a, b)) => writeln!(out, "Results found for {} to {}:", display(a), display(b))?,
    }
    ratio(out, &s.digests, "digest")?;
    ratio(out, &s.backfill_digests, "backfill digest")?;
    ratio(out, &s.logs, "log")?;
    writeln!(out)?;
    Ok(())
}

/// An estate run: each chain's AWS CLI lines (headed by its account and
/// region, which every stderr line names too), then one table line per
/// chain, a totals line and the verdict on stdout. Quiet: the findings and
/// the verdict.
pub fn render_estate(
    estate: &crate::verify::model::EstateReport,
    shape: Shape<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    for c in &estate.chains {
        if !shape.quiet {
            writeln!(out, "== account {} region {} ==", c.account, c.region)?;
        }
        let chain = Shape {
            chain: (!shape.awscli).then_some((c.account.as_str(), c.region.as_str())),
            provenance: None,
            ..shape
        };
        render(&c.report, chain, out, err)?;
        if !shape.quiet {
            writeln!(out)?;
        }
    }
    if shape.quiet && !shape.awscli {
        return writeln!(out, "{}", estate_verdict(estate));
    }
    for note in &estate.notes {
        writeln!(err, "{}\n", printable(note))?;
    }
    estate_table(estate, out)?;
    if shape.awscli {
        return Ok(());
    }
    if let Some(p) = shape.provenance {
        provenance(p, out)?;
    }
    writeln!(out, "{}", estate_verdict(estate))
}

/// Object names are chosen by whoever can write to the bucket: control and
/// bidirectional-override characters are shown escaped (`\u{1b}`), so a
/// name cannot rewrite the terminal or fake a line of the report.
fn printable(name: &str) -> std::borrow::Cow<'_, str> {
    let hostile =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !name.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn status_word(c: &crate::verify::model::ChainReport) -> &'static str {
    use crate::verify::model::ChainStatus::*;
    match c.status() {
        Tampered => "TAMPERED",
        Missing => "MISSING",
        Unproven => "UNPROVEN",
        UnprovenAllowed => "UNPROVEN (allowed)",
        Proven => "proven",
    }
}

/// One line per chain (account, region, digests valid/total, logs
/// valid/total, gaps, status) and a totals line.
pub(crate) fn estate_table(
    estate: &crate::verify::model::EstateReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let row = |out: &mut dyn Write, a: &str, r: &str, d: &str, l: &str, g: &str, s: &str| {
        writeln!(out, "{a:<12}  {r:<16}  {d:>13}  {l:>15}  {g:>5}  {s}")
    };
    writeln!(out, "Estate of {} chains:", estate.chains.len())?;
    row(
        out, "account", "region", "digests", "logs", "gaps", "status",
    )?;
    let (mut d, mut l) = (Counts::default(), Counts::default());
    let mut gaps = 0;
    for c in &estate.chains {
        let s = c.report.summary();
        let mut cd = s.digests;
        cd.merge(&s.backfill_digests);
        d.merge(&cd);
        l.merge(&s.logs);
        gaps += s.gaps;
        row(
            out,
            &c.account,
            &c.region,
            &format!("{}/{}", cd.valid, cd.total),
            &format!("{}/{}", s.logs.valid, s.logs.total),
            &s.gaps.to_string(),
            status_word(c),
        )?;
    }
    let allowed = estate.chains.iter().any(|c| c.report.coverage_unproven());
    let verdict = match estate.verdict() {
        Verdict::Tampered => "evidence of tampering (exit 1)",
        Verdict::NotProven => "coverage not proven (exit 3)",
        Verdict::NotRun => "the run could not be done (exit 2)",
        Verdict::Proven if allowed => "no evidence of tampering, coverage not proven (exit 0)",
        Verdict::Proven => "proven intact (exit 0)",
    };
    row(
        out,
        "total",
        "",
        &format!("{}/{}", d.valid, d.total),
        &format!("{}/{}", l.valid, l.total),
        &gaps.to_string(),
        verdict,
    )
}

/// The estate's closing line: the verdict over every chain.
fn estate_verdict(estate: &crate::verify::model::EstateReport) -> String {
    let count = |v: Verdict| {
        let n = estate
            .chains
            .iter()
            .filter(|x| x.report.verdict() == v)
            .count();
        format!("{n} of {} chains", estate.chains.len())
    };
    let tampering = format!(
        "{} ({})",
        count(Verdict::Tampered),
        crate::report::explain::counted(estate.chains.iter().map(|c| &c.report))
    );
    let unproven_chains = estate
        .chains
        .iter()
        .filter(|c| c.report.coverage_unproven())
        .count();
    let unproven = match unproven_chains {
        0 => String::new(),
        n => format!("{n} of {} chains not proven", estate.chains.len()),
    };
    let pending = crate::report::explain::pending_from(estate.chains.iter().map(|c| &c.report));
    let pending = pending.map(|p| (p, estate.requested_start));
    crate::report::explain::verdict(estate.verdict(), &tampering, &unproven, pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::model::{DigestVerdict, Gap, LogVerdict, Problem};
    use crate::verify::time::parse_user_time;

    fn report() -> Report {
        let t = |s: &str| parse_user_time(s).unwrap();
        Report {
            allow_gaps: true,
            ..Report::empty(
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/foo",
                t("2014-08-10T00:00:00Z"),
                t("2015-08-10T00:00:00Z"),
            )
        }
    }

    fn run(r: &Report, verbose: bool) -> (String, String) {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let shape = Shape {
            verbose,
            ..Shape::default()
        };
        render(r, shape, &mut o, &mut e).unwrap();
        (String::from_utf8(o).unwrap(), String::from_utf8(e).unwrap())
    }

    #[test]
    fn no_digests_found() {
        let (o, e) = run(&report(), false);
        assert_eq!(
            o,
            "Validating log files for trail arn:aws:cloudtrail:us-east-1:123456789012:trail/foo between 2014-08-10T00:00:00Z and 2015-08-10T00:00:00Z\n\nResults requested for 2014-08-10T00:00:00Z to 2015-08-10T00:00:00Z\nNo digests found\nVerdict: proven intact: every hour of the window is covered by verified digests or by a gap CloudTrail's records explain (exit 0)\n"
        );
        assert_eq!(e, "");
    }

    #[test]
    fn spacing_follows_the_cli() {
        let t = |s: &str| parse_user_time(s).unwrap();
        let mut r = report();
        let d = |key: &str, ok: bool| DigestVerdict {
            bucket: "1".into(),
            key: key.into(),
            backfill: false,
            status: if ok { Status::Valid } else { Status::Invalid },
            finding: (!ok).then(|| Finding::new(Problem::NotFound, "not found")),
            start: ok.then(|| t("2014-08-10T00:00:00Z")),
            end: ok.then(|| t("2014-08-10T01:00:00Z")),
            discovered: false,
            previous: None,
            fingerprint: None,
        };
        r.digests = vec![d("k2", true), d("k1", false)];
        r.logs = vec![LogVerdict {
            bucket: "1".into(),
            key: "key1".into(),
            status: Status::Valid,
            finding: None,
            digest_key: Some("k2".into()),
            oldest_event: Some(t("2014-08-10T00:10:00Z")),
            newest_event: None,
        }];
        r.gaps = vec![Gap::new(
            t("2014-08-10T02:00:00Z"),
            t("2014-08-10T03:00:00Z"),
            false,
            GapKind::ChainRestart,
        )];
        r.entries = vec![
            Entry::Digest(0),
            Entry::Log(0),
            Entry::Digest(1),
            Entry::Gap(0),
        ];
        r.found = Some((t("2014-08-10T00:00:00Z"), t("2014-08-10T01:00:00Z")));
        let (o, e) = run(&r, true);
        assert!(o.ends_with(
            "Digest file\ts3://1/k2\tvalid\nLog file\ts3://1/key1\tvalid\nResults requested for 2014-08-10T00:00:00Z to 2015-08-10T00:00:00Z\nResults found for 2014-08-10T00:00:00Z to 2014-08-10T01:00:00Z:\n\n1/2 digest files valid, 1/2 digest files INVALID\n1/1 log files valid\nVerdict: evidence of tampering: 1 digest file missing; coverage not proven either: 1 gap(s) that no CloudTrail record explains (exit 1)\n"
        ), "{o}");
        assert_eq!(
            e,
            "\nNo log files were delivered by CloudTrail between 2014-08-10T02:00:00Z and 2014-08-10T03:00:00Z\nNot explained: no CloudTrail record stops logging or validation before it\n\nDigest file\ts3://1/k1\tINVALID: not found\n\n"
        );
        // Without --verbose the last status was the header's blank line.
        let (o, e) = run(&r, false);
        assert!(o.contains("\n\nResults requested"));
        assert!(e.starts_with("No log files were delivered"));
        // Quiet: the findings and the verdict, nothing else.
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let quiet = Shape {
            quiet: true,
            ..Shape::default()
        };
        render(&r, quiet, &mut o, &mut e).unwrap();
        let o = String::from_utf8(o).unwrap();
        assert!(
            o.starts_with("Verdict: evidence of tampering") && o.lines().count() == 1,
            "{o}"
        );
        assert!(String::from_utf8(e).unwrap().contains("INVALID: not found"));
        // In an estate every stderr line names its chain.
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let chain = Shape {
            chain: Some(("111122223333", "eu-west-1")),
            ..Shape::default()
        };
        render(&r, chain, &mut o, &mut e).unwrap();
        let e = String::from_utf8(e).unwrap();
        assert!(
            e.lines()
                .filter(|l| !l.is_empty())
                .all(|l| l.starts_with("[111122223333 eu-west-1] ")),
            "{e}"
        );
    }

    #[test]
    fn hostile_names_are_escaped() {
        assert_eq!(printable("AWSLogs/a.json.gz"), "AWSLogs/a.json.gz");
        assert_eq!(
            printable("x\u{1b}[2J\nLog file\u{202e}"),
            "x\\u{1b}[2J\\u{a}Log file\\u{202e}"
        );
    }
}
