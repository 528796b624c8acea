//! The operator's state key: HMAC-SHA256 over what trailproof writes for
//! itself and reads back later (checkpoints, shard reports, an acquired
//! directory's manifest). Someone who can write the bucket or the directory
//! but does not hold the key cannot edit, forge or swap these files without
//! the next run refusing them. Each purpose has its own domain string, so a
//! MAC made for one kind of file never verifies another.
//!
//! The key is a secret file's bytes (`SecretKey`) or an AWS KMS HMAC key
//! (`sources::kms`, where the secret never leaves KMS and every MAC made is
//! a CloudTrail event of its own); both answer through [`StateKey`].

use ring::hmac;

/// Why a MAC could not be made or checked (KMS unreachable, access denied):
/// an operational error, never a verdict on the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// What checkpoints, shard reports and acquired manifests are sealed with.
pub trait StateKey: Send + Sync + std::fmt::Debug {
    /// The MAC (hex) of `body` for `purpose`.
    fn sign(&self, purpose: Purpose, body: &[u8]) -> Result<String, KeyError>;
    /// Whether `mac_hex` is the MAC of `body` for `purpose`.
    fn verify(&self, purpose: Purpose, body: &[u8], mac_hex: &str) -> Result<bool, KeyError>;
    /// What the key is, for the report (never the secret).
    fn describe(&self) -> String;
}

/// Shortest secret accepted: 256 bits, HMAC-SHA256's block strength.
pub(crate) const MIN_KEY_BYTES: usize = 32;

/// What a MAC vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Checkpoint,
    ShardReport,
    Manifest,
}

impl Purpose {
    /// What a key that takes at most a few KiB (KMS GenerateMac takes
    /// 4,096 bytes) MACs: the domain string and the body's SHA-256.
    pub(crate) fn short_message(self, body: &[u8]) -> Vec<u8> {
        let mut m = self.domain().to_vec();
        m.extend_from_slice(b"sha256:");
        m.extend_from_slice(crate::verify::digest::sha256_hex(body).as_bytes());
        m
    }

    fn domain(self) -> &'static [u8] {
        match self {
            Purpose::Checkpoint => b"trailproof checkpoint v1\n",
            Purpose::ShardReport => b"trailproof shard report v1\n",
            Purpose::Manifest => b"trailproof acquired manifest v1\n",
        }
    }
}

/// A secret of at least [`MIN_KEY_BYTES`].
pub(crate) struct SecretKey(hmac::Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<secret>)")
    }
}

/// A secret too short to be a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the state key holds {0} bytes; it needs at least {MIN_KEY_BYTES} (for example \
     `head -c 32 /dev/urandom > key`)"
)]
pub(crate) struct ShortSecret(pub usize);

impl SecretKey {
    pub(crate) fn from_secret(secret: &[u8]) -> Result<SecretKey, ShortSecret> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(ShortSecret(secret.len()));
        }
        Ok(SecretKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

impl StateKey for SecretKey {
    fn sign(&self, purpose: Purpose, body: &[u8]) -> Result<String, KeyError> {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(purpose.domain());
        ctx.update(body);
        Ok(hex::encode(ctx.sign().as_ref()))
    }

    /// Constant time.
    fn verify(&self, purpose: Purpose, body: &[u8], mac_hex: &str) -> Result<bool, KeyError> {
        let Ok(tag) = hex::decode(mac_hex.trim()) else {
            return Ok(false);
        };
        let mut msg = purpose.domain().to_vec();
        msg.extend_from_slice(body);
        Ok(hmac::verify(&self.0, &msg, &tag).is_ok())
    }

    fn describe(&self) -> String {
        "the operator's secret key file (HMAC-SHA256)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_verifies_only_its_own_body_purpose_and_key() {
        let k = SecretKey::from_secret(&[7u8; 32]).unwrap();
        let mac = k.sign(Purpose::Checkpoint, b"body").unwrap();
        let ok = |k: &SecretKey, p, b: &[u8], m: &str| k.verify(p, b, m).unwrap();
        assert!(ok(&k, Purpose::Checkpoint, b"body", &mac));
        assert!(!ok(&k, Purpose::Checkpoint, b"bodz", &mac));
        assert!(!ok(&k, Purpose::ShardReport, b"body", &mac));
        assert!(!ok(&k, Purpose::Checkpoint, b"body", "zz"));
        let other = SecretKey::from_secret(&[8u8; 32]).unwrap();
        assert!(!ok(&other, Purpose::Checkpoint, b"body", &mac));
        assert!(SecretKey::from_secret(&[1u8; 31]).is_err());
        let short = Purpose::Manifest.short_message(&[0u8; 1 << 20]);
        assert!(short.len() < 200);
        assert_ne!(short, Purpose::Checkpoint.short_message(&[0u8; 1 << 20]));
        assert_eq!(format!("{k:?}"), "StateKey(<secret>)");
    }
}
