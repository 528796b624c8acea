//! The object-store edge: everything the validator reads goes through
//! [`ObjectStore`], so a local copy and live S3 are verified by the same code.

pub mod limit;
pub mod local;
pub mod record;
pub mod s3;
pub mod stall;

use crate::verify::recovery::Listed;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::io::Read;
use std::pin::Pin;
use tokio::io::AsyncRead;

/// One page of a listing, keys in S3's (byte-wise ascending) order.
#[derive(Debug, Default, Clone)]
pub struct ListPage {
    pub keys: Vec<String>,
    /// Per key, what says its bytes and metadata are the same as before
    /// when the store tells it in the listing (S3: size, ETag and
    /// LastModified); None: read the object to know (a local directory).
    pub tags: Vec<Option<String>>,
    /// More keys follow the last one in this page.
    pub truncated: bool,
}

/// An object's bytes, as a stream so log files are never held whole in memory.
pub enum Body {
    /// A blocking reader (local files): read it on a blocking thread.
    Blocking(Box<dyn Read + Send>),
    /// An async stream (network bodies).
    Async(Pin<Box<dyn AsyncRead + Send>>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Body::Blocking(_) => "Body::Blocking",
            Body::Async(_) => "Body::Async",
        })
    }
}

impl Body {
    /// Turns the body into a blocking reader. Must be called on a thread where
    /// blocking is allowed (inside `spawn_blocking`) for `Async` bodies.
    pub(crate) fn into_blocking(self, handle: tokio::runtime::Handle) -> Box<dyn Read + Send> {
        match self {
            Body::Blocking(r) => r,
            Body::Async(r) => Box::new(tokio_util::io::SyncIoBridge::new_with_handle(r, handle)),
        }
    }

    /// Reads at most `limit` bytes; more is an error (digests are small, a
    /// huge one is hostile).
    pub(crate) async fn read_to_vec(self, limit: u64) -> Result<Vec<u8>, StoreError> {
        self.read_to_vec_sized(limit, None).await
    }

    /// [`Body::read_to_vec`] into a buffer sized for the announced length
    /// (one allocation, no copies as it grows; a lie costs only a regrow).
    pub(crate) async fn read_to_vec_sized(
        self,
        limit: u64,
        announced: Option<u64>,
    ) -> Result<Vec<u8>, StoreError> {
        // An announced length is a hint, not a promise: capped, so a lying
        // server cannot make one allocation huge.
        const MAX_PRESIZE: u64 = 8 * 1024 * 1024;
        let cap = announced.map_or(0, |n| n.min(limit).min(MAX_PRESIZE) as usize + 1);
        let mut out = Vec::new();
        match self {
            Body::Blocking(r) => {
                let res = tokio::task::spawn_blocking(move || {
                    let mut out = Vec::with_capacity(cap);
                    r.take(limit + 1).read_to_end(&mut out).map(|_| out)
                })
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?;
                out = res.map_err(|e| StoreError::Io(e.to_string()))?;
            }
            Body::Async(r) => {
                use tokio::io::AsyncReadExt;
                out.reserve_exact(cap);
                r.take(limit + 1)
                    .read_to_end(&mut out)
                    .await
                    .map_err(|e| StoreError::Io(e.to_string()))?;
            }
        }
        if out.len() as u64 > limit {
            return Err(StoreError::TooLarge(limit));
        }
        Ok(out)
    }
}

/// An object as read: user metadata (names without `x-amz-meta-`, lowercase) and body.
#[derive(Debug)]
pub struct Object {
    pub metadata: HashMap<String, String>,
    /// The size the store announces (Content-Length, the file's size): a
    /// small object is read whole, a large one streamed.
    pub len: Option<u64>,
    /// Which version of the object was read (S3's ETag and VersionId), so
    /// evidence can pin it; None for a local file.
    pub pin: ReadPin,
    pub body: Body,
}

/// The version of an object a read returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadPin {
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

impl Object {
    /// Reads the whole body (at most `limit` bytes) into one buffer sized
    /// from the announced length.
    pub(crate) async fn read_to_vec(self, limit: u64) -> Result<Vec<u8>, StoreError> {
        self.body.read_to_vec_sized(limit, self.len).await
    }
}

/// Why one object could not be read. Per-object errors become findings on
/// that object; a listing's (no such bucket, no credentials) stops the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("bucket {0} does not exist")]
    NoSuchBucket(String),
    #[error("key rejected: {0}")]
    InvalidKey(String),
    #[error("object larger than {0} bytes")]
    TooLarge(u64),
    #[error("metadata unreadable: {0}")]
    BadMetadata(String),
    #[error("no usable credentials: {0}")]
    Credentials(String),
    /// In an archive storage class (GLACIER, DEEP_ARCHIVE, an archive
    /// tier): not readable until restored. Holds the class when known.
    #[error("archived ({0}): restore it to read it")]
    Archived(String),
    /// A listing longer than the reader takes (one key's versions past
    /// their cap): what was read is not the whole.
    #[error("listing cut short: {0}")]
    ListingCut(String),
    #[error("{0}")]
    Io(String),
}

/// Read access to buckets. Implementations must treat keys as untrusted:
/// they come from digests an attacker may have written.
pub trait ObjectStore: Send + Sync {
    /// Lists keys under `prefix` strictly after `start_after`, at most about 1,000.
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>>;

    /// Opens an object for reading.
    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>>;

    /// The versions and delete markers of exactly `key`; None where the
    /// store keeps no versions (a local copy).
    fn versions<'a>(
        &'a self,
        _bucket: &'a str,
        _key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, StoreError>> {
        Box::pin(async { Ok(None) })
    }

    /// Opens one version of an object (one [`ObjectStore::versions`] named).
    fn get_version<'a>(
        &'a self,
        _bucket: &'a str,
        _key: &'a str,
        _version_id: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        Box::pin(async { Err(StoreError::NotFound) })
    }

    /// The folders directly under `prefix` (which ends in `/`) and the
    /// objects directly in it, so a scan can give every loose object a
    /// verdict without listing every day below.
    fn list_level<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Level, StoreError>> {
        Box::pin(level_by_pages(self, bucket, prefix))
    }

    /// The names of the folders directly under `prefix` (which ends in `/`).
    /// The default skips past each folder found, page by page, and reads on
    /// past any number of flat objects (which could otherwise hide the
    /// folders after them); S3 answers it with one delimited listing.
    fn list_folders<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut out: Vec<String> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = self.list_page(bucket, prefix, after.as_deref()).await?;
                let mut next: Option<String> = None;
                for k in &page.keys {
                    let Some(rest) = k.strip_prefix(prefix) else {
                        continue;
                    };
                    if let Some((name, _)) = rest.split_once('/').filter(|(n, _)| !n.is_empty()) {
                        if !out.iter().any(|c| c == name) {
                            out.push(name.to_string());
                        }
                        // "/" + 1 is "0": start after every key of this folder.
                        next = Some(format!("{prefix}{name}0"));
                        break;
                    }
                }
                let next = match (next, page.truncated, page.keys.last()) {
                    (Some(n), _, _) => n,
                    (None, true, Some(last)) => last.clone(),
                    _ => return Ok(out),
                };
                if after.as_deref() >= Some(next.as_str()) {
                    return Err(StoreError::Io(format!(
                        "listing of s3://{bucket}/{prefix} did not advance"
                    )));
                }
                after = Some(next);
            }
        })
    }
}

/// One level of a folder: the folders directly under it and the objects
/// directly in it (full keys).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Level {
    pub folders: Vec<String>,
    pub objects: Vec<String>,
}

/// Objects listed directly in one level, at most this many: a level stuffed
/// with more is reported by its count past this.
pub(crate) const MAX_LEVEL_OBJECTS: usize = 10_000;

/// The default [`ObjectStore::list_level`]: pages through the keys, taking
/// loose objects and skipping past each folder found.
async fn level_by_pages(
    store: &(impl ObjectStore + ?Sized),
    bucket: &str,
    prefix: &str,
) -> Result<Level, StoreError> {
    let mut level = Level::default();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_page(bucket, prefix, after.as_deref()).await?;
        let mut next: Option<String> = None;
        for k in &page.keys {
            let Some(rest) = k.strip_prefix(prefix) else {
                continue;
            };
            match rest.split_once('/') {
                Some((name, _)) if !name.is_empty() => {
                    level.folders.push(name.to_string());
                    next = Some(format!("{prefix}{name}0"));
                    break;
                }
                _ if level.objects.len() < MAX_LEVEL_OBJECTS => level.objects.push(k.clone()),
                _ => {}
            }
        }
        let next = match (next, page.truncated, page.keys.last()) {
            (Some(n), _, _) => n,
            (None, true, Some(last)) => last.clone(),
            _ => return Ok(level),
        };
        if after.as_deref() >= Some(next.as_str()) {
            return Err(StoreError::Io(format!(
                "listing of s3://{bucket}/{prefix} did not advance"
            )));
        }
        after = Some(next);
    }
}

/// Lists every key under `prefix` after `start_after`, page by page, until
/// `keep_going` returns false for a key (that key is not returned).
pub(crate) async fn list_while(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    mut keep_going: impl FnMut(&str) -> bool,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut after = start_after.map(str::to_string);
    loop {
        let page = store.list_page(bucket, prefix, after.as_deref()).await?;
        let Some(last) = page.keys.last().cloned() else {
            return Ok(out);
        };
        for k in page.keys {
            if !keep_going(&k) {
                return Ok(out);
            }
            out.push(k);
        }
        if !page.truncated {
            return Ok(out);
        }
        if after.as_deref() == Some(last.as_str()) {
            // A server that does not advance would loop forever.
            return Err(StoreError::Io(format!(
                "listing of s3://{bucket}/{prefix} did not advance"
            )));
        }
        after = Some(last);
    }
}
