#!/usr/bin/env bash
# Runs every test: unit tests (surefire) and integration tests over real sockets (failsafe).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The Redis integration tests start their own redis-server processes on free loopback ports (and
# redis-cli to form a test Redis Cluster); the Debian package's own service on 6379 is never used.
# The fault suite's Sentinels are redis-server --sentinel: Debian's redis-sentinel package adds only a
# service and a symlink, so redis-server is all it needs.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "test.sh: installing redis-server for the Redis integration tests" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

# The browser tests (regen-server DashboardIT, regen-it-frameworks) drive Debian's headless Chromium
# through Debian's chromedriver; Selenium is told both paths and never downloads a browser or a driver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "test.sh: installing chromium and chromium-driver for the browser tests" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The framework integration tests (regen-it-frameworks) install, build and run real Next.js 16, Astro 5
# and Express 5 apps with npm; Next.js 16 needs Node.js 20.9 or newer, which Debian 12 does not package.
node_version="$(node --version 2>/dev/null || true)"
if ! command -v npm >/dev/null 2>&1 || [[ ! "$node_version" =~ ^v([0-9]+)\.([0-9]+) ]] \
    || (( BASH_REMATCH[1] < 20 || (BASH_REMATCH[1] == 20 && BASH_REMATCH[2] < 9) )); then
  echo "test.sh: the framework integration tests need Node.js 20.9 or newer with npm (found: ${node_version:-no node})." >&2
  echo "test.sh: install a newer Node.js (Debian 12's own nodejs package is 18, too old) and run again." >&2
  exit 1
fi

exec mvn -B -ntp verify "$@"
