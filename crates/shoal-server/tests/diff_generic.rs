//! Differential tests: generic key commands against a real redis-server 7.

mod common;
use common::{Cmp, Diff};

fn generic_script(d: &mut Diff) {
    d.check_all(&[
        &["SET", "k1", "v"],
        &["SET", "{k}2", "v"],
        &["EXISTS", "k1"],
        &["EXISTS", "k1", "k1"],
        &["EXISTS", "nokey"],
        &["TYPE", "k1"],
        &["TYPE", "nokey"],
        &["TTL", "k1"],
        &["PTTL", "k1"],
        &["TTL", "nokey"],
        &["EXPIRETIME", "k1"],
        &["PEXPIRETIME", "nokey"],
        &["EXPIRE", "k1", "100"],
        &["TTL", "k1"],
        &["EXPIRE", "k1", "100", "NX"],
        &["EXPIRE", "k1", "200", "XX"],
        &["EXPIRE", "k1", "50", "GT"],
        &["EXPIRE", "k1", "500", "GT"],
        &["EXPIRE", "k1", "1000", "LT"],
        &["EXPIRE", "k1", "10", "LT"],
        &["TTL", "k1"],
        &["EXPIRE", "k1", "10", "NX", "XX"],
        &["EXPIRE", "k1", "10", "GT", "LT"],
        &["EXPIRE", "k1", "10", "FOO"],
        &["EXPIRE", "k1", "abc"],
        &["EXPIRE", "k1", "10", "abc"],
        &["EXPIRE", "k1", "9223372036854775807"],
        &["PEXPIRE", "k1", "9223372036854775807"],
        &["EXPIRE", "nokey", "10"],
        &["PERSIST", "k1"],
        &["PERSIST", "k1"],
        &["TTL", "k1"],
        &["EXPIRE", "k1", "100", "XX"],
        &["EXPIRE", "k1", "100", "GT"],
        &["EXPIRE", "k1", "100", "LT"],
        &["TTL", "k1"],
        &["EXPIREAT", "k1", "99999999999"],
        &["EXPIRETIME", "k1"],
        &["PEXPIREAT", "k1", "99999999999000"],
        &["PEXPIRETIME", "k1"],
        &["EXPIRE", "k1", "-1"],
        &["EXISTS", "k1"],
        &["SET", "k1", "v", "EX", "100"],
        &["PEXPIREAT", "k1", "1"],
        &["GET", "k1"],
        &["SET", "a{x}", "1"],
        &["RENAME", "a{x}", "b{x}"],
        &["GET", "b{x}"],
        &["RENAME", "a{x}", "b{x}"],
        &["RENAME", "b{x}", "b{x}"],
        &["SET", "c{x}", "2"],
        &["RENAMENX", "b{x}", "c{x}"],
        &["RENAMENX", "b{x}", "d{x}"],
        &["RENAMENX", "nokey{x}", "d{x}"],
        &["RENAME", "a", "b"],
        &["SET", "ttl{x}", "v", "EX", "100"],
        &["RENAME", "ttl{x}", "ttl2{x}"],
        &["TTL", "ttl2{x}"],
        &["DEL", "d{x}", "c{x}", "nokey{x}"],
        &["UNLINK", "ttl2{x}"],
        &["DEL", "a", "b"],
        &["TOUCH", "k1", "{k}2"],
        &["DBSIZE"],
    ]);
    d.check_with(&["KEYS", "*"], Cmp::Unordered);
    d.check_with(&["KEYS", "k*"], Cmp::Unordered);
    d.check_with(&["KEYS", "{k}?"], Cmp::Unordered);
    d.check_with(&["KEYS", "[a-c]*"], Cmp::Unordered);
    d.check_all(&[
        &["SCAN", "abc"],
        &["SCAN", "0", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "x"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "FOO", "bar"],
        &["FLUSHDB", "FOO"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["KEYS", "*"],
        &["SCAN", "0"],
    ]);
}

#[test]
fn generic_resp2() {
    let mut d = Diff::new();
    generic_script(&mut d);
}

#[test]
fn generic_resp3() {
    let mut d = Diff::new_resp3();
    generic_script(&mut d);
}

/// SCAN visits every key exactly once across its cursor, whatever the cursor values.
#[test]
fn scan_visits_every_key_once() {
    let shoal = common::Shoal::start();
    let mut c = shoal.client();
    for i in 0..2000 {
        let _: () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(i)
            .query(&mut c)
            .expect("set");
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("key:*")
            .arg("COUNT")
            .arg(100)
            .query(&mut c)
            .expect("scan");
        for k in keys {
            assert!(seen.insert(k), "duplicate key from SCAN");
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 2000);
}

/// Keys expire: lazily (reads) and actively (the background cycle deletes them).
#[test]
fn expiry_lazy_and_active() {
    let shoal = common::Shoal::start();
    let mut r = shoal.raw();
    r.cmd(&["SET", "gone", "v", "PX", "50"]);
    r.cmd(&["SET", "stay", "v"]);
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(r.cmd(&["GET", "gone"]), shoal_resp::Frame::Null);
    // The active cycle runs every 100 ms; DBSIZE counts unexpired-but-not-deleted keys.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(r.cmd(&["DBSIZE"]), shoal_resp::Frame::Integer(1));
}
