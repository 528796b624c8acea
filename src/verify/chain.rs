//! Chain logic: which digests to fetch next, how digests link, where the
//! chain restarts (gaps) and where digests are missing. Pure: it works on
//! what the engine has already fetched and checked.

use crate::verify::digest::Digest;
use crate::verify::digest_check::{reason, DigestCheck, VerifiedDigest};
use crate::verify::layout::{parse_digest_key, DigestSeries};
use crate::verify::model::{Finding, Gap, GapKind, Problem, Status};
use crate::verify::time::Timestamp;
use chrono::Duration;
use std::collections::{HashMap, HashSet};

/// Most digests we infer missing between two known ones; a longer silence
/// is reported as a gap instead (it is more likely logging was off).
pub(crate) const MAX_INFERRED: i64 = 48;

/// What is known about one digest location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// The object could not be read (deleted, denied, unsafe key, ...).
    Unreadable(Finding),
    Checked(DigestCheck),
}

/// One digest location of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub bucket: String,
    pub key: String,
    /// End time taken from the key (CloudTrail names digests by end time).
    pub key_end: Option<Timestamp>,
    pub backfill: bool,
    /// Found by listing (as opposed to through a successor's pointer).
    pub listed: bool,
    pub state: NodeState,
}

impl Node {
    pub fn new(bucket: &str, key: &str, listed: bool, state: NodeState) -> Node {
        let parsed = parse_digest_key(key);
        Node {
            bucket: bucket.to_string(),
            key: key.to_string(),
            key_end: parsed.as_ref().map(|p| p.end),
            backfill: parsed
                .map(|p| p.backfill)
                .unwrap_or_else(|| key.ends_with("_backfill.json.gz")),
            listed,
            state,
        }
    }

    pub fn verified(&self) -> Option<&VerifiedDigest> {
        match &self.state {
            NodeState::Checked(DigestCheck::Verified(v)) => Some(v),
            _ => None,
        }
    }

    /// The digest's content when it could be parsed, trusted or not (timing only).
    pub fn parsed(&self) -> Option<&Digest> {
        match &self.state {
            NodeState::Checked(DigestCheck::Verified(v)) => Some(&v.digest),
            NodeState::Checked(DigestCheck::Failed { parsed, .. }) => parsed.as_deref(),
            NodeState::Unreadable(_) => None,
        }
    }

    /// Sort key: end time (verified content first, then the key's stamp).
    pub fn end(&self) -> Option<Timestamp> {
        self.verified().map(|v| v.digest.end).or(self.key_end)
    }

    pub fn start(&self) -> Option<Timestamp> {
        self.verified().map(|v| v.digest.start)
    }

    /// In an archive storage class: not read, so nothing of it is known
    /// but its name.
    pub fn archived(&self) -> bool {
        matches!(&self.state, NodeState::Unreadable(f) if f.problem == Problem::Archived)
    }

    fn id(&self) -> (&str, &str) {
        (&self.bucket, &self.key)
    }
}

/// Pointers from verified digests that the walk needs but has not fetched:
/// a digest that starts at or after the requested start still vouches for
/// the time before it, so its predecessor is in range.
pub(crate) fn pending_targets(nodes: &[Node], requested_start: Timestamp) -> Vec<(String, String)> {
    let known: HashSet<(&str, &str)> = nodes.iter().map(Node::id).collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for n in nodes {
        let Some(v) = n.verified() else { continue };
        let Some(p) = &v.digest.previous else {
            continue;
        };
        if v.digest.start < requested_start || known.contains(&(p.bucket.as_str(), p.key.as_str()))
        {
            continue;
        }
        let t = (p.bucket.clone(), p.key.clone());
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The chain's verdicts, in walk order (newest first), with gaps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChainOutcome {
    /// Node indices (into the input, plus inferred ones appended) newest first.
    pub order: Vec<usize>,
    /// Final verdict per node index.
    pub verdicts: Vec<(Status, Option<Finding>)>,
    /// Digests known to be missing only from the chain's timing, appended
    /// after the input nodes (their index is `input.len() + i`).
    pub inferred: Vec<Node>,
    /// Gaps, each attached to the node after which it is printed
    /// (`usize::MAX`: before every node).
    pub gaps: Vec<(usize, Gap)>,
    /// The chain's typical window (one hour).
    pub interval: Duration,
    pub backfill: bool,
}

/// The typical window length (CloudTrail: one hour); from verified digests.
fn typical_interval(nodes: &[Node]) -> Duration {
    let mut lens: Vec<i64> = nodes
        .iter()
        .filter_map(|n| n.verified())
        .map(|v| (v.digest.end - v.digest.start).num_seconds())
        .filter(|s| *s > 0)
        .collect();
    lens.sort_unstable();
    let median = lens.get(lens.len() / 2).copied().unwrap_or(3600);
    Duration::seconds(median.clamp(60, 86_400))
}

/// Walks one chain (standard or backfill digests, not both): verdicts, the
/// links between neighbours, gaps where the chain restarts and digests
/// inferred missing between known ones. The window's edges (tail, head) and
/// gap explanations are the proof's job (`proof.rs`).
///
/// `series` names inferred missing digests.
pub(crate) fn analyze(nodes: &[Node], series: &DigestSeries) -> ChainOutcome {
    let mut verdicts = initial_verdicts(nodes);
    let order = walk_order(nodes);
    let index: HashMap<(&str, &str), usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id(), i)).collect();
    mark_broken_links(nodes, &index, &mut verdicts);
    let mut out = ChainOutcome {
        order: Vec::new(),
        verdicts,
        inferred: Vec::new(),
        gaps: Vec::new(),
        interval: typical_interval(nodes),
        backfill: nodes.first().is_some_and(|n| n.backfill),
    };
    for (pos, &i) in order.iter().enumerate() {
        out.order.push(i);
        if let Some(&older) = order.get(pos + 1) {
            join_neighbours(nodes, &index, i, older, series, &mut out);
        }
    }
    out
}

/// Every node's verdict on its own (before links are checked).
fn initial_verdicts(nodes: &[Node]) -> Vec<(Status, Option<Finding>)> {
    nodes
        .iter()
        .map(|n| match &n.state {
            NodeState::Unreadable(f) if f.problem == Problem::Archived => {
                (Status::Unverified, Some(f.clone()))
            }
            NodeState::Unreadable(f) => (Status::Invalid, Some(f.clone())),
            NodeState::Checked(DigestCheck::Verified(_)) => (Status::Valid, None),
            // Neither verified nor refuted with the operator's keys file.
            NodeState::Checked(DigestCheck::Failed { finding, .. })
                if finding.problem == Problem::KeyNotInFile =>
            {
                (Status::Unverified, Some(finding.clone()))
            }
            NodeState::Checked(DigestCheck::Failed { finding, .. }) => {
                (Status::Invalid, Some(finding.clone()))
            }
        })
        .collect()
}

/// Newest first; ties broken by location so output is deterministic.
fn walk_order(nodes: &[Node]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        let (na, nb) = (&nodes[a], &nodes[b]);
        nb.end().cmp(&na.end()).then_with(|| na.id().cmp(&nb.id()))
    });
    order
}

/// The successor (verified) vouches for its predecessor's exact signature
/// and bytes. A predecessor that verifies alone but is not the one vouched
/// for is a broken link.
fn mark_broken_links(
    nodes: &[Node],
    index: &HashMap<(&str, &str), usize>,
    verdicts: &mut [(Status, Option<Finding>)],
) {
    for n in nodes {
        let Some(v) = n.verified() else { continue };
        let Some(p) = &v.digest.previous else {
            continue;
        };
        let Some(&ti) = index.get(&(p.bucket.as_str(), p.key.as_str())) else {
            continue;
        };
        let Some(t) = nodes[ti].verified() else {
            continue;
        };
        let wrong = link_mismatches(p, t);
        if !wrong.is_empty() && verdicts[ti].0 == Status::Valid {
            let reason = format!(
                "does not match the digest that follows it (s3://{}/{})",
                n.bucket, n.key
            );
            verdicts[ti] = (
                Status::Invalid,
                Some(Finding::new(Problem::ChainLink, reason).with_detail(wrong.join("; "))),
            );
        }
    }
}

fn link_mismatches(p: &crate::verify::digest::PreviousDigest, t: &VerifiedDigest) -> Vec<String> {
    let mut wrong = Vec::new();
    if let Some(a) = p.hash_algorithm.as_deref() {
        if !a.eq_ignore_ascii_case("SHA-256") {
            wrong.push(format!("unsupported previousDigestHashAlgorithm {a:?}"));
        }
    }
    let lower = |v: &Option<String>| v.as_deref().map(str::to_ascii_lowercase);
    if lower(&p.hash_value).as_deref() != Some(t.sha256_hex.as_str()) {
        wrong.push("its SHA-256 differs from previousDigestHashValue".to_string());
    }
    let signature = p.signature.as_deref().map(str::to_ascii_lowercase);
    if signature.as_deref() != Some(t.signature_hex.as_str()) {
        wrong.push("its signature differs from previousDigestSignature".to_string());
    }
    wrong
}

/// How newer node `i` is joined to the next older node: a chain restart is
/// a gap; an unknown link spanning more than one window means the digests
/// between are missing (one inferred finding each), or, past
/// [`MAX_INFERRED`], a gap.
fn join_neighbours(
    nodes: &[Node],
    index: &HashMap<(&str, &str), usize>,
    i: usize,
    older: usize,
    series: &DigestSeries,
    out: &mut ChainOutcome,
) {
    let (n, o) = (&nodes[i], &nodes[older]);
    let backfill = out.backfill;
    let link_known = match n.verified() {
        Some(v) => match &v.digest.previous {
            None => {
                if let (Some(gs), Some(ge)) = (o.end(), n.start()) {
                    out.gaps
                        .push((i, Gap::new(gs, ge, backfill, GapKind::ChainRestart)));
                }
                true
            }
            Some(p) => index.get(&(p.bucket.as_str(), p.key.as_str())) == Some(&older),
        },
        None => false,
    };
    if link_known || backfill {
        return;
    }
    let (Some(ne), Some(oe)) = (n.end(), o.end()) else {
        return;
    };
    let interval = out.interval;
    let missing =
        ((ne - oe).num_seconds() as f64 / interval.num_seconds() as f64).round() as i64 - 1;
    if missing <= 0 {
        return;
    }
    if missing > MAX_INFERRED {
        let end = n.start().unwrap_or(ne - interval);
        out.gaps
            .push((i, Gap::new(oe, end, backfill, GapKind::ChainRestart)));
        return;
    }
    for k in (1..=missing).rev() {
        let end = oe + interval * (k as i32);
        if index.contains_key(&(n.bucket.as_str(), series.key(end, false).as_str())) {
            continue;
        }
        let detail = format!(
            "inferred: no digest covers this hour between {} and {} (the key follows the hourly \
             schedule); it was deleted, or logging or validation was off and the missing digest \
             after it restarted the chain",
            o.key, n.key
        );
        out.push_inferred(nodes.len(), &n.bucket, series, end, detail);
    }
}

impl ChainOutcome {
    /// Adds a digest known missing only from the schedule (a `not_found`
    /// finding), after the node last pushed to `order`.
    pub(crate) fn push_inferred(
        &mut self,
        input_len: usize,
        bucket: &str,
        series: &DigestSeries,
        end: Timestamp,
        detail: String,
    ) {
        let finding = Finding::new(Problem::NotFound, reason::NOT_FOUND).with_detail(detail);
        self.order.push(input_len + self.inferred.len());
        self.verdicts.push((Status::Invalid, Some(finding.clone())));
        let mut node = Node::new(
            bucket,
            &series.key(end, self.backfill),
            false,
            NodeState::Unreadable(finding),
        );
        node.key_end = Some(end);
        self.inferred.push(node);
    }

    /// The node behind an index of `order`.
    pub fn node<'a>(&'a self, nodes: &'a [Node], idx: usize) -> &'a Node {
        if idx < nodes.len() {
            &nodes[idx]
        } else {
            &self.inferred[idx - nodes.len()]
        }
    }
}

/// Verified test digests on an hourly schedule, shared by the chain and
/// proof tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::verify::digest::PreviousDigest;
    use crate::verify::digest_check::VerifiedDigest;
    use crate::verify::layout::AccountRoot;
    use crate::verify::time::display;

    pub fn series() -> DigestSeries {
        DigestSeries {
            root: AccountRoot::new(None, None, "123456789012"),
            source_region: "us-east-1".into(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        }
    }

    /// A verified digest for the hour ending at `end_of(h)`; `prev` links
    /// it to the hour before unless it is a chain start.
    pub(crate) fn verified_with(end_of: impl Fn(i64) -> Timestamp, h: i64, prev: bool) -> Node {
        let s = series();
        let key = s.key(end_of(h), false);
        let previous = prev.then(|| PreviousDigest {
            bucket: "b".into(),
            key: s.key(end_of(h - 1), false),
            hash_value: Some(format!("hash{}", h - 1)),
            hash_algorithm: Some("SHA-256".into()),
            signature: Some(format!("sig{}", h - 1).into()),
        });
        let digest = Digest {
            account_id: None,
            start: end_of(h) - Duration::hours(1),
            end: end_of(h),
            end_raw: display(end_of(h)),
            bucket: "b".into(),
            key: key.clone(),
            fingerprint: "f".into(),
            signature_algorithm: None,
            previous_signature: previous.as_ref().and_then(|p| p.signature.clone()),
            previous,
            log_files: vec![],
        };
        Node::new(
            "b",
            &key,
            true,
            NodeState::Checked(DigestCheck::Verified(Box::new(VerifiedDigest {
                digest,
                sha256_hex: format!("hash{h}"),
                signature_hex: format!("sig{h}"),
            }))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{series, verified_with};
    use super::*;
    use crate::verify::time::{display, parse_user_time};

    fn t0() -> Timestamp {
        parse_user_time("2020-01-01T00:10:00Z").unwrap()
    }

    fn end_of(h: i64) -> Timestamp {
        t0() + Duration::hours(h + 1)
    }

    fn verified(h: i64, prev: bool) -> Node {
        verified_with(end_of, h, prev)
    }

    fn missing(h: i64) -> Node {
        Node::new(
            "b",
            &series().key(end_of(h), false),
            false,
            NodeState::Unreadable(Finding::new(Problem::NotFound, "not found")),
        )
    }

    fn statuses(nodes: &[Node], out: &ChainOutcome) -> Vec<(String, Status)> {
        out.order
            .iter()
            .map(|&i| {
                let n = if i < nodes.len() {
                    &nodes[i]
                } else {
                    &out.inferred[i - nodes.len()]
                };
                (
                    n.key_end.map(display).unwrap_or_default(),
                    out.verdicts[i].0,
                )
            })
            .collect()
    }

    #[test]
    fn intact_chain_is_valid_newest_first() {
        let nodes = vec![verified(0, false), verified(2, true), verified(1, true)];
        let out = analyze(&nodes, &series());
        let st = statuses(&nodes, &out);
        assert_eq!(st.len(), 3);
        assert!(st.iter().all(|(_, s)| *s == Status::Valid));
        assert_eq!(st[0].0, display(end_of(2)));
        assert!(out.gaps.is_empty());
        assert!(pending_targets(&nodes, t0()).is_empty());
    }

    #[test]
    fn pointer_targets_outside_the_listing_are_requested() {
        let nodes = vec![verified(2, true), verified(1, true)];
        let want = vec![("b".to_string(), series().key(end_of(0), false))];
        assert_eq!(pending_targets(&nodes, t0()), want);
        // The predecessor of a digest that starts before the range is not needed.
        assert!(pending_targets(&nodes, t0() + Duration::hours(2)).is_empty());
    }

    #[test]
    fn two_consecutive_deleted_digests_are_two_findings() {
        // Hours 2 and 3 deleted: 4 points at 3 (fetched, missing); 2 is inferred.
        let nodes = vec![
            verified(0, false),
            verified(1, true),
            missing(3),
            verified(4, true),
        ];
        let out = analyze(&nodes, &series());
        let st = statuses(&nodes, &out);
        let invalid: Vec<_> = st.iter().filter(|(_, s)| *s == Status::Invalid).collect();
        assert_eq!(invalid.len(), 2, "{st:?}");
        assert_eq!(out.inferred.len(), 1);
        assert_eq!(out.inferred[0].key, series().key(end_of(2), false));
        assert_eq!(st.len(), 5);
    }

    #[test]
    fn chain_restart_is_a_gap_not_a_finding() {
        let nodes = vec![verified(0, false), verified(3, false), verified(4, true)];
        let out = analyze(&nodes, &series());
        assert!(out.verdicts.iter().all(|(s, _)| *s == Status::Valid));
        assert_eq!(out.gaps.len(), 1);
        let g = &out.gaps[0].1;
        assert_eq!((g.start, g.end), (end_of(0), end_of(2)));
        assert_eq!(g.kind, GapKind::ChainRestart);
        assert!(out.inferred.is_empty());
    }

    #[test]
    fn broken_link_marks_the_predecessor() {
        let mut nodes = vec![verified(0, false), verified(1, true)];
        if let NodeState::Checked(DigestCheck::Verified(v)) = &mut nodes[0].state {
            v.sha256_hex = "other".into();
        }
        let out = analyze(&nodes, &series());
        assert_eq!(out.verdicts[0].0, Status::Invalid);
        assert_eq!(
            out.verdicts[0].1.as_ref().unwrap().problem,
            Problem::ChainLink
        );
        assert_eq!(out.verdicts[1].0, Status::Valid);
    }
}
