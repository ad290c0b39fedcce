#!/usr/bin/env bash
# Benchmark of `ferry serve` (issue #18) against docker-registry holding the same images, in one run:
#   pulls     the bulk corpus (6 two-platform images, ~400 MB) pulled from each with `skopeo copy --all` (into a dir)
#             and with `docker pull` (dockerd 20.10, vfs, its own data root), alternating, ROUNDS rounds
#   fan-out   50 concurrent `skopeo copy` of one image (linux/amd64, 75 MB) from each
#   memory    ferry serve's peak RSS (VmHWM) serving the corpus, and serving 1 GB and 10 GB layouts (sparse blobs,
#             fetched whole with curl, so every byte is read and hashed)
# FERRY is the binary that serves (default: the native one, artifacts/bin/ferry, built by ./build.sh publish).
# FERRY_BEFORE=path/to/an/older/ferry adds its server to the same rounds (before/after a change, in one run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-3}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../artifacts/bin/ferry}"
[[ -x "$FERRY" ]] || { echo "build the native binary first: ./build.sh publish (or set FERRY)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work="$(mktemp -d /tmp/ferry-serve.XXXXXX)"
cleanup() {
  kill "${SERVE_PID:-}" "$REGISTRY_PID" 2>/dev/null || true
  [[ -n "${DOCKERD_PID:-}" ]] && { kill "$DOCKERD_PID" 2>/dev/null || true; wait "$DOCKERD_PID" 2>/dev/null || true; }
  umount "$work/docker/data/vfs" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work"
make_bulk_images 6 "$work"
"$FERRY" save -q --all-platforms -f "$work/images.txt" -o "$work/bundle.tar"

serve() { # ARCHIVE… : starts ferry serve on a free port; sets SERVE, SERVE_PID (SERVE_BINARY: another ferry)
  local port; port=$(free_port)
  "${SERVE_BINARY:-$FERRY}" serve --log-format none --listen "127.0.0.1:$port" "$@" 2>"$work/serve.log" &
  SERVE_PID=$!; SERVE="127.0.0.1:$port"
  for _ in $(seq 100); do grep -q "serving" "$work/serve.log" 2>/dev/null && return 0; sleep 0.1; done
  cat "$work/serve.log" >&2; return 1
}
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVE_PID/status"; }
stop_serve() { kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; }

mkdir -p "$work/docker"
dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none --data-root "$work/docker/data" --exec-root "$work/docker/exec" \
  --pidfile "$work/docker/docker.pid" -H "unix://$work/docker/docker.sock" >"$work/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$work/docker/docker.sock"
for _ in $(seq 120); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.25; done

sources=(registry serve)
if [[ -n "${FERRY_BEFORE:-}" ]]; then
  SERVE_BINARY="$FERRY_BEFORE" serve "$work/bundle.tar"; SERVE_BEFORE="$SERVE"; BEFORE_PID="$SERVE_PID"
  sources+=(serve-before)
fi
serve "$work/bundle.tar"
RESULTS="$work/results.txt"; : > "$RESULTS"
mapfile -t paths < <(sed "s|^$REGISTRY/||" "$work/images.txt")
skopeo_all() { # HOST OUT
  set -e
  for p in "${paths[@]}"; do skopeo copy -q --all --src-tls-verify=false "docker://$1/$p" "dir:$2/${p//[\/:]/_}" >/dev/null; done
}
docker_all() { # HOST
  set -e
  for p in "${paths[@]}"; do /usr/bin/docker pull -q "$1/$p" >/dev/null; done
  /usr/bin/docker rmi -f $(/usr/bin/docker images -q) >/dev/null 2>&1 || true
}
fan_out() { # HOST OUT
  set -e
  for i in $(seq 50); do skopeo copy -q --override-arch amd64 --src-tls-verify=false "docker://$1/${paths[0]}" "dir:$2/$i" >/dev/null & done
  wait
}
export -f skopeo_all docker_all fan_out; export work
export PATHS_LIST="${paths[*]}"
for round in $(seq "$ROUNDS"); do
  for source in "${sources[@]}"; do
    host="$REGISTRY"; [[ "$source" == serve ]] && host="$SERVE"; [[ "$source" == serve-before ]] && host="$SERVE_BEFORE"
    rm -rf "$work/out"; mkdir -p "$work/out"
    measure "skopeo-copy-all/$source" "$work/out" bash -c "paths=($PATHS_LIST); $(declare -f skopeo_all); skopeo_all $host $work/out"
    rm -rf "$work/out"; mkdir -p "$work/out"
    measure "docker-pull/$source" "$work/out/none" bash -c "paths=($PATHS_LIST); $(declare -f docker_all); docker_all $host"
    rm -rf "$work/out"; mkdir -p "$work/out"
    measure "50-concurrent/$source" "$work/out" bash -c "paths=($PATHS_LIST); $(declare -f fan_out); fan_out $host $work/out"
  done
  echo "round $round done" >&2
done
rm -rf "$work/out"
corpus_rss=$(peak_rss_mb)
stop_serve
[[ -n "${BEFORE_PID:-}" ]] && { kill -TERM "$BEFORE_PID"; wait "$BEFORE_PID" 2>/dev/null || true; }
python3 "$here/report.py" "$RESULTS" "ferry serve vs docker-registry: the bulk corpus (6 images × 2 platforms, ~400 MB), median of $ROUNDS rounds"
python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
walls = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, wall, *_ = line.split()
    walls[name].append(float(wall))
print()
for test in ["skopeo-copy-all", "docker-pull", "50-concurrent"]:
    registry, served = statistics.median(walls[f"{test}/registry"]), statistics.median(walls[f"{test}/serve"])
    print(f"{test}: ferry serve throughput = {registry / served:.2f} x docker-registry's ({served:.2f} s vs {registry:.2f} s)")
    if walls.get(f"{test}/serve-before"):
        before = statistics.median(walls[f"{test}/serve-before"])
        print(f"{test}: after / before = {served / before:.3f} in time ({served:.2f} s vs {before:.2f} s)")
PY

# Memory with bundle size: layouts whose blobs are sparse files (nothing to generate), every blob fetched whole.
big_layout() { # DIR GB
  local dir="$1" gb="$2" i layers="" hex size
  mkdir -p "$dir/blobs/sha256"
  for i in $(seq "$gb"); do
    size=$(( (1 << 30) + i ))
    truncate -s "$size" "$dir/blob"
    hex=$(sha256sum "$dir/blob" | cut -d' ' -f1); mv "$dir/blob" "$dir/blobs/sha256/$hex"
    layers+="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$hex\",\"size\":$size},"
  done
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' > "$dir/config"
  local chex; chex=$(sha256sum "$dir/config" | cut -d' ' -f1); mv "$dir/config" "$dir/blobs/sha256/$chex"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[%s]}' \
    "$chex" "$(stat -c %s "$dir/blobs/sha256/$chex")" "${layers%,}" > "$dir/manifest"
  local mhex; mhex=$(sha256sum "$dir/manifest" | cut -d' ' -f1); local msize; msize=$(stat -c %s "$dir/manifest"); mv "$dir/manifest" "$dir/blobs/sha256/$mhex"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"bench.local/big:%s"}}]}' "$mhex" "$msize" "$gb" > "$dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
}
echo
echo "| bundle | blobs served (whole, hashed) | peak RSS of ferry serve |"
echo "|---|---:|---:|"
echo "| bulk corpus tar (~400 MB), after the pulls above | – | $corpus_rss MB |"
for gb in 1 10; do
  big_layout "$work/big$gb" "$gb"
  serve "$work/big$gb"
  for f in "$work/big$gb"/blobs/sha256/*; do
    curl -fsS -o /dev/null "http://$SERVE/v2/big/blobs/sha256:$(basename "$f")"
  done
  echo "| $gb GiB layout | $(ls "$work/big$gb/blobs/sha256" | wc -l) | $(peak_rss_mb) MB |"
  stop_serve
  rm -rf "$work/big$gb"
done
