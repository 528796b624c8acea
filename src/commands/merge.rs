//! `trailproof merge REPORT...`: shard reports back into the report and
//! exit status of the unsharded run.

use super::{operational, usage, CommandError};
use crate::cli::MergeArgs;
use crate::report::merge::MergeError;
use crate::report::sinks::ReportSink;
use crate::request::MergeRequest;
use crate::run::{Outcome, Verdicts};
use crate::sources::aws::AwsOptions;

pub async fn run(args: MergeArgs) -> Result<i32, CommandError> {
    // A broken merge says so in the metrics and the alert, as a broken
    // validate does.
    let trail = args.trail_arn.as_deref().unwrap_or("unknown");
    let metrics = (args.metrics.as_deref(), args.metrics_format, trail);
    let profile = args.profile.as_deref();
    let req = match args.to_request() {
        Ok(req) => req,
        Err(e) => {
            super::validate::broken_job_metrics(metrics, profile, &[]).await;
            if let crate::request::RequestError::Unreadable(why) = &e {
                let aws = (profile, args.endpoint_url.as_deref());
                super::deliver::after_unreadable(&args.deliveries, aws, trail, why).await;
            }
            return Err(e.into());
        }
    };
    let mut decided = false;
    let result = merge(&req, &mut decided).await;
    match &result {
        Err(e) if !decided => {
            super::validate::broken_job_metrics(metrics, profile, &[]).await;
            let d = &req.outputs.deliveries;
            super::deliver::after_failure(d, &aws_options(&req), trail, &e.to_string()).await;
        }
        _ => {}
    }
    result
}

/// How the alert and the import reach AWS.
fn aws_options(req: &MergeRequest) -> AwsOptions {
    AwsOptions {
        profile: req.profile.clone(),
        endpoint_url: req.endpoint_url.clone(),
        ..Default::default()
    }
}

/// `decided`: the verdict was decided, and a write that failed after it
/// already said so in the metrics and the alert.
async fn merge(req: &MergeRequest, decided: &mut bool) -> Result<i32, CommandError> {
    let mut run_id = req.run_id.clone();
    let key = req.key.as_deref();
    let (reports, keys_from) = read_shards(req, key, &mut run_id).await?;
    let expect = crate::report::merge::Expect {
        trail_arn: req.trail_arn.clone(),
        start: req.start,
        end: req.end,
    };
    let mut estate = crate::report::merge::merge(reports, &expect).map_err(usage)?;
    estate.notes.push(match (key, &run_id) {
        (Some(_), Some(id)) => format!("Shard reports authenticated by the state key (run {id})"),
        (None, _) if req.signer.is_some() => {
            "Shard reports signed by the signing key (any run of it)".to_string()
        }
        _ => "Shard reports are not authenticated (no --state-key): whoever can write them can \
              change their findings"
            .to_string(),
    });
    let key_described = key.map(|k| k.describe());
    let keys_from = match keys_from.is_empty() {
        true => "not stated by the shards' reports".to_string(),
        false => keys_from.join("; "),
    };
    deliver(req, estate, (key_described, keys_from), decided).await
}

/// Every shard's report, authenticated when there is a key (all of one
/// run), and where each shard's run says its keys came from.
async fn read_shards(
    req: &MergeRequest,
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
    for place in &req.reports {
        let name = &place.to_string();
        let bytes = crate::sources::output::read(place, req.remote())
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
        if let (None, Some(signer)) = (key, req.signer.as_deref()) {
            let signed =
                crate::sources::output::signed_by(place, &bytes, signer.public(), req.remote());
            if !signed.await.map_err(operational)? {
                return Err(usage(format!(
                    "shard report {name} is not signed by the signing key (edited, or written \
                     without it): the merge would sign what it cannot vouch for"
                )));
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
    req: &MergeRequest,
    estate: crate::verify::model::EstateReport,
    (key_described, keys_from): (Option<String>, String),
    decided: &mut bool,
) -> Result<i32, CommandError> {
    let (outputs, remote) = (&req.outputs, req.remote());
    let names: Vec<String> = req.reports.iter().map(|r| r.to_string()).collect();
    let summaries: Vec<_> = estate
        .chains
        .iter()
        .map(|c| c.report.chain_summary(&c.account, &c.region))
        .collect();
    let verdicts_seen = estate.chains.iter().map(|c| c.report.verdict()).collect();
    let mut sink = ReportSink::new(outputs, false, None);
    let streamed: Result<(), CommandError> = estate.chains.iter().try_for_each(|c| {
        sink.chain(c)
            .map(|_| ())
            .map_err(|e| operational(format!("cannot write the report: {e}")))
    });
    let mut provenance =
        crate::report::provenance::of_merge(&names, keys_from, key_described, &summaries);
    provenance.signer = req.signer.as_ref().map(|s| s.public().fingerprint());
    provenance.timestamp_authority = req.tsa.as_ref().map(|t| t.url());
    let provenance = Some(provenance);
    let outcome = Outcome {
        verdicts: Verdicts::Estate(estate),
        summaries,
        verdicts_seen,
        provenance,
    };
    let written: Result<(), CommandError> = async {
        streamed?;
        sink.finish(&outcome, remote).await?;
        // Metrics first: a page that cannot be written must not leave the
        // last run's status in place.
        crate::report::sinks::metrics(outputs, &outcome, 0.0, remote).await?;
        crate::report::sinks::html(outputs, &outcome, remote).await?;
        Ok(())
    }
    .await;
    let failed = written.as_ref().err().map(|e| e.to_string());
    let aws = aws_options(req);
    if written.is_err() {
        use crate::report::sinks::{metrics_of, trail_of};
        let (trail, run) = (trail_of(&outcome), (super::EXIT_ERROR, 0.0));
        // The write's failure is the error already said.
        let _ = metrics_of(outputs, trail, &outcome.summaries, run, remote).await;
    }
    super::deliver::after_run(outputs, &outcome, &aws, failed.as_deref()).await;
    *decided = true;
    written.map(|()| outcome.exit_code())
}
