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
use super::{StreamCommand, c_str, cmd, entry_frame, read_stream};
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

impl XRead {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        if let Some(ms) = self.block
            && ms > 0
            && ms > (i64::MAX as u64).saturating_sub(now)
        {
            return Reply::Frame(Frame::static_error(error::TIMEOUT_OUT_OF_RANGE));
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
                    ..self
                };
                Reply::Block(Block {
                    keys: retry.keys.clone(),
                    deadline_ms: if ms == 0 { None } else { Some(now + ms) },
                    retry: cmd(StreamCommand::Read(Box::new(retry))),
                    timeout_reply: Frame::NullArray,
                })
            }
            _ => Reply::Frame(Frame::NullArray),
        }
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
        let mut g = s.groups.remove(gname)?;
        let created = g.ensure_consumer(cname, nowi);
        if let Some(c) = g.consumers.get_mut(cname) {
            c.seen_time = nowi;
        }
        let out = match rid {
            ReadId::Id(id) => Some(serve_history(s, &mut g, cname, id, self.count, nowi)),
            _ => {
                let maxid = s.last_live_id();
                if !s.is_empty() && maxid.is_some_and(|m| m > g.last_id) {
                    Some(serve_new(s, &mut g, cname, self.count, self.noack, nowi))
                } else {
                    None
                }
            }
        };
        s.groups.insert(gname.clone(), g);
        if created {
            db.notify(class::STREAM, "xgroup-createconsumer", key);
        }
        out
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
    let mut out = Vec::new();
    s.range(start, StreamId::MAX, false, |e| {
        out.push(entry_frame(e));
        (out.len() as u64) < limit
    });
    Some(Frame::Array(out))
}

/// New entries for a group consumer: moves the group's last ID and fills the PELs.
fn serve_new(s: &Stream, g: &mut Group, cname: &Bytes, count: u64, noack: bool, now: i64) -> Frame {
    let limit = if count == 0 { u64::MAX } else { count };
    let mut frames = Vec::new();
    let mut ids = Vec::new();
    if let Some(start) = g.last_id.incr() {
        s.range(start, StreamId::MAX, false, |e| {
            frames.push(entry_frame(e));
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
    Frame::Array(frames)
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
