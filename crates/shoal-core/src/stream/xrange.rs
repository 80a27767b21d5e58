//! XRANGE, XREVRANGE and XLEN.

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_range_end, parse_range_start};
use super::{StreamCommand, cmd, read_stream, write_entry};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::Db;
use crate::error;

/// A parsed XRANGE / XREVRANGE (bounds already inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct XRange {
    pub key: Bytes,
    pub start: StreamId,
    pub end: StreamId,
    /// None: no COUNT; Some(0) (COUNT 0 or negative) replies a null array.
    pub count: Option<u64>,
    pub rev: bool,
}

fn parse_range(a: &[Bytes], rev: bool) -> ParseResult<Command> {
    let (sa, ea) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
    let start = parse_range_start(sa)?;
    let end = parse_range_end(ea)?;
    let mut count = None;
    let mut j = 4;
    while j < a.len() {
        if is(&a[j], "count") && j + 1 < a.len() {
            count = Some(parse_i64(&a[j + 1])?.max(0) as u64);
            j += 2;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    Ok(cmd(StreamCommand::Range(Box::new(XRange {
        key: a[1].clone(),
        start,
        end,
        count,
        rev,
    }))))
}

pub fn parse_xrange(a: &[Bytes]) -> ParseResult<Command> {
    parse_range(a, false)
}

pub fn parse_xrevrange(a: &[Bytes]) -> ParseResult<Command> {
    parse_range(a, true)
}

pub fn parse_xlen(a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Len(a[1].clone())))
}

impl XRange {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let s = match read_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::Array(Vec::new()),
            Ok(Some(s)) => s,
        };
        // Redis: COUNT 0 (or negative) answers a null array for an existing key.
        if self.count == Some(0) {
            return Frame::NullArray;
        }
        let limit = self.count.unwrap_or(u64::MAX);
        let mut out = shoal_resp::ArrayWriter::default();
        s.range(self.start, self.end, self.rev, |e| {
            write_entry(&mut out, e);
            (out.len() as u64) < limit
        });
        out.finish()
    }
}

pub fn xlen(db: &Db, ctx: &Ctx, key: &[u8]) -> Frame {
    match read_stream(db, key, ctx.now_ms) {
        Err(e) => e,
        Ok(None) => Frame::Integer(0),
        Ok(Some(s)) => Frame::Integer(s.len() as i64),
    }
}
