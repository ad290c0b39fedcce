#!/usr/bin/env bash
# Benchmark of `ferry save` (issue: save foundation): a ~150 MB, 3-layer image in a loopback registry,
# saved by Ferry, by `skopeo copy` to docker-archive: and oci-archive:, and fetched by parallel curl into
# plain files (the floor). Alternating runs; medians of ROUNDS (default 5). Writes a markdown table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-5}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
# FERRY_BEFORE=path/to/an/older/ferry adds its runs to the same rounds (before/after a change, in one run).
[[ -n "${FERRY_BEFORE:-}" ]] && "$FERRY_BEFORE" --help >/dev/null   # build once, outside the timings

work="$(mktemp -d /tmp/ferry-bench.XXXXXX)"
trap 'kill "$REGISTRY_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
start_registry "$work"
BASE_LAYERS=()
make_image bench/big 1 "$work" 50 50 50
REF="$REGISTRY/bench/big:1"
RESULTS="$work/results.txt"; : > "$RESULTS"

floor() { # every blob of the image in parallel with curl into plain files
  local out="$1"; mkdir -p "$out"
  local man; man=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/bench/big/manifests/1")
  for d in $(grep -o 'sha256:[0-9a-f]\{64\}' <<<"$man"); do
    curl -fsS -o "$out/${d#sha256:}" "http://$REGISTRY/v2/bench/big/blobs/$d" &
  done
  wait
}
export -f floor; export REGISTRY

for round in $(seq "$ROUNDS"); do
  rm -rf "$work/out"; mkdir -p "$work/out"
  measure ferry "$work/out/ferry.tar" "$FERRY" save -q -o "$work/out/ferry.tar" "$REF"
  [[ -n "${FERRY_BEFORE:-}" ]] && rm -f "$work/out/before.tar" && measure ferry-before "$work/out/before.tar" "$FERRY_BEFORE" save -q -o "$work/out/before.tar" "$REF"
  measure skopeo-oci-archive "$work/out/skopeo-oci.tar" skopeo copy -q --src-tls-verify=false "docker://$REF" "oci-archive:$work/out/skopeo-oci.tar"
  measure skopeo-docker-archive "$work/out/skopeo-docker.tar" skopeo copy -q --src-tls-verify=false "docker://$REF" "docker-archive:$work/out/skopeo-docker.tar:bench/big:1"
  measure curl-floor "$work/out/floor" bash -c "floor $work/out/floor"
  echo "round $round done" >&2
done

python3 "$here/report.py" "$RESULTS" "save of a 150 MB, 3-layer image (loopback registry), median of $ROUNDS runs"
