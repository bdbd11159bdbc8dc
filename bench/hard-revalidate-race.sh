#!/usr/bin/env bash
# A `hard` webhook revalidation issued while a background render of the page is in flight.
# README contract: "hard deletes them: the next request waits for a fresh render".
#
#   bench/hard-revalidate-race.sh [path/to/regen.jar]      # default: /tmp/regen-bench/regen.jar
#
# Uses the peer harness's origin (bench/peers/origin.py) with a 500 ms render so the race is
# deterministic, and bench/regen-bench.yaml (/s/** revalidate 2 s). Loopback only; stops only the
# two processes it starts (by PID). Seen at 8aa537c (2026-11-26):
#   1. first GET (miss)                        MISS   render 1
#   2. GET after TTL                           STALE  render 1   (starts background render #2)
#   3. hard revalidate while #2 is in flight   {"success":true,"invalidated":1,...}
#   4. GET right after                         MISS   render 2   (joined the pre-invalidation render)
#   5. GET 0.7 s later                         STALE  render 2   (#2 was stored "invalidated")
#   6. GET 1 s later                           HIT    render 3
# Expected for `hard`: step 4 waits for a render started after the revalidation (render 3).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PEERS_DIR=$BENCH_DIR/peers
JAR=${1:-/tmp/regen-bench/regen.jar}
OPORT=${OPORT:-18098}
RPORT=${RPORT:-18099}
TMP=$(mktemp -d /tmp/regen-hardrace.XXXXXX)
export REGEN_SECRET=${REGEN_SECRET:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
for p in $OPORT $RPORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use; set OPORT/RPORT" >&2; exit 1; fi
done

python3 "$PEERS_DIR/origin.py" --port "$OPORT" --size 2048 --delay-ms 500 > "$TMP/origin.log" 2>&1 & opid=$!
java -XX:+UseSerialGC -Xmx256m -jar "$JAR" serve --port "$RPORT" --origin "http://127.0.0.1:$OPORT" \
     --config "$BENCH_DIR/regen-bench.yaml" --store memory > "$TMP/regen.log" 2>&1 & rpid=$!
trap 'kill $rpid $opid 2>/dev/null || true; wait $rpid $opid 2>/dev/null || true' EXIT
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/_regen/health" && break; sleep 0.2; done

page=/s/race$(date +%s)
g() {
  local h
  h=$(curl -s -D - -o "$TMP/body" "http://127.0.0.1:$RPORT$page" -w 'time=%{time_total}\n' | tr -d '\r')
  printf '%-46s %-6s render %-3s %s\n' "$1" "$(printf '%s\n' "$h" | awk -F': ' 'tolower($1)=="x-cache-status"{print $2}')" \
    "$(grep -o 'name="x-render" content="[0-9]*' "$TMP/body" | grep -o '[0-9]*$')" "$(printf '%s\n' "$h" | grep '^time=')"
}
g "1. first GET (miss)"
sleep 2.5
g "2. GET after TTL (starts background render #2)"
sleep 0.1
echo "3. hard revalidate while #2 is in flight:      $(curl -s -X POST -H "Authorization: Bearer $REGEN_SECRET" \
  -H 'Content-Type: application/json' -d "{\"paths\":[\"$page\"],\"mode\":\"hard\"}" "http://127.0.0.1:$RPORT/_regen/revalidate")"
g "4. GET right after the hard revalidation"
sleep 0.7
g "5. GET 0.7 s later"
sleep 1
g "6. GET 1 s later"
echo "origin renders of $page: $(curl -s "http://127.0.0.1:$OPORT/__renders?path=$page")"
rm -rf "$TMP"
