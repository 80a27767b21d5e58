#!/usr/bin/env bash
# End-to-end check of deploy/docker-compose.yml from the host, with redis-cli only:
# starts the cluster, writes through redirections, kills the shard leader's container
# (docker kill = SIGKILL), measures how long until a write is acknowledged again through
# a survivor, restarts the killed node and checks that every acknowledged write is there.
#   scripts/docker-smoke.sh          # leaves the cluster running
#   scripts/docker-smoke.sh --down   # and removes it with its volumes afterwards
# Needs: the image (scripts/docker-build.sh), redis-cli, docker-compose or docker compose.
set -euo pipefail
cd "$(dirname "$0")/.."
F=deploy/docker-compose.yml
if docker compose version >/dev/null 2>&1; then DC=(docker compose -f "$F"); else DC=(docker-compose -f "$F"); fi
NET="${SHOAL_NET:-172.28.0}"
declare -A PORT=([shoal1]="${SHOAL_HOST_PORT1:-7101}" [shoal2]="${SHOAL_HOST_PORT2:-7102}" [shoal3]="${SHOAL_HOST_PORT3:-7103}")
ms() { echo $(( $(date +%s%N) / 1000000 )); }
cli() { timeout 2 redis-cli "$@"; }

"${DC[@]}" up -d
echo "== waiting for a leader"
for _ in $(seq 100); do
  cli -p "${PORT[shoal1]}" cluster info 2>/dev/null | grep -q cluster_state:ok && break
  sleep 0.2
done
cli -p "${PORT[shoal1]}" cluster nodes

echo "== 200 writes with redis-cli -c (following MOVED)"
for i in $(seq 200); do
  [ "$(cli -c -p "${PORT[shoal$(( i % 3 + 1 ))]}" set "smoke:$i" "$i")" = OK ] || { echo "SET smoke:$i failed"; exit 1; }
done

leader_ip=$(cli -p "${PORT[shoal1]}" cluster nodes | awk '/master/{split($2,a,":"); print a[1]}')
L="shoal${leader_ip##*.1}"
for s in shoal1 shoal2 shoal3; do [ "$s" != "$L" ] && S=$s; done
echo "== docker kill $L (leader, $leader_ip); writing through $S"
t0=$(ms); docker kill "$L" >/dev/null
n=0; acked=0
while [ $(( $(ms) - t0 )) -lt 15000 ]; do
  n=$((n + 1))
  if [ "$(timeout 0.3 redis-cli -c -p "${PORT[$S]}" set smoke:after-kill "$n" 2>/dev/null)" = OK ]; then acked=$n; break; fi
  sleep 0.02
done
t1=$(ms)
[ "$acked" -gt 0 ] || { echo "FAIL: no write acknowledged within 15 s of the kill"; exit 1; }
echo "first write acknowledged $(( t1 - t0 )) ms after docker kill (attempt $n); new leader: $(cli -p "${PORT[$S]}" cluster nodes | awk '/master/{print $2}')"

echo "== docker start $L"
docker start "$L" >/dev/null
for _ in $(seq 100); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$L")" = healthy ] && break
  sleep 0.2
done
bad=0
for i in $(seq 200); do
  [ "$(cli -c -p "${PORT[$L]}" get "smoke:$i")" = "$i" ] || { echo "lost smoke:$i"; bad=1; }
done
[ "$(cli -c -p "${PORT[$L]}" get smoke:after-kill)" = "$acked" ] || { echo "lost smoke:after-kill"; bad=1; }
[ "$bad" = 0 ] && echo "== all 201 acknowledged writes intact after restart"
"${DC[@]}" ps
if [ "${1:-}" = "--down" ]; then "${DC[@]}" down -v; fi
exit "$bad"
