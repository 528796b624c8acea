//! `trailproof keys`: ListPublicKeys written as a keys file, for later
//! offline runs.

use super::{operational, CommandError};
use crate::cli::KeysArgs;
use crate::sources::aws::AwsOptions;
use crate::sources::cloudtrail::CloudTrail;
use crate::verify::pubkeys::PublicKeySet;

pub async fn run(args: KeysArgs) -> Result<i32, CommandError> {
    let req = args.to_request()?;
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: req.profile.clone(),
        region: Some(req.region.clone()),
        read_timeout: None,
        endpoint_url: req.endpoint_url.clone(),
    })
    .await;
    let ct = CloudTrail::new(cfg);
    let mut set = PublicKeySet::new();
    set.extend(
        ct.list_public_keys(&req.region, req.start, req.end)
            .await
            .map_err(operational)?,
    );
    let text = set.to_json();
    match &req.out {
        Some(p) => {
            let target = crate::sources::output::Destination::File(p.clone());
            let remote = crate::sources::output::Remote::profile(req.profile.as_deref());
            crate::sources::output::write(&target, text.into_bytes(), remote)
                .await
                .map_err(operational)?
        }
        None => print!("{text}"),
    }
    Ok(0)
}
