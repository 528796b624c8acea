//! Working out where a trail's objects are when the user did not say:
//! the organization id of an organization trail, discovered from the
//! bucket itself (the AWS CLI cannot do this with --s3-bucket).

use crate::layout::AccountRoot;
use crate::store::{ObjectStore, StoreError};

/// Finds the `o-...` folder holding `account`'s digests for `region`, or
/// None when the account's digests sit directly under `AWSLogs/`.
pub async fn discover_org_id(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: Option<&str>,
    account: &str,
    region: &str,
) -> Result<Option<String>, StoreError> {
    let plain = AccountRoot::new(prefix, None, account);
    if !store
        .list_page(bucket, &plain.digest_region_prefix(region), None)
        .await?
        .keys
        .is_empty()
    {
        return Ok(None);
    }
    let base = AccountRoot::awslogs_prefix(prefix);
    let page = store.list_page(bucket, &format!("{base}o-"), None).await?;
    let mut candidates: Vec<String> = Vec::new();
    for key in &page.keys {
        // A misbehaving server may return keys outside the prefix: skip them.
        let Some(rest) = key.strip_prefix(&base) else {
            continue;
        };
        if let Some(org) = rest.split('/').next().filter(|o| o.starts_with("o-")) {
            if !candidates.iter().any(|c| c == org) {
                candidates.push(org.to_string());
            }
        }
    }
    for org in candidates {
        let root = AccountRoot::new(prefix, Some(&org), account);
        if !store
            .list_page(bucket, &root.digest_region_prefix(region), None)
            .await?
            .keys
            .is_empty()
        {
            return Ok(Some(org));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalStore;

    #[tokio::test]
    async fn finds_the_org_folder_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let put = |k: &str| {
            let p = dir.path().join("b").join(k);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        put("p/AWSLogs/o-aaaa111111/111111111111/CloudTrail-Digest/us-east-1/2020/01/01/x.json.gz");
        put("p/AWSLogs/o-aaaa111111/222222222222/CloudTrail-Digest/us-east-1/2020/01/01/x.json.gz");
        put("AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2020/01/01/x.json.gz");
        let s = LocalStore::new(dir.path()).unwrap();
        assert_eq!(
            discover_org_id(&s, "b", Some("p"), "222222222222", "us-east-1")
                .await
                .unwrap()
                .as_deref(),
            Some("o-aaaa111111")
        );
        assert_eq!(
            discover_org_id(&s, "b", None, "333333333333", "us-east-1")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            discover_org_id(&s, "b", Some("p"), "999999999999", "us-east-1")
                .await
                .unwrap(),
            None
        );
    }
}
