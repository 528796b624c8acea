//! trailproof: prove AWS CloudTrail logs intact.
//!
//! A command flows down through the layers, each a folder:
//!
//! - [`cli`]: clap only, and its one conversion into a [`request`]; every
//!   usage error is raised there.
//! - [`commands`]: one short file per subcommand: request, plan, run, sinks.
//! - [`request`]: the typed request (window, selection, sources, checks,
//!   outputs, state). Uses `verify`, `plan::shard` and `report`'s formats.
//! - [`plan`]: which chains, slices, shards and checkpoint seams. Pure but
//!   for listing through the store; uses `verify`, `sources`, `request`,
//!   `report::model`.
//! - [`run`]: one engine for all chains (one bound on requests in flight,
//!   one CPU pool); uses `plan`, `verify`, `sources`, `report::model`.
//! - [`report`]: the report model (pure, the vocabulary of verdicts) and
//!   every sink (text, JSON, JSON Lines, HTML, metrics, checkpoint,
//!   evidence); sinks use everything below `commands`.
//! - [`sources`]: the edges: the object stores (local directory, S3), the
//!   AWS clients, key sources, opening a request's sources; uses `verify`,
//!   `request` and `report::model` (event history's events).
//! - [`verify`]: the pure core, no I/O: key layout, digest model and
//!   string to sign, public keys, digest checks, chain logic, coverage, the
//!   proof of the window, lifecycle records, gzip, time; uses only
//!   `report::model`.
//! - [`simulate`]: synthetic signed trails for tests and benchmarks; uses
//!   `verify` and the local store's layout.
//!
//! `tests/layers.rs` holds this map as a test, with no import cycles.

pub mod cli;
pub mod commands;
pub mod plan;
pub mod report;
pub mod request;
pub mod run;
pub mod simulate;
pub mod sources;
pub mod verify;
