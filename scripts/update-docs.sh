#!/usr/bin/env bash
# Regenerates the `ferry COMMAND --help` blocks of docs/*.md from the CLI (DocsTests fails when they differ).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ferry="$root/ferry"
"$ferry" --version >/dev/null
for doc in "$root"/docs/*.md; do
  python3 - "$doc" "$ferry" <<'PY'
import re, subprocess, sys
doc, ferry = sys.argv[1], sys.argv[2]
text = open(doc).read()
def fill(m):
    cmd = m.group(1)
    out = subprocess.run([ferry, cmd, "--help"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "COLUMNS": "120", "DOTNET_CLI_TELEMETRY_OPTOUT": "1"}).stdout.rstrip()
    return f"<!-- help:{cmd} -->\n```text\n{out}\n```\n<!-- /help:{cmd} -->"
new = re.sub(r"<!-- help:(\w+) -->\n```text\n.*?```\n<!-- /help:\1 -->", fill, text, flags=re.S)
if new != text:
    open(doc, "w").write(new)
PY
done
