#!/usr/bin/env bash
# Benchmark of registry → Docker Engine (issue: any source to any destination): `ferry copy docker://IMG
# docker-daemon:` against `docker pull IMG` of the same image from the same loopback registry into the same dockerd
# (20.10, vfs, unix socket under a temp dir). The image: a files-like base layer and two own layers (~150 MB
# compressed in all, this machine's own files, gzip -6). Before each run the image is removed from the Engine (and
# its layers pruned), so both start from nothing. Alternating runs; medians of ROUNDS (default 5).
# FERRY_BEFORE=path/to/an/older/ferry adds its runs to the same rounds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-5}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
[[ -n "${FERRY_BEFORE:-}" ]] && "$FERRY_BEFORE" --help >/dev/null

work="$(mktemp -d /tmp/ferry-pbench.XXXXXX)"
droot="$(mktemp -d /tmp/fdp.XXXX)"
cleanup() {
  [[ -n "${DOCKERD_PID:-}" ]] && kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null || true
  kill "${REGISTRY_PID:-}" 2>/dev/null || true
  rm -rf "$work" "$droot"
}
trap cleanup EXIT
start_registry "$work"
echo "building the image…" >&2
make_image bench/pull 1 "$work" 70 40 40
IMAGE="$REGISTRY/bench/pull:1"

mkdir -p "$droot/etc"
printf '{"insecure-registries":["%s"]}\n' "$REGISTRY" > "$droot/etc/daemon.json"
dockerd --config-file "$droot/etc/daemon.json" --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
  --data-root "$droot/data" --exec-root "$droot/exec" --pidfile "$droot/docker.pid" -H "unix://$droot/docker.sock" >"$work/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$droot/docker.sock"
for _ in $(seq 120); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.25; done

clean_engine() { /usr/bin/docker rmi -f "$IMAGE" >/dev/null 2>&1 || true; /usr/bin/docker image prune -af >/dev/null 2>&1 || true; }
RESULTS="$work/results.txt"; : > "$RESULTS"
for round in $(seq "$ROUNDS"); do
  clean_engine
  measure docker-pull "" /usr/bin/docker pull -q "$IMAGE"
  clean_engine
  measure ferry "" "$FERRY" copy -q -H "$DOCKER_HOST" "docker://$IMAGE" docker-daemon:
  /usr/bin/docker image inspect "$IMAGE" >/dev/null
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    clean_engine
    measure ferry-before "" "$FERRY_BEFORE" copy -q -H "$DOCKER_HOST" "docker://$IMAGE" docker-daemon:
  fi
  echo "round $round done" >&2
done
python3 "$here/report.py" "$RESULTS" "registry → Docker Engine of one image (3 layers, ~150 MB gzip) from a loopback registry, median of $ROUNDS runs"
