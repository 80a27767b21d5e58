//! The openraft type configuration and what a Shoal Raft entry carries.

use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::Serialize;
use shoal_core::Ctx;

openraft::declare_raft_types!(
    /// Shoal's openraft type configuration: `u64` node ids, [`NodeInfo`]
    /// nodes, entries carrying a [`Batch`] of commands, answered by a
    /// [`BatchReply`].
    pub TypeConfig:
        D = Batch,
        R = BatchReply,
        Node = NodeInfo,
);

/// A Raft group id: a shard, or the metadata group.
pub type GroupId = u64;
/// A node id.
pub type NodeId = u64;

/// What a cluster member publishes about itself in a group's membership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The RESP address clients use (`host:port`), for `-MOVED` and CLUSTER replies.
    pub client_addr: String,
    /// The gRPC cluster-bus address peers use for Raft (`host:port`).
    pub cluster_addr: String,
}

/// One client command, as the leader decided to run it.
///
/// `args` are the raw request arguments (`["SET", "k", "v"]`); followers
/// re-parse them with [`shoal_core::parse`]. `ctx` carries everything
/// nondeterministic (clock, randomness, RESP3 flag), decided by the leader
/// before proposing, so every replica computes the same state and reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The request, command name first.
    pub args: Vec<Bytes>,
    /// The context every replica applies it with.
    #[serde(with = "ctx_serde")]
    pub ctx: Ctx,
}

impl Proposal {
    /// A proposal of `args` under `ctx`.
    pub fn new(args: Vec<Bytes>, ctx: Ctx) -> Self {
        Self { args, ctx }
    }
}

/// The payload of one Raft entry: many commands, applied in order and
/// atomically (no other entry interleaves). Each command gets its own reply.
///
/// A shard leader gathers the commands that arrive while its previous
/// proposal is in flight and proposes them as one batch, so throughput grows
/// with load instead of being bounded by fsync latency.
///
/// The commands are shared (`Arc`): openraft clones entries (the log store keeps the
/// latest for the state machine and replication), and a clone must not copy hundreds of
/// commands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The commands, in the order they are applied.
    pub commands: std::sync::Arc<[Proposal]>,
}

impl Batch {
    /// A batch of the given commands.
    pub fn new(commands: Vec<Proposal>) -> Self {
        Self {
            commands: commands.into(),
        }
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Batch({} commands)", self.commands.len())
    }
}

/// The result of applying one command of a [`Batch`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandReply {
    /// The reply, RESP-encoded for the protocol in the command's `Ctx`
    /// (RESP3 if `ctx.resp3`): write it to the client as is.
    Frame(Bytes),
    /// The command would block (a blocking pop or read with nothing to
    /// serve, proposed with `ctx.may_block`). Nothing changed; the leader
    /// parks the client on `keys` until `deadline_ms` and proposes the
    /// command again when a key becomes ready.
    Blocked {
        /// Keys whose readiness may unblock the command.
        keys: Vec<Bytes>,
        /// Absolute deadline in Unix milliseconds; `None` blocks forever.
        deadline_ms: Option<u64>,
        /// The reply on timeout, RESP-encoded for the client's protocol.
        timeout_reply: Bytes,
        /// What to propose when a key becomes ready, if not the original
        /// request (e.g. XREADGROUP's internal retry form).
        retry_args: Option<Vec<Bytes>>,
    },
}

/// The replies of one [`Batch`], in command order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReply {
    /// One reply per command.
    pub replies: Vec<CommandReply>,
}

/// `Ctx` lives in the deterministic core, which has no serde; this mirrors it
/// on the wire.
mod ctx_serde {
    use serde::Deserialize;
    use serde::Deserializer;
    use serde::Serialize;
    use serde::Serializer;
    use shoal_core::Ctx;

    #[derive(Serialize, Deserialize)]
    struct Wire {
        now_ms: u64,
        resp3: bool,
        may_block: bool,
        seed: u64,
    }

    pub fn serialize<S: Serializer>(c: &Ctx, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            now_ms: c.now_ms,
            resp3: c.resp3,
            may_block: c.may_block,
            seed: c.seed,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ctx, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(Ctx {
            now_ms: w.now_ms,
            resp3: w.resp3,
            may_block: w.may_block,
            seed: w.seed,
        })
    }
}
