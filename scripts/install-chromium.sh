#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core: Playwright's own browser
# download cannot reach its servers here, Debian's package mirror can. A CHROMIUM_PATH set by the
# user wins.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
if [ -x /usr/bin/chromium ]; then exit 0; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "The browser tests need Chromium: install Debian's chromium package, or set CHROMIUM_PATH." >&2
    exit 1
  fi
fi
echo "Installing Debian's chromium for the browser tests ..."
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
