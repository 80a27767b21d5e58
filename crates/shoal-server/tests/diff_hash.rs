//! Differential tests: hash commands against a real redis-server 7, RESP2 and RESP3.
//! Every command, option and error path of the family; keys share the `{t}` hash tag
//! so multi-key commands stay in one slot of the reference cluster.

mod common;
use common::Diff;
use shoal_resp::Frame;

fn script(d: &mut Diff) {
    d.check(&["hset", "{t}h", "f", "v", "g", "w"]);
    d.check(&["hset", "{t}h", "f", "v2", "x", "y"]);
    d.check(&["hset", "{t}h", "f"]);
    d.check(&["hmset", "{t}h", "a", "1", "b", "2"]);
    d.check(&["hmset", "{t}h", "a"]);
    d.check(&["hsetnx", "{t}h", "a", "9"]);
    d.check(&["hsetnx", "{t}h", "new", "9"]);
    d.check(&["hget", "{t}h", "a"]);
    d.check(&["hget", "{t}h", "nope"]);
    d.check(&["hget", "{t}nokey", "a"]);
    d.check(&["hmget", "{t}h", "a", "nope", "b"]);
    d.check(&["hmget", "{t}nokey", "a", "b"]);
    d.check_unordered(&["hgetall", "{t}h"]);
    d.check_unordered(&["hgetall", "{t}nokey"]);
    d.check(&["hdel", "{t}h", "a", "nope"]);
    d.check(&["hdel", "{t}nokey", "a"]);
    d.check(&["hexists", "{t}h", "b"]);
    d.check(&["hexists", "{t}h", "a"]);
    d.check(&["hlen", "{t}h"]);
    d.check(&["hlen", "{t}nokey"]);
    d.check_unordered(&["hkeys", "{t}h"]);
    d.check_unordered(&["hvals", "{t}h"]);
    d.check(&["hincrby", "{t}h", "n", "5"]);
    d.check(&["hincrby", "{t}h", "n", "-7"]);
    d.check(&["hincrby", "{t}h", "n", "x"]);
    d.check(&["hincrby", "{t}h", "f", "1"]);
    d.check(&["hset", "{t}h", "big", "9223372036854775807"]);
    d.check(&["hincrby", "{t}h", "big", "1"]);
    d.check(&["hincrbyfloat", "{t}h", "fl", "1.5"]);
    d.check(&["hincrbyfloat", "{t}h", "fl", "0.25"]);
    d.check(&["hincrbyfloat", "{t}h", "fl", "x"]);
    d.check(&["hincrbyfloat", "{t}h", "f", "1"]);
    d.check(&["hincrbyfloat", "{t}h", "fl", "inf"]);
    d.check(&["hincrbyfloat", "{t}h", "n", "2.5"]);
    d.check(&["hincrbyfloat", "{t}h", "n", "1e3"]);
    d.check(&["hstrlen", "{t}h", "f"]);
    d.check(&["hstrlen", "{t}h", "nope"]);
    d.check(&["hstrlen", "{t}nokey", "f"]);
    d.check_random(&["hrandfield", "{t}nokey"]);
    d.check_random(&["hrandfield", "{t}nokey", "3"]);
    d.check_random(&["hrandfield", "{t}h", "0"]);
    d.check_random(&["hrandfield", "{t}h", "100"]);
    d.check_random(&["hrandfield", "{t}h", "100", "withvalues"]);
    d.check_random(&["hrandfield", "{t}h", "1", "withvalue"]);
    d.check_random(&["hrandfield", "{t}h", "1", "withvalues", "x"]);
    d.check_random(&["hrandfield", "{t}h", "x"]);
    d.check_random(&["hrandfield", "{t}h", "-9223372036854775808"]);
    d.check_scan(&["hscan", "{t}h", "0"]);
    d.check_scan(&["hscan", "{t}h", "0", "count", "100", "match", "f*"]);
    d.check_scan(&["hscan", "{t}h", "0", "count", "0"]);
    d.check_scan(&["hscan", "{t}h", "x"]);
    d.check_scan(&["hscan", "{t}h", "0", "match"]);
    d.check_scan(&["hscan", "{t}nokey", "0"]);
    d.check(&["set", "{t}str", "x"]);
    d.check(&["hget", "{t}str", "a"]);
    d.check(&["hset", "{t}str", "a", "b"]);
    d.check_unordered(&["hgetall", "{t}str"]);
    d.check(&[
        "hdel", "{t}h", "f", "g", "b", "n", "x", "big", "fl", "new", "y",
    ]);
    d.check(&["exists", "{t}h"]);
    d.check(&["hincrbyfloat", "{t}h2", "x", "-0.5"]);
    d.check_unordered(&["hgetall", "{t}h2"]);
    // A hash above the compact-encoding size scans by cursor: every field comes back.
    for i in 0..300 {
        let f = format!("f{i}");
        d.check(&["HSET", "{t}big", &f, "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let Frame::Array(parts) = d.shoal.cmd(&["HSCAN", "{t}big", &cursor, "COUNT", "20"]) else {
            panic!("HSCAN reply")
        };
        let (Some(Frame::Bulk(c)), Some(Frame::Array(items))) = (parts.first(), parts.get(1))
        else {
            panic!("HSCAN shape")
        };
        for pair in items.chunks(2) {
            seen.insert(format!("{:?}", pair[0]));
        }
        cursor = String::from_utf8_lossy(c).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    d.check(&["HLEN", "{t}big"]);
}

#[test]
fn hash_resp2() {
    let mut d = Diff::new();
    script(&mut d);
}

#[test]
fn hash_resp3() {
    let mut d = Diff::new_resp3();
    script(&mut d);
}
