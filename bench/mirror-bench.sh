#!/usr/bin/env bash
# Benchmark of incremental mirrors and repository listing (issue #26):
#   1. A 3-repository mirror (2 tags each, two incompressible 16 MiB layers per image, ~96 MiB unique) copied with
#      `ferry copy -f list --all-tags --to TARGET` into an empty registry, then re-run with nothing new: wall time of
#      the re-run ÷ the first run, and the blob requests the re-run makes at either registry (their access logs).
#      `skopeo sync --src docker --dest docker` (per repository, every tag) is measured the same way beside it.
#   2. A repository with 1,000 tags: `ferry ls` (the tag listing, every page), `ferry ls --digests` (one HEAD per tag)
#      and `skopeo list-tags`, medians of ROUNDS, with the requests each makes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-3}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null

work="$(mktemp -d /tmp/ferry-mirror.XXXXXX)"
cleanup() { kill "${SOURCE_PID:-}" "${TARGET_PID:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export REGISTRY_ACCESSLOG_DISABLED=false
start_registry "$work/source"; SOURCE="$REGISTRY"; SOURCE_PID="$REGISTRY_PID"; SOURCE_LOG="$work/source/registry/log"
start_registry "$work/target"; TARGET="$REGISTRY"; TARGET_PID="$REGISTRY_PID"; TARGET_LOG="$work/target/registry/log"

REGISTRY="$SOURCE"
: > "$work/list.txt"
for repo in mirror/alpha mirror/beta mirror/gamma; do
  for tag in 1.0 1.1; do CONTENT=random make_image "$repo" "$tag" "$work" 16 16; done
  echo "$SOURCE/$repo" >> "$work/list.txt"
done

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1 </dev/null; end=$(date +%s.%N); python3 -c "print(f'{$end - $start:.3f}')"; }
requests() { wc -l < "$1"; }
blob_requests_since() { tail -n +"$(( $2 + 1 ))" "$1" | grep -c '/blobs/' || true; }
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

ferry_mirror() { "$FERRY" copy -f "$work/list.txt" --all-tags --to "$TARGET/ferry" -q; }
skopeo_mirror() {
  for repo in mirror/alpha mirror/beta mirror/gamma; do
    skopeo sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false "$SOURCE/$repo" "$TARGET/skopeo" </dev/null >/dev/null
  done
}

echo "| tool | first run s | re-run s (median of $ROUNDS) | re-run ÷ first | blob requests per re-run (source + target) | requests per re-run |"
echo "|---|---|---|---|---|---|"
for tool in ferry skopeo; do
  first=$(seconds "${tool}_mirror")
  times=(); blobs=0; all=0
  for _ in $(seq "$ROUNDS"); do
    s0=$(requests "$SOURCE_LOG"); t0=$(requests "$TARGET_LOG")
    times+=("$(seconds "${tool}_mirror")")
    blobs=$(( $(blob_requests_since "$SOURCE_LOG" "$s0") + $(blob_requests_since "$TARGET_LOG" "$t0") ))
    all=$(( $(requests "$SOURCE_LOG") - s0 + $(requests "$TARGET_LOG") - t0 ))
  done
  rerun=$(median "${times[@]}")
  echo "| $tool | $first | $rerun | $(python3 -c "print(f'{$rerun / $first:.3f}')") | $blobs | $all |"
done

# 2. 1,000 tags of one image.
REGISTRY="$SOURCE"
make_image listing/many t0000 "$work" 1 >/dev/null
python3 - "$SOURCE" "$work/listing_many-t0000.manifest.json" <<'PY'
import http.client, sys
host, port = sys.argv[1].split(":")
body = open(sys.argv[2], "rb").read()
conn = http.client.HTTPConnection(host, int(port))
for i in range(1, 1000):
    conn.request("PUT", f"/v2/listing/many/manifests/t{i:04d}", body, {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
    r = conn.getresponse(); r.read()
    assert r.status == 201, r.status
PY
count=$("$FERRY" ls "$SOURCE/listing/many" | wc -l)
echo
echo "| listing of a repository with $count tags | wall s (median of $ROUNDS) | requests |"
echo "|---|---|---|"
for what in "ferry ls" "ferry ls --digests" "skopeo list-tags"; do
  times=()
  for _ in $(seq "$ROUNDS"); do
    s0=$(requests "$SOURCE_LOG")
    case "$what" in
      "ferry ls") times+=("$(seconds "$FERRY" ls "$SOURCE/listing/many")") ;;
      "ferry ls --digests") times+=("$(seconds "$FERRY" ls --digests "$SOURCE/listing/many")") ;;
      "skopeo list-tags") times+=("$(seconds skopeo list-tags --tls-verify=false "docker://$SOURCE/listing/many")") ;;
    esac
    n=$(( $(requests "$SOURCE_LOG") - s0 ))
  done
  echo "| $what | $(median "${times[@]}") | $n |"
done
