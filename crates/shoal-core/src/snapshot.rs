//! Snapshot encoding of a keyspace: versioned, checksummed, canonical.
//!
//! Canonical means that two keyspaces with the same contents encode to the same bytes,
//! whatever order their maps hold entries in: keys are written sorted within each slot,
//! and each type writes unordered collections (sets, hashes) sorted too. The determinism
//! test compares encodings byte for byte; replication ships them to lagging followers.
//!
//! Layout: `SHOALSNP` magic, u16 version, u64 key count, entries, then a CRC-32 of
//! everything before it. An entry: key, optional deadline, type tag, type payload.
//! Integers are little-endian; byte strings are a varint length plus the bytes.

use crate::db::Db;
use crate::hash::Hash;
use crate::list::List;
use crate::set::Set;
use crate::small::SmallBytes;
use crate::stream::Stream;
use crate::value::Value;
use crate::zset::ZSet;

const MAGIC: &[u8; 8] = b"SHOALSNP";
/// 2: stream nodes in the compact layout (`stream/chunk.rs`). Version 1 snapshots hold
/// nodes in the original layout, which this version still reads; a binary that knows only
/// version 1 refuses these instead of misreading their streams.
const VERSION: u16 = 2;
/// The oldest version this binary decodes.
const MIN_VERSION: u16 = 1;

/// Why a snapshot could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "snapshot: {}", self.0)
    }
}

impl std::error::Error for SnapshotError {}

fn err(msg: &str) -> SnapshotError {
    SnapshotError(msg.to_string())
}

/// Appends encoded values to a buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    /// LEB128 unsigned varint.
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

/// Reads encoded values, failing (never panicking) on truncated or corrupt input.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| err("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| err("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    pub fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    pub fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(self.u64()? as i64)
    }
    pub fn f64(&mut self) -> Result<f64, SnapshotError> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub fn varint(&mut self) -> Result<u64, SnapshotError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(err("varint too long"))
    }
    /// A length that must fit in what is left of the input (guards allocations).
    pub fn len(&mut self) -> Result<usize, SnapshotError> {
        let n = self.varint()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(err("length exceeds input"));
        }
        Ok(n as usize)
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.len()?;
        self.take(n)
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

/// A value type that can be written to and read from a snapshot.
pub trait Persist: Sized {
    /// Writes the value canonically (unordered collections sorted).
    fn encode(&self, w: &mut Writer);
    /// Reads a value written by `encode`.
    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError>;
}

const T_STR: u8 = 0;
const T_LIST: u8 = 1;
const T_HASH: u8 = 2;
const T_SET: u8 = 3;
const T_ZSET: u8 = 4;
const T_STREAM: u8 = 5;

fn encode_value(v: &Value, w: &mut Writer) {
    match v {
        Value::Str(s) => {
            w.u8(T_STR);
            w.bytes(s);
        }
        Value::List(l) => {
            w.u8(T_LIST);
            l.encode(w)
        }
        Value::Hash(h) => {
            w.u8(T_HASH);
            h.encode(w)
        }
        Value::Set(s) => {
            w.u8(T_SET);
            s.encode(w)
        }
        Value::ZSet(z) => {
            w.u8(T_ZSET);
            z.encode(w)
        }
        Value::Stream(s) => {
            w.u8(T_STREAM);
            s.encode(w)
        }
    }
}

fn decode_value(r: &mut Reader<'_>) -> Result<Value, SnapshotError> {
    Ok(match r.u8()? {
        T_STR => Value::Str(SmallBytes::new(r.bytes()?)),
        T_LIST => Value::List(Box::new(List::decode(r)?)),
        T_HASH => Value::Hash(Box::new(Hash::decode(r)?)),
        T_SET => Value::Set(Box::new(Set::decode(r)?)),
        T_ZSET => Value::ZSet(Box::new(ZSet::decode(r)?)),
        T_STREAM => Value::Stream(Box::new(Stream::decode(r)?)),
        _ => return Err(err("unknown value type")),
    })
}

impl Db {
    /// Encodes the whole keyspace canonically.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        w.buf.extend_from_slice(&VERSION.to_le_bytes());
        w.u64(self.len() as u64);
        for slot in 0..shoal_slots::SLOT_COUNT {
            let mut entries: Vec<_> = self.slot_entries(slot).collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                w.bytes(k);
                match self.expire_at(k) {
                    Some(at) => {
                        w.u8(1);
                        w.u64(at);
                    }
                    None => w.u8(0),
                }
                encode_value(v, &mut w);
            }
        }
        let crc = crc32fast::hash(&w.buf);
        w.buf.extend_from_slice(&crc.to_le_bytes());
        w.buf
    }

    /// Decodes a snapshot made by [`Db::encode_snapshot`], checking magic, version and CRC.
    pub fn decode_snapshot(buf: &[u8]) -> Result<Db, SnapshotError> {
        if buf.len() < MAGIC.len() + 2 + 8 + 4 {
            return Err(err("too short"));
        }
        let (body, crc) = buf.split_at(buf.len() - 4);
        let mut c = [0u8; 4];
        c.copy_from_slice(crc);
        if crc32fast::hash(body) != u32::from_le_bytes(c) {
            return Err(err("checksum mismatch"));
        }
        if &body[..8] != MAGIC {
            return Err(err("bad magic"));
        }
        let version = u16::from_le_bytes([body[8], body[9]]);
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(SnapshotError(format!("unsupported version {version}")));
        }
        let mut r = Reader::new(&body[10..]);
        let n = r.u64()?;
        let mut db = Db::new();
        for _ in 0..n {
            let key = r.bytes()?;
            let deadline = match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                _ => return Err(err("bad deadline flag")),
            };
            let v = decode_value(&mut r)?;
            db.set(key, v);
            if let Some(at) = deadline {
                db.set_expire(key, at);
            }
        }
        if !r.is_empty() {
            return Err(err("trailing bytes"));
        }
        Ok(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ctx, Parsed, parse};
    use bytes::Bytes;

    fn with_version(snap: &[u8], version: u16) -> Vec<u8> {
        let mut body = snap[..snap.len() - 4].to_vec();
        body[8..10].copy_from_slice(&version.to_le_bytes());
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    /// Snapshots of the previous version still load (their stream nodes are in the
    /// original layout, which `stream::chunk` reads); newer versions are refused.
    #[test]
    fn versions() {
        let mut db = Db::new();
        let args: Vec<Bytes> = ["XADD", "s", "*", "f", "v"]
            .iter()
            .map(|s| Bytes::from_static(s.as_bytes()))
            .collect();
        let Ok(Parsed::Keyspace(_, cmd)) = parse(&args) else {
            panic!("parse");
        };
        let _ = cmd.apply(&mut db, &Ctx::default());
        let snap = db.encode_snapshot();
        let v1 = Db::decode_snapshot(&with_version(&snap, 1)).map(|d| d.encode_snapshot());
        assert_eq!(v1, Ok(snap.clone()));
        assert_eq!(
            Db::decode_snapshot(&with_version(&snap, VERSION + 1)).err(),
            Some(SnapshotError(format!(
                "unsupported version {}",
                VERSION + 1
            )))
        );
    }
}
