#!/usr/bin/env bash
# The HTML report in a real browser (Debian's chromium, installed if
# missing): an intact trail with an explained gap, the README's sample trail
# plus an object named like markup, and a damaged estate with a missing
# chain. Each page is shot at 1400 and 400 px wide and printed to A4 PDF,
# its width is measured at 1400, 700 and 400 px (no sideways scroll), and
# the sample's rendered page must hold its findings with the hostile name
# as text. Writes to ${OUT:-/tmp/trailproof-html}; look at the PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
cargo build -q --bin trailproof
B=$PWD/target/debug/trailproof
OUT=${OUT:-/tmp/trailproof-html}
rm -rf "$OUT" && mkdir -p "$OUT" && cd "$OUT"
ARN=arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail
ORG=arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail
$B simulate --out intact --start-time 2026-03-01T00:00:00Z --hours 30 --seed 3 --damage gap@5 >/dev/null
$B simulate --out estate --start-time 2026-03-01T00:00:00Z --hours 8 --seed 4 --trail-name org-trail \
  --organization-id o-abc1234567 --accounts 111111111111,222222222222,333333333333 \
  --regions us-east-1,eu-west-1,ap-south-1 --damage tamper-log@2 --damage delete-digest@4 >/dev/null
rm -rf estate/*/AWSLogs/o-abc1234567/333333333333/CloudTrail*/eu-west-1
cp -r "$OLDPWD/testdata/sample" sample
printf 'x' > "sample/trailproof-sample-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/01/<img src=x onerror=alert(1)>.json.gz"
run() { "$B" validate "$@" >/dev/null 2>&1 || true; }
run --local intact --public-keys intact/public-keys.json --trail-arn $ARN \
  --start-time 2026-03-01T00:00:00Z --end-time 2026-03-02T06:00:00Z --html intact.html
run --local sample --public-keys sample/public-keys.json \
  --trail-arn $ARN --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T06:00:00Z --html damaged.html
run --local estate --public-keys estate/public-keys.json --trail-arn $ORG --account-id all \
  --region all --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T08:00:00Z --html estate.html
chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" "$@" 2>/dev/null
}
for f in intact damaged estate; do
  for w in 1400 400; do chrome --hide-scrollbars --window-size=$w,2600 --screenshot="$OUT/$f-$w.png" "file://$OUT/$f.html" >/dev/null; done
  chrome --no-pdf-header-footer --print-to-pdf="$OUT/$f.pdf" "file://$OUT/$f.html" >/dev/null
done
chrome --dump-dom "file://$OUT/damaged.html" > damaged.dom.html
for want in 'id="verdict" class="verdict v1">evidence of tampering' "hash value doesn't match" \
  '1 log file altered' 'What to do next' '&lt;img src=x onerror=alert(1)&gt;'; do
  grep -q -- "$want" damaged.dom.html || { echo "not in the rendered page: $want" >&2; exit 1; }
done
if grep -q '<img src=x' damaged.dom.html; then echo "a hostile key became markup" >&2; exit 1; fi
cat > probe.html <<'HTML'
<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
var pages = ["intact.html", "damaged.html", "estate.html"], widths = [1400, 700, 400], res = [], n = 0;
pages.forEach(function (p) { widths.forEach(function (w) {
  var f = document.createElement("iframe"); f.style.width = w + "px"; f.style.height = "800px"; f.src = p;
  f.onload = function () { var d = f.contentDocument.documentElement;
    res.push(p + " at " + w + " px: " + (d.scrollWidth > d.clientWidth ? "SCROLLS SIDEWAYS" : "fits"));
    if (++n == pages.length * widths.length) document.getElementById("out").textContent = res.sort().join("\n"); };
  document.body.appendChild(f); }); });
</script></body></html>
HTML
chrome --allow-file-access-from-files --virtual-time-budget=5000 --dump-dom "file://$OUT/probe.html" |
  sed -n '/<pre id="out">/,/<\/pre>/p' | sed 's/<[^>]*>//g' | tee widths.txt
! grep -q SIDEWAYS widths.txt
echo "HTML report OK in $(chromium --version): screenshots and PDFs in $OUT"
