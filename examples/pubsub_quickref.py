#!/usr/bin/env python3
"""The Pub/Sub quick reference of users-guide.md, run against a server and checked.

Runs the guide's "Basic Pub/Sub Example" and "Pattern Subscription" with redis-py:
a subscriber on 'news' and a pattern subscriber on 'events:*' listen (with a timeout)
while a publisher sends messages; every message received is checked. Exits non-zero on
any mismatch.

Usage: pubsub_quickref.py [host] [port]   (or REDIS_HOST / REDIS_PORT; default
127.0.0.1:6379)
"""
import os
import sys
import threading
import time

try:
    import redis
except ImportError:
    sys.exit("pubsub_quickref.py: redis-py is missing (pip install redis)")

HOST = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REDIS_HOST", "127.0.0.1")
PORT = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("REDIS_PORT", "6379"))
TIMEOUT = 10.0


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def listen(pubsub, wanted_type, count, out, ready):
    """The guide's `for message in pubsub.listen()` loop, bounded by a timeout."""
    deadline = time.monotonic() + TIMEOUT
    ready.set()
    while len(out) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message is None:
            continue
        if message["type"] == wanted_type:
            out.append(message)


def wait_subscribed(r, channel=None, patterns=0):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if channel is not None and dict(r.pubsub_numsub(channel)).get(channel, 0) > 0:
            return
        if patterns and r.pubsub_numpat() >= patterns:
            return
        time.sleep(0.02)
    fail("subscription never showed up in PUBSUB NUMSUB / NUMPAT")


def main():
    # Publisher
    r = redis.Redis(host=HOST, port=PORT, decode_responses=True)
    if not r.ping():
        fail("PING")

    # --- Basic Pub/Sub Example -------------------------------------------------
    # Nobody listens yet: fire-and-forget, zero receivers.
    if r.publish("news", "Breaking news!") != 0:
        fail("PUBLISH with no subscriber should reach 0 clients")

    pubsub = r.pubsub()
    pubsub.subscribe("news")
    confirm = pubsub.get_message(timeout=TIMEOUT)
    if confirm != {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}:
        fail(f"subscribe confirmation: {confirm!r}")

    received, ready = [], threading.Event()
    t = threading.Thread(target=listen, args=(pubsub, "message", 3, received, ready))
    t.start()
    ready.wait()
    wait_subscribed(r, channel="news")
    sent = ["Breaking news!", "Second story", "Weather: sunny"]
    for text in sent:
        if r.publish("news", text) != 1:
            fail(f"PUBLISH news {text!r} should reach 1 client")
    t.join()
    got = [m["data"] for m in received]
    for m in received:
        print(f"Received: {m['data']}")
    if got != sent:
        fail(f"news: got {got!r}, want {sent!r}")
    if any(m["channel"] != "news" or m["pattern"] is not None for m in received):
        fail(f"news: bad message fields {received!r}")
    pubsub.unsubscribe("news")
    pubsub.close()

    # --- Pattern Subscription --------------------------------------------------
    pubsub = r.pubsub()
    pubsub.psubscribe("events:*")  # Match events:user, events:system, etc.
    confirm = pubsub.get_message(timeout=TIMEOUT)
    if confirm != {"type": "psubscribe", "pattern": None, "channel": "events:*", "data": 1}:
        fail(f"psubscribe confirmation: {confirm!r}")

    received, ready = [], threading.Event()
    t = threading.Thread(target=listen, args=(pubsub, "pmessage", 2, received, ready))
    t.start()
    ready.wait()
    wait_subscribed(r, patterns=1)
    if r.publish("events:user", "user 42 signed up") != 1:
        fail("PUBLISH events:user should reach the pattern subscriber")
    if r.publish("other:system", "not for the pattern") != 0:
        fail("PUBLISH other:system should reach nobody")
    if r.publish("events:system", "disk 91% full") != 1:
        fail("PUBLISH events:system should reach the pattern subscriber")
    t.join()
    for m in received:
        print(f"Channel: {m['channel']}, Data: {m['data']}")
    got = [(m["pattern"], m["channel"], m["data"]) for m in received]
    want = [
        ("events:*", "events:user", "user 42 signed up"),
        ("events:*", "events:system", "disk 91% full"),
    ]
    if got != want:
        fail(f"events:*: got {got!r}, want {want!r}")
    pubsub.punsubscribe("events:*")
    pubsub.close()
    print("OK: Pub/Sub quick reference")


if __name__ == "__main__":
    main()
