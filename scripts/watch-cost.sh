#!/usr/bin/env bash
# The retention watch's S3 requests against a full re-proof, counted by the
# tests' S3 server: a chain-year (three log files an hour) proven once with a
# checkpoint, then the next night's run. WATCH_DAYS=N for a shorter chain.
#
# Usage: scripts/watch-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin trailproof --example watch_cost
PATH="$PWD/target/release:$PATH" target/release/examples/watch_cost
