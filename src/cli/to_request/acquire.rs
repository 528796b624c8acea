//! `acquire`'s arguments: a live validation whose report lands in DIR.

use super::*;

impl AcquireCmd {
    /// A live validation whose JSON report lands in DIR; checkpoints and
    /// shards do not apply to evidence.
    pub(crate) fn to_request(&self) -> Result<ValidateRequest, RequestError> {
        if self.validate.local.is_some() {
            return Err(usage("acquire copies from S3; --local does not apply"));
        }
        let mut args = self.validate.clone();
        if args.output.is_some() || args.report_file.is_some() || args.format.is_some() {
            return Err(usage(
                "acquire writes its report as live-report.json in --out DIR; --format, --output \
                 and --report-file do not apply",
            ));
        }
        if args.deliveries.any() {
            return Err(usage(
                "acquire copies evidence: --notify and --security-hub belong to validate (run it \
                 on the copy with --local DIR)",
            ));
        }
        if args.checkpoint.is_some() || args.shard.is_some() {
            return Err(usage(
                "acquire copies one whole window: --checkpoint and --shard do not apply",
            ));
        }
        args.format = Some(Format::Json);
        args.report_file = Some(
            self.out
                .join(crate::sources::evidence::REPORT_FILE)
                .display()
                .to_string(),
        );
        let mut req = args.to_request()?;
        req.output.keep_answers = true;
        Ok(req)
    }
}
