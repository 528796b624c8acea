#!/usr/bin/env bash
# Parses a --metrics file with the reference Prometheus parser (the Python
# prometheus_client, installed from PyPI into a private venv once) after a
# run over the README's sample trail; prints the families and samples.
#
# Usage: scripts/metrics-check.sh [WORK_DIR]   (default /tmp/trailproof-metrics)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/trailproof-metrics}
mkdir -p "$WORK"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install --quiet prometheus-client
fi
cargo build --quiet --bin trailproof
target/debug/trailproof validate --local testdata/sample --public-keys testdata/sample/public-keys.json \
  --trail-arn arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail \
  --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T06:00:00Z --quiet \
  --metrics "$WORK/trailproof.prom" >/dev/null 2>&1 || true
"$WORK/venv/bin/python" - "$WORK/trailproof.prom" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
families = list(text_string_to_metric_families(text))
samples = sum(len(f.samples) for f in families)
names = {f.name for f in families}
for need in ["trailproof_objects", "trailproof_exit_status", "trailproof_gaps", "trailproof_untrusted_seconds"]:
    assert need in names, need
exit_status = [s.value for f in families if f.name == "trailproof_exit_status" for s in f.samples]
assert exit_status == [1.0], exit_status
print(f"metrics OK: {len(families)} families, {samples} samples parsed by prometheus_client")
PY
