#!/usr/bin/env bash
# Start-up and a 1 KB image (issue #15): `ferry --version` and `ferry save` of a one-layer ~1 KB image from a
# loopback registry, with the Native AOT binary (./build.sh publish), the framework-dependent ReadyToRun build
# (./ferry), and `skopeo copy docker://… oci-archive:`. Alternating runs; medians of ROUNDS (default 10).
# FERRY=path/to/a/native/ferry replaces artifacts/bin/ferry; FERRY_BEFORE=path/to/an/older/one adds its runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-10}"
"$here/../scripts/install-deps.sh"
[[ -x "$here/../artifacts/bin/ferry" ]] || "$here/../build.sh" publish >/dev/null
"$here/../ferry" --help >/dev/null
native="${FERRY:-$here/../artifacts/bin/ferry}"

work="$(mktemp -d /tmp/ferry-start.XXXXXX)"
trap 'kill "$REGISTRY_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
start_registry "$work"
mkdir -p "$work/tiny"; echo "hello" > "$work/tiny/hello.txt"
tar -C "$work/tiny" --mtime=@0 --owner=0 --group=0 -cf "$work/tiny.tar" hello.txt; gzip -n -c "$work/tiny.tar" > "$work/tiny.tar.gz"
BASE_LAYERS=("$work/tiny.tar.gz"); make_image bench/tiny 1 "$work"
REF="$REGISTRY/bench/tiny:1"
RESULTS="$work/results.txt"; : > "$RESULTS"
for round in $(seq "$ROUNDS"); do
  rm -rf "$work/out"; mkdir -p "$work/out"
  measure ferry "" "$native" --version
  measure ferry-dotnet-r2r "" "$here/../ferry" --version
  measure ferry-save-1kb "$work/out/a.tar" "$native" save -q -o "$work/out/a.tar" "$REF"
  if [[ -n "${FERRY_BEFORE:-}" ]]; then
    measure ferry-before-save-1kb "$work/out/d.tar" "$FERRY_BEFORE" save -q -o "$work/out/d.tar" "$REF"
  fi
  measure ferry-dotnet-save-1kb "$work/out/b.tar" "$here/../ferry" save -q -o "$work/out/b.tar" "$REF"
  measure skopeo-save-1kb "$work/out/c.tar" skopeo copy -q --src-tls-verify=false "docker://$REF" "oci-archive:$work/out/c.tar"
done
python3 "$here/report.py" "$RESULTS" "start-up (--version) and save of a ~1 KB image from a loopback registry, median of $ROUNDS runs"
