//! After the verdict: `--notify`'s alert, then `--security-hub`'s import,
//! shared by `validate` and `merge`. Both run once the exit status is
//! decided and every file is written (or failed to be); what they fail
//! at is a warning on stderr, never another exit status. The alert goes
//! first: it is one request, and a job's time limit must not cut it off
//! behind a long import.

use crate::report::alert::{self, Alert, Places};
use crate::report::compliance::{Finding, Severity, Subject};
use crate::report::say;
use crate::request::deliveries::Deliveries;
use crate::request::Outputs;
use crate::run::Outcome;
use crate::sources::aws::AwsOptions;
use crate::sources::securityhub::Asff;
use crate::verify::model::Problem;

/// Refused findings said one by one before they are counted.
const NAMED_REFUSALS: usize = 10;
/// Findings imported a run: ten requests. A bucket an attacker filled
/// with junk objects must not turn the import into hours of calls and
/// a bill; the chains' findings go first, then the worst objects'.
pub const IMPORT_CAP: usize = 1000;

/// The alert and the import of a run that decided its verdicts;
/// `failed` is the write that failed after it (the exit status is 2).
pub(crate) async fn after_run(
    outputs: &Outputs,
    outcome: &Outcome,
    aws: &AwsOptions,
    failed: Option<&str>,
) {
    let d = &outputs.deliveries;
    let code = match failed {
        Some(_) => super::EXIT_ERROR,
        None => outcome.exit_code(),
    };
    let alerting = !d.notify.is_empty() && (code != 0 || d.notify_always);
    if !alerting && !d.security_hub {
        return;
    }
    let cfg = crate::sources::aws::load(aws).await;
    let chains = crate::report::sinks::compliance_chains(outcome);
    if alerting {
        let places = Places {
            report: outputs.report.as_ref().map(place),
            html: outputs.html.as_ref().map(place),
        };
        let run = alert::Run {
            trail: crate::report::sinks::trail_of(outcome),
            verdict: outcome.verdict(),
            window: crate::report::sinks::window_of(outcome),
            summaries: &outcome.summaries,
            failed,
        };
        notify(&cfg, d, &alert::of_run(&run, &chains, &places)).await;
    }
    if d.security_hub {
        let mut findings = crate::report::compliance::of_chains(&chains);
        findings.sort_by_key(priority);
        let now = chrono::Utc::now();
        let asff: Vec<Asff> = findings
            .iter()
            .map(|f| crate::report::asff::of(f, now))
            .collect();
        security_hub(&cfg, &asff).await;
    }
}

/// Chains' findings first, then the objects', worst first, and of
/// equal severity the trail's own digests and logs before objects that
/// should not be there (an attacker's junk must not push an altered log
/// past the cap). A stable sort keeps the report's order within each.
fn priority(f: &Finding) -> (bool, std::cmp::Reverse<Severity>, bool) {
    let (object, planted) = match &f.subject {
        Subject::Chain => (false, false),
        Subject::Object { problem, .. } => (true, *problem == Some(Problem::UnexpectedObject)),
    };
    (object, std::cmp::Reverse(f.severity), planted)
}

/// The alert of a run that ended in an error before any verdict (exit 2).
pub(crate) async fn after_failure(d: &Deliveries, aws: &AwsOptions, trail: &str, error: &str) {
    if d.notify.is_empty() {
        return;
    }
    let cfg = crate::sources::aws::load(aws).await;
    notify(&cfg, d, &alert::of_failure(trail, error)).await;
}

/// A command line that misspells something sends no alert: its one
/// sentence is said at once, before any network. A file it names that
/// cannot be read (a copy, key or state key file whose mount went away)
/// is a night's operational failure, and is announced, if the channel
/// and the endpoint were named right.
pub(crate) async fn after_unreadable(
    args: &crate::cli::DeliveryArgs,
    (profile, endpoint): (Option<&str>, Option<&str>),
    trail: &str,
    why: &str,
) {
    let endpoint = crate::cli::to_request::endpoint_url(endpoint);
    let (Ok(d), Ok(endpoint_url)) = (args.to_deliveries(), endpoint) else {
        return;
    };
    let aws = AwsOptions {
        profile: profile.map(str::to_string),
        endpoint_url,
        ..Default::default()
    };
    after_failure(&d, &aws, trail, why).await;
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

/// Each channel in turn; one that fails does not stop the next.
async fn notify(cfg: &aws_config::SdkConfig, d: &Deliveries, alert: &Alert) {
    for target in &d.notify {
        match crate::sources::notify::send(cfg, target, alert).await {
            Ok(id) => say(format_args!("alert sent to {target} (message {id})")),
            Err(e) => say(format_args!(
                "warning: the alert to {target} was not sent: {e} (the exit status stands)"
            )),
        }
    }
}

/// The import, and on stderr what Security Hub took and what it did not.
async fn security_hub(cfg: &aws_config::SdkConfig, findings: &[Asff]) {
    let caller = match crate::sources::account::caller_identity(cfg).await {
        Ok(i) => i.account,
        Err(e) => {
            return say(format_args!(
                "warning: no findings imported into Security Hub: cannot tell the caller's \
                 account: {e}"
            ))
        }
    };
    let done = crate::sources::securityhub::import(cfg, &caller, findings, IMPORT_CAP).await;
    let region = findings.first().map_or("", |f| f.home_region.as_str());
    let took = done.accepted;
    say(format_args!(
        "Security Hub took {took} finding(s) in {region} (account {caller})"
    ));
    for (id, code, message) in done.refused.iter().take(NAMED_REFUSALS) {
        say(format_args!(
            "warning: Security Hub refused finding {id}: {code}: {message}"
        ));
    }
    if let Some(more) = done.refused.len().checked_sub(NAMED_REFUSALS + 1) {
        say(format_args!(
            "warning: Security Hub refused {} more finding(s)",
            more + 1
        ));
    }
    not_imported(&done);
}

/// The findings that were never sent, and why.
fn not_imported(done: &crate::sources::securityhub::Imported) {
    for (account, n) in &done.not_sent {
        say(format_args!(
            "warning: {n} finding(s) of account {account} not imported: under the default \
             product Security Hub takes only the caller's own account's findings; import them \
             with credentials of {account} (--format asff writes them)"
        ));
    }
    if done.left_out > 0 {
        say(format_args!(
            "warning: {} finding(s) past the first {IMPORT_CAP} not imported (the chains' and \
             the worst objects' went first); --format asff writes them all",
            done.left_out
        ));
    }
    if let Some(e) = &done.error {
        say(format_args!(
            "warning: {} finding(s) not imported: {e}",
            done.unsent
        ));
    }
}
