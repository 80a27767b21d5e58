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
