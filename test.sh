#!/usr/bin/env bash
# Runs every test: unit tests and integration tests against a real docker-registry, dockerd, podman,
# skopeo, umoci and oci-image-tool. Installs the Debian packages it needs when they are missing (root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

echo "test.sh: unit tests (~10 s), then integration tests against a real docker-registry, dockerd, podman, skopeo," >&2
echo "test.sh: umoci and oci-image-tool (~12 min, most of it slow-link tests through 10 Mbit/s; each test is named as it" >&2
echo "test.sh: passes). Needs root: it makes network namespaces, tc-shaped links and tmpfs disks, installs the" >&2
echo "test.sh: Debian packages it lacks and starts its own registries and dockerd on 127.0.0.1, then stops them." >&2
"$root/scripts/install-deps.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test Ferry.slnx -c Release --nologo --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain summary line over all test assemblies (the "Total tests / Passed: / Failed: / Skipped:" blocks of each run).
awk '/^ *Passed: *[0-9]+ *$/ { p += $2 } /^ *Failed: *[0-9]+ *$/ { f += $2 } /^ *Skipped: *[0-9]+ *$/ { s += $2 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
