//! Live heap bytes of a stream after `XADD sensor * temp 22.5` a million times (200k in
//! debug builds), measured with a counting allocator through the public command API.
//!
//! Reference: redis-server 7.0.15 grew `used_memory` by 15.86 MB for 1M such entries
//! (15.9 bytes/entry; MEMORY USAGE reports 19.9 MB), at redis-benchmark's ~500 entries
//! per ms. Measured here: about 8.9 bytes/entry.

#[path = "common/counting.rs"]
mod counting;

use bytes::Bytes;
use shoal_core::{Ctx, Db, Parsed, parse};

use counting::{Counting, live};

#[global_allocator]
static A: Counting = Counting;

#[test]
fn xadd_million_memory() {
    let n: u64 = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let mut db = Db::new();
    let args: Vec<Bytes> = ["XADD", "sensor", "*", "temp", "22.5"]
        .iter()
        .map(|s| Bytes::from_static(s.as_bytes()))
        .collect();
    let before = live();
    for i in 0..n {
        let ctx = Ctx {
            now_ms: 1_700_000_000_000 + i / 500,
            ..Ctx::default()
        };
        let Ok(Parsed::Keyspace(_, cmd)) = parse(&args) else {
            panic!("parse");
        };
        let _ = cmd.apply(&mut db, &ctx);
    }
    let used = live() - before;
    let per = used as f64 / n as f64;
    println!("{n} XADDs: {used} live heap bytes, {per:.2} bytes/entry (redis 7.0.15: 15.9)");
    assert!(per <= 15.9, "{per:.2} bytes per entry");
}
