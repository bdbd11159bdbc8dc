#!/usr/bin/env bash
# Runs every test: unit tests (surefire) and integration tests over real sockets (failsafe).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec mvn -B -ntp verify "$@"
