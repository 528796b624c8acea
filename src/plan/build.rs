//! From a request and its opened sources to the run's plan: the
//! organization folder, where each chain starts (the window or the
//! checkpoint's seam), which chains an estate holds, and this shard's units.

use super::chains::ChainPlan;
use super::checkpoint::{Checkpoint, Settings};
use super::discover::{ResolveError, Want};
use super::Plan;
use crate::plan::connect::Sources;
use crate::request::{Pick, ValidateRequest};
use crate::sources::aws::AwsError;
use crate::sources::store::{ObjectStore, StoreError};
use crate::verify::layout::AccountRoot;
use crate::verify::model::ShardInfo;
use crate::verify::time::Timestamp;

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The request and what exists disagree (a typo, a stale checkpoint).
    #[error("{0}")]
    Usage(String),
    /// The bucket could not be listed.
    #[error("{0}")]
    Unavailable(String),
}

fn usage(s: impl Into<String>) -> PlanError {
    PlanError::Usage(s.into())
}

/// One unit of work: the chain as planned, the engine's plan (its window
/// is the slice's, if any) and the slice.
pub(crate) type UnitPlan = (ChainPlan, Plan, Option<(Timestamp, Timestamp)>);

/// Everything a run validates.
pub struct RunPlan {
    /// One chain and no shard: the AWS CLI's run, reported as it reports.
    pub single: bool,
    pub units: Vec<UnitPlan>,
    pub trail_arn: String,
    /// The window every chain is reported against.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Said once for the run.
    pub notes: Vec<String>,
    pub shard: Option<ShardInfo>,
}

/// The organization folder when the user did not name it: for one
/// account, the folder holding its digests; for an estate, the one folder
/// holding digests of the trail.
pub async fn organization(
    store: &dyn ObjectStore,
    req: &ValidateRequest,
    sources: &Sources,
) -> Result<Option<String>, PlanError> {
    if let Some(o) = &req.selection.organization_id {
        return Ok(Some(o.clone()));
    }
    let sel = &req.selection;
    let (account, region) = match (sel.accounts.single(), sel.regions.single()) {
        (Some(a), Some(r)) => (a.to_string(), r.to_string()),
        (Some(a), None) => (a.to_string(), req.trail.region.clone()),
        _ => (String::new(), String::new()),
    };
    let want = Want {
        prefix: sources.prefix.as_deref(),
        account: &account,
        region: &region,
        trail_name: &req.trail.name,
        organization_trail: sources.facts.organization_trail,
    };
    let bucket = &sources.bucket;
    let found = if account.is_empty() {
        super::discover::discover_estate_org(store, bucket, &want).await
    } else {
        super::discover::discover_org_id(store, bucket, &want).await
    };
    found.map_err(|e| match e {
        ResolveError::Ambiguous { .. } => usage(e.to_string()),
        ResolveError::Store(s) => {
            PlanError::Unavailable(format!("cannot list bucket {bucket}: {s}"))
        }
    })
}

/// What a checkpoint must agree with to be used.
pub fn settings(req: &ValidateRequest, sources: &Sources, org: Option<&str>) -> Settings {
    Settings {
        trail_arn: req.trail.arn.clone(),
        bucket: sources.bucket.clone(),
        prefix: sources.prefix.clone(),
        organization_id: org.map(str::to_string),
    }
}

/// The run's plan.
pub async fn build(
    store: &dyn ObjectStore,
    req: &ValidateRequest,
    sources: &Sources,
    org: Option<&str>,
    checkpoint: Option<&Checkpoint>,
) -> Result<RunPlan, PlanError> {
    let start = window_start(req, checkpoint)?;
    let base = base_plan(req, sources, org, start);
    let seams = Seams {
        base: &base,
        req,
        sources,
        org,
        checkpoint,
    };
    let single_chain = req.selection.single();
    let mut notes = req.window.notes.clone();
    notes.extend(sources.facts.notes.iter().cloned());
    notes.extend(checkpoint.map(|cp| checkpoint_note(req, cp)));
    let chains = match single_chain {
        Some((account, region)) => {
            if req.window.start.is_none()
                && checkpoint.is_some_and(|cp| cp.record(account, region).is_none())
            {
                return Err(usage(format!(
                    "the checkpoint does not record account {account} region {region}: give --start-time"
                )));
            }
            vec![ChainPlan {
                account: account.to_string(),
                region: region.to_string(),
                has_digest_folder: true,
                has_log_folder: true,
                expected_because: None,
            }]
        }
        None => {
            let mut chains = estate_chains(store, req, sources, org, &mut notes).await?;
            add_recorded_chains(&mut chains, req, checkpoint)?;
            chains
        }
    };
    let (units, shard) = units(req, sources, org, start, &chains);
    let single = single_chain.is_some() && req.state.shard.is_none();
    let mut units: Vec<UnitPlan> = units
        .into_iter()
        .filter_map(|u| {
            let c = chains
                .iter()
                .find(|c| c.account == u.account && c.region == u.region)?
                .clone();
            let mut p = seams.chain_plan(&c.account, &c.region);
            if !single {
                p.require_digest_folder = single_chain.is_some();
            }
            if let Some((a, b)) = u.slice {
                p.start = a;
                p.end = b;
            }
            Some((c, p, u.slice))
        })
        .collect();
    watch_behind(store, req, &mut units, &mut notes).await?;
    Ok(RunPlan {
        single,
        units,
        trail_arn: req.trail.arn.clone(),
        start,
        end: req.window.end,
        notes,
        shard,
    })
}

/// The chains a checkpointed run watches: their plans as built (before the
/// run takes them), for the inventory written after it.
pub(crate) fn watched(units: &[UnitPlan]) -> Vec<Plan> {
    let whole = units
        .iter()
        .filter(|(_, p, slice)| slice.is_none() && p.watch_since.is_some());
    whole.map(|(_, p, _)| p.clone()).collect()
}

/// The retention watch: each recorded chain's proven days against the
/// inventory its record carries (a day that changed widens the chain back
/// to it).
async fn watch_behind(
    store: &dyn ObjectStore,
    req: &ValidateRequest,
    units: &mut [UnitPlan],
    notes: &mut Vec<String>,
) -> Result<(), PlanError> {
    let failed =
        |e: StoreError| PlanError::Unavailable(format!("the retention watch cannot list: {e}"));
    for (_, p, _) in units.iter_mut().filter(|(_, _, slice)| slice.is_none()) {
        let Some(record) = p.checkpoint.clone() else {
            super::watch::first_night(store, p).await.map_err(failed)?;
            continue;
        };
        let (start, authenticated) = (req.window.start, req.state.key.is_some());
        let note = super::watch::behind(store, p, &record, start, authenticated).await;
        notes.push(note.map_err(failed)?);
    }
    Ok(())
}

/// `--start-time`, or the oldest chain the checkpoint records.
fn window_start(
    req: &ValidateRequest,
    checkpoint: Option<&Checkpoint>,
) -> Result<Timestamp, PlanError> {
    let end = req.window.end;
    let start =
        match (req.window.start, checkpoint) {
            (Some(s), _) => s,
            (None, Some(cp)) => cp
                .chains
                .iter()
                .filter_map(|r| r.end_time())
                .min()
                .ok_or_else(|| usage("the checkpoint records no chain: give --start-time"))?,
            (None, None) => return Err(usage(
                "--start-time is required for the first run (the checkpoint does not exist yet)",
            )),
        };
    if start > end {
        return Err(usage("the checkpoint is newer than --end-time"));
    }
    if start == end {
        return Err(usage(
            "nothing to validate: the window starts where it ends (the checkpoint already \
             reaches --end-time)",
        ));
    }
    if let Some(r) = checkpoint.and_then(|cp| {
        cp.chains
            .iter()
            .find(|r| r.end_time().is_some_and(|e| e > end))
    }) {
        return Err(usage(format!(
            "the checkpoint records account {} region {} up to {}, after --end-time",
            r.account, r.region, r.end
        )));
    }
    Ok(start)
}

/// The plan every chain's plan starts from.
fn base_plan(
    req: &ValidateRequest,
    sources: &Sources,
    org: Option<&str>,
    start: Timestamp,
) -> Plan {
    Plan {
        trail: req.trail.clone(),
        digest_bucket: sources.bucket.clone(),
        root: AccountRoot::new(sources.prefix.as_deref(), org, &req.trail.account),
        source_region: req.trail.region.clone(),
        start,
        end: req.window.end,
        watch_since: req.state.checkpoint.as_ref().map(|_| start),
        relied_on: None,
        protections: sources.facts.protections.clone(),
        require_protections: req.checks.require_protections.clone(),
        watch_listed: None,
        now: chrono::Utc::now(),
        grace: req.checks.grace,
        concurrency: req.tuning.concurrency,
        check_unreferenced: req.checks.check_unreferenced,
        max_log_inflated: req.checks.max_log_bytes,
        status: None,
        known_events: sources.known_events.clone(),
        allow_gaps: req.checks.allow_gaps,
        allow_narrowing: req.checks.allow_narrowing,
        expected_coverage: req.checks.expected_coverage.clone(),
        coverage_now: sources.facts.coverage_now.clone(),
        cross_check: req.checks.cross_check,
        recorded_spots: recorded_for(&sources.facts, &req.trail.account, &req.trail.region),
        checkpoint: None,
        events_window: (start, req.window.end),
        local_copy: req.is_local(),
        keys_from_file: req.source.keys_file.is_some(),
        require_digest_folder: true,
        delivers_here: sources.facts.delivers_here,
        recover_to: req.output.recover.clone(),
        trail_key: sources.facts.trail_key.clone(),
    }
}

/// The acquisition's blind spots of one chain (a one-chain live report's
/// are its).
fn recorded_for(
    facts: &crate::plan::connect::TrailFacts,
    account: &str,
    region: &str,
) -> Vec<crate::verify::model::BlindSpot> {
    facts
        .recorded_spots
        .iter()
        .filter(|(a, r, _)| {
            a.as_deref().is_none_or(|a| a == account) && r.as_deref().is_none_or(|r| r == region)
        })
        .map(|(_, _, s)| s.clone())
        .collect()
}

/// CloudTrail's word that the trail delivers to the bucket is about its own
/// chains: its account (an organization trail's: every member ListAccounts
/// names) and its home region (a multi-region trail's: every region
/// account:ListRegions reports enabled). A typo in the account or region
/// names none of them, and stays the operator's mistake.
fn delivers_to(
    facts: &crate::plan::connect::TrailFacts,
    trail: &crate::verify::arn::TrailArn,
    account: &str,
    region: &str,
) -> bool {
    let listed = |l: &Option<Result<Vec<String>, AwsError>>, x: &str| matches!(l, Some(Ok(list)) if list.iter().any(|v| v == x));
    let member = facts.organization_trail == Some(true) && listed(&facts.org_accounts, account);
    let enabled = facts.multi_region == Some(true) && listed(&facts.enabled_regions, region);
    (account == trail.account || member) && (region == trail.region || enabled)
}

/// What each chain's plan takes from the run: its folders, CloudTrail's
/// status for its region, and the checkpoint's seam.
struct Seams<'a> {
    base: &'a Plan,
    req: &'a ValidateRequest,
    sources: &'a Sources,
    org: Option<&'a str>,
    checkpoint: Option<&'a Checkpoint>,
}

impl Seams<'_> {
    fn chain_plan(&self, account: &str, region: &str) -> Plan {
        let mut p = self.base.clone();
        let facts = &self.sources.facts;
        p.root = AccountRoot::new(self.sources.prefix.as_deref(), self.org, account);
        p.source_region = region.to_string();
        p.recorded_spots = recorded_for(facts, account, region);
        p.delivers_here =
            facts.delivers_here && delivers_to(facts, &self.req.trail, account, region);
        p.status = facts.status.clone().map(|mut s| {
            s.covers_region = region == self.req.trail.region || facts.multi_region == Some(true);
            s
        });
        if let Some(r) = self.checkpoint.and_then(|cp| cp.record(account, region)) {
            // The record is where this chain resumes: what lies before it
            // was proven by the run that wrote it. The README's nightly
            // command keeps its `--start-time` night after night; only one
            // before the checkpoint's own start asks for more history.
            let recorded = r.end_time().unwrap_or(p.start);
            p.start = match self.req.window.start {
                Some(s) if self.checkpoint.is_some_and(|cp| widens_chain(cp, r, s)) => {
                    s.min(recorded)
                }
                _ => recorded,
            };
            p.relied_on = self
                .checkpoint
                .and_then(|cp| relied_on(self.req, cp, r, p.start));
            p.checkpoint = Some(r.clone());
            // A recorded chain whose folder is gone is a finding, not a typo.
            p.require_digest_folder = false;
        }
        p
    }
}

/// What a chain resuming at `r` relies on: the span its retention watch
/// commits to (from the first window this chain was proven in, never the
/// checkpoint's estate-wide start, which a failed widening night lowers),
/// up to where this run resumes. Without an inventory nothing says from
/// where the chain was proven, so nothing is claimed.
fn relied_on(
    req: &ValidateRequest,
    cp: &Checkpoint,
    r: &crate::plan::checkpoint::Record,
    resume: Timestamp,
) -> Option<crate::verify::model::ReliedOn> {
    let since = r.inventory.as_ref()?.since_time()?;
    let from = req.window.start.map_or(since, |s| s.max(since));
    (from < resume).then(|| crate::verify::model::ReliedOn {
        from,
        until: resume,
        checkpoint_written: cp.written.clone(),
        digest: format!("s3://{}/{}", r.bucket, r.key),
        // The state key's MAC or the signing key's signature (a checkpoint
        // neither vouches for is refused when either is given).
        authenticated: req.state.key.is_some() || req.state.signer.is_some(),
    })
}

/// Whether `start` reaches before the span this chain was proven from:
/// its inventory's start (where the chain's proof and its watch began;
/// a widening night that proves the chain moves it back), else, for a
/// record of an older checkpoint, the checkpoint's own start. Per chain:
/// another chain proven from earlier says nothing of this one.
fn widens_chain(cp: &Checkpoint, r: &crate::plan::checkpoint::Record, start: Timestamp) -> bool {
    let proven_from = r.inventory.as_ref().and_then(|i| i.since_time());
    proven_from
        .or(cp.start_time())
        .is_some_and(|from| start < from)
}

/// An explicit `--start-time` before the span the checkpoint was proven
/// from asks for history no run has proven yet.
fn widens(cp: &Checkpoint, start: Timestamp) -> bool {
    cp.start_time().is_some_and(|from| start < from)
}

/// What the report says of a checkpointed run's window.
fn checkpoint_note(req: &ValidateRequest, cp: &Checkpoint) -> String {
    let trust = if req.state.key.is_some() {
        " (authenticated by the state key)"
    } else {
        " (not authenticated: without --state-key, whoever can write the checkpoint chooses \
         where each chain resumes)"
    };
    checkpoint_window(req, cp) + trust
}

/// What a checkpoint means for the run's window, in one sentence (the
/// report's note and its provenance say the same).
pub(crate) fn checkpoint_window(req: &ValidateRequest, cp: &Checkpoint) -> String {
    match req.window.start {
        Some(s) if widens(cp, s) => format!(
            "--start-time {} is before the checkpoint's start {}: each chain is validated \
             from it again",
            crate::verify::time::display(s),
            cp.start.as_deref().unwrap_or("")
        ),
        _ => format!(
            "Chains the checkpoint records start at their recorded digest: history before it \
             was proven by an earlier run (checkpoint written {}) and is not read again",
            cp.written
        ),
    }
}

/// The chains of an estate: the bucket's folders for the selection, plus
/// member accounts the organization lists that have none.
async fn estate_chains(
    store: &dyn ObjectStore,
    req: &ValidateRequest,
    sources: &Sources,
    org: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Vec<ChainPlan>, PlanError> {
    let (sel, bucket) = (&req.selection, &sources.bucket);
    let expected = expected_regions(req, sources, notes);
    let mut chains = super::chains::plan_chains(
        store,
        bucket,
        sources.prefix.as_deref(),
        org,
        &sel.accounts,
        &sel.regions,
        &expected,
    )
    .await
    .map_err(|e| PlanError::Unavailable(format!("cannot list bucket {bucket}: {e}")))?;
    let org_accounts = &sources.facts.org_accounts;
    if sel.accounts == Pick::All && org_accounts.is_none() {
        notes.push(
            "Accounts are those with a folder in the bucket: an account whose folders were \
             deleted entirely is not noticed (name the accounts with --account-id, or let live \
             mode use organizations:ListAccounts)"
                .to_string(),
        );
    }
    match (org_accounts, org.is_some()) {
        (Some(Ok(active)), true) => {
            super::chains::add_silent_accounts(&mut chains, active, &req.trail.region)
        }
        (Some(Err(why)), true) => notes.push(format!(
            "Member accounts could not be listed (organizations:ListAccounts: {why}): an account \
             with no folder at all goes unnoticed{}",
            why.grant("organizations:ListAccounts")
        )),
        _ => {}
    }
    if chains.is_empty() {
        let root = AccountRoot::new(sources.prefix.as_deref(), org, &req.trail.account);
        let hint = super::discover::what_exists(store, bucket, &root, &req.trail.region).await;
        return Err(usage(format!(
            "no account or region folder of the trail matches the selection ({hint})"
        )));
    }
    Ok(chains)
}

/// The regions `--region all` expects besides those with folders: the
/// home region, and for a multi-region trail the partition's regions that
/// need no opt-in. What cannot be seen is said.
fn expected_regions(
    req: &ValidateRequest,
    sources: &Sources,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut expected = vec![req.trail.region.clone()];
    if req.selection.regions != Pick::All {
        return expected;
    }
    if !sources.facts.expected_regions.is_empty() {
        expected.extend(sources.facts.expected_regions.iter().cloned());
        notes.push(
            "Regions expected: those the acquisition's live run validated, in every account"
                .to_string(),
        );
    } else if let Some(Ok(enabled)) = &sources.facts.enabled_regions {
        expected.extend(enabled.iter().cloned());
        notes.push(format!(
            "A multi-region trail: the {} regions enabled in account {} (account:ListRegions) \
             are expected in every account; a region enabled after the window began shows as \
             missing for the hours before",
            enabled.len(),
            req.trail.account
        ));
    } else if sources.facts.multi_region == Some(true) {
        let defaults = super::regions::without_opt_in(&req.trail.partition);
        expected.extend(defaults.iter().map(|r| r.to_string()));
        let why = match &sources.facts.enabled_regions {
            Some(Err(why)) => format!(
                " (the enabled regions are unknown: account:ListRegions: {why}{})",
                why.grant("account:ListRegions")
            ),
            _ => String::new(),
        };
        notes.push(format!(
            "A multi-region trail: every region that needs no opt-in is expected in every \
             account; an opt-in region is expected where some account has a folder of it (one \
             deleted from every account is not noticed: name it with --region){why}"
        ));
    } else {
        notes.push(
            "Regions are those with a folder of the trail in some account, and its home region: \
             a region whose folders were deleted from every account is not noticed (name the \
             regions with --region to have each one expected)"
                .to_string(),
        );
    }
    expected
}

/// A chain the checkpoint knows is validated again, folders or not; a
/// chain it does not know needs --start-time.
fn add_recorded_chains(
    chains: &mut Vec<ChainPlan>,
    req: &ValidateRequest,
    checkpoint: Option<&Checkpoint>,
) -> Result<(), PlanError> {
    let Some(cp) = checkpoint else {
        return Ok(());
    };
    for r in &cp.chains {
        if !chains
            .iter()
            .any(|c| c.account == r.account && c.region == r.region)
        {
            chains.push(ChainPlan {
                account: r.account.clone(),
                region: r.region.clone(),
                has_digest_folder: false,
                has_log_folder: false,
                expected_because: Some("the checkpoint records it".into()),
            });
        }
    }
    if req.window.start.is_none() {
        if let Some(c) = chains
            .iter()
            .find(|c| cp.record(&c.account, &c.region).is_none())
        {
            return Err(usage(format!(
                "the checkpoint does not record account {} region {}: give --start-time",
                c.account, c.region
            )));
        }
    }
    Ok(())
}

/// The units of work, and for a shard which of them are its own.
fn units(
    req: &ValidateRequest,
    sources: &Sources,
    org: Option<&str>,
    start: Timestamp,
    chains: &[ChainPlan],
) -> (Vec<crate::verify::shard::Unit>, Option<ShardInfo>) {
    let ids: Vec<(String, String)> = chains
        .iter()
        .map(|c| (c.account.clone(), c.region.clone()))
        .collect();
    let end = req.window.end;
    let Some(s) = req.state.shard else {
        return (crate::verify::shard::units(&ids, start, end, 1), None);
    };
    let all = crate::verify::shard::units(&ids, start, end, s.count);
    let selection = shard_selection(req, sources, org);
    let fingerprint =
        crate::verify::shard::fingerprint(&req.trail.arn, start, end, &selection, &all);
    let mine = crate::verify::shard::mine(&all, s);
    let info = ShardInfo {
        index: s.index,
        count: s.count,
        fingerprint,
        selection,
        units: all,
    };
    (mine, Some(info))
}

/// Everything that can change a verdict: shards run with other options
/// would not add up to one run.
fn shard_selection(req: &ValidateRequest, sources: &Sources, org: Option<&str>) -> String {
    let c = &req.checks;
    format!(
        "accounts={:?} regions={:?} prefix={:?} organization={:?} bucket={} \
         allow_gaps={} allow_narrowing={} skip_unreferenced={} grace={} gap_events={:?} \
         max_log_bytes={} keys={:?} local={}",
        req.selection.accounts,
        req.selection.regions,
        sources.prefix,
        org,
        sources.bucket,
        c.allow_gaps,
        c.allow_narrowing,
        !c.check_unreferenced,
        c.grace.num_minutes(),
        req.source.gap_events,
        c.max_log_bytes,
        req.source.keys_file.as_ref().map(|_| "file"),
        req.is_local()
    )
}
