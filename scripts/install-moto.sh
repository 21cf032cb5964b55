#!/usr/bin/env bash
# Installs moto's S3 server, pinned, into .tools/venv: the tests' S3 with versioned buckets
# (s3rver keeps no versions). Needs the venv scripts/install-temporal.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/venv
STAMP="$VENV/.lethe-moto"
WANT="moto[server]==5.2.5"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/moto_server" ]; then
  exit 0
fi
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
echo "Installing $WANT into $VENV ..."
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$WANT"
echo "$WANT" > "$STAMP"
