//! The cluster bus (gRPC over HTTP/2) of a running three-node cluster receives junk: random
//! bytes, a truncated HTTP/2 preface left hanging, a preface followed by malformed frames,
//! idle connections that never speak. None of it may crash a node, trigger an election or
//! stop the cluster from serving writes. (Malformed gRPC messages, RPCs for unknown groups
//! and votes from unknown nodes are covered in-process by crates/shoal-raft/tests.)

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Cluster;
use redis::Commands;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn junk(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn send(port: u16, bytes: &[u8]) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    // The peer may reset the connection half-way: that is its right.
    let _ = s.write_all(bytes);
    Some(s)
}

#[test]
fn junk_on_the_cluster_bus_does_not_disturb_the_cluster() {
    let mut cluster = Cluster::start(3, &[]);
    let leader = cluster.leader(Duration::from_secs(10));
    let term = cluster.nodes[leader].term();
    let client = cluster.client();
    let mut c = client.get_connection().unwrap();

    let t = Instant::now();
    let mut held = Vec::new();
    for round in 0..5u64 {
        for n in &cluster.nodes {
            let cport = n.cport;
            // Random bytes, closed at once.
            drop(send(cport, &junk(round * 7 + n.id, 64 * 1024)));
            // Half a preface, left open.
            held.extend(send(cport, &PREFACE[..10]));
            // A whole preface, then a frame header claiming 16 MiB and a few bytes.
            let mut bad = PREFACE.to_vec();
            bad.extend_from_slice(&[0xff, 0xff, 0xff, 0x04, 0x00, 0, 0, 0, 0, 1, 2, 3]);
            drop(send(cport, &bad));
            // A preface, an empty SETTINGS, then HEADERS with garbage HPACK for a
            // gRPC path, closed without waiting for the reply.
            let mut h = PREFACE.to_vec();
            h.extend_from_slice(&[0, 0, 0, 0x04, 0, 0, 0, 0, 0]);
            let block = junk(round + 99, 40);
            h.extend_from_slice(&[0, 0, block.len() as u8, 0x01, 0x04, 0, 0, 0, 1]);
            h.extend_from_slice(&block);
            drop(send(cport, &h));
            // Idle connections that never say anything.
            held.extend(send(cport, b""));
        }
        // The cluster keeps serving writes while all that happens.
        for i in 0..20 {
            let _: String = c
                .xadd("after-junk", "*", &[("round", round), ("i", i)])
                .unwrap();
        }
    }
    eprintln!(
        "sent junk to every cluster port while writing, {:?}; {} connections held open",
        t.elapsed(),
        held.len()
    );
    // Longer than an election timeout with the junk connections still open.
    std::thread::sleep(Duration::from_millis(1500));
    for i in 0..20 {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    drop(held);

    for n in cluster.nodes.iter_mut() {
        assert!(n.alive(), "node {} died", n.id);
    }
    assert_eq!(
        cluster.leader(Duration::from_secs(2)),
        leader,
        "leadership moved"
    );
    assert_eq!(cluster.nodes[leader].term(), term, "an election happened");
    let len = cluster.converge(Duration::from_secs(10), |c| c.xlen::<_, i64>("after-junk"));
    assert_eq!(len, 100);
}
