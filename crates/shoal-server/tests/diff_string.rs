//! Differential tests: string commands against a real redis-server 7, RESP2 and RESP3.

mod common;
use common::Diff;

fn string_script(d: &mut Diff) {
    d.check_all(&[
        &["GET", "s"],
        &["SET", "s", "hello"],
        &["GET", "s"],
        &["SET", "s", "v2", "GET"],
        &["SET", "s", "v3", "NX"],
        &["SET", "s", "v3", "NX", "GET"],
        &["SET", "new", "v", "XX"],
        &["SET", "new", "v", "XX", "GET"],
        &["SET", "s", "v4", "XX"],
        &["SET", "s", "v", "NX", "XX"],
        &["SET", "s", "v", "EX", "10", "PX", "100"],
        &["SET", "s", "v", "EX"],
        &["SET", "s", "v", "EX", "0"],
        &["SET", "s", "v", "EX", "-5"],
        &["SET", "s", "v", "EX", "abc"],
        &["SET", "s", "v", "PX", "9223372036854775807"],
        &["SET", "s", "v", "EX", "9223372036854775"],
        &["SET", "s", "v", "KEEPTTL", "EX", "5"],
        &["SET", "s", "v", "BOGUS"],
        &["SET", "s", "v", "GET", "GET"],
        &["SET", "s", "v", "EXAT", "1"],
        &["GET", "s"],
        &["SET", "s", "v", "PXAT", "99999999999999"],
        &["SET", "s", "v", "KEEPTTL"],
        &["SET"],
        &["SET", "s"],
        &["GET"],
        &["GET", "s", "x"],
        &["STRLEN", "s"],
        &["STRLEN", "missing"],
        &["APPEND", "s", "-tail"],
        &["APPEND", "ap", "x"],
        &["GET", "s"],
        &["GETDEL", "s"],
        &["GETDEL", "s"],
        &["GETSET", "gs", "1"],
        &["GETSET", "gs", "2"],
        &["SETNX", "nx", "1"],
        &["SETNX", "nx", "2"],
        &["SETEX", "ex", "100", "v"],
        &["SETEX", "ex", "0", "v"],
        &["SETEX", "ex", "x", "v"],
        &["PSETEX", "pex", "100000", "v"],
        &["PSETEX", "pex", "-1", "v"],
        &["GETRANGE", "ex", "0", "-1"],
        &["SET", "r", "Hello World"],
        &["GETRANGE", "r", "0", "4"],
        &["GETRANGE", "r", "-5", "-1"],
        &["GETRANGE", "r", "5", "2"],
        &["GETRANGE", "r", "-100", "100"],
        &["GETRANGE", "r", "-1", "-5"],
        &["GETRANGE", "missing", "0", "1"],
        &["GETRANGE", "r", "a", "1"],
        &["SETRANGE", "r", "6", "Redis"],
        &["GET", "r"],
        &["SETRANGE", "sr", "5", "x"],
        &["GET", "sr"],
        &["SETRANGE", "sr2", "0", ""],
        &["SETRANGE", "r", "-1", "x"],
    ]);
}

fn counter_script(d: &mut Diff) {
    d.check_all(&[
        &["INCR", "c"],
        &["INCRBY", "c", "10"],
        &["DECR", "c"],
        &["DECRBY", "c", "5"],
        &["INCRBY", "c", "abc"],
        &["INCRBY", "c", "1.5"],
        &["DECRBY", "c", "-9223372036854775808"],
        &["SET", "c", "9223372036854775807"],
        &["INCR", "c"],
        &["SET", "c", "-9223372036854775808"],
        &["DECR", "c"],
        &["SET", "c", " 1"],
        &["INCR", "c"],
        &["SET", "c", "01"],
        &["INCR", "c"],
        &["SET", "c", "abc"],
        &["INCR", "c"],
        &["SET", "f", "10.5"],
        &["INCRBYFLOAT", "f", "0.1"],
        &["INCRBYFLOAT", "f", "-5"],
        &["INCRBYFLOAT", "f", "abc"],
        &["INCRBYFLOAT", "nf", "3"],
        &["INCRBYFLOAT", "nf", "1e3"],
        &["INCRBYFLOAT", "c", "1"],
        &["GET", "f"],
        // Counters change in place: other types are left alone, deadlines kept, and a
        // failed increment leaves the old value.
        &["RPUSH", "cl", "a"],
        &["INCR", "cl"],
        &["TYPE", "cl"],
        &["SET", "ct", "5", "EX", "100"],
        &["INCRBY", "ct", "2"],
        &["TTL", "ct"],
        &["GET", "ct"],
        &["INCRBY", "cbig", "9223372036854775807"],
        &["INCR", "cbig"],
        &["GET", "cbig"],
        &["DECRBY", "cneg", "7"],
        &["GET", "cneg"],
        &["EXISTS", "cl", "ct", "cbig", "cneg"],
    ]);
}

fn multi_key_script(d: &mut Diff) {
    d.check_all(&[
        &["MSET", "{t}a", "1", "{t}b", "2"],
        &["MGET", "{t}a", "{t}b", "{t}c"],
        &["MSET", "{t}a"],
        &["MSET", "{t}a", "1", "{t}b"],
        &["MSET", "a", "1", "b", "2"],
        &["MGET", "a", "b"],
        &["MSETNX", "{t}a", "1", "{t}z", "2"],
        &["MSETNX", "{t}x", "1", "{t}y", "2"],
        &["MGET", "{t}x", "{t}y", "{t}z"],
    ]);
}

#[test]
fn strings_resp2() {
    let mut d = Diff::new();
    string_script(&mut d);
    counter_script(&mut d);
    multi_key_script(&mut d);
}

#[test]
fn strings_resp3() {
    let mut d = Diff::new_resp3();
    string_script(&mut d);
    counter_script(&mut d);
    multi_key_script(&mut d);
}

#[test]
fn wrongtype_on_strings() {
    let mut d = Diff::new();
    // Raw list command would need lists; a hash tag set via SET is enough to check GET
    // paths once other types land. Here: every string command on a missing key.
    d.check_all(&[
        &["GET", "nokey"],
        &["GETDEL", "nokey"],
        &["STRLEN", "nokey"],
        &["MGET", "nokey"],
    ]);
}
