//! A stream node: up to [`NODE_MAX_ENTRIES`] entries in one contiguous byte buffer, in
//! the spirit of Redis's listpack nodes.
//!
//! Layout of `buf` (the "compact" layout every new node gets):
//! - a 0 byte (what tells this layout from the original one below), then the master
//!   entry: varint field count, then each field and its value as varint length + bytes
//!   (the first entry's fields and values; they stay when that entry is deleted);
//! - entries, each starting with a header byte: bit 0 set when the entry has the master's
//!   fields, bits 1-7 a tag `t` for its ID: `1..=126`: the master's ms and the master's
//!   seq + `t` (a burst of appends within a millisecond, the common case, in one byte);
//!   127: varint ms delta from the master, seq 0 (a stream written less than once a
//!   millisecond); 0: varint ms delta, then the seq (the delta from the master's seq when
//!   the ms delta is 0, the raw seq otherwise);
//! - then, with the master's fields, each value as varint (length + 1) + bytes, or a 0
//!   for "the master's value" (telemetry repeats values such as a sensor's name); with
//!   other fields, a varint field count and field/value pairs as varint length + bytes.
//!
//! The original layout (nodes written before the compact one, read from older
//! snapshots; never written now): the master fields only (varint count, each field), then
//! entries of a flags byte (bit 0: the master's fields), the varint ms delta and seq as
//! after tag 0 above, and the values (or count and pairs) as plain varint length + bytes.
//! A master entry has at least one field, so its count never starts with the 0 byte.
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

/// Header bit: the entry has the master's fields.
const SAMEFIELDS: u8 = 1;
/// First byte of a compact node.
const COMPACT: u8 = 0;
/// Compact entry header tags (bits 1-7): explicit ms delta and seq follow.
const TAG_EXPLICIT: u8 = 0;
/// Largest seq delta a compact header holds by itself.
const TAG_MAX_SEQ: u64 = 126;
/// Compact entry header tag: ms delta follows, seq 0.
const TAG_MS_ONLY: u8 = 127;

/// A node's master entry, parsed.
struct Master<'a> {
    fields: Vec<&'a [u8]>,
    /// The master's values (compact nodes; the original layout kept none).
    values: Option<Vec<&'a [u8]>>,
    /// Where the entries start.
    start: usize,
}

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
    /// A node whose master entry is `pairs` (flat: field, value, ...; the first entry's).
    pub fn new<P: AsRef<[u8]>>(pairs: &[P]) -> Chunk {
        let nfields = pairs.len() / 2;
        let mut buf = vec![COMPACT];
        put_varint(&mut buf, nfields as u64);
        for x in &pairs[..nfields * 2] {
            put_bytes(&mut buf, x.as_ref());
        }
        // listpack header + end byte, then the master entry: count, deleted,
        // num-fields, the fields, the 0 terminator.
        let mut lp = 7 + 2 + 2 + lp_int_size(nfields as i64) + 2;
        for f in pairs.iter().step_by(2) {
            lp += lp_str_size(f.as_ref());
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

    /// The master entry and the offset where entries start.
    fn master(&self) -> Option<Master<'_>> {
        let mut c = Cur {
            b: &self.buf,
            pos: 0,
        };
        let compact = self.buf.first() == Some(&COMPACT);
        if compact {
            c.pos = 1;
        }
        let n = c.varint()?;
        let mut fields = Vec::new();
        let mut values = compact.then(Vec::new);
        for _ in 0..n {
            fields.push(c.bytes()?);
            if let Some(v) = values.as_mut() {
                v.push(c.bytes()?);
            }
        }
        Some(Master {
            fields,
            values,
            start: c.pos,
        })
    }

    /// Appends an entry (its ID is above every ID in the node). `pairs` is flat:
    /// field, value, field, value...
    pub fn append<P: AsRef<[u8]>>(&mut self, master_id: StreamId, id: StreamId, pairs: &[P]) {
        let compact = self.buf.first() == Some(&COMPACT);
        // Which values equal the master's (bit i: value i), or None when the fields are
        // not the master's; compared in place, on every append.
        let same = self.same_as_master(compact, pairs);
        let ms_delta = id.ms.wrapping_sub(master_id.ms);
        let seq_delta = id.seq.wrapping_sub(master_id.seq);
        let flag = if same.is_some() { SAMEFIELDS } else { 0 };
        if !compact {
            self.buf.push(flag);
            self.put_id_deltas(ms_delta, id.seq, seq_delta);
        } else if ms_delta == 0 && (1..=TAG_MAX_SEQ).contains(&seq_delta) {
            self.buf.push(flag | (seq_delta as u8) << 1);
        } else if ms_delta != 0 && id.seq == 0 {
            self.buf.push(flag | TAG_MS_ONLY << 1);
            put_varint(&mut self.buf, ms_delta);
        } else {
            self.buf.push(flag | TAG_EXPLICIT << 1);
            self.put_id_deltas(ms_delta, id.seq, seq_delta);
        }
        let nfields = (pairs.len() / 2) as i64;
        // Redis: flags, ms-diff, seq-diff, [num-fields], fields/values, lp-count.
        let mut lp = 2 + lp_int_size(ms_delta as i64) + lp_int_size(seq_delta as i64);
        if let Some(same_values) = same {
            for (i, v) in pairs.iter().skip(1).step_by(2).enumerate() {
                let v = v.as_ref();
                if !compact {
                    put_bytes(&mut self.buf, v);
                } else if i < 64 && same_values & (1 << i) != 0 {
                    self.buf.push(0);
                } else {
                    put_varint(&mut self.buf, v.len() as u64 + 1);
                    self.buf.extend_from_slice(v);
                }
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

    /// The ID after the original layout's flags byte (and a compact header's tag 0).
    fn put_id_deltas(&mut self, ms_delta: u64, seq: u64, seq_delta: u64) {
        put_varint(&mut self.buf, ms_delta);
        put_varint(&mut self.buf, if ms_delta == 0 { seq_delta } else { seq });
    }

    /// None unless the fields of `pairs` are the master's, in order; then a bit set per
    /// value (of the first 64) equal to the master's value (compact nodes only).
    fn same_as_master<P: AsRef<[u8]>>(&self, compact: bool, pairs: &[P]) -> Option<u64> {
        let mut c = Cur {
            b: &self.buf,
            pos: usize::from(compact),
        };
        if c.varint()?.checked_mul(2)? != pairs.len() as u64 {
            return None;
        }
        let mut same = 0u64;
        for (i, pair) in pairs.chunks_exact(2).enumerate() {
            if c.bytes()? != pair[0].as_ref() {
                return None;
            }
            if compact && c.bytes()? == pair[1].as_ref() && i < 64 {
                same |= 1 << i;
            }
        }
        Some(same)
    }

    /// Decodes every live entry with its byte span in `buf`.
    pub fn entries(&self, master_id: StreamId) -> Vec<(EntryRef<'_>, usize, usize)> {
        let mut out = Vec::with_capacity(self.live as usize);
        let Some(m) = self.master() else {
            return out;
        };
        let mut c = Cur {
            b: &self.buf,
            pos: m.start,
        };
        while c.pos < self.buf.len() {
            let begin = c.pos;
            let Some(e) = Self::decode_one(&mut c, master_id, &m) else {
                break;
            };
            out.push((e, begin, c.pos));
        }
        out
    }

    fn decode_one<'a>(
        c: &mut Cur<'a>,
        master_id: StreamId,
        m: &Master<'a>,
    ) -> Option<EntryRef<'a>> {
        let header = c.u8()?;
        let tag = if m.values.is_some() {
            header >> 1
        } else {
            TAG_EXPLICIT
        };
        let (ms_delta, seq) = match tag {
            TAG_EXPLICIT => (c.varint()?, c.varint()?),
            TAG_MS_ONLY => (c.varint()?, 0),
            t => (0, u64::from(t)),
        };
        let id = if ms_delta == 0 {
            StreamId::new(master_id.ms, master_id.seq.wrapping_add(seq))
        } else {
            StreamId::new(master_id.ms.wrapping_add(ms_delta), seq)
        };
        let mut fields = Vec::new();
        if header & SAMEFIELDS != 0 {
            for (i, f) in m.fields.iter().enumerate() {
                let v = match &m.values {
                    None => c.bytes()?,
                    Some(mv) => match c.varint()? {
                        0 => mv.get(i)?,
                        n => {
                            let end = c.pos.checked_add(usize::try_from(n - 1).ok()?)?;
                            let v = c.b.get(c.pos..end)?;
                            c.pos = end;
                            v
                        }
                    },
                };
                fields.push((*f, v));
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
        let Some(m) = self.master() else {
            return false;
        };
        let mut c = Cur {
            b: &self.buf,
            pos: m.start,
        };
        let mut n = 0u32;
        let mut prev: Option<StreamId> = None;
        while c.pos < self.buf.len() {
            let Some(e) = Self::decode_one(&mut c, master_id, &m) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn owned(c: &Chunk, master: StreamId) -> Owned {
        c.entries(master)
            .into_iter()
            .map(|(e, _, _)| {
                let f = e.fields.iter().map(|(f, v)| (f.to_vec(), v.to_vec()));
                (e.id, f.collect())
            })
            .collect()
    }

    fn pairs(kv: &[(&str, &str)]) -> Vec<Vec<u8>> {
        kv.iter()
            .flat_map(|(k, v)| [k.as_bytes().to_vec(), v.as_bytes().to_vec()])
            .collect()
    }

    /// Every ID shape of the compact header, with repeated, changed and other fields,
    /// reads back as written, survives `validate`, and deletes cleanly.
    #[test]
    fn compact_layout_round_trips() {
        let m = StreamId::new(1000, 5);
        let ids = [
            m,                          // the master: explicit tag
            StreamId::new(1000, 6),     // seq delta 1
            StreamId::new(1000, 131),   // seq delta 126, the largest in one byte
            StreamId::new(1000, 132),   // seq delta 127: explicit
            StreamId::new(1001, 0),     // ms only
            StreamId::new(1001, 1),     // ms delta and raw seq
            StreamId::new(u64::MAX, 0), // ms only, the largest delta
        ];
        let bodies = [
            pairs(&[("sensor", "temp"), ("value", "22.5")]),
            pairs(&[("sensor", "temp"), ("value", "22.6")]),
            pairs(&[("sensor", "hum"), ("value", "22.5")]),
            pairs(&[("sensor", ""), ("value", "")]),
            pairs(&[("other", "x")]),
            pairs(&[("value", "22.5"), ("sensor", "temp")]),
            pairs(&[("sensor", "temp"), ("value", "22.5")]),
        ];
        let mut c = Chunk::new(&bodies[0]);
        let mut want = Vec::new();
        for (id, body) in ids.iter().zip(&bodies) {
            c.append(m, *id, body);
            let fv = body.chunks(2).map(|p| (p[0].clone(), p[1].clone()));
            want.push((*id, fv.collect::<Vec<_>>()));
        }
        assert_eq!(owned(&c, m), want);
        assert!(c.validate(m));
        // Entries with the master's values take a header byte and a byte per value.
        let lens: Vec<usize> = c.entries(m).iter().map(|(_, a, b)| b - a).collect();
        assert_eq!(lens[1], 1 + 1 + 1 + 4);
        assert_eq!(lens[6], 1 + 10 + 1 + 1);
        // Deleting the master entry keeps its values for the others.
        assert!(c.remove(m, m));
        want.remove(0);
        assert_eq!(owned(&c, m), want);
        assert!(c.validate(m));
    }

    /// A node with more than 64 fields compares only the first 64 values.
    #[test]
    fn many_fields() {
        let kv: Vec<(String, String)> = (0..70).map(|i| (format!("f{i}"), "v".into())).collect();
        let body: Vec<Vec<u8>> = kv
            .iter()
            .flat_map(|(k, v)| [k.clone().into_bytes(), v.clone().into_bytes()])
            .collect();
        let m = StreamId::new(1, 1);
        let mut c = Chunk::new(&body);
        c.append(m, m, &body);
        c.append(m, StreamId::new(1, 2), &body);
        let got = owned(&c, m);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|(_, f)| f.len() == 70 && f[69].1 == b"v"));
        assert!(c.validate(m));
    }

    /// Nodes in the original layout (from snapshots written before the compact one) read
    /// as before and take further entries in their own layout.
    #[test]
    fn original_layout_still_reads() {
        let m = StreamId::new(7, 0);
        // Master fields ["temp"]; entries 7-0 {temp: 22.5}, 9-3 {a: b}.
        let mut buf = vec![1, 4];
        buf.extend_from_slice(b"temp");
        buf.extend_from_slice(&[SAMEFIELDS, 0, 0, 4]);
        buf.extend_from_slice(b"22.5");
        buf.extend_from_slice(&[0, 2, 3, 1, 1, b'a', 1, b'b']);
        let mut c = Chunk {
            buf,
            live: 2,
            deleted: 0,
            lp_bytes: 100,
            tail: StreamId::new(9, 3),
        };
        assert!(c.validate(m));
        c.append(m, StreamId::new(9, 4), &pairs(&[("temp", "23")]));
        let got = owned(&c, m);
        let ids: Vec<StreamId> = got.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [m, StreamId::new(9, 3), StreamId::new(9, 4)],
            "{got:?}"
        );
        assert_eq!(got[0].1, [(b"temp".to_vec(), b"22.5".to_vec())]);
        assert_eq!(got[1].1, [(b"a".to_vec(), b"b".to_vec())]);
        assert_eq!(got[2].1, [(b"temp".to_vec(), b"23".to_vec())]);
        assert!(c.validate(m));
    }
}
