//! The bucket's protections next to the verdict: what keeps the evidence
//! (versioning, Object Lock) and what would remove it (a lifecycle rule
//! that expires or archives the trail's objects). Each is protected,
//! unprotected or unknown (a read that was refused is never "protected").
//! Pure: judges what the S3 edge read.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectionKind {
    Versioning,
    ObjectLock,
    Lifecycle,
    Policy,
    PublicAccess,
    Encryption,
    Replication,
    AccessLogging,
    /// CloudTrail's own word that its last deliveries succeeded.
    Delivery,
    /// The KMS key the trail's log files are encrypted with is usable.
    TrailKey,
}

impl ProtectionKind {
    pub const ALL: [ProtectionKind; 10] = [
        ProtectionKind::Versioning,
        ProtectionKind::ObjectLock,
        ProtectionKind::Lifecycle,
        ProtectionKind::Policy,
        ProtectionKind::PublicAccess,
        ProtectionKind::Encryption,
        ProtectionKind::Replication,
        ProtectionKind::AccessLogging,
        ProtectionKind::Delivery,
        ProtectionKind::TrailKey,
    ];

    /// The name `--require-protections` takes and JSON and metrics use.
    pub fn name(self) -> &'static str {
        match self {
            ProtectionKind::Versioning => "versioning",
            ProtectionKind::ObjectLock => "object_lock",
            ProtectionKind::Lifecycle => "lifecycle",
            ProtectionKind::Policy => "policy",
            ProtectionKind::PublicAccess => "public_access",
            ProtectionKind::Encryption => "encryption",
            ProtectionKind::Replication => "replication",
            ProtectionKind::AccessLogging => "access_logging",
            ProtectionKind::Delivery => "delivery",
            ProtectionKind::TrailKey => "trail_key",
        }
    }

    pub fn named(name: &str) -> Option<ProtectionKind> {
        let name = name.trim().replace('-', "_");
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectionState {
    Protected,
    Unprotected,
    Unknown,
}

/// One protection of the trail's bucket, judged, with what was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    pub kind: ProtectionKind,
    pub state: ProtectionState,
    /// What the bucket says (words for people; the state is the verdict).
    pub detail: String,
}

/// A lifecycle rule as read: whether it applies to the trail's objects and
/// what it does to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    /// The rule's prefix filter ("" covers the whole bucket).
    pub prefix: String,
    pub expire_days: Option<i32>,
    /// An expiration on a date (every current object from then on).
    pub expire_date: Option<String>,
    pub noncurrent_expire_days: Option<i32>,
    /// Transitions: the storage class and when ("after N days" or "on DATE").
    pub transitions: Vec<(String, String)>,
}

/// Object Lock as read: None when the bucket has none; else the mode and
/// the default retention's days (None: no default retention).
pub type Lock = Option<(String, Option<i32>)>;

/// A replication rule as read: its destination bucket, whether it is
/// enabled, and its prefix filter ("" for the whole bucket).
pub type Replica = (String, bool, String);

/// Default encryption as read: the algorithm and the KMS key, None when
/// the bucket has none.
pub type Encryption = Option<(String, Option<String>)>;

/// Why a read of the bucket's (or the key's) configuration was refused or
/// failed, as the service said it: the protection is then unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// What the S3 edge read of the bucket; `Err(why)` where it was refused.
#[derive(Debug, Clone, Default)]
pub struct BucketConfig {
    /// Versioning status ("Enabled", "Suspended", or None: never enabled)
    /// and whether MFA Delete is on.
    pub versioning: Option<Result<(Option<String>, bool), Refusal>>,
    /// Object Lock: None when the bucket has none; else the default
    /// retention's mode and days (None: no default retention).
    pub object_lock: Option<Result<Lock, Refusal>>,
    pub lifecycle: Option<Result<Vec<Rule>, Refusal>>,
    /// The bucket policy (JSON), None when it has none.
    pub policy: Option<Result<Option<String>, Refusal>>,
    /// The public access block's four settings, None when it has none.
    pub public_access: Option<Result<Option<[bool; 4]>, Refusal>>,
    /// The default encryption (algorithm, KMS key), None when none.
    pub encryption: Option<Result<Encryption, Refusal>>,
    /// The replication rules (destination, enabled, prefix), None when the
    /// bucket has none.
    pub replication: Option<Result<Option<Vec<Replica>>, Refusal>>,
    /// Where server access logs go, None when they are off.
    pub access_logging: Option<Result<Option<String>, Refusal>>,
}

/// Judges each protection; `trail_prefix` is where the trail writes
/// (`AWSLogs/` under its prefix), `retention_days` what must be kept.
pub fn judge(
    cfg: &BucketConfig,
    (bucket, trail_prefix, trail_arn): (&str, &str, &str),
    retention_days: Option<i32>,
) -> Vec<Protection> {
    vec![
        versioning(cfg.versioning.as_ref()),
        object_lock(cfg.object_lock.as_ref(), retention_days),
        lifecycle(cfg.lifecycle.as_ref(), trail_prefix, retention_days),
        policy(cfg.policy.as_ref(), (bucket, trail_prefix), trail_arn),
        public_access(cfg.public_access.as_ref()),
        encryption(cfg.encryption.as_ref()),
        replication(cfg.replication.as_ref(), trail_prefix),
        access_logging(cfg.access_logging.as_ref()),
    ]
}

fn policy(
    read: Option<&Result<Option<String>, Refusal>>,
    objects: (&str, &str),
    trail_arn: &str,
) -> Protection {
    let kind = ProtectionKind::Policy;
    let text = match read {
        None => return unknown(kind, "not asked"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(None)) => {
            let detail = "no bucket policy grants anyone access (IAM policies in the bucket's \
                          account, which may, are not read here)";
            return Protection {
                kind,
                state: ProtectionState::Protected,
                detail: detail.into(),
            };
        }
        Some(Ok(Some(text))) => text,
    };
    let holes = crate::verify::bucket_policy::holes(text, objects, trail_arn);
    let (state, detail) = match holes {
        Err(e) => (
            ProtectionState::Unknown,
            format!("the policy is not JSON ({e})"),
        ),
        Ok(h) if h.is_empty() => (
            ProtectionState::Protected,
            "no statement lets anyone but this trail's CloudTrail delete, overwrite or expire \
             the trail's objects (IAM policies in the bucket's account are not read here)"
                .to_string(),
        ),
        Ok(h) => (ProtectionState::Unprotected, h.join("; ")),
    };
    Protection {
        kind,
        state,
        detail,
    }
}

/// GetTrailStatus's delivery errors: a trail whose deliveries fail writes
/// no evidence, whatever the bucket keeps. None: not asked (no CloudTrail
/// call in this run, or refused).
pub fn delivery(status: Option<(bool, &[String])>) -> Protection {
    let kind = ProtectionKind::Delivery;
    let Some((logging, errors)) = status else {
        return unknown(kind, "GetTrailStatus was not asked or refused");
    };
    if !logging {
        let detail = "the trail is not logging (GetTrailStatus): it writes no evidence".into();
        return Protection {
            kind,
            state: ProtectionState::Unprotected,
            detail,
        };
    }
    match errors.is_empty() {
        true => Protection {
            kind,
            state: ProtectionState::Protected,
            detail: "CloudTrail reports no delivery error for logs or digests".into(),
        },
        false => Protection {
            kind,
            state: ProtectionState::Unprotected,
            detail: format!("CloudTrail's last delivery failed: {}", errors.join("; ")),
        },
    }
}

/// The trail's KMS key as KMS DescribeKey reads it: (key, state, deletion
/// date). A disabled key, or one pending deletion, leaves the log files
/// unreadable (the digests, SSE-S3, still verify): evidence lost.
pub type KeyRead = Option<Result<Option<(String, String, Option<String>)>, Refusal>>;

pub fn trail_key(read: &KeyRead) -> Protection {
    let kind = ProtectionKind::TrailKey;
    let (state, detail) = match read {
        None => return unknown(kind, "the trail's description was not read"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(None)) => (
            ProtectionState::Protected,
            "the trail's log files use SSE-S3: no key of the account can be disabled to lose them"
                .to_string(),
        ),
        Some(Ok(Some((key, s, _)))) if s == "Enabled" => (
            ProtectionState::Protected,
            format!("{key} (the current key) is enabled"),
        ),
        Some(Ok(Some((key, s, _)))) if s == "unknown" => {
            return unknown(kind, format!("KMS did not say the state of {key}"))
        }
        Some(Ok(Some((key, s, when)))) => {
            let when = when
                .as_ref()
                .map(|d| format!(" (deleted on {d})"))
                .unwrap_or_default();
            (ProtectionState::Unprotected, format!("{key} is {s}{when}: the trail's log files cannot be decrypted while it is, and never after its deletion"))
        }
    };
    Protection {
        kind,
        state,
        detail,
    }
}

/// A protection that holds when the bucket has the setting at all.
fn present<T>(
    kind: ProtectionKind,
    read: Option<&Result<Option<T>, Refusal>>,
    said: impl Fn(&T) -> (bool, String),
    absent: &str,
) -> Protection {
    let (state, detail) = match read {
        None => return unknown(kind, "not asked"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(None)) => (ProtectionState::Unprotected, absent.to_string()),
        Some(Ok(Some(v))) => match said(v) {
            (true, d) => (ProtectionState::Protected, d),
            (false, d) => (ProtectionState::Unprotected, d),
        },
    };
    Protection {
        kind,
        state,
        detail,
    }
}

fn public_access(read: Option<&Result<Option<[bool; 4]>, Refusal>>) -> Protection {
    let said = |b: &[bool; 4]| {
        match b.iter().all(|x| *x) {
        true => (true, "all four settings block public access".to_string()),
        false => (false, format!("not all four settings are on (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets: {b:?})")),
    }
    };
    present(
        ProtectionKind::PublicAccess,
        read,
        said,
        "no public access block: a policy or an ACL could open the evidence to anyone",
    )
}

fn encryption(read: Option<&Result<Encryption, Refusal>>) -> Protection {
    let said = |(alg, key): &(String, Option<String>)| {
        let key = key
            .as_ref()
            .map(|k| format!(" with {k}"))
            .unwrap_or_default();
        (
            true,
            format!(
                "{alg}{key} by default (keeps the evidence private; its integrity is the digests')"
            ),
        )
    };
    present(
        ProtectionKind::Encryption,
        read,
        said,
        "no default encryption",
    )
}

fn replication(
    read: Option<&Result<Option<Vec<Replica>>, Refusal>>,
    trail_prefix: &str,
) -> Protection {
    let said = |rules: &Vec<Replica>| {
        let covers = |(_, on, prefix): &&Replica| {
            // Only a rule over all of the trail's folder copies it.
            *on && trail_prefix.starts_with(prefix.as_str())
        };
        let to: Vec<&str> = rules
            .iter()
            .filter(covers)
            .map(|(d, ..)| d.as_str())
            .collect();
        match to.is_empty() {
            true => (
                false,
                "no enabled replication rule covers the trail's objects".to_string(),
            ),
            false => (true, format!("replicated to {}", to.join(", "))),
        }
    };
    present(
        ProtectionKind::Replication,
        read,
        said,
        "not replicated: this bucket holds the only copy",
    )
}

fn access_logging(read: Option<&Result<Option<String>, Refusal>>) -> Protection {
    let said = |to: &String| {
        let same = match to.as_str() {
            "" => String::new(),
            t => format!("server access logs go to {t}"),
        };
        (!same.is_empty(), same)
    };
    present(
        ProtectionKind::AccessLogging,
        read,
        said,
        "server access logging is off: who read or deleted an object is not recorded by S3",
    )
}

fn unknown(kind: ProtectionKind, why: impl std::fmt::Display) -> Protection {
    Protection {
        kind,
        state: ProtectionState::Unknown,
        detail: format!("could not be read ({why})"),
    }
}

fn versioning(read: Option<&Result<(Option<String>, bool), Refusal>>) -> Protection {
    let kind = ProtectionKind::Versioning;
    let (status, mfa) = match read {
        None => return unknown(kind, "not asked"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(v)) => v,
    };
    let mfa = if *mfa { ", MFA Delete on" } else { "" };
    let (state, detail) = match status.as_deref() {
        Some("Enabled") => (
            ProtectionState::Protected,
            format!(
                "enabled{mfa}: an overwritten or deleted object keeps its earlier version \
                 (unless a version is deleted on purpose)"
            ),
        ),
        Some("Suspended") => (
            ProtectionState::Unprotected,
            "suspended: an overwrite or a delete now loses the original".to_string(),
        ),
        _ => (
            ProtectionState::Unprotected,
            "never enabled: an overwrite or a delete loses the original".to_string(),
        ),
    };
    Protection {
        kind,
        state,
        detail,
    }
}

fn object_lock(read: Option<&Result<Lock, Refusal>>, retention_days: Option<i32>) -> Protection {
    let kind = ProtectionKind::ObjectLock;
    let lock = match read {
        None => return unknown(kind, "not asked"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(l)) => l,
    };
    let (state, detail) = match lock {
        None => (
            ProtectionState::Unprotected,
            "none: anyone allowed to delete can delete the evidence".to_string(),
        ),
        Some((mode, None)) => (
            ProtectionState::Unprotected,
            format!("enabled ({mode}) without a default retention: new objects are not locked"),
        ),
        Some((mode, Some(days))) if retention_days.is_some_and(|r| *days < r) => (
            ProtectionState::Unprotected,
            format!(
                "{mode}, {days} days by default: shorter than the {} days required",
                retention_days.unwrap_or(0)
            ),
        ),
        // GOVERNANCE yields to s3:BypassGovernanceRetention.
        Some((mode, Some(days))) if mode != "COMPLIANCE" => (
            ProtectionState::Unprotected,
            format!(
                "{mode}, {days} days by default: principals allowed \
                 s3:BypassGovernanceRetention can still delete (COMPLIANCE cannot be bypassed)"
            ),
        ),
        Some((mode, Some(days))) => (
            ProtectionState::Protected,
            format!("{mode}, {days} days by default (objects written since it was set)"),
        ),
    };
    Protection {
        kind,
        state,
        detail,
    }
}

fn lifecycle(
    read: Option<&Result<Vec<Rule>, Refusal>>,
    trail_prefix: &str,
    retention_days: Option<i32>,
) -> Protection {
    let kind = ProtectionKind::Lifecycle;
    let rules = match read {
        None => return unknown(kind, "not asked"),
        Some(Err(why)) => return unknown(kind, why),
        Some(Ok(r)) => r,
    };
    // A rule covers the trail when its prefix and the trail's overlap.
    let covers = |r: &&Rule| {
        r.enabled && (trail_prefix.starts_with(&r.prefix) || r.prefix.starts_with(trail_prefix))
    };
    let short = |d: i32| retention_days.is_none_or(|r| d < r);
    let mut harms = Vec::new();
    for r in rules.iter().filter(covers) {
        if let Some(d) = r.expire_days.filter(|d| short(*d)) {
            harms.push(format!(
                "rule {} deletes the trail's objects after {d} days",
                r.id
            ));
        }
        if let Some(date) = &r.expire_date {
            harms.push(format!(
                "rule {} deletes the trail's objects on {date}",
                r.id
            ));
        }
        if let Some(d) = r.noncurrent_expire_days.filter(|d| short(*d)) {
            harms.push(format!(
                "rule {} deletes their earlier versions after {d} days",
                r.id
            ));
        }
        for (class, when) in &r.transitions {
            harms.push(format!(
                "rule {} moves them to {class} {when} (an archive class is not readable without \
                 a restore)",
                r.id
            ));
        }
    }
    match harms.is_empty() {
        true => Protection {
            kind,
            state: ProtectionState::Protected,
            detail: "no rule expires or archives the trail's objects".to_string(),
        },
        false => Protection {
            kind,
            state: ProtectionState::Unprotected,
            detail: harms.join("; "),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protection_is_protected_unprotected_or_unknown() {
        let rule = Rule {
            id: "expire".into(),
            enabled: true,
            prefix: "AWSLogs/".into(),
            expire_days: Some(30),
            noncurrent_expire_days: None,
            expire_date: None,
            transitions: vec![],
        };
        let cfg = BucketConfig {
            versioning: Some(Ok((Some("Suspended".into()), false))),
            object_lock: Some(Err(Refusal("AccessDenied".into()))),
            lifecycle: Some(Ok(vec![rule.clone()])),
            ..BucketConfig::default()
        };
        let p = judge(&cfg, ("b", "AWSLogs/", "t"), None);
        let states: Vec<_> = p.iter().take(3).map(|p| p.state).collect();
        use ProtectionState::*;
        assert_eq!(states, vec![Unprotected, Unknown, Unprotected]);
        // A rule that keeps objects longer than required is no harm.
        let long = BucketConfig {
            lifecycle: Some(Ok(vec![Rule {
                expire_days: Some(400),
                ..rule
            }])),
            ..cfg
        };
        assert_eq!(
            judge(&long, ("b", "AWSLogs/", "t"), Some(365))[2].state,
            Protected
        );
        assert_eq!(
            ProtectionKind::named("object-lock"),
            Some(ProtectionKind::ObjectLock)
        );
    }
}
