#!/usr/bin/env bash
# Benchmark of bulk bundles (issue: bulk air-gap bundles): 6 two-platform images (linux/amd64 +
# linux/arm64) sharing a base layer per platform, ~400 MB of unique compressed blobs, in a loopback
# registry. Ferry (-j 6, -a amd64,arm64) uncompressed and gzip, against `skopeo sync` into a directory +
# `tar` (and `tar -z`), and `podman pull` + `podman save -m`. Alternating runs; medians of ROUNDS.
# ONLY_FERRY=1: Ferry's runs only (with FERRY_BEFORE: a before/after of a change without the slow peers).
# LAYERS=61 IMAGES=2 CONTENT=random: 61-layer images (a 10 MB base + 60 layers of 1 MB), where per-request cost shows.
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

work="$(mktemp -d /tmp/ferry-bulk.XXXXXX)"
trap 'kill "$REGISTRY_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
start_registry "$work"
make_bulk_images "$IMAGES" "$work"
RESULTS="$work/results.txt"; : > "$RESULTS"

skopeo_sync() { # $1 out dir, $2 tar flags
  set -e
  local out="$1" flags="$2"; mkdir -p "$out/sync"
  mapfile -t refs < "$work/images.txt"
  for ref in "${refs[@]}"; do
    skopeo sync --all --src docker --dest dir --scoped --src-tls-verify=false "$ref" "$out/sync" </dev/null >/dev/null
  done
  tar "$flags" "$out/bundle" -C "$out/sync" . && rm -rf "$out/sync"
}
podman_save() {
  set -e
  local out="$1" store=(--root "$out/root" --runroot "$out/runroot" --storage-driver vfs --events-backend none)
  mapfile -t refs < "$work/images.txt"
  for ref in "${refs[@]}"; do podman "${store[@]}" pull -q --tls-verify=false "$ref" >/dev/null; done
  podman "${store[@]}" save -m -o "$out/bundle.tar" "${refs[@]}"
  podman "${store[@]}" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$out/root" "$out/runroot"
}
export -f skopeo_sync podman_save; export work

for round in $(seq "$ROUNDS"); do
  rm -rf "$work/out"; mkdir -p "$work/out"/{ferry,ferrygz,sync,syncgz,podman}
  measure ferry "$work/out/ferry/b.tar" "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/out/ferry/b.tar"
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    rm -rf "$work/out/before"; mkdir -p "$work/out/before"
    measure ferry-before "$work/out/before/b.tar" "$FERRY_BEFORE" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/out/before/b.tar"
  fi
  if [[ -n "${ONLY_FERRY:-}" ]]; then echo "round $round done" >&2; continue; fi
  measure ferry-gzip "$work/out/ferrygz/b.tar.gz" "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 --compress gzip -o "$work/out/ferrygz/b.tar.gz"
  measure skopeo-sync+tar "$work/out/sync/bundle" bash -c "skopeo_sync $work/out/sync -cf"
  measure skopeo-sync+tar-z "$work/out/syncgz/bundle" bash -c "skopeo_sync $work/out/syncgz -czf"
  measure podman-pull+save-m "$work/out/podman/bundle.tar" bash -c "podman_save $work/out/podman"
  echo "round $round done" >&2
done
unique=$(cat "$work"/registry/data/docker/registry/v2/blobs/sha256/*/*/data | wc -c)
python3 "$here/report.py" "$RESULTS" "bulk bundle: $IMAGES images × 2 platforms${LAYERS:+ of $LAYERS layers}, $((unique / 1024 / 1024)) MB unique blobs in the registry, median of $ROUNDS runs"
echo
echo "unique blob bytes in the registry: $unique"
