//! `--notify`, `--notify-always` and `--security-hub` into [`Deliveries`]:
//! a channel that is misspelt is a usage error now, not a warning after
//! a night's run that nobody hears.

use super::usage;
use crate::cli::DeliveryArgs;
use crate::request::deliveries::{Deliveries, NotifyTarget};
use crate::request::RequestError;

impl DeliveryArgs {
    pub(crate) fn to_deliveries(&self) -> Result<Deliveries, RequestError> {
        let mut notify = Vec::new();
        for given in &self.notify {
            let target = notify_target(given)?;
            if !notify.contains(&target) {
                notify.push(target);
            }
        }
        Ok(Deliveries {
            notify,
            notify_always: self.notify_always,
            security_hub: self.security_hub,
        })
    }

    /// Whether any delivery was asked for (shards refuse them).
    pub(crate) fn any(&self) -> bool {
        !self.notify.is_empty() || self.security_hub
    }
}

fn notify_target(given: &str) -> Result<NotifyTarget, RequestError> {
    let refuse = |why: &str| Err(usage(format!("--notify {given}: {why}")));
    match given.split_once(':') {
        Some(("sns", arn)) => match arn_parts(arn, "sns") {
            Some((region, name)) if topic_name(name) => Ok(NotifyTarget::Sns {
                topic_arn: arn.to_string(),
                region: region.to_string(),
            }),
            _ => refuse("give an SNS topic's ARN, as sns:arn:aws:sns:REGION:ACCOUNT:TOPIC"),
        },
        Some(("eventbridge", bus)) if bus.starts_with("arn:") => match arn_parts(bus, "events") {
            Some((region, name)) => match name.strip_prefix("event-bus/") {
                Some(n) if bus_name(n) => Ok(NotifyTarget::EventBridge {
                    bus: bus.to_string(),
                    region: Some(region.to_string()),
                }),
                _ => refuse(
                    "the ARN names no event bus (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)",
                ),
            },
            None => refuse("give an event bus's name or ARN, as eventbridge:default"),
        },
        Some(("eventbridge", bus)) if bus_name(bus) => Ok(NotifyTarget::EventBridge {
            bus: bus.to_string(),
            region: None,
        }),
        Some(("eventbridge", _)) => {
            refuse("give an event bus's name or ARN, as eventbridge:default")
        }
        _ if given.starts_with("arn:") && given.contains(":sns:") => {
            refuse(&format!("name the channel: sns:{given}"))
        }
        _ => refuse("give sns:TOPIC_ARN or eventbridge:BUS"),
    }
}

/// An ARN of `service` as (region, resource), with a 12-digit account.
fn arn_parts<'a>(arn: &'a str, service: &str) -> Option<(&'a str, &'a str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, svc, region, account, resource] = parts[..] else {
        return None;
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok = parts[0] == "arn"
        && partition.starts_with("aws")
        && svc == service
        && region_ok
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    ok.then_some((region, resource))
}

/// SNS: 1 to 256 letters, digits, `-` and `_` (`.fifo` at the end).
fn topic_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (1..=256).contains(&name.len())
        && !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// EventBridge: 1 to 256 of letters, digits and `/._-`.
fn bus_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_checked_before_the_run() {
        let sns = "sns:arn:aws:sns:eu-west-1:123456789012:trail-alerts";
        assert_eq!(
            notify_target(sns).unwrap(),
            NotifyTarget::Sns {
                topic_arn: "arn:aws:sns:eu-west-1:123456789012:trail-alerts".into(),
                region: "eu-west-1".into()
            }
        );
        let bus = "eventbridge:arn:aws:events:us-east-2:123456789012:event-bus/audit";
        assert!(matches!(
            notify_target(bus).unwrap(),
            NotifyTarget::EventBridge { region: Some(r), .. } if r == "us-east-2"
        ));
        assert!(notify_target("eventbridge:default").is_ok());
        for bad in [
            "arn:aws:sns:eu-west-1:123456789012:trail-alerts",
            "sns:trail-alerts",
            "sns:arn:aws:sns:eu-west-1:1234:t",
            "sns:arn:aws:sqs:eu-west-1:123456789012:q",
            "eventbridge:bus with space",
            "eventbridge:arn:aws:events:us-east-1:123456789012:rule/r",
            "slack:#alerts",
        ] {
            let e = notify_target(bad).unwrap_err().to_string();
            assert!(e.starts_with("--notify "), "{bad}: {e}");
        }
        let hint = notify_target("arn:aws:sns:eu-west-1:123456789012:t").unwrap_err();
        assert!(hint.to_string().contains("sns:arn:aws:sns"), "{hint}");
    }
}
