//! Differential tests: sorted-set commands against a real redis-server 7, RESP2 and RESP3.
//! Every command, option and error path of the family; keys share the `{t}` hash tag
//! so multi-key commands stay in one slot of the reference cluster.

mod common;
use common::Diff;

fn script(d: &mut Diff) {
    d.check(&["zadd", "{t}z", "1", "a", "2", "b", "3", "c"]);
    d.check(&["zadd", "{t}z", "nx", "xx", "1", "a"]);
    d.check(&["zadd", "{t}z", "gt", "lt", "1", "a"]);
    d.check(&["zadd", "{t}z", "nx", "gt", "1", "a"]);
    d.check(&["zadd", "{t}z", "incr", "1", "a", "2", "b"]);
    d.check(&["zadd", "{t}z", "1", "a", "2"]);
    d.check(&["zadd", "{t}z", "xx", "1"]);
    d.check(&["zadd", "{t}z", "foo", "1", "a"]);
    d.check(&["zadd", "{t}z", "foo", "a"]);
    d.check(&["zadd", "{t}z", "nan", "a"]);
    d.check(&["zadd", "{t}z", "incr", "1", "a"]);
    d.check(&["zadd", "{t}z", "nx", "incr", "1", "a"]);
    d.check(&["zadd", "{t}z", "xx", "incr", "1", "zz"]);
    d.check(&["zadd", "{t}z", "ch", "5", "a", "2", "b", "9", "d"]);
    d.check(&["zadd", "{t}z", "gt", "1", "b"]);
    d.check(&["zadd", "{t}z", "gt", "ch", "3", "b"]);
    d.check(&["zadd", "{t}z", "lt", "ch", "1", "b"]);
    d.check(&["zadd", "{t}z", "lt", "incr", "10", "b"]);
    d.check(&["zadd", "{t}z", "gt", "incr", "10", "b"]);
    d.check(&["zadd", "{t}nz", "xx", "1", "a"]);
    d.check(&["exists", "{t}nz"]);
    d.check(&["zadd", "{t}nz", "xx", "incr", "1", "a"]);
    d.check(&["zincrby", "{t}z", "0.1", "c"]);
    d.check(&["zincrby", "{t}z", "x", "c"]);
    d.check(&["zincrby", "{t}z", "inf", "e"]);
    d.check(&["zincrby", "{t}z", "-inf", "e"]);
    d.check(&["zscore", "{t}z", "e"]);
    d.check(&["zadd", "{t}z", "-0", "m"]);
    d.check(&["zscore", "{t}z", "m"]);
    d.check(&["zscore", "{t}z", "nope"]);
    d.check(&["zscore", "{t}nz", "a"]);
    d.check(&["zmscore", "{t}z", "a", "nope", "c"]);
    d.check(&["zmscore", "{t}nz", "a", "b"]);
    d.check(&["zcard", "{t}z"]);
    d.check(&["zcard", "{t}nz"]);
    d.check(&["zcount", "{t}z", "-inf", "+inf"]);
    d.check(&["zcount", "{t}z", "(1", "3"]);
    d.check(&["zcount", "{t}z", "3", "(3"]);
    d.check(&["zcount", "{t}z", "x", "1"]);
    d.check(&["zcount", "{t}z", "\"", "1\"", "3"]);
    d.check(&["zcount", "{t}nz", "0", "1"]);
    d.check(&["zrank", "{t}z", "a"]);
    d.check(&["zrank", "{t}z", "nope"]);
    d.check(&["zrevrank", "{t}z", "a"]);
    d.check(&["zrank", "{t}nz", "a"]);
    d.check(&["zrange", "{t}z", "0", "-1"]);
    d.check(&["zrange", "{t}z", "0", "-1", "withscores"]);
    d.check(&["zrange", "{t}z", "-2", "-1", "withscores"]);
    d.check(&["zrange", "{t}z", "5", "2"]);
    d.check(&["zrange", "{t}z", "0", "-1", "rev"]);
    d.check(&["zrange", "{t}z", "0", "-1", "rev", "withscores"]);
    d.check(&["zrange", "{t}z", "1", "5", "byscore"]);
    d.check(&["zrange", "{t}z", "5", "1", "byscore", "rev", "withscores"]);
    d.check(&["zrange", "{t}z", "(1", "5", "byscore", "limit", "1", "2"]);
    d.check(&[
        "zrange", "{t}z", "-inf", "+inf", "byscore", "limit", "0", "-1",
    ]);
    d.check(&[
        "zrange", "{t}z", "-inf", "+inf", "byscore", "limit", "-1", "5",
    ]);
    d.check(&[
        "zrange", "{t}z", "-inf", "+inf", "byscore", "limit", "0", "0",
    ]);
    d.check(&["zrange", "{t}z", "0", "-1", "limit", "0", "1"]);
    d.check(&["zrange", "{t}z", "0", "-1", "limit", "0", "-1"]);
    d.check(&["zrange", "{t}z", "0", "-1", "withscores", "bylex"]);
    d.check(&["zrange", "{t}z", "0", "-1", "foo"]);
    d.check(&["zrange", "{t}z", "0", "-1", "byscore", "bylex"]);
    d.check(&["zrange", "{t}z", "0", "-1", "rev", "rev"]);
    d.check(&["zrange", "{t}z", "x", "1"]);
    d.check(&["zrange", "{t}z", "a", "b", "byscore"]);
    d.check(&["zrange", "{t}nz", "0", "-1"]);
    d.check(&["zrangebyscore", "{t}z", "-inf", "+inf", "withscores"]);
    d.check(&["zrangebyscore", "{t}z", "(1", "(3"]);
    d.check(&[
        "zrangebyscore",
        "{t}z",
        "-inf",
        "+inf",
        "withscores",
        "limit",
        "1",
        "2",
    ]);
    d.check(&["zrangebyscore", "{t}z", "0", "1", "byscore"]);
    d.check(&["zrangebyscore", "{t}z", "0", "1", "rev"]);
    d.check(&["zrevrangebyscore", "{t}z", "+inf", "-inf"]);
    d.check(&[
        "zrevrangebyscore",
        "{t}z",
        "3",
        "1",
        "withscores",
        "limit",
        "0",
        "2",
    ]);
    d.check(&["zrevrange", "{t}z", "0", "1"]);
    d.check(&["zrevrange", "{t}z", "0", "-1", "withscores"]);
    d.check(&["zrevrange", "{t}z", "0", "-1", "limit", "0", "1"]);
    d.check(&[
        "zadd", "{t}l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
    ]);
    d.check(&["zrangebylex", "{t}l", "-", "+"]);
    d.check(&["zrangebylex", "{t}l", "[b", "(d"]);
    d.check(&["zrangebylex", "{t}l", "(b", "+"]);
    d.check(&["zrangebylex", "{t}l", "+", "-"]);
    d.check(&["zrangebylex", "{t}l", "[c", "[a"]);
    d.check(&["zrangebylex", "{t}l", "-", "+", "limit", "1", "2"]);
    d.check(&["zrangebylex", "{t}l", "a", "b"]);
    d.check(&["zrangebylex", "{t}l", "-", "+", "withscores"]);
    d.check(&["zrevrangebylex", "{t}l", "+", "-"]);
    d.check(&["zrevrangebylex", "{t}l", "[d", "(a", "limit", "1", "5"]);
    d.check(&["zrange", "{t}l", "[b", "[d", "bylex"]);
    d.check(&["zrange", "{t}l", "[d", "[b", "bylex", "rev"]);
    d.check(&["zlexcount", "{t}l", "-", "+"]);
    d.check(&["zlexcount", "{t}l", "[b", "[c"]);
    d.check(&["zlexcount", "{t}l", "x", "+"]);
    d.check(&["zlexcount", "{t}nz", "-", "+"]);
    d.check(&["zremrangebylex", "{t}l", "[d", "+"]);
    d.check(&["zrange", "{t}l", "0", "-1"]);
    d.check(&["zpopmin", "{t}z"]);
    d.check(&["zpopmax", "{t}z"]);
    d.check(&["zpopmin", "{t}z", "2"]);
    d.check(&["zpopmax", "{t}nz"]);
    d.check(&["zpopmax", "{t}nz", "2"]);
    d.check(&["zpopmin", "{t}z", "0"]);
    d.check(&["zpopmin", "{t}z", "-1"]);
    d.check(&["zpopmin", "{t}z", "x"]);
    d.check(&["zpopmin", "{t}z", "1", "2"]);
    d.check(&["zadd", "{t}z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    d.check(&["zremrangebyrank", "{t}z", "0", "0"]);
    d.check(&["zremrangebyrank", "{t}z", "-1", "-1"]);
    d.check(&["zremrangebyrank", "{t}z", "5", "10"]);
    d.check(&["zremrangebyrank", "{t}z", "x", "1"]);
    d.check(&["zremrangebyscore", "{t}z", "(2", "3"]);
    d.check(&["zremrangebyscore", "{t}z", "x", "1"]);
    d.check(&["zrange", "{t}z", "0", "-1", "withscores"]);
    d.check(&["zremrangebyscore", "{t}z", "-inf", "+inf"]);
    d.check(&["exists", "{t}z"]);
    d.check(&["zadd", "{t}m1", "1", "a", "2", "b"]);
    d.check(&["zadd", "{t}m2", "3", "c"]);
    d.check(&["zmpop", "1", "{t}m1", "min"]);
    d.check(&["zmpop", "2", "{t}nz", "{t}m2", "max", "count", "5"]);
    d.check(&["zmpop", "1", "{t}nz", "min"]);
    d.check(&["zmpop", "0", "{t}m1", "min"]);
    d.check(&["zmpop", "5", "{t}m1", "min"]);
    d.check(&["zmpop", "1", "{t}m1", "middle"]);
    d.check(&["zmpop", "1", "{t}m1", "min", "count", "0"]);
    d.check(&["zmpop", "1", "{t}m1", "min", "count", "1", "count", "2"]);
    d.check_blocking(&["bzpopmin", "{t}nz", "{t}m1", "0"]);
    d.check_blocking(&["bzpopmax", "{t}m1", "0"]);
    d.check_blocking(&["bzpopmin", "{t}m1", "x"]);
    d.check_blocking(&["bzpopmin", "{t}m1", "-1"]);
    d.check_blocking(&["bzmpop", "0", "1", "{t}m1", "min"]);
    d.check_blocking(&["bzmpop", "-1", "1", "{t}m1", "min"]);
    d.check(&["zadd", "{t}m1", "5", "x", "6", "y"]);
    d.check_blocking(&["bzmpop", "0", "2", "{t}nz", "{t}m1", "max", "count", "1"]);
    d.check_blocking(&["bzpopmax", "{t}nz", "{t}m1", "0"]);
    d.check(&["zadd", "{t}r", "1", "a", "2", "b", "3", "c"]);
    d.check_random(&["zrandmember", "{t}nz"]);
    d.check_random(&["zrandmember", "{t}nz", "3"]);
    d.check_random(&["zrandmember", "{t}r", "0"]);
    d.check_random(&["zrandmember", "{t}r", "10"]);
    d.check_random(&["zrandmember", "{t}r", "10", "withscores"]);
    d.check_random(&["zrandmember", "{t}r", "1", "withscore"]);
    d.check_random(&["zrandmember", "{t}r", "x"]);
    d.check_random(&["zrandmember", "{t}r", "-9223372036854775808"]);
    d.check_random(&["zrandmember", "{t}r", "-4611686018427387904", "withscores"]);
    d.check(&["zscan", "{t}r", "0"]);
    d.check(&["zscan", "{t}nz", "0"]);
    d.check(&["zscan", "{t}r", "0", "match", "a*"]);
    d.check(&["zincrby", "{t}r", "0.1", "a"]);
    d.check(&["zscan", "{t}r", "0"]);
    d.check(&["set", "{t}str", "x"]);
    d.check(&["zadd", "{t}str", "1", "a"]);
    d.check(&["zrange", "{t}str", "0", "-1"]);
    d.check(&["zscore", "{t}str", "a"]);
    d.check(&["zpopmin", "{t}str"]);
    d.check_blocking(&["bzpopmin", "{t}str", "0"]);
    d.check(&["zmpop", "1", "{t}str", "min"]);
    d.check(&["zadd", "{t}inc", "incr", "1", "a"]);
    d.check(&["zadd", "{t}inc", "1e400", "b"]);
    d.check(&["zadd", "{t}inc", "inf", "b", "-inf", "c"]);
    d.check(&["zrange", "{t}inc", "0", "-1", "withscores"]);
    d.check(&["zrem", "{t}inc", "a", "b", "nope"]);
    d.check(&["zrem", "{t}inc", "c"]);
    d.check(&["exists", "{t}inc"]);
    d.check(&["zrem", "{t}nz", "a"]);
    d.check(&["zadd", "{t}sc", "1", "a", "2", "b", "3", "c", "4", "ab"]);
    d.check_scan(&["zscan", "{t}sc", "0"]);
    d.check_scan(&["zscan", "{t}sc", "0", "match", "a*"]);
    d.check_scan(&["zscan", "{t}sc", "0", "count", "1"]);
    d.check_scan(&["zscan", "{t}nz", "0"]);
    d.check(&["zscan", "{t}sc", "x"]);
    d.check(&["zscan", "{t}sc", "0", "count", "0"]);
    d.check(&["zscan", "{t}str", "0"]);
}

#[test]
fn zset_resp2() {
    let mut d = Diff::new();
    script(&mut d);
}

#[test]
fn zset_resp3() {
    let mut d = Diff::new_resp3();
    script(&mut d);
}

/// ZUNION/ZINTER/ZDIFF, the STORE forms, ZINTERCARD and ZRANGESTORE: options, plain sets
/// as inputs, missing keys, inf/-inf/NaN corner cases, errors in Redis's order.
fn algebra(d: &mut Diff) {
    d.check(&["zadd", "{t}a", "1", "x", "2", "y", "3", "z"]);
    d.check(&["zadd", "{t}b", "10", "y", "20", "z", "30", "w"]);
    d.check(&["zadd", "{t}c", "0.5", "z", "inf", "y", "-inf", "v"]);
    d.check(&["sadd", "{t}s", "x", "y", "q"]);
    d.check(&["set", "{t}str", "v"]);
    for op in ["zunion", "zinter"] {
        for keys in [
            &["1", "{t}a"][..],
            &["2", "{t}a", "{t}b"],
            &["3", "{t}a", "{t}b", "{t}c"],
            &["2", "{t}a", "{t}s"],
            &["2", "{t}a", "{t}missing"],
            &["2", "{t}a", "{t}a"],
            &["2", "{t}missing", "{t}missing2"],
        ] {
            let mut base = vec![op];
            base.extend_from_slice(keys);
            d.check(&base);
            let mut ws = base.clone();
            ws.push("withscores");
            d.check(&ws);
            for agg in ["sum", "MIN", "max"] {
                let mut c = ws.clone();
                c.extend_from_slice(&["aggregate", agg]);
                d.check(&c);
            }
            let weights: Vec<&str> = (0..keys.len() - 1)
                .map(|i| ["2", "-1", "0", "0.5"][i % 4])
                .collect();
            let mut c = base.clone();
            c.push("weights");
            c.extend_from_slice(&weights);
            c.extend_from_slice(&["withscores", "aggregate", "max"]);
            d.check(&c);
            // Store forms: same options minus WITHSCORES, then the stored value.
            let store = format!("{op}store");
            let mut c = vec![store.as_str(), "{t}dst"];
            c.extend_from_slice(keys);
            c.push("weights");
            c.extend_from_slice(&weights);
            d.check(&c);
            d.check(&["zrange", "{t}dst", "0", "-1", "withscores"]);
            d.check(&["exists", "{t}dst"]);
        }
    }
    // inf * 0 is NaN: Redis scores it 0; inf + -inf sums to 0.
    d.check(&[
        "zunion",
        "2",
        "{t}c",
        "{t}b",
        "weights",
        "0",
        "1",
        "withscores",
    ]);
    d.check(&[
        "zinter",
        "2",
        "{t}c",
        "{t}c",
        "weights",
        "1",
        "-1",
        "withscores",
    ]);
    d.check(&["zunion", "1", "{t}a", "weights", "-1", "withscores"]);
    d.check(&["zunion", "1", "{t}a", "weights", "0", "withscores"]);
    d.check(&[
        "zunion",
        "2",
        "{t}a",
        "{t}b",
        "weights",
        "inf",
        "-inf",
        "withscores",
    ]);
    // ZDIFF / ZDIFFSTORE.
    for keys in [
        &["1", "{t}a"][..],
        &["2", "{t}a", "{t}b"],
        &["3", "{t}a", "{t}b", "{t}c"],
        &["2", "{t}a", "{t}s"],
        &["2", "{t}s", "{t}a"],
        &["2", "{t}missing", "{t}a"],
        &["2", "{t}a", "{t}a"],
    ] {
        let mut c = vec!["zdiff"];
        c.extend_from_slice(keys);
        d.check(&c);
        c.push("withscores");
        d.check(&c);
        let mut c = vec!["zdiffstore", "{t}dst"];
        c.extend_from_slice(keys);
        d.check(&c);
        d.check(&["zrange", "{t}dst", "0", "-1", "withscores"]);
    }
    // ZINTERCARD.
    d.check(&["zintercard", "2", "{t}a", "{t}b"]);
    d.check(&["zintercard", "2", "{t}a", "{t}s"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit", "1"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit", "0"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit", "100"]);
    d.check(&["zintercard", "1", "{t}missing"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit", "-1"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit", "x"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "limit"]);
    d.check(&["zintercard", "2", "{t}a", "{t}b", "withscores"]);
    d.check(&["zintercard", "0", "{t}a"]);
    d.check(&["zintercard", "3", "{t}a"]);
    d.check(&["zintercard", "2", "{t}a", "{t}str"]);
    // Errors, in Redis's order: numkeys, then types, then options.
    for op in ["zunion", "zinter", "zdiff"] {
        d.check(&[op, "0", "{t}a"]);
        d.check(&[op, "-1", "{t}a"]);
        d.check(&[op, "x", "{t}a"]);
        d.check(&[op, "2", "{t}a"]);
        d.check(&[op, "1", "{t}str"]);
        d.check(&[op, "1", "{t}str", "weights", "x"]);
        d.check(&[op, "1", "{t}a", "weights", "x"]);
        d.check(&[op, "1", "{t}a", "weights", "nan"]);
        d.check(&[op, "2", "{t}a", "{t}b", "weights", "1"]);
        d.check(&[op, "1", "{t}a", "aggregate", "avg"]);
        d.check(&[op, "1", "{t}a", "aggregate"]);
        d.check(&[op, "1", "{t}a", "withscores", "withscores"]);
        d.check(&[op, "1", "{t}a", "bogus"]);
        let store = format!("{op}store");
        d.check(&[&store, "{t}dst", "0", "{t}a"]);
        d.check(&[&store, "{t}dst", "2", "{t}a"]);
        d.check(&[&store, "{t}dst", "1", "{t}a", "withscores"]);
        d.check(&[&store, "{t}dst", "1", "{t}str"]);
        d.check(&[&store, "{t}dst", "1"]);
    }
    // A STORE replaces any type and drops the TTL; an empty result deletes dst.
    d.check(&["set", "{t}dst", "string"]);
    d.check(&["expire", "{t}dst", "100"]);
    d.check(&["zunionstore", "{t}dst", "1", "{t}a"]);
    d.check(&["ttl", "{t}dst"]);
    d.check(&["type", "{t}dst"]);
    d.check(&["zinterstore", "{t}dst", "2", "{t}a", "{t}missing"]);
    d.check(&["exists", "{t}dst"]);
    // The destination may be a source.
    d.check(&["zunionstore", "{t}a2", "1", "{t}a"]);
    d.check(&["zunionstore", "{t}a2", "2", "{t}a2", "{t}b"]);
    d.check(&["zrange", "{t}a2", "0", "-1", "withscores"]);
    // ZRANGESTORE.
    for args in [
        &["0", "-1"][..],
        &["1", "1"],
        &["-2", "-1"],
        &["5", "10"],
        &["(1", "+inf", "byscore"],
        &["+inf", "-inf", "byscore", "rev"],
        &["-inf", "+inf", "byscore", "limit", "1", "1"],
        &["[w", "+", "bylex"],
        &["+", "-", "bylex", "rev", "limit", "0", "2"],
        &["0", "-1", "rev"],
        &["0", "-1", "withscores"],
        &["0", "-1", "limit", "0", "1"],
        &["0", "x"],
        &["(x", "1", "byscore"],
        &["x", "y", "bylex"],
        &["0", "-1", "bogus"],
    ] {
        let mut c = vec!["zrangestore", "{t}rs", "{t}b"];
        c.extend_from_slice(args);
        d.check(&c);
        d.check(&["zrange", "{t}rs", "0", "-1", "withscores"]);
    }
    d.check(&["zrangestore", "{t}rs", "{t}missing", "0", "-1"]);
    d.check(&["exists", "{t}rs"]);
    d.check(&["zrangestore", "{t}rs", "{t}str", "0", "-1"]);
    d.check(&["zrangestore", "{t}rs", "{t}s", "0", "-1"]);
    d.check(&["zrangestore", "{t}rs", "{t}b"]);
    // Arity.
    d.check(&["zunion", "1"]);
    d.check(&["zunionstore", "{t}d", "1"]);
    d.check(&["zrangestore", "{t}d", "{t}b", "0"]);
    d.check(&["zintercard", "1"]);
}

#[test]
fn zset_algebra_resp2() {
    let mut d = Diff::new();
    algebra(&mut d);
}

#[test]
fn zset_algebra_resp3() {
    let mut d = Diff::new_resp3();
    algebra(&mut d);
}
