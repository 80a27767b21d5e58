//! Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK, XREADGROUP BLOCK, ...).
//!
//! A command that cannot be served yet leaves a [`Waiter`] here with the arguments to
//! retry. When applied entries signal keys ready, the leader retries the waiters of each
//! key in the order they blocked: retries that change state (pops, XREADGROUP) are
//! proposed together as one new entry, as DESIGN.md prescribes; blocked reads (XREAD)
//! run against the local state. A retry that still cannot be served blocks again in
//! its place.
//!
//! A waiter being retried is "in flight": its client cannot time it out or cancel it
//! until the retry's outcome is known, so a pop is never lost to a client that has
//! already been told it timed out.

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;
use shoal_core::{Ctx, Parsed, Reply};
use shoal_raft::{CommandReply, Proposal};
use tokio::sync::oneshot;

use crate::shard::{ShardError, ShardHandle, encoded};
use crate::state::{lock, unix_ms};

/// How a waiter is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// A write (a pop, XREADGROUP): proposed as a log entry.
    Propose,
    /// A read (XREAD): run on the local state.
    Local,
}

/// A parked command.
pub struct Waiter {
    pub keys: Vec<Bytes>,
    /// The request to retry.
    pub args: Vec<Bytes>,
    pub retry: Retry,
    pub resp3: bool,
    pub deadline_ms: Option<u64>,
    /// The encoded reply on timeout.
    pub timeout_reply: Bytes,
    /// Receives the encoded reply.
    pub tx: oneshot::Sender<Bytes>,
}

/// What removing a waiter found.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed: it will not be served.
    Removed,
    /// Being retried right now: its outcome will be sent.
    InFlight,
    /// Already served.
    Gone,
}

/// Waiters by id and by key (FIFO per key).
#[derive(Default)]
pub struct Blocked {
    waiters: HashMap<u64, Waiter>,
    in_flight: HashSet<u64>,
    cancelled: HashSet<u64>,
    by_key: HashMap<Bytes, VecDeque<u64>>,
    next_id: u64,
}

impl Blocked {
    /// Parks a waiter; returns its id.
    pub fn add(&mut self, w: Waiter) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        for k in &w.keys {
            self.by_key.entry(k.clone()).or_default().push_back(id);
        }
        self.waiters.insert(id, w);
        id
    }

    /// Removes a waiter (timeout, disconnect).
    pub fn remove(&mut self, id: u64) -> Removal {
        if self.in_flight.contains(&id) {
            self.cancelled.insert(id);
            return Removal::InFlight;
        }
        match self.waiters.remove(&id) {
            Some(w) => {
                self.unlink(id, &w.keys);
                Removal::Removed
            }
            None => Removal::Gone,
        }
    }

    fn unlink(&mut self, id: u64, keys: &[Bytes]) {
        for k in keys {
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty() && self.in_flight.is_empty()
    }

    /// Every key some client waits on (to recover from missed ready signals).
    pub fn keys(&self) -> Vec<Bytes> {
        self.by_key.keys().cloned().collect()
    }

    /// Takes the waiters of `key` that are not in flight, in blocking order, marking
    /// them in flight. Waiters whose client is gone are dropped.
    fn take(&mut self, key: &[u8]) -> Vec<(u64, Waiter)> {
        let ids: Vec<u64> = self
            .by_key
            .get(key)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for id in ids {
            let Some(w) = self.waiters.remove(&id) else {
                continue;
            };
            if w.tx.is_closed() {
                self.unlink(id, &w.keys);
                continue;
            }
            self.in_flight.insert(id);
            out.push((id, w));
        }
        out
    }

    /// Records a retry's outcome: `Some(reply)` served it, `None` blocks it again.
    fn finish(&mut self, id: u64, w: Waiter, reply: Option<Bytes>, now: u64) {
        self.in_flight.remove(&id);
        let cancelled = self.cancelled.remove(&id);
        let expired = w.deadline_ms.is_some_and(|d| d <= now);
        match reply {
            Some(r) => {
                self.unlink(id, &w.keys);
                let _ = w.tx.send(r);
            }
            // Cancelled while the retry ran: by its client's timeout (which now waits for
            // this outcome) or by a disconnect (nobody listens). Dropping the sender
            // instead read as a vanished reply, and the client was disconnected.
            None if cancelled || expired => {
                self.unlink(id, &w.keys);
                let _ = w.tx.send(w.timeout_reply.clone());
            }
            None => {
                self.waiters.insert(id, w);
            }
        }
    }
}

/// Retries the waiters of each ready key, in order. Runs on the task that consumes the
/// shard's effects; proposals' own effects come back through it afterwards.
pub async fn serve_ready(shard: &ShardHandle, keys: Vec<Bytes>) {
    let mut seen = HashSet::new();
    for key in keys {
        if !seen.insert(key.clone()) {
            continue;
        }
        let taken = lock(&shard.blocked).take(&key);
        if taken.is_empty() {
            continue;
        }
        let now = unix_ms();
        let (props, reads): (Vec<_>, Vec<_>) = taken
            .into_iter()
            .partition(|(_, w)| w.retry == Retry::Propose);
        // Reads first: they consume nothing, so order against pops does not matter.
        for (id, w) in reads {
            let reply = run_local(shard, &w, now);
            lock(&shard.blocked).finish(id, w, reply, now);
        }
        if props.is_empty() {
            continue;
        }
        if !shard.is_leader() {
            // Only a leader can serve them; put them back (they time out, or are
            // served if this node leads again).
            let mut b = lock(&shard.blocked);
            for (id, w) in props {
                b.finish(id, w, None, now);
            }
            continue;
        }
        let proposals: Vec<Proposal> = props
            .iter()
            .enumerate()
            .map(|(i, (_, w))| {
                let args =
                    shoal_core::prefer_ready_key(&w.args, &key).unwrap_or_else(|| w.args.clone());
                Proposal::new(
                    args,
                    Ctx {
                        now_ms: now,
                        resp3: w.resp3,
                        may_block: true,
                        seed: now.wrapping_mul(31).wrapping_add(i as u64),
                    },
                )
            })
            .collect();
        let result = shard.propose_commands(&proposals).await;
        let mut b = lock(&shard.blocked);
        match result {
            Ok(replies) => {
                for ((id, w), r) in props.into_iter().zip(replies) {
                    let reply = match r {
                        CommandReply::Frame(bytes) => Some(bytes),
                        CommandReply::Blocked { .. } => None,
                    };
                    b.finish(id, w, reply, now);
                }
            }
            Err(ShardError::NotLeader(_)) => {
                // Leadership moved: tell the clients, as Redis does when a master
                // becomes a replica under them.
                for (id, w) in props {
                    let msg = shoal_resp::Frame::static_error(
                        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
                    );
                    let reply = encoded(&msg, w.resp3);
                    b.finish(id, w, Some(reply), now);
                }
            }
            Err(ShardError::Unavailable(_)) => {
                for (id, w) in props {
                    b.finish(id, w, None, now);
                }
            }
        }
    }
    shard.update_tracking();
}

/// Retries a blocked read on the local state.
fn run_local(shard: &ShardHandle, w: &Waiter, now: u64) -> Option<Bytes> {
    let ctx = Ctx {
        now_ms: now,
        resp3: w.resp3,
        may_block: true,
        seed: now,
    };
    let reply = shard.with_db(|db| match shoal_core::parse(&w.args) {
        Err(e) => Some(e),
        Ok(Parsed::Keyspace(_, c)) => match c.apply(db, &ctx) {
            Reply::Frame(f) => Some(f),
            Reply::Block(_) => None,
        },
        Ok(Parsed::Server(..)) => None,
    });
    reply.map(|f| encoded(&f, w.resp3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(deadline_ms: Option<u64>) -> (Waiter, oneshot::Receiver<Bytes>) {
        let (tx, rx) = oneshot::channel();
        let w = Waiter {
            keys: vec![Bytes::from_static(b"k")],
            args: vec![Bytes::from_static(b"BLPOP"), Bytes::from_static(b"k")],
            retry: Retry::Propose,
            resp3: false,
            deadline_ms,
            timeout_reply: Bytes::from_static(b"*-1\r\n"),
            tx,
        };
        (w, rx)
    }

    /// A client whose timeout fires while a retry of its command is in flight waits for
    /// the retry's outcome; if the retry does not serve it, it gets its timeout reply
    /// (it used to get nothing, and was disconnected).
    #[test]
    fn timeout_during_a_retry_that_does_not_serve_answers_the_timeout_reply() {
        let mut b = Blocked::default();
        let (w, mut rx) = waiter(Some(1_000));
        let id = b.add(w);
        let taken = b.take(b"k");
        assert_eq!(taken.len(), 1);
        assert_eq!(b.remove(id), Removal::InFlight);
        let (id, w) = taken.into_iter().next().expect("taken");
        b.finish(id, w, None, 500);
        assert_eq!(rx.try_recv().ok(), Some(Bytes::from_static(b"*-1\r\n")));
        assert!(b.is_empty());
        assert_eq!(b.remove(id), Removal::Gone);
    }

    /// The same race when the retry does serve it: the client gets the served reply.
    #[test]
    fn timeout_during_a_retry_that_serves_answers_the_served_reply() {
        let mut b = Blocked::default();
        let (w, mut rx) = waiter(None);
        let id = b.add(w);
        let taken = b.take(b"k");
        assert_eq!(b.remove(id), Removal::InFlight);
        let (id, w) = taken.into_iter().next().expect("taken");
        b.finish(id, w, Some(Bytes::from_static(b"$1\r\nv\r\n")), 500);
        assert_eq!(rx.try_recv().ok(), Some(Bytes::from_static(b"$1\r\nv\r\n")));
        assert!(b.is_empty());
    }
}
