//! `validate`'s arguments into a [`ValidateRequest`].

use super::*;

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
    pub(crate) fn to_request(&self) -> Result<ValidateRequest, RequestError> {
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
        let inputs = self.inputs();
        Ok(ValidateRequest {
            trail,
            window,
            selection,
            source,
            checks,
            output,
            state,
            tuning,
            inputs,
        })
    }

    /// The input files the report names with their SHA-256: what else the
    /// verdict rests on.
    fn inputs(&self) -> Vec<(String, std::path::PathBuf)> {
        let checkpoint = self
            .checkpoint
            .as_deref()
            .filter(|c| !c.starts_with("s3://"));
        let manifest = self.local.as_ref().map(|d| d.join("manifest.json"));
        let named = [
            ("--public-keys", self.public_keys.clone()),
            ("--gap-events", self.gap_events.clone()),
            ("--expect-selectors", self.expect_selectors.clone()),
            ("--checkpoint", checkpoint.map(Into::into)),
            ("--local manifest", manifest.filter(|m| m.is_file())),
        ];
        named
            .into_iter()
            .filter_map(|(flag, p)| Some((flag.to_string(), p?)))
            .collect()
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
        let signer = signer(self.signing_key.as_deref(), profile, endpoint)?;
        let signer = signer.map(std::sync::Arc::new);
        Ok(State {
            checkpoint: destination("--checkpoint", self.checkpoint.as_deref())?,
            shard,
            key,
            run_id,
            signer,
            tsa: tsa(self.tsa_url.as_deref())?,
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
            require_protections: self.required_protections()?,
            require_retention: match self.require_retention {
                Some(d) if d < 1 => {
                    return Err(usage("--require-retention is a number of days, 1 or more"))
                }
                Some(_) if self.local.is_some() => {
                    return Err(usage(
                        "--require-retention is held against the bucket's configuration: it \
                         needs a live run, not --local",
                    ))
                }
                d => d,
            },
        })
    }

    /// `--require-protections LIST`: names this version knows, live only.
    fn required_protections(
        &self,
    ) -> Result<Vec<crate::verify::protections::ProtectionKind>, RequestError> {
        use crate::verify::protections::ProtectionKind;
        let Some(list) = &self.require_protections else {
            return Ok(Vec::new());
        };
        if self.local.is_some() {
            return Err(usage(
                "--require-protections reads the bucket's configuration: it needs a live run, not \
                 --local",
            ));
        }
        let names = list.split(',').filter(|n| !n.trim().is_empty());
        let kinds = names.map(|n| {
            ProtectionKind::named(n).ok_or_else(|| {
                usage(format!(
                    "--require-protections: {n:?} is none of versioning, object-lock, lifecycle, \
                     policy, public-access, encryption, replication, access-logging, delivery, \
                     trail-key"
                ))
            })
        });
        let kinds: Vec<ProtectionKind> = kinds.collect::<Result<_, _>>()?;
        if kinds.is_empty() {
            return Err(usage(
                "--require-protections names none: give versioning, object-lock, lifecycle, ...",
            ));
        }
        Ok(kinds)
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
        let format = report_format(self.format, self.output.as_deref())?;
        let (metrics, metrics_stdout) =
            metrics_destination(self.metrics.as_deref(), format, report.is_some())?;
        Ok(Outputs {
            format,
            verbose: self.verbose,
            quiet: self.quiet,
            report: destination("--report-file", report.as_deref())?,
            html: file_destination("--html", self.html.as_deref())?,
            metrics,
            metrics_stdout,
            metrics_format: self.metrics_format.into(),
            restore_plan: file_destination("--restore-plan", self.restore_plan.as_deref())?,
            recover: self.recover_dir(shard)?,
            keep_answers: false,
            deliveries: self.deliveries(shard)?,
        })
    }

    /// Alerts and Security Hub speak for a whole run: a shard's part is
    /// announced by `merge`.
    fn deliveries(
        &self,
        shard: Option<Shard>,
    ) -> Result<crate::request::deliveries::Deliveries, RequestError> {
        if shard.is_some() && self.deliveries.any() {
            return Err(usage(
                "--notify and --security-hub speak for the whole run: give them to trailproof \
                 merge, not to each shard",
            ));
        }
        self.deliveries.to_deliveries()
    }

    /// `--recover DIR`: live only (a copy keeps no versions), one run's
    /// (shards would overwrite each other's manifest), and a new or empty
    /// local directory, made now (the manifest speaks for every file in it).
    fn recover_dir(
        &self,
        shard: Option<Shard>,
    ) -> Result<Option<std::path::PathBuf>, RequestError> {
        let Some(dir) = &self.recover else {
            return Ok(None);
        };
        let refuse = |why: String| Err(usage(format!("--recover {}: {why}", dir.display())));
        if self.local.is_some() {
            return refuse("a local copy keeps no versions: run against S3".into());
        }
        if shard.is_some() {
            return refuse(
                "shards would overwrite each other's manifest: recover in an unsharded run".into(),
            );
        }
        if dir.to_str().is_some_and(|d| d.starts_with("s3://")) {
            return refuse("the originals are written to a local directory".into());
        }
        match std::fs::read_dir(dir) {
            Ok(mut entries) => match entries.next() {
                Some(_) => refuse("not empty: give a new directory".into()),
                None => Ok(Some(dir.clone())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir_all(dir) {
                    Ok(()) => Ok(Some(dir.clone())),
                    Err(e) => refuse(format!("cannot be made ({e})")),
                }
            }
            Err(e) => refuse(format!("cannot be read ({e})")),
        }
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
