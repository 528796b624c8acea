#!/usr/bin/env bash
# End-to-end comparison for the README's Performance section:
# floor vs trailproof (--local, S3 on loopback, S3 + 20 ms latency) vs
# `aws cloudtrail validate-logs`, on W = one region, 24 hours, 10 log files an
# hour of about 1.5 MB inflated each; plus peak memory on W and a 7-day W.
#
# Usage: scripts/compare.sh            (RUNS=5 AWSCLI_RUNS=3 by default)
# Skips: SKIP_S3=1 SKIP_AWSCLI=1 SKIP_7DAY=1.  Work dir: BENCH_DIR (default /tmp/trailproof-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/trailproof-bench}
RUNS=${RUNS:-5}
AWSCLI_RUNS=${AWSCLI_RUNS:-3}
W=$BENCH_DIR/w
W7=$BENCH_DIR/w7
ARN=arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail
# Short: s3s-fs 0.14.1 names its metadata files after base64(bucket + key), limited to 255 bytes.
BUCKET=tp-bench
START=2026-03-01T00:00:00Z
END=2026-03-02T00:00:00Z
END7=2026-03-08T00:00:00Z
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
S3_PORT=${S3_PORT:-18014}
PROXY_PORT=${PROXY_PORT:-18015}
CT_PORT=${CT_PORT:-18016}
TP=$ROOT/target/release/trailproof
mkdir -p "$BENCH_DIR"

. "$ROOT/scripts/bench-lib.sh"

build() {
  log "building (release)"
  cargo build --release --quiet --bin trailproof --example floor --example latency_proxy --example cloudtrail_endpoint
}

generate() {
  local dir=$1 hours=$2 upload=$3
  [ -f "$dir/.done$upload" ] && return 0
  rm -rf "$dir"
  log "simulating $hours hours into $dir"
  local extra=()
  [ "$upload" = 1 ] && extra=(--upload)
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT "$TP" simulate --out "$dir" --start-time "$START" --hours "$hours" \
    --logs-per-hour 10 --records-per-log 1400 --seed 3 --bucket "$BUCKET" "${extra[@]}" >/dev/null
  touch "$dir/.done$upload"
}

start_cloudtrail() {
  # As the trail's own account: the live run reads event history (the
  # trail's configuration calls, paced at 2 per second) as it would on AWS.
  "$ROOT/target/release/examples/cloudtrail_endpoint" --keys "$W/public-keys.json" --port "$CT_PORT" --max-seconds 7200 \
    --caller-account 123456789012 >/dev/null &
  PIDS+=($!)
  sleep 0.5
}

awscli() {
  local venv=$BENCH_DIR/venv
  if [ ! -x "$venv/bin/aws" ]; then
    log "installing awscli from PyPI into $venv (once)"
    python3 -m venv "$venv" && "$venv/bin/pip" install --quiet awscli >/dev/null
  fi
  "$venv/bin/aws" "$@"
}

counts() { grep -Eo '[0-9]+/[0-9]+ (digest|log) files valid' | sort; }

main() {
  build
  ensure_time
  local s3=0
  if [ "${SKIP_S3:-0}" != 1 ]; then start_s3; s3=1; fi
  generate "$W" 24 "$s3"
  local inflated
  inflated=$("$ROOT/target/release/examples/floor" "$W")
  log "$inflated"

  local local_args=(validate --local "$W" --public-keys "$W/public-keys.json" --trail-arn "$ARN" --start-time "$START" --end-time "$END")
  local floor tp_local tp_s3="" tp_lat="" tp_keyed="" cli_s3="" cli_lat=""
  floor=$(timeit "$RUNS" "$ROOT/target/release/examples/floor" "$W")
  tp_local=$(timeit "$RUNS" "$TP" "${local_args[@]}")
  local expected
  expected=$("$TP" "${local_args[@]}" 2>/dev/null | counts)

  if [ "$s3" = 1 ]; then
    start_cloudtrail
    local live=(validate --trail-arn "$ARN" --start-time "$START" --end-time "$END" --s3-bucket "$BUCKET")
    export AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:$CT_PORT AWS_ENDPOINT_URL_STS=http://127.0.0.1:$CT_PORT
    local keyed=("${live[@]}" --public-keys "$W/public-keys.json")
    local got
    got=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT "$TP" "${live[@]}" 2>/dev/null | counts)
    [ "$got" = "$expected" ] || { echo "trailproof S3 verdicts differ from --local: $got vs $expected" >&2; exit 1; }
    tp_s3=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT timeit "$RUNS" "$TP" "${live[@]}")
    tp_lat=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY_PORT timeit "$RUNS" "$TP" "${live[@]}")
    tp_keyed=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT timeit "$RUNS" "$TP" "${keyed[@]}")
    if [ "${SKIP_AWSCLI:-0}" != 1 ]; then
      local cli=(cloudtrail validate-logs --trail-arn "$ARN" --start-time "$START" --end-time "$END" --s3-bucket "$BUCKET" --region us-east-1 --endpoint-url "http://127.0.0.1:$CT_PORT")
      got=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT awscli "${cli[@]}" 2>/dev/null | counts || true)
      [ "$got" = "$expected" ] || { echo "aws cloudtrail validate-logs verdicts differ: [$got] vs [$expected]" >&2; exit 1; }
      log "aws cloudtrail validate-logs reports the same verdicts: $(echo $got)"
      "$ROOT/scripts/parity.sh" >&2
      cli_s3=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT timeit "$AWSCLI_RUNS" awscli "${cli[@]}")
      cli_lat=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY_PORT timeit "$AWSCLI_RUNS" awscli "${cli[@]}")
    fi
  fi

  local mem1 mem7=""
  mem1=$(peak_kib "$TP" "${local_args[@]}")
  if [ "${SKIP_7DAY:-0}" != 1 ]; then
    generate "$W7" 168 0
    mem7=$(peak_kib "$TP" validate --local "$W7" --public-keys "$W7/public-keys.json" --trail-arn "$ARN" --start-time "$START" --end-time "$END7" --quiet)
  fi

  ratio() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }
  row() { printf '| %s | %s | %s | %s |\n' "$1" "${2:--}" "$(ratio "$2" "$floor")" "$(ratio "$2" "$tp_local")"; }
  echo
  echo "W: $inflated"
  echo
  echo "| run | median wall s | vs floor | vs trailproof --local |"
  echo "|---|---|---|---|"
  row "floor (inflate + SHA-256 on all cores)" "$floor"
  row "trailproof --local" "$tp_local"
  row "trailproof, S3 on loopback" "$tp_s3"
  row "trailproof, S3 + 20 ms per request" "$tp_lat"
  row "trailproof, S3 on loopback, --public-keys and --s3-bucket (no CloudTrail call)" "$tp_keyed"
  row "aws cloudtrail validate-logs, S3 on loopback" "$cli_s3"
  row "aws cloudtrail validate-logs, S3 + 20 ms" "$cli_lat"
  echo
  [ -n "$cli_s3" ] && echo "trailproof is $(ratio "$cli_s3" "$tp_s3") faster than the AWS CLI on loopback, $(ratio "$cli_lat" "$tp_lat") with 20 ms latency"
  [ -n "$tp_keyed" ] && echo "full live mode takes $(ratio "$tp_s3" "$tp_keyed") the time of the keys-given run"
  [ -n "$tp_lat" ] && echo "20 ms latency costs trailproof $(awk -v a="$tp_lat" -v b="$tp_s3" 'BEGIN { printf "%.3f", a - b }') s over W"
  echo "peak RSS of trailproof --local: W $((mem1 / 1024)) MiB${mem7:+, 7-day W $((mem7 / 1024)) MiB}"
}

main "$@"
