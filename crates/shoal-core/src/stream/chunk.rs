//! A stream node: up to [`NODE_MAX_ENTRIES`] entries in one contiguous byte buffer, in
//! the spirit of Redis's listpack nodes.
//!
//! Layout of `buf`:
//! - the master fields: varint count, then each field as varint length + bytes (the
//!   fields of the node's first entry, its "master" entry);
//! - entries, each: a flags byte (bit 0: same fields as the master), the ms delta from
//!   the node's master ID (varint), the seq (varint: the delta from the master's seq when
//!   the ms delta is 0, the raw seq otherwise), then the values (same fields) or a varint
//!   field count and field/value pairs, each as varint length + bytes.
//!
//! Deleted entries are removed from the buffer, but the node remembers how many it had
//! (`deleted`) and its Redis listpack size (`lp_bytes`), because Redis's rule for opening
//! a new node counts both: a node takes entries until it holds 100 (live plus deleted) or
//! its listpack reaches 4096 bytes (`stream-node-max-entries` / `stream-node-max-bytes`
//! defaults). Keeping Redis's node boundaries makes `~` trimming, which removes only
//! whole nodes, trim exactly what Redis trims. The buffer is parsed defensively: corrupt
//! bytes (from a bad snapshot) end iteration instead of panicking.

use super::id::StreamId;

/// Redis's `stream-node-max-entries` default.
pub const NODE_MAX_ENTRIES: u32 = 100;
/// Redis's `stream-node-max-bytes` default.
pub const NODE_MAX_BYTES: u64 = 4096;

const SAMEFIELDS: u8 = 1;

/// One node of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub(crate) buf: Vec<u8>,
    /// Live entries.
    pub(crate) live: u32,
    /// Entries deleted from this node (they still count toward its capacity).
    pub(crate) deleted: u32,
    /// Size Redis's listpack for this node would have (it does not shrink on deletes).
    pub(crate) lp_bytes: u32,
    /// ID of the last entry ever appended (deleted or not): Redis's MINID trim looks at it.
    pub(crate) tail: StreamId,
}

/// A decoded entry borrowing from its node.
#[derive(Debug, Clone)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub fields: Vec<(&'a [u8], &'a [u8])>,
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// A bounds-checked reader over a node buffer.
struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

/// Size of a listpack integer entry (encoding + data + 1-byte backlen).
fn lp_int_size(v: i64) -> u64 {
    if (0..=127).contains(&v) {
        2
    } else if (-4096..=4095).contains(&v) {
        3
    } else if (i64::from(i16::MIN)..=i64::from(i16::MAX)).contains(&v) {
        4
    } else if (-8_388_608..=8_388_607).contains(&v) {
        5
    } else if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v) {
        6
    } else {
        10
    }
}

/// Size of a listpack string entry (integers in disguise are stored as integers).
pub(crate) fn lp_str_size(s: &[u8]) -> u64 {
    if let Some(v) = crate::args::parse_i64_strict(s) {
        return lp_int_size(v);
    }
    let n = s.len() as u64;
    let enc = if n <= 63 {
        1 + n
    } else if n <= 4095 {
        2 + n
    } else {
        5 + n
    };
    let back = if enc <= 127 {
        1
    } else if enc < 16383 {
        2
    } else if enc < 2_097_151 {
        3
    } else if enc < 268_435_455 {
        4
    } else {
        5
    };
    enc + back
}

impl Chunk {
    /// A node whose master entry has `fields` (the first entry's field names).
    pub fn new(fields: &[&[u8]]) -> Chunk {
        let mut buf = Vec::new();
        put_varint(&mut buf, fields.len() as u64);
        for f in fields {
            put_bytes(&mut buf, f);
        }
        // listpack header + end byte, then the master entry: count, deleted,
        // num-fields, the fields, the 0 terminator.
        let mut lp = 7 + 2 + 2 + lp_int_size(fields.len() as i64) + 2;
        for f in fields {
            lp += lp_str_size(f);
        }
        Chunk {
            buf,
            live: 0,
            deleted: 0,
            lp_bytes: lp.min(u64::from(u32::MAX)) as u32,
            tail: StreamId::MIN,
        }
    }

    /// Whether Redis would open a new node rather than append an entry whose fields and
    /// values total `elelen` bytes.
    pub fn is_full(&self, elelen: u64) -> bool {
        u64::from(self.lp_bytes) + elelen >= NODE_MAX_BYTES
            || self.live + self.deleted >= NODE_MAX_ENTRIES
    }

    /// The master fields and the offset where entries start.
    fn master(&self) -> Option<(Vec<&[u8]>, usize)> {
        let mut c = Cur {
            b: &self.buf,
            pos: 0,
        };
        let n = c.varint()?;
        let mut fields = Vec::new();
        for _ in 0..n {
            fields.push(c.bytes()?);
        }
        Some((fields, c.pos))
    }

    /// Whether the fields of `pairs` (flat: field, value, ...) are the master fields, in
    /// order: compared in place, on every append.
    fn has_master_fields<P: AsRef<[u8]>>(&self, pairs: &[P]) -> bool {
        let mut c = Cur {
            b: &self.buf,
            pos: 0,
        };
        c.varint().and_then(|n| n.checked_mul(2)) == Some(pairs.len() as u64)
            && pairs
                .iter()
                .step_by(2)
                .all(|f| c.bytes() == Some(f.as_ref()))
    }

    /// Appends an entry (its ID is above every ID in the node). `pairs` is flat:
    /// field, value, field, value...
    pub fn append<P: AsRef<[u8]>>(&mut self, master_id: StreamId, id: StreamId, pairs: &[P]) {
        let same = self.has_master_fields(pairs);
        let ms_delta = id.ms.wrapping_sub(master_id.ms);
        self.buf.push(if same { SAMEFIELDS } else { 0 });
        put_varint(&mut self.buf, ms_delta);
        if ms_delta == 0 {
            put_varint(&mut self.buf, id.seq.wrapping_sub(master_id.seq));
        } else {
            put_varint(&mut self.buf, id.seq);
        }
        let nfields = (pairs.len() / 2) as i64;
        // Redis: flags, ms-diff, seq-diff, [num-fields], fields/values, lp-count.
        let mut lp = 2
            + lp_int_size(ms_delta as i64)
            + lp_int_size(id.seq.wrapping_sub(master_id.seq) as i64);
        if same {
            for v in pairs.iter().skip(1).step_by(2) {
                let v = v.as_ref();
                put_bytes(&mut self.buf, v);
                lp += lp_str_size(v);
            }
            lp += lp_int_size(nfields + 3);
        } else {
            put_varint(&mut self.buf, nfields as u64);
            for x in pairs {
                let x = x.as_ref();
                put_bytes(&mut self.buf, x);
                lp += lp_str_size(x);
            }
            lp += lp_int_size(nfields) + lp_int_size(nfields * 2 + 4);
        }
        self.lp_bytes = (u64::from(self.lp_bytes) + lp).min(u64::from(u32::MAX)) as u32;
        self.live += 1;
        self.tail = id;
    }

    /// Decodes every live entry with its byte span in `buf`.
    pub fn entries(&self, master_id: StreamId) -> Vec<(EntryRef<'_>, usize, usize)> {
        let mut out = Vec::with_capacity(self.live as usize);
        let Some((mf, start)) = self.master() else {
            return out;
        };
        let mut c = Cur {
            b: &self.buf,
            pos: start,
        };
        while c.pos < self.buf.len() {
            let begin = c.pos;
            let Some(e) = Self::decode_one(&mut c, master_id, &mf) else {
                break;
            };
            out.push((e, begin, c.pos));
        }
        out
    }

    fn decode_one<'a>(
        c: &mut Cur<'a>,
        master_id: StreamId,
        mf: &[&'a [u8]],
    ) -> Option<EntryRef<'a>> {
        let flags = c.u8()?;
        let ms_delta = c.varint()?;
        let seq = c.varint()?;
        let id = if ms_delta == 0 {
            StreamId::new(master_id.ms, master_id.seq.wrapping_add(seq))
        } else {
            StreamId::new(master_id.ms.wrapping_add(ms_delta), seq)
        };
        let mut fields = Vec::new();
        if flags & SAMEFIELDS != 0 {
            for f in mf {
                fields.push((*f, c.bytes()?));
            }
        } else {
            let n = c.varint()?;
            for _ in 0..n {
                let f = c.bytes()?;
                let v = c.bytes()?;
                fields.push((f, v));
            }
        }
        Some(EntryRef { id, fields })
    }

    /// IDs of the live entries, in order.
    pub fn ids(&self, master_id: StreamId) -> Vec<StreamId> {
        self.entries(master_id)
            .into_iter()
            .map(|(e, _, _)| e.id)
            .collect()
    }

    /// Removes the live entry `id`; returns whether it was there.
    pub fn remove(&mut self, master_id: StreamId, id: StreamId) -> bool {
        let span = self
            .entries(master_id)
            .into_iter()
            .find(|(e, _, _)| e.id == id)
            .map(|(_, a, b)| (a, b));
        match span {
            Some((a, b)) => {
                self.buf.drain(a..b);
                self.live -= 1;
                self.deleted += 1;
                true
            }
            None => false,
        }
    }

    /// Removes the first `n` live entries.
    pub fn remove_first(&mut self, master_id: StreamId, n: usize) {
        if n == 0 {
            return;
        }
        let spans = self.entries(master_id);
        let Some((_, a, _)) = spans.first() else {
            return;
        };
        let (a, b) = (*a, spans.get(n - 1).map_or(self.buf.len(), |s| s.2));
        let removed = spans.len().min(n) as u32;
        self.buf.drain(a..b);
        self.live -= removed;
        self.deleted += removed;
    }

    /// Heap bytes this node uses.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Checks a node read from a snapshot: it parses, holds `live` entries, IDs ascend
    /// from the master ID and stay below or at `tail`.
    pub fn validate(&self, master_id: StreamId) -> bool {
        let Some((_, start)) = self.master() else {
            return false;
        };
        let mut c = Cur {
            b: &self.buf,
            pos: start,
        };
        let Some((mf, _)) = self.master() else {
            return false;
        };
        let mut n = 0u32;
        let mut prev: Option<StreamId> = None;
        while c.pos < self.buf.len() {
            let Some(e) = Self::decode_one(&mut c, master_id, &mf) else {
                return false;
            };
            if e.id < master_id || prev.is_some_and(|p| e.id <= p) || e.id > self.tail {
                return false;
            }
            prev = Some(e.id);
            n += 1;
        }
        n == self.live && n > 0
    }
}
