#!/usr/bin/env python3
"""The Streams quick reference and the crashed-consumer recovery, through redis-py's
cluster client (redis.cluster.RedisCluster): Shoal is always a cluster, here of one node.

Usage: streams_cluster.py [host] [port]   (or SHOAL_HOST / SHOAL_PORT; default
127.0.0.1:6379). Exits non-zero on any mismatch.
"""
import sys
import uuid

from redis.cluster import RedisCluster

from streams_common import check, connect_args, recovery, summary
from streams_quickref import quickref


def main():
    host, port = connect_args(sys.argv)
    rc = RedisCluster(host=host, port=port, decode_responses=True)
    nodes = rc.get_nodes()
    check(len(nodes) >= 1, "the cluster client discovered the node(s)", nodes)
    check(rc.ping() is True, "PING", None)
    quickref(rc)
    # A hash tag keeps the example's keys together, as a cluster user would.
    recovery(rc, f"{{orders}}:{uuid.uuid4().hex[:12]}")
    summary("streams_cluster", host, port)


if __name__ == '__main__':
    main()
