#!/usr/bin/env bash
# Benchmark of signatures, attestations and SBOMs (issue #17), in one run, on the bulk bundle (6 two-platform images,
# ~400 MB of unique blobs) in a local registry, each image signed in cosign's format (a signature on its index) and
# given a 200 KB SPDX SBOM as a referrer (behind the fallback tag: docker-registry 2.8 has no referrers API).
#   size       the bundle with its artifacts against the bundle saved --no-referrers: bytes and %
#   save       wall time of a save with referrers discovery against --no-referrers (medians of ROUNDS, alternating)
#   requests   the HTTP requests of each save (counted from --debug), and the extra ones per image
#   verify     ferry verify --key against ferry verify (hashing every blob either way): the signature check per image
# FERRY_BEFORE=other-ferry also times that build's save with referrers in the same rounds (a before/after of a change).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-5}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null
scripts="$here/../tests/Ferry.IntegrationTests/Scripts"

work="$(mktemp -d /tmp/ferry-signatures.XXXXXX)"
trap 'kill "$REGISTRY_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
start_registry "$work"
make_bulk_images 6 "$work"
/usr/bin/python3 "$scripts/cosign_keys.py" "$work/cosign" bench ec
head -c 150000 /dev/urandom | base64 -w0 > "$work/noise"
for image in $(cat "$work/images.txt"); do
  repo="${image#*/}"; repo="${repo%:*}"
  digest=$(curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.index.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' "http://$REGISTRY/v2/$repo/manifests/1" | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:" {print $2}')
  size=$(curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' "http://$REGISTRY/v2/$repo/manifests/1" | wc -c)
  /usr/bin/python3 "$scripts/cosign_sign.py" "$REGISTRY" "$repo" "$digest" "$image" "$work/cosign.plain.pem" >/dev/null
  # The SBOM: an OCI 1.1 artifact with the empty config, one SPDX layer, subject = the index; then the fallback tag.
  printf '{"spdxVersion":"SPDX-2.3","name":"%s","comment":"%s"}' "$repo" "$(cat "$work/noise")" > "$work/sbom.json"
  printf '{}' > "$work/empty.json"
  sbom=$(push_blob "$repo" "$work/sbom.json"); empty=$(push_blob "$repo" "$work/empty.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/spdx+json","digest":"%s","size":%s}],"subject":{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","digest":"%s","size":%s}}' \
    "$empty" "$sbom" "$(wc -c < "$work/sbom.json")" "$digest" "$size" > "$work/artifact.json"
  artifact="sha256:$(sha256sum "$work/artifact.json" | cut -d' ' -f1)"
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$work/artifact.json" "http://$REGISTRY/v2/$repo/manifests/$artifact" -o /dev/null
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"artifactType":"application/spdx+json"}]}' \
    "$artifact" "$(wc -c < "$work/artifact.json")" > "$work/fallback.json"
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary "@$work/fallback.json" "http://$REGISTRY/v2/$repo/manifests/sha256-${digest#sha256:}" -o /dev/null
done

timed() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }; end=$(date +%s.%N); awk "BEGIN { print $end - $start }"; }
: > "$work/with"; : > "$work/without"; : > "$work/before"; : > "$work/verify-key"; : > "$work/verify-plain"
for round in $(seq "$ROUNDS"); do
  rm -f "$work/with.tar" "$work/without.tar"
  if (( round % 2 )); then
    timed "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/with.tar" --no-resume >> "$work/with"
    timed "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/without.tar" --no-resume --no-referrers >> "$work/without"
  else
    timed "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/without.tar" --no-resume --no-referrers >> "$work/without"
    timed "$FERRY" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/with.tar" --no-resume >> "$work/with"
  fi
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    rm -f "$work/before.tar"
    timed "$FERRY_BEFORE" save -q -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/before.tar" --no-resume >> "$work/before"
  fi
  timed "$FERRY" verify "$work/with.tar" --key "$work/cosign.pub" >> "$work/verify-key"
  timed "$FERRY" verify "$work/with.tar" >> "$work/verify-plain"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
requests() { "$FERRY" save --debug -f "$work/images.txt" -a amd64,arm64 -j 6 -o "$work/count.tar" --no-resume "$@" 2>&1 >/dev/null | grep -cE '^ferry: debug: [0-9]{3} (GET|HEAD) http' || true; rm -f "$work/count.tar"; }
with_size=$(stat -c %s "$work/with.tar"); without_size=$(stat -c %s "$work/without.tar")
req_with=$(requests); req_without=$(requests --no-referrers)
images=$(wc -l < "$work/images.txt")
"$FERRY" inspect "$work/with.tar" | grep -A30 '^SIGNATURES' | head -4
echo
echo "signatures bench: $images images (2 platforms each), each signed + a 200 KB SBOM; medians of $ROUNDS rounds"
awk -v w="$with_size" -v o="$without_size" 'BEGIN { printf "size:     %d B with artifacts, %d B without: +%d B (+%.3f %%)\n", w, o, w - o, (w - o) * 100 / o }'
awk -v w="$(median "$work/with")" -v o="$(median "$work/without")" 'BEGIN { printf "save:     %.2f s with referrers, %.2f s --no-referrers: %.3fx\n", w, o, w / o }'
if [[ -n "${FERRY_BEFORE:-}" ]]; then
  awk -v b="$(median "$work/before")" -v o="$(median "$work/without")" 'BEGIN { printf "before:   %.2f s with referrers (FERRY_BEFORE): %.3fx of --no-referrers\n", b, b / o }'
fi
awk -v w="$req_with" -v o="$req_without" -v n="$images" 'BEGIN { printf "requests: %d with, %d without: +%.1f per image\n", w, o, (w - o) / n }'
awk -v k="$(median "$work/verify-key")" -v p="$(median "$work/verify-plain")" -v n="$images" 'BEGIN { printf "verify:   %.3f s with --key, %.3f s without: +%.1f ms per image\n", k, p, (k - p) * 1000 / n }'
