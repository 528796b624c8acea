//! RFC 3161 time-stamp requests and answers, without I/O: the request for
//! a file's SHA-256, and the checks that the answer is a granted token over
//! that hash and this request's nonce. Whether the authority is one to
//! trust is the verifier's call (`openssl ts -verify -CAfile ROOT`): a
//! token only moves the proof of time from the operator's clock to a
//! party the auditor chooses.

use cms::signed_data::SignedData;
use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode, Reader, Tag, Tagged};

use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

const SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Why an authority's answer is not a token for the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    #[error("the answer is not an RFC 3161 TimeStampResp")]
    NotResponse,
    #[error("the authority refused the request (PKIStatus {status}{text})")]
    Refused { status: u8, text: String },
    #[error("the answer carries no token")]
    NoToken,
    #[error("the token is not CMS SignedData over a TSTInfo")]
    NotToken,
    #[error("the token stamps another hash than the file's")]
    OtherHash,
    #[error("the token answers another request (its nonce is not this request's)")]
    OtherNonce,
    #[error(
        "the token carries no signed attributes or no certificate to check its signature with"
    )]
    Unsigned,
    #[error("the token's signature does not verify with the certificate it carries")]
    BadSignature,
    #[error(
        "the token's certificate is not for time-stamping (no timeStamping extended key usage)"
    )]
    NotTimeStamping,
}

/// What a granted token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The authority's time (genTime).
    pub time: crate::verify::time::Timestamp,
    /// The token's serial number, hex.
    pub serial: String,
    pub policy: String,
    /// The authority's name as the token gives it, if it does.
    pub authority: Option<String>,
    /// Whether the token's signature was checked here against the
    /// certificate it carries (false: an algorithm left to openssl).
    pub signature_checked: bool,
}

/// A request for `sha256`, asking for the authority's certificate in the
/// token so `openssl ts -verify` needs only the root. `nonce` is random
/// bytes; its first byte is kept in 0x01..=0x7f (a positive, minimal
/// INTEGER).
pub fn request(sha256: &[u8; 32], nonce: &[u8; 8]) -> Option<Vec<u8>> {
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: imprint(sha256)?,
        req_policy: None,
        nonce: Some(nonce_int(nonce)?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().ok()
}

fn imprint(sha256: &[u8; 32]) -> Option<MessageImprint> {
    Some(MessageImprint {
        hash_algorithm: cms::cert::x509::spki::AlgorithmIdentifier {
            oid: SHA256,
            // openssl's own requests carry NULL parameters; some
            // authorities refuse a request without them.
            parameters: Some(der::Any::null()),
        },
        hashed_message: OctetString::new(sha256.to_vec()).ok()?,
    })
}

fn nonce_int(nonce: &[u8; 8]) -> Option<Int> {
    let mut n = *nonce;
    n[0] = (n[0] & 0x7f).max(1);
    Int::new(&n).ok()
}

/// Checks an authority's answer (DER) to `request(sha256, nonce)`.
pub fn check(answer: &[u8], sha256: &[u8; 32], nonce: &[u8; 8]) -> Result<Stamp, StampError> {
    let resp = TimeStampResp::from_der(answer).map_err(|_| StampError::NotResponse)?;
    let status = resp.status.status as u8;
    if status > 1 {
        let text = resp
            .status
            .status_string
            .as_ref()
            .and_then(|t| t.iter().next().map(|s| format!(": {}", s.as_str())))
            // The authority's words reach a terminal: no control characters.
            .map(|t| t.chars().filter(|c| !c.is_control()).collect())
            .unwrap_or_default();
        return Err(StampError::Refused { status, text });
    }
    let token = resp.time_stamp_token.ok_or(StampError::NoToken)?;
    if token.content_type != SIGNED_DATA {
        return Err(StampError::NotToken);
    }
    let signed: SignedData = token
        .content
        .decode_as()
        .map_err(|_| StampError::NotToken)?;
    let encap = &signed.encap_content_info;
    let econtent = encap
        .econtent
        .as_ref()
        .filter(|_| encap.econtent_type == TST_INFO);
    let octets: OctetString = econtent
        .and_then(|e| e.decode_as().ok())
        .ok_or(StampError::NotToken)?;
    let info = read_info(octets.as_bytes()).ok_or(StampError::NotToken)?;
    if info.hash_algorithm != SHA256 || info.hashed_message != sha256 {
        return Err(StampError::OtherHash);
    }
    let ours = nonce_int(nonce).ok_or(StampError::OtherNonce)?;
    if info.nonce.as_deref() != Some(ours.as_bytes()) {
        return Err(StampError::OtherNonce);
    }
    use crate::verify::cms_signature::{check as signed_by, Refused};
    let signature_checked =
        signed_by(&token.content, &signed, octets.as_bytes()).map_err(|r| match r {
            Refused::Unsigned => StampError::Unsigned,
            Refused::BadSignature => StampError::BadSignature,
            Refused::NotTimeStamping => StampError::NotTimeStamping,
        })?;
    Ok(Stamp {
        time: info.time,
        serial: hex::encode(&info.serial),
        policy: info.policy.to_string(),
        authority: info.authority,
        signature_checked,
    })
}

/// What the check needs of a TSTInfo.
struct Info {
    policy: ObjectIdentifier,
    hash_algorithm: ObjectIdentifier,
    hashed_message: Vec<u8>,
    serial: Vec<u8>,
    time: crate::verify::time::Timestamp,
    nonce: Option<Vec<u8>>,
    authority: Option<String>,
}

/// TSTInfo, read field by field: genTime may carry fractional seconds
/// (RFC 3161 allows them; Microsoft's authority sends milliseconds), which
/// a strict DER GeneralizedTime refuses; accuracy, ordering and
/// extensions are not needed.
fn read_info(der: &[u8]) -> Option<Info> {
    let mut outer = der::SliceReader::new(der).ok()?;
    let info = outer
        .sequence(|r| {
            let _version = Int::decode(r)?;
            let policy = ObjectIdentifier::decode(r)?;
            let imprint = MessageImprint::decode(r)?;
            let serial = Int::decode(r)?;
            let time = der::Any::decode(r)?;
            let (mut nonce, mut authority) = (None, None);
            while !r.is_finished() {
                let field = der::Any::decode(r)?;
                match field.tag() {
                    Tag::Integer => nonce = Some(field.value().to_vec()),
                    Tag::ContextSpecific { number, .. } if number.value() == 0 => {
                        authority = GeneralName::from_der(field.value())
                            .ok()
                            .map(|n| authority_name(&n));
                    }
                    _ => {}
                }
            }
            Ok((policy, imprint, serial, time, nonce, authority))
        })
        .ok()?;
    let (policy, imprint, serial, time, nonce, authority) = info;
    let time = (time.tag() == Tag::GeneralizedTime)
        .then(|| generalized_time(time.value()))
        .flatten()?;
    Some(Info {
        policy,
        hash_algorithm: imprint.hash_algorithm.oid,
        hashed_message: imprint.hashed_message.as_bytes().to_vec(),
        serial: serial.as_bytes().to_vec(),
        time,
        nonce,
        authority,
    })
}

use cms::cert::x509::ext::pkix::name::GeneralName;

/// `YYYYMMDDHHMMSS[.fraction]Z`, to the second.
fn generalized_time(bytes: &[u8]) -> Option<crate::verify::time::Timestamp> {
    let text = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    if whole.len() != 14 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = chrono::NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    Some(t.and_utc())
}

fn authority_name(name: &GeneralName) -> String {
    match name {
        GeneralName::DirectoryName(n) => n.to_string(),
        GeneralName::DnsName(n) => n.to_string(),
        GeneralName::UniformResourceIdentifier(n) => n.to_string(),
        _ => "(a name of another form)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_der_with_the_hash_and_a_positive_nonce() {
        let req = request(&[7; 32], &[0xff; 8]).expect("encodes");
        let back = TimeStampReq::from_der(&req).expect("decodes");
        assert_eq!(back.message_imprint.hashed_message.as_bytes(), &[7; 32]);
        assert!(back.cert_req);
        let n = back.nonce.expect("nonce");
        assert_eq!(n.as_bytes()[0], 0x7f);
    }

    #[test]
    fn generalized_time_with_and_without_fractions() {
        let t = |s: &str| generalized_time(s.as_bytes()).map(crate::verify::time::display);
        assert_eq!(
            t("20260307082234Z").as_deref(),
            Some("2026-03-07T08:22:34Z")
        );
        assert_eq!(
            t("20260307082234.591Z").as_deref(),
            Some("2026-03-07T08:22:34Z")
        );
        for bad in [
            "20260307082234",
            "2026030708223Z",
            "20260307082234.5aZ",
            "2026130708223.1Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_is_no_answer() {
        assert_eq!(
            check(b"<html>", &[0; 32], &[1; 8]),
            Err(StampError::NotResponse)
        );
        assert_eq!(check(&[], &[0; 32], &[1; 8]), Err(StampError::NotResponse));
    }
}
