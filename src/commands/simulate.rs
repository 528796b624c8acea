//! `trailproof simulate [--upload]`: a synthetic, correctly signed trail.

use super::{operational, CommandError};
use crate::cli::SimulateCmd;
use crate::sources::aws::AwsOptions;
use crate::sources::store::s3::S3Store;

pub fn run(cmd: SimulateCmd) -> Result<i32, CommandError> {
    let (spec, accounts, regions) = cmd.sim.to_spec().map_err(operational)?;
    let out = crate::simulate::run(&spec, &accounts, &regions).map_err(operational)?;
    println!("{}", out.summary_text());
    if cmd.upload {
        let rt = super::runtime()?;
        let n = rt.block_on(async {
            let cfg = crate::sources::aws::load(&AwsOptions {
                profile: cmd.profile.clone(),
                region: None,
                read_timeout: None,
                endpoint_url: None,
            })
            .await;
            let path_style = crate::sources::aws::s3_endpoint_override(&cfg)
                .is_some_and(|e| crate::sources::aws::needs_path_style(&e));
            let store = S3Store::new(cfg, path_style, 5);
            crate::sources::store::s3::upload_dir(&store, &out.out).await
        });
        let n = n.map_err(|e| operational(format!("upload failed: {e}")))?;
        println!("Uploaded {n} objects.");
    }
    Ok(0)
}
