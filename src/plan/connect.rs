//! Opening a request's sources: the local copy or S3, the public keys, the
//! operator's lifecycle records, and (live) what CloudTrail says of the
//! trail. The plan and the run only ever see the result.

use crate::request::{Pick, Place, ValidateRequest};
use crate::sources::aws::AwsOptions;
use crate::sources::cloudtrail::{CloudTrail, TrailInfo};
use crate::sources::keys::{FileKeys, KeySource};
use crate::sources::lookup::LifecycleLookup;
use crate::sources::store::local::LocalStore;
use crate::sources::store::s3::S3Store;
use crate::sources::store::ObjectStore;
use crate::verify::lifecycle::LifecycleEvent;
use crate::verify::proof::TrailStatus;
use crate::verify::pubkeys::PublicKeySet;
use aws_config::SdkConfig;
use std::path::Path;
use std::sync::Arc;

/// Why the sources could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The request names something that does not fit (a file that is not
    /// a keys file, a missing bucket offline).
    #[error("{0}")]
    Usage(String),
    /// AWS or the file system refused.
    #[error("{0}")]
    Unavailable(String),
}

/// What CloudTrail (live) or the user says of the trail beyond its objects.
#[derive(Debug, Default, Clone)]
pub struct TrailFacts {
    /// GetTrailStatus; `covers_region` is set per chain from `multi_region`.
    pub status: Option<TrailStatus>,
    pub multi_region: Option<bool>,
    /// Organizations ListAccounts (live, `--account-id all`, organization trails).
    pub org_accounts: Option<Result<Vec<String>, crate::sources::aws::AwsError>>,
    pub organization_trail: Option<bool>,
    /// Regions expected besides those with folders (offline: the regions an
    /// acquisition's live run validated).
    pub expected_regions: Vec<String>,
    /// Offline: what event history held for an acquisition's blind spots.
    pub recorded_spots: Vec<crate::request::RecordedSpot>,
    /// Live, a multi-region trail with `--region all`: the regions
    /// account:ListRegions reports enabled in the trail's account.
    pub enabled_regions: Option<Result<Vec<String>, crate::sources::aws::AwsError>>,
    /// Live: what the trail records now (GetEventSelectors, DescribeTrails).
    pub coverage_now: Option<crate::verify::selectors::Settings>,
    /// CloudTrail's description of the trail names the bucket and prefix
    /// this run reads, with validation on: a missing folder there is
    /// deletion, not the operator's typo.
    pub delivers_here: bool,
    /// Said at the top of the report.
    pub notes: Vec<String>,
    /// The trail's bucket's protections (live runs only).
    pub protections: Option<Vec<crate::verify::protections::Protection>>,
    /// The KMS key (ARN) the trail's logs are encrypted with, as
    /// DescribeTrails or the bucket's default encryption names it.
    pub trail_key: Option<String>,
}

/// The AWS side of a live run, kept for `acquire`'s evidence.
#[derive(Clone)]
pub struct Live {
    pub cfg: SdkConfig,
    pub cloudtrail: Arc<CloudTrail>,
    pub trail: Option<TrailInfo>,
}

/// Everything a plan and a run read from.
pub struct Sources {
    pub store: Arc<dyn ObjectStore>,
    pub keys: Arc<dyn KeySource>,
    /// LookupEvents in live mode.
    pub lookup: Option<Arc<dyn LifecycleLookup>>,
    /// `--gap-events`: the operator's own statement of the trail's lifecycle.
    pub known_events: Vec<LifecycleEvent>,
    pub facts: TrailFacts,
    /// The digests' bucket and the trail's prefix, as resolved.
    pub bucket: String,
    pub prefix: Option<String>,
    pub live: Option<Live>,
}

/// Opens what the request names.
pub async fn open(req: &ValidateRequest) -> Result<Sources, ConnectError> {
    let mut sources = match &req.source.place {
        Place::Local {
            dir,
            notes,
            expected_regions,
            recorded_spots,
            delivers_here,
        } => {
            let mut s = open_local(req, dir, notes)?;
            s.facts.delivers_here = *delivers_here;
            s.facts.expected_regions = expected_regions.clone();
            s.facts.recorded_spots = recorded_spots.clone();
            s
        }
        Place::Live {
            path_style,
            max_attempts,
        } => open_live(req, *path_style, *max_attempts).await?,
    };
    sources.known_events = load_gap_events(req)?;
    Ok(sources)
}

fn open_local(
    req: &ValidateRequest,
    dir: &Path,
    notes: &[String],
) -> Result<Sources, ConnectError> {
    let keys_file =
        req.source.keys_file.as_deref().ok_or_else(|| {
            ConnectError::Usage("--public-keys FILE is required with --local".into())
        })?;
    let store = LocalStore::new(dir).map_err(|e| {
        ConnectError::Unavailable(format!("cannot use {} as a local copy: {e}", dir.display()))
    })?;
    let bucket = req.selection.bucket.clone().unwrap_or_default();
    Ok(Sources {
        store: Arc::new(store),
        keys: Arc::new(load_keys_file(keys_file)?),
        lookup: None,
        known_events: Vec::new(),
        facts: TrailFacts {
            notes: notes.to_vec(),
            ..TrailFacts::default()
        },
        bucket,
        prefix: req.selection.prefix.clone(),
        live: None,
    })
}

/// Live mode: S3 and the CloudTrail API through the standard AWS
/// configuration. With both --s3-bucket and --public-keys a run makes no
/// CloudTrail call: auditors in a log-archive account often cannot
/// describe the trail.
async fn open_live(
    req: &ValidateRequest,
    path_style: bool,
    max_attempts: u32,
) -> Result<Sources, ConnectError> {
    let home_or_single = req
        .selection
        .single()
        .map_or(req.trail.region.clone(), |(_, r)| r.to_string());
    let cfg = crate::sources::aws::load(&AwsOptions {
        profile: req.tuning.profile.clone(),
        region: Some(home_or_single),
        read_timeout: Some(req.tuning.read_timeout),
        endpoint_url: req.tuning.endpoint_url.clone(),
    })
    .await;
    let mut cloudtrail = CloudTrail::new(cfg.clone());
    if req.output.keep_answers {
        cloudtrail.transcript = crate::sources::transcript::Transcript::keeping();
    }
    let cloudtrail = Arc::new(cloudtrail);
    // Who runs this is asked now, beside everything else: reports name
    // the caller, and event history is read only for its own account.
    let asking = cloudtrail.clone();
    tokio::spawn(async move { asking.caller().await });
    let uses_cloudtrail = req.selection.bucket.is_none() || req.source.keys_file.is_none();
    let info = describe(req, &cloudtrail, uses_cloudtrail).await?;
    let mut facts = facts_from(req, info.as_ref());
    if uses_cloudtrail {
        // Without the trail's description (no permission), only the home
        // region is known to be covered, and a recent digest delivery is
        // what says validation is on.
        let validation = info.as_ref().is_none_or(|i| i.log_file_validation_enabled);
        let (status, selectors) = tokio::join!(
            cloudtrail.trail_status(&req.trail, validation, true),
            cloudtrail.event_selectors(&req.trail)
        );
        facts.status = status;
        match selectors {
            Ok(mut now) => {
                now.multi_region = info.as_ref().map(|i| i.is_multi_region);
                now.global_events = info.as_ref().map(|i| i.include_global_events);
                facts.coverage_now = Some(now);
            }
            Err(why) => facts.notes.push(format!(
                "What the trail records now is not known ({why}): the last recorded coverage \
                 change is not compared with it{}",
                why.grant("cloudtrail:GetEventSelectors")
            )),
        }
    }
    let (bucket, prefix) = match (&req.selection.bucket, &info) {
        (Some(b), _) => (b.clone(), req.selection.prefix.clone()),
        (None, Some(i)) => (
            i.bucket.clone(),
            req.selection.prefix.clone().or_else(|| i.prefix.clone()),
        ),
        (None, None) => return Err(ConnectError::Usage("--s3-bucket is required".into())),
    };
    facts.delivers_here = info.as_ref().is_some_and(|i| {
        let described = (i.bucket.as_str(), i.prefix.as_deref());
        i.log_file_validation_enabled
            && crate::verify::layout::AccountRoot::same_place(
                described,
                (&bucket, prefix.as_deref()),
            )
    });
    let keys: Arc<dyn KeySource> = match &req.source.keys_file {
        Some(p) => Arc::new(load_keys_file(p)?),
        None => cloudtrail.clone(),
    };
    let path_style = path_style
        || crate::sources::aws::s3_endpoint_override(&cfg)
            .is_some_and(|e| crate::sources::aws::needs_path_style(&e));
    ask_membership(&cfg, req, &mut facts).await;
    let s3 = S3Store::new(cfg.clone(), path_style, max_attempts);
    let place = (bucket.as_str(), prefix.as_deref());
    let (guards, key) = protections(req, (&cfg, &s3), place, &facts, info.as_ref()).await;
    (facts.protections, facts.trail_key) = (Some(guards), key);
    Ok(Sources {
        store: Arc::new(s3),
        keys,
        lookup: uses_cloudtrail.then(|| cloudtrail.clone() as Arc<dyn LifecycleLookup>),
        known_events: Vec::new(),
        facts,
        bucket,
        prefix,
        live: Some(Live {
            cfg,
            cloudtrail,
            trail: info,
        }),
    })
}

/// The bucket's protections and the trail's (its deliveries, its KMS key),
/// and that key.
async fn protections(
    req: &ValidateRequest,
    (cfg, s3): (&SdkConfig, &S3Store),
    (bucket, prefix): (&str, Option<&str>),
    facts: &TrailFacts,
    info: Option<&TrailInfo>,
) -> (Vec<crate::verify::protections::Protection>, Option<String>) {
    use crate::verify::protections::{delivery, judge, trail_key, Refusal};
    let read = crate::sources::protections::read(s3, bucket).await;
    let awslogs = crate::verify::layout::AccountRoot::awslogs_prefix(prefix);
    let trail = (bucket, awslogs.as_str(), req.trail.arn.as_str());
    let mut protections = judge(&read, trail, req.checks.require_retention);
    let status = facts.status.as_ref();
    protections.push(delivery(
        status.map(|s| (s.is_logging, s.delivery_errors.as_slice())),
    ));
    // The trail's own key, else the bucket's default KMS key (which S3
    // applies to CloudTrail's uploads).
    let bucket_key = match &read.encryption {
        Some(Ok(Some((alg, key)))) if alg == "aws:kms" => key.clone(),
        _ => None,
    };
    let id = info.and_then(|i| i.kms_key_id.clone()).or(bucket_key);
    let key = match info {
        Some(_) => {
            let state = crate::sources::kms::trail_key_state(cfg, id.as_deref()).await;
            Some(state.map_err(|e| Refusal(e.to_string())))
        }
        None => None,
    };
    protections.push(trail_key(&key));
    (protections, id)
}

/// Which regions (account:ListRegions) and member accounts
/// (Organizations ListAccounts) the trail delivers for, where the run needs
/// them: `all`, or one chain outside the trail's own account and region.
async fn ask_membership(cfg: &SdkConfig, req: &ValidateRequest, facts: &mut TrailFacts) {
    // One chain of another region or account: whether the trail delivers
    // there decides whether its missing folder is deletion or a typo.
    let single = req.selection.single();
    let other_region = single.is_some_and(|(_, r)| r != req.trail.region);
    let other_account = single.is_some_and(|(a, _)| a != req.trail.account);
    // An organization trail's account is the management account, which a
    // delegated administrator may not ask, and its members' opt-in regions
    // differ from it: only a trail of one account asks.
    let one_account = facts.organization_trail == Some(false);
    let regions = req.selection.regions == Pick::All || other_region;
    if regions && facts.multi_region == Some(true) && one_account {
        let enabled = crate::sources::account::enabled_regions(cfg, &req.trail.account).await;
        facts.enabled_regions = Some(enabled);
    }
    let accounts = req.selection.accounts == Pick::All || other_account;
    if accounts && facts.organization_trail != Some(false) {
        facts.org_accounts = Some(crate::sources::organizations::active_accounts(cfg).await);
    }
}

/// DescribeTrails: required without --s3-bucket, best effort otherwise.
async fn describe(
    req: &ValidateRequest,
    cloudtrail: &CloudTrail,
    uses_cloudtrail: bool,
) -> Result<Option<TrailInfo>, ConnectError> {
    if req.selection.bucket.is_none() {
        return cloudtrail
            .describe_trail(&req.trail)
            .await
            .map(Some)
            .map_err(|e| ConnectError::Unavailable(e.to_string()));
    }
    if uses_cloudtrail {
        return Ok(cloudtrail.describe_trail(&req.trail).await.ok());
    }
    Ok(None)
}

fn facts_from(req: &ValidateRequest, info: Option<&TrailInfo>) -> TrailFacts {
    let mut facts = TrailFacts::default();
    if let Some(info) = info {
        if !info.log_file_validation_enabled {
            facts.notes.push(format!(
                "Log file validation is disabled for trail {}: no new digests are being delivered",
                req.trail.arn
            ));
        }
        facts.organization_trail = Some(info.is_organization_trail);
        facts.multi_region = Some(info.is_multi_region);
    }
    facts
}

/// Reads a keys file as written by `aws cloudtrail list-public-keys`.
pub(crate) fn load_keys_file(path: &Path) -> Result<FileKeys, ConnectError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConnectError::Unavailable(format!(
            "cannot read public keys file {}: {e}",
            path.display()
        ))
    })?;
    PublicKeySet::from_json(&bytes).map(FileKeys).map_err(|e| {
        ConnectError::Unavailable(format!(
            "public keys file {} is not usable: {e}",
            path.display()
        ))
    })
}

/// Lifecycle records from `--gap-events FILE`.
fn load_gap_events(req: &ValidateRequest) -> Result<Vec<LifecycleEvent>, ConnectError> {
    let Some(path) = &req.source.gap_events else {
        return Ok(Vec::new());
    };
    let bytes = std::fs::read(path)
        .map_err(|e| ConnectError::Unavailable(format!("cannot read {}: {e}", path.display())))?;
    let mut events = crate::verify::lifecycle::from_lookup_events_json(&bytes, &req.trail)
        .map_err(|e| {
            ConnectError::Usage(format!(
                "{} is not the output of `aws cloudtrail lookup-events`: {e}",
                path.display()
            ))
        })?;
    // Said as what they are: a file the run was given, not a LookupEvents call.
    for e in &mut events {
        e.source = crate::verify::lifecycle::EventSource::EventsFile;
    }
    Ok(events)
}
