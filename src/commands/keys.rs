//! `trailproof keys`: ListPublicKeys written as a keys file, for later
//! offline runs.

use super::{operational, CommandError};
use crate::cli::to_request::{check_order, optional_time};
use crate::cli::KeysArgs;
use crate::sources::aws::AwsOptions;
use crate::sources::cloudtrail::CloudTrail;
use crate::verify::pubkeys::PublicKeySet;

pub async fn run(args: KeysArgs) -> Result<i32, CommandError> {
    let now = chrono::Utc::now();
    let start = optional_time(&args.start_time)?.unwrap_or(now);
    let end = optional_time(&args.end_time)?.unwrap_or(now);
    check_order(Some(start), end)?;
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: args.profile.clone(),
        region: Some(args.region.clone()),
        read_timeout: None,
        endpoint_url: args.endpoint_url.clone(),
    })
    .await;
    let ct = CloudTrail::new(cfg);
    let mut set = PublicKeySet::new();
    set.extend(
        ct.list_public_keys(&args.region, start, end)
            .await
            .map_err(operational)?,
    );
    let text = set.to_json();
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| operational(format!("cannot write {}: {e}", p.display())))?,
        None => print!("{text}"),
    }
    Ok(0)
}
