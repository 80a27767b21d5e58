#!/usr/bin/env bash
# Manage a local Shoal cluster on 127.0.0.1, like Redis's utils/create-cluster.
#
#   scripts/cluster.sh up N BASE_PORT DIR   start N nodes: client ports BASE_PORT..BASE_PORT+N-1,
#                                           cluster-bus ports +10000; wait until a write succeeds
#                                           through `redis-cli -c`; print the client addresses.
#                                           Keep BASE_PORT+10000 below the ephemeral port range
#                                           (Linux: 32768+), e.g. 7000 or 21000
#   scripts/cluster.sh stop-node K DIR      kill node K with SIGKILL (as a crash would)
#   scripts/cluster.sh start-node K DIR     restart node K with the flags it was started with
#   scripts/cluster.sh down DIR             kill every node (data stays in DIR)
#   scripts/cluster.sh status DIR           which nodes run, and each one's role
#
# Node K keeps its data in DIR/nodeK/, logs to DIR/nodeK.log, its pid in DIR/nodeK.pid and
# its command line in DIR/nodeK.flags. The binary is $SHOAL_BIN if set, else
# target/release/shoal (built if missing). Extra flags for every node: $SHOAL_FLAGS
# (e.g. SHOAL_FLAGS="--fsync everysec").
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

shoal_bin() {
  if [ -n "${SHOAL_BIN:-}" ]; then
    [ -x "$SHOAL_BIN" ] || die "SHOAL_BIN=$SHOAL_BIN is not executable"
    echo "$SHOAL_BIN"
    return
  fi
  local target="${CARGO_TARGET_DIR:-$ROOT/target}"
  if [ ! -x "$target/release/shoal" ]; then
    echo "building $target/release/shoal ..." >&2
    (cd "$ROOT" && cargo build --release -q -p shoal-server) >&2
  fi
  echo "$target/release/shoal"
}

is_running() { # DIR K
  local pidfile="$1/node$2.pid"
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Starts node K from DIR/nodeK.flags (binary first, then its arguments, one per line).
launch() { # DIR K
  local dir="$1" k="$2" flags="$1/node$2.flags"
  [ -f "$flags" ] || die "no $flags: was node $k created with 'up'?"
  if is_running "$dir" "$k"; then
    echo "node $k already running (pid $(cat "$dir/node$k.pid"))"
    return
  fi
  local -a cmd
  mapfile -t cmd < "$flags"
  nohup "${cmd[@]}" >> "$dir/node$k.log" 2>&1 < /dev/null &
  echo $! > "$dir/node$k.pid"
}

port_in_use() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# Fails unless every node of DIR started by us is still alive (e.g. it could not bind).
check_alive() { # DIR N
  local k bad=0
  for k in $(seq 1 "$2"); do
    if ! is_running "$1" "$k"; then
      echo "cluster.sh: node $k is not running; end of $1/node$k.log:" >&2
      tail -n 5 "$1/node$k.log" >&2 || true
      bad=1
    fi
  done
  return $bad
}

# Waits until SET through a cluster client (following MOVED) succeeds.
wait_serving() { # PORT...
  command -v redis-cli > /dev/null || die "redis-cli not found (apt-get install redis-tools)"
  local deadline=$((SECONDS + 30)) port
  while [ $SECONDS -lt $deadline ]; do
    for port in "$@"; do
      if [ "$(redis-cli -c -p "$port" SET __cluster_sh_probe ok 2> /dev/null)" = OK ]; then
        redis-cli -c -p "$port" DEL __cluster_sh_probe > /dev/null 2>&1 || true
        return 0
      fi
    done
    sleep 0.1
  done
  return 1
}

cmd_up() {
  [ $# -eq 3 ] || usage
  local n="$1" base="$2" dir="$3"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
  [[ "$base" =~ ^[0-9]+$ ]] && [ "$base" -ge 1 ] && [ $((base + n - 1 + 10000)) -le 65535 ] ||
    die "BASE_PORT must leave room for the cluster-bus ports (port + 10000 <= 65535)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local bin k port members="" ports=()
  bin="$(shoal_bin)"
  for k in $(seq 1 "$n"); do
    members+="${members:+,}$k=127.0.0.1:$((base + k - 1 + 10000))"
    ports+=($((base + k - 1)))
  done
  for k in $(seq 1 "$n"); do
    for port in $((base + k - 1)) $((base + k - 1 + 10000)); do
      ! port_in_use "$port" || die "port $port is already in use (pick another BASE_PORT)"
    done
  done
  for k in $(seq 1 "$n"); do
    local port=$((base + k - 1))
    # shellcheck disable=SC2086 # SHOAL_FLAGS is split into words on purpose
    printf '%s\n' "$bin" --port "$port" --cluster-port $((port + 10000)) --node-id "$k" \
      --initial-cluster "$members" --data-dir "$dir/node$k" ${SHOAL_FLAGS:-} > "$dir/node$k.flags"
    launch "$dir" "$k"
  done
  if ! wait_serving "${ports[@]}"; then
    echo "cluster did not serve within 30 s; logs:" >&2
    tail -n 5 "$dir"/node*.log >&2 || true
    exit 1
  fi
  check_alive "$dir" "$n" || exit 1
  for k in $(seq 1 "$n"); do
    echo "127.0.0.1:$((base + k - 1))"
  done
}

cmd_stop_node() {
  [ $# -eq 2 ] || usage
  local k="$1" dir="$2"
  if is_running "$dir" "$k"; then
    kill -9 "$(cat "$dir/node$k.pid")"
    echo "node $k killed"
  else
    echo "node $k not running"
  fi
  rm -f "$dir/node$k.pid"
}

cmd_start_node() {
  [ $# -eq 2 ] || usage
  launch "$2" "$1"
  echo "node $1 started (pid $(cat "$2/node$1.pid"))"
}

nodes_of() { # DIR -> node numbers with a flags file
  local f
  for f in "$1"/node*.flags; do
    [ -e "$f" ] || continue
    f="${f##*/node}"
    echo "${f%.flags}"
  done | sort -n
}

cmd_down() {
  [ $# -eq 1 ] || usage
  local k
  for k in $(nodes_of "$1"); do
    cmd_stop_node "$k" "$1"
  done
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local k port role
  for k in $(nodes_of "$1"); do
    port="$(sed -n '3p' "$1/node$k.flags")"
    if is_running "$1" "$k"; then
      role="$(redis-cli -p "$port" CLUSTER NODES 2> /dev/null | awk '/myself/ {sub("myself,", "", $3); print $3}' || true)"
      echo "node $k 127.0.0.1:$port pid $(cat "$1/node$k.pid") ${role:-?}"
    else
      echo "node $k 127.0.0.1:$port down"
    fi
  done
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  stop-node) shift; cmd_stop_node "$@" ;;
  start-node) shift; cmd_start_node "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) usage ;;
esac
