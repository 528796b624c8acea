//! A local copy of buckets: `DIR/<bucket>/<key>`, with a digest's S3 user
//! metadata beside it in `DIR/<bucket>/<key>.metadata.json`.
//!
//! Keys come from digests, which an attacker may have written, so every path
//! is checked to stay inside DIR: no `..`, no absolute paths, no symlinks
//! leading out.

use super::{Body, ListPage, Object, ObjectStore, StoreError};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Suffix of the sidecar file holding an object's user metadata.
pub(crate) const METADATA_SUFFIX: &str = ".metadata.json";

/// Largest metadata sidecar we read; real ones are under 1 KiB.
const METADATA_LIMIT: u64 = 64 * 1024;

/// Reads buckets from a directory tree.
#[derive(Debug, Clone)]
pub(crate) struct LocalStore {
    root: PathBuf,
    /// Directories already resolved (symlinks followed): log files share a
    /// few day folders, so each is resolved once, not once per file.
    resolved_dirs: Arc<Mutex<HashMap<PathBuf, PathBuf>>>,
}

impl LocalStore {
    /// Fails when `root` is not a readable directory: nothing could be validated.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = std::fs::canonicalize(root.as_ref())?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(LocalStore {
            root,
            resolved_dirs: Arc::default(),
        })
    }

    /// Maps bucket + key to a path under the root, refusing anything that could escape it.
    fn path_for(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        check_segment_path(bucket, false)
            .map_err(|why| StoreError::InvalidKey(format!("bucket {bucket:?}: {why}")))?;
        check_segment_path(key, true)
            .map_err(|why| StoreError::InvalidKey(format!("key {key:?}: {why}")))?;
        Ok(self.root.join(bucket).join(key))
    }

    /// A directory with symlinks resolved, cached.
    fn resolve_dir(&self, dir: &Path) -> io::Result<PathBuf> {
        let mut cache = self.resolved_dirs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = cache.get(dir) {
            return Ok(r.clone());
        }
        let real = std::fs::canonicalize(dir)?;
        cache.insert(dir.to_path_buf(), real.clone());
        Ok(real)
    }

    /// Resolves symlinks and confirms the result still lies inside the bucket's directory.
    fn confine(&self, bucket: &str, path: &Path) -> Result<PathBuf, StoreError> {
        let bucket_root = self
            .resolve_dir(&self.root.join(bucket))
            .map_err(|_| StoreError::NoSuchBucket(bucket.to_string()))?;
        if !bucket_root.starts_with(&self.root) {
            return Err(StoreError::InvalidKey(format!(
                "bucket {bucket:?} resolves outside the local directory"
            )));
        }
        let not_found_or_io = |e: io::Error| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => StoreError::NotFound,
            _ => StoreError::Io(e.to_string()),
        };
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(StoreError::InvalidKey(format!(
                "{} has no file name",
                path.display()
            )));
        };
        // The folder (cached), then the file itself: a symlinked file is
        // resolved in full.
        let mut real = self
            .resolve_dir(parent)
            .map_err(not_found_or_io)?
            .join(name);
        let meta = std::fs::symlink_metadata(&real).map_err(not_found_or_io)?;
        if meta.file_type().is_symlink() {
            real = std::fs::canonicalize(&real).map_err(not_found_or_io)?;
        }
        if !real.starts_with(&bucket_root) {
            return Err(StoreError::InvalidKey(format!(
                "{} resolves outside the local directory",
                path.display()
            )));
        }
        Ok(real)
    }

    fn get_blocking(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let bucket_dir = self.path_for(bucket, "x").map(|p| p.with_file_name(""))?;
        if !bucket_dir.is_dir() {
            return Err(StoreError::NoSuchBucket(bucket.to_string()));
        }
        let path = self.confine(bucket, &self.path_for(bucket, key)?)?;
        if !path.is_file() {
            return Err(StoreError::NotFound);
        }
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::NotFound,
            io::ErrorKind::PermissionDenied => StoreError::AccessDenied(e.to_string()),
            _ => StoreError::Io(e.to_string()),
        })?;
        let metadata = self.read_metadata(bucket, key)?;
        Ok(Object {
            pin: super::ReadPin::default(),
            metadata,
            len: file.metadata().ok().map(|m| m.len()),
            body: Body::Blocking(Box::new(file)),
        })
    }

    fn read_metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let side = self.path_for(bucket, &format!("{key}{METADATA_SUFFIX}"))?;
        // Most objects (log files) have no sidecar: one lstat says so.
        if std::fs::symlink_metadata(&side).is_err() {
            return Ok(HashMap::new());
        }
        let side = match self.confine(bucket, &side) {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Ok(HashMap::new()),
            Err(e) => return Err(e),
        };
        let text = {
            use std::io::Read;
            let f =
                std::fs::File::open(&side).map_err(|e| StoreError::BadMetadata(e.to_string()))?;
            let mut s = String::new();
            f.take(METADATA_LIMIT + 1)
                .read_to_string(&mut s)
                .map_err(|e| StoreError::BadMetadata(e.to_string()))?;
            if s.len() as u64 > METADATA_LIMIT {
                return Err(StoreError::BadMetadata("metadata file too large".into()));
            }
            s
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| StoreError::BadMetadata(e.to_string()))?;
        let map = value
            .as_object()
            .ok_or_else(|| StoreError::BadMetadata("not a JSON object".into()))?;
        let mut out = HashMap::new();
        for (k, v) in map {
            let v = v.as_str().ok_or_else(|| {
                StoreError::BadMetadata(format!("value of {k:?} is not a string"))
            })?;
            let name = k.to_ascii_lowercase();
            let name = name
                .strip_prefix("x-amz-meta-")
                .unwrap_or(&name)
                .to_string();
            out.insert(name, v.to_string());
        }
        Ok(out)
    }

    fn list_blocking(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<ListPage, StoreError> {
        let bucket_dir = self.path_for(bucket, "x").map(|p| p.with_file_name(""))?;
        if !bucket_dir.is_dir() {
            return Err(StoreError::NoSuchBucket(bucket.to_string()));
        }
        // Start walking at the deepest directory the prefix names.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start_dir = if dir_part.is_empty() {
            bucket_dir.clone()
        } else {
            if check_segment_path(dir_part, true).is_err() {
                return Ok(ListPage::default());
            }
            bucket_dir.join(dir_part)
        };
        let mut keys = Vec::new();
        let rel_base = if dir_part.is_empty() {
            String::new()
        } else {
            format!("{dir_part}/")
        };
        walk(&start_dir, &rel_base, &mut keys).map_err(|e| StoreError::Io(e.to_string()))?;
        keys.retain(|k| {
            k.starts_with(prefix)
                && !is_digest_sidecar(k)
                && start_after.is_none_or(|a| k.as_str() > a)
        });
        keys.sort_unstable();
        Ok(ListPage {
            tags: vec![None; keys.len()],
            keys,
            truncated: false,
        })
    }
}

/// The metadata file of a digest (the layout's own file, not an object).
/// Any other `.metadata.json` is an object like any other, and gets a
/// verdict.
fn is_digest_sidecar(key: &str) -> bool {
    key.strip_suffix(METADATA_SUFFIX)
        .is_some_and(|k| crate::verify::layout::parse_digest_key(k).is_some())
}

/// Collects file keys below `dir`; symlinked directories are not entered.
fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue; // not a possible S3 key
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&entry.path(), &format!("{rel}{name}/"), out)?;
        } else if ft.is_file() || ft.is_symlink() {
            out.push(format!("{rel}{name}"));
        }
    }
    Ok(())
}

/// Rejects anything that is not a plain relative path of normal segments.
/// Where `bucket/key` lies in a folder of the local layout; a name that
/// would leave the folder is refused.
pub(crate) fn object_path(root: &Path, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
    check_segment_path(bucket, false)
        .and_then(|_| check_segment_path(key, true))
        .map_err(|why| StoreError::InvalidKey(format!("{bucket}/{key}: {why}")))?;
    Ok(root.join(bucket).join(key))
}

/// A key the local layout cannot hold as an object: its name is a
/// sidecar's, and the object would stand for another object's metadata.
pub(crate) fn not_a_sidecar(key: &str) -> Result<(), StoreError> {
    match key.ends_with(METADATA_SUFFIX) {
        true => Err(StoreError::InvalidKey(format!(
            "{key}: ends in {METADATA_SUFFIX}, the local layout's metadata name"
        ))),
        false => Ok(()),
    }
}

/// Writes an object into a folder of the local layout (what `acquire`
/// copies and `--recover` gives back): its bytes at `bucket/key` and, when
/// it has any, its metadata in the sidecar. A key naming a sidecar would
/// overwrite another object's metadata and is refused.
pub(crate) fn write_object(
    root: &Path,
    (bucket, key): (&str, &str),
    bytes: &[u8],
    metadata: &HashMap<String, String>,
) -> Result<(), StoreError> {
    not_a_sidecar(key)?;
    let path = object_path(root, bucket, key)?;
    let io = |e: io::Error| StoreError::Io(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&path, bytes).map_err(io)?;
    if !metadata.is_empty() {
        let side = format!("{}{METADATA_SUFFIX}", path.display());
        let text = serde_json::to_string(metadata).unwrap_or_default();
        std::fs::write(side, text).map_err(io)?;
    }
    Ok(())
}

pub(crate) fn check_segment_path(s: &str, allow_slash: bool) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if s.contains('\0') || s.contains('\\') {
        return Err("contains a NUL or backslash");
    }
    if !allow_slash && s.contains('/') {
        return Err("contains '/'");
    }
    if s.starts_with('/') {
        return Err("absolute path");
    }
    for seg in s.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err("empty, '.' or '..' path segment");
        }
    }
    let p = Path::new(s);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err("not a plain relative path");
    }
    Ok(())
}

impl ObjectStore for LocalStore {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        let this = self.clone();
        let (b, p, a) = (
            bucket.to_string(),
            prefix.to_string(),
            start_after.map(str::to_string),
        );
        async move {
            tokio::task::spawn_blocking(move || this.list_blocking(&b, &p, a.as_deref()))
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
        }
        .boxed()
    }

    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        // Opening a local file (and reading a sidecar of a few hundred
        // bytes) takes microseconds: cheaper inline than a thread hand-off.
        // The body itself is read on a blocking thread by the caller.
        async move { self.get_blocking(bucket, key) }.boxed()
    }

    /// One directory read instead of the default's walks.
    fn list_level<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<super::Level, StoreError>> {
        async move { self.level(bucket, prefix) }.boxed()
    }

    fn list_folders<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        async move { Ok(self.level(bucket, prefix)?.folders) }.boxed()
    }
}

impl LocalStore {
    /// One directory: its sub-directories (symlinked ones are not entered)
    /// and its files as keys (a digest's metadata file is not an object).
    fn level(&self, bucket: &str, prefix: &str) -> Result<super::Level, StoreError> {
        let bucket_dir = self.path_for(bucket, "x").map(|p| p.with_file_name(""))?;
        if !bucket_dir.is_dir() {
            return Err(StoreError::NoSuchBucket(bucket.to_string()));
        }
        let dir_part = prefix.trim_end_matches('/');
        let dir = if dir_part.is_empty() {
            bucket_dir
        } else {
            if check_segment_path(dir_part, true).is_err() {
                return Ok(super::Level::default());
            }
            bucket_dir.join(dir_part)
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(super::Level::default())
            }
            Err(e) => return Err(StoreError::Io(e.to_string())),
        };
        let mut out = super::Level::default();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                out.folders.push(name);
            } else if kind.is_file() && out.objects.len() < super::MAX_LEVEL_OBJECTS {
                let key = format!("{prefix}{name}");
                if !is_digest_sidecar(&key) {
                    out.objects.push(key);
                }
            }
        }
        out.folders.sort();
        out.objects.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("bucket/a/b");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("one.json.gz"), b"1").unwrap();
        std::fs::write(b.join("two.json.gz"), b"2").unwrap();
        std::fs::write(
            b.join("two.json.gz.metadata.json"),
            br#"{"signature":"ab","signature-algorithm":"SHA256withRSA"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn lists_in_order_and_hides_only_digest_metadata() {
        let (d, s) = setup();
        // Beside an object that is not a digest, a `.metadata.json` is an
        // object like any other (it gets a verdict).
        let page = s.list_page("bucket", "a/", None).await.unwrap();
        let two_meta = "a/b/two.json.gz.metadata.json";
        assert_eq!(
            page.keys,
            vec!["a/b/one.json.gz", "a/b/two.json.gz", two_meta]
        );
        let page = s
            .list_page("bucket", "a/b/", Some("a/b/one.json.gz"))
            .await
            .unwrap();
        assert_eq!(page.keys, vec!["a/b/two.json.gz", two_meta]);
        // A digest's metadata file is the layout's, not an object.
        let digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/03/01/\
                      123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_20260301T010000Z.json.gz";
        let path = d.path().join("bucket").join(digest);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"d").unwrap();
        std::fs::write(format!("{}.metadata.json", path.display()), b"{}").unwrap();
        let page = s.list_page("bucket", "AWSLogs/", None).await.unwrap();
        assert_eq!(page.keys, vec![digest]);
        assert!(s
            .list_page("bucket", "zzz/", None)
            .await
            .unwrap()
            .keys
            .is_empty());
        assert_eq!(
            s.list_page("nobucket", "", None).await.unwrap_err(),
            StoreError::NoSuchBucket("nobucket".into())
        );
    }

    #[tokio::test]
    async fn reads_metadata_sidecar() {
        let (_d, s) = setup();
        let o = s.get("bucket", "a/b/two.json.gz").await.unwrap();
        assert_eq!(o.metadata["signature"], "ab");
        let o = s.get("bucket", "a/b/one.json.gz").await.unwrap();
        assert!(o.metadata.is_empty());
        assert_eq!(
            s.get("bucket", "a/b/none").await.unwrap_err(),
            StoreError::NotFound
        );
    }

    #[tokio::test]
    async fn refuses_keys_that_escape() {
        let (d, s) = setup();
        for k in [
            "../secret",
            "/etc/passwd",
            "a/../../secret",
            "a//b",
            "./a",
            "a\\..\\x",
            "",
        ] {
            assert!(
                matches!(s.get("bucket", k).await, Err(StoreError::InvalidKey(_))),
                "{k}"
            );
        }
        assert!(matches!(
            s.get("..", "secret").await,
            Err(StoreError::InvalidKey(_))
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("secret"), d.path().join("bucket/link"))
                .unwrap();
            assert!(matches!(
                s.get("bucket", "link").await,
                Err(StoreError::InvalidKey(_))
            ));
        }
    }

    #[tokio::test]
    async fn bad_metadata_is_reported() {
        let (d, s) = setup();
        std::fs::write(
            d.path().join("bucket/a/b/one.json.gz.metadata.json"),
            b"[1]",
        )
        .unwrap();
        assert!(matches!(
            s.get("bucket", "a/b/one.json.gz").await,
            Err(StoreError::BadMetadata(_))
        ));
    }
}
