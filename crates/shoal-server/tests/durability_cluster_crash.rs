//! `kill -9` every node of a three-node cluster at the same moment, in the middle of a
//! write load, with `--fsync always`: after all three restart, nothing that was
//! acknowledged is lost (stream entries and string writes), on any node.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Cluster, stream_digest};
use redis::Commands;
use redis::streams::StreamRangeReply;

#[test]
fn whole_cluster_crash_loses_nothing_acknowledged() {
    let mut cluster = Cluster::start(3, &["--fsync", "always"]);
    let stop = Arc::new(AtomicBool::new(false));
    // Acknowledged (stream, id) and (key, value) pairs.
    let acked_ids = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let acked_sets = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    // Several writers, so the leader batches many clients' commands into one entry.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let client = cluster.client();
            let (stop, ids, sets) = (stop.clone(), acked_ids.clone(), acked_sets.clone());
            std::thread::spawn(move || {
                let Ok(mut c) = client.get_connection() else {
                    return;
                };
                let stream = format!("s{w}");
                for i in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    match c.xadd::<_, _, _, _, String>(&stream, "*", &[("i", i)]) {
                        Ok(id) => ids.lock().unwrap().push((stream.clone(), id)),
                        Err(_) => return,
                    }
                    let key = format!("w{w}:{}", i % 100);
                    match c.set::<_, _, ()>(&key, i) {
                        Ok(()) => sets.lock().unwrap().push((key, i)),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let before = acked_ids.lock().unwrap().len();
    cluster.kill_all();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let ids = acked_ids.lock().unwrap().clone();
    let sets = acked_sets.lock().unwrap().clone();
    eprintln!(
        "killed all nodes with {before} XADDs acknowledged ({} by the time the writers saw the crash), {} SETs",
        ids.len(),
        sets.len()
    );
    assert!(ids.len() > 100, "too little load: {}", ids.len());

    let t = Instant::now();
    cluster.start_all();
    cluster.wait_serving(Duration::from_secs(30));
    eprintln!("cluster serving again {:?} after the restart", t.elapsed());

    // Last acknowledged value of each key.
    let mut last = std::collections::HashMap::new();
    for (k, v) in &sets {
        last.insert(k.clone(), *v);
    }
    let streams: Vec<String> = (0..4).map(|w| format!("s{w}")).collect();
    let digests = cluster.converge(Duration::from_secs(20), |c| {
        streams
            .iter()
            .map(|s| stream_digest(c, s))
            .collect::<redis::RedisResult<Vec<_>>>()
    });
    eprintln!("all nodes agree on the streams: {digests:?}");
    for n in &cluster.nodes {
        let mut c = n.readonly();
        for s in &streams {
            let all: StreamRangeReply = c.xrange_all(s).unwrap();
            let present: HashSet<String> = all.ids.into_iter().map(|e| e.id).collect();
            for (_, id) in ids.iter().filter(|(st, _)| st == s) {
                assert!(
                    present.contains(id),
                    "node {}: acknowledged {s} {id} lost",
                    n.id
                );
            }
        }
        for (k, v) in &last {
            // A later, unacknowledged SET of the same key may have committed: never
            // an older value than the last acknowledged one.
            let got: u64 = c.get(k).unwrap();
            assert!(got >= *v, "node {}: {k} = {got}, acknowledged {v}", n.id);
        }
    }
}
