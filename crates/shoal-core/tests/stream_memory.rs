//! Live heap bytes of a stream after `XADD sensor * temp 22.5` a million times (200k in
//! debug builds), measured with a counting allocator through the public command API.
//!
//! Reference: redis-server 7.0.15 grew `used_memory` by 15.86 MB for 1M such entries
//! (15.9 bytes/entry; MEMORY USAGE reports 19.9 MB), at redis-benchmark's ~500 entries
//! per ms. Measured here: about 8.9 bytes/entry.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use bytes::Bytes;
use shoal_core::{Ctx, Db, Parsed, parse};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

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
    let before = LIVE.load(Ordering::Relaxed);
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
    let used = LIVE.load(Ordering::Relaxed) - before;
    let per = used as f64 / n as f64;
    println!("{n} XADDs: {used} live heap bytes, {per:.2} bytes/entry (redis 7.0.15: 15.9)");
    assert!(per <= 15.9, "{per:.2} bytes per entry");
}
