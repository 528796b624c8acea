//! Renderers: the same report as AWS-CLI-compatible text or as JSON.

pub mod html;
pub mod json;
pub mod jsonl;
pub mod text;
