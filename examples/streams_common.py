"""Shared by streams_quickref.py and streams_cluster.py: argument handling, checks, and
the crashed-consumer recovery walk-through (XPENDING / XCLAIM / XAUTOCLAIM)."""
import os
import sys

CHECKS = []


def connect_args(argv):
    host = os.environ.get('SHOAL_HOST', '127.0.0.1')
    port = int(os.environ.get('SHOAL_PORT', '6379'))
    if len(argv) > 1:
        host = argv[1]
    if len(argv) > 2:
        port = int(argv[2])
    return host, port


def check(ok, what, got):
    CHECKS.append(what)
    if not ok:
        print(f"MISMATCH: {what}: got {got!r}", file=sys.stderr)
        sys.exit(1)


def summary(name, host, port):
    print(f"{name}: {len(CHECKS)} checks passed against {host}:{port}")


def recovery(r, stream):
    """A consumer reads three orders and crashes before acknowledging them; a rescuer
    finds them with XPENDING and takes them over with XCLAIM and XAUTOCLAIM."""
    group = 'workers'
    r.xgroup_create(stream, group, id='0', mkstream=True)
    ids = [r.xadd(stream, {'order': str(n), 'amount': str(10 * n)}) for n in (1, 2, 3, 4)]
    check(len(set(ids)) == 4 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split('-')))),
          "XADD * IDs increase", ids)

    got = r.xreadgroup(group, 'crashed', {stream: '>'}, count=10)
    check([m for m, _ in got[0][1]] == ids, "the crashed consumer received all four", got)
    check(got[0][1][1][1] == {'order': '2', 'amount': '20'}, "fields of the 2nd order", got)

    # Nothing new for anyone else; a short blocking read times out empty.
    again = r.xreadgroup(group, 'rescuer', {stream: '>'}, count=10, block=50)
    check(not again, "nothing new to deliver (BLOCK 50 times out)", again)

    # What is pending, and for whom.
    p = r.xpending(stream, group)
    check(p['pending'] == 4 and p['min'] == ids[0] and p['max'] == ids[3],
          "XPENDING summary: 4 pending", p)
    check(p['consumers'] == [{'name': 'crashed', 'pending': 4}],
          "XPENDING summary per consumer", p['consumers'])
    detail = r.xpending_range(stream, group, min='-', max='+', count=10)
    check([d['message_id'] for d in detail] == ids, "XPENDING range lists the four", detail)
    check(all(d['consumer'] == 'crashed' and d['times_delivered'] == 1 for d in detail),
          "owned by the crashed consumer, delivered once", detail)
    idle = r.xpending_range(stream, group, min='-', max='+', count=10, idle=10 ** 9)
    check(idle == [], "nothing has been idle for 11 days", idle)

    # XCLAIM the first one (min idle 0: the crashed consumer is known dead).
    claimed = r.xclaim(stream, group, 'rescuer', min_idle_time=0, message_ids=[ids[0]])
    check(claimed == [(ids[0], {'order': '1', 'amount': '10'})], "XCLAIM returns the entry", claimed)
    just = r.xclaim(stream, group, 'rescuer', min_idle_time=0, message_ids=[ids[1]], justid=True)
    check(just == [ids[1]], "XCLAIM JUSTID returns the ID", just)
    not_idle = r.xclaim(stream, group, 'rescuer', min_idle_time=10 ** 9, message_ids=[ids[2]])
    check(not_idle == [], "XCLAIM with a large min idle time claims nothing", not_idle)

    # The 4th order was deleted meanwhile: XAUTOCLAIM reports it and drops it from the PEL.
    check(r.xdel(stream, ids[3]) == 1, "XDEL the 4th order", None)
    auto = r.xautoclaim(stream, group, 'rescuer', min_idle_time=0, start_id='0-0', count=10)
    check(auto[0] == '0-0', "XAUTOCLAIM scanned the whole PEL", auto)
    check([m for m, _ in auto[1]] == ids[:3], "XAUTOCLAIM claims the three live ones", auto)
    check(list(auto[2]) == [ids[3]], "XAUTOCLAIM reports the deleted ID", auto)

    detail = r.xpending_range(stream, group, min='-', max='+', count=10)
    check([(d['message_id'], d['consumer']) for d in detail] == [(i, 'rescuer') for i in ids[:3]],
          "the rescuer owns the three live orders", detail)
    # Each claim that returns the entry counts as a delivery; XCLAIM JUSTID does not.
    check([d['times_delivered'] for d in detail] == [3, 2, 2],
          "delivery counts went up with each claim", detail)

    # The rescuer re-reads its own history and acknowledges.
    mine = r.xreadgroup(group, 'rescuer', {stream: '0'}, count=10)
    check([m for m, _ in mine[0][1]] == ids[:3], "history read of the rescuer's PEL", mine)
    check(r.xack(stream, group, *ids[:3]) == 3, "XACK all three", None)
    p = r.xpending(stream, group)
    check(p['pending'] == 0, "nothing pending after XACK", p)

    groups = r.xinfo_groups(stream)
    check(len(groups) == 1 and groups[0]['name'] == group and groups[0]['pending'] == 0
          and groups[0]['last-delivered-id'] == ids[3], "XINFO GROUPS", groups)
    consumers = {c['name']: c['pending'] for c in r.xinfo_consumers(stream, group)}
    check(consumers == {'crashed': 0, 'rescuer': 0}, "XINFO CONSUMERS", consumers)
    check(r.xgroup_delconsumer(stream, group, 'crashed') == 0, "XGROUP DELCONSUMER", None)
    info = r.xinfo_stream(stream)
    check(info['length'] == 3 and info['last-generated-id'] == ids[3], "XINFO STREAM", info)
    check(r.xtrim(stream, maxlen=0) == 3 and r.xlen(stream) == 0, "XTRIM MAXLEN 0", None)
    check(r.delete(stream) == 1, "cleanup", None)
