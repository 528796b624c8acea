#!/usr/bin/env bash
# Checks the HTML report in a real browser: renders the README's sample
# trail (one tampered log file, one gap) with --html, loads the file in
# headless Chromium (Debian's package; installed if missing), asserts the
# findings are in the rendered page and a hostile object key stays text,
# and saves a screenshot.
#
# Usage: scripts/html-check.sh [OUT_DIR]   (default /tmp/trailproof-html)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/trailproof-html}
mkdir -p "$OUT"
if ! command -v chromium >/dev/null; then
  echo "== installing chromium (Debian package)" >&2
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
cargo build --quiet --bin trailproof
TP=target/debug/trailproof
# The sample trail plus an object whose name is markup.
WORK=$OUT/trail
rm -rf "$WORK" && cp -r testdata/sample "$WORK"
DAY=$WORK/trailproof-sample-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01
printf 'x' > "$DAY/<img src=x onerror=alert(1)>.json.gz"
set +e
"$TP" validate --local "$WORK" --public-keys "$WORK/public-keys.json" \
  --trail-arn arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail \
  --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T06:00:00Z \
  --html "$OUT/report.html" >/dev/null 2>&1
code=$?
set -e
[ "$code" = 1 ] || { echo "expected exit 1 from the sample trail, got $code" >&2; exit 1; }
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$OUT/profile")
chromium "${flags[@]}" --dump-dom "file://$OUT/report.html" > "$OUT/dom.html" 2>/dev/null
chromium "${flags[@]}" --window-size=1280,1400 --screenshot="$OUT/report.png" "file://$OUT/report.html" >/dev/null 2>&1
check() { grep -q -- "$1" "$OUT/dom.html" || { echo "not in the rendered page: $1" >&2; exit 1; }; }
check 'id="verdict" class="verdict v1">evidence of tampering'
check "20260301T0329Z_UwnQ0tJFLnpXvT4S.json.gz"
check "hash value doesn't match"
check "unexpected object in the trail"
check '&lt;img src=x onerror=alert(1)&gt;'
if grep -q '<img src=x' "$OUT/dom.html"; then echo "a hostile key became markup" >&2; exit 1; fi
rows=$(grep -c 'class="finding"' "$OUT/dom.html")
echo "HTML report OK in $(chromium --version): $rows findings rendered; screenshot $OUT/report.png"
