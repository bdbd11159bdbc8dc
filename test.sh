#!/usr/bin/env bash
# Runs every test: unit tests (surefire) and integration tests over real sockets (failsafe).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The Redis integration tests start their own redis-server processes on free loopback ports (and
# redis-cli to form a test Redis Cluster); the Debian package's own service on 6379 is never used.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "test.sh: installing redis-server for the Redis integration tests" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

# The dashboard's browser test (regen-server DashboardIT) drives Debian's headless Chromium through
# Debian's chromedriver; Selenium is told both paths and never downloads a browser or a driver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "test.sh: installing chromium and chromium-driver for the dashboard's browser test" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

exec mvn -B -ntp verify "$@"
