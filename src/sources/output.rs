//! Where reports go and come from: stdout, a file (written atomically:
//! a temporary file, then a rename), or `s3://bucket/key`, so shards on
//! different machines need no shared disk.

use crate::sources::aws::AwsOptions;
use crate::sources::store::s3::S3Store;
use crate::sources::store::ObjectStore;

/// Where a report, page, metrics file, checkpoint or shard report is
/// written or read: parsed once from what the operator typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    File(std::path::PathBuf),
    S3 { bucket: String, key: String },
}

impl Destination {
    /// `s3://bucket/key`, else a path (an `s3://` without a bucket and a
    /// key is a file name the folder check refuses).
    pub fn parse(target: &str) -> Destination {
        let s3 = target.strip_prefix("s3://").and_then(|t| t.split_once('/'));
        match s3.filter(|(b, k)| !b.is_empty() && !k.is_empty()) {
            Some((bucket, key)) => Destination::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            },
            None => Destination::File(target.into()),
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::File(p) => write!(f, "{}", p.display()),
            Destination::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// How reports and checkpoints on S3 are reached: the run's profile and
/// its `--read-timeout` (None: the default), so a stalled checkpoint read
/// fails as fast as a stalled log read. Writes keep the default: the SDK's
/// read timeout runs until the response, so for a PUT it bounds the whole
/// upload, and a short one would lose a large report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Remote<'a> {
    pub profile: Option<&'a str>,
    pub read_timeout: Option<std::time::Duration>,
    pub endpoint_url: Option<&'a str>,
    /// `--signing-key`: every file written gets `FILE.sig` and the
    /// signer's `signer.pem` beside it.
    pub signer: Option<&'a crate::sources::signing::Signer>,
    /// `--tsa-url`: every file written gets `FILE.tsr`, a token over its
    /// bytes.
    pub tsa: Option<&'a crate::sources::tsa::Tsa>,
}

impl<'a> Remote<'a> {
    pub(crate) fn profile(profile: Option<&'a str>) -> Remote<'a> {
        Remote {
            profile,
            read_timeout: None,
            endpoint_url: None,
            signer: None,
            tsa: None,
        }
    }

    /// The same profile with the default timeouts, for uploads.
    fn for_writing(self) -> Remote<'a> {
        Remote {
            read_timeout: None,
            ..self
        }
    }
}

async fn s3(remote: Remote<'_>) -> S3Store {
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: remote.profile.map(str::to_string),
        region: None,
        read_timeout: remote.read_timeout,
        endpoint_url: remote.endpoint_url.map(str::to_string),
    })
    .await;
    let path_style = crate::sources::aws::s3_endpoint_override(&cfg)
        .is_some_and(|e| crate::sources::aws::needs_path_style(&e));
    S3Store::new(cfg, path_style, 5)
}

/// Why a report, page, metrics file or checkpoint could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {target}: {why}")]
    Failed { target: String, why: String },
    /// A conditional S3 write whose object changed since it was read.
    #[error(
        "cannot write {target} (another run may have written it since this one read it): {why}"
    )]
    Conflict { target: String, why: String },
}

/// Why a checkpoint or a shard report could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {source_name}: {why}")]
pub struct ReadError {
    pub source_name: String,
    pub why: String,
}

fn read_error(source_name: impl Into<String>, why: impl std::fmt::Display) -> ReadError {
    ReadError {
        source_name: source_name.into(),
        why: why.to_string(),
    }
}

/// Writes a rendered report to `target`, and its signature beside it when
/// the run signs.
pub async fn write(
    target: &Destination,
    bytes: Vec<u8>,
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let signature = sign(target, &bytes, remote)?;
    let hash = remote.tsa.map(|_| sha256(&bytes));
    // An earlier run's token would date these bytes if anything below
    // failed before the new one is written.
    remove_stale(&suffixed(target, ".tsr"));
    write_unsigned(target, bytes, remote).await?;
    if let (None, Destination::File(_)) = (&signature, target) {
        // An earlier run's signature would vouch for bytes it never saw.
        remove_stale(&suffixed(target, ".sig"));
    }
    write_signature(target, signature, remote).await?;
    write_timestamp(target, hash, remote).await
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn remove_stale(file: &Destination) {
    if let Destination::File(stale) = file {
        let _ = std::fs::remove_file(stale);
    }
}

/// `FILE.tsr`, the authority's token over the file's SHA-256, when the run
/// time-stamps. An earlier run's token is removed first: it would date
/// bytes it never saw, also when this run's authority fails.
async fn write_timestamp(
    target: &Destination,
    hash: Option<[u8; 32]>,
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let tsr = suffixed(target, ".tsr");
    remove_stale(&tsr);
    let (Some(tsa), Some(hash)) = (remote.tsa, hash) else {
        return Ok(());
    };
    let (token, _) = tsa
        .stamp_hash(&hash)
        .await
        .map_err(|e| WriteError::Failed {
            target: tsr.to_string(),
            why: e.to_string(),
        })?;
    write_unsigned(&tsr, token, remote).await
}

/// Signs a file written some other way (acquire's seal) as `write` signs
/// what it writes: `FILE.sig` and `signer.pem` beside it, when the run
/// signs.
pub(crate) async fn sign_beside(
    target: &Destination,
    bytes: &[u8],
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let signature = sign(target, bytes, remote)?;
    write_signature(target, signature, remote).await?;
    let hash = remote.tsa.map(|_| sha256(bytes));
    write_timestamp(target, hash, remote).await
}

/// The signature over `bytes`, when the run signs.
fn sign(
    target: &Destination,
    bytes: &[u8],
    remote: Remote<'_>,
) -> Result<Option<(Vec<u8>, String)>, WriteError> {
    let Some(signer) = remote.signer else {
        return Ok(None);
    };
    let signature = signer.sign(bytes).map_err(|e| WriteError::Failed {
        target: target.to_string(),
        why: e.to_string(),
    })?;
    Ok(Some((signature, signer.public().to_pem())))
}

/// `FILE.sig`, and `signer.pem` in the same folder.
async fn write_signature(
    target: &Destination,
    signature: Option<(Vec<u8>, String)>,
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let Some((signature, pem)) = signature else {
        return Ok(());
    };
    let (sig, signer) = beside(target);
    if let (Destination::File(pem_path), Some(key)) =
        (&signer, remote.signer.and_then(|s| s.path()))
    {
        // `--signing-key file:out/signer.pem`: the public key must not be
        // written over the private one.
        let same = pem_path.canonicalize().is_ok_and(|p| p == key);
        if same {
            return Err(WriteError::Failed {
                target: signer.to_string(),
                why: "it is the signing key's own file: keep the private key elsewhere".into(),
            });
        }
    }
    write_unsigned(&sig, signature, remote).await?;
    write_unsigned(&signer, pem.into_bytes(), remote).await
}

/// Whether `source`'s bytes carry a signature (`FILE.sig`) that `public`
/// verifies: a checkpoint or shard report the run's own signing key wrote.
pub(crate) async fn signed_by(
    source: &Destination,
    bytes: &[u8],
    public: &crate::verify::signature::PublicKey,
    remote: Remote<'_>,
) -> Result<bool, ReadError> {
    let (sig, _) = beside(source);
    let signature = read_optional(&sig, remote).await?;
    Ok(signature.is_some_and(|s| public.verify(bytes, &s).is_ok()))
}

/// Where a file's signature and its signer's public key go.
pub(crate) fn beside(target: &Destination) -> (Destination, Destination) {
    let signer = match target {
        Destination::File(path) => Destination::File(path.with_file_name("signer.pem")),
        Destination::S3 { bucket, key } => {
            let folder = key.rsplit_once('/').map_or("", |(f, _)| f);
            let key = match folder {
                "" => "signer.pem".to_string(),
                f => format!("{f}/signer.pem"),
            };
            Destination::S3 {
                bucket: bucket.clone(),
                key,
            }
        }
    };
    (suffixed(target, ".sig"), signer)
}

/// `FILE.sig`, `FILE.tsr`.
pub(crate) fn suffixed(target: &Destination, suffix: &str) -> Destination {
    match target {
        Destination::File(path) => {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            Destination::File(name.into())
        }
        Destination::S3 { bucket, key } => Destination::S3 {
            bucket: bucket.clone(),
            key: format!("{key}{suffix}"),
        },
    }
}

async fn write_unsigned(
    target: &Destination,
    bytes: Vec<u8>,
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let failed = |target: String, why: String| WriteError::Failed { target, why };
    let path = match target {
        Destination::S3 { bucket, key } => {
            return s3(remote.for_writing())
                .await
                .put_bytes(bucket, key, bytes)
                .await
                .map_err(|e| failed(target.to_string(), e.to_string()))
        }
        Destination::File(path) => path,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| failed(target.to_string(), "not a file name".to_string()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed(target.to_string(), e.to_string())
        })
}

/// A checkpoint's bytes and, on S3, the ETag they had.
pub(crate) type Versioned = (Vec<u8>, Option<String>);

/// Reads a checkpoint with its version; None when it does not exist yet.
pub(crate) async fn read_versioned(
    source: &Destination,
    remote: Remote<'_>,
) -> Result<Option<Versioned>, ReadError> {
    if let Destination::S3 { bucket, key } = source {
        return s3(remote)
            .await
            .get_with_etag(bucket, key)
            .await
            .map_err(|e| read_error(source.to_string(), e));
    }
    Ok(read_optional(source, remote).await?.map(|b| (b, None)))
}

/// Writes a checkpoint: atomically to a file; to S3 only if the object is
/// still the version read (or still absent), so a concurrent run's newer
/// checkpoint is never overwritten.
pub(crate) async fn write_versioned(
    target: &Destination,
    bytes: Vec<u8>,
    read_etag: Option<&str>,
    remote: Remote<'_>,
) -> Result<(), WriteError> {
    let Destination::S3 { bucket, key } = target else {
        return write(target, bytes, remote).await;
    };
    s3(remote.for_writing())
        .await
        .put_bytes_if(bucket, key, bytes.clone(), read_etag)
        .await
        .map_err(|e| WriteError::Conflict {
            target: target.to_string(),
            why: e.to_string(),
        })?;
    sign_beside(target, &bytes, remote).await
}

/// Reads what `write` wrote, or None when nothing is there yet.
pub(crate) async fn read_optional(
    source: &Destination,
    remote: Remote<'_>,
) -> Result<Option<Vec<u8>>, ReadError> {
    let path = match source {
        Destination::S3 { bucket, key } => {
            let store = s3(remote).await;
            return match store.get(bucket, key).await {
                Ok(obj) => obj
                    .body
                    .read_to_vec(64 * 1024 * 1024)
                    .await
                    .map(Some)
                    .map_err(|e| read_error(source.to_string(), e)),
                Err(crate::sources::store::StoreError::NotFound) => Ok(None),
                Err(e) => Err(read_error(source.to_string(), e)),
            };
        }
        Destination::File(path) => path,
    };
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_error(source.to_string(), e)),
    }
}

/// Reads a report written by `write`.
pub async fn read(source: &Destination, remote: Remote<'_>) -> Result<Vec<u8>, ReadError> {
    const MAX_REPORT: u64 = 4 * 1024 * 1024 * 1024;
    let failed = |e: &dyn std::fmt::Display| read_error(source.to_string(), e);
    match source {
        Destination::S3 { bucket, key } => {
            let store = s3(remote).await;
            let obj = store.get(bucket, key).await.map_err(|e| failed(&e))?;
            obj.body
                .read_to_vec(MAX_REPORT)
                .await
                .map_err(|e| failed(&e))
        }
        Destination::File(path) => std::fs::read(path).map_err(|e| failed(&e)),
    }
}
