//! The kinds of damage the simulator can inject, each one a thing an
//! attacker or an accident does to a real trail.

use std::fmt;
use std::str::FromStr;

/// What to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// Change a record of a log file (digest unchanged).
    TamperLog,
    /// Delete a log file.
    DeleteLog,
    /// Append a second gzip member of forged records to a log file.
    AppendLog,
    /// Delete a digest and its metadata.
    DeleteDigest,
    /// Move a digest (and metadata) to the key 30 s later.
    MoveDigest,
    /// Rewrite a digest (drop its last log entry) and sign it with another key.
    ForgeDigest,
    /// Remove a digest's signature metadata.
    UnsignDigest,
    /// Logging stopped for the hour: no logs, no digest; the next digest restarts the chain.
    Gap,
    /// Validation off for the hour: logs delivered, no digest; the next digest restarts the chain.
    ValidationOff,
    /// No activity: a digest with an empty log list.
    EmptyHour,
    /// An extra log file inside the hour that no digest lists.
    UnreferencedLog,
    /// A role switches management write events off (PutEventSelectors
    /// ReadOnly), recorded in the hour's first log file.
    Narrow,
    /// Management events back to All (PutEventSelectors), recorded likewise.
    Widen,
    /// The trail deleted (DeleteTrail at the end of the hour before) and
    /// re-created under its name an hour later with less coverage (no
    /// global service events): no logs, no digest for the hour.
    Recreate,
    /// Someone weakens what keeps the evidence: a lifecycle rule that
    /// expires the trail's objects after a day (a long-lived key, no MFA)
    /// and versioning suspended (a role, with MFA), recorded in the hour's
    /// first log file.
    WeakenBucket,
}

impl DamageKind {
    pub const ALL: [(&'static str, DamageKind); 15] = [
        ("tamper-log", DamageKind::TamperLog),
        ("delete-log", DamageKind::DeleteLog),
        ("append-log", DamageKind::AppendLog),
        ("delete-digest", DamageKind::DeleteDigest),
        ("move-digest", DamageKind::MoveDigest),
        ("forge-digest", DamageKind::ForgeDigest),
        ("unsign-digest", DamageKind::UnsignDigest),
        ("gap", DamageKind::Gap),
        ("validation-off", DamageKind::ValidationOff),
        ("empty-hour", DamageKind::EmptyHour),
        ("unreferenced-log", DamageKind::UnreferencedLog),
        ("narrow", DamageKind::Narrow),
        ("widen", DamageKind::Widen),
        ("recreate", DamageKind::Recreate),
        ("weaken-bucket", DamageKind::WeakenBucket),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Damage that changes how the honest trail is built (rather than editing files afterwards).
    pub(crate) fn shapes_build(self) -> bool {
        matches!(
            self,
            DamageKind::Gap
                | DamageKind::ValidationOff
                | DamageKind::EmptyHour
                | DamageKind::Narrow
                | DamageKind::Widen
                | DamageKind::Recreate
                | DamageKind::WeakenBucket
        )
    }
}

/// One injected damage: `KIND@HOUR[.N]` (N = log file index within the hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    pub kind: DamageKind,
    pub hour: usize,
    pub log_index: usize,
}

impl FromStr for Damage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, at) = s
            .split_once('@')
            .ok_or_else(|| format!("damage {s:?} is not KIND@HOUR[.N]"))?;
        let kind = DamageKind::ALL
            .iter()
            .find(|(n, _)| *n == kind)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = DamageKind::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown damage kind {kind:?} (one of {})", names.join(", "))
            })?;
        let (hour, index) = match at.split_once('.') {
            Some((h, n)) => (h, Some(n)),
            None => (at, None),
        };
        let hour = hour
            .parse()
            .map_err(|_| format!("damage {s:?}: hour {hour:?} is not a number"))?;
        let log_index = match index {
            Some(n) => n
                .parse()
                .map_err(|_| format!("damage {s:?}: log index {n:?} is not a number"))?,
            None => 0,
        };
        Ok(Damage {
            kind,
            hour,
            log_index,
        })
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}.{}", self.kind.name(), self.hour, self.log_index)
    }
}

/// What one damage did to the bucket, object by object: tests read which
/// objects were damaged from here, not from the simulator's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The damage shaped the honest trail as it was built (a gap, a
    /// narrowing...): no object was edited afterwards.
    Built,
    ChangedLog {
        bucket: String,
        key: String,
    },
    DeletedLog {
        bucket: String,
        key: String,
    },
    AppendedLog {
        bucket: String,
        key: String,
    },
    DeletedDigest {
        bucket: String,
        key: String,
    },
    /// A digest moved to the key 30 s later (`to`, in the same bucket).
    MovedDigest {
        bucket: String,
        key: String,
        to: String,
    },
    /// A digest re-signed with an attacker's key, without the log file it
    /// listed last (`dropped`).
    ForgedDigest {
        bucket: String,
        key: String,
        dropped: Option<String>,
    },
    UnsignedDigest {
        bucket: String,
        key: String,
    },
    /// A log file no digest lists.
    AddedLog {
        bucket: String,
        key: String,
    },
}

impl Effect {
    /// Every object key the damage touched (a moved digest's both keys, a
    /// forged digest's dropped log file).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Effect::Built => Vec::new(),
            Effect::MovedDigest { key, to, .. } => vec![key, to],
            Effect::ForgedDigest { key, dropped, .. } => std::iter::once(key.as_str())
                .chain(dropped.as_deref())
                .collect(),
            Effect::ChangedLog { key, .. }
            | Effect::DeletedLog { key, .. }
            | Effect::AppendedLog { key, .. }
            | Effect::DeletedDigest { key, .. }
            | Effect::UnsignedDigest { key, .. }
            | Effect::AddedLog { key, .. } => vec![key],
        }
    }
}

/// One damage as applied: what was asked and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub damage: Damage,
    pub effect: Effect,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.damage;
        match &self.effect {
            Effect::Built => write!(f, "{d}: applied while building hour {}", d.hour),
            Effect::ChangedLog { bucket, key } => {
                write!(f, "{d}: changed a record in s3://{bucket}/{key}")
            }
            Effect::DeletedLog { bucket, key } | Effect::DeletedDigest { bucket, key } => {
                write!(f, "{d}: deleted s3://{bucket}/{key}")
            }
            Effect::AppendedLog { bucket, key } => {
                write!(f, "{d}: appended a gzip member to s3://{bucket}/{key}")
            }
            Effect::MovedDigest { bucket, key, to } => {
                write!(f, "{d}: moved s3://{bucket}/{key} to {to}")
            }
            Effect::ForgedDigest {
                bucket,
                key,
                dropped,
            } => {
                write!(
                    f,
                    "{d}: re-signed s3://{bucket}/{key} with an attacker's key"
                )?;
                match dropped {
                    Some(k) => write!(f, ", dropping {k}"),
                    None => Ok(()),
                }
            }
            Effect::UnsignedDigest { bucket, key } => write!(
                f,
                "{d}: removed the signature metadata of s3://{bucket}/{key}"
            ),
            Effect::AddedLog { bucket, key } => write!(f, "{d}: added s3://{bucket}/{key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let d: Damage = "tamper-log@3.2".parse().unwrap();
        assert_eq!((d.kind, d.hour, d.log_index), (DamageKind::TamperLog, 3, 2));
        let d: Damage = "gap@0".parse().unwrap();
        assert_eq!((d.kind, d.log_index), (DamageKind::Gap, 0));
        for bad in ["gap", "nope@1", "gap@x", "gap@1.y"] {
            assert!(bad.parse::<Damage>().is_err(), "{bad}");
        }
    }
}
