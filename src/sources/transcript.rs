//! The raw answers AWS gave a run: each call's operation, region, what was
//! asked, when it was answered, its request id and what it said. `acquire`
//! keeps them in the package (`aws-answers.json`), so an examiner sees what
//! the verdicts relied on, and AWS support can find each call by its id.

use serde_json::Value;

/// One answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answer {
    pub service: &'static str,
    pub operation: &'static str,
    pub region: String,
    pub request: Value,
    /// AWS's `x-amzn-RequestId` (None when the answer carried none).
    pub request_id: Option<String>,
    pub answered_at: String,
    pub response: Value,
}

/// Answers as they came, when the run keeps them (`acquire`); a run that
/// does not pays nothing.
#[derive(Debug, Default)]
pub struct Transcript {
    answers: Option<std::sync::Mutex<Vec<Answer>>>,
}

impl Transcript {
    pub fn keeping() -> Transcript {
        Transcript {
            answers: Some(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// Keeps one answer; `response` is built only when answers are kept.
    pub fn keep(
        &self,
        (service, operation, region): (&'static str, &'static str, &str),
        request: Value,
        request_id: Option<&str>,
        response: impl FnOnce() -> Value,
    ) {
        let Some(answers) = &self.answers else {
            return;
        };
        let answer = Answer {
            service,
            operation,
            region: region.to_string(),
            request,
            request_id: request_id.map(str::to_string),
            answered_at: crate::verify::time::display(chrono::Utc::now()),
            response: response(),
        };
        answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(answer);
    }

    /// Every answer kept, in the order they came.
    pub fn answers(&self) -> Vec<Answer> {
        self.answers
            .as_ref()
            .map(|a| a.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default()
    }
}

/// CloudTrail's answers as its API documents them (the SDK keeps no raw
/// bytes): the fields the run read, under the API's own names.
pub(crate) mod cloudtrail {
    use crate::sources::aws::to_chrono;
    use crate::verify::time::display;
    use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
    use aws_sdk_cloudtrail::operation::list_public_keys::ListPublicKeysOutput;
    use base64::Engine;
    use serde_json::{json, Value};

    fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
        t.and_then(to_chrono).map(display)
    }

    pub(crate) fn keys(out: &ListPublicKeysOutput) -> Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        let keys: Vec<Value> = out
            .public_key_list()
            .iter()
            .map(|k| {
                json!({
                    "Value": k.value().map(|v| b64.encode(v.as_ref())),
                    "ValidityStartTime": time(k.validity_start_time()),
                    "ValidityEndTime": time(k.validity_end_time()),
                    "Fingerprint": k.fingerprint(),
                })
            })
            .collect();
        json!({"PublicKeyList": keys, "NextToken": out.next_token()})
    }

    pub(crate) fn trail(t: &aws_sdk_cloudtrail::types::Trail) -> Value {
        json!({
            "Name": t.name(), "TrailARN": t.trail_arn(), "S3BucketName": t.s3_bucket_name(),
            "S3KeyPrefix": t.s3_key_prefix(), "HomeRegion": t.home_region(),
            "IsMultiRegionTrail": t.is_multi_region_trail(),
            "IsOrganizationTrail": t.is_organization_trail(),
            "IncludeGlobalServiceEvents": t.include_global_service_events(),
            "LogFileValidationEnabled": t.log_file_validation_enabled(),
            "KmsKeyId": t.kms_key_id(), "HasCustomEventSelectors": t.has_custom_event_selectors(),
            "HasInsightSelectors": t.has_insight_selectors(),
            "SnsTopicARN": t.sns_topic_arn(),
            "CloudWatchLogsLogGroupArn": t.cloud_watch_logs_log_group_arn(),
        })
    }

    pub(crate) fn status(s: &GetTrailStatusOutput) -> Value {
        json!({
            "IsLogging": s.is_logging(),
            "LatestDeliveryError": s.latest_delivery_error(),
            "LatestDigestDeliveryError": s.latest_digest_delivery_error(),
            "LatestDeliveryTime": time(s.latest_delivery_time()),
            "LatestDigestDeliveryTime": time(s.latest_digest_delivery_time()),
            "StartLoggingTime": time(s.start_logging_time()),
            "StopLoggingTime": time(s.stop_logging_time()),
            "LatestDeliveryAttemptTime": s.latest_delivery_attempt_time(),
            "LatestDeliveryAttemptSucceeded": s.latest_delivery_attempt_succeeded(),
        })
    }
}
