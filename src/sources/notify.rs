//! Sending `--notify`'s alert: SNS Publish (query protocol) in the topic's
//! region, EventBridge PutEvents (JSON 1.1) on the bus's. The SDK retries
//! throttled requests; EventBridge answers an entry's own throttling
//! inside a 200 answer, which the SDK does not retry, so it is sent again
//! here.

use crate::sources::aws::AwsError;
use aws_config::{Region, SdkConfig};

/// EventBridge's `source`: any name but the `aws.` ones AWS keeps.
pub const SOURCE: &str = "trailproof";
/// EventBridge's `detail-type`, which rules match.
pub const DETAIL_TYPE: &str = "Trailproof Verdict";
/// Tries of an entry EventBridge throttled or failed inside.
const ENTRY_TRIES: u32 = 3;

/// One alert channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    /// An SNS topic, published to in the topic's own region.
    Sns { topic_arn: String, region: String },
    /// An EventBridge bus by name (the run's region) or ARN (its region).
    EventBridge { bus: String, region: Option<String> },
}

/// As the flag names it: `sns:ARN` or `eventbridge:BUS`.
impl std::fmt::Display for NotifyTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotifyTarget::Sns { topic_arn, .. } => write!(f, "sns:{topic_arn}"),
            NotifyTarget::EventBridge { bus, .. } => write!(f, "eventbridge:{bus}"),
        }
    }
}

/// One alert, in the words both channels carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// SNS's Subject: ASCII, under 100 characters, one line.
    pub subject: String,
    /// The message people read.
    pub text: String,
    /// EventBridge's Detail: the same facts as fields.
    pub detail: serde_json::Value,
    /// What the event is about (EventBridge's Resources): the trail, when
    /// its ARN is known.
    pub resources: Vec<String>,
}

/// Sends the alert; the message's id on success.
pub async fn send(
    cfg: &SdkConfig,
    target: &NotifyTarget,
    alert: &Alert,
) -> Result<String, AwsError> {
    match target {
        NotifyTarget::Sns { topic_arn, region } => sns(cfg, topic_arn, region, alert).await,
        NotifyTarget::EventBridge { bus, region } => {
            eventbridge(cfg, bus, region.as_deref(), alert).await
        }
    }
}

/// Publish in the topic's region (SNS takes a topic's messages only
/// there), with the verdict as attributes for subscription filters.
async fn sns(
    cfg: &SdkConfig,
    topic: &str,
    region: &str,
    alert: &Alert,
) -> Result<String, AwsError> {
    use aws_sdk_sns::types::MessageAttributeValue;
    let conf = aws_sdk_sns::config::Builder::from(cfg)
        .region(Region::new(region.to_string()))
        .build();
    let client = aws_sdk_sns::Client::from_conf(conf);
    let attribute = |kind: &str, value: String| {
        MessageAttributeValue::builder()
            .data_type(kind)
            .string_value(value)
            .build()
            .map_err(|e| AwsError::other(e.to_string()))
    };
    let verdict = alert.detail["verdict"].as_str().unwrap_or("").to_string();
    let code = alert.detail["exit_status"].to_string();
    let mut publish = client
        .publish()
        .topic_arn(topic)
        .subject(&alert.subject)
        .message(&alert.text)
        .message_attributes("verdict", attribute("String", verdict)?)
        .message_attributes("exit_status", attribute("Number", code)?);
    if topic.ends_with(".fifo") {
        // A FIFO topic needs a group; the same message sent twice is one.
        use sha2::Digest as _;
        let id = hex::encode(sha2::Sha256::digest(alert.text.as_bytes()));
        publish = publish
            .message_group_id(SOURCE)
            .message_deduplication_id(id);
    }
    let out = publish
        .send()
        .await
        .map_err(|e| AwsError::of_write(&e, "sns:Publish on the topic"))?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

/// The one event: rules match its source, detail-type and detail.
fn entry(bus: &str, alert: &Alert) -> aws_sdk_eventbridge::types::PutEventsRequestEntry {
    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source(SOURCE)
        .detail_type(DETAIL_TYPE)
        .detail(alert.detail.to_string())
        .event_bus_name(bus)
        .set_resources(Some(alert.resources.clone()))
        .time(aws_smithy_types::DateTime::from(
            std::time::SystemTime::now(),
        ))
        .build()
}

/// PutEvents, with the entry sent again (briefly backed off) while
/// EventBridge answers it throttled or failed inside a 200.
async fn eventbridge(
    cfg: &SdkConfig,
    bus: &str,
    region: Option<&str>,
    alert: &Alert,
) -> Result<String, AwsError> {
    let mut conf = aws_sdk_eventbridge::config::Builder::from(cfg);
    if let Some(r) = region {
        conf = conf.region(Region::new(r.to_string()));
    }
    let client = aws_sdk_eventbridge::Client::from_conf(conf.build());
    let entry = entry(bus, alert);
    let mut tries = 0;
    loop {
        tries += 1;
        let out = client
            .put_events()
            .entries(entry.clone())
            .send()
            .await
            .map_err(|e| AwsError::of_write(&e, "events:PutEvents on the bus"))?;
        let answer = out.entries().first();
        if out.failed_entry_count() == 0 {
            let id = answer.and_then(|a| a.event_id()).unwrap_or_default();
            return Ok(id.to_string());
        }
        let code = answer.and_then(|a| a.error_code()).unwrap_or("unknown");
        let retry = matches!(code, "ThrottlingException" | "InternalFailure");
        if !retry || tries >= ENTRY_TRIES {
            let why = answer.and_then(|a| a.error_message()).unwrap_or("");
            return Err(AwsError::other(format!(
                "EventBridge refused the event ({code}{}{why})",
                if why.is_empty() { "" } else { ": " }
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100 << tries)).await;
    }
}
