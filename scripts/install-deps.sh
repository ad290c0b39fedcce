#!/usr/bin/env bash
# Installs the Debian packages Ferry's tests, demo and benchmarks use, when missing.
set -euo pipefail
need=()
check() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] || need+=("$2"); }
check docker-registry docker-registry
check dockerd docker.io
check skopeo skopeo
check podman podman
check umoci umoci
check oci-image-tool oci-image-tool
check curl curl
check htpasswd apache2-utils
check sshd openssh-server
check ssh openssh-client
check script bsdutils
check tmux tmux
# zstd layers in test images are compressed by Debian's zstd, not by the library Ferry reads them with.
check zstd zstd
# The field lab (#24): network namespaces, veth pairs and tc-shaped links.
check ip iproute2
check tc iproute2
[[ -x /usr/bin/time ]] || need+=(time)
# The Native AOT binary (./build.sh publish) is linked with gcc against glibc.
check gcc gcc
[[ -f /usr/include/stdio.h ]] || need+=(libc6-dev)
# The runnable test images carry Debian's static busybox.
if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  [[ -f /bin/busybox ]] && ldd /bin/busybox >/dev/null 2>&1 && need+=(busybox-static)
  [[ -f /bin/busybox ]] || need+=(busybox-static)
fi
command -v file >/dev/null 2>&1 || need+=(file)
# The signature tests make cosign-format keys and signatures with Debian's Python (not pyenv's), and check them with openssl.
[[ -x /usr/bin/python3 ]] || need+=(python3)
[[ -d /usr/lib/python3/dist-packages/nacl ]] || need+=(python3-nacl)
[[ -d /usr/lib/python3/dist-packages/cryptography ]] || need+=(python3-cryptography)
check openssl openssl
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
