#!/usr/bin/env bash
# Loads Regen's image tarball into a container runtime and runs it for real: the demo origin in one
# container, Regen in another on the embedded store (a named volume), then two Regen containers
# sharing a Redis (started on the host) — what deploy/compose.yaml does, on host networking and
# loopback addresses only. Checks caching, the user, the store surviving a restart, and SIGTERM.
#
#   release/check-image.sh target/release/regen-0.2.0-image.tar
#   RUNTIME=docker release/check-image.sh IMAGE_TAR
#
# RUNTIME: podman (default when installed) or docker. RUNTIME_FLAGS go before the command (podman
# --runtime runc …), RUN_FLAGS after `run` (--ulimit …): for sandboxes whose limits the runtime's
# defaults exceed (docs/production.md says which were needed where). Ports: PORT_BASE (default
# 18480) .. +3, on 127.0.0.1. Stops and removes only the containers and volume it made.
set -euo pipefail
tarball=${1:?usage: check-image.sh IMAGE_TAR}
RUNTIME=${RUNTIME:-$(command -v podman >/dev/null && echo podman || echo docker)}
read -r -a global <<< "${RUNTIME_FLAGS:-}"
read -r -a runflags <<< "${RUN_FLAGS:-}"
base=${PORT_BASE:-18480}
origin_port=$base regen_port=$((base + 1)) redis_port=$((base + 2)) regen2_port=$((base + 3))
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
tag=check-$$
rt() { "$RUNTIME" "${global[@]}" "$@"; }
log() { echo "[check-image $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "check-image: FAILED: $*" >&2; exit 1; }

containers=() redis_pid=
cleanup() {
  for c in "${containers[@]}"; do rt rm -f -v -t 5 "$c" >/dev/null 2>&1 || true; done
  rt volume rm -f "regen-$tag" >/dev/null 2>&1 || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT

for p in $origin_port $regen_port $redis_port $regen2_port; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then fail "port $p is in use (set PORT_BASE)"; fi
done

image=$(rt load -i "$tarball" 2>&1 | sed -n 's/^Loaded image[^:]*: *//p' | tail -1)
[ -n "$image" ] || fail "$RUNTIME load -i $tarball printed no image name"
log "loaded $image ($RUNTIME); size $(rt image inspect --format '{{.Size}}' "$image") bytes"
[ "$(rt image inspect --format '{{.Config.User}}' "$image")" = "65532:65532" ] || fail "the image does not run as 65532"

run() { # NAME ARGS… : a detached container on host networking
  local name=$1; shift
  rt run -d --name "$name" --network host "${runflags[@]}" "$@" >/dev/null
  containers+=("$name")
}
wait_http() { # URL CONTAINER
  for _ in $(seq 200); do
    curl -fsS -o /dev/null -m 2 "$1" 2>/dev/null && return 0
    [ "$(rt inspect --format '{{.State.Running}}' "$2" 2>/dev/null)" = true ] || { rt logs "$2" >&2; fail "$2 exited"; }
    sleep 0.1
  done
  rt logs "$2" >&2; fail "$1 did not answer within 20 s"
}
status() { curl -fsS -o /dev/null -D - -m 10 "$1" | tr -d '\r' | sed -n 's/^[Xx]-[Cc]ache-[Ss]tatus: *//p'; }

version=$(rt run --rm "${runflags[@]}" "$image" --version | sed -n 1p)
log "$version"

run "origin-$tag" "$image" demo-origin --host 127.0.0.1 --port "$origin_port" --render-delay 50
wait_http "http://127.0.0.1:$origin_port/" "origin-$tag"

regen_env=(-e "REGEN_ORIGIN=http://127.0.0.1:$origin_port" -e "REGEN_SECRET=$secret")
run "regen-$tag" -v "regen-$tag:/data" -e "REGEN_LISTEN=127.0.0.1:$regen_port" "${regen_env[@]}" "$image"
wait_http "http://127.0.0.1:$regen_port/_regen/health" "regen-$tag"
url=http://127.0.0.1:$regen_port
[ "$(status "$url/posts/1")" = MISS ] || fail "first GET /posts/1 was not a MISS"
[ "$(status "$url/posts/1")" = HIT ] || fail "second GET /posts/1 was not a HIT"
log "embedded store: MISS then HIT"

rt stop -t 15 "regen-$tag" >/dev/null
code=$(rt wait "regen-$tag" 2>/dev/null | tail -1 || true)
[ "$code" = 0 ] || { rt logs "regen-$tag" >&2; fail "SIGTERM: exit code $code, not 0"; }
rt logs "regen-$tag" 2>&1 | grep -q 'SIGTERM received' || fail "no 'SIGTERM received' line in the log"
log "stop (SIGTERM): exit 0"
rt start "regen-$tag" >/dev/null
wait_http "$url/_regen/health" "regen-$tag"
[ "$(status "$url/posts/1")" = HIT ] || fail "after a restart /posts/1 was not a HIT: the volume lost the store"
log "restart: /posts/1 still a HIT (the store is on the volume, written as 65532)"

if command -v redis-server >/dev/null; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > /dev/null 2>&1 &
  redis_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$redis_port) 2>/dev/null && break; sleep 0.1; done
  for n in 1 2; do
    p=$([ $n = 1 ] && echo $regen_port || echo $regen2_port)
    [ $n = 1 ] && rt rm -f -v -t 5 "regen-$tag" >/dev/null
    run "regen$n-redis-$tag" -e "REGEN_LISTEN=127.0.0.1:$p" -e "REGEN_STORE=redis://127.0.0.1:$redis_port" "${regen_env[@]}" "$image"
    wait_http "http://127.0.0.1:$p/_regen/health" "regen$n-redis-$tag"
  done
  [ "$(status "http://127.0.0.1:$regen_port/posts/2")" = MISS ] || fail "node 1: /posts/2 was not a MISS"
  [ "$(status "http://127.0.0.1:$regen2_port/posts/2")" = HIT ] || fail "node 2 did not find node 1's render in Redis"
  log "redis: node 1 MISS, node 2 HIT (one render for the cluster)"
else
  log "redis-server not installed: the two-node check was skipped"
fi
echo "check-image: OK ($version, $RUNTIME)"
