#!/usr/bin/env bash
# A/B of server binaries by throughput and server CPU time per request: the way to judge a
# change on this noisy VM (a single bench.sh run moves by up to 30 %; CPU time per request
# from /proc moves by a few percent). Each round starts every binary fresh, in turn.
#
#   scripts/ab.sh BIN_A BIN_B [...] -- REDIS_BENCHMARK_ARGS
#   scripts/ab.sh target/release/shoal /tmp/shoal-old redis -- -t set
#   CLUSTER=1 scripts/ab.sh target/release/shoal /tmp/shoal-old -- XADD s '*' f v
#
# A binary is a path to a `shoal` or the word `redis` (redis-server, persistence off).
# Single node: `shoal --fsync no`, as bench.sh's part 1. CLUSTER=1: three nodes on
# loopback with --fsync always, the load sent to the leader; per node the CPU time per
# acknowledged write, and the commands per Raft entry (INFO master_repl_offset).
# Env: ROUNDS (3), P pipeline (16), N requests (1000000 at -P 16, 200000 at -P 1),
#      CLIENTS (50), PORT (7990; a cluster uses PORT..PORT+2 and PORT+10000..),
#      TMPDIR (/tmp) for the data directories: TMPDIR=/dev/shm keeps the file system's
#      costs out of an A/B (on this VM's ext4 they drift from round to round).
set -euo pipefail
cd "$(dirname "$0")/.."

bins=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do bins+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#bins[@]} -gt 0 ] && [ $# -gt 0 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ROUNDS=${ROUNDS:-3}
P=${P:-16}
if [ "$P" = 1 ]; then N=${N:-200000}; else N=${N:-1000000}; fi
CLIENTS=${CLIENTS:-50}
PORT=${PORT:-7990}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-ab.XXXXXX")
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop; [ -d "$WORK/cl" ] && scripts/cluster.sh down "$WORK/cl" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

cpu_ticks() { awk '{ print $14 + $15, $14, $15 }' "/proc/$1/stat"; } # total user sys
wait_port() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }
load() { # port n -> requests per second
  redis-benchmark -p "$1" -c "$CLIENTS" -n "$2" -P "$P" --csv "${ARGS[@]}" 2>/dev/null | awk -F'"' 'NR==2 { print $4 }'
}
ARGS=("$@")
TICK=$(getconf CLK_TCK)

single() { # bin
  rm -rf "$WORK/data"
  if [ "$1" = redis ]; then
    redis-server --port "$PORT" --save '' --appendonly no --dir "$WORK" >/dev/null &
  else
    "$1" --port "$PORT" --data-dir "$WORK/data" --fsync no --log-level error &
  fi
  PIDS=($!)
  wait_port "$PORT"
  load "$PORT" $((N / 10)) >/dev/null # warm-up
  local t0 t1 rps
  read -r -a t0 < <(cpu_ticks "${PIDS[0]}")
  rps=$(load "$PORT" "$N")
  read -r -a t1 < <(cpu_ticks "${PIDS[0]}")
  awk -v r="$rps" -v n="$N" -v hz="$TICK" -v a=$((t1[0] - t0[0])) -v u=$((t1[1] - t0[1])) -v s=$((t1[2] - t0[2])) \
    'BEGIN { k = 1e6 / hz / n; printf "%10.0f/s  cpu %.2f us/req (user %.2f, sys %.2f)\n", r, a * k, u * k, s * k }'
  stop
}

cluster() { # bin: scripts/cluster.sh starts the nodes
  [ "$1" != redis ] || { echo "CLUSTER=1 takes shoal binaries only" >&2; exit 2; }
  rm -rf "$WORK/cl"
  SHOAL_BIN="$1" SHOAL_FLAGS="--log-level error" scripts/cluster.sh up 3 "$PORT" "$WORK/cl" >/dev/null
  local i leader="" pids=() t0=() rps e0 e1 out
  for i in 1 2 3; do pids+=("$(cat "$WORK/cl/node$i.pid")"); done
  # A write went through, but a node may report its leadership a moment later.
  for _ in $(seq 1 50); do
    for i in 1 2 3; do
      redis-cli -p $((PORT + i - 1)) cluster nodes 2>/dev/null | grep -q 'myself,master' && leader=$i
    done
    [ -n "$leader" ] && break
    sleep 0.1
  done
  [ -n "$leader" ] || { echo "no leader" >&2; exit 1; }
  local lport=$((PORT + leader - 1))
  load "$lport" $((N / 10)) >/dev/null
  for i in 1 2 3; do t0+=("$(cpu_ticks "${pids[$((i - 1))]}" | cut -d' ' -f1)"); done
  e0=$(redis-cli -p "$lport" info replication | awk -F: '/master_repl_offset/ { print $2 + 0 }')
  rps=$(load "$lport" "$N")
  e1=$(redis-cli -p "$lport" info replication | awk -F: '/master_repl_offset/ { print $2 + 0 }')
  out=$(printf '%10.0f/s  %5.1f cmds/entry ' "$rps" "$(awk -v n="$N" -v e=$((e1 - e0)) 'BEGIN { print n / (e > 0 ? e : 1) }')")
  for i in 1 2 3; do
    local t role=follower
    t=$(cpu_ticks "${pids[$((i - 1))]}" | cut -d' ' -f1)
    [ "$i" = "$leader" ] && role=leader
    out+=$(awk -v r=$role -v d=$((t - t0[i - 1])) -v n="$N" -v hz="$TICK" 'BEGIN { printf " %s %.2f us", r, d * 1e6 / hz / n }')
  done
  echo "$out"
  scripts/cluster.sh down "$WORK/cl" >/dev/null
}

for r in $(seq 1 "$ROUNDS"); do
  for b in "${bins[@]}"; do
    printf 'round %d  %-28s ' "$r" "$b"
    if [ -n "${CLUSTER:-}" ]; then cluster "$b"; else single "$b"; fi
  done
done
