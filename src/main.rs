//! The `trailproof` binary: parse arguments, run, exit with the run's status.

use clap::Parser;

/// Every object is read into a buffer and freed on another thread; glibc's
/// per-thread arenas hand such memory back and fault it in again page by
/// page, which made live runs pay twice the page faults of offline ones.
/// mimalloc keeps freed pages for the next buffer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = trailproof::cli::Cli::parse();
    std::process::exit(trailproof::commands::run(cli));
}
