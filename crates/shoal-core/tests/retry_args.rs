//! A blocked reader's retry travels as request arguments (a replicated shard proposes it
//! as a log entry); parsed back, it must behave as the in-memory retry command does.

use bytes::Bytes;
use shoal_core::{Ctx, Db, Parsed, Reply, parse};
use shoal_resp::Frame;

fn args(s: &str) -> Vec<Bytes> {
    s.split_whitespace()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

fn run(db: &mut Db, a: &[Bytes], ctx: &Ctx) -> Reply {
    match parse(a) {
        Err(e) => Reply::Frame(e),
        Ok(Parsed::Keyspace(_, c)) => c.apply(db, ctx),
        Ok(Parsed::Server(..)) => panic!("server command"),
    }
}

fn ctx(now: u64) -> Ctx {
    Ctx {
        now_ms: now,
        resp3: false,
        may_block: true,
        seed: 1,
    }
}

#[test]
fn xread_dollar_is_resolved_in_the_retry_args() {
    let mut db = Db::new();
    run(&mut db, &args("XADD s 5-1 f v"), &ctx(10));
    let Reply::Block(b) = run(&mut db, &args("XREAD BLOCK 0 STREAMS s $"), &ctx(10)) else {
        panic!("should block");
    };
    let retry = b.retry_args.expect("XREAD retries with its own arguments");
    assert_eq!(
        retry,
        args("__xreadretry XREAD COUNT 1000 BLOCK 0 STREAMS s 5-1")
    );
    run(&mut db, &args("XADD s 6-1 f v"), &ctx(11));
    let Reply::Frame(Frame::Array(streams)) = run(&mut db, &retry, &ctx(12)) else {
        panic!("the retry serves the new entry");
    };
    assert_eq!(streams.len(), 1);
}

#[test]
fn xreadgroup_retry_reports_a_destroyed_group_as_redis_does() {
    let mut db = Db::new();
    run(&mut db, &args("XGROUP CREATE s g $ MKSTREAM"), &ctx(1));
    let Reply::Block(b) = run(
        &mut db,
        &args("XREADGROUP GROUP g c BLOCK 0 STREAMS s >"),
        &ctx(2),
    ) else {
        panic!("should block");
    };
    let retry = b.retry_args.expect("retry args");
    run(&mut db, &args("XGROUP DESTROY s g"), &ctx(3));
    let Reply::Frame(f) = run(&mut db, &retry, &ctx(4)) else {
        panic!("answered");
    };
    assert_eq!(
        f,
        Frame::static_error(
            "NOGROUP the consumer group this client was blocked on no longer exists"
        )
    );
}

#[test]
fn purge_is_an_internal_command() {
    let mut db = Db::new();
    run(&mut db, &args("SET k v PX 5"), &ctx(100));
    let purge = shoal_core::generic::purge_expired_args(10);
    assert_eq!(
        run(&mut db, &purge, &ctx(200)).into_frame(),
        Some(Frame::Integer(1))
    );
    assert_eq!(db.len(), 0);
}
