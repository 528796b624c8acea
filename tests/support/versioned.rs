//! A versioned S3 store for the tests, on the s3s crate's `S3` trait (so
//! it speaks the real protocol to the AWS SDK): every PUT adds a version,
//! a DELETE without a version id adds a delete marker, as a bucket with
//! versioning enabled does. s3s-fs keeps no versions.

use bytes::Bytes;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// One version of a key; no body is a delete marker.
#[derive(Clone, Debug)]
pub struct Version {
    pub id: String,
    pub body: Option<Bytes>,
    pub metadata: Option<HashMap<String, String>>,
    pub last_modified: String,
}

impl Version {
    fn etag(&self) -> Option<ETag> {
        use sha2::Digest;
        let body = self.body.as_ref()?;
        Some(ETag::Strong(hex::encode(&sha2::Sha256::digest(body)[..16])))
    }

    fn modified(&self) -> Timestamp {
        Timestamp::parse(TimestampFormat::DateTime, &self.last_modified)
            .unwrap_or_else(|_| Timestamp::from(std::time::SystemTime::now()))
    }
}

/// Each bucket's keys, each key's versions oldest first.
type Buckets = BTreeMap<String, BTreeMap<String, Vec<Version>>>;

/// Buckets of keys, each key's versions oldest first. Clones share the
/// store (one for the server, one for the test).
#[derive(Default, Debug, Clone)]
pub struct VersionedStore {
    buckets: Arc<Mutex<Buckets>>,
    next_id: Arc<Mutex<u64>>,
    /// The time new versions are stamped with (ISO 8601), so a test can
    /// date an overwrite; None: the clock.
    pub clock: Arc<Mutex<Option<String>>>,
}

impl VersionedStore {
    fn stamp(&self) -> (String, String) {
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        let now = self.clock.lock().unwrap().clone().unwrap_or_else(|| {
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        });
        (format!("v{:06}-{}", *n, "3HL4kqtJlcpXroDTDmJ"), now)
    }

    /// Adds a version (a PUT) or a delete marker (None) to a key directly.
    pub fn push(
        &self,
        bucket: &str,
        key: &str,
        body: Option<Bytes>,
        meta: Option<HashMap<String, String>>,
    ) -> String {
        let (id, last_modified) = self.stamp();
        let mut b = self.buckets.lock().unwrap();
        let versions = b
            .entry(bucket.to_string())
            .or_default()
            .entry(key.to_string())
            .or_default();
        versions.push(Version {
            id: id.clone(),
            body,
            metadata: meta,
            last_modified,
        });
        id
    }

    /// The versions of a key, oldest first.
    pub fn versions(&self, bucket: &str, key: &str) -> Vec<Version> {
        let b = self.buckets.lock().unwrap();
        b.get(bucket)
            .and_then(|k| k.get(key))
            .cloned()
            .unwrap_or_default()
    }

    /// The version a GET or HEAD reads: the named one, or the latest.
    fn read(&self, bucket: &str, key: &str, version: Option<&str>) -> S3Result<Version> {
        let b = self.buckets.lock().unwrap();
        let keys = b.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        let versions = keys.get(key).ok_or_else(|| s3_error!(NoSuchKey))?;
        let v = match version {
            Some(id) => versions
                .iter()
                .find(|v| v.id == id)
                .ok_or_else(|| s3_error!(NoSuchVersion))?,
            None => versions.last().ok_or_else(|| s3_error!(NoSuchKey))?,
        };
        match (&v.body, version) {
            (Some(_), _) => Ok(v.clone()),
            (None, None) => Err(s3_error!(NoSuchKey)),
            (None, Some(_)) => Err(s3_error!(MethodNotAllowed)),
        }
    }

    /// Current keys under `prefix` (their latest version is no delete marker).
    fn current(&self, bucket: &str, prefix: &str) -> S3Result<Vec<(String, Version)>> {
        let b = self.buckets.lock().unwrap();
        let keys = b.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        Ok(keys
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter_map(|(k, v)| {
                v.last()
                    .filter(|v| v.body.is_some())
                    .map(|v| (k.clone(), v.clone()))
            })
            .collect())
    }
}

fn object_of(key: String, v: &Version) -> Object {
    Object {
        key: Some(key),
        size: v.body.as_ref().map(|b| b.len() as i64),
        e_tag: v.etag(),
        last_modified: Some(v.modified()),
        ..Default::default()
    }
}

#[async_trait::async_trait]
impl S3 for VersionedStore {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.buckets
            .lock()
            .unwrap()
            .entry(req.input.bucket)
            .or_default();
        Ok(S3Response::new(CreateBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        match self.buckets.lock().unwrap().contains_key(&req.input.bucket) {
            true => Ok(S3Response::new(HeadBucketOutput::default())),
            false => Err(s3_error!(NoSuchBucket)),
        }
    }

    async fn get_bucket_location(
        &self,
        _: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn get_bucket_versioning(
        &self,
        _: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: Some(BucketVersioningStatus::from_static(
                BucketVersioningStatus::ENABLED,
            )),
            ..Default::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        use futures::TryStreamExt;
        let input = req.input;
        let Some(body) = input.body else {
            return Err(s3_error!(IncompleteBody));
        };
        let chunks: Vec<Bytes> = body
            .try_collect()
            .await
            .map_err(|_| s3_error!(IncompleteBody))?;
        let body = Bytes::from(chunks.concat());
        let id = self.push(&input.bucket, &input.key, Some(body), input.metadata);
        Ok(S3Response::new(PutObjectOutput {
            version_id: Some(id),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let v = self.read(&input.bucket, &input.key, input.version_id.as_deref())?;
        let body = v.body.clone().unwrap_or_default();
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        Ok(S3Response::new(GetObjectOutput {
            content_length: v.body.as_ref().map(|b| b.len() as i64),
            e_tag: v.etag(),
            last_modified: Some(v.modified()),
            metadata: v.metadata.clone(),
            version_id: Some(v.id.clone()),
            body: Some(StreamingBlob::wrap(stream)),
            ..Default::default()
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let v = self.read(&input.bucket, &input.key, input.version_id.as_deref())?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: v.body.as_ref().map(|b| b.len() as i64),
            e_tag: v.etag(),
            last_modified: Some(v.modified()),
            metadata: v.metadata.clone(),
            version_id: Some(v.id.clone()),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        if let Some(id) = &input.version_id {
            let mut b = self.buckets.lock().unwrap();
            if let Some(vs) = b.get_mut(&input.bucket).and_then(|k| k.get_mut(&input.key)) {
                vs.retain(|v| &v.id != id);
            }
            return Ok(S3Response::new(DeleteObjectOutput {
                version_id: Some(id.clone()),
                ..Default::default()
            }));
        }
        let id = self.push(&input.bucket, &input.key, None, None);
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: Some(true),
            version_id: Some(id),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = input
            .continuation_token
            .clone()
            .or(input.start_after.clone())
            .unwrap_or_default();
        let max = input.max_keys.unwrap_or(1000).clamp(1, 1000) as usize;
        let mut contents = Vec::new();
        let mut folders: Vec<String> = Vec::new();
        let mut last = None;
        let mut truncated = false;
        for (key, v) in self
            .current(&input.bucket, &prefix)?
            .into_iter()
            .filter(|(k, _)| *k > after)
        {
            let folder = input.delimiter.as_deref().and_then(|d| {
                key[prefix.len()..]
                    .find(d)
                    .map(|i| key[..prefix.len() + i + d.len()].to_string())
            });
            if folder.as_ref().is_some_and(|f| folders.last() == Some(f)) {
                last = Some(key);
                continue;
            }
            if contents.len() + folders.len() == max {
                truncated = true;
                break;
            }
            match folder {
                Some(f) => folders.push(f),
                None => contents.push(object_of(key.clone(), &v)),
            }
            last = Some(key);
        }
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some((contents.len() + folders.len()) as i32),
            contents: Some(contents),
            common_prefixes: Some(
                folders
                    .into_iter()
                    .map(|p| CommonPrefix { prefix: Some(p) })
                    .collect(),
            ),
            is_truncated: Some(truncated),
            next_continuation_token: last.filter(|_| truncated),
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: Some(max as i32),
            ..Default::default()
        }))
    }

    /// Every version and delete marker under the prefix, newest first per
    /// key (one page: the tests' keys are few).
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let (mut versions, mut markers) = (Vec::new(), Vec::new());
        let b = self.buckets.lock().unwrap();
        let keys = b
            .get(&input.bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        for (key, vs) in keys
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            for (i, v) in vs.iter().enumerate().rev() {
                let is_latest = Some(i + 1 == vs.len());
                if v.body.is_none() {
                    markers.push(DeleteMarkerEntry {
                        key: Some(key.clone()),
                        version_id: Some(v.id.clone()),
                        is_latest,
                        last_modified: Some(v.modified()),
                        ..Default::default()
                    });
                    continue;
                }
                let o = object_of(key.clone(), v);
                versions.push(ObjectVersion {
                    key: o.key,
                    size: o.size,
                    e_tag: o.e_tag,
                    last_modified: o.last_modified,
                    version_id: Some(v.id.clone()),
                    is_latest,
                    ..Default::default()
                });
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            versions: Some(versions),
            delete_markers: Some(markers),
            is_truncated: Some(false),
            name: Some(input.bucket),
            prefix: input.prefix,
            ..Default::default()
        }))
    }
}
