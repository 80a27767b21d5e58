//! The server's handle on its shard: a Raft group (shoal-raft) whose state machine is the
//! shard's `shoal_core::Db`.
//!
//! - **Writes** are proposed. The [`proposer`](ShardHandle::propose) gathers what every
//!   connection submits while the previous proposal is in flight and proposes it as one
//!   entry, each command keeping its own reply slot: throughput grows with load instead
//!   of being bounded by the latency of one commit (fsync and a follower round trip).
//! - **Reads** are served from the leader's applied state after a read barrier
//!   (openraft's read-index, `ensure_linearizable`). Barriers are shared too: readers
//!   that arrive while one is in flight wait for the next, which starts after they came.
//! - **Effects** of applied entries (keys made ready for blocked clients, keyspace
//!   events) arrive on a broadcast channel; [`effects_loop`] publishes the events to
//!   local subscribers and, on the leader, retries blocked clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use shoal_core::Db;
use shoal_raft::{CommandReply, GroupHandle, GroupId, Node, NodeId, NodeInfo, Part, Proposal};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::blocking::Blocked;
use crate::state::lock;

/// The one shard of this clusters (all slots).
pub const GROUP: GroupId = 0;

/// Proposals allowed in flight at once (each an entry with many commands). Measured on
/// 2 cores (redis-benchmark SET, 50 clients, --fsync no): 1 in flight gave 54k/s at
/// -P 1 and 432k/s at -P 16, 2 gave 47k/426k (and before the storage stopped using sled
/// batches, 4 and 64 in flight were slower still): the per-entry cost dominates, so
/// fewer, larger entries win. Again in session 10 on 3 nodes (XADD -c 50 -P 1, fsync
/// always): 1 in flight 51-53k/s at 44 commands an entry, 2 in flight 45-47k/s at 22;
/// each entry costs a follower ~130 us of CPU (thread wake-ups, the flush, the RPC).
const MAX_IN_FLIGHT: usize = 1;
/// How long the proposer waits at most for the clients its last entry answered
/// ([`proposer`]). tokio's timer has millisecond resolution, so this is 1-2 ms.
const LINGER: std::time::Duration = std::time::Duration::from_micros(500);
/// Rounds the proposer does not linger after a linger in which fewer than half of the
/// expected commands came back.
const LINGER_BACKOFF: u32 = 16;
/// The fewest commands answered by the last entry worth lingering for: with a few
/// clients, merging their commands saves little, and one slow client would cost every
/// round a timer tick (the consumer-group benchmark, 4 clients, lost two thirds).
const LINGER_MIN: usize = 16;
/// Commands gathered into one entry at most (bounded below the gRPC message limit).
const MAX_BATCH: usize = 4096;

/// Why a shard operation did not happen, in the terms a client reply needs.
#[derive(Clone, Debug)]
pub enum ShardError {
    /// Not the leader: `-MOVED` to this address, or `-CLUSTERDOWN` when none is known.
    NotLeader(Option<(NodeId, NodeInfo)>),
    /// Anything else (no quorum, stopped group): `-TRYAGAIN`-style unavailability.
    Unavailable(String),
}

impl From<shoal_raft::Error> for ShardError {
    fn from(e: shoal_raft::Error) -> Self {
        match e {
            shoal_raft::Error::NotLeader { leader, .. } => ShardError::NotLeader(leader),
            other => ShardError::Unavailable(other.to_string()),
        }
    }
}

/// A connection's commands to propose and where their replies go.
struct Submission {
    part: Part,
    answer: SlotAnswer,
}

/// Where proposals are answered. A connection keeps one and reuses it from each
/// proposal to the next: a oneshot channel per request was an allocation and a free,
/// ~300 instructions of a request at -P 1 (other callers take a fresh one). A
/// connection has one proposal out at a time; each carries a number so that the answer
/// to an abandoned one is never taken for the next one's.
#[derive(Default)]
pub struct ReplySlot {
    issued: AtomicU64,
    answer: std::sync::Mutex<Option<(u64, Result<Replies, ShardError>)>>,
    waker: futures_util::task::AtomicWaker,
}

impl ReplySlot {
    fn fill(&self, seq: u64, result: Result<Replies, ShardError>) {
        *lock(&self.answer) = Some((seq, result));
        self.waker.wake();
    }

    /// The answer to proposal `seq`, if it came; drops an older one's.
    fn take(&self, seq: u64) -> Option<Result<Replies, ShardError>> {
        let mut answer = lock(&self.answer);
        match answer.take() {
            Some((s, result)) if s == seq => Some(result),
            Some((s, result)) if s > seq => {
                *answer = Some((s, result));
                None
            }
            _ => None,
        }
    }
}

/// The sending side of a [`ReplySlot`] for one proposal. Dropped unanswered (the
/// proposer stopped), it answers that the shard is shutting down, as a dropped oneshot
/// sender would.
struct SlotAnswer {
    slot: Option<Arc<ReplySlot>>,
    seq: u64,
}

impl SlotAnswer {
    fn send(mut self, result: Result<Replies, ShardError>) {
        if let Some(slot) = self.slot.take() {
            slot.fill(self.seq, result);
        }
    }
}

impl Drop for SlotAnswer {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.fill(
                self.seq,
                Err(ShardError::Unavailable("shutting down".into())),
            );
        }
    }
}

/// The replies to one submission: its range of the replies of the entry it went into.
pub struct Replies {
    batch: Arc<shoal_raft::BatchReply>,
    range: std::ops::Range<usize>,
}

impl Replies {
    /// The replies back to back, as the client reads them (a blocked command's timeout
    /// reply in its place): one slice of the entry's reply buffer.
    pub fn encoded(&self) -> Bytes {
        self.batch.encoded(self.range.clone())
    }

    /// One reply per command.
    pub fn into_vec(self) -> Vec<CommandReply> {
        self.batch.replies(self.range)
    }
}

/// The server's handle on its shard.
pub struct ShardHandle {
    pub node: Node,
    pub group: GroupId,
    /// The group itself, looked up once (asked on every request).
    raft: GroupHandle,
    proposals: mpsc::UnboundedSender<Submission>,
    barriers: mpsc::UnboundedSender<oneshot::Sender<Result<(), ShardError>>>,
    /// Clients blocked on this shard's keys (served by this node while it leads).
    pub blocked: std::sync::Mutex<Blocked>,
    /// Whether any client is blocked (so applies record ready keys).
    tracking: AtomicBool,
    /// The term in which this node, as leader, last committed an entry of its own (see
    /// [`ShardHandle::confirm_leadership`]); 0 for none.
    confirmed_term: AtomicU64,
}

impl ShardHandle {
    /// Starts the proposer and barrier tasks of `group` (started already) on `node`.
    pub fn start(node: Node, group: GroupId) -> Result<Arc<ShardHandle>, shoal_raft::Error> {
        let raft = node.group(group)?;
        let (ptx, prx) = mpsc::unbounded_channel();
        let (btx, brx) = mpsc::unbounded_channel();
        tokio::spawn(proposer(node.clone(), group, prx));
        tokio::spawn(barrier(node.clone(), group, brx));
        Ok(Arc::new(ShardHandle {
            node,
            group,
            raft,
            proposals: ptx,
            barriers: btx,
            blocked: std::sync::Mutex::new(Blocked::default()),
            tracking: AtomicBool::new(false),
            confirmed_term: AtomicU64::new(0),
        }))
    }

    /// Replicates the commands of `part` (possibly together with other connections'
    /// commands) and returns their replies in order.
    pub async fn propose(&self, part: Part) -> Result<Replies, ShardError> {
        self.propose_with(part, &Arc::default()).await
    }

    /// [`ShardHandle::propose`], answered through the caller's reusable `slot` (a
    /// connection's: one proposal at a time).
    pub async fn propose_with(
        &self,
        part: Part,
        slot: &Arc<ReplySlot>,
    ) -> Result<Replies, ShardError> {
        let seq = slot.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let answer = SlotAnswer {
            slot: Some(slot.clone()),
            seq,
        };
        self.proposals
            .send(Submission { part, answer })
            .map_err(|_| ShardError::Unavailable("shutting down".into()))?;
        std::future::poll_fn(|cx| {
            if let Some(result) = slot.take(seq) {
                return std::task::Poll::Ready(result);
            }
            slot.waker.register(cx.waker());
            // An answer between the check and the registration found no waker.
            match slot.take(seq) {
                Some(result) => std::task::Poll::Ready(result),
                None => std::task::Poll::Pending,
            }
        })
        .await
    }

    /// [`ShardHandle::propose`] of the given commands.
    pub async fn propose_commands(
        &self,
        commands: &[Proposal],
    ) -> Result<Vec<CommandReply>, ShardError> {
        self.propose(Part::of(commands))
            .await
            .map(Replies::into_vec)
    }

    /// Commits an empty entry unless this node already committed one of its own in the
    /// current term. A leader that restarts keeps its term (openraft restores the lease)
    /// and knows only the commit index it persisted last, which may lag its log: entries
    /// acknowledged just before a crash sit in the log, uncommitted as far as it knows,
    /// until it commits something new. Committing an entry of the term commits (and
    /// applies, in order) everything before it, so reads after this see every
    /// acknowledged write.
    async fn confirm_leadership(&self, term: u64) -> Result<(), ShardError> {
        if self.confirmed_term.load(Ordering::Acquire) == term {
            return Ok(());
        }
        self.propose(Part::default()).await?;
        self.confirmed_term.fetch_max(term, Ordering::AcqRel);
        Ok(())
    }

    /// Waits until a read of the local state is linearizable.
    pub async fn read_barrier(&self) -> Result<(), ShardError> {
        let (term, sole_and_current) = self.raft.read_state();
        self.confirm_leadership(term).await?;
        // The sole voter of a group cannot be deposed, and every write it acknowledged
        // was applied before the acknowledgement: once it applied an entry of its term,
        // its local state is current (`GroupHandle::read_state`). Asked again if the
        // confirmation had to commit an entry: that is what makes it current.
        if sole_and_current || self.raft.sole_voter_is_current() {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        self.barriers
            .send(tx)
            .map_err(|_| ShardError::Unavailable("shutting down".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(ShardError::Unavailable("shutting down".into())))
    }

    /// Runs `f` on the applied keyspace (must not change it: changes are proposed).
    pub fn with_db<T>(&self, f: impl FnOnce(&mut Db) -> T) -> T {
        self.raft.with_db(f)
    }

    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }

    /// The leader as this node knows it.
    pub fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        self.raft.leader()
    }

    /// The current term as this node knows it.
    pub fn term(&self) -> u64 {
        self.raft.term()
    }

    /// Waits until some node leads the group, at most `max`; returns the leader.
    pub async fn wait_for_leader(&self, max: std::time::Duration) -> Option<(NodeId, NodeInfo)> {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            if let Some(l) = self.leader() {
                return Some(l);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The group's members, id order.
    pub fn members(&self) -> Vec<(NodeId, NodeInfo)> {
        self.raft.members()
    }

    /// Keeps the state machine recording ready keys exactly while clients are blocked.
    pub fn update_tracking(&self) {
        let want = !lock(&self.blocked).is_empty();
        if self.tracking.swap(want, Ordering::Relaxed) != want {
            self.with_db(|db| db.track_ready = want);
        }
    }
}

/// Gathers submissions into entries: takes everything queued when a slot frees up.
///
/// Linger: the clients the previous entry answered usually send their next command within
/// a few hundred microseconds (their reply is written, they answer it). When the last
/// entry answered at least [`LINGER_MIN`] commands and fewer than seven eighths of that
/// have arrived since, the proposer waits for them (at most [`LINGER`]) so that they join
/// this entry instead of waiting a whole round for the next one. Without it, 50
/// clients split into two alternating cohorts of 25, each round's fixed cost (log flush,
/// one message per follower, their flushes) served half of them.
async fn proposer(node: Node, group: GroupId, mut rx: mpsc::UnboundedReceiver<Submission>) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // Commands answered by the last completed entry, set by its task.
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Rounds left to propose without lingering, after a linger that did not pay.
    let mut skip = 0u32;
    while let Some(first) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut subs = vec![first];
        let mut n = subs[0].part.len();
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(s) => {
                    n += s.part.len();
                    subs.push(s);
                }
                Err(_) => break,
            }
        }
        let expected = answered.swap(0, Ordering::Relaxed);
        if expected >= LINGER_MIN && skip == 0 {
            // Arrivals counted from now: what is queued already came meanwhile.
            let (from, want) = (n, (n + expected - expected / 8).min(MAX_BATCH));
            // One timer for the whole wait: registering a timer earlier than the
            // runtime's next one wakes its driver (an eventfd write and an extra
            // epoll_wait), which a timeout per arrival paid several times an entry.
            let deadline = tokio::time::sleep(LINGER);
            tokio::pin!(deadline);
            while n < want {
                tokio::select! {
                    biased;
                    s = rx.recv() => match s {
                        Some(s) => {
                            n += s.part.len();
                            subs.push(s);
                        }
                        None => break,
                    },
                    _ = &mut deadline => break,
                }
            }
            if n - from < expected / 2 {
                // These clients do not answer at once (they send at their own pace):
                // waiting for them only adds latency. Try again some rounds later.
                skip = LINGER_BACKOFF;
            }
        } else {
            skip = skip.saturating_sub(1);
        }
        let node = node.clone();
        let answered = answered.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut counts = Vec::with_capacity(subs.len());
            let mut parts = Vec::with_capacity(subs.len());
            let mut answers = Vec::with_capacity(subs.len());
            for s in subs {
                counts.push(s.part.len());
                parts.push(s.part);
                answers.push(s.answer);
            }
            let batch = shoal_raft::Batch::join(&mut parts);
            drop(parts);
            match node.propose_batch(group, batch).await {
                Ok(replies) => {
                    let batch = Arc::new(replies);
                    let mut at = 0;
                    for (answer, c) in answers.into_iter().zip(counts) {
                        answer.send(Ok(Replies {
                            batch: batch.clone(),
                            range: at..at + c,
                        }));
                        at += c;
                    }
                    answered.store(n, Ordering::Relaxed);
                }
                Err(e) => {
                    let e = ShardError::from(e);
                    for answer in answers {
                        answer.send(Err(e.clone()));
                    }
                }
            }
        });
    }
}

/// Serves read barriers: one `ensure_linearizable` for every reader queued when it starts.
async fn barrier(
    node: Node,
    group: GroupId,
    mut rx: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), ShardError>>>,
) {
    while let Some(first) = rx.recv().await {
        let mut waiting = vec![first];
        while let Ok(w) = rx.try_recv() {
            waiting.push(w);
        }
        let r = node
            .ensure_linearizable(group)
            .await
            .map_err(ShardError::from);
        for w in waiting {
            let _ = w.send(r.clone());
        }
    }
}

/// Encodes a frame for a protocol (replies of local reads join the proposal replies,
/// which arrive encoded).
pub fn encoded(f: &shoal_resp::Frame, resp3: bool) -> Bytes {
    let mut b = bytes::BytesMut::new();
    shoal_resp::encode(
        f,
        if resp3 {
            shoal_resp::Protocol::Resp3
        } else {
            shoal_resp::Protocol::Resp2
        },
        &mut b,
    );
    b.freeze()
}
