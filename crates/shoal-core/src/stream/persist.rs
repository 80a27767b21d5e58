//! Snapshot encoding of a stream, with full fidelity: nodes as they are (so node
//! boundaries, and with them `~` trimming, survive a restart), counters, groups, PELs
//! with delivery times and counts, consumers with their times. Groups, consumers and
//! PELs are ordered maps, so the encoding is canonical.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::chunk::Chunk;
use super::id::StreamId;
use super::types::{Consumer, Group, Nack, Stream};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};

fn bad(msg: &str) -> SnapshotError {
    SnapshotError(format!("stream: {msg}"))
}

fn put_id(w: &mut Writer, id: StreamId) {
    w.u64(id.ms);
    w.u64(id.seq);
}

fn get_id(r: &mut Reader<'_>) -> Result<StreamId, SnapshotError> {
    Ok(StreamId::new(r.u64()?, r.u64()?))
}

fn get_u32(r: &mut Reader<'_>) -> Result<u32, SnapshotError> {
    u32::try_from(r.varint()?).map_err(|_| bad("counter overflow"))
}

impl Persist for Stream {
    fn encode(&self, w: &mut Writer) {
        put_id(w, self.last_id);
        put_id(w, self.first_id);
        put_id(w, self.max_deleted);
        w.u64(self.entries_added);
        w.u64(self.length);
        w.varint(self.chunks.len() as u64);
        for (k, c) in &self.chunks {
            put_id(w, *k);
            put_id(w, c.tail);
            w.varint(u64::from(c.live));
            w.varint(u64::from(c.deleted));
            w.varint(u64::from(c.lp_bytes));
            w.bytes(&c.buf);
        }
        w.varint(self.groups.len() as u64);
        for (name, g) in &self.groups {
            w.bytes(name);
            put_id(w, g.last_id);
            w.i64(g.entries_read);
            w.varint(g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                w.bytes(cname);
                w.i64(c.seen_time);
                w.i64(c.active_time);
            }
            w.varint(g.pel.len() as u64);
            for (id, n) in &g.pel {
                put_id(w, *id);
                w.i64(n.delivery_time);
                w.u64(n.delivery_count);
                w.bytes(&n.consumer);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut s = Stream {
            last_id: get_id(r)?,
            first_id: get_id(r)?,
            max_deleted: get_id(r)?,
            entries_added: r.u64()?,
            length: r.u64()?,
            ..Stream::default()
        };
        let nchunks = r.len()?;
        let mut total = 0u64;
        let mut prev_tail: Option<StreamId> = None;
        for _ in 0..nchunks {
            let key = get_id(r)?;
            let tail = get_id(r)?;
            let c = Chunk {
                tail,
                live: get_u32(r)?,
                deleted: get_u32(r)?,
                lp_bytes: get_u32(r)?,
                buf: r.bytes()?.to_vec(),
            };
            if prev_tail.is_some_and(|p| key <= p) || !c.validate(key) || tail > s.last_id {
                return Err(bad("corrupt node"));
            }
            prev_tail = Some(tail);
            total += u64::from(c.live);
            s.chunks.insert(key, std::sync::Arc::new(c));
        }
        if total != s.length {
            return Err(bad("length mismatch"));
        }
        let ngroups = r.len()?;
        for _ in 0..ngroups {
            let name = Bytes::copy_from_slice(r.bytes()?);
            let mut g = Group::new(get_id(r)?, r.i64()?);
            let nconsumers = r.len()?;
            for _ in 0..nconsumers {
                let cname = Bytes::copy_from_slice(r.bytes()?);
                let mut c = Consumer::new(r.i64()?);
                c.active_time = r.i64()?;
                g.consumers.insert(cname, c);
            }
            let npel = r.len()?;
            let mut pel = BTreeMap::new();
            for _ in 0..npel {
                let id = get_id(r)?;
                let n = Nack {
                    delivery_time: r.i64()?,
                    delivery_count: r.u64()?,
                    consumer: Bytes::copy_from_slice(r.bytes()?),
                };
                let Some(c) = g.consumers.get_mut(&n.consumer) else {
                    return Err(bad("pending entry of an unknown consumer"));
                };
                c.pel.insert(id);
                pel.insert(id, n);
            }
            g.pel = pel;
            s.groups.insert(name, g);
        }
        Ok(s)
    }
}
