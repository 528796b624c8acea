//! Detached signatures over report files, checkpoints and manifests, in the
//! form `openssl dgst -sha256 -verify signer.pem -signature FILE.sig FILE`
//! checks: SHA-256 with RSA PKCS#1 v1.5 (2048 bits or more) or ECDSA P-256
//! (DER). An outsider checks them with openssl alone; this checks them the
//! same way without it. Pure: bytes and PEM text in, a verdict out.

use sha2::{Digest, Sha256};

/// The SubjectPublicKeyInfo DER prefix of every P-256 public key (id-ecPublicKey,
/// prime256v1, a 66-byte bit string): the uncompressed point follows.
pub const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Why a signature does not check out, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not a PEM RSA (2048 to 4096 bits) or P-256 public key")]
    Key,
    #[error("the signature does not match the file and the public key")]
    Mismatch,
}

/// A signer's public key: which algorithm, and its SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    /// The uncompressed point (65 bytes).
    P256(Vec<u8>),
}

impl PublicKey {
    /// Reads `-----BEGIN PUBLIC KEY-----` PEM (what `openssl pkey -pubout`
    /// writes, and `signer.pem`).
    pub fn from_pem(text: &str) -> Result<PublicKey, SignatureError> {
        let der = pem_body(text, "PUBLIC KEY").ok_or(SignatureError::Key)?;
        PublicKey::from_der(&der)
    }

    /// Reads a SubjectPublicKeyInfo DER (what KMS GetPublicKey answers).
    pub fn from_der(der: &[u8]) -> Result<PublicKey, SignatureError> {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        if let Some(point) = der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            // An uncompressed point: 0x04 and two 32-byte coordinates.
            return match point.len() == 65 && point[0] == 4 {
                true => Ok(PublicKey::P256(point.to_vec())),
                false => Err(SignatureError::Key),
            };
        }
        let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|_| SignatureError::Key)?;
        match (2048..=4096).contains(&key.n().bits()) {
            true => Ok(PublicKey::Rsa(key)),
            false => Err(SignatureError::Key),
        }
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePublicKey;
        match self {
            PublicKey::Rsa(k) => k
                .to_public_key_der()
                .map(|d| d.as_bytes().to_vec())
                .unwrap_or_default(),
            PublicKey::P256(point) => [&P256_SPKI_PREFIX[..], point].concat(),
        }
    }

    /// The PEM `signer.pem` holds.
    pub fn to_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der())
    }

    /// What reports name the signer by: the SHA-256 of its
    /// SubjectPublicKeyInfo, hex (`openssl pkey -pubin -outform DER |
    /// sha256sum` prints the same).
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.spki_der()))
    }

    /// Checks a detached signature over `bytes`.
    pub fn verify(&self, bytes: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        match self {
            PublicKey::Rsa(k) => {
                let hash = Sha256::digest(bytes);
                k.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hash, signature)
                    .map_err(|_| SignatureError::Mismatch)
            }
            PublicKey::P256(point) => {
                let alg = &ring::signature::ECDSA_P256_SHA256_ASN1;
                ring::signature::UnparsedPublicKey::new(alg, point)
                    .verify(bytes, signature)
                    .map_err(|_| SignatureError::Mismatch)
            }
        }
    }
}

/// The DER inside the first PEM block labelled `label`.
pub fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// DER as PEM, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_p256_key_round_trips_through_pem() {
        let point = [4u8; 65].to_vec();
        let key = PublicKey::P256(point.clone());
        assert_eq!(PublicKey::from_pem(&key.to_pem()), Ok(key.clone()));
        assert_eq!(key.spki_der().len(), 91);
        assert_eq!(PublicKey::from_pem("no pem"), Err(SignatureError::Key));
    }
}
