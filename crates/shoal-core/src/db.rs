//! `Db`: the keyspace of one shard.
//!
//! Keys live in one [`KeyTable`] per hash slot. Per-slot tables make the operations a
//! cluster needs cheap (count or list a slot's keys, hand a slot to another shard) and
//! give SCAN a stable cursor: the slot number. Each table sits behind an `Arc`, so
//! cloning a `Db` (to snapshot it) copies 16384 pointers; a write then copies only the
//! slot it touches while the snapshot still shares it, as a forked Redis copies only the
//! pages its parent writes. Expiry deadlines are absolute milliseconds held in a
//! side map (as Redis's `expires` dict) plus an index by deadline for active expiry.
//!
//! Determinism: `Db` never reads a clock. Every method that needs "now" takes it as an
//! argument, and the caller takes it from the command's [`crate::Ctx`]. Readers (`get`)
//! treat an expired key as absent but never delete it; writers (`get_mut`, `remove`,
//! `get_or_insert_with`) delete it first, which is deterministic because the write's
//! `now` travels with it.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use foldhash::fast::FixedState;
use hashbrown::HashMap;
use shoal_slots::{SLOT_COUNT, key_slot};

use crate::keytable::KeyTable;
use crate::small::SmallBytes;
use crate::value::Value;

/// Fixed-seed hashing: replicas that apply the same writes build identical tables, so
/// iteration order (KEYS, SCAN, SMEMBERS) is the same on every replica.
pub type Hasher = FixedState;

/// A hash map with the core's deterministic hasher.
pub type Map<K, V> = HashMap<K, V, Hasher>;

/// The hasher every map in the core uses.
pub fn hasher() -> Hasher {
    FixedState::with_seed(0x5d0a_1c0f_fee0_7e11)
}

/// A new empty map with the core's hasher.
pub fn new_map<K, V>() -> Map<K, V> {
    HashMap::with_hasher(hasher())
}

/// Keyspace-notification classes (Redis's `notify-keyspace-events` letters).
pub mod class {
    pub const GENERIC: u16 = 1 << 0; // g
    pub const STRING: u16 = 1 << 1; // $
    pub const LIST: u16 = 1 << 2; // l
    pub const SET: u16 = 1 << 3; // s
    pub const HASH: u16 = 1 << 4; // h
    pub const ZSET: u16 = 1 << 5; // z
    pub const EXPIRED: u16 = 1 << 6; // x
    pub const EVICTED: u16 = 1 << 7; // e
    pub const STREAM: u16 = 1 << 8; // t
    pub const KEY_MISS: u16 = 1 << 9; // m
    pub const NEW: u16 = 1 << 10; // n
}

/// A keyspace event produced by a write: published by the server on
/// `__keyspace@0__:<key>` and `__keyevent@0__:<event>` when enabled.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyEvent {
    pub class: u16,
    pub event: &'static str,
    pub key: Bytes,
}

/// What writes produced besides their replies; the server drains it after applying.
#[derive(Clone, Default, Debug)]
pub struct Effects {
    /// Keys that received data that a blocked client may be waiting for (lists, sorted
    /// sets, streams), in order, possibly repeated.
    pub ready: Vec<Bytes>,
    /// Keyspace events, if any class is enabled.
    pub events: Vec<KeyEvent>,
}

/// The keyspace of one shard (Redis's single database 0).
#[derive(Clone, Debug)]
pub struct Db {
    slots: Vec<Arc<KeyTable>>,
    expiry: Arc<Expiry>,
    len: usize,
    /// Enabled notification classes (0 = none: events are not even built).
    pub notify_classes: u16,
    /// Whether any client is blocked, so ready keys are worth recording. The server keeps
    /// it current; it does not affect state or replies.
    pub track_ready: bool,
    effects: Effects,
}

/// Deadlines: by key (Redis's `expires` dict) and by time, for active expiry.
#[derive(Clone, Debug)]
struct Expiry {
    by_key: Map<SmallBytes, u64>,
    by_deadline: BTreeSet<(u64, SmallBytes)>,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            by_key: new_map(),
            by_deadline: BTreeSet::new(),
        }
    }
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl PartialEq for Db {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.slots == other.slots
            && self.expiry.by_key == other.expiry.by_key
    }
}

impl Db {
    /// An empty keyspace.
    pub fn new() -> Db {
        Db {
            slots: (0..SLOT_COUNT)
                .map(|_| Arc::new(KeyTable::default()))
                .collect(),
            expiry: Arc::new(Expiry::default()),
            len: 0,
            notify_classes: 0,
            track_ready: false,
            effects: Effects::default(),
        }
    }

    /// Number of keys, expired-but-not-yet-deleted ones included (as DBSIZE).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with a deadline.
    pub fn expires_len(&self) -> usize {
        self.expiry.by_key.len()
    }

    fn slot_of(key: &[u8]) -> usize {
        usize::from(key_slot(key))
    }

    /// Whether `key` is absent from a slot a snapshot still shares: a write that misses
    /// must not copy the slot. (An unshared slot needs no look first: no copy happens.)
    fn shared_miss(&mut self, key: &[u8]) -> bool {
        let slot = &mut self.slots[Self::slot_of(key)];
        Arc::get_mut(slot).is_none() && !slot.contains_key(key)
    }

    /// The table of `key`'s slot, for writing (copied first if a snapshot shares it).
    fn slot_mut(&mut self, key: &[u8]) -> &mut KeyTable {
        Arc::make_mut(&mut self.slots[Self::slot_of(key)])
    }

    /// Whether `key`'s deadline has passed at `now` (Redis: expired when now > when).
    fn is_expired(&self, key: &[u8], now: u64) -> bool {
        if self.expiry.by_key.is_empty() {
            return false;
        }
        matches!(self.expiry.by_key.get(key), Some(&when) if now > when)
    }

    /// The value at `key`, or None if missing or expired. Never modifies the keyspace.
    pub fn get(&self, key: &[u8], now: u64) -> Option<&Value> {
        if self.is_expired(key, now) {
            return None;
        }
        self.slots[Self::slot_of(key)].get(key)
    }

    /// Whether `key` exists (and has not expired) at `now`.
    pub fn contains(&self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// Deletes `key` if it has expired at `now`; writers call this before touching a key.
    pub fn expire_if_needed(&mut self, key: &[u8], now: u64) -> bool {
        if self.is_expired(key, now) {
            self.delete(key);
            self.notify(class::EXPIRED, "expired", key);
            true
        } else {
            false
        }
    }

    /// Mutable access to a live value (an expired one is deleted first).
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        self.expire_if_needed(key, now);
        if self.shared_miss(key) {
            return None;
        }
        self.slot_mut(key).get_mut(key)
    }

    /// The live value at `key`, inserting `make()` if there is none.
    pub fn get_or_insert_with(
        &mut self,
        key: &[u8],
        now: u64,
        make: impl FnOnce() -> Value,
    ) -> &mut Value {
        self.expire_if_needed(key, now);
        let slot = Arc::make_mut(&mut self.slots[Self::slot_of(key)]);
        let (v, inserted) = slot.get_or_insert_with(key, make);
        self.len += usize::from(inserted);
        v
    }

    /// Stores `value` at `key`, replacing any old value and clearing its deadline (SET).
    pub fn set(&mut self, key: &[u8], value: Value) {
        self.remove_expire(key);
        self.set_keep_ttl(key, value);
    }

    /// Stores `value` at `key`, keeping any deadline (SET KEEPTTL, in-place updates).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value) {
        match self.slot_mut(key).insert(key, value) {
            Some(old) => {
                if matches!(old, Value::Stream(_)) {
                    self.signal_ready(key);
                }
            }
            None => self.len += 1,
        }
    }

    /// Removes `key` and its deadline, returning the value if it was live at `now`.
    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Value> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.delete(key)
    }

    /// Removes `key` regardless of its deadline.
    fn delete(&mut self, key: &[u8]) -> Option<Value> {
        if self.shared_miss(key) {
            return None;
        }
        let v = self.slot_mut(key).remove(key)?;
        self.len -= 1;
        self.remove_expire(key);
        if matches!(v, Value::Stream(_)) {
            // Clients blocked in XREADGROUP on it must be told (Redis's
            // signalDeletedKeyAsReady).
            self.signal_ready(key);
        }
        Some(v)
    }

    /// The absolute deadline (ms) of a live key, if it has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<u64> {
        self.expiry.by_key.get(key).copied()
    }

    /// Sets the absolute deadline of an existing key. Returns false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64) -> bool {
        if !self.slots[Self::slot_of(key)].contains_key(key) {
            return false;
        }
        let k = SmallBytes::new(key);
        let expiry = Arc::make_mut(&mut self.expiry);
        if let Some(old) = expiry.by_key.insert(k.clone(), at_ms) {
            expiry.by_deadline.remove(&(old, k.clone()));
        }
        expiry.by_deadline.insert((at_ms, k));
        true
    }

    /// Clears a key's deadline. Returns whether it had one.
    pub fn remove_expire(&mut self, key: &[u8]) -> bool {
        if self.expiry.by_key.is_empty() || !self.expiry.by_key.contains_key(key) {
            return false;
        }
        let expiry = Arc::make_mut(&mut self.expiry);
        match expiry.by_key.remove_entry(key) {
            Some((k, at)) => {
                expiry.by_deadline.remove(&(at, k));
                true
            }
            None => false,
        }
    }

    /// Deletes up to `limit` keys whose deadline passed before `now`, returning them.
    /// The server runs this as a replicated write (Redis's active expire cycle).
    pub fn purge_expired(&mut self, now: u64, limit: usize) -> Vec<Bytes> {
        let mut gone = Vec::new();
        while gone.len() < limit {
            let Some((at, key)) = self.expiry.by_deadline.first().cloned() else {
                break;
            };
            if at >= now {
                break;
            }
            self.delete(&key);
            self.notify(class::EXPIRED, "expired", &key);
            gone.push(Bytes::copy_from_slice(&key));
        }
        gone
    }

    /// The earliest deadline of any key, if any key has one.
    pub fn next_deadline(&self) -> Option<u64> {
        self.expiry.by_deadline.first().map(|(at, _)| *at)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        if self.track_ready {
            let streams: Vec<Bytes> = self
                .iter()
                .filter(|(_, v)| matches!(v, Value::Stream(_)))
                .map(|(k, _)| Bytes::copy_from_slice(k))
                .collect();
            for k in streams {
                self.signal_ready(&k);
            }
        }
        for s in &mut self.slots {
            if !s.is_empty() {
                *s = Arc::new(KeyTable::default());
            }
        }
        self.expiry = Arc::new(Expiry::default());
        self.len = 0;
    }

    /// Number of keys in `slot` (CLUSTER COUNTKEYSINSLOT).
    pub fn slot_len(&self, slot: u16) -> usize {
        self.slots.get(usize::from(slot)).map_or(0, |m| m.len())
    }

    /// The keys and values of one slot, in the map's (deterministic) order.
    pub fn slot_entries(&self, slot: u16) -> impl Iterator<Item = (&SmallBytes, &Value)> {
        self.slots
            .get(usize::from(slot))
            .into_iter()
            .flat_map(|t| t.iter())
    }

    /// Every key and value, slot by slot.
    pub fn iter(&self) -> impl Iterator<Item = (&SmallBytes, &Value)> {
        self.slots.iter().flat_map(|t| t.iter())
    }

    /// One SCAN step: the live keys of whole slots, starting at slot `cursor`, until at
    /// least `count` keys were visited. Returns the next cursor (0 when done). A key that
    /// exists for the whole scan is returned exactly once because each slot is returned
    /// whole in one step.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        now: u64,
        mut visit: impl FnMut(&SmallBytes, &Value),
    ) -> u64 {
        let mut slot = cursor as usize;
        let mut seen = 0usize;
        while slot < self.slots.len() {
            for (k, v) in self.slots[slot].iter() {
                seen += 1;
                if !self.is_expired(k, now) {
                    visit(k, v);
                }
            }
            slot += 1;
            if seen >= count {
                break;
            }
        }
        if slot >= self.slots.len() {
            0
        } else {
            slot as u64
        }
    }

    /// Records that `key` got data a blocked client may want.
    pub fn signal_ready(&mut self, key: &[u8]) {
        if self.track_ready {
            self.effects.ready.push(Bytes::copy_from_slice(key));
        }
    }

    /// Takes the ready keys recorded since the last call.
    pub fn take_ready(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.effects.ready)
    }

    /// Takes the keyspace events recorded since the last call.
    pub fn take_events(&mut self) -> Vec<KeyEvent> {
        std::mem::take(&mut self.effects.events)
    }

    /// Records a keyspace event if its class is enabled.
    pub fn notify(&mut self, class: u16, event: &'static str, key: &[u8]) {
        if self.notify_classes & class != 0 {
            self.effects.events.push(KeyEvent {
                class,
                event,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// Takes the effects recorded since the last call.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    /// Whether any effect is pending (cheap check on the hot path).
    pub fn has_effects(&self) -> bool {
        !self.effects.ready.is_empty() || !self.effects.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(SmallBytes::new(v.as_bytes()))
    }

    #[test]
    fn a_clone_is_a_snapshot_that_writes_do_not_reach() {
        let mut db = Db::new();
        db.set(b"a", s("1"));
        db.set(b"b", s("2"));
        db.set_expire(b"b", 100);
        let snap = db.clone();
        db.set(b"a", s("changed"));
        assert!(db.remove(b"b", 0).is_some());
        assert!(db.remove(b"missing", 0).is_none());
        db.set(b"c", s("3"));
        if let Some(Value::Str(v)) = db.get_mut(b"c", 0) {
            *v = SmallBytes::new(b"4");
        }
        assert_eq!(snap.get(b"a", 0), Some(&s("1")));
        assert_eq!(snap.get(b"b", 0), Some(&s("2")));
        assert_eq!(snap.expire_at(b"b"), Some(100));
        assert_eq!(snap.get(b"c", 0), None);
        assert_eq!(snap.len(), 2);
        assert_eq!(db.get(b"a", 0), Some(&s("changed")));
        assert_eq!(db.get(b"c", 0), Some(&s("4")));
        assert_eq!(db.expire_at(b"b"), None);
        assert_eq!(db.len(), 2);
    }
}
