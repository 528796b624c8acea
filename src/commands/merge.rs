//! `trailproof merge REPORT...`: shard reports back into the report and
//! exit status of the unsharded run.

use super::{operational, usage, CommandError};
use crate::cli::to_request::optional_time;
use crate::cli::MergeArgs;
use crate::report::merge::MergeError;
use crate::report::sinks::ReportSink;
use crate::run::{Outcome, Verdicts};
use crate::sources::output::Remote;

pub async fn run(args: MergeArgs) -> Result<i32, CommandError> {
    let result = merge(&args).await;
    if result.is_err() {
        // A broken merge says so in the metrics, as a broken validate does.
        super::validate::broken_job_metrics(args.metrics.as_deref(), args.profile.as_deref()).await;
    }
    result
}

async fn merge(args: &MergeArgs) -> Result<i32, CommandError> {
    for (flag, target) in [
        ("--report-file", args.report_file.clone()),
        (
            "--html",
            args.html.as_ref().map(|p| p.display().to_string()),
        ),
        (
            "--metrics",
            args.metrics.as_ref().map(|p| p.display().to_string()),
        ),
    ] {
        if let Some(t) = target {
            crate::cli::to_request::check_destination(flag, &t)?;
        }
    }
    let format = crate::cli::to_request::report_format(args.format, args.output.as_deref())?;
    let endpoint = crate::cli::to_request::endpoint_url(args.endpoint_url.as_deref())?;
    let remote = Remote {
        endpoint_url: endpoint.as_deref(),
        ..Remote::profile(args.profile.as_deref())
    };
    let env = |v: &str| std::env::var(v).ok();
    let key = crate::cli::to_request::state_key(
        args.state_key.as_deref(),
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
    )?;
    let mut run_id = crate::request::state_key::given_run_id(args.run_id.as_deref(), env);
    if key.is_some() && run_id.is_none() {
        return Err(usage(
            "merge with a state key needs --run-id (or TRAILPROOF_RUN_ID): the run whose \
             reports to merge (under AWS Batch, the array job's id), so an old run's reports \
             cannot stand in",
        ));
    }
    let shards = read_shards(args, remote, key.as_deref(), &mut run_id).await?;
    let (reports, keys_from) = shards;
    let expect = crate::report::merge::Expect {
        trail_arn: args.trail_arn.clone(),
        start: optional_time(&args.start_time)?,
        end: optional_time(&args.end_time)?,
    };
    let mut estate = crate::report::merge::merge(reports, &expect).map_err(usage)?;
    estate.notes.push(match (&key, &run_id) {
        (Some(_), Some(id)) => format!("Shard reports authenticated by the state key (run {id})"),
        _ => "Shard reports are not authenticated (no --state-key): whoever can write them can \
              change their findings"
            .to_string(),
    });
    let key_described = key.as_ref().map(|k| k.describe());
    let keys_from = match keys_from.is_empty() {
        true => "not stated by the shards' reports".to_string(),
        false => keys_from.join("; "),
    };
    deliver(args, format, estate, (key_described, keys_from), remote).await
}

/// Every shard's report, authenticated when there is a key (all of one
/// run), and where each shard's run says its keys came from.
async fn read_shards(
    args: &MergeArgs,
    remote: Remote<'_>,
    key: Option<&dyn crate::verify::state_key::StateKey>,
    run_id: &mut Option<String>,
) -> Result<
    (
        Vec<(String, crate::verify::model::EstateReport)>,
        Vec<String>,
    ),
    CommandError,
> {
    let (mut reports, mut keys_from) = (Vec::new(), Vec::<String>::new());
    for name in &args.reports {
        let bytes = crate::sources::output::read(name, remote)
            .await
            .map_err(operational)?;
        if let Some(key) = key {
            let id = crate::report::merge::authenticate(name, &bytes, key).map_err(usage)?;
            match run_id {
                Some(want) if *want != id => {
                    let e = MergeError::OtherRun(name.clone(), id, want.clone());
                    return Err(usage(e));
                }
                _ => *run_id = Some(id),
            }
        }
        let (report, provenance) = crate::report::merge::read(name, &bytes).map_err(usage)?;
        reports.push((name.clone(), report));
        if let Some(k) = provenance.map(|p| p.public_keys) {
            if !keys_from.contains(&k) {
                keys_from.push(k);
            }
        }
    }
    Ok((reports, keys_from))
}

/// The merged report through the same sinks as `validate`'s: the report,
/// the HTML page and the metrics, from one report value.
async fn deliver(
    args: &MergeArgs,
    format: crate::request::Format,
    estate: crate::verify::model::EstateReport,
    (key_described, keys_from): (Option<String>, String),
    remote: Remote<'_>,
) -> Result<i32, CommandError> {
    let outputs = crate::request::Outputs {
        format,
        verbose: args.verbose,
        quiet: false,
        report: args.report_file.clone(),
        html: args.html.as_ref().map(|p| p.display().to_string()),
        metrics: args.metrics.as_ref().map(|p| p.display().to_string()),
    };
    let summaries: Vec<_> = estate
        .chains
        .iter()
        .map(|c| c.report.chain_summary(&c.account, &c.region))
        .collect();
    let verdicts_seen = estate.chains.iter().map(|c| c.report.verdict()).collect();
    let mut sink = ReportSink::new(&outputs, false, None);
    for c in &estate.chains {
        sink.chain(c)
            .map_err(|e| operational(format!("cannot write the report: {e}")))?;
    }
    let provenance = Some(crate::report::provenance::of_merge(
        &args.reports,
        keys_from,
        key_described,
        &summaries,
    ));
    let outcome = Outcome {
        verdicts: Verdicts::Estate(estate),
        summaries,
        verdicts_seen,
        provenance,
    };
    sink.finish(&outcome, remote).await?;
    // Metrics first: a page that cannot be written must not leave the last
    // run's status in place.
    crate::report::sinks::metrics(&outputs, &outcome, 0.0, remote).await?;
    crate::report::sinks::html(&outputs, &outcome, remote).await?;
    Ok(outcome.exit_code())
}
