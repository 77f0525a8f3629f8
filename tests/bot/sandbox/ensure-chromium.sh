#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/bot/sandbox/test_page_browser.py).
# Installs chromium and chromium-driver with apt-get when they are missing and this user may;
# otherwise says why and leaves the decision to the tests (skipped locally, failed under CI=true).
# Quick when both are present: it only looks at two files.
set -uo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests: Chromium is missing and there is no apt-get here to install it." >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "browser tests: Chromium is missing; install it as root:" \
    "apt-get install chromium chromium-driver" >&2
  exit 0
fi
echo "browser tests: installing Debian's chromium and chromium-driver (once)..."
export DEBIAN_FRONTEND=noninteractive
# Other apt runs on this machine may hold the lock for a while: wait for it instead of failing.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=2 "$@"; }
if apt_get update -qq >/dev/null && apt_get install -y -qq chromium chromium-driver >/dev/null; then
  echo "browser tests: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed."
else
  echo "browser tests: installing chromium with apt-get failed (see above)." >&2
fi
exit 0
