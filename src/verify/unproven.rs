//! Why a window's coverage is not proven, beyond its unexplained gaps: one
//! variant per kind, carrying what the report says of it (who, when, what
//! was lost). The words live in `report::explain`; JSON names the variant
//! in `kind`. A verdict never reads a sentence.

use crate::verify::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unproven {
    /// A change the trail's verified logs record made it record less.
    CoverageNarrowed {
        at: Timestamp,
        /// Who made the change and from where, when the record says.
        actor: Option<String>,
        source_ip: Option<String>,
        event_name: String,
        /// What the call set.
        what: String,
        /// What the trail stopped recording.
        lost: Vec<String>,
        /// Where the narrowed span ends: a restoring change, or the window's end.
        until: Timestamp,
        restored: bool,
        /// The caller as a value (key kind, MFA, agent...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<crate::verify::actor::Actor>,
    },
    /// The trail records less now (GetEventSelectors, DescribeTrails) than
    /// the last change its verified logs show: a change they do not show.
    NarrowedUnrecorded { after: Timestamp, lost: Vec<String> },
    /// Event history holds write events no verified log file of the trail
    /// contains (`--cross-check`): the first, the count, the last.
    NotRecorded {
        first_at: Timestamp,
        count: usize,
        last_at: Timestamp,
        first_event: String,
        actor: Option<String>,
    },
    /// Verified log files of the home chain that name a trail call could
    /// not be read again for their records: a coverage change in them is
    /// not known.
    CallsUnread { files: usize },
    /// The window ends while logging is stopped, and no source here could
    /// show a restart (offline without records).
    StoppedToTheEnd,
    /// The window ends after a stop, but GetTrailStatus says the trail has
    /// logged again since before its end, and no digest after the stop is here.
    RestartedBeforeTheEnd,
    /// Objects in an archive storage class were not read: neither verified
    /// nor refuted until restored (`--restore-plan FILE` lists them).
    Archived { objects: usize },
    /// A protection `--require-protections` asks for does not hold (or
    /// could not be read).
    ProtectionMissing {
        protection: crate::verify::protections::ProtectionKind,
        state: crate::verify::protections::ProtectionState,
    },
    /// The digest folder could not be listed to its end within the bound.
    ListingBound,
    /// No digest covers any part of the window, and no record explains it.
    NoDigestInWindow,
    /// Log files but no digest folder.
    NoDigestFolder,
    /// Digests signed with keys the keys file lacks, at times it holds no
    /// key for: the days to fetch with `trailproof keys`.
    KeysFileLacks {
        region: String,
        from: String,
        to: String,
    },
    /// A shard's time slice does not link to the slice before it: its
    /// oldest verified digest names a previous digest no slice verified.
    SlicesUnlinked {
        slice_start: Option<Timestamp>,
        bucket: String,
        key: String,
        previous_bucket: String,
        previous_key: String,
    },
}

impl Unproven {
    /// What the operator required (`--require-protections`): no gap, so
    /// `--allow-gaps` does not pass it.
    pub fn required(&self) -> bool {
        matches!(self, Unproven::ProtectionMissing { .. })
    }

    /// The trail recorded less in some span: exit 3 whatever
    /// `--allow-gaps` says (only `--allow-narrowing` shows it instead).
    pub(crate) fn is_narrowing(&self) -> bool {
        matches!(
            self,
            Unproven::CoverageNarrowed { .. }
                | Unproven::NarrowedUnrecorded { .. }
                | Unproven::CallsUnread { .. }
                | Unproven::NotRecorded { .. }
        )
    }
}
