//! trailproof: prove AWS CloudTrail logs intact.
//!
//! A command flows down through the layers, each a folder, and each uses
//! only the layers below it (top first):
//!
//! - [`commands`]: one short file per subcommand: request, plan, run, sinks.
//! - [`cli`]: clap only, and its one conversion into a [`request`]; every
//!   usage error that needs no I/O is raised there (the ones that need a
//!   listing or a file's contents, in the plan and the request's sources).
//! - [`simulate`]: synthetic signed trails for tests and benchmarks (only
//!   the command line and the commands reach it).
//! - [`report`]: every rendering of the report model (text, JSON, JSON
//!   Lines, HTML, metrics, checkpoint, evidence) and merge of shard reports.
//! - [`run`]: one engine for all chains (one bound on requests in flight,
//!   one CPU pool).
//! - [`plan`]: which chains, slices, shards and checkpoint seams, and
//!   opening the request's sources (`plan::connect`).
//! - [`request`]: the typed request (window, selection, sources, checks,
//!   outputs, state), and what an acquired directory supplies.
//! - [`sources`]: the edges: the object stores (local directory, S3), the
//!   AWS clients, key sources, report files on disk or S3, the acquired
//!   directory's format.
//! - [`verify`]: the pure core, no I/O: key layout, digest model and
//!   string to sign, public keys, digest checks, chain logic, coverage, the
//!   proof of the window, lifecycle records, shards, gzip, time, the
//!   retention watch's inventory, the bucket's protections, recovered
//!   originals, the bucket-side story and the record watch, and the
//!   report model (`verify::model`), the vocabulary of verdicts every layer
//!   above speaks.
//!
//! `tests/layers.rs` holds this order as a test, and that no import cycle
//! runs between modules through `crate::` or `super::` paths (a folder's
//! `mod.rs` and its own files are one unit).

pub mod cli;
pub mod commands;
pub mod plan;
pub mod report;
pub mod request;
pub mod run;
pub mod simulate;
pub mod sources;
pub mod verify;
