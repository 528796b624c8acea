//! Running an estate: every planned chain (account x delivering region)
//! validated concurrently by one engine, under its one bound on requests in
//! flight; each chain handed to the caller as it finishes, so JSON Lines
//! can be written before the slowest chain is done.

use crate::plan::build::UnitPlan;
use crate::plan::Plan;
use crate::run::engine::{Engine, EngineError};
use crate::verify::model::{ChainReport, ObjectVerdict, Report};
use futures::stream::{self, StreamExt};

/// Chains validated at once over a window of a month or less. Requests
/// are bounded by the store, so this only needs to keep enough chains
/// listing and fetching to fill it.
const CHAINS_IN_FLIGHT: usize = 16;

/// Chains at once for windows of `days`: a chain is held whole until it is
/// decided, so a long window holds fewer at a time (a year: 2, which keep
/// both cores hashing), and memory follows the window, not the estate.
fn chains_in_flight(days: i64) -> usize {
    (CHAINS_IN_FLIGHT * 31 / days.max(1) as usize).clamp(2, CHAINS_IN_FLIGHT)
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
        allow_gaps: plan.allow_gaps,
        ..Report::empty(&plan.trail.arn, plan.start, plan.end)
    }
}

/// Validates every unit; `on_chain` sees each chain as it is decided.
/// Returns the chains in the order they finished.
pub async fn run(
    engine: &Engine,
    units: Vec<UnitPlan>,
    on_chain: &mut dyn FnMut(ChainReport) -> Result<(), std::io::Error>,
) -> Result<(), super::RunError> {
    // The trail's home units start first: their verified logs hold the
    // trail's configuration calls, which the other chains wait for only
    // when they need them (never the other way round: no deadlock).
    let mut units = units;
    units.sort_by_key(|(_, p, _)| !p.is_home_chain());
    let homes = units.iter().filter(|(_, p, _)| p.is_home_chain()).count();
    let longest = units.iter().map(|(_, p, _)| (p.end - p.start).num_days());
    let in_flight = chains_in_flight(longest.max().unwrap_or(0));
    engine.home_calls.expect(homes);
    let mut results = stream::iter(units)
        .map(|(chain, plan, slice)| async move {
            let r = engine.validate(&plan).await;
            if plan.is_home_chain() {
                engine.home_calls.unit_done();
            }
            (chain, slice, chain_outcome(&plan, r))
        })
        .buffer_unordered(in_flight);
    while let Some((chain, slice, result)) = results.next().await {
        let mut report = result?;
        if chain.expected_because.is_some() && !chain.has_digest_folder && !chain.has_log_folder {
            report.notes.push(format!(
                "Neither a digest nor a log folder exists for this chain ({})",
                chain.expected_because.as_deref().unwrap_or("selected")
            ));
        }
        on_chain(ChainReport {
            account: chain.account,
            region: chain.region,
            expected_because: chain.expected_because,
            slice,
            report,
        })
        .map_err(super::RunError::Write)?;
    }
    Ok(())
}

#[cfg(test)]
mod in_flight_tests {
    use super::chains_in_flight;

    #[test]
    fn long_windows_hold_fewer_chains_at_once() {
        assert_eq!(chains_in_flight(0), 16);
        assert_eq!(chains_in_flight(1), 16);
        assert_eq!(chains_in_flight(31), 16);
        assert_eq!(chains_in_flight(91), 5);
        assert_eq!(chains_in_flight(365), 2);
        assert_eq!(chains_in_flight(7 * 365), 2);
    }
}
