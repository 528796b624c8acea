//! Where a run's verdicts go: the report on stdout or in `--output` (text,
//! JSON, JSON Lines streamed as chains finish), the HTML page, the metrics
//! and the next checkpoint. Every one of them is a rendering of the same
//! report model.

use super::text::Shape;
use crate::request::Outputs;
use crate::request::{Format, MetricsFormat};
use crate::run::{Outcome, Verdicts};
use crate::sources::output::Remote;
use crate::verify::model::{ChainReport, EstateReport, Provenance, Report};
use crate::verify::state_key::{Purpose, StateKey};
use crate::verify::time::Timestamp;
use std::io::Write;

/// Why a sink failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write the report: {0}")]
    Write(std::io::Error),
    #[error("{0}")]
    Deliver(String),
    #[error("cannot seal the shard report: {0}")]
    Seal(crate::verify::state_key::KeyError),
}

/// The report's destination while it is rendered: stdout, or a buffer for
/// `--output` (written whole, atomically, once the run is done).
pub(crate) struct ReportSink<'a> {
    outputs: &'a Outputs,
    /// A shard's report is JSON for `trailproof merge`, whatever the format.
    shard: bool,
    /// With a state key, a shard's report carries the run id and a MAC.
    seal: Option<Seal<'a>>,
    buffer: Vec<u8>,
}

/// What authenticates a shard's report for `merge`.
#[derive(Clone, Copy)]
pub(crate) struct Seal<'a> {
    pub key: &'a dyn StateKey,
    pub run_id: &'a str,
}

impl<'a> ReportSink<'a> {
    pub fn new(outputs: &'a Outputs, shard: bool, seal: Option<Seal<'a>>) -> Self {
        ReportSink {
            outputs,
            shard,
            seal: seal.filter(|_| shard),
            buffer: Vec::new(),
        }
    }

    /// JSON Lines of an unsharded run are written as each chain finishes.
    fn streams(&self) -> bool {
        self.outputs.format == Format::Jsonl && !self.shard
    }

    fn write(
        &mut self,
        f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if self.outputs.report.is_some() {
            return f(&mut self.buffer);
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        f(&mut out).and_then(|_| out.flush())
    }

    /// Called as each chain of an estate is decided; says whether the
    /// estate report keeps it (streamed chains are dropped unless the
    /// HTML page needs them).
    pub fn chain(&mut self, c: &ChainReport) -> std::io::Result<bool> {
        if !self.streams() {
            return Ok(true);
        }
        let verbose = self.outputs.verbose;
        self.write(|out| {
            super::jsonl::estate_chain_lines(c, verbose)
                .iter()
                .try_for_each(|l| writeln!(out, "{l}"))
        })?;
        // The page, the restore plan and the recovered originals' manifest
        // read every chain at the end.
        let o = self.outputs;
        let whole = o.html.is_some() || o.restore_plan.is_some() || o.recover.is_some();
        let passed = c.status() == crate::verify::model::ChainStatus::Proven;
        Ok(whole || o.deliveries.keeps(passed))
    }

    /// Renders the rest of the report and delivers it.
    pub async fn finish(mut self, outcome: &Outcome, remote: Remote<'_>) -> Result<(), SinkError> {
        let (format, streams) = (self.outputs.format, self.streams());
        let shape = Shape {
            verbose: self.outputs.verbose,
            quiet: self.outputs.quiet,
            chain: None,
            awscli: format == Format::AwsCli,
            // A text report kept as a file is handed on: it says who
            // checked, with what. On a terminal the AWS CLI's lines stay
            // as they are.
            provenance: outcome
                .provenance
                .as_ref()
                .filter(|_| self.outputs.report.is_some()),
        };
        let written = match &outcome.verdicts {
            Verdicts::Chain {
                report,
                account,
                region,
            } => self.write(|out| {
                let (prov, place) = (
                    outcome.provenance.as_ref(),
                    (account.as_str(), region.as_str()),
                );
                render_chain(report, format, shape, place, prov, out)
            }),
            Verdicts::Estate(estate) if streams => self.write(|out| {
                let head = super::jsonl::Head::of_estate(estate, outcome.provenance.as_ref());
                super::jsonl::closing_lines(&estate.notes, &outcome.verdicts_seen, &head)
                    .iter()
                    .try_for_each(|l| writeln!(out, "{l}"))
            }),
            Verdicts::Estate(estate) if self.seal.is_some() => {
                let sealed = sealed_json(estate, self.seal, outcome.provenance.as_ref())
                    .map_err(SinkError::Seal)?;
                self.write(|out| out.write_all(&sealed))
            }
            Verdicts::Estate(estate) => self.write(|out| {
                render_estate(estate, format, shape, outcome.provenance.as_ref(), out)
            }),
        };
        let single = matches!(outcome.verdicts, Verdicts::Chain { .. });
        match written {
            Ok(()) => {}
            // A closed pipe (`| head`) after one chain's lines is not worth a
            // message, as with the AWS CLI; an estate's report that nobody
            // received must not let the run pass (nor advance a checkpoint).
            Err(e) if single && e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(SinkError::Write(e)),
        }
        if let Some(target) = &self.outputs.report {
            let bytes = std::mem::take(&mut self.buffer);
            crate::sources::output::write(target, bytes, remote)
                .await
                .map_err(|e| SinkError::Deliver(e.to_string()))?;
        }
        if let Verdicts::Estate(e) = &outcome.verdicts {
            if let Some(s) = &e.shard {
                super::say(format_args!(
                    "{}",
                    super::json::shard_scope(s.index, s.count)
                ));
            }
        }
        Ok(())
    }
}

/// One chain's report (text on stdout and stderr as the AWS CLI prints it).
fn render_chain(
    report: &Report,
    format: Format,
    shape: Shape<'_>,
    (account, region): (&str, &str),
    provenance: Option<&Provenance>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text | Format::AwsCli => {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            super::text::render(report, shape, out, &mut err)
        }
        Format::Json => out.write_all(super::json::render(report, provenance).as_bytes()),
        Format::Ocsf | Format::Asff => {
            let chain = super::compliance::Chain::single(account, region, report);
            out.write_all(compliance_findings(format, &[chain]).as_bytes())
        }
        Format::Jsonl => {
            let mut lines = super::jsonl::chain_lines(account, region, report, shape.verbose);
            let head = super::jsonl::Head::of_chain(report, provenance);
            lines.extend(super::jsonl::closing_lines(&[], &[report.verdict()], &head));
            lines.iter().try_for_each(|l| writeln!(out, "{l}"))
        }
    }
}

/// An estate report in the chosen format (a shard's report is always
/// JSON: it is read back by `trailproof merge`).
pub fn render_estate(
    estate: &EstateReport,
    format: Format,
    shape: Shape<'_>,
    provenance: Option<&Provenance>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if estate.shard.is_some() || format == Format::Json {
        return out.write_all(super::json::render_estate(estate, provenance).as_bytes());
    }
    match format {
        Format::Ocsf | Format::Asff => {
            let chains: Vec<_> = estate.chains.iter().map(Into::into).collect();
            out.write_all(compliance_findings(format, &chains).as_bytes())
        }
        Format::Jsonl => {
            for c in &estate.chains {
                for line in super::jsonl::estate_chain_lines(c, shape.verbose) {
                    writeln!(out, "{line}")?;
                }
            }
            let verdicts: Vec<_> = estate.chains.iter().map(|c| c.report.verdict()).collect();
            let head = super::jsonl::Head::of_estate(estate, provenance);
            super::jsonl::closing_lines(&estate.notes, &verdicts, &head)
                .iter()
                .try_for_each(|l| writeln!(out, "{l}"))
        }
        _ => {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            super::text::render_estate(estate, shape, out, &mut err)
        }
    }
}

/// Every chain as the findings and the alert see it.
pub(crate) fn compliance_chains(outcome: &Outcome) -> Vec<super::compliance::Chain<'_>> {
    match &outcome.verdicts {
        Verdicts::Chain {
            report,
            account,
            region,
        } => vec![super::compliance::Chain::single(account, region, report)],
        Verdicts::Estate(e) => e.chains.iter().map(Into::into).collect(),
    }
}

/// The window the run asked for.
pub(crate) fn window_of(outcome: &Outcome) -> (Timestamp, Timestamp) {
    match &outcome.verdicts {
        Verdicts::Chain { report, .. } => (report.requested_start, report.requested_end),
        Verdicts::Estate(e) => (e.requested_start, e.requested_end),
    }
}

/// The trail the run is of, as the report names it.
pub(crate) fn trail_of(outcome: &Outcome) -> &str {
    match &outcome.verdicts {
        Verdicts::Chain { report, .. } => &report.trail_arn,
        Verdicts::Estate(e) => &e.trail_arn,
    }
}

/// OCSF events or ASFF findings of `chains`, as of now.
fn compliance_findings(format: Format, chains: &[super::compliance::Chain<'_>]) -> String {
    let findings = super::compliance::of_chains(chains);
    let now = chrono::Utc::now();
    match format {
        Format::Asff => super::asff::render(&findings, now),
        _ => super::ocsf::render(&findings, now),
    }
}

/// A shard's JSON report with `authentication`: the run id, and the state
/// key's MAC over the report with the run id in it (serde_json's canonical
/// form of the document without the MAC), which `merge` checks.
pub(crate) fn sealed_json(
    estate: &EstateReport,
    seal: Option<Seal<'_>>,
    provenance: Option<&Provenance>,
) -> Result<Vec<u8>, crate::verify::state_key::KeyError> {
    let text = super::json::render_estate(estate, provenance);
    let Some(seal) = seal else {
        return Ok(text.into_bytes());
    };
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["authentication"] = serde_json::json!({ "run_id": seal.run_id });
    let body = serde_json::to_vec(&v).unwrap_or_default();
    v["authentication"]["mac"] = seal.key.sign(Purpose::ShardReport, &body)?.into();
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or_default();
    out.push(b'\n');
    Ok(out)
}

/// `--html`: the same verdicts as a self-contained page.
pub async fn html(
    outputs: &Outputs,
    outcome: &Outcome,
    remote: Remote<'_>,
) -> Result<(), SinkError> {
    let Some(path) = &outputs.html else {
        return Ok(());
    };
    let page = match &outcome.verdicts {
        Verdicts::Chain {
            report,
            account,
            region,
        } => super::html::render_single(report, account, region, outcome.provenance.as_ref()),
        Verdicts::Estate(estate) => super::html::render(estate, outcome.provenance.as_ref()),
    }
    .map_err(|e| SinkError::Deliver(format!("cannot write the HTML report: {e}")))?;
    crate::sources::output::write(path, page.into_bytes(), remote)
        .await
        .map_err(|e| SinkError::Deliver(format!("cannot write the HTML report: {e}")))
}

/// `--restore-plan`: the archived objects to restore, as JSON.
pub async fn restore_plan(
    outputs: &Outputs,
    outcome: &Outcome,
    remote: Remote<'_>,
) -> Result<(), SinkError> {
    let Some(path) = &outputs.restore_plan else {
        return Ok(());
    };
    let text = super::restore_plan::render(&chains_of(outcome));
    crate::sources::output::write(path, text.into_bytes(), remote)
        .await
        .map_err(|e| SinkError::Deliver(e.to_string()))
}

/// Every chain's report with its account and region.
fn chains_of(outcome: &Outcome) -> Vec<(&str, &str, &Report)> {
    match &outcome.verdicts {
        Verdicts::Chain {
            report,
            account,
            region,
        } => vec![(account.as_str(), region.as_str(), report)],
        Verdicts::Estate(e) => e
            .chains
            .iter()
            .map(|c| (c.account.as_str(), c.region.as_str(), &c.report))
            .collect(),
    }
}

/// `--recover DIR`: the manifest of the originals the engine wrote there
/// (signed like every file the run writes). A manifest that cannot be
/// written is said, and changes no verdict.
pub async fn recovered(outputs: &Outputs, outcome: &Outcome, remote: Remote<'_>) {
    let Some(dir) = &outputs.recover else {
        return;
    };
    let text = super::recovered::render(&chains_of(outcome));
    let target = crate::sources::output::Destination::File(dir.join("manifest.json"));
    if let Err(e) = crate::sources::output::write(&target, text.into_bytes(), remote).await {
        super::say(format_args!("warning: {e}"));
    }
}

/// The metrics of a run over `chains` that ended with `(exit status,
/// seconds)`, in `format` (a broken job's: no chains, exit 2).
pub(crate) fn metrics_text(
    format: MetricsFormat,
    trail: &str,
    chains: &[crate::verify::model::ChainSummary],
    (exit_code, seconds): (i32, f64),
) -> String {
    match format {
        MetricsFormat::Prometheus => super::metrics::render(chains, exit_code, seconds),
        MetricsFormat::Emf => super::emf::render(trail, chains, exit_code, seconds),
    }
}

/// `--metrics`: Prometheus text or EMF lines for the scheduled run's alert.
pub async fn metrics(
    outputs: &Outputs,
    outcome: &Outcome,
    seconds: f64,
    remote: Remote<'_>,
) -> Result<(), SinkError> {
    let run = (outcome.exit_code(), seconds);
    metrics_of(outputs, trail_of(outcome), &outcome.summaries, run, remote).await
}

/// The metrics of `chains` with the run's `(exit status, seconds)`: a
/// merge whose page cannot be written after the verdict says exit 2, its
/// chains' series kept.
pub async fn metrics_of(
    outputs: &Outputs,
    trail: &str,
    chains: &[crate::verify::model::ChainSummary],
    run: (i32, f64),
    remote: Remote<'_>,
) -> Result<(), SinkError> {
    let text = metrics_text(outputs.metrics_format, trail, chains, run);
    if outputs.metrics_stdout {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(SinkError::Write);
    }
    let Some(path) = &outputs.metrics else {
        return Ok(());
    };
    crate::sources::output::write(path, text.into_bytes(), remote)
        .await
        .map_err(|e| SinkError::Deliver(e.to_string()))
}
