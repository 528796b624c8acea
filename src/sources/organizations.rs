//! The Organizations edge: the member accounts an organization trail should
//! deliver for (ListAccounts, paged). Optional: auditors often lack the
//! permission, and the run then says once that silent accounts go unseen.

use crate::sources::aws::AwsError;
use aws_config::SdkConfig;
use aws_sdk_organizations::types::AccountStatus;

/// The active member accounts, or one sentence on why they are unknown.
pub(crate) async fn active_accounts(cfg: &SdkConfig) -> Result<Vec<String>, AwsError> {
    let client = aws_sdk_organizations::Client::new(cfg);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..1000 {
        let page = client
            .list_accounts()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::of(&e))?;
        for a in page.accounts() {
            if a.status() == Some(&AccountStatus::Active) {
                if let Some(id) = a.id() {
                    out.push(id.to_string());
                }
            }
        }
        token = crate::sources::aws::next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
