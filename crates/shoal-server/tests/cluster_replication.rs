//! A three-node cluster replicates what its leader acknowledges: after catch-up every
//! follower serves the same data (read with READONLY, as from a Redis replica).

mod common;

use std::time::{Duration, Instant};

use common::{Cluster, stream_digest};
use redis::Commands;

/// XPENDING's summary form: count, smallest and largest ID, (consumer, count) pairs.
type XPendingSummary = (i64, Option<String>, Option<String>, Vec<(String, String)>);

#[test]
fn acknowledged_writes_reach_every_follower() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.leader(Duration::from_secs(10));
    let mut c = cluster.client().get_connection().unwrap();

    let start = Instant::now();
    for i in 0..200 {
        let _: () = c.set(format!("k{i}"), format!("v{i}")).unwrap();
        let _: String = c.xadd("events", "*", &[("n", i)]).unwrap();
    }
    let _: () = c
        .hset_multiple("h", &[("a", "1"), ("b", "2"), ("c", "3")])
        .unwrap();
    let _: () = c.rpush("l", &[1, 2, 3, 4, 5]).unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("events")
        .arg("g")
        .arg("0")
        .query(&mut c)
        .unwrap();
    // Deliver 50 entries to the group, acknowledge the first 20: PEL of 30.
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("alice")
        .arg("COUNT")
        .arg(50)
        .arg("STREAMS")
        .arg("events")
        .arg(">")
        .query(&mut c)
        .unwrap();
    let ids: Vec<String> = read.keys[0].ids.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 50);
    let acked: i64 = c.xack("events", "g", &ids[..20]).unwrap();
    assert_eq!(acked, 20);
    let written = start.elapsed();

    // Every node, leader included, converges on the same state.
    let state = cluster.converge(Duration::from_secs(10), |c| {
        let dbsize: i64 = redis::cmd("DBSIZE").query(c)?;
        let k7: Option<String> = c.get("k7")?;
        let h: Vec<(String, String)> = c.hgetall("h")?;
        let l: Vec<i64> = c.lrange("l", 0, -1)?;
        let pending: XPendingSummary = redis::cmd("XPENDING").arg("events").arg("g").query(c)?;
        Ok((dbsize, k7, h, l, stream_digest(c, "events")?, pending))
    });
    eprintln!(
        "writes took {written:?}; all nodes equal {:?} after {:?}",
        state.0,
        start.elapsed()
    );
    assert_eq!(state.0, 204); // 200 strings, the stream, the hash, the list, the probe
    assert_eq!(state.1.as_deref(), Some("v7"));
    assert_eq!(state.3, vec![1, 2, 3, 4, 5]);
    assert_eq!(state.4.0, 200);
    assert_eq!(state.5.0, 30);

    // Followers refuse writes with MOVED to the leader and serve reads only after READONLY.
    for (i, n) in cluster.nodes.iter().enumerate() {
        if i == leader {
            continue;
        }
        let mut plain = n.conn();
        let err = redis::cmd("SET")
            .arg("k1")
            .arg("x")
            .query::<()>(&mut plain)
            .unwrap_err();
        let leader_addr = format!("127.0.0.1:{}", cluster.nodes[leader].port);
        // The redirect names the key's slot, as Redis Cluster's does.
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg("k1")
            .query(&mut plain)
            .unwrap();
        let moved = format!("{slot} {leader_addr}");
        assert!(
            err.to_string().to_uppercase().contains("MOVED") && err.to_string().contains(&moved),
            "{err}"
        );
        let err = redis::cmd("GET")
            .arg("k1")
            .query::<String>(&mut plain)
            .unwrap_err();
        assert!(
            err.to_string().to_uppercase().contains("MOVED") && err.to_string().contains(&moved),
            "{err}"
        );
        let v: String = n.readonly().get("k1").unwrap();
        assert_eq!(v, "v1");
    }
}
