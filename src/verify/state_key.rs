//! The operator's state key: HMAC-SHA256 over what trailproof writes for
//! itself and reads back later (checkpoints, shard reports, an acquired
//! directory's manifest). Someone who can write the bucket or the directory
//! but does not hold the key cannot edit, forge or swap these files without
//! the next run refusing them. Each purpose has its own domain string, so a
//! MAC made for one kind of file never verifies another.

use ring::hmac;

/// Shortest secret accepted: 256 bits, HMAC-SHA256's block strength.
pub const MIN_KEY_BYTES: usize = 32;

/// What a MAC vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Checkpoint,
    ShardReport,
    Manifest,
}

impl Purpose {
    fn domain(self) -> &'static [u8] {
        match self {
            Purpose::Checkpoint => b"trailproof checkpoint v1\n",
            Purpose::ShardReport => b"trailproof shard report v1\n",
            Purpose::Manifest => b"trailproof acquired manifest v1\n",
        }
    }
}

/// A secret of at least [`MIN_KEY_BYTES`].
pub struct StateKey(hmac::Key);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<secret>)")
    }
}

impl StateKey {
    pub fn from_secret(secret: &[u8]) -> Result<StateKey, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the state key holds {} bytes; it needs at least {MIN_KEY_BYTES} (for example \
                 `head -c 32 /dev/urandom > key`)",
                secret.len()
            ));
        }
        Ok(StateKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    /// The MAC (hex) of `body` for `purpose`.
    pub fn sign(&self, purpose: Purpose, body: &[u8]) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(purpose.domain());
        ctx.update(body);
        hex::encode(ctx.sign().as_ref())
    }

    /// Whether `mac_hex` is the MAC of `body` for `purpose` (constant time).
    pub fn verify(&self, purpose: Purpose, body: &[u8], mac_hex: &str) -> bool {
        let Ok(tag) = hex::decode(mac_hex.trim()) else {
            return false;
        };
        let mut msg = purpose.domain().to_vec();
        msg.extend_from_slice(body);
        hmac::verify(&self.0, &msg, &tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_verifies_only_its_own_body_purpose_and_key() {
        let k = StateKey::from_secret(&[7u8; 32]).unwrap();
        let mac = k.sign(Purpose::Checkpoint, b"body");
        assert!(k.verify(Purpose::Checkpoint, b"body", &mac));
        assert!(!k.verify(Purpose::Checkpoint, b"bodz", &mac));
        assert!(!k.verify(Purpose::ShardReport, b"body", &mac));
        assert!(!k.verify(Purpose::Checkpoint, b"body", "zz"));
        let other = StateKey::from_secret(&[8u8; 32]).unwrap();
        assert!(!other.verify(Purpose::Checkpoint, b"body", &mac));
        assert!(StateKey::from_secret(&[1u8; 31]).is_err());
        assert_eq!(format!("{k:?}"), "StateKey(<secret>)");
    }
}
