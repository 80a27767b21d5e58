//! Blocking list and sorted-set commands through the real server, several connections:
//! BLPOP/BRPOP, BLMOVE/BRPOPLPUSH (and the chain where the destination push serves a
//! client blocked on the destination), BLMPOP, BZPOPMIN/BZPOPMAX, BZMPOP, FIFO order of
//! waiters, timeouts, disconnected waiters, several keys, and a key that changes type.
//!
//! Every scenario is written once as a function of a port and runs against Shoal and a
//! real redis-server 7.0.15 (one-node cluster); the two transcripts — every reply each
//! connection observed, or "still blocked" — must be identical, in RESP2 and RESP3.

mod common;
use std::time::{Duration, Instant};

use common::{Diff, Raw};
use shoal_resp::Frame;

/// What one connection observed at one point of a scenario.
#[derive(Debug, PartialEq)]
enum Seen {
    Reply(Frame),
    /// Nothing arrived within the wait (the client is still blocked).
    Blocked,
}

/// One server under test.
struct Env {
    port: u16,
    resp3: bool,
    log: Vec<(String, Seen)>,
}

impl Env {
    fn conn(&self) -> Raw {
        let mut r = Raw::connect(self.port);
        if self.resp3 {
            r.cmd(&["HELLO", "3"]);
        }
        r
    }

    /// Sends a command and records its reply.
    fn cmd(&mut self, c: &mut Raw, args: &[&str]) {
        let f = c.cmd(args);
        self.log.push((args.join(" "), Seen::Reply(f)));
    }

    /// Sends a blocking command and waits until the server counts `n` blocked clients.
    fn block(&mut self, c: &mut Raw, args: &[&str], n: usize) {
        c.send(args);
        self.wait_blocked(n);
    }

    /// Records the next reply on `c` (a blocked command being served).
    fn served(&mut self, c: &mut Raw, what: &str) {
        c.set_read_timeout(Duration::from_secs(5));
        let seen = c.try_read_timeout().map_or(Seen::Blocked, Seen::Reply);
        self.log.push((format!("served? {what}"), seen));
    }

    /// Records whether `c` got a reply within `ms` (Blocked if not).
    fn within(&mut self, c: &mut Raw, ms: u64, what: &str) {
        c.set_read_timeout(Duration::from_millis(ms));
        let seen = c.try_read_timeout().map_or(Seen::Blocked, Seen::Reply);
        c.set_read_timeout(Duration::from_secs(30));
        self.log.push((format!("within {ms}ms? {what}"), seen));
    }

    fn wait_blocked(&self, n: usize) {
        let mut c = Raw::connect(self.port);
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
                "never saw {want:?} on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `scenario` against Shoal and redis-server, RESP2 then RESP3, and compares.
fn both(name: &str, scenario: fn(&mut Env)) {
    let d = Diff::new();
    let (shoal, redis) = d.ports();
    for resp3 in [false, true] {
        let mut logs = Vec::new();
        for port in [shoal, redis] {
            let mut env = Env {
                port,
                resp3,
                log: Vec::new(),
            };
            let mut c = env.conn();
            c.cmd(&["FLUSHALL"]);
            scenario(&mut env);
            logs.push(env.log);
        }
        let proto = if resp3 { "RESP3" } else { "RESP2" };
        assert_eq!(logs[0].len(), logs[1].len(), "{name} {proto}");
        for (s, r) in logs[0].iter().zip(&logs[1]) {
            assert_eq!(s, r, "{name} {proto}: shoal (left) vs redis (right)");
        }
    }
}

fn blpop_brpop_served_by_push(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    e.block(&mut a, &["BLPOP", "{t}k1", "{t}k2", "0"], 1);
    e.cmd(&mut b, &["LPUSH", "{t}k2", "x", "y"]);
    e.served(&mut a, "BLPOP");
    e.cmd(&mut b, &["LRANGE", "{t}k2", "0", "-1"]);
    e.block(&mut a, &["BRPOP", "{t}k1", "{t}k3", "0"], 1);
    e.cmd(&mut b, &["RPUSH", "{t}k3", "p", "q"]);
    e.served(&mut a, "BRPOP");
    e.cmd(&mut b, &["LRANGE", "{t}k3", "0", "-1"]);
    e.cmd(&mut b, &["EXISTS", "{t}k1"]);
}

#[test]
fn blpop_and_brpop_are_served_by_a_later_push() {
    both("blpop", blpop_brpop_served_by_push);
}

fn blmove_chain(e: &mut Env) {
    let (mut mover, mut dst_waiter, mut b) = (e.conn(), e.conn(), e.conn());
    // The destination's waiter blocked first; BLMOVE's push to it must serve it.
    e.block(&mut dst_waiter, &["BLPOP", "{t}dst", "0"], 1);
    e.block(
        &mut mover,
        &["BLMOVE", "{t}src", "{t}dst", "LEFT", "RIGHT", "0"],
        2,
    );
    e.cmd(&mut b, &["RPUSH", "{t}src", "a", "b"]);
    e.served(&mut mover, "BLMOVE");
    e.served(&mut dst_waiter, "BLPOP on the destination");
    e.cmd(&mut b, &["LRANGE", "{t}src", "0", "-1"]);
    e.cmd(&mut b, &["LRANGE", "{t}dst", "0", "-1"]);
    // Same with BRPOPLPUSH, and a destination that is itself a BRPOPLPUSH source.
    e.block(&mut dst_waiter, &["BRPOPLPUSH", "{t}d2", "{t}d3", "0"], 1);
    e.block(&mut mover, &["BRPOPLPUSH", "{t}s2", "{t}d2", "0"], 2);
    e.cmd(&mut b, &["LPUSH", "{t}s2", "one", "two"]);
    e.served(&mut mover, "BRPOPLPUSH");
    e.served(&mut dst_waiter, "BRPOPLPUSH from the destination");
    for k in ["{t}s2", "{t}d2", "{t}d3"] {
        e.cmd(&mut b, &["LRANGE", k, "0", "-1"]);
    }
    // Source and destination the same key: a rotation.
    e.block(
        &mut mover,
        &["BLMOVE", "{t}r", "{t}r", "RIGHT", "LEFT", "0"],
        1,
    );
    e.cmd(&mut b, &["RPUSH", "{t}r", "1"]);
    e.served(&mut mover, "BLMOVE rotation");
    e.cmd(&mut b, &["LRANGE", "{t}r", "0", "-1"]);
}

#[test]
fn blmove_and_brpoplpush_serve_then_chain_to_the_destination() {
    both("blmove", blmove_chain);
}

fn blmpop(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    e.block(
        &mut a,
        &["BLMPOP", "0", "2", "{t}k1", "{t}k2", "LEFT", "COUNT", "2"],
        1,
    );
    e.cmd(&mut b, &["RPUSH", "{t}k2", "a", "b", "c"]);
    e.served(&mut a, "BLMPOP LEFT COUNT 2");
    e.block(&mut a, &["BLMPOP", "0", "1", "{t}k1", "RIGHT"], 1);
    e.cmd(&mut b, &["RPUSH", "{t}k1", "x", "y"]);
    e.served(&mut a, "BLMPOP RIGHT");
    e.cmd(&mut b, &["LRANGE", "{t}k1", "0", "-1"]);
    e.cmd(&mut b, &["LRANGE", "{t}k2", "0", "-1"]);
}

#[test]
fn blmpop_is_served() {
    both("blmpop", blmpop);
}

fn bzpop(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    e.block(&mut a, &["BZPOPMIN", "{t}z1", "{t}z2", "0"], 1);
    e.cmd(&mut b, &["ZADD", "{t}z2", "2", "b", "1", "a", "3", "c"]);
    e.served(&mut a, "BZPOPMIN");
    e.block(&mut a, &["BZPOPMAX", "{t}z1", "0"], 1);
    e.cmd(&mut b, &["ZADD", "{t}z1", "1.5", "m", "-inf", "n"]);
    e.served(&mut a, "BZPOPMAX");
    e.block(&mut a, &["BZPOPMIN", "{t}z3", "0"], 1);
    e.cmd(&mut b, &["ZINCRBY", "{t}z3", "2.5", "q"]);
    e.served(&mut a, "BZPOPMIN served by ZINCRBY");
    e.block(&mut a, &["BZPOPMAX", "{t}z4", "0"], 1);
    e.cmd(&mut b, &["ZUNIONSTORE", "{t}z4", "1", "{t}z2"]);
    e.served(&mut a, "BZPOPMAX served by ZUNIONSTORE");
    for k in ["{t}z1", "{t}z2", "{t}z3", "{t}z4"] {
        e.cmd(&mut b, &["ZRANGE", k, "0", "-1", "WITHSCORES"]);
    }
}

#[test]
fn bzpopmin_and_bzpopmax_are_served_by_zadd() {
    both("bzpop", bzpop);
}

fn bzmpop(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    e.block(
        &mut a,
        &["BZMPOP", "0", "2", "{t}z1", "{t}z2", "MAX", "COUNT", "2"],
        1,
    );
    e.cmd(&mut b, &["ZADD", "{t}z2", "1", "a", "2", "b", "3", "c"]);
    e.served(&mut a, "BZMPOP MAX COUNT 2");
    e.block(&mut a, &["BZMPOP", "0", "1", "{t}z1", "MIN"], 1);
    e.cmd(&mut b, &["ZADD", "{t}z1", "5", "x", "4", "y"]);
    e.served(&mut a, "BZMPOP MIN");
    e.cmd(&mut b, &["ZRANGE", "{t}z1", "0", "-1", "WITHSCORES"]);
    e.cmd(&mut b, &["ZRANGE", "{t}z2", "0", "-1", "WITHSCORES"]);
}

#[test]
fn bzmpop_is_served() {
    both("bzmpop", bzmpop);
}

fn fifo(e: &mut Env) {
    let (mut first, mut second, mut b) = (e.conn(), e.conn(), e.conn());
    e.block(&mut first, &["BLPOP", "{t}k", "0"], 1);
    e.block(&mut second, &["BLPOP", "{t}k", "0"], 2);
    e.cmd(&mut b, &["RPUSH", "{t}k", "one"]);
    e.served(&mut first, "first waiter");
    e.within(&mut second, 300, "second waiter after one element");
    e.cmd(&mut b, &["RPUSH", "{t}k", "two", "three"]);
    e.served(&mut second, "second waiter");
    e.cmd(&mut b, &["LRANGE", "{t}k", "0", "-1"]);
    // Sorted sets: same rule; one ZADD of two members serves both.
    e.block(&mut first, &["BZPOPMIN", "{t}z", "0"], 1);
    e.block(&mut second, &["BZPOPMIN", "{t}z", "0"], 2);
    e.cmd(&mut b, &["ZADD", "{t}z", "2", "b", "1", "a"]);
    e.served(&mut first, "first zset waiter");
    e.served(&mut second, "second zset waiter");
    e.cmd(&mut b, &["EXISTS", "{t}z"]);
}

#[test]
fn first_blocked_is_first_served() {
    both("fifo", fifo);
}

fn timeouts(e: &mut Env) {
    let mut a = e.conn();
    for c in [
        &["BLPOP", "{t}k", "0.1"][..],
        &["BRPOP", "{t}k", "{t}k2", "0.05"],
        &["BLMOVE", "{t}k", "{t}d", "LEFT", "LEFT", "0.1"],
        &["BRPOPLPUSH", "{t}k", "{t}d", "0.1"],
        &["BLMPOP", "0.1", "1", "{t}k", "LEFT"],
        &["BZPOPMIN", "{t}z", "0.1"],
        &["BZPOPMAX", "{t}z", "0.1"],
        &["BZMPOP", "0.1", "1", "{t}z", "MIN", "COUNT", "3"],
    ] {
        a.send(c);
        e.served(&mut a, &c.join(" "));
    }
    e.cmd(&mut a, &["EXISTS", "{t}d"]);
}

#[test]
fn fractional_timeouts_answer_nil_of_the_right_type() {
    both("timeouts", timeouts);
}

fn disconnect(e: &mut Env) {
    let mut b = e.conn();
    {
        let mut gone = e.conn();
        e.block(&mut gone, &["BLPOP", "{t}k", "0"], 1);
    }
    // Dropped: the server must notice before the push and not pop for it.
    e.wait_blocked(0);
    e.cmd(&mut b, &["RPUSH", "{t}k", "x"]);
    e.cmd(&mut b, &["LRANGE", "{t}k", "0", "-1"]);
    {
        let mut gone = e.conn();
        e.block(&mut gone, &["BZPOPMIN", "{t}z", "0"], 1);
    }
    e.wait_blocked(0);
    e.cmd(&mut b, &["ZADD", "{t}z", "1", "m"]);
    e.cmd(&mut b, &["ZCARD", "{t}z"]);
    // A live waiter behind a dead one is served.
    let mut live = e.conn();
    {
        let mut gone = e.conn();
        e.block(
            &mut gone,
            &["BLMOVE", "{t}s", "{t}d", "LEFT", "LEFT", "0"],
            1,
        );
        e.block(&mut live, &["BLPOP", "{t}s", "0"], 2);
    }
    e.wait_blocked(1);
    e.cmd(&mut b, &["RPUSH", "{t}s", "v"]);
    e.served(&mut live, "live waiter behind a disconnected one");
    e.cmd(&mut b, &["EXISTS", "{t}d"]);
}

#[test]
fn a_disconnected_waiter_consumes_nothing() {
    both("disconnect", disconnect);
}

fn multiple_keys(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    // Data already there: the first non-empty key in argument order wins.
    e.cmd(&mut b, &["RPUSH", "{t}k3", "c"]);
    e.cmd(&mut b, &["RPUSH", "{t}k2", "b"]);
    e.cmd(&mut a, &["BLPOP", "{t}k1", "{t}k2", "{t}k3", "0"]);
    e.cmd(&mut b, &["ZADD", "{t}z3", "3", "c"]);
    e.cmd(&mut b, &["ZADD", "{t}z2", "2", "b"]);
    e.cmd(&mut a, &["BZPOPMIN", "{t}z1", "{t}z2", "{t}z3", "0"]);
    e.cmd(
        &mut a,
        &["BZMPOP", "0", "3", "{t}z1", "{t}z2", "{t}z3", "MIN"],
    );
    // Blocked on several keys; one transaction pushes to two of them: the key that
    // became ready first is served.
    e.cmd(&mut b, &["DEL", "{t}k1", "{t}k2", "{t}k3"]);
    e.block(&mut a, &["BLPOP", "{t}k1", "{t}k2", "0"], 1);
    e.cmd(&mut b, &["MULTI"]);
    e.cmd(&mut b, &["RPUSH", "{t}k2", "from-k2"]);
    e.cmd(&mut b, &["RPUSH", "{t}k1", "from-k1"]);
    e.cmd(&mut b, &["EXEC"]);
    e.served(&mut a, "BLPOP k1 k2 after MULTI push k2, k1");
    e.cmd(&mut b, &["LRANGE", "{t}k1", "0", "-1"]);
    e.cmd(&mut b, &["LRANGE", "{t}k2", "0", "-1"]);
}

#[test]
fn with_several_keys_the_first_ready_key_wins() {
    both("multiple keys", multiple_keys);
}

fn wrong_type(e: &mut Env) {
    let (mut a, mut b) = (e.conn(), e.conn());
    // Wrong type before blocking: an immediate error.
    e.cmd(&mut b, &["SET", "{t}s", "str"]);
    e.cmd(&mut a, &["BLPOP", "{t}s", "0"]);
    e.cmd(&mut a, &["BZPOPMIN", "{t}s", "0"]);
    e.cmd(&mut a, &["BLPOP", "{t}empty", "{t}s", "0"]);
    // The key a list waiter is blocked on becomes a string, then a sorted set: Redis 7.0
    // keeps the client blocked (it only serves list waiters from lists).
    e.block(&mut a, &["BLPOP", "{t}k", "0"], 1);
    e.cmd(&mut b, &["SET", "{t}k", "str"]);
    e.within(&mut a, 300, "BLPOP after SET k");
    e.cmd(&mut b, &["DEL", "{t}k"]);
    e.cmd(&mut b, &["ZADD", "{t}k", "1", "m"]);
    e.within(&mut a, 300, "BLPOP after ZADD k");
    e.cmd(&mut b, &["DEL", "{t}k"]);
    e.cmd(&mut b, &["RPUSH", "{t}k", "finally"]);
    e.served(&mut a, "BLPOP after RPUSH k");
    // A sorted-set waiter whose key becomes a list.
    e.block(&mut a, &["BZPOPMIN", "{t}q", "0"], 1);
    e.cmd(&mut b, &["RPUSH", "{t}q", "x"]);
    e.within(&mut a, 300, "BZPOPMIN after RPUSH q");
    e.cmd(&mut b, &["DEL", "{t}q"]);
    e.cmd(&mut b, &["ZADD", "{t}q", "1", "m"]);
    e.served(&mut a, "BZPOPMIN after ZADD q");
}

#[test]
fn a_key_that_changes_type_under_a_waiter() {
    both("wrong type", wrong_type);
}
