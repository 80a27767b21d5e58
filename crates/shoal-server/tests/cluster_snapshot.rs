//! Snapshots, end to end:
//!
//! - a follower that was down while 100 000 stream entries were written catches up by
//!   snapshot install, to the same data;
//! - a node restarts from its snapshot plus its log tail alone (the other nodes down, so
//!   nothing can come from a leader) to the state it had acknowledged.
//!
//! The leader batches concurrent writes into one Raft entry, so 100 000 stream entries
//! make only a few thousand log entries: at the default `--snapshot-entries 10000` the
//! log would need minutes of unbatched writes to compact past the follower. The test
//! runs with `--snapshot-entries 1000` (the same code path, 100 entries kept after a
//! snapshot) and `--fsync everysec` (which also exercises a follower restarting with a
//! shorter log than it acknowledged); durability under `--fsync always` is what
//! durability_cluster_crash.rs checks.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Cluster, stream_digest};

const STREAMS: usize = 4;
const WRITERS: usize = 16;
const PIPELINE: usize = 8;
const TARGET_ENTRIES: u64 = 100_000;

/// What the test compares across nodes: DBSIZE, a digest of each stream, a sample key.
type Image = (i64, Vec<(usize, u64)>, Option<String>);

fn image(c: &mut redis::Connection) -> redis::RedisResult<Image> {
    let dbsize: i64 = redis::cmd("DBSIZE").query(c)?;
    let streams = (0..STREAMS)
        .map(|s| stream_digest(c, &format!("s{s}")))
        .collect::<redis::RedisResult<_>>()?;
    let k: Option<String> = redis::cmd("GET").arg("last").query(c)?;
    Ok((dbsize, streams, k))
}

/// Writes pipelines of XADDs to the leader from many connections until at least
/// `entries` stream entries were acknowledged and the leader's log grew by `log`.
fn write_load(port: u16, leader: &common::Node, entries: u64, log: u64) -> u64 {
    let start_index = leader.applied();
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (done, count) = (done.clone(), count.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap();
                while !done.load(Ordering::Relaxed) {
                    let mut p = redis::pipe();
                    for i in 0..PIPELINE {
                        p.cmd("XADD")
                            .arg(format!("s{}", (w + i) % STREAMS))
                            .arg("*")
                            .arg("w")
                            .arg(w)
                            .arg("payload")
                            .arg("x".repeat(32))
                            .ignore();
                    }
                    p.cmd("SET").arg("last").arg(w).ignore();
                    let () = p.query(&mut c).expect("pipeline on the leader");
                    count.fetch_add(PIPELINE as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if count.load(Ordering::Relaxed) >= entries && leader.applied() >= start_index + log {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    count.load(Ordering::Relaxed)
}

#[test]
fn lagging_follower_catches_up_by_snapshot_and_restarts_from_snapshot_plus_tail() {
    let mut cluster = Cluster::start(3, &["--fsync", "everysec", "--snapshot-entries", "1000"]);
    let leader = cluster.leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    cluster.node(follower).log_level = Some("warn,shoal_raft=info".into());
    cluster.node(follower).kill();

    let t = Instant::now();
    let port = cluster.nodes[leader].port;
    let from = cluster.nodes[leader].applied();
    // 1 500 log entries: whatever the leader's last snapshot, it snapshots again and
    // purges its log past the follower's position.
    let written = write_load(port, &cluster.nodes[leader], TARGET_ENTRIES, 1_500);
    let to = cluster.nodes[leader].applied();
    eprintln!(
        "follower node {} down; wrote {written} stream entries as {} log entries in {:?}",
        follower + 1,
        to - from,
        t.elapsed()
    );
    let leader_image = image(&mut cluster.nodes[leader].readonly()).unwrap();

    let t = Instant::now();
    cluster.node(follower).start();
    let caught_up = cluster.converge(Duration::from_secs(40), image);
    let catch_up = t.elapsed();
    assert_eq!(caught_up, leader_image);
    let log = cluster.nodes[follower].log();
    assert!(
        log.contains("installed snapshot from the leader"),
        "node {} caught up without a snapshot install; its log:\n{log}",
        follower + 1
    );
    eprintln!(
        "node {} caught up by snapshot install in {catch_up:?}: {} keys, streams {:?}",
        follower + 1,
        caught_up.0,
        caught_up.1
    );

    // A log tail after the last snapshot, then a crash of everything. The node restarts
    // alone: what it serves comes from its own snapshot file and log.
    write_load(port, &cluster.nodes[leader], 2_000, 200);
    let before = cluster.converge(Duration::from_secs(20), image);
    // Everything acknowledged is committed and applied on every node; with everysec,
    // give the flusher a second to put the followers' log tails on disk.
    std::thread::sleep(Duration::from_millis(1500));
    cluster.kill_all();
    let t = Instant::now();
    cluster.node(follower).start();
    let alone = image(&mut cluster.nodes[follower].readonly()).unwrap();
    eprintln!(
        "node {} restarted alone in {:?} from snapshot + log tail",
        follower + 1,
        t.elapsed()
    );
    assert_eq!(alone, before, "restart from snapshot + log tail");
    cluster.start_all();
    cluster.wait_serving(Duration::from_secs(30));
    assert_eq!(cluster.converge(Duration::from_secs(20), image), before);
}
