//! Running a plan: one engine, one bound on requests in flight, one CPU pool.

pub mod engine;
pub mod estate;
pub mod kernel_hints;
pub mod progress;
