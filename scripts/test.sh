#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine (redis-server and
# redis-tools as the reference server, redis-py for the example programs), then runs
# every test of the workspace. Usage: scripts/test.sh [extra nextest/cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1 \
   || ! command -v redis-benchmark >/dev/null 2>&1; then
  echo "== installing redis-server and redis-tools (reference server for differential tests)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
if ! python3 -c 'import redis' >/dev/null 2>&1; then
  echo "== installing redis-py (the example programs use it)"
  python3 -m pip install -q redis 2>/dev/null || python3 -m pip install -q --break-system-packages redis
fi

echo "== $(redis-server --version)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
