//! Running an estate: every planned chain (account x delivering region)
//! validated concurrently by one engine, under its one bound on requests in
//! flight; reports rendered as chains finish (JSON Lines) or at the end.

use crate::cli::{Format, ValidateArgs};
use crate::plan::chains::ChainPlan;
use crate::report::model::{
    ChainReport, ChainSummary, EstateReport, ObjectVerdict, Report, ShardInfo,
};
use crate::run::engine::{Engine, EngineError, Plan};
use crate::verify::time::Timestamp;
use futures::stream::{self, StreamExt};
use std::io::Write;

/// Chains validated at once. Requests are bounded by the store, so this
/// only needs to keep enough chains listing and fetching to fill it.
const CHAINS_IN_FLIGHT: usize = 16;

/// Why an estate run failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum EstateError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot write the report: {0}")]
    Write(std::io::Error),
    #[error("cannot write the HTML report: {0}")]
    Html(String),
}

/// A chain whose folders cannot be listed is a finding on that chain, not
/// the end of the run; keys and operator mistakes end the run.
fn chain_outcome(plan: &Plan, result: Result<Report, EngineError>) -> Result<Report, EngineError> {
    match result {
        Ok(r) => Ok(r),
        Err(EngineError::List {
            bucket,
            prefix,
            source,
        }) => {
            let mut r = empty_report(plan);
            let mut finding = crate::run::engine::store_finding(&source);
            finding.reason = format!("folder could not be listed: {}", finding.reason);
            r.unexpected.push(ObjectVerdict {
                bucket,
                key: prefix,
                finding,
            });
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

fn empty_report(plan: &Plan) -> Report {
    Report {
        trail_arn: plan.trail.arn.clone(),
        requested_start: plan.start,
        requested_end: plan.end,
        found: None,
        digests: Vec::new(),
        logs: Vec::new(),
        gaps: Vec::new(),
        entries: Vec::new(),
        notes: Vec::new(),
        unexpected: Vec::new(),
        untrusted: Vec::new(),
        unproven: Vec::new(),
        allow_gaps: plan.allow_gaps,
        newest: None,
    }
}

/// One unit of work: the chain as planned, the engine's plan (its window
/// is the slice's, if any) and the slice.
pub type UnitPlan = (ChainPlan, Plan, Option<(Timestamp, Timestamp)>);

/// What an estate run (or one shard of it) validates.
pub struct Job {
    pub units: Vec<UnitPlan>,
    pub trail_arn: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub notes: Vec<String>,
    pub shard: Option<ShardInfo>,
}

/// Validates every unit and writes the report to `out` in the chosen
/// format; returns the worst exit status over the chains, and what a
/// checkpoint and the metrics need of each.
pub async fn run(
    engine: &Engine,
    job: Job,
    args: &ValidateArgs,
    out: &mut dyn Write,
) -> Result<(i32, Vec<ChainSummary>), EstateError> {
    let mut results = stream::iter(job.units)
        .map(|(chain, plan, slice)| async move {
            let r = engine.validate(&plan).await;
            (chain, slice, chain_outcome(&plan, r))
        })
        .buffer_unordered(CHAINS_IN_FLIGHT);
    let mut kept: Vec<ChainReport> = Vec::new();
    let mut codes = Vec::new();
    let mut summaries = Vec::new();
    while let Some((chain, slice, result)) = results.next().await {
        let mut report = result?;
        if chain.expected_because.is_some() && !chain.has_digest_folder && !chain.has_log_folder {
            report.notes.push(format!(
                "Neither a digest nor a log folder exists for this chain ({})",
                chain.expected_because.as_deref().unwrap_or("selected")
            ));
        }
        let c = ChainReport {
            account: chain.account,
            region: chain.region,
            expected_because: chain.expected_because,
            slice,
            report,
        };
        let code = c.report.exit_code();
        summaries.push(c.report.chain_summary(&c.account, &c.region));
        codes.push(code);
        if args.format == Format::Jsonl && job.shard.is_none() {
            // Written and dropped as each chain finishes (kept only for --html).
            for line in crate::report::jsonl::estate_chain_lines(&c, args.verbose) {
                writeln!(out, "{line}").map_err(EstateError::Write)?;
            }
        }
        if args.format != Format::Jsonl || job.shard.is_some() || args.html.is_some() {
            kept.push(c);
        }
    }
    let code = crate::report::model::worst_exit(codes.iter().copied());
    if args.format == Format::Jsonl && job.shard.is_none() {
        for line in crate::report::jsonl::closing_lines(&job.notes, &codes) {
            writeln!(out, "{line}").map_err(EstateError::Write)?;
        }
    }
    sort_chains(&mut kept);
    let estate = EstateReport {
        trail_arn: job.trail_arn,
        requested_start: job.start,
        requested_end: job.end,
        chains: kept,
        notes: job.notes,
        shard: job.shard,
    };
    if args.format != Format::Jsonl || estate.shard.is_some() {
        render(&estate, args.format, args.verbose, out).map_err(EstateError::Write)?;
    }
    if let Some(path) = &args.html {
        let html = crate::report::html::render(&estate).map_err(EstateError::Html)?;
        crate::report::output::write(&path.to_string_lossy(), html.into_bytes(), args.remote())
            .await
            .map_err(EstateError::Html)?;
    }
    Ok((code, summaries))
}

/// By account, region, then slice.
pub fn sort_chains(chains: &mut [ChainReport]) {
    chains.sort_by(|a, b| {
        (&a.account, &a.region, a.slice.map(|s| s.0)).cmp(&(
            &b.account,
            &b.region,
            b.slice.map(|s| s.0),
        ))
    });
}

/// An estate report in the chosen format (a shard's report is always
/// JSON: it is read back by `trailproof merge`).
pub fn render(
    estate: &EstateReport,
    format: Format,
    verbose: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if estate.shard.is_some() || format == Format::Json {
        return out.write_all(crate::report::json::render_estate(estate).as_bytes());
    }
    match format {
        Format::Jsonl => {
            for c in &estate.chains {
                for line in crate::report::jsonl::estate_chain_lines(c, verbose) {
                    writeln!(out, "{line}")?;
                }
            }
            let codes: Vec<i32> = estate.chains.iter().map(|c| c.report.exit_code()).collect();
            crate::report::jsonl::closing_lines(&estate.notes, &codes)
                .iter()
                .try_for_each(|l| writeln!(out, "{l}"))
        }
        _ => {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            crate::report::text::render_estate(estate, verbose, out, &mut err)
        }
    }
}
