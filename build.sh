#!/usr/bin/env bash
# Builds Ferry's deliverables into ./artifacts:
#   ./build.sh pack      NuGet packages: Ferry.Core (library) and ferry (a .NET tool)
#   ./build.sh publish   a Native AOT linux-x64 binary (no .NET needed, glibc only): artifacts/bin/ferry
#   ./build.sh           both
# Versions come from one place: <Version> in Directory.Build.props.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
what="${1:-all}"
rid="${FERRY_RID:-linux-x64}"
if [[ "$what" == pack || "$what" == all ]]; then
  dotnet pack "$root/src/Ferry.Core/Ferry.Core.csproj" -c Release -o "$root/artifacts/packages" --nologo -v quiet
  dotnet pack "$root/src/Ferry.Cli/Ferry.Cli.csproj" -c Release -o "$root/artifacts/packages" --nologo -v quiet
  ls -1 "$root/artifacts/packages"
fi
if [[ "$what" == publish || "$what" == all ]]; then
  # Native AOT: machine code ahead of time, no JIT and no .NET install needed (it links against glibc only); AOT and
  # trim warnings are errors (TreatWarningsAsErrors). Linked with gcc (Debian's, installed by scripts/install-deps.sh).
  # Its own intermediate directory: AOT/trimmed assemblies must never leak into the ./ferry build.
  "$root/scripts/install-deps.sh"
  dotnet publish "$root/src/Ferry.Cli/Ferry.Cli.csproj" -c Release -r "$rid" -p:PublishAot=true -p:CppCompilerAndLinker=gcc \
    -p:DebugType=none -p:GenerateDocumentationFile=false --artifacts-path "$root/artifacts/aot" -o "$root/artifacts/bin" --nologo -v quiet
  rm -f "$root/artifacts/bin/"*.xml "$root/artifacts/bin/"*.dbg
  ls -l "$root/artifacts/bin/ferry"
fi
