#!/usr/bin/env python3
"""The Streams quick reference of the users' guide, run as-is with redis-py, plus the
recovery of a crashed consumer's entries (XPENDING / XCLAIM / XAUTOCLAIM).

Usage: streams_quickref.py [host] [port]   (or SHOAL_HOST / SHOAL_PORT; default
127.0.0.1:6379). Asserts what it reads, prints a short summary, exits non-zero on any
mismatch. Safe to run repeatedly against the same server.
"""
import sys
import uuid

import redis

from streams_common import check, connect_args, recovery, summary


def quickref(r):
    # --- Redis Streams Example (verbatim from the guide) ---
    # Add to stream
    added = r.xadd('mystream', {'sensor': 'temp', 'value': '22.5'})

    # Read from stream
    messages = r.xread({'mystream': '0'}, count=10)
    for stream, msgs in messages:
        for msg_id, data in msgs:
            print(f"{msg_id}: {data}")
    check(len(messages) == 1 and messages[0][0] == 'mystream', "XREAD replies for mystream", messages)
    ids = [m for m, _ in messages[0][1]]
    check(1 <= len(ids) <= 10, "XREAD COUNT 10 returns 1..10 entries", ids)
    if r.xlen('mystream') <= 10:
        check(added in ids, "the entry just added is read back", (added, ids))
    check(all(set(d) == {'sensor', 'value'} for _, d in messages[0][1]),
          "fields read back", messages[0][1])

    # --- Consumer Group Example (verbatim, with BUSYGROUP handled as a user would on
    # a second run: the group already exists, which is fine) ---
    # Create consumer group
    try:
        r.xgroup_create('mystream', 'mygroup', id='0', mkstream=True)
    except redis.exceptions.ResponseError as e:
        check(str(e).startswith('Consumer Group name already exists')
              or 'BUSYGROUP' in str(e), "second XGROUP CREATE fails with BUSYGROUP", str(e))

    # Consume as group member
    processed = 0
    messages = r.xreadgroup('mygroup', 'consumer1', {'mystream': '>'}, count=1)
    for stream, msgs in messages:
        for msg_id, data in msgs:
            print(f"Processing: {msg_id}: {data}")
            acked = r.xack('mystream', 'mygroup', msg_id)  # Acknowledge
            check(acked == 1, "XACK acknowledges one entry", acked)
            processed += 1
    check(processed == 1, "XREADGROUP > COUNT 1 delivers one entry", messages)
    return processed


def main():
    host, port = connect_args(sys.argv)
    r = redis.Redis(host=host, port=port, decode_responses=True)
    check(r.ping() is True, "PING", None)
    quickref(r)
    recovery(r, f"orders:{uuid.uuid4().hex[:12]}")
    summary("streams_quickref", host, port)


if __name__ == '__main__':
    main()
