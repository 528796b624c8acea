//! `trailproof acquire --out DIR`: a live validation that reads through a
//! recording store, plus the evidence sink (`report::evidence`).

use super::{operational, CommandError};
use crate::cli::AcquireCmd;
use crate::sources::evidence::SUMS_FILE;
use crate::sources::store::record::Recording;
use std::sync::Arc;

pub async fn run(cmd: AcquireCmd) -> Result<i32, CommandError> {
    let out = &cmd.out;
    if cmd.validate.local.is_none() {
        // The request checks that the report's folder exists: make it first.
        std::fs::create_dir_all(out)
            .map_err(|e| operational(format!("cannot create {}: {e}", out.display())))?;
    }
    let req = cmd.to_request()?;
    let mut sources = crate::plan::connect::open(&req).await?;
    let live = sources
        .live
        .clone()
        .ok_or_else(|| operational("acquire reads from S3 only"))?;
    let known = crate::report::evidence::earlier(out, req.state.key.as_deref());
    crate::report::evidence::clear_generated(out).map_err(operational)?;
    let recording = Arc::new(Recording::new(sources.store.clone(), out, known));
    sources.store = recording.clone();
    let outcome = super::validate::validate(&req, &sources).await?;
    let n = crate::report::evidence::write(out, &req, &live, &recording, &outcome)
        .await
        .map_err(operational)?;
    let with_key = if req.state.key.is_some() {
        " --state-key <the same key>"
    } else {
        " --public-keys <keys you trust> (without a state key DIR's own keys and records are \
         not evidence)"
    };
    eprintln!(
        "Acquired {n} files into {}; verify with `sha256sum -c {SUMS_FILE}` there and \
         `trailproof validate --local {}{with_key}`",
        out.display(),
        out.display()
    );
    Ok(outcome.exit_code())
}
