//! Running an estate: every planned chain (account x delivering region)
//! validated concurrently by one engine, under its one bound on requests in
//! flight; reports rendered as chains finish (JSON Lines) or at the end.

use crate::cli::{Format, ValidateArgs};
use crate::engine::{Engine, EngineError, Plan};
use crate::planning::ChainPlan;
use crate::report::{exit, ChainReport, EstateReport, ObjectVerdict, Report};
use crate::timefmt::Timestamp;
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
            let mut finding = crate::engine::store_finding(&source);
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
    }
}

/// Validates every chain and writes the report in the chosen format;
/// returns the worst exit status over the chains.
pub async fn run(
    engine: &Engine,
    plans: Vec<(ChainPlan, Plan)>,
    start: Timestamp,
    end: Timestamp,
    notes: Vec<String>,
    args: &ValidateArgs,
) -> Result<i32, EstateError> {
    let trail_arn = plans
        .first()
        .map(|(_, p)| p.trail.arn.clone())
        .unwrap_or_default();
    let mut results = stream::iter(plans)
        .map(|(chain, plan)| async move {
            let r = engine.validate(&plan).await;
            (chain, chain_outcome(&plan, r))
        })
        .buffer_unordered(CHAINS_IN_FLIGHT);
    let mut kept: Vec<ChainReport> = Vec::new();
    let (mut tampered, mut unproven, mut count) = (0usize, 0usize, 0usize);
    let mut codes = Vec::new();
    let stdout = std::io::stdout();
    while let Some((chain, result)) = results.next().await {
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
            report,
        };
        let code = c.report.exit_code();
        codes.push(code);
        count += 1;
        tampered += usize::from(code == exit::TAMPERED);
        unproven += usize::from(code == exit::UNPROVEN);
        if args.format == Format::Jsonl {
            // Written and dropped as each chain finishes.
            let mut out = stdout.lock();
            for line in crate::render::jsonl::estate_chain_lines(&c, args.verbose) {
                writeln!(out, "{line}").map_err(EstateError::Write)?;
            }
        } else {
            kept.push(c);
        }
    }
    let code = crate::report::worst_exit(codes);
    let mut out = stdout.lock();
    let res = match args.format {
        Format::Jsonl => {
            for n in &notes {
                let line = serde_json::json!({"type": "note", "note": n});
                writeln!(out, "{line}").map_err(EstateError::Write)?;
            }
            let line = crate::render::jsonl::summary_line(
                count,
                count - tampered - unproven,
                tampered,
                unproven,
                code,
            );
            writeln!(out, "{line}")
        }
        Format::Json | Format::Text => {
            kept.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
            let estate = EstateReport {
                trail_arn,
                requested_start: start,
                requested_end: end,
                chains: kept,
                notes,
            };
            if args.format == Format::Json {
                out.write_all(crate::render::json::render_estate(&estate).as_bytes())
            } else {
                let stderr = std::io::stderr();
                let mut err = stderr.lock();
                crate::render::text::render_estate(&estate, args.verbose, &mut out, &mut err)
            }
        }
    };
    match res.and_then(|_| out.flush()) {
        Ok(()) => Ok(code),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(EstateError::Write(e)),
    }
}
