//! trailproof: prove AWS CloudTrail logs intact.
//!
//! Pure core (no I/O): [`layout`], [`digest`], [`pubkeys`], [`digest_verify`],
//! [`chain`], [`coverage`], [`report`], [`gzip`], [`timefmt`], [`arn`].
//! Edges: [`store`] (local directory, S3), [`keysource`] (file, CloudTrail).
//! [`engine`] schedules the work; [`render`] prints it; [`simulate`] writes
//! synthetic trails; [`cli`] holds the command line.

pub mod acquire;
pub mod app;
pub mod arn;
pub mod aws;
pub mod chain;
pub mod checkpoint;
pub mod cli;
pub mod cloudtrail;
pub mod coverage;
pub mod digest;
pub mod digest_verify;
pub mod engine;
pub mod estate;
pub mod gap_events;
pub mod gzip;
pub mod kernel_hints;
pub mod keysource;
pub mod layout;
pub mod merge;
pub mod metrics;
pub mod organizations;
pub mod output;
pub mod planning;
pub mod progress;
pub mod proof;
pub mod pubkeys;
pub mod render;
pub mod report;
pub mod resolve;
pub mod shard;
pub mod simulate;
pub mod store;
pub mod timefmt;
