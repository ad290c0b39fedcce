#!/usr/bin/env bash
# Builds Ferry's deliverables (./build.sh: NuGet packages and the Native AOT binary), installs the .NET tool from
# the local package, and runs both: --version, and with the native binary, on a path without .NET: a save from a
# loopback registry, a verify of the archive, a load of it into another repository of the registry, and a
# ferry serve of it that the binary saves from again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/lib.sh"
"$root/build.sh"
work="$(mktemp -d /tmp/ferry-smoke.XXXXXX)"
trap 'kill "${REGISTRY_PID:-}" "${SERVE_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Both packages say their license (Apache-2.0) in their metadata.
for package in "$root"/artifacts/packages/*.nupkg; do
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.exit(0 if any(b"<license type=\"expression\">Apache-2.0</license>" in z.read(n) for n in z.namelist() if n.endswith(".nuspec")) else 1)' "$package" \
    || { echo "$package: no Apache-2.0 license in its nuspec" >&2; exit 1; }
done

dotnet tool install --tool-path "$work/tools" --add-source "$root/artifacts/packages" ferry >/dev/null
echo "dotnet tool: $("$work/tools/ferry" --version)"

binary="$root/artifacts/bin/ferry"
echo "native binary: $(env -i PATH=/nonexistent HOME="$work" "$binary" --version) ($(du -h "$binary" | cut -f1); needs $(ldd "$binary" | awk '/=>/ {print $1}' | tr '\n' ' '))"
start_registry "$work"
BASE_LAYERS=()
make_image smoke/app 1 "$work" 1 >/dev/null 2>&1
env -i PATH=/nonexistent HOME="$work" "$binary" save -q -o "$work/app.tar" "$REGISTRY/smoke/app:1"
env -i PATH=/nonexistent HOME="$work" "$binary" verify "$work/app.tar"
env -i PATH=/nonexistent HOME="$work" "$binary" load -q "$work/app.tar" --to "$REGISTRY/loaded"
curl -fsS -o /dev/null -H "Accept: application/vnd.docker.distribution.manifest.v2+json" "http://$REGISTRY/v2/loaded/smoke/app/manifests/1"
# ferry serve in the native binary (Kestrel under Native AOT), pulled back by the binary itself.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH=/nonexistent HOME="$work" "$binary" serve --listen "127.0.0.1:$port" "$work/app.tar" 2>"$work/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do grep -q serving "$work/serve.log" && break; sleep 0.1; done
env -i PATH=/nonexistent HOME="$work" "$binary" save -q -o "$work/served.tar" "127.0.0.1:$port/smoke/app:1"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"
# The same blobs (the names in index.json differ: the host is the server's).
[[ "$(tar -tf "$work/app.tar" | grep blobs/sha256/ | sort)" == "$(tar -tf "$work/served.tar" | grep blobs/sha256/ | sort)" ]]
echo "smoke test of the packages (tool; native binary: save, verify, load, serve): ok"

# linux-arm64: cross-built and checked to be an aarch64 executable (no arm64 machine here to run it on; qemu-user
# hangs in the runtime's start-up, so running it under emulation proves nothing either way).
FERRY_RID=linux-arm64 "$root/build.sh" publish >/dev/null
if ! file -b "$root/artifacts/bin-linux-arm64/ferry" | grep -q 'ARM aarch64'; then
  echo "artifacts/bin-linux-arm64/ferry is not an aarch64 executable" >&2
  exit 1
fi
echo "native binary, linux-arm64: built ($(du -h "$root/artifacts/bin-linux-arm64/ferry" | cut -f1))"
