//! The openraft type configuration and what a Shoal Raft entry carries.

use bytes::Bytes;
use serde::Deserialize;
use serde::Serialize;

pub use crate::batch::Batch;

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
