//! The stream value: entries in compact nodes, counters, and consumer groups with their
//! pending entries lists (PELs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use super::chunk::{Chunk, EntryRef};
use super::id::StreamId;

/// A consumer group's `entries-read` when unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A pending entry: delivered to `consumer`, not acknowledged yet (Redis's NACK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Last delivery time, ms since the epoch.
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Bytes,
}

/// A consumer of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Last time it tried to interact (XREADGROUP, XCLAIM, XAUTOCLAIM).
    pub seen_time: i64,
    /// Last time it read or claimed something (-1: never), Redis 7.2's `active-time`.
    pub active_time: i64,
    /// Its pending IDs (the NACKs live in the group's PEL).
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    pub fn new(now: i64) -> Consumer {
        Consumer {
            seen_time: now,
            active_time: -1,
            pel: BTreeSet::new(),
        }
    }
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in byte order (Redis keeps them in a rax).
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates `name` if missing; returns whether it did.
    pub fn ensure_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers
            .insert(Bytes::copy_from_slice(name), Consumer::new(now));
        true
    }

    /// Removes `id` from the PEL and its consumer's PEL; returns whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives the pending entry `id` to `consumer` (which must exist), creating the NACK
    /// if needed, with the given delivery time and count.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, time: i64, count: u64) {
        if let Some(old) = self.pel.get(&id).map(|n| n.consumer.clone())
            && old != *consumer
            && let Some(c) = self.consumers.get_mut(&old)
        {
            c.pel.remove(&id);
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: time,
                delivery_count: count,
                consumer: consumer.clone(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// A stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    /// Nodes by master ID (the ID of the first entry ever appended to the node).
    ///
    /// Shared, copied on write: a snapshot in progress holds a clone of the keyspace, and
    /// the first write to this stream after it then copies the node index and the one
    /// node it changes, not every entry (a deep copy of a million-entry stream stalled
    /// every client for tens of milliseconds on the apply path). Memory is about the
    /// same: the B-tree holds a pointer instead of the node's header, which moves next to
    /// the reference count.
    pub(crate) chunks: BTreeMap<StreamId, Arc<Chunk>>,
    pub(crate) length: u64,
    pub last_id: StreamId,
    /// First live entry's ID (0-0 when empty): XINFO's `recorded-first-entry-id`.
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Bytes, Group>,
}

/// How to trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

/// A parsed trim request (XADD/XTRIM options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    pub strategy: TrimStrategy,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// Most entries to remove (0: no limit).
    pub limit: u64,
}

impl Stream {
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.chunks.len()
    }

    /// Appends an entry with `id` (above `last_id`, checked by the caller).
    pub fn append<P: AsRef<[u8]>>(&mut self, id: StreamId, pairs: &[P]) {
        let elelen: u64 = pairs.iter().map(|p| p.as_ref().len() as u64).sum();
        let need_new = match self.chunks.last_key_value() {
            None => true,
            Some((_, c)) => c.is_full(elelen),
        };
        if need_new {
            // The node we leave will not grow again: give back its slack. A stream's
            // nodes tend to be alike, so the next starts with room for what this one
            // holds (and a sixteenth) instead of growing through doublings.
            let mut hint = 0;
            if let Some(mut last) = self.chunks.last_entry() {
                let c = Arc::make_mut(last.get_mut());
                c.buf.shrink_to_fit();
                hint = c.buf.len() + c.buf.len() / 16;
            }
            let mut c = Chunk::new(pairs);
            c.buf.reserve(hint.saturating_sub(c.buf.len()));
            self.chunks.insert(id, Arc::new(c));
        }
        if let Some(mut last) = self.chunks.last_entry() {
            let master = *last.key();
            Arc::make_mut(last.get_mut()).append(master, id, pairs);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Visits entries with `start <= id <= end`, ascending (or descending with `rev`),
    /// until `f` returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(&EntryRef<'_>) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            // The node holding `start` begins at or before it.
            let first = self
                .chunks
                .range(..=start)
                .next_back()
                .map_or(start, |(k, _)| *k);
            for (k, c) in self.chunks.range(first..=end) {
                for (e, _, _) in c.entries(*k) {
                    if e.id < start {
                        continue;
                    }
                    if e.id > end || !f(&e) {
                        return;
                    }
                }
            }
        } else {
            for (k, c) in self.chunks.range(..=end).rev() {
                if c.tail < start {
                    return;
                }
                for (e, _, _) in c.entries(*k).into_iter().rev() {
                    if e.id > end {
                        continue;
                    }
                    if e.id < start || !f(&e) {
                        return;
                    }
                }
            }
        }
    }

    /// The entry `id` as owned field/value pairs, if it exists.
    pub fn get(&self, id: StreamId) -> Option<Vec<(Bytes, Bytes)>> {
        let mut out = None;
        self.range(id, id, false, |e| {
            out = Some(
                e.fields
                    .iter()
                    .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
                    .collect(),
            );
            false
        });
        out
    }

    pub fn contains(&self, id: StreamId) -> bool {
        let Some((k, c)) = self.chunks.range(..=id).next_back() else {
            return false;
        };
        id <= c.tail && c.ids(*k).contains(&id)
    }

    /// First live entry's ID.
    pub fn first_live_id(&self) -> Option<StreamId> {
        let (k, c) = self.chunks.first_key_value()?;
        c.ids(*k).first().copied()
    }

    /// Last live entry's ID (`streamLastValidID`).
    pub fn last_live_id(&self) -> Option<StreamId> {
        let (k, c) = self.chunks.last_key_value()?;
        c.ids(*k).last().copied()
    }

    /// Deletes entry `id` (XDEL's `streamDeleteItem`); a node left empty goes away.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&k, c)) = self.chunks.range_mut(..=id).next_back() else {
            return false;
        };
        if id > c.tail || !Arc::make_mut(c).remove(k, id) {
            return false;
        }
        if c.live == 0 {
            self.chunks.remove(&k);
        }
        self.length -= 1;
        true
    }

    /// Recomputes `first_id` after deletions.
    pub fn refresh_first_id(&mut self) {
        self.first_id = if self.length == 0 {
            StreamId::MIN
        } else {
            self.first_live_id().unwrap_or_default()
        };
    }

    /// Redis's `streamTrim`: returns how many entries were removed.
    pub fn trim(&mut self, t: &Trim) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let TrimStrategy::MaxLen(m) = t.strategy
                && self.length <= m
            {
                break;
            }
            let Some((&k, c)) = self.chunks.first_key_value() else {
                break;
            };
            let entries = u64::from(c.live);
            if t.limit != 0 && deleted + entries > t.limit {
                break;
            }
            let remove_node = match t.strategy {
                TrimStrategy::MaxLen(m) => self.length - entries >= m,
                TrimStrategy::MinId(min) => c.tail < min,
            };
            if remove_node {
                self.chunks.remove(&k);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if t.approx {
                break;
            }
            // Trim inside this node, then stop.
            let n = match t.strategy {
                TrimStrategy::MaxLen(m) => (self.length - m) as usize,
                TrimStrategy::MinId(min) => c.ids(k).iter().take_while(|i| **i < min).count(),
            };
            if let Some(c) = self.chunks.get_mut(&k) {
                Arc::make_mut(c).remove_first(k, n);
            }
            self.length -= n as u64;
            deleted += n as u64;
            break;
        }
        self.refresh_first_id();
        deleted
    }

    /// Redis's `streamRangeHasTombstones` (from `start`, to the end).
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of
    /// `id`, or [`INVALID_ENTRIES_READ`] when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            }
            if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, or None when unknown (`streamReplyWithCGLag`).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(g.last_id) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        if er != INVALID_ENTRIES_READ {
            Some(self.entries_added as i64 - er)
        } else {
            None
        }
    }

    /// Number of radix-tree nodes Redis's rax would hold for this stream's node keys
    /// (XINFO's `radix-tree-nodes`): a compressed trie over the 16-byte big-endian IDs.
    pub fn rax_nodes(&self) -> u64 {
        let keys: Vec<[u8; 16]> = self.chunks.keys().map(|k| k.key_bytes()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_count(&keys, 0)
    }

    /// Approximate heap bytes used by entries (nodes and their index).
    pub fn entries_heap_size(&self) -> usize {
        self.chunks
            .values()
            .map(|c| c.heap_size() + std::mem::size_of::<Chunk>() + 16 + 16 + 8)
            .sum()
    }
}

/// Nodes of a compressed trie over sorted, distinct, equal-length `keys` from `depth`.
fn rax_count(keys: &[[u8; 16]], depth: usize) -> u64 {
    if depth >= 16 {
        return 1;
    }
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        return 0;
    };
    // Common prefix of the sorted set = common prefix of its first and last key.
    let mut d = depth;
    while d < 16 && first[d] == last[d] {
        d += 1;
    }
    if d > depth {
        // One compressed node for the shared run.
        return 1 + rax_count(keys, d);
    }
    // A branching node, one child per distinct byte.
    let mut n = 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][depth];
        let mut j = i;
        while j < keys.len() && keys[j][depth] == b {
            j += 1;
        }
        n += rax_count(&keys[i..j], depth + 1);
        i = j;
    }
    n
}
