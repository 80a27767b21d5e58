#!/usr/bin/env bash
# Makes a base image for Shoal without an image registry: a minimal root filesystem
# assembled from this machine's own files, imported with `docker import`.
#
# Why: where no registry is reachable, `FROM debian:bookworm-slim` cannot be pulled, and a
# multi-stage build with a Rust image is impossible. The shoal binary only needs the
# shared libraries it links (glibc, libgcc_s, ...), so the base holds exactly:
#   - the shared libraries of every program below (found with ldd), and the loader;
#   - bash (entrypoint and the /dev/tcp health probe; /bin/sh -> bash for CMD-SHELL),
#     and a few coreutils for the Dockerfile's RUN and for debugging (mkdir, chown, ls,
#     cat, sleep, id, rm);
#   - redis-cli when the host has it (debugging: `docker exec -it shoal1 redis-cli`);
#   - /etc/passwd, /etc/group with root and the `shoal` user (uid/gid 10001),
#     /etc/nsswitch.conf (hosts: files dns, so peer names resolve), /tmp.
# Libraries come from the host, so the base matches the host's glibc, the glibc the
# release binary was linked against (build both on the same machine).
#
# Usage: scripts/docker-base.sh [--debootstrap] [TAG]     (default TAG: shoal-base:local)
#   --debootstrap  instead build a Debian bookworm minbase root with debootstrap (needs a
#                  reachable Debian mirror and root; installs debootstrap if missing).
#                  Bigger (~110 MB) but a full Debian userland.
# Environment: SHOAL_BIN (default target/release/shoal under CARGO_TARGET_DIR) adds the
# binary's own library needs even if they differ from the listed programs'.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=host
if [ "${1:-}" = "--debootstrap" ]; then MODE=debootstrap; shift; fi
TAG="${1:-shoal-base:local}"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

ROOT="$(mktemp -d /tmp/shoal-base.XXXXXX)"
trap '$SUDO rm -rf "$ROOT"' EXIT

if [ "$MODE" = debootstrap ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
  fi
  MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  echo "== debootstrap bookworm (minbase) from $MIRROR"
  $SUDO debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
  $SUDO chroot "$ROOT" sh -c 'groupadd -g 10001 shoal && useradd -u 10001 -g 10001 -d /data -M -s /usr/sbin/nologin shoal'
  $SUDO rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
  $SUDO tar -C "$ROOT" -c . | docker import -c 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
  echo "== built $TAG (debootstrap): $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec)"
  exit 0
fi

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
SHOAL_BIN="${SHOAL_BIN:-$TARGET_DIR/release/shoal}"

progs=(bash mkdir chown ls cat sleep id rm)
command -v redis-cli >/dev/null 2>&1 && progs+=(redis-cli)

mkdir -p "$ROOT"/{bin,etc,tmp,data,usr/local/bin,lib,lib64}
chmod 1777 "$ROOT/tmp"

# Copies a file (dereferenced: the loader finds it at the path ldd reports) to the same
# path under $ROOT.
copy() {
  local f="$1"
  [ -e "$ROOT$f" ] && return 0
  mkdir -p "$ROOT$(dirname "$f")"
  cp -L "$f" "$ROOT$f"
}

libs_of() { ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'; }

bins=()
for p in "${progs[@]}"; do bins+=("$(command -v "$p")"); done
for b in "${bins[@]}"; do
  cp -L "$b" "$ROOT/bin/$(basename "$b")"
done
[ -x "$SHOAL_BIN" ] && bins+=("$SHOAL_BIN")
for b in "${bins[@]}"; do
  for l in $(libs_of "$b"); do copy "$l"; done
done
ln -s bash "$ROOT/bin/sh"
# Debian's usrmerge layout: /usr/bin and /usr/sbin resolve like /bin.
mkdir -p "$ROOT/usr"
ln -s ../bin "$ROOT/usr/bin"
ln -s ../bin "$ROOT/usr/sbin"
# glibc's NSS (files and dns are built into libc since 2.34; copy modules when present).
for l in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
         /lib/aarch64-linux-gnu/libnss_files.so.2 /lib/aarch64-linux-gnu/libnss_dns.so.2; do
  [ -e "$l" ] && copy "$l"
done

cat > "$ROOT/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/bash
shoal:x:10001:10001:shoal:/data:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$ROOT/etc/group" <<'G'
root:x:0:
shoal:x:10001:
nogroup:x:65534:
G
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$ROOT/etc/nsswitch.conf"
: > "$ROOT/etc/hosts"; : > "$ROOT/etc/resolv.conf"   # docker bind-mounts the real ones
mkdir -p "$ROOT/root"

# Smoke test the tree before importing it.
if command -v chroot >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  chroot "$ROOT" /bin/bash -c 'mkdir /tmp/x && ls / && rm -r /tmp/x' >/dev/null \
    || { echo "base tree does not run (missing libraries?)" >&2; exit 1; }
fi

tar -C "$ROOT" --numeric-owner -c . \
  | docker import -c 'CMD ["/bin/bash"]' -c 'ENV PATH=/usr/local/bin:/bin' - "$TAG" >/dev/null
echo "== built $TAG (from host files: ${progs[*]}): $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec)"
