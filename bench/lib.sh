#!/usr/bin/env bash
# Shared helpers for Ferry's benchmarks: a loopback registry and image generation with curl + the
# registry HTTP API (no Docker, no internet).

start_registry() { # $1 = work dir; sets REGISTRY, REGISTRY_PID
  local dir="$1" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/registry"
  cat > "$dir/registry/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: ${REGISTRY_ACCESSLOG_DISABLED:-true}}}
storage: {filesystem: {rootdirectory: $dir/registry/data}}
http: {addr: 127.0.0.1:$port}
YML
  docker-registry serve "$dir/registry/config.yml" >"$dir/registry/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY="127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "http://$REGISTRY/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "registry did not start" >&2; return 1
}

push_blob() { # $1 repo, $2 file → prints digest
  local repo="$1" file="$2" digest location
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  location=$(curl -fsS -X POST -D - -o /dev/null "http://$REGISTRY/v2/$repo/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  [[ "$location" == http* ]] || location="http://$REGISTRY$location"
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$location&digest=$digest" -o /dev/null
  echo "$digest"
}

FILE_CURSOR=0
layer_from_files() { # $1 output prefix, $2 wanted compressed MB; uses FILE_CURSOR to not reuse files
  local f="$1" want=$(( $2 * 1024 * 1024 * 5 / 2 )) list="$1.list"
  find /usr/lib /usr/share /usr/bin -xdev -type f -size +4k -readable -printf '%s %P\t%h/%f\n' 2>/dev/null | LC_ALL=C sort -k2 |
    tail -n +"$((FILE_CURSOR + 1))" | awk -v want="$want" '{ total += $1; sub(/^[^\t]*\t\//, ""); print; if (total >= want) exit }' > "$list" || [[ -s "$list" ]]  # awk stops early: SIGPIPE upstream
  FILE_CURSOR=$((FILE_CURSOR + $(wc -l < "$list")))
  tar -C / --mtime=@0 --owner=0 --group=0 --no-recursion -cf "$f.tar" -T "$list"
  gzip -6 -n -c "$f.tar" > "$f.tar.gz"
}

# make_image REPO TAG WORKDIR SIZE_MB... : one random (incompressible) gzip layer per size; pushes
# layers, config and a Docker schema 2 manifest; BASE_LAYERS (file paths) are prepended when set.
make_image() {
  local repo="$1" tag="$2" work="$3"; shift 3
  local layers=("${BASE_LAYERS[@]:-}") i=0 f
  [[ -z "${layers[0]}" ]] && layers=()
  for mb in "$@"; do
    i=$((i + 1)); f="$repo-$tag-$i"; f="$work/${f//\//_}"  # flatten the image name only, never the work dir
    if [[ "${CONTENT:-files}" == random ]]; then
      # Incompressible: the layer is as large as its content.
      mkdir -p "$f.d"; head -c "$((mb * 1024 * 1024))" /dev/urandom > "$f.d/data.bin"
      tar -C "$f.d" --mtime=@0 --owner=0 --group=0 -cf "$f.tar" data.bin && rm -rf "$f.d"
      gzip -1 -n -c "$f.tar" > "$f.tar.gz"
    else
      # Like real images: this machine's own files (binaries, libraries, text), gzip -6, until the
      # compressed layer reaches the wanted size. Each layer takes different files.
      layer_from_files "$f" "$mb"
    fi
    layers+=("$f.tar.gz")
  done
  local diffids="" descs="" d size
  for l in "${layers[@]}"; do
    d=$(push_blob "$repo" "$l"); size=$(stat -c %s "$l")
    diffids+="\"sha256:$(gzip -dc "$l" | sha256sum | cut -d' ' -f1)\","
    descs+="{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"$d\",\"size\":$size},"
  done
  local cfg="$work/${repo//\//_}-$tag.config.json" man="$work/${repo//\//_}-$tag.manifest.json"
  printf '{"architecture":"%s","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "${ARCH:-amd64}" "${diffids%,}" > "$cfg"
  local cd; cd=$(push_blob "$repo" "$cfg")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%d},"layers":[%s]}' \
    "$cd" "$(stat -c %s "$cfg")" "${descs%,}" > "$man"
  curl -fsS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary "@$man" "http://$REGISTRY/v2/$repo/manifests/$tag" -o /dev/null
  IMAGE_LAYERS=("${layers[@]}")
  IMAGE_MANIFEST_DIGEST="sha256:$(sha256sum "$man" | cut -d' ' -f1)"
  IMAGE_MANIFEST_SIZE=$(stat -c %s "$man")
}

# push_list REPO TAG "digest size arch" ... : a Docker manifest list over manifests already pushed.
push_list() {
  local repo="$1" tag="$2"; shift 2
  local entries="" d s a
  for e in "$@"; do
    read -r d s a <<<"$e"
    entries+="{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"$d\",\"size\":$s,\"platform\":{\"architecture\":\"$a\",\"os\":\"linux\"}},"
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[%s]}' "${entries%,}" |
    curl -fsS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json' --data-binary @- "http://$REGISTRY/v2/$repo/manifests/$tag" -o /dev/null
}

# measure NAME OUTPUT CMD...: runs CMD under GNU time; appends "name wall_s maxrss_kb written_bytes" to $RESULTS.
measure() {
  local name="$1" output="$2"; shift 2
  local t; t=$(mktemp)
  sync
  /usr/bin/time -f '%e %M %O' -o "$t" "$@" >/dev/null 2>"$t.err" || { cat "$t.err" >&2; echo "$name failed" >&2; return 1; }
  read -r wall rss blocks < "$t"
  local size=0
  [[ -e "$output" ]] && size=$(du -sb "$output" | cut -f1)
  echo "$name $wall $rss $((blocks * 512)) $size" >> "$RESULTS"
  rm -f "$t" "$t.err"
}

# make_bulk_images COUNT WORK: the bulk bundle's images in $REGISTRY — COUNT two-platform (amd64 + arm64)
# images, each platform's base layers (50 MB) shared by all, 25 MB of own layers each; writes their
# references to WORK/images.txt.
make_bulk_images() {
  local count="$1" dir="$2" i amd arm base_amd64 base_arm64 own=(25) base=50
  # LAYERS=N: many small layers, where per-request cost shows: a 10 MB base and N-1 own layers of 1 MB per platform image.
  if [[ -n "${LAYERS:-}" ]]; then base=10; own=(); for ((i = 1; i < LAYERS; i++)); do own+=(1); done; fi
  echo "building $count two-platform images…" >&2
  BASE_LAYERS=(); ARCH=amd64 make_image bench/base-amd64 1 "$dir" "$base"; base_amd64=("${IMAGE_LAYERS[@]}")
  BASE_LAYERS=(); ARCH=arm64 make_image bench/base-arm64 1 "$dir" "$base"; base_arm64=("${IMAGE_LAYERS[@]}")
  : > "$dir/images.txt"
  for i in $(seq "$count"); do
    BASE_LAYERS=("${base_amd64[@]}"); ARCH=amd64 make_image "bench/app$i" amd64 "$dir" "${own[@]}"; amd="$IMAGE_MANIFEST_DIGEST $IMAGE_MANIFEST_SIZE amd64"
    BASE_LAYERS=("${base_arm64[@]}"); ARCH=arm64 make_image "bench/app$i" arm64 "$dir" "${own[@]}"; arm="$IMAGE_MANIFEST_DIGEST $IMAGE_MANIFEST_SIZE arm64"
    push_list "bench/app$i" 1 "$amd" "$arm"
    echo "$REGISTRY/bench/app$i:1" >> "$dir/images.txt"
  done
}
