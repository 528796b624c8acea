//! Working out where a trail's objects are when the user did not say, and
//! saying what exists when what they said matches nothing. Discovery never
//! guesses: a folder counts only when it holds digests of this trail.

use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::layout::{parse_digest_key, AccountRoot};

/// Why the organization folder could not be decided.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "bucket {bucket} holds digests of trail {trail} for account {account} in several \
         folders ({}); name one with --organization-id",
        candidates.join(", ")
    )]
    Ambiguous {
        bucket: String,
        trail: String,
        account: String,
        candidates: Vec<String>,
    },
}

/// What a candidate folder must hold to count: digests of this trail.
pub(crate) struct Want<'a> {
    pub prefix: Option<&'a str>,
    pub account: &'a str,
    pub region: &'a str,
    pub trail_name: &'a str,
    /// DescribeTrails' IsOrganizationTrail, when known (live mode).
    pub organization_trail: Option<bool>,
}

/// Whether the first page under `root`'s digest folder holds a digest key
/// of the trail (junk objects do not make a folder a candidate).
async fn holds_trail_digests(
    store: &dyn ObjectStore,
    bucket: &str,
    root: &AccountRoot,
    want: &Want<'_>,
) -> Result<bool, StoreError> {
    let prefix = root.digest_region_prefix(want.region);
    let page = store.list_page(bucket, &prefix, None).await?;
    Ok(page.keys.iter().any(|k| {
        parse_digest_key(k).is_some_and(|p| p.root == *root && p.trail_name == want.trail_name)
    }))
}

/// Finds the `o-...` folder holding the trail's digests for this account
/// and region, or None for the plain `AWSLogs/<account>/` layout (also when
/// neither holds any: the caller then reports what exists).
pub(crate) async fn discover_org_id(
    store: &dyn ObjectStore,
    bucket: &str,
    want: &Want<'_>,
) -> Result<Option<String>, ResolveError> {
    let mut candidates: Vec<Option<String>> = Vec::new();
    let plain = AccountRoot::new(want.prefix, None, want.account);
    // Both places are asked at once (one round trip, not two); each only
    // where the trail's description leaves it possible.
    let plain_holds = async {
        match want.organization_trail != Some(true) {
            true => holds_trail_digests(store, bucket, &plain, want).await,
            false => Ok(false),
        }
    };
    let orgs = async {
        match want.organization_trail != Some(false) {
            true => org_folders(store, bucket, want.prefix).await,
            false => Ok(Vec::new()),
        }
    };
    let (plain_holds, orgs) = futures::join!(plain_holds, orgs);
    if plain_holds? {
        candidates.push(None);
    }
    for org in orgs? {
        let root = AccountRoot::new(want.prefix, Some(&org), want.account);
        if holds_trail_digests(store, bucket, &root, want).await? {
            candidates.push(Some(org));
        }
    }
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.remove(0)),
        _ => Err(ResolveError::Ambiguous {
            bucket: bucket.to_string(),
            trail: want.trail_name.to_string(),
            account: want.account.to_string(),
            candidates: candidates
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "no organization folder".into()))
                .collect(),
        }),
    }
}

/// For a run over several accounts: the one folder (`AWSLogs/` or an
/// `AWSLogs/o-.../`) whose first keys include digests of the trail (digest
/// folders sort before log folders, so the first page shows them).
pub(crate) async fn discover_estate_org(
    store: &dyn ObjectStore,
    bucket: &str,
    want: &Want<'_>,
) -> Result<Option<String>, ResolveError> {
    let base = AccountRoot::awslogs_prefix(want.prefix);
    let of_trail = |keys: &[String]| {
        keys.iter()
            .any(|k| parse_digest_key(k).is_some_and(|p| p.trail_name == want.trail_name))
    };
    let mut candidates: Vec<Option<String>> = Vec::new();
    if want.organization_trail != Some(true) {
        for account in crate::plan::chains::child_folders(store, bucket, &base).await? {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let page = store
                .list_page(bucket, &format!("{base}{account}/CloudTrail-Digest/"), None)
                .await?;
            if of_trail(&page.keys) {
                candidates.push(None);
                break;
            }
        }
    }
    if want.organization_trail != Some(false) {
        for org in org_folders(store, bucket, want.prefix).await? {
            let page = store
                .list_page(bucket, &format!("{base}{org}/"), None)
                .await?;
            if of_trail(&page.keys) {
                candidates.push(Some(org));
            }
        }
    }
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.remove(0)),
        _ => Err(ResolveError::Ambiguous {
            bucket: bucket.to_string(),
            trail: want.trail_name.to_string(),
            account: "several accounts".to_string(),
            candidates: candidates
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "no organization folder".into()))
                .collect(),
        }),
    }
}

/// The `o-...` folder names under `AWSLogs/`.
async fn org_folders(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let base = AccountRoot::awslogs_prefix(prefix);
    let mut orgs = store.list_folders(bucket, &base).await?;
    orgs.retain(|f| f.starts_with("o-"));
    Ok(orgs)
}

/// One level up from a folder that does not exist: the names that do, for
/// the error message ("regions found: ...").
pub(crate) async fn what_exists(
    store: &dyn ObjectStore,
    bucket: &str,
    root: &AccountRoot,
    region: &str,
) -> String {
    let digest_base = root.digest_region_prefix(region);
    let digest_base = digest_base
        .trim_end_matches(&format!("{region}/"))
        .to_string();
    let names = |prefix: &str, keys: &[String]| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for k in keys.iter().filter_map(|k| k.strip_prefix(prefix)) {
            if let Some(n) = k
                .split('/')
                .next()
                .filter(|n| !n.is_empty() && k.contains('/'))
            {
                if !v.iter().any(|x| x == n) {
                    v.push(n.to_string());
                }
            }
        }
        v
    };
    if let Ok(p) = store.list_page(bucket, &digest_base, None).await {
        let regions = names(&digest_base, &p.keys);
        if !regions.is_empty() {
            return format!(
                "digest regions found for account {}: {}; check --region",
                root.account,
                regions.join(", ")
            );
        }
    }
    let awslogs = AccountRoot::awslogs_prefix(root.prefix.as_deref());
    let mut levels = vec![awslogs.clone()];
    if let Some(o) = &root.org_id {
        levels.insert(0, format!("{awslogs}{o}/"));
    }
    for under in levels {
        if let Ok(p) = store.list_page(bucket, &under, None).await {
            let found = names(&under, &p.keys);
            if !found.is_empty() {
                return format!(
                    "folders found under {under}: {}; check --account-id or --organization-id",
                    found.join(", ")
                );
            }
        }
    }
    if let Ok(p) = store.list_page(bucket, "", None).await {
        let top = names("", &p.keys);
        if !top.is_empty() {
            return format!(
                "top-level folders in the bucket: {}; check --s3-prefix",
                top.join(", ")
            );
        }
        return "the bucket is empty".to_string();
    }
    "nothing could be listed one level up".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::store::local::LocalStore;

    const DIGEST: &str = "CloudTrail-Digest/us-east-1/2020/01/01/{a}_CloudTrail-Digest_us-east-1_t_us-east-1_20200101T010000Z.json.gz";

    fn want<'a>(prefix: Option<&'a str>, account: &'a str) -> Want<'a> {
        Want {
            prefix,
            account,
            region: "us-east-1",
            trail_name: "t",
            organization_trail: None,
        }
    }

    #[tokio::test]
    async fn finds_the_org_folder_only_where_digests_of_the_trail_are() {
        let dir = tempfile::tempdir().unwrap();
        let put = |k: &str| {
            let p = dir.path().join("b").join(k);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        let digest = |root: &str, a: &str| format!("{root}{}", DIGEST.replace("{a}", a));
        put(&digest(
            "p/AWSLogs/o-aaaa111111/111111111111/",
            "111111111111",
        ));
        put(&digest(
            "p/AWSLogs/o-aaaa111111/222222222222/",
            "222222222222",
        ));
        put(&digest("AWSLogs/333333333333/", "333333333333"));
        // Junk in the plain folder and a fake org folder do not count.
        put("p/AWSLogs/222222222222/CloudTrail-Digest/us-east-1/junk.json.gz");
        put("p/AWSLogs/o-fake000000/222222222222/CloudTrail-Digest/us-east-1/x");
        let s = LocalStore::new(dir.path()).unwrap();
        let got = discover_org_id(&s, "b", &want(Some("p"), "222222222222")).await;
        assert_eq!(got.unwrap().as_deref(), Some("o-aaaa111111"));
        let got = discover_org_id(&s, "b", &want(None, "333333333333")).await;
        assert_eq!(got.unwrap(), None);
        // Two real candidates: an error naming both.
        put(&digest("p/AWSLogs/222222222222/", "222222222222"));
        let got = discover_org_id(&s, "b", &want(Some("p"), "222222222222")).await;
        let msg = got.unwrap_err().to_string();
        assert!(
            msg.contains("o-aaaa111111") && msg.contains("no organization folder"),
            "{msg}"
        );
        let hint = what_exists(
            &s,
            "b",
            &AccountRoot::new(Some("p"), None, "999999999999"),
            "us-east-1",
        )
        .await;
        assert!(
            hint.contains("o-aaaa111111") && hint.contains("222222222222"),
            "{hint}"
        );
    }
}
