#!/bin/bash
# Starts shoal with the arguments given (the image's CMD or the compose/Kubernetes
# `command`/`args`), adding --node-id when they do not contain one:
#   - SHOAL_NODE_ID, when set;
#   - otherwise the ordinal of a StatefulSet pod's hostname (`shoal-0` -> node 1,
#     `shoal-2` -> node 3), when the hostname ends in -<number>.
# Raft node ids must be positive and stable across restarts; a pod's ordinal is both.
# A first argument that does not start with '-' is run as a command instead (e.g.
# `docker run shoal:local bash`).
set -euo pipefail

if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

has_node_id=0
for a in "$@"; do
  case "$a" in --node-id|--node-id=*) has_node_id=1 ;; esac
done

extra=()
if [ "$has_node_id" = 0 ]; then
  host="${HOSTNAME:-}"
  if [ -n "${SHOAL_NODE_ID:-}" ]; then
    extra+=(--node-id "$SHOAL_NODE_ID")
  elif [[ "$host" =~ -([0-9]+)$ ]]; then
    extra+=(--node-id "$(( BASH_REMATCH[1] + 1 ))")
  fi
fi

exec /usr/local/bin/shoal "${extra[@]}" "$@"
