//! XADD, and the trimming options it shares with XTRIM (`streamParseAddOrTrimArgsOrReply`).

use bytes::Bytes;
use shoal_resp::Frame;
use smallvec::SmallVec;

use super::id::{INVALID_ID, StreamId, parse_id_generic};
use super::types::{Trim, TrimStrategy};
use super::{Stream, StreamCommand, cmd, write_stream};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::{Db, class};
use crate::error;
use crate::value::Value;

/// `~` without LIMIT removes at most 100 * stream-node-max-entries entries.
const DEFAULT_APPROX_LIMIT: u64 = 100 * super::chunk::NODE_MAX_ENTRIES as u64;

/// The ID XADD was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddId {
    /// `*`: generated from the clock.
    Auto,
    /// `<ms>-*`: the sequence is generated.
    AutoSeq(u64),
    /// A full ID.
    Explicit(StreamId),
}

/// A parsed XADD.
#[derive(Clone, Debug, PartialEq)]
pub struct XAdd {
    pub key: Bytes,
    pub nomkstream: bool,
    pub trim: Option<Trim>,
    pub id: AddId,
    /// field, value, field, value... Inline up to two pairs (a typical message), so
    /// that the boxed command is the only allocation a parsed XADD makes.
    pub pairs: SmallVec<[Bytes; 4]>,
}

/// What the shared option parser found.
pub(crate) struct AddTrimArgs {
    pub trim: Option<Trim>,
    pub nomkstream: bool,
    /// Index of the ID argument (XADD only).
    pub id_pos: usize,
    pub id: AddId,
}

/// Parses `[NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]` and, for XADD, the
/// ID, with Redis's errors in Redis's order.
pub(crate) fn parse_add_trim(a: &[Bytes], xadd: bool) -> ParseResult<AddTrimArgs> {
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    let mut nomkstream = false;
    let mut id = AddId::Auto;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i];
        if xadd && &opt[..] == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(Frame::static_error(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            let next = &a[i + 1];
            if more >= 2 && &next[..] == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && &next[..] == b"=" {
                i += 1;
            }
            let arg = &a[i + 1];
            if is(opt, "maxlen") {
                let m = parse_i64(arg)?;
                if m < 0 {
                    return Err(Frame::static_error("ERR The MAXLEN argument must be >= 0."));
                }
                strategy = Some(TrimStrategy::MaxLen(m as u64));
            } else {
                let p = parse_id_generic(arg, 0, true, false)
                    .ok_or_else(|| Frame::static_error(INVALID_ID))?;
                strategy = Some(TrimStrategy::MinId(p.id));
            }
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let l = parse_i64(&a[i + 1])?;
            if l < 0 {
                return Err(Frame::static_error("ERR The LIMIT argument must be >= 0."));
            }
            limit = Some(l);
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            let p = parse_id_generic(opt, 0, true, true)
                .ok_or_else(|| Frame::static_error(INVALID_ID))?;
            id = if p.seq_given {
                AddId::Explicit(p.id)
            } else {
                AddId::AutoSeq(p.id.ms)
            };
            break;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && strategy.is_none() {
        return Err(Frame::static_error(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && strategy.is_none() {
        return Err(Frame::static_error(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    // Redis checks LIMIT without `~` even when there is no strategy (`LIMIT 0`).
    if limit.is_some() && !approx {
        return Err(Frame::static_error(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    let Some(strategy) = strategy else {
        return Ok(AddTrimArgs {
            trim: None,
            nomkstream,
            id_pos: i,
            id,
        });
    };
    let limit = match limit {
        Some(l) => l as u64,
        None if approx => DEFAULT_APPROX_LIMIT,
        None => 0,
    };
    Ok(AddTrimArgs {
        trim: Some(Trim {
            strategy,
            approx,
            limit,
        }),
        nomkstream,
        id_pos: i,
        id,
    })
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    take(&mut a.to_vec())
}

/// [`parse`], taking the field-value pairs (see `table::TakeFn`).
pub fn take(a: &mut [Bytes]) -> ParseResult<Command> {
    let p = parse_add_trim(a, true)?;
    let field_pos = p.id_pos + 1;
    let n = a.len().saturating_sub(field_pos);
    if field_pos > a.len() || n < 2 || n % 2 == 1 {
        return Err(Frame::error(error::wrong_arity("xadd")));
    }
    if let AddId::Explicit(id) = p.id
        && id.is_zero()
    {
        return Err(Frame::static_error(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    Ok(cmd(StreamCommand::Add(Box::new(XAdd {
        key: a[1].clone(),
        nomkstream: p.nomkstream,
        trim: p.trim,
        id: p.id,
        pairs: a[field_pos..].iter_mut().map(std::mem::take).collect(),
    }))))
}

/// Redis's `streamAppendItem` ID choice: the new ID, or the error reply.
pub(crate) fn next_id(s: &Stream, id: AddId, now: u64) -> Result<StreamId, Frame> {
    let edom = || {
        Frame::static_error(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        )
    };
    let new = match id {
        AddId::Auto => {
            if now > s.last_id.ms {
                StreamId::new(now, 0)
            } else {
                // last_id is not the maximum (checked before): incr succeeds.
                s.last_id.incr().ok_or_else(edom)?
            }
        }
        AddId::AutoSeq(ms) => {
            if s.last_id.ms == ms {
                if s.last_id.seq == u64::MAX {
                    // Redis 7.0.15 reports this case with the "too large" text.
                    return Err(Frame::static_error(
                        "ERR Elements are too large to be stored",
                    ));
                }
                StreamId::new(ms, s.last_id.seq + 1)
            } else {
                StreamId::new(ms, 0)
            }
        }
        AddId::Explicit(id) => id,
    };
    if new <= s.last_id {
        return Err(edom());
    }
    Ok(new)
}

impl XAdd {
    /// By reference: the command is boxed, and moving it out of its box copied it.
    pub fn apply(&self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms;
        // One lookup of the key either way.
        let s = if self.nomkstream {
            match write_stream(db, &self.key, now) {
                Err(e) => return e,
                Ok(None) => return Frame::Null,
                Ok(Some(s)) => s,
            }
        } else {
            match db.get_or_insert_with(&self.key, now, || Value::Stream(Box::default())) {
                Value::Stream(s) => s,
                _ => return super::wrongtype(),
            }
        };
        if s.last_id == StreamId::MAX {
            return Frame::static_error(
                "ERR The stream has exhausted the last possible ID, unable to add more items",
            );
        }
        let id = match next_id(s, self.id, now) {
            Ok(id) => id,
            Err(e) => return e,
        };
        s.append(id, &self.pairs[..]);
        let trimmed = self.trim.is_some_and(|t| s.trim(&t) > 0);
        db.notify(class::STREAM, "xadd", &self.key);
        if trimmed {
            db.notify(class::STREAM, "xtrim", &self.key);
        }
        db.signal_ready(&self.key);
        id.frame()
    }
}
