//! Running a plan: one engine (one bound on requests in flight, one CPU
//! pool) for every chain; no flags reach here, only the plan.

pub mod engine;
pub mod estate;
pub mod kernel_hints;
pub mod progress;

use crate::plan::build::RunPlan;
use crate::verify::model::{ChainReport, ChainSummary, EstateReport, Report};
use engine::{Engine, EngineError};

/// Why a run ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot write the report: {0}")]
    Write(std::io::Error),
}

/// What a run decided.
pub enum Verdicts {
    /// The AWS CLI's single chain.
    Chain {
        report: Box<Report>,
        account: String,
        region: String,
    },
    /// An estate, or a shard of one (chains dropped after streaming are
    /// not in it).
    Estate(EstateReport),
}

/// A run's verdicts and what checkpoints and metrics need of each chain.
pub struct Outcome {
    pub verdicts: Verdicts,
    pub summaries: Vec<ChainSummary>,
    /// Every chain's verdict, in the order they finished.
    pub verdicts_seen: Vec<crate::verify::model::Verdict>,
    /// Set by the command once the run is done; every format states it.
    pub provenance: Option<crate::verify::model::Provenance>,
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }

    pub fn verdict(&self) -> crate::verify::model::Verdict {
        crate::verify::model::Verdict::worst(self.verdicts_seen.iter().copied())
    }
}

/// `work`'s result, with `beside` polled too until `work` is done (then
/// dropped: what it asked for is cached, or no longer needed).
async fn alongside<T>(
    work: impl std::future::Future<Output = T>,
    beside: impl std::future::Future<Output = ()>,
) -> T {
    tokio::pin!(work);
    tokio::pin!(beside);
    tokio::select! {
        out = &mut work => out,
        () = &mut beside => work.await,
    }
}

/// Runs the plan. `on_chain` sees each chain of an estate as it is
/// decided and says whether the estate report must keep it.
pub(crate) async fn execute(
    engine: &Engine,
    plan: RunPlan,
    on_chain: &mut dyn FnMut(&ChainReport) -> std::io::Result<bool>,
) -> Result<Outcome, RunError> {
    let mut plan = plan;
    if plan.single && plan.units.len() == 1 {
        if let Some((chain, p, _)) = plan.units.pop() {
            let mut report = alongside(engine.validate(&p), engine.prefetch_history(&p)).await?;
            report.notes.extend(plan.notes);
            let verdict = report.verdict();
            return Ok(Outcome {
                summaries: vec![report.chain_summary(&chain.account, &chain.region)],
                verdicts_seen: vec![verdict],
                verdicts: Verdicts::Chain {
                    report: Box::new(report),
                    account: chain.account,
                    region: chain.region,
                },
                provenance: None,
            });
        }
    }
    let (mut kept, mut summaries, mut codes) = (Vec::new(), Vec::new(), Vec::new());
    let home = plan.units.iter().find(|(_, p, _)| p.is_home_chain());
    let prefetch = home.map(|(_, p, _)| p.clone());
    let prefetch = async {
        if let Some(p) = &prefetch {
            engine.prefetch_history(p).await;
        }
    };
    let mut each = |c: ChainReport| {
        summaries.push(c.report.chain_summary(&c.account, &c.region));
        codes.push(c.report.verdict());
        if on_chain(&c)? {
            kept.push(c);
        }
        Ok(())
    };
    alongside(estate::run(engine, plan.units, &mut each), prefetch).await?;
    crate::verify::model::sort_chains(&mut kept);
    let estate = EstateReport {
        trail_arn: plan.trail_arn,
        requested_start: plan.start,
        requested_end: plan.end,
        chains: kept,
        notes: plan.notes,
        shard: plan.shard,
    };
    Ok(Outcome {
        verdicts: Verdicts::Estate(estate),
        summaries,
        verdicts_seen: codes,
        provenance: None,
    })
}
