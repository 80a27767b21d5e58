//! Delivery order: several publishers pipeline numbered messages; every subscriber
//! (RESP2, RESP3, pattern) must see each publisher's messages complete and in publish
//! order. Also reports the fan-out rate.

mod common;
use std::thread;
use std::time::{Duration, Instant};

use common::{Raw, Shoal};
use shoal_resp::Frame;

const PUBLISHERS: usize = 3;
const PER_PUBLISHER: usize = 20_000;
const BATCH: usize = 500;

fn payload(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Array(v) | Frame::Push(v) => match v.last() {
            Some(Frame::Bulk(b)) => b.to_vec(),
            other => panic!("bad message {other:?}"),
        },
        other => panic!("bad message {other:?}"),
    }
}

#[test]
fn each_subscriber_sees_each_publishers_order() {
    let shoal = Shoal::start();
    // (resp3, pattern)
    let kinds = [(false, false), (false, false), (true, false), (false, true)];
    let mut subs = Vec::new();
    for (resp3, pattern) in kinds {
        let mut c = shoal.raw();
        if resp3 {
            c.cmd(&["HELLO", "3"]);
        }
        if pattern {
            c.cmd(&["PSUBSCRIBE", "ord*"]);
        } else {
            c.cmd(&["SUBSCRIBE", "ord"]);
        }
        subs.push(thread::spawn(move || {
            let mut next = [0usize; PUBLISHERS];
            for _ in 0..PUBLISHERS * PER_PUBLISHER {
                let p = payload(&c.read());
                let text = String::from_utf8_lossy(&p);
                let (who, seq) = text.split_once(':').expect("who:seq");
                let who: usize = who.parse().expect("publisher");
                let seq: usize = seq.parse().expect("seq");
                assert_eq!(
                    seq, next[who],
                    "subscriber (resp3={resp3}, pattern={pattern}): publisher {who} out of order"
                );
                next[who] += 1;
            }
            next
        }));
    }
    let start = Instant::now();
    let pubs: Vec<_> = (0..PUBLISHERS)
        .map(|who| {
            let mut c: Raw = shoal.raw();
            thread::spawn(move || {
                let mut seq = 0;
                while seq < PER_PUBLISHER {
                    let n = BATCH.min(PER_PUBLISHER - seq);
                    for i in 0..n {
                        let msg = format!("{who}:{}", seq + i);
                        c.send(&["PUBLISH", "ord", &msg]);
                    }
                    for _ in 0..n {
                        assert_eq!(c.read(), Frame::Integer(4));
                    }
                    seq += n;
                }
            })
        })
        .collect();
    for p in pubs {
        p.join().expect("publisher");
    }
    for s in subs {
        let seen = s.join().expect("subscriber");
        assert_eq!(seen, [PER_PUBLISHER; PUBLISHERS]);
    }
    let elapsed = start.elapsed().max(Duration::from_millis(1));
    let delivered = (PUBLISHERS * PER_PUBLISHER * kinds.len()) as f64;
    eprintln!(
        "fan-out: {} messages published, {delivered} delivered in {:.2?} ({:.0} deliveries/s)",
        PUBLISHERS * PER_PUBLISHER,
        elapsed,
        delivered / elapsed.as_secs_f64()
    );
}
