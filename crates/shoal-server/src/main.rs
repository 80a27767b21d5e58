//! The `shoal` binary: a Redis-protocol broker node.

mod blocking;
mod cmd;
mod config;
mod connection;
mod shard;
mod state;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use std::collections::BTreeMap;

use shoal_core::Ctx;
use shoal_raft::{CommandReply, Node, NodeConfig, NodeInfo, Proposal};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::{Cli, Config};
use crate::shard::ShardHandle;
use crate::state::{ClientInfo, Shared, lock, unix_ms};

fn main() {
    tune_malloc();
    let cli = Cli::parse();
    let config = match Config::load(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shoal: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log_level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.io_threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shoal: cannot start runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(config)) {
        eprintln!("shoal: {e}");
        std::process::exit(1);
    }
}

async fn run(config: Config) -> Result<(), String> {
    let addr = format!("{}:{}", config.bind, config.port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bus_addr = format!("{}:{}", config.bind, config.cluster_port);
    let bus = TcpListener::bind(&bus_addr)
        .await
        .map_err(|e| format!("cannot listen on cluster bus {bus_addr}: {e}"))?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;

    // The Raft side: storage, the shard's group, the cluster bus.
    let mut node_config = NodeConfig::new(config.node_id, &config.data_dir);
    node_config.fsync = config.fsync_policy;
    node_config.snapshot_every(config.snapshot_entries);
    let node = Node::open(node_config)
        .await
        .map_err(|e| format!("cannot open data dir {}: {e}", config.data_dir.display()))?;
    node.serve(bus);
    node.start_group(shard::GROUP)
        .await
        .map_err(|e| format!("cannot start the shard: {e}"))?;
    let members: BTreeMap<u64, NodeInfo> = config
        .initial_cluster
        .iter()
        .map(|m| {
            (
                m.id,
                NodeInfo {
                    client_addr: m.client_addr.clone(),
                    cluster_addr: m.cluster_addr.clone(),
                },
            )
        })
        .collect();
    // Every node initializes with the same membership: a no-op once the group has a log,
    // so the cluster bootstraps exactly once and restarts are safe.
    node.initialize(shard::GROUP, members)
        .await
        .map_err(|e| format!("cannot initialize the shard: {e}"))?;
    if config.initial_cluster.len() == 1 {
        // A cluster of one need not wait out an election timeout to lead.
        if let Ok(raft) = node.raft(shard::GROUP) {
            let _ = raft.trigger().elect(false).await;
        }
    }
    let handle = ShardHandle::start(node.clone(), shard::GROUP)
        .map_err(|e| format!("cannot start the shard: {e}"))?;
    // Serve clients once a leader is known (a restarting single node replays its log
    // first), or after a few seconds regardless: a node of a cluster that has not formed
    // yet still answers, with CLUSTERDOWN.
    handle.wait_for_leader(Duration::from_secs(5)).await;

    let node_id = config.node_id;
    let notify = config::parse_notify_flags(&config.notify_keyspace_events);
    let shared = Arc::new(Shared::new(config, handle, node_id));
    if let Some((classes, k, e)) = notify {
        if k || e {
            shared.shard.with_db(|db| db.notify_classes = classes);
        }
        let mut rt = shared.runtime.write().unwrap_or_else(|e| e.into_inner());
        rt.notify_keyspace = k;
        rt.notify_keyevent = e;
    }
    info!(
        "shoal {} listening on {addr} (node {node_id}, cluster bus {bus_addr}, fsync {}, data in {})",
        env!("CARGO_PKG_VERSION"),
        shared.config.fsync,
        shared.config.data_dir.display(),
    );
    tokio::spawn(effects_loop(shared.clone()));
    tokio::spawn(active_expire(shared.clone()));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => {
                info!("shutting down");
                node.shutdown().await;
                return Ok(());
            }
        };
        let laddr = socket.local_addr().unwrap_or(peer);
        let maxclients = shared.runtime().maxclients;
        if lock(&shared.clients).len() >= maxclients {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut socket = socket;
                let _ = socket
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        }
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(ClientInfo {
            id,
            addr: peer,
            laddr,
            created: Instant::now(),
            name: Default::default(),
            lib_name: Default::default(),
            lib_ver: Default::default(),
            last_interaction_ms: shared.uptime_ms().into(),
            last_cmd: Default::default(),
            resp: 2.into(),
            in_multi: 0.into(),
            outbox: Arc::new(shoal_pubsub::Outbox::new(false)),
            killed: 0.into(),
        });
        lock(&shared.clients).insert(id, info.clone());
        shared
            .stats
            .total_connections
            .fetch_add(1, Ordering::Relaxed);
        let shared2 = shared.clone();
        tokio::spawn(async move {
            connection::serve(shared2.clone(), socket, info).await;
            lock(&shared2.clients).remove(&id);
        });
    }
}

/// Resolves on SIGINT or SIGTERM. SIGTERM is what `docker stop`, systemd and Kubernetes
/// send: it must shut down as cleanly as Ctrl-C (Redis treats both as SHUTDOWN), not
/// end the process where it stands.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                warn!("cannot watch SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Bytes of applied commands after which a node snapshots its keyspace and purges its log,
/// whatever the entry count (entries carry batches of any size), unless the last snapshot
/// was bigger (`Node::snapshot_if_log_exceeds`).
const SNAPSHOT_LOG_BYTES: u64 = 4 << 20;
/// The same once writes have paused for a second.
const IDLE_SNAPSHOT_LOG_BYTES: u64 = 1 << 20;

/// Hands freed heap pages back to the OS. glibc keeps the pages of freed small chunks
/// mapped, so the log entries a snapshot purged would otherwise stay in RSS for good.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Keeps glibc from hoarding the memory of large transient buffers (snapshot encodings,
/// sled's segment buffers, a stream copied while a snapshot shares it).
///
/// By default glibc raises its mmap threshold to the size of any mmapped block freed, up
/// to 32 MiB, so after the first snapshot such buffers come from the heap, and the long-
/// lived small allocations made meanwhile pin their pages: 1M keys then held ~30% more
/// RSS than the keys need, 1M stream entries twice as much. A fixed 512 KiB threshold
/// keeps big buffers in their own mappings, returned whole on free. Not lower: an entry
/// of ~800 MSETs is ~220 KiB, and at 128 KiB every entry's buffers were mapped, faulted
/// in page by page and unmapped again (MSET -P 16: 400k/s at 2.6 us of CPU a request,
/// 490k/s at 2.1 with 512 KiB; 1M stream entries held 25.0-25.2 MB, 25.4-26.6 with 512
/// KiB, 29.9 with 1 MiB). The trim threshold (which a fixed mmap threshold would leave
/// at the same value) is raised so the heap top is not given back and faulted in again
/// on every burst; `return_freed_memory` trims it after snapshots.
///
/// Two arenas instead of glibc's default of eight per core: every thread that allocates
/// (tokio's workers, sled's I/O pool, the flusher) would otherwise get an arena of its
/// own, each holding freed memory the others cannot reuse. 1M stream entries held 2-5%
/// more RSS with the default (0.99-1.04x Redis over three runs, 0.95-0.97x with two);
/// SET -P 16 throughput was the same either way (3 alternating rounds).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Deletes expired keys in the background, as Redis's active expire cycle: every 100 ms
/// the leader proposes `__purgeexpired` while keys are past their deadline, in bounded
/// batches so a burst of expiries never stalls clients for long. Replicas apply the same
/// deletions from the log (as Redis replicas receive DELs from their master).
async fn active_expire(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut trim_at: Option<tokio::time::Instant> = None;
    // Ticks since the applied index last moved: 10 (a second) means idle.
    let (mut last_applied, mut still) = (None, 0u32);
    loop {
        tick.tick().await;
        let applied = shared
            .shard
            .node
            .applied_index(shared.shard.group)
            .ok()
            .flatten();
        still = if applied == last_applied {
            still + 1
        } else {
            0
        };
        last_applied = applied;
        let idle = still >= 10;
        // Every node compacts its own log once it holds this many bytes of commands, or
        // a smaller amount once writes pause.
        let min = if idle {
            IDLE_SNAPSHOT_LOG_BYTES
        } else {
            SNAPSHOT_LOG_BYTES
        };
        if let Ok(true) = shared
            .shard
            .node
            .snapshot_if_log_exceeds(shared.shard.group, min, idle)
            .await
        {
            // By then the snapshot is written and the log purged.
            trim_at = Some(tokio::time::Instant::now() + Duration::from_secs(1));
        }
        if trim_at.is_some_and(|t| t <= tokio::time::Instant::now()) {
            trim_at = None;
            let _ = tokio::task::spawn_blocking(return_freed_memory).await;
        }
        for _ in 0..10 {
            if !shared.shard.is_leader() {
                break;
            }
            let now = unix_ms();
            let due = shared
                .shard
                .with_db(|db| db.next_deadline().is_some_and(|d| d < now));
            if !due {
                break;
            }
            let ctx = Ctx {
                now_ms: now,
                ..Ctx::default()
            };
            let purge = Proposal::new(shoal_core::generic::purge_expired_args(200), ctx);
            match shared.shard.propose_commands(&[purge]).await {
                Ok(replies) => {
                    let n = match replies.first() {
                        Some(CommandReply::Frame(b)) => parse_integer_reply(b),
                        _ => 0,
                    };
                    shared.stats.expired_keys.fetch_add(n, Ordering::Relaxed);
                    if n < 200 {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
}

/// The value of an encoded `:N` reply (0 for anything else).
fn parse_integer_reply(b: &[u8]) -> u64 {
    b.strip_prefix(b":")
        .and_then(|r| r.strip_suffix(b"\r\n"))
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// Consumes the shard's effects: publishes keyspace events to this node's subscribers
/// (every replica applies every entry, so every node's subscribers hear every event),
/// and retries blocked clients whose keys became ready.
async fn effects_loop(shared: Arc<Shared>) {
    let Ok(mut rx) = shared.shard.node.subscribe_effects(shared.shard.group) else {
        return;
    };
    loop {
        let effects = match rx.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                // Signals were lost: retry everyone rather than leave clients blocked.
                shoal_core::db::Effects {
                    ready: lock(&shared.shard.blocked).keys(),
                    events: Vec::new(),
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        if !effects.events.is_empty() {
            cmd::pubsub::publish_key_events(&shared, effects.events);
        }
        if !effects.ready.is_empty() {
            blocking::serve_ready(&shared.shard, effects.ready).await;
        }
    }
}
