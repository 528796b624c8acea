//! A CloudTrail JSON 1.1 endpoint for tests (no public emulator answers
//! ListPublicKeys): `X-Amz-Target: CloudTrail_20131101.<Operation>`,
//! `application/x-amz-json-1.1`, epoch-second timestamps, base64 blobs.
//! The same endpoint answers what a run asks of the AWS services around
//! the trail: Organizations' ListAccounts, KMS's GenerateMac and VerifyMac
//! (JSON 1.1, `TrentService.<Operation>`), Account's ListRegions (REST
//! JSON, `POST /listRegions`) and STS's GetCallerIdentity (query protocol).

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the endpoint answers with.
#[derive(Default)]
pub struct CloudTrailState {
    /// PublicKeyList entries: {Value (base64), ValidityStartTime, ValidityEndTime (epoch), Fingerprint}.
    pub keys: Vec<Value>,
    /// Trail objects as DescribeTrails returns them.
    pub trails: Vec<Value>,
    /// Events as LookupEvents returns them ({EventName, EventTime, CloudTrailEvent}).
    pub events: Vec<Value>,
    /// Keys per ListPublicKeys page (0 = all).
    pub page_size: usize,
    /// GetTrailStatus's LatestDigestDeliveryTime (epoch seconds).
    pub latest_digest_delivery: Option<f64>,
    /// GetTrailStatus's LatestDigestDeliveryError (delivery failing).
    pub digest_delivery_error: Option<String>,
    /// KMS DescribeKey's KeyState and DeletionDate (epoch seconds) for any
    /// key; None: AccessDenied.
    pub key_state: Option<(String, Option<f64>)>,
    /// Answer ListPublicKeys queries longer than this with no keys (to
    /// exercise the per-digest second look-up).
    pub max_query_seconds: Option<f64>,
    pub counts: Mutex<HashMap<String, usize>>,
    /// Organizations' ListAccounts answer ({Id, Status}); None: access denied.
    pub accounts: Option<Vec<Value>>,
    /// Account's ListRegions answer ({RegionName, RegionOptStatus}); None:
    /// access denied.
    pub regions: Mutex<Option<Vec<Value>>>,
    /// STS GetCallerIdentity's account; None: access denied.
    pub caller_account: Option<String>,
    /// GetEventSelectors' answer; None: every management event, no data
    /// events (a new trail's default).
    pub event_selectors: Mutex<Option<Value>>,
    /// The last request body per operation.
    pub last: Mutex<HashMap<String, Value>>,
    /// KMS Sign's and GetPublicKey's RSA key (PKCS#8 PEM); None: denied.
    pub signing_key: Option<String>,
}

impl CloudTrailState {
    pub fn count(&self, op: &str) -> usize {
        self.counts.lock().unwrap().get(op).copied().unwrap_or(0)
    }

    /// Loads the event history the simulator wrote (`lookup-events.json`,
    /// as the AWS CLI prints it) with epoch times, as they go on the wire.
    pub fn events_from_file(path: &std::path::Path) -> Vec<Value> {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["Events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let at = e["EventTime"].as_str().unwrap();
                let t = trailproof::verify::time::parse_user_time(at).unwrap();
                let mut e = e.clone();
                e["EventTime"] = json!(t.timestamp() as f64);
                e
            })
            .collect()
    }

    /// Loads keys from a keys file (`aws cloudtrail list-public-keys` format).
    pub fn keys_from_file(path: &std::path::Path) -> Vec<Value> {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["PublicKeyList"].as_array().unwrap().clone()
    }
}

fn epoch(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// KMS's HMAC: a secret per key id, so a MAC made under one key never
/// verifies under another.
fn kms_mac(key_id: &str, message_b64: &str) -> Vec<u8> {
    use base64::Engine;
    let message = base64::engine::general_purpose::STANDARD
        .decode(message_b64)
        .unwrap_or_default();
    let secret = ring::digest::digest(&ring::digest::SHA256, key_id.as_bytes());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_ref());
    ring::hmac::sign(&key, &message).as_ref().to_vec()
}

fn kms(op: &str, req: &Value) -> (u16, Value) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key_id = req["KeyId"].as_str().unwrap_or("");
    if key_id.contains("denied") {
        return (
            400,
            json!({"__type": "AccessDeniedException", "message": format!("not authorized to use {key_id}")}),
        );
    }
    let mac = kms_mac(key_id, req["Message"].as_str().unwrap_or(""));
    if op == "GenerateMac" {
        return (
            200,
            json!({"KeyId": key_id, "Mac": b64.encode(mac), "MacAlgorithm": "HMAC_SHA_256"}),
        );
    }
    let given = b64
        .decode(req["Mac"].as_str().unwrap_or(""))
        .unwrap_or_default();
    if given != mac {
        return (
            400,
            json!({"__type": "KMSInvalidMacException", "message": "invalid MAC"}),
        );
    }
    (
        200,
        json!({"KeyId": key_id, "MacValid": true, "MacAlgorithm": "HMAC_SHA_256"}),
    )
}

/// KMS GetPublicKey and Sign (MessageType DIGEST, RSASSA_PKCS1_V1_5_SHA_256)
/// with the state's RSA signing key; no key: access denied.
fn kms_sign(state: &CloudTrailState, op: &str, req: &Value) -> (u16, Value) {
    use base64::Engine;
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key_id = req["KeyId"].clone();
    let key = state
        .signing_key
        .as_deref()
        .and_then(|pem| rsa::RsaPrivateKey::from_pkcs8_pem(pem).ok());
    let Some(key) = key else {
        let denied = format!("not authorized to perform kms:{op}");
        return (
            400,
            json!({"__type": "AccessDeniedException", "message": denied}),
        );
    };
    if op == "GetPublicKey" {
        let der = rsa::RsaPublicKey::from(&key).to_public_key_der().unwrap();
        return (
            200,
            json!({"KeyId": key_id, "PublicKey": b64.encode(der.as_bytes()),
                   "KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY",
                   "SigningAlgorithms": ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"]}),
        );
    }
    let digest = b64
        .decode(req["Message"].as_str().unwrap_or(""))
        .unwrap_or_default();
    if req["MessageType"] != "DIGEST" || digest.len() != 32 {
        return (
            400,
            json!({"__type": "ValidationException", "message": "a SHA-256 DIGEST"}),
        );
    }
    let sig = key
        .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
        .unwrap();
    (
        200,
        json!({"KeyId": key_id, "Signature": b64.encode(sig),
               "SigningAlgorithm": req["SigningAlgorithm"]}),
    )
}

fn answer(state: &CloudTrailState, op: &str, req: &Value) -> (u16, Value) {
    *state
        .counts
        .lock()
        .unwrap()
        .entry(op.to_string())
        .or_insert(0) += 1;
    state
        .last
        .lock()
        .unwrap()
        .insert(op.to_string(), req.clone());
    match op {
        "GenerateMac" | "VerifyMac" => kms(op, req),
        "GetPublicKey" | "Sign" => kms_sign(state, op, req),
        "DescribeKey" => match &state.key_state {
            Some((s, deletion)) => {
                let mut meta = json!({"KeyId": req["KeyId"], "KeyState": s});
                if let Some(d) = deletion {
                    meta["DeletionDate"] = Value::from(*d);
                }
                (200, json!({ "KeyMetadata": meta }))
            }
            None => (
                400,
                json!({"__type": "AccessDeniedException", "message": "not authorized to perform kms:DescribeKey"}),
            ),
        },
        "ListRegions" => match &*state.regions.lock().unwrap() {
            Some(r) => (200, json!({ "Regions": r })),
            None => (
                403,
                json!({"__type": "AccessDeniedException", "message": "not authorized to perform account:ListRegions"}),
            ),
        },
        "ListPublicKeys" => {
            let start = req.get("StartTime").map(epoch).unwrap_or(f64::MIN);
            let end = req.get("EndTime").map(epoch).unwrap_or(f64::MAX);
            let too_long = state.max_query_seconds.is_some_and(|m| end - start > m);
            let matching: Vec<&Value> = state
                .keys
                .iter()
                .filter(|_| !too_long)
                .filter(|k| {
                    epoch(&k["ValidityStartTime"]) <= end && epoch(&k["ValidityEndTime"]) >= start
                })
                .collect();
            let from: usize = req
                .get("NextToken")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let size = if state.page_size == 0 {
                usize::MAX
            } else {
                state.page_size
            };
            let page: Vec<&Value> = matching.iter().skip(from).take(size).copied().collect();
            let mut out = json!({ "PublicKeyList": page });
            if from.saturating_add(size) < matching.len() {
                out["NextToken"] = Value::from((from + size).to_string());
            }
            (200, out)
        }
        "DescribeTrails" => {
            let names: Vec<&str> = req
                .get("trailNameList")
                .and_then(|l| l.as_array())
                .map(|l| l.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let list: Vec<&Value> = state
                .trails
                .iter()
                .filter(|t| {
                    names.is_empty() || names.iter().any(|n| t["TrailARN"] == *n || t["Name"] == *n)
                })
                .collect();
            (200, json!({ "trailList": list }))
        }
        "GetTrail" => {
            let name = req.get("Name").and_then(|n| n.as_str()).unwrap_or("");
            match state
                .trails
                .iter()
                .find(|t| t["TrailARN"] == name || t["Name"] == name)
            {
                Some(t) => (200, json!({ "Trail": t })),
                None => (
                    400,
                    json!({"__type": "TrailNotFoundException", "message": format!("Unknown trail: {name}")}),
                ),
            }
        }
        "GetEventSelectors" => {
            let trail = req.get("TrailName").cloned().unwrap_or_default();
            let mut out = state.event_selectors.lock().unwrap().clone().unwrap_or_else(|| {
                json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
                                           "DataResources": [], "ExcludeManagementEventSources": []}]})
            });
            out["TrailARN"] = trail;
            (200, out)
        }
        "GetTrailStatus" => {
            let mut out = json!({ "IsLogging": true });
            if let Some(t) = state.latest_digest_delivery {
                out["LatestDigestDeliveryTime"] = Value::from(t);
            }
            if let Some(e) = &state.digest_delivery_error {
                out["LatestDigestDeliveryError"] = Value::from(e.as_str());
            }
            (200, out)
        }
        "LookupEvents" => {
            let wanted = req["LookupAttributes"][0]["AttributeValue"]
                .as_str()
                .unwrap_or("");
            // `ReadOnly = false`: the write events, whatever their name.
            let field = match req["LookupAttributes"][0]["AttributeKey"].as_str() {
                Some("ReadOnly") => "ReadOnly",
                Some("ResourceName") => "ResourceName",
                _ => "EventName",
            };
            let named = |e: &Value| match field {
                "ResourceName" => e["Resources"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|r| r["ResourceName"] == wanted)),
                _ => e[field] == wanted,
            };
            let start = req.get("StartTime").map(epoch).unwrap_or(f64::MIN);
            let end = req.get("EndTime").map(epoch).unwrap_or(f64::MAX);
            let events: Vec<&Value> = state
                .events
                .iter()
                .filter(|e| wanted.is_empty() || named(e))
                .filter(|e| epoch(&e["EventTime"]) >= start && epoch(&e["EventTime"]) <= end)
                .collect();
            (200, json!({ "Events": events }))
        }
        "ListAccounts" => match &state.accounts {
            Some(a) => (200, json!({ "Accounts": a })),
            None => (
                400,
                json!({"__type": "AccessDeniedException", "Message": "not authorized to perform organizations:ListAccounts"}),
            ),
        },
        _ => (
            400,
            json!({"__type": "UnknownOperationException", "message": format!("unknown operation {op}")}),
        ),
    }
}

/// Starts the endpoint on 127.0.0.1:0; returns its URL.
pub async fn start(state: Arc<CloudTrailState>) -> String {
    start_on(state, 0).await
}

/// Starts the endpoint on 127.0.0.1:`port` (0 = any); returns its URL.
pub async fn start_on(state: Arc<CloudTrailState>, port: u16) -> String {
    let (listener, url) = super::bind(port).await;
    super::serve_each(listener, move |req| {
        let state = state.clone();
        async move {
            let target = super::amz_target(&req);
            // The Rust SDK sends `CloudTrail_20131101.<Op>`, botocore
            // `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`.
            let mut op = target.rsplit('.').next().unwrap_or("").to_string();
            if req.uri().path() == "/listRegions" {
                op = "ListRegions".into();
            }
            let body = super::body_bytes(req).await;
            if body.starts_with(b"Action=GetCallerIdentity") {
                return sts_caller(&state);
            }
            let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            let (status, out) = answer(&state, &op, &req);
            http::Response::builder()
                .status(status)
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amzn-requestid", format!("test-{op}"))
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    out.to_string(),
                )))
                .unwrap()
        }
    });
    url
}

/// STS GetCallerIdentity as the state's caller (none: access denied).
fn sts_caller(state: &CloudTrailState) -> super::Answer {
    super::sts_caller(state.caller_account.as_deref())
}
