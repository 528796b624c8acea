//! `--local DIR`: which bucket folder of DIR holds the trail, and what a
//! directory written by `trailproof acquire` supplies unasked (keys,
//! lifecycle records, the trail's bucket and prefix). Read here, once, so a
//! copy that cannot work is a usage error before anything is validated.

use super::RequestError;
use crate::verify::state_key::StateKey;
use std::path::{Path, PathBuf};

use crate::sources::evidence::{
    authenticated_manifest, files_of, sha256_of, EVENTS_FILE, KEYS_FILE, MANIFEST_FILE,
    REPORT_FILE, TRAIL_FILE,
};

/// What the user gave for a local run, before DIR fills the blanks.
pub(crate) struct Given<'a> {
    pub dir: &'a Path,
    pub trail_arn: &'a str,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub keys_file: Option<PathBuf>,
    pub gap_events: Option<PathBuf>,
    /// Authenticates an acquired directory's manifest.
    pub key: Option<&'a dyn StateKey>,
    /// The run's window: an acquired manifest must cover it (a
    /// checkpointed run's start is its records, known later).
    pub start: Option<crate::verify::time::Timestamp>,
    pub end: crate::verify::time::Timestamp,
    pub checkpointed: bool,
    /// Set from an acquired `live-report.json`.
    pub expected_regions: Vec<String>,
    /// Event history's answers the acquisition's live run listed.
    pub recorded_spots: Vec<crate::request::RecordedSpot>,
    /// The acquired description the manifest vouches for: the trail's
    /// bucket, prefix, and whether validation was on.
    pub described: Option<(String, Option<String>, bool)>,
    /// Why the directory's manifest vouches for none of its files (set
    /// when it was read), for the sentence that asks for `--public-keys`.
    pub unvouched: Option<String>,
}

/// The local copy as the run will read it.
#[derive(Debug)]
pub(crate) struct LocalCopy {
    pub bucket: String,
    pub prefix: Option<String>,
    pub keys_file: PathBuf,
    pub gap_events: Option<PathBuf>,
    /// What DIR supplied unasked, said in the report.
    pub notes: Vec<String>,
    /// The regions the acquisition's live run validated (its
    /// `live-report.json`, taken unauthenticated: it can only add regions
    /// to expect).
    pub expected_regions: Vec<String>,
    /// What event history held for the live run's blind spots.
    pub recorded_spots: Vec<crate::request::RecordedSpot>,
    /// The authenticated acquired description says the trail delivers to
    /// this bucket and prefix with validation on: a missing folder there is
    /// deletion, not the operator's typo.
    pub delivers_here: bool,
}

fn not_a_copy(dir: &Path, why: impl std::fmt::Display) -> RequestError {
    RequestError::Unreadable(format!(
        "cannot use {} as a local copy: {why}",
        dir.display()
    ))
}

fn usage(s: impl Into<String>) -> RequestError {
    RequestError::Usage(s.into())
}

/// Resolves a `--local` request.
pub(crate) fn resolve(mut given: Given<'_>) -> Result<LocalCopy, RequestError> {
    let dir = given.dir;
    let notes = acquired_defaults(&mut given)?;
    let Some(keys_file) = given.keys_file else {
        let acquired = dir.join(MANIFEST_FILE).is_file() && dir.join(KEYS_FILE).is_file();
        let why = match (acquired, given.key) {
            (false, _) => String::new(),
            (true, None) => " (the directory's own keys count only with the state key that \
                             acquired it: --state-key)"
                .to_string(),
            (true, Some(_)) => match &given.unvouched {
                Some(why) => format!(" ({why})"),
                None => " (the directory's public-keys.json differs from its manifest)".into(),
            },
        };
        return Err(usage(format!(
            "--public-keys FILE is required with --local{why}"
        )));
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(not_a_copy(dir, "not a directory")),
        Err(e) => return Err(not_a_copy(dir, e)),
    }
    let bucket_named = given.bucket.as_ref().is_some_and(|b| dir.join(b).is_dir());
    if !bucket_named && dir.join("AWSLogs").is_dir() {
        let how = match bucket_named_by_digests(dir) {
            Some(b) => format!(
                "its digests belong to bucket {b}: put it in a folder named {b} (for example \
                 `mkdir copies && mv {d} copies/{b}`) and pass that folder's parent as --local",
                d = dir.display()
            ),
            None => "put it in a folder named after its bucket and pass that folder's parent \
                     as --local"
                .to_string(),
        };
        return Err(usage(format!(
            "{} looks like one bucket's contents (it holds AWSLogs/ directly, as `aws s3 sync` \
             writes it); {how}",
            dir.display()
        )));
    }
    let bucket = match given.bucket {
        Some(b) => b,
        None => sole_bucket(dir)?,
    };
    if !dir.join(&bucket).is_dir() {
        return Err(RequestError::Unreadable(format!(
            "bucket {bucket} is not in {}",
            dir.display()
        )));
    }
    let read = (bucket.as_str(), given.prefix.as_deref());
    let delivers_here = given.described.as_ref().is_some_and(|(b, p, on)| {
        *on && crate::verify::layout::AccountRoot::same_place((b, p.as_deref()), read)
    });
    Ok(LocalCopy {
        delivers_here,
        bucket,
        prefix: given.prefix,
        keys_file,
        gap_events: given.gap_events,
        notes,
        expected_regions: given.expected_regions,
        recorded_spots: given.recorded_spots,
    })
}

/// The one bucket directory in DIR, when the user did not name one.
fn sole_bucket(dir: &Path) -> Result<String, RequestError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| RequestError::Unreadable(format!("cannot read {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    match names.len() {
        1 => Ok(names.remove(0)),
        0 => Err(RequestError::Unreadable(format!(
            "{} holds no bucket directory",
            dir.display()
        ))),
        _ => Err(usage(format!(
            "{} holds several buckets ({}); name one with --s3-bucket",
            dir.display(),
            names.join(", ")
        ))),
    }
}

/// A directory written by `trailproof acquire` carries the keys, the
/// lifecycle records and the trail's settings: used unless given. Keys and
/// records are evidence, so they count only when the state key
/// authenticates the manifest and the manifest vouches for their bytes;
/// anything else is said and left out (gaps then stay unexplained).
fn acquired_defaults(given: &mut Given<'_>) -> Result<Vec<String>, RequestError> {
    let dir = given.dir;
    let mut notes = Vec::new();
    if !dir.join(MANIFEST_FILE).is_file() {
        return Ok(notes);
    }

    let wanted: Vec<&str> = [
        (given.keys_file.is_none(), KEYS_FILE),
        (given.gap_events.is_none(), EVENTS_FILE),
    ]
    .into_iter()
    .filter(|(unset, f)| *unset && dir.join(f).is_file())
    .map(|(_, f)| f)
    .collect();
    // Read and authenticated once; bound to this run before any file counts.
    let vouched = match authenticated_manifest(dir, given.key) {
        Ok(m) => match bound_to_run(&m, given)? {
            Some(why) => Err(why),
            None => Ok(files_of(&m)),
        },
        Err(why) => Err(why.to_string()),
    };
    given.unvouched = vouched.as_ref().err().cloned();
    for file in wanted {
        let path = match vouched_for(&vouched, dir, file) {
            Ok(path) => path,
            Err(why) => {
                notes.push(format!("{} is not used: {why}", dir.join(file).display()));
                continue;
            }
        };
        notes.push(format!(
            "{} taken from {} (its acquired manifest is authenticated by the state key)",
            if file == KEYS_FILE {
                "Public keys"
            } else {
                "Lifecycle records"
            },
            path.display()
        ));
        if file == KEYS_FILE {
            given.keys_file = Some(path);
        } else {
            given.gap_events = Some(path);
        }
    }
    // The regions to expect: an edited live report could leave one out.
    let report = dir.join(REPORT_FILE);
    match vouched_report(&vouched, dir, given.trail_arn) {
        Ok(r) => {
            given.expected_regions = live_regions(&r);
            given.recorded_spots = live_spots(&r);
        }
        Err(_) if report.is_file() => notes.push(format!(
            "{} does not set the regions to expect nor list event history: it is not \
             authenticated by the state key",
            report.display()
        )),
        Err(_) => {}
    }
    notes.extend(trail_place(given, &vouched));
    Ok(notes)
}

/// The bucket and prefix the acquired `trail.json` names, unless given:
/// they count only as the manifest vouches for the file; else a note.
fn trail_place(
    given: &mut Given<'_>,
    vouched: &Result<std::collections::HashMap<String, String>, String>,
) -> Option<String> {
    let dir = given.dir;
    // Where the trail delivers counts only as the manifest vouches for it.
    let trail: Option<serde_json::Value> = match vouched_for(vouched, dir, TRAIL_FILE) {
        Ok(path) => std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        Err(why) => {
            return dir.join(TRAIL_FILE).is_file().then(|| {
                format!(
                    "{} is not used (the bucket and prefix come from DIR or the flags): {why}",
                    dir.join(TRAIL_FILE).display()
                )
            });
        }
    };
    if let Some(t) = trail.as_ref().and_then(|t| t["trailList"].get(0)) {
        if t["TrailARN"].as_str() == Some(given.trail_arn) {
            given.described = t["S3BucketName"].as_str().map(|b| {
                let prefix = t["S3KeyPrefix"].as_str().map(str::to_string);
                let on = t["LogFileValidationEnabled"].as_bool() == Some(true);
                (b.to_string(), prefix, on)
            });
            if given.bucket.is_none() {
                given.bucket = t["S3BucketName"].as_str().map(str::to_string);
            }
            if given.prefix.is_none() {
                given.prefix = t["S3KeyPrefix"].as_str().map(str::to_string);
            }
        }
    }
    None
}

/// An authenticated manifest names the trail, window and bucket it was
/// acquired for: another trail's or bucket's, or a window that does not
/// cover the run (the sealed files of another acquisition under the same
/// key), is refused. One that names none (an older trailproof's) vouches
/// for nothing: Ok(Some(why)).
fn bound_to_run(m: &serde_json::Value, given: &Given<'_>) -> Result<Option<String>, RequestError> {
    use crate::verify::time::{display, parse_user_time};
    let dir = given.dir.display();
    let bound = &m["acquired"];
    let arn = bound["trail_arn"].as_str();
    let time = |v: &serde_json::Value| v.as_str().and_then(|s| parse_user_time(s).ok());
    let (Some(arn), Some(end)) = (arn, time(&bound["window"]["end"])) else {
        return Ok(Some(
            "the manifest names no trail or window it was acquired for (an older trailproof's): \
             it vouches for none of its files"
                .to_string(),
        ));
    };
    let named = bound["bucket"].as_str();
    if let (Some(b), Some(given_b)) = (named, given.bucket.as_deref()) {
        if b != given_b {
            return Err(usage(format!(
                "{dir} was acquired from bucket {b}, not {given_b}: drop --s3-bucket or acquire \
                 that bucket"
            )));
        }
    }
    if arn != given.trail_arn {
        return Err(usage(format!(
            "{dir} was acquired for trail {arn}, not {}: validate that trail, or acquire this one",
            given.trail_arn
        )));
    }
    let start = time(&bound["window"]["start"]);
    let given_start = given.start.filter(|_| !given.checkpointed);
    let before = matches!((given_start, start), (Some(s), Some(a)) if s < a);
    if before || given.end > end {
        let from = start.map_or("its start".to_string(), display);
        return Err(usage(format!(
            "{dir} was acquired for {from} to {}, which does not cover the requested window: give \
             --start-time and --end-time inside it, or acquire this window",
            display(end)
        )));
    }
    Ok(None)
}

/// The bucket the first digest under DIR/AWSLogs names (its
/// `digestS3Bucket`), for the hint; None when none is found nearby.
fn bucket_named_by_digests(dir: &Path) -> Option<String> {
    let mut stack = vec![dir.join("AWSLogs")];
    let mut visited = 0;
    while let Some(d) = stack.pop() {
        visited += 1;
        if visited > 2_000 {
            return None;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries.iter().rev() {
            let name = p.file_name()?.to_str()?;
            if p.is_dir() {
                stack.push(p.clone());
            } else if name.contains("_CloudTrail-Digest_") && name.ends_with(".json.gz") {
                let bytes = std::fs::read(p).ok()?;
                let json = crate::verify::gzip::inflate_to_vec(&bytes, 64 * 1024 * 1024).ok()?;
                let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
                return v["digestS3Bucket"].as_str().map(str::to_string);
            }
        }
    }
    None
}

/// DIR/`file` when the authenticated manifest records its bytes; else why not.
fn vouched_for(
    vouched: &Result<std::collections::HashMap<String, String>, String>,
    dir: &Path,
    file: &str,
) -> Result<PathBuf, String> {
    let files = vouched.as_ref().map_err(Clone::clone)?;
    let path = dir.join(file);
    if files.get(file) != sha256_of(&path).as_ref() {
        return Err("its bytes differ from what the manifest records".to_string());
    }
    Ok(path)
}

/// The acquired live report, read once: its bytes must be what the
/// authenticated manifest vouches for, and it must be of this trail.
fn vouched_report(
    vouched: &Result<std::collections::HashMap<String, String>, String>,
    dir: &Path,
    trail_arn: &str,
) -> Result<serde_json::Value, String> {
    let files = vouched.as_ref().map_err(Clone::clone)?;
    let bytes = std::fs::read(dir.join(REPORT_FILE)).map_err(|e| e.to_string())?;
    if files.get(REPORT_FILE) != Some(&crate::verify::digest::sha256_hex(&bytes)) {
        return Err("its bytes differ from what the manifest records".to_string());
    }
    let report: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    match report["trail_arn"].as_str() == Some(trail_arn) {
        true => Ok(report),
        false => Err(format!("it is not a report of {trail_arn}")),
    }
}

/// What event history held for the live run's blind spots, per chain (a
/// one-chain report's chain is its digests'), each said to come from the
/// acquisition. The live cross-check's events are not replayed: an
/// offline run does not cross-check.
fn live_spots(r: &serde_json::Value) -> Vec<crate::request::RecordedSpot> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let chains: Vec<(Option<String>, Option<String>, &serde_json::Value)> =
        match r["chains"].as_array() {
            Some(c) => c
                .iter()
                .map(|c| (text(&c["account"]), text(&c["region"]), c))
                .collect(),
            None => {
                let Some(key) = r["digests"][0]["key"]
                    .as_str()
                    .and_then(crate::verify::layout::parse_digest_key)
                else {
                    return Vec::new();
                };
                vec![(Some(key.root.account), Some(key.source_region), r)]
            }
        };
    let at = r["provenance"]["generated_at"]
        .as_str()
        .unwrap_or("acquisition");
    let mut out = Vec::new();
    for (account, region, c) in chains {
        for b in c["blind_spots"].as_array().into_iter().flatten() {
            let Ok(mut spot) = serde_json::from_value::<crate::verify::model::BlindSpot>(b.clone())
            else {
                continue;
            };
            if spot.kind != crate::verify::model::SpotKind::BlindSpot {
                continue;
            }
            let said = format!("as event history answered the acquisition's live run ({at})");
            spot.note = Some(match spot.note {
                Some(n) => format!("{n}; {said}"),
                None => said,
            });
            out.push((account.clone(), region.clone(), spot));
        }
    }
    out
}

/// The regions of the chains the acquisition's live run validated.
fn live_regions(r: &serde_json::Value) -> Vec<String> {
    let mut regions: Vec<String> = r["chains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["region"].as_str().map(str::to_string))
        .collect();
    regions.sort();
    regions.dedup();
    regions
}
