#!/usr/bin/env bash
# Builds Ferry's deliverables (./build.sh: NuGet packages and the trimmed single-file binary), installs the
# .NET tool from the local package, and runs both: --version, and one save from a loopback registry with the
# single-file binary, without any .NET on PATH; the archive is then verified.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/lib.sh"
"$root/build.sh"
work="$(mktemp -d /tmp/ferry-smoke.XXXXXX)"
trap 'kill "${REGISTRY_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet tool install --tool-path "$work/tools" --add-source "$root/artifacts/packages" ferry >/dev/null
echo "dotnet tool: $("$work/tools/ferry" --version)"

binary="$root/artifacts/bin/ferry"
echo "single-file binary: $(env -i PATH=/nonexistent HOME="$work" "$binary" --version) ($(du -h "$binary" | cut -f1))"
start_registry "$work"
BASE_LAYERS=()
make_image smoke/app 1 "$work" 1 >/dev/null 2>&1
env -i PATH=/nonexistent HOME="$work" "$binary" save -q -o "$work/app.tar" "$REGISTRY/smoke/app:1"
env -i PATH=/nonexistent HOME="$work" "$binary" verify "$work/app.tar"
echo "smoke test of the packages: ok"
