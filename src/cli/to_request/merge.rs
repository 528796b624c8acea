//! `merge`'s arguments into a [`MergeRequest`].

use super::*;
use crate::cli::MergeArgs;
use crate::request::MergeRequest;
use crate::sources::output::Destination;

impl MergeArgs {
    /// The shard reports, what they must be of, where the merged report
    /// goes, and what authenticates the shards.
    pub(crate) fn to_request(&self) -> Result<MergeRequest, RequestError> {
        let format = report_format(self.format, self.output.as_deref())?;
        let in_file = self.report_file.is_some();
        let (metrics, metrics_stdout) =
            metrics_destination(self.metrics.as_deref(), format, in_file)?;
        let outputs = Outputs {
            format,
            verbose: self.verbose,
            quiet: false,
            report: destination("--report-file", self.report_file.as_deref())?,
            html: file_destination("--html", self.html.as_deref())?,
            metrics,
            metrics_stdout,
            metrics_format: self.metrics_format.into(),
            restore_plan: None,
            recover: None,
            keep_answers: false,
            deliveries: self.deliveries.to_deliveries()?,
        };
        let endpoint = endpoint_url(self.endpoint_url.as_deref())?;
        let key = state_key(
            self.state_key.as_deref(),
            self.profile.as_deref(),
            endpoint.as_deref(),
        )?;
        let env = |v: &str| std::env::var(v).ok();
        let run_id = crate::request::state_key::given_run_id(self.run_id.as_deref(), env);
        if key.is_some() && run_id.is_none() {
            return Err(usage(
                "merge with a state key needs --run-id (or TRAILPROOF_RUN_ID): the run whose \
                 reports to merge (under AWS Batch, the array job's id), so an old run's reports \
                 cannot stand in",
            ));
        }
        let signer = signer(
            self.signing_key.as_deref(),
            self.profile.as_deref(),
            endpoint.as_deref(),
        )?
        .map(std::sync::Arc::new);
        Ok(MergeRequest {
            reports: self.reports.iter().map(|r| Destination::parse(r)).collect(),
            trail_arn: self.trail_arn.clone(),
            start: optional_time(&self.start_time)?,
            end: optional_time(&self.end_time)?,
            outputs,
            profile: self.profile.clone(),
            endpoint_url: endpoint,
            key,
            run_id,
            signer,
            tsa: tsa(self.tsa_url.as_deref())?,
        })
    }
}
