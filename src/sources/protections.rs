//! The S3 edge of the bucket's protections: GetBucketVersioning,
//! GetObjectLockConfiguration and GetBucketLifecycleConfiguration, read as
//! they are (a refusal is kept as its reason: "unknown", never "protected").

use crate::sources::store::s3::S3Store;
use crate::verify::protections::{BucketConfig, Rule};
use aws_sdk_s3::error::ProvideErrorMetadata;

/// What the bucket says of its protections.
pub(crate) async fn read(store: &S3Store, bucket: &str) -> BucketConfig {
    let client = match store.client_of(bucket).await {
        Ok(c) => c,
        Err(e) => {
            let why = e.to_string();
            return BucketConfig {
                versioning: Some(Err(why.clone())),
                object_lock: Some(Err(why.clone())),
                lifecycle: Some(Err(why)),
            };
        }
    };
    let versioning = match client.get_bucket_versioning().bucket(bucket).send().await {
        Ok(v) => Ok((
            v.status().map(|s| s.as_str().to_string()),
            v.mfa_delete().is_some_and(|m| m.as_str() == "Enabled"),
        )),
        Err(e) => Err(refused(&e)),
    };
    let lock = client
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await;
    let object_lock = match lock {
        Ok(o) => Ok(o.object_lock_configuration().and_then(|c| {
            c.object_lock_enabled()?;
            let retention = c.rule().and_then(|r| r.default_retention());
            let mode = retention
                .and_then(|d| d.mode())
                .map(|m| m.as_str().to_string());
            let years = |d: &aws_sdk_s3::types::DefaultRetention| d.years()?.checked_mul(365);
            let days = retention.and_then(|d| d.days().or_else(|| years(d)));
            Some((mode.unwrap_or_else(|| "enabled".into()), days))
        })),
        Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => Ok(None),
        Err(e) => Err(refused(&e)),
    };
    let rules = client
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await;
    let lifecycle = match rules {
        Ok(o) => Ok(o.rules().iter().map(rule).collect()),
        Err(e) if e.code() == Some("NoSuchLifecycleConfiguration") => Ok(Vec::new()),
        Err(e) => Err(refused(&e)),
    };
    BucketConfig {
        versioning: Some(versioning),
        object_lock: Some(object_lock),
        lifecycle: Some(lifecycle),
    }
}

fn rule(r: &aws_sdk_s3::types::LifecycleRule) -> Rule {
    // The rule's top-level Prefix is deprecated but still honoured by S3.
    #[allow(deprecated)]
    let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix());
    Rule {
        id: r.id().unwrap_or("(no id)").to_string(),
        enabled: r.status().as_str() == "Enabled",
        prefix: prefix.unwrap_or("").to_string(),
        expire_days: r.expiration().and_then(|e| e.days()),
        expire_date: r.expiration().and_then(|e| e.date()).map(|d| d.to_string()),
        noncurrent_expire_days: r
            .noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days()),
        transitions: r
            .transitions()
            .iter()
            .filter_map(|t| {
                let when = match (t.days(), t.date()) {
                    (Some(d), _) => format!("after {d} days"),
                    (None, Some(d)) => format!("on {d}"),
                    (None, None) => return None,
                };
                Some((t.storage_class()?.as_str().to_string(), when))
            })
            .collect(),
    }
}

/// A refusal's code (AccessDenied), else the error's sentence.
fn refused<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e.code() {
        Some(code) => code.to_string(),
        None => crate::sources::aws::sentence(e),
    }
}
