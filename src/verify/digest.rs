//! The digest file model and the string CloudTrail signs. Pure: bytes in,
//! typed digest out, with a precise reason when the bytes are not a digest.

use crate::verify::time::{parse_digest_time, Timestamp};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// A log file entry of a digest: what the log's inflated bytes must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileRef {
    pub bucket: String,
    pub key: String,
    /// Lowercase hex SHA-256 the log's inflated bytes must have.
    pub hash_value: String,
    pub hash_algorithm: Option<String>,
    /// The events the file holds (informational: which events a finding on
    /// it affects; never used to decide a verdict).
    pub oldest_event: Option<Timestamp>,
    pub newest_event: Option<Timestamp>,
}

/// Where the previous digest of the chain lives and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousDigest {
    pub bucket: String,
    pub key: String,
    pub hash_value: Option<String>,
    pub hash_algorithm: Option<String>,
    /// Shared with [`Digest::previous_signature`]: the same 512 characters
    /// once per digest, not twice, over a chain-year of them.
    pub signature: Option<Arc<str>>,
}

/// A parsed digest. Times are kept both parsed and as written, because the
/// signature covers the text exactly as CloudTrail wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub account_id: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub end_raw: String,
    pub bucket: String,
    pub key: String,
    pub fingerprint: String,
    pub signature_algorithm: Option<String>,
    /// None in a chain's starting digest (validation or logging restarted).
    pub previous: Option<PreviousDigest>,
    /// previousDigestSignature as written (None when JSON null): part of the signed string.
    pub previous_signature: Option<Arc<str>>,
    pub log_files: Vec<LogFileRef>,
}

/// Why inflated bytes are not a usable digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestFormatError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("required field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} has the wrong type")]
    WrongType(String),
    #[error("field {0} is not a time of the form YYYY-MM-DDTHH:MM:SSZ")]
    BadTime(&'static str),
}

fn get_str<'a>(
    m: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, DigestFormatError> {
    match m.get(name) {
        None => Err(DigestFormatError::Missing(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(DigestFormatError::WrongType(name.to_string())),
    }
}

/// A field that must be present but may be null.
fn get_nullable<'a>(
    m: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, DigestFormatError> {
    match m.get(name) {
        None => Err(DigestFormatError::Missing(name)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DigestFormatError::WrongType(name.to_string())),
    }
}

/// A field that may be absent or null.
fn get_optional<'a>(
    m: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, DigestFormatError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DigestFormatError::WrongType(name.to_string())),
    }
}

fn get_time(
    m: &Map<String, Value>,
    name: &'static str,
) -> Result<(Timestamp, String), DigestFormatError> {
    let s = get_str(m, name)?;
    parse_digest_time(s)
        .map(|t| (t, s.to_string()))
        .ok_or(DigestFormatError::BadTime(name))
}

impl Digest {
    /// Parses a digest's inflated bytes. Deeply nested or malformed JSON is a
    /// format error (serde_json bounds recursion), never a crash.
    pub fn parse(inflated: &[u8]) -> Result<Digest, DigestFormatError> {
        let v: Value =
            serde_json::from_slice(inflated).map_err(|e| DigestFormatError::Json(e.to_string()))?;
        let m = v.as_object().ok_or(DigestFormatError::NotObject)?;
        let fingerprint = get_str(m, "digestPublicKeyFingerprint")?.to_string();
        let bucket = get_str(m, "digestS3Bucket")?.to_string();
        let key = get_str(m, "digestS3Object")?.to_string();
        let previous_signature = get_nullable(m, "previousDigestSignature")?.map(Arc::from);
        let (end, end_raw) = get_time(m, "digestEndTime")?;
        let (start, _) = get_time(m, "digestStartTime")?;
        let prev_bucket = get_optional(m, "previousDigestS3Bucket")?;
        let prev_key = get_optional(m, "previousDigestS3Object")?;
        let previous = match (prev_bucket, prev_key) {
            (Some(b), Some(k)) => Some(PreviousDigest {
                bucket: b.to_string(),
                key: k.to_string(),
                hash_value: get_optional(m, "previousDigestHashValue")?.map(str::to_string),
                hash_algorithm: get_optional(m, "previousDigestHashAlgorithm")?.map(str::to_string),
                signature: previous_signature.clone(),
            }),
            _ => None,
        };
        let log_files = match m.get("logFiles") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_log_ref(i, item))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(DigestFormatError::WrongType("logFiles".into())),
        };
        Ok(Digest {
            account_id: get_optional(m, "awsAccountId")?.map(str::to_string),
            start,
            end,
            end_raw,
            bucket,
            key,
            fingerprint,
            signature_algorithm: get_optional(m, "digestSignatureAlgorithm")?.map(str::to_string),
            previous,
            previous_signature,
            log_files,
        })
    }
}

fn parse_log_ref(i: usize, item: &Value) -> Result<LogFileRef, DigestFormatError> {
    let m = item
        .as_object()
        .ok_or_else(|| DigestFormatError::WrongType(format!("logFiles[{i}]")))?;
    let field = |name: &'static str| -> Result<String, DigestFormatError> {
        match m.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(DigestFormatError::WrongType(format!(
                "logFiles[{i}].{name}"
            ))),
            None => Err(DigestFormatError::WrongType(format!(
                "logFiles[{i}].{name} (missing)"
            ))),
        }
    };
    Ok(LogFileRef {
        bucket: field("s3Bucket")?,
        key: field("s3Object")?,
        hash_value: field("hashValue")?,
        hash_algorithm: get_optional(m, "hashAlgorithm")?.map(str::to_string),
        oldest_event: m
            .get("oldestEventTime")
            .and_then(Value::as_str)
            .and_then(parse_digest_time),
        newest_event: m
            .get("newestEventTime")
            .and_then(Value::as_str)
            .and_then(parse_digest_time),
    })
}

/// Lowercase hex SHA-256 of bytes exactly as given (never re-serialised JSON).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The string CloudTrail signs: end time as written, `bucket/key`, the hex
/// SHA-256 of the inflated digest, and the previous signature or `null`.
pub(crate) fn string_to_sign(
    end_raw: &str,
    bucket: &str,
    key: &str,
    inflated_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_raw}\n{bucket}/{key}\n{inflated_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/real/digest-us-west-2-20200911T193649Z.json"
    );

    #[test]
    fn string_to_sign_matches_the_cli_vector() {
        assert_eq!(
            string_to_sign("a", "b", "c", &sha256_hex(b"abc"), None),
            "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull"
        );
        assert_eq!(
            string_to_sign("a", "b", "c", "h", Some("ff")),
            "a\nb/c\nh\nff"
        );
    }

    #[test]
    fn parses_the_real_digest() {
        let d = Digest::parse(&std::fs::read(REAL).unwrap()).unwrap();
        assert_eq!(d.account_id.as_deref(), Some("144492464627"));
        assert_eq!(d.end_raw, "2020-09-11T19:36:49Z");
        assert_eq!(d.fingerprint, "4a7aa197feec25e9bd0b5e98fcad8ecb");
        assert_eq!(d.log_files.len(), 12);
        let p = d.previous.unwrap();
        assert!(p.key.ends_with("20200911T183649Z.json.gz"));
        assert_eq!(
            p.hash_value.as_deref(),
            Some("531914fcfa0dbacf09cdd4175a1fdcb5eda6e852911209f3c3ecb0a39036c860")
        );
        assert_eq!(p.signature.as_ref().map(|s| s.len()), Some(512));
    }

    #[test]
    fn chain_start_has_no_previous() {
        let j = br#"{"digestPublicKeyFingerprint":"f","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":null,"digestEndTime":"2020-01-01T01:00:00Z","digestStartTime":"2020-01-01T00:00:00Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,"logFiles":[]}"#;
        let d = Digest::parse(j).unwrap();
        assert!(d.previous.is_none());
        assert!(d.previous_signature.is_none());
    }

    #[test]
    fn hostile_json_is_a_format_error() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            Digest::parse(deep.as_bytes()),
            Err(DigestFormatError::Json(_))
        ));
        assert!(matches!(
            Digest::parse(b"{{{"),
            Err(DigestFormatError::Json(_))
        ));
        assert_eq!(Digest::parse(b"[]"), Err(DigestFormatError::NotObject));
        assert_eq!(
            Digest::parse(b"{}"),
            Err(DigestFormatError::Missing("digestPublicKeyFingerprint"))
        );
        let wrong = br#"{"digestPublicKeyFingerprint":1}"#;
        assert!(matches!(
            Digest::parse(wrong),
            Err(DigestFormatError::WrongType(_))
        ));
        let mut real: Value = serde_json::from_slice(&std::fs::read(REAL).unwrap()).unwrap();
        real["digestEndTime"] = Value::from("yesterday");
        assert_eq!(
            Digest::parse(real.to_string().as_bytes()),
            Err(DigestFormatError::BadTime("digestEndTime"))
        );
        real["digestEndTime"] = Value::from("2020-09-11T19:36:49Z");
        real["logFiles"][3]["hashValue"] = Value::from(7);
        assert!(
            matches!(Digest::parse(real.to_string().as_bytes()), Err(DigestFormatError::WrongType(f)) if f == "logFiles[3].hashValue")
        );
        real["logFiles"] = Value::from("x");
        assert!(Digest::parse(real.to_string().as_bytes()).is_err());
        real.as_object_mut()
            .unwrap()
            .remove("previousDigestSignature");
        assert_eq!(
            Digest::parse(real.to_string().as_bytes()),
            Err(DigestFormatError::Missing("previousDigestSignature"))
        );
    }
}
