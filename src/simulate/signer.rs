//! The simulator's signing key: RSA-2048 generated at run time, signing the
//! way CloudTrail does (PKCS#1 v1.5 over SHA-256 of the string to sign).

use crate::verify::pubkeys::{fingerprint_of, PublicKey};
use crate::verify::time::Timestamp;
use rsa::pkcs1::EncodeRsaPublicKey;
use sha2::{Digest as _, Sha256};

/// A private key with its CloudTrail-style fingerprint.
#[derive(Clone)]
pub struct Signer {
    key: rsa::RsaPrivateKey,
    der: Vec<u8>,
    pub fingerprint: String,
}

impl Signer {
    /// Generates a fresh 2048-bit key (ring refuses smaller ones).
    pub fn generate() -> Result<Signer, SignError> {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|e| SignError(e.to_string()))?;
        let der = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| SignError(e.to_string()))?
            .as_bytes()
            .to_vec();
        Ok(Signer {
            fingerprint: fingerprint_of(&der),
            key,
            der,
        })
    }

    /// Lowercase hex signature over `message`.
    pub(crate) fn sign_hex(&self, message: &[u8]) -> Result<String, SignError> {
        let hash = Sha256::digest(message);
        self.key
            .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &hash)
            .map(hex::encode)
            .map_err(|e| SignError(e.to_string()))
    }

    /// Signs a digest the way CloudTrail does: over the string to sign built
    /// from its end time, location, inflated bytes and previous signature.
    pub fn sign_digest(
        &self,
        end_raw: &str,
        bucket: &str,
        key: &str,
        inflated: &[u8],
        previous_signature: Option<&str>,
    ) -> Result<String, SignError> {
        let message = crate::verify::digest::string_to_sign(
            end_raw,
            bucket,
            key,
            &crate::verify::digest::sha256_hex(inflated),
            previous_signature,
        );
        self.sign_hex(message.as_bytes())
    }

    /// The public half, valid for the given window, as it goes into a keys file.
    pub fn public_key(&self, from: Timestamp, to: Timestamp) -> PublicKey {
        PublicKey {
            fingerprint: self.fingerprint.clone(),
            pkcs1_der: self.der.clone(),
            valid_from: Some(from),
            valid_to: Some(to),
        }
    }
}

/// A key could not be made or could not sign (the RSA library's words).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SignError(pub String);
