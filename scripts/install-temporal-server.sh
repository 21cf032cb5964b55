#!/usr/bin/env bash
# The production topology's Temporal server (not the dev server), its SQL schema tool and the
# Temporal Web UI's server (its pages are in the module), built from their Go modules, pinned,
# into .tools/temporal-server. The module's schema files and
# configuration templates come from the same module version, copied next to the binaries, so the
# cluster sets itself up with Temporal's own tool and files. The build takes several minutes on two
# cores and is cached: the stamp names the version, and a second run returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_SERVER_VERSION=v1.32.0
# The UI the pinned Temporal CLI's dev server embeds, so both servers show the same Web UI.
TEMPORAL_UI_VERSION=v2.54.1
DIR=.tools/temporal-server
STAMP="$DIR/.lethe-pins"
WANT="go.temporal.io/server@$TEMPORAL_SERVER_VERSION github.com/temporalio/ui-server/v2@$TEMPORAL_UI_VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$DIR/bin/temporal-server" ] && [ -x "$DIR/bin/temporal-sql-tool" ] && [ -x "$DIR/bin/temporal-ui-server" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "The cluster builds the Temporal server from its Go module and needs Go (1.26 builds $TEMPORAL_SERVER_VERSION)." >&2
  exit 1
fi

echo "Building $WANT (temporal-server, temporal-sql-tool, temporal-ui-server) into $DIR; this takes several minutes ..."
mkdir -p "$DIR/bin"
ROOT="$(pwd)/$DIR"
export GOPATH="$ROOT/gopath" GOMODCACHE="$ROOT/gopath/pkg/mod" GOCACHE="$ROOT/gocache" GOFLAGS=-modcacherw
WORK="$ROOT/build"
rm -rf "$WORK" && mkdir -p "$WORK"
(
  cd "$WORK"
  go mod init lethe-temporal-server >/dev/null 2>&1
  # Getting the two commands' packages (not only the module) records every module they import.
  go get "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  CGO_ENABLED=0 go build -o "$ROOT/bin/temporal-server" go.temporal.io/server/cmd/server
  CGO_ENABLED=0 go build -o "$ROOT/bin/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql
)
# The UI server in a module of its own: its dependencies' versions are not the server's.
UI_WORK="$ROOT/build-ui"
rm -rf "$UI_WORK" && mkdir -p "$UI_WORK"
(
  cd "$UI_WORK"
  go mod init lethe-temporal-ui >/dev/null 2>&1
  go get "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION"
  CGO_ENABLED=0 go build -o "$ROOT/bin/temporal-ui-server" github.com/temporalio/ui-server/v2/cmd/server
)
MODULE="$(cd "$WORK" && go list -m -f '{{.Dir}}' go.temporal.io/server)"
rm -rf "$DIR/schema" "$DIR/config"
cp -r "$MODULE/schema" "$DIR/schema"
cp -r "$MODULE/config" "$DIR/config"
chmod -R u+w "$DIR/schema" "$DIR/config"
# Only the binaries and the module's files are kept: the module cache and build cache are 1.5 GB.
rm -rf "$WORK" "$UI_WORK" "$ROOT/gocache" "$ROOT/gopath"
echo "$WANT" > "$STAMP"
"$DIR/bin/temporal-server" --version || true
