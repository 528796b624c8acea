//! The S3 edge: [`ObjectStore`] over aws-sdk-s3, one client per bucket
//! region, with the SDK's standard retry policy (throttling, timeouts and
//! dropped connections are retried before anything becomes a finding).

use super::{Body, ListPage, Object, ObjectStore, StoreError};
use crate::sources::aws::{is_credentials_error, sentence};
use crate::verify::recovery::Listed;
use aws_config::{Region, SdkConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use aws_smithy_types::retry::RetryConfig;
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::HashMap;
use std::sync::Mutex;

/// Reads buckets from S3 (or any S3-compatible endpoint).
pub(crate) struct S3Store {
    base: SdkConfig,
    path_style: bool,
    max_attempts: u32,
    /// How long a body may go without a byte before it is read again.
    stall: std::time::Duration,
    clients: Mutex<HashMap<String, Client>>,
    bucket_regions: tokio::sync::Mutex<HashMap<String, String>>,
}

impl S3Store {
    /// `path_style` is needed for endpoints on an IP address or localhost.
    pub fn new(base: SdkConfig, path_style: bool, max_attempts: u32) -> S3Store {
        // One setting for the SDK and the body guard: the read timeout
        // `aws::load` put in the configuration (`--read-timeout`).
        let stall = base
            .timeout_config()
            .and_then(|t| t.read_timeout())
            .unwrap_or(super::stall::DEFAULT_READ_TIMEOUT);
        S3Store {
            base,
            path_style,
            max_attempts: max_attempts.max(1),
            stall,
            clients: Mutex::new(HashMap::new()),
            bucket_regions: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn default_region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into())
    }

    /// One client per region, built once.
    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.base)
                    .region(Region::new(region.to_string()))
                    .force_path_style(self.path_style)
                    // We hash every byte ourselves against the signed digest;
                    // a second checksum on each GET costs CPU on both ends.
                    .response_checksum_validation(
                        aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired,
                    )
                    .request_checksum_calculation(
                        aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
                    )
                    .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// The client for a bucket's own region: HeadBucket's region header,
    /// falling back to GetBucketLocation (works where HeadBucket is denied
    /// cross-account), then to the configured region.
    /// The client for `bucket`'s region (its configuration is read there).
    pub(crate) async fn client_of(&self, bucket: &str) -> Result<Client, StoreError> {
        self.client_for(bucket).await
    }

    async fn client_for(&self, bucket: &str) -> Result<Client, StoreError> {
        let mut regions = self.bucket_regions.lock().await;
        if let Some(r) = regions.get(bucket) {
            return Ok(self.client(r));
        }
        let default = self.client(&self.default_region());
        let region = match default.head_bucket().bucket(bucket).send().await {
            Ok(out) => out.bucket_region().map(str::to_string),
            Err(SdkError::ServiceError(se)) => {
                let status = se.raw().status().as_u16();
                let header = se
                    .raw()
                    .headers()
                    .get("x-amz-bucket-region")
                    .map(str::to_string);
                match status {
                    404 => return Err(StoreError::NoSuchBucket(bucket.to_string())),
                    301 | 400 if header.is_some() => header,
                    _ => self.location(&default, bucket).await?.or(header),
                }
            }
            Err(e) => {
                let text = sentence(&e);
                if is_credentials_error(&e) {
                    return Err(StoreError::Credentials(text));
                }
                return Err(StoreError::Io(format!(
                    "cannot reach S3 for bucket {bucket}: {text}"
                )));
            }
        };
        let region = region
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| self.default_region());
        regions.insert(bucket.to_string(), region.clone());
        Ok(self.client(&region))
    }

    async fn location(&self, client: &Client, bucket: &str) -> Result<Option<String>, StoreError> {
        match client.get_bucket_location().bucket(bucket).send().await {
            Ok(out) => Ok(Some(match out.location_constraint().map(|c| c.as_str()) {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(r) => r.to_string(),
            })),
            Err(e) => match map_err(bucket, e) {
                StoreError::NoSuchBucket(b) => Err(StoreError::NoSuchBucket(b)),
                // Denied or unsupported: guess the configured region.
                _ => Ok(None),
            },
        }
    }
}

/// The storage class GetObject's InvalidObjectState names (an archived
/// object), when the error is GetObject's.
fn storage_class(e: &(dyn std::error::Error + 'static)) -> String {
    use aws_sdk_s3::operation::get_object::GetObjectError;
    let class = match e.downcast_ref::<GetObjectError>() {
        Some(GetObjectError::InvalidObjectState(s)) => s.storage_class().map(|c| c.to_string()),
        _ => None,
    };
    match class {
        Some(c) => format!("storage class {c}"),
        None => "an archive storage class".to_string(),
    }
}

/// Maps an SDK error on one request to a [`StoreError`].
fn map_err<E>(bucket: &str, e: SdkError<E, aws_smithy_runtime_api::http::Response>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(se) = &e {
        let code = se.err().code().unwrap_or("").to_string();
        let status = se.raw().status().as_u16();
        let message = se.err().message().unwrap_or("").to_string();
        return match (code.as_str(), status) {
            ("NoSuchBucket", _) => StoreError::NoSuchBucket(bucket.to_string()),
            ("NoSuchKey", _) | ("NotFound", _) | (_, 404) => StoreError::NotFound,
            ("InvalidObjectState", _) => StoreError::Archived(storage_class(se.err())),
            // Unusable credentials answer 403 too: told by their code first.
            ("InvalidAccessKeyId", _) | ("SignatureDoesNotMatch", _) | ("ExpiredToken", _) => {
                StoreError::Credentials(format!("{code}: {message}"))
            }
            ("AccessDenied", _) | (_, 403) => {
                StoreError::AccessDenied(if message.is_empty() { code } else { message })
            }
            _ => StoreError::Io(format!("S3 answered {status} {code}: {message}")),
        };
    }
    let text = sentence(&e);
    if is_credentials_error(&e) {
        StoreError::Credentials(text)
    } else {
        StoreError::Io(text)
    }
}

impl ObjectStore for S3Store {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        async move {
            let client = self.client_for(bucket).await?;
            let out = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_string))
                .max_keys(1000)
                .send()
                .await
                .map_err(|e| map_err(bucket, e))?;
            let listed = out.contents().iter().filter(|o| o.key().is_some());
            let (keys, tags) = listed
                .map(|o| {
                    let tag = format!(
                        "{}:{}:{}",
                        o.size().unwrap_or(-1),
                        o.e_tag().unwrap_or(""),
                        o.last_modified().map(|t| t.to_string()).unwrap_or_default()
                    );
                    (o.key().unwrap_or_default().to_string(), Some(tag))
                })
                .unzip();
            Ok(ListPage {
                keys,
                tags,
                truncated: out.is_truncated().unwrap_or(false),
            })
        }
        .boxed()
    }

    fn list_folders<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        async move {
            let level = self.list_level(bucket, prefix).await?;
            Ok(level
                .folders
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect())
        }
        .boxed()
    }

    /// One delimited listing (page by page): CommonPrefixes are the
    /// folders, Contents the loose objects.
    fn list_level<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<super::Level, StoreError>> {
        async move {
            let client = self.client_for(bucket).await?;
            let mut out = super::Level::default();
            let mut token: Option<String> = None;
            for _page in 0..100_000 {
                let page = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .delimiter("/")
                    .set_continuation_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| map_err(bucket, e))?;
                for cp in page.common_prefixes() {
                    let name = cp
                        .prefix()
                        .and_then(|p| p.strip_prefix(prefix))
                        .and_then(|p| p.strip_suffix('/'))
                        .filter(|n| !n.contains('/'));
                    if let Some(n) = name {
                        if !out.folders.iter().any(|c| c == n) {
                            out.folders.push(n.to_string());
                        }
                    }
                }
                for o in page.contents() {
                    if out.objects.len() < super::MAX_LEVEL_OBJECTS {
                        out.objects.extend(o.key().map(str::to_string));
                    }
                }
                token = page
                    .next_continuation_token()
                    .map(str::to_string)
                    .filter(|t| !t.is_empty() && page.is_truncated() == Some(true));
                if token.is_none() {
                    break;
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn versions<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, StoreError>> {
        async move { self.versions_of(bucket, key).await.map(Some) }.boxed()
    }

    fn get_version<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version_id: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        self.get_object(bucket, key, Some(version_id)).boxed()
    }

    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        self.get_object(bucket, key, None).boxed()
    }
}

/// Most pages of one key's versions listed (100,000 versions): past it the
/// listing is an error, never a part taken for the whole (S3 lists newest
/// first, so the original would be in the part not read).
const MAX_VERSION_PAGES: usize = 100;

impl S3Store {
    /// ListObjectVersions with the key as prefix, keeping only the entries
    /// whose key is exactly it (a longer key shares the prefix).
    async fn versions_of(&self, bucket: &str, key: &str) -> Result<Vec<Listed>, StoreError> {
        let client = self.client_for(bucket).await?;
        let mut out = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        for _ in 0..MAX_VERSION_PAGES {
            let page = client
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(|e| map_err(bucket, e))?;
            let when =
                |t: Option<&aws_smithy_types::DateTime>| t.and_then(crate::sources::aws::to_chrono);
            for v in page.versions().iter().filter(|v| v.key() == Some(key)) {
                let (Some(id), Some(at)) = (v.version_id(), when(v.last_modified())) else {
                    continue;
                };
                out.push(Listed {
                    version_id: id.to_string(),
                    last_modified: at,
                    delete_marker: false,
                    latest: v.is_latest() == Some(true),
                });
            }
            for m in page
                .delete_markers()
                .iter()
                .filter(|m| m.key() == Some(key))
            {
                let (Some(id), Some(at)) = (m.version_id(), when(m.last_modified())) else {
                    continue;
                };
                out.push(Listed {
                    version_id: id.to_string(),
                    last_modified: at,
                    delete_marker: true,
                    latest: m.is_latest() == Some(true),
                });
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            let past_key = key_marker.as_deref().is_some_and(|k| k > key);
            if page.is_truncated() != Some(true) || past_key || key_marker.is_none() {
                return Ok(out);
            }
        }
        Err(StoreError::ListingCut(format!(
            "more than {MAX_VERSION_PAGES} pages of versions of s3://{bucket}/{key}"
        )))
    }

    /// GetObject of the current version, or of `version`.
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Object, StoreError> {
        let client = self.client_for(bucket).await?;
        let out = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| map_err(bucket, e))?;
        let metadata = out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let pin = super::ReadPin {
            etag: out.e_tag().map(str::to_string),
            version_id: out.version_id().map(str::to_string),
        };
        Ok(Object {
            metadata,
            pin,
            len: out.content_length().and_then(|n| u64::try_from(n).ok()),
            body: Body::Async(Box::pin(super::stall::StallGuard::new(
                out.body.into_async_read(),
                self.stall,
            ))),
        })
    }
}

/// Largest checkpoint or report-sized object read whole by `get_with_etag`.
const SMALL_OBJECT: u64 = 64 * 1024 * 1024;
/// Reads of such an object's body before a stall or a cut is an error.
const SMALL_OBJECT_ATTEMPTS: u32 = 3;

impl S3Store {
    /// Reads a small object and its ETag (a checkpoint); None when absent.
    pub(crate) async fn get_with_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, StoreError> {
        let client = self.client_for(bucket).await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = match client.get_object().bucket(bucket).key(key).send().await {
                Ok(out) => out,
                Err(e) => {
                    return match map_err(bucket, e) {
                        StoreError::NotFound => Ok(None),
                        other => Err(other),
                    }
                }
            };
            let etag = out.e_tag().map(str::to_string);
            // Bounded in size and in silence like every other read: a body
            // that stalls or is cut is read again, as log bodies are.
            let body = super::Body::Async(Box::pin(super::stall::StallGuard::new(
                out.body.into_async_read(),
                self.stall,
            )));
            match body.read_to_vec(SMALL_OBJECT).await {
                Ok(bytes) => return Ok(Some((bytes, etag))),
                Err(StoreError::Io(_)) if attempt < SMALL_OBJECT_ATTEMPTS => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes an object only if it is still the version read (`if_match`),
    /// or, with None, only if it does not exist yet: two runs sharing a
    /// checkpoint cannot overwrite each other's.
    pub(crate) async fn put_bytes_if(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<(), StoreError> {
        let client = self.client_for(bucket).await?;
        let req = client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes));
        let req = match if_match {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        req.send().await.map_err(|e| map_err(bucket, e))?;
        Ok(())
    }

    /// Writes one object (a report, a checkpoint).
    pub(crate) async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let client = self.client_for(bucket).await?;
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| map_err(bucket, e))?;
        Ok(())
    }
}

/// Uploads a directory in the local layout (`DIR/<bucket>/<key>` with
/// `<key>.metadata.json` sidecars) through PutObject with user metadata,
/// creating buckets as needed. Returns the number of objects uploaded.
pub(crate) async fn upload_dir(
    store: &S3Store,
    dir: &std::path::Path,
) -> Result<usize, StoreError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let io = |e: std::io::Error| StoreError::Io(e.to_string());
    let mut jobs: Vec<(String, String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if !entry.file_type().map_err(io)?.is_dir() {
            continue;
        }
        let Some(bucket) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let client = store.client(&store.default_region());
        match client.create_bucket().bucket(&bucket).send().await {
            Ok(_) => {}
            Err(e) => {
                let code = e.code().unwrap_or("").to_string();
                if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
                    return Err(map_err(&bucket, e));
                }
            }
        }
        let mut files = Vec::new();
        collect(&entry.path(), "", &mut files).map_err(io)?;
        for (key, path) in files {
            if !key.ends_with(super::local::METADATA_SUFFIX) {
                jobs.push((bucket.clone(), key, path));
            }
        }
    }
    let n = jobs.len();
    stream::iter(jobs)
        .map(|(bucket, key, path)| async move {
            let body = tokio::fs::read(&path)
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?;
            let mut side = path.clone().into_os_string();
            side.push(super::local::METADATA_SUFFIX);
            let metadata: Option<HashMap<String, String>> = match tokio::fs::read(&side).await {
                Ok(b) => serde_json::from_slice(&b).ok(),
                Err(_) => None,
            };
            let client = store.client_for(&bucket).await?;
            client
                .put_object()
                .bucket(&bucket)
                .key(&key)
                .body(aws_sdk_s3::primitives::ByteStream::from(body))
                .set_metadata(metadata)
                .send()
                .await
                .map_err(|e| map_err(&bucket, e))?;
            Ok::<(), StoreError>(())
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(n)
}

fn collect(
    dir: &std::path::Path,
    rel: &str,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            collect(&entry.path(), &format!("{rel}{name}/"), out)?;
        } else if ft.is_file() {
            out.push((format!("{rel}{name}"), entry.path()));
        }
    }
    Ok(())
}
