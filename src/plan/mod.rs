//! What a run will validate: chains, slices, shards, checkpoint seams.

pub mod build;
pub mod chains;
pub mod checkpoint;
pub mod connect;
pub mod discover;
pub mod regions;
pub mod watch;

use crate::verify::arn::TrailArn;
use crate::verify::layout::{AccountRoot, DigestSeries};
use crate::verify::lifecycle::LifecycleEvent;
use crate::verify::proof::{TrailStatus, Window};
use crate::verify::time::Timestamp;
use chrono::Duration;

/// What to validate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub trail: TrailArn,
    /// Where the digests are (the trail's bucket).
    pub digest_bucket: String,
    pub root: AccountRoot,
    /// The region that delivered the digests (`CloudTrail-Digest/<region>/`).
    pub source_region: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The moment the run treats as now (what is due, what is pending).
    pub now: Timestamp,
    /// How late a digest may be delivered before its absence is a finding.
    pub grace: Duration,
    /// Objects in flight at once.
    pub concurrency: usize,
    /// Also list the log folders for log files no digest references.
    pub check_unreferenced: bool,
    /// Largest inflated log file accepted (gzip bombs).
    pub max_log_inflated: u64,
    /// GetTrailStatus / DescribeTrails (live mode).
    pub status: Option<TrailStatus>,
    /// Lifecycle records given by the user (`--gap-events`).
    pub known_events: Vec<LifecycleEvent>,
    /// Unexplained gaps do not change the exit status.
    pub allow_gaps: bool,
    /// Narrowed coverage is shown but does not change the exit status.
    pub allow_narrowing: bool,
    /// `--expect-selectors`: the coverage the trail must keep.
    pub expected_coverage: Option<crate::verify::selectors::Settings>,
    /// Live: what the trail records now (GetEventSelectors, DescribeTrails).
    pub coverage_now: Option<crate::verify::selectors::Settings>,
    /// `--cross-check-events`: event history's write events in proven spans
    /// must be in the verified logs.
    pub cross_check: bool,
    /// Offline: what event history held for this chain's blind spots when
    /// the directory was acquired (authenticated by the state key).
    pub recorded_spots: Vec<crate::verify::model::BlindSpot>,
    /// The previous run's newest verified digest of this chain: the run
    /// starts there and must find it unchanged and vouched for.
    pub checkpoint: Option<crate::plan::checkpoint::Record>,
    /// The span of the requested window before `start` that earlier runs
    /// proved and this one relies on through the checkpoint.
    pub relied_on: Option<crate::verify::model::ReliedOn>,
    /// Where the retention watch's inventory of this chain begins (the
    /// first proven window's start); None: no checkpoint is kept.
    pub watch_since: Option<Timestamp>,
    /// The bucket's protections as read (live), and which must hold.
    pub protections: Option<Vec<crate::verify::protections::Protection>>,
    pub require_protections: Vec<crate::verify::protections::ProtectionKind>,
    /// What the watch listed of the chain's days before anything was read
    /// tonight: the next inventory is made from this listing alone, so a
    /// change made while the run reads is seen the next night, never sealed.
    pub watch_listed: Option<crate::verify::inventory::Listed>,
    /// The whole run's window, for LookupEvents: a gap across a shard's
    /// time slice is explained by records outside the slice.
    pub events_window: (Timestamp, Timestamp),
    /// The objects are a local copy (which may have lost the digests'
    /// metadata); in S3, metadata cannot go missing by accident.
    pub local_copy: bool,
    /// The keys came from a file the operator chose (which may be the wrong
    /// region's); CloudTrail's own keys cannot be the wrong ones.
    pub keys_from_file: bool,
    /// A missing digest folder is the operator's typo (single chain), not
    /// a finding (a chain an estate run expects).
    pub require_digest_folder: bool,
    /// CloudTrail says the trail delivers to this bucket and prefix with
    /// validation on: nothing there is deletion, never a typo.
    pub delivers_here: bool,
    /// The trail's KMS key (ARN), whose DisableKey and ScheduleKeyDeletion
    /// calls the report names; None: not known.
    pub trail_key: Option<String>,
    /// `--recover DIR`: where the recovered originals are written.
    pub recover_to: Option<std::path::PathBuf>,
}

impl Plan {
    /// The chain of the trail's own account and home region: the one whose
    /// logs hold the trail's configuration calls.
    pub(crate) fn is_home_chain(&self) -> bool {
        self.root.account == self.trail.account && self.source_region == self.trail.region
    }

    pub fn series(&self) -> DigestSeries {
        DigestSeries {
            root: self.root.clone(),
            source_region: self.source_region.clone(),
            trail_name: self.trail.name.clone(),
            home_region: self.trail.region.clone(),
        }
    }

    /// `restart_visible`: beyond the plan's own sources (status, the
    /// operator's records), the run asked LookupEvents.
    pub fn window(
        &self,
        events_complete: bool,
        listing_complete: bool,
        lookup_asked: bool,
    ) -> Window {
        Window {
            start: self.start,
            end: self.end,
            now: self.now,
            grace: self.grace,
            status: self.status.clone(),
            bucket: self.digest_bucket.clone(),
            events_complete,
            listing_complete,
            restart_visible: lookup_asked || self.status.is_some() || !self.known_events.is_empty(),
        }
    }
}
