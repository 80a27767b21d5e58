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
///
/// Encoded back to back in one buffer: a connection's commands are consecutive in a
/// batch, so their replies are one slice of it, written to the client as one piece
/// ([`BatchReply::encoded`]) instead of a reply object per command.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReply {
    /// Every command's encoded reply, in order (a blocked command's is empty).
    frames: Bytes,
    /// Per command, where its reply ends in `frames`.
    ends: Vec<usize>,
    /// The commands that would block, by position (ascending), with what they wait for.
    blocked: Vec<(usize, CommandReply)>,
}

impl BatchReply {
    /// Replies of `ends.len()` commands encoded in `frames`; `blocked` (ascending
    /// positions) are `CommandReply::Blocked` and have empty frames.
    pub fn new(frames: Bytes, ends: Vec<usize>, blocked: Vec<(usize, CommandReply)>) -> Self {
        Self {
            frames,
            ends,
            blocked,
        }
    }

    /// Number of commands answered.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no command was answered (a blank or membership entry).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn frame_range(&self, range: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let at = |i: usize| match i.checked_sub(1) {
            None => 0,
            Some(j) => self.ends.get(j).copied().unwrap_or(self.frames.len()),
        };
        at(range.start)..at(range.end).max(at(range.start))
    }

    /// What the commands in `range` reply, back to back, as the client reads it: a
    /// blocked command contributes its timeout reply. One slice of the batch's buffer
    /// unless a command in the range blocked.
    pub fn encoded(&self, range: std::ops::Range<usize>) -> Bytes {
        let first_blocked = self.blocked.partition_point(|(i, _)| *i < range.start);
        let any_blocked = self
            .blocked
            .get(first_blocked)
            .is_some_and(|(i, _)| *i < range.end);
        if !any_blocked {
            return self.frames.slice(self.frame_range(&range));
        }
        let mut out = bytes::BytesMut::new();
        for i in range {
            match self.reply(i) {
                Some(CommandReply::Frame(f)) => out.extend_from_slice(&f),
                Some(CommandReply::Blocked { timeout_reply, .. }) => {
                    out.extend_from_slice(&timeout_reply)
                }
                None => {}
            }
        }
        out.freeze()
    }

    /// The reply of command `i`.
    pub fn reply(&self, i: usize) -> Option<CommandReply> {
        if i >= self.len() {
            return None;
        }
        if let Ok(k) = self.blocked.binary_search_by_key(&i, |(j, _)| *j) {
            return Some(self.blocked[k].1.clone());
        }
        Some(CommandReply::Frame(
            self.frames.slice(self.frame_range(&(i..i + 1))),
        ))
    }

    /// The replies of the commands in `range`, one per command.
    pub fn replies(&self, range: std::ops::Range<usize>) -> Vec<CommandReply> {
        range.filter_map(|i| self.reply(i)).collect()
    }

    /// Every command's reply, one per command.
    pub fn into_replies(self) -> Vec<CommandReply> {
        self.replies(0..self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(timeout: &'static str) -> CommandReply {
        CommandReply::Blocked {
            keys: vec![Bytes::from("k")],
            deadline_ms: None,
            timeout_reply: Bytes::from(timeout),
            retry_args: None,
        }
    }

    /// Replies come out per command or back to back for any range; a blocked command
    /// answers with what it waits for, or its timeout reply when encoded.
    #[test]
    fn batch_reply_ranges() {
        let frames = Bytes::from(":1\r\n+OK\r\n:3\r\n");
        let r = BatchReply::new(frames, vec![4, 9, 9, 13], vec![(2, blocked("*-1\r\n"))]);
        assert_eq!(r.len(), 4);
        assert_eq!(&r.encoded(0..2)[..], b":1\r\n+OK\r\n");
        assert_eq!(&r.encoded(1..2)[..], b"+OK\r\n");
        assert_eq!(&r.encoded(3..4)[..], b":3\r\n");
        assert_eq!(&r.encoded(1..4)[..], b"+OK\r\n*-1\r\n:3\r\n");
        assert_eq!(&r.encoded(2..2)[..], b"");
        assert_eq!(r.reply(0), Some(CommandReply::Frame(Bytes::from(":1\r\n"))));
        assert_eq!(r.reply(2), Some(blocked("*-1\r\n")));
        assert_eq!(r.reply(4), None);
        assert_eq!(
            r.replies(1..3),
            vec![
                CommandReply::Frame(Bytes::from("+OK\r\n")),
                blocked("*-1\r\n")
            ]
        );
        assert_eq!(r.clone().into_replies().len(), 4);
        assert!(BatchReply::default().is_empty());
        assert_eq!(&BatchReply::default().encoded(0..0)[..], b"");
    }
}
