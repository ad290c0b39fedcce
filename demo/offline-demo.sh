#!/usr/bin/env bash
# Offline demo: start a loopback registry holding a generated image (Debian's static busybox as its only
# layer), save it with Ferry — no Docker involved — then load the archive into a throw-away Docker Engine
# and run it. Everything runs on 127.0.0.1 / unix sockets under a temp directory and is cleaned up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/lib.sh"
"$root/scripts/install-deps.sh"

work="$(mktemp -d /tmp/ferry-demo.XXXXXX)"
cleanup() {
  [[ -f "$work/docker.pid" ]] && kill "$(cat "$work/docker.pid")" 2>/dev/null && sleep 2
  kill "${REGISTRY_PID:-}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting a loopback registry"
start_registry "$work"

echo "== building a busybox image and pushing it with the registry API"
mkdir -p "$work/rootfs/bin" && cp /bin/busybox "$work/rootfs/bin/"
tar -C "$work/rootfs" --mtime=@0 --owner=0 --group=0 -cf "$work/layer.tar" bin
gzip -n -c "$work/layer.tar" > "$work/layer.tar.gz"
BASE_LAYERS=("$work/layer.tar.gz")
make_image demo/busybox 1 "$work"

echo "== ferry save (straight from the registry, no Docker)"
"$root/ferry" save -o "$work/demo.tar" "$REGISTRY/demo/busybox:1"
ls -l "$work/demo.tar"

echo "== starting a throw-away Docker Engine (vfs) and loading the archive"
dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
  --data-root "$work/docker-data" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
  -H "unix://$work/docker.sock" >"$work/dockerd.log" 2>&1 &
docker_cli() { /usr/bin/docker -H "unix://$work/docker.sock" "$@"; }
for _ in $(seq 60); do docker_cli version >/dev/null 2>&1 && break; sleep 0.5; done
docker_cli load -i "$work/demo.tar"
echo "== docker run"
docker_cli run --rm --network none "$REGISTRY/demo/busybox:1" /bin/busybox echo "hello from an image Ferry carried"
