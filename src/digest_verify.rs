//! Verifying one digest on its own: format, location, public key and
//! signature. Chain links between digests are [`crate::chain`]'s job.

use crate::digest::{sha256_hex, string_to_sign, Digest};
use crate::gzip::{inflate_to_vec, GzipError};
use crate::pubkeys::PublicKeySet;
use crate::report::{Finding, Problem};
use std::collections::HashMap;

/// Largest inflated digest we accept. A real hourly digest is a few KiB to a
/// few MiB; anything bigger is a bomb.
pub const MAX_DIGEST_INFLATED: u64 = 64 * 1024 * 1024;

/// The AWS CLI's reason strings, kept verbatim because scripts match them.
pub mod reason {
    pub const INVALID_FORMAT: &str = "invalid format";
    pub const SIGNATURE_FAILED: &str = "signature verification failed";
    pub const MOVED: &str = "has been moved from its original location";
    pub const NOT_FOUND: &str = "not found";
    pub const TRAILING_DATA: &str = "unexpected data after end of compressed stream";
    pub const HASH_MISMATCH: &str = "hash value doesn't match";
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
    let inflated = match inflate_to_vec(input.compressed, MAX_DIGEST_INFLATED) {
        Ok(b) => b,
        Err(GzipError::TrailingData) => {
            return DigestCheck::fail(
                Problem::TrailingData,
                reason::TRAILING_DATA,
                "the digest object has bytes after its gzip member".into(),
                None,
            )
        }
        Err(e) => {
            return DigestCheck::fail(Problem::Format, reason::INVALID_FORMAT, e.to_string(), None)
        }
    };
    let parsed = Digest::parse(&inflated);
    let Some(signature_hex) = input.metadata.get("signature") else {
        return DigestCheck::fail(
            Problem::Signature,
            reason::SIGNATURE_FAILED,
            "the object has no signature metadata (x-amz-meta-signature)".into(),
            parsed.ok(),
        );
    };
    let Some(algorithm) = input.metadata.get("signature-algorithm") else {
        return DigestCheck::fail(
            Problem::Signature,
            reason::SIGNATURE_FAILED,
            "the object has no signature-algorithm metadata".into(),
            parsed.ok(),
        );
    };
    if input.backfill && !input.metadata.contains_key("backfill-generation-timestamp") {
        return DigestCheck::fail(
            Problem::Format,
            reason::INVALID_FORMAT,
            "backfill digest without backfill-generation-timestamp metadata".into(),
            parsed.ok(),
        );
    }
    let digest = match parsed {
        Ok(d) => d,
        Err(e) => {
            return DigestCheck::fail(Problem::Format, reason::INVALID_FORMAT, e.to_string(), None)
        }
    };
    if digest.bucket != input.bucket || digest.key != input.key {
        let detail = format!(
            "it says it belongs at s3://{}/{}",
            digest.bucket, digest.key
        );
        return DigestCheck::fail(Problem::Moved, reason::MOVED, detail, Some(digest));
    }
    let Some(key) = keys.get(&digest.fingerprint) else {
        let reason = format!(
            "public key not found in region {} for fingerprint {}",
            input.key_region, digest.fingerprint
        );
        return DigestCheck::Failed {
            finding: Finding::new(Problem::PublicKey, reason),
            unknown_fingerprint: Some(digest.fingerprint.clone()),
            parsed: Some(Box::new(digest)),
        };
    };
    if !algorithm.eq_ignore_ascii_case("SHA256withRSA") {
        let detail = format!("unsupported signature algorithm {algorithm:?}");
        return DigestCheck::fail(
            Problem::Signature,
            reason::SIGNATURE_FAILED,
            detail,
            Some(digest),
        );
    }
    let signature = match hex::decode(signature_hex.trim()) {
        Ok(s) => s,
        Err(_) => {
            return DigestCheck::fail(
                Problem::Signature,
                reason::SIGNATURE_FAILED,
                "the signature metadata is not hexadecimal".into(),
                Some(digest),
            )
        }
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
        return DigestCheck::fail(
            Problem::Signature,
            reason::SIGNATURE_FAILED,
            format!("RSA signature does not match (key {})", key.fingerprint),
            Some(digest),
        );
    }
    // CloudTrail signs a digest shortly after its window ends: allow an hour
    // either side of the validity window before calling it out.
    let slack = chrono::Duration::hours(1);
    if !(key.valid_at(digest.end - slack) || key.valid_at(digest.end + slack)) {
        let reason = format!(
            "signed with public key {} outside its validity window",
            key.fingerprint
        );
        return DigestCheck::fail(
            Problem::PublicKey,
            &reason,
            format!("digest ends {}", digest.end_raw),
            Some(digest),
        );
    }
    DigestCheck::Verified(Box::new(VerifiedDigest {
        digest,
        sha256_hex: sha,
        signature_hex: signature_hex.trim().to_ascii_lowercase(),
    }))
}
