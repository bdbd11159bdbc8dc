#!/usr/bin/env bash
# Cache hits, Regen vs nginx proxy_cache, interleaved: both peers run at once, pinned to the same core,
# and the wrk runs alternate between them (nginx, regen, nginx, regen, ...).
#
#   bench/ab.sh                      # 7 rounds of 10 s per peer, after a 5 s warm-up each
#   ROUNDS=9 DURATION=10 bench/ab.sh
#   REGEN_JAR=/tmp/regen-bench/regen.jar bench/ab.sh
#
# Why: on this VM the speed of a core drifts by 20-40 % over minutes, for every process alike (see
# BENCHMARKS.md). The shared harness (bench/run.sh) measures one peer after the other, so the drift
# lands on whichever peer runs in a slow minute. Alternating runs puts both peers in the same minutes.
#
# Same pieces as the harness: its origin (origin.py, 20 KB pages, 50 ms renders), its nginx config
# (nginx/ctl.sh isr), its wrk script (lua/rotate.lua over 100 pages), wrk -t1 -c64, peers on CPU 0,
# wrk and origin on CPU 1. Every run uses a fresh page set warmed right before it (2 passes: miss,
# hit), so all measured requests are hits. Loopback only; everything is bounded by ROUNDS x DURATION
# and the script stops only the processes it started.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$(cd "$REPO/.." && pwd)/shared/bench}
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-10}
PAGES=${PAGES:-100}
PEER_CPUS=${PEER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18100}
NGINX_PORT=${NGINX_PORT:-18120}
REGEN_PORT=${REGEN_PORT:-18110}
RUN_DIR=${RUN_DIR:-/tmp/regen-ab}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
REGEN_JVM_OPTS=${REGEN_JVM_OPTS:-"-XX:+UseSerialGC -XX:ActiveProcessorCount=1 -Xms512m -Xmx512m"}
JAR=${REGEN_JAR:-$REPO/regen-server/target/regen.jar}

[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] \
  || { echo "ROUNDS must be 1-50 and DURATION 1-60 s" >&2; exit 2; }
for tool in wrk nginx taskset curl python3 java; do
  command -v $tool >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -ntp -DskipTests -pl regen-server -am package)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done
mkdir -p "$RUN_DIR" "$RESULTS_DIR"
log() { echo "[ab.sh $(date +%H:%M:%S)] $*" >&2; }

pids=()
cleanup() {
  RUN_DIR=$RUN_DIR PEER_CPUS=$PEER_CPUS "$SHARED_BENCH/nginx/ctl.sh" stop isr 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

taskset -c "$LOAD_CPUS" python3 "$SHARED_BENCH/origin.py" --port "$ORIGIN_PORT" > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
RUN_DIR=$RUN_DIR PEER_CPUS=$PEER_CPUS "$SHARED_BENCH/nginx/ctl.sh" start isr "$NGINX_PORT" "$ORIGIN_PORT" > /dev/null
# shellcheck disable=SC2086
taskset -c "$PEER_CPUS" java $REGEN_JVM_OPTS -jar "$JAR" serve --port "$REGEN_PORT" \
  --origin "http://127.0.0.1:$ORIGIN_PORT" --config "$BENCH_DIR/regen-bench.yaml" --store memory > "$RUN_DIR/regen.log" 2>&1 &
pids+=($!)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT; do
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

# warm: $1 port, $2 prefix; two passes (miss, then hit), then wrk on it for $3 s; prints wrk's JSON line
run() {
  local port=$1 prefix=$2 secs=$3 k
  for k in $(seq "$PAGES"); do printf 'url = "http://127.0.0.1:%s%s%s"\noutput = /dev/null\n' "$port" "$prefix" "$k"; done > "$RUN_DIR/urls"
  curl -s -K "$RUN_DIR/urls"; curl -s -K "$RUN_DIR/urls"
  (cd "$SHARED_BENCH" && PAGES=$PAGES PREFIX=$prefix taskset -c "$LOAD_CPUS" \
     wrk -t1 -c64 -d"${secs}s" -s lua/rotate.lua "http://127.0.0.1:$port") | sed -n 's/^WRKJSON //p'
}

log "warm-up: 5 s of wrk on each peer"
run $NGINX_PORT /p/warm- 5 > /dev/null
run $REGEN_PORT /p/warm- 5 > /dev/null
out="$RUN_DIR/runs.tsv"
: > "$out"
for r in $(seq "$ROUNDS"); do
  for peer in nginx regen; do
    port=$NGINX_PORT; [ $peer = regen ] && port=$REGEN_PORT
    json=$(run "$port" "/p/ab$r-" "$DURATION")
    printf '%s\t%s\t%s\n' "$r" "$peer" "$json" >> "$out"
    log "round $r $peer $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f req/s, p50 %.2f ms, p99 %.2f ms" % (d["rps"], d["p50_us"]/1e3, d["p99_us"]/1e3))' "$json")"
  done
done

stamp=$(date +%Y%m%d-%H%M%S)
version="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
python3 - "$out" "$RESULTS_DIR/$stamp-ab.md" "$ROUNDS" "$DURATION" "$version" <<'PY'
import json, statistics, sys
src, dst, rounds, secs, version = sys.argv[1:]
runs = {"nginx": [], "regen": []}
for line in open(src):
    r, peer, js = line.rstrip("\n").split("\t", 2)
    runs[peer].append(json.loads(js))
def med(peer, key):
    return statistics.median(d[key] for d in runs[peer])
rows = []
for peer in ("nginx", "regen"):
    rows.append((peer, med(peer, "rps"), min(d["rps"] for d in runs[peer]), max(d["rps"] for d in runs[peer]),
                 med(peer, "p50_us") / 1e3, med(peer, "p99_us") / 1e3))
ratios = [b["rps"] / a["rps"] for a, b in zip(runs["nginx"], runs["regen"])]
p99r = [b["p99_us"] / a["p99_us"] for a, b in zip(runs["nginx"], runs["regen"])]
L = ["# Cache hits, Regen vs nginx proxy_cache, interleaved (bench/ab.sh)", "",
     "%s rounds x %s s per peer, wrk -t1 -c64 over 100 cached 20 KB pages, peers on one core; regen %s." % (rounds, secs, version), "",
     "| peer | req/s median (min-max) | p50 ms | p99 ms |", "|---|---|---|---|"]
for peer, m, lo, hi, p50, p99 in rows:
    L.append("| %s | %.0f (%.0f-%.0f) | %.2f | %.2f |" % (peer, m, lo, hi, p50, p99))
L += ["", "Regen / nginx, per round (req/s): %s; median **%.2fx**." % (", ".join("%.2f" % x for x in ratios), statistics.median(ratios)),
      "Regen / nginx, per round (p99): %s; median **%.2fx**." % (", ".join("%.2f" % x for x in p99r), statistics.median(p99r))]
open(dst, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
log "results: $RESULTS_DIR/$stamp-ab.md"
