//! A time-stamp token's CMS signature, checked when the token arrives: the
//! signer's certificate (by the SignerInfo's identifier, among those the
//! token carries), its signature over the signed attributes as they were
//! signed, the message-digest attribute over the TSTInfo, and the
//! certificate's time-stamping purpose. A garbage or unsigned token is
//! then refused at the run, not found at the auditor's desk. Whether the
//! certificate chains to an authority the auditor trusts stays openssl's
//! `-CAfile` check.

use cms::cert::x509::Certificate;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode, Reader, Tag, TagNumber, Tagged};
use sha2::Digest;

/// Why a token's signature does not stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No signed attributes, message digest or signer certificate.
    Unsigned,
    BadSignature,
    NotTimeStamping,
}

const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
const TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const EC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");

/// Checks the token (`content`: its SignedData as received; `signed`: the
/// same, decoded). Ok(false): a digest, key or signature algorithm this
/// check does not know (RSA-PSS, P-521...), left to openssl.
pub fn check(content: &der::Any, signed: &SignedData, tst_info: &[u8]) -> Result<bool, Refused> {
    let (signer, attrs) = first_signer(content).ok_or(Refused::Unsigned)?;
    let Some(digest) = hash(signer.digest_alg.oid, tst_info) else {
        return Ok(false);
    };
    let stated = signer
        .signed_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or(Refused::Unsigned)?;
    if stated.as_bytes() != digest.as_slice() {
        return Err(Refused::BadSignature);
    }
    let cert = signer_certificate(signed, &signer.sid).ok_or(Refused::Unsigned)?;
    let verified = verify(cert, &signer, &attrs).ok_or(());
    match verified {
        Err(()) => Ok(false),
        Ok(false) => Err(Refused::BadSignature),
        Ok(true) if time_stamping(cert) => Ok(true),
        Ok(true) => Err(Refused::NotTimeStamping),
    }
}

/// The first SignerInfo as received, and its signed attributes as they
/// were signed: their own bytes under a SET tag (decoding sorts a SET OF,
/// and an authority that did not sort its attributes still signed them in
/// its order).
fn first_signer(content: &der::Any) -> Option<(SignerInfo, Vec<u8>)> {
    let mut fields = der::SliceReader::new(content.value()).ok()?;
    let mut last = None;
    while !fields.is_finished() {
        last = Some(der::Any::decode(&mut fields).ok()?);
    }
    let infos = last.filter(|l| l.tag() == Tag::Set)?;
    let first = der::Any::decode(&mut der::SliceReader::new(infos.value()).ok()?).ok()?;
    let signer = SignerInfo::from_der(&first.to_der().ok()?).ok()?;
    let mut parts = der::SliceReader::new(first.value()).ok()?;
    let attrs_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    while !parts.is_finished() {
        let part = der::Any::decode(&mut parts).ok()?;
        if part.tag() == attrs_tag {
            let set = der::Any::new(Tag::Set, part.value()).ok()?;
            return Some((signer, set.to_der().ok()?));
        }
    }
    None
}

fn hash(alg: Oid, bytes: &[u8]) -> Option<Vec<u8>> {
    match alg {
        SHA256 => Some(sha2::Sha256::digest(bytes).to_vec()),
        SHA384 => Some(sha2::Sha384::digest(bytes).to_vec()),
        SHA512 => Some(sha2::Sha512::digest(bytes).to_vec()),
        _ => None,
    }
}

/// The certificate the SignerInfo names, among those the token carries.
fn signer_certificate<'a>(
    signed: &'a SignedData,
    sid: &SignerIdentifier,
) -> Option<&'a Certificate> {
    let certs = signed.certificates.as_ref()?.0.iter();
    let mut certs = certs.filter_map(|c| match c {
        cms::cert::CertificateChoices::Certificate(cert) => Some(cert),
        _ => None,
    });
    certs.find(|cert| match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            cert.tbs_certificate.issuer == id.issuer
                && cert.tbs_certificate.serial_number == id.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => extensions(cert)
            .filter(|e| e.extn_id == SUBJECT_KEY_ID)
            .filter_map(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
            .any(|id| id == ski.0),
    })
}

fn extensions(cert: &Certificate) -> impl Iterator<Item = &cms::cert::x509::ext::Extension> {
    cert.tbs_certificate.extensions.iter().flatten()
}

/// Some(verified) with ring, None for an algorithm it is not given here.
fn verify(cert: &Certificate, signer: &SignerInfo, attrs: &[u8]) -> Option<bool> {
    use ring::signature as s;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<Oid>().ok());
    let digest = signer.digest_alg.oid;
    let alg: &dyn s::VerificationAlgorithm =
        match (spki.algorithm.oid, signer.signature_algorithm.oid) {
            (RSA, RSA | RSA_SHA256) if digest == SHA256 => &s::RSA_PKCS1_2048_8192_SHA256,
            (RSA, RSA | RSA_SHA384) if digest == SHA384 => &s::RSA_PKCS1_2048_8192_SHA384,
            (RSA, RSA | RSA_SHA512) if digest == SHA512 => &s::RSA_PKCS1_2048_8192_SHA512,
            (EC_KEY, ECDSA_SHA256) if curve == Some(P256) => &s::ECDSA_P256_SHA256_ASN1,
            (EC_KEY, ECDSA_SHA384) if curve == Some(P256) => &s::ECDSA_P256_SHA384_ASN1,
            (EC_KEY, ECDSA_SHA256) if curve == Some(P384) => &s::ECDSA_P384_SHA256_ASN1,
            (EC_KEY, ECDSA_SHA384) if curve == Some(P384) => &s::ECDSA_P384_SHA384_ASN1,
            _ => return None,
        };
    let raw = spki.subject_public_key.raw_bytes();
    if !ring_takes(spki.algorithm.oid, raw) {
        return None;
    }
    let key = s::UnparsedPublicKey::new(alg, raw);
    Some(key.verify(attrs, signer.signature.as_bytes()).is_ok())
}

/// Keys ring's verifiers refuse whatever the signature (RSA moduli outside
/// 2048 to 8192 bits, compressed EC points): left to openssl, not called
/// bad.
fn ring_takes(key_alg: Oid, raw: &[u8]) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    match key_alg {
        RSA => rsa::RsaPublicKey::from_pkcs1_der(raw)
            .is_ok_and(|k| (2048..=8192).contains(&k.n().bits())),
        _ => raw.first() == Some(&0x04),
    }
}

fn time_stamping(cert: &Certificate) -> bool {
    extensions(cert)
        .filter(|e| e.extn_id == EXTENDED_KEY_USAGE)
        .filter_map(|e| {
            cms::cert::x509::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok()
        })
        .any(|usage| usage.0.contains(&TIME_STAMPING))
}
