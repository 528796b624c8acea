//! The one conversion from the command line into typed requests. Every
//! usage error and hint is raised here, before anything is read from S3,
//! so a mistake costs a sentence, not a run.

use super::{AcquireCmd, Format, InflaterArg, SimulateArgs, ValidateArgs};
use crate::request::local::{self, Given};
use crate::request::{
    Checks, Outputs, Pick, Place, RequestError, RequestedWindow, Selection, Source, State, Tuning,
    ValidateRequest,
};
use crate::simulate::damage::Damage;
use crate::simulate::{SimError, SimSpec};
use crate::verify::arn::TrailArn;
use crate::verify::shard::Shard;
use crate::verify::time::{display, parse_user_time, Timestamp};

fn usage(e: impl std::fmt::Display) -> RequestError {
    RequestError::Usage(e.to_string())
}

impl From<Format> for crate::request::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => crate::request::Format::Text,
            Format::Json => crate::request::Format::Json,
            Format::Jsonl => crate::request::Format::Jsonl,
            Format::Awscli => crate::request::Format::AwsCli,
        }
    }
}

/// The report's format: `--format`, or `--output` in the AWS CLI's sense.
/// `--output FILE` from habit is refused with the flag that writes a file.
pub fn report_format(
    format: Option<Format>,
    output: Option<&str>,
) -> Result<crate::request::Format, RequestError> {
    let named = match output {
        None => None,
        Some("text") => Some(Format::Text),
        Some("json") => Some(Format::Json),
        Some("jsonl") => Some(Format::Jsonl),
        Some("awscli") => Some(Format::Awscli),
        Some(o @ ("table" | "yaml" | "yaml-stream")) => {
            return Err(usage(format!(
                "--output {o}: trailproof writes text, awscli, json or jsonl"
            )))
        }
        Some(other) => {
            return Err(usage(format!(
            "--output is the report's format, as in the AWS CLI (text, awscli, json or jsonl); to \
                 write the report to {other}, use --report-file {other}"
        )))
        }
    };
    match (format, named) {
        (Some(a), Some(b)) if a != b => Err(usage(
            "--format and --output name different formats: give one of them",
        )),
        (a, b) => Ok(a.or(b).unwrap_or(Format::Text).into()),
    }
}

/// The operator's state key from `--state-key` or `TRAILPROOF_STATE_KEY`:
/// a secret file, or a KMS key reached with the run's profile and endpoint.
pub fn state_key(
    given: Option<&str>,
    profile: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Option<std::sync::Arc<dyn crate::verify::state_key::StateKey>>, RequestError> {
    let env = |v: &str| std::env::var(v).ok();
    crate::request::state_key::load(given, env, |arn| {
        crate::sources::kms::KmsKey::open(arn, profile, endpoint)
            .map(|k| std::sync::Arc::new(k) as _)
    })
}

/// `--endpoint-url` must be a URL the SDK can call.
pub fn endpoint_url(given: Option<&str>) -> Result<Option<String>, RequestError> {
    match given {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(usage(format!(
            "--endpoint-url {u} is not a URL: give http://HOST:PORT or https://HOST"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

/// Longest window `--cross-check-events` reads event history for: every
/// write event of the span is fetched at 2 requests per second.
const CROSS_CHECK_DAYS: i64 = 14;

/// `--expect-selectors FILE`: the JSON `aws cloudtrail get-event-selectors`
/// prints.
fn expected_selectors(
    path: &std::path::Path,
    trail_arn: &str,
) -> Result<crate::verify::selectors::Settings, RequestError> {
    let hint = "save the trail's intended selectors with `aws cloudtrail get-event-selectors \
                --trail-name ARN > FILE`";
    let bytes = std::fs::read(path).map_err(|e| {
        usage(format!(
            "--expect-selectors {}: {e} ({hint})",
            path.display()
        ))
    })?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        usage(format!(
            "--expect-selectors {} is not JSON ({e}): {hint}",
            path.display()
        ))
    })?;
    if let Some(other) = doc["TrailARN"].as_str().filter(|a| *a != trail_arn) {
        return Err(usage(format!(
            "--expect-selectors {} holds the selectors of {other}, not of {trail_arn}: {hint}",
            path.display()
        )));
    }
    crate::verify::selectors::from_get_event_selectors(&doc).map_err(|e| {
        usage(format!(
            "--expect-selectors {}: {e}; {hint}",
            path.display()
        ))
    })
}

impl ValidateArgs {
    /// The typed request, with DIR read for a local run.
    pub fn to_request(&self) -> Result<ValidateRequest, RequestError> {
        let trail = TrailArn::parse(&self.trail_arn).map_err(usage)?;
        let window = self.window()?;
        let selection = self.selection(&trail)?;
        if self.concurrency == Some(0) {
            return Err(usage("--concurrency must be at least 1"));
        }
        let state = self.state()?;
        let checks = self.checks(&window)?;
        let output = self.outputs(state.shard)?;
        let (source, selection) = self.source(&trail, selection, state.key.as_deref(), &window)?;
        let local = matches!(source.place, Place::Local { .. });
        let tuning = Tuning {
            concurrency: self
                .concurrency
                .unwrap_or_else(|| default_concurrency(local)),
            read_timeout: std::time::Duration::from_secs_f64(self.read_timeout),
            profile: self.profile.clone(),
            endpoint_url: endpoint_url(self.endpoint_url.as_deref())?,
        };
        Ok(ValidateRequest {
            trail,
            window,
            selection,
            source,
            checks,
            output,
            state,
            tuning,
        })
    }

    fn window(&self) -> Result<RequestedWindow, RequestError> {
        let start = match &self.start_time {
            Some(s) => Some(parse_user_time(s).map_err(usage)?),
            None if self.checkpoint.is_some() => None,
            None => {
                return Err(usage(
                    "--start-time is required (or a --checkpoint to start from)",
                ))
            }
        };
        let now = chrono::Utc::now();
        if let Some(s) = start.filter(|s| *s > now) {
            return Err(usage(format!(
                "--start-time {} is in the future (it is now {}): check the year",
                display(s),
                display(now)
            )));
        }
        let mut notes = Vec::new();
        let end = match &self.end_time {
            Some(s) => parse_user_time(s).map_err(usage)?,
            None => now,
        };
        let end = if end > now {
            if self.shard.is_some() {
                // Each shard would clamp to its own "now": no common window.
                return Err(usage(format!(
                    "--end-time {} is in the future: shards must validate a window that has ended",
                    display(end)
                )));
            }
            notes.push(format!(
                "--end-time {} is in the future: validated up to now ({})",
                display(end),
                display(now)
            ));
            now
        } else {
            end
        };
        check_order(start, end)?;
        if start == Some(end) {
            return Err(usage(
                "Invalid time range specified: start-time equals end-time (an empty window \
                 proves nothing)",
            ));
        }
        Ok(RequestedWindow {
            start,
            end,
            end_given: self.end_time.is_some(),
            notes,
        })
    }

    fn selection(&self, trail: &TrailArn) -> Result<Selection, RequestError> {
        let accounts = Pick::parse(self.account_id.as_deref().unwrap_or(&trail.account));
        check_accounts(&accounts, &trail.account)?;
        let regions = Pick::parse(self.region.as_deref().unwrap_or(&trail.region));
        check_regions(&regions)?;
        if let Some(o) = &self.organization_id {
            let well_formed = o.len() >= 3
                && o.starts_with("o-")
                && o[2..].bytes().all(|b| b.is_ascii_alphanumeric());
            if !well_formed {
                return Err(usage(format!(
                    "--organization-id must look like o-xxxxxxxxxx, got {o:?}"
                )));
            }
        }
        Ok(Selection {
            accounts,
            regions,
            bucket: self.s3_bucket.clone(),
            prefix: self.s3_prefix.clone(),
            organization_id: self.organization_id.clone(),
        })
    }

    fn state(&self) -> Result<State, RequestError> {
        let shard = match &self.shard {
            None => None,
            Some(text) => {
                let parsed = Shard::parse(text, |v| std::env::var(v).ok());
                Some(parsed.map_err(|e| usage(e.to_string()))?)
            }
        };
        if shard.is_some() {
            if self.checkpoint.is_some() {
                return Err(usage("--checkpoint and --shard cannot be combined"));
            }
            // `--output FILE` (the old spelling) gets the --report-file hint.
            report_format(self.format, self.output.as_deref())?;
            if self.format.is_some_and(|f| f != Format::Json)
                || self.output.as_deref().is_some_and(|o| o != "json")
            {
                return Err(usage(
                    "a shard's report is JSON for `trailproof merge`, which writes the text, \
                     JSON Lines or HTML report of the whole run: drop --format/--output here",
                ));
            }
            if self.metrics.is_some() || self.html.is_some() {
                return Err(usage(
                    "--metrics and --html are not a shard's: run `trailproof merge --html FILE \
                     --metrics FILE` over the shards' reports",
                ));
            }
            if self.end_time.is_none() {
                return Err(usage(
                    "--shard needs --end-time: every shard must validate the same window",
                ));
            }
        }
        let env = |v: &str| std::env::var(v).ok();
        let (profile, endpoint) = (self.profile.as_deref(), self.endpoint_url.as_deref());
        let key = state_key(self.state_key.as_deref(), profile, endpoint)?;
        let run_id = crate::request::state_key::run_id(self.run_id.as_deref(), env);
        if shard.is_some() && key.is_some() && run_id.is_none() {
            return Err(usage(
                "--shard with a state key needs --run-id (or TRAILPROOF_RUN_ID), the same for \
                 every shard of the run, so merge can refuse an old shard report",
            ));
        }
        Ok(State {
            checkpoint: self.checkpoint.clone(),
            shard,
            key,
            run_id,
        })
    }

    fn checks(&self, window: &RequestedWindow) -> Result<Checks, RequestError> {
        if !(0..=24 * 60).contains(&self.delivery_grace) {
            return Err(usage("--delivery-grace must be between 0 and 1440 minutes"));
        }
        if self.cross_check_events {
            if self.local.is_some() {
                return Err(usage(
                    "--cross-check-events asks CloudTrail's event history: it needs a live run, \
                     not --local",
                ));
            }
            let days = window.start.map(|s| (window.end - s).num_days());
            if days.is_none_or(|d| d > CROSS_CHECK_DAYS) {
                return Err(usage(format!(
                    "--cross-check-events is for forensic windows of at most {CROSS_CHECK_DAYS} \
                     days: give --start-time (and --end-time) around the incident"
                )));
            }
        }
        Ok(Checks {
            allow_gaps: self.allow_gaps,
            allow_narrowing: self.allow_narrowing,
            expected_coverage: self
                .expect_selectors
                .as_deref()
                .map(|f| expected_selectors(f, &self.trail_arn))
                .transpose()?,
            cross_check: self.cross_check_events,
            grace: chrono::Duration::minutes(self.delivery_grace),
            check_unreferenced: !self.skip_unreferenced,
            max_log_bytes: self.max_log_bytes,
            inflater: match self.inflater {
                InflaterArg::Whole => crate::verify::gzip::Inflater::Whole,
                InflaterArg::Stream => crate::verify::gzip::Inflater::Stream,
            },
        })
    }

    fn outputs(&self, shard: Option<Shard>) -> Result<Outputs, RequestError> {
        let report = match &self.report_file {
            Some(t) if t.contains("{shard}") => {
                let Some(s) = shard else {
                    return Err(usage("{shard} in --report-file needs --shard"));
                };
                Some(t.replace("{shard}", &(s.index + 1).to_string()))
            }
            other => other.clone(),
        };
        let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let destinations = [
            ("--report-file", report.clone()),
            ("--html", path(&self.html)),
            ("--metrics", path(&self.metrics)),
            ("--checkpoint", self.checkpoint.clone()),
        ];
        for (flag, target) in destinations {
            if let Some(t) = target {
                check_destination(flag, &t)?;
            }
        }
        Ok(Outputs {
            format: report_format(self.format, self.output.as_deref())?,
            verbose: self.verbose,
            quiet: self.quiet,
            report,
            html: path(&self.html),
            metrics: path(&self.metrics),
        })
    }

    /// The local copy (with what DIR supplies) or S3.
    fn source(
        &self,
        trail: &TrailArn,
        mut selection: Selection,
        key: Option<&dyn crate::verify::state_key::StateKey>,
        window: &RequestedWindow,
    ) -> Result<(Source, Selection), RequestError> {
        let Some(dir) = &self.local else {
            let source = Source {
                place: Place::Live {
                    path_style: self.s3_path_style,
                    max_attempts: self.max_attempts,
                },
                keys_file: self.public_keys.clone(),
                gap_events: self.gap_events.clone(),
            };
            return Ok((source, selection));
        };
        let copy = local::resolve(Given {
            dir,
            trail_arn: &trail.arn,
            bucket: selection.bucket.take(),
            prefix: selection.prefix.take(),
            keys_file: self.public_keys.clone(),
            gap_events: self.gap_events.clone(),
            key,
            start: window.start,
            end: window.end,
            checkpointed: self.checkpoint.is_some(),
            described: None,
            unvouched: None,
            expected_regions: Vec::new(),
            recorded_spots: Vec::new(),
        })?;
        selection.bucket = Some(copy.bucket);
        selection.prefix = copy.prefix;
        let source = Source {
            place: Place::Local {
                dir: dir.clone(),
                notes: copy.notes,
                expected_regions: copy.expected_regions,
                recorded_spots: copy.recorded_spots,
                delivers_here: copy.delivers_here,
            },
            keys_file: Some(copy.keys_file),
            gap_events: copy.gap_events,
        };
        Ok((source, selection))
    }
}

impl AcquireCmd {
    /// A live validation whose JSON report lands in DIR; checkpoints and
    /// shards do not apply to evidence.
    pub fn to_request(&self) -> Result<ValidateRequest, RequestError> {
        if self.validate.local.is_some() {
            return Err(usage("acquire copies from S3; --local does not apply"));
        }
        let mut args = self.validate.clone();
        if args.output.is_some() || args.report_file.is_some() || args.format.is_some() {
            return Err(usage(
                "acquire writes its report as live-report.json in --out DIR; --format, --output \
                 and --report-file do not apply",
            ));
        }
        if args.checkpoint.is_some() || args.shard.is_some() {
            return Err(usage(
                "acquire copies one whole window: --checkpoint and --shard do not apply",
            ));
        }
        args.format = Some(Format::Json);
        args.report_file = Some(
            self.out
                .join(crate::sources::evidence::REPORT_FILE)
                .display()
                .to_string(),
        );
        args.to_request()
    }
}

/// `KIND@HOUR[.N][:ACCOUNT/REGION]`: the chain part hits one chain of an
/// estate (`*` for any account or region).
type Aimed = (Vec<Damage>, Vec<Option<(String, String)>>);

fn parse_damage(given: &[String]) -> Result<Aimed, SimError> {
    let invalid = |m: String| SimError::Invalid(m);
    let (mut damage, mut chains) = (Vec::new(), Vec::new());
    for d in given {
        let (what, chain) = match d.split_once(':') {
            Some((w, c)) => {
                let (a, r) = c
                    .split_once('/')
                    .ok_or_else(|| invalid(format!("damage {d:?}: the chain is ACCOUNT/REGION")))?;
                (w, Some((a.to_string(), r.to_string())))
            }
            None => (d.as_str(), None),
        };
        damage.push(what.parse::<Damage>().map_err(invalid)?);
        chains.push(chain);
    }
    Ok((damage, chains))
}

impl SimulateArgs {
    /// The simulator's spec, and the accounts and regions of an estate.
    pub fn to_spec(&self) -> Result<(SimSpec, Vec<String>, Vec<String>), SimError> {
        let invalid = |m: String| SimError::Invalid(m);
        let start = parse_user_time(&self.start_time).map_err(|e| invalid(e.to_string()))?;
        let (damage, damage_chains) = parse_damage(&self.damage)?;
        let switch_bucket = match &self.switch_bucket {
            None => None,
            Some(s) => {
                let (b, h) = s
                    .rsplit_once('@')
                    .ok_or_else(|| invalid(format!("--switch-bucket {s:?} is not BUCKET@HOUR")))?;
                let h = h
                    .parse()
                    .map_err(|_| invalid(format!("--switch-bucket {s:?}: bad hour")))?;
                Some((b.to_string(), h))
            }
        };
        let spec = SimSpec {
            out: self.out.clone(),
            start,
            hours: self.hours,
            logs_per_hour: self.logs_per_hour,
            records_per_log: self.records_per_log,
            bucket: self.bucket.clone(),
            log_bucket: self.log_bucket.clone(),
            account: self.account_id.clone(),
            trail_name: self.trail_name.clone(),
            home_region: self.home_region.clone(),
            region: self
                .region
                .clone()
                .unwrap_or_else(|| self.home_region.clone()),
            prefix: self.s3_prefix.clone(),
            org_id: self.organization_id.clone(),
            window_offset_seconds: self.window_offset_seconds,
            seed: self.seed,
            damage,
            damage_chains,
            keys_file: self.keys_file.clone(),
            backfill: self.backfill,
            rotate_key: self.rotate_key,
            switch_bucket,
            signer: None,
            no_gap_records: self.no_gap_records,
            trail_account: None,
        };
        let list = |l: &Option<String>, default: &str| -> Vec<String> {
            l.as_deref()
                .unwrap_or(default)
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let accounts = list(&self.accounts, &spec.account);
        let regions = list(&self.regions, &spec.region);
        for (a, r) in spec.damage_chains.iter().flatten() {
            let known = |x: &str, all: &[String]| x == "*" || all.iter().any(|y| y == x);
            if !known(a, &accounts) || !known(r, &regions) {
                return Err(invalid(format!(
                    "damage for chain {a}/{r}: no such account and region among --accounts and \
                     --regions"
                )));
            }
        }
        Ok((spec, accounts, regions))
    }
}

/// `trailproof keys` and `merge` take the same time forms.
pub fn optional_time(s: &Option<String>) -> Result<Option<Timestamp>, RequestError> {
    s.as_deref().map(parse_user_time).transpose().map_err(usage)
}

pub fn check_order(start: Option<Timestamp>, end: Timestamp) -> Result<(), RequestError> {
    if start.is_some_and(|s| s > end) {
        return Err(usage(
            "Invalid time range specified: start-time must occur before end-time",
        ));
    }
    Ok(())
}

fn check_accounts(accounts: &Pick, arn_account: &str) -> Result<(), RequestError> {
    let Pick::List(v) = accounts else {
        return Ok(());
    };
    let bad = v
        .iter()
        .map(String::as_str)
        .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        .or(v.is_empty().then_some(arn_account));
    match bad {
        Some(bad) => Err(usage(format!(
            "--account-id must be 12 digits, a comma-separated list of them, or all; got {bad:?}"
        ))),
        None => Ok(()),
    }
}

fn check_regions(regions: &Pick) -> Result<(), RequestError> {
    let Pick::List(v) = regions else {
        return Ok(());
    };
    let region_like = |r: &String| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if let Some(bad) = v.iter().find(|r| !region_like(r)) {
        return Err(usage(format!(
            "--region must be a region name, a comma-separated list of them, or all; got {bad:?}"
        )));
    }
    // A valid region with no folders is a finding (MISSING); a name no
    // partition can have is a typo.
    if let Some(bad) = v.iter().find(|r| !is_region_name(r)) {
        return Err(usage(format!(
            "--region {bad:?} is not a region name of any AWS partition (like us-east-1, \
             eu-central-2, us-gov-west-1, cn-north-1); check the spelling"
        )));
    }
    if v.is_empty() {
        return Err(usage("--region must name at least one region, or all"));
    }
    Ok(())
}

fn default_concurrency(local: bool) -> usize {
    if !local {
        return 64;
    }
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The shape every AWS region name has: a geography, an optional
/// partition part (`gov`, `iso`, `isob`, ...), a direction, a number
/// (`us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `ap-southeast-7`).
/// New regions keep this shape; a misspelt direction (`us-eats-1`) does not.
pub fn is_region_name(r: &str) -> bool {
    const DIRECTIONS: [&str; 9] = [
        "east",
        "west",
        "north",
        "south",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = r.split('-').collect();
    let [geo, middle @ .., number] = parts.as_slice() else {
        return false;
    };
    let partition_ok = match middle {
        [_] => true,
        [p, _] => *p == "gov" || p.starts_with("iso"),
        _ => false,
    };
    geo.len() == 2
        && geo.bytes().all(|b| b.is_ascii_lowercase())
        && partition_ok
        && middle.last().is_some_and(|d| DIRECTIONS.contains(d))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// A file destination whose folder does not exist fails now, not after the
/// whole run (where the failure would stand in for the verdict).
/// `s3://` destinations are checked when written.
pub fn check_destination(flag: &str, target: &str) -> Result<(), RequestError> {
    if target.starts_with("s3://") {
        return Ok(());
    }
    let path = std::path::Path::new(target);
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if path.file_name().is_none() || path.is_dir() || target.ends_with('/') {
        return Err(usage(format!("{flag} {target} is not a file name")));
    }
    if !folder.is_dir() {
        return Err(usage(format!(
            "{flag} {target}: the folder {} does not exist (create it first)",
            folder.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names_of_every_partition_and_typos() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-7",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-isob-east-1",
            "il-central-1",
            "mx-central-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "us-eats-1",
            "useast1",
            "us-east",
            "us-east-x",
            "u-east-1",
            "us-gov-eats-1",
            "eu-west-100",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
