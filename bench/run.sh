#!/usr/bin/env bash
# Regen vs. its peers (nginx proxy_cache, optionally Varnish / Next.js) on the ISR peer harness (bench/peers).
#
#   bench/run.sh                                  # PEERS="nginx ours", harness defaults (5 x 10 s wrk runs)
#   PEERS="nginx varnish ours" bench/run.sh       # more peers ("ours" is Regen)
#   PEERS="nginx varnish next ours" bench/run.sh  # with Next.js ISR (npm ci and next build in bench/peers/next-app, once)
#   REGEN_JAR=/tmp/regen-bench/regen.jar bench/run.sh   # use this jar as is (no build, no copy)
#   WRK_REPEATS=9 bench/run.sh                    # any harness knob passes through (see bench/peers/README.md)
#   REGEN_REVALIDATE_MODE=soft bench/run.sh       # on-demand scenario with a soft webhook call (default hard)
#
# What it does:
#   1. Builds regen-server/target/regen.jar if it is missing or older than a source file, and copies
#      it to $SNAP_DIR/regen.jar, so that a rebuild in the working tree during the run cannot change
#      the jar under the benchmark. Skipped when REGEN_JAR is set.
#   2. Probes whether the jar has the revalidation webhook (POST /_regen/revalidate answered by Regen
#      itself). Without it, OURS_REVALIDATE stays unset and the harness reports on-demand as n/a.
#   3. Runs the harness (bench/peers/run-peers.sh) with OURS_CMD = the Regen jar on
#      bench/regen-bench.yaml and the in-memory store, JVM flags $REGEN_JVM_OPTS.
#
# All traffic is loopback; the harness bounds every load loop and stops only the processes it
# started. Results (.md table, .json raw) go to $RESULTS_DIR, peer logs to $RUN_DIR.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PEERS_DIR=$BENCH_DIR/peers
SNAP_DIR=${SNAP_DIR:-/tmp/regen-bench}
CONFIG=${REGEN_BENCH_CONFIG:-$BENCH_DIR/regen-bench.yaml}

# JVM flags for one pinned core (the harness runs every peer under `taskset -c $PEER_CPUS`, one CPU):
#  - SerialGC: with one core a parallel/concurrent collector only adds threads that compete with the
#    event loop for the same CPU; Serial is also what the JVM picks by itself when it sees 1 CPU.
#  - ActiveProcessorCount=1: say explicitly what the JVM sees (1 CPU: 2 Netty event loops, 1 JIT
#    compiler thread), instead of relying on how it reads the affinity mask.
#  - fixed 512 MiB heap: no heap resizing during a run; the L1 cache is 256 MiB by default.
#    No AlwaysPreTouch, so the reported RSS is what is actually used.
REGEN_JVM_OPTS=${REGEN_JVM_OPTS:-"-XX:+UseSerialGC -XX:ActiveProcessorCount=1 -Xms512m -Xmx512m"}

[ -f "$CONFIG" ] || { echo "missing config $CONFIG" >&2; exit 1; }
command -v java >/dev/null || { echo "missing: java (a JDK 17+)" >&2; exit 1; }

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------------ 1. the jar
if [ -n "${REGEN_JAR:-}" ]; then
  JAR=$REGEN_JAR
  [ -f "$JAR" ] || { echo "REGEN_JAR=$JAR does not exist" >&2; exit 1; }
  VERSION=${OURS_VERSION:-$(cat "$JAR.version" 2>/dev/null || echo dev)}
else
  TARGET=$REPO/regen-server/target/regen.jar
  stale_sources() {
    find "$REPO" -path "$REPO/bench" -prune -o \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) \
         -type f -newer "$TARGET" -print -quit 2>/dev/null
  }
  if [ ! -f "$TARGET" ] || [ -n "$(stale_sources)" ]; then
    for attempt in 1 2 3; do
      log "building regen.jar (attempt $attempt)"
      if (cd "$REPO" && mvn -B -q -ntp -DskipTests -pl regen-server -am package); then break; fi
      [ $attempt = 3 ] && { echo "build failed 3 times" >&2; exit 1; }
      log "build failed (someone mid-edit?); retrying in 60 s"; sleep 60
    done
  fi
  mkdir -p "$SNAP_DIR"
  JAR=$SNAP_DIR/regen.jar
  cp "$TARGET" "$JAR.tmp" && mv "$JAR.tmp" "$JAR"
  dirty=$(cd "$REPO" && git status --porcelain -- . ':!bench' ':!BENCHMARKS.md' 2>/dev/null | head -1)
  VERSION=${OURS_VERSION:-"dev@$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo ?)${dirty:++dirty}"}
  echo "$VERSION" > "$JAR.version"
fi
log "jar $JAR ($VERSION), sha256 $(sha256sum "$JAR" | cut -c1-16)"

# ------------------------------------------------------------------ 2. webhook probe
# The webhook needs a secret: generate one per run; the harness passes its environment to OURS_CMD
# and Regen reads REGEN_SECRET when the config sets no `secret`.
export REGEN_SECRET=${REGEN_SECRET:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
if [ -z "${OURS_REVALIDATE:-}" ]; then
  PROBE_PORT=${PROBE_PORT:-18019}
  DEAD_ORIGIN_PORT=${DEAD_ORIGIN_PORT:-18018}   # nothing listens there: a pass-through cannot get a 200
  for p in $PROBE_PORT $DEAD_ORIGIN_PORT; do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "probe port $p is in use; set PROBE_PORT/DEAD_ORIGIN_PORT" >&2; exit 1; fi
  done
  mkdir -p "$SNAP_DIR"
  # shellcheck disable=SC2086
  java $REGEN_JVM_OPTS -jar "$JAR" serve --port "$PROBE_PORT" --origin "http://127.0.0.1:$DEAD_ORIGIN_PORT" \
       --config "$CONFIG" --store memory > "$SNAP_DIR/probe.log" 2>&1 &
  probe_pid=$!
  trap 'kill $probe_pid 2>/dev/null || true' EXIT
  for _ in $(seq 300); do
    (exec 3<>/dev/tcp/127.0.0.1/$PROBE_PORT) 2>/dev/null && break
    kill -0 $probe_pid 2>/dev/null || break
    sleep 0.1
  done
  hdrs=$(curl -sS -m 10 -o /dev/null -D - -X POST -H "Authorization: Bearer $REGEN_SECRET" \
         -H "Content-Type: application/json" -d '{"paths":["/p/1"],"mode":"hard"}' \
         "http://127.0.0.1:$PROBE_PORT/_regen/revalidate" 2>&1 || true)
  kill $probe_pid 2>/dev/null || true; wait $probe_pid 2>/dev/null || true; trap - EXIT
  code=$(printf '%s\n' "$hdrs" | awk 'toupper($1) ~ /^HTTP\// {print $2; exit}')
  # A pass-through to the (dead) origin carries "Cache-Status: regen; fwd=..." (BYPASS/MISS): no webhook.
  if [ -z "$code" ] || [ "$code" = 404 ] || printf '%s\n' "$hdrs" | grep -qi '^cache-status:.*fwd='; then
    log "no revalidation webhook in this jar (POST /_regen/revalidate -> ${code:-no answer}, passed through): on-demand = n/a"
    unset OURS_REVALIDATE
  else
    log "webhook answers POST /_regen/revalidate itself (HTTP $code): on-demand enabled"
    # hard = delete: the next GET waits for a fresh render (what the harness checks: "next GET fresh?");
    # soft = mark stale: the next GET still gets the old page and starts one render.
    mode=${REGEN_REVALIDATE_MODE:-hard}
    export OURS_REVALIDATE='curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $REGEN_SECRET" -H "Content-Type: application/json" -d "{\"paths\":[\"{path}\"],\"mode\":\"'"$mode"'\"}" http://127.0.0.1:{port}/_regen/revalidate'
  fi
fi

# ------------------------------------------------------------------ 3. the harness
export OURS_NAME=${OURS_NAME:-regen}
export OURS_VERSION=$VERSION
# runs with `bash -c` in bench/peers, pinned by the harness; $PORT and $ORIGIN_URL come from it
export OURS_CMD="exec java $REGEN_JVM_OPTS -jar '$JAR' serve --port \$PORT --origin \$ORIGIN_URL --config '$CONFIG' --store memory"
export PEERS=${PEERS:-"nginx ours"}
export RUN_DIR=${RUN_DIR:-/tmp/isr-bench}
export RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
mkdir -p "$RUN_DIR" "$RESULTS_DIR"
log "PEERS=\"$PEERS\" RESULTS_DIR=$RESULTS_DIR RUN_DIR=$RUN_DIR"
log "OURS_CMD=$OURS_CMD"
exec "$PEERS_DIR/run-peers.sh"
