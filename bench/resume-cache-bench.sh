#!/usr/bin/env bash
# Benchmark of resume and the cache (issue #16), in one run: the bulk bundle (6 two-platform images, ~400 MB of
# unique blobs) saved through a rate-limited loopback link (bench/rate-proxy.py, RATE MB/s, default 100) in
# front of the local registry, which also counts the bytes each run downloads.
#   full            a plain save
#   resumed         the same save killed with SIGKILL once half the bytes came through, then run again: the rerun
#   no-resume       the killed save run again with --no-resume (what a rerun cost before resume)
#   cache-cold      a save with --cache into an empty cache
#   cache-warm      the next save with that cache after one image got a new layer (25 MB per platform)
# Medians of ROUNDS; wall time and downloaded bytes, each as a ratio to the full save of the same round.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
ROUNDS="${ROUNDS:-3}"
RATE="${RATE:-100}"
"$here/../scripts/install-deps.sh"
FERRY="${FERRY:-$here/../ferry}"
"$FERRY" --help >/dev/null

work="$(mktemp -d /tmp/ferry-resume.XXXXXX)"
trap 'kill "$REGISTRY_PID" "${PROXY_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
start_registry "$work"
make_bulk_images 6 "$work"
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$here/rate-proxy.py" "$proxy_port" "${REGISTRY##*:}" "$RATE" "$work/sent" &
PROXY_PID=$!
for _ in $(seq 50); do [[ -s "$work/sent" ]] && break; sleep 0.1; done
sed "s/$REGISTRY/127.0.0.1:$proxy_port/" "$work/images.txt" > "$work/via-proxy.txt"
sent() { cat "$work/sent"; }
RESULTS="$work/results.txt"; : > "$RESULTS"

run() { # NAME OUTPUT ARGS… : one timed save; appends "name wall bytes"
  local name="$1" before; shift
  before=$(sent); sleep 0.05; before=$(sent)
  local start=$(date +%s.%N)
  "$FERRY" save -q -f "$work/via-proxy.txt" -a amd64,arm64 -j 6 "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  local end=$(date +%s.%N); sleep 0.05
  echo "$name $(awk "BEGIN { print $end - $start }") $(( $(sent) - before ))" >> "$RESULTS"
}

kill_at_half() { # OUTPUT TOTAL: a save killed with SIGKILL once TOTAL/2 bytes came through
  local out="$1" half=$(( $2 / 2 )) before; before=$(sent)
  "$FERRY" save -q -f "$work/via-proxy.txt" -a amd64,arm64 -j 6 -o "$out" >/dev/null 2>&1 &
  local pid=$!
  while (( $(sent) - before < half )); do kill -0 "$pid" 2>/dev/null || { echo "the save ended before half" >&2; return 1; }; sleep 0.01; done
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
  rm -rf "$work/out"; mkdir -p "$work/out"
  run full -o "$work/out/full.tar"
  total=$(tail -1 "$RESULTS" | cut -d' ' -f3)
  kill_at_half "$work/out/resumed.tar" "$total"
  run resumed -o "$work/out/resumed.tar"
  cmp "$work/out/full.tar" "$work/out/resumed.tar" || { echo "the resumed archive differs" >&2; exit 1; }
  kill_at_half "$work/out/again.tar" "$total"
  run no-resume -o "$work/out/again.tar" --no-resume
  rm -rf "$work/cache"
  run cache-cold -o "$work/out/cold.tar" --cache "$work/cache"
  # One image changes: app1 gets a new own layer per platform (a new build of it).
  BASE_LAYERS=(); ARCH=amd64 make_image bench/app1 amd64 "$work" 25 >/dev/null; amd="$IMAGE_MANIFEST_DIGEST $IMAGE_MANIFEST_SIZE amd64"
  BASE_LAYERS=(); ARCH=arm64 make_image bench/app1 arm64 "$work" 25 >/dev/null; arm="$IMAGE_MANIFEST_DIGEST $IMAGE_MANIFEST_SIZE arm64"
  push_list bench/app1 1 "$amd" "$arm"
  run cache-warm -o "$work/out/warm.tar" --cache "$work/cache"
  echo "round $round done" >&2
done

python3 - "$RESULTS" "$RATE" "$ROUNDS" <<'PY'
import sys, statistics, collections
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
per_round = collections.defaultdict(dict)
count = collections.Counter()
for name, wall, sent in rows:
    count[name] += 1
    per_round[count[name]][name] = (float(wall), int(sent))
print(f"resume and cache: bulk bundle through a {sys.argv[2]} MB/s link, median of {sys.argv[3]} rounds; ratios to the full save of the same round")
print(f"{'run':<12} {'wall s':>8} {'× full':>7} {'downloaded MB':>14} {'× full':>7}")
for name in ["full", "resumed", "no-resume", "cache-cold", "cache-warm"]:
    walls = [r[name][0] for r in per_round.values() if name in r]
    sent = [r[name][1] for r in per_round.values() if name in r]
    wr = [r[name][0] / r["full"][0] for r in per_round.values() if name in r]
    sr = [r[name][1] / r["full"][1] for r in per_round.values() if name in r]
    print(f"{name:<12} {statistics.median(walls):>8.2f} {statistics.median(wr):>7.2f} {statistics.median(sent)/1e6:>14.1f} {statistics.median(sr):>7.2f}")
PY
