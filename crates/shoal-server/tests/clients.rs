//! Real clients against the real binary: the redis crate (plain and cluster clients),
//! authentication, connection limits, CLIENT commands, and bad input isolation.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::Shoal;
use redis::{Commands, RedisResult};
use shoal_resp::Frame;

#[test]
fn redis_rs_plain_client() {
    let shoal = Shoal::start();
    let mut c = shoal.client();
    let _: () = c.set("greeting", "hello").expect("set");
    let v: String = c.get("greeting").expect("get");
    assert_eq!(v, "hello");
    let n: i64 = c.incr("counter", 5).expect("incr");
    assert_eq!(n, 5);
    let _: () = c.set_ex("temp", "x", 100).expect("setex");
    let ttl: i64 = c.ttl("temp").expect("ttl");
    assert!((99..=100).contains(&ttl));
    // A pipeline, and a transaction.
    let (a, b): (i64, i64) = redis::pipe()
        .incr("p", 1)
        .incr("p", 1)
        .query(&mut c)
        .expect("pipe");
    assert_eq!((a, b), (1, 2));
    let (x,): (i64,) = redis::pipe()
        .atomic()
        .incr("t", 7)
        .query(&mut c)
        .expect("multi");
    assert_eq!(x, 7);
    let info: String = redis::cmd("INFO").query(&mut c).expect("info");
    assert!(info.contains("redis_version:7.0.15"));
    assert!(info.contains("shoal_version:"));
}

#[test]
fn redis_rs_cluster_client_against_a_cluster_of_one() {
    let shoal = Shoal::start();
    let client = redis::cluster::ClusterClient::new(vec![shoal.url()]).expect("cluster client");
    let mut c = client.get_connection().expect("cluster connection");
    for i in 0..100 {
        let _: () = c.set(format!("user:{i}"), i).expect("set");
    }
    for i in 0..100 {
        let v: i64 = c.get(format!("user:{i}")).expect("get");
        assert_eq!(v, i);
    }
    // Same-slot multi-key commands work; the client splits cross-slot MGETs itself.
    let vals: Vec<i64> = c.mget(&["user:1", "user:2", "user:3"]).expect("mget");
    assert_eq!(vals, vec![1, 2, 3]);
}

#[test]
fn requirepass() {
    let shoal = Shoal::start_with(&["--requirepass", "s3cret"]);
    let mut r = shoal.raw();
    assert_eq!(
        r.cmd(&["GET", "k"]),
        Frame::static_error("NOAUTH Authentication required.")
    );
    assert_eq!(
        r.cmd(&["PING"]),
        Frame::static_error("NOAUTH Authentication required.")
    );
    assert_eq!(
        r.cmd(&["AUTH", "wrong"]),
        Frame::static_error("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert!(matches!(r.cmd(&["HELLO", "3"]), Frame::Error(e) if e.starts_with(b"NOAUTH")));
    assert_eq!(r.cmd(&["AUTH", "s3cret"]), Frame::ok());
    assert_eq!(r.cmd(&["SET", "k", "v"]), Frame::ok());
    // HELLO with AUTH on a fresh connection, and redis-rs with a password in the URL.
    let mut r2 = shoal.raw();
    assert!(matches!(
        r2.cmd(&["HELLO", "3", "AUTH", "default", "s3cret"]),
        Frame::Map(_)
    ));
    let client =
        redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", shoal.port)).expect("client");
    let mut c = client.get_connection().expect("auth connection");
    let v: String = c.get("k").expect("get");
    assert_eq!(v, "v");
    // Before authentication, big requests are refused (Redis 7's pre-auth limits).
    let mut r3 = shoal.raw();
    r3.send_raw(b"*100\r\n");
    assert_eq!(
        r3.read(),
        Frame::static_error("ERR Protocol error: unauthenticated multibulk length")
    );
    assert!(r3.is_closed());
}

#[test]
fn maxclients_and_client_commands() {
    let shoal = Shoal::start_with(&["--maxclients", "3"]);
    let mut a = shoal.raw();
    let mut b = shoal.raw();
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), Frame::ok());
    let _ = b.cmd(&["PING"]);
    let mut c = shoal.raw();
    let _ = c.cmd(&["PING"]);
    let mut d = shoal.raw();
    assert_eq!(
        d.read(),
        Frame::static_error("ERR max number of clients reached")
    );
    let Frame::Bulk(list) = a.cmd(&["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST is a bulk string");
    };
    let list = String::from_utf8_lossy(&list).to_string();
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(list.contains("name=alpha"));
    let Frame::Integer(b_id) = b.cmd(&["CLIENT", "ID"]) else {
        panic!("id");
    };
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", &b_id.to_string()]),
        Frame::Integer(1)
    );
    assert!(b.is_closed());
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "999999"]),
        Frame::Integer(0)
    );
    let Frame::Bulk(info) = a.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO is a bulk string");
    };
    assert!(String::from_utf8_lossy(&info).contains("name=alpha"));
}

/// CLIENT KILL closes a client blocked in BLPOP at once (it is not waiting on its
/// socket but on the list), and it no longer counts as blocked.
#[test]
fn client_kill_closes_a_blocked_client() {
    let shoal = Shoal::start();
    let mut admin = shoal.raw();
    let mut blocked = shoal.raw();
    let Frame::Integer(id) = blocked.cmd(&["CLIENT", "ID"]) else {
        panic!("id");
    };
    blocked.send(&["BLPOP", "never-pushed", "0"]);
    let waiting = |admin: &mut common::Raw| {
        let Frame::Bulk(info) = admin.cmd(&["INFO", "clients"]) else {
            panic!("INFO is a bulk string");
        };
        String::from_utf8_lossy(&info).contains("blocked_clients:1")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !waiting(&mut admin) {
        assert!(std::time::Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
        Frame::Integer(1)
    );
    assert!(blocked.is_closed());
    assert!(!waiting(&mut admin));
}

/// Garbage on one connection gets an error and a close; other clients carry on.
#[test]
fn bad_input_is_isolated() {
    let shoal = Shoal::start();
    let mut good = shoal.client();
    let _: () = good.set("safe", "1").expect("set");
    let garbage: &[&[u8]] = &[
        b"*1\r\n$-100\r\n",
        b"*abc\r\n",
        b"$5\r\nhello\r\n",
        b"*2\r\n$3\r\nGET\r\n:1\r\n",
        b"\x00\x01\x02\xff\r\n",
        b"*1\r\n$4\r\nPI",
    ];
    for g in garbage {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", shoal.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        s.write_all(g).expect("write");
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
    }
    let v: String = good.get("safe").expect("still served");
    assert_eq!(v, "1");
    let r: RedisResult<String> = redis::cmd("PING").query(&mut good);
    assert_eq!(r.expect("ping"), "PONG");
}

/// Many pipelined commands split across reads arrive intact and in order.
#[test]
fn large_pipeline() {
    let shoal = Shoal::start();
    let mut c = shoal.client();
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        pipe.cmd("INCR").arg("n").ignore();
        pipe.cmd("SET")
            .arg(format!("k{i}"))
            .arg("x".repeat(i % 100))
            .ignore();
    }
    pipe.cmd("GET").arg("n");
    let (n,): (i64,) = pipe.query(&mut c).expect("pipeline");
    assert_eq!(n, 10_000);
    let big = "y".repeat(8 << 20);
    let _: () = c.set("big", &big).expect("set big");
    let got: String = c.get("big").expect("get big");
    assert_eq!(got.len(), big.len());
}

/// CLIENT LIST's `cmd=` names the command a client ran last (or is running), as
/// redis-server 7 does: the container and subcommand, the command even after an arity
/// error, NULL after an unknown command or subcommand, and a blocked client's command.
#[test]
fn client_list_shows_each_clients_last_command_as_redis_does() {
    fn last_cmd(admin: &mut common::Raw, id: i64) -> String {
        let Frame::Bulk(line) = admin.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]) else {
            panic!("CLIENT LIST is a bulk string");
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        line.split(' ')
            .find_map(|f| f.strip_prefix("cmd="))
            .unwrap_or_else(|| panic!("no cmd= in {line}"))
            .to_owned()
    }
    fn trace(mut subject: common::Raw, mut admin: common::Raw) -> Vec<String> {
        let Frame::Integer(id) = subject.cmd(&["CLIENT", "ID"]) else {
            panic!("id");
        };
        let mut seen = vec![last_cmd(&mut admin, id)];
        let steps: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["GET"],
            &["NOSUCHCOMMAND", "x"],
            &["CLIENT", "SETNAME", "worker"],
            &["CLIENT", "NOSUCHSUB"],
            &["CLIENT"],
            &["xgroup", "help"],
            &["LPUSH", "q", "a"],
        ];
        for step in steps {
            subject.cmd(step);
            seen.push(last_cmd(&mut admin, id));
        }
        subject.send(&["BLPOP", "never-pushed", "0"]);
        std::thread::sleep(Duration::from_millis(200));
        seen.push(last_cmd(&mut admin, id));
        seen
    }
    let shoal = Shoal::start();
    let redis = common::RedisServer::start();
    let ours = trace(shoal.raw(), shoal.raw());
    let theirs = trace(redis.raw(), redis.raw());
    assert_eq!(ours, theirs);
    assert_eq!(ours.last().map(String::as_str), Some("blpop"));
}
