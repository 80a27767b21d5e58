//! The `shoal` binary: a Redis-protocol broker node.

mod blocking;
mod cmd;
mod config;
mod connection;
mod state;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use shoal_core::{Command, Ctx, Db};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::{Cli, Config};
use crate::state::{ClientInfo, Shared, lock, unix_ms};

fn main() {
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

async fn run(config: Config) -> std::io::Result<()> {
    let addr = format!("{}:{}", config.bind, config.port);
    let listener = TcpListener::bind(&addr).await?;
    let mut db = Db::new();
    if let Some((classes, k, e)) = config::parse_notify_flags(&config.notify_keyspace_events)
        && (k || e)
    {
        db.notify_classes = classes;
    }
    let shared = Arc::new(Shared::new(config, db));
    {
        let (k, e) = config::parse_notify_flags(&shared.config.notify_keyspace_events)
            .map(|(_, k, e)| (k, e))
            .unwrap_or_default();
        let mut rt = shared.runtime.write().unwrap_or_else(|e| e.into_inner());
        rt.notify_keyspace = k;
        rt.notify_keyevent = e;
    }
    info!(
        "shoal {} listening on {addr} (cluster of one, node {}); data is held in memory",
        env!("CARGO_PKG_VERSION"),
        shared.node_id
    );
    tokio::spawn(active_expire(shared.clone()));
    let shutdown = tokio::signal::ctrl_c();
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
            kill: Default::default(),
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

/// Deletes expired keys in the background, as Redis's active expire cycle: every 100 ms,
/// in bounded batches so a burst of expiries never stalls clients for long.
async fn active_expire(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        for _ in 0..10 {
            let now = unix_ms();
            let mut shard = lock(&shared.shard);
            if shard.db.next_deadline().is_none_or(|d| d >= now) {
                break;
            }
            let ctx = Ctx {
                now_ms: now,
                ..Ctx::default()
            };
            let cmd =
                Command::Generic(shoal_core::generic::GenericCommand::PurgeExpired { limit: 200 });
            let reply = cmd.apply(&mut shard.db, &ctx);
            // "expired" keyspace notifications.
            if shard.db.notify_classes != 0 {
                let events = shard.db.take_events();
                cmd::pubsub::publish_key_events(&shared, events);
            }
            if let shoal_core::Reply::Frame(shoal_resp::Frame::Integer(n)) = reply {
                shared
                    .stats
                    .expired_keys
                    .fetch_add(n as u64, Ordering::Relaxed);
                // An expired stream ends the wait of clients blocked in XREADGROUP on it
                // (-UNBLOCKED), at once, as Redis's expire cycle does.
                let shard = &mut *shard;
                if !shard.blocked.is_empty() {
                    shard.blocked.serve(&mut shard.db, now, 0);
                    shard.db.track_ready = !shard.blocked.is_empty();
                }
                if n < 200 {
                    break;
                }
            }
        }
    }
}
