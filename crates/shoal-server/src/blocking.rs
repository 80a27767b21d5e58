//! Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK, XREADGROUP BLOCK, ...).
//!
//! A blocked client leaves a [`Waiter`] here holding the command to retry. When a write
//! signals a key ready, the writer — still holding the shard lock — retries the waiters of
//! that key in the order they blocked and hands each one that can now be served its reply.
//! That makes "first blocked, first served" and "the pop happens atomically with the push
//! that enabled it" hold exactly as in Redis.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use shoal_core::{Command, Ctx, Db, Parsed, Reply};
use shoal_resp::Frame;
use tokio::sync::oneshot;

/// A parked command.
pub struct Waiter {
    pub keys: Vec<Bytes>,
    /// The retry as request arguments (`Block::retry_args`, else the original request):
    /// reordered per ready key by [`shoal_core::prefer_ready_key`].
    pub args: Vec<Bytes>,
    /// The retry when the arguments cannot be reordered.
    pub retry: Command,
    pub resp3: bool,
    pub tx: oneshot::Sender<Frame>,
}

/// Waiters by id and by key (FIFO per key).
#[derive(Default)]
pub struct Blocked {
    waiters: HashMap<u64, Waiter>,
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

    /// Removes a waiter (timeout, disconnect). Returns false if it was already served.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(w) = self.waiters.remove(&id) else {
            return false;
        };
        for k in &w.keys {
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Serves the waiters of every key `db` has signalled ready, in blocking order, until
    /// no more can be served. `now` and `seed` are the context the retries run with.
    pub fn serve(&mut self, db: &mut Db, now: u64, seed: u64) {
        let mut ready: VecDeque<Bytes> = db.take_ready().into();
        while let Some(key) = ready.pop_front() {
            let Some(ids) = self.by_key.get(&key).cloned() else {
                continue;
            };
            for id in ids {
                let Some(w) = self.waiters.get(&id) else {
                    continue;
                };
                if w.tx.is_closed() {
                    // The client went away: never pop data on its behalf.
                    self.remove(id);
                    continue;
                }
                let ctx = Ctx {
                    now_ms: now,
                    resp3: w.resp3,
                    may_block: true,
                    seed,
                };
                // Redis serves a ready key's waiters from that key first.
                let retry = shoal_core::prefer_ready_key(&w.args, &key)
                    .and_then(|a| match shoal_core::parse(&a) {
                        Ok(Parsed::Keyspace(_, c)) => Some(c),
                        _ => None,
                    })
                    .unwrap_or_else(|| w.retry.clone());
                match retry.apply(db, &ctx) {
                    Reply::Block(_) => {}
                    Reply::Frame(f) => {
                        if let Some(w) = self.take(id) {
                            let _ = w.tx.send(f);
                        }
                        ready.extend(db.take_ready());
                    }
                }
            }
        }
    }

    fn take(&mut self, id: u64) -> Option<Waiter> {
        let w = self.waiters.get(&id)?;
        let keys = w.keys.clone();
        for k in &keys {
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        self.waiters.remove(&id)
    }
}
