#!/usr/bin/env bash
# Pages served from the persistent store vs nginx proxy_cache on disk, interleaved on one core.
#
#   bench/l2.sh                          # 5,000 x 20 KB pages, Regen with a 16 MB L1 on the embedded store
#   STORE=redis bench/l2.sh              # the same with Regen on a local redis-server (one node, one Redis)
#   ROUNDS=7 DURATION=10 PAGES=5000 bench/l2.sh
#   REGEN_JAR=/tmp/regen-bench/regen.jar bench/l2.sh
#
# The working set (PAGES x 20 KB, ~100 MB) is larger than Regen's L1 (bench/regen-l2.yaml: memory 16MB),
# so most requests are read from the store; nginx reads its proxy_cache files (bench/nginx/l2.conf.in).
# Both peers run at the same time, pinned to the same core (PEER_CPUS), and their wrk runs alternate
# (nginx, regen, nginx, ...), so a slow minute of this shared VM lands on both. wrk, the origin and
# redis-server run on LOAD_CPUS. Pieces of the peer harness (bench/peers): origin.py
# (20 KB pages, 50 ms renders) and lua/rotate.lua (rotates over PREFIX1..PREFIX<PAGES>).
# Loopback only; bounded by ROUNDS x DURATION; stops only the processes it started.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
PAGES=${PAGES:-5000}
CONNS=${CONNS:-64}
STORE=${STORE:-embedded}
PEER_CPUS=${PEER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18200}
NGINX_PORT=${NGINX_PORT:-18220}
REGEN_PORT=${REGEN_PORT:-18210}
REDIS_PORT=${REDIS_PORT:-18230}
RUN_DIR=${RUN_DIR:-/tmp/regen-l2}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
# One pinned core: Serial GC, and the JVM told it has one CPU (see bench/run.sh). No -Xmx: the
# launcher's sizing is part of what is measured unless REGEN_JVM_OPTS says otherwise.
REGEN_JVM_OPTS=${REGEN_JVM_OPTS:-"-XX:+UseSerialGC -XX:ActiveProcessorCount=1 -Xms256m -Xmx256m"}
JAR=${REGEN_JAR:-$REPO/regen-server/target/regen.jar}

[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] \
  && [ "$PAGES" -ge 1 ] && [ "$PAGES" -le 100000 ] \
  || { echo "ROUNDS must be 1-50, DURATION 1-60 s, PAGES 1-100000" >&2; exit 2; }
case $STORE in embedded|redis) ;; *) echo "STORE must be embedded or redis" >&2; exit 2;; esac
for tool in wrk nginx taskset curl python3 java xargs; do
  command -v $tool >/dev/null || { echo "missing: $tool (apt-get install wrk nginx)" >&2; exit 1; }
done
[ $STORE = redis ] && { command -v redis-server >/dev/null || { echo "missing: redis-server" >&2; exit 1; }; }
[ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -ntp -DskipTests -pl regen-server -am package)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT $REDIS_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/nginx-tmp" "$RUN_DIR/nginx-cache" "$RESULTS_DIR"
log() { echo "[l2.sh $(date +%H:%M:%S)] $*" >&2; }

pids=()
cleanup() {
  [ -f "$RUN_DIR/nginx-l2.pid" ] && kill -QUIT "$(cat "$RUN_DIR/nginx-l2.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

taskset -c "$LOAD_CPUS" python3 "$BENCH_DIR/peers/origin.py" --port "$ORIGIN_PORT" > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
sed -e "s#@PORT@#$NGINX_PORT#g" -e "s#@ORIGIN_PORT@#$ORIGIN_PORT#g" -e "s#@RUN_DIR@#$RUN_DIR#g" \
    "$BENCH_DIR/nginx/l2.conf.in" > "$RUN_DIR/nginx-l2.conf"
taskset -c "$PEER_CPUS" nginx -c "$RUN_DIR/nginx-l2.conf" -p "$RUN_DIR" -g 'daemon off;' > "$RUN_DIR/nginx.out" 2>&1 &
pids+=($!)
if [ $STORE = redis ]; then
  taskset -c "$LOAD_CPUS" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$RUN_DIR" > "$RUN_DIR/redis.log" 2>&1 &
  pids+=($!)
  store="redis://127.0.0.1:$REDIS_PORT"
else
  store="embedded:$RUN_DIR/store"
fi
for p in $ORIGIN_PORT $NGINX_PORT $([ $STORE = redis ] && echo $REDIS_PORT); do
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done
# shellcheck disable=SC2086
taskset -c "$PEER_CPUS" java $REGEN_JVM_OPTS -jar "$JAR" serve --port "$REGEN_PORT" \
  --origin "http://127.0.0.1:$ORIGIN_PORT" --config "$BENCH_DIR/regen-l2.yaml" --store "$store" > "$RUN_DIR/regen.log" 2>&1 &
regen_pid=$!
pids+=($regen_pid)
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$REGEN_PORT) 2>/dev/null && break; sleep 0.1; done

# Every page once through each peer (misses: rendered and stored), 32 at a time; then once more.
warm() {
  local port=$1 k
  for k in $(seq "$PAGES"); do printf 'url = "http://127.0.0.1:%s/p/%s"\noutput = /dev/null\n' "$port" "$k"; done > "$RUN_DIR/urls"
  taskset -c "$LOAD_CPUS" curl -s -Z --parallel-max 32 -w '%{http_code}\n' -K "$RUN_DIR/urls" | sort | uniq -c \
    | awk '{printf "%s x %s  ", $2, $1} END {print ""}'
}
for peer in nginx regen; do
  port=$NGINX_PORT; [ $peer = regen ] && port=$REGEN_PORT
  log "warming $PAGES pages on $peer: $(warm $port)"
  log "second pass on $peer: $(warm $port)"
done

cpu_busy() { # jiffies busy and total of CPU $PEER_CPUS (one core)
  awk -v c="cpu$PEER_CPUS" '$1 == c {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat
}
# wrk on a peer for $2 s; prints wrk's JSON line with the peer core's busy % added
run() {
  local port=$1 secs=$2 b0 b1
  b0=$(cpu_busy)
  json=$(cd "$BENCH_DIR" && PAGES=$PAGES PREFIX=/p/ taskset -c "$LOAD_CPUS" \
     wrk -t1 -c"$CONNS" -d"${secs}s" -s peers/lua/rotate.lua "http://127.0.0.1:$port" | sed -n 's/^WRKJSON //p')
  b1=$(cpu_busy)
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); b0=sys.argv[2].split(); b1=sys.argv[3].split();
d["peer_cpu"]=100.0*(int(b1[0])-int(b0[0]))/max(1,int(b1[1])-int(b0[1])); print(json.dumps(d))' "$json" "$b0" "$b1"
}

log "warm-up: 5 s of wrk on each peer"
run $NGINX_PORT 5 > /dev/null
run $REGEN_PORT 5 > /dev/null
out="$RUN_DIR/runs.tsv"
: > "$out"
for r in $(seq "$ROUNDS"); do
  for peer in nginx regen; do
    port=$NGINX_PORT; [ $peer = regen ] && port=$REGEN_PORT
    json=$(run "$port" "$DURATION")
    printf '%s\t%s\t%s\n' "$r" "$peer" "$json" >> "$out"
    log "round $r $peer $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f req/s, p50 %.2f ms, p99 %.2f ms, core %.0f %% busy, errors %d" % (d["rps"], d["p50_us"]/1e3, d["p99_us"]/1e3, d["peer_cpu"], d["err_status"]+d["err_read"]+d["err_timeout"]))' "$json")"
  done
done
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$regen_pid/status" 2>/dev/null || echo 0)
disk=$([ $STORE = embedded ] && du -sk "$RUN_DIR/store" | cut -f1 || echo 0)
stats=$(curl -s "http://127.0.0.1:$REGEN_PORT/_regen/api/stats" -H "Authorization: Bearer ${REGEN_SECRET:-}" || true)

stamp=$(date +%Y%m%d-%H%M%S)
version="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
python3 - "$out" "$RESULTS_DIR/$stamp-l2-$STORE.md" "$ROUNDS" "$DURATION" "$PAGES" "$STORE" "$version" "$rss" "$disk" <<'PY'
import json, statistics, sys
src, dst, rounds, secs, pages, store, version, rss, disk = sys.argv[1:]
runs = {"nginx": [], "regen": []}
for line in open(src):
    r, peer, js = line.rstrip("\n").split("\t", 2)
    runs[peer].append(json.loads(js))
def med(peer, key):
    return statistics.median(d[key] for d in runs[peer])
L = ["# Pages from the store: Regen (%s store, 16 MB L1) vs nginx proxy_cache on disk (bench/l2.sh)" % store, "",
     "%s rounds x %s s per peer, interleaved; wrk -t1 -c64 rotating over %s cached 20 KB pages; both peers on one core; regen %s." % (rounds, secs, pages, version), "",
     "| peer | req/s median (min-max) | p50 ms | p99 ms | peer core busy % |", "|---|---|---|---|---|"]
for peer in ("nginx", "regen"):
    L.append("| %s | %.0f (%.0f-%.0f) | %.2f | %.2f | %.0f |" % (peer, med(peer, "rps"),
             min(d["rps"] for d in runs[peer]), max(d["rps"] for d in runs[peer]),
             med(peer, "p50_us") / 1e3, med(peer, "p99_us") / 1e3, med(peer, "peer_cpu")))
ratios = [b["rps"] / a["rps"] for a, b in zip(runs["nginx"], runs["regen"])]
p99r = [b["p99_us"] / a["p99_us"] for a, b in zip(runs["nginx"], runs["regen"])]
L += ["", "Regen / nginx, per round (req/s): %s; median **%.2fx**." % (", ".join("%.2f" % x for x in ratios), statistics.median(ratios)),
      "Regen / nginx, per round (p99): %s; median **%.2fx**." % (", ".join("%.2f" % x for x in p99r), statistics.median(p99r)),
      "Regen RSS at the end: %.0f MiB; store on disk: %.1f MiB." % (int(rss) / 1024, int(disk) / 1024)]
open(dst, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
log "results: $RESULTS_DIR/$stamp-l2-$STORE.md; logs in $RUN_DIR"
