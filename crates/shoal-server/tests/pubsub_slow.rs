//! Slow subscribers, with Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`
//! semantics: a subscriber that never reads is disconnected once its output buffer
//! passes the hard limit (or stays over the soft limit too long), the publisher is never
//! stalled, a healthy subscriber receives everything, and the server's memory stays
//! bounded.

mod common;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{Raw, Shoal};
use shoal_resp::Frame;

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    }
}

fn info_field(c: &mut Raw, section: &str, field: &str) -> String {
    let t = text(c.cmd(&["INFO", section]));
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .to_string()
}

/// Resident set size of a process, from /proc (kB).
fn vm_rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// A subscriber that sends SUBSCRIBE and then never reads.
fn stalled_subscriber(port: u16, channel: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let cmd = format!(
        "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n",
        channel.len()
    );
    s.write_all(cmd.as_bytes()).expect("subscribe");
    s
}

/// Reads (and discards) until the server closes the connection. True if it did within
/// `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

fn pubsub_clients(c: &mut Raw) -> usize {
    text(c.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]))
        .lines()
        .count()
}

#[test]
fn hard_limit_disconnects_a_stalled_subscriber_only() {
    let shoal = Shoal::start();
    let mut admin = shoal.raw();
    let pid = info_field(&mut admin, "server", "process_id");
    let base_rss = vm_rss_kb(&pid);
    let mut slow = stalled_subscriber(shoal.port, "big");
    // A healthy subscriber reads everything in its own thread.
    const MSG: usize = 64 * 1024;
    const COUNT: usize = 2048; // 128 MiB in all
    let mut healthy = shoal.raw();
    healthy.cmd(&["SUBSCRIBE", "big"]);
    let reader = thread::spawn(move || {
        let mut n = 0;
        while n < COUNT {
            match healthy.read() {
                Frame::Array(v) => {
                    assert!(matches!(&v[2], Frame::Bulk(b) if b.len() == MSG));
                    n += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        (n, healthy)
    });
    thread::sleep(Duration::from_millis(100));
    let mut publisher = shoal.raw();
    let payload = "x".repeat(MSG);
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut peak_rss = 0;
    let mut receivers_at_end = 0;
    for i in 0..COUNT {
        let t = Instant::now();
        let Frame::Integer(n) = publisher.cmd(&["PUBLISH", "big", &payload]) else {
            panic!("PUBLISH did not answer an integer");
        };
        slowest = slowest.max(t.elapsed());
        receivers_at_end = n;
        if i % 64 == 0 {
            peak_rss = peak_rss.max(vm_rss_kb(&pid));
        }
    }
    let elapsed = start.elapsed();
    let (received, _healthy) = reader.join().expect("healthy subscriber");
    assert_eq!(received, COUNT);
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)),
        "the stalled subscriber was not disconnected"
    );
    // Only the healthy subscriber is left.
    assert_eq!(receivers_at_end, 1);
    assert_eq!(
        info_field(
            &mut admin,
            "stats",
            "client_output_buffer_limit_disconnections"
        ),
        "1"
    );
    assert_eq!(pubsub_clients(&mut admin), 1);
    let growth_mb = peak_rss.saturating_sub(base_rss) / 1024;
    eprintln!(
        "published {} MiB in {elapsed:.2?} (slowest PUBLISH {slowest:.2?}); RSS {} MiB -> peak {} MiB",
        (COUNT * MSG) >> 20,
        base_rss / 1024,
        peak_rss / 1024
    );
    // The stalled subscriber's buffer is capped at 32 MiB; without the limit the server
    // would hold all 128 MiB for it.
    assert!(growth_mb < 96, "RSS grew by {growth_mb} MiB");
    assert!(
        slowest < Duration::from_secs(2),
        "a PUBLISH stalled for {slowest:?}"
    );
}

#[test]
fn soft_limit_needs_to_be_exceeded_continuously() {
    let shoal = Shoal::start_with(&["--client-output-buffer-limit", "pubsub 0 1mb 1"]);
    let mut admin = shoal.raw();
    admin.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]);
    let mut slow = stalled_subscriber(shoal.port, "c");
    thread::sleep(Duration::from_millis(100));
    let mut publisher = shoal.raw();
    let payload = "y".repeat(64 * 1024);
    // Fill well past the soft limit (and past the kernel's socket buffers).
    for _ in 0..512 {
        publisher.cmd(&["PUBLISH", "c", &payload]);
    }
    // Over the soft limit, but not for a second yet: still connected.
    assert_eq!(pubsub_clients(&mut admin), 1);
    // Stay over it for more than a second: disconnected at the next message.
    thread::sleep(Duration::from_millis(1300));
    publisher.cmd(&["PUBLISH", "c", "z"]);
    assert!(closed_within(&mut slow, Duration::from_secs(5)));
    assert_eq!(
        info_field(
            &mut admin,
            "stats",
            "client_output_buffer_limit_disconnections"
        ),
        "1"
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "c", "z"]), Frame::Integer(0));
}

#[test]
fn limits_are_configurable_at_run_time() {
    let shoal = Shoal::start();
    let mut admin = shoal.raw();
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 2mb 0 0"
        ]),
        Frame::ok()
    );
    let mut slow = stalled_subscriber(shoal.port, "c");
    thread::sleep(Duration::from_millis(100));
    let mut publisher = shoal.raw();
    let payload = "y".repeat(64 * 1024);
    let mut last = Frame::Null;
    for _ in 0..400 {
        last = publisher.cmd(&["PUBLISH", "c", &payload]);
    }
    assert_eq!(last, Frame::Integer(0));
    assert!(closed_within(&mut slow, Duration::from_secs(5)));
}
