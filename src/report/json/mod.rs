//! JSON output: one document per run, written with the schema's types
//! (`schema`), which also read it back for `merge`. The schema is a public
//! interface (docs/output.md); add fields, never rename or remove them.

pub mod schema;

use crate::verify::model::{ChainReport, EstateReport, Provenance, Report, Verdict};
use schema::{Chain, ChainDoc, EstateChain, EstateDoc, EstateSummary, Span};

/// One chain's document: schema 3 with `unproven[]` as objects naming
/// their `kind`, `narrowing_shown` and `home_calls_unread` as an object.
pub(crate) const SCHEMA_CHAIN: u32 = 4;
/// An estate's (or a shard's) document: schema 4 with the same changes.
pub(crate) const SCHEMA_ESTATE: u32 = 5;

fn pretty<T: serde::Serialize>(doc: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Renders the report as one pretty-printed JSON document plus newline.
pub fn render(report: &Report, provenance: Option<&Provenance>) -> String {
    pretty(&ChainDoc {
        schema_version: SCHEMA_CHAIN,
        trail_arn: report.trail_arn.clone(),
        requested: Span::of((report.requested_start, report.requested_end)),
        provenance: provenance.cloned(),
        chain: Chain::of(report),
    })
}

/// What a shard's report is, said at its top and on stderr (`index` from 0).
pub(crate) fn shard_scope(index: usize, count: usize) -> String {
    format!(
        "shard {} of {count}: not a verdict on the estate; its exit status counts its own chains \
         only (run `trailproof merge` over every shard's report)",
        index + 1
    )
}

/// Every chain of an estate run, each with the single chain's fields, and
/// the estate's totals.
pub fn render_estate(estate: &EstateReport, provenance: Option<&Provenance>) -> String {
    pretty(&EstateDoc {
        schema_version: SCHEMA_ESTATE,
        provenance: provenance.cloned(),
        verdict_scope: estate.shard.as_ref().map(|s| shard_scope(s.index, s.count)),
        trail_arn: estate.trail_arn.clone(),
        requested: Span::of((estate.requested_start, estate.requested_end)),
        shard: estate.shard.clone(),
        chains: estate.chains.iter().map(estate_chain).collect(),
        notes: estate.notes.clone(),
        summary: estate_summary(estate),
    })
}

fn estate_chain(c: &ChainReport) -> EstateChain {
    EstateChain {
        account: c.account.clone(),
        region: c.region.clone(),
        expected_because: c.expected_because.clone(),
        slice: c.slice.map(Span::of),
        chain: Chain::of(&c.report),
    }
}

fn estate_summary(estate: &EstateReport) -> EstateSummary {
    let mut summary = EstateSummary {
        chains: estate.chains.len(),
        exit_code: estate.exit_code(),
        ..Default::default()
    };
    for c in &estate.chains {
        match c.report.verdict() {
            Verdict::Tampered | Verdict::NotRun => summary.tampered += 1,
            Verdict::NotProven => summary.unproven += 1,
            Verdict::Proven => summary.proven += 1,
        }
        let s = c.report.summary();
        summary.digests.merge(&s.digests);
        summary.logs.merge(&s.logs);
    }
    summary
}

/// Why a document cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Json(String),
    #[error("schema_version {0}: written by {by} trailproof: run it again with this version", by = older(*.0))]
    Schema(u32),
    #[error(
        "a single chain's report (schema_version {SCHEMA_CHAIN}), not an estate's or a shard's: \
         run it with --shard K/N"
    )]
    SingleChain,
    #[error(
        "chain {0}: its summary does not match its findings (edited, or written by another build)"
    )]
    Inconsistent(String),
    #[error("bad requested times")]
    Times,
}

fn older(version: u32) -> &'static str {
    match version < SCHEMA_ESTATE {
        true => "an older",
        false => "another",
    }
}

/// The document's version, read first: another version's fields may not
/// parse at all, and that is the sentence to give.
fn version(bytes: &[u8], wanted: u32) -> Result<(), ParseError> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
        /// An estate's document (an older one may share a chain's number).
        chains: Option<serde::de::IgnoredAny>,
    }
    let v: Version = serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    match v.schema_version {
        n if n == wanted => Ok(()),
        SCHEMA_CHAIN if v.chains.is_none() => Err(ParseError::SingleChain),
        n => Err(ParseError::Schema(n)),
    }
}

/// A chain read back must say of itself what its summary said: the
/// verdict is recomputed from the findings, and a summary that disagrees
/// is refused rather than either one believed.
fn consistent(name: &str, summary: &schema::ChainSummary, r: &Report) -> Result<(), ParseError> {
    match summary.exit_code == r.exit_code() && summary.coverage_narrowed == r.narrowed() {
        true => Ok(()),
        false => Err(ParseError::Inconsistent(name.to_string())),
    }
}

/// A single chain's document, read back.
pub fn parse(bytes: &[u8]) -> Result<(Report, Option<Provenance>), ParseError> {
    version(bytes, SCHEMA_CHAIN)?;
    let doc: ChainDoc =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    let window = doc.requested.times().ok_or(ParseError::Times)?;
    let summary = doc.chain.summary.clone();
    let report = doc.chain.report(&doc.trail_arn, window);
    consistent(&doc.trail_arn, &summary, &report)?;
    Ok((report, doc.provenance))
}

/// An estate's (or a shard's) document, read back.
pub fn parse_estate(bytes: &[u8]) -> Result<(EstateReport, Option<Provenance>), ParseError> {
    version(bytes, SCHEMA_ESTATE)?;
    let doc: EstateDoc =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    let (start, end) = doc.requested.times().ok_or(ParseError::Times)?;
    let trail = doc.trail_arn;
    let mut chains = Vec::new();
    for c in doc.chains {
        let slice = c.slice.as_ref().and_then(Span::times);
        let summary = c.chain.summary.clone();
        let report = c.chain.report(&trail, slice.unwrap_or((start, end)));
        consistent(&format!("{} {}", c.account, c.region), &summary, &report)?;
        chains.push(ChainReport {
            report,
            account: c.account,
            region: c.region,
            expected_because: c.expected_because,
            slice,
        });
    }
    let estate = EstateReport {
        chains,
        trail_arn: trail,
        requested_start: start,
        requested_end: end,
        notes: doc.notes,
        shard: doc.shard,
    };
    Ok((estate, doc.provenance))
}
