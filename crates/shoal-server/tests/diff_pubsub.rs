//! Differential tests for Pub/Sub against a real redis-server 7.0 (one-node cluster):
//! subscribe confirmations and their counts, messages read on other connections, pattern
//! and shard channels, PUBSUB introspection, RESP2 subscribe mode and its errors, RESP3
//! pushes, keyspace notifications, and glob patterns (random patterns and channels,
//! compared through PUBSUB CHANNELS).

mod common;
use std::time::Duration;

use common::{Raw, RedisServer, Shoal, sorted};
use shoal_resp::Frame;

/// Both servers, so tests can open as many connection pairs as they need.
struct Servers {
    shoal: Shoal,
    redis: RedisServer,
}

impl Servers {
    fn start() -> Servers {
        Servers {
            shoal: Shoal::start(),
            redis: RedisServer::start(),
        }
    }

    fn pair(&self) -> Pair {
        Pair {
            s: self.shoal.raw(),
            r: self.redis.raw(),
            proto: "RESP2",
        }
    }

    fn pair3(&self) -> Pair {
        let mut p = self.pair();
        p.s.cmd(&["HELLO", "3"]);
        p.r.cmd(&["HELLO", "3"]);
        p.proto = "RESP3";
        p
    }
}

/// One connection to each server.
struct Pair {
    s: Raw,
    r: Raw,
    proto: &'static str,
}

impl Pair {
    /// Sends `args`, reads `n` replies from each, asserts them equal in order.
    fn check_n(&mut self, args: &[&str], n: usize) -> Vec<Frame> {
        self.s.send(args);
        self.r.send(args);
        self.read_n(args, n, false)
    }

    fn check(&mut self, args: &[&str]) -> Frame {
        self.check_n(args, 1).pop().unwrap_or(Frame::Null)
    }

    /// UNSUBSCRIBE / SUNSUBSCRIBE without arguments: Redis walks a hash table, so the
    /// channels may come in any order; the running counts must still be equal.
    fn check_unsubscribe_all(&mut self, args: &[&str], n: usize) {
        self.s.send(args);
        self.r.send(args);
        let split = |v: Vec<Frame>| {
            let mut names = Vec::new();
            let mut rest = Vec::new();
            for f in v {
                match f {
                    Frame::Array(mut e) | Frame::Push(mut e) if e.len() == 3 => {
                        names.push(format!("{:?}", e[1]));
                        e[1] = Frame::Null;
                        rest.push(e);
                    }
                    other => panic!("not a confirmation: {other:?}"),
                }
            }
            names.sort();
            (names, rest)
        };
        let s = split((0..n).map(|_| self.s.read()).collect());
        let r = split((0..n).map(|_| self.r.read()).collect());
        assert_eq!(
            s, r,
            "{} {args:?}: shoal (left) vs redis (right)",
            self.proto
        );
    }

    /// Compares a single reply after sorting its elements.
    fn check_sorted(&mut self, args: &[&str]) -> Frame {
        let s = self.s.cmd(args);
        let r = self.r.cmd(args);
        assert_eq!(
            sorted(s.clone()),
            sorted(r),
            "{} {args:?}: shoal (left) vs redis (right)",
            self.proto
        );
        s
    }

    fn read_n(&mut self, what: &[&str], n: usize, unordered: bool) -> Vec<Frame> {
        let mut s: Vec<Frame> = (0..n).map(|_| self.s.read()).collect();
        let mut r: Vec<Frame> = (0..n).map(|_| self.r.read()).collect();
        if unordered {
            s.sort_by_key(|f| format!("{f:?}"));
            r.sort_by_key(|f| format!("{f:?}"));
        }
        assert_eq!(
            s, r,
            "{} {what:?}: shoal (left) vs redis (right)",
            self.proto
        );
        s
    }

    /// Reads `n` pushed messages from each and compares them.
    fn messages(&mut self, n: usize, unordered: bool) -> Vec<Frame> {
        self.read_n(&["<messages>"], n, unordered)
    }
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn resp2_confirmations_counts_and_subscribe_mode() {
    let srv = Servers::start();
    let mut p = srv.pair();
    // Unsubscribing while subscribed to nothing: a nil channel and 0.
    p.check(&["UNSUBSCRIBE"]);
    p.check(&["PUNSUBSCRIBE"]);
    p.check(&["SUNSUBSCRIBE"]);
    p.check(&["UNSUBSCRIBE", "never"]);
    p.check(&["SUBSCRIBE"]);
    p.check(&["PSUBSCRIBE"]);
    p.check(&["SSUBSCRIBE"]);
    // One confirmation per channel, running counts; a repeat is confirmed again.
    let c = p.check_n(&["SUBSCRIBE", "a", "b", "a"], 3);
    assert_eq!(
        c[1],
        Frame::Array(vec![bulk("subscribe"), bulk("b"), Frame::Integer(2)])
    );
    // Subscribe mode: only (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
    for cmd in [
        &["GET", "k"][..],
        &["SET", "k", "v"],
        &["CLIENT", "LIST"],
        &["CLIENT", "ID"],
        &["HELLO", "3"],
        &["PUBLISH", "a", "x"],
        &["MULTI"],
        &["CONFIG", "GET", "port"],
        &["PUBSUB", "NUMPAT"],
    ] {
        p.check(cmd);
    }
    p.check(&["NOSUCHCOMMAND"]);
    p.check(&["GET"]);
    p.check(&["PING"]);
    p.check(&["PING", "hello"]);
    p.check(&["PING", "a", "b"]);
    // Patterns count with channels; shard channels count apart.
    p.check_n(&["PSUBSCRIBE", "p*", "p*", "q?"], 3);
    p.check_n(&["SSUBSCRIBE", "{t}a", "{t}b"], 2);
    p.check(&["SSUBSCRIBE", "a", "b"]); // CROSSSLOT
    p.check_n(&["SUNSUBSCRIBE", "{t}a", "{t}zz"], 2);
    p.check(&["UNSUBSCRIBE", "zz"]);
    // Patterns leave in subscription order.
    p.check_n(&["PUNSUBSCRIBE"], 2);
    p.check_unsubscribe_all(&["UNSUBSCRIBE"], 2);
    // Still one shard channel: still in subscribe mode.
    p.check(&["GET", "k"]);
    p.check(&["SUNSUBSCRIBE"]);
    p.check(&["GET", "k"]);
    p.check(&["PING"]);
    // RESET leaves every subscription silently.
    p.check_n(&["SUBSCRIBE", "a"], 1);
    p.check_n(&["PSUBSCRIBE", "a*"], 1);
    p.check(&["RESET"]);
    p.check(&["GET", "k"]);
    p.check(&["UNSUBSCRIBE"]);
    // QUIT in subscribe mode.
    p.check_n(&["SUBSCRIBE", "a"], 1);
    p.check(&["QUIT"]);
    assert!(p.s.is_closed());
}

#[test]
fn messages_patterns_and_shard_channels() {
    let srv = Servers::start();
    let mut sub = srv.pair();
    let mut sub3 = srv.pair3();
    let mut pubr = srv.pair();
    sub.check_n(&["SUBSCRIBE", "news", "x"], 2);
    sub.check_n(&["PSUBSCRIBE", "n*", "*s", "n[aeiou]ws", "\\*"], 4);
    sub.check_n(&["SSUBSCRIBE", "sh"], 1);
    sub3.check_n(&["SUBSCRIBE", "news"], 1);
    sub3.check_n(&["PSUBSCRIBE", "n*"], 1);
    sub3.check_n(&["SSUBSCRIBE", "sh"], 1);
    // Receivers: news + n* + *s + n[aeiou]ws on sub, news + n* on sub3.
    pubr.check(&["PUBLISH", "news", "hello"]);
    sub.messages(4, true);
    sub3.messages(2, true);
    pubr.check(&["PUBLISH", "x", ""]);
    sub.messages(1, false);
    pubr.check(&["PUBLISH", "*", "star"]);
    sub.messages(1, false);
    pubr.check(&["PUBLISH", "nobody", "m"]); // n*
    sub.messages(1, false);
    sub3.messages(1, false);
    pubr.check(&["SPUBLISH", "sh", "shard message"]);
    sub.messages(1, false);
    sub3.messages(1, false);
    pubr.check(&["SPUBLISH", "news", "no shard subscribers"]);
    pubr.check(&["PUBLISH", "sh", "no channel subscribers"]);
    // Binary payloads survive.
    pubr.check(&["PUBLISH", "x", "a\r\nb\0c"]);
    sub.messages(1, false);
    // After unsubscribing, nothing more arrives; then a marker proves it.
    sub.check_unsubscribe_all(&["UNSUBSCRIBE"], 2);
    sub.check_n(&["PUNSUBSCRIBE"], 4);
    pubr.check(&["PUBLISH", "news", "late"]);
    sub3.messages(2, true);
    pubr.check(&["SPUBLISH", "sh", "marker"]);
    sub.messages(1, false);
    sub3.messages(1, false);
    // A RESP3 client gets its own message before PUBLISH's reply, and may run any
    // command while subscribed.
    sub3.check_n(&["PUBLISH", "news", "self"], 3);
    sub3.check(&["SET", "k", "v"]);
    sub3.check(&["GET", "k"]);
    sub3.check(&["PING"]);
    sub3.check(&["PING", "x"]);
    sub3.check_n(&["UNSUBSCRIBE", "news", "other"], 2);
    sub3.check(&["PUNSUBSCRIBE"]);
    sub3.check(&["SUNSUBSCRIBE"]);
    sub3.check(&["SUNSUBSCRIBE"]);
}

#[test]
fn pubsub_introspection() {
    let srv = Servers::start();
    let mut q = srv.pair();
    let mut a = srv.pair();
    let mut b = srv.pair3();
    for args in [
        &["PUBSUB", "CHANNELS"][..],
        &["PUBSUB", "NUMSUB"],
        &["PUBSUB", "NUMPAT"],
        &["PUBSUB", "SHARDCHANNELS"],
        &["PUBSUB", "SHARDNUMSUB"],
        &["PUBSUB", "HELP"],
        &["PUBSUB"],
        &["PUBSUB", "FOO"],
        &["PUBSUB", "channels", "a", "b"],
        &["PUBSUB", "SHARDCHANNELS", "a", "b"],
        &["PUBSUB", "NUMPAT", "x"],
        &["PUBSUB", "HELP", "x"],
        &["PUBLISH", "a"],
        &["PUBLISH", "a", "b", "c"],
        &["SPUBLISH", "a"],
    ] {
        q.check(args);
    }
    a.check_n(&["SUBSCRIBE", "chat:1", "chat:2", "news"], 3);
    a.check_n(&["PSUBSCRIBE", "chat:*", "news*"], 2);
    a.check_n(&["SSUBSCRIBE", "{s}1", "{s}2"], 2);
    b.check_n(&["SUBSCRIBE", "chat:1"], 1);
    b.check_n(&["PSUBSCRIBE", "chat:*", "x"], 2);
    b.check_n(&["SSUBSCRIBE", "{s}1"], 1);
    q.check_sorted(&["PUBSUB", "CHANNELS"]);
    q.check_sorted(&["PUBSUB", "CHANNELS", "chat:*"]);
    q.check_sorted(&["PUBSUB", "CHANNELS", "*[0-9]"]);
    q.check(&["PUBSUB", "CHANNELS", "nomatch*"]);
    q.check(&["PUBSUB", "NUMSUB", "chat:1", "chat:2", "nosuch", "chat:*"]);
    q.check(&["PUBSUB", "NUMPAT"]);
    q.check_sorted(&["PUBSUB", "SHARDCHANNELS"]);
    q.check(&["PUBSUB", "SHARDCHANNELS", "*2"]);
    q.check(&["PUBSUB", "SHARDNUMSUB", "{s}1", "{s}2", "chat:1"]);
    q.check(&["PUBLISH", "chat:1", "m"]);
    q.check(&["SPUBLISH", "{s}1", "m"]);
    q.check(&["SPUBLISH", "{s}2", "m"]);
    q.check(&["PUBLISH", "chat:9", "m"]);
    // b: message + pmessage chat:*, smessage, pmessage chat:9.
    b.messages(4, true);
    // RESP3 forms.
    let mut q3 = srv.pair3();
    q3.check(&["PUBSUB", "NUMSUB", "chat:1"]);
    q3.check(&["PUBSUB", "SHARDNUMSUB", "{s}1"]);
    q3.check(&["PUBSUB", "CHANNELS", "news"]);
    q3.check(&["PUBSUB", "HELP"]);
    // Leaving updates the counts; a disconnect too.
    b.check(&["PUNSUBSCRIBE", "chat:*"]);
    q.check(&["PUBSUB", "NUMPAT"]);
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    q.check(&["PUBSUB", "NUMSUB", "chat:1", "chat:2", "news"]);
    q.check(&["PUBSUB", "NUMPAT"]);
    q.check(&["PUBSUB", "SHARDNUMSUB", "{s}1", "{s}2"]);
    q.check_sorted(&["PUBSUB", "CHANNELS"]);
    // CLIENT LIST shows sub/psub/ssub and the P flag.
    let line = |f: Frame| match f {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    let s_list = line(b.s.cmd(&["CLIENT", "INFO"]));
    let r_list = line(b.r.cmd(&["CLIENT", "INFO"]));
    for field in ["flags=P ", "sub=1 ", "psub=1 ", "ssub=1 "] {
        assert!(s_list.contains(field), "shoal: {s_list}");
        assert!(r_list.contains(field), "redis: {r_list}");
    }
    let pubsub_clients = line(q.s.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert_eq!(pubsub_clients.lines().count(), 1, "{pubsub_clients}");
}

#[test]
fn command_table_entries() {
    let srv = Servers::start();
    let mut p = srv.pair();
    for name in [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "publish",
        "pubsub",
        "spublish",
        "ssubscribe",
        "sunsubscribe",
    ] {
        let s = p.s.cmd(&["COMMAND", "INFO", name]);
        let r = p.r.cmd(&["COMMAND", "INFO", name]);
        // Name, arity, flags, first/last/step, ACL categories (key specs and docs are
        // compared elsewhere).
        let head = |f: Frame| match f {
            Frame::Array(mut v) => match v.pop() {
                Some(Frame::Array(mut e)) => {
                    e.truncate(7);
                    e
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        assert_eq!(head(s), head(r), "COMMAND INFO {name}");
    }
    p.check(&["COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "b"]);
    p.check(&["COMMAND", "GETKEYS", "SPUBLISH", "a", "b"]);
    p.check(&["COMMAND", "GETKEYS", "PUBLISH", "a", "b"]);
    p.check(&["SPUBLISH", "{a}x", "m"]);
    p.check(&["SSUBSCRIBE", "a", "b", "c"]);
    p.check(&["SUNSUBSCRIBE", "a", "b"]);
}

#[test]
fn keyspace_notifications() {
    let srv = Servers::start();
    let mut admin = srv.pair();
    let mut sub = srv.pair();
    let mut sub3 = srv.pair3();
    admin.check(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    admin.check(&["CONFIG", "GET", "notify-keyspace-events"]);
    sub.check_n(&["PSUBSCRIBE", "__key*__:*"], 1);
    sub3.check_n(&["SUBSCRIBE", "__keyevent@0__:set", "__keyspace@0__:k"], 2);
    // Each write: keyspace message, then keyevent message.
    admin.check(&["SET", "k", "v"]);
    sub.messages(2, false);
    sub3.messages(2, false);
    admin.check(&["EXPIRE", "k", "100"]);
    sub.messages(2, false);
    sub3.messages(1, false);
    admin.check(&["PERSIST", "k"]);
    sub.messages(2, false);
    sub3.messages(1, false);
    admin.check(&["DEL", "k", "{k}nokey"]);
    sub.messages(2, false);
    sub3.messages(1, false);
    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    sub.messages(2, false);
    admin.check(&["APPEND", "s2", "x"]);
    sub.messages(2, false);
    admin.check(&["INCR", "n"]);
    sub.messages(2, false);
    // Expiry: "expired" from the active cycle.
    admin.check(&["SET", "e", "1", "PX", "30"]);
    sub.messages(4, false);
    std::thread::sleep(Duration::from_millis(400));
    sub.messages(2, false);
    // Only E: keyevent messages only; only g: DEL but not SET.
    admin.check(&["CONFIG", "SET", "notify-keyspace-events", "Eg"]);
    admin.check(&["SET", "k", "v"]);
    admin.check(&["DEL", "k"]);
    sub.messages(1, false);
    admin.check(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    admin.check(&["SET", "k", "v"]);
    admin.check(&["PUBLISH", "__keyevent@0__:set", "marker"]);
    sub.messages(1, false);
    sub3.messages(1, false);
}

/// xorshift64*: a reproducible stream of test data without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random glob patterns (with every special form, malformed ones included) against
/// random channels: PUBSUB CHANNELS <pattern> must list the same channels as Redis.
#[test]
fn glob_patterns_match_redis() {
    let srv = Servers::start();
    let mut sub = srv.pair();
    let mut q = srv.pair();
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let alphabet = ["a", "b", "c", "x", "-", "^", "]", "[", "\\", "*", "?", "A"];
    let mut channels = Vec::new();
    for _ in 0..150 {
        let len = (rng.next() % 6) as usize;
        let ch: String = (0..len).map(|_| rng.pick(&alphabet)).collect();
        if !ch.is_empty() && !channels.contains(&ch) {
            channels.push(ch);
        }
    }
    let args: Vec<&str> = std::iter::once("SUBSCRIBE")
        .chain(channels.iter().map(String::as_str))
        .collect();
    sub.check_n(&args, channels.len());
    let atoms = [
        "a", "b", "c", "x", "A", "*", "?", "[ab]", "[^a]", "[a-c]", "[c-a]", "[", "]", "\\*", "\\",
        "[\\]]", "[^]", "[a-]", "-", "^", "**", "[!a]", "\\?",
    ];
    for _ in 0..400 {
        let len = 1 + (rng.next() % 5) as usize;
        let pattern: String = (0..len).map(|_| rng.pick(&atoms)).collect();
        q.check_sorted(&["PUBSUB", "CHANNELS", &pattern]);
    }
}

/// A RESP3 subscriber blocked in XREAD still receives its messages, then the reply.
#[test]
fn resp3_subscriber_receives_while_blocked() {
    let srv = Servers::start();
    let mut sub3 = srv.pair3();
    let mut pubr = srv.pair();
    sub3.check_n(&["SUBSCRIBE", "ch"], 1);
    sub3.s.send(&["XREAD", "BLOCK", "800", "STREAMS", "s", "$"]);
    sub3.r.send(&["XREAD", "BLOCK", "800", "STREAMS", "s", "$"]);
    std::thread::sleep(Duration::from_millis(100));
    pubr.check(&["PUBLISH", "ch", "while blocked"]);
    // The message arrives before the XREAD times out.
    sub3.messages(1, false);
    sub3.read_n(&["XREAD timeout"], 1, false);
}
