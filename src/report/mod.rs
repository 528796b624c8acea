//! Every rendering of the report model (`verify::model`): text, JSON,
//! JSON Lines, HTML, metrics, checkpoints, evidence, and merge of shard
//! reports.

pub mod alert;
pub mod asff;
pub mod certification;
pub mod checkpoint_file;
pub mod compliance;
pub mod emf;
pub mod evidence;
pub mod explain;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod merge;
pub mod metrics;
pub mod ocsf;
pub mod provenance;
pub mod recovered;
pub mod restore_plan;
pub mod sinks;
pub mod text;

/// A line on stderr (`trailproof: ...`); a closed stderr (`2>&1 | head`)
/// is no panic once a verdict may be decided: the exit status must stay
/// the verdict's.
pub(crate) fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "trailproof: {line}");
}
