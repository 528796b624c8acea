#!/bin/sh
# Builds the container image and runs the README's first command in it on
# the sample trail: exit 1 (the sample holds one altered log), and the
# altered log named. Needs Docker or Podman (CONTAINER=podman).
#   scripts/container-smoke.sh [TAG]
set -eu
cd "$(dirname "$0")/.."
tool=${CONTAINER:-}
if [ -z "$tool" ]; then
  if command -v docker > /dev/null 2>&1; then tool=docker
  elif command -v podman > /dev/null 2>&1; then tool=podman
  else echo "container-smoke: neither docker nor podman is installed" >&2; exit 2
  fi
fi
tag=${1:-trailproof:smoke}
$tool build -t "$tag" .
$tool image inspect "$tag" --format 'image size: {{.Size}} bytes'
user=$($tool image inspect "$tag" --format '{{.Config.User}}')
[ "$user" = "10001:10001" ] || { echo "container-smoke: runs as '$user', not 10001" >&2; exit 1; }
set +e
out=$($tool run --rm -v "$PWD/testdata/sample:/sample:ro" "$tag" validate \
  --local /sample --public-keys /sample/public-keys.json \
  --trail-arn arn:aws:cloudtrail:us-east-1:123456789012:trail/sample-trail \
  --start-time 2026-03-01T00:00:00Z --end-time 2026-03-01T06:00:00Z --format ocsf 2>&1)
code=$?
set -e
echo "$out" | grep -q UwnQ0tJFLnpXvT4S || { echo "container-smoke: altered log not named:" >&2; echo "$out" >&2; exit 1; }
[ "$code" -eq 1 ] || { echo "container-smoke: exit $code, expected 1" >&2; exit 1; }
# CA certificates are present for HTTPS to AWS.
$tool run --rm --entrypoint /bin/sh "$tag" -c 'test -s /etc/ssl/certs/ca-certificates.crt'
echo "container-smoke: OK ($tag: exit 1 on the sample trail, altered log named, non-root, CA certificates)"
