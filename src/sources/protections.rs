//! The S3 edge of the bucket's protections: GetBucketVersioning,
//! GetObjectLockConfiguration and GetBucketLifecycleConfiguration, read as
//! they are (a refusal is kept as its reason: "unknown", never "protected").

use crate::sources::store::s3::S3Store;
use crate::verify::protections::{BucketConfig, Refusal, Rule};
use aws_sdk_s3::error::ProvideErrorMetadata;

/// What the bucket says of its protections.
pub(crate) async fn read(store: &S3Store, bucket: &str) -> BucketConfig {
    let client = match store.client_of(bucket).await {
        Ok(c) => c,
        Err(e) => {
            let why = Refusal(e.to_string());
            return BucketConfig {
                versioning: Some(Err(why.clone())),
                object_lock: Some(Err(why.clone())),
                lifecycle: Some(Err(why.clone())),
                policy: Some(Err(why.clone())),
                public_access: Some(Err(why.clone())),
                encryption: Some(Err(why.clone())),
                replication: Some(Err(why.clone())),
                access_logging: Some(Err(why)),
            };
        }
    };
    // Eight reads, asked together: one round trip, not eight, before the
    // run can start.
    let versioning = async {
        answer(
            client.get_bucket_versioning().bucket(bucket).send().await,
            None,
            |v| {
                (
                    v.status().map(|s| s.as_str().to_string()),
                    v.mfa_delete().is_some_and(|m| m.as_str() == "Enabled"),
                )
            },
        )
    };
    let object_lock = async {
        answer(
            client
                .get_object_lock_configuration()
                .bucket(bucket)
                .send()
                .await,
            Some("ObjectLockConfigurationNotFoundError"),
            |o| o.object_lock_configuration().and_then(lock),
        )
    };
    let lifecycle = async {
        answer(
            client
                .get_bucket_lifecycle_configuration()
                .bucket(bucket)
                .send()
                .await,
            Some("NoSuchLifecycleConfiguration"),
            |o| o.rules().iter().map(rule).collect(),
        )
    };
    let (versioning, object_lock, lifecycle, guards) =
        tokio::join!(versioning, object_lock, lifecycle, guards(&client, bucket));
    BucketConfig {
        versioning: Some(versioning),
        object_lock: Some(object_lock),
        lifecycle: Some(lifecycle),
        ..guards
    }
}

/// What keeps others out and a copy elsewhere: the bucket policy, the
/// public access block, default encryption, replication, access logging.
async fn guards(client: &aws_sdk_s3::Client, bucket: &str) -> BucketConfig {
    let policy = async {
        answer(
            client.get_bucket_policy().bucket(bucket).send().await,
            Some("NoSuchBucketPolicy"),
            |o| o.policy().map(str::to_string),
        )
    };
    let public_access = async {
        answer(
            client.get_public_access_block().bucket(bucket).send().await,
            Some("NoSuchPublicAccessBlockConfiguration"),
            |o| o.public_access_block_configuration().map(blocks),
        )
    };
    let encryption = async {
        answer(
            client.get_bucket_encryption().bucket(bucket).send().await,
            Some("ServerSideEncryptionConfigurationNotFoundError"),
            |o| {
                o.server_side_encryption_configuration()
                    .and_then(default_encryption)
            },
        )
    };
    let replication = async {
        answer(
            client.get_bucket_replication().bucket(bucket).send().await,
            Some("ReplicationConfigurationNotFoundError"),
            |o| {
                o.replication_configuration()
                    .map(|c| c.rules().iter().filter_map(replica).collect())
            },
        )
    };
    let access_logging = async {
        answer(
            client.get_bucket_logging().bucket(bucket).send().await,
            None,
            |o| o.logging_enabled().map(|l| l.target_bucket().to_string()),
        )
    };
    let (policy, public_access, encryption, replication, access_logging) = tokio::join!(
        policy,
        public_access,
        encryption,
        replication,
        access_logging
    );
    BucketConfig {
        policy: Some(policy),
        public_access: Some(public_access),
        encryption: Some(encryption),
        replication: Some(replication),
        access_logging: Some(access_logging),
        ..BucketConfig::default()
    }
}

/// One configuration read: what `found` makes of the answer; when S3 says
/// the bucket has none (the `absent` code), the type's Default (none, no
/// rules); else why it was refused.
fn answer<O, E, R, T: Default>(
    res: Result<O, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
    absent: Option<&str>,
    found: impl FnOnce(O) -> T,
) -> Result<T, Refusal>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match res {
        Ok(o) => Ok(found(o)),
        Err(e) if absent.is_some() && e.code() == absent => Ok(T::default()),
        Err(e) => Err(refused(&e)),
    }
}

/// Object Lock's mode and default retention in days (None: no default).
fn lock(c: &aws_sdk_s3::types::ObjectLockConfiguration) -> crate::verify::protections::Lock {
    c.object_lock_enabled()?;
    let retention = c.rule().and_then(|r| r.default_retention());
    let mode = retention
        .and_then(|d| d.mode())
        .map(|m| m.as_str().to_string());
    let years = |d: &aws_sdk_s3::types::DefaultRetention| d.years()?.checked_mul(365);
    let days = retention.and_then(|d| d.days().or_else(|| years(d)));
    Some((mode.unwrap_or_else(|| "enabled".into()), days))
}

/// The public access block's four settings (a setting not given is off).
fn blocks(c: &aws_sdk_s3::types::PublicAccessBlockConfiguration) -> [bool; 4] {
    let on = |b: Option<bool>| b.unwrap_or(false);
    [
        on(c.block_public_acls()),
        on(c.ignore_public_acls()),
        on(c.block_public_policy()),
        on(c.restrict_public_buckets()),
    ]
}

/// The bucket's default encryption: its algorithm and KMS key.
fn default_encryption(
    c: &aws_sdk_s3::types::ServerSideEncryptionConfiguration,
) -> crate::verify::protections::Encryption {
    let d = c
        .rules()
        .iter()
        .find_map(|r| r.apply_server_side_encryption_by_default())?;
    Some((
        d.sse_algorithm().as_str().to_string(),
        d.kms_master_key_id().map(str::to_string),
    ))
}

/// A replication rule: its destination, whether it is on, its prefix.
fn replica(r: &aws_sdk_s3::types::ReplicationRule) -> Option<crate::verify::protections::Replica> {
    // The rule's top-level Prefix is deprecated but still honoured by S3.
    #[allow(deprecated)]
    let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix());
    let and = r.filter().and_then(|f| f.and());
    let prefix = prefix.or(and.and_then(|a| a.prefix())).unwrap_or("");
    // A rule that copies only tagged objects does not copy the trail's.
    let tags = and.is_some_and(|a| !a.tags().is_empty());
    let tagged = r.filter().is_some_and(|f| f.tag().is_some()) || tags;
    let on = r.status().as_str() == "Enabled" && !tagged;
    let to = r.destination().map(|d| d.bucket().to_string())?;
    Some((to, on, prefix.to_string()))
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
fn refused<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Refusal
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    Refusal(match e.code() {
        Some(code) => code.to_string(),
        None => crate::sources::aws::sentence(e),
    })
}
