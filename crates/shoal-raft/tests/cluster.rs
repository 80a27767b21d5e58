//! Three in-process nodes over real gRPC on loopback, with real sled
//! storage in temporary directories.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use openraft::SnapshotPolicy;
use openraft::async_runtime::watch::WatchReceiver;
use shoal_core::Ctx;
use shoal_raft::Batch;
use shoal_raft::CommandReply;
use shoal_raft::Error;
use shoal_raft::Node;
use shoal_raft::NodeConfig;
use shoal_raft::NodeInfo;
use shoal_raft::Proposal;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

const GROUP: u64 = 1;

fn info(addr: SocketAddr) -> NodeInfo {
    NodeInfo {
        client_addr: format!("127.0.0.1:{}", addr.port() - 1000),
        cluster_addr: addr.to_string(),
    }
}

fn config(id: u64, dir: &Path) -> NodeConfig {
    let mut c = NodeConfig::new(id, dir);
    // Small snapshot threshold, so that a node that was down catches up by
    // snapshot install and restarts from snapshot + log tail.
    c.raft.snapshot_policy = SnapshotPolicy::LogsSinceLast(40);
    c.raft.max_in_snapshot_log_to_keep = 5;
    c.raft.purge_batch_size = 1;
    c
}

async fn start(id: u64, dir: &Path, listener: tokio::net::TcpListener) -> Result<Node, BoxErr> {
    let t = Instant::now();
    let node = loop {
        match Node::open(config(id, dir)).await {
            Ok(n) => break n,
            // Only in-process: the previous incarnation's tasks may still
            // hold the database lock for a moment after shutdown.
            Err(_) if t.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => return Err(e.into()),
        }
    };
    node.serve(listener);
    for g in node.stored_groups() {
        node.start_group(g).await?;
    }
    node.start_group(GROUP).await?;
    Ok(node)
}

fn cmd(args: &[&str], now_ms: u64) -> Proposal {
    Proposal::new(
        args.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect(),
        Ctx {
            now_ms,
            resp3: false,
            may_block: false,
            seed: now_ms,
        },
    )
}

/// A batch of SETs and XADDs, numbered from `start`.
fn batch(start: u64, n: u64) -> Batch {
    let mut v = Vec::new();
    for i in start..start + n {
        let (k, val) = (format!("key:{i}"), format!("value:{i}"));
        v.push(cmd(&["SET", &k, &val], 1_700_000_000_000 + i));
        v.push(cmd(
            &["XADD", "stream", "*", "n", &i.to_string()],
            1_700_000_000_000 + i,
        ));
    }
    Batch::new(v)
}

async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Result<T, BoxErr> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The leader all `nodes` agree on.
async fn agreed_leader(nodes: &[&Node]) -> Result<u64, BoxErr> {
    wait_for("a leader", Duration::from_secs(10), || {
        let leaders: Vec<Option<u64>> = nodes
            .iter()
            .map(|n| n.leader(GROUP).ok().flatten().map(|(id, _)| id))
            .collect();
        let first = leaders[0]?;
        let live: Vec<u64> = nodes.iter().map(|n| n.id()).collect();
        (live.contains(&first) && leaders.iter().all(|l| *l == Some(first))).then_some(first)
    })
    .await
}

/// Waits until every node applied the same index, then compares keyspaces
/// byte for byte.
async fn converged(nodes: &[&Node]) -> Result<Vec<u8>, BoxErr> {
    wait_for("replicas to converge", Duration::from_secs(15), || {
        let snaps: Vec<Vec<u8>> = nodes
            .iter()
            .map(|n| n.with_db(GROUP, |db| db.encode_snapshot()))
            .collect::<Result<_, _>>()
            .ok()?;
        let applied: Vec<Option<u64>> = nodes
            .iter()
            .map(|n| n.applied_index(GROUP).ok().flatten())
            .collect();
        (applied.iter().all(|a| *a == applied[0]) && snaps.iter().all(|s| *s == snaps[0]))
            .then(|| snaps[0].clone())
    })
    .await
}

fn expect_ok(replies: &[CommandReply]) -> Result<(), BoxErr> {
    for r in replies {
        match r {
            CommandReply::Frame(b) if !b.starts_with(b"-") => {}
            other => return Err(format!("unexpected reply {other:?}").into()),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_replicate_fail_over_and_catch_up() -> Result<(), BoxErr> {
    let dirs: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir())
        .collect::<Result<_, _>>()?;
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(l.local_addr()?);
        listeners.push(l);
    }
    let members: BTreeMap<u64, NodeInfo> = (1..=3)
        .map(|id| (id, info(addrs[id as usize - 1])))
        .collect();
    let mut nodes: Vec<Option<Node>> = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        nodes.push(Some(start(i as u64 + 1, dirs[i].path(), l).await?));
    }
    let node = |nodes: &Vec<Option<Node>>, id: u64| -> Result<Node, BoxErr> {
        nodes[id as usize - 1]
            .clone()
            .ok_or_else(|| format!("node {id} is down").into())
    };
    // Initialize twice, as every boot of a real cluster would: idempotent.
    node(&nodes, 1)?.initialize(GROUP, members.clone()).await?;
    node(&nodes, 1)?.initialize(GROUP, members.clone()).await?;

    let all: Vec<Node> = nodes.iter().flatten().cloned().collect();
    let leader_id = agreed_leader(&all.iter().collect::<Vec<_>>()).await?;
    let leader = node(&nodes, leader_id)?;
    assert_eq!(
        leader.leader(GROUP)?,
        Some((leader_id, members[&leader_id].clone()))
    );

    // Replicate batches; each command gets its own reply.
    let mut next = 0;
    for _ in 0..10 {
        let replies = leader.propose(GROUP, batch(next, 5)).await?;
        assert_eq!(replies.len(), 10);
        assert_eq!(
            replies[0],
            CommandReply::Frame(Bytes::from_static(b"+OK\r\n"))
        );
        expect_ok(&replies)?;
        next += 5;
    }
    leader.ensure_linearizable(GROUP).await?;
    let n_keys = leader.with_db(GROUP, |db| db.len())?;
    assert_eq!(n_keys, next as usize + 1, "{next} strings and one stream");
    converged(&all.iter().collect::<Vec<_>>()).await?;

    // A follower refuses writes and names the leader (for -MOVED).
    let follower_id = (1..=3).find(|id| *id != leader_id).ok_or("no follower")?;
    match node(&nodes, follower_id)?
        .propose(GROUP, batch(1000, 1))
        .await
    {
        Err(Error::NotLeader {
            leader: Some((id, info)),
            ..
        }) => {
            assert_eq!(id, leader_id);
            assert_eq!(info, members[&leader_id]);
        }
        other => return Err(format!("follower accepted a write: {other:?}").into()),
    }
    assert!(matches!(
        node(&nodes, follower_id)?.ensure_linearizable(GROUP).await,
        Err(Error::NotLeader { .. })
    ));

    // Kill the leader (drop every handle on it).
    drop(all);
    leader.shutdown().await;
    drop(leader);
    nodes[leader_id as usize - 1] = None;
    let killed_at = Instant::now();
    let live: Vec<Node> = nodes.iter().flatten().cloned().collect();
    let new_leader_id = agreed_leader(&live.iter().collect::<Vec<_>>()).await?;
    assert_ne!(new_leader_id, leader_id);
    let new_leader = node(&nodes, new_leader_id)?;
    // Writes go through on the new leader (retry while it settles in).
    let replies = loop {
        match new_leader.propose(GROUP, batch(next, 5)).await {
            Ok(r) => break r,
            Err(e) if killed_at.elapsed() < Duration::from_secs(10) => {
                eprintln!("retrying after {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    expect_ok(&replies)?;
    eprintln!(
        "new leader {new_leader_id} took a write {:?} after the kill",
        killed_at.elapsed()
    );
    next += 5;
    // Enough entries while the old leader is down to snapshot and purge
    // past it: it must catch up by snapshot install.
    for _ in 0..30 {
        expect_ok(&new_leader.propose(GROUP, batch(next, 3)).await?)?;
        next += 3;
    }
    wait_for(
        "a snapshot on the new leader",
        Duration::from_secs(10),
        || {
            new_leader
                .raft(GROUP)
                .ok()?
                .metrics()
                .borrow_watched()
                .purged
                .map(|_| ())
        },
    )
    .await?;

    // Restart the old leader from its directory, on its old address.
    let listener = tokio::net::TcpListener::bind(addrs[leader_id as usize - 1]).await?;
    let restarted = start(leader_id, dirs[leader_id as usize - 1].path(), listener).await?;
    nodes[leader_id as usize - 1] = Some(restarted.clone());
    let all: Vec<Node> = nodes.iter().flatten().cloned().collect();
    let image = converged(&all.iter().collect::<Vec<_>>()).await?;
    let snap = restarted.raft(GROUP)?.metrics().borrow_watched().snapshot;
    assert!(snap.is_some(), "the restarted node should hold a snapshot");
    new_leader.ensure_linearizable(GROUP).await?;
    assert_eq!(new_leader.with_db(GROUP, |db| db.len())?, next as usize + 1);

    // Restart a follower with everything down to disk: it recovers from its
    // own snapshot file plus log tail, to the same image.
    let f = (1..=3)
        .find(|id| *id != new_leader_id)
        .ok_or("no follower")?;
    drop(all);
    drop(restarted);
    let fnode = node(&nodes, f)?;
    fnode.shutdown().await;
    drop(fnode);
    nodes[f as usize - 1] = None;
    let listener = tokio::net::TcpListener::bind(addrs[f as usize - 1]).await?;
    let back = start(f, dirs[f as usize - 1].path(), listener).await?;
    nodes[f as usize - 1] = Some(back.clone());
    let all: Vec<Node> = nodes.iter().flatten().cloned().collect();
    assert_eq!(converged(&all.iter().collect::<Vec<_>>()).await?, image);

    for n in nodes.iter().flatten() {
        n.shutdown().await;
    }
    Ok(())
}
