//! The `trailproof` binary: parse arguments, run, exit with the run's status.

use clap::Parser;

fn main() {
    let cli = trailproof::cli::Cli::parse();
    std::process::exit(trailproof::app::run(cli));
}
