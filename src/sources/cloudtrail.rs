//! The CloudTrail edge: public keys (ListPublicKeys), trail resolution
//! (DescribeTrails / GetTrail), trail status (GetTrailStatus) and the
//! trail's lifecycle records (LookupEvents) that explain gaps.

use crate::sources::aws::{sentence, AwsError};
use crate::sources::keys::{KeySource, KeySourceError};
use crate::sources::lookup::LifecycleLookup;
use crate::sources::transcript::cloudtrail as answers;
use crate::verify::arn::TrailArn;
use crate::verify::bucket_calls::{self, BucketCall, Scope};
use crate::verify::lifecycle::{from_record, EventSource, LifecycleEvent};
use crate::verify::model::HistoryEvent;
use crate::verify::proof::TrailStatus;
use crate::verify::pubkeys::PublicKey;
use crate::verify::selectors::CoverageChange;
use crate::verify::time::display;
use crate::verify::time::Timestamp;
use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::operation::RequestId;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Why a CloudTrail call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CloudTrailError {
    #[error("A trail could not be found for {0}")]
    TrailNotFound(String),
    #[error("CloudTrail {operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
}

/// What validation needs to know about a trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailInfo {
    pub bucket: String,
    pub prefix: Option<String>,
    pub home_region: String,
    pub is_organization_trail: bool,
    pub is_multi_region: bool,
    pub include_global_events: bool,
    pub log_file_validation_enabled: bool,
    /// The KMS key the trail encrypts its log files with (SSE-KMS).
    pub kms_key_id: Option<String>,
}

/// One LookupEvents answer: None when some call failed.
type LookupAnswer = Option<Vec<LifecycleEvent>>;

/// CloudTrail clients per region, with a per-run cache of key answers.
pub struct CloudTrail {
    base: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    key_cache: tokio::sync::Mutex<HashMap<(String, i64, i64), Vec<PublicKey>>>,
    /// LookupEvents answers per (trail, start, end): every chain of an
    /// estate asks for the same window, and the API allows 2 requests/s.
    event_cache: WindowCache<LookupAnswer>,
    /// Keys skipped because their fingerprint is not the MD5 of their DER.
    pub rejected_keys: AtomicUsize,
    /// LookupEvents' coverage changes per (trail, start, end).
    coverage_cache: WindowCache<Option<Vec<CoverageChange>>>,
    /// LookupEvents' calls on the trail's bucket and key per window.
    bucket_cache: WindowCache<(Vec<BucketCall>, bool)>,
    /// When each region's next LookupEvents call may go: one pace for
    /// every chain of the run, under the API's 2 requests per second.
    lookup_next: Mutex<HashMap<String, tokio::time::Instant>>,
    /// STS GetCallerIdentity, once per run.
    caller: tokio::sync::OnceCell<Result<crate::sources::account::Identity, AwsError>>,
    /// AWS's raw answers, when the run keeps them (`acquire`).
    pub transcript: crate::sources::transcript::Transcript,
}

fn to_smithy(t: Timestamp) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

impl CloudTrail {
    pub fn new(base: SdkConfig) -> CloudTrail {
        CloudTrail {
            base,
            clients: Mutex::new(HashMap::new()),
            key_cache: tokio::sync::Mutex::new(HashMap::new()),
            event_cache: Mutex::new(HashMap::new()),
            coverage_cache: Mutex::new(HashMap::new()),
            bucket_cache: Mutex::new(HashMap::new()),
            lookup_next: Mutex::new(HashMap::new()),
            rejected_keys: AtomicUsize::new(0),
            caller: tokio::sync::OnceCell::new(),
            transcript: Default::default(),
        }
    }

    /// Keys differ per region: each region gets its own client.
    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_cloudtrail::config::Builder::from(&self.base)
                    .region(Region::new(region.to_string()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// ListPublicKeys for [start, end] in `region`, following NextToken.
    pub(crate) async fn list_public_keys(
        &self,
        region: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<PublicKey>, CloudTrailError> {
        let cache_key = (region.to_string(), start.timestamp(), end.timestamp());
        if let Some(k) = self.key_cache.lock().await.get(&cache_key) {
            return Ok(k.clone());
        }
        let client = self.client(region);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        for _page in 0..1000 {
            let out = client
                .list_public_keys()
                .start_time(to_smithy(start))
                .end_time(to_smithy(end))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| CloudTrailError::Call {
                    operation: "ListPublicKeys",
                    message: sentence(&e),
                })?;
            let asked = serde_json::json!({
                "StartTime": display(start), "EndTime": display(end), "NextToken": token,
            });
            self.transcript.keep(
                ("cloudtrail", "ListPublicKeys", region),
                asked,
                out.request_id(),
                || answers::keys(&out),
            );
            for k in out.public_key_list() {
                let (Some(value), Some(fp)) = (k.value(), k.fingerprint()) else {
                    self.rejected_keys.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let from = k
                    .validity_start_time()
                    .and_then(crate::sources::aws::to_chrono);
                let to = k
                    .validity_end_time()
                    .and_then(crate::sources::aws::to_chrono);
                match PublicKey::from_der(value.as_ref(), fp, from, to) {
                    Ok(key) => keys.push(key),
                    Err(_) => {
                        self.rejected_keys.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            token = crate::sources::aws::next_token(out.next_token());
            if token.is_none() {
                break;
            }
        }
        self.key_cache.lock().await.insert(cache_key, keys.clone());
        Ok(keys)
    }

    /// Every key any ListPublicKeys of this run returned.
    pub(crate) async fn cached_keys(&self) -> Vec<PublicKey> {
        self.key_cache
            .lock()
            .await
            .values()
            .flat_map(|k| k.iter().cloned())
            .collect()
    }

    /// Finds the trail: DescribeTrails by ARN (shadow trails included, so a
    /// multi-region trail is found from any region), then GetTrail.
    pub(crate) async fn describe_trail(
        &self,
        arn: &TrailArn,
    ) -> Result<TrailInfo, CloudTrailError> {
        let client = self.client(&arn.region);
        let out = client
            .describe_trails()
            .trail_name_list(&arn.arn)
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| CloudTrailError::Call {
                operation: "DescribeTrails",
                message: sentence(&e),
            })?;
        self.transcript.keep(
            ("cloudtrail", "DescribeTrails", &arn.region),
            serde_json::json!({"trailNameList": [arn.arn], "includeShadowTrails": true}),
            out.request_id(),
            || serde_json::json!({"trailList": out.trail_list().iter().map(answers::trail).collect::<Vec<_>>()}),
        );
        let found = out
            .trail_list()
            .iter()
            .find(|t| t.trail_arn() == Some(arn.arn.as_str()))
            .cloned();
        let trail = match found {
            Some(t) => t,
            None => match client.get_trail().name(&arn.arn).send().await {
                Ok(o) => o
                    .trail()
                    .cloned()
                    .ok_or_else(|| CloudTrailError::TrailNotFound(arn.arn.clone()))?,
                Err(_) => return Err(CloudTrailError::TrailNotFound(arn.arn.clone())),
            },
        };
        let bucket = trail
            .s3_bucket_name()
            .map(str::to_string)
            .ok_or_else(|| CloudTrailError::TrailNotFound(arn.arn.clone()))?;
        Ok(TrailInfo {
            bucket,
            prefix: trail
                .s3_key_prefix()
                .map(str::to_string)
                .filter(|p| !p.is_empty()),
            home_region: trail.home_region().unwrap_or(&arn.region).to_string(),
            is_organization_trail: trail.is_organization_trail().unwrap_or(false),
            is_multi_region: trail.is_multi_region_trail().unwrap_or(false),
            include_global_events: trail.include_global_service_events().unwrap_or(true),
            log_file_validation_enabled: trail.log_file_validation_enabled().unwrap_or(false),
            kms_key_id: trail.kms_key_id().map(str::to_string),
        })
    }

    /// GetEventSelectors: what the trail records now, read the way a
    /// PutEventSelectors record is; Err says why not (no permission).
    pub async fn event_selectors(
        &self,
        arn: &TrailArn,
    ) -> Result<crate::verify::selectors::Settings, AwsError> {
        let out = self
            .client(&arn.region)
            .get_event_selectors()
            .trail_name(&arn.arn)
            .send()
            .await
            .map_err(|e| AwsError::of(&e).asking("GetEventSelectors"))?;
        let basic: Vec<serde_json::Value> = out
            .event_selectors()
            .iter()
            .map(|s| {
                serde_json::json!({
                    "readWriteType": s.read_write_type().map(|t| t.as_str()),
                    "includeManagementEvents": s.include_management_events(),
                    "excludeManagementEventSources": s.exclude_management_event_sources(),
                    "dataResources": s.data_resources().iter().map(|d| serde_json::json!({
                        "type": d.r#type(), "values": d.values(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let advanced: Vec<serde_json::Value> = out
            .advanced_event_selectors()
            .iter()
            .map(|s| {
                let fields: Vec<serde_json::Value> = s
                    .field_selectors()
                    .iter()
                    .map(|f| {
                        serde_json::json!({
                            "field": f.field(), "equals": f.equals(), "startsWith": f.starts_with(),
                            "endsWith": f.ends_with(), "notEquals": f.not_equals(),
                            "notStartsWith": f.not_starts_with(), "notEndsWith": f.not_ends_with(),
                        })
                    })
                    .collect();
                serde_json::json!({ "fieldSelectors": fields })
            })
            .collect();
        let doc = match advanced.is_empty() {
            true => serde_json::json!({ "eventSelectors": basic }),
            false => serde_json::json!({ "advancedEventSelectors": advanced }),
        };
        self.transcript.keep(
            ("cloudtrail", "GetEventSelectors", &arn.region),
            serde_json::json!({"TrailName": arn.arn}),
            out.request_id(),
            || doc.clone(),
        );
        crate::verify::selectors::from_get_event_selectors(&doc)
            .map_err(|e| AwsError::other(format!("GetEventSelectors: {e}")))
    }

    /// GetTrailStatus, or None when CloudTrail cannot say (no permission).
    /// `covers_region` and `validation_enabled` come from the trail's description.
    pub(crate) async fn trail_status(
        &self,
        arn: &TrailArn,
        validation_enabled: bool,
        covers_region: bool,
    ) -> Option<TrailStatus> {
        let out = self
            .client(&arn.region)
            .get_trail_status()
            .name(&arn.arn)
            .send()
            .await
            .ok()?;
        self.transcript.keep(
            ("cloudtrail", "GetTrailStatus", &arn.region),
            serde_json::json!({"Name": arn.arn}),
            out.request_id(),
            || answers::status(&out),
        );
        Some(TrailStatus {
            is_logging: out.is_logging().unwrap_or(false),
            validation_enabled,
            covers_region,
            start_logging: out
                .start_logging_time()
                .and_then(crate::sources::aws::to_chrono),
            latest_digest_delivery: out
                .latest_digest_delivery_time()
                .and_then(crate::sources::aws::to_chrono),
            delivery_errors: [
                ("LatestDeliveryError", out.latest_delivery_error()),
                (
                    "LatestDigestDeliveryError",
                    out.latest_digest_delivery_error(),
                ),
            ]
            .into_iter()
            .filter_map(|(name, e)| Some(format!("{name}: {}", e.filter(|e| !e.is_empty())?)))
            .collect(),
        })
    }

    /// The trail's lifecycle records between `start` and `end` from
    /// LookupEvents, one event name at a time, every page, paced under the
    /// API's limit of 2 requests per second. Best effort: without the
    /// permission, gaps simply stay unexplained.
    pub(crate) async fn lookup_lifecycle(
        &self,
        arn: &TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<Vec<LifecycleEvent>> {
        // One answer per window: concurrent chains wait for the same cell,
        // other windows (time slices) are not held up behind it.
        let cell = window_cell(&self.event_cache, arn, start, end);
        cell.get_or_init(|| self.lookup_uncached(arn, start, end))
            .await
            .clone()
    }

    async fn lookup_uncached(
        &self,
        arn: &TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<Vec<LifecycleEvent>> {
        let raw = self.lookup_raw(arn, start, end).await?;
        Some(
            raw.iter()
                .filter_map(|e| {
                    let text = e.get("CloudTrailEvent")?.as_str()?;
                    let record: serde_json::Value = serde_json::from_str(text).ok()?;
                    from_record(&record, arn, EventSource::LookupEvents)
                })
                .collect(),
        )
    }

    /// The trail-lifecycle events of [start, end] as `aws cloudtrail
    /// lookup-events` prints them (EventId, EventName, EventTime,
    /// CloudTrailEvent), one event name at a time, every page, paced under
    /// the API's limit; None when any call failed.
    pub(crate) async fn lookup_raw(
        &self,
        arn: &TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<Vec<serde_json::Value>> {
        let names = [
            "StopLogging",
            "StartLogging",
            "UpdateTrail",
            "DeleteTrail",
            "CreateTrail",
        ];
        self.lookup_named(arn, start, end, &names).await
    }

    /// The trail's coverage changes (PutEventSelectors, UpdateTrail) of
    /// [start, end] from the event history of its home region, once per
    /// window: a chain of another region or account does not hold their
    /// records in its own logs.
    pub(crate) async fn lookup_coverage(
        &self,
        arn: &TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<Vec<CoverageChange>> {
        let cell = window_cell(&self.coverage_cache, arn, start, end);
        let ask = || async {
            let raw = self
                .lookup_named(
                    arn,
                    start,
                    end,
                    &[
                        "PutEventSelectors",
                        "UpdateTrail",
                        "DeleteTrail",
                        "CreateTrail",
                    ],
                )
                .await?;
            Some(
                raw.iter()
                    .filter_map(|e| {
                        let text = e.get("CloudTrailEvent")?.as_str()?;
                        let record: serde_json::Value = serde_json::from_str(text).ok()?;
                        let mut change = crate::verify::selectors::from_record(&record, arn)?;
                        change.from_history = true;
                        Some(change)
                    })
                    .collect(),
            )
        };
        cell.get_or_init(ask).await.clone()
    }

    /// The calls on the trail's buckets and the trail that the home
    /// region's event history holds for [start, end] (LookupEvents by
    /// resource name, newest first, at most [`STORY_PAGES`] pages each: a
    /// busy bucket's reads would be many), once per window; and whether
    /// that is all of them.
    pub(crate) async fn lookup_bucket_calls(
        &self,
        scope: &Scope,
        start: Timestamp,
        end: Timestamp,
    ) -> (Vec<BucketCall>, bool) {
        let cell = window_cell(&self.bucket_cache, &scope.trail, start, end);
        let ask = || async {
            let mut names: Vec<&str> = scope.buckets.iter().map(String::as_str).collect();
            names.push(&scope.trail.arn);
            let key = (LookupAttributeKey::ResourceName, STORY_PAGES);
            let (raw, complete) = self
                .lookup_attr(&scope.trail.region, key, start, end, &names)
                .await;
            let parse = |e: &serde_json::Value| {
                let record = serde_json::from_str(e.get("CloudTrailEvent")?.as_str()?).ok()?;
                bucket_calls::from_record(&record, scope, EventSource::LookupEvents)
            };
            (raw.iter().filter_map(parse).collect(), complete)
        };
        cell.get_or_init(ask).await.clone()
    }

    /// LookupEvents by event name, every page, paced; None when any call failed.
    async fn lookup_named(
        &self,
        arn: &TrailArn,
        start: Timestamp,
        end: Timestamp,
        names: &[&str],
    ) -> Option<Vec<serde_json::Value>> {
        // Part of the answer is no answer: a lost restart record could make
        // a stop look final.
        let key = (LookupAttributeKey::EventName, 100);
        let (out, complete) = self.lookup_attr(&arn.region, key, start, end, names).await;
        complete.then_some(out)
    }

    /// LookupEvents in `region` for each value of one attribute, at most
    /// `pages` pages each, paced: what was read, and whether it is all
    /// (a call that failed or pages left unread make it part).
    async fn lookup_attr(
        &self,
        region: &str,
        (key, pages): (LookupAttributeKey, usize),
        start: Timestamp,
        end: Timestamp,
        values: &[&str],
    ) -> (Vec<serde_json::Value>, bool) {
        let client = self.client(region);
        let (mut out, mut complete) = (Vec::new(), true);
        for &name in values {
            let Ok(attr) = LookupAttribute::builder()
                .attribute_key(key.clone())
                .attribute_value(name)
                .build()
            else {
                continue;
            };
            let mut token: Option<String> = None;
            for _page in 0..pages {
                self.pace(region).await;
                let asked = client
                    .lookup_events()
                    .lookup_attributes(attr.clone())
                    .start_time(to_smithy(start))
                    .end_time(to_smithy(end))
                    .set_next_token(token.clone())
                    .send();
                let Ok(page) = asked.await else {
                    complete = false;
                    break;
                };
                self.transcript.keep(
                    ("cloudtrail", "LookupEvents", region),
                    serde_json::json!({
                        "LookupAttributes": [{"AttributeKey": key.as_str(), "AttributeValue": name}],
                        "StartTime": display(start), "EndTime": display(end), "NextToken": token,
                    }),
                    page.request_id(),
                    || serde_json::json!({
                        "Events": page.events().iter().map(history_entry).collect::<Vec<_>>(),
                        "NextToken": page.next_token(),
                    }),
                );
                out.extend(page.events().iter().map(history_entry));
                token = crate::sources::aws::next_token(page.next_token());
                if token.is_none() {
                    break;
                }
            }
            complete &= token.is_none();
        }
        (out, complete)
    }
}

/// LookupEvents answers per (trail, start, end).
type WindowCache<T> = Mutex<HashMap<(String, i64, i64), Arc<tokio::sync::OnceCell<T>>>>;

/// The cell a window's LookupEvents answer is kept in: every chain of an
/// estate asks for the same window and waits for the one answer.
fn window_cell<T>(
    cache: &WindowCache<T>,
    arn: &TrailArn,
    start: Timestamp,
    end: Timestamp,
) -> Arc<tokio::sync::OnceCell<T>> {
    let id = (arn.arn.clone(), start.timestamp(), end.timestamp());
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    cache.entry(id).or_default().clone()
}

impl CloudTrail {
    /// Waits for this region's next LookupEvents slot (the first at once).
    async fn pace(&self, region: &str) {
        let at = {
            let mut next = self.lookup_next.lock().unwrap_or_else(|p| p.into_inner());
            let now = tokio::time::Instant::now();
            let at = next.get(region).copied().unwrap_or(now).max(now);
            next.insert(region.to_string(), at + LOOKUP_SPACING);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Pages of event history read per resource for the bucket-side story.
const STORY_PAGES: usize = 10;

/// One LookupEvents entry as `aws cloudtrail lookup-events` prints it.
fn history_entry(e: &aws_sdk_cloudtrail::types::Event) -> serde_json::Value {
    serde_json::json!({
        "EventId": e.event_id(),
        "EventName": e.event_name(),
        "EventTime": e.event_time().and_then(crate::sources::aws::to_chrono).map(crate::verify::time::display),
        "EventSource": e.event_source(),
        "Username": e.username(),
        "CloudTrailEvent": e.cloud_trail_event(),
    })
}

/// LookupEvents allows 2 requests per second per account and region.
const LOOKUP_SPACING: std::time::Duration = std::time::Duration::from_millis(500);

impl LifecycleLookup for CloudTrail {
    fn coverage_changes<'a>(
        &'a self,
        trail: &'a TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Option<Vec<CoverageChange>>> {
        self.lookup_coverage(trail, start, end).boxed()
    }

    fn lifecycle_events<'a>(
        &'a self,
        trail: &'a TrailArn,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Option<Vec<LifecycleEvent>>> {
        self.lookup_lifecycle(trail, start, end).boxed()
    }

    fn bucket_calls<'a>(
        &'a self,
        scope: &'a Scope,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, (Vec<BucketCall>, bool)> {
        self.lookup_bucket_calls(scope, start, end).boxed()
    }

    fn write_events<'a>(
        &'a self,
        region: &'a str,
        start: Timestamp,
        end: Timestamp,
        cap: usize,
    ) -> BoxFuture<'a, Result<(Vec<HistoryEvent>, bool), AwsError>> {
        self.lookup_writes(region, start, end, cap).boxed()
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, AwsError>> {
        async move { self.caller().await.map(|i| i.account) }.boxed()
    }
}

impl CloudTrail {
    /// Who runs this (once per run; every report names the caller).
    pub async fn caller(&self) -> Result<crate::sources::account::Identity, AwsError> {
        let ask = || async {
            let who = crate::sources::account::caller_identity(&self.base).await;
            if let Ok(i) = &who {
                let region = self.base.region().map_or("", |r| r.as_ref());
                self.transcript.keep(
                    ("sts", "GetCallerIdentity", region),
                    serde_json::json!({}),
                    i.request_id.as_deref(),
                    || serde_json::json!({"Account": i.account, "Arn": i.arn, "UserId": i.user_id}),
                );
            }
            who
        };
        self.caller.get_or_init(ask).await.clone()
    }
}

impl CloudTrail {
    /// LookupEvents with `ReadOnly = false`, every page up to `cap`
    /// events, paced under the API's limit.
    async fn lookup_writes(
        &self,
        region: &str,
        start: Timestamp,
        end: Timestamp,
        cap: usize,
    ) -> Result<(Vec<HistoryEvent>, bool), AwsError> {
        let client = self.client(region);
        let attr = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::ReadOnly)
            .attribute_value("false")
            .build()
            .map_err(|e| AwsError::other(e.to_string()))?;
        let (mut out, mut token) = (Vec::new(), None::<String>);
        for _page in 0..(cap / 50 + 1) {
            self.pace(region).await;
            let page = client
                .lookup_events()
                .lookup_attributes(attr.clone())
                .start_time(to_smithy(start))
                .end_time(to_smithy(end))
                .max_results(50)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::of(&e))?;
            out.extend(page.events().iter().filter_map(history_event));
            token = crate::sources::aws::next_token(page.next_token());
            if token.is_none() || out.len() >= cap {
                break;
            }
        }
        // Event history answers newest first: a cut keeps the latest.
        let cut = token.is_some() || out.len() > cap;
        out.truncate(cap);
        out.sort_by_key(|e| e.time);
        Ok((out, cut))
    }
}

/// One event of event history, with who and from where as its record says.
fn history_event(e: &aws_sdk_cloudtrail::types::Event) -> Option<HistoryEvent> {
    let record: serde_json::Value = e
        .cloud_trail_event()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    Some(HistoryEvent {
        id: e.event_id().map(str::to_string),
        time: e
            .event_time()
            .and_then(crate::sources::aws::to_chrono)
            .map(|t| t - chrono::Duration::nanoseconds(t.timestamp_subsec_nanos() as i64))?,
        name: e.event_name()?.to_string(),
        source: e.event_source().map(str::to_string),
        actor: text(&record["userIdentity"]["arn"]).or_else(|| e.username().map(str::to_string)),
        source_ip: text(&record["sourceIPAddress"]),
        resources: e
            .resources()
            .iter()
            .filter_map(|r| r.resource_name().map(str::to_string))
            .collect(),
    })
}

impl KeySource for CloudTrail {
    fn keys_between<'a>(
        &'a self,
        region: &'a str,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Result<Vec<PublicKey>, KeySourceError>> {
        async move {
            self.list_public_keys(region, start, end)
                .await
                .map_err(|e| KeySourceError::Unavailable(e.to_string()))
        }
        .boxed()
    }
}
