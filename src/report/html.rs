//! One self-contained HTML file for the auditor (no network fetch; prints
//! on A4): the verdict in one line, what was checked and from where, an
//! overview of the estate's chains, then per chain a labelled timeline,
//! the findings grouped by kind with what each means and what to do next,
//! and the gaps apart from the findings. Every value comes through the
//! template engine's HTML escaping: object keys are attacker-chosen.

use crate::report::explain::plain;
use crate::verify::model::{
    ChainReport, EstateReport, Finding, Problem, Provenance, Reason, Report, Status, Untrusted,
    Verdict,
};
use crate::verify::time::{display, Timestamp};
use chrono::{Duration, DurationRound, Timelike};
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

/// One row of a timeline: a day of hours, or a month of days.
#[derive(Serialize)]
struct Row {
    label: String,
    /// Empty cells before the window starts within the row.
    offset: usize,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct ObjectRow {
    what: String,
    status: String,
    message: String,
    detail: String,
}

/// Findings of one kind, with what they mean and what to do next.
#[derive(Serialize)]
struct Group {
    title: String,
    #[serde(skip)]
    words: (&'static str, &'static str),
    meaning: &'static str,
    next: &'static str,
    rows: Vec<ObjectRow>,
}

#[derive(Serialize)]
struct GapRow {
    start: String,
    end: String,
    explained: bool,
    why: String,
}

#[derive(Serialize)]
struct Span {
    start: String,
    end: String,
    reasons: String,
}

#[derive(Serialize)]
struct ChainView {
    id: String,
    account: String,
    region: String,
    exit_code: i32,
    status: &'static str,
    verdict: String,
    expected_because: Option<String>,
    digests_valid: usize,
    digests_total: usize,
    logs_valid: usize,
    logs_total: usize,
    cell_label: &'static str,
    columns: Vec<String>,
    rows: Vec<Row>,
    untrusted: Vec<Span>,
    groups: Vec<Group>,
    findings: usize,
    gaps: Vec<GapRow>,
    unproven: Vec<String>,
    notes: Vec<String>,
    blind_spots: Vec<BlindView>,
    protections: Vec<ProtectionView>,
    /// The originals the bucket's versions gave back (object, in words).
    recovered: Vec<(String, String)>,
    recovery_refused: Option<String>,
    /// Calls on the trail's bucket, key and trail, in words, oldest first.
    bucket_calls: Vec<String>,
    /// A checkpointed night: what this run read, and what it relied on.
    relied_on: Option<ReliedView>,
}

/// A checkpointed chain's window in two parts, in words.
#[derive(Serialize)]
struct ReliedView {
    checked: String,
    relied: String,
}

fn relied_view(r: &Report) -> Option<ReliedView> {
    let on = r.relied_on.as_ref()?;
    Some(ReliedView {
        checked: format!(
            "{} to {}, from the digest the checkpoint records",
            display(r.requested_start),
            display(r.requested_end)
        ),
        relied: format!(
            "{} to {}: verified digests, or gaps CloudTrail's records explain, by the run that \
             wrote the checkpoint (finished {}) up to {}; not read again by this run, whose \
             retention watch lists that span's objects to see that none is gone, replaced or \
             added{}",
            display(on.from),
            display(on.until),
            on.checkpoint_written,
            on.digest,
            match on.authenticated {
                true => "",
                false =>
                    ". The checkpoint is not authenticated (no --state-key or \
                          --signing-key): whoever can write it chooses this span",
            }
        ),
    })
}

/// One protection of the chain's bucket, in words.
#[derive(Serialize)]
struct ProtectionView {
    name: String,
    /// protected, unprotected or unknown (also the row's class).
    state: &'static str,
    detail: String,
}

/// A span the trail did not record, with event history's events.
#[derive(Serialize)]
struct BlindView {
    /// The cross-check's events, not a blind spot's.
    not_recorded: bool,
    start: String,
    end: String,
    why: String,
    note: Option<String>,
    read: bool,
    events: Vec<[String; 5]>,
}

/// The estate overview: accounts by regions, each cell a chain's status.
#[derive(Serialize)]
struct Grid {
    regions: Vec<String>,
    rows: Vec<GridRow>,
}

#[derive(Serialize)]
struct GridRow {
    account: String,
    cells: Vec<Option<GridCell>>,
}

#[derive(Serialize)]
struct GridCell {
    id: String,
    status: &'static str,
    exit_code: i32,
}

/// The word a chain's status is called by, as in the text table.
fn status_word(c: &ChainReport) -> &'static str {
    use crate::verify::model::ChainStatus::*;
    match c.status() {
        Tampered => "tampered",
        Missing => "missing",
        Unproven => "not proven",
        UnprovenAllowed => "not proven (allowed)",
        Proven => "proven intact",
    }
}

/// Untrusted reasons in words.
fn reason_words(r: &Reason) -> &'static str {
    match r {
        Reason::DigestMissing => "a digest is missing",
        Reason::DigestInvalid => "a digest failed verification",
        Reason::InvalidLogFile => "a log file failed verification",
        Reason::UnexplainedGap => "a gap no record explains",
        Reason::ExplainedGap => "logging or validation was off (explained)",
        Reason::NotYetDelivered => "the digest is not due yet",
        Reason::CoverageNarrowed => "the trail recorded less (event selectors or trail settings)",
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
    let has = |why: &Reason| overlapping.iter().any(|u| u.reasons.contains(why));
    let mut words: Vec<&str> = overlapping
        .iter()
        .flat_map(|u| u.reasons.iter().map(|r| reason_words(r)))
        .collect();
    words.dedup();
    let title = |what: &str| format!("{} to {}: {what}", display(a), display(b));
    let states = [
        (Reason::CoverageNarrowed, "narrowed"),
        (Reason::InvalidLogFile, "invalid"),
        (Reason::DigestInvalid, "invalid"),
        (Reason::DigestMissing, "missing"),
        (Reason::UnexplainedGap, "gap"),
        (Reason::ExplainedGap, "gap-explained"),
        (Reason::NotYetDelivered, "pending"),
    ];
    if let Some((_, state)) = states.iter().find(|(why, _)| has(why)) {
        return (state, title(&words.join("; ")));
    }
    if let Some(on) = r.relied_on.as_ref().filter(|o| a >= o.from && b <= o.until) {
        let (state, what) = match on.authenticated {
            true => ("relied", "proven by an earlier run (verified digests or an explained gap), not read again by this one"),
            false => ("relied-unsure", "said proven by an earlier run in a checkpoint nobody vouches for, not read again by this one"),
        };
        return (state, title(what));
    }
    let covered = r.digests.iter().any(|d| {
        d.status == Status::Valid
            && !d.backfill
            && d.start.is_some_and(|s| s < b)
            && d.end.is_some_and(|e| e > a)
    });
    match covered {
        true => ("verified", title("verified")),
        false => ("none", title("no digest")),
    }
}

/// The timeline in rows: a day of hour cells per row, or (over a month)
/// a month of day cells per row, each row labelled.
fn timeline(r: &Report) -> (&'static str, Vec<String>, Vec<Row>) {
    // From the window's start, or from the hour of a finding before it (a
    // checkpointed night's finding behind its start), so every finding
    // below has its hour on the timeline.
    let first_finding = r.untrusted.iter().map(|u| u.start).min();
    let hour = |t: chrono::DateTime<chrono::Utc>| t.duration_trunc(Duration::hours(1)).unwrap_or(t);
    // At most a month before the window: a span far back must not push
    // the window itself off the cells.
    // A checkpointed night shows the whole window: the part earlier runs
    // proved too.
    let first = first_finding
        .into_iter()
        .chain(r.relied_on.as_ref().map(|o| o.from))
        .min();
    let floor = r.requested_start - Duration::days(31);
    let start = first.map_or(r.requested_start, |t| {
        hour(t).max(floor).min(r.requested_start)
    });
    let end = r.requested_end;
    let by_day = (end - start).num_hours() > MAX_HOUR_CELLS;
    let step = if by_day {
        Duration::days(1)
    } else {
        Duration::hours(1)
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut a = start;
    let mut n = 0;
    while a < end && n < 10_000 {
        let b = (a + step).min(end);
        let (label, slot) = match by_day {
            true => (a.format("%Y-%m").to_string(), a.format("%d").to_string()),
            false => (a.format("%Y-%m-%d").to_string(), a.hour().to_string()),
        };
        if rows.last().is_none_or(|row| row.label != label) {
            let first: usize = slot.parse().unwrap_or(0);
            let offset = if by_day {
                first.saturating_sub(1)
            } else {
                first
            };
            rows.push(Row {
                label,
                offset,
                cells: Vec::new(),
            });
        }
        let (state, title) = cell_state(r, a, b);
        if let Some(row) = rows.last_mut() {
            row.cells.push(Cell { state, title });
        }
        a = b;
        n += 1;
    }
    let columns: Vec<String> = match by_day {
        true => (1..=31).map(|d| format!("{d:02}")).collect(),
        false => (0..24).map(|h| format!("{h:02}")).collect(),
    };
    (if by_day { "day" } else { "hour" }, columns, rows)
}

fn object_row(bucket: &str, key: &str, status: Status, f: &Finding) -> ObjectRow {
    ObjectRow {
        what: format!("s3://{bucket}/{key}"),
        status: match status {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Unverified => "unverified",
        }
        .to_string(),
        message: f.reason.clone(),
        detail: f.detail.clone().unwrap_or_default(),
    }
}

/// Findings grouped by kind (digest or log, and problem), largest first.
fn groups(r: &Report) -> Vec<Group> {
    let mut out: Vec<(Problem, bool, Group)> = Vec::new();
    let mut add = |problem: Problem, digest: bool, row: ObjectRow| {
        if let Some(g) = out
            .iter_mut()
            .find(|(p, d, _)| *p == problem && *d == digest)
        {
            g.2.rows.push(row);
            return;
        }
        let words = plain(problem, digest);
        out.push((
            problem,
            digest,
            Group {
                title: String::new(),
                words: words.counted,
                meaning: words.meaning,
                next: words.next,
                rows: vec![row],
            },
        ));
    };
    for d in r.digests.iter().filter(|d| d.status != Status::Valid) {
        if let Some(f) = &d.finding {
            add(f.problem, true, object_row(&d.bucket, &d.key, d.status, f));
        }
    }
    for l in r.logs.iter().filter(|l| l.status != Status::Valid) {
        if let Some(f) = &l.finding {
            add(f.problem, false, object_row(&l.bucket, &l.key, l.status, f));
        }
    }
    for o in &r.unexpected {
        let row = object_row(&o.bucket, &o.key, Status::Invalid, &o.finding);
        add(o.finding.problem, false, row);
    }
    let mut groups: Vec<Group> = out.into_iter().map(|(_, _, g)| g).collect();
    let unexplained: Vec<ObjectRow> = r
        .gaps
        .iter()
        .filter(|g| g.unexplained())
        .map(|g| ObjectRow {
            what: format!("{} to {}", display(g.start), display(g.end)),
            status: "unexplained".into(),
            message: "no digest, and no record says why".into(),
            detail: String::new(),
        })
        .collect();
    if !unexplained.is_empty() {
        groups.push(Group {
            title: String::new(),
            words: ("gap nothing explains", "gaps nothing explains"),
            meaning: "Hours no digest covers, while no CloudTrail record says logging or \
                      validation was turned off: digests were deleted, or logging was stopped \
                      in a way the trail did not record.",
            next: "Look for DeleteObject calls on the digest folder and for StopLogging or \
                   UpdateTrail in CloudTrail's event history (LookupEvents) around the gap; if \
                   the trail was stopped on purpose, pass that record with --gap-events.",
            rows: unexplained,
        });
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.rows.len()));
    for g in &mut groups {
        let n = g.rows.len();
        g.title = format!("{n} {}", if n == 1 { g.words.0 } else { g.words.1 });
    }
    groups
}

fn gaps(r: &Report) -> Vec<GapRow> {
    r.gaps
        .iter()
        .map(|g| GapRow {
            start: display(g.start),
            end: display(g.end),
            explained: g.explained,
            why: match (&g.evidence, g.explained) {
                (Some(ev), true) => ev.clone(),
                (_, true) => "explained by CloudTrail's records".into(),
                (_, false) if g.backfill => {
                    "between backfill digests (no schedule: proves nothing)".into()
                }
                (_, false) => "no CloudTrail record stops logging or validation before it: \
                               digests deleted, or logging stopped without a record"
                    .into(),
            },
        })
        .collect()
}

fn chain_view(c: &ChainReport) -> ChainView {
    let r = &c.report;
    let s = r.summary();
    let (cell_label, columns, rows) = timeline(r);
    let groups = groups(r);
    ChainView {
        id: format!("chain-{}-{}", c.account, c.region),
        account: c.account.clone(),
        region: c.region.clone(),
        exit_code: r.exit_code(),
        status: status_word(c),
        verdict: one_line(r.verdict(), &[r]),
        expected_because: c.expected_because.clone(),
        digests_valid: s.digests.valid + s.backfill_digests.valid,
        digests_total: s.digests.total + s.backfill_digests.total,
        logs_valid: s.logs.valid,
        logs_total: s.logs.total,
        cell_label,
        columns,
        rows,
        untrusted: r
            .untrusted
            .iter()
            .map(|u| Span {
                start: display(u.start),
                end: display(u.end),
                reasons: u
                    .reasons
                    .iter()
                    .map(|r| reason_words(r))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
        findings: groups.iter().map(|g| g.rows.len()).sum(),
        groups,
        gaps: gaps(r),
        unproven: r.unproven.iter().map(super::explain::unproven).collect(),
        notes: super::explain::notes(r),
        protections: protection_views(r),
        recovered: r
            .recovery
            .iter()
            .flat_map(|rec| &rec.objects)
            .map(|o| {
                let object = format!("s3://{}/{}", o.bucket, o.key);
                (object, crate::report::explain::recovered(o))
            })
            .collect(),
        recovery_refused: r
            .recovery
            .as_ref()
            .and_then(|rec| rec.blocked.as_ref())
            .map(crate::report::explain::recovery_blocked),
        bucket_calls: r
            .bucket_calls
            .iter()
            .map(crate::report::explain::bucket_call)
            .chain((r.bucket_calls_left_out > 0).then(|| {
                let n = r.bucket_calls_left_out;
                format!("({n} more of the same kinds from event history, not listed)")
            }))
            .collect(),
        relied_on: relied_view(r),
        blind_spots: r
            .blind_spots
            .iter()
            .map(|b| BlindView {
                not_recorded: b.kind == crate::verify::model::SpotKind::NotRecorded,
                start: display(b.start),
                end: display(b.end),
                why: b.why.clone(),
                note: b.note.clone(),
                read: b.events.is_some(),
                events: b
                    .events
                    .iter()
                    .flatten()
                    .map(|e| {
                        [
                            display(e.time),
                            e.name.clone(),
                            e.actor.clone().unwrap_or_default(),
                            e.source_ip.clone().unwrap_or_default(),
                            e.resources.join(", "),
                        ]
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn protection_views(r: &Report) -> Vec<ProtectionView> {
    use crate::verify::protections::ProtectionState;
    let all = r.protections.iter().flatten();
    all.map(|p| ProtectionView {
        name: p.kind.name().replace('_', " "),
        state: match p.state {
            ProtectionState::Protected => "protected",
            ProtectionState::Unprotected => "unprotected",
            ProtectionState::Unknown => "unknown",
        },
        detail: p.detail.clone(),
    })
    .collect()
}

/// The verdict in one line, as the text report's closing line says it.
fn one_line(v: Verdict, reports: &[&Report]) -> String {
    let line = crate::report::explain::verdict_of(v, reports);
    line.strip_prefix("Verdict: ").unwrap_or(&line).to_string()
}

fn grid(chains: &[ChainView]) -> Grid {
    let mut regions: Vec<String> = chains.iter().map(|c| c.region.clone()).collect();
    regions.sort();
    regions.dedup();
    let mut accounts: Vec<String> = chains.iter().map(|c| c.account.clone()).collect();
    accounts.sort();
    accounts.dedup();
    let rows = accounts
        .into_iter()
        .map(|account| GridRow {
            cells: regions
                .iter()
                .map(|region| {
                    chains
                        .iter()
                        .find(|c| c.account == account && &c.region == region)
                        .map(|c| GridCell {
                            id: c.id.clone(),
                            status: c.status,
                            exit_code: c.exit_code,
                        })
                })
                .collect(),
            account,
        })
        .collect();
    Grid { regions, rows }
}

/// The page could not be rendered (a template error: a bug, not input).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HtmlError(#[from] minijinja::Error);

/// The report of a run over one or more chains.
pub fn render(estate: &EstateReport, provenance: Option<&Provenance>) -> Result<String, HtmlError> {
    let mut env = Environment::new();
    // The `.html` name turns on HTML escaping of every value.
    env.add_template("report.html", TEMPLATE)?;
    let tmpl = env.get_template("report.html")?;
    let chains: Vec<ChainView> = estate.chains.iter().map(chain_view).collect();
    let v = estate.verdict();
    let reports: Vec<&Report> = estate.chains.iter().map(|c| &c.report).collect();
    let totals = |f: &dyn Fn(&ChainView) -> usize| chains.iter().map(f).sum::<usize>();
    let tally = |s: &str| chains.iter().filter(|c| c.status == s).count();
    // The whole requested window, where checkpointed chains resumed later.
    let relied_from = estate
        .chains
        .iter()
        .filter_map(|c| c.report.relied_on.as_ref().map(|o| o.from))
        .min()
        .filter(|f| *f < estate.requested_start);
    tmpl.render(context! {
        trail_arn => estate.trail_arn,
        start => display(relied_from.unwrap_or(estate.requested_start)),
        checked_from => relied_from.map(|_| display(estate.requested_start)),
        end => display(estate.requested_end),
        exit_code => v.exit_code(),
        status => match v {
            Verdict::Tampered => "evidence of tampering",
            Verdict::NotProven => "coverage not proven",
            Verdict::NotRun => "the run could not be done",
            Verdict::Proven if reports.iter().any(|r| r.coverage_unproven()) => "no evidence of tampering, coverage not proven",
            Verdict::Proven => "proven intact",
        },
        verdict => one_line(v, &reports),
        provenance => provenance,
        version => env!("CARGO_PKG_VERSION"),
        generated => display(chrono::Utc::now()),
        digests_valid => totals(&|c| c.digests_valid),
        digests_total => totals(&|c| c.digests_total),
        logs_valid => totals(&|c| c.logs_valid),
        logs_total => totals(&|c| c.logs_total),
        tally => context! { proven => tally("proven intact"), tampered => tally("tampered"), unproven => tally("not proven"), missing => tally("missing") },
        shard => estate.shard.as_ref().map(|s| crate::report::json::shard_scope(s.index, s.count)),
        notes => estate.notes,
        relied => chains.iter().filter(|c| c.relied_on.is_some()).count(),
        grid => (chains.len() > 1).then(|| grid(&chains)),
        chains => chains,
    })
    .map_err(HtmlError::from)
}

/// One chain's report as a one-chain estate.
pub(crate) fn render_single(
    report: &Report,
    account: &str,
    region: &str,
    provenance: Option<&Provenance>,
) -> Result<String, HtmlError> {
    let estate = EstateReport {
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
    };
    render(&estate, provenance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::model::{Reason, Untrusted};

    #[test]
    fn a_finding_before_the_window_has_its_hour_on_the_timeline() {
        let t = |s: &str| crate::verify::time::parse_user_time(s).unwrap();
        let mut r = Report::empty("arn", t("2026-03-01T03:00:00Z"), t("2026-03-01T06:00:00Z"));
        let (_, _, rows) = timeline(&r);
        assert_eq!((rows[0].offset, rows[0].cells.len()), (3, 3));
        r.untrusted.push(Untrusted {
            start: t("2026-03-01T01:30:00Z"),
            end: t("2026-03-01T02:00:00Z"),
            reasons: vec![Reason::DigestMissing],
        });
        let (_, _, rows) = timeline(&r);
        assert_eq!((rows[0].offset, rows[0].cells.len()), (1, 5));
    }
}
