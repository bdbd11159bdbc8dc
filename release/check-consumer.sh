#!/usr/bin/env bash
# Proves the staged release is usable without this repository: release/consumer, a Spring Boot 3.5
# app with Boot's own parent, takes regen-spring-boot-starter from the staging directory alone,
# builds, starts as `java -jar` (metrics export on, as in production) and must serve a cached page
# (MISS, then HIT, one render) and Regen's counters at /actuator/prometheus.
#
#   release/check-consumer.sh STAGING_REPO_DIR VERSION
#
# The build uses its own local repository (target/consumer-check/m2, kept between runs for
# Spring Boot's jars; Regen's are deleted first), so nothing comes from ~/.m2 or a reactor build and
# nothing staged lands in ~/.m2. The app listens on 127.0.0.1:PORT (default 18490) and is stopped
# by its pid when the check ends.
set -euo pipefail
staging=$(cd "${1:?usage: check-consumer.sh STAGING_REPO_DIR VERSION}" && pwd)
version=${2:?usage: check-consumer.sh STAGING_REPO_DIR VERSION}
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$here/.." && pwd)/target/consumer-check
port=${PORT:-18490}
log() { echo "[check-consumer $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "check-consumer: FAILED: $*" >&2; exit 1; }

[ -f "$staging/dev/regen/regen-spring-boot-starter/$version/regen-spring-boot-starter-$version.pom" ] \
  || fail "no regen-spring-boot-starter $version in $staging"
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then fail "port $port is in use (set PORT)"; fi

rm -rf "$work/app" "$work/m2/dev/regen"
mkdir -p "$work/m2"
cp -r "$here/consumer" "$work/app"
log "building release/consumer against $staging (regen $version)"
(cd "$work/app" && mvn -B -ntp -q -Dmaven.repo.local="$work/m2" -Dregen.version="$version" \
  -Dregen.repository="file://$staging" package) >&2 || fail "the consumer did not build"
[ -d "$work/m2/dev/regen/regen-spring-boot-starter/$version" ] || fail "the starter did not come from the staging repository"

secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
REGEN_SECRET=$secret java -jar "$work/app/target/consumer.jar" --server.address=127.0.0.1 --server.port="$port" \
  > "$work/app.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -fsS -o /dev/null -m 2 "http://127.0.0.1:$port/actuator/health" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$work/app.log" >&2; fail "the consumer app exited at start-up"; }
  sleep 0.1
done
status() { curl -fsS -o /dev/null -D - -m 10 "$1" | tr -d '\r' | sed -n 's/^[Xx]-[Cc]ache-[Ss]tatus: *//p'; }
url=http://127.0.0.1:$port
[ "$(status "$url/pages/1")" = MISS ] || { cat "$work/app.log" >&2; fail "first GET /pages/1 was not a MISS"; }
[ "$(status "$url/pages/1")" = HIT ] || fail "second GET /pages/1 was not a HIT"
curl -fsS "$url/pages/1" | grep -q "render 1 " || fail "/pages/1 was rendered more than once"
metrics=$(curl -fsS "$url/actuator/prometheus")
grep -qE '^regen_cache_requests_total\{[^}]*status="hit"[^}]*\} [1-9]' <<< "$metrics" \
  || fail "no regen_cache_requests_total{status=\"hit\"} in /actuator/prometheus"
log "MISS, HIT, one render; /actuator/prometheus has Regen's counters"
echo "check-consumer: OK (regen-spring-boot-starter $version from $staging, Spring Boot 3.5.7)"
