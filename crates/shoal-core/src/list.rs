//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LRANGE, LLEN, LINDEX, LSET,
//! LREM, LTRIM, LINSERT, LPOS, LMOVE, RPOPLPUSH, LMPOP and the blocking BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP — Redis 7.0's semantics, replies and error texts.
//!
//! Representation: a `VecDeque` of [`SmallBytes`] (elements up to 22 bytes inline): O(1)
//! at both ends, which is what queues need, O(1) LINDEX.
//!
//! Blocking: a blocking command that finds data pops it (it is a write). When it finds
//! none it answers [`Reply::Block`] with itself, flagged as a retry, its keys and its
//! deadline; the server parks the client and applies the retry when a push signals one of
//! the keys ([`Db::signal_ready`], which every push here calls). A retry skips keys of
//! another type instead of answering WRONGTYPE ([`crate::blocking`]). Inside MULTI
//! (`!ctx.may_block`) it answers the timeout reply at once.

use std::collections::VecDeque;

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{self, ParseResult, is, parse_i64, parse_i64_strict};
use crate::command::{Block, Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::small::SmallBytes;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    pub items: VecDeque<SmallBytes>,
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn pop(&mut self, end: End) -> Option<SmallBytes> {
        match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }
    }

    fn push(&mut self, end: End, v: SmallBytes) {
        match end {
            End::Left => self.items.push_front(v),
            End::Right => self.items.push_back(v),
        }
    }
}

/// A list end: LEFT (head) or RIGHT (tail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl End {
    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }
}

/// A parsed list command.
#[derive(Clone, Debug, PartialEq)]
pub enum ListCommand {
    /// LPUSH/RPUSH, or LPUSHX/RPUSHX when `only_existing`.
    Push {
        key: Bytes,
        end: End,
        items: Vec<Bytes>,
        only_existing: bool,
    },
    /// LPOP/RPOP with an optional count.
    Pop {
        key: Bytes,
        end: End,
        count: Option<u64>,
    },
    Range(Bytes, i64, i64),
    Len(Bytes),
    Index(Bytes, i64),
    Set(Bytes, i64, Bytes),
    Rem(Bytes, i64, Bytes),
    Trim(Bytes, i64, i64),
    Insert {
        key: Bytes,
        after: bool,
        pivot: Bytes,
        item: Bytes,
    },
    Pos {
        key: Bytes,
        item: Bytes,
        rank: i64,
        count: Option<u64>,
        maxlen: u64,
    },
    /// LMOVE / RPOPLPUSH, and their blocking forms when `block` holds a timeout (ms).
    Move {
        src: Bytes,
        dst: Bytes,
        from: End,
        to: End,
        block: Option<u64>,
        /// BRPOPLPUSH / BLMOVE answer a null bulk when they cannot block (MULTI).
        blocking_name: bool,
        /// The retry of a blocked client ([`crate::blocking`]): a source of another type
        /// keeps it blocked.
        retry: bool,
    },
    /// LMPOP, and BLMPOP when `block` holds a timeout (ms).
    MPop {
        keys: Vec<Bytes>,
        end: End,
        count: u64,
        block: Option<u64>,
        /// The retry of a blocked client: keys of another type are skipped.
        retry: bool,
    },
    /// BLPOP / BRPOP.
    BPop {
        keys: Vec<Bytes>,
        end: End,
        timeout_ms: u64,
        /// The retry of a blocked client: keys of another type are skipped.
        retry: bool,
    },
}

fn l(c: ListCommand) -> Command {
    Command::List(c)
}

fn push(a: &[Bytes], end: End, only_existing: bool) -> ParseResult<Command> {
    take_push(&mut a.to_vec(), end, only_existing)
}

/// A push, taking its items out of `a` (see `table::TakeFn`).
fn take_push(a: &mut [Bytes], end: End, only_existing: bool) -> ParseResult<Command> {
    Ok(l(ListCommand::Push {
        key: a[1].clone(),
        end,
        items: a[2..].iter_mut().map(std::mem::take).collect(),
        only_existing,
    }))
}

fn parse_lpush(a: &[Bytes]) -> ParseResult<Command> {
    push(a, End::Left, false)
}
fn take_lpush(a: &mut [Bytes]) -> ParseResult<Command> {
    take_push(a, End::Left, false)
}
fn parse_rpush(a: &[Bytes]) -> ParseResult<Command> {
    push(a, End::Right, false)
}
fn take_rpush(a: &mut [Bytes]) -> ParseResult<Command> {
    take_push(a, End::Right, false)
}
fn parse_lpushx(a: &[Bytes]) -> ParseResult<Command> {
    push(a, End::Left, true)
}
fn parse_rpushx(a: &[Bytes]) -> ParseResult<Command> {
    push(a, End::Right, true)
}

fn pop(a: &[Bytes], end: End, name: &str) -> ParseResult<Command> {
    let count = match a.len() {
        2 => None,
        3 => match parse_i64_strict(&a[2]) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(Frame::static_error(error::NOT_POSITIVE)),
        },
        _ => return Err(Frame::error(error::wrong_arity(name))),
    };
    Ok(l(ListCommand::Pop {
        key: a[1].clone(),
        end,
        count,
    }))
}

fn parse_lpop(a: &[Bytes]) -> ParseResult<Command> {
    pop(a, End::Left, "lpop")
}
fn parse_rpop(a: &[Bytes]) -> ParseResult<Command> {
    pop(a, End::Right, "rpop")
}

fn parse_lrange(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Range(
        a[1].clone(),
        parse_i64(&a[2])?,
        parse_i64(&a[3])?,
    )))
}

fn parse_llen(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Len(a[1].clone())))
}

fn parse_lindex(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Index(a[1].clone(), parse_i64(&a[2])?)))
}

fn parse_lset(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Set(
        a[1].clone(),
        parse_i64(&a[2])?,
        a[3].clone(),
    )))
}

fn parse_lrem(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Rem(
        a[1].clone(),
        parse_i64(&a[2])?,
        a[3].clone(),
    )))
}

fn parse_ltrim(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Trim(
        a[1].clone(),
        parse_i64(&a[2])?,
        parse_i64(&a[3])?,
    )))
}

fn parse_linsert(a: &[Bytes]) -> ParseResult<Command> {
    let after = if is(&a[2], "AFTER") {
        true
    } else if is(&a[2], "BEFORE") {
        false
    } else {
        return Err(Frame::static_error(error::SYNTAX));
    };
    Ok(l(ListCommand::Insert {
        key: a[1].clone(),
        after,
        pivot: a[3].clone(),
        item: a[4].clone(),
    }))
}

fn parse_lpos(a: &[Bytes]) -> ParseResult<Command> {
    let mut rank = 1i64;
    let mut count = None;
    let mut maxlen = 0u64;
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        let opt = &a[j];
        if is(opt, "RANK") && more {
            j += 1;
            rank = parse_i64(&a[j])?;
            if rank == 0 {
                return Err(Frame::static_error(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(opt, "COUNT") && more {
            j += 1;
            count = Some(nonneg(&a[j], "ERR COUNT can't be negative")?);
        } else if is(opt, "MAXLEN") && more {
            j += 1;
            maxlen = nonneg(&a[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        j += 1;
    }
    Ok(l(ListCommand::Pos {
        key: a[1].clone(),
        item: a[2].clone(),
        rank,
        count,
        maxlen,
    }))
}

/// A non-negative integer; anything else (not a number, negative) is `err`.
fn nonneg(b: &[u8], err: &'static str) -> ParseResult<u64> {
    match parse_i64_strict(b) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(Frame::static_error(err)),
    }
}

/// LEFT or RIGHT, or a syntax error.
fn parse_end(b: &[u8]) -> ParseResult<End> {
    if is(b, "LEFT") {
        Ok(End::Left)
    } else if is(b, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(Frame::static_error(error::SYNTAX))
    }
}

fn parse_lmove(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        from: parse_end(&a[3])?,
        to: parse_end(&a[4])?,
        block: None,
        blocking_name: false,
        retry: false,
    }))
}

fn parse_rpoplpush(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        from: End::Right,
        to: End::Left,
        block: None,
        blocking_name: false,
        retry: false,
    }))
}

fn parse_blmove(a: &[Bytes]) -> ParseResult<Command> {
    let from = parse_end(&a[3])?;
    let to = parse_end(&a[4])?;
    Ok(l(ListCommand::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        from,
        to,
        block: Some(args::parse_timeout(&a[5])?),
        blocking_name: true,
        retry: false,
    }))
}

fn parse_brpoplpush(a: &[Bytes]) -> ParseResult<Command> {
    Ok(l(ListCommand::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        from: End::Right,
        to: End::Left,
        block: Some(args::parse_timeout(&a[3])?),
        blocking_name: true,
        retry: false,
    }))
}

/// The `numkeys key... where [COUNT n]` tail of LMPOP/ZMPOP and their blocking forms,
/// starting at `at` (the numkeys index), checked in Redis's order. `parse_where` reads
/// LEFT/RIGHT or MIN/MAX.
pub(crate) fn parse_mpop_tail<W>(
    a: &[Bytes],
    at: usize,
    parse_where: impl Fn(&[u8]) -> ParseResult<W>,
) -> ParseResult<(Vec<Bytes>, W, u64)> {
    let numkeys = match parse_i64_strict(&a[at]) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(Frame::static_error("ERR numkeys should be greater than 0")),
    };
    let where_idx = (at as u64 + 1).saturating_add(numkeys);
    if where_idx >= a.len() as u64 {
        return Err(Frame::static_error(error::SYNTAX));
    }
    let where_idx = where_idx as usize;
    let w = parse_where(&a[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < a.len() {
        if count.is_none() && is(&a[j], "COUNT") && j + 1 < a.len() {
            j += 1;
            count = Some(match parse_i64_strict(&a[j]) {
                Some(n) if n > 0 => n as u64,
                _ => return Err(Frame::static_error("ERR count should be greater than 0")),
            });
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        j += 1;
    }
    Ok((a[at + 1..where_idx].to_vec(), w, count.unwrap_or(1)))
}

fn parse_lmpop(a: &[Bytes]) -> ParseResult<Command> {
    let (keys, end, count) = parse_mpop_tail(a, 1, parse_end)?;
    Ok(l(ListCommand::MPop {
        keys,
        end,
        count,
        block: None,
        retry: false,
    }))
}

fn parse_blmpop(a: &[Bytes]) -> ParseResult<Command> {
    let (keys, end, count) = parse_mpop_tail(a, 2, parse_end)?;
    let timeout = args::parse_timeout(&a[1])?;
    Ok(l(ListCommand::MPop {
        keys,
        end,
        count,
        block: Some(timeout),
        retry: false,
    }))
}

/// Key positions of LMPOP / ZMPOP (numkeys at 1).
pub(crate) fn mpop_keys(a: &[Bytes]) -> Vec<usize> {
    crate::set::numkeys_positions(a, 1)
}

/// Key positions of BLMPOP / BZMPOP (numkeys at 2).
pub(crate) fn bmpop_keys(a: &[Bytes]) -> Vec<usize> {
    crate::set::numkeys_positions(a, 2)
}

fn bpop(a: &[Bytes], end: End) -> ParseResult<Command> {
    let timeout_ms = args::parse_timeout(&a[a.len() - 1])?;
    Ok(l(ListCommand::BPop {
        keys: a[1..a.len() - 1].to_vec(),
        end,
        timeout_ms,
        retry: false,
    }))
}

fn parse_blpop(a: &[Bytes]) -> ParseResult<Command> {
    bpop(a, End::Left)
}
fn parse_brpop(a: &[Bytes]) -> ParseResult<Command> {
    bpop(a, End::Right)
}

const K1: (i32, i32, i32) = (1, 1, 1);
const K12: (i32, i32, i32) = (1, 2, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);
const RF: &[&str] = &["read", "list", "fast"];
const RS: &[&str] = &["read", "list", "slow"];
const WF: &[&str] = &["write", "list", "fast"];
const WS: &[&str] = &["write", "list", "slow"];
const WSB: &[&str] = &["write", "list", "slow", "blocking"];

/// The list family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, K1, WF)
        .taker(take_lpush, parse_lpush)
        .doc("list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, K1, WF)
        .taker(take_rpush, parse_rpush)
        .doc("list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_lpushx)
        .doc("list", "2.2.0", "Prepends one or more elements to a list only when the list exists."),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_rpushx)
        .doc("list", "2.2.0", "Appends an element to a list only when the list exists."),
    CommandSpec::new("lpop", -2, WRITE | FAST, K1, WF)
        .parser(parse_lpop)
        .doc("list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    CommandSpec::new("rpop", -2, WRITE | FAST, K1, WF)
        .parser(parse_rpop)
        .doc("list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    CommandSpec::new("lrange", 4, READONLY, K1, RS)
        .parser(parse_lrange)
        .doc("list", "1.0.0", "Returns a range of elements from a list."),
    CommandSpec::new("llen", 2, READONLY | FAST, K1, RF)
        .parser(parse_llen)
        .doc("list", "1.0.0", "Returns the length of a list."),
    CommandSpec::new("lindex", 3, READONLY, K1, RS)
        .parser(parse_lindex)
        .doc("list", "1.0.0", "Returns an element from a list by its index."),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, K1, WS)
        .parser(parse_lset)
        .doc("list", "1.0.0", "Sets the value of an element in a list by its index."),
    CommandSpec::new("lrem", 4, WRITE, K1, WS)
        .parser(parse_lrem)
        .doc("list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed."),
    CommandSpec::new("ltrim", 4, WRITE, K1, WS)
        .parser(parse_ltrim)
        .doc("list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, K1, WS)
        .parser(parse_linsert)
        .doc("list", "2.2.0", "Inserts an element before or after another element in a list."),
    CommandSpec::new("lpos", -3, READONLY, K1, RS)
        .parser(parse_lpos)
        .doc("list", "6.0.6", "Returns the index of matching elements in a list."),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, K12, WS)
        .parser(parse_lmove)
        .doc("list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, K12, WS)
        .parser(parse_rpoplpush)
        .doc("list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    CommandSpec::new("lmpop", -4, WRITE, NOKEYS, WS)
        .parser(parse_lmpop)
        .movable(mpop_keys)
        .doc("list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), WSB)
        .parser(parse_blpop)
        .doc("list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), WSB)
        .parser(parse_brpop)
        .doc("list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, K12, WSB)
        .parser(parse_blmove)
        .doc("list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, K12, WSB)
        .parser(parse_brpoplpush)
        .doc("list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, NOKEYS, WSB)
        .parser(parse_blmpop)
        .movable(bmpop_keys)
        .doc("list", "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
];

fn wrongtype() -> Frame {
    Frame::static_error(error::WRONGTYPE)
}

fn read<'a>(db: &'a Db, key: &[u8], now: u64) -> Result<Option<&'a List>, Frame> {
    crate::value::read(db, key, now)
}

fn get_mut<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut List>, Frame> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(wrongtype()),
    }
}

/// Deletes `key` if it holds an empty list, with the `del` event.
fn drop_if_empty(db: &mut Db, key: &[u8], now: u64) {
    if matches!(db.get(key, now), Some(Value::List(l)) if l.is_empty()) {
        db.remove(key, now);
        db.notify(class::GENERIC, "del", key);
    }
}

/// Pushes `items` onto the list at `key` (creating it), with the push event and the
/// ready signal; the new length, or WRONGTYPE (nothing changed) if `key` holds another
/// type. One lookup of `key`.
fn push_items<I: AsRef<[u8]>>(
    db: &mut Db,
    now: u64,
    key: &[u8],
    end: End,
    items: &[I],
) -> Result<usize, Frame> {
    let len = match db.get_or_insert_with(key, now, || Value::List(Box::default())) {
        Value::List(list) => {
            for it in items {
                list.push(end, SmallBytes::new(it.as_ref()));
            }
            list.len()
        }
        _ => return Err(wrongtype()),
    };
    db.notify(class::LIST, end.push_event(), key);
    db.signal_ready(key);
    Ok(len)
}

/// Normalizes a Redis `start..=stop` index pair against `len`; None when empty.
pub(crate) fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

impl ListCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            ListCommand::Push {
                key,
                end,
                items,
                only_existing,
            } => {
                let exists = if only_existing {
                    read(db, &key, now).map(|l| l.is_some())
                } else {
                    Ok(true)
                };
                match exists {
                    Err(e) => e,
                    Ok(false) => Frame::Integer(0),
                    Ok(true) => match push_items(db, now, &key, end, &items) {
                        Ok(len) => Frame::Integer(len as i64),
                        Err(e) => e,
                    },
                }
            }
            ListCommand::Pop { key, end, count } => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => match count {
                    None => Frame::Null,
                    Some(_) => Frame::NullArray,
                },
                Ok(Some(list)) => {
                    let reply = match count {
                        None => list.pop(end).map_or(Frame::Null, |v| Frame::bulk(&v)),
                        Some(0) => return Reply::Frame(Frame::Array(Vec::new())),
                        Some(n) => {
                            let n = (n as usize).min(list.len());
                            Frame::Array(
                                (0..n)
                                    .filter_map(|_| list.pop(end))
                                    .map(|v| Frame::bulk(&v))
                                    .collect(),
                            )
                        }
                    };
                    db.notify(class::LIST, end.pop_event(), &key);
                    drop_if_empty(db, &key, now);
                    reply
                }
            },
            ListCommand::Range(key, start, stop) => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Array(Vec::new()),
                Ok(Some(list)) => match clamp_range(start, stop, list.len()) {
                    None => Frame::Array(Vec::new()),
                    Some((s, e)) => {
                        Frame::Array(list.items.range(s..=e).map(|v| Frame::bulk(v)).collect())
                    }
                },
            },
            ListCommand::Len(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(list) => Frame::Integer(list.map_or(0, |l| l.len() as i64)),
            },
            ListCommand::Index(key, idx) => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Null,
                Ok(Some(list)) => {
                    index_of(idx, list.len()).map_or(Frame::Null, |i| Frame::bulk(&list.items[i]))
                }
            },
            ListCommand::Set(key, idx, item) => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::static_error(error::NO_SUCH_KEY),
                Ok(Some(list)) => match index_of(idx, list.len()) {
                    None => Frame::static_error("ERR index out of range"),
                    Some(i) => {
                        list.items[i] = SmallBytes::new(&item);
                        db.notify(class::LIST, "lset", &key);
                        Frame::ok()
                    }
                },
            },
            ListCommand::Rem(key, count, item) => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Integer(0),
                Ok(Some(list)) => {
                    let removed = lrem(list, count, &item);
                    if removed > 0 {
                        db.notify(class::LIST, "lrem", &key);
                        drop_if_empty(db, &key, now);
                    }
                    Frame::Integer(removed as i64)
                }
            },
            ListCommand::Trim(key, start, stop) => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::ok(),
                Ok(Some(list)) => {
                    match clamp_range(start, stop, list.len()) {
                        None => list.items.clear(),
                        Some((s, e)) => {
                            list.items.truncate(e + 1);
                            list.items.drain(..s);
                        }
                    }
                    db.notify(class::LIST, "ltrim", &key);
                    drop_if_empty(db, &key, now);
                    Frame::ok()
                }
            },
            ListCommand::Insert {
                key,
                after,
                pivot,
                item,
            } => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Integer(0),
                Ok(Some(list)) => {
                    match list.items.iter().position(|v| v.as_slice() == &pivot[..]) {
                        None => Frame::Integer(-1),
                        Some(i) => {
                            list.items
                                .insert(if after { i + 1 } else { i }, SmallBytes::new(&item));
                            let len = list.len() as i64;
                            db.notify(class::LIST, "linsert", &key);
                            Frame::Integer(len)
                        }
                    }
                }
            },
            ListCommand::Pos {
                key,
                item,
                rank,
                count,
                maxlen,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => match count {
                    None => Frame::Null,
                    Some(_) => Frame::Array(Vec::new()),
                },
                Ok(Some(list)) => lpos(list, &item, rank, count, maxlen),
            },
            m @ ListCommand::Move { .. } => return lmove(db, ctx, m),
            ListCommand::MPop {
                keys,
                end,
                count,
                block,
                retry,
            } => return mpop(db, ctx, keys, end, count, block, retry),
            ListCommand::BPop {
                keys,
                end,
                timeout_ms,
                retry,
            } => return bpop_apply(db, ctx, keys, end, timeout_ms, retry),
        };
        Reply::Frame(f)
    }
}

/// A Redis list index (negative from the tail) as a position, if in range.
fn index_of(idx: i64, len: usize) -> Option<usize> {
    let i = if idx < 0 { len as i64 + idx } else { idx };
    (i >= 0 && i < len as i64).then_some(i as usize)
}

fn lrem(list: &mut List, count: i64, item: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs().min(usize::MAX as u64) as usize
    };
    let mut removed = 0;
    if count >= 0 {
        list.items.retain(|v| {
            if removed < limit && v.as_slice() == item {
                removed += 1;
                false
            } else {
                true
            }
        });
    } else {
        let mut keep: Vec<bool> = vec![true; list.len()];
        for (i, v) in list.items.iter().enumerate().rev() {
            if removed >= limit {
                break;
            }
            if v.as_slice() == item {
                keep[i] = false;
                removed += 1;
            }
        }
        let mut i = 0;
        list.items.retain(|_| {
            let k = keep[i];
            i += 1;
            k
        });
    }
    removed
}

fn lpos(list: &List, item: &[u8], rank: i64, count: Option<u64>, maxlen: u64) -> Frame {
    // Redis negates a negative rank in a C long: LONG_MIN stays negative and so matches
    // the first hit from the tail. `skip` is how many matches to pass over.
    let from_tail = rank < 0;
    let skip = if rank == i64::MIN {
        0
    } else {
        rank.unsigned_abs() - 1
    };
    let want = match count {
        None => 1,
        Some(0) => u64::MAX,
        Some(n) => n,
    };
    let limit = if maxlen == 0 { u64::MAX } else { maxlen };
    let len = list.len();
    let mut seen_matches = 0u64;
    let mut out = Vec::new();
    for (n, step) in (0..len).enumerate() {
        if n as u64 >= limit {
            break;
        }
        let i = if from_tail { len - 1 - step } else { step };
        if list.items[i].as_slice() == item {
            seen_matches += 1;
            if seen_matches > skip {
                out.push(Frame::Integer(i as i64));
                if out.len() as u64 >= want {
                    break;
                }
            }
        }
    }
    match count {
        Some(_) => Frame::Array(out),
        None => out.pop().unwrap_or(Frame::Null),
    }
}

/// The reply and deadline bookkeeping shared by every blocking command.
pub(crate) fn block_or_timeout(
    ctx: &Ctx,
    keys: Vec<Bytes>,
    timeout_ms: u64,
    retry: Command,
    timeout_reply: Frame,
    multi_reply: Frame,
) -> Reply {
    if !ctx.may_block {
        return Reply::Frame(multi_reply);
    }
    match args::timeout_deadline(timeout_ms, ctx.now_ms) {
        Err(e) => Reply::Frame(e),
        Ok(deadline_ms) => {
            let mut retry = retry;
            crate::blocking::mark_retry(&mut retry);
            Reply::Block(Box::new(Block {
                keys,
                deadline_ms,
                retry_args: crate::blocking::retry_args(&retry),
                retry,
                timeout_reply,
            }))
        }
    }
}

/// LMOVE and friends; `m` is a [`ListCommand::Move`].
fn lmove(db: &mut Db, ctx: &Ctx, m: ListCommand) -> Reply {
    let ListCommand::Move {
        src,
        dst,
        from,
        to,
        block,
        retry,
        ..
    } = &m
    else {
        return Reply::Frame(Frame::Null);
    };
    let (from, to) = (*from, *to);
    let now = ctx.now_ms;
    let has_data = match read(db, src, now) {
        // Redis serves blocked BLMOVEs only from a source that is a list.
        Err(_) if *retry => false,
        Err(e) => return Reply::Frame(e),
        Ok(l) => l.is_some_and(|l| !l.is_empty()),
    };
    if !has_data {
        return match *block {
            None => Reply::Frame(Frame::Null),
            Some(timeout_ms) => block_or_timeout(
                ctx,
                vec![src.clone()],
                timeout_ms,
                Command::List(m.clone()),
                // A blocked client that times out gets a null array (Redis answers every
                // list timeout so); one that could not block (MULTI) a null bulk.
                Frame::NullArray,
                Frame::Null,
            ),
        };
    }
    // A destination of another type is an error even for a retry, as in Redis.
    if let Err(e) = read(db, dst, now) {
        return Reply::Frame(e);
    }
    let Ok(Some(list)) = get_mut(db, src, now) else {
        return Reply::Frame(Frame::Null);
    };
    let Some(v) = list.pop(from) else {
        return Reply::Frame(Frame::Null);
    };
    db.notify(class::LIST, from.pop_event(), src);
    drop_if_empty(db, src, now);
    // The caller checked the destination's type.
    let _ = push_items(db, now, dst, to, &[&v]);
    Reply::Frame(Frame::bulk(&v))
}

/// Pops up to `count` from the first non-empty list of `keys`: `[key, [items]]`, or None
/// if all are empty; WRONGTYPE if a key of another type comes first, unless `retry`
/// (a blocked client's retry skips such keys, as Redis serves list waiters only from
/// lists).
fn mpop_once(
    db: &mut Db,
    now: u64,
    keys: &[Bytes],
    end: End,
    count: u64,
    retry: bool,
) -> Result<Option<(Bytes, Vec<SmallBytes>)>, Frame> {
    for key in keys {
        let list = match get_mut(db, key, now) {
            Err(_) if retry => continue,
            r => r?,
        };
        let Some(list) = list else {
            continue;
        };
        if list.is_empty() {
            continue;
        }
        let n = usize::try_from(count).unwrap_or(usize::MAX).min(list.len());
        let items: Vec<SmallBytes> = (0..n).filter_map(|_| list.pop(end)).collect();
        db.notify(class::LIST, end.pop_event(), key);
        drop_if_empty(db, key, now);
        return Ok(Some((key.clone(), items)));
    }
    Ok(None)
}

fn mpop(
    db: &mut Db,
    ctx: &Ctx,
    keys: Vec<Bytes>,
    end: End,
    count: u64,
    block: Option<u64>,
    retry: bool,
) -> Reply {
    match mpop_once(db, ctx.now_ms, &keys, end, count, retry) {
        Err(e) => Reply::Frame(e),
        Ok(Some((key, items))) => Reply::Frame(Frame::Array(vec![
            Frame::Bulk(key),
            Frame::Array(items.iter().map(|v| Frame::bulk(v)).collect()),
        ])),
        Ok(None) => match block {
            None => Reply::Frame(Frame::NullArray),
            Some(timeout_ms) => block_or_timeout(
                ctx,
                keys.clone(),
                timeout_ms,
                Command::List(ListCommand::MPop {
                    keys,
                    end,
                    count,
                    block,
                    retry,
                }),
                Frame::NullArray,
                Frame::NullArray,
            ),
        },
    }
}

fn bpop_apply(
    db: &mut Db,
    ctx: &Ctx,
    keys: Vec<Bytes>,
    end: End,
    timeout_ms: u64,
    retry: bool,
) -> Reply {
    match mpop_once(db, ctx.now_ms, &keys, end, 1, retry) {
        Err(e) => Reply::Frame(e),
        Ok(Some((key, items))) => match items.first() {
            Some(v) => Reply::Frame(Frame::Array(vec![Frame::Bulk(key), Frame::bulk(v)])),
            None => Reply::Frame(Frame::NullArray),
        },
        Ok(None) => block_or_timeout(
            ctx,
            keys.clone(),
            timeout_ms,
            Command::List(ListCommand::BPop {
                keys,
                end,
                timeout_ms,
                retry,
            }),
            Frame::NullArray,
            Frame::NullArray,
        ),
    }
}

impl Persist for List {
    fn encode(&self, w: &mut Writer) {
        w.varint(self.len() as u64);
        for v in &self.items {
            w.bytes(v);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut items = VecDeque::with_capacity(n);
        for _ in 0..n {
            items.push_back(SmallBytes::new(r.bytes()?));
        }
        Ok(List { items })
    }
}
