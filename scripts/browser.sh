#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the console's browser tests (tests/browser), installed
# with apt-get if missing. Prints the environment the tests read, e.g. eval "$(bash scripts/browser.sh)".
# Playwright drives this executable; it never downloads a browser of its own.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  echo "browser: installing chromium and chromium-driver with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "export WINNOW_TEST_CHROMIUM=$(command -v chromium)"
