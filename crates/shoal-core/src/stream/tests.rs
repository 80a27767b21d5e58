//! Unit tests of the stream commands. Each pins a reply verified against redis-server
//! 7.0.15 with redis-cli (RESP2) and redis-cli -3 (RESP3), as the comments say.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::command::{Ctx, Parsed, Reply, parse};
use crate::db::Db;

pub(crate) fn args(s: &str) -> Vec<Bytes> {
    s.split_whitespace()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

/// Parses and applies one command; parse errors are replies too.
pub(crate) fn run_args(db: &mut Db, ctx: &Ctx, a: &[Bytes]) -> Reply {
    match parse(a) {
        Err(e) => Reply::Frame(e),
        Ok(Parsed::Keyspace(_, c)) => c.apply(db, ctx),
        Ok(Parsed::Server(..)) => Reply::Frame(Frame::error("ERR server command")),
    }
}

/// Applies each command to one Db (all at the same clock) and compares the reply, encoded
/// in the current protocol (`hello 3` switches to RESP3), with the bytes redis-server
/// 7.0.15 sent for the same command sequence.
fn check(cases: &[(&str, &str)]) {
    let mut db = Db::new();
    let mut ctx = Ctx {
        now_ms: 1_700_000_000_000,
        resp3: false,
        may_block: true,
        seed: 0,
    };
    for (cmd, want) in cases {
        let a = args(cmd);
        let f = if a[0].eq_ignore_ascii_case(b"hello") {
            ctx.resp3 = &a[1][..] == b"3";
            Frame::ok()
        } else {
            match run_args(&mut db, &ctx, &a) {
                Reply::Frame(f) => f,
                Reply::Block(_) => Frame::simple("BLOCKED"),
            }
        };
        let mut buf = bytes::BytesMut::new();
        let proto = if ctx.resp3 {
            shoal_resp::Protocol::Resp3
        } else {
            shoal_resp::Protocol::Resp2
        };
        shoal_resp::encode(&f, proto, &mut buf);
        assert_eq!(
            String::from_utf8_lossy(&buf),
            *want,
            "reply to `{cmd}` differs from redis-server's"
        );
    }
}

// The tables below were captured from redis-server 7.0.15 (raw RESP over a socket, the
// same sequence as redis-cli would send) and pin its replies byte for byte.

/// XADD: IDs (explicit, `<ms>-*`, exhausted), trimming options and their error order, NOMKSTREAM, WRONGTYPE.
#[test]
fn xadd_pins() {
    check(&[
        ("xadd s 1-1 a b", "$3\r\n1-1\r\n"),
        (
            "xadd s 1-1 a b",
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n",
        ),
        (
            "xadd s 0-0 a b",
            "-ERR The ID specified in XADD must be greater than 0-0\r\n",
        ),
        (
            "xadd s 0 a",
            "-ERR wrong number of arguments for 'xadd' command\r\n",
        ),
        (
            "xadd s limit 5 1-5 a b",
            "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n",
        ),
        (
            "xadd s maxlen 5 limit 5 1-5 a b",
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n",
        ),
        (
            "xadd s limit 0 1-5 a b",
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n",
        ),
        (
            "xadd s maxlen = 5 minid 3 1-5 a b",
            "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n",
        ),
        (
            "xadd s maxlen -1 1-5 a b",
            "-ERR The MAXLEN argument must be >= 0.\r\n",
        ),
        (
            "xadd s maxlen ~ 5 limit -1 1-5 a b",
            "-ERR The LIMIT argument must be >= 0.\r\n",
        ),
        (
            "xadd s maxlen ~ x 1-5 a b",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "xadd s maxlen 1 1 a b c",
            "-ERR wrong number of arguments for 'xadd' command\r\n",
        ),
        (
            "xadd s bogus a b",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xadd nope nomkstream 1-1 a b", "$-1\r\n"),
        ("exists nope", ":0\r\n"),
        ("xadd s 5-* a b", "$3\r\n5-0\r\n"),
        ("xadd s 5-* a b", "$3\r\n5-1\r\n"),
        (
            "xadd s 4-* a b",
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n",
        ),
        (
            "xadd s 5-18446744073709551615 a b",
            "$22\r\n5-18446744073709551615\r\n",
        ),
        (
            "xadd s 5-* a b",
            "-ERR Elements are too large to be stored\r\n",
        ),
        ("xadd s maxlen 2 6-0 a b", "$3\r\n6-0\r\n"),
        ("xlen s", ":2\r\n"),
        ("xadd s minid = 6 7-0 a b", "$3\r\n7-0\r\n"),
        (
            "xrange s - +",
            "*2\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "xadd s 18446744073709551615-18446744073709551615 a b",
            "$41\r\n18446744073709551615-18446744073709551615\r\n",
        ),
        (
            "xadd s 18446744073709551615-* a b",
            "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n",
        ),
        ("set str x", "+OK\r\n"),
        (
            "xadd str 1-1 a b",
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (
            "xadd str 0-0 a b",
            "-ERR The ID specified in XADD must be greater than 0-0\r\n",
        ),
    ]);
}

/// XRANGE/XREVRANGE: bounds, exclusive and incomplete IDs, COUNT (0 and negative give a null array), ID parsing quirks.
#[test]
fn xrange_pins() {
    check(&[
        ("xrange nokey - +", "*0\r\n"),
        ("xrange nokey - + count 0", "*0\r\n"),
        ("xadd s 1-1 a 1", "$3\r\n1-1\r\n"),
        ("xadd s 1-2 b 2 c 3", "$3\r\n1-2\r\n"),
        ("xadd s 2-0 a 4", "$3\r\n2-0\r\n"),
        ("xadd s 3-5 a 5", "$3\r\n3-5\r\n"),
        (
            "xrange s - +",
            "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n",
        ),
        (
            "xrevrange s + -",
            "*4\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        ),
        (
            "xrange s 1 1",
            "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        ),
        (
            "xrange s (1-1 (3-5",
            "*2\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n",
        ),
        (
            "xrevrange s (3-5 (1-1",
            "*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        ),
        (
            "xrange s - + count 2",
            "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        ),
        (
            "xrevrange s + - count 1",
            "*1\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n",
        ),
        ("xrange s - + count 0", "*-1\r\n"),
        ("xrange s - + count -1", "*-1\r\n"),
        (
            "xrange s (+ +",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            "xrange s (18446744073709551615-18446744073709551615 +",
            "-ERR invalid start ID for the interval\r\n",
        ),
        (
            "xrange s - (0-0",
            "-ERR invalid end ID for the interval\r\n",
        ),
        (
            "xrange s 01 +",
            "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n",
        ),
        (
            "xrange s +1 +",
            "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n",
        ),
        (
            "xrange s -01 +",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            "xrange s 1-2-3 +",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xrange s - + foo", "-ERR syntax error\r\n"),
        (
            "xrange s - + count x",
            "-ERR value is not an integer or out of range\r\n",
        ),
        ("xrange s 3 1", "*0\r\n"),
        ("xlen s", ":4\r\n"),
        ("xlen nokey", ":0\r\n"),
    ]);
}

/// XDEL and XTRIM: counts, max-deleted-entry-id, first id, LIMIT rules, node-granular `~`.
#[test]
fn xdel_xtrim_pins() {
    check(&[
        ("xdel nokey bad", ":0\r\n"),
        ("xadd s 1-0 a 1", "$3\r\n1-0\r\n"),
        ("xadd s 2-0 a 2", "$3\r\n2-0\r\n"),
        ("xadd s 3-0 a 3", "$3\r\n3-0\r\n"),
        (
            "xdel s bad",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xdel s 2-0 2-0 9-0", ":1\r\n"),
        (
            "xtrim s limit 0",
            "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n",
        ),
        ("xtrim s foo 1", "-ERR syntax error\r\n"),
        (
            "xtrim s maxlen 1 limit 1",
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n",
        ),
        ("xtrim s maxlen ~ 0", ":2\r\n"),
        ("xtrim s maxlen 1", ":0\r\n"),
        (
            "xinfo stream s",
            "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n",
        ),
        ("xtrim s maxlen 0", ":0\r\n"),
        (
            "xinfo stream s",
            "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n",
        ),
        ("xtrim nokey maxlen 0", ":0\r\n"),
    ]);
}

/// XSETID: option errors before the key, the checks 7.0.15 makes (no check against the current max-deleted-id).
#[test]
fn xsetid_pins() {
    check(&[
        ("xsetid nokey 5", "-ERR no such key\r\n"),
        (
            "xsetid nokey 0 maxdeletedid 1",
            "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n",
        ),
        (
            "xsetid nokey 9 entriesadded -1",
            "-ERR entries_added must be positive\r\n",
        ),
        ("xsetid nokey 9 foo", "-ERR syntax error\r\n"),
        ("xadd s 1-1 a b", "$3\r\n1-1\r\n"),
        ("xadd s 2-1 a b", "$3\r\n2-1\r\n"),
        ("xdel s 2-1", ":1\r\n"),
        (
            "xsetid s 1-0",
            "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n",
        ),
        (
            "xsetid s 1-5 entriesadded 0",
            "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n",
        ),
        ("xsetid s 1-5", "+OK\r\n"),
        ("xsetid s 3-0 entriesadded 9 maxdeletedid 2-5", "+OK\r\n"),
        (
            "xinfo stream s",
            "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-5\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
    ]);
}

/// XREAD: option errors, $, multiple streams, COUNT, missing keys, the null reply, RESP3 map.
#[test]
fn xread_pins() {
    check(&[
        (
            "xread streams a b c",
            "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n",
        ),
        (
            "xread count x streams a 0",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "xread block x streams a 0",
            "-ERR timeout is not an integer or out of range\r\n",
        ),
        ("xread block -1 streams a 0", "-ERR timeout is negative\r\n"),
        (
            "xread group g c streams a 0",
            "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n",
        ),
        (
            "xread noack streams a 0",
            "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n",
        ),
        (
            "xread streams a >",
            "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n",
        ),
        (
            "xread streams a x",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xread foo streams a 0", "-ERR syntax error\r\n"),
        ("xread streams a 0", "*-1\r\n"),
        ("xadd a 1-0 f 1", "$3\r\n1-0\r\n"),
        ("xadd a 2-0 f 2", "$3\r\n2-0\r\n"),
        ("xadd b 5-0 g 1", "$3\r\n5-0\r\n"),
        (
            "xread streams a b 0 0",
            "*2\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n",
        ),
        (
            "xread count 1 streams a b 1 0",
            "*2\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n",
        ),
        ("xread streams a $", "*-1\r\n"),
        ("xread streams a nokey 2 0", "*-1\r\n"),
        ("hello 3", "+OK\r\n"),
        (
            "xread streams a b 0 0",
            "%2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n",
        ),
        ("xread streams a 2", "_\r\n"),
    ]);
}

/// XGROUP: every subcommand, error order (syntax, type, key, group), MKSTREAM, ENTRIESREAD, HELP.
#[test]
fn xgroup_pins() {
    check(&[
        (
            "xgroup create s g 0 foo",
            "-ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.\r\n",
        ),
        (
            "xgroup create nokey g 0",
            "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n",
        ),
        (
            "xgroup create nokey g 0 entriesread -2",
            "-ERR value for ENTRIESREAD must be positive or -1\r\n",
        ),
        (
            "xgroup create nokey g 0 entriesread x",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "xgroup setid nokey g 0",
            "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n",
        ),
        (
            "xgroup setid nokey g 0 foo 1",
            "-ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP.\r\n",
        ),
        (
            "xgroup create nokey g x mkstream",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("exists nokey", ":0\r\n"),
        ("xgroup create s g $ mkstream", "+OK\r\n"),
        (
            "xgroup create s g $",
            "-BUSYGROUP Consumer Group name already exists\r\n",
        ),
        (
            "xinfo groups s",
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n",
        ),
        (
            "xgroup setid s nog 0",
            "-NOGROUP No such consumer group 'nog' for key name 's'\r\n",
        ),
        (
            "xgroup setid s g x",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xgroup setid s g - entriesread 3", "+OK\r\n"),
        (
            "xinfo groups s",
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:0\r\n",
        ),
        (
            "xgroup createconsumer s nog c",
            "-NOGROUP No such consumer group 'nog' for key name 's'\r\n",
        ),
        ("xgroup createconsumer s g c", ":1\r\n"),
        ("xgroup createconsumer s g c", ":0\r\n"),
        ("xgroup delconsumer s g nobody", ":0\r\n"),
        ("xgroup delconsumer s g c", ":0\r\n"),
        ("xgroup destroy s nog", ":0\r\n"),
        ("xgroup destroy s g", ":1\r\n"),
        (
            "xgroup foo",
            "-ERR unknown subcommand 'foo'. Try XGROUP HELP.\r\n",
        ),
        (
            "xgroup help",
            "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n",
        ),
        ("set str x", "+OK\r\n"),
        (
            "xgroup create str g 0",
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
    ]);
}

/// XREADGROUP: NOGROUP, `$`/`>` rules, PEL and last-delivered-id, history re-reads, NOACK, deleted entries, lag.
#[test]
fn xreadgroup_pins() {
    check(&[
        (
            "xreadgroup group g c streams a 0",
            "-NOGROUP No such key 'a' or consumer group 'g' in XREADGROUP with GROUP option\r\n",
        ),
        (
            "xreadgroup group g c count 1 streams a 0 0",
            "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n",
        ),
        ("xreadgroup group g streams a 0 0", "-ERR syntax error\r\n"),
        ("xadd a 1-1 f v", "$3\r\n1-1\r\n"),
        ("xadd a 2-1 f v f2 v2", "$3\r\n2-1\r\n"),
        ("xadd a 3-1 f v", "$3\r\n3-1\r\n"),
        ("xgroup create a g 0", "+OK\r\n"),
        (
            "xreadgroup group g c streams a $",
            "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n",
        ),
        (
            "xreadgroup group g c streams a x",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            "xreadgroup group g c streams a 0",
            "*1\r\n*2\r\n$1\r\na\r\n*0\r\n",
        ),
        (
            "xreadgroup group g c count 1 streams a >",
            "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        ),
        (
            "xinfo groups a",
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:2\r\n",
        ),
        (
            "xreadgroup group g c noack count 1 streams a >",
            "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
        ),
        ("xdel a 1-1", ":1\r\n"),
        (
            "xinfo groups a",
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-1\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:1\r\n",
        ),
        (
            "xreadgroup group g c streams a 0",
            "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*-1\r\n",
        ),
        (
            "xreadgroup group g c streams a >",
            "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        ),
        ("xreadgroup group g d streams a >", "*-1\r\n"),
        (
            "xpending a g",
            "*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n2\r\n",
        ),
    ]);
}

/// XPENDING (summary, extended, IDLE, consumer filter, argument errors) and XACK.
#[test]
fn xpending_xack_pins() {
    check(&[
        (
            "xpending nokey g",
            "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n",
        ),
        ("xpending nokey g x y", "-ERR syntax error\r\n"),
        (
            "xpending nokey g x y z",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "xpending nokey g idle x - + 1",
            "-ERR value is not an integer or out of range\r\n",
        ),
        ("xpending nokey g idle 1 - +", "-ERR syntax error\r\n"),
        (
            "xpending nokey g x + 1",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xack nokey g bad", ":0\r\n"),
        ("xadd s 1-0 a 1", "$3\r\n1-0\r\n"),
        ("xadd s 2-0 a 2", "$3\r\n2-0\r\n"),
        ("xadd s 3-0 a 3", "$3\r\n3-0\r\n"),
        ("xgroup create s g 0", "+OK\r\n"),
        ("xpending s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
        ("xpending s g - + 10", "*0\r\n"),
        (
            "xreadgroup group g alice count 2 streams s >",
            "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n",
        ),
        (
            "xreadgroup group g bob streams s >",
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n",
        ),
        (
            "xpending s g",
            "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n",
        ),
        (
            "xpending s g - + 10 alice",
            "*2\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:0\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:0\r\n:1\r\n",
        ),
        ("xpending s g - + 10 nobody", "*0\r\n"),
        // Idle time: redis measured 1 ms of wall clock here; the core's clock stands still.
        (
            "xpending s g (1 + 1",
            "*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:0\r\n:1\r\n",
        ),
        ("xpending s g - + 0", "*0\r\n"),
        ("xpending s g idle 100000 - + 10", "*0\r\n"),
        (
            "xack s g bad",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xack s g 1-0 1-0 9-0", ":1\r\n"),
        ("xack s nog 2-0", ":0\r\n"),
        (
            "xpending s g",
            "*4\r\n:2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n",
        ),
    ]);
}

/// XCLAIM and XAUTOCLAIM: option errors, FORCE, JUSTID, RETRYCOUNT, LASTID, deleted entries leaving the PEL, the cursor and deleted-IDs reply.
#[test]
fn xclaim_pins() {
    check(&[
        (
            "xclaim nokey g c 0 1-0",
            "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n",
        ),
        ("xadd s 1-0 a 1", "$3\r\n1-0\r\n"),
        ("xadd s 2-0 a 2", "$3\r\n2-0\r\n"),
        ("xadd s 3-0 a 3", "$3\r\n3-0\r\n"),
        ("xadd s 4-0 a 4", "$3\r\n4-0\r\n"),
        ("xgroup create s g 0", "+OK\r\n"),
        (
            "xreadgroup group g alice count 3 streams s >",
            "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n",
        ),
        (
            "xclaim s g bob x 1-0",
            "-ERR Invalid min-idle-time argument for XCLAIM\r\n",
        ),
        (
            "xclaim s g bob 0 1-0 foo",
            "-ERR Unrecognized XCLAIM option 'foo'\r\n",
        ),
        (
            "xclaim s g bob 0 1-0 idle x",
            "-ERR Invalid IDLE option argument for XCLAIM\r\n",
        ),
        (
            "xclaim s g bob 0 1-0 time x",
            "-ERR Invalid TIME option argument for XCLAIM\r\n",
        ),
        (
            "xclaim s g bob 0 1-0 retrycount x",
            "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n",
        ),
        (
            "xclaim s g bob 0 1-0 lastid x",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        ("xclaim s g bob 3600000 1-0", "*0\r\n"),
        ("xclaim s g bob 0 1-0 justid", "*1\r\n$3\r\n1-0\r\n"),
        (
            "xclaim s g bob 0 1-0 retrycount 7",
            "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        ),
        ("xclaim s g carol 0 4-0 force justid", "*1\r\n$3\r\n4-0\r\n"),
        ("xclaim s g carol 0 9-0 force", "*0\r\n"),
        (
            "xclaim s g carol 0 2-0 lastid 9-0",
            "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n",
        ),
        (
            "xinfo groups s",
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:1\r\n",
        ),
        (
            "xpending s g - + 10",
            "*4\r\n*4\r\n$3\r\n1-0\r\n$3\r\nbob\r\n:0\r\n:7\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:0\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:0\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$5\r\ncarol\r\n:0\r\n:1\r\n",
        ),
        ("xdel s 3-0", ":1\r\n"),
        (
            "xclaim s g bob 0 3-0 2-0",
            "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n",
        ),
        (
            "xautoclaim s g dan x 0",
            "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n",
        ),
        (
            "xautoclaim s g dan 0 x",
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            "xautoclaim s g dan 0 0 count 0",
            "-ERR COUNT must be > 0\r\n",
        ),
        ("xautoclaim s g dan 0 0 foo", "-ERR syntax error\r\n"),
        (
            "xautoclaim s nog dan 0 0",
            "-NOGROUP No such key 's' or consumer group 'nog'\r\n",
        ),
        (
            "xautoclaim s g dan 0 0 count 1",
            "*3\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n",
        ),
        (
            "xautoclaim s g dan 0 0 count 1 justid",
            "*3\r\n$3\r\n2-0\r\n*1\r\n$3\r\n1-0\r\n*0\r\n",
        ),
        ("xdel s 4-0", ":1\r\n"),
        (
            "xautoclaim s g dan 0 0",
            "*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*1\r\n$3\r\n4-0\r\n",
        ),
        (
            "xpending s g",
            "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\ndan\r\n$1\r\n2\r\n",
        ),
    ]);
}

/// Memory: 1M `XADD sensor * temp 22.5` at ~500 entries per ms (the rate redis-benchmark
/// reaches). redis-server 7.0.15 used 15.9 bytes per entry for this load (used_memory
/// delta; MEMORY USAGE says 19.9). The core's nodes must not use more.
#[test]
fn memory_per_entry_beats_redis() {
    let n: u64 = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let mut s = super::Stream::default();
    for i in 0..n {
        let now = 1_700_000_000_000 + i / 500;
        let id = super::xadd::next_id(&s, super::xadd::AddId::Auto, now).unwrap_or_default();
        s.append(id, &[b"temp", b"22.5"]);
    }
    let per_entry = s.entries_heap_size() as f64 / n as f64;
    println!(
        "{n} entries: {} bytes in {} nodes, {per_entry:.2} bytes/entry",
        s.entries_heap_size(),
        s.node_count()
    );
    assert!(per_entry <= 15.9, "{per_entry} bytes per entry");
}

/// A clone of a stream (what a snapshot in progress holds) shares its nodes: writing to
/// the original afterwards copies only the nodes it changes, and the clone keeps its
/// entries.
#[test]
fn clones_share_nodes_until_written() {
    use super::id::StreamId;
    let mut s = super::Stream::default();
    for ms in 1..=1000 {
        s.append(StreamId::new(ms, 0), &[b"f", b"v"]);
    }
    let snap = s.clone();
    // Opens an 11th node (the 10th is full, and is shrunk) and empties nothing.
    s.append(StreamId::new(1001, 0), &[b"f", b"v"]);
    assert!(s.delete(StreamId::new(1, 0)));
    let shared = snap
        .chunks
        .iter()
        .filter(|(k, c)| {
            s.chunks
                .get(k)
                .is_some_and(|o| std::sync::Arc::ptr_eq(o, c))
        })
        .count();
    assert_eq!((snap.chunks.len(), shared), (10, 8));
    assert_eq!(snap.len(), 1000);
    assert_eq!(snap.first_live_id(), Some(StreamId::new(1, 0)));
    assert_eq!(s.first_live_id(), Some(StreamId::new(2, 0)));
}

fn ctx_at(now: u64) -> Ctx {
    Ctx {
        now_ms: now,
        resp3: false,
        may_block: true,
        seed: 0,
    }
}

fn frame(r: Reply) -> Frame {
    match r {
        Reply::Frame(f) => f.expand_raw(),
        Reply::Block(_) => Frame::simple("BLOCKED"),
    }
}

/// XREAD BLOCK with nothing to serve parks the client: `$` resolved to the last ID,
/// COUNT defaulting to 1000 for the retry (Redis's XREAD_BLOCKED_DEFAULT_COUNT), a null
/// array on timeout; inside MULTI it answers the timeout reply at once (redis-cli:
/// `MULTI; XREAD BLOCK 0 STREAMS s $; EXEC` → `1) (nil)`).
#[test]
fn xread_block_and_retry() {
    let mut db = Db::new();
    db.track_ready = true;
    let ctx = ctx_at(1000);
    frame(run_args(&mut db, &ctx, &args("xadd s 5-0 a 1")));
    let Reply::Block(b) = run_args(&mut db, &ctx, &args("xread block 200 streams s nokey $ $"))
    else {
        panic!("should block");
    };
    assert_eq!(b.deadline_ms, Some(1200));
    assert_eq!(b.keys, args("s nokey"));
    assert_eq!(b.timeout_reply, Frame::NullArray);
    let crate::Command::Stream(super::StreamCommand::Read(r)) = &b.retry else {
        panic!("retry is XREAD");
    };
    assert_eq!(r.count, 1000);
    assert_eq!(
        r.ids,
        vec![
            super::xread::ReadId::Id(super::StreamId::new(5, 0)),
            super::xread::ReadId::Id(super::StreamId::MIN)
        ]
    );
    // New data, then the retry serves only what came after `$`.
    db.take_effects();
    frame(run_args(&mut db, &ctx, &args("xadd s 6-0 a 2")));
    assert_eq!(db.take_effects().ready, args("s"));
    let got = frame(b.retry.apply(&mut db, &ctx));
    assert_eq!(
        got,
        Frame::Array(vec![Frame::Array(vec![
            Frame::bulk(b"s"),
            Frame::Array(vec![Frame::Array(vec![
                Frame::bulk(b"6-0"),
                Frame::Array(vec![Frame::bulk(b"a"), Frame::bulk(b"2")])
            ])])
        ])])
    );
    // BLOCK 0 blocks forever; MULTI answers at once.
    let Reply::Block(b) = run_args(&mut db, &ctx, &args("xread block 0 streams s $")) else {
        panic!("should block");
    };
    assert_eq!(b.deadline_ms, None);
    let multi = Ctx {
        may_block: false,
        ..ctx
    };
    assert_eq!(
        frame(run_args(
            &mut db,
            &multi,
            &args("xread block 0 streams s $")
        )),
        Frame::NullArray
    );
}

/// XREADGROUP BLOCK with `>` parks with the same command as retry; the consumer does not
/// exist yet (Redis 7.0.15 creates it only when it serves it). XGROUP DESTROY wakes the
/// readers, whose retry then fails with the NOGROUP text Redis sends blocked clients.
#[test]
fn xreadgroup_block() {
    let mut db = Db::new();
    db.track_ready = true;
    let ctx = ctx_at(1000);
    frame(run_args(
        &mut db,
        &ctx,
        &args("xgroup create s g $ mkstream"),
    ));
    let Reply::Block(b) = run_args(
        &mut db,
        &ctx,
        &args("xreadgroup group g c block 10 streams s >"),
    ) else {
        panic!("should block");
    };
    assert_eq!(
        frame(run_args(&mut db, &ctx, &args("xinfo groups s"))),
        Frame::Array(vec![Frame::Map(vec![
            (Frame::bulk(b"name"), Frame::bulk(b"g")),
            (Frame::bulk(b"consumers"), Frame::Integer(0)),
            (Frame::bulk(b"pending"), Frame::Integer(0)),
            (Frame::bulk(b"last-delivered-id"), Frame::bulk(b"0-0")),
            (Frame::bulk(b"entries-read"), Frame::Null),
            (Frame::bulk(b"lag"), Frame::Integer(0)),
        ])])
    );
    frame(run_args(&mut db, &ctx, &args("xadd s 1-0 a 1")));
    let got = frame(b.retry.clone().apply(&mut db, &ctx));
    assert!(matches!(got, Frame::Array(ref v) if v.len() == 1));
    db.take_effects();
    assert_eq!(
        frame(run_args(&mut db, &ctx, &args("xgroup destroy s g"))),
        Frame::Integer(1)
    );
    assert_eq!(db.take_effects().ready, args("s"));
    assert_eq!(
        frame(b.retry.apply(&mut db, &ctx)),
        Frame::error("NOGROUP the consumer group this client was blocked on no longer exists")
    );
}

/// XINFO CONSUMERS: idle from the last read that served the consumer (Redis 7.0.15 does
/// not refresh it on a read that returns nothing), `inactive` (7.2) from the last
/// successful read, -1 when never active; 7.0's three fields come first in Redis's order.
#[test]
fn xinfo_consumers_times() {
    let mut db = Db::new();
    frame(run_args(&mut db, &ctx_at(1000), &args("xadd s 1-0 a 1")));
    frame(run_args(
        &mut db,
        &ctx_at(1000),
        &args("xgroup create s g 0"),
    ));
    frame(run_args(
        &mut db,
        &ctx_at(1000),
        &args("xreadgroup group g alice streams s >"),
    ));
    frame(run_args(
        &mut db,
        &ctx_at(1500),
        &args("xreadgroup group g alice streams s >"),
    ));
    frame(run_args(
        &mut db,
        &ctx_at(1600),
        &args("xgroup createconsumer s g bob"),
    ));
    let got = frame(run_args(
        &mut db,
        &ctx_at(2000),
        &args("xinfo consumers s g"),
    ));
    let c = |name: &str, pending, idle, inactive| {
        Frame::Map(vec![
            (Frame::bulk(b"name"), Frame::bulk(name.as_bytes())),
            (Frame::bulk(b"pending"), Frame::Integer(pending)),
            (Frame::bulk(b"idle"), Frame::Integer(idle)),
            (Frame::bulk(b"inactive"), Frame::Integer(inactive)),
        ])
    };
    assert_eq!(
        got,
        Frame::Array(vec![c("alice", 1, 1000, 1000), c("bob", 0, 400, -1)])
    );
    // XPENDING idle times come from the context clock too.
    assert_eq!(
        frame(run_args(
            &mut db,
            &ctx_at(2000),
            &args("xpending s g - + 10")
        )),
        Frame::Array(vec![Frame::Array(vec![
            Frame::bulk(b"1-0"),
            Frame::bulk(b"alice"),
            Frame::Integer(1000),
            Frame::Integer(1),
        ])])
    );
}

/// Keyspace events use Redis's names.
#[test]
fn keyspace_events() {
    let mut db = Db::new();
    db.notify_classes = crate::db::class::STREAM;
    let ctx = ctx_at(1000);
    for c in [
        "xadd s maxlen 1 1-0 a 1",
        "xadd s maxlen 1 2-0 a 1",
        "xdel s 2-0",
        "xgroup create s g 0",
        "xgroup createconsumer s g c",
        "xgroup setid s g 0",
        "xgroup delconsumer s g c",
        "xgroup destroy s g",
        "xsetid s 9-0",
        "xtrim s maxlen 0",
    ] {
        frame(run_args(&mut db, &ctx, &args(c)));
    }
    let events: Vec<&str> = db.take_effects().events.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            "xadd",
            "xadd",
            "xtrim",
            "xdel",
            "xgroup-create",
            "xgroup-createconsumer",
            "xgroup-setid",
            "xgroup-delconsumer",
            "xgroup-destroy",
            "xsetid"
        ]
    );
}
