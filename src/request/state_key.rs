//! Where the operator's state key comes from: `--state-key SOURCE` or the
//! environment variable `TRAILPROOF_STATE_KEY` (so a Kubernetes Secret or a
//! CI secret need not appear on a command line). SOURCE is `file:PATH`, a
//! secret of 32 bytes or more, or the ARN of an AWS KMS HMAC_256 key
//! (opened by the caller, which may reach AWS).

use super::RequestError;
use crate::verify::state_key::{SecretKey, StateKey};
use std::sync::Arc;

/// The environment variable read when `--state-key` is not given.
pub(crate) const ENV: &str = "TRAILPROOF_STATE_KEY";

/// The run id's environment variable, and AWS Batch's job id (whose part
/// before `:` is shared by every child of an array job).
pub(crate) const RUN_ID_ENV: &str = "TRAILPROOF_RUN_ID";
const BATCH_JOB_ID: &str = "AWS_BATCH_JOB_ID";

/// The key named by `given` or the environment, if any; `open_kms` opens
/// a KMS key ARN.
pub fn load(
    given: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    open_kms: impl FnOnce(&str) -> Result<Arc<dyn StateKey>, crate::verify::state_key::KeyError>,
) -> Result<Option<Arc<dyn StateKey>>, RequestError> {
    let Some(source) = given.map(str::to_string).or_else(|| env(ENV)) else {
        return Ok(None);
    };
    if source.starts_with("arn:") {
        return open_kms(&source)
            .map(Some)
            .map_err(|e| RequestError::Usage(format!("--state-key: {e}")));
    }
    let Some(path) = source.strip_prefix("file:") else {
        // The value is not shown: it may be the secret itself.
        return Err(RequestError::Usage(format!(
            "--state-key (or {ENV}) must be file:PATH, a file holding a secret of 32 bytes or \
             more, or the ARN of a KMS HMAC_256 key"
        )));
    };
    let secret = read_capped(path)?;
    SecretKey::from_secret(&secret)
        .map(|k| Some(Arc::new(k) as Arc<dyn StateKey>))
        .map_err(|e| RequestError::Usage(e.to_string()))
}

/// A shard's run id: `--run-id`, else `TRAILPROOF_RUN_ID`, else the AWS
/// Batch array job's id (a child's `AWS_BATCH_JOB_ID` is `<array id>:<index>`).
pub(crate) fn run_id(given: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    given_run_id(given, &env)
        .or_else(|| env(BATCH_JOB_ID).map(|j| j.split(':').next().unwrap_or("").to_string()))
        .filter(|id| !id.is_empty())
}

/// The merge's run id: `--run-id`, else `TRAILPROOF_RUN_ID`. Never the
/// merge job's own `AWS_BATCH_JOB_ID`: under Batch the merge is another
/// job, with an id of its own, and would refuse its own run's shards.
pub(crate) fn given_run_id(
    given: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    given
        .map(str::to_string)
        .or_else(|| env(RUN_ID_ENV))
        .filter(|id| !id.is_empty())
}

/// A key file is small: read at most 64 KiB (a device that never ends,
/// like /dev/urandom, is refused rather than read forever).
fn read_capped(path: &str) -> Result<Vec<u8>, RequestError> {
    use std::io::Read;
    const CAP: u64 = 64 * 1024;
    let unreadable = |e: std::io::Error| {
        RequestError::Unreadable(format!("cannot read the state key {path}: {e}"))
    };
    let mut secret = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(CAP + 1).read_to_end(&mut secret))
        .map_err(unreadable)?;
    if secret.len() as u64 > CAP {
        return Err(RequestError::Usage(format!(
            "the state key {path} is longer than {CAP} bytes: not a key file"
        )));
    }
    Ok(secret)
}
