//! XREAD [COUNT n] [BLOCK ms] STREAMS key... id...
//! XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...
//!
//! XREADGROUP is a write: it moves the group's last-delivered ID, creates PEL entries
//! and the consumer. With BLOCK and nothing to serve, both return [`Reply::Block`] with a
//! retry command whose `$` IDs are resolved and whose COUNT defaults to 1000, as Redis
//! serves woken readers.

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{INVALID_ID, StreamId, parse_id_generic};
use super::types::{Group, Stream};
use super::{StreamCommand, c_str, cmd, read_stream, write_entry};
use crate::args::{ParseResult, is, parse_i64_strict};
use crate::command::{Block, Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::value::Value;

/// COUNT of a woken blocked reader that gave none (`XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: u64 = 1000;

/// One stream's ID argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadId {
    /// `$`: the stream's last ID when the command runs.
    Last,
    /// `>`: entries never delivered to the group.
    New,
    Id(StreamId),
    /// Unparsable; reported in order, after the key checks of earlier streams.
    Invalid,
}

/// A parsed XREAD or XREADGROUP.
#[derive(Clone, Debug, PartialEq)]
pub struct XRead {
    /// 0: no limit.
    pub count: u64,
    /// BLOCK milliseconds (0: forever).
    pub block: Option<u64>,
    /// (group, consumer) for XREADGROUP.
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
    pub keys: Vec<Bytes>,
    pub ids: Vec<ReadId>,
    /// Set on the retry of a blocked reader: a key that stopped being a stream, or a
    /// group that went away, is reported as Redis reports it to blocked clients instead
    /// of as a fresh command's error.
    pub retry: bool,
}

/// Key positions: the first half of the arguments after STREAMS (`xreadGetKeys`).
pub fn keys(a: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    let mut streams = None;
    while i < a.len() {
        let x = &a[i];
        if is(x, "block") || is(x, "count") {
            i += 1;
        } else if is(x, "group") {
            i += 2;
        } else if is(x, "noack") {
            // no argument
        } else if is(x, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(sp) = streams else {
        return Vec::new();
    };
    let num = a.len() - sp - 1;
    if num == 0 || !num.is_multiple_of(2) {
        return Vec::new();
    }
    (sp + 1..sp + 1 + num / 2).collect()
}

fn parse_read(a: &[Bytes], xreadgroup: bool) -> ParseResult<Command> {
    let mut count = 0u64;
    let mut block = None;
    let mut group = None;
    let mut noack = false;
    let mut streams_arg = 0;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - i - 1;
        let o = &a[i];
        if is(o, "block") && more > 0 {
            i += 1;
            let t = parse_i64_strict(&a[i]).ok_or_else(|| {
                Frame::static_error("ERR timeout is not an integer or out of range")
            })?;
            if t < 0 {
                return Err(Frame::static_error(error::TIMEOUT_NEGATIVE));
            }
            block = Some(t as u64);
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = crate::args::parse_i64(&a[i])?.max(0) as u64;
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if !(a.len() - streams_arg).is_multiple_of(2) {
                return Err(Frame::static_error(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if is(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(Frame::static_error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if is(o, "noack") {
            if !xreadgroup {
                return Err(Frame::static_error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(Frame::static_error(error::SYNTAX));
    }
    if xreadgroup && group.is_none() {
        return Err(Frame::static_error(
            "ERR Missing GROUP option for XREADGROUP",
        ));
    }
    let n = (a.len() - streams_arg) / 2;
    let keys = a[streams_arg..streams_arg + n].to_vec();
    let ids = a[streams_arg + n..]
        .iter()
        .map(|x| match &x[..] {
            b"$" => ReadId::Last,
            b">" => ReadId::New,
            _ => parse_id_generic(x, 0, true, false).map_or(ReadId::Invalid, |p| ReadId::Id(p.id)),
        })
        .collect();
    Ok(cmd(StreamCommand::Read(Box::new(XRead {
        count,
        block,
        group,
        noack,
        keys,
        ids,
        retry: false,
    }))))
}

pub fn parse_xread(a: &[Bytes]) -> ParseResult<Command> {
    parse_read(a, false)
}

pub fn parse_xreadgroup(a: &[Bytes]) -> ParseResult<Command> {
    parse_read(a, true)
}

fn nogroup(key: &[u8], group: &[u8]) -> Frame {
    Frame::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        c_str(key),
        c_str(group)
    ))
}

/// The internal command a woken reader is retried with: `__xreadretry XREAD|XREADGROUP
/// <the command's arguments>`. It parses as the command it wraps, flagged as a retry
/// (which changes how vanished keys and groups are reported, as Redis reports them to
/// blocked clients). Clients cannot send it (the table marks it INTERNAL).
pub fn parse_retry(a: &[Bytes]) -> ParseResult<Command> {
    let inner = a.get(1..).unwrap_or(&[]);
    let group = inner.first().is_some_and(|n| is(n, "xreadgroup"));
    let mut c = parse_read(inner, group)?;
    if let Command::Stream(StreamCommand::Read(r)) = &mut c {
        r.retry = true;
    }
    Ok(c)
}

/// Key positions of `__xreadretry`: those of the wrapped command, one further right.
pub fn retry_keys(a: &[Bytes]) -> Vec<usize> {
    keys(a.get(1..).unwrap_or(&[]))
        .into_iter()
        .map(|i| i + 1)
        .collect()
}

impl XRead {
    /// This read as `__xreadretry` arguments (IDs resolved: a retry never holds `$`).
    pub fn retry_args(&self) -> Vec<Bytes> {
        let mut a: Vec<Bytes> = vec![Bytes::from_static(b"__xreadretry")];
        a.push(Bytes::from_static(if self.group.is_some() {
            b"XREADGROUP"
        } else {
            b"XREAD"
        }));
        if let Some((g, c)) = &self.group {
            a.extend([Bytes::from_static(b"GROUP"), g.clone(), c.clone()]);
        }
        if self.count > 0 {
            a.push(Bytes::from_static(b"COUNT"));
            a.push(Bytes::from(self.count.to_string()));
        }
        if let Some(ms) = self.block {
            a.push(Bytes::from_static(b"BLOCK"));
            a.push(Bytes::from(ms.to_string()));
        }
        if self.noack {
            a.push(Bytes::from_static(b"NOACK"));
        }
        a.push(Bytes::from_static(b"STREAMS"));
        a.extend(self.keys.iter().cloned());
        a.extend(self.ids.iter().map(|id| match id {
            ReadId::New => Bytes::from_static(b">"),
            ReadId::Id(id) => Bytes::from(format!("{}-{}", id.ms, id.seq)),
            // Resolved before a reader blocks; kept parseable all the same.
            ReadId::Last => Bytes::from_static(b"$"),
            ReadId::Invalid => Bytes::from_static(b"invalid"),
        }));
        a
    }

    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        if self.retry
            && let Some(reply) = self.check_retry(db, ctx)
        {
            return reply;
        }
        // Check every stream first (types, groups, IDs): an error replies before any
        // state changes. `$` resolves here.
        let mut start_ids = Vec::with_capacity(self.keys.len());
        for (key, rid) in self.keys.iter().zip(&self.ids) {
            let s = match read_stream(db, key, now) {
                Ok(s) => s,
                Err(e) => return Reply::Frame(e),
            };
            if let Some((g, _)) = &self.group
                && s.is_none_or(|s| !s.groups.contains_key(g))
            {
                return Reply::Frame(nogroup(key, g));
            }
            let id = match rid {
                ReadId::Last => {
                    if self.group.is_some() {
                        return Reply::Frame(Frame::static_error(
                            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                        ));
                    }
                    ReadId::Id(s.map_or(StreamId::MIN, |s| s.last_id))
                }
                ReadId::New => {
                    if self.group.is_none() {
                        return Reply::Frame(Frame::static_error(
                            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                        ));
                    }
                    ReadId::New
                }
                ReadId::Id(id) => ReadId::Id(*id),
                ReadId::Invalid => return Reply::Frame(Frame::static_error(INVALID_ID)),
            };
            start_ids.push(id);
        }

        let mut served: Vec<(Bytes, Frame)> = Vec::new();
        match &self.group {
            None => {
                for (key, rid) in self.keys.iter().zip(&start_ids) {
                    let Ok(Some(s)) = read_stream(db, key, now) else {
                        continue;
                    };
                    let ReadId::Id(gt) = *rid else { continue };
                    if let Some(frames) = read_new(s, gt, self.count) {
                        served.push((key.clone(), frames));
                    }
                }
            }
            Some((gname, cname)) => {
                for (key, rid) in self.keys.iter().zip(&start_ids) {
                    if let Some(f) = self.serve_group(db, now, key, gname, cname, *rid) {
                        served.push((key.clone(), f));
                    }
                }
            }
        }

        if !served.is_empty() {
            return Reply::Frame(if ctx.resp3 {
                Frame::Map(
                    served
                        .into_iter()
                        .map(|(k, f)| (Frame::Bulk(k), f))
                        .collect(),
                )
            } else {
                Frame::Array(
                    served
                        .into_iter()
                        .map(|(k, f)| Frame::Array(vec![Frame::Bulk(k), f]))
                        .collect(),
                )
            });
        }
        match self.block {
            Some(ms) if ctx.may_block => {
                let retry_ids = if self.group.is_some() {
                    self.ids.clone()
                } else {
                    start_ids
                };
                let retry = XRead {
                    count: if self.count == 0 {
                        BLOCKED_DEFAULT_COUNT
                    } else {
                        self.count
                    },
                    ids: retry_ids,
                    keys: self.keys.clone(),
                    retry: true,
                    ..self
                };
                Reply::Block(Box::new(Block {
                    keys: retry.keys.clone(),
                    retry_args: Some(retry.retry_args()),
                    // Redis 7.0.15 has no overflow check for XREAD's millisecond
                    // timeout: `now + ms` wraps and the client waits forever.
                    deadline_ms: if ms == 0 {
                        None
                    } else {
                        now.checked_add(ms).filter(|&d| d <= i64::MAX as u64)
                    },
                    retry: cmd(StreamCommand::Read(Box::new(retry))),
                    timeout_reply: Frame::NullArray,
                }))
            }
            _ => Reply::Frame(Frame::NullArray),
        }
    }

    /// A woken blocked reader whose keys changed under it, as Redis 7.0 treats it
    /// (`handleClientsBlockedOnKeys`): an XREADGROUP whose key no longer holds a stream
    /// (deleted, expired, overwritten, flushed) gets `-UNBLOCKED`, one whose group was
    /// destroyed gets `-NOGROUP`; an XREAD whose key holds another type keeps waiting on
    /// it (its other keys may still serve it). None: serve normally.
    fn check_retry(&self, db: &mut Db, ctx: &Ctx) -> Option<Reply> {
        let now = ctx.now_ms;
        for key in &self.keys {
            match (read_stream(db, key, now), &self.group) {
                (Ok(Some(s)), Some((g, _))) if !s.groups.contains_key(g) => {
                    return Some(Reply::Frame(Frame::static_error(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    )));
                }
                (Ok(Some(_)), _) | (Ok(None), None) => {}
                (Ok(None) | Err(_), Some(_)) => {
                    return Some(Reply::Frame(Frame::static_error(
                        "UNBLOCKED the stream key no longer exists",
                    )));
                }
                (Err(_), None) => {
                    // Serve from the keys that are still streams, if any can; otherwise
                    // the server keeps the waiter as it is.
                    let mut keep = self.clone();
                    let (keys, ids) = self
                        .keys
                        .iter()
                        .zip(&self.ids)
                        .filter(|(k, _)| read_stream(db, k, now).is_ok())
                        .map(|(k, i)| (k.clone(), *i))
                        .unzip();
                    keep.keys = keys;
                    keep.ids = ids;
                    keep.retry = false;
                    if keep.keys.is_empty() {
                        return Some(Reply::Block(Box::new(Block {
                            keys: Vec::new(),
                            deadline_ms: None,
                            retry_args: Some(self.retry_args()),
                            retry: cmd(StreamCommand::Read(Box::new(self.clone()))),
                            timeout_reply: Frame::NullArray,
                        })));
                    }
                    return Some(keep.apply(db, ctx));
                }
            }
        }
        None
    }

    /// Serves one stream of an XREADGROUP, or None when there is nothing to serve now.
    fn serve_group(
        &self,
        db: &mut Db,
        now: u64,
        key: &Bytes,
        gname: &Bytes,
        cname: &Bytes,
        rid: ReadId,
    ) -> Option<Frame> {
        let nowi = now as i64;
        let s = match db.get_mut(key, now) {
            Some(Value::Stream(s)) => s,
            _ => return None,
        };
        let servable = match rid {
            ReadId::Id(_) => true,
            _ => {
                let g = s.groups.get(gname)?;
                !s.is_empty() && s.last_live_id().is_some_and(|m| m > g.last_id)
            }
        };
        if !servable {
            // Redis 7.0 creates (and marks seen) the consumer only when it serves it
            // synchronously: a reader that blocks or gets nil leaves no consumer behind.
            return None;
        }
        let mut g = s.groups.remove(gname)?;
        let created = g.ensure_consumer(cname, nowi);
        if let Some(c) = g.consumers.get_mut(cname) {
            c.seen_time = nowi;
        }
        let out = match rid {
            ReadId::Id(id) => serve_history(s, &mut g, cname, id, self.count, nowi),
            _ => serve_new(s, &mut g, cname, self.count, self.noack, nowi),
        };
        s.groups.insert(gname.clone(), g);
        if created {
            db.notify(class::STREAM, "xgroup-createconsumer", key);
        }
        Some(out)
    }
}

/// XREAD's entries after `gt`, or None when there are none.
fn read_new(s: &Stream, gt: StreamId, count: u64) -> Option<Frame> {
    let maxid = s.last_live_id()?;
    if maxid <= gt {
        return None;
    }
    let start = gt.incr()?;
    let limit = if count == 0 { u64::MAX } else { count };
    let mut out = shoal_resp::ArrayWriter::default();
    s.range(start, StreamId::MAX, false, |e| {
        write_entry(&mut out, e);
        (out.len() as u64) < limit
    });
    Some(out.finish())
}

/// New entries for a group consumer: moves the group's last ID and fills the PELs.
fn serve_new(s: &Stream, g: &mut Group, cname: &Bytes, count: u64, noack: bool, now: i64) -> Frame {
    let limit = if count == 0 { u64::MAX } else { count };
    let mut frames = shoal_resp::ArrayWriter::default();
    let mut ids = Vec::new();
    if let Some(start) = g.last_id.incr() {
        s.range(start, StreamId::MAX, false, |e| {
            write_entry(&mut frames, e);
            ids.push(e.id);
            (frames.len() as u64) < limit
        });
    }
    for id in &ids {
        let id = *id;
        if id > g.last_id {
            if g.entries_read != super::types::INVALID_ENTRIES_READ && !s.has_tombstones_from(id) {
                g.entries_read += 1;
            } else if s.entries_added > 0 {
                g.entries_read = s.estimate_distance(id);
            }
            g.last_id = id;
        }
        if !noack {
            g.assign(id, cname, now, 1);
        }
    }
    if !ids.is_empty()
        && let Some(c) = g.consumers.get_mut(cname)
    {
        c.active_time = now;
    }
    frames.finish()
}

/// A consumer's own pending entries after `gt` (re-delivered: time and count bump).
/// Entries deleted since show as `[id, nil]`.
fn serve_history(
    s: &Stream,
    g: &mut Group,
    cname: &Bytes,
    gt: StreamId,
    count: u64,
    now: i64,
) -> Frame {
    let Some(start) = gt.incr() else {
        return Frame::Array(Vec::new());
    };
    let ids: Vec<StreamId> = match g.consumers.get(cname) {
        Some(c) => c
            .pel
            .range(start..)
            .take(if count == 0 {
                usize::MAX
            } else {
                count as usize
            })
            .copied()
            .collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match super::entry_frame_by_id(s, id) {
            Some(f) => {
                out.push(f);
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now;
                    n.delivery_count += 1;
                }
            }
            None => out.push(Frame::Array(vec![id.frame(), Frame::NullArray])),
        }
    }
    Frame::Array(out)
}
