//! The engine: runs one chain's validation in named phases (walk the
//! digests, verify the log files, close the window, list the folders,
//! assemble the report). The only module that schedules work; every
//! decision is made by the pure modules it calls.

mod assemble;
mod behind;
mod blind;
mod cross_check;
mod folders;
mod home;
mod levels;
mod logs;
mod recover;
pub mod shared;
mod story;
mod unrecorded;
mod walk;

use crate::plan::Plan;
use crate::run::progress::Progress;
use crate::sources::keys::{KeySource, KeySourceError};
use crate::sources::lookup::LifecycleLookup;
use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::chain::{self, Node};
use crate::verify::digest_check::reason;
use crate::verify::layout::DigestSeries;
use crate::verify::model::{Finding, Problem, Report, Unproven};
use crate::verify::proof;
use crate::verify::pubkeys::PublicKeySet;
use chrono::Duration;
use std::sync::Arc;

/// Reads of one object's body: the SDK retries a request up to its
/// response headers; a body cut short after them is read again here.
pub(crate) const BODY_ATTEMPTS: usize = 5;

/// Errors that make a run meaningless; each is one sentence with a hint.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot list s3://{bucket}/{prefix}: {source}")]
    List {
        bucket: String,
        prefix: String,
        source: StoreError,
    },
    #[error("cannot get public keys: {0}")]
    Keys(#[from] KeySourceError),
    #[error(
        "no digest folder s3://{bucket}/{prefix} ({hint}); if this is where the trail \
         delivers, every object of the trail there was deleted"
    )]
    NoDigestFolder {
        bucket: String,
        prefix: String,
        hint: String,
    },
    #[error(
        "none of the {0} digests read carries signature metadata: the copy was made without it; \
         copy with `aws s3api get-object` (which keeps x-amz-meta-signature) or validate against S3"
    )]
    NoMetadata(usize),
    #[error(
        "every digest in the local folder {folder} says it belongs to bucket {bucket}: the copy's \
         folder must be named after its bucket (rename {folder} to {bucket}, or pass \
         --s3-bucket {bucket} if a folder of that name holds it)"
    )]
    FolderNotNamedAfterBucket { folder: String, bucket: String },
    #[error(
        "no digest of trail {trail} from the window's start on, but digests of trail(s) {found} \
         in its folder: check the trail's name in --trail-arn (if it is right, its digests from \
         the window on are gone: validate with --start-time before the loss to see them missing)"
    )]
    OtherTrails { trail: String, found: String },
    #[error(
        "the public keys file holds no key for the time digests of region {region} were signed \
         with keys it lacks (a key rotation after the file was made?): fetch them with \
         `trailproof keys --region {region} --start-time {start} --end-time {end}` and add them"
    )]
    StaleKeys {
        region: String,
        start: String,
        end: String,
    },
    #[error(
        "the window ends before the chain's first digest s3://{bucket}/{key}, which starts at \
         {start} with no previous digest (validation began then): give a --start-time at or \
         after it"
    )]
    BeforeFirstDigest {
        bucket: String,
        key: String,
        start: String,
    },
}

/// The unit of [`Engine::buffers`].
pub(crate) const BUFFER_UNIT: u64 = 64 * 1024;

/// Runs validations against one store and one key source.
pub struct Engine {
    pub store: Arc<dyn ObjectStore>,
    /// The version of every object the run read (S3: its ETag).
    pub(crate) read_pins: Arc<crate::sources::store::limit::ReadPins>,
    pub keys: Arc<dyn KeySource>,
    pub progress: Arc<dyn Progress>,
    /// LookupEvents in live mode; None offline.
    pub lookup: Option<Arc<dyn LifecycleLookup>>,
    /// One permit per core for inflating and hashing a log file held in
    /// memory: bounds CPU work and its buffers across all chains.
    pub cpu: Arc<tokio::sync::Semaphore>,
    /// Bytes of log files read whole and waiting for a CPU permit, in
    /// `BUFFER_UNIT`s: reading runs ahead of hashing by this much at most.
    pub buffers: Arc<tokio::sync::Semaphore>,
    pub inflater: crate::verify::gzip::Inflater,
    /// The trail's coverage changes its home chain's verified logs hold,
    /// for the run's other chains (a call is recorded once).
    pub home_calls: shared::HomeCalls,
    /// Where event history begins, fixed once per run as the key of the
    /// configuration calls' answer: every chain and the prefetch ask the
    /// same window, so they share it (what event history still holds is
    /// judged against its edge at the time).
    pub(crate) history_from: crate::verify::time::Timestamp,
}

/// Maps a store error on one object to a finding on that object.
pub(crate) fn store_finding(e: &StoreError) -> Finding {
    match e {
        StoreError::NotFound => Finding::new(Problem::NotFound, reason::NOT_FOUND),
        StoreError::NoSuchBucket(b) => Finding::new(Problem::NotFound, reason::NOT_FOUND)
            .with_detail(format!("bucket {b} does not exist")),
        StoreError::AccessDenied(m) => {
            Finding::new(Problem::AccessDenied, "access denied").with_detail(m.clone())
        }
        StoreError::TooLarge(_) => {
            Finding::new(Problem::Format, reason::INVALID_FORMAT).with_detail(e.to_string())
        }
        StoreError::BadMetadata(_) => {
            Finding::new(Problem::Signature, reason::SIGNATURE_FAILED).with_detail(e.to_string())
        }
        StoreError::Archived(class) => Finding::new(
            Problem::Archived,
            format!("archived ({class}), not verified"),
        )
        .with_detail(format!(
            "the object is in {class}: restore it (aws s3api restore-object, or --restore-plan \
             FILE for the list) and run again; until then it is neither verified nor refuted"
        )),
        StoreError::InvalidKey(_)
        | StoreError::Credentials(_)
        | StoreError::ListingCut(_)
        | StoreError::Io(_) => {
            Finding::new(Problem::ReadError, "could not be read").with_detail(e.to_string())
        }
    }
}

impl Engine {
    /// The engine of one run over the opened sources: `concurrency`
    /// requests in flight for every chain together.
    pub fn new(
        sources: &crate::plan::connect::Sources,
        concurrency: usize,
        inflater: crate::verify::gzip::Inflater,
        quiet: bool,
    ) -> Engine {
        use std::io::IsTerminal;
        let progress: Arc<dyn Progress> = if !quiet && std::io::stderr().is_terminal() {
            Arc::new(crate::run::progress::Bar::new())
        } else {
            Arc::new(crate::run::progress::Silent)
        };
        let limited =
            crate::sources::store::limit::Limited::new(sources.store.clone(), concurrency);
        Engine {
            read_pins: limited.pins.clone(),
            store: Arc::new(limited),
            keys: sources.keys.clone(),
            progress,
            lookup: sources.lookup.clone(),
            cpu: Engine::cpu_pool(),
            buffers: Engine::buffer_budget(),
            inflater,
            home_calls: Default::default(),
            history_from: blind::history_from(),
        }
    }

    /// The budget for [`Engine::buffers`]: 256 MiB.
    pub(crate) fn buffer_budget() -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(
            (256 * 1024 * 1024 / BUFFER_UNIT) as usize,
        ))
    }

    /// The CPU pool's permits: one per core.
    pub(crate) fn cpu_pool() -> Arc<tokio::sync::Semaphore> {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(tokio::sync::Semaphore::new(n))
    }

    pub async fn validate(&self, plan: &Plan) -> Result<Report, EngineError> {
        let series = plan.series();
        let no_digest_folder =
            plan.require_digest_folder && self.require_digest_folder(plan, &series).await?;
        let (mut walk, keyset, key_note, unjudged) = self.walk_judged(plan, &series).await?;
        let before_chain = self.window_before_chain(plan, &walk).await;
        if let Some(record) = &plan.checkpoint {
            crate::plan::checkpoint::check(record, &mut walk.nodes);
        }
        let listing_complete = walk.listing_complete;
        let (std_nodes, bf_nodes): (Vec<Node>, Vec<Node>) =
            walk.nodes.into_iter().partition(|n| !n.backfill);
        let mut std_out = chain::analyze(&std_nodes, &series);
        let bf_out = chain::analyze(&bf_nodes, &series);
        let needs_events = !covered_without_events(&std_nodes, &std_out, plan);
        let skip = verified_by_the_record(plan, needs_events);
        let book = assemble::log_book(&[(&std_nodes, &std_out), (&bf_nodes, &bf_out)], skip);
        // The folders are listed while the log files are read: neither
        // waits on the other.
        let reading = self.read_logs(plan, &book, needs_events);
        let listing = self.list_log_folders(plan, &book, &std_nodes);
        let ((log_verdicts, mut records, complete), listing) = futures::join!(reading, listing);
        let logged_calls = std::mem::take(&mut records.bucket_calls);
        let calls_unread = records.calls_unread;
        let mut events = std::mem::take(&mut records.lifecycle);
        if needs_events {
            let behind = self.look_behind(plan, &series, &std_nodes, &std_out, &keyset, &events);
            let found = behind.await;
            events.extend(found);
        }
        let logs_read = records.unread == 0;
        let share = self.share_lifecycle(plan, &mut events, needs_events, logs_read);
        let lifecycle_calls = share.await;
        if let Some(first) = before_chain.filter(|f| f.created_then(&events)) {
            return Err(first.into_error());
        }
        // Event history answers for the caller's own account only.
        let lookup_asked =
            self.lookup.is_some() && self.history_refused(&plan.trail.account).await.is_none();
        let window = plan.window(complete, listing_complete, lookup_asked);
        let mut closure = proof::close_window(&std_nodes, &mut std_out, &series, &window, &events);
        closure.unproven.extend(unjudged);
        if no_digest_folder {
            closure.unproven.push(Unproven::NoDigestFolder);
            closure.no_digest_folder = true;
        }
        let folders =
            folders::judge_log_folders(plan, listing, &book, (&std_nodes, &std_out, &closure));
        let mut report = assemble::report(
            plan,
            assemble::Chains {
                std_nodes: &std_nodes,
                std_out: &std_out,
                bf_nodes: &bf_nodes,
                bf_out: &bf_out,
            },
            &book,
            log_verdicts,
            folders,
            walk.unexpected,
            &closure,
        );
        report.notes.extend(key_note);
        report.lifecycle_calls = lifecycle_calls;
        let near = recover::Neighbours {
            nodes: [&std_nodes, &bf_nodes],
        };
        report.recovery = self.recover(plan, &report, &book, &near, &keyset).await;
        self.bucket_story(plan, &book, logged_calls, &mut report)
            .await;
        if calls_unread > 0 {
            report.notes.push(format!(
                "{calls_unread} verified log file(s) naming calls on the trail's bucket or key \
                 could not be read again for them: the calls listed may be incomplete"
            ));
        }
        self.what_was_not_recorded(plan, &mut report, records).await;
        if !complete {
            report.notes.push(
                "Some lifecycle records could not be read (LookupEvents failed or was denied, or a \
                 log file changed between reads): gaps at the window's edges stay unexplained"
                    .to_string(),
            );
        }
        self.progress.finish();
        Ok(report)
    }

    /// Fetches the keys, walks the digests and refuses what is the
    /// operator's mistake; returns the walk, the keys, a note on unknown
    /// fingerprints and the line for digests the keys file cannot judge.
    async fn walk_judged(
        &self,
        plan: &Plan,
        series: &DigestSeries,
    ) -> Result<(walk::Walk, PublicKeySet, Option<String>, Option<Unproven>), EngineError> {
        // Listing first would waste time when no keys exist (aws-cli #4250).
        let mut keyset = PublicKeySet::new();
        let keys_until = plan.end + Duration::hours(2);
        let keys = self
            .keys
            .keys_between(&plan.source_region, plan.start, keys_until);
        keyset.extend(keys.await?);
        let mut walk = self.walk_digests(plan, series, &mut keyset).await?;
        refuse_stale_keys(&walk, plan, &keyset)?;
        self.refuse_other_trails_name(plan, series, &walk, &keyset)
            .await?;
        refuse_operator_mistakes(&walk, plan)?;
        archived_after_now(&mut walk, plan);
        let key_note = unknown_key_note(&walk, plan);
        let unjudged = mark_unjudged(&mut walk, plan, &keyset);
        Ok((walk, keyset, key_note, unjudged))
    }

    /// Verifies the log files and gathers every lifecycle record: the
    /// verified logs', the operator's, and (live, when a gap needs them)
    /// LookupEvents'. The flag says whether every source answered in full.
    async fn read_logs(
        &self,
        plan: &Plan,
        book: &logs::LogBook,
        needs_events: bool,
    ) -> (Vec<crate::verify::model::LogVerdict>, logs::Records, bool) {
        let (log_verdicts, mut records, mut complete) =
            self.verify_logs(book, plan, plan.cross_check).await;
        let events = &mut records.lifecycle;
        events.extend(plan.known_events.iter().cloned());
        if let (Some(lookup), true) = (&self.lookup, needs_events) {
            let from = plan.events_window.0.min(plan.start) - Duration::hours(2);
            let to = plan.events_window.1.max(plan.end);
            match lookup.lifecycle_events(&plan.trail, from, to).await {
                Some(found) => events.extend(found),
                None => complete = false,
            }
        }
        (log_verdicts, records, complete)
    }

    /// A typo in the account, region, prefix or organization id matches no
    /// folder: an error naming what does exist, never "No digests found".
    /// Log files of the chain with no digest folder at all are no typo:
    /// validation was never on, or the digests were deleted. Returns true
    /// then, and the run goes on to say so (not proven, or deleted digests
    /// where CloudTrail's status shows deliveries).
    async fn require_digest_folder(
        &self,
        plan: &Plan,
        series: &DigestSeries,
    ) -> Result<bool, EngineError> {
        let prefix = series.root.digest_region_prefix(&series.source_region);
        let page = self
            .store
            .list_page(&plan.digest_bucket, &prefix, None)
            .await
            .map_err(|source| EngineError::List {
                bucket: plan.digest_bucket.clone(),
                prefix: prefix.clone(),
                source,
            })?;
        if page.keys.iter().any(|k| k.starts_with(&prefix)) {
            return Ok(false);
        }
        let logs = series.root.log_region_prefix(&series.source_region);
        if let Ok(page) = self.store.list_page(&plan.digest_bucket, &logs, None).await {
            let ours = |k: &String| {
                crate::verify::layout::parse_log_key(k)
                    .is_some_and(|l| l.root == series.root && l.region == series.source_region)
            };
            if page.keys.iter().any(ours) {
                return Ok(true);
            }
        }
        // CloudTrail says the trail delivers here with validation on: the
        // chain is judged as one whose digests are all gone.
        // (Without GetTrailStatus, offline or denied, the span cannot be
        // stated: not proven.)
        let covered = plan.status.as_ref().is_none_or(|s| s.covers_region);
        if plan.delivers_here && covered {
            return Ok(false);
        }
        let hint = crate::plan::discover::what_exists(
            self.store.as_ref(),
            &plan.digest_bucket,
            &plan.root,
            &plan.source_region,
        )
        .await;
        Err(EngineError::NoDigestFolder {
            bucket: plan.digest_bucket.clone(),
            prefix,
            hint,
        })
    }
}

/// The chain's first digest, when the whole window lies before it.
struct FirstDigest {
    bucket: String,
    key: String,
    start: crate::verify::time::Timestamp,
    end: crate::verify::time::Timestamp,
}

impl FirstDigest {
    /// CloudTrail recorded the trail's creation in this digest's period, and
    /// no stop before it: nothing of the trail existed before. Without that
    /// record (a restart after deleted history looks the same), the window
    /// goes the normal way and its gap is a finding.
    fn created_then(&self, events: &[crate::verify::lifecycle::LifecycleEvent]) -> bool {
        use crate::verify::lifecycle::{Lifecycle, SLACK};
        let created = events.iter().find(|e| {
            e.kind == Lifecycle::TrailCreated
                && e.time + SLACK >= self.start
                && e.time <= self.end + SLACK
        });
        created.is_some_and(|c| !events.iter().any(|e| e.kind.is_stop() && e.time <= c.time))
    }

    fn into_error(self) -> EngineError {
        EngineError::BeforeFirstDigest {
            bucket: self.bucket,
            key: self.key,
            start: crate::verify::time::display(self.start),
        }
    }
}

impl Engine {
    /// A window (a year typo) that ends before the chain's first digest,
    /// which AWS signed as a start (no previous digest), may prove nothing
    /// of the trail: the operator's mistake, not an explained gap. A
    /// candidate only when nothing of the trail lies before that digest: no
    /// other digest, and no log file in its folder (those would be deleted
    /// history, which the normal path reports); the trail's creation record
    /// decides (`FirstDigest::created_then`).
    async fn window_before_chain(&self, plan: &Plan, walk: &walk::Walk) -> Option<FirstDigest> {
        if !plan.require_digest_folder {
            return None;
        }
        let (node, v) = walk
            .nodes
            .iter()
            .filter(|n| !n.backfill)
            .filter_map(|n| n.verified().map(|v| (n, v)))
            .min_by_key(|(_, v)| v.digest.start)?;
        let first_start = v.digest.start;
        let before =
            |t: Option<crate::verify::time::Timestamp>| t.is_some_and(|t| t <= first_start);
        if v.digest.previous.is_some()
            || first_start < plan.events_window.1
            || walk.nodes.iter().any(|n| before(n.end()))
        {
            return None;
        }
        let logs = plan.root.log_region_prefix(&plan.source_region);
        let page = self
            .store
            .list_page(&plan.digest_bucket, &logs, None)
            .await
            .ok()?;
        let earlier_log = page
            .keys
            .iter()
            .any(|k| crate::verify::layout::parse_log_key(k).is_none_or(|l| l.time < first_start));
        (!earlier_log).then(|| FirstDigest {
            bucket: node.bucket.clone(),
            key: node.key.clone(),
            start: first_start,
            end: v.digest.end,
        })
    }
}

/// A copy without metadata, or keys for another region, would otherwise
/// become a flood of findings: refuse them when not one digest verified.
fn refuse_operator_mistakes(walk: &walk::Walk, plan: &Plan) -> Result<(), EngineError> {
    if walk.nodes.iter().any(|n| n.verified().is_some()) || walk.fetched == 0 {
        return Ok(());
    }
    if plan.local_copy && walk.unsigned == walk.fetched {
        return Err(EngineError::NoMetadata(walk.fetched));
    }
    if plan.local_copy {
        if let Some(bucket) = copied_under_another_name(walk) {
            return Err(EngineError::FolderNotNamedAfterBucket {
                folder: plan.digest_bucket.clone(),
                bucket,
            });
        }
    }
    Ok(())
}

/// The digests whose only failing check so far is a fingerprint the keys
/// lack, with that fingerprint.
fn unknown_fingerprints(walk: &walk::Walk) -> impl Iterator<Item = (&Node, &String)> {
    use crate::verify::digest_check::DigestCheck;
    walk.nodes.iter().filter_map(|n| match &n.state {
        chain::NodeState::Checked(DigestCheck::Failed {
            unknown_fingerprint: Some(fp),
            ..
        }) => Some((n, fp)),
        _ => None,
    })
}

/// Every digest signed with a fingerprint the keys file lacks, while the
/// file holds keys for their time (`refuse_stale_keys` took the other
/// case): forged digests, which are findings; or a keys file of another
/// region, which the note says how to rule out.
fn unknown_key_note(walk: &walk::Walk, plan: &Plan) -> Option<String> {
    if !plan.keys_from_file || walk.fetched == 0 {
        return None;
    }
    let unknown: Vec<&String> = unknown_fingerprints(walk).map(|(_, fp)| fp).collect();
    let first = unknown.first().filter(|_| unknown.len() == walk.fetched)?;
    Some(format!(
        "None of the {} digests' fingerprints (e.g. {first}) is in the public keys file, although \
         it holds keys for their time: the digests were forged, or the file is another region's; \
         fetch this region's keys with `trailproof keys --region {}` to rule the second out",
        walk.fetched, plan.source_region
    ))
}

/// An archived object named like a digest ending after now (and the hour a
/// digest may run ahead of its name) is no CloudTrail digest: its name
/// would otherwise stand for a chain going on. A finding, not "archived".
fn archived_after_now(walk: &mut walk::Walk, plan: &Plan) {
    let late = plan.now + Duration::hours(1);
    for n in walk.nodes.iter_mut().filter(|n| n.archived()) {
        if n.key_end.is_some_and(|t| t > late) {
            let f = Finding::new(Problem::Format, reason::INVALID_FORMAT).with_detail(
                "an archived object named like a digest that ends after now: no CloudTrail digest",
            );
            n.state = chain::NodeState::Unreadable(f);
        }
    }
}

/// The checkpointed digest, whose log files the run that recorded it
/// verified: they are read again only when a gap must be explained (the
/// record of a stop may be in them, look-behind), or when the chain was
/// widened back behind its record (the retention watch, --start-time),
/// where those files are in question.
fn verified_by_the_record(
    plan: &Plan,
    needs_events: bool,
) -> Option<&crate::plan::checkpoint::Record> {
    let resumes_at_record =
        |r: &&crate::plan::checkpoint::Record| r.end_time().is_some_and(|e| plan.start >= e);
    plan.checkpoint
        .as_ref()
        .filter(resumes_at_record)
        .filter(|_| !needs_events)
}

/// Some digests verified with the keys file, others are signed with keys it
/// lacks at times it holds no key for: a rotation after the file was made
/// (or digests planted with such times, which this file cannot refute
/// either). Neither verified nor refuted: `key_not_in_file`, and the window
/// is not proven with this file; the line says how to fetch the span.
fn mark_unjudged(walk: &mut walk::Walk, plan: &Plan, keys: &PublicKeySet) -> Option<Unproven> {
    use crate::verify::digest_check::DigestCheck;
    if !plan.keys_from_file || !walk.nodes.iter().any(|n| n.verified().is_some()) {
        return None;
    }
    // Only when some digest lies more than an hour from every key of the
    // file (a file made before a rotation); otherwise an unknown
    // fingerprint stays a finding.
    uncovered_span(walk, keys, plan.now)?;
    let covered = |t| keys.sorted().iter().any(|k| k.covers_digest_end(t));
    // No genuine digest ends after now: a name from the future is no
    // rotation the file missed, and stays a finding.
    let possible = |t| t <= plan.now + Duration::hours(1);
    let mut marked = Vec::new();
    for n in &mut walk.nodes {
        if n.key_end.is_none_or(|t| covered(t) || !possible(t)) {
            continue;
        }
        if let chain::NodeState::Checked(DigestCheck::Failed {
            finding,
            unknown_fingerprint: Some(_),
            ..
        }) = &mut n.state
        {
            finding.problem = crate::verify::model::Problem::KeyNotInFile;
            marked.extend(n.key_end);
        }
    }
    // The span to fetch is the one of the digests marked, whatever else.
    let (from, to) = day_span(&marked)?;
    Some(Unproven::KeysFileLacks {
        region: plan.source_region.clone(),
        from,
        to,
    })
}

/// The days (a day either side) of the digests signed with a fingerprint
/// the keys file lacks at a time (from the object's name, not its unverified
/// content) that no key of the file covers.
fn uncovered_span(
    walk: &walk::Walk,
    keys: &PublicKeySet,
    now: crate::verify::time::Timestamp,
) -> Option<(String, String)> {
    let hour = Duration::hours(1);
    let uncovered: Vec<crate::verify::time::Timestamp> = unknown_fingerprints(walk)
        .filter_map(|(n, _)| n.key_end)
        // A name from the future is no digest a keys file could have missed.
        .filter(|t| *t <= now + hour)
        .filter(|t| {
            !keys
                .sorted()
                .iter()
                .any(|k| k.valid_during(*t - hour, *t + hour))
        })
        .collect();
    day_span(&uncovered)
}

/// The days from the one before the earliest of `times` to the one after
/// the latest: what `trailproof keys` is asked for.
fn day_span(times: &[crate::verify::time::Timestamp]) -> Option<(String, String)> {
    let (from, to) = (times.iter().min()?, times.iter().max()?);
    let day = |t: crate::verify::time::Timestamp| t.format("%Y-%m-%d").to_string();
    Some((day(*from - Duration::days(1)), day(*to + Duration::days(1))))
}

/// Digests signed with fingerprints the keys file lacks, at times no key of
/// the file covers: the file predates (or postdates) them, as across a key
/// rotation. The operator's stale file, not a forgery: a forged digest needs
/// a time the file covers to pass for anything.
fn refuse_stale_keys(
    walk: &walk::Walk,
    plan: &Plan,
    keys: &PublicKeySet,
) -> Result<(), EngineError> {
    // A digest that verified with this file proves it is the right one: an
    // odd digest beside it is a finding, not a stale file.
    if !plan.keys_from_file || walk.nodes.iter().any(|n| n.verified().is_some()) {
        return Ok(());
    }
    let Some((start, end)) = uncovered_span(walk, keys, plan.now) else {
        return Ok(());
    };
    Err(EngineError::StaleKeys {
        region: plan.source_region.clone(),
        start,
        end,
    })
}

/// The bucket every digest of a local copy names, when each one's key is
/// where it lies and only the bucket differs: the copy's folder is named
/// otherwise (`aws s3 sync s3://B ./copy`), not a copy of moved digests.
fn copied_under_another_name(walk: &walk::Walk) -> Option<String> {
    use crate::verify::digest_check::DigestCheck;
    let mut named: Option<&str> = None;
    let mut count = 0;
    for n in &walk.nodes {
        let chain::NodeState::Checked(DigestCheck::Failed {
            finding,
            parsed: Some(d),
            ..
        }) = &n.state
        else {
            continue;
        };
        if finding.problem != crate::verify::model::Problem::Moved || d.key != n.key {
            return None;
        }
        if named.is_some_and(|b| b != d.bucket) {
            return None;
        }
        named = Some(&d.bucket);
        count += 1;
    }
    (count == walk.fetched).then_some(named?.to_string())
}

/// Whether the chain alone covers the window (no gap, reaches both edges):
/// then LookupEvents has nothing to explain and is not asked.
fn covered_without_events(nodes: &[Node], out: &chain::ChainOutcome, plan: &Plan) -> bool {
    let newest = out.order.first().and_then(|&i| out.node(nodes, i).end());
    let oldest = out
        .order
        .last()
        .and_then(|&i| out.node(nodes, i).verified())
        .map(|v| v.digest.start <= plan.start || v.digest.previous.is_some());
    out.gaps.is_empty()
        && newest.is_some_and(|e| e >= plan.end || plan.now < e + out.interval + plan.grace)
        && oldest == Some(true)
}
