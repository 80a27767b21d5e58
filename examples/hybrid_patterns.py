#!/usr/bin/env python3
"""Tutorial 05 of the users' guide, "Combining with Redis Data Structures", as runnable
redis-py code: the four hybrid patterns, each checked.

  1. Task queue: RPUSH a task + PUBLISH a notification; a worker thread BLPOPs (with a
     timeout) while a subscriber thread receives the notification.
  2. Unique events: SADD deduplicates, only first occurrences are announced.
  3. Priority queue: ZADD with a priority score; a BZPOPMIN worker takes the most urgent.
  4. Task metadata: HSET the task's fields, HGETALL them, HINCRBY its attempts.

The script has two clearly separated parts:

  data    the data-structure half of every pattern (lists, sets, sorted sets, hashes,
          blocking pops from worker threads);
  pubsub  the Pub/Sub half (SUBSCRIBE in a thread, PUBLISH the notifications and check
          who heard them).

Usage: hybrid_patterns.py [host] [port] [--part all|data|pubsub]
       (or SHOAL_HOST / SHOAL_PORT; default 127.0.0.1:6379, --part all).
Asserts what it observes, prints a summary, exits non-zero on any mismatch. Every run
uses fresh keys (one hash tag, so it also works on a cluster node owning that slot).
"""
import os
import queue
import sys
import threading
import time
import uuid

import redis

CHECKS = []
SERVER = {}


def another_client():
    """A separate connection (a worker thread must not share the main one)."""
    return redis.Redis(host=SERVER['host'], port=SERVER['port'], decode_responses=True)


def check(ok, what, got):
    CHECKS.append(what)
    if not ok:
        print(f"MISMATCH: {what}: got {got!r}", file=sys.stderr)
        sys.exit(1)


def parse_args(argv):
    host = os.environ.get('SHOAL_HOST', '127.0.0.1')
    port = int(os.environ.get('SHOAL_PORT', '6379'))
    part = 'all'
    positional = []
    it = iter(argv[1:])
    for a in it:
        if a == '--part':
            part = next(it, 'all')
        elif a.startswith('--part='):
            part = a.split('=', 1)[1]
        else:
            positional.append(a)
    if positional:
        host = positional[0]
    if len(positional) > 1:
        port = int(positional[1])
    if part not in ('all', 'data', 'pubsub'):
        sys.exit(f"--part must be all, data or pubsub, not {part!r}")
    return host, port, part


def in_thread(fn, *args):
    """Runs fn(*args) in a thread; returns a function that joins and gives its result."""
    out = queue.Queue()

    def run():
        try:
            out.put(('ok', fn(*args)))
        except Exception as e:  # surfaced by the caller's check
            out.put(('error', e))

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def result(timeout=10):
        t.join(timeout)
        check(not t.is_alive(), f"thread {fn.__name__} finished", None)
        status, value = out.get_nowait()
        check(status == 'ok', f"thread {fn.__name__} raised nothing", value)
        return value

    return result


# ---------------------------------------------------------------- data structures part

def task_queue_worker(r, key):
    """Pattern 1's worker: blocks on the queue with a timeout."""
    return r.blpop([key], timeout=5)


def pattern1_task_queue(r, k):
    queue_key = f"{k}:tasks"
    # A worker already waiting when the task arrives.
    result = in_thread(task_queue_worker, another_client(), queue_key)
    time.sleep(0.2)
    n = r.rpush(queue_key, 'task:1')
    check(n == 1, "RPUSH task:1 queues one task", n)
    got = result()
    check(got == (queue_key, 'task:1') or got == [queue_key, 'task:1'],
          "the blocked BLPOP worker receives task:1", got)
    # Tasks queued before the worker asks are taken in FIFO order.
    r.rpush(queue_key, 'task:2', 'task:3')
    got = [r.blpop([queue_key], timeout=1)[1] for _ in range(2)]
    check(got == ['task:2', 'task:3'], "BLPOP takes queued tasks in order", got)
    # Nothing left: BLPOP times out with None.
    t0 = time.monotonic()
    got = r.blpop([queue_key], timeout=0.3)
    check(got is None, "BLPOP on an empty queue times out with None", got)
    check(time.monotonic() - t0 >= 0.25, "BLPOP waited for its timeout", time.monotonic() - t0)


def pattern2_dedup(r, k):
    seen_key = f"{k}:seen"
    events = ['login:alice', 'login:bob', 'login:alice', 'logout:bob', 'login:bob', 'login:alice']
    fresh = [e for e in events if r.sadd(seen_key, e) == 1]
    check(fresh == ['login:alice', 'login:bob', 'logout:bob'],
          "SADD returns 1 only for first occurrences", fresh)
    check(r.scard(seen_key) == 3, "SCARD counts unique events", r.scard(seen_key))
    check(r.sismember(seen_key, 'login:bob') in (1, True), "SISMEMBER finds a seen event", None)
    check(r.sismember(seen_key, 'login:carol') in (0, False), "SISMEMBER misses an unseen event", None)
    check(r.smembers(seen_key) == set(fresh), "SMEMBERS is the unique events", r.smembers(seen_key))
    return fresh


def priority_worker(r, key, n):
    return [r.bzpopmin([key], timeout=5) for _ in range(n)]


def pattern3_priority(r, k):
    pq = f"{k}:priority"
    # A worker blocked on the empty queue is served by the first ZADD.
    result = in_thread(priority_worker, another_client(), pq, 1)
    time.sleep(0.2)
    r.zadd(pq, {'urgent-fix': 1})
    got = result()
    check(len(got) == 1 and got[0] is not None and tuple(got[0]) == (pq, 'urgent-fix', 1.0),
          "the blocked BZPOPMIN worker gets the first task", got)
    # Lower score = higher priority.
    added = r.zadd(pq, {'newsletter': 10, 'invoice': 5, 'security-patch': 1, 'backup': 7})
    check(added == 4, "ZADD adds four prioritized tasks", added)
    order = [r.bzpopmin([pq], timeout=1)[1] for _ in range(4)]
    check(order == ['security-patch', 'invoice', 'backup', 'newsletter'],
          "BZPOPMIN takes tasks by priority", order)
    got = r.bzpopmin([pq], timeout=0.2)
    check(got is None, "BZPOPMIN on an empty queue times out with None", got)
    check(r.exists(pq) == 0, "the emptied sorted set is deleted", r.exists(pq))


def pattern4_metadata(r, k):
    task = f"{k}:task:42"
    n = r.hset(task, mapping={'type': 'email', 'to': 'alice@example.com', 'status': 'queued',
                              'attempts': 0})
    check(n == 4, "HSET creates four fields", n)
    meta = r.hgetall(task)
    check(meta == {'type': 'email', 'to': 'alice@example.com', 'status': 'queued', 'attempts': '0'},
          "HGETALL returns the metadata", meta)
    for expected in (1, 2, 3):
        got = r.hincrby(task, 'attempts', 1)
        check(got == expected, f"HINCRBY attempts -> {expected}", got)
    r.hset(task, 'status', 'done')
    check(r.hget(task, 'status') == 'done', "HSET updates the status", r.hget(task, 'status'))
    check(r.hmget(task, 'attempts', 'missing') == ['3', None], "HMGET attempts and a missing field",
          r.hmget(task, 'attempts', 'missing'))
    check(r.hlen(task) == 4, "HLEN", r.hlen(task))


def data_part(r, k):
    pattern1_task_queue(r, k)
    fresh = pattern2_dedup(r, k)
    pattern3_priority(r, k)
    pattern4_metadata(r, k)
    return fresh


# ---------------------------------------------------------------- pub/sub part

def listen(p, n):
    """Collects n messages from an already-subscribed PubSub object."""
    got = []
    deadline = time.monotonic() + 5
    while len(got) < n and time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if m and m['type'] == 'message':
            got.append((m['channel'], m['data']))
    return got


def subscribed(r, channel):
    p = r.pubsub()
    try:
        p.subscribe(channel)
        m = p.get_message(timeout=2)
    except redis.exceptions.RedisError as e:
        check(False, "SUBSCRIBE is supported by the server", str(e))
    check(m is not None and m['type'] == 'subscribe', f"SUBSCRIBE {channel} confirmed", m)
    return p


def publish(r, channel, message):
    try:
        return r.publish(channel, message)
    except redis.exceptions.RedisError as e:
        check(False, "PUBLISH is supported by the server", str(e))


def pubsub_part(r, k):
    # Pattern 1: RPUSH + PUBLISH; the worker BLPOPs, the subscriber hears about it.
    channel = f"{k}:task-events"
    queue_key = f"{k}:ps:tasks"
    sub = subscribed(r, channel)
    heard = in_thread(listen, sub, 1)
    worker = in_thread(task_queue_worker, another_client(), queue_key)
    time.sleep(0.2)
    r.rpush(queue_key, 'task:99')
    receivers = publish(r, channel, 'new-task:task:99')
    check(receivers == 1, "PUBLISH reaches the one subscriber", receivers)
    got = worker()
    check(got is not None and list(got) == [queue_key, 'task:99'], "the worker BLPOPs task:99", got)
    check(heard() == [(channel, 'new-task:task:99')], "the subscriber thread got the notification", None)
    sub.close()

    # Pattern 2: announce only first occurrences.
    channel = f"{k}:unique-events"
    seen_key = f"{k}:ps:seen"
    sub = subscribed(r, channel)
    events = ['deploy:v1', 'deploy:v1', 'deploy:v2', 'deploy:v1']
    for e in events:
        if r.sadd(seen_key, e):
            publish(r, channel, e)
    got = [m for _, m in listen(sub, 2)]
    check(got == ['deploy:v1', 'deploy:v2'], "only unique events are published", got)
    sub.close()

    # Pattern 3: priority task added, workers notified.
    channel = f"{k}:priority-events"
    pq = f"{k}:ps:priority"
    sub = subscribed(r, channel)
    r.zadd(pq, {'page-oncall': 0})
    publish(r, channel, 'priority:0:page-oncall')
    check(listen(sub, 1) == [(channel, 'priority:0:page-oncall')], "priority notification heard", None)
    got = r.bzpopmin([pq], timeout=1)
    check(got is not None and got[1] == 'page-oncall', "BZPOPMIN after the notification", got)
    sub.close()

    # Pattern 4: metadata changes announced with the task id.
    channel = f"{k}:task-updates"
    task = f"{k}:ps:task:7"
    sub = subscribed(r, channel)
    r.hset(task, mapping={'status': 'running', 'attempts': 0})
    attempts = r.hincrby(task, 'attempts', 1)
    publish(r, channel, f"{task}:attempt:{attempts}")
    check(listen(sub, 1) == [(channel, f"{task}:attempt:1")], "metadata update heard", None)
    sub.close()


def main():
    host, port, part = parse_args(sys.argv)
    SERVER.update(host=host, port=port)
    r = redis.Redis(host=host, port=port, decode_responses=True)
    check(r.ping() is True, "PING", None)
    k = f"{{hybrid:{uuid.uuid4().hex[:8]}}}"
    if part in ('all', 'data'):
        data_part(r, k)
        print(f"data structures part: {len(CHECKS)} checks so far")
    if part in ('all', 'pubsub'):
        pubsub_part(r, k)
    print(f"hybrid_patterns ({part}): {len(CHECKS)} checks passed against {host}:{port}")


if __name__ == '__main__':
    main()
