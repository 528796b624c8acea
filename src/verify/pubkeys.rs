//! CloudTrail's public keys: decoding, fingerprints, and lookup by
//! fingerprint. No I/O: keys arrive from a file or from ListPublicKeys.

use crate::verify::time::{parse_json_time, Timestamp};
use base64::Engine as _;
use md5::{Digest as _, Md5};
use std::collections::HashMap;

/// One public key, ready for signature checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The fingerprint CloudTrail names in digests (lowercase hex).
    pub fingerprint: String,
    /// PKCS#1 RSAPublicKey DER (converted from SPKI when needed).
    pub pkcs1_der: Vec<u8>,
    pub valid_from: Option<Timestamp>,
    pub valid_to: Option<Timestamp>,
}

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key is neither PKCS#1 nor SubjectPublicKeyInfo DER")]
    Undecodable,
    #[error("key value is not valid base64")]
    BadBase64,
    #[error("fingerprint {stated} does not match the key's MD5 {computed}")]
    FingerprintMismatch { stated: String, computed: String },
}

/// Why a public-keys file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("no PublicKeyList array")]
    NoList,
    #[error("entry {index}: {why}")]
    Entry { index: usize, why: String },
}

/// Lowercase hex MD5 of the DER bytes, which is how CloudTrail fingerprints keys.
pub(crate) fn fingerprint_of(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

/// Accepts PKCS#1 RSAPublicKey or SPKI DER and returns PKCS#1 DER (what ring verifies with).
pub(crate) fn to_pkcs1_der(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
    use rsa::pkcs8::DecodePublicKey;
    if rsa::RsaPublicKey::from_pkcs1_der(der).is_ok() {
        return Ok(der.to_vec());
    }
    let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|_| KeyError::Undecodable)?;
    key.to_pkcs1_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|_| KeyError::Undecodable)
}

impl PublicKey {
    /// Builds a key from the DER CloudTrail returns. The stated fingerprint is
    /// checked against the MD5 of the DER: a mismatch means the key list itself
    /// was tampered with or mis-copied.
    pub(crate) fn from_der(
        der: &[u8],
        fingerprint: &str,
        valid_from: Option<Timestamp>,
        valid_to: Option<Timestamp>,
    ) -> Result<Self, KeyError> {
        let computed = fingerprint_of(der);
        let stated = fingerprint.to_ascii_lowercase();
        if computed != stated {
            return Err(KeyError::FingerprintMismatch { stated, computed });
        }
        Ok(PublicKey {
            fingerprint: stated,
            pkcs1_der: to_pkcs1_der(der)?,
            valid_from,
            valid_to,
        })
    }

    /// Whether `t` lies within the key's validity window (open ends are unbounded).
    pub(crate) fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_to.is_none_or(|e| t <= e)
    }

    /// Whether a digest ending at `t` falls in the key's time: its signing
    /// comes after its end, so a window ending at `t` does not cover it.
    pub(crate) fn covers_digest_end(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_to.is_none_or(|e| t < e)
    }

    /// Whether the validity window overlaps [lo, hi].
    pub(crate) fn valid_during(&self, lo: Timestamp, hi: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| f <= hi) && self.valid_to.is_none_or(|e| e >= lo)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &self.pkcs1_der,
        );
        key.verify(message, signature).is_ok()
    }
}

/// The keys known for a run, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    by_fingerprint: HashMap<String, PublicKey>,
}

impl PublicKeySet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: PublicKey) {
        self.by_fingerprint.insert(key.fingerprint.clone(), key);
    }

    pub fn extend(&mut self, keys: impl IntoIterator<Item = PublicKey>) {
        for k in keys {
            self.insert(k);
        }
    }

    pub fn get(&self, fingerprint: &str) -> Option<&PublicKey> {
        self.by_fingerprint.get(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }

    /// Keys in a stable order (by validity start, then fingerprint).
    pub(crate) fn sorted(&self) -> Vec<&PublicKey> {
        let mut v: Vec<&PublicKey> = self.by_fingerprint.values().collect();
        v.sort_by(|a, b| (a.valid_from, &a.fingerprint).cmp(&(b.valid_from, &b.fingerprint)));
        v
    }

    /// Parses the output of `aws cloudtrail list-public-keys` (or our `keys` command).
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| KeyFileError::Json(e.to_string()))?;
        let list = v
            .get("PublicKeyList")
            .and_then(|l| l.as_array())
            .ok_or(KeyFileError::NoList)?;
        let mut set = PublicKeySet::new();
        for (index, entry) in list.iter().enumerate() {
            let err = |why: String| KeyFileError::Entry { index, why };
            let value = entry
                .get("Value")
                .and_then(|x| x.as_str())
                .ok_or_else(|| err("Value missing or not a string".into()))?;
            let fp = entry
                .get("Fingerprint")
                .and_then(|x| x.as_str())
                .ok_or_else(|| err("Fingerprint missing or not a string".into()))?;
            let time = |name: &str| -> Result<Option<Timestamp>, KeyFileError> {
                match entry.get(name) {
                    None | Some(serde_json::Value::Null) => Ok(None),
                    Some(t) => parse_json_time(t)
                        .map(Some)
                        .ok_or_else(|| err(format!("{name} is not a time"))),
                }
            };
            let der = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .map_err(|_| err(KeyError::BadBase64.to_string()))?;
            let key = PublicKey::from_der(
                &der,
                fp,
                time("ValidityStartTime")?,
                time("ValidityEndTime")?,
            )
            .map_err(|e| err(e.to_string()))?;
            set.insert(key);
        }
        Ok(set)
    }

    /// Renders the set in the shape `aws cloudtrail list-public-keys` prints
    /// (times as epoch seconds), so files we write work with other tools too.
    pub(crate) fn to_json(&self) -> String {
        let list: Vec<serde_json::Value> = self
            .sorted()
            .into_iter()
            .map(|k| {
                serde_json::json!({
                    "Value": base64::engine::general_purpose::STANDARD.encode(&k.pkcs1_der),
                    "ValidityStartTime": k.valid_from.map(|t| t.timestamp()),
                    "ValidityEndTime": k.valid_to.map(|t| t.timestamp()),
                    "Fingerprint": k.fingerprint,
                })
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&serde_json::json!({ "PublicKeyList": list }))
            .unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    const REAL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/real/us-west-2-keys.json"
    );

    /// A real us-west-2 CloudTrail key (PKCS#1), fingerprint 59891f10...
    const DOC_KEY: &str = "MIIBCgKCAQEAjLD1zMiStzuqK+9OiypBVrAkB/w9kuakvjezLq9fo1RcT8kF+kBn2gTqdUVOhmBTc192VmuMl2O6/unfzjvVU7V54oqqLKC6KUtzDg9bJ8DAZjGwDp6GsABIAzpiVjXDFY7ONmQV4Pw+fgq4uPVsq7CDWotqj6RqRKfaGdiMoFR8x7m/QYm606A3MLPt9rkK0UdaY5csi0wmf8ZrOTliSwSulnfo/i6DWG8oEll8W1l1I5wUrTXLe3tnlb9JuJR+VV/v92oXRUEVBdasS64rf2mEh0F7+5aYipAT4hpODvXfl7MineMOF0e6zPCLgO75x7FZMCSofsCpB+3xlYEjFwIDAQAB";

    #[test]
    fn real_key_fingerprint_is_md5_of_der() {
        let der = base64::engine::general_purpose::STANDARD
            .decode(DOC_KEY)
            .unwrap();
        assert_eq!(fingerprint_of(&der), "59891f105866667f5e93bf53f54fcbe4");
        assert!(PublicKey::from_der(&der, "59891f105866667f5e93bf53f54fcbe4", None, None).is_ok());
        assert!(matches!(
            PublicKey::from_der(&der, "00000000000000000000000000000000", None, None),
            Err(KeyError::FingerprintMismatch { .. })
        ));
    }

    #[test]
    fn spki_is_accepted_and_converted() {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::pkcs8::EncodePublicKey;
        let der = base64::engine::general_purpose::STANDARD
            .decode(DOC_KEY)
            .unwrap();
        let k = rsa::RsaPublicKey::from_pkcs1_der(&der).unwrap();
        let spki = k.to_public_key_der().unwrap().as_bytes().to_vec();
        assert_eq!(to_pkcs1_der(&spki).unwrap(), der);
        let fp = fingerprint_of(&spki);
        let key = PublicKey::from_der(&spki, &fp, None, None).unwrap();
        assert_eq!(key.pkcs1_der, der);
        assert_eq!(to_pkcs1_der(b"YQo="), Err(KeyError::Undecodable));
    }

    #[test]
    fn real_keys_load_and_verify_a_real_signature() {
        let set = PublicKeySet::from_json(&std::fs::read(REAL).unwrap()).unwrap();
        assert!(set.len() > 50);
        let key = set.get("4a7aa197feec25e9bd0b5e98fcad8ecb").unwrap();
        assert!(key.valid_at(parse_user_time("2020-09-11T19:36:49Z").unwrap()));
        assert!(!key.valid_at(parse_user_time("2020-10-11T19:36:49Z").unwrap()));
        // The real digest's previousDigestSignature is a genuine AWS signature
        // over a message whose SHA-256 is known: a prehash vector.
        let digest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/real/digest-us-west-2-20200911T193649Z.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let sig = hex::decode(digest["previousDigestSignature"].as_str().unwrap()).unwrap();
        let hash = hex::decode("319e53a91ef1dda9b7be58fd02442c2554375841c29439210fb75970a7e2b6ec")
            .unwrap();
        let verify = |hash: &[u8], sig: &[u8]| {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let k = rsa::RsaPublicKey::from_pkcs1_der(&key.pkcs1_der).unwrap();
            k.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), hash, sig)
                .is_ok()
        };
        assert!(verify(&hash, &sig));
        let mut bad = hash.clone();
        bad[0] ^= 1;
        assert!(!verify(&bad, &sig));
        let mut bad = sig.clone();
        bad[10] ^= 0x80;
        assert!(!verify(&hash, &bad));
    }

    #[test]
    fn key_files_round_trip_and_bad_files_are_named() {
        let set = PublicKeySet::from_json(&std::fs::read(REAL).unwrap()).unwrap();
        let again = PublicKeySet::from_json(set.to_json().as_bytes()).unwrap();
        assert_eq!(again.len(), set.len());
        assert!(matches!(
            PublicKeySet::from_json(b"nope"),
            Err(KeyFileError::Json(_))
        ));
        assert_eq!(
            PublicKeySet::from_json(b"{}").unwrap_err(),
            KeyFileError::NoList
        );
        let e = PublicKeySet::from_json(br#"{"PublicKeyList":[{"Value":"!!","Fingerprint":"x"}]}"#)
            .unwrap_err();
        assert!(matches!(e, KeyFileError::Entry { index: 0, .. }));
        let e =
            PublicKeySet::from_json(br#"{"PublicKeyList":[{"Value":"YQo=","Fingerprint":"x"}]}"#)
                .unwrap_err();
        assert!(e.to_string().contains("fingerprint"));
        let rfc = format!(
            r#"{{"PublicKeyList":[{{"Value":"{DOC_KEY}","Fingerprint":"59891f105866667f5e93bf53f54fcbe4","ValidityStartTime":"2015-01-01T00:00:00Z","ValidityEndTime":1440000000}}]}}"#
        );
        let s = PublicKeySet::from_json(rfc.as_bytes()).unwrap();
        assert!(s
            .get("59891f105866667f5e93bf53f54fcbe4")
            .unwrap()
            .valid_from
            .is_some());
    }

    #[test]
    fn keys_of_unsupported_sizes_verify_nothing() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use sha2::{Digest as _, Sha256};
        // A 1024-bit key signs correctly, but CloudTrail's keys are 2048-bit
        // and ring refuses anything shorter: the digest cannot verify.
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let der = private
            .to_public_key()
            .to_pkcs1_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let key = PublicKey::from_der(&der, &fingerprint_of(&der), None, None).unwrap();
        let message = b"2020-01-01T00:00:00Z\nb/k\nhash\nnull";
        let hash = Sha256::digest(message);
        let sig = private
            .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &hash)
            .unwrap();
        assert!(!key.verify(message, &sig));
        // A signature of the wrong length, or empty, never verifies either.
        assert!(!key.verify(message, &sig[1..]));
        assert!(!key.verify(message, &[]));
    }
}
