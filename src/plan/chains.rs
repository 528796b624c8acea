//! Planning an estate run: which chains (account, delivering region) to
//! validate. `--account-id` and `--region` take `all` or comma-separated
//! lists; `all` is resolved from the bucket's folders. Nothing in the
//! selection is skipped silently: every chain considered is in the plan,
//! with what was found for it.

use crate::request::Pick;
use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::layout::AccountRoot;
use futures::{StreamExt, TryStreamExt};

/// What the bucket holds for one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPlan {
    pub account: String,
    pub region: String,
    pub has_digest_folder: bool,
    pub has_log_folder: bool,
    /// Why the chain is in the plan although nothing of it was found.
    pub expected_because: Option<String>,
}

/// The names of the folders directly under `prefix` (which ends in `/`).
pub(crate) async fn child_folders(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let mut v = store.list_folders(bucket, prefix).await?;
    v.sort();
    Ok(v)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

use crate::verify::layout::is_region;

/// The chains to validate under `prefix`/`org`, for the picked accounts and
/// regions. With `all` regions, a region found for some account but not for
/// another is planned for that account too (an organization or multi-region
/// trail delivers to every account and region it covers), and so is every
/// region of `always` (the trail's home region, which delivers whatever an
/// attacker deleted), so a deleted or never-written folder is a finding,
/// not a silent skip.
pub(crate) async fn plan_chains(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: Option<&str>,
    org: Option<&str>,
    accounts: &Pick,
    regions: &Pick,
    always: &[String],
) -> Result<Vec<ChainPlan>, StoreError> {
    let base = match org {
        Some(o) => format!("{}{o}/", AccountRoot::awslogs_prefix(prefix)),
        None => AccountRoot::awslogs_prefix(prefix),
    };
    let accounts: Vec<String> = match accounts {
        Pick::List(v) => v.clone(),
        Pick::All => child_folders(store, bucket, &base)
            .await?
            .into_iter()
            .filter(|a| is_account(a))
            .collect(),
    };
    // The accounts' folders are listed concurrently.
    let found: Vec<(String, Folders)> = futures::stream::iter(accounts.iter())
        .map(|account| account_regions(store, bucket, prefix, org, account.as_str(), regions))
        .buffered(16)
        .try_collect()
        .await?;
    // Regions some account has a folder of, then those expected anyway.
    let delivered: std::collections::BTreeSet<String> = found
        .iter()
        .flat_map(|(_, rs)| {
            rs.iter()
                .filter(|(_, d, l)| *d || *l)
                .map(|(r, _, _)| r.clone())
        })
        .collect();
    let mut all_regions: Vec<String> = found
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(|(r, _, _)| r.clone()))
        .chain(always.iter().cloned())
        .collect();
    all_regions.sort();
    all_regions.dedup();
    Ok(found
        .into_iter()
        .flat_map(|(account, per_region)| {
            chains_of(account, per_region, regions, &all_regions, &delivered)
        })
        .collect())
}

/// Per region of one account: (region, has a digest folder, has a log folder).
type Folders = Vec<(String, bool, bool)>;

/// The delivering regions one account's folders show, for the picked regions.
async fn account_regions(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: Option<&str>,
    org: Option<&str>,
    account: &str,
    regions: &Pick,
) -> Result<(String, Folders), StoreError> {
    let root = AccountRoot::new(prefix, org, account);
    let folder = |with_empty_region: String| {
        with_empty_region
            .strip_suffix('/')
            .map(str::to_string)
            .unwrap_or(with_empty_region)
    };
    let digest_base = folder(root.digest_region_prefix(""));
    let log_base = folder(root.log_region_prefix(""));
    let (digest_regions, log_regions) = futures::try_join!(
        child_folders(store, bucket, &digest_base),
        child_folders(store, bucket, &log_base)
    )?;
    let mut names: Vec<String> = match regions {
        Pick::List(v) => v.clone(),
        Pick::All => digest_regions
            .iter()
            .chain(&log_regions)
            .filter(|r| is_region(r))
            .cloned()
            .collect(),
    };
    names.sort();
    names.dedup();
    let per_region: Folders = names
        .into_iter()
        .map(|r| {
            let d = digest_regions.contains(&r);
            let l = log_regions.contains(&r);
            (r, d, l)
        })
        .collect();
    Ok((account.to_string(), per_region))
}

/// One account's chains: with `all` regions, every region any account
/// delivers to, found or not.
fn chains_of(
    account: String,
    mut rows: Folders,
    regions: &Pick,
    all_regions: &[String],
    delivered: &std::collections::BTreeSet<String>,
) -> Vec<ChainPlan> {
    if *regions == Pick::All {
        for r in all_regions {
            if !rows.iter().any(|(x, _, _)| x == r) {
                rows.push((r.clone(), false, false));
            }
        }
    }
    rows.sort();
    rows.into_iter()
        .map(|(region, d, l)| ChainPlan {
            account: account.clone(),
            has_digest_folder: d,
            has_log_folder: l,
            expected_because: (!d && !l).then(|| match regions {
                Pick::All if delivered.contains(&region) => {
                    "other accounts of the trail deliver to this region".to_string()
                }
                Pick::All => "the trail delivers to this region in every account (its home \
                              region, or one a multi-region trail always delivers to)"
                    .to_string(),
                Pick::List(_) => "selected".to_string(),
            }),
            region,
        })
        .collect()
}

/// Adds a chain, per region already planned, for every account the
/// organization says is active but the bucket holds no folder of.
pub(crate) fn add_silent_accounts(
    chains: &mut Vec<ChainPlan>,
    active: &[String],
    fallback_region: &str,
) {
    let mut regions: Vec<String> = chains.iter().map(|c| c.region.clone()).collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        regions.push(fallback_region.to_string());
    }
    for account in active {
        if chains.iter().any(|c| &c.account == account) {
            continue;
        }
        for region in &regions {
            chains.push(ChainPlan {
                account: account.clone(),
                region: region.clone(),
                has_digest_folder: false,
                has_log_folder: false,
                expected_because: Some(
                    "an active member account (organizations:ListAccounts) without a folder"
                        .to_string(),
                ),
            });
        }
    }
    chains.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::store::local::LocalStore;

    #[test]
    fn picks_parse() {
        assert_eq!(Pick::parse("ALL"), Pick::All);
        assert_eq!(
            Pick::parse("us-east-1, eu-west-1,,us-east-1"),
            Pick::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert_eq!(Pick::parse("us-east-1").single(), Some("us-east-1"));
    }

    #[tokio::test]
    async fn all_accounts_and_regions_with_missing_folders_planned() {
        let dir = tempfile::tempdir().unwrap();
        let put = |k: &str| {
            let p = dir.path().join("b").join(k);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        let base = "p/AWSLogs/o-abc1234567";
        put(&format!(
            "{base}/111111111111/CloudTrail-Digest/us-east-1/2020/01/01/d.json.gz"
        ));
        put(&format!(
            "{base}/111111111111/CloudTrail/us-east-1/2020/01/01/l.json.gz"
        ));
        put(&format!(
            "{base}/111111111111/CloudTrail-Digest/eu-west-1/2020/01/01/d.json.gz"
        ));
        put(&format!(
            "{base}/222222222222/CloudTrail/eu-west-1/2020/01/01/l.json.gz"
        ));
        put(&format!("{base}/not-an-account/x"));
        let s = LocalStore::new(dir.path()).unwrap();
        let plan = plan_chains(
            &s,
            "b",
            Some("p"),
            Some("o-abc1234567"),
            &Pick::All,
            &Pick::All,
            &[],
        )
        .await
        .unwrap();
        let rows: Vec<(String, String, bool, bool, bool)> = plan
            .iter()
            .map(|c| {
                (
                    c.account.clone(),
                    c.region.clone(),
                    c.has_digest_folder,
                    c.has_log_folder,
                    c.expected_because.is_some(),
                )
            })
            .collect();
        let r = |a: &str, g: &str, d, l, e| (a.to_string(), g.to_string(), d, l, e);
        assert_eq!(
            rows,
            vec![
                r("111111111111", "eu-west-1", true, false, false),
                r("111111111111", "us-east-1", true, true, false),
                r("222222222222", "eu-west-1", false, true, false),
                r("222222222222", "us-east-1", false, false, true),
            ]
        );
    }
}
