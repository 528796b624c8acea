//! `trailproof validate`: request, plan, run, sinks.

use super::CommandError;
use crate::cli::ValidateArgs;
use crate::plan::connect::{self, Sources};
use crate::report::checkpoint_file;
use crate::report::sinks::{self, ReportSink};
use crate::request::ValidateRequest;
use crate::run::engine::Engine;
use crate::run::Outcome;

pub async fn run(args: ValidateArgs) -> Result<i32, CommandError> {
    let metrics = (
        args.metrics.as_deref(),
        args.metrics_format,
        &*args.trail_arn,
    );
    let profile = args.profile.as_deref();
    let req = match args.to_request() {
        Ok(req) => req,
        Err(e) => {
            // A shard writes no metrics and sends no alert (merge does
            // both): not even these.
            if args.shard.is_some() {
                return Err(e.into());
            }
            broken_job_metrics(metrics, profile, &[]).await;
            if let crate::request::RequestError::Unreadable(why) = &e {
                let aws = (profile, args.endpoint_url.as_deref());
                super::deliver::after_unreadable(&args.deliveries, aws, &args.trail_arn, why).await;
            }
            return Err(e.into());
        }
    };
    let aws = aws_options(&req);
    let decided = async {
        let sources = connect::open(&req).await?;
        decide(&req, &sources).await
    }
    .await;
    let d = match decided {
        Ok(d) => d,
        Err(e) => {
            broken_job_metrics(metrics, profile, &[]).await;
            let (d, trail) = (&req.output.deliveries, req.trail.arn.as_str());
            super::deliver::after_failure(d, &aws, trail, &e.to_string()).await;
            return Err(e);
        }
    };
    if d.written.is_err() {
        broken_job_metrics(metrics, profile, &d.outcome.summaries).await;
    }
    // The verdict was decided: the alert says it, and the write that
    // failed after it.
    let failed = d.written.as_ref().err().map(|e| e.to_string());
    super::deliver::after_run(&req.output, &d.outcome, &aws, failed.as_deref()).await;
    d.written.map(|()| d.outcome.exit_code())
}

/// How the alert and the import reach AWS: the run's profile, timeout
/// and endpoint; the region from the standard chain.
fn aws_options(req: &ValidateRequest) -> crate::sources::aws::AwsOptions {
    crate::sources::aws::AwsOptions {
        profile: req.tuning.profile.clone(),
        region: None,
        read_timeout: Some(req.tuning.read_timeout),
        endpoint_url: req.tuning.endpoint_url.clone(),
    }
}

/// A job that ends in exit 2 still writes its metrics (exit status 2 and
/// the time), so an alert on `trailproof_exit_status != 0` sees a broken
/// job instead of the last good run's 0.
/// `chains`: the chains' summaries when the verdict was decided and a
/// write after it failed (their series stay; the status says 2).
pub(crate) async fn broken_job_metrics(
    (metrics, format, trail): (Option<&std::path::Path>, crate::cli::MetricsFormat, &str),
    profile: Option<&str>,
    chains: &[crate::verify::model::ChainSummary],
) {
    let Some(path) = metrics else {
        return;
    };
    let run = (super::EXIT_ERROR, 0.0);
    let text = crate::report::sinks::metrics_text(format.into(), trail, chains, run);
    if path.as_os_str() == "-" {
        // A closed stdout is the failure already said, not a panic.
        use std::io::Write;
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return;
    }
    let target = crate::sources::output::Destination::File(path.to_path_buf());
    // A metrics path that cannot be written is the error already said.
    if crate::cli::to_request::check_destination("--metrics", &target).is_err() {
        return;
    }
    let remote = crate::sources::output::Remote::profile(profile);
    if let Err(e) = crate::sources::output::write(&target, text.into_bytes(), remote).await {
        crate::report::say(format_args!("{e}"));
    }
}

/// Plans, runs and delivers every output of one validation (also the
/// heart of `acquire`).
pub async fn validate(req: &ValidateRequest, sources: &Sources) -> Result<Outcome, CommandError> {
    let d = decide(req, sources).await?;
    d.written.map(|()| d.outcome)
}

/// A run whose verdict is decided, and whether its files were written:
/// a write that fails after the verdict is exit 2, yet the alert still
/// carries the verdict.
struct Decided {
    outcome: Outcome,
    written: Result<(), CommandError>,
}

async fn decide(req: &ValidateRequest, sources: &Sources) -> Result<Decided, CommandError> {
    let started = std::time::Instant::now();
    let (checks, out, remote) = (&req.checks, &req.output, req.remote());
    let engine = Engine::new(sources, req.tuning.concurrency, checks.inflater, out.quiet);
    let store = engine.store.as_ref();
    let org = crate::plan::build::organization(store, req, sources).await?;
    let settings = crate::plan::build::settings(req, sources, org.as_deref());
    let old = checkpoint_file::load(req, &settings).await?;
    let plan =
        crate::plan::build::build(store, req, sources, org.as_deref(), old.checkpoint.as_ref())
            .await?;
    let seal = match (&req.state.key, &req.state.run_id) {
        (Some(key), Some(run_id)) => Some(sinks::Seal {
            key: key.as_ref(),
            run_id,
        }),
        _ => None,
    };
    let mut report = ReportSink::new(out, plan.shard.is_some(), seal);
    let watched = crate::plan::build::watched(&plan.units);
    let mut outcome = crate::run::execute(&engine, plan, &mut |c| report.chain(c)).await?;
    let mut provenance = crate::report::provenance::of_run(
        req,
        sources,
        old.checkpoint.as_ref(),
        &outcome.summaries,
    );
    // Asked when the sources were opened; answered long since.
    if let Some(live) = &sources.live {
        let caller = live.cloudtrail.caller().await.ok().map(|i| i.arn);
        provenance.caller = caller.filter(|a| !a.is_empty());
    }
    outcome.provenance = Some(provenance);
    let written = async {
        report.finish(&outcome, remote).await?;
        sinks::html(out, &outcome, remote).await?;
        let seconds = started.elapsed().as_secs_f64();
        // Metrics first: a checkpoint write that fails must not leave the
        // last run's verdict in place.
        sinks::metrics(out, &outcome, seconds, remote).await?;
        sinks::restore_plan(out, &outcome, remote).await?;
        sinks::recovered(out, &outcome, remote).await;
        let pins = &engine.read_pins;
        let inventories = crate::plan::watch::inventories(&watched, &outcome.summaries, pins);
        checkpoint_file::write_next(req, settings, old, &outcome, &inventories).await?;
        Ok(())
    }
    .await;
    Ok(Decided { outcome, written })
}
