#!/usr/bin/env bash
# Byte-for-byte parity with `aws cloudtrail validate-logs` on a damaged trail
# (tampered, deleted and appended log files, a gap): stdout and stderr of
# both tools with --verbose must be identical. Needs the s3s-fs binary, the
# awscli venv and the release build that scripts/compare.sh sets up.
#
# Usage: scripts/parity.sh   (BENCH_DIR as for compare.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/trailproof-bench}
WORK=$(mktemp -d)
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
S3_PORT=${PARITY_S3_PORT:-18024}
CT_PORT=${PARITY_CT_PORT:-18026}
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/root"
"$BENCH_DIR/tools/bin/s3s-fs" --host 127.0.0.1 --port "$S3_PORT" --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$WORK/root" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
"$ROOT/target/release/trailproof" simulate --out "$WORK/trail" --start-time 2026-03-01T00:00:00Z --hours 6 \
  --logs-per-hour 3 --records-per-log 5 --seed 5 --bucket parity \
  --damage gap@1 --damage tamper-log@3 --damage delete-log@4 --damage append-log@5 --upload >/dev/null
"$ROOT/target/release/examples/cloudtrail_endpoint" --keys "$WORK/trail/public-keys.json" --port "$CT_PORT" --max-seconds 300 >/dev/null &
PIDS+=($!)
sleep 0.5
ARGS=(--trail-arn arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T06:00:00Z --s3-bucket parity --verbose)
set +e
"$BENCH_DIR/venv/bin/aws" cloudtrail validate-logs "${ARGS[@]}" --region us-east-1 --endpoint-url "http://127.0.0.1:$CT_PORT" >"$WORK/cli.out" 2>"$WORK/cli.err"
cli=$?
AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:$CT_PORT "$ROOT/target/release/trailproof" validate "${ARGS[@]}" --format awscli --quiet >"$WORK/tp.out" 2>"$WORK/tp.err"
tp=$?
set -e
status=0
[ "$cli" = "$tp" ] || { echo "exit status differs: aws $cli, trailproof $tp"; status=1; }
diff "$WORK/cli.out" "$WORK/tp.out" >/dev/null || { echo "stdout differs:"; diff "$WORK/cli.out" "$WORK/tp.out"; status=1; }
diff "$WORK/cli.err" "$WORK/tp.err" >/dev/null || { echo "stderr differs:"; diff "$WORK/cli.err" "$WORK/tp.err"; status=1; }
[ "$status" = 0 ] && echo "parity: identical stdout ($(wc -l <"$WORK/tp.out") lines), stderr ($(grep -c INVALID "$WORK/tp.err") INVALID lines, $(grep -c 'No log files' "$WORK/tp.err") gap line) and exit status $tp"
exit "$status"
