//! Tests of the data-structure families (lists, hashes, sets, sorted sets): each pins a
//! reply redis-server 7.0.15 gives (checked with redis-cli), plus snapshot round trips
//! and the determinism of seeded random commands.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::{Ctx, Db, Parsed, Reply, parse};

fn ctx(resp3: bool, seed: u64) -> Ctx {
    Ctx {
        now_ms: 1_000,
        resp3,
        may_block: true,
        seed,
    }
}

fn args(line: &str) -> Vec<Bytes> {
    line.split(' ')
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

fn run_with(db: &mut Db, line: &str, c: &Ctx) -> Reply {
    match parse(&args(line)) {
        Err(e) => Reply::Frame(e),
        Ok(Parsed::Keyspace(_, cmd)) => cmd.apply(db, c),
        Ok(Parsed::Server(..)) => panic!("not a keyspace command: {line}"),
    }
}

fn run3(db: &mut Db, line: &str, resp3: bool) -> Frame {
    match run_with(db, line, &ctx(resp3, 7)) {
        Reply::Frame(f) => f,
        Reply::Block(_) => panic!("unexpected block: {line}"),
    }
}

fn run(db: &mut Db, line: &str) -> Frame {
    run3(db, line, false)
}

fn b(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| b(s)).collect())
}

fn err(s: &'static str) -> Frame {
    Frame::static_error(s)
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

// ---- hashes ----

#[test]
fn hset_counts_new_fields_and_hmset_says_ok() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "HSET h f v g w"), Frame::Integer(2));
    assert_eq!(run(&mut db, "HSET h f v2 x y"), Frame::Integer(1));
    assert_eq!(run(&mut db, "HMSET h a 1"), Frame::ok());
    // An odd field/value list is an arity error naming the command.
    assert_eq!(
        run(&mut db, "HSET h f"),
        Frame::error("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(run(&mut db, "HGET h f"), b("v2"));
    assert_eq!(run(&mut db, "HGET h nope"), Frame::Null);
    assert_eq!(
        run(&mut db, "HMGET h f nope"),
        Frame::Array(vec![b("v2"), Frame::Null])
    );
    assert_eq!(run(&mut db, "HSETNX h f z"), Frame::Integer(0));
    assert_eq!(run(&mut db, "HLEN h"), Frame::Integer(4));
    assert_eq!(run(&mut db, "HSTRLEN h f"), Frame::Integer(2));
}

#[test]
fn hash_counters_and_their_errors() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "HINCRBY h n 5"), Frame::Integer(5));
    run(&mut db, "HSET h s abc big 9223372036854775807");
    assert_eq!(
        run(&mut db, "HINCRBY h s 1"),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        run(&mut db, "HINCRBY h big 1"),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        run(&mut db, "HINCRBYFLOAT h s 1"),
        err("ERR hash value is not a float")
    );
    // The increment itself is checked before the key: inf is refused outright.
    assert_eq!(
        run(&mut db, "HINCRBYFLOAT h2 f inf"),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(run(&mut db, "EXISTS h2"), Frame::Integer(0));
    assert_eq!(run(&mut db, "HINCRBYFLOAT h fl 1.5"), b("1.5"));
    assert_eq!(run(&mut db, "HINCRBYFLOAT h n 2.5"), b("7.5"));
}

#[test]
fn hgetall_is_a_map_and_hdel_deletes_the_emptied_key() {
    let mut db = Db::new();
    run(&mut db, "HSET h f v");
    assert_eq!(
        run(&mut db, "HGETALL h"),
        Frame::Map(vec![(b("f"), b("v"))])
    );
    assert_eq!(run(&mut db, "HGETALL nokey"), Frame::Map(vec![]));
    assert_eq!(run(&mut db, "HDEL h f nope"), Frame::Integer(1));
    assert_eq!(run(&mut db, "EXISTS h"), Frame::Integer(0));
    run(&mut db, "SET s x");
    assert_eq!(run(&mut db, "HGET s f"), err(WRONGTYPE));
    assert_eq!(run(&mut db, "HSET s f v"), err(WRONGTYPE));
}

#[test]
fn hrandfield_shapes_and_errors() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "HRANDFIELD nokey"), Frame::Null);
    assert_eq!(run(&mut db, "HRANDFIELD nokey 3"), Frame::Array(vec![]));
    run(&mut db, "HSET h f v");
    // RESP3 WITHVALUES: an array of [field, value] pairs; RESP2 flat.
    assert_eq!(
        run3(&mut db, "HRANDFIELD h -2 WITHVALUES", true),
        Frame::Array(vec![arr(&["f", "v"]), arr(&["f", "v"])])
    );
    assert_eq!(run(&mut db, "HRANDFIELD h 5 WITHVALUES"), arr(&["f", "v"]));
    assert_eq!(
        run(&mut db, "HRANDFIELD h 1 WITHVALUE"),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&mut db, "HRANDFIELD h -9223372036854775808"),
        err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    );
    assert_eq!(
        run(&mut db, "HRANDFIELD h -4611686018427387904 WITHVALUES"),
        err("ERR value is out of range")
    );
}

#[test]
fn hscan_small_hash_in_one_call() {
    let mut db = Db::new();
    run(&mut db, "HSET h f v");
    assert_eq!(
        run(&mut db, "HSCAN h 0"),
        Frame::Array(vec![b("0"), arr(&["f", "v"])])
    );
    assert_eq!(run(&mut db, "HSCAN h x"), err("ERR invalid cursor"));
    assert_eq!(run(&mut db, "HSCAN h 0 COUNT 0"), err("ERR syntax error"));
}

#[test]
fn big_scan_visits_everything_once() {
    let mut db = Db::new();
    for i in 0..1000 {
        run(&mut db, &format!("SADD s m{i}"));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        calls += 1;
        let Frame::Array(parts) = run(&mut db, &format!("SSCAN s {cursor} COUNT 50")) else {
            panic!()
        };
        let (Frame::Bulk(c), Frame::Array(items)) = (&parts[0], &parts[1]) else {
            panic!()
        };
        for it in items {
            let Frame::Bulk(m) = it else { panic!() };
            assert!(seen.insert(m.clone()), "duplicate {m:?}");
        }
        cursor = String::from_utf8_lossy(c).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(calls > 10);
}

// ---- lists ----

#[test]
fn push_pop_range() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "LPUSH l a b c"), Frame::Integer(3));
    assert_eq!(run(&mut db, "RPUSH l d"), Frame::Integer(4));
    assert_eq!(run(&mut db, "LRANGE l 0 -1"), arr(&["c", "b", "a", "d"]));
    assert_eq!(run(&mut db, "LRANGE l -100 1"), arr(&["c", "b"]));
    assert_eq!(run(&mut db, "LPUSHX nol a"), Frame::Integer(0));
    assert_eq!(run(&mut db, "LPOP l"), b("c"));
    assert_eq!(run(&mut db, "RPOP l 2"), arr(&["d", "a"]));
    // A missing key with a count is a null array (RESP2 *-1), even for count 0.
    assert_eq!(run(&mut db, "LPOP nol 0"), Frame::NullArray);
    assert_eq!(run(&mut db, "LPOP l 0"), Frame::Array(vec![]));
    assert_eq!(
        run(&mut db, "LPOP l -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut db, "LPOP l 1 2"),
        Frame::error("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(run(&mut db, "LPOP l"), b("b"));
    assert_eq!(run(&mut db, "EXISTS l"), Frame::Integer(0));
}

#[test]
fn lset_lrem_ltrim_linsert() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "LSET nol 0 x"), err("ERR no such key"));
    run(&mut db, "RPUSH l a b a c a");
    assert_eq!(run(&mut db, "LSET l 9 x"), err("ERR index out of range"));
    assert_eq!(run(&mut db, "LREM l -2 a"), Frame::Integer(2));
    assert_eq!(run(&mut db, "LRANGE l 0 -1"), arr(&["a", "b", "c"]));
    assert_eq!(run(&mut db, "LINSERT l BEFORE b x"), Frame::Integer(4));
    assert_eq!(run(&mut db, "LINSERT l AFTER zz x"), Frame::Integer(-1));
    assert_eq!(
        run(&mut db, "LINSERT l MIDDLE b x"),
        err("ERR syntax error")
    );
    assert_eq!(run(&mut db, "LTRIM l 1 -2"), Frame::ok());
    assert_eq!(run(&mut db, "LRANGE l 0 -1"), arr(&["x", "b"]));
    assert_eq!(run(&mut db, "LTRIM l 5 9"), Frame::ok());
    assert_eq!(run(&mut db, "EXISTS l"), Frame::Integer(0));
}

#[test]
fn lpos_options() {
    let mut db = Db::new();
    run(&mut db, "RPUSH p a b a c a");
    assert_eq!(run(&mut db, "LPOS p a RANK -1"), Frame::Integer(4));
    assert_eq!(
        run(&mut db, "LPOS p a RANK -2 COUNT 0"),
        Frame::Array(vec![Frame::Integer(2), Frame::Integer(0)])
    );
    assert_eq!(
        run(&mut db, "LPOS p a COUNT 0 MAXLEN 2"),
        Frame::Array(vec![Frame::Integer(0)])
    );
    assert_eq!(
        run(&mut db, "LPOS p a COUNT x"),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&mut db, "LPOS p a MAXLEN -1"),
        err("ERR MAXLEN can't be negative")
    );
    assert!(
        matches!(run(&mut db, "LPOS p a RANK 0"), Frame::Error(e) if e.starts_with(b"ERR RANK can't be zero"))
    );
    assert_eq!(run(&mut db, "LPOS nol a COUNT 1"), Frame::Array(vec![]));
}

#[test]
fn lmove_and_lmpop() {
    let mut db = Db::new();
    run(&mut db, "RPUSH src 1 2 3");
    assert_eq!(run(&mut db, "LMOVE src dst LEFT RIGHT"), b("1"));
    assert_eq!(run(&mut db, "RPOPLPUSH src dst"), b("3"));
    assert_eq!(run(&mut db, "LRANGE dst 0 -1"), arr(&["3", "1"]));
    run(&mut db, "SET str x");
    assert_eq!(run(&mut db, "LMOVE src str LEFT LEFT"), err(WRONGTYPE));
    assert_eq!(run(&mut db, "RPOPLPUSH nol dst"), Frame::Null);
    assert_eq!(
        run(&mut db, "LMPOP 2 nol dst RIGHT COUNT 5"),
        Frame::Array(vec![b("dst"), arr(&["1", "3"])])
    );
    assert_eq!(run(&mut db, "LMPOP 1 nol LEFT"), Frame::NullArray);
    assert_eq!(
        run(&mut db, "LMPOP 0 a LEFT"),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(run(&mut db, "LMPOP 5 a LEFT"), err("ERR syntax error"));
    assert_eq!(
        run(&mut db, "LMPOP 1 a LEFT COUNT 0"),
        err("ERR count should be greater than 0")
    );
}

#[test]
fn blocking_pops_serve_block_or_time_out() {
    let mut db = Db::new();
    run(&mut db, "RPUSH q a");
    // Data present: BLPOP pops and answers [key, element].
    assert_eq!(run(&mut db, "BLPOP nol q 0"), arr(&["q", "a"]));
    // Nothing there: a Block with the keys, the deadline and a null-array timeout reply.
    match run_with(&mut db, "BLPOP q other 1.5", &ctx(false, 0)) {
        Reply::Block(bl) => {
            assert_eq!(bl.keys, vec![Bytes::from("q"), Bytes::from("other")]);
            assert_eq!(bl.deadline_ms, Some(1_000 + 1_500));
            assert_eq!(bl.timeout_reply, Frame::NullArray);
            // The retry serves once data arrives.
            run(&mut db, "RPUSH other z");
            match bl.retry.apply(&mut db, &ctx(false, 0)) {
                Reply::Frame(f) => assert_eq!(f, arr(&["other", "z"])),
                Reply::Block(_) => panic!("should serve"),
            }
        }
        Reply::Frame(f) => panic!("should block, got {f:?}"),
    }
    match run_with(&mut db, "BLMOVE q d LEFT LEFT 0", &ctx(false, 0)) {
        Reply::Block(bl) => {
            assert_eq!(bl.deadline_ms, None);
            // Redis times a blocked BLMOVE out with a null array...
            assert_eq!(bl.timeout_reply, Frame::NullArray);
        }
        Reply::Frame(f) => panic!("should block, got {f:?}"),
    }
    // ...but answers a null bulk at once inside MULTI.
    let multi = Ctx {
        may_block: false,
        ..ctx(false, 0)
    };
    match run_with(&mut db, "BRPOPLPUSH q d 0", &multi) {
        Reply::Frame(f) => assert_eq!(f, Frame::Null),
        Reply::Block(_) => panic!("cannot block in MULTI"),
    }
    assert_eq!(
        run(&mut db, "BLPOP q x"),
        err("ERR timeout is not a float or out of range")
    );
    assert_eq!(run(&mut db, "BLPOP q -1"), err("ERR timeout is negative"));
    // C's out-of-range cast makes a huge timeout negative too.
    assert_eq!(run(&mut db, "BLPOP q inf"), err("ERR timeout is negative"));
    // Pushes signal readiness for the server to retry blocked clients (recorded while
    // the server says some client is blocked).
    db.track_ready = true;
    db.take_effects();
    run(&mut db, "LPUSH q x");
    assert_eq!(db.take_effects().ready, vec![Bytes::from("q")]);
}

// ---- sets ----

#[test]
fn set_basics_and_algebra() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "SADD s a b c d"), Frame::Integer(4));
    run(&mut db, "SADD s2 c d e");
    assert_eq!(run(&mut db, "SISMEMBER s a"), Frame::Integer(1));
    assert_eq!(
        run(&mut db, "SMISMEMBER s a zz"),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)])
    );
    let Frame::Set(mut inter) = run(&mut db, "SINTER s s2") else {
        panic!("SINTER replies a RESP3 set")
    };
    inter.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(inter, vec![b("c"), b("d")]);
    assert_eq!(run(&mut db, "SDIFFSTORE d s s2"), Frame::Integer(2));
    assert_eq!(run(&mut db, "SINTERSTORE d s nos"), Frame::Integer(0));
    assert_eq!(run(&mut db, "EXISTS d"), Frame::Integer(0));
    assert_eq!(run(&mut db, "SINTERCARD 2 s s2 LIMIT 1"), Frame::Integer(1));
    assert_eq!(
        run(&mut db, "SINTERCARD 1 s LIMIT -1"),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        run(&mut db, "SINTERCARD 3 s s2"),
        err("ERR Number of keys can't be greater than number of args")
    );
    run(&mut db, "SET str x");
    // Every key is type-checked, even after a missing one.
    assert_eq!(run(&mut db, "SINTER nos str"), err(WRONGTYPE));
    assert_eq!(run(&mut db, "SMOVE s str a"), err(WRONGTYPE));
    assert_eq!(run(&mut db, "SMOVE nos str a"), Frame::Integer(0));
    assert_eq!(run(&mut db, "SMOVE s s3 a"), Frame::Integer(1));
    assert_eq!(run(&mut db, "SUNIONSTORE str s"), Frame::Integer(3));
}

#[test]
fn spop_and_srandmember_shapes() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "SPOP nos"), Frame::Null);
    assert_eq!(run(&mut db, "SPOP nos 2"), Frame::Set(vec![]));
    assert_eq!(run(&mut db, "SRANDMEMBER nos"), Frame::Null);
    assert_eq!(run(&mut db, "SRANDMEMBER nos 2"), Frame::Array(vec![]));
    run(&mut db, "SADD s a b c");
    assert_eq!(
        run(&mut db, "SPOP s -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(run(&mut db, "SPOP s 1 2"), err("ERR syntax error"));
    let Frame::Array(picks) = run(&mut db, "SRANDMEMBER s -5") else {
        panic!()
    };
    assert_eq!(picks.len(), 5);
    let Frame::Array(picks) = run(&mut db, "SRANDMEMBER s 2") else {
        panic!()
    };
    assert_eq!(picks.len(), 2);
    assert_ne!(picks[0], picks[1]);
    let Frame::Set(popped) = run(&mut db, "SPOP s 5") else {
        panic!()
    };
    assert_eq!(popped.len(), 3);
    assert_eq!(run(&mut db, "EXISTS s"), Frame::Integer(0));
}

// ---- sorted sets ----

#[test]
fn zadd_flags_and_errors() {
    let mut db = Db::new();
    assert_eq!(run(&mut db, "ZADD z 1 a 2 b"), Frame::Integer(2));
    assert_eq!(
        run(&mut db, "ZADD z NX XX 1 a"),
        err("ERR XX and NX options at the same time are not compatible")
    );
    assert_eq!(
        run(&mut db, "ZADD z GT LT 1 a"),
        err("ERR GT, LT, and/or NX options at the same time are not compatible")
    );
    assert_eq!(
        run(&mut db, "ZADD z INCR 1 a 2 b"),
        err("ERR INCR option supports a single increment-element pair")
    );
    assert_eq!(run(&mut db, "ZADD z 1 a 2"), err("ERR syntax error"));
    assert_eq!(
        run(&mut db, "ZADD z nan a"),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        run(&mut db, "ZADD z 1e400 a"),
        err("ERR value is not a valid float")
    );
    assert_eq!(run(&mut db, "ZADD z CH 5 a 2 b 9 d"), Frame::Integer(2));
    assert_eq!(run(&mut db, "ZADD z GT CH 1 a"), Frame::Integer(0));
    assert_eq!(run(&mut db, "ZADD z INCR 1 a"), Frame::Double(6.0));
    assert_eq!(run(&mut db, "ZADD z NX INCR 1 a"), Frame::Null);
    assert_eq!(run(&mut db, "ZADD nz XX 1 a"), Frame::Integer(0));
    assert_eq!(run(&mut db, "EXISTS nz"), Frame::Integer(0));
    run(&mut db, "ZADD z inf e");
    assert_eq!(
        run(&mut db, "ZINCRBY z -inf e"),
        err("ERR resulting score is not a number (NaN)")
    );
    // -0 reads back as 0.
    run(&mut db, "ZADD z -0 m");
    assert_eq!(run(&mut db, "ZSCORE z m"), Frame::Double(0.0));
    assert!(run(&mut db, "ZSCORE z m") == Frame::Double(0.0));
}

#[test]
fn zrange_shapes() {
    let mut db = Db::new();
    run(&mut db, "ZADD z 1 a 2 b 3 c");
    assert_eq!(run(&mut db, "ZRANGE z 0 -1 REV"), arr(&["c", "b", "a"]));
    // WITHSCORES: flat in RESP2 (scores as Double → bulk), pairs in RESP3.
    assert_eq!(
        run(&mut db, "ZRANGE z 0 0 WITHSCORES"),
        Frame::Array(vec![b("a"), Frame::Double(1.0)])
    );
    assert_eq!(
        run3(&mut db, "ZRANGE z 0 0 WITHSCORES", true),
        Frame::Array(vec![Frame::Array(vec![b("a"), Frame::Double(1.0)])])
    );
    assert_eq!(run(&mut db, "ZRANGE z (1 5 BYSCORE LIMIT 1 1"), arr(&["c"]));
    assert_eq!(
        run(&mut db, "ZRANGE z 5 1 BYSCORE REV"),
        arr(&["c", "b", "a"])
    );
    assert_eq!(
        run(&mut db, "ZRANGE z 0 -1 LIMIT 0 -1"),
        arr(&["a", "b", "c"])
    );
    assert_eq!(
        run(&mut db, "ZRANGE z 0 -1 LIMIT 0 1"),
        err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        run(&mut db, "ZRANGEBYLEX z - + WITHSCORES"),
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(
        run(&mut db, "ZRANGEBYSCORE z 0 1 REV"),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&mut db, "ZCOUNT z x 1"),
        err("ERR min or max is not a float")
    );
    assert_eq!(
        run(&mut db, "ZLEXCOUNT z x +"),
        err("ERR min or max not valid string range item")
    );
    assert_eq!(run(&mut db, "ZREVRANGEBYSCORE z 3 (1"), arr(&["c", "b"]));
    assert_eq!(run(&mut db, "ZRANK z c"), Frame::Integer(2));
    assert_eq!(run(&mut db, "ZREVRANK z c"), Frame::Integer(0));
    run(&mut db, "ZADD l 0 a 0 b 0 c 0 d");
    assert_eq!(run(&mut db, "ZRANGEBYLEX l [b (d"), arr(&["b", "c"]));
    assert_eq!(
        run(&mut db, "ZREVRANGEBYLEX l [d (a LIMIT 1 5"),
        arr(&["c", "b"])
    );
    assert_eq!(run(&mut db, "ZREMRANGEBYLEX l [c +"), Frame::Integer(2));
}

#[test]
fn zpop_shapes() {
    let mut db = Db::new();
    run(&mut db, "ZADD z 1 a 2 b 3 c 4 d");
    // Without a count: a flat [member, score] in both protocols.
    assert_eq!(
        run3(&mut db, "ZPOPMIN z", true),
        Frame::Array(vec![b("a"), Frame::Double(1.0)])
    );
    assert_eq!(
        run3(&mut db, "ZPOPMAX z 1", true),
        Frame::Array(vec![Frame::Array(vec![b("d"), Frame::Double(4.0)])])
    );
    assert_eq!(run(&mut db, "ZPOPMAX nz"), Frame::Array(vec![]));
    // ZMPOP nests pairs in both protocols.
    assert_eq!(
        run(&mut db, "ZMPOP 2 nz z MAX COUNT 1"),
        Frame::Array(vec![
            b("z"),
            Frame::Array(vec![Frame::Array(vec![b("c"), Frame::Double(3.0)])])
        ])
    );
    assert_eq!(
        run(&mut db, "BZPOPMIN nz z 0"),
        Frame::Array(vec![b("z"), b("b"), Frame::Double(2.0)])
    );
    assert_eq!(run(&mut db, "EXISTS z"), Frame::Integer(0));
    assert!(matches!(
        run_with(&mut db, "BZMPOP 1 1 z MIN", &ctx(false, 0)),
        Reply::Block(bl) if bl.timeout_reply == Frame::NullArray && bl.deadline_ms == Some(2_000)
    ));
    db.track_ready = true;
    db.take_effects();
    run(&mut db, "ZADD z 1 a");
    assert_eq!(db.take_effects().ready, vec![Bytes::from("z")]);
}

#[test]
fn zscan_reports_scores_as_17g_strings() {
    let mut db = Db::new();
    run(&mut db, "ZADD z 0.1 a 2 b");
    assert_eq!(
        run3(&mut db, "ZSCAN z 0", true),
        Frame::Array(vec![b("0"), arr(&["a", "0.10000000000000001", "b", "2"])])
    );
}

// ---- snapshots and determinism ----

const LOG: &[&str] = &[
    "RPUSH l a b c d e",
    "LPOP l",
    "LINSERT l AFTER c x",
    "HSET h f1 v1 f2 v2 f3 v3",
    "HINCRBY h n 3",
    "HDEL h f2",
    "SADD s a b c d e f g h i j",
    "SPOP s 3",
    "SPOP s",
    "SREM s a",
    "SUNIONSTORE u s s",
    "ZADD z 1 a 2 b 3 c 0.5 d",
    "ZINCRBY z 10 a",
    "ZPOPMIN z",
    "ZADD big 1 x",
];

fn apply_log(db: &mut Db, resp3: bool) -> Vec<Frame> {
    LOG.iter()
        .enumerate()
        .map(
            |(i, line)| match run_with(db, line, &ctx(resp3, 1000 + i as u64)) {
                Reply::Frame(f) => f,
                Reply::Block(_) => Frame::Null,
            },
        )
        .collect()
}

#[test]
fn same_log_same_state_and_replies() {
    let (mut a, mut b) = (Db::new(), Db::new());
    let ra = apply_log(&mut a, false);
    let rb = apply_log(&mut b, false);
    assert_eq!(ra, rb);
    assert_eq!(a.encode_snapshot(), b.encode_snapshot());
    // Seeded random reads agree too, and on a replica restored from a snapshot.
    let mut restored = Db::decode_snapshot(&a.encode_snapshot()).expect("decodes");
    for cmd in [
        "SRANDMEMBER s -5",
        "HRANDFIELD h 2 WITHVALUES",
        "ZRANDMEMBER z -3",
        "SPOP s 2",
    ] {
        let x = run_with(&mut a, cmd, &ctx(false, 99));
        let y = run_with(&mut restored, cmd, &ctx(false, 99));
        match (x, y) {
            (Reply::Frame(x), Reply::Frame(y)) => assert_eq!(x, y, "{cmd}"),
            _ => panic!("blocked"),
        }
    }
    assert_eq!(a.encode_snapshot(), restored.encode_snapshot());
}

#[test]
fn snapshot_round_trip_of_every_type() {
    let mut db = Db::new();
    apply_log(&mut db, false);
    let bytes = db.encode_snapshot();
    let back = Db::decode_snapshot(&bytes).expect("decodes");
    assert!(back == db);
    assert_eq!(back.encode_snapshot(), bytes);
    // Corrupt input fails without panicking.
    for cut in [bytes.len() / 2, bytes.len() - 5] {
        assert!(Db::decode_snapshot(&bytes[..cut]).is_err());
    }
}

#[test]
fn no_panic_on_odd_inputs() {
    let mut db = Db::new();
    for line in [
        "LRANGE l -9223372036854775808 9223372036854775807",
        "LPOS l a RANK -9223372036854775808 COUNT 9223372036854775807 MAXLEN 9223372036854775807",
        "LREM l -9223372036854775808 a",
        "ZRANGE z -9223372036854775808 9223372036854775807",
        "ZRANGEBYSCORE z -inf +inf LIMIT 9223372036854775807 9223372036854775807",
        "ZREMRANGEBYRANK z -9223372036854775808 9223372036854775807",
        "SRANDMEMBER s 9223372036854775807",
        "SPOP s 9223372036854775807",
        "LMPOP 9223372036854775807 a LEFT",
        "BLMPOP 0 9223372036854775807 a LEFT",
        "SINTERCARD 9223372036854775807 a",
        "BLPOP a 9223372036854775",
    ] {
        let _ = run_with(&mut db, line, &ctx(false, 1));
        run(&mut db, "RPUSH l a b");
        run(&mut db, "ZADD z 1 a 2 b");
        run(&mut db, "SADD s a b");
        let _ = run_with(&mut db, line, &ctx(true, 1));
    }
}

/// The keyspace events of the sorted-set STORE forms and of SMOVE, in the order
/// redis-server 7.0.15 published them (`psubscribe __keyevent@0__:*` with KEA).
#[test]
fn store_and_smove_keyspace_events() {
    let mut db = Db::new();
    db.notify_classes = u16::MAX;
    for line in [
        "zadd a 1 x 2 y",
        "sadd s y",
        "set d str",
        "zunionstore d 1 a",
        "zinterstore d 2 a s",
        "zdiffstore d 2 a s",
        "zrangestore d a 0 0",
        "zinterstore d 2 a nothing",
        "zrangestore d a 5 6",
        "sadd s2 m",
        "smove s2 s3 m",
        "sadd s4 m n",
        "sadd s5 m",
        "smove s4 s5 m",
    ] {
        run(&mut db, line);
    }
    let got: Vec<String> = db
        .take_events()
        .into_iter()
        .map(|e| format!("{}:{}", e.event, String::from_utf8_lossy(&e.key)))
        .collect();
    let want = [
        "zadd:a",
        "sadd:s",
        "set:d",
        "zunionstore:d",
        "zinterstore:d",
        "zdiffstore:d",
        "zrangestore:d",
        "del:d",
        "sadd:s2",
        "srem:s2",
        "del:s2",
        "sadd:s3",
        "sadd:s4",
        "sadd:s5",
        "srem:s4",
    ];
    assert_eq!(got, want);
}
