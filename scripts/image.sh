#!/usr/bin/env bash
# Builds the two container images (Dockerfile targets `gateway` and `generator`) with whatever
# engine is present: podman (chroot isolation, so no daemon and no network namespace is needed),
# else a reachable Docker daemon; with neither, Debian's podman is installed.
#
# Base images: the Dockerfile's defaults (rust:1.95.0-slim-bookworm,
# gcr.io/distroless/cc-debian12:nonroot) when the engine has them or can pull them; otherwise
# (a closed network) local stand-ins are made once from a Debian bookworm root file system
# (debootstrap, from the apt mirror this machine already uses):
#   localhost/exam-base/rust:1.95.0-slim-bookworm  that tree + gcc/libc6-dev + this machine's
#                                                  installed Rust toolchain (rustup layout of the
#                                                  official image: /usr/local/{rustup,cargo})
#   localhost/exam-base/distroless-cc:nonroot      distroless-like: glibc, libgcc_s, libstdc++,
#                                                  libssl3, CA certificates, tzdata, /etc/passwd
#                                                  with nonroot (65532), /tmp; no shell
# Everything is cached: the root file system in .tools/image/, base images in the engine's store.
#
# Usage: scripts/image.sh            build both images (exam-gateway:dev, exam-generator:dev)
#        scripts/image.sh --engine   print the engine command line only (used by image-check.sh)
# Environment: IMAGE_ENGINE=podman|docker, IMAGE_BASES=auto|local|registry, BUILDER_IMAGE,
#              RUNTIME_IMAGE, IMAGE_TAG (default dev), IMAGE_REF (a git revision: build what is
#              committed there, e.g. HEAD, instead of the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  local need=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# ---- engine -----------------------------------------------------------------------------------
# ENGINE is an array: the command and the global flags every call needs.
pick_engine() {
  local want="${IMAGE_ENGINE:-}"
  if [ -z "$want" ]; then
    if command -v podman >/dev/null 2>&1; then want=podman
    elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then want=docker
    else want=podman
    fi
  fi
  case "$want" in
    podman)
      # runc + cgroupfs: this works in a container without systemd (crun and the systemd cgroup
      # manager do not, here).
      apt_install podman buildah runc
      ENGINE=(podman --runtime runc --cgroup-manager cgroupfs)
      BUILD_FLAGS=(--isolation chroot --layers)
      ;;
    docker)
      ENGINE=(docker)
      BUILD_FLAGS=()
      ;;
    *) echo "IMAGE_ENGINE must be podman or docker" >&2; exit 2 ;;
  esac
}

pick_engine
if [ "${1:-}" = "--engine" ]; then printf '%s\n' "${ENGINE[@]}"; exit 0; fi

TAG="${IMAGE_TAG:-dev}"
BUILDER_IMAGE="${BUILDER_IMAGE:-rust:1.95.0-slim-bookworm}"
RUNTIME_IMAGE="${RUNTIME_IMAGE:-gcr.io/distroless/cc-debian12:nonroot}"
LOCAL_BUILDER=localhost/exam-base/rust:1.95.0-slim-bookworm
LOCAL_RUNTIME=localhost/exam-base/distroless-cc:nonroot
RUST_TOOLCHAIN=1.95.0

# podman resolves short names only through registries.conf; Docker's default is Docker Hub.
qualify() {
  local first="${1%%/*}"
  if [ "${ENGINE[0]}" = podman ] && { [ "$first" = "$1" ] || ! [[ "$first" == *[.:]* || "$first" == localhost ]]; }; then
    case "$1" in */*) echo "docker.io/$1" ;; *) echo "docker.io/library/$1" ;; esac
  else
    echo "$1"
  fi
}
BUILDER_IMAGE=$(qualify "$BUILDER_IMAGE")
RUNTIME_IMAGE=$(qualify "$RUNTIME_IMAGE")

have_image() { "${ENGINE[@]}" image inspect "$1" >/dev/null 2>&1; }
# A registry that does not answer within the timeout counts as unreachable.
can_pull() { have_image "$1" || timeout 60 "${ENGINE[@]}" pull -q "$1" >/dev/null 2>&1; }

# ---- local stand-ins for the base images ------------------------------------------------------
state=.tools/image
rootfs="$state/rootfs"

make_rootfs() {
  [ -f "$rootfs/.complete" ] && return 0
  apt_install debootstrap
  local mirror
  mirror=$(grep -h -E '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -o -E 'https?://[^ ]+' | grep -v -- '-security' | head -n1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
  say "debootstrap bookworm (minbase) from $mirror into $rootfs (~1-2 min, once)"
  rm -rf "$rootfs" && mkdir -p "$state"
  $SUDO debootstrap --variant=minbase \
    --include=ca-certificates,gcc,libc6-dev,libssl3,libstdc++6,tzdata,netbase \
    bookworm "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 \
    || { tail -n 20 "$state/debootstrap.log" >&2; exit 1; }
  $SUDO touch "$rootfs/.complete"
}

# This machine's own CA certificates (/usr/local/share/ca-certificates: e.g. a TLS-inspecting
# egress proxy's) go into the stand-ins too, or cargo and npm in the build cannot reach their
# registries through it.
local_cas() {
  local f changed=""
  for f in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$f" ] || continue
    cmp -s "$f" "$rootfs/usr/local/share/ca-certificates/$(basename "$f")" && continue
    $SUDO cp "$f" "$rootfs/usr/local/share/ca-certificates/" && changed=1
  done
  if [ -n "$changed" ]; then
    say "adding this machine's CA certificates to the stand-ins"
    $SUDO chroot "$rootfs" update-ca-certificates >/dev/null
  fi
}

make_builder_base() {
  have_image "$LOCAL_BUILDER" && return 0
  make_rootfs
  local_cas
  # The toolchain this machine has (no rustup download is reachable): rustc, cargo, rust-std for
  # x86_64 and wasm32; documentation left out.
  local tc
  tc=$(rustup +"$RUST_TOOLCHAIN" which rustc 2>/dev/null) \
    || { echo "Rust $RUST_TOOLCHAIN is not installed here (rustup toolchain list)" >&2; exit 1; }
  tc=$(dirname "$(dirname "$(readlink -f "$tc")")")
  [ -d "$tc/lib/rustlib/wasm32-unknown-unknown" ] \
    || { echo "the $RUST_TOOLCHAIN toolchain here lacks the wasm32-unknown-unknown target" >&2; exit 1; }
  local extra="$state/rust-extra" name="$RUST_TOOLCHAIN-x86_64-unknown-linux-gnu"
  rm -rf "$extra" && mkdir -p "$extra/usr/local/rustup/toolchains" "$extra/usr/local/cargo/bin"
  say "copying Rust toolchain $tc into the builder stand-in"
  tar -C "$tc" --exclude=./share/doc --exclude=./share/man -c . \
    | tar -C "$extra/usr/local/rustup/toolchains" --one-top-level="$name" -x
  cat >"$extra/usr/local/rustup/settings.toml" <<EOF
version = "12"
default_toolchain = "$name"
profile = "minimal"
auto_self_update = "disable"

[overrides]
EOF
  cp "$(readlink -f "$(command -v rustup)")" "$extra/usr/local/cargo/bin/rustup"
  local b
  for b in cargo rustc rustdoc rust-gdb rust-lldb cargo-clippy clippy-driver cargo-fmt rustfmt; do
    ln -sf rustup "$extra/usr/local/cargo/bin/$b"
  done
  say "importing $LOCAL_BUILDER"
  tar -c -C "$rootfs" --exclude=./.complete . -C "$PWD/$extra" ./usr/local/rustup ./usr/local/cargo \
    | "${ENGINE[@]}" import \
        --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "ENV RUST_VERSION=$RUST_TOOLCHAIN" \
        --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["bash"]' \
        - "$LOCAL_BUILDER" >/dev/null
  rm -rf "$extra"
}

make_runtime_base() {
  have_image "$LOCAL_RUNTIME" && return 0
  make_rootfs
  local_cas
  local dest="$state/distroless" pkg
  rm -rf "$dest" && mkdir -p "$dest"/{etc,home/nonroot,tmp,usr/lib,usr/lib64}
  # Debian bookworm is merged-/usr: /lib and /lib64 are links, as in distroless.
  ln -s usr/lib "$dest/lib" && ln -s usr/lib64 "$dest/lib64"
  # The files of these packages, as distroless' cc image has them (no docs, no locales, no
  # programs: there is no shell to run them with).
  for pkg in libc6 libgcc-s1 libstdc++6 libssl3 tzdata netbase; do
    cat "$rootfs/var/lib/dpkg/info/$pkg.list" "$rootfs/var/lib/dpkg/info/$pkg:amd64.list" 2>/dev/null || true
  done | grep -v -E '^/usr/share/(doc|man|locale|lintian|bug)|/gconv/|^/(usr/)?s?bin/' | sort -u \
    | while read -r f; do [ -f "$rootfs$f" ] || [ -L "$rootfs$f" ] && printf '.%s\n' "$f"; done >"$state/distroless.list"
  tar -C "$rootfs" -c -T "$state/distroless.list" | tar -C "$dest" --keep-directory-symlink -x
  # CA certificates (generated by ca-certificates' postinst) and OpenSSL's configuration.
  tar -C "$rootfs" -c ./etc/ssl ./usr/lib/ssl ./usr/share/ca-certificates | tar -C "$dest" --keep-directory-symlink -x
  cp "$rootfs/etc/nsswitch.conf" "$dest/etc/"
  cp -L "$rootfs/etc/os-release" "$dest/etc/os-release"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dest/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$dest/etc/group"
  chmod 1777 "$dest/tmp"
  chown 65532:65532 "$dest/home/nonroot"
  say "importing $LOCAL_RUNTIME"
  tar -C "$dest" --numeric-owner -c . \
    | "${ENGINE[@]}" import \
        --change 'USER 65532:65532' \
        --change 'WORKDIR /home/nonroot' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        - "$LOCAL_RUNTIME" >/dev/null
  rm -rf "$dest"
}

bases="${IMAGE_BASES:-auto}"
if [ "$bases" = auto ]; then
  if can_pull "$BUILDER_IMAGE" && can_pull "$RUNTIME_IMAGE"; then bases=registry; else bases=local; fi
fi
if [ "$bases" = local ]; then
  say "base images: local stand-ins (set IMAGE_BASES=registry to require the public ones)"
  make_builder_base
  make_runtime_base
  BUILDER_IMAGE="$LOCAL_BUILDER"
  RUNTIME_IMAGE="$LOCAL_RUNTIME"
fi

# ---- build ------------------------------------------------------------------------------------
args=(--build-arg "BUILDER_IMAGE=$BUILDER_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
context=.
if [ -n "${IMAGE_REF:-}" ]; then
  context=target/image-context
  say "build context: $IMAGE_REF ($(git rev-parse --short "$IMAGE_REF")) exported to $context"
  rm -rf "$context" && mkdir -p "$context"
  git archive "$IMAGE_REF" | tar -x -C "$context"
fi
t0=$(date +%s)
for target in gateway generator; do
  say "building exam-$target:$TAG (${ENGINE[0]}, from $BUILDER_IMAGE / $RUNTIME_IMAGE)"
  # Two cores are shared with everything else: the build runs at the lowest priority.
  nice -n 19 "${ENGINE[@]}" build "${BUILD_FLAGS[@]}" "${args[@]}" --target "$target" -t "exam-$target:$TAG" -f "$context/Dockerfile" "$context"
done
say "built in $(( $(date +%s) - t0 )) s"
"${ENGINE[@]}" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "exam-(gateway|generator):$TAG" >&2 || true
