#!/usr/bin/env bash
# Time to first byte of a 100 MB page on a MISS: the origin directly, nginx proxy_cache, and Regen.
# A proxy that buffers the whole body before answering shows it here (seconds instead of
# milliseconds). Each peer gets REPEATS never-seen pages; curl reports the time to the first byte and
# to the last. Loopback only; bounded by REPEATS; stops only what it started.
#
#   bench/miss-ttfb.sh                 # 100 MB, 5 pages per peer
#   SIZE=1073741824 REPEATS=3 bench/miss-ttfb.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PEERS_DIR=$BENCH_DIR/peers
SIZE=${SIZE:-104857600}
REPEATS=${REPEATS:-5}
ORIGIN_PORT=${ORIGIN_PORT:-18200}
NGINX_PORT=${NGINX_PORT:-18220}
REGEN_PORT=${REGEN_PORT:-18210}
RUN_DIR=${RUN_DIR:-/tmp/regen-miss}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
JAR=${REGEN_JAR:-$REPO/regen-server/target/regen.jar}
[ "$REPEATS" -ge 1 ] && [ "$REPEATS" -le 20 ] || { echo "REPEATS must be 1-20" >&2; exit 2; }
for tool in nginx curl python3 java; do command -v $tool >/dev/null || { echo "missing: $tool" >&2; exit 1; }; done
[ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -ntp -DskipTests -pl regen-server -am package)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done
mkdir -p "$RUN_DIR" "$RESULTS_DIR"
pids=()
cleanup() {
  RUN_DIR=$RUN_DIR PEER_CPUS= "$PEERS_DIR/nginx/ctl.sh" stop isr 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
python3 "$PEERS_DIR/origin.py" --port "$ORIGIN_PORT" --size "$SIZE" --delay-ms 0 > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
RUN_DIR=$RUN_DIR PEER_CPUS= "$PEERS_DIR/nginx/ctl.sh" start isr "$NGINX_PORT" "$ORIGIN_PORT" > /dev/null
java -Xmx512m -jar "$JAR" serve --port "$REGEN_PORT" --origin "http://127.0.0.1:$ORIGIN_PORT" \
  --config "$BENCH_DIR/regen-bench.yaml" --store memory > "$RUN_DIR/regen.log" 2>&1 &
pids+=($!)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT; do
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done
out=$RUN_DIR/times.tsv
: > "$out"
for i in $(seq "$REPEATS"); do
  for peer in origin nginx regen; do
    case $peer in origin) port=$ORIGIN_PORT;; nginx) port=$NGINX_PORT;; regen) port=$REGEN_PORT;; esac
    t=$(curl -s -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}' \
        "http://127.0.0.1:$port/p/miss-$(date +%s%N)-$i")
    printf '%s\t%s\n' "$peer" "$t" >> "$out"
    echo "[miss-ttfb] $peer: first byte / last byte / bytes = $t" >&2
  done
done
stamp=$(date +%Y%m%d-%H%M%S)
version="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
python3 - "$out" "$RESULTS_DIR/$stamp-miss-ttfb.md" "$SIZE" "$REPEATS" "$version" <<'PY'
import statistics, sys
src, dst, size, repeats, version = sys.argv[1:]
t = {}
for line in open(src):
    peer, rest = line.rstrip("\n").split("\t")
    first, total, nbytes = rest.split()
    t.setdefault(peer, []).append((float(first), float(total), int(nbytes)))
L = ["# Time to first byte of a %.0f MB MISS (bench/miss-ttfb.sh)" % (int(size) / 1e6), "",
     "%s never-seen pages per peer, origin with no render delay, curl over loopback; regen %s." % (repeats, version), "",
     "| peer | first byte, median (min-max) | last byte, median | bytes |", "|---|---|---|---|"]
for peer in ("origin", "nginx", "regen"):
    xs = t[peer]
    f = [x[0] * 1e3 for x in xs]
    L.append("| %s | %.1f ms (%.1f-%.1f) | %.0f ms | %d |" % (peer, statistics.median(f), min(f), max(f),
             statistics.median(x[1] * 1e3 for x in xs), xs[0][2]))
open(dst, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
