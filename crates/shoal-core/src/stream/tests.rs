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

/// Replays a command file against a fresh Db and writes each reply in RESP: a
/// development aid to diff the core with a real redis-server (see
/// scripts in the commit log). Lines: args separated by 0x1f; `HELLO 2` / `HELLO 3`
/// switch the protocol; `@now <ms>` sets the clock.
#[test]
#[ignore]
fn replay() {
    let Ok(path) = std::env::var("SHOAL_REPLAY") else {
        return;
    };
    let Ok(text) = std::fs::read(&path) else {
        return;
    };
    let mut db = Db::new();
    let mut ctx = Ctx {
        now_ms: 0,
        resp3: false,
        may_block: false,
        seed: 0,
    };
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let a: Vec<Bytes> = line
            .split(|&b| b == 0x1f)
            .map(Bytes::copy_from_slice)
            .collect();
        if a[0].eq_ignore_ascii_case(b"@now") {
            ctx.now_ms = std::str::from_utf8(&a[1])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            continue;
        }
        let f = if a[0].eq_ignore_ascii_case(b"hello") {
            ctx.resp3 = &a[1][..] == b"3";
            Frame::ok()
        } else if a[0].eq_ignore_ascii_case(b"flushall") {
            db = Db::new();
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
        out.extend_from_slice(&buf);
        out.extend_from_slice(b"\x1e\n");
    }
    let _ = std::fs::write(format!("{path}.out"), out);
}
