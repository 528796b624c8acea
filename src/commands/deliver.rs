//! After the verdict: `--security-hub`'s import and `--notify`'s alert,
//! shared by `validate` and `merge`. Both run once the exit status is
//! decided and every file is written; what they fail at is a warning on
//! stderr, never another exit status.

use crate::report::alert::{self, Alert, Places};
use crate::request::deliveries::Deliveries;
use crate::request::Outputs;
use crate::run::Outcome;
use crate::sources::aws::AwsOptions;
use crate::sources::securityhub::Asff;

/// Refused findings said one by one before they are counted.
const NAMED_REFUSALS: usize = 10;

/// The import and the alert of a run that decided its verdicts.
pub(crate) async fn after_run(outputs: &Outputs, outcome: &Outcome, aws: &AwsOptions) {
    let d = &outputs.deliveries;
    if !d.security_hub && d.notify.is_empty() {
        return;
    }
    let cfg = crate::sources::aws::load(aws).await;
    let chains = crate::report::sinks::compliance_chains(outcome);
    let trail = crate::report::sinks::trail_of(outcome);
    if d.security_hub {
        let findings = crate::report::compliance::of_chains(&chains);
        let now = chrono::Utc::now();
        let asff: Vec<Asff> = findings
            .iter()
            .map(|f| crate::report::asff::of(f, now))
            .collect();
        security_hub(&cfg, &asff).await;
    }
    let code = outcome.exit_code();
    if code != 0 || d.notify_always {
        let places = Places {
            report: outputs.report.as_ref().map(place),
            html: outputs.html.as_ref().map(place),
        };
        let alert = alert::of_run(trail, &chains, outcome.verdict(), &places);
        notify(&cfg, d, &alert).await;
    }
}

/// The alert of a run that ended in an error (exit 2).
pub(crate) async fn after_failure(d: &Deliveries, aws: &AwsOptions, trail: &str, error: &str) {
    if d.notify.is_empty() {
        return;
    }
    let cfg = crate::sources::aws::load(aws).await;
    notify(&cfg, d, &alert::of_failure(trail, error)).await;
}

/// A file as an absolute path (the job's own directory means nothing to
/// the reader of an alert); S3 as its URL.
fn place(d: &crate::sources::output::Destination) -> String {
    use crate::sources::output::Destination;
    match d {
        Destination::File(p) => std::path::absolute(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        other => other.to_string(),
    }
}

async fn notify(cfg: &aws_config::SdkConfig, d: &Deliveries, alert: &Alert) {
    for target in &d.notify {
        let name = target.to_string();
        match crate::sources::notify::send(cfg, target, alert).await {
            Ok(id) => eprintln!("trailproof: alert sent to {name} (message {id})"),
            Err(e) => eprintln!(
                "trailproof: warning: the alert to {name} was not sent: {e} (the exit status stands)"
            ),
        }
    }
}

async fn security_hub(cfg: &aws_config::SdkConfig, findings: &[Asff]) {
    let caller = match crate::sources::account::caller_identity(cfg).await {
        Ok(i) => i.account,
        Err(e) => {
            eprintln!(
                "trailproof: warning: no findings imported into Security Hub: cannot tell the \
                 caller's account: {e}"
            );
            return;
        }
    };
    let done = crate::sources::securityhub::import(cfg, &caller, findings).await;
    let region = findings.first().map_or("", |f| f.home_region.as_str());
    eprintln!(
        "trailproof: Security Hub took {} finding(s) in {region} (account {caller})",
        done.accepted
    );
    for (id, code, message) in done.refused.iter().take(NAMED_REFUSALS) {
        eprintln!("trailproof: warning: Security Hub refused finding {id}: {code}: {message}");
    }
    if done.refused.len() > NAMED_REFUSALS {
        let more = done.refused.len() - NAMED_REFUSALS;
        eprintln!("trailproof: warning: Security Hub refused {more} more finding(s)");
    }
    for (account, n) in &done.not_sent {
        eprintln!(
            "trailproof: warning: {n} finding(s) of account {account} not imported: under the \
             default product Security Hub takes only the caller's own account's findings; import \
             them with credentials of {account} (--format asff writes them)"
        );
    }
    if let Some(e) = done.error {
        eprintln!("trailproof: warning: the Security Hub import stopped: {e}");
    }
}
