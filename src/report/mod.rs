//! The report model and every rendering of it.

pub mod html;
pub mod json;
pub mod jsonl;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod output;
pub mod text;
