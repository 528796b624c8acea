# Helpers shared by the benchmark scripts (sourced, not run): logging, the
# median of several timed runs, peak memory, and the s3s-fs server with a
# 20 ms-per-request proxy in front of it.
# Expects: ROOT, BENCH_DIR, S3_PORT, PROXY_PORT, AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY. Servers a script starts go into PIDS, killed on exit.

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

log() { echo "== $*" >&2; }

# The median of numbers on standard input, one a line.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Median wall seconds of RUNS runs of a command (output discarded).
timeit() {
  local runs=$1; shift
  for _ in $(seq "$runs"); do
    local s=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    local e=$EPOCHREALTIME
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
  done | median
}

peak_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

ensure_time() {
  [ -x /usr/bin/time ] || { log "installing GNU time"; apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }; }
}

start_s3() {
  local tools=$BENCH_DIR/tools
  if [ ! -x "$tools/bin/s3s-fs" ]; then
    log "installing s3s-fs 0.14.1 (once)"
    cargo install --quiet s3s-fs --version 0.14.1 --features binary --locked --root "$tools" || cargo install --quiet s3s-fs --version 0.14.1 --features binary --root "$tools"
  fi
  mkdir -p "$BENCH_DIR/s3root"
  "$tools/bin/s3s-fs" --host 127.0.0.1 --port "$S3_PORT" --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$BENCH_DIR/s3root" >"$BENCH_DIR/s3s.log" 2>&1 &
  PIDS+=($!)
  "$ROOT/target/release/examples/latency_proxy" --listen "$PROXY_PORT" --upstream "$S3_PORT" --delay-ms 20 --max-seconds 7200 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$S3_PORT") 2>/dev/null && break; sleep 0.2; done
}
