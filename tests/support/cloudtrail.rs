//! A CloudTrail JSON 1.1 endpoint for tests (no public emulator answers
//! ListPublicKeys): `X-Amz-Target: CloudTrail_20131101.<Operation>`,
//! `application/x-amz-json-1.1`, epoch-second timestamps, base64 blobs.

#![allow(dead_code)]

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
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
    /// Answer ListPublicKeys queries longer than this with no keys (to
    /// exercise the per-digest second look-up).
    pub max_query_seconds: Option<f64>,
    pub counts: Mutex<HashMap<String, usize>>,
    /// Organizations' ListAccounts answer ({Id, Status}); None: access denied.
    pub accounts: Option<Vec<Value>>,
}

impl CloudTrailState {
    pub fn count(&self, op: &str) -> usize {
        self.counts.lock().unwrap().get(op).copied().unwrap_or(0)
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

fn answer(state: &CloudTrailState, op: &str, req: &Value) -> (u16, Value) {
    *state
        .counts
        .lock()
        .unwrap()
        .entry(op.to_string())
        .or_insert(0) += 1;
    match op {
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
        "GetTrailStatus" => {
            let mut out = json!({ "IsLogging": true });
            if let Some(t) = state.latest_digest_delivery {
                out["LatestDigestDeliveryTime"] = Value::from(t);
            }
            (200, out)
        }
        "LookupEvents" => {
            let wanted = req["LookupAttributes"][0]["AttributeValue"]
                .as_str()
                .unwrap_or("");
            let start = req.get("StartTime").map(epoch).unwrap_or(f64::MIN);
            let end = req.get("EndTime").map(epoch).unwrap_or(f64::MAX);
            let events: Vec<&Value> = state
                .events
                .iter()
                .filter(|e| wanted.is_empty() || e["EventName"] == wanted)
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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            let svc = service_fn(move |req: http::Request<Incoming>| {
                let state = state.clone();
                async move {
                    let target = req
                        .headers()
                        .get("x-amz-target")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    // The Rust SDK sends `CloudTrail_20131101.<Op>`, botocore
                    // `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`.
                    let op = target.rsplit('.').next().unwrap_or("").to_string();
                    let body = super::body_bytes(req).await;
                    let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
                    let (status, out) = answer(&state, &op, &req);
                    Ok::<_, std::convert::Infallible>(
                        http::Response::builder()
                            .status(status)
                            .header("content-type", "application/x-amz-json-1.1")
                            .body(http_body_util::Full::new(bytes::Bytes::from(
                                out.to_string(),
                            )))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    });
    url
}
