#!/usr/bin/env bash
# A million pages in the embedded store: start-up, listing, tag and subtree revalidation, disk use, reads.
#
#   bench/million.sh                       # fills $STORE_DIR once (MillionPages), then measures
#   PAGES=1000000 BYTES=3072 STORE_DIR=/tmp/regen-million/store bench/million.sh
#
# The store holds PAGES pages rendered through the engine (dev.regen.bench.MillionPages): /c<i % 100>/p<i>,
# ~BYTES bytes each, Cache-Tag t<i % 97>. Then `./regen serve` runs on it (memory: 64MB, so reads come
# from the store) in front of the harness's origin, and each measurement is one timed HTTP call (curl),
# or wrk for reads. Revalidations change the store: copy it first to keep a clean one (cp -a).
# Loopback only; stops only the processes it started.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PAGES=${PAGES:-1000000}
BYTES=${BYTES:-3072}
RUN_DIR=${RUN_DIR:-/tmp/regen-million}
STORE_DIR=${STORE_DIR:-$RUN_DIR/store}
ORIGIN_PORT=${ORIGIN_PORT:-18400}
REGEN_PORT=${REGEN_PORT:-18410}
LOAD_CPUS=${LOAD_CPUS:-1}
PEER_CPUS=${PEER_CPUS:-0}
BENCH_JAR=$REPO/regen-benchmarks/target/benchmarks.jar
export REGEN_SECRET=${REGEN_SECRET:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
for p in $ORIGIN_PORT $REGEN_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done
mkdir -p "$RUN_DIR"
log() { echo "[million.sh $(date +%H:%M:%S)] $*" >&2; }
[ -f "$BENCH_JAR" ] || (cd "$REPO" && mvn -B -q -ntp -DskipTests -pl regen-benchmarks -am package)
if [ ! -f "$STORE_DIR/regen.db" ]; then
  log "filling $STORE_DIR with $PAGES pages of ~$BYTES bytes"
  java -Xmx1g -cp "$BENCH_JAR" dev.regen.bench.MillionPages "$STORE_DIR" "$PAGES" "$BYTES" "127.0.0.1:$REGEN_PORT" | grep -v '^[0-9,]* pages' >&2
fi
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

disk=$(du -sk "$STORE_DIR" | cut -f1)
log "store on disk: $((disk / 1024)) MiB, $((disk * 1024 / PAGES)) bytes per page"
taskset -c "$LOAD_CPUS" python3 "$BENCH_DIR/peers/origin.py" --port "$ORIGIN_PORT" --size "$BYTES" > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
printf 'listen: 127.0.0.1:%s\nrevalidate: 2592000\nmemory: 64MB\nstore: embedded:%s\n' "$REGEN_PORT" "$STORE_DIR" > "$RUN_DIR/regen.yaml"
"$REPO/regen" --version > /dev/null # builds the jar and its class-data archive if needed: not part of start-up
start=$(date +%s%N)
taskset -c "$PEER_CPUS" "$REPO/regen" serve --origin "http://127.0.0.1:$ORIGIN_PORT" --config "$RUN_DIR/regen.yaml" \
  > "$RUN_DIR/regen.log" 2>&1 &
pids+=($!)
until (exec 3<>/dev/tcp/127.0.0.1/$REGEN_PORT) 2>/dev/null; do sleep 0.01; done
open_ms=$(( ($(date +%s%N) - start) / 1000000 ))
first=$(curl -s -o /dev/null -w '%{http_code} %header{x-cache-status}' "http://127.0.0.1:$REGEN_PORT/c42/p4242")
first_ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "start-up: port open after $open_ms ms, first page ($first, from the store) after $first_ms ms"

call() { # method path [body] -> "http_code seconds"
  curl -s -o "$RUN_DIR/last.json" -w '%{http_code} %{time_total}' -X "$1" -H "Authorization: Bearer $REGEN_SECRET" \
       -H 'Content-Type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$REGEN_PORT$2"
}
# reads first: the revalidations below leave pages stale or gone, which reads would then render
json=$(cd "$BENCH_DIR" && PAGES=$PAGES taskset -c "$LOAD_CPUS" wrk -t1 -c32 -d10s -s lua/million.lua \
       "http://127.0.0.1:$REGEN_PORT" | sed -n 's/^WRKJSON //p')
log "random pages of the million (reads from the store), wrk -t1 -c32 -d10s: $json"

r=$(call GET "/_regen/api/entries?limit=100"); log "entries, first page of 100: $r s"
r=$(call GET "/_regen/api/entries?prefix=/c57/&limit=100"); log "entries under /c57/, first page of 100: $r s"
cursor=""
total=0
for _ in $(seq 100); do
  r=$(call GET "/_regen/api/entries?prefix=/c57/&limit=100${cursor:+&cursor=$cursor}")
  total=$(python3 -c 'import sys; print(float(sys.argv[1]) + float(sys.argv[2].split()[1]))' "$total" "$r")
  cursor=$(python3 -c 'import json,sys,urllib.parse; c=json.load(open(sys.argv[1]))["cursor"]; print(urllib.parse.quote(c) if c else "")' "$RUN_DIR/last.json")
done
log "entries under /c57/, 100 pages of 100 followed by their cursors: $(python3 -c 'import sys; print("%.1f" % (float(sys.argv[1]) * 10))' "$total") ms per page"

r=$(call POST /_regen/revalidate '{"tags":["t7"]}'); log "soft revalidation of tag t7: $r s, $(cat "$RUN_DIR/last.json")"
r=$(call POST /_regen/revalidate '{"tags":["t8"],"mode":"hard"}'); log "hard revalidation of tag t8: $r s, $(cat "$RUN_DIR/last.json")"
r=$(call POST /_regen/revalidate '{"paths":["/c3/**"]}'); log "soft revalidation of the subtree /c3/**: $r s, $(cat "$RUN_DIR/last.json")"
r=$(call POST /_regen/revalidate '{"paths":["/c4/**"],"mode":"hard"}'); log "hard revalidation of the subtree /c4/**: $r s, $(cat "$RUN_DIR/last.json")"
