//! Differential tests: set commands against a real redis-server 7, RESP2 and RESP3.
//! Every command, option and error path of the family; keys share the `{t}` hash tag
//! so multi-key commands stay in one slot of the reference cluster.

mod common;
use common::Diff;

fn script(d: &mut Diff) {
    d.check(&["sadd", "{t}s", "a", "b", "c", "{t}d"]);
    d.check(&["sadd", "{t}s", "a", "e"]);
    d.check(&["sadd", "{t}s2", "c", "{t}d", "e", "f"]);
    d.check(&["srem", "{t}s", "e", "zz"]);
    d.check(&["srem", "{t}nos", "a"]);
    d.check(&["sismember", "{t}s", "a"]);
    d.check(&["sismember", "{t}s", "zz"]);
    d.check(&["sismember", "{t}nos", "a"]);
    d.check(&["smismember", "{t}s", "a", "zz", "b"]);
    d.check(&["smismember", "{t}nos", "a"]);
    d.check_unordered(&["smembers", "{t}s"]);
    d.check_unordered(&["smembers", "{t}nos"]);
    d.check(&["scard", "{t}s"]);
    d.check(&["scard", "{t}nos"]);
    d.check_unordered(&["sinter", "{t}s", "{t}s2"]);
    d.check_unordered(&["sinter", "{t}s", "{t}nos"]);
    d.check_unordered(&["sunion", "{t}s", "{t}s2", "{t}nos"]);
    d.check_unordered(&["sdiff", "{t}s", "{t}s2"]);
    d.check_unordered(&["sdiff", "{t}nos", "{t}s"]);
    d.check_unordered(&["sdiff", "{t}s", "{t}nos"]);
    d.check(&["sinterstore", "{t}d", "{t}s", "{t}s2"]);
    d.check_unordered(&["smembers", "{t}d"]);
    d.check(&["sunionstore", "{t}d", "{t}s", "{t}s2"]);
    d.check(&["sdiffstore", "{t}d", "{t}s", "{t}s2"]);
    d.check_unordered(&["smembers", "{t}d"]);
    d.check(&["sinterstore", "{t}d", "{t}s", "{t}nos"]);
    d.check(&["exists", "{t}d"]);
    d.check(&["sintercard", "2", "{t}s", "{t}s2"]);
    d.check(&["sintercard", "2", "{t}s", "{t}s2", "limit", "1"]);
    d.check(&["sintercard", "2", "{t}s", "{t}s2", "limit", "0"]);
    d.check(&["sintercard", "1", "{t}s", "limit", "-1"]);
    d.check(&["sintercard", "0", "{t}s"]);
    d.check(&["sintercard", "3", "{t}s", "{t}s2"]);
    d.check(&["sintercard", "x", "{t}s"]);
    d.check(&["sintercard", "1", "{t}s", "foo"]);
    d.check(&["sintercard", "1", "{t}s", "limit"]);
    d.check(&["sintercard", "1", "{t}s", "limit", "x"]);
    d.check(&["sintercard", "2", "{t}nos", "{t}s"]);
    d.check(&["smove", "{t}s", "{t}s3", "a"]);
    d.check(&["smove", "{t}s", "{t}s3", "zz"]);
    d.check(&["smove", "{t}nos", "{t}s3", "a"]);
    d.check(&["smove", "{t}s", "{t}s", "b"]);
    d.check(&["smove", "{t}s", "{t}s", "zz"]);
    d.check_unordered(&["smembers", "{t}s3"]);
    d.check(&["set", "{t}str", "x"]);
    d.check(&["smove", "{t}s", "{t}str", "b"]);
    d.check(&["smove", "{t}str", "{t}s", "b"]);
    d.check(&["smove", "{t}nos", "{t}str", "b"]);
    d.check(&["sadd", "{t}str", "a"]);
    d.check_unordered(&["sinter", "{t}s", "{t}str"]);
    d.check_unordered(&["sinter", "{t}nos", "{t}str"]);
    d.check(&["sunionstore", "{t}d", "{t}s", "{t}str"]);
    d.check(&["sintercard", "2", "{t}nos", "{t}str"]);
    d.check_random(&["spop", "{t}nos"]);
    d.check_random(&["spop", "{t}nos", "2"]);
    d.check_random(&["spop", "{t}s", "0"]);
    d.check_random(&["spop", "{t}s", "-1"]);
    d.check_random(&["spop", "{t}s", "x"]);
    d.check_random(&["spop", "{t}s", "1", "2"]);
    d.check_random(&["srandmember", "{t}nos"]);
    d.check_random(&["srandmember", "{t}nos", "3"]);
    d.check_random(&["srandmember", "{t}s", "0"]);
    d.check_random(&["srandmember", "{t}s", "100"]);
    d.check_random(&["srandmember", "{t}s", "x"]);
    d.check_random(&["srandmember", "{t}s", "1", "2"]);
    d.check_random(&["srandmember", "{t}s", "-9223372036854775808"]);
    d.check(&["sadd", "{t}one", "only"]);
    d.check_random(&["spop", "{t}one"]);
    d.check(&["exists", "{t}one"]);
    d.check(&["sadd", "{t}two", "x", "y"]);
    d.check_random(&["spop", "{t}two", "5"]);
    d.check(&["exists", "{t}two"]);
    d.check(&["sadd", "{t}one", "z"]);
    d.check_random(&["srandmember", "{t}one"]);
    d.check_random(&["srandmember", "{t}one", "-3"]);
    d.check_random(&["srandmember", "{t}one", "3"]);
    d.check_scan(&["sscan", "{t}s", "0"]);
    d.check_scan(&["sscan", "{t}s", "0", "match", "c*"]);
    d.check_scan(&["sscan", "{t}s", "0", "count", "0"]);
    d.check_scan(&["sscan", "{t}nos", "0"]);
    d.check_scan(&["sscan", "{t}s", "abc"]);
    d.check_scan(&["sscan", "{t}s", "0", "foo"]);
    d.check(&["sinterstore", "{t}str", "{t}s"]);
    d.check(&["type", "{t}str"]);
}

#[test]
fn set_resp2() {
    let mut d = Diff::new();
    script(&mut d);
}

#[test]
fn set_resp3() {
    let mut d = Diff::new_resp3();
    script(&mut d);
}
