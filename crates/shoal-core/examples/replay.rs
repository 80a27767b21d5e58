//! Developer tool: applies commands (one per line, arguments separated by spaces, `''`
//! for an empty argument) to a fresh Db and prints each RESP-encoded reply on its own
//! line, so replies can be compared byte for byte with redis-server's.
//! Usage: `cargo run -p shoal-core --example replay -- [3] < commands.txt`

use std::io::{BufRead, Write};

use bytes::{Bytes, BytesMut};
use shoal_core::{Ctx, Db, Parsed, Reply, parse};
use shoal_resp::{Frame, Protocol};

fn main() {
    let resp3 = std::env::args().nth(1).as_deref() == Some("3");
    let proto = if resp3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let mut db = Db::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let Ok(line) = line else { break };
        let args: Vec<Bytes> = line
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s == "''" {
                    Bytes::new()
                } else {
                    Bytes::copy_from_slice(s.as_bytes())
                }
            })
            .collect();
        if args.is_empty() {
            continue;
        }
        let ctx = Ctx {
            now_ms: 1_700_000_000_000,
            resp3,
            may_block: false,
            seed: n as u64,
        };
        let frame = match parse(&args) {
            Err(e) => e,
            Ok(Parsed::Server(..)) => Frame::static_error("ERR server command"),
            Ok(Parsed::Keyspace(_, cmd)) => match cmd.apply(&mut db, &ctx) {
                Reply::Frame(f) => f,
                Reply::Block(_) => Frame::static_error("BLOCKED"),
            },
        };
        db.take_effects();
        let mut buf = BytesMut::new();
        shoal_resp::encode::encode(&frame, proto, &mut buf);
        let _ = writeln!(
            out,
            "{}",
            String::from_utf8_lossy(&buf).replace("\r\n", " ")
        );
    }
}
