//! The embedded default is durable: `shoal` with nothing but `--port` and `--data-dir`
//! (a cluster of one, `--fsync always`) keeps every acknowledged write across `kill -9`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Node, free_port, temp_dir};
use redis::Commands;
use redis::streams::{StreamPendingCountReply, StreamRangeReply};

type State = (
    Option<String>,
    i64,
    Vec<String>,
    HashMap<String, String>,
    Vec<String>,
    Vec<String>,
    i64,
);

fn state(c: &mut redis::Connection) -> State {
    let s: Option<String> = c.get("greeting").unwrap();
    let counter: i64 = c.get("counter").unwrap();
    let list: Vec<String> = c.lrange("jobs", 0, -1).unwrap();
    let hash: HashMap<String, String> = c.hgetall("user:1").unwrap();
    let stream: StreamRangeReply = c.xrange_all("events").unwrap();
    let pending: StreamPendingCountReply = redis::cmd("XPENDING")
        .arg("events")
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(100)
        .query(c)
        .unwrap();
    let dbsize: i64 = redis::cmd("DBSIZE").query(c).unwrap();
    (
        s,
        counter,
        list,
        hash,
        stream.ids.into_iter().map(|e| e.id).collect(),
        pending.ids.into_iter().map(|p| p.id).collect(),
        dbsize,
    )
}

#[test]
fn default_single_node_survives_kill_9() {
    let dir = temp_dir("single");
    let mut node = Node::new(1, free_port(), 0, dir.join("data"), vec![]);
    node.start();
    let mut c = node.conn();
    let _: () = c.set("greeting", "hello").unwrap();
    for _ in 0..10 {
        let _: i64 = c.incr("counter", 1).unwrap();
    }
    let _: () = c.rpush("jobs", &["a", "b", "c", "d"]).unwrap();
    let _: String = c.lpop("jobs", None).unwrap();
    let _: () = c
        .hset_multiple("user:1", &[("name", "ada"), ("lang", "rust")])
        .unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("events")
        .arg("g")
        .arg("$")
        .arg("MKSTREAM")
        .query(&mut c)
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..10 {
        let id: String = c.xadd("events", "*", &[("i", i)]).unwrap();
        ids.push(id);
    }
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("COUNT")
        .arg(6)
        .arg("STREAMS")
        .arg("events")
        .arg(">")
        .query(&mut c)
        .unwrap();
    let acked: i64 = c.xack("events", "g", &ids[..4]).unwrap();
    assert_eq!(acked, 4);
    let before = state(&mut c);
    assert_eq!(before.4, ids);
    assert_eq!(before.5, ids[4..6].to_vec());
    drop(c);

    node.kill();
    node.start();
    let mut c = node.conn();
    let after = state(&mut c);
    assert_eq!(after, before);
    assert_eq!(after.0.as_deref(), Some("hello"));
    assert_eq!(after.1, 10);
    assert_eq!(after.2, vec!["b", "c", "d"]);
    // The group goes on from where it was: the next read delivers entry 7.
    let next: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg("events")
        .arg(">")
        .query(&mut c)
        .unwrap();
    assert_eq!(next.keys[0].ids[0].id, ids[6]);
    // And a second crash right after keeps that read, too.
    node.kill();
    node.start();
    let mut c = node.conn();
    let pending: StreamPendingCountReply = redis::cmd("XPENDING")
        .arg("events")
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(100)
        .query(&mut c)
        .unwrap();
    assert_eq!(pending.ids.len(), 3);
    std::thread::sleep(Duration::from_millis(10));
    node.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM (docker stop, systemd, Kubernetes) is a clean shutdown, as in Redis: the
/// process exits 0 and, under `--fsync everysec`, writes acknowledged just before it are
/// on disk after it (the final flush), not up to a second of them lost.
#[test]
fn sigterm_shuts_down_cleanly_and_keeps_everysec_writes() {
    let dir = temp_dir("sigterm");
    let args = vec!["--fsync".to_string(), "everysec".to_string()];
    let mut node = Node::new(1, free_port(), 0, dir.join("data"), args);
    node.start();
    let mut c = node.conn();
    for i in 0..500 {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    drop(c);
    let status = node.terminate();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    node.start();
    let mut c = node.conn();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 500);
    let last: i64 = c.get("k499").unwrap();
    assert_eq!(last, 499);
    node.kill();
}
