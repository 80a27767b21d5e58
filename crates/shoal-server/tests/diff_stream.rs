//! Differential tests: the Streams family against a real redis-server 7.0.15 (one-node
//! cluster), RESP2 and RESP3, exact replies.
//!
//! Every ID is explicit (no `XADD *`) so replies do not depend on the clock. Where a reply
//! carries wall-clock values (idle times, seen/active times) or fields that Shoal reports
//! and Redis 7.0 does not (7.2's `active-time`/`inactive`), the test says so and compares
//! the stable part only.

mod common;
use common::{Cmp, Diff};
use shoal_resp::Frame;

/// Runs a script of commands (each a whitespace-separated line) through `check`.
fn run(d: &mut Diff, script: &str) {
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let args: Vec<&str> = line.split_whitespace().collect();
        d.check(&args);
    }
}

/// Sends `args` to both servers and returns (shoal, redis) replies.
fn both(d: &mut Diff, args: &[&str]) -> (Frame, Frame) {
    (d.shoal.cmd(args), d.redis.cmd(args))
}

/// A reply's key/value pairs, from a RESP3 map or a RESP2 flat array.
fn pairs(f: &Frame) -> Vec<(String, Frame)> {
    let name = |k: &Frame| match k {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    };
    match f {
        Frame::Map(kv) => kv.iter().map(|(k, v)| (name(k), v.clone())).collect(),
        Frame::Array(a) => a.chunks(2).map(|c| (name(&c[0]), c[1].clone())).collect(),
        other => panic!("not a map reply: {other:?}"),
    }
}

fn field(f: &Frame, key: &str) -> Frame {
    pairs(f)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {key} in {f:?}"))
}

/// Compares the named fields of a map-like reply (both servers).
fn check_fields(d: &mut Diff, args: &[&str], keys: &[&str]) -> (Frame, Frame) {
    let (s, r) = both(d, args);
    for k in keys {
        assert_eq!(
            field(&s, k),
            field(&r, k),
            "{args:?} field {k}: shoal (left) vs redis (right)\nshoal {s:?}\nredis {r:?}"
        );
    }
    (s, r)
}

/// Replaces the idle time (third element) of each XPENDING extended entry: it is
/// wall-clock dependent.
fn mask_idle(f: Frame) -> Frame {
    match f {
        Frame::Array(v) => Frame::Array(
            v.into_iter()
                .map(|e| match e {
                    Frame::Array(mut x) if x.len() == 4 => {
                        assert!(matches!(x[2], Frame::Integer(_)), "idle: {:?}", x[2]);
                        x[2] = Frame::Integer(0);
                        Frame::Array(x)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

fn check_pending_ext(d: &mut Diff, args: &[&str]) {
    let (s, r) = both(d, args);
    assert_eq!(
        mask_idle(s),
        mask_idle(r),
        "{args:?} (idle masked): shoal (left) vs redis (right)"
    );
}

fn xadd_basics(d: &mut Diff) {
    run(
        d,
        "
        XADD s 1-1 a 1
        XADD s 1-2 b 2 c 3
        XADD s 1-2 x y
        XADD s 1-1 x y
        XADD s 0-0 x y
        XADD s 0-1 x y
        XADD s abc x y
        XADD s 1-x x y
        XADD s -1 x y
        XADD s 2-18446744073709551616 x y
        XADD s 2 a 1
        XADD s 2 a 1
        XADD s 5-* a 1
        XADD s 5-* a 2
        XADD s 4-* a 2
        XADD s 5-5 x
        XADD s 5-5
        XADD s
        XLEN s
        XLEN nokey
        XADD e0 0-* a 1
        XADD e1 7-* a 1
        XADD nokey NOMKSTREAM 1-1 a 1
        EXISTS nokey
        XADD s NOMKSTREAM 9-0 a 1
        XADD s NOMKSTREAM NOMKSTREAM 9-1 a 1
        XADD s MAXLEN abc 9-2 a 1
        XADD s MAXLEN -1 9-2 a 1
        XADD s MAXLEN 1 MINID 1 9-2 a 1
        XADD s MAXLEN 5 LIMIT 10 9-2 a 1
        XADD s MAXLEN = 5 LIMIT 10 9-2 a 1
        XADD s MAXLEN ~ 5 LIMIT abc 9-2 a 1
        XADD s MAXLEN ~ 5 LIMIT -1 9-2 a 1
        XADD s MAXLEN ~ x 9-2 a 1
        XADD s MINID abc 9-2 a 1
        XADD s FOO 9-2 a 1
        XLEN s
        XADD s MAXLEN = 4 9-2 a 1
        XRANGE s - +
        XADD s MINID = 5-1 9-3 a 1
        XRANGE s - +
        XADD s MINID 9 9-4 a 1
        XRANGE s - +
        XADD s MAXLEN 0 9-5 a 1
        XLEN s
        XRANGE s - +
        XADD big 18446744073709551615-18446744073709551615 a 1
        XADD big 18446744073709551615-* a 1
        XADD big 1-1 a 1
        XADD big * a 1
        XADD mx 18446744073709551615-* a 1
        XADD mx 18446744073709551615-* a 1
        XADD mx 18446744073709551615-* a 1
        XRANGE mx - +
        XADD dup 1-1 f v f v2
        XRANGE dup - +
        XADD bin 1-1 x\x00y v
        ",
    );
    d.check(&["XADD", "emptyf", "1-1", "", ""]);
    d.check(&["XRANGE", "emptyf", "-", "+"]);
}

fn approx_trim(d: &mut Diff) {
    // 350 entries in nodes of 100: approximate trimming removes whole nodes only.
    for i in 1..=350 {
        let id = format!("{i}-0");
        d.check(&["XADD", "t", &id, "f", "v"]);
    }
    run(
        d,
        "
        XTRIM t MAXLEN ~ 300
        XLEN t
        XTRIM t MAXLEN ~ 200
        XLEN t
        XTRIM t MAXLEN ~ 120 LIMIT 0
        XLEN t
        XTRIM t MAXLEN ~ 10 LIMIT 50
        XLEN t
        XTRIM t MAXLEN ~ 10 LIMIT 100
        XLEN t
        XTRIM t MINID ~ 330
        XLEN t
        XTRIM t MINID 330
        XLEN t
        XRANGE t - + COUNT 2
        XTRIM t MAXLEN = 5
        XRANGE t - +
        XTRIM t MAXLEN 5
        XTRIM t MAXLEN = 5 LIMIT 10
        XTRIM t MAXLEN
        XTRIM t MAXLEN -1
        XTRIM t MAXLEN abc
        XTRIM t FOO 1
        XTRIM t MAXLEN 1 MINID 1
        XTRIM t MAXLEN 1 extra
        XTRIM t MINID abc
        XTRIM t MINID (5
        XTRIM nokey MAXLEN 0
        XTRIM t MINID 999
        XLEN t
        XINFO STREAM t
        ",
    );
    // Approximate trimming on XADD too.
    for i in 1..=250 {
        let id = format!("{i}-0");
        d.check(&["XADD", "t2", &id, "f", "v"]);
    }
    run(
        d,
        "
        XADD t2 MAXLEN ~ 100 251-0 f v
        XLEN t2
        XADD t2 MAXLEN ~ 1 LIMIT 100 252-0 f v
        XLEN t2
        XADD t2 MINID ~ 251 253-0 f v
        XLEN t2
        ",
    );
}

fn ranges(d: &mut Diff) {
    run(
        d,
        "
        XADD r 1-0 a 1
        XADD r 1-1 b 2
        XADD r 2-0 c 3
        XADD r 3-5 d 4
        XADD r 18446744073709551615-0 e 5
        XRANGE r - +
        XRANGE r - + COUNT 2
        XRANGE r - + COUNT 0
        XRANGE r - + COUNT -1
        XRANGE r - + COUNT abc
        XRANGE r - + COUNT
        XRANGE r - + FOO 1
        XRANGE r 1 1
        XRANGE r 1 2
        XRANGE r (1 +
        XRANGE r (1-0 +
        XRANGE r - (2
        XRANGE r - (2-0
        XRANGE r (1-0 (3-5
        XRANGE r + -
        XRANGE r 3 -
        XRANGE r (- +
        XRANGE r - (+
        XRANGE r (0-0 +
        XRANGE r - (0-0
        XRANGE r (18446744073709551615-18446744073709551615 +
        XRANGE r - (0-0
        XRANGE r abc +
        XRANGE r - abc
        XRANGE r 1-2-3 +
        XRANGE r 18446744073709551615 +
        XRANGE nokey - +
        XREVRANGE r + -
        XREVRANGE r + - COUNT 2
        XREVRANGE r + - COUNT 0
        XREVRANGE r (3-5 -
        XREVRANGE r 2 1
        XREVRANGE r (2 (1-0
        XREVRANGE r - +
        XREVRANGE r + (-
        XREVRANGE nokey + -
        XDEL r 1-1 2-0 9-9
        XDEL r 1-1
        XDEL r abc
        XDEL r 1-0 abc
        XDEL r
        XDEL nokey 1-0
        XRANGE r - +
        XLEN r
        XDEL r 1-0 3-5 18446744073709551615-0
        XLEN r
        EXISTS r
        XRANGE r - +
        XINFO STREAM r
        ",
    );
}

fn setid(d: &mut Diff) {
    run(
        d,
        "
        XSETID nokey 1-1
        XADD x 5-0 a 1
        XADD x 6-0 a 1
        XSETID x 1-1
        XSETID x 6-0
        XSETID x 10-0
        XSETID x abc
        XSETID x 20-0 ENTRIESADDED 1
        XSETID x 20-0 ENTRIESADDED -1
        XSETID x 20-0 ENTRIESADDED 10 MAXDELETEDID 21-0
        XSETID x 20-0 ENTRIESADDED 10 MAXDELETEDID 19-0
        XSETID x 20-0 ENTRIESADDED 10 MAXDELETEDID abc
        XSETID x 20-0 FOO 1
        XSETID x 20-0 ENTRIESADDED
        XINFO STREAM x
        XADD x 19-0 a 1
        XADD x 20-* a 1
        XSETID x 0-0
        XDEL x 5-0 6-0 20-1
        XSETID x 0-0
        XLEN x
        XINFO STREAM x
        XSETID x 1-0 ENTRIESADDED 12 MAXDELETEDID 1-0
        XINFO STREAM x
        XADD x 1-1 a 1
        ",
    );
}

fn xread(d: &mut Diff) {
    run(
        d,
        "
        XADD {q}a 1-0 a 1
        XADD {q}a 2-0 a 2
        XADD {q}a 3-0 a 3
        XADD {q}b 1-5 b 1
        XREAD STREAMS {q}a 0
        XREAD COUNT 2 STREAMS {q}a 0
        XREAD COUNT 2 STREAMS {q}a 1
        XREAD COUNT 0 STREAMS {q}a 0
        XREAD COUNT -5 STREAMS {q}a 0
        XREAD STREAMS {q}a 1-0
        XREAD STREAMS {q}a 3
        XREAD STREAMS {q}a $
        XREAD STREAMS {q}a {q}b 0 0
        XREAD STREAMS {q}a {q}b $ 0
        XREAD STREAMS {q}a {q}b {q}nokey 1 1 0
        XREAD STREAMS {q}nokey 0
        XREAD STREAMS {q}nokey $
        XREAD STREAMS {q}a {q}b 0
        XREAD STREAMS {q}a
        XREAD STREAMS
        XREAD {q}a 0
        XREAD COUNT abc STREAMS {q}a 0
        XREAD COUNT STREAMS {q}a 0
        XREAD STREAMS {q}a abc
        XREAD STREAMS {q}a >
        XREAD STREAMS {q}a {q}b 0 abc
        XREAD GROUP g c STREAMS {q}a 0
        XREAD NOACK STREAMS {q}a 0
        XREAD BLOCK abc STREAMS {q}a 0
        XREAD BLOCK -1 STREAMS {q}a 0
        XREAD BLOCK 1000 STREAMS {q}a 0
        XREAD BLOCK 1000 COUNT 1 STREAMS {q}a 0
        XREAD FOO STREAMS {q}a 0
        XREAD STREAMS {q}a 18446744073709551615-18446744073709551615
        XREAD STREAMS {q}a 2-18446744073709551615
        XREAD STREAMS a b 0 0
        ",
    );
}

fn groups(d: &mut Diff) {
    run(
        d,
        "
        XGROUP CREATE g1 grp $
        XGROUP CREATE g1 grp $ MKSTREAM
        XGROUP CREATE g1 grp $ MKSTREAM
        XGROUP CREATE g1 grp 0
        XLEN g1
        XADD g1 1-0 a 1
        XADD g1 2-0 a 2
        XADD g1 3-0 a 3
        XGROUP CREATE g1 grp2 0
        XGROUP CREATE g1 grp3 2-0 ENTRIESREAD 1
        XGROUP CREATE g1 grp4 abc
        XGROUP CREATE g1 grp4 0 ENTRIESREAD -5
        XGROUP CREATE g1 grp4 0 ENTRIESREAD abc
        XGROUP CREATE g1 grp4 0 FOO
        XGROUP CREATE g1 grp4 0 MKSTREAM FOO
        XGROUP CREATE g1 grp4
        XGROUP CREATE g1
        XGROUP CREATE g1 grp5 99-0
        XGROUP SETID g1 grp 0
        XGROUP SETID g1 grp $
        XGROUP SETID g1 grp 2-0 ENTRIESREAD 2
        XGROUP SETID g1 grp 2-0 ENTRIESREAD abc
        XGROUP SETID g1 grp abc
        XGROUP SETID g1 nogroup 0
        XGROUP SETID nokey grp 0
        XGROUP SETID g1 grp
        XGROUP CREATECONSUMER g1 grp alice
        XGROUP CREATECONSUMER g1 grp alice
        XGROUP CREATECONSUMER g1 nogroup alice
        XGROUP CREATECONSUMER nokey grp alice
        XGROUP CREATECONSUMER g1 grp
        XGROUP DELCONSUMER g1 grp bob
        XGROUP DELCONSUMER g1 nogroup alice
        XGROUP DELCONSUMER nokey grp alice
        XREADGROUP GROUP grp alice STREAMS g1 >
        XGROUP DELCONSUMER g1 grp alice
        XPENDING g1 grp
        XGROUP DESTROY g1 grp5
        XGROUP DESTROY g1 grp5
        XGROUP DESTROY nokey grp5
        XGROUP DESTROY g1
        XGROUP FOO
        XGROUP FOO g1 grp
        XGROUP
        XGROUP HELP
        XGROUP help
        XGROUP HELP extra
        XINFO GROUPS g1
        XINFO GROUPS nokey
        XINFO HELP
        XINFO FOO
        XINFO STREAM nokey
        XINFO CONSUMERS nokey grp
        XINFO CONSUMERS g1 nogroup
        XINFO STREAM g1 FOO
        XINFO STREAM g1 FULL COUNT abc
        XINFO STREAM g1 FULL FOO
        ",
    );
}

fn readgroup(d: &mut Diff) {
    run(
        d,
        "
        XADD {w}s 1-0 f 1
        XADD {w}s 2-0 f 2
        XADD {w}s 3-0 f 3
        XADD {w}s 4-0 f 4
        XADD {w}t 1-0 f 1
        XGROUP CREATE {w}s g 0
        XGROUP CREATE {w}t g 0
        XREADGROUP GROUP nog c STREAMS {w}s >
        XREADGROUP GROUP g c STREAMS {w}nokey >
        XREADGROUP GROUP g c STREAMS {w}s $
        XREADGROUP GROUP g c STREAMS {w}s abc
        XREADGROUP GROUP g STREAMS {w}s >
        XREADGROUP STREAMS {w}s >
        XREADGROUP GROUP g c COUNT 2 STREAMS {w}s >
        XREADGROUP GROUP g c COUNT 1 STREAMS {w}s >
        XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS {w}s >
        XREADGROUP GROUP g c STREAMS {w}s >
        XREADGROUP GROUP g c BLOCK 100 STREAMS {w}s 0
        XREADGROUP GROUP g c STREAMS {w}s 0
        XREADGROUP GROUP g c COUNT 1 STREAMS {w}s 1-0
        XREADGROUP GROUP g c2 STREAMS {w}s 0
        XREADGROUP GROUP g c3 STREAMS {w}s 0
        XREADGROUP GROUP g c STREAMS {w}s {w}t > >
        XREADGROUP GROUP g c STREAMS {w}s {w}t 0 0
        XDEL {w}s 2-0
        XREADGROUP GROUP g c STREAMS {w}s 0
        XPENDING {w}s g
        XPENDING {w}t g
        XPENDING {w}s nog
        XPENDING {w}nokey g
        XPENDING {w}s g - + abc
        XPENDING {w}s g - +
        XPENDING {w}s g abc + 10
        XPENDING {w}s g IDLE abc - + 10
        XPENDING {w}s g IDLE 99999999999 - + 10
        XPENDING {w}s g IDLE 99999999999 - + 10 c
        XPENDING {w}s g - + 0
        XPENDING {w}s g - + -1
        XPENDING {w}s g (1 + 10 nobody
        XACK {w}s g 1-0 1-0 9-0
        XACK {w}s g 1-0
        XACK {w}s nog 2-0
        XACK {w}nokey g 2-0
        XACK {w}s g abc
        XACK {w}s g 3-0 abc
        XACK {w}s g
        XPENDING {w}s g
        XINFO GROUPS {w}s
        XADD {w}s 5-0 f 5
        XINFO GROUPS {w}s
        XREADGROUP GROUP g c2 NOACK STREAMS {w}s >
        XPENDING {w}s g
        XINFO GROUPS {w}s
        XGROUP DELCONSUMER {w}s g c
        XPENDING {w}s g
        XREADGROUP GROUP g c STREAMS {w}s 0
        ",
    );
    for args in [
        &["XPENDING", "{w}s", "g", "-", "+", "10"][..],
        &["XPENDING", "{w}s", "g", "-", "+", "1"],
        &["XPENDING", "{w}s", "g", "-", "+", "10", "c3"],
        // Redis 7.0 ignores arguments after the consumer.
        &["XPENDING", "{w}s", "g", "-", "+", "10", "c", "FOO"],
        &["XPENDING", "{w}s", "g", "(3-0", "+", "10"],
        &["XPENDING", "{w}s", "g", "IDLE", "0", "-", "+", "10"],
    ] {
        check_pending_ext(d, args);
    }
}

fn claims(d: &mut Diff) {
    run(
        d,
        "
        XADD c 1-0 f 1
        XADD c 2-0 f 2
        XADD c 3-0 f 3
        XADD c 4-0 f 4
        XADD c 5-0 f 5
        XGROUP CREATE c g 0
        XREADGROUP GROUP g dead STREAMS c >
        XCLAIM c g alive 99999999999 1-0
        XCLAIM c g alive 0 1-0 2-0
        XCLAIM c g alive 0 3-0 JUSTID
        XCLAIM c g alive 0 4-0 IDLE 1000000000
        XCLAIM c g alive 0 5-0 TIME 1000 RETRYCOUNT 7
        XCLAIM c g other 0 6-0
        XCLAIM c g other 0 6-0 FORCE
        XADD c 6-0 f 6
        XCLAIM c g other 0 6-0 FORCE JUSTID
        XCLAIM c g other 0 7-0 FORCE
        XCLAIM c g other 0 1-0 LASTID 9-0 JUSTID
        XINFO GROUPS c
        XCLAIM c g other 0 1-0 LASTID abc
        XCLAIM c g other 0 1-0 IDLE abc
        XCLAIM c g other 0 1-0 TIME abc
        XCLAIM c g other 0 1-0 RETRYCOUNT abc
        XCLAIM c g other 0 1-0 RETRYCOUNT -1
        XCLAIM c g other 0 1-0 FOO
        XCLAIM c g other abc 1-0
        XCLAIM c g other -5 1-0
        XCLAIM c g other 0 abc
        XCLAIM c nog other 0 1-0
        XCLAIM nokey g other 0 1-0
        XCLAIM c g other 0
        XCLAIM c g other 99999999999 1-0 2-0 3-0 4-0 5-0
        XPENDING c g
        XDEL c 2-0
        XCLAIM c g other 0 2-0
        XPENDING c g
        XCLAIM c g other 0 2-0 FORCE
        ",
    );
    // Delivery counts and idle filters: IDLE 1000000000 and TIME 1000 put the delivery
    // far in the past, so an IDLE filter of 100000 ms deterministically selects them.
    check_pending_ext(d, &["XPENDING", "c", "g", "-", "+", "10"]);
    check_pending_ext(d, &["XPENDING", "c", "g", "IDLE", "100000", "-", "+", "10"]);
    run(
        d,
        "
        XCLAIM c g third 100000 1-0 3-0 4-0 5-0 JUSTID
        XPENDING c g
        ",
    );
    check_pending_ext(d, &["XPENDING", "c", "g", "-", "+", "10"]);
    run(
        d,
        "
        XADD ac 1-0 f 1
        XADD ac 2-0 f 2
        XADD ac 3-0 f 3
        XADD ac 4-0 f 4
        XADD ac 5-0 f 5
        XGROUP CREATE ac g 0
        XREADGROUP GROUP g dead STREAMS ac >
        XDEL ac 2-0 4-0
        XAUTOCLAIM ac g alive 99999999999 0-0
        XAUTOCLAIM ac g alive 0 0-0 COUNT 1
        XAUTOCLAIM ac g alive 0 0-0 COUNT 2
        XPENDING ac g
        XAUTOCLAIM ac g alive 0 0-0 JUSTID
        XAUTOCLAIM ac g other 0 3 COUNT 10 JUSTID
        XAUTOCLAIM ac g other 0 (3 JUSTID
        XAUTOCLAIM ac g other 0 0 COUNT 0
        XAUTOCLAIM ac g other 0 0 COUNT -1
        XAUTOCLAIM ac g other 0 0 COUNT abc
        XAUTOCLAIM ac g other 0 0 COUNT 1073741824
        XAUTOCLAIM ac g other 0 abc
        XAUTOCLAIM ac g other abc 0
        XAUTOCLAIM ac g other -1 0
        XAUTOCLAIM ac g other 0 0 FOO
        XAUTOCLAIM ac nog other 0 0
        XAUTOCLAIM nokey g other 0 0
        XAUTOCLAIM ac g other 0
        XAUTOCLAIM ac g other 0 0
        XPENDING ac g
        ",
    );
}

/// XINFO replies: stable fields compared exactly; idle/seen/active times are wall-clock
/// values, `inactive` and `active-time` are Redis 7.2 fields Shoal also reports, and
/// `radix-tree-keys`/`radix-tree-nodes` describe Redis's own memory layout.
fn xinfo(d: &mut Diff) {
    run(
        d,
        "
        XADD i 1-0 a 1
        XADD i 2-0 b 2
        XADD i 3-0 c 3
        XDEL i 2-0
        XGROUP CREATE i g 0
        XGROUP CREATE i g2 $
        XREADGROUP GROUP g alice COUNT 1 STREAMS i >
        XREADGROUP GROUP g bob STREAMS i >
        XGROUP CREATECONSUMER i g carol
        XINFO GROUPS i
        ",
    );
    let stream_fields = [
        "length",
        "last-generated-id",
        "max-deleted-entry-id",
        "entries-added",
        "recorded-first-entry-id",
        "groups",
        "first-entry",
        "last-entry",
    ];
    let (s, _) = check_fields(d, &["XINFO", "STREAM", "i"], &stream_fields);
    let n = pairs(&s).len();
    d.check_with(&["XINFO", "STREAM", "i"], Cmp::SameShape);
    assert_eq!(n, 10, "XINFO STREAM has Redis 7.0's 10 fields");

    // FULL: entries and the stable part of groups and consumers.
    let full_fields = [
        "length",
        "last-generated-id",
        "max-deleted-entry-id",
        "entries-added",
        "recorded-first-entry-id",
        "entries",
    ];
    for args in [
        &["XINFO", "STREAM", "i", "FULL"][..],
        &["XINFO", "STREAM", "i", "FULL", "COUNT", "1"],
        &["XINFO", "STREAM", "i", "FULL", "COUNT", "0"],
    ] {
        let (s, r) = check_fields(d, args, &full_fields);
        let (Frame::Array(sg), Frame::Array(rg)) = (field(&s, "groups"), field(&r, "groups"))
        else {
            panic!("groups not arrays: {s:?} / {r:?}");
        };
        assert_eq!(sg.len(), rg.len(), "{args:?} group count");
        for (sgi, rgi) in sg.iter().zip(&rg) {
            for k in [
                "name",
                "last-delivered-id",
                "entries-read",
                "lag",
                "pel-count",
            ] {
                assert_eq!(field(sgi, k), field(rgi, k), "{args:?} group field {k}");
            }
            // PEL entries: [id, consumer, delivery-time, count]; delivery time is wall
            // clock.
            let strip = |f: Frame| match f {
                Frame::Array(v) => v
                    .into_iter()
                    .map(|e| match e {
                        Frame::Array(mut x) => {
                            x.remove(2);
                            Frame::Array(x)
                        }
                        o => o,
                    })
                    .collect::<Vec<_>>(),
                o => panic!("pending: {o:?}"),
            };
            assert_eq!(strip(field(sgi, "pending")), strip(field(rgi, "pending")));
            let (Frame::Array(sc), Frame::Array(rc)) =
                (field(sgi, "consumers"), field(rgi, "consumers"))
            else {
                panic!("consumers");
            };
            assert_eq!(sc.len(), rc.len(), "{args:?} consumers");
            for (a, b) in sc.iter().zip(&rc) {
                for k in ["name", "pel-count"] {
                    assert_eq!(field(a, k), field(b, k), "{args:?} consumer field {k}");
                }
                let strip2 = |f: Frame| match f {
                    Frame::Array(v) => v
                        .into_iter()
                        .map(|e| match e {
                            Frame::Array(mut x) => {
                                x.remove(1);
                                Frame::Array(x)
                            }
                            o => o,
                        })
                        .collect::<Vec<_>>(),
                    o => panic!("consumer pending: {o:?}"),
                };
                assert_eq!(strip2(field(a, "pending")), strip2(field(b, "pending")));
            }
        }
    }

    // CONSUMERS: name and pending exact; idle is wall clock (checked to be an integer).
    let (s, r) = both(d, &["XINFO", "CONSUMERS", "i", "g"]);
    let (Frame::Array(sc), Frame::Array(rc)) = (&s, &r) else {
        panic!("consumers: {s:?} / {r:?}");
    };
    assert_eq!(sc.len(), rc.len());
    for (a, b) in sc.iter().zip(rc) {
        assert_eq!(field(a, "name"), field(b, "name"));
        assert_eq!(field(a, "pending"), field(b, "pending"));
        assert!(matches!(field(a, "idle"), Frame::Integer(i) if i >= 0));
    }
    d.check(&["XINFO", "CONSUMERS", "i", "g2"]);
}

fn wrongtype(d: &mut Diff) {
    d.check(&["SET", "str", "x"]);
    run(
        d,
        "
        XADD str 1-1 a 1
        XADD str NOMKSTREAM 1-1 a 1
        XLEN str
        XRANGE str - +
        XREVRANGE str + -
        XDEL str 1-1
        XTRIM str MAXLEN 0
        XSETID str 1-1
        XREAD STREAMS str 0
        XREAD BLOCK 10 STREAMS str 0
        XREADGROUP GROUP g c STREAMS str >
        XGROUP CREATE str g $
        XGROUP CREATE str g $ MKSTREAM
        XGROUP SETID str g 0
        XGROUP CREATECONSUMER str g c
        XGROUP DELCONSUMER str g c
        XGROUP DESTROY str g
        XACK str g 1-1
        XPENDING str g
        XPENDING str g - + 10
        XCLAIM str g c 0 1-1
        XAUTOCLAIM str g c 0 0
        XINFO STREAM str
        XINFO GROUPS str
        XINFO CONSUMERS str g
        GET str
        ",
    );
    // A stream under string commands.
    run(
        d,
        "
        XADD st 1-1 a 1
        GET st
        APPEND st x
        TYPE st
        ",
    );
}

fn multi(d: &mut Diff) {
    run(
        d,
        "
        XADD m 1-0 a 1
        XGROUP CREATE m g $
        MULTI
        XREAD BLOCK 0 STREAMS m $
        XREADGROUP GROUP g c BLOCK 0 STREAMS m >
        XADD m 2-0 a 2
        XREADGROUP GROUP g c BLOCK 0 STREAMS m >
        XLEN m
        EXEC
        ",
    );
    d.check_pipeline(&[
        &["XADD", "p", "1-0", "a", "1"],
        &["XRANGE", "p", "-", "+"],
        &["XREAD", "BLOCK", "10", "STREAMS", "p", "0"],
        &["XADD", "p", "1-0", "a", "1"],
        &["XLEN", "p"],
    ]);
}

fn full_script(d: &mut Diff) {
    xadd_basics(d);
    approx_trim(d);
    ranges(d);
    setid(d);
    xread(d);
    groups(d);
    readgroup(d);
    claims(d);
    xinfo(d);
    wrongtype(d);
    multi(d);
}

#[test]
fn streams_resp2() {
    let mut d = Diff::new();
    full_script(&mut d);
}

#[test]
fn streams_resp3() {
    let mut d = Diff::new_resp3();
    full_script(&mut d);
}

/// XREAD/XREADGROUP with BLOCK answer at once when they can (both protocols' shapes).
#[test]
fn blocking_commands_served_immediately() {
    for resp3 in [false, true] {
        let mut d = if resp3 {
            Diff::new_resp3()
        } else {
            Diff::new()
        };
        run(
            &mut d,
            "
            XADD {b}a 1-0 a 1
            XADD {b}b 1-0 b 1
            XREAD BLOCK 0 STREAMS {b}a {b}b 0 0
            XREAD BLOCK 100 COUNT 1 STREAMS {b}a 0
            XGROUP CREATE {b}a g 0
            XREADGROUP GROUP g c BLOCK 0 STREAMS {b}a >
            XREADGROUP GROUP g c BLOCK 0 STREAMS {b}a 0
            XREAD BLOCK 20 STREAMS {b}a $
            XREADGROUP GROUP g c BLOCK 20 STREAMS {b}a >
            XREAD BLOCK 9223372036854775807 STREAMS {b}a 0
            XREADGROUP GROUP g c BLOCK 9223372036854775807 STREAMS {b}a 0
            ",
        );
    }
}
