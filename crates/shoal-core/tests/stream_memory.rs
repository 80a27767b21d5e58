//! Live heap bytes of a stream after a million XADDs (200k in debug builds), measured
//! with a counting allocator through the public command API, for two loads:
//! - the benchmark's `XADD s * sensor temp value 22.5`, every entry alike;
//! - telemetry whose `value` changes from entry to entry (`15.0` .. `34.9`).
//!
//! Reference: redis-server 7.0.15 grew `used_memory` by 21.2 MB for 1M entries of either
//! load, sent with `redis-cli --pipe` (listpacks store every value; at redis-benchmark's
//! ~500 entries per ms, which this test's clock follows). One field and value per entry
//! (`XADD s * temp 22.5`) cost Redis 15.9 bytes per entry.

#[path = "common/counting.rs"]
mod counting;

use bytes::Bytes;
use shoal_core::{Ctx, Db, Parsed, parse};

use counting::{Counting, live};

#[global_allocator]
static A: Counting = Counting;

/// Redis 7.0.15's `used_memory` growth per entry of either load.
const REDIS_BYTES_PER_ENTRY: f64 = 21.2;

/// Bytes per entry of `n` XADDs of `sensor temp value <value(i)>` to a fresh stream.
fn per_entry(n: u64, value: impl Fn(u64) -> Bytes) -> f64 {
    let mut db = Db::new();
    let before = live();
    for i in 0..n {
        let ctx = Ctx {
            now_ms: 1_700_000_000_000 + i / 500,
            ..Ctx::default()
        };
        let args = [
            Bytes::from_static(b"XADD"),
            Bytes::from_static(b"s"),
            Bytes::from_static(b"*"),
            Bytes::from_static(b"sensor"),
            Bytes::from_static(b"temp"),
            Bytes::from_static(b"value"),
            value(i),
        ];
        let Ok(Parsed::Keyspace(_, cmd)) = parse(&args) else {
            panic!("parse");
        };
        let _ = cmd.apply(&mut db, &ctx);
    }
    let used = live() - before;
    drop(db);
    used as f64 / n as f64
}

// One test per binary: nothing else allocates while it measures.
#[test]
fn xadd_million_memory() {
    let n: u64 = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let alike = per_entry(n, |_| Bytes::from_static(b"22.5"));
    let varying = per_entry(n, |i| {
        Bytes::from(format!("{}.{}", 15 + (i * 7919) % 20, (i * 31) % 10))
    });
    println!(
        "{n} XADDs: {alike:.2} bytes/entry alike, {varying:.2} with varying values \
         (redis 7.0.15: {REDIS_BYTES_PER_ENTRY} either way)"
    );
    assert!(alike <= REDIS_BYTES_PER_ENTRY, "{alike:.2} bytes per entry");
    assert!(
        varying <= REDIS_BYTES_PER_ENTRY,
        "{varying:.2} bytes per entry"
    );
}
