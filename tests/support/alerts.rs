//! The services a run reports to, on 127.0.0.1, each in its own
//! protocol as the SDK speaks it: SNS Publish (query protocol, XML
//! answers), EventBridge PutEvents (JSON 1.1, `AWSEvents.PutEvents`),
//! Security Hub BatchImportFindings (REST JSON, `POST /findings/import`)
//! and STS GetCallerIdentity (whose account the import is from). Each can
//! throttle its first answers, as the services do under load.

#![allow(dead_code)]

use super::Answer;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the endpoint answers, and what it was sent.
#[derive(Default)]
pub struct AlertsState {
    /// STS's caller account (None: access denied).
    pub caller_account: Option<String>,
    /// Requests answered "throttled" before the first real answer, by
    /// service: `sns`, `events`, `securityhub`.
    pub throttle: Mutex<HashMap<&'static str, usize>>,
    /// PutEvents answers with the entry throttled inside a 200.
    pub entry_throttles: Mutex<usize>,
    /// Refuse every request of these services (access denied).
    pub deny: Vec<&'static str>,
    /// Security Hub refuses findings whose Id contains this.
    pub refuse_ids: Option<String>,
    /// SNS Publish's form fields, one map a message.
    pub published: Mutex<Vec<HashMap<String, String>>>,
    /// PutEvents' entries.
    pub events: Mutex<Vec<Value>>,
    /// BatchImportFindings' batches.
    pub imports: Mutex<Vec<Vec<Value>>>,
    /// Requests by service, throttled ones included.
    pub requests: Mutex<HashMap<&'static str, usize>>,
    /// Every request's service, in the order they came.
    pub order: Mutex<Vec<&'static str>>,
    /// Security Hub answers its Nth request (from 1) InvalidInput, 400.
    pub fail_import: Option<usize>,
}

impl AlertsState {
    pub fn requests(&self, service: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .get(service)
            .copied()
            .unwrap_or(0)
    }

    fn throttled(&self, service: &'static str) -> bool {
        *self.requests.lock().unwrap().entry(service).or_insert(0) += 1;
        self.order.lock().unwrap().push(service);
        let mut t = self.throttle.lock().unwrap();
        match t.get_mut(service) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

fn respond(status: u16, kind: &str, extra: Option<(&str, &str)>, body: String) -> Answer {
    let mut b = http::Response::builder()
        .status(status)
        .header("content-type", kind)
        .header("x-amzn-requestid", "test-request");
    if let Some((k, v)) = extra {
        b = b.header(k, v);
    }
    b.body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap()
}

fn query_error(status: u16, code: &str) -> Answer {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{code}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    );
    respond(status, "text/xml", None, body)
}

fn sns(state: &AlertsState, body: &[u8]) -> Answer {
    if state.throttled("sns") {
        return query_error(400, "Throttling");
    }
    if state.deny.contains(&"sns") {
        return query_error(403, "AuthorizationError");
    }
    let fields: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let mut published = state.published.lock().unwrap();
    published.push(fields);
    let id = format!("msg-{}", published.len());
    let body = format!(
        "<PublishResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">\
         <PublishResult><MessageId>{id}</MessageId></PublishResult>\
         <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PublishResponse>"
    );
    respond(200, "text/xml", None, body)
}

fn events(state: &AlertsState, req: &Value) -> Answer {
    let json11 = "application/x-amz-json-1.1";
    if state.throttled("events") {
        let body = json!({"__type": "ThrottlingException", "message": "Rate exceeded"});
        return respond(400, json11, None, body.to_string());
    }
    if state.deny.contains(&"events") {
        let body = json!({"__type": "AccessDeniedException", "message": "not authorized"});
        return respond(400, json11, None, body.to_string());
    }
    let entries = req["Entries"].as_array().cloned().unwrap_or_default();
    let mut inside = state.entry_throttles.lock().unwrap();
    if *inside > 0 {
        *inside -= 1;
        let failed: Vec<Value> = entries
            .iter()
            .map(|_| json!({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}))
            .collect();
        let body = json!({"FailedEntryCount": failed.len(), "Entries": failed});
        return respond(200, json11, None, body.to_string());
    }
    let mut kept = state.events.lock().unwrap();
    let ids: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(i, _)| json!({"EventId": format!("event-{}", kept.len() + i + 1)}))
        .collect();
    kept.extend(entries);
    let body = json!({"FailedEntryCount": 0, "Entries": ids});
    respond(200, json11, None, body.to_string())
}

fn security_hub(state: &AlertsState, req: &Value) -> Answer {
    let kind = "application/json";
    if state.throttled("securityhub") {
        let body = json!({"__type": "LimitExceededException", "Message": "Rate exceeded",
                          "Code": "LimitExceededException"});
        let header = Some(("x-amzn-errortype", "LimitExceededException"));
        return respond(429, kind, header, body.to_string());
    }
    if state.deny.contains(&"securityhub") {
        let body = json!({"Message": "not authorized", "Code": "AccessDeniedException"});
        let header = Some(("x-amzn-errortype", "AccessDeniedException"));
        return respond(403, kind, header, body.to_string());
    }
    let findings = req["Findings"].as_array().cloned().unwrap_or_default();
    if findings.len() > 100 || state.fail_import == Some(state.requests("securityhub")) {
        let body = json!({"Message": "at most 100 findings", "Code": "InvalidInputException"});
        let header = Some(("x-amzn-errortype", "InvalidInputException"));
        return respond(400, kind, header, body.to_string());
    }
    let refused: Vec<Value> = findings
        .iter()
        .filter(|f| {
            let id = f["Id"].as_str().unwrap_or("");
            state.refuse_ids.as_deref().is_some_and(|r| id.contains(r)) || !importable(f)
        })
        .map(|f| json!({"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "refused"}))
        .collect();
    let body = json!({"FailedCount": refused.len(), "SuccessCount": findings.len() - refused.len(),
                      "FailedFindings": refused});
    state.imports.lock().unwrap().push(findings);
    respond(200, kind, None, body.to_string())
}

/// What the service checks of each finding: its text fields match
/// `.*\S.*` (one line, something shown) within their lengths.
fn importable(f: &Value) -> bool {
    let text = |v: &Value, max: usize| {
        v.as_str().is_some_and(|s| {
            !s.contains(['\n', '\r']) && s.trim() != "" && s.chars().count() <= max
        })
    };
    text(&f["Title"], 256)
        && text(&f["Description"], 1024)
        && f["AwsAccountId"].as_str().is_some_and(|a| a.len() == 12)
        && f["Resources"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| text(&r["Id"], 512)))
}

/// Starts the endpoint on 127.0.0.1; returns its URL.
pub async fn start(state: Arc<AlertsState>) -> String {
    let (listener, url) = super::bind(0).await;
    super::serve_each(listener, move |req| {
        let state = state.clone();
        async move {
            let target = super::amz_target(&req);
            let path = req.uri().path().to_string();
            let body = super::body_bytes(req).await;
            if body.starts_with(b"Action=GetCallerIdentity") {
                return super::sts_caller(state.caller_account.as_deref());
            }
            if body.starts_with(b"Action=Publish") {
                return sns(&state, &body);
            }
            let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            match (target.as_str(), path.as_str()) {
                ("AWSEvents.PutEvents", _) => events(&state, &v),
                (_, "/findings/import") => security_hub(&state, &v),
                _ => respond(404, "text/plain", None, format!("{target} {path}")),
            }
        }
    });
    url
}

/// The environment that points SNS, EventBridge, Security Hub and STS at
/// the endpoint (after `aws_env`, so these win).
pub fn env(url: &str) -> Vec<(String, String)> {
    ["SNS", "EVENTBRIDGE", "SECURITYHUB", "STS"]
        .iter()
        .map(|s| (format!("AWS_ENDPOINT_URL_{s}"), url.to_string()))
        .collect()
}
