//! Live heap bytes of a keyspace holding a million `key:N` → 3-byte strings (200k in debug
//! builds), measured with a counting allocator through the public command API.
//!
//! Reference: redis-server 7.0.15 grew `used_memory` by 88.5 MB for the same million
//! keys (88.5 bytes/key). Measured here: about 62 bytes/key (entry arrays grown by
//! 1.25×, an index of `u32`s; `crates/shoal-core/src/keytable.rs`).

#[path = "common/counting.rs"]
mod counting;

use bytes::Bytes;
use shoal_core::{Ctx, Db, Parsed, parse};

use counting::{Counting, live};

#[global_allocator]
static A: Counting = Counting;

#[test]
fn million_string_keys_memory() {
    let n: u64 = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let mut db = Db::new();
    let ctx = Ctx::default();
    let before = live();
    for i in 0..n {
        let args = vec![
            Bytes::from_static(b"SET"),
            Bytes::from(format!("key:{i}")),
            Bytes::from_static(b"xxx"),
        ];
        let Ok(Parsed::Keyspace(_, cmd)) = parse(&args) else {
            panic!("parse");
        };
        let _ = cmd.apply(&mut db, &ctx);
    }
    let used = live() - before;
    assert_eq!(db.len() as u64, n);
    let per = used as f64 / n as f64;
    println!("{n} keys: {used} live heap bytes, {per:.2} bytes/key (redis 7.0.15: 88.5)");
    assert!(per <= 88.5, "{per:.2} bytes per key");
}
