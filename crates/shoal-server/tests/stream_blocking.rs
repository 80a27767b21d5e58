//! Blocking stream reads through the real server: XREAD BLOCK and XREADGROUP BLOCK served
//! by writes from other connections, timeouts, first-blocked-first-served, clean-up of
//! clients that disconnect while blocked, and what a blocked XREADGROUP hears when its
//! group or key goes away.
//!
//! Scenarios whose outcome Redis defines (rather than just "it works") run against both
//! Shoal and a real redis-server 7.0.15 and must observe the same replies.

mod common;
use std::time::{Duration, Instant};

use common::{Raw, RedisServer, Shoal};
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::{Commands, Value};
use shoal_resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(v: Vec<Frame>) -> Frame {
    Frame::Array(v)
}

/// `[id, [f, v]]`
fn entry(id: &str, f: &str, v: &str) -> Frame {
    arr(vec![bulk(id), arr(vec![bulk(f), bulk(v)])])
}

/// An XREAD/XREADGROUP RESP2 reply with one stream.
fn one_stream(key: &str, entries: Vec<Frame>) -> Frame {
    arr(vec![arr(vec![bulk(key), arr(entries)])])
}

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(port: u16, n: usize) {
    let mut c = Raw::connect(port);
    let want = format!("blocked_clients:{n}\r\n");
    let start = Instant::now();
    loop {
        if let Frame::Bulk(b) | Frame::Verbatim(_, b) = c.cmd(&["INFO", "clients"])
            && String::from_utf8_lossy(&b).contains(&want)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never saw {want:?} on port {port}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts nothing arrives on `c` for a while (it stays blocked).
fn assert_still_blocked(c: &mut Raw) {
    c.set_read_timeout(Duration::from_millis(300));
    assert!(
        c.try_read_timeout().is_none(),
        "blocked client got a reply but should still be blocked"
    );
    c.set_read_timeout(Duration::from_secs(30));
}

/// Runs `scenario` against Shoal and redis-server; both must observe the same replies.
/// Returns them.
fn on_both(scenario: fn(u16) -> Vec<Frame>) -> Vec<Frame> {
    let shoal = Shoal::start();
    let redis = RedisServer::start();
    let s = scenario(shoal.port);
    let r = scenario(redis.port);
    assert_eq!(s, r, "shoal (left) vs redis-server (right)");
    s
}

fn xread_block_served(port: u16) -> Vec<Frame> {
    let mut w = Raw::connect(port);
    let mut b = Raw::connect(port);
    w.cmd(&["XADD", "s", "1-0", "f", "old"]);
    b.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(port, 1);
    let add = w.cmd(&["XADD", "s", "2-0", "f", "new"]);
    let got = b.read();
    // `$` on a key that does not exist yet, with a timeout that is not reached.
    b.send(&["XREAD", "BLOCK", "10000", "STREAMS", "fresh", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["XADD", "fresh", "5-1", "a", "b"]);
    let got2 = b.read();
    // A write that does not add entries (XGROUP CREATE, XDEL) does not wake XREAD.
    b.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    w.cmd(&["XDEL", "s", "1-0"]);
    assert_still_blocked(&mut b);
    w.cmd(&["XADD", "s", "3-0", "f", "x"]);
    let got3 = b.read();
    vec![add, got, got2, got3]
}

#[test]
fn xread_block_served_by_xadd() {
    let r = on_both(xread_block_served);
    assert_eq!(r[1], one_stream("s", vec![entry("2-0", "f", "new")]));
    assert_eq!(r[2], one_stream("fresh", vec![entry("5-1", "a", "b")]));
    assert_eq!(r[3], one_stream("s", vec![entry("3-0", "f", "x")]));
}

#[test]
fn xread_block_timeout_returns_nil() {
    let shoal = Shoal::start();
    let mut b = shoal.raw();
    b.cmd(&["XADD", "s", "1-0", "f", "v"]);
    let start = Instant::now();
    let r = b.cmd(&["XREAD", "BLOCK", "150", "STREAMS", "s", "$"]);
    let took = start.elapsed();
    assert_eq!(r, Frame::NullArray);
    assert!(
        took >= Duration::from_millis(140),
        "returned after {took:?}"
    );
    assert!(took < Duration::from_secs(3), "returned after {took:?}");
    // RESP3: null.
    b.cmd(&["HELLO", "3"]);
    let r = b.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "50",
        "STREAMS",
        "s",
        ">",
    ]);
    assert!(r.is_error(), "no group yet: {r:?}");
    b.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    let r = b.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "50",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(r, Frame::Null);
    // The connection is usable afterwards and nothing stays blocked.
    assert_eq!(b.cmd(&["XLEN", "s"]), Frame::Integer(1));
    wait_blocked(shoal.port, 0);
}

/// With the redis crate (a real client library): BLOCK 0 served by a write from another
/// connection.
#[test]
fn redis_crate_block_zero_served() {
    let shoal = Shoal::start();
    let mut writer = shoal.client();
    let _: String = writer.xadd("jobs", "1-0", &[("n", "1")]).expect("xadd");
    let port = shoal.port;
    let url = shoal.url();
    let reader = std::thread::spawn(move || {
        let mut c = redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .expect("connect");
        let opts = StreamReadOptions::default().block(0);
        let r: StreamReadReply = c.xread_options(&["jobs"], &["$"], &opts).expect("xread");
        r
    });
    wait_blocked(port, 1);
    let _: String = writer.xadd("jobs", "2-0", &[("n", "2")]).expect("xadd");
    let reply = reader.join().expect("reader thread");
    assert_eq!(reply.keys.len(), 1);
    assert_eq!(reply.keys[0].key, "jobs");
    let ids: Vec<&str> = reply.keys[0].ids.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["2-0"]);
    let n: Option<String> = reply.keys[0].ids[0].get("n");
    assert_eq!(n.as_deref(), Some("2"));

    // XREADGROUP BLOCK through the crate.
    let _: () = writer
        .xgroup_create("jobs", "workers", "$")
        .expect("xgroup create");
    let url = shoal.url();
    let reader = std::thread::spawn(move || {
        let mut c = redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .expect("connect");
        let opts = StreamReadOptions::default()
            .group("workers", "w1")
            .block(0)
            .count(10);
        let r: StreamReadReply = c
            .xread_options(&["jobs"], &[">"], &opts)
            .expect("xreadgroup");
        r
    });
    wait_blocked(port, 1);
    let _: String = writer.xadd("jobs", "3-0", &[("n", "3")]).expect("xadd");
    let reply = reader.join().expect("reader thread");
    assert_eq!(reply.keys[0].ids[0].id, "3-0");
    let pending: Value = redis::cmd("XPENDING")
        .arg("jobs")
        .arg("workers")
        .query(&mut writer)
        .expect("xpending");
    let Value::Array(p) = pending else {
        panic!("xpending: {pending:?}")
    };
    assert_eq!(p[0], Value::Int(1));
}

fn group_fifo(port: u16) -> Vec<Frame> {
    let mut w = Raw::connect(port);
    let mut c1 = Raw::connect(port);
    let mut c2 = Raw::connect(port);
    w.cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]);
    c1.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c1",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    wait_blocked(port, 1);
    c2.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c2",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    wait_blocked(port, 2);
    w.cmd(&["XADD", "q", "1-0", "job", "a"]);
    let r1 = c1.read();
    // One entry serves one reader: c2 is still waiting.
    assert_still_blocked(&mut c2);
    w.cmd(&["XADD", "q", "2-0", "job", "b"]);
    let r2 = c2.read();
    let pending = w.cmd(&["XPENDING", "q", "g", "-", "+", "10"]);
    // Strip idle times.
    let pending = match pending {
        Frame::Array(v) => arr(v
            .into_iter()
            .map(|e| match e {
                Frame::Array(mut x) => {
                    x.remove(2);
                    arr(x)
                }
                o => o,
            })
            .collect()),
        o => o,
    };
    // Two entries at once with two readers of COUNT 1: first served first.
    c1.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c1",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    wait_blocked(port, 1);
    c2.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c2",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    wait_blocked(port, 2);
    let multi = {
        w.cmd(&["MULTI"]);
        w.cmd(&["XADD", "q", "3-0", "job", "c"]);
        w.cmd(&["XADD", "q", "4-0", "job", "d"]);
        w.cmd(&["EXEC"])
    };
    let r3 = c1.read();
    let r4 = c2.read();
    vec![r1, r2, pending, multi, r3, r4]
}

#[test]
fn xreadgroup_block_first_blocked_first_served() {
    let r = on_both(group_fifo);
    assert_eq!(r[0], one_stream("q", vec![entry("1-0", "job", "a")]));
    assert_eq!(r[1], one_stream("q", vec![entry("2-0", "job", "b")]));
    assert_eq!(r[4], one_stream("q", vec![entry("3-0", "job", "c")]));
    assert_eq!(r[5], one_stream("q", vec![entry("4-0", "job", "d")]));
}

fn disconnect_cleanup(port: u16) -> Vec<Frame> {
    let mut w = Raw::connect(port);
    w.cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]);
    {
        let mut dead = Raw::connect(port);
        dead.send(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "dead",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        wait_blocked(port, 1);
        let mut dead_xread = Raw::connect(port);
        dead_xread.send(&["XREAD", "BLOCK", "0", "STREAMS", "q", "$"]);
        wait_blocked(port, 2);
    }
    // Both connections are dropped (closed); the server must forget them.
    wait_blocked(port, 0);
    let mut live = Raw::connect(port);
    live.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "live",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    wait_blocked(port, 1);
    let add = w.cmd(&["XADD", "q", "1-0", "job", "a"]);
    let got = live.read();
    // The entry is in the live consumer's PEL, nobody else's.
    let summary = w.cmd(&["XPENDING", "q", "g"]);
    let dead_pel = w.cmd(&["XPENDING", "q", "g", "-", "+", "10", "dead"]);
    // And with nobody blocked, the next entry stays undelivered.
    w.cmd(&["XADD", "q", "2-0", "job", "b"]);
    let lag = w.cmd(&["XPENDING", "q", "g"]);
    let groups = w.cmd(&["XINFO", "GROUPS", "q"]);
    vec![add, got, summary, dead_pel, lag, groups]
}

#[test]
fn blocked_client_that_disconnects_is_cleaned_up() {
    let r = on_both(disconnect_cleanup);
    assert_eq!(r[1], one_stream("q", vec![entry("1-0", "job", "a")]));
    assert_eq!(
        r[2],
        arr(vec![
            Frame::Integer(1),
            bulk("1-0"),
            bulk("1-0"),
            arr(vec![arr(vec![bulk("live"), bulk("1")])]),
        ])
    );
    assert_eq!(r[3], arr(vec![]));
}

fn group_gone(port: u16) -> Vec<Frame> {
    let mut w = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut out = Vec::new();
    // XGROUP DESTROY.
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    out.push(w.cmd(&["XGROUP", "DESTROY", "s", "g"]));
    out.push(b.read());
    // DEL of the key.
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    out.push(w.cmd(&["DEL", "s"]));
    out.push(b.read());
    // The key overwritten by another type.
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    out.push(w.cmd(&["SET", "s", "x"]));
    out.push(b.read());
    // FLUSHALL.
    w.cmd(&["DEL", "s"]);
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    out.push(w.cmd(&["FLUSHALL"]));
    out.push(b.read());
    // Expiry (the active expire cycle, no other write).
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    out.push(w.cmd(&["PEXPIRE", "s", "20"]));
    out.push(b.read());
    // Writes that keep the group (XGROUP SETID, DELCONSUMER, XTRIM) leave it blocked.
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(port, 1);
    w.cmd(&["XGROUP", "SETID", "s", "g", "0"]);
    w.cmd(&["XGROUP", "DELCONSUMER", "s", "g", "c"]);
    w.cmd(&["XTRIM", "s", "MAXLEN", "0"]);
    assert_still_blocked(&mut b);
    w.cmd(&["XADD", "s", "2-0", "f", "w"]);
    out.push(b.read());
    // A plain XREAD stays blocked when its key is deleted or becomes a string.
    b.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["DEL", "s"]);
    w.cmd(&["SET", "s", "x"]);
    assert_still_blocked(&mut b);
    w.cmd(&["DEL", "s"]);
    w.cmd(&["XADD", "s", "9-0", "f", "z"]);
    out.push(b.read());
    out
}

/// Redis 7.0.15 answers a blocked XREADGROUP `-NOGROUP the consumer group this client was
/// blocked on no longer exists` when its group is destroyed, and `-UNBLOCKED the stream
/// key no longer exists` when the key is deleted or replaced (DEL, SET, FLUSHALL, expiry
/// by the active expire cycle).
#[test]
fn xreadgroup_blocked_when_group_or_key_goes_away() {
    let r = on_both(group_gone);
    let err = |s: &str| Frame::Error(bytes::Bytes::copy_from_slice(s.as_bytes()));
    assert_eq!(
        r[1],
        err("NOGROUP the consumer group this client was blocked on no longer exists")
    );
    assert_eq!(r[3], err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(r[5], err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(r[7], err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(r[9], err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(r[10], one_stream("s", vec![entry("2-0", "f", "w")]));
    assert_eq!(r[11], one_stream("s", vec![entry("9-0", "f", "z")]));
}

fn in_multi(port: u16) -> Vec<Frame> {
    let mut c = Raw::connect(port);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "0"]);
    let start = Instant::now();
    let r = c.cmd(&["EXEC"]);
    assert!(start.elapsed() < Duration::from_secs(2));
    vec![r]
}

#[test]
fn blocking_inside_multi_answers_immediately() {
    let r = on_both(in_multi);
    assert_eq!(
        r[0],
        arr(vec![Frame::NullArray, Frame::NullArray, Frame::NullArray])
    );
}

fn xread_multi_key(port: u16) -> Vec<Frame> {
    let mut w = Raw::connect(port);
    let mut b = Raw::connect(port);
    w.cmd(&["XADD", "{k}a", "1-0", "f", "v"]);
    b.send(&["XREAD", "BLOCK", "0", "STREAMS", "{k}a", "{k}b", "$", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["XADD", "{k}b", "3-0", "f", "v"]);
    let r1 = b.read();
    // COUNT given: the woken reader gets at most COUNT entries.
    b.send(&["XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "{k}a", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["MULTI"]);
    for id in ["2-0", "3-0", "4-0"] {
        w.cmd(&["XADD", "{k}a", id, "f", "v"]);
    }
    w.cmd(&["EXEC"]);
    let r2 = b.read();
    // RESP3: a map keyed by stream.
    b.cmd(&["HELLO", "3"]);
    b.send(&["XREAD", "BLOCK", "0", "STREAMS", "{k}a", "$"]);
    wait_blocked(port, 1);
    w.cmd(&["XADD", "{k}a", "5-0", "f", "v"]);
    let r3 = b.read();
    vec![r1, r2, r3]
}

#[test]
fn xread_block_multiple_keys_and_count() {
    on_both(xread_multi_key);
}
