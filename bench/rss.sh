#!/usr/bin/env bash
# Resident memory of `./regen serve` holding many pages: the launcher's JVM sizing at work.
#
#   bench/rss.sh                       # 10,000 x 20 KB pages, default memory budget (256 MB), embedded store
#   PAGES=10000 MEMORY=256MB bench/rss.sh
#   REGEN_JAVA_OPTS=-Xmx6g bench/rss.sh    # the launcher's sizing replaced by an explicit heap
#
# Starts the harness's origin (bench/peers/origin.py: 20 KB pages) and `./regen serve` on the embedded store
# with `memory: $MEMORY`, requests every page twice (a miss, then a hit), then a third pass, and prints
# the JVM's resident set (VmRSS) after each pass, its peak (VmHWM) and the heap the launcher chose.
# Loopback only; stops only the processes it started.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PAGES=${PAGES:-10000}
MEMORY=${MEMORY:-256MB}
ORIGIN_PORT=${ORIGIN_PORT:-18300}
REGEN_PORT=${REGEN_PORT:-18310}
RUN_DIR=${RUN_DIR:-/tmp/regen-rss}
for p in $ORIGIN_PORT $REGEN_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done
rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"
log() { echo "[rss.sh $(date +%H:%M:%S)] $*" >&2; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

python3 "$BENCH_DIR/peers/origin.py" --port "$ORIGIN_PORT" --delay-ms 0 > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
printf 'listen: 127.0.0.1:%s\nrevalidate: 3600\nmemory: %s\nstore: embedded:%s/store\n' \
  "$REGEN_PORT" "$MEMORY" "$RUN_DIR" > "$RUN_DIR/regen.yaml"
"$REPO/regen" serve --origin "http://127.0.0.1:$ORIGIN_PORT" --config "$RUN_DIR/regen.yaml" > "$RUN_DIR/regen.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$REGEN_PORT) 2>/dev/null && break; sleep 0.1; done
jvm=$(pgrep -f "regen.jar serve --origin http://127.0.0.1:$ORIGIN_PORT" | head -1)
[ -n "$jvm" ] || { echo "regen did not start; see $RUN_DIR/regen.log" >&2; exit 1; }
for k in $(seq "$PAGES"); do printf 'url = "http://127.0.0.1:%s/p/%s"\noutput = /dev/null\n' "$REGEN_PORT" "$k"; done > "$RUN_DIR/urls"
rss() { awk -v f="$1:" '$1 == f {printf "%.0f", $2 / 1024}' "/proc/$jvm/status"; }
for pass in miss hit again; do
  curl -s -Z --parallel-max 16 -K "$RUN_DIR/urls" 2>/dev/null
  log "after the $pass pass over $PAGES pages: RSS $(rss VmRSS) MiB"
done
heap=$(tr '\0' '\n' < "/proc/$jvm/cmdline" | grep -E '^-Xmx|^-XX:MaxDirectMemorySize' | tr '\n' ' ' || true)
echo "pages=$PAGES memory=$MEMORY rss_mib=$(rss VmRSS) peak_mib=$(rss VmHWM) jvm_flags='${heap:-JVM defaults}'"
