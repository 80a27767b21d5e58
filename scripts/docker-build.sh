#!/usr/bin/env bash
# Builds the release binary on this machine and the image shoal:local around it.
#
#   scripts/docker-build.sh                  # base: shoal-base:local (made if missing)
#   BASE=debian:bookworm-slim scripts/docker-build.sh   # where a registry is reachable
#   TAG=shoal:1.0 scripts/docker-build.sh
#
# The Dockerfile copies the prebuilt binary instead of compiling in a Rust image, so the
# build needs no registry: with the default BASE=shoal-base:local the base is assembled
# from this machine's files by scripts/docker-base.sh. The build context is a small
# staging directory (deploy/ files + the binary), not the repository with its target/.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG="${TAG:-shoal:local}"
BASE="${BASE:-shoal-base:local}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

echo "== cargo build --release -p shoal-server"
cargo build --release -p shoal-server
BIN="$TARGET_DIR/release/shoal"

if [ "$BASE" = "shoal-base:local" ] && ! docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "== $BASE missing: making it (scripts/docker-base.sh)"
  SHOAL_BIN="$BIN" scripts/docker-base.sh "$BASE"
fi

CTX="$(mktemp -d /tmp/shoal-ctx.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT
cp deploy/Dockerfile deploy/docker-entrypoint.sh deploy/shoal-healthcheck "$CTX/"
cp "$BIN" "$CTX/shoal"
strip "$CTX/shoal" 2>/dev/null || true

echo "== docker build -t $TAG (BASE=$BASE)"
docker build -q --build-arg "BASE=$BASE" -t "$TAG" "$CTX" >/dev/null
echo "== built $TAG: $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec)"
docker run --rm --entrypoint /usr/local/bin/shoal "$TAG" --version
