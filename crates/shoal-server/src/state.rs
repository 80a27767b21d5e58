//! State shared by every connection of a node.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use shoal_pubsub::Outbox;

use crate::config::Config;
use crate::shard::ShardHandle;

/// Settings CONFIG SET may change at run time.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub requirepass: Option<String>,
    pub maxclients: usize,
    pub notify_keyspace: bool,
    pub notify_keyevent: bool,
    /// client-output-buffer-limit: normal, replica, pubsub.
    pub obuf_limits: [shoal_pubsub::BufferLimit; 3],
}

/// Counters reported by INFO.
#[derive(Default)]
pub struct Stats {
    pub total_connections: AtomicU64,
    pub total_commands: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub expired_keys: AtomicU64,
    pub blocked_clients: AtomicUsize,
    pub total_error_replies: AtomicU64,
}

/// What other tasks may know about, and do to, a connection.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    pub name: Mutex<Option<String>>,
    pub lib_name: Mutex<Option<String>>,
    pub lib_ver: Mutex<Option<String>>,
    /// Milliseconds since the node started, at the last command.
    pub last_interaction_ms: AtomicU64,
    /// The command last run or running (CLIENT LIST's `cmd=`); see [`LastCommand`].
    pub last_cmd: LastCommand,
    pub resp: AtomicU8,
    /// Set when the client is in MULTI (for CLIENT LIST's flags).
    pub in_multi: AtomicU8,
    /// Pub/Sub messages for this client, appended by publishers; also what wakes its
    /// task to close it (CLIENT KILL sets `killed`, then kicks the outbox).
    pub outbox: Arc<Outbox>,
    pub killed: AtomicU8,
}

impl ClientInfo {
    /// Whether CLIENT KILL closed this client.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed) != 0
    }

    pub fn name(&self) -> String {
        lock(&self.name).clone().unwrap_or_default()
    }
}

/// Node-wide state.
pub struct Shared {
    pub config: Config,
    pub runtime: RwLock<Runtime>,
    /// The shard this node serves (all slots, for now), replicated by Raft.
    pub shard: Arc<ShardHandle>,
    /// This node's Raft id.
    pub node_id_num: u64,
    pub clients: Mutex<HashMap<u64, Arc<ClientInfo>>>,
    pub next_client_id: AtomicU64,
    pub stats: Stats,
    /// Pub/Sub subscriptions and fan-out (node-local).
    pub pubsub: shoal_pubsub::Registry,
    /// 40 hex characters, as Redis Cluster node IDs.
    pub node_id: String,
    pub started: Instant,
    pub run_id: String,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (a panic in one
/// connection must not take the node down).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A node's cluster ID (40 hex characters, as Redis Cluster's) derived from its Raft id,
/// so every node names every other node the same way without exchanging IDs.
pub fn node_name(id: u64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ id;
    let mut s = String::with_capacity(40);
    while s.len() < 40 {
        // splitmix64 steps: well spread, deterministic.
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        s.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    s.truncate(40);
    s
}

/// 40 random-looking hex characters from the std hasher's per-process random keys.
pub fn random_hex40() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::with_capacity(40);
    let state = std::collections::hash_map::RandomState::new();
    let mut i = 0u64;
    while s.len() < 40 {
        let mut h = state.build_hasher();
        h.write_u64(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        s.push_str(&format!("{:016x}", h.finish()));
        i += 1;
    }
    s.truncate(40);
    s
}

impl Shared {
    pub fn new(config: Config, shard: Arc<ShardHandle>, node_id: u64) -> Shared {
        let runtime = Runtime {
            requirepass: config.requirepass.clone(),
            maxclients: config.maxclients,
            notify_keyspace: false,
            notify_keyevent: false,
            obuf_limits: config.client_output_buffer_limit,
        };
        Shared {
            runtime: RwLock::new(runtime),
            shard,
            node_id_num: node_id,
            clients: Mutex::new(HashMap::new()),
            next_client_id: AtomicU64::new(1),
            stats: Stats::default(),
            pubsub: shoal_pubsub::Registry::new(config.client_output_buffer_limit[2]),
            node_id: node_name(node_id),
            run_id: random_hex40(),
            started: Instant::now(),
            config,
        }
    }

    pub fn runtime(&self) -> Runtime {
        self.runtime
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// The command a client ran last, or is running (a blocked BLPOP shows `blpop`), as
/// Redis's `c->lastcmd`: two pointers into the static command table, stored per request
/// without a lock or an allocation. A reader racing the owner may see a pair from two
/// requests, which a monitoring field can afford.
#[derive(Default)]
pub struct LastCommand {
    /// The top-level command, null before the first one or after an unknown one.
    top: std::sync::atomic::AtomicPtr<shoal_core::table::CommandSpec>,
    /// The subcommand of a container command (`client|list`), else null.
    sub: std::sync::atomic::AtomicPtr<shoal_core::table::CommandSpec>,
}

impl LastCommand {
    /// Records `top` (with `sub` for a container command), or `None` for a request that
    /// named no known command.
    pub fn set(
        &self,
        top: Option<&'static shoal_core::table::CommandSpec>,
        sub: Option<&'static shoal_core::table::CommandSpec>,
    ) {
        let ptr = |s: Option<&'static shoal_core::table::CommandSpec>| {
            s.map_or(std::ptr::null_mut(), |s| std::ptr::from_ref(s).cast_mut())
        };
        self.sub.store(ptr(sub), Ordering::Relaxed);
        self.top.store(ptr(top), Ordering::Relaxed);
    }

    /// The full name Redis shows (`get`, `client|list`), or `NULL`.
    pub fn name(&self) -> String {
        // Matched against the static table rather than dereferenced: no unsafe.
        let get = |p: &std::sync::atomic::AtomicPtr<shoal_core::table::CommandSpec>| {
            let p = p.load(Ordering::Relaxed);
            shoal_core::table::all_with_internal()
                .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()))
                .find(|s| std::ptr::eq(*s, p))
        };
        match (get(&self.top), get(&self.sub)) {
            (None, _) => "NULL".to_owned(),
            (Some(top), None) => top.name.to_owned(),
            (Some(top), Some(sub)) => format!("{}|{}", top.name, sub.name),
        }
    }
}
