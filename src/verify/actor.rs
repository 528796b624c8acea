//! Who made a call, as its CloudTrail record says: the people in the
//! story as values (ARN, identity type, access key and its kind, MFA,
//! address, agent, time, event id), not only words. Pure.

use crate::verify::time::{parse_user_time, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of access key a call was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// AKIA: an IAM user's (or root's) long-lived key.
    LongLived,
    /// ASIA: temporary credentials (an assumed role, a session).
    Temporary,
}

/// The caller of one recorded call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Actor {
    pub arn: Option<String>,
    /// `userIdentity.type`: IAMUser, AssumedRole, Root, AWSService, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub access_key_id: Option<String>,
    pub credential: Option<Credential>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub mfa: Option<bool>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub time: Option<Timestamp>,
    pub event_id: Option<String>,
}

/// The caller a record names.
pub fn of_record(rec: &Value) -> Actor {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let identity = rec.get("userIdentity");
    let id = |k: &str| text(identity.and_then(|u| u.get(k)));
    let key = id("accessKeyId");
    Actor {
        arn: id("arn").or_else(|| id("invokedBy")),
        kind: id("type"),
        credential: key.as_deref().and_then(credential),
        access_key_id: key,
        mfa: identity
            .and_then(|u| u.pointer("/sessionContext/attributes/mfaAuthenticated"))
            .and_then(Value::as_str)
            .map(|m| m.eq_ignore_ascii_case("true")),
        source_ip: text(rec.get("sourceIPAddress")),
        user_agent: text(rec.get("userAgent")),
        time: text(rec.get("eventTime")).and_then(|t| parse_user_time(&t).ok()),
        event_id: text(rec.get("eventID")),
    }
}

fn credential(key_id: &str) -> Option<Credential> {
    match key_id.get(..4) {
        Some("AKIA") => Some(Credential::LongLived),
        Some("ASIA") => Some(Credential::Temporary),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_caller() {
        let rec = serde_json::json!({
            "eventTime": "2026-03-01T01:00:00Z", "eventID": "e", "sourceIPAddress": "192.0.2.1",
            "userAgent": "aws-cli/2", "userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/r/s", "accessKeyId": "ASIAX",
            "sessionContext": {"attributes": {"mfaAuthenticated": "true"}}},
        });
        let a = of_record(&rec);
        assert_eq!(a.credential, Some(Credential::Temporary));
        assert_eq!(
            (a.mfa, a.kind.as_deref()),
            (Some(true), Some("AssumedRole"))
        );
        assert_eq!(of_record(&serde_json::json!({})), Actor::default());
    }
}
