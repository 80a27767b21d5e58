//! The node: storage, the Raft groups it runs, and its gRPC endpoint.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use openraft::Raft;
use openraft::ReadPolicy;
use openraft::SnapshotPolicy;
use openraft::async_runtime::watch::WatchReceiver;
use openraft::error::ClientWriteError;
use openraft::error::InitializeError;
use openraft::error::LinearizableReadError;
use openraft::error::RaftError;
use shoal_core::Db;
use shoal_core::db::Effects;
use shoal_proto::v1::raft_service_server::RaftServiceServer;
use shoal_storage::FsyncPolicy;
use shoal_storage::Storage;
use tokio::sync::broadcast;

use crate::network::GroupNetwork;
use crate::network::MAX_MESSAGE;
use crate::network::Router;
use crate::service::RaftGrpc;
use crate::state_machine::Shared;
use crate::state_machine::StateMachine;
use crate::types::Batch;
use crate::types::BatchReply;
use crate::types::CommandReply;
use crate::types::GroupId;
use crate::types::NodeId;
use crate::types::NodeInfo;
use crate::types::TypeConfig;

pub(crate) type RaftHandle = Raft<TypeConfig, StateMachine>;

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// This node's id, unique in the cluster and stable across restarts.
    pub node_id: NodeId,
    /// Where the Raft log, votes and snapshots live (`--data-dir`).
    pub data_dir: PathBuf,
    /// When appends are forced to disk (`--fsync`).
    pub fsync: FsyncPolicy,
    /// openraft's tuning, shared by every group. [`NodeConfig::new`] picks
    /// values for many groups on a busy runtime: heartbeat 100 ms, election
    /// timeout 250–500 ms, a snapshot every 10 000 entries keeping 100 for
    /// lagging followers.
    ///
    /// openraft 0.10 starts an election only after the leader lease *and* an
    /// election timeout have passed without a heartbeat, and the lease is
    /// `election_timeout_max`; voters refuse votes until their own lease
    /// expires. A follower therefore campaigns `max + rand(min, max)` after the
    /// last heartbeat: 750–1000 ms here (7+ missed heartbeats, so a busy node
    /// does not trigger spurious elections), and a killed leader is replaced in
    /// about a second. (500–1000 ms gave 1.5–2 s, over the 2 s target.)
    pub raft: openraft::Config,
}

impl NodeConfig {
    /// A config with Shoal's defaults.
    pub fn new(node_id: NodeId, data_dir: impl Into<PathBuf>) -> Self {
        let raft = openraft::Config {
            cluster_name: "shoal".into(),
            heartbeat_interval: 100,
            election_timeout_min: 250,
            election_timeout_max: 500,
            install_snapshot_timeout: 10_000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(10_000),
            // Entries are batches of up to hundreds of commands (tens of KiB each): 16 of
            // them cover a follower a moment behind (openraft never purges what a
            // replication stream is still sending), and keep the log's share of memory
            // small; 100 held ~8 MiB of sled pages after 1M XADDs.
            max_in_snapshot_log_to_keep: 16,
            // Well below the 64 MiB gRPC message limit for typical entries.
            max_payload_entries: 1_000,
            ..Default::default()
        };
        Self {
            node_id,
            data_dir: data_dir.into(),
            fsync: FsyncPolicy::Always,
            raft,
        }
    }

    /// Snapshots every `entries` log entries and keeps a tenth of that (at most 16)
    /// in the log after each, for followers that lag a little (`--snapshot-entries`).
    pub fn snapshot_every(&mut self, entries: u64) {
        self.raft.snapshot_policy = SnapshotPolicy::LogsSinceLast(entries);
        self.raft.max_in_snapshot_log_to_keep = (entries / 10).min(16);
    }
}

/// Why a Raft operation did not happen.
#[derive(Debug)]
pub enum Error {
    /// This node does not run the group.
    UnknownGroup(GroupId),
    /// This node is not the group's leader. `leader` is the current leader
    /// if known: answer `-MOVED` to it; if `None`, `-CLUSTERDOWN`/`-TRYAGAIN`.
    NotLeader {
        /// The group asked.
        group: GroupId,
        /// The leader this node knows of, with its addresses.
        leader: Option<(NodeId, NodeInfo)>,
    },
    /// The leader could not reach a quorum to confirm a read.
    NoQuorum(String),
    /// The group stopped (shutdown or a fatal storage error).
    Stopped(String),
    /// Opening or using storage failed.
    Io(io::Error),
    /// Any other refusal by openraft (e.g. a membership change in progress).
    Raft(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::UnknownGroup(g) => write!(f, "unknown raft group {g}"),
            Error::NotLeader {
                group,
                leader: Some((id, n)),
            } => {
                write!(
                    f,
                    "not the leader of group {group}; leader is node {id} at {}",
                    n.client_addr
                )
            }
            Error::NotLeader {
                group,
                leader: None,
            } => write!(f, "group {group} has no known leader"),
            Error::NoQuorum(e) => write!(f, "no quorum: {e}"),
            Error::Stopped(e) => write!(f, "raft group stopped: {e}"),
            Error::Io(e) => write!(f, "storage: {e}"),
            Error::Raft(e) => write!(f, "raft: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

struct Group {
    raft: RaftHandle,
    sm: Arc<Shared>,
}

/// The groups a node runs, by id (shared with the gRPC service).
#[derive(Default)]
pub(crate) struct Groups {
    map: RwLock<HashMap<GroupId, Group>>,
}

impl Groups {
    pub(crate) fn raft(&self, group: GroupId) -> Option<RaftHandle> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&group)
            .map(|g| g.raft.clone())
    }

    fn sm(&self, group: GroupId) -> Option<Arc<Shared>> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&group)
            .map(|g| g.sm.clone())
    }
}

/// A Shoal node's Raft side: one sled database, any number of Raft groups
/// (shards and the metadata group), and one gRPC service routing peers'
/// RPCs to them by group id. Cheap to clone.
///
/// Typical use:
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use std::collections::BTreeMap;
/// use bytes::Bytes;
/// use shoal_raft::{Batch, Node, NodeConfig, NodeInfo, Proposal};
///
/// let node = Node::open(NodeConfig::new(1, "./shoal-data")).await?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:16379").await?;
/// node.serve(listener);                      // peers reach our groups here
/// node.start_group(0).await?;                // open (or recover) group 0
/// let me = NodeInfo { client_addr: "127.0.0.1:6379".into(), cluster_addr: "127.0.0.1:16379".into() };
/// node.initialize(0, BTreeMap::from([(1, me)])).await?; // idempotent
///
/// let ctx = shoal_core::Ctx::default();      // the leader decides clock and seed
/// let set = Proposal::new(vec![Bytes::from("SET"), Bytes::from("k"), Bytes::from("v")], ctx);
/// let replies = node.propose(0, Batch::new(vec![set])).await?; // after commit + apply
///
/// node.ensure_linearizable(0).await?;        // then read the keyspace
/// let n = node.with_db(0, |db| db.len())?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    id: NodeId,
    storage: Storage,
    router: Router,
    groups: Arc<Groups>,
    config: Arc<openraft::Config>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Node {
    /// Opens the node's storage. Groups are started with [`Node::start_group`].
    pub async fn open(config: NodeConfig) -> Result<Node, Error> {
        let mut raft = config.raft.clone();
        if config.fsync != FsyncPolicy::Always && raft.allow_log_reversion.is_none() {
            // Under `everysec` and `no` an append is acknowledged before it is on disk,
            // so a follower that crashes comes back with a shorter log than it reported.
            // That is the documented cost of those modes (like a Redis replica losing
            // its last second), not a bug: the leader must resend the entries, not
            // panic its Raft core (openraft asserts "follower log reversion is not
            // allowed" unless told otherwise, which stopped the group on the leader).
            raft.allow_log_reversion = Some(true);
        }
        let raft = Arc::new(raft.validate().map_err(|e| Error::Raft(e.to_string()))?);
        let storage = Storage::open(&config.data_dir, config.fsync)?;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Ok(Node {
            inner: Arc::new(Inner {
                id: config.node_id,
                storage,
                router: Router::new(config.node_id),
                groups: Arc::default(),
                config: raft,
                shutdown,
            }),
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    /// The groups that have a log on disk: on restart, start each of them.
    pub fn stored_groups(&self) -> Vec<GroupId> {
        self.inner.storage.groups()
    }

    /// Starts Raft group `group` on this node, recovering its log, vote and
    /// last snapshot from disk. A no-op if it already runs. A new group
    /// does nothing until [`Node::initialize`] (on one member) or a leader
    /// adds this node.
    pub async fn start_group(&self, group: GroupId) -> Result<(), Error> {
        if self.inner.groups.raft(group).is_some() {
            return Ok(());
        }
        let log = self.inner.storage.log_store::<TypeConfig>(group)?;
        let mut sm = StateMachine::open(group, self.inner.storage.snapshots().clone())?;
        sm.on_applied(log.applied_callback());
        let shared = sm.shared();
        let net = GroupNetwork {
            router: self.inner.router.clone(),
            group,
        };
        let raft = Raft::new(self.inner.id, self.inner.config.clone(), net, log, sm)
            .await
            .map_err(|e| Error::Stopped(e.to_string()))?;
        let mut map = self
            .inner
            .groups
            .map
            .write()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(group).or_insert(Group { raft, sm: shared });
        Ok(())
    }

    /// Makes `members` the first membership of `group` (all voters). Call it
    /// on one member with the same map on every boot: it is a no-op once the
    /// group has a log or a vote, so restarts are safe.
    pub async fn initialize(
        &self,
        group: GroupId,
        members: BTreeMap<NodeId, NodeInfo>,
    ) -> Result<(), Error> {
        for (id, n) in &members {
            self.inner.router.register(*id, &n.cluster_addr);
        }
        match self.raft(group)?.initialize(members).await {
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => Ok(()),
            Err(RaftError::APIError(e)) => Err(Error::Raft(e.to_string())),
            Err(RaftError::Fatal(e)) => Err(Error::Stopped(e.to_string())),
        }
    }

    /// Replicates `batch` as one entry of `group` and returns each command's
    /// reply, in order, once the entry is committed (on a majority's disks)
    /// and applied here. Only the leader accepts proposals: elsewhere this is
    /// [`Error::NotLeader`] naming the leader if known.
    pub async fn propose(&self, group: GroupId, batch: Batch) -> Result<Vec<CommandReply>, Error> {
        Ok(self.propose_batch(group, batch).await?.into_replies())
    }

    /// [`Node::propose`], answering with the batch's replies as applied (one buffer;
    /// see [`BatchReply`]).
    pub async fn propose_batch(&self, group: GroupId, batch: Batch) -> Result<BatchReply, Error> {
        let raft = self.raft(group)?;
        match raft.client_write(batch).await {
            Ok(resp) => Ok(resp.data),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Err(Error::NotLeader {
                    group,
                    leader: f.leader_id.zip(f.leader_node),
                })
            }
            Err(RaftError::APIError(e)) => Err(Error::Raft(e.to_string())),
            Err(RaftError::Fatal(e)) => Err(Error::Stopped(e.to_string())),
        }
    }

    /// Waits until a read of `group`'s keyspace on this node is linearizable:
    /// this node is still the leader (confirmed by a quorum: read-index, no
    /// clock assumptions) and has applied everything committed before the
    /// call. A new leader passes only after its first entry of the term
    /// commits, which rules out the stale reads after an election that
    /// RedisRaft suffered. Then read with [`Node::with_db`].
    pub async fn ensure_linearizable(&self, group: GroupId) -> Result<(), Error> {
        let raft = self.raft(group)?;
        match raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
            Ok(_) => Ok(()),
            Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f))) => {
                Err(Error::NotLeader {
                    group,
                    leader: f.leader_id.zip(f.leader_node),
                })
            }
            Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(e))) => {
                Err(Error::NoQuorum(e.to_string()))
            }
            Err(RaftError::Fatal(e)) => Err(Error::Stopped(e.to_string())),
        }
    }

    /// Runs `f` on `group`'s keyspace as applied on this node. Reads here
    /// are linearizable only after [`Node::ensure_linearizable`]; on a
    /// follower they may be stale (Redis `READONLY` semantics). Do not
    /// change the keyspace through this: changes go through [`Node::propose`].
    pub fn with_db<T>(&self, group: GroupId, f: impl FnOnce(&mut Db) -> T) -> Result<T, Error> {
        Ok(self.group(group)?.with_db(f))
    }

    /// Starts a snapshot of `group` (and so a log purge) once the commands applied since
    /// the last one exceed both `min_bytes` and the last snapshot's size. Entries carry
    /// batches of any size, so this bounds the log by bytes where `snapshot_policy`
    /// bounds it by entries; tying it to the snapshot's size keeps the log no larger
    /// than the keyspace's encoding while the work of snapshotting stays proportional to
    /// the writes (as Redis rewrites its AOF once it doubled). When `idle` (no writes
    /// lately), `min_bytes` alone decides: compacting an idle node costs nothing to
    /// clients and gives the log's memory back.
    pub async fn snapshot_if_log_exceeds(
        &self,
        group: GroupId,
        min_bytes: u64,
        idle: bool,
    ) -> Result<bool, Error> {
        let sm = self
            .inner
            .groups
            .sm(group)
            .ok_or(Error::UnknownGroup(group))?;
        let limit = if idle {
            min_bytes
        } else {
            min_bytes.max(sm.snapshot_bytes.load(std::sync::atomic::Ordering::Relaxed))
        };
        if sm.applied_bytes.load(std::sync::atomic::Ordering::Relaxed) <= limit {
            return Ok(false);
        }
        // Count from here, so a slow build is not triggered again meanwhile.
        sm.applied_bytes
            .store(0, std::sync::atomic::Ordering::Relaxed);
        self.raft(group)?
            .trigger()
            .snapshot()
            .await
            .map_err(|e| Error::Stopped(e.to_string()))?;
        Ok(true)
    }

    /// The index of the last entry applied to `group`'s keyspace here.
    pub fn applied_index(&self, group: GroupId) -> Result<Option<u64>, Error> {
        let sm = self
            .inner
            .groups
            .sm(group)
            .ok_or(Error::UnknownGroup(group))?;
        Ok(sm.last_applied_index())
    }

    /// The effects (keys made ready for blocked clients, keyspace events) of
    /// every entry `group` applies from now on, in apply order.
    pub fn subscribe_effects(&self, group: GroupId) -> Result<broadcast::Receiver<Effects>, Error> {
        let sm = self
            .inner
            .groups
            .sm(group)
            .ok_or(Error::UnknownGroup(group))?;
        Ok(sm.effects.subscribe())
    }

    /// The leader of `group` as this node knows it, with its addresses
    /// (for `-MOVED` and CLUSTER replies). `None` during an election.
    pub fn leader(&self, group: GroupId) -> Result<Option<(NodeId, NodeInfo)>, Error> {
        Ok(self.group(group)?.leader())
    }

    /// The members of `group` (voters and learners) with their addresses, in
    /// id order, as this node's latest membership says.
    pub fn members(&self, group: GroupId) -> Result<Vec<(NodeId, NodeInfo)>, Error> {
        Ok(self.group(group)?.members())
    }

    /// The current term of `group` as this node knows it.
    pub fn term(&self, group: GroupId) -> Result<u64, Error> {
        Ok(self.group(group)?.term())
    }

    /// See [`GroupHandle::sole_voter_is_current`].
    pub fn sole_voter_is_current(&self, group: GroupId) -> Result<bool, Error> {
        Ok(self.group(group)?.sole_voter_is_current())
    }

    /// Whether this node currently leads `group`.
    pub fn is_leader(&self, group: GroupId) -> Result<bool, Error> {
        Ok(self.raft(group)?.is_leader())
    }

    /// A handle on `group` for callers that ask about it on every request (see
    /// [`GroupHandle`]).
    pub fn group(&self, group: GroupId) -> Result<GroupHandle, Error> {
        let map = self
            .inner
            .groups
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let g = map.get(&group).ok_or(Error::UnknownGroup(group))?;
        Ok(GroupHandle {
            me: self.inner.id,
            metrics: g.raft.metrics(),
            raft: g.raft.clone(),
            sm: g.sm.clone(),
        })
    }

    /// The openraft handle of `group`, for what this API does not cover
    /// (metrics, membership changes, leader transfer, snapshots).
    pub fn raft(&self, group: GroupId) -> Result<RaftHandle, Error> {
        self.inner
            .groups
            .raft(group)
            .ok_or(Error::UnknownGroup(group))
    }

    /// The gRPC service peers send this node's groups' RPCs to, with the
    /// message size limit raised to 64 MiB. Add it to the node's cluster-bus
    /// tonic server, or let [`Node::serve`] run one.
    pub fn grpc_service(&self) -> RaftServiceServer<RaftGrpc> {
        RaftServiceServer::new(RaftGrpc {
            groups: self.inner.groups.clone(),
        })
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
    }

    /// Serves [`Node::grpc_service`] on `listener` until [`Node::shutdown`].
    pub fn serve(
        &self,
        listener: tokio::net::TcpListener,
    ) -> tokio::task::JoinHandle<Result<(), tonic::transport::Error>> {
        let svc = self.grpc_service();
        let mut stop = self.inner.shutdown.subscribe();
        tokio::spawn(async move {
            // The builder's tcp_nodelay does not reach streams we accept ourselves: set it
            // on the incoming side, or Nagle holds followers' small AppendEntries replies
            // until the leader's delayed ACK (40 ms: the p99 of every replicated write).
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            tonic::transport::Server::builder()
                .http2_keepalive_interval(Some(Duration::from_secs(10)))
                .add_service(svc)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        })
    }

    /// Stops every group and the gRPC server. Storage is flushed and
    /// released once the last `Node` clone is dropped.
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        let groups: Vec<(GroupId, Group)> = self
            .inner
            .groups
            .map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (id, g) in groups {
            if let Err(e) = g.raft.shutdown().await {
                tracing::warn!(group = id, error = %e, "raft group did not stop cleanly");
            }
        }
    }
}

/// One group of a [`Node`], looked up once. A shard asks whether it leads, and reads its
/// keyspace, on every request: looking the group up in the node's map each time (a lock,
/// two reference counts, a copy of the metrics channel) was ~5 % of a read's CPU at
/// redis-benchmark -P 1. The handle stays valid for the group's life; after the group
/// stops, it reports no leader.
#[derive(Clone)]
pub struct GroupHandle {
    me: NodeId,
    raft: RaftHandle,
    metrics: openraft::type_config::alias::WatchReceiverOf<
        TypeConfig,
        openraft::RaftMetrics<TypeConfig>,
    >,
    sm: Arc<Shared>,
}

impl GroupHandle {
    /// Whether this node currently leads the group.
    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }

    /// The leader as this node knows it, with its addresses. `None` during an election.
    pub fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        let m = self.metrics.borrow_watched();
        m.current_leader.and_then(|id| {
            m.membership_config
                .membership()
                .get_node(&id)
                .map(|n| (id, n.clone()))
        })
    }

    /// The members (voters and learners) with their addresses, in id order.
    pub fn members(&self) -> Vec<(NodeId, NodeInfo)> {
        self.metrics
            .borrow_watched()
            .membership_config
            .membership()
            .nodes()
            .map(|(id, n)| (*id, n.clone()))
            .collect()
    }

    /// The current term as this node knows it.
    pub fn term(&self) -> u64 {
        self.metrics.borrow_watched().current_term
    }

    /// The current term, and whether this node is the sole voter, leads, and has applied
    /// an entry of that term. Then its applied state is linearizable without a read
    /// barrier: nobody can depose it, every write it acknowledged was applied first, and
    /// the entries of earlier terms are applied too. Right after a restart the node leads
    /// before its log is applied, so leading alone is not enough.
    pub fn read_state(&self) -> (u64, bool) {
        let m = self.metrics.borrow_watched();
        let current = m.current_leader == Some(self.me)
            && m.membership_config.membership().voter_ids().count() == 1
            && m.last_applied
                .as_ref()
                .is_some_and(|l| l.committed_leader_id().term == m.current_term);
        (m.current_term, current)
    }

    /// See [`GroupHandle::read_state`].
    pub fn sole_voter_is_current(&self) -> bool {
        self.read_state().1
    }

    /// Runs `f` on the keyspace as applied here (see [`Node::with_db`]).
    pub fn with_db<T>(&self, f: impl FnOnce(&mut Db) -> T) -> T {
        self.sm.with_db(f)
    }
}
