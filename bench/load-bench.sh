#!/usr/bin/env bash
# Benchmark of `ferry load` (issue: load/inspect/verify): the bulk bundle of bulk-bench.sh (6 images × 2
# platforms sharing a base layer per platform, ~400 MB unique) saved once by Ferry, then loaded into an
# EMPTY registry (a fresh one per run) by:
#   ferry load bundle.tar --to REG -j 6
#   skopeo copy docker-archive:bundle.tar:<name> docker://REG/... once per image
#   docker load -i bundle.tar + docker push of each image (dockerd 20.10, vfs)
# skopeo 1.9 cannot pick an image by name out of an OCI index whose entries are Docker-typed manifests
# (it skips non-OCI media types), so it reads the bundle's docker-archive view, which holds the host
# platform only; docker load also takes the host platform only. Both therefore move HALF of what Ferry
# moves (Ferry pushes both platforms and the indexes) — the comparison is biased in their favour.
# Alternating runs; medians of ROUNDS (default 3). SKIP_PEERS=1 leaves skopeo and docker out (a before/after run of
# Ferry alone, with FERRY_BEFORE); CHUNK=16MiB adds a run with --upload-chunk-size.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-3}"
IMAGES="${IMAGES:-6}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
# FERRY_BEFORE=path/to/an/older/ferry adds its runs to the same rounds (before/after a change, in one run).
[[ -n "${FERRY_BEFORE:-}" ]] && "$FERRY_BEFORE" --help >/dev/null

work="$(mktemp -d /tmp/ferry-load.XXXXXX)"
droot="$(mktemp -d /tmp/fdb.XXXX)"   # short: unix socket paths are limited to 108 bytes
cleanup() {
  kill "$REGISTRY_PID" "${SOURCE_PID:-}" "${TARGET_PID:-}" 2>/dev/null || true
  [[ -n "${DOCKERD_PID:-}" ]] && kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null || true
  rm -rf "$work" "$droot"
}
trap cleanup EXIT
start_registry "$work"
SOURCE="$REGISTRY"; SOURCE_PID="$REGISTRY_PID"
make_bulk_images "$IMAGES" "$work"
"$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/bundle.tar"
echo "bundle: $(du -b "$work/bundle.tar" | cut -f1) bytes" >&2

dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none --data-root "$droot/data" --exec-root "$droot/exec" \
  --pidfile "$droot/docker.pid" -H "unix://$droot/docker.sock" >"$work/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$droot/docker.sock"
for _ in $(seq 120); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.25; done

RESULTS="$work/results.txt"; : > "$RESULTS"
fresh_registry() { # a new empty registry for each run; sets REGISTRY
  [[ -n "${TARGET_PID:-}" ]] && kill "$TARGET_PID" 2>/dev/null || true
  rm -rf "$work/target"; start_registry "$work/target"; TARGET_PID="$REGISTRY_PID"
}
skopeo_each() {
  set -e
  mapfile -t refs < "$work/images.txt"
  for ref in "${refs[@]}"; do
    skopeo copy -q --dest-tls-verify=false "docker-archive:$work/bundle.tar:$ref" "docker://$TARGET/${ref#*/}" </dev/null >/dev/null
  done
}
docker_load_push() {
  set -e
  mapfile -t refs < "$work/images.txt"
  /usr/bin/docker load -q -i "$work/bundle.tar" >/dev/null
  for ref in "${refs[@]}"; do
    /usr/bin/docker tag "$ref" "$TARGET/${ref#*/}"
    /usr/bin/docker push -q "$TARGET/${ref#*/}" >/dev/null
  done
  /usr/bin/docker rmi -f $(/usr/bin/docker images -q) >/dev/null 2>&1 || true
}
export -f skopeo_each docker_load_push; export work

for round in $(seq "$ROUNDS"); do
  fresh_registry; TARGET="$REGISTRY"; export TARGET
  before=$(awk '/^rchar/ {print $2}' "/proc/$TARGET_PID/io")
  measure ferry "" "$FERRY" load -q "$work/bundle.tar" --to "$TARGET" -j 6
  # What the registry read from its sockets (and files) during the load: uploads plus request overhead.
  echo "$(( $(awk '/^rchar/ {print $2}' "/proc/$TARGET_PID/io") - before ))" >> "$work/received.txt"
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    fresh_registry; TARGET="$REGISTRY"; export TARGET
    measure ferry-before "" "$FERRY_BEFORE" load -q "$work/bundle.tar" --to "$TARGET" -j 6
  fi
  if [[ -n "${CHUNK:-}" ]]; then
    # Chunked uploads (--upload-chunk-size), for registries or proxies that cap request bodies.
    fresh_registry; TARGET="$REGISTRY"; export TARGET
    measure "ferry-chunked-$CHUNK" "" "$FERRY" load -q "$work/bundle.tar" --to "$TARGET" -j 6 --upload-chunk-size "$CHUNK"
  fi
  if [[ -z "${SKIP_PEERS:-}" ]]; then
    fresh_registry; TARGET="$REGISTRY"; export TARGET
    measure skopeo-copy-per-image "" bash -c skopeo_each
    fresh_registry; TARGET="$REGISTRY"; export TARGET
    measure docker-load+push "" bash -c docker_load_push
  fi
  echo "round $round done" >&2
done
kill "$TARGET_PID" 2>/dev/null || true
unique=$("$FERRY" inspect --json "$work/bundle.tar" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["uniqueBytes"])')
echo "registry bytes read during ferry load (median): $(sort -n "$work/received.txt" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'); unique bytes in the bundle (manifests included): $unique"
python3 "$here/report.py" "$RESULTS" "load of a $IMAGES-image × 2-platform bundle ($(du -b "$work/bundle.tar" | cut -f1) bytes) into an empty registry, median of $ROUNDS runs"
