//! The regions a multi-region trail must deliver to in every account: a
//! multi-region trail writes a digest every hour in every enabled region,
//! and these regions are enabled in every account (they need no opt-in),
//! so a region whose folders were deleted from every account still shows
//! as a missing chain. Opt-in regions count where some account has a folder.

/// The partition's regions that need no opt-in (as of 2026).
pub(crate) fn without_opt_in(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws" => &[
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-southeast-1",
            "ap-southeast-2",
            "ca-central-1",
            "eu-central-1",
            "eu-north-1",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        "aws-us-gov" => &["us-gov-east-1", "us-gov-west-1"],
        _ => &[],
    }
}
