//! Where lifecycle records come from in live mode: the trait the engine
//! asks, so the engine needs no CloudTrail client to explain a gap.

use crate::verify::arn::TrailArn;
use crate::verify::lifecycle::LifecycleEvent;
use crate::verify::model::HistoryEvent;
use crate::verify::time::Timestamp;
use futures::future::BoxFuture;

/// Lifecycle records from CloudTrail's LookupEvents (live mode), paced
/// under its request limit by the implementation.
pub trait LifecycleLookup: Send + Sync {
    fn lifecycle_events<'a>(
        &'a self,
        trail: &'a TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Option<Vec<LifecycleEvent>>>;

    /// The calls on the trail's buckets and trail that event history holds
    /// for [start, end], and whether that is all of them.
    fn bucket_calls<'a>(
        &'a self,
        scope: &'a crate::verify::bucket_calls::Scope,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, (Vec<crate::verify::bucket_calls::BucketCall>, bool)>;

    /// The trail's coverage changes (PutEventSelectors, UpdateTrail) that
    /// its home region's event history holds for [start, end]; None when
    /// it could not be read.
    fn coverage_changes<'a>(
        &'a self,
        trail: &'a TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Option<Vec<crate::verify::selectors::CoverageChange>>>;

    /// The write management events CloudTrail's event history holds for
    /// [start, end) in `region` of the caller's account, oldest first, at
    /// most `cap` (and whether there were more); Err says why not.
    fn write_events<'a>(
        &'a self,
        region: &'a str,
        start: Timestamp,
        end: Timestamp,
        cap: usize,
    ) -> BoxFuture<'a, Result<(Vec<HistoryEvent>, bool), crate::sources::aws::AwsError>>;

    /// The account whose event history `write_events` reads (the
    /// credentials' own), or why it is unknown.
    fn caller_account(&self) -> BoxFuture<'_, Result<String, crate::sources::aws::AwsError>>;
}
