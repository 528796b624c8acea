#!/usr/bin/env bash
# CPU per byte, live against local, side by side in one run: trailproof's own
# CPU time (user + sys, from GNU time) validating W (one region, 24 hours,
# 10 log files an hour of about 1.4 MB inflated each) from a local copy and
# from S3 on loopback (the tests' s3s-fs server, examples/s3_server.rs, a
# separate process whose CPU is not counted), for each inflater
# (TRAILPROOF_INFLATER=stream: flate2 + zlib-rs streaming for every file,
# the earlier behaviour; whole: libdeflate whole-buffer up to the cap, the
# default).
#
# The server is pinned to the last core and trailproof to the others (on 2
# cores: one each), so the server's work does not compete with trailproof's
# for the same core, as real S3's does not; both modes run pinned alike.
#
# BASELINE=path/to/an/older/trailproof adds its row, measured in the same run.
#
# HOURS=72 measures a trail three times as long (W72): with W, the CPU each
# added byte costs, start-up aside.
#
# Usage: scripts/cpu-bench.sh   (RUNS=7; BENCH_DIR=/tmp/trailproof-bench; BASELINE=; HOURS=24)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/trailproof-bench}
RUNS=${RUNS:-7}
HOURS=${HOURS:-24}
W=$BENCH_DIR/wcpu$([ "$HOURS" = 24 ] || echo "$HOURS")
ARN=arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail
BUCKET=tp-cpu$([ "$HOURS" = 24 ] || echo "$HOURS")
START=2026-03-01T00:00:00Z
END=$(date -u -d "2026-03-01 00:00:00 UTC + $HOURS hours" +%Y-%m-%dT%H:%M:%SZ)
export AWS_ACCESS_KEY_ID=AKIDTRAILPROOFTEST AWS_SECRET_ACCESS_KEY=trailproof-test-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
S3_PORT=${S3_PORT:-18034}
CT_PORT=${CT_PORT:-18036}
TP=$ROOT/target/release/trailproof
mkdir -p "$BENCH_DIR"
. "$ROOT/scripts/bench-lib.sh"

# One run's CPU seconds (user + sys) under the pin; a failed run stops the
# benchmark with its reason rather than timing a crash.
cpu_once() {
  local out
  out=$("${PIN[@]}" /usr/bin/time -f 'CPU %U %S' "$@" 2>&1 >/dev/null) || { echo "run failed: $* -> $out" >&2; return 1; }
  awk '/^CPU / { printf "%.3f\n", $2 + $3 }' <<<"$out"
}
verdicts() { "$@" 2>/dev/null | grep -Eo '[0-9]+/[0-9]+ (digest|log) files valid' | paste -sd' ' || true; }

# "local live": median CPU seconds of RUNS runs of each, interleaved (local,
# live, local, ...) so that drift on a shared machine falls on both alike.
# Both must print the verdicts of the reference run.
pair() {
  local bin=$1; shift
  local got
  for mode in local live; do
    if [ "$mode" = local ]; then got=$(verdicts "$bin" "${local_args[@]}" "$@"); else got=$(verdicts "$bin" "${live_args[@]}" "$@"); fi
    [ "$got" = "$WANT" ] || { echo "verdicts differ ($mode, $bin $*): [$got] vs [$WANT]" >&2; exit 1; }
  done
  local l=() s=()
  for _ in $(seq "$RUNS"); do
    l+=("$(cpu_once "$bin" "${local_args[@]}" "$@")")
    s+=("$(cpu_once "$bin" "${live_args[@]}" "$@")")
  done
  echo "$(printf '%s\n' "${l[@]}" | median) $(printf '%s\n' "${s[@]}" | median)"
}

row() {
  local name=$1 l=$2 s=$3
  printf '| %s | %s | %s | %s |\n' "$name" "$l" "$s" "$(awk -v a="$s" -v b="$l" 'BEGIN { printf "%.2fx", a / b }')"
}

main() {
  log "building (release)"
  cargo build --release --quiet --bin trailproof --example s3_server --example cloudtrail_endpoint
  ensure_time
  mkdir -p "$BENCH_DIR/s3cpu"
  local last=$(($(nproc) - 1))
  PIN=(taskset -c "0-$((last > 0 ? last - 1 : 0))")
  taskset -c "$last" "$ROOT/target/release/examples/s3_server" --root "$BENCH_DIR/s3cpu" --port "$S3_PORT" --max-seconds 7200 >/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$S3_PORT") 2>/dev/null && break; sleep 0.2; done
  if [ ! -f "$W/.done" ]; then
    rm -rf "$W"
    log "simulating W into $W and uploading it"
    AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT "$TP" simulate --out "$W" --start-time "$START" --hours "$HOURS" \
      --logs-per-hour 10 --records-per-log 1400 --seed 3 --bucket "$BUCKET" --upload >/dev/null
    touch "$W/.done"
  fi
  "$ROOT/target/release/examples/cloudtrail_endpoint" --keys "$W/public-keys.json" --port "$CT_PORT" --max-seconds 7200 >/dev/null &
  PIDS+=($!)
  sleep 0.5
  export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:$CT_PORT
  local_args=(validate --local "$W" --public-keys "$W/public-keys.json" --trail-arn "$ARN" --start-time "$START" --end-time "$END")
  live_args=(validate --trail-arn "$ARN" --start-time "$START" --end-time "$END" --s3-bucket "$BUCKET")
  WANT=$(verdicts "$TP" "${local_args[@]}")
  [ -n "$WANT" ] || { echo "the reference run printed no verdicts" >&2; exit 1; }
  log "verdicts: $WANT"
  echo
  echo "| build, inflater | --local CPU-s | S3 on loopback CPU-s | live / local |"
  echo "|---|---|---|---|"
  if [ -n "${BASELINE:-}" ]; then
    read -r bl bs < <(pair "$BASELINE")
    row "before ($BASELINE), its default inflater" "$bl" "$bs"
  fi
  read -r sl ss < <(pair "$TP" --inflater stream)
  row "this build, stream" "$sl" "$ss"
  read -r wl ws < <(pair "$TP")
  row "this build, whole" "$wl" "$ws"
  echo
  echo "whole against stream: --local $(awk -v a="$wl" -v b="$sl" 'BEGIN { printf "%.2fx", a / b }'), live $(awk -v a="$ws" -v b="$ss" 'BEGIN { printf "%.2fx", a / b }') of the CPU"
  if [ -n "${BASELINE:-}" ]; then
    echo "this build against before: --local $(awk -v a="$wl" -v b="$bl" 'BEGIN { printf "%.2fx", a / b }'), live $(awk -v a="$ws" -v b="$bs" 'BEGIN { printf "%.2fx", a / b }') of the CPU"
  fi
}

main "$@"
