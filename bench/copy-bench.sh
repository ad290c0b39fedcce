#!/usr/bin/env bash
# Benchmark of `ferry copy` (issue: one transfer engine): the bulk corpus of bulk-bench.sh (6 images × 2 platforms,
# a base layer per platform shared by all, ~400 MB unique) copied from one loopback registry into an EMPTY one (a
# fresh registry per run) by:
#   ferry copy -f images.txt -a amd64,arm64 -j 6 --to TARGET
#   skopeo sync --all --src docker --dest docker, once per image (docker → docker)
#   skopeo copy --all docker://… docker://…, once per image
#   curl: every distinct blob PUT into the target, 8 at a time (the floor: what the target registry can ingest)
# Every tool moves both platforms and keeps the index. Alternating runs; medians of ROUNDS (default 3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-3}"
IMAGES="${IMAGES:-6}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
# FERRY_BEFORE=path/to/an/older/ferry adds its runs to the same rounds (before/after a change, in one run);
# ONLY_FERRY=1 leaves the peers out.
[[ -n "${FERRY_BEFORE:-}" ]] && "$FERRY_BEFORE" --help >/dev/null

work="$(mktemp -d /tmp/ferry-copy.XXXXXX)"
cleanup() {
  kill "${SOURCE_PID:-}" "${TARGET_PID:-}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work"
SOURCE="$REGISTRY"; SOURCE_PID="$REGISTRY_PID"
make_bulk_images "$IMAGES" "$work"
RESULTS="$work/results.txt"; : > "$RESULTS"

fresh_registry() { # a new empty registry for each run; sets TARGET
  [[ -n "${TARGET_PID:-}" ]] && kill "$TARGET_PID" 2>/dev/null || true
  rm -rf "$work/target"; start_registry "$work/target"; TARGET="$REGISTRY"; TARGET_PID="$REGISTRY_PID"; export TARGET
}
skopeo_sync_each() {
  set -e
  mapfile -t refs < "$work/images.txt"
  for ref in "${refs[@]}"; do
    skopeo sync --all --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false "$ref" "$TARGET/mirror" </dev/null >/dev/null
  done
}
skopeo_copy_each() {
  set -e
  mapfile -t refs < "$work/images.txt"
  for ref in "${refs[@]}"; do
    skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false "docker://$ref" "docker://$TARGET/${ref#*/}" </dev/null >/dev/null
  done
}
upload_floor() { # every distinct blob of the source registry PUT into the target by curl, 8 at a time: what the target registry can ingest
  set -e
  find "$work/registry/data/docker/registry/v2/blobs/sha256" -name data | xargs -P 8 -I{} bash -c '
    f={}; d="sha256:$(basename "$(dirname "$f")")"
    loc=$(curl -fsS -X POST -D - -o /dev/null "http://$TARGET/v2/floor/blobs/uploads/" | tr -d "\r" | awk "tolower(\$1)==\"location:\" {print \$2}")
    [[ "$loc" == http* ]] || loc="http://$TARGET$loc"
    curl -fsS -X PUT -H "Content-Type: application/octet-stream" --data-binary "@$f" "$loc&digest=$d" -o /dev/null'
}
export -f skopeo_sync_each skopeo_copy_each upload_floor; export work

for round in $(seq "$ROUNDS"); do
  fresh_registry
  measure ferry "" "$FERRY" copy -q -f "$work/images.txt" -a amd64,arm64 -j 6 --to "$TARGET"
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    fresh_registry
    measure ferry-before "" "$FERRY_BEFORE" copy -q -f "$work/images.txt" -a amd64,arm64 -j 6 --to "$TARGET"
  fi
  if [[ -n "${ONLY_FERRY:-}" ]]; then echo "round $round done" >&2; continue; fi
  fresh_registry
  measure skopeo-sync "" bash -c skopeo_sync_each
  fresh_registry
  measure skopeo-copy-per-image "" bash -c skopeo_copy_each
  fresh_registry
  measure curl-upload-floor "" bash -c upload_floor
  echo "round $round done" >&2
done
unique=$(cat "$work"/registry/data/docker/registry/v2/blobs/sha256/*/*/data | wc -c)
python3 "$here/report.py" "$RESULTS" "copy of $IMAGES images × 2 platforms ($((unique / 1024 / 1024)) MB unique blobs) registry → empty registry, median of $ROUNDS runs"
