//! Differential tests: connection commands, errors, pipelines, MULTI/EXEC and the
//! protocol layer, against a real redis-server 7.

mod common;
use common::{Cmp, Diff};

#[test]
fn connection_commands() {
    let mut d = Diff::new();
    d.check_all(&[
        &["PING"],
        &["PING", "hello"],
        &["PING", "a", "b"],
        &["ping"],
        &["ECHO", "x"],
        &["ECHO"],
        &["SELECT", "0"],
        &["SELECT", "1"],
        &["SELECT", "x"],
        &["NOSUCHCOMMAND"],
        &["NOSUCHCOMMAND", "a", "b"],
        &["CLIENT"],
        &["CLIENT", "NOSUCH"],
        &["CLIENT", "SETNAME", "has space"],
        &["CLIENT", "SETNAME", "worker-1"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", ""],
        &["CLIENT", "GETNAME"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "GET", "io-threads"],
        &["CONFIG", "SET", "io-threads", "2"],
        &["CONFIG", "GET", "nosuchparam"],
        &["CONFIG", "SET", "nosuchparam", "1"],
        &["CONFIG"],
        &["AUTH", "x"],
        &["HELLO", "4"],
        &["HELLO", "x"],
        &["HELLO", "2", "FOO"],
        &["CLUSTER", "KEYSLOT", "123456789"],
        &["CLUSTER", "KEYSLOT", "{user1000}.following"],
        &["CLUSTER", "COUNTKEYSINSLOT", "99999"],
        &["CLUSTER", "COUNTKEYSINSLOT", "0"],
        &["COMMAND", "GETKEYS", "GET", "k"],
        &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        &["COMMAND", "GETKEYS", "PING"],
        &["COMMAND", "GETKEYS", "NOSUCH"],
        &["COMMAND", "GETKEYS", "GET"],
        &["COMMAND", "INFO", "nosuch"],
    ]);
    // Long and unusual arguments in the unknown-command error.
    let long = "x".repeat(300);
    d.check(&["NOSUCH", &long, "b"]);
    d.check(&["NOSUCH", "a\r\nb"]);
    d.check(&[&long]);
}

#[test]
fn multi_exec() {
    let mut d = Diff::new();
    d.check_all(&[
        &["EXEC"],
        &["DISCARD"],
        &["MULTI"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["INCR", "a"],
        &["SET", "a", "1", "BOGUS"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["DISCARD"],
        &["GET", "a"],
        // A queue-time error aborts the whole transaction.
        &["MULTI"],
        &["SET", "a", "9"],
        &["NOSUCH"],
        &["EXEC"],
        &["GET", "a"],
        // Arity errors too.
        &["MULTI"],
        &["GET"],
        &["EXEC"],
        // Cross-slot inside a transaction.
        &["MULTI"],
        &["SET", "a", "1"],
        &["MGET", "a", "b"],
        &["EXEC"],
        &["MULTI"],
        &["PING"],
        &["ECHO", "x"],
        &["EXEC"],
    ]);
}

#[test]
fn pipelines_resp2_and_resp3() {
    let mut d = Diff::new();
    let cmds: &[&[&str]] = &[
        &["SET", "p", "1"],
        &["INCR", "p"],
        &["GET", "p"],
        &["NOSUCH"],
        &["GET"],
        &["PING"],
        &["MGET", "p", "q"],
        &["DEL", "p"],
    ];
    d.check_pipeline(cmds);
    d.hello3();
    d.check_pipeline(cmds);
}

#[test]
fn hello_and_resp3_types() {
    let mut d = Diff::new();
    // HELLO's map differs in id and mode fields; compare shapes, then values that match.
    d.check_with(&["HELLO", "3"], Cmp::SameShape);
    d.resp3 = true;
    d.check_all(&[
        &["GET", "nokey"],
        &["SET", "x", "1"],
        &["CONFIG", "GET", "maxmemory"],
        &["PING"],
        &["MGET", "x", "nokey"],
    ]);
    d.check_with(&["HELLO", "2"], Cmp::SameShape);
    d.resp3 = false;
    d.check(&["GET", "nokey"]);
}

#[test]
fn protocol_errors_match_redis() {
    // (bytes, replies to compare): a framing error is answered, then the connection closes.
    let cases: &[(&[u8], usize)] = &[
        (b"*1\r\n$4\r\nPING\r\n*x\r\n", 3),
        (b"*2\r\n+PING\r\n", 2),
        (b"*1\r\n$-5\r\n", 2),
        (b"*99999999999\r\n", 2),
        (b"*1\r\n$999999999999\r\n", 2),
        (b"\"unbalanced\r\n", 2),
        (b"PING\r\nECHO \"a b\" 'c'\r\n", 2),
    ];
    let mut d = Diff::new();
    for (bytes, n) in cases {
        d.check_raw(bytes, *n);
        // Each case closes (or poisons) the connection: start over on fresh ones.
        d.reconnect();
    }
}

#[test]
fn inline_commands() {
    let mut d = Diff::new();
    d.check_raw(b"PING\r\nSET k v\r\nGET k\r\n\r\nECHO \"x\\ny\"\r\n", 4);
}

/// Shoal-specific: the 1,048,576-argument limit of the Foundation issue (Redis 7.0 allows up
/// to INT_MAX), and CLIENT SETINFO (Redis 7.2, sent by redis-py 5).
#[test]
fn multibulk_limit_and_setinfo() {
    let shoal = common::Shoal::start();
    let mut r = shoal.raw();
    assert_eq!(
        r.cmd(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
        shoal_resp::Frame::ok()
    );
    assert!(r.cmd(&["CLIENT", "SETINFO", "lib-ver", "a b"]).is_error());
    r.send_raw(b"*1048577\r\n");
    assert_eq!(
        r.read(),
        shoal_resp::Frame::static_error("ERR Protocol error: invalid multibulk length")
    );
    assert!(r.is_closed());
    // The server carries on.
    assert_eq!(
        shoal.raw().cmd(&["PING"]),
        shoal_resp::Frame::simple("PONG")
    );
}

/// Internal commands (active expiry, retries of blocked readers) exist only inside the
/// replicated log: a client sending one gets Redis's unknown-command error.
#[test]
fn internal_commands_are_not_for_clients() {
    let shoal = common::Shoal::start();
    let mut r = shoal.raw();
    assert_eq!(
        r.cmd(&["__purgeexpired", "10"]),
        shoal_resp::Frame::static_error(
            "ERR unknown command '__purgeexpired', with args beginning with: '10' "
        )
    );
    assert!(
        r.cmd(&["__xreadretry", "XREAD", "STREAMS", "s", "0"])
            .is_error()
    );
    assert_eq!(
        r.cmd(&["COMMAND", "INFO", "__purgeexpired"]),
        shoal_resp::Frame::Array(vec![shoal_resp::Frame::Null])
    );
}
