#!/usr/bin/env bash
# Side-by-side benchmark: the same load against a fresh release `shoal` and a fresh
# `redis-server` (persistence off) on loopback, alternating per test, printing
# requests/s for both and the ratio shoal/redis.
#
# Usage: scripts/bench.sh [quick]   ("quick" uses fewer requests, for a smoke run)
# Env:   SHOAL_PORT (default 7701), REDIS_PORT (7702), CLIENTS (50)
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${1:-}
SHOAL_PORT=${SHOAL_PORT:-7701}
REDIS_PORT=${REDIS_PORT:-7702}
CLIENTS=${CLIENTS:-50}
WORK=$(mktemp -d /tmp/shoal-bench.XXXXXX)
scale() { if [ "$QUICK" = quick ]; then echo $(( $1 / 10 )); else echo "$1"; fi; }

for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "missing $tool: apt-get install redis-server redis-tools" >&2; exit 1; }
done

echo "== building release shoal and shoal-bench"
cargo build --release -q -p shoal-server -p shoal-bench
SHOAL_BIN=target/release/shoal
BENCH_BIN=target/release/shoal-bench

SHOAL_PID=""; REDIS_PID=""
cleanup() {
  [ -n "$SHOAL_PID" ] && kill "$SHOAL_PID" 2>/dev/null || true
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }

start_servers() {
  cleanup_servers
  "$SHOAL_BIN" --port "$SHOAL_PORT" --data-dir "$WORK/shoal" --log-level warn &
  SHOAL_PID=$!
  redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK" --daemonize no >/dev/null &
  REDIS_PID=$!
  wait_port "$SHOAL_PORT"; wait_port "$REDIS_PORT"
}
cleanup_servers() {
  [ -n "$SHOAL_PID" ] && kill "$SHOAL_PID" 2>/dev/null && wait "$SHOAL_PID" 2>/dev/null || true
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
  SHOAL_PID=""; REDIS_PID=""
}

rps() { # port n pipeline args...
  local port=$1 n=$2 p=$3; shift 3
  redis-benchmark -p "$port" -c "$CLIENTS" -n "$n" -P "$p" --csv "$@" 2>/dev/null \
    | awk -F'"' 'NR==2 {print $4}'
}

printf '%-34s %14s %14s %8s\n' "test" "shoal rps" "redis rps" "ratio"
row() { # label shoal redis
  awk -v l="$1" -v s="$2" -v r="$3" 'BEGIN { printf "%-34s %14.0f %14.0f %8.2f\n", l, s, r, (r > 0 ? s / r : 0) }'
}

start_servers
for P in 1 16; do
  if [ "$P" = 1 ]; then N=$(scale 200000); else N=$(scale 2000000); fi
  for T in PING_INLINE SET GET INCR MSET LPUSH LPOP SADD ZADD HSET; do
    s=$(rps "$SHOAL_PORT" "$N" "$P" -t "$T")
    r=$(rps "$REDIS_PORT" "$N" "$P" -t "$T")
    row "$T -P $P" "$s" "$r"
  done
  # Streams: appends, and reads of 100 entries (the stream is pre-filled by the XADDs).
  s=$(rps "$SHOAL_PORT" "$N" "$P" XADD bench:stream '*' sensor temp value 22.5)
  r=$(rps "$REDIS_PORT" "$N" "$P" XADD bench:stream '*' sensor temp value 22.5)
  row "XADD -P $P" "$s" "$r"
  s=$(rps "$SHOAL_PORT" "$((N / 10))" "$P" XRANGE bench:stream - + COUNT 100)
  r=$(rps "$REDIS_PORT" "$((N / 10))" "$P" XRANGE bench:stream - + COUNT 100)
  row "XRANGE COUNT 100 -P $P" "$s" "$r"
done

# Our own tool: what redis-benchmark cannot express.
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
echo
ENTRIES=$(scale 200000)
s=$("$BENCH_BIN" --port "$SHOAL_PORT" group --entries "$ENTRIES" --consumers 4 --count 100 | field entries_per_sec)
r=$("$BENCH_BIN" --port "$REDIS_PORT" group --entries "$ENTRIES" --consumers 4 --count 100 | field entries_per_sec)
row "group: 4x XREADGROUP 100 + XACK" "$s" "$r"
MSGS=$(scale 200000)
for SUBS in 1 10 100; do
  n=$(( MSGS / SUBS )); [ "$n" -lt 2000 ] && n=2000
  if so=$("$BENCH_BIN" --port "$SHOAL_PORT" fanout --subscribers "$SUBS" --messages "$n" 2>/dev/null); then
    ro=$("$BENCH_BIN" --port "$REDIS_PORT" fanout --subscribers "$SUBS" --messages "$n")
    row "fanout 1->$SUBS delivered/s" "$(echo "$so" | field delivered_per_sec)" "$(echo "$ro" | field delivered_per_sec)"
    printf '%-34s %14s %14s\n' "fanout 1->$SUBS p50/p99 ms" "$(echo "$so" | field p50_ms)/$(echo "$so" | field p99_ms)" "$(echo "$ro" | field p50_ms)/$(echo "$ro" | field p99_ms)"
  else
    echo "fanout 1->$SUBS: shoal does not serve PUBLISH yet"
  fi
done

# Memory: 1M string keys key:N -> 3-byte value, loaded with redis-cli --pipe.
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
start_servers
KEYS=$(scale 1000000)
python3 - "$KEYS" > "$WORK/keys.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    k = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nabc\r\n" % (len(k), k))
PY
base_s=$(rss_kb "$SHOAL_PID"); base_r=$(rss_kb "$REDIS_PID")
redis-cli -p "$SHOAL_PORT" --pipe < "$WORK/keys.resp" >/dev/null
redis-cli -p "$REDIS_PORT" --pipe < "$WORK/keys.resp" >/dev/null
s_kb=$(rss_kb "$SHOAL_PID"); r_kb=$(rss_kb "$REDIS_PID")
echo
printf '%-34s %14s %14s %8s\n' "memory ($KEYS keys)" "shoal RSS KiB" "redis RSS KiB" "ratio"
awk -v s="$s_kb" -v r="$r_kb" 'BEGIN { printf "%-34s %14d %14d %8.2f\n", "RSS holding the keys", s, r, s / r }'
awk -v s="$((s_kb - base_s))" -v r="$((r_kb - base_r))" 'BEGIN { printf "%-34s %14d %14d %8.2f\n", "RSS growth", s, r, s / r }'

# Memory: 1M XADDs of `sensor temp value 22.5`.
start_servers
base_s=$(rss_kb "$SHOAL_PID"); base_r=$(rss_kb "$REDIS_PID")
redis-benchmark -p "$SHOAL_PORT" -c 50 -n "$KEYS" -P 16 XADD mem:stream '*' sensor temp value 22.5 >/dev/null 2>&1
redis-benchmark -p "$REDIS_PORT" -c 50 -n "$KEYS" -P 16 XADD mem:stream '*' sensor temp value 22.5 >/dev/null 2>&1
s_kb=$(rss_kb "$SHOAL_PID"); r_kb=$(rss_kb "$REDIS_PID")
printf '%-34s %14s %14s %8s\n' "memory ($KEYS XADDs)" "shoal RSS KiB" "redis RSS KiB" "ratio"
awk -v s="$s_kb" -v r="$r_kb" 'BEGIN { printf "%-34s %14d %14d %8.2f\n", "RSS holding the stream", s, r, s / r }'
cleanup_servers
