#!/usr/bin/env bash
# Benchmark of `ferry save --daemon` (issue: daemon source) against `docker save` of the same images from the
# same dockerd (20.10, vfs, on a unix socket under a temp dir): 3 images imported from generated root
# filesystems (~100 MB each, half random, half text-like), uncompressed output. Alternating runs; medians
# of ROUNDS (default 5). OUT=/dev/shm writes the outputs to a tmpfs: without the disk's cache flush, which Ferry's
# fsync before the rename pays and docker save (20.10) does not, the two compare on the export and its handling alone.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-5}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
# FERRY_BEFORE=path/to/an/older/ferry adds its runs to the same rounds (before/after a change, in one run).
[[ -n "${FERRY_BEFORE:-}" ]] && "$FERRY_BEFORE" --help >/dev/null

work="$(mktemp -d /tmp/ferry-dbench.XXXXXX)"
droot="$(mktemp -d /tmp/fdd.XXXX)"
cleanup() {
  [[ -n "${DOCKERD_PID:-}" ]] && kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null || true
  rm -rf "$work" "$droot"
}
trap cleanup EXIT
dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none --data-root "$droot/data" --exec-root "$droot/exec" \
  --pidfile "$droot/docker.pid" -H "unix://$droot/docker.sock" >"$work/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$droot/docker.sock"
for _ in $(seq 120); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.25; done

images=()
for i in 1 2 3; do
  mkdir -p "$work/rootfs$i/data"
  head -c $((50 * 1024 * 1024)) /dev/urandom > "$work/rootfs$i/data/random.bin"
  python3 - "$work/rootfs$i/data/text.txt" <<'PY'
import random, sys
random.seed(sys.argv[1])
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(2, 10))) for _ in range(5000)]
with open(sys.argv[1], 'w') as f:
    while f.tell() < 50 * 1024 * 1024:
        f.write(' '.join(random.choice(words) for _ in range(200)) + '\n')
PY
  tar -C "$work/rootfs$i" -cf "$work/rootfs$i.tar" .
  /usr/bin/docker import "$work/rootfs$i.tar" "bench/daemon$i:1" >/dev/null
  rm -rf "$work/rootfs$i" "$work/rootfs$i.tar"
  images+=("bench/daemon$i:1")
done
RESULTS="$work/results.txt"; : > "$RESULTS"
out_root="${OUT:-$work}"
for round in $(seq "$ROUNDS"); do
  rm -rf "$out_root/out"; mkdir -p "$out_root/out"
  measure ferry "$out_root/out/ferry.tar" "$FERRY" save -q --daemon -o "$out_root/out/ferry.tar" "${images[@]}"
  [[ -n "${FERRY_BEFORE:-}" ]] && measure ferry-before "$out_root/out/before.tar" "$FERRY_BEFORE" save -q --daemon -o "$out_root/out/before.tar" "${images[@]}"
  measure docker-save "$out_root/out/docker.tar" /usr/bin/docker save -o "$out_root/out/docker.tar" "${images[@]}"
  echo "round $round done" >&2
done
rm -rf "$out_root/out"
python3 "$here/report.py" "$RESULTS" "save of 3 images (~100 MB each) from a local dockerd, uncompressed, to ${OUT:-disk}, median of $ROUNDS runs"
