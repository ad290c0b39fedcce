#!/usr/bin/env bash
# Builds Ferry's deliverables into ./artifacts:
#   ./build.sh pack      NuGet packages: Ferry.Core (library) and ferry (a .NET tool)
#   ./build.sh publish   a Native AOT linux-x64 binary (no .NET needed, glibc only): artifacts/bin/ferry
#   FERRY_RID=linux-arm64 ./build.sh publish
#                        the same for linux-arm64, cross-linked with Debian's gcc-aarch64-linux-gnu: artifacts/bin-linux-arm64/ferry
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
  linker=(-p:CppCompilerAndLinker=gcc)
  out="$root/artifacts/bin"
  if [[ "$rid" == linux-arm64 && "$(uname -m)" != aarch64 ]]; then
    # Cross: the arm64 ILCompiler package is on NuGet; the linker and arm64 libc come from Debian.
    if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
      echo "installing gcc-aarch64-linux-gnu (cross linker)" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu >/dev/null
    fi
    linker=(-p:CppCompilerAndLinker=aarch64-linux-gnu-gcc -p:ObjCopyName=aarch64-linux-gnu-objcopy -p:FerryCrossGcc=true)
    out="$root/artifacts/bin-$rid"
  fi
  dotnet publish "$root/src/Ferry.Cli/Ferry.Cli.csproj" -c Release -r "$rid" -p:PublishAot=true "${linker[@]}" \
    -p:DebugType=none -p:GenerateDocumentationFile=false --artifacts-path "$root/artifacts/aot-$rid" -o "$out" --nologo -v quiet
  rm -f "$out/"*.xml "$out/"*.dbg
  ls -l "$out/ferry"
fi
