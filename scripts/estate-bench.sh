#!/usr/bin/env bash
# The estate run's figures for the README, side by side in one run:
#  - ORG: 20 accounts x 6 regions x 24 h (2,880 digests, 5,760 small log
#    files) validated --local in one run, against ONE chain holding the same
#    number of digests and log files (2,880 hours), and against the 120
#    single-chain invocations it replaces;
#  - ORG live against s3s-fs with 20 ms per request, against ORG --local;
#  - peak RSS of --format jsonl for ORG and for 4x ORG (80 accounts);
#  - 4 shards run one after another plus the merge, against the single run.
#
# Usage: scripts/estate-bench.sh   (RUNS=3; SKIP_S3=1, SKIP_4X=1 for partial runs)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/trailproof-bench}
RUNS=${RUNS:-3}
ORG=$BENCH_DIR/org
ORG4=$BENCH_DIR/org4
ONE=$BENCH_DIR/one
ARN=arn:aws:cloudtrail:us-east-1:100000000000:trail/org
BUCKET=tp-org
START=2026-03-01T00:00:00Z
END=2026-03-02T00:00:00Z
END_ONE=2026-06-29T00:00:00Z
# The tests' S3 server (examples/s3_server.rs: s3s-fs 0.14.1 with TCP_NODELAY).
export AWS_ACCESS_KEY_ID=AKIDTRAILPROOFTEST AWS_SECRET_ACCESS_KEY=trailproof-test-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
S3_PORT=${S3_PORT:-18024}
PROXY_PORT=${PROXY_PORT:-18025}
TP=$ROOT/target/release/trailproof
REGIONS=us-east-1,us-east-2,us-west-2,eu-west-1,eu-central-1,ap-south-1
mkdir -p "$BENCH_DIR"
. "$ROOT/scripts/bench-lib.sh"

# CPU seconds the S3 server process has used so far.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$S3_PID/stat"; }

accounts() { for i in $(seq 0 $(($2 - 1))); do printf '%012d\n' $(($1 + i)); done | paste -sd, -; }

sim() {
  local dir=$1; shift
  local mark
  mark="$dir/.done-$(echo "$*" | md5sum | cut -c1-8)"
  [ -f "$mark" ] && return 0
  rm -rf "$dir"
  log "simulating $dir"
  "$TP" simulate --out "$dir" --start-time "$START" --logs-per-hour 2 --records-per-log 20 \
    --seed 5 --bucket "$BUCKET" --trail-name org "$@" >/dev/null
  touch "$mark"
}

main() {
  log "building (release)"
  cargo build --release --quiet --bin trailproof --example latency_proxy --example s3_server
  ensure_time
  local s3=0 up=()
  if [ "${SKIP_S3:-0}" != 1 ]; then
    mkdir -p "$BENCH_DIR/s3org"
    "$ROOT/target/release/examples/s3_server" --root "$BENCH_DIR/s3org" --port "$S3_PORT" --max-seconds 7200 >/dev/null &
    S3_PID=$!
    PIDS+=($S3_PID)
    "$ROOT/target/release/examples/latency_proxy" --listen "$PROXY_PORT" --upstream "$S3_PORT" --delay-ms 20 --max-seconds 7200 2>/dev/null &
    PIDS+=($!)
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$S3_PORT") 2>/dev/null && break; sleep 0.2; done
    s3=1; up=(--upload)
  fi
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT sim "$ORG" "${up[@]}" --hours 24 --accounts "$(accounts 100000000000 20)" --regions "$REGIONS" --organization-id o-bench00001
  sim "$ONE" --hours 2880 --account-id 100000000000
  local org=(validate --local "$ORG" --public-keys "$ORG/public-keys.json" --trail-arn "$ARN"
             --start-time "$START" --end-time "$END" --account-id all --region all --quiet --format json)
  local one=(validate --local "$ONE" --public-keys "$ONE/public-keys.json" --trail-arn "$ARN"
             --start-time "$START" --end-time "$END_ONE" --quiet --format json)
  "$TP" "${org[@]}" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("ORG", s["chains"], "chains", s["digests"]["total"], "digests", s["logs"]["total"], "logs, exit", s["exit_code"])' >&2
  local t_org t_one t_120 t_live="" t_shards server_s="" tp_cpu="" local_cpu=""
  t_org=$(timeit "$RUNS" "$TP" "${org[@]}")
  t_one=$(timeit "$RUNS" "$TP" "${one[@]}")
  each() {
    for a in $(accounts 100000000000 20 | tr , ' '); do
      for r in ${REGIONS//,/ }; do
        "$TP" validate --local "$ORG" --public-keys "$ORG/public-keys.json" --trail-arn "$ARN" \
          --start-time "$START" --end-time "$END" --account-id "$a" --region "$r" --quiet >/dev/null 2>&1 || true
      done
    done
  }
  t_120=$(timeit 1 each)
  shards() {
    for k in 1 2 3 4; do "$TP" "${org[@]}" --shard "$k/4" --report-file "$BENCH_DIR/shard-$k.json"; done
    "$TP" merge "$BENCH_DIR"/shard-{1,2,3,4}.json --format json >/dev/null
  }
  t_shards=$(timeit "$RUNS" shards)
  if [ "$s3" = 1 ]; then
    local live=(validate --s3-bucket "$BUCKET" --public-keys "$ORG/public-keys.json" --trail-arn "$ARN"
                --start-time "$START" --end-time "$END" --account-id all --region all --quiet --format json)
    local got want
    want=$("$TP" "${org[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])')
    got=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT "$TP" "${live[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])')
    [ "$got" = "$want" ] || { echo "live estate differs from --local: $got vs $want" >&2; exit 1; }
    local c0 c1
    c0=$(server_cpu)
    t_live=$(AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY_PORT timeit "$RUNS" "$TP" "${live[@]}")
    c1=$(server_cpu)
    server_s=$(awk -v a="$c0" -v b="$c1" -v n="$RUNS" 'BEGIN { printf "%.2f", (b - a) / n }')
    tp_cpu=$( { /usr/bin/time -f "%U %S" env AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY_PORT "$TP" "${live[@]}" >/dev/null; } 2>&1 | tail -1 | awk '{ printf "%.2f", $1 + $2 }')
    local_cpu=$( { /usr/bin/time -f "%U %S" "$TP" "${org[@]}" >/dev/null; } 2>&1 | tail -1 | awk '{ printf "%.2f", $1 + $2 }')
  fi
  local mem1 mem4=""
  local org_jsonl=("${org[@]:0:$((${#org[@]} - 1))}" jsonl)
  mem1=$(peak_kib "$TP" "${org_jsonl[@]}")
  if [ "${SKIP_4X:-0}" != 1 ]; then
    sim "$ORG4" --hours 24 --accounts "$(accounts 100000000000 80)" --regions "$REGIONS" --organization-id o-bench00001
    mem4=$(peak_kib "$TP" validate --local "$ORG4" --public-keys "$ORG4/public-keys.json" --trail-arn "$ARN" \
      --start-time "$START" --end-time "$END" --account-id all --region all --quiet --format jsonl)
  fi
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
  echo
  echo "| run | median wall s | ratio |"
  echo "|---|---|---|"
  echo "| ONE chain, 2,880 digests and 5,760 logs, --local | $t_one | 1.00x |"
  echo "| ORG, 120 chains, same objects, one run --local | $t_org | $(ratio "$t_org" "$t_one") of ONE |"
  echo "| ORG as 120 single-chain invocations | $t_120 | $(ratio "$t_120" "$t_org") of ORG |"
  [ -n "$t_live" ] && echo "| ORG live, S3 + 20 ms per request | $t_live | $(ratio "$t_live" "$t_org") of ORG --local |"
  echo "| ORG as 4 shards one after another + merge | $t_shards | $(ratio "$t_shards" "$t_org") of ORG |"
  echo
  [ -n "$t_live" ] && echo "live run: the S3 server used $server_s CPU-s per run, trailproof $tp_cpu CPU-s (--local: $local_cpu CPU-s) on $(nproc) cores"
  echo "peak RSS, --format jsonl: ORG $((mem1 / 1024)) MiB${mem4:+, 4x ORG (480 chains) $((mem4 / 1024)) MiB}"
}

main "$@"
