//! The Account edge: the regions enabled in the trail's account
//! (account:ListRegions). A multi-region trail delivers a digest every
//! hour to every enabled region, so a region whose folders were deleted
//! from every account must still be expected. Optional: without the
//! permission the plan falls back to the partition's regions that need no
//! opt-in, and says so.

use crate::sources::aws::AwsError;
use aws_config::SdkConfig;
use aws_sdk_account::types::RegionOptStatus;

/// The enabled regions of `account`, or one sentence on why they are
/// unknown. The caller's own account is asked without an account id (AWS
/// refuses one's own id); another account only from the organization's
/// management or delegated administrator account.
pub(crate) async fn enabled_regions(
    cfg: &SdkConfig,
    account: &str,
) -> Result<Vec<String>, AwsError> {
    let caller = caller_account(cfg).await;
    let own = caller.as_deref() == Ok(account);
    list_regions(cfg, account, own)
        .await
        .map_err(|e| match caller {
            Err(sts) => AwsError {
                sentence: format!("{e} (the caller's account is unknown: {sts})"),
                ..e
            },
            Ok(_) => e,
        })
}

async fn list_regions(cfg: &SdkConfig, account: &str, own: bool) -> Result<Vec<String>, AwsError> {
    let client = aws_sdk_account::Client::new(cfg);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _page in 0..100 {
        let page = client
            .list_regions()
            .set_account_id((!own).then(|| account.to_string()))
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::of(&e))?;
        out.extend(
            page.regions()
                .iter()
                .filter(|r| {
                    matches!(
                        r.region_opt_status(),
                        Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
                    )
                })
                .filter_map(|r| r.region_name())
                .filter(|r| crate::verify::layout::is_region(r))
                .map(str::to_string),
        );
        token = crate::sources::aws::next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(AwsError::other(
            "account:ListRegions listed no enabled region",
        ));
    }
    Ok(out)
}

/// Who the run's credentials are (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
}

/// The account of the credentials in use.
pub async fn caller_account(cfg: &SdkConfig) -> Result<String, AwsError> {
    caller_identity(cfg).await.map(|i| i.account)
}

/// The account and ARN of the credentials in use.
pub async fn caller_identity(cfg: &SdkConfig) -> Result<Identity, AwsError> {
    let out = aws_sdk_sts::Client::new(cfg)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_sts::error::ProvideErrorMetadata;
            // Its error's text is a debug dump: say the code and message.
            let sentence = match e.as_service_error() {
                Some(s) => format!(
                    "STS GetCallerIdentity: {}: {}",
                    s.code().unwrap_or("error"),
                    s.message().unwrap_or("refused")
                ),
                None => format!(
                    "STS GetCallerIdentity: {}",
                    crate::sources::aws::sentence(&e)
                ),
            };
            AwsError {
                sentence,
                ..AwsError::of(&e)
            }
        })?;
    let account = out
        .account()
        .ok_or_else(|| AwsError::other("STS GetCallerIdentity: no account in the answer"))?;
    use aws_sdk_sts::operation::RequestId;
    Ok(Identity {
        account: account.to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().map(str::to_string),
        request_id: out.request_id().map(str::to_string),
    })
}
