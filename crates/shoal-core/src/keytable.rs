//! `KeyTable`: the keys of one hash slot, stored densely.
//!
//! A plain hash map stores each key and value inside its buckets, and a table that has
//! just doubled is up to half empty: at a million keys that slack alone costs tens of
//! bytes per key. Here the entries live in a `Vec` grown by 1.25×, and the hash
//! table holds only a `u32` index per bucket, so empty buckets cost 5 bytes instead of
//! an entry's 48. (This is the layout of CPython's compact dict and of `indexmap`,
//! without the cached hash, which costs more memory than rehashing a short key.)
//!
//! Order: entries iterate in insertion order, except that a removal moves the last entry
//! into the hole. It depends only on the sequence of writes, so replicas that apply the
//! same log iterate identically.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::db::hasher;
use crate::small::SmallBytes;
use crate::value::Value;

/// One slot's keys and values.
#[derive(Clone, Default)]
pub struct KeyTable {
    index: HashTable<u32>,
    entries: Vec<(SmallBytes, Value)>,
}

fn hash(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

impl KeyTable {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash(key), |&i| entries[i as usize].0.as_slice() == key)
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    /// The value at `key`, inserting `make()` first if absent; the flag says whether it
    /// was inserted.
    pub fn get_or_insert_with(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> Value,
    ) -> (&mut Value, bool) {
        match self.position(key) {
            Some(i) => (&mut self.entries[i].1, false),
            None => {
                let i = self.push(key, make());
                (&mut self.entries[i].1, true)
            }
        }
    }

    /// Stores `value` at `key`; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: Value) -> Option<Value> {
        match self.position(key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.push(key, value);
                None
            }
        }
    }

    /// Appends a key known to be absent; returns its position.
    fn push(&mut self, key: &[u8], value: Value) -> usize {
        let i = self.entries.len();
        if i == self.entries.capacity() {
            // 1.25× growth: at most a fifth of the entry array is slack. Growing a
            // slot's short array costs little next to the memory it saves.
            self.entries.reserve_exact((i / 4).max(2));
        }
        self.entries.push((SmallBytes::new(key), value));
        let entries = &self.entries;
        self.index
            .insert_unique(hash(key), i as u32, |&j| hash(&entries[j as usize].0));
        i
    }

    /// Removes `key`, moving the last entry into its place.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let entries = &self.entries;
        let found = self
            .index
            .find_entry(hash(key), |&i| entries[i as usize].0.as_slice() == key)
            .ok()?;
        let (i, _) = found.remove();
        let i = i as usize;
        let last = self.entries.len() - 1;
        if i != last {
            let moved = hash(&self.entries[last].0);
            if let Some(slot) = self.index.find_mut(moved, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        let (_, v) = self.entries.swap_remove(i);
        // Give memory back after mass deletions, as Redis shrinks a dict below 10 % fill.
        if self.entries.capacity() > 16 && self.entries.len() * 4 < self.entries.capacity() {
            self.entries.shrink_to(self.entries.len() * 2);
            let entries = &self.entries;
            self.index
                .shrink_to(entries.len(), |&j| hash(&entries[j as usize].0));
        }
        Some(v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&SmallBytes, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// Same keys with equal values, whatever the order.
impl PartialEq for KeyTable {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl std::fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a KeyTable {
    type Item = (&'a SmallBytes, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (SmallBytes, Value)>,
        fn(&'a (SmallBytes, Value)) -> (&'a SmallBytes, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(SmallBytes::new(v.as_bytes()))
    }

    #[test]
    fn insert_get_remove_keep_the_index_consistent() {
        let mut t = KeyTable::default();
        for i in 0..1000 {
            assert!(t.insert(format!("k{i}").as_bytes(), s("v")).is_none());
        }
        assert_eq!(t.len(), 1000);
        // Remove every other key: each removal moves the last entry.
        for i in (0..1000).step_by(2) {
            assert_eq!(t.remove(format!("k{i}").as_bytes()), Some(s("v")));
            assert_eq!(t.remove(format!("k{i}").as_bytes()), None);
        }
        for i in 0..1000 {
            assert_eq!(
                t.contains_key(format!("k{i}").as_bytes()),
                i % 2 == 1,
                "k{i}"
            );
        }
        let (v, inserted) = t.get_or_insert_with(b"k1", || s("new"));
        assert!(!inserted);
        assert_eq!(*v, s("v"));
        let (v, inserted) = t.get_or_insert_with(b"k0", || s("new"));
        assert!(inserted);
        assert_eq!(*v, s("new"));
        for i in 0..1000 {
            t.remove(format!("k{i}").as_bytes());
        }
        assert!(t.is_empty());
        assert!(t.entries.capacity() <= 16);
    }

    #[test]
    fn equality_ignores_order() {
        let mut a = KeyTable::default();
        let mut b = KeyTable::default();
        a.insert(b"x", s("1"));
        a.insert(b"y", s("2"));
        b.insert(b"y", s("2"));
        b.insert(b"x", s("1"));
        assert_eq!(a, b);
        b.insert(b"x", s("3"));
        assert_ne!(a, b);
    }
}
