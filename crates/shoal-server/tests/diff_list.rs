//! Differential tests: list commands against a real redis-server 7, RESP2 and RESP3.
//! Every command, option and error path of the family; keys share the `{t}` hash tag
//! so multi-key commands stay in one slot of the reference cluster.

mod common;
use common::Diff;
use shoal_resp::Frame;

fn script(d: &mut Diff) {
    d.check(&["lpush", "{t}l", "a", "b", "c"]);
    d.check(&["rpush", "{t}l", "{t}d", "e"]);
    d.check(&["lpushx", "{t}nol", "a"]);
    d.check(&["rpushx", "{t}l", "f"]);
    d.check(&["rpushx", "{t}nol", "a"]);
    d.check(&["lrange", "{t}l", "0", "-1"]);
    d.check(&["lrange", "{t}l", "-100", "100"]);
    d.check(&["lrange", "{t}l", "5", "2"]);
    d.check(&["lrange", "{t}l", "x", "1"]);
    d.check(&["lrange", "{t}nol", "0", "-1"]);
    d.check(&["llen", "{t}l"]);
    d.check(&["llen", "{t}nol"]);
    d.check(&["lindex", "{t}l", "0"]);
    d.check(&["lindex", "{t}l", "-1"]);
    d.check(&["lindex", "{t}l", "99"]);
    d.check(&["lindex", "{t}l", "x"]);
    d.check(&["lindex", "{t}nol", "0"]);
    d.check(&["lset", "{t}l", "0", "z"]);
    d.check(&["lset", "{t}l", "99", "z"]);
    d.check(&["lset", "{t}nol", "0", "z"]);
    d.check(&["lset", "{t}l", "-1", "last"]);
    d.check(&["lrange", "{t}l", "0", "-1"]);
    d.check(&["lpop", "{t}l"]);
    d.check(&["rpop", "{t}l"]);
    d.check(&["lpop", "{t}l", "2"]);
    d.check(&["rpop", "{t}l", "0"]);
    d.check(&["lpop", "{t}l", "-1"]);
    d.check(&["lpop", "{t}l", "1", "2"]);
    d.check(&["lpop", "{t}nol"]);
    d.check(&["lpop", "{t}nol", "2"]);
    d.check(&["lpop", "{t}nol", "0"]);
    d.check(&["rpush", "{t}r", "a", "b", "a", "c", "a", "b", "a"]);
    d.check(&["lrem", "{t}r", "2", "a"]);
    d.check(&["lrange", "{t}r", "0", "-1"]);
    d.check(&["lrem", "{t}r", "-1", "a"]);
    d.check(&["lrange", "{t}r", "0", "-1"]);
    d.check(&["lrem", "{t}r", "0", "b"]);
    d.check(&["lrem", "{t}r", "0", "zz"]);
    d.check(&["lrem", "{t}r", "x", "a"]);
    d.check(&["lrange", "{t}r", "0", "-1"]);
    d.check(&["rpush", "{t}t", "1", "2", "3", "4", "5", "6"]);
    d.check(&["ltrim", "{t}t", "1", "-2"]);
    d.check(&["lrange", "{t}t", "0", "-1"]);
    d.check(&["ltrim", "{t}t", "10", "20"]);
    d.check(&["exists", "{t}t"]);
    d.check(&["ltrim", "{t}nol", "0", "1"]);
    d.check(&["rpush", "{t}i", "a", "b", "c"]);
    d.check(&["linsert", "{t}i", "before", "b", "x"]);
    d.check(&["linsert", "{t}i", "after", "c", "y"]);
    d.check(&["linsert", "{t}i", "after", "nope", "y"]);
    d.check(&["linsert", "{t}i", "middle", "b", "x"]);
    d.check(&["linsert", "{t}nol", "before", "a", "x"]);
    d.check(&["lrange", "{t}i", "0", "-1"]);
    d.check(&["rpush", "{t}p", "a", "b", "a", "c", "a"]);
    d.check(&["lpos", "{t}p", "a"]);
    d.check(&["lpos", "{t}p", "a", "rank", "2"]);
    d.check(&["lpos", "{t}p", "a", "rank", "-1"]);
    d.check(&["lpos", "{t}p", "a", "rank", "-2", "count", "0"]);
    d.check(&["lpos", "{t}p", "a", "count", "2"]);
    d.check(&["lpos", "{t}p", "a", "count", "0", "maxlen", "3"]);
    d.check(&["lpos", "{t}p", "z"]);
    d.check(&["lpos", "{t}p", "z", "count", "1"]);
    d.check(&["lpos", "{t}p", "a", "rank", "0"]);
    d.check(&["lpos", "{t}p", "a", "rank", "x"]);
    d.check(&["lpos", "{t}p", "a", "count", "-1"]);
    d.check(&["lpos", "{t}p", "a", "count", "x"]);
    d.check(&["lpos", "{t}p", "a", "maxlen", "-1"]);
    d.check(&["lpos", "{t}p", "a", "rank"]);
    d.check(&["lpos", "{t}p", "a", "foo", "1"]);
    d.check(&["lpos", "{t}nol", "a"]);
    d.check(&["lpos", "{t}nol", "a", "count", "2"]);
    d.check(&["lpos", "{t}p", "a", "rank", "-9223372036854775808"]);
    d.check(&["rpush", "{t}src", "1", "2", "3"]);
    d.check(&["lmove", "{t}src", "{t}dst", "left", "right"]);
    d.check(&["lmove", "{t}src", "{t}dst", "right", "left"]);
    d.check(&["lmove", "{t}src", "{t}dst", "up", "left"]);
    d.check(&["lrange", "{t}dst", "0", "-1"]);
    d.check(&["rpoplpush", "{t}src", "{t}dst"]);
    d.check(&["exists", "{t}src"]);
    d.check(&["rpoplpush", "{t}nol", "{t}dst"]);
    d.check(&["lmove", "{t}src", "{t}src", "left", "right"]);
    d.check(&["rpush", "{t}rot", "a", "b", "c"]);
    d.check(&["lmove", "{t}rot", "{t}rot", "left", "right"]);
    d.check(&["lrange", "{t}rot", "0", "-1"]);
    d.check(&["set", "{t}str", "x"]);
    d.check(&["lmove", "{t}rot", "{t}str", "left", "left"]);
    d.check(&["lmove", "{t}str", "{t}rot", "left", "left"]);
    d.check(&["lpush", "{t}str", "a"]);
    d.check(&["lrange", "{t}str", "0", "1"]);
    d.check(&["lmpop", "1", "{t}rot", "left"]);
    d.check(&["lmpop", "2", "{t}nol", "{t}rot", "right", "count", "5"]);
    d.check(&["lmpop", "1", "{t}nol", "left"]);
    d.check(&["lmpop", "0", "{t}rot", "left"]);
    d.check(&["lmpop", "x", "{t}rot", "left"]);
    d.check(&["lmpop", "5", "{t}rot", "left"]);
    d.check(&["lmpop", "1", "{t}rot", "middle"]);
    d.check(&["lmpop", "1", "{t}rot", "left", "count", "0"]);
    d.check(&["lmpop", "1", "{t}rot", "left", "count", "1", "count", "1"]);
    d.check(&["lmpop", "1", "{t}str", "left"]);
    d.check(&["rpush", "{t}bl", "a", "b"]);
    d.check_blocking(&["blpop", "{t}nol", "{t}bl", "0"]);
    d.check_blocking(&["brpop", "{t}bl", "0"]);
    d.check_blocking(&["blpop", "{t}bl", "0"]);
    d.check_blocking(&["blpop", "{t}bl", "x"]);
    d.check_blocking(&["blpop", "{t}bl", "-1"]);
    d.check_blocking(&["blpop", "{t}bl", "inf"]);
    d.check_blocking(&["blmove", "{t}bl", "{t}dst", "left", "left", "0"]);
    d.check_blocking(&["blmove", "{t}bl", "{t}dst", "up", "left", "0"]);
    d.check_blocking(&["brpoplpush", "{t}bl", "{t}dst", "0"]);
    d.check_blocking(&["blmpop", "0", "1", "{t}bl", "left"]);
    d.check_blocking(&["blmpop", "-1", "1", "{t}bl", "left"]);
    d.check_blocking(&["blmpop", "0", "1", "{t}bl", "bad"]);
    d.check(&["rpush", "{t}bl", "x", "y"]);
    d.check_blocking(&["blmpop", "0", "2", "{t}nol", "{t}bl", "right", "count", "5"]);
    d.check_blocking(&["blmove", "{t}dst", "{t}bl", "left", "left", "1"]);
    d.check_blocking(&["brpoplpush", "{t}dst", "{t}bl", "1"]);
    d.check_blocking(&["blpop", "{t}str", "0"]);
}

#[test]
fn list_resp2() {
    let mut d = Diff::new();
    script(&mut d);
}

#[test]
fn list_resp3() {
    let mut d = Diff::new_resp3();
    script(&mut d);
}

/// A client blocked on an empty list is served by a push from another connection, and
/// one that waits past its timeout gets a null array.
#[test]
fn blocked_client_is_served_by_a_push() {
    let shoal = common::Shoal::start();
    let mut waiter = shoal.raw();
    let mut pusher = shoal.raw();
    waiter.send(&["BLPOP", "{t}queue", "5"]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    pusher.cmd(&["RPUSH", "{t}queue", "job"]);
    assert_eq!(
        waiter.read(),
        Frame::Array(vec![
            Frame::Bulk("{t}queue".into()),
            Frame::Bulk("job".into())
        ])
    );
    assert_eq!(waiter.cmd(&["BLPOP", "{t}queue", "0.1"]), Frame::NullArray);
    assert_eq!(
        waiter.cmd(&["BLMOVE", "{t}queue", "{t}d", "LEFT", "LEFT", "0.1"]),
        Frame::NullArray
    );
}
