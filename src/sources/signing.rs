//! `--signing-key file:PATH`: the operator's private key (PEM, RSA 2048+
//! or ECDSA P-256) that signs every report file, checkpoint and manifest
//! the run writes, so an outsider can check them with openssl and the
//! public key alone (the HMAC state key lets whoever checks also forge).

use crate::verify::signature::{pem_body, PublicKey};
use sha2::{Digest, Sha256};

/// Why the signing key cannot be used (exit 2, one sentence).
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("cannot read the signing key {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error(
        "the signing key {path} is not an unencrypted PEM RSA (2048, 3072 or 4096 bits, exponent 65537) \
         or P-256 private key: convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem`"
    )]
    Unusable { path: String },
    #[error(
        "--signing-key takes file:PATH (a PEM private key) or the ARN of a KMS SIGN_VERIFY \
         key, not {0:?}"
    )]
    Form(String),
    #[error("--signing-key: {0}")]
    Kms(String),
    #[error(
        "--signing-key {0}: the KMS key must be an RSA (2048 bits or more) or ECC_NIST_P256 \
         SIGN_VERIFY key offering RSASSA_PKCS1_V1_5_SHA_256 or ECDSA_SHA_256"
    )]
    KmsKeySpec(String),
}

/// Signing failed (the key or the system's randomness).
#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SigningFailed(String);

enum Key {
    Rsa(ring::signature::RsaKeyPair),
    P256(ring::signature::EcdsaKeyPair),
    /// An asymmetric KMS key: the private key never leaves KMS, and each
    /// signature is a CloudTrail event of its own.
    Kms {
        key: crate::sources::kms::KmsKey,
        algorithm: &'static str,
    },
}

/// A private key that signs, with its public half.
pub struct Signer {
    key: Key,
    public: PublicKey,
    /// The key file's canonical path (never written over).
    path: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.public.fingerprint())
    }
}

impl Signer {
    /// `file:PATH`, or a KMS key ARN opened with the run's profile and
    /// endpoint (its public key is asked for now: a key that cannot sign
    /// is the operator's mistake, found before the run).
    pub fn from_arg(
        arg: &str,
        profile: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<Signer, SigningKeyError> {
        if arg.starts_with("arn:") {
            return Signer::kms(arg, profile, endpoint_url);
        }
        let path = arg
            .strip_prefix("file:")
            .ok_or_else(|| SigningKeyError::Form(arg.to_string()))?;
        let text = std::fs::read_to_string(path).map_err(|e| SigningKeyError::Unreadable {
            path: path.to_string(),
            why: e.to_string(),
        })?;
        let unusable = || SigningKeyError::Unusable {
            path: path.to_string(),
        };
        let mut signer = Signer::from_pem(&text).ok_or_else(unusable)?;
        signer.path = std::path::Path::new(path).canonicalize().ok();
        Ok(signer)
    }

    /// The key file, for a PEM key.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    /// PKCS#8 (`BEGIN PRIVATE KEY`, RSA or P-256) or PKCS#1 (`BEGIN RSA
    /// PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Option<Signer> {
        // ring signs (constant-time, blinded); it takes RSA keys of 2048 to
        // 4096 bits, the range the checking side accepts.
        let pair = match (
            pem_body(text, "PRIVATE KEY"),
            pem_body(text, "RSA PRIVATE KEY"),
        ) {
            (Some(der), _) => match ring::signature::RsaKeyPair::from_pkcs8(&der) {
                Ok(k) => k,
                Err(_) => return Signer::p256(&der),
            },
            (None, Some(der)) => ring::signature::RsaKeyPair::from_der(&der).ok()?,
            (None, None) => return None,
        };
        use ring::signature::KeyPair;
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let public = rsa::RsaPublicKey::from_pkcs1_der(pair.public_key().as_ref()).ok()?;
        (2048..=4096).contains(&public.n().bits()).then(|| Signer {
            key: Key::Rsa(pair),
            public: PublicKey::Rsa(public),
            path: None,
        })
    }

    fn kms(
        arn: &str,
        profile: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<Signer, SigningKeyError> {
        let failed = |e: crate::verify::state_key::KeyError| SigningKeyError::Kms(e.to_string());
        let key = crate::sources::kms::KmsKey::open(arn, profile, endpoint_url).map_err(failed)?;
        let (der, offered) = key.public_key().map_err(failed)?;
        let spec = || SigningKeyError::KmsKeySpec(arn.to_string());
        let public = PublicKey::from_der(&der).map_err(|_| spec())?;
        let algorithm = match &public {
            PublicKey::Rsa(_) => "RSASSA_PKCS1_V1_5_SHA_256",
            PublicKey::P256(_) => "ECDSA_SHA_256",
        };
        if !offered.iter().any(|a| a == algorithm) {
            return Err(spec());
        }
        Ok(Signer {
            key: Key::Kms { key, algorithm },
            public,
            path: None,
        })
    }

    fn p256(der: &[u8]) -> Option<Signer> {
        use ring::signature::KeyPair;
        let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, der, &rng).ok()?;
        let point = pair.public_key().as_ref().to_vec();
        Some(Signer {
            key: Key::P256(pair),
            public: PublicKey::P256(point),
            path: None,
        })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// A detached signature over `bytes` (DER for ECDSA), as openssl writes.
    pub fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>, SigningFailed> {
        match &self.key {
            Key::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                let alg = &ring::signature::RSA_PKCS1_SHA256;
                pair.sign(alg, &rng, bytes, &mut sig)
                    .map(|_| sig)
                    .map_err(|_| SigningFailed("RSA".to_string()))
            }
            Key::P256(pair) => pair
                .sign(&ring::rand::SystemRandom::new(), bytes)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SigningFailed("ECDSA P-256".to_string())),
            Key::Kms { key, algorithm } => key
                .sign_digest(&Sha256::digest(bytes), algorithm)
                .map_err(|e| SigningFailed(e.to_string())),
        }
    }
}
