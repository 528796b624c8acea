//! The report model and every rendering of it.

pub mod checkpoint_file;
pub mod evidence;
pub mod explain;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod output;
pub mod provenance;
pub mod sinks;
pub mod text;

/// The report's format on stdout or in `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The AWS CLI's lines (and an estate table).
    Text,
    Json,
    /// One JSON object per finding, as each chain is decided, then a summary line.
    Jsonl,
    /// The AWS CLI's text exactly (newest first, none of our own lines).
    AwsCli,
}
