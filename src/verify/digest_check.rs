//! Verifying one digest on its own: format, location, public key and
//! signature. Chain links between digests are [`crate::verify::chain`]'s job.

use crate::verify::digest::{sha256_hex, string_to_sign, Digest};
use crate::verify::gzip::{inflate_to_vec, GzipError};
use crate::verify::model::{Finding, Problem};
use crate::verify::pubkeys::PublicKeySet;
use std::collections::HashMap;

/// Largest inflated digest we accept. A real hourly digest is a few KiB to a
/// few MiB; anything bigger is a bomb.
pub(crate) const MAX_DIGEST_INFLATED: u64 = 64 * 1024 * 1024;

/// The AWS CLI's reason strings, kept verbatim because scripts match them.
pub mod reason {
    pub(crate) const INVALID_FORMAT: &str = "invalid format";
    pub(crate) const SIGNATURE_FAILED: &str = "signature verification failed";
    pub(crate) const MOVED: &str = "has been moved from its original location";
    pub(crate) const NOT_FOUND: &str = "not found";
    pub(crate) const TRAILING_DATA: &str = "unexpected data after end of compressed stream";
    pub(crate) const HASH_MISMATCH: &str = "hash value doesn't match";
}

/// A digest whose signature verified with a CloudTrail key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDigest {
    pub digest: Digest,
    /// SHA-256 of the inflated bytes: what the successor's previousDigestHashValue must be.
    pub sha256_hex: String,
    /// The signature from the object's metadata: what the successor's previousDigestSignature must be.
    pub signature_hex: String,
}

/// The outcome of checking one fetched digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    Verified(Box<VerifiedDigest>),
    Failed {
        finding: Finding,
        /// What could be parsed, for timing only: never trusted.
        parsed: Option<Box<Digest>>,
        /// Set when the only problem so far is an unknown fingerprint, so the
        /// caller can look the key up once more around the digest's time.
        unknown_fingerprint: Option<String>,
    },
}

impl DigestCheck {
    fn fail(problem: Problem, reason: &str, detail: String, parsed: Option<Digest>) -> Self {
        DigestCheck::Failed {
            finding: Finding::new(problem, reason).with_detail(detail),
            parsed: parsed.map(Box::new),
            unknown_fingerprint: None,
        }
    }
}

/// What is needed to check one digest, independent of where it came from.
pub struct DigestInput<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub compressed: &'a [u8],
    pub metadata: &'a HashMap<String, String>,
    pub backfill: bool,
    /// The region whose keys were consulted (named in the not-found message).
    pub key_region: &'a str,
}

/// Checks a digest in the AWS CLI's order (format, signature metadata,
/// required fields, location, key, signature) with stricter additions:
/// trailing gzip data, signature algorithm, key validity window.
pub fn check_digest(input: &DigestInput<'_>, keys: &PublicKeySet) -> DigestCheck {
    match check(input, keys) {
        Ok(v) => DigestCheck::Verified(Box::new(v)),
        Err(failed) => failed,
    }
}

/// The checks in the AWS CLI's order: a failure is the first that applies.
fn check(input: &DigestInput<'_>, keys: &PublicKeySet) -> Result<VerifiedDigest, DigestCheck> {
    let inflated = inflate(input)?;
    let parsed = Digest::parse(&inflated);
    let (signature_hex, algorithm) = match signature_metadata(input) {
        Ok(m) => m,
        Err(detail) => return Err(fail_sig(detail, parsed.ok())),
    };
    if input.backfill && !input.metadata.contains_key("backfill-generation-timestamp") {
        return Err(DigestCheck::fail(
            Problem::Format,
            reason::INVALID_FORMAT,
            "backfill digest without backfill-generation-timestamp metadata".into(),
            parsed.ok(),
        ));
    }
    let digest = parsed.map_err(|e| {
        DigestCheck::fail(Problem::Format, reason::INVALID_FORMAT, e.to_string(), None)
    })?;
    if digest.bucket != input.bucket || digest.key != input.key {
        let detail = format!(
            "it says it belongs at s3://{}/{}",
            digest.bucket, digest.key
        );
        return Err(DigestCheck::fail(
            Problem::Moved,
            reason::MOVED,
            detail,
            Some(digest),
        ));
    }
    let Some(key) = keys.get(&digest.fingerprint) else {
        let reason = format!(
            "public key not found in region {} for fingerprint {}",
            input.key_region, digest.fingerprint
        );
        return Err(DigestCheck::Failed {
            finding: Finding::new(Problem::PublicKey, reason),
            unknown_fingerprint: Some(digest.fingerprint.clone()),
            parsed: Some(Box::new(digest)),
        });
    };
    if !algorithm.eq_ignore_ascii_case("SHA256withRSA") {
        let detail = format!("unsupported signature algorithm {algorithm:?}");
        return Err(fail_sig(detail, Some(digest)));
    }
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        let detail = "the signature metadata is not hexadecimal".to_string();
        return Err(fail_sig(detail, Some(digest)));
    };
    let sha = sha256_hex(&inflated);
    let message = string_to_sign(
        &digest.end_raw,
        &digest.bucket,
        &digest.key,
        &sha,
        digest.previous_signature.as_deref(),
    );
    if !key.verify(message.as_bytes(), &signature) {
        let detail = format!("RSA signature does not match (key {})", key.fingerprint);
        return Err(fail_sig(detail, Some(digest)));
    }
    check_key_validity(input, key, digest).map(|digest| VerifiedDigest {
        digest,
        sha256_hex: sha,
        signature_hex: signature_hex.trim().to_ascii_lowercase(),
    })
}

fn fail_sig(detail: String, parsed: Option<Digest>) -> DigestCheck {
    DigestCheck::fail(Problem::Signature, reason::SIGNATURE_FAILED, detail, parsed)
}

/// The digest's JSON, or the finding on its gzip framing.
fn inflate(input: &DigestInput<'_>) -> Result<Vec<u8>, DigestCheck> {
    inflate_to_vec(input.compressed, MAX_DIGEST_INFLATED).map_err(|e| match e {
        GzipError::TrailingData => DigestCheck::fail(
            Problem::TrailingData,
            reason::TRAILING_DATA,
            "the digest object has bytes after its gzip member".into(),
            None,
        ),
        e => DigestCheck::fail(Problem::Format, reason::INVALID_FORMAT, e.to_string(), None),
    })
}

/// `x-amz-meta-signature` and `x-amz-meta-signature-algorithm`.
fn signature_metadata<'a>(input: &'a DigestInput<'_>) -> Result<(&'a String, &'a String), String> {
    let Some(signature_hex) = input.metadata.get("signature") else {
        return Err("the object has no signature metadata (x-amz-meta-signature)".into());
    };
    let Some(algorithm) = input.metadata.get("signature-algorithm") else {
        return Err("the object has no signature-algorithm metadata".into());
    };
    Ok((signature_hex, algorithm))
}

/// CloudTrail signs a digest shortly after its window ends; a backfill
/// digest when it was generated (as the AWS CLI looks keys up). Allow an
/// hour either side of that moment.
fn check_key_validity(
    input: &DigestInput<'_>,
    key: &crate::verify::pubkeys::PublicKey,
    digest: Digest,
) -> Result<Digest, DigestCheck> {
    let signed_at = if input.backfill {
        input
            .metadata
            .get("backfill-generation-timestamp")
            .and_then(|t| crate::verify::time::parse_user_time(t).ok())
            .unwrap_or(digest.end)
    } else {
        digest.end
    };
    let slack = chrono::Duration::hours(1);
    if key.valid_during(signed_at - slack, signed_at + slack) || key.valid_at(digest.end) {
        return Ok(digest);
    }
    let reason = format!(
        "signed with public key {} outside its validity window",
        key.fingerprint
    );
    Err(DigestCheck::fail(
        Problem::PublicKey,
        &reason,
        format!("digest ends {}", digest.end_raw),
        Some(digest),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::signer::Signer;
    use crate::verify::gzip::gzip;
    use crate::verify::pubkeys::PublicKey;
    use crate::verify::time::parse_user_time;
    use std::sync::OnceLock;

    const REAL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/real/digest-us-west-2-20200911T193649Z.json"
    );
    const BUCKET: &str = "leh-ct-test-bucket";
    const KEY: &str = "AWSLogs/144492464627/CloudTrail-Digest/us-west-2/2020/09/11/144492464627_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz";

    /// One RSA key per test process: generation is the slow part.
    fn signer() -> &'static Signer {
        static K: OnceLock<Signer> = OnceLock::new();
        K.get_or_init(|| Signer::generate().unwrap())
    }

    /// The real digest re-signed with our key (its fingerprint swapped in).
    fn signed_real() -> (Vec<u8>, HashMap<String, String>, PublicKeySet) {
        let signer = signer();
        let text = std::fs::read_to_string(REAL)
            .unwrap()
            .replace("4a7aa197feec25e9bd0b5e98fcad8ecb", &signer.fingerprint);
        let d = Digest::parse(text.as_bytes()).unwrap();
        let sig = signer
            .sign_digest(
                &d.end_raw,
                &d.bucket,
                &d.key,
                text.as_bytes(),
                d.previous_signature.as_deref(),
            )
            .unwrap();
        let meta: HashMap<String, String> = [
            ("signature".to_string(), sig),
            (
                "signature-algorithm".to_string(),
                "SHA256withRSA".to_string(),
            ),
        ]
        .into();
        let mut keys = PublicKeySet::new();
        keys.insert(signer.public_key(
            parse_user_time("2020-09-05T00:00:00Z").unwrap(),
            parse_user_time("2020-10-05T00:00:00Z").unwrap(),
        ));
        (gzip(text.as_bytes()), meta, keys)
    }

    fn check(
        bytes: &[u8],
        meta: &HashMap<String, String>,
        keys: &PublicKeySet,
        key: &str,
    ) -> DigestCheck {
        check_digest(
            &DigestInput {
                bucket: BUCKET,
                key,
                compressed: bytes,
                metadata: meta,
                backfill: false,
                key_region: "us-west-2",
            },
            keys,
        )
    }

    fn problem(c: &DigestCheck) -> Option<(Problem, String)> {
        match c {
            DigestCheck::Verified(_) => None,
            DigestCheck::Failed { finding, .. } => Some((finding.problem, finding.reason.clone())),
        }
    }

    #[test]
    fn a_correctly_signed_digest_verifies() {
        let (gz, meta, keys) = signed_real();
        let c = check(&gz, &meta, &keys, KEY);
        let DigestCheck::Verified(v) = c else {
            panic!("{c:?}")
        };
        assert_eq!(v.digest.log_files.len(), 12);
        assert_eq!(v.signature_hex, meta["signature"]);
    }

    #[test]
    fn every_kind_of_damage_is_named() {
        let (gz, meta, keys) = signed_real();
        // Moved.
        let other = KEY.replace("193649Z", "203649Z");
        assert_eq!(
            problem(&check(&gz, &meta, &keys, &other)).unwrap().0,
            Problem::Moved
        );
        // Missing signature, bad hex, wrong algorithm, flipped signature.
        let mut m = meta.clone();
        m.remove("signature");
        assert_eq!(
            problem(&check(&gz, &m, &keys, KEY)).unwrap(),
            (Problem::Signature, reason::SIGNATURE_FAILED.into())
        );
        let mut m = meta.clone();
        m.insert("signature".into(), "zz".into());
        assert_eq!(
            problem(&check(&gz, &m, &keys, KEY)).unwrap().0,
            Problem::Signature
        );
        let mut m = meta.clone();
        m.insert("signature-algorithm".into(), "MD5withRSA".into());
        assert_eq!(
            problem(&check(&gz, &m, &keys, KEY)).unwrap().0,
            Problem::Signature
        );
        let mut m = meta.clone();
        let mut sig = hex::decode(&meta["signature"]).unwrap();
        sig[0] ^= 1;
        m.insert("signature".into(), hex::encode(sig));
        assert_eq!(
            problem(&check(&gz, &m, &keys, KEY)).unwrap().0,
            Problem::Signature
        );
        // Content changed by one byte: signature fails.
        let mut text = crate::verify::gzip::inflate_to_vec(&gz, 1 << 20).unwrap();
        let pos = text.len() - 10;
        text[pos] = if text[pos] == b'0' { b'1' } else { b'0' };
        assert!(problem(&check(&gzip(&text), &meta, &keys, KEY)).is_some());
        // Unknown fingerprint.
        let c = check(&gz, &meta, &PublicKeySet::new(), KEY);
        assert_eq!(
            problem(&c).unwrap().1,
            format!(
                "public key not found in region us-west-2 for fingerprint {}",
                signer().fingerprint
            )
        );
        assert!(matches!(
            c,
            DigestCheck::Failed {
                unknown_fingerprint: Some(_),
                ..
            }
        ));
        // Appended member, not gzip, truncated, bomb, deep JSON, wrong types.
        let mut appended = gz.clone();
        appended.extend(gzip(b"{}"));
        assert_eq!(
            problem(&check(&appended, &meta, &keys, KEY)).unwrap().0,
            Problem::TrailingData
        );
        for bad in [
            b"plain".to_vec(),
            gz[..gz.len() / 2].to_vec(),
            vec![],
            gzip(&"[".repeat(50_000).into_bytes()),
            gzip(b"{\"digestS3Bucket\":[]}"),
        ] {
            assert_eq!(
                problem(&check(&bad, &meta, &keys, KEY)).unwrap(),
                (Problem::Format, reason::INVALID_FORMAT.into())
            );
        }
        let bomb = gzip(&vec![b' '; (MAX_DIGEST_INFLATED + 1) as usize]);
        assert_eq!(
            problem(&check(&bomb, &meta, &keys, KEY)).unwrap().0,
            Problem::Format
        );
    }

    #[test]
    fn a_key_used_outside_its_validity_is_reported() {
        let (gz, meta, keys) = signed_real();
        let k = keys.sorted()[0].clone();
        let mut late = PublicKeySet::new();
        late.insert(PublicKey {
            valid_from: Some(parse_user_time("2021-01-01T00:00:00Z").unwrap()),
            ..k
        });
        assert_eq!(
            problem(&check(&gz, &meta, &late, KEY)).unwrap().0,
            Problem::PublicKey
        );
    }
}
