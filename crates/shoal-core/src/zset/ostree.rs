//! `OsTree`: an ordered map with O(log n) rank, select (n-th element) and range start.
//!
//! Sorted sets need ZRANK, ZRANGE by index and ZCOUNT in O(log n); sets and hashes need
//! a uniform random pick (SPOP, SRANDMEMBER, HRANDFIELD) and a SCAN cursor that survive a
//! snapshot round trip. `BTreeMap` cannot rank or select in O(log n), so this is a treap
//! whose nodes carry their subtree size (an order-statistic tree).
//!
//! Determinism: everything observable (order, ranks, the n-th element) depends only on
//! the contents, never on the tree's shape, so replicas that built the same contents by
//! different histories (or from a snapshot) answer identically. Heap priorities come
//! from a per-tree splitmix64 stream, not from the keys, so clients cannot craft keys
//! that degenerate the tree; all operations are iterative (no recursion), so even an
//! unlucky shape cannot overflow the stack.
//!
//! Nodes live in one `Vec` (u32 links, dense: a removed node's slot is filled by moving
//! the last node into it), which costs ~16 bytes per element on top of key and value.

use std::cmp::Ordering;

const NIL: u32 = u32::MAX;

#[derive(Clone)]
struct Node<K, V> {
    key: K,
    val: V,
    left: u32,
    right: u32,
    size: u32,
    prio: u32,
}

/// An order-statistic ordered map.
#[derive(Clone)]
pub struct OsTree<K, V> {
    nodes: Vec<Node<K, V>>,
    root: u32,
    rng: u64,
}

impl<K: Ord, V> Default for OsTree<K, V> {
    fn default() -> Self {
        OsTree::new()
    }
}

impl<K: Ord, V> OsTree<K, V> {
    /// An empty tree.
    pub fn new() -> Self {
        OsTree {
            nodes: Vec::new(),
            root: NIL,
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn next_prio(&mut self) -> u32 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z >> 32) as u32
    }

    fn n(&self, i: u32) -> &Node<K, V> {
        &self.nodes[i as usize]
    }

    fn nm(&mut self, i: u32) -> &mut Node<K, V> {
        &mut self.nodes[i as usize]
    }

    fn size(&self, i: u32) -> u32 {
        if i == NIL { 0 } else { self.n(i).size }
    }

    fn update(&mut self, i: u32) {
        let s = 1 + self.size(self.n(i).left) + self.size(self.n(i).right);
        self.nm(i).size = s;
    }

    /// Points `parent`'s link to `old` (or the root, if no parent) at `new`.
    fn relink(&mut self, parent: Option<u32>, old: u32, new: u32) {
        match parent {
            None => self.root = new,
            Some(p) => {
                if self.n(p).left == old {
                    self.nm(p).left = new;
                } else {
                    self.nm(p).right = new;
                }
            }
        }
    }

    /// Inserts `key`→`val`; if the key is present its value is replaced and returned.
    pub fn insert(&mut self, key: K, val: V) -> Option<V> {
        let mut path: Vec<(u32, bool)> = Vec::new();
        let mut cur = self.root;
        while cur != NIL {
            match key.cmp(&self.n(cur).key) {
                Ordering::Equal => return Some(std::mem::replace(&mut self.nm(cur).val, val)),
                Ordering::Less => {
                    path.push((cur, true));
                    cur = self.n(cur).left;
                }
                Ordering::Greater => {
                    path.push((cur, false));
                    cur = self.n(cur).right;
                }
            }
        }
        let prio = self.next_prio();
        let x = self.nodes.len() as u32;
        self.nodes.push(Node {
            key,
            val,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        });
        for &(p, _) in &path {
            self.nm(p).size += 1;
        }
        match path.last() {
            None => self.root = x,
            Some(&(p, true)) => self.nm(p).left = x,
            Some(&(p, false)) => self.nm(p).right = x,
        }
        // Rotate the new node up while its priority beats its parent's.
        while let Some((p, went_left)) = path.pop() {
            if self.n(p).prio >= prio {
                break;
            }
            if went_left {
                let xr = self.n(x).right;
                self.nm(p).left = xr;
                self.nm(x).right = p;
            } else {
                let xl = self.n(x).left;
                self.nm(p).right = xl;
                self.nm(x).left = p;
            }
            self.update(p);
            self.update(x);
            self.relink(path.last().map(|&(g, _)| g), p, x);
        }
        None
    }

    /// Finds the entry for which `cmp(key)` (the entry's key compared to the target) is
    /// Equal, with its rank.
    pub fn find_by(&self, cmp: impl Fn(&K) -> Ordering) -> Option<(usize, &K, &V)> {
        let mut cur = self.root;
        let mut rank = 0usize;
        while cur != NIL {
            let node = self.n(cur);
            match cmp(&node.key) {
                Ordering::Equal => {
                    return Some((rank + self.size(node.left) as usize, &node.key, &node.val));
                }
                Ordering::Greater => cur = node.left,
                Ordering::Less => {
                    rank += self.size(node.left) as usize + 1;
                    cur = node.right;
                }
            }
        }
        None
    }

    fn locate(&self, cmp: &impl Fn(&K) -> Ordering) -> Option<u32> {
        let mut cur = self.root;
        while cur != NIL {
            let node = self.n(cur);
            match cmp(&node.key) {
                Ordering::Equal => return Some(cur),
                Ordering::Greater => cur = node.left,
                Ordering::Less => cur = node.right,
            }
        }
        None
    }

    /// Mutable access to the value of the entry matching `cmp` (keys cannot change).
    pub fn get_mut_by(&mut self, cmp: impl Fn(&K) -> Ordering) -> Option<&mut V> {
        let i = self.locate(&cmp)?;
        Some(&mut self.nm(i).val)
    }

    /// Removes the entry matching `cmp`.
    pub fn remove_by(&mut self, cmp: impl Fn(&K) -> Ordering) -> Option<(K, V)> {
        let mut path: Vec<u32> = Vec::new();
        let mut cur = self.root;
        loop {
            if cur == NIL {
                return None;
            }
            match cmp(&self.n(cur).key) {
                Ordering::Equal => break,
                Ordering::Greater => {
                    path.push(cur);
                    cur = self.n(cur).left;
                }
                Ordering::Less => {
                    path.push(cur);
                    cur = self.n(cur).right;
                }
            }
        }
        let x = cur;
        // Rotate x down until it has at most one child, then splice it out.
        loop {
            let (l, r) = (self.n(x).left, self.n(x).right);
            if l == NIL || r == NIL {
                let child = if l == NIL { r } else { l };
                self.relink(path.last().copied(), x, child);
                break;
            }
            let c = if self.n(l).prio > self.n(r).prio {
                let cr = self.n(l).right;
                self.nm(x).left = cr;
                self.nm(l).right = x;
                l
            } else {
                let cl = self.n(r).left;
                self.nm(x).right = cl;
                self.nm(r).left = x;
                r
            };
            self.update(x);
            self.update(c);
            self.relink(path.last().copied(), x, c);
            path.push(c);
        }
        for &p in &path {
            self.nm(p).size -= 1;
        }
        Some(self.free(x))
    }

    /// Takes node `x` (already unlinked) out of the arena, moving the last node into its
    /// slot so the arena stays dense.
    fn free(&mut self, x: u32) -> (K, V) {
        let last = (self.nodes.len() - 1) as u32;
        if x != last {
            // Find the parent of `last` by its key and point it at the new slot.
            let mut parent = None;
            let mut cur = self.root;
            while cur != NIL && cur != last {
                parent = Some(cur);
                cur = match self.n(last).key.cmp(&self.n(cur).key) {
                    Ordering::Less => self.n(cur).left,
                    _ => self.n(cur).right,
                };
            }
            self.relink(parent, last, x);
        }
        let node = self.nodes.swap_remove(x as usize);
        if self.nodes.capacity() > 64 && self.nodes.len() < self.nodes.capacity() / 4 {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
        if self.nodes.is_empty() {
            self.root = NIL;
        }
        (node.key, node.val)
    }

    /// Number of leading entries for which `pred` holds (`pred` must be true for a
    /// prefix of the order and false after it).
    pub fn partition_point(&self, pred: impl Fn(&K) -> bool) -> usize {
        let mut cur = self.root;
        let mut count = 0usize;
        while cur != NIL {
            let node = self.n(cur);
            if pred(&node.key) {
                count += self.size(node.left) as usize + 1;
                cur = node.right;
            } else {
                cur = node.left;
            }
        }
        count
    }

    /// The entry at rank `i` (0-based).
    pub fn nth(&self, mut i: usize) -> Option<(&K, &V)> {
        let mut cur = self.root;
        while cur != NIL {
            let node = self.n(cur);
            let ls = self.size(node.left) as usize;
            match i.cmp(&ls) {
                Ordering::Less => cur = node.left,
                Ordering::Equal => return Some((&node.key, &node.val)),
                Ordering::Greater => {
                    i -= ls + 1;
                    cur = node.right;
                }
            }
        }
        None
    }

    /// All entries in order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.iter_from(0)
    }

    /// Entries in order, starting at rank `rank`.
    pub fn iter_from(&self, mut rank: usize) -> Iter<'_, K, V> {
        let mut stack = Vec::new();
        let mut cur = self.root;
        while cur != NIL {
            let node = self.n(cur);
            let ls = self.size(node.left) as usize;
            match rank.cmp(&ls) {
                Ordering::Less => {
                    stack.push(cur);
                    cur = node.left;
                }
                Ordering::Equal => {
                    stack.push(cur);
                    break;
                }
                Ordering::Greater => {
                    rank -= ls + 1;
                    cur = node.right;
                }
            }
        }
        Iter {
            tree: self,
            stack,
            rev: false,
        }
    }

    /// Entries in reverse order, starting at rank `rank` and going down.
    pub fn iter_rev_from(&self, mut rank: usize) -> Iter<'_, K, V> {
        let mut stack = Vec::new();
        let mut cur = self.root;
        while cur != NIL {
            let node = self.n(cur);
            let ls = self.size(node.left) as usize;
            match rank.cmp(&ls) {
                Ordering::Less => cur = node.left,
                Ordering::Equal => {
                    stack.push(cur);
                    break;
                }
                Ordering::Greater => {
                    stack.push(cur);
                    rank -= ls + 1;
                    cur = node.right;
                }
            }
        }
        Iter {
            tree: self,
            stack,
            rev: true,
        }
    }
}

/// An in-order (or reverse-order) iterator.
pub struct Iter<'a, K, V> {
    tree: &'a OsTree<K, V>,
    stack: Vec<u32>,
    rev: bool,
}

impl<'a, K: Ord, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.stack.pop()?;
        let t = self.tree;
        let node = t.n(i);
        if self.rev {
            let mut c = node.left;
            while c != NIL {
                self.stack.push(c);
                c = t.n(c).right;
            }
        } else {
            let mut c = node.right;
            while c != NIL {
                self.stack.push(c);
                c = t.n(c).left;
            }
        }
        Some((&node.key, &node.val))
    }
}

impl<K: Ord, V: PartialEq> PartialEq for OsTree<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Ord + std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for OsTree<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn check<V: PartialEq + std::fmt::Debug>(t: &OsTree<u32, V>, m: &BTreeMap<u32, V>) {
        assert_eq!(t.len(), m.len());
        let a: Vec<_> = t.iter().collect();
        let b: Vec<_> = m.iter().collect();
        assert_eq!(a, b);
        for (r, (k, _)) in m.iter().enumerate() {
            assert_eq!(t.find_by(|x| x.cmp(k)).map(|f| f.0), Some(r));
            assert_eq!(t.nth(r).map(|e| *e.0), Some(*k));
            assert_eq!(t.iter_from(r).next().map(|e| *e.0), Some(*k));
            assert_eq!(t.iter_rev_from(r).next().map(|e| *e.0), Some(*k));
            assert_eq!(t.partition_point(|x| x < k), r);
        }
        assert!(t.nth(m.len()).is_none());
        let rev: Vec<_> = t
            .iter_rev_from(m.len().saturating_sub(1))
            .map(|e| *e.0)
            .collect();
        let mut keys: Vec<_> = m.keys().copied().collect();
        keys.reverse();
        if !m.is_empty() {
            assert_eq!(rev, keys);
        }
    }

    #[test]
    fn matches_btreemap() {
        let mut rng = crate::rand::Rng::new(3);
        let mut t: OsTree<u32, usize> = OsTree::new();
        let mut m = BTreeMap::new();
        for step in 0..4000 {
            let k = rng.below(300) as u32;
            if rng.below(3) == 0 {
                assert_eq!(t.remove_by(|x| x.cmp(&k)).map(|e| e.1), m.remove(&k));
            } else {
                assert_eq!(t.insert(k, step), m.insert(k, step));
            }
            if step % 97 == 0 {
                check(&t, &m);
            }
        }
        check(&t, &m);
        while let Some((&k, _)) = t.nth(0) {
            t.remove_by(|x: &u32| x.cmp(&k));
            m.remove(&k);
        }
        check(&t, &m);
        assert!(t.is_empty());
    }

    #[test]
    fn sorted_inserts_stay_shallow() {
        // A treap with random priorities: sorted input must not build a list.
        let mut t = OsTree::new();
        for i in 0..100_000u32 {
            t.insert(i, ());
        }
        assert_eq!(t.partition_point(|&x| x < 50_000), 50_000);
        assert_eq!(t.nth(99_999).map(|e| *e.0), Some(99_999));
    }
}

/// A map keyed by byte strings, ordered by (hash of the key, key): the storage of sets,
/// hashes and the member index of sorted sets.
///
/// The hash order is canonical (a function of the contents only) and pseudo-random, which
/// gives SCAN a u64 cursor with Redis's guarantee (an element present for the whole scan
/// is returned at least once: the cursor is the hash where the next call resumes) and
/// gives random picks (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) a uniform O(log n)
/// `nth` that every replica answers alike, snapshot-restored or not.
#[derive(Clone, PartialEq)]
pub struct ByteMap<V> {
    tree: OsTree<(u64, crate::small::SmallBytes), V>,
}

impl<V> Default for ByteMap<V> {
    fn default() -> Self {
        ByteMap {
            tree: OsTree::new(),
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for ByteMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (crate::small::SmallBytes::new(k), v)),
            )
            .finish()
    }
}

/// The position of `k` in a [`ByteMap`]'s order.
pub fn key_hash(k: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    crate::db::hasher().hash_one(k)
}

fn by(h: u64, k: &[u8]) -> impl Fn(&(u64, crate::small::SmallBytes)) -> Ordering + '_ {
    move |e| e.0.cmp(&h).then_with(|| e.1.as_slice().cmp(k))
}

impl<V> ByteMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn get(&self, k: &[u8]) -> Option<&V> {
        self.tree.find_by(by(key_hash(k), k)).map(|e| e.2)
    }

    pub fn contains(&self, k: &[u8]) -> bool {
        self.get(k).is_some()
    }

    pub fn get_mut(&mut self, k: &[u8]) -> Option<&mut V> {
        self.tree.get_mut_by(by(key_hash(k), k))
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&mut self, k: &[u8], v: V) -> Option<V> {
        let h = key_hash(k);
        if let Some(slot) = self.tree.get_mut_by(by(h, k)) {
            return Some(std::mem::replace(slot, v));
        }
        self.tree.insert((h, crate::small::SmallBytes::new(k)), v);
        None
    }

    pub fn remove(&mut self, k: &[u8]) -> Option<V> {
        self.tree.remove_by(by(key_hash(k), k)).map(|e| e.1)
    }

    /// The entry at position `i` of the canonical order.
    pub fn nth(&self, i: usize) -> Option<(&[u8], &V)> {
        self.tree.nth(i).map(|(k, v)| (k.1.as_slice(), v))
    }

    /// All entries in the canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.tree.iter().map(|(k, v)| (k.1.as_slice(), v))
    }

    /// One SCAN step: entries whose hash is at least `cursor`, about `count` of them
    /// (never splitting a run of equal hashes), and the next cursor (0 when done).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(&[u8], &V)>) {
        let start = self.tree.partition_point(|e| e.0 < cursor);
        let mut out = Vec::new();
        let mut last_hash = None;
        for (k, v) in self.tree.iter_from(start) {
            if out.len() >= count.max(1) && last_hash != Some(k.0) {
                return (k.0, out);
            }
            last_hash = Some(k.0);
            out.push((k.1.as_slice(), v));
        }
        (0, out)
    }
}
