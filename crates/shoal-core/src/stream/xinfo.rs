//! XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group | HELP.
//!
//! Replies are maps (flat arrays in RESP2), with Redis 7.0's fields; consumers also carry
//! 7.2's `active-time` (FULL) and `inactive` (CONSUMERS).

use bytes::Bytes;
use shoal_resp::Frame;

use super::types::{Group, Stream};
use super::{StreamCommand, StreamId, c_str, cmd, entry_frame, help, read_stream};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::Db;
use crate::error;

/// A parsed XINFO subcommand.
#[derive(Clone, Debug, PartialEq)]
pub enum XInfo {
    /// `full`: None for the summary, Some(count) for FULL (0 = everything). A bad
    /// option is reported after the key checks, as Redis does.
    Stream {
        key: Bytes,
        full: Result<Option<u64>, Frame>,
    },
    Groups(Bytes),
    Consumers {
        key: Bytes,
        group: Bytes,
    },
    Help,
}

pub fn parse_stream(a: &[Bytes]) -> ParseResult<Command> {
    // Checked before the key, unlike COUNT's value.
    if a.len() > 3 && (!is(&a[3], "full") || (a.len() > 4 && (a.len() != 6 || !is(&a[4], "count"))))
    {
        return Err(Frame::static_error(
            "ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.",
        ));
    }
    let full = if a.len() > 3 {
        if a.len() > 4 {
            parse_i64(&a[5]).map(|c| Some(if c < 0 { 10 } else { c as u64 }))
        } else {
            Ok(Some(10))
        }
    } else {
        Ok(None)
    };
    Ok(cmd(StreamCommand::Info(Box::new(XInfo::Stream {
        key: a[2].clone(),
        full,
    }))))
}

pub fn parse_groups(a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Info(Box::new(XInfo::Groups(
        a[2].clone(),
    )))))
}

pub fn parse_consumers(a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Info(Box::new(XInfo::Consumers {
        key: a[2].clone(),
        group: a[3].clone(),
    }))))
}

pub fn parse_help(_a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Info(Box::new(XInfo::Help))))
}

const HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn kv(k: &'static str, v: Frame) -> (Frame, Frame) {
    (Frame::Bulk(Bytes::from_static(k.as_bytes())), v)
}

fn int(v: impl TryInto<i64>) -> Frame {
    Frame::Integer(v.try_into().unwrap_or(i64::MAX))
}

fn lag_frame(s: &Stream, g: &Group) -> Frame {
    s.lag(g).map_or(Frame::Null, Frame::Integer)
}

fn entries_read_frame(g: &Group) -> Frame {
    if g.entries_read == super::types::INVALID_ENTRIES_READ {
        Frame::Null
    } else {
        Frame::Integer(g.entries_read)
    }
}

impl XInfo {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms as i64;
        let key = match &self {
            XInfo::Help => return help(HELP),
            XInfo::Stream { key, .. } | XInfo::Groups(key) | XInfo::Consumers { key, .. } => {
                key.clone()
            }
        };
        let s = match read_stream(db, &key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::static_error(error::NO_SUCH_KEY),
            Ok(Some(s)) => s,
        };
        match self {
            XInfo::Help => help(HELP),
            XInfo::Stream { full, .. } => match full {
                Err(e) => e,
                Ok(full) => stream_info(s, full),
            },
            XInfo::Groups(_) => Frame::Array(
                s.groups
                    .iter()
                    .map(|(name, g)| {
                        Frame::Map(vec![
                            kv("name", Frame::Bulk(name.clone())),
                            kv("consumers", int(g.consumers.len())),
                            kv("pending", int(g.pel.len())),
                            kv("last-delivered-id", g.last_id.frame()),
                            kv("entries-read", entries_read_frame(g)),
                            kv("lag", lag_frame(s, g)),
                        ])
                    })
                    .collect(),
            ),
            XInfo::Consumers { group, .. } => {
                let Some(g) = s.groups.get(&group) else {
                    return Frame::error(format!(
                        "NOGROUP No such consumer group '{}' for key name '{}'",
                        c_str(&group),
                        c_str(&key)
                    ));
                };
                Frame::Array(
                    g.consumers
                        .iter()
                        .map(|(name, c)| {
                            let inactive = if c.active_time == -1 {
                                -1
                            } else {
                                now.wrapping_sub(c.active_time)
                            };
                            Frame::Map(vec![
                                kv("name", Frame::Bulk(name.clone())),
                                kv("pending", int(c.pel.len())),
                                kv("idle", Frame::Integer(now.wrapping_sub(c.seen_time))),
                                kv("inactive", Frame::Integer(inactive)),
                            ])
                        })
                        .collect(),
                )
            }
        }
    }
}

fn stream_info(s: &Stream, full: Option<u64>) -> Frame {
    let mut m = vec![
        kv("length", int(s.len())),
        kv("radix-tree-keys", int(s.node_count())),
        kv("radix-tree-nodes", int(s.rax_nodes())),
        kv("last-generated-id", s.last_id.frame()),
        kv("max-deleted-entry-id", s.max_deleted.frame()),
        kv("entries-added", int(s.entries_added)),
        kv("recorded-first-entry-id", s.first_id.frame()),
    ];
    let Some(count) = full else {
        let edge = |rev: bool| {
            let mut out = Frame::Null;
            s.range(StreamId::MIN, StreamId::MAX, rev, |e| {
                out = entry_frame(e);
                false
            });
            out
        };
        m.push(kv("groups", int(s.groups.len())));
        m.push(kv("first-entry", edge(false)));
        m.push(kv("last-entry", edge(true)));
        return Frame::Map(m);
    };
    let limit = if count == 0 { u64::MAX } else { count };
    let mut entries = Vec::new();
    s.range(StreamId::MIN, StreamId::MAX, false, |e| {
        entries.push(entry_frame(e));
        (entries.len() as u64) < limit
    });
    m.push(kv("entries", Frame::Array(entries)));
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pel = g
                .pel
                .iter()
                .take(take)
                .map(|(id, n)| {
                    Frame::Array(vec![
                        id.frame(),
                        Frame::Bulk(n.consumer.clone()),
                        Frame::Integer(n.delivery_time),
                        int(n.delivery_count),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let cpel = c
                        .pel
                        .iter()
                        .take(take)
                        .map(|id| {
                            let n = g.pel.get(id);
                            Frame::Array(vec![
                                id.frame(),
                                Frame::Integer(n.map_or(0, |n| n.delivery_time)),
                                int(n.map_or(0, |n| n.delivery_count)),
                            ])
                        })
                        .collect();
                    Frame::Map(vec![
                        kv("name", Frame::Bulk(cname.clone())),
                        kv("seen-time", Frame::Integer(c.seen_time)),
                        kv("active-time", Frame::Integer(c.active_time)),
                        kv("pel-count", int(c.pel.len())),
                        kv("pending", Frame::Array(cpel)),
                    ])
                })
                .collect();
            Frame::Map(vec![
                kv("name", Frame::Bulk(name.clone())),
                kv("last-delivered-id", g.last_id.frame()),
                kv("entries-read", entries_read_frame(g)),
                kv("lag", lag_frame(s, g)),
                kv("pel-count", int(g.pel.len())),
                kv("pending", Frame::Array(pel)),
                kv("consumers", Frame::Array(consumers)),
            ])
        })
        .collect();
    m.push(kv("groups", Frame::Array(groups)));
    Frame::Map(m)
}
