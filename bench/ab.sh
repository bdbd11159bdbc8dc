#!/usr/bin/env bash
# Cache hits, Regen vs nginx proxy_cache, interleaved: both peers run at once, pinned to the same core,
# and the wrk runs alternate between them (nginx, regen, nginx, regen, ...).
#
#   bench/ab.sh                      # 7 rounds of 10 s per peer, after a 5 s warm-up each
#   ROUNDS=9 DURATION=10 bench/ab.sh
#   REGEN_JAR=/tmp/regen-bench/regen.jar bench/ab.sh
#   PROTO=https bench/ab.sh          # over TLS (HTTP/1.1, wrk), both peers with one self-signed certificate
#   PROTO=h2 bench/ab.sh             # over TLS with HTTP/2 (h2load from Debian's nghttp2-client; it
#                                    # reports a mean and a max per request, no percentiles)
#   REGEN_TLS_ENGINE=jdk PROTO=https bench/ab.sh   # Regen on the JDK's TLS engine instead of BoringSSL
#
# Why: on this VM the speed of a core drifts by 20-40 % over minutes, for every process alike (see
# BENCHMARKS.md). The peer harness (bench/run.sh) measures one peer after the other, so the drift
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
PEERS_DIR=$BENCH_DIR/peers
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
PROTO=${PROTO:-http}
case $PROTO in
  http) SCHEME=http; NGINX_KIND=isr;;
  https|h2) SCHEME=https; NGINX_KIND=isr-tls;;
  *) echo "PROTO must be http, https or h2" >&2; exit 2;;
esac
[ -n "${REGEN_TLS_ENGINE:-}" ] && REGEN_JVM_OPTS="$REGEN_JVM_OPTS -Dregen.tls.engine=$REGEN_TLS_ENGINE"

[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] \
  || { echo "ROUNDS must be 1-50 and DURATION 1-60 s" >&2; exit 2; }
tools="wrk nginx taskset curl python3 java"
[ "$PROTO" = h2 ] && tools="$tools h2load"
[ "$SCHEME" = https ] && tools="$tools openssl"
for tool in $tools; do
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
  RUN_DIR=$RUN_DIR PEER_CPUS=$PEER_CPUS "$PEERS_DIR/nginx/ctl.sh" stop "$NGINX_KIND" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

taskset -c "$LOAD_CPUS" python3 "$PEERS_DIR/origin.py" --port "$ORIGIN_PORT" > "$RUN_DIR/origin.log" 2>&1 &
pids+=($!)
REGEN_CONFIG=$BENCH_DIR/regen-bench.yaml
if [ "$SCHEME" = https ]; then
  # one certificate for both peers: the same key type (P-256) and chain length
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RUN_DIR/tls-key.pem" \
    -out "$RUN_DIR/tls-cert.pem" -subj /CN=localhost -days 2 -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
  REGEN_CONFIG=$RUN_DIR/regen-tls.yaml
  { cat "$BENCH_DIR/regen-bench.yaml"; echo; echo "tls: {certificate: $RUN_DIR/tls-cert.pem, key: $RUN_DIR/tls-key.pem}"; } > "$REGEN_CONFIG"
fi
RUN_DIR=$RUN_DIR PEER_CPUS=$PEER_CPUS "$PEERS_DIR/nginx/ctl.sh" start "$NGINX_KIND" "$NGINX_PORT" "$ORIGIN_PORT" > /dev/null
# shellcheck disable=SC2086
taskset -c "$PEER_CPUS" java $REGEN_JVM_OPTS -jar "$JAR" serve --port "$REGEN_PORT" \
  --origin "http://127.0.0.1:$ORIGIN_PORT" --config "$REGEN_CONFIG" --store memory > "$RUN_DIR/regen.log" 2>&1 &
pids+=($!)
for p in $ORIGIN_PORT $NGINX_PORT $REGEN_PORT; do
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

# warm: $1 port, $2 prefix; two passes (miss, then hit), then wrk (or h2load) on it for $3 s; prints a JSON line
run() {
  local port=$1 prefix=$2 secs=$3 k
  for k in $(seq "$PAGES"); do printf 'url = "%s://127.0.0.1:%s%s%s"\noutput = /dev/null\n' "$SCHEME" "$port" "$prefix" "$k"; done > "$RUN_DIR/urls"
  curl -sk -K "$RUN_DIR/urls"; curl -sk -K "$RUN_DIR/urls"
  if [ "$PROTO" = h2 ]; then
    # 64 connections, 1 stream each (as wrk's 64 connections), cycling over the same pages
    local uris=()
    for k in $(seq "$PAGES"); do uris+=("https://127.0.0.1:$port$prefix$k"); done
    taskset -c "$LOAD_CPUS" h2load -t1 -c64 -m1 -D "$secs" "${uris[@]}" 2>/dev/null | python3 -c '
import json, re, sys
out = sys.stdin.read()
rps = float(re.search(r"finished in [0-9.]+s, ([0-9.]+) req/s", out).group(1))
req = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
def us(v):
    m = re.match(r"([0-9.]+)(us|ms|s)", v); x = float(m.group(1))
    return x * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
print(json.dumps({"rps": rps, "p50_us": us(req.group(3)), "p99_us": us(req.group(2)), "h2load": True}))'
  else
    (cd "$PEERS_DIR" && PAGES=$PAGES PREFIX=$prefix taskset -c "$LOAD_CPUS" \
       wrk -t1 -c64 -d"${secs}s" -s lua/rotate.lua "$SCHEME://127.0.0.1:$port") | sed -n 's/^WRKJSON //p'
  fi
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
python3 - "$out" "$RESULTS_DIR/$stamp-ab-$PROTO.md" "$ROUNDS" "$DURATION" "$version" "$PROTO" "${REGEN_TLS_ENGINE:-default}" <<'PY'
import json, statistics, sys
src, dst, rounds, secs, version, proto, engine = sys.argv[1:]
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
h2 = proto == "h2"
tool = "h2load -t1 -c64 -m1" if h2 else "wrk -t1 -c64"
L = ["# Cache hits, Regen vs nginx proxy_cache, interleaved (bench/ab.sh, PROTO=%s)" % proto, "",
     "%s rounds x %s s per peer, %s over 100 cached 20 KB pages (%s), peers on one core; regen %s%s." % (
         rounds, secs, tool, {"http": "HTTP/1.1", "https": "HTTP/1.1 over TLS", "h2": "HTTP/2 over TLS"}[proto],
         version, "" if engine == "default" else ", TLS engine " + engine), "",
     "| peer | req/s median (min-max) | %s | %s |" % (("mean ms", "max ms") if h2 else ("p50 ms", "p99 ms")), "|---|---|---|---|"]
for peer, m, lo, hi, p50, p99 in rows:
    L.append("| %s | %.0f (%.0f-%.0f) | %.2f | %.2f |" % (peer, m, lo, hi, p50, p99))
L += ["", "Regen / nginx, per round (req/s): %s; median **%.2fx**." % (", ".join("%.2f" % x for x in ratios), statistics.median(ratios)),
      "Regen / nginx, per round (%s): %s; median **%.2fx**." % ("max" if h2 else "p99", ", ".join("%.2f" % x for x in p99r), statistics.median(p99r))]
open(dst, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
log "results: $RESULTS_DIR/$stamp-ab-$PROTO.md"
