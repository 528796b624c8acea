//! `trailproof merge REPORT...`: shard reports back into the report and
//! exit status of the unsharded run.

use super::{operational, usage, CommandError};
use crate::cli::to_request::optional_time;
use crate::cli::MergeArgs;
use crate::report::merge::MergeError;
use crate::report::output::Remote;

pub async fn run(args: MergeArgs) -> Result<i32, CommandError> {
    let remote = Remote::profile(args.profile.as_deref());
    let env = |v: &str| std::env::var(v).ok();
    let key = crate::request::state_key::load(args.state_key.as_deref(), env)?;
    let mut run_id = crate::request::state_key::run_id(args.run_id.as_deref(), env);
    if key.is_some() && run_id.is_none() {
        return Err(usage(
            "merge with a state key needs --run-id (or TRAILPROOF_RUN_ID): the run whose \
             reports to merge, so an old run's reports cannot stand in",
        ));
    }
    let mut reports = Vec::new();
    for name in &args.reports {
        let bytes = crate::report::output::read(name, remote)
            .await
            .map_err(operational)?;
        if let Some(key) = &key {
            let id = crate::report::merge::authenticate(name, &bytes, key).map_err(usage)?;
            match &run_id {
                Some(want) if *want != id => {
                    let e = MergeError::OtherRun(name.clone(), id, want.clone());
                    return Err(usage(e));
                }
                _ => run_id = Some(id),
            }
        }
        let report = crate::report::merge::read(name, &bytes).map_err(usage)?;
        reports.push((name.clone(), report));
    }
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
    let (format, verbose) = (args.format.into(), args.verbose);
    let mut buf = Vec::new();
    let res = match &args.output {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            crate::report::sinks::render_estate(&estate, format, verbose, &mut out)
        }
        Some(_) => crate::report::sinks::render_estate(&estate, format, verbose, &mut buf),
    };
    match res {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(operational(format!("cannot write the report: {e}"))),
    }
    if let Some(target) = &args.output {
        crate::report::output::write(target, buf, remote)
            .await
            .map_err(operational)?;
    }
    Ok(estate.exit_code())
}
