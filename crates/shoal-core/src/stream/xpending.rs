//! XPENDING key group [[IDLE min-idle-time] start end count [consumer]].

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_range_end, parse_range_start};
use super::{StreamCommand, c_str, cmd, read_stream};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::Db;
use crate::error;

/// The extended form's arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingRange {
    pub min_idle: i64,
    pub start: StreamId,
    pub end: StreamId,
    pub count: u64,
    pub consumer: Option<Bytes>,
}

/// A parsed XPENDING.
#[derive(Clone, Debug, PartialEq)]
pub struct XPending {
    pub key: Bytes,
    pub group: Bytes,
    /// None: the summary form.
    pub range: Option<PendingRange>,
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    let n = a.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(Frame::static_error(error::SYNTAX));
    }
    let mut range = None;
    if n >= 6 {
        let mut si = 3;
        let mut min_idle = 0;
        if is(&a[3], "idle") {
            min_idle = parse_i64(&a[4])?;
            if n < 8 {
                return Err(Frame::static_error(error::SYNTAX));
            }
            si += 2;
        }
        let count = parse_i64(&a[si + 2])?.max(0) as u64;
        let start = parse_range_start(&a[si])?;
        let end = parse_range_end(&a[si + 1])?;
        range = Some(PendingRange {
            min_idle,
            start,
            end,
            count,
            consumer: a.get(si + 3).cloned(),
        });
    }
    Ok(cmd(StreamCommand::Pending(Box::new(XPending {
        key: a[1].clone(),
        group: a[2].clone(),
        range,
    }))))
}

impl XPending {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms as i64;
        let s = match read_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(s) => s,
        };
        let Some(g) = s.and_then(|s| s.groups.get(&self.group)) else {
            return Frame::error(format!(
                "NOGROUP No such key '{}' or consumer group '{}'",
                c_str(&self.key),
                c_str(&self.group)
            ));
        };
        let Some(r) = self.range else {
            let (Some((first, _)), Some((last, _))) =
                (g.pel.first_key_value(), g.pel.last_key_value())
            else {
                return Frame::Array(vec![
                    Frame::Integer(0),
                    Frame::Null,
                    Frame::Null,
                    Frame::NullArray,
                ]);
            };
            let consumers = g
                .consumers
                .iter()
                .filter(|(_, c)| !c.pel.is_empty())
                .map(|(name, c)| {
                    Frame::Array(vec![
                        Frame::Bulk(name.clone()),
                        crate::args::int_bulk(c.pel.len() as i64),
                    ])
                })
                .collect();
            return Frame::Array(vec![
                Frame::Integer(g.pel.len() as i64),
                first.frame(),
                last.frame(),
                Frame::Array(consumers),
            ]);
        };
        if r.start > r.end {
            return Frame::Array(Vec::new());
        }
        let ids: Box<dyn Iterator<Item = StreamId>> = match &r.consumer {
            Some(name) => match g.consumers.get(name) {
                None => return Frame::Array(Vec::new()),
                Some(c) => Box::new(c.pel.range(r.start..=r.end).copied()),
            },
            None => Box::new(g.pel.range(r.start..=r.end).map(|(id, _)| *id)),
        };
        let mut out = Vec::new();
        for id in ids {
            if out.len() as u64 >= r.count {
                break;
            }
            let Some(n) = g.pel.get(&id) else { continue };
            let idle = now.wrapping_sub(n.delivery_time);
            if r.min_idle != 0 && idle < r.min_idle {
                continue;
            }
            out.push(Frame::Array(vec![
                id.frame(),
                Frame::Bulk(n.consumer.clone()),
                Frame::Integer(idle.max(0)),
                Frame::Integer(n.delivery_count as i64),
            ]));
        }
        Frame::Array(out)
    }
}
