//! The one conversion from the command line into typed requests, one file
//! per command. Every usage error and hint is raised here, before anything
//! is read from S3, so a mistake costs a sentence, not a run. This file
//! holds what the commands share.

mod acquire;
mod deliveries;
mod keys;
mod merge;
mod simulate;
mod validate;

use super::{AcquireCmd, Format, InflaterArg, SimulateArgs, ValidateArgs};
use crate::request::local::{self, Given};
use crate::request::{
    Checks, Outputs, Pick, Place, RequestError, RequestedWindow, Selection, Source, State, Tuning,
    ValidateRequest,
};
use crate::simulate::damage::Damage;
use crate::simulate::{SimError, SimSpec};
use crate::sources::output::Destination;
use crate::verify::arn::TrailArn;
use crate::verify::shard::Shard;
use crate::verify::time::{display, parse_user_time, Timestamp};

pub(super) fn usage(e: impl std::fmt::Display) -> RequestError {
    RequestError::Usage(e.to_string())
}

impl From<Format> for crate::request::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => crate::request::Format::Text,
            Format::Json => crate::request::Format::Json,
            Format::Jsonl => crate::request::Format::Jsonl,
            Format::Awscli => crate::request::Format::AwsCli,
            Format::Ocsf => crate::request::Format::Ocsf,
            Format::Asff => crate::request::Format::Asff,
        }
    }
}

impl From<crate::cli::MetricsFormat> for crate::request::MetricsFormat {
    fn from(f: crate::cli::MetricsFormat) -> Self {
        match f {
            crate::cli::MetricsFormat::Prometheus => crate::request::MetricsFormat::Prometheus,
            crate::cli::MetricsFormat::Emf => crate::request::MetricsFormat::Emf,
        }
    }
}

/// `--metrics FILE`, or `-` for stdout (returned as true): only beside a
/// text report, or one in `--report-file`, so a JSON, JSON Lines, OCSF or
/// ASFF report on stdout stays one document of its format.
pub(super) fn metrics_destination(
    given: Option<&std::path::Path>,
    format: crate::request::Format,
    report_in_file: bool,
) -> Result<(Option<Destination>, bool), RequestError> {
    use crate::request::Format;
    match given {
        Some(p) if p.as_os_str() == "-" => {
            if !report_in_file && !matches!(format, Format::Text | Format::AwsCli) {
                return Err(usage(
                    "--metrics - writes to stdout, where this report goes: give --report-file \
                     FILE for the report, or --metrics FILE",
                ));
            }
            Ok((None, true))
        }
        other => Ok((file_destination("--metrics", other)?, false)),
    }
}

/// The report's format: `--format`, or `--output` in the AWS CLI's sense.
/// `--output FILE` from habit is refused with the flag that writes a file.
pub(crate) fn report_format(
    format: Option<Format>,
    output: Option<&str>,
) -> Result<crate::request::Format, RequestError> {
    let named = match output {
        None => None,
        Some("text") => Some(Format::Text),
        Some("json") => Some(Format::Json),
        Some("jsonl") => Some(Format::Jsonl),
        Some("awscli") => Some(Format::Awscli),
        Some("ocsf") => Some(Format::Ocsf),
        Some("asff") => Some(Format::Asff),
        Some(o @ ("table" | "yaml" | "yaml-stream")) => {
            return Err(usage(format!(
                "--output {o}: trailproof writes text, awscli, json, jsonl, ocsf or asff"
            )))
        }
        Some(other) => {
            return Err(usage(format!(
            "--output is the report's format, as in the AWS CLI (text, awscli, json, jsonl, ocsf or asff); to \
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
pub(crate) fn endpoint_url(given: Option<&str>) -> Result<Option<String>, RequestError> {
    match given {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(usage(format!(
            "--endpoint-url {u} is not a URL: give http://HOST:PORT or https://HOST"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

/// `trailproof keys` and `merge` take the same time forms.
pub(crate) fn optional_time(s: &Option<String>) -> Result<Option<Timestamp>, RequestError> {
    s.as_deref().map(parse_user_time).transpose().map_err(usage)
}

pub(crate) fn check_order(start: Option<Timestamp>, end: Timestamp) -> Result<(), RequestError> {
    if start.is_some_and(|s| s > end) {
        return Err(usage(
            "Invalid time range specified: start-time must occur before end-time",
        ));
    }
    Ok(())
}

pub(super) fn check_accounts(accounts: &Pick, arn_account: &str) -> Result<(), RequestError> {
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

pub(super) fn check_regions(regions: &Pick) -> Result<(), RequestError> {
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

pub(super) fn default_concurrency(local: bool) -> usize {
    if !local {
        return 64;
    }
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The shape every AWS region name has: a geography, an optional
/// partition part (`gov`, `iso`, `isob`, ...), a direction, a number
/// (`us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `ap-southeast-7`).
/// New regions keep this shape; a misspelt direction (`us-eats-1`) does not.
pub(crate) fn is_region_name(r: &str) -> bool {
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
pub(crate) fn check_destination(flag: &str, target: &Destination) -> Result<(), RequestError> {
    let Destination::File(path) = target else {
        return Ok(());
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let named = path.file_name().is_some() && !path.as_os_str().to_string_lossy().ends_with('/');
    if !named || path.is_dir() {
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

/// `--report-file` or `--checkpoint`: a path or `s3://bucket/key`, checked.
pub(super) fn destination(
    flag: &str,
    given: Option<&str>,
) -> Result<Option<Destination>, RequestError> {
    let Some(target) = given else {
        return Ok(None);
    };
    let d = Destination::parse(target);
    if target.starts_with("s3://") && matches!(d, Destination::File(_)) {
        return Err(usage(format!(
            "{flag} {target}: an S3 destination is s3://BUCKET/KEY"
        )));
    }
    check_destination(flag, &d)?;
    Ok(Some(d))
}

/// `--html` or `--metrics`: a file, checked.
pub(super) fn file_destination(
    flag: &str,
    given: Option<&std::path::Path>,
) -> Result<Option<Destination>, RequestError> {
    let Some(path) = given else {
        return Ok(None);
    };
    let d = Destination::File(path.to_path_buf());
    check_destination(flag, &d)?;
    Ok(Some(d))
}

/// `--signing-key file:PATH|KMS-ARN`, loaded: a key that cannot sign is
/// exit 2.
pub(super) fn signer(
    arg: Option<&str>,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<Option<crate::sources::signing::Signer>, RequestError> {
    let open = |a| crate::sources::signing::Signer::from_arg(a, profile, endpoint_url);
    arg.map(open).transpose().map_err(usage)
}

/// `--tsa-url URL`: a URL that is not http(s) is exit 2.
pub(super) fn tsa(
    url: Option<&str>,
) -> Result<Option<std::sync::Arc<crate::sources::tsa::Tsa>>, RequestError> {
    let open = |u| crate::sources::tsa::Tsa::new(u).map(std::sync::Arc::new);
    url.map(open).transpose().map_err(usage)
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
