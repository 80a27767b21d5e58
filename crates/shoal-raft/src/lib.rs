//! Shoal's replicated shards: every keyspace write is an entry of a Raft
//! group (openraft 0.10), committed on a majority's disks before it is
//! applied and answered.
//!
//! The pieces, and how they fit:
//!
//! - [`TypeConfig`]: openraft's type configuration. An entry carries a
//!   [`Batch`]: many client commands ([`Proposal`]: raw arguments plus the
//!   leader-decided [`shoal_core::Ctx`]), each answered by its own
//!   [`CommandReply`] (RESP bytes ready to write to that client).
//! - The state machine of a group is a [`shoal_core::Db`]; applying an entry
//!   runs `shoal_core::parse` + `Command::apply` on every command in order.
//!   Determinism of the core makes every replica byte-identical. Snapshots
//!   are `Db::encode_snapshot` (versioned, CRC-checked), saved as files by
//!   `shoal-storage`, streamed to lagging followers in 1 MiB chunks.
//! - [`Node`]: one per process. It owns the sled storage (log and vote of
//!   every group, group commit across groups), runs any number of groups,
//!   and serves one gRPC service that routes peers' RPCs by group id, over
//!   one cached HTTP/2 channel per peer.
//!
//! The server's write path is [`Node::propose`]; its read path is
//! [`Node::ensure_linearizable`] then [`Node::with_db`]; a follower answers
//! `-MOVED` using [`Node::leader`] (or [`Error::NotLeader`]).

mod batch;
mod network;
mod node;
mod service;
mod state_machine;
mod types;

pub use batch::BadBatch;
pub use batch::Batch;
pub use batch::Commands;
pub use batch::Part;
pub use batch::PartBuilder;
pub use batch::Proposal;
pub use node::Error;
pub use node::GroupHandle;
pub use node::Node;
pub use node::NodeConfig;
pub use service::RaftGrpc;
pub use shoal_storage::FsyncPolicy;
pub use state_machine::StateMachine;
pub use types::BatchReply;
pub use types::CommandReply;
pub use types::GroupId;
pub use types::NodeId;
pub use types::NodeInfo;
pub use types::TypeConfig;
