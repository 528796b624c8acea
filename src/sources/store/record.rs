//! Evidence capture (`trailproof acquire`): a store that copies every
//! object the validation reads into the local layout (`DIR/<bucket>/<key>`
//! plus `<key>.metadata.json` for user metadata) and remembers every key it
//! listed, so what a live run saw can be verified again offline. Keys are
//! checked like a local copy's: nothing is written outside DIR.

use super::local::{not_a_sidecar, object_path, write_object, METADATA_SUFFIX};
use super::{Body, ListPage, Object, ObjectStore, ReadPin, StoreError};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Largest object copied (log files are read whole here, unlike validation).
const MAX_OBJECT: u64 = 4 * 1024 * 1024 * 1024;

/// What an earlier, interrupted acquisition already holds: (size, SHA-256).
pub(crate) type Known = HashMap<String, (u64, String)>;

pub struct Recording {
    inner: Arc<dyn ObjectStore>,
    out: PathBuf,
    /// Files of an earlier attempt whose size and hash the manifest vouches for.
    known: Known,
    pub listed: Mutex<BTreeSet<(String, String)>>,
    pub copied: Mutex<BTreeSet<(String, String)>>,
    /// The version each copied object was read at (`bucket/key` -> pin).
    pub pins: Mutex<HashMap<String, ReadPin>>,
}

impl Recording {
    pub fn new(inner: Arc<dyn ObjectStore>, out: &Path, known: Known) -> Recording {
        Recording {
            inner,
            out: out.to_path_buf(),
            known,
            listed: Mutex::new(BTreeSet::new()),
            copied: Mutex::new(BTreeSet::new()),
            pins: Mutex::new(HashMap::new()),
        }
    }

    /// The file already here from an earlier attempt, if its size and hash
    /// are what that attempt's manifest recorded.
    fn resumable(&self, rel: &str, path: &Path) -> Option<Vec<u8>> {
        let (size, sha) = self.known.get(rel)?;
        let bytes = std::fs::read(path).ok()?;
        (bytes.len() as u64 == *size && crate::verify::digest::sha256_hex(&bytes) == *sha)
            .then_some(bytes)
    }

    async fn fetch(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        // Before a resumed read too: its name is a sidecar's.
        not_a_sidecar(key)?;
        let path = object_path(&self.out, bucket, key)?;
        let rel = format!("{bucket}/{key}");
        let side = PathBuf::from(format!("{}{METADATA_SUFFIX}", path.display()));
        if let Some(bytes) = self.resumable(&rel, &path) {
            let metadata: HashMap<String, String> = std::fs::read(&side)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            self.copied
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((bucket.into(), key.into()));
            return Ok(Object {
                metadata,
                pin: ReadPin::default(),
                len: Some(bytes.len() as u64),
                body: Body::Blocking(Box::new(std::io::Cursor::new(bytes))),
            });
        }
        let obj = self.inner.get(bucket, key).await?;
        let bytes = obj.body.read_to_vec_sized(MAX_OBJECT, obj.len).await?;
        write_object(&self.out, (bucket, key), &bytes, &obj.metadata)?;
        self.copied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((bucket.into(), key.into()));
        self.pins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rel, obj.pin.clone());
        Ok(Object {
            metadata: obj.metadata,
            pin: obj.pin,
            len: Some(bytes.len() as u64),
            body: Body::Blocking(Box::new(std::io::Cursor::new(bytes))),
        })
    }

    /// Copies listed objects the validation did not read (log files no
    /// digest lists, unexpected objects): offline, they must be there too.
    /// Only keys under `prefixes` (the trail's folders) are copied.
    pub(crate) async fn copy_listed(
        &self,
        prefixes: &[String],
    ) -> Vec<(String, String, StoreError)> {
        let todo: Vec<(String, String)> = {
            let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
            let copied = self.copied.lock().unwrap_or_else(|p| p.into_inner());
            listed
                .difference(&copied)
                .filter(|(_, k)| prefixes.iter().any(|p| k.starts_with(p.as_str())))
                .filter(|(_, k)| k.contains("/CloudTrail/") || k.contains("/CloudTrail-Digest/"))
                .cloned()
                .collect()
        };
        let mut failed = Vec::new();
        for (b, k) in todo {
            if let Err(e) = self.fetch(&b, &k).await {
                failed.push((b, k, e));
            }
        }
        failed
    }
}

impl ObjectStore for Recording {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        async move {
            let page = self.inner.list_page(bucket, prefix, start_after).await?;
            let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
            for k in &page.keys {
                listed.insert((bucket.to_string(), k.clone()));
            }
            Ok(page)
        }
        .boxed()
    }

    fn list_folders<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        self.inner.list_folders(bucket, prefix)
    }

    fn list_level<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<super::Level, StoreError>> {
        async move {
            let level = self.inner.list_level(bucket, prefix).await?;
            let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
            for k in &level.objects {
                listed.insert((bucket.to_string(), k.clone()));
            }
            Ok(level)
        }
        .boxed()
    }

    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        self.fetch(bucket, key).boxed()
    }

    /// Versions are read from the bucket, never copied: the acquired
    /// directory holds what the run read as current.
    fn versions<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<crate::verify::recovery::Listed>>, StoreError>> {
        self.inner.versions(bucket, key)
    }

    fn get_version<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version_id: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        self.inner.get_version(bucket, key, version_id)
    }
}
