#!/usr/bin/env bash
# A checkpointed nightly run against the first run: a 31-day chain (10 log
# files an hour of about 140 kB inflated), the first run over 30 days with
# --checkpoint, then the next night's run over the 31st day only. Prints
# wall time, and digests and log files verified, for both.
#
# Usage: scripts/nightly-bench.sh   (work dir BENCH_DIR, default /tmp/trailproof-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/trailproof-bench}
DIR=$BENCH_DIR/nightly
TP=$PWD/target/release/trailproof
ARN=arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail
cargo build --release --quiet --bin trailproof
if [ ! -f "$DIR/.done" ]; then
  rm -rf "$DIR"
  "$TP" simulate --out "$DIR" --start-time 2026-03-01 --hours 744 --logs-per-hour 10 \
    --records-per-log 100 --seed 4 >/dev/null
  touch "$DIR/.done"
fi
rm -f "$DIR/checkpoint.json"
run() {
  local s=$EPOCHREALTIME
  "$TP" validate --local "$DIR" --public-keys "$DIR/public-keys.json" --trail-arn "$ARN" \
    --quiet --format json --checkpoint "$DIR/checkpoint.json" "$@" > "$DIR/last.json" || true
  local e=$EPOCHREALTIME
  python3 - "$DIR/last.json" "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"{sys.argv[2]} s, {s['digests']['total']} digests, {s['logs']['total']} log files, exit {s['exit_code']}")
PY
}
echo "| run | result |"
echo "|---|---|"
echo "| first run, 30 days (with --checkpoint) | $(run --start-time 2026-03-01 --end-time 2026-03-31) |"
echo "| next night, checkpointed (the 31st day) | $(run --end-time 2026-04-01) |"
