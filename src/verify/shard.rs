//! Sharding a run across machines (Kubernetes Indexed Jobs, AWS Batch array
//! jobs): the work is cut into units, a chain each, or a time slice of a
//! chain when there are fewer chains than shards, and shard K of N takes
//! every unit whose index is K modulo N. Pure: the same plan on every
//! machine gives the same units, and the fingerprint lets the merge check it.

use crate::verify::time::{display, Timestamp};
use chrono::{Duration, DurationRound};
use sha2::{Digest as _, Sha256};

/// Shard K of N, held 0-based (`index` is K - 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// The environment variables an orchestrator sets for `--shard auto/N`.
pub(crate) const INDEX_VARIABLES: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// Why a `--shard` value names no shard (the words are the usage error's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("--shard must be K/N or auto/N, got {0:?}")]
    Shape(String),
    #[error("--shard {0:?}: N must be a number from 1 to 100000")]
    Count(String),
    #[error("--shard auto/{0} needs JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX in the environment")]
    NoIndex(usize),
    #[error("--shard {0:?}: K must be a number, got {1:?}")]
    Index(String, String),
    #[error("--shard {0:?}: K counts from 1 (1/{1} to {1}/{1})")]
    FromOne(String, usize),
    #[error("--shard {0:?}: K must be from 1 to N (the environment's index from 0 to N-1)")]
    TooLarge(String),
}

impl Shard {
    /// `K/N`, or `auto/N` with K from `JOB_COMPLETION_INDEX` (Kubernetes)
    /// or `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch).
    pub fn parse(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| ShardError::Shape(s.to_string()))?;
        let count: usize = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1 && *n <= 100_000)
            .ok_or_else(|| ShardError::Count(s.to_string()))?;
        // K counts from 1, as wherever people meet K/N (Playwright, Jest,
        // `split -n`); the orchestrators' variables count from 0.
        let auto = k.trim() == "auto";
        let index_text = if auto {
            INDEX_VARIABLES
                .iter()
                .find_map(|v| env(v))
                .ok_or(ShardError::NoIndex(count))?
        } else {
            k.to_string()
        };
        let number: usize = index_text
            .trim()
            .parse()
            .map_err(|_| ShardError::Index(s.to_string(), index_text.clone()))?;
        let index = if auto {
            number
        } else {
            number
                .checked_sub(1)
                .ok_or_else(|| ShardError::FromOne(s.to_string(), count))?
        };
        if index >= count {
            return Err(ShardError::TooLarge(s.to_string()));
        }
        Ok(Shard { index, count })
    }
}

/// One unit of work: a chain, or a slice of its window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unit {
    pub account: String,
    pub region: String,
    /// A part of the window; None: the whole window.
    #[serde(with = "slice_serde")]
    pub slice: Option<(Timestamp, Timestamp)>,
}

/// The units of a run: every chain whole when there are at least as many
/// chains as shards, else each chain cut into whole-hour slices so every
/// shard gets work (a year of one chain fans out too).
pub fn units(
    chains: &[(String, String)],
    start: Timestamp,
    end: Timestamp,
    count: usize,
) -> Vec<Unit> {
    let slices = if chains.is_empty() || chains.len() >= count {
        1
    } else {
        count.div_ceil(chains.len())
    };
    let cuts = cut(start, end, slices);
    let mut out = Vec::new();
    for (account, region) in chains {
        for &(a, b) in &cuts {
            out.push(Unit {
                account: account.clone(),
                region: region.clone(),
                slice: (cuts.len() > 1).then_some((a, b)),
            });
        }
    }
    out
}

/// Up to `n` consecutive spans covering [start, end], cut on whole hours.
fn cut(start: Timestamp, end: Timestamp, n: usize) -> Vec<(Timestamp, Timestamp)> {
    let hours = ((end - start).num_hours()).max(1) as usize;
    let n = n.clamp(1, hours);
    if n == 1 {
        return vec![(start, end)];
    }
    let step = Duration::hours(hours.div_ceil(n) as i64);
    let mut out = Vec::new();
    let mut a = start;
    while a < end && out.len() < n {
        let next = (a + step)
            .duration_trunc(Duration::hours(1))
            .unwrap_or(a + step);
        let b = if out.len() + 1 == n || next >= end {
            end
        } else {
            next
        };
        out.push((a, b));
        a = b;
    }
    out
}

/// Slices as `["<start>", "<end>"]` in the display form.
mod slice_serde {
    use crate::verify::time::{display, parse_digest_time, Timestamp};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        v: &Option<(Timestamp, Timestamp)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some((a, b)) => s.collect_seq([display(*a), display(*b)]),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(Timestamp, Timestamp)>, D::Error> {
        let v: Option<[String; 2]> = Option::deserialize(d)?;
        match v {
            None => Ok(None),
            Some([a, b]) => match (parse_digest_time(&a), parse_digest_time(&b)) {
                (Some(a), Some(b)) => Ok(Some((a, b))),
                _ => Err(serde::de::Error::custom("bad slice time")),
            },
        }
    }
}

/// The units shard `s` runs.
pub(crate) fn mine(units: &[Unit], s: Shard) -> Vec<Unit> {
    units
        .iter()
        .enumerate()
        .filter(|(i, _)| i % s.count == s.index)
        .map(|(_, u)| u.clone())
        .collect()
}

/// Names the whole plan: trail, window, selection and every unit. Shards
/// of one run carry the same fingerprint; the merge refuses any other.
pub fn fingerprint(
    trail: &str,
    start: Timestamp,
    end: Timestamp,
    selection: &str,
    units: &[Unit],
) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{trail}\n{}\n{}\n{selection}\n",
        display(start),
        display(end)
    ));
    for u in units {
        let slice = u
            .slice
            .map(|(a, b)| format!("{}..{}", display(a), display(b)))
            .unwrap_or_default();
        h.update(format!("{} {} {slice}\n", u.account, u.region));
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    fn t(s: &str) -> Timestamp {
        parse_user_time(s).unwrap()
    }

    #[test]
    fn parses_k_of_n_and_auto() {
        let none = |_: &str| None;
        assert_eq!(Shard::parse("2/4", none), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(Shard::parse("4/4", none), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("0/4", none).is_err());
        assert!(Shard::parse("5/4", none).is_err());
        assert!(Shard::parse("auto/4", none).is_err());
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "3".to_string());
        assert_eq!(
            Shard::parse("auto/4", k8s),
            Ok(Shard { index: 3, count: 4 })
        );
        let batch = |v: &str| (v == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "1".to_string());
        assert_eq!(
            Shard::parse("auto/2", batch),
            Ok(Shard { index: 1, count: 2 })
        );
        assert!(Shard::parse("x", none).is_err());
    }

    #[test]
    fn one_chain_is_cut_into_slices_that_cover_the_window() {
        let chains = vec![("111111111111".to_string(), "us-east-1".to_string())];
        let u = units(
            &chains,
            t("2026-03-01T00:00:00Z"),
            t("2026-03-02T00:00:00Z"),
            4,
        );
        assert_eq!(u.len(), 4);
        assert_eq!(u[0].slice.unwrap().0, t("2026-03-01T00:00:00Z"));
        assert_eq!(u[3].slice.unwrap().1, t("2026-03-02T00:00:00Z"));
        for w in u.windows(2) {
            assert_eq!(w[0].slice.unwrap().1, w[1].slice.unwrap().0);
        }
        let all: usize = (0..4)
            .map(|k| mine(&u, Shard { index: k, count: 4 }).len())
            .sum();
        assert_eq!(all, 4);
        // As many chains as shards: whole chains.
        let many: Vec<(String, String)> =
            (0..5).map(|i| (format!("{i:012}"), "r".into())).collect();
        assert!(units(
            &many,
            t("2026-03-01T00:00:00Z"),
            t("2026-03-02T00:00:00Z"),
            4
        )
        .iter()
        .all(|u| u.slice.is_none()));
    }
}
