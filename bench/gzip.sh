#!/usr/bin/env bash
# Cache hits with "Accept-Encoding: gzip": Regen (pre-compressed variant) vs nginx proxy_cache
# sending identity, and vs nginx proxy_cache with on-the-fly gzip (gzip on; level 1, its default).
# Same origin, same pages, same wrk settings, one run. Loopback only; every load is bounded (wrk -d).
#
#   bench/gzip.sh                        # uses regen-server/target/regen.jar (build it first: ./regen --version)
#   REPEATS=5 DURATION=10 bench/gzip.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PEERS_DIR=$BENCH_DIR/peers
JAR=${REGEN_JAR:-$REPO/regen-server/target/regen.jar}
RUN=${RUN_DIR:-/tmp/regen-gzip-bench}
REPEATS=${REPEATS:-5}; DURATION=${DURATION:-10}; CONNS=${CONNS:-64}; PAGES=${PAGES:-100}
ORIGIN_PORT=18200; NGINX_PORT=18201; NGINX_GZ_PORT=18202; REGEN_PORT=18203
JVM=${REGEN_JVM_OPTS:-"-XX:+UseSerialGC -XX:ActiveProcessorCount=1 -Xms512m -Xmx512m"}
mkdir -p "$RUN"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

taskset -c 1 python3 "$PEERS_DIR/origin.py" --port $ORIGIN_PORT --delay-ms 50 > "$RUN/origin.log" 2>&1 & pids+=($!)
for kind in plain gzip; do
  port=$([ $kind = plain ] && echo $NGINX_PORT || echo $NGINX_GZ_PORT)
  conf="$RUN/nginx-$kind.conf"; mkdir -p "$RUN/$kind/nginx-tmp" "$RUN/$kind/nginx-cache"
  sed -e "s#@PORT@#$port#g" -e "s#@ORIGIN_PORT@#$ORIGIN_PORT#g" -e "s#@RUN_DIR@#$RUN/$kind#g" "$PEERS_DIR/nginx/isr.conf.in" > "$conf"
  if [ $kind = gzip ]; then sed -i 's#^\(\s*\)server {#\1gzip on; gzip_types text/html; gzip_min_length 512;\n\1server {#' "$conf"; fi
  sed -i "s#pid .*;#pid $RUN/$kind/nginx.pid;#" "$conf"
  taskset -c 0 nginx -c "$conf" -p "$RUN/$kind" -g 'daemon off;' > "$RUN/nginx-$kind.out" 2>&1 & pids+=($!)
done
printf 'revalidate: 600\n' > "$RUN/regen.yaml"
taskset -c 0 java $JVM -jar "$JAR" serve --port $REGEN_PORT --origin http://127.0.0.1:$ORIGIN_PORT \
  --config "$RUN/regen.yaml" --store memory > "$RUN/regen.log" 2>&1 & pids+=($!)
for port in $NGINX_PORT $NGINX_GZ_PORT $REGEN_PORT; do
  for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/p/1" && break; sleep 0.1; done
done

cat > "$RUN/gz.lua" <<'LUA'
local pages = tonumber(os.getenv("PAGES") or "100")
local reqs, i = {}, 0
init = function() for k = 1, pages do reqs[k] = wrk.format("GET", "/p/" .. k, {["Accept-Encoding"] = "gzip"}) end end
request = function() i = (i % pages) + 1; return reqs[i] end
done = function(s, lat) io.write(string.format("RESULT %.0f %.2f %.2f %.0f\n", s.requests / (s.duration / 1e6),
  lat:percentile(50) / 1000, lat:percentile(99) / 1000, s.bytes / math.max(1, s.requests))) end
LUA

declare -A rps p50 p99 size
for name in nginx nginx-gzip regen; do
  port=$([ $name = nginx ] && echo $NGINX_PORT || ([ $name = nginx-gzip ] && echo $NGINX_GZ_PORT || echo $REGEN_PORT))
  for k in $(seq $PAGES); do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/p/$k"; done
  PAGES=$PAGES taskset -c 1 wrk -t1 -c$CONNS -d5s -s "$RUN/gz.lua" "http://127.0.0.1:$port" > /dev/null   # warm-up
  for r in $(seq $REPEATS); do
    line=$(PAGES=$PAGES taskset -c 1 wrk -t1 -c$CONNS -d${DURATION}s -s "$RUN/gz.lua" "http://127.0.0.1:$port" | grep '^RESULT')
    read -r _ a b c d <<< "$line"; rps[$name]+="$a "; p50[$name]+="$b "; p99[$name]+="$c "; size[$name]=$d
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| peer (Accept-Encoding: gzip) | req/s median (runs) | p50 ms | p99 ms | bytes/resp |"
echo "|---|---|---|---|---|"
for name in nginx nginx-gzip regen; do
  echo "| $name | $(echo "${rps[$name]}" | median) (${rps[$name]% }) | $(echo "${p50[$name]}" | median) | $(echo "${p99[$name]}" | median) | ${size[$name]} |"
done
