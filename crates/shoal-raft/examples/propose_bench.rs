//! Replicated write throughput and latency of a three-node group on loopback.
//!
//! `cargo run -p shoal-raft --example propose_bench -- [clients] [commands-per-proposal] [seconds] [always|everysec|no]`
//!
//! Each client proposes one batch at a time (an XADD per command) and waits
//! for its replies, so in-flight proposals = clients: group commit and
//! openraft's pipelining are what make throughput exceed 1 / fsync latency.

use std::collections::BTreeMap;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use shoal_core::Ctx;
use shoal_raft::Batch;
use shoal_raft::FsyncPolicy;
use shoal_raft::Node;
use shoal_raft::NodeConfig;
use shoal_raft::NodeInfo;
use shoal_raft::Proposal;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxErr> {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).map_or(Ok(50), |a| a.parse())?;
    let per: usize = args.get(2).map_or(Ok(1), |a| a.parse())?;
    let secs: u64 = args.get(3).map_or(Ok(5), |a| a.parse())?;
    let fsync: FsyncPolicy = args.get(4).map_or(Ok(FsyncPolicy::Always), |a| a.parse())?;

    let dirs: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir())
        .collect::<Result<_, _>>()?;
    let mut members = BTreeMap::new();
    let mut nodes = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let id = i as u64 + 1;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let mut cfg = NodeConfig::new(id, dir.path());
        cfg.fsync = fsync;
        let node = Node::open(cfg).await?;
        node.serve(listener);
        node.start_group(1).await?;
        members.insert(
            id,
            NodeInfo {
                client_addr: addr.clone(),
                cluster_addr: addr,
            },
        );
        nodes.push(node);
    }
    nodes[0].initialize(1, members).await?;
    let leader = loop {
        if let Some(n) = nodes.iter().find(|n| n.is_leader(1).unwrap_or(false)) {
            break n.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let leader = leader.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut seq = 0u64;
            while Instant::now() < deadline {
                let cmds = (0..per)
                    .map(|_| {
                        seq += 1;
                        let args = vec![
                            Bytes::from("XADD"),
                            Bytes::from(format!("s{c}")),
                            Bytes::from("*"),
                            Bytes::from("f"),
                            Bytes::from(seq.to_string()),
                        ];
                        Proposal::new(
                            args,
                            Ctx {
                                now_ms: seq,
                                ..Default::default()
                            },
                        )
                    })
                    .collect();
                let t = Instant::now();
                leader.propose(1, Batch::new(cmds)).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, shoal_raft::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
    };
    println!(
        "fsync={fsync:?} clients={clients} commands/proposal={per}: {} proposals, {:.0} commands/s, p50 {:?}, p99 {:?}",
        lat.len(),
        (lat.len() * per) as f64 / elapsed.as_secs_f64(),
        pct(0.50).unwrap_or_default(),
        pct(0.99).unwrap_or_default(),
    );
    for n in &nodes {
        n.shutdown().await;
    }
    Ok(())
}
