#!/usr/bin/env bash
# Side-by-side benchmark: the same load against a fresh release `shoal` and a fresh
# `redis-server` on loopback, alternating per test, printing requests/s for both and the
# ratio shoal/redis.
#
# Part 1: one shoal node (--fsync no) vs redis-server with persistence off.
# Part 2: a three-node shoal cluster with --fsync always vs redis-server with
#         appendonly yes + appendfsync always, and appendfsync everysec.
#
# Usage: scripts/bench.sh [quick] [part1|part2]   ("quick": fewer requests, a smoke run)
# Env:   SHOAL_PORT (default 7701), REDIS_PORT (7702), CLIENTS (50),
#        ROUNDS (1): run each throughput and fan-out test this many times, servers
#        alternating, and print the medians (this VM's rounds differ by up to 30 %)
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${1:-}
PART=${2:-all}
SHOAL_PORT=${SHOAL_PORT:-7701}
REDIS_PORT=${REDIS_PORT:-7702}
CLIENTS=${CLIENTS:-50}
ROUNDS=${ROUNDS:-1}
WORK=$(mktemp -d /tmp/shoal-bench.XXXXXX)
scale() { if [ "$QUICK" = quick ]; then echo $(( $1 / 10 )); else echo "$1"; fi; }

for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "missing $tool: apt-get install redis-server redis-tools" >&2; exit 1; }
done

echo "== building release shoal and shoal-bench"
cargo build --release -q -p shoal-server -p shoal-bench
SHOAL_BIN=target/release/shoal
BENCH_BIN=target/release/shoal-bench

SHOAL_PID=""; REDIS_PID=""; CLUSTER_PIDS=""; A_PID=""; E_PID=""
cleanup() {
  for pid in $SHOAL_PID $REDIS_PID $CLUSTER_PIDS $A_PID $E_PID; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }

start_servers() {
  cleanup_servers
  # Persistence off on the Redis side: Shoal still writes its Raft log (to the page
  # cache, --fsync no) and applies every write through it.
  rm -rf "$WORK/shoal"
  "$SHOAL_BIN" --port "$SHOAL_PORT" --data-dir "$WORK/shoal" --fsync no --log-level error &
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

med() { # the median of the numbers on stdin
  sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
medians() { # port... -- n pipeline args...: ROUNDS rounds over the ports in turn; their medians
  local ports=() port i
  while [ "$1" != -- ]; do ports+=("$1"); shift; done
  shift
  local -A got
  for i in $(seq 1 "$ROUNDS"); do
    for port in "${ports[@]}"; do got[$port]+="$(rps "$port" "$@") "; done
  done
  for port in "${ports[@]}"; do printf '%s ' "$(echo "${got[$port]}" | tr ' ' '\n' | grep . | med)"; done
  echo
}

if [ "$PART" = all ] || [ "$PART" = part1 ]; then
echo "== part 1: one shoal node (--fsync no) vs redis-server, persistence off$([ "$ROUNDS" -gt 1 ] && echo ", medians of $ROUNDS rounds")"
printf '%-34s %14s %14s %8s\n' "test" "shoal rps" "redis rps" "ratio"
row() { # label shoal redis
  awk -v l="$1" -v s="$2" -v r="$3" 'BEGIN { printf "%-34s %14.0f %14.0f %8.2f\n", l, s, r, (r > 0 ? s / r : 0) }'
}

start_servers
for P in 1 16; do
  if [ "$P" = 1 ]; then N=$(scale 200000); else N=$(scale 2000000); fi
  for T in PING_INLINE SET GET INCR MSET LPUSH LPOP SADD ZADD HSET; do
    read -r s r < <(medians "$SHOAL_PORT" "$REDIS_PORT" -- "$N" "$P" -t "$T")
    row "$T -P $P" "$s" "$r"
  done
  # PUBLISH with no subscribers.
  read -r s r < <(medians "$SHOAL_PORT" "$REDIS_PORT" -- "$N" "$P" PUBLISH bench:nobody hello)
  row "PUBLISH (no subscribers) -P $P" "$s" "$r"
  # Streams: appends, and reads of 100 entries (the stream is pre-filled by the XADDs).
  read -r s r < <(medians "$SHOAL_PORT" "$REDIS_PORT" -- "$N" "$P" XADD bench:stream '*' sensor temp value 22.5)
  row "XADD -P $P" "$s" "$r"
  read -r s r < <(medians "$SHOAL_PORT" "$REDIS_PORT" -- "$((N / 10))" "$P" XRANGE bench:stream - + COUNT 100)
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
fmed() { # outputs key: the median of field `key` over the rounds' output lines
  echo "$1" | grep . | while read -r l; do echo "$l" | field "$2"; done | med
}
for SUBS in 1 10 100; do
  n=$(( MSGS / SUBS )); [ "$n" -lt 2000 ] && n=2000
  so=""; ro=""
  for _ in $(seq 1 "$ROUNDS"); do
    so+="$("$BENCH_BIN" --port "$SHOAL_PORT" fanout --subscribers "$SUBS" --messages "$n")"$'\n'
    ro+="$("$BENCH_BIN" --port "$REDIS_PORT" fanout --subscribers "$SUBS" --messages "$n")"$'\n'
  done
  row "fanout 1->$SUBS delivered/s" "$(fmed "$so" delivered_per_sec)" "$(fmed "$ro" delivered_per_sec)"
  printf '%-34s %14s %14s\n' "fanout 1->$SUBS p50/p99 ms" "$(fmed "$so" p50_ms)/$(fmed "$so" p99_ms)" "$(fmed "$ro" p50_ms)/$(fmed "$ro" p99_ms)"
done

# Memory: 1M string keys key:N -> 3-byte value, loaded with redis-cli --pipe.
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# At rest: waits (at most 20 s) until neither server's RSS moved for two seconds. Shoal
# snapshots its keyspace and purges its log once writes pause for a second; while the
# snapshot is written its encoding is resident, and a fixed sleep caught it or not.
settle() {
  local prev="" cur same=0
  for _ in $(seq 1 20); do
    sleep 1
    cur="$(rss_kb "$SHOAL_PID") $(rss_kb "$REDIS_PID")"
    if [ "$cur" = "$prev" ]; then
      same=$((same + 1))
      [ "$same" -ge 2 ] && return 0
    else
      same=0
    fi
    prev=$cur
  done
}
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
settle
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
settle
s_kb=$(rss_kb "$SHOAL_PID"); r_kb=$(rss_kb "$REDIS_PID")
printf '%-34s %14s %14s %8s\n' "memory ($KEYS XADDs)" "shoal RSS KiB" "redis RSS KiB" "ratio"
awk -v s="$s_kb" -v r="$r_kb" 'BEGIN { printf "%-34s %14d %14d %8.2f\n", "RSS holding the stream", s, r, s / r }'
cleanup_servers
fi

if [ "$PART" = all ] || [ "$PART" = part2 ]; then
echo
echo "== part 2: three shoal nodes (Raft, --fsync always) vs redis-server with AOF"
C1=$((SHOAL_PORT + 100)); C2=$((C1 + 1)); C3=$((C1 + 2))
IC="1=127.0.0.1:$((C1 + 10000)),2=127.0.0.1:$((C2 + 10000)),3=127.0.0.1:$((C3 + 10000))"
for i in 1 2 3; do
  port=$((C1 + i - 1))
  "$SHOAL_BIN" --port "$port" --node-id "$i" --initial-cluster "$IC" --data-dir "$WORK/c$i" --log-level error &
  CLUSTER_PIDS="$CLUSTER_PIDS $!"
done
for port in $C1 $C2 $C3; do wait_port "$port"; done
LEADER=""
for _ in $(seq 1 100); do
  for port in $C1 $C2 $C3; do
    if redis-cli -p "$port" cluster nodes 2>/dev/null | grep -q 'myself,master'; then LEADER=$port; fi
  done
  [ -n "$LEADER" ] && break
  sleep 0.1
done
[ -n "$LEADER" ] || { echo "no leader elected" >&2; exit 1; }
A_PORT=$((REDIS_PORT + 200)); E_PORT=$((REDIS_PORT + 201))
redis-server --port "$A_PORT" --save '' --appendonly yes --appendfsync always --dir "$WORK" --appendfilename a.aof --daemonize no >/dev/null &
A_PID=$!
mkdir -p "$WORK/e"
redis-server --port "$E_PORT" --save '' --appendonly yes --appendfsync everysec --dir "$WORK/e" --daemonize no >/dev/null &
E_PID=$!
wait_port "$A_PORT"; wait_port "$E_PORT"
printf '%-34s %14s %14s %14s %8s %8s\n' "test" "shoal rps" "aof always" "aof everysec" "/always" "/every"
row3() {
  awk -v l="$1" -v s="$2" -v a="$3" -v e="$4" 'BEGIN { printf "%-34s %14.0f %14.0f %14.0f %8.2f %8.2f\n", l, s, a, e, (a > 0 ? s / a : 0), (e > 0 ? s / e : 0) }'
}
for P in 1 16; do
  if [ "$P" = 1 ]; then N=$(scale 100000); else N=$(scale 1000000); fi
  read -r s a e < <(medians "$LEADER" "$A_PORT" "$E_PORT" -- "$N" "$P" XADD bench:stream '*' sensor temp value 22.5)
  row3 "XADD -c $CLIENTS -P $P" "$s" "$a" "$e"
  [ "$P" = 1 ] && PEAK=$s
done
echo
printf '%-34s %20s %20s %20s\n' "latency p50/p99 ms" "shoal" "aof always" "aof everysec"
lat() { "$BENCH_BIN" --port "$1" latency --requests "$2" --clients "$3" --rate "$4" XADD lat:stream '*' f v | tr ' ' '\n' | awk -F= '$1=="p50_ms"{p50=$2} $1=="p99_ms"{p99=$2} END {print p50 "/" p99}'; }
LN=$(scale 20000)
printf '%-34s %20s %20s %20s\n' "one client, back to back" "$(lat "$LEADER" "$LN" 1 0)" "$(lat "$A_PORT" "$LN" 1 0)" "$(lat "$E_PORT" "$LN" 1 0)"
HALF=$(awk -v p="$PEAK" 'BEGIN { printf "%d", p / 2 }')
printf '%-34s %20s %20s %20s\n' "50 clients at $HALF/s (half peak)" "$(lat "$LEADER" "$((LN * 2))" 50 "$HALF")" "$(lat "$A_PORT" "$((LN * 2))" 50 "$HALF")" "$(lat "$E_PORT" "$((LN * 2))" 50 "$HALF")"
kill $CLUSTER_PIDS "$A_PID" "$E_PID" 2>/dev/null || true
wait $CLUSTER_PIDS "$A_PID" "$E_PID" 2>/dev/null || true
fi
