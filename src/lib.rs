//! trailproof: prove AWS CloudTrail logs intact.

pub mod cli;
pub mod commands;
pub mod plan;
pub mod report;
pub mod request;
pub mod run;
pub mod simulate;
pub mod sources;
pub mod verify;
