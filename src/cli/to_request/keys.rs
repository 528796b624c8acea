//! `keys`'s arguments into a [`KeysRequest`].

use super::*;
use crate::cli::KeysArgs;
use crate::request::KeysRequest;

impl KeysArgs {
    /// The region and the span whose keys to fetch (now when not given).
    pub(crate) fn to_request(&self) -> Result<KeysRequest, RequestError> {
        let now = chrono::Utc::now();
        let start = optional_time(&self.start_time)?.unwrap_or(now);
        let end = optional_time(&self.end_time)?.unwrap_or(now);
        check_order(Some(start), end)?;
        Ok(KeysRequest {
            region: self.region.clone(),
            start,
            end,
            profile: self.profile.clone(),
            endpoint_url: endpoint_url(self.endpoint_url.as_deref())?,
            out: self.out.clone(),
        })
    }
}
