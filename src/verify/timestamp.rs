//! RFC 3161 time-stamp requests and answers, without I/O: the request for
//! a file's SHA-256, and the checks that the answer is a granted token over
//! that hash and this request's nonce. Whether the authority is one to
//! trust is the verifier's call (`openssl ts -verify -CAfile ROOT`): a
//! token only moves the proof of time from the operator's clock to a
//! party the auditor chooses.

use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

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
            .unwrap_or_default();
        return Err(StampError::Refused { status, text });
    }
    let token = resp.time_stamp_token.ok_or(StampError::NoToken)?;
    let info = tst_info(&token).ok_or(StampError::NotToken)?;
    if info.message_imprint.hash_algorithm.oid != SHA256
        || info.message_imprint.hashed_message.as_bytes() != sha256
    {
        return Err(StampError::OtherHash);
    }
    if info.nonce.is_none() || info.nonce != nonce_int(nonce) {
        return Err(StampError::OtherNonce);
    }
    let since_epoch = info.gen_time.to_unix_duration();
    let time = chrono::DateTime::from_timestamp(since_epoch.as_secs() as i64, 0)
        .ok_or(StampError::NotToken)?;
    Ok(Stamp {
        time,
        serial: hex::encode(info.serial_number.as_bytes()),
        policy: info.policy.to_string(),
        authority: info.tsa.as_ref().map(authority_name),
    })
}

fn tst_info(token: &cms::content_info::ContentInfo) -> Option<TstInfo> {
    if token.content_type != SIGNED_DATA {
        return None;
    }
    let signed: cms::signed_data::SignedData = token.content.decode_as().ok()?;
    let encap = signed.encap_content_info;
    if encap.econtent_type != TST_INFO {
        return None;
    }
    let octets: OctetString = encap.econtent?.decode_as().ok()?;
    TstInfo::from_der(octets.as_bytes()).ok()
}

fn authority_name(name: &cms::cert::x509::ext::pkix::name::GeneralName) -> String {
    use cms::cert::x509::ext::pkix::name::GeneralName;
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
    fn garbage_is_no_answer() {
        assert_eq!(
            check(b"<html>", &[0; 32], &[1; 8]),
            Err(StampError::NotResponse)
        );
        assert_eq!(check(&[], &[0; 32], &[1; 8]), Err(StampError::NotResponse));
    }
}
