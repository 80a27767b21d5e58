//! Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER,
//! SMOVE, SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD, SSCAN — Redis 7.0's
//! semantics, replies (RESP3 sets where Redis sends them) and error texts.
//!
//! Representation: a [`ByteMap`] of members, ordered by their fixed-seed hash. Random
//! choices (SPOP, SRANDMEMBER) draw positions in that canonical order from a PRNG seeded
//! with the command's `Ctx::seed`, so they are the same on every replica.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{ParseResult, is, parse_i64, parse_i64_strict};
use crate::command::{Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::glob;
use crate::rand::Rng;
use crate::small::SmallBytes;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;
use crate::zset::ostree::ByteMap;

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    pub members: ByteMap<()>,
}

impl Set {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    /// Adds `m`; true if it was new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        self.members.insert(m, ()).is_none()
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.members.remove(m).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.iter().map(|(m, _)| m)
    }
}

/// Which algebra SINTER/SUNION/SDIFF apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Inter,
    Union,
    Diff,
}

/// A parsed set command.
#[derive(Clone, Debug, PartialEq)]
pub enum SetCommand {
    Add(Bytes, Vec<Bytes>),
    Rem(Bytes, Vec<Bytes>),
    IsMember(Bytes, Bytes),
    MIsMember(Bytes, Vec<Bytes>),
    Members(Bytes),
    Card(Bytes),
    /// SPOP key [count].
    Pop(Bytes, Option<u64>),
    /// SRANDMEMBER key [count].
    RandMember(Bytes, Option<i64>),
    Move {
        src: Bytes,
        dst: Bytes,
        member: Bytes,
    },
    /// SINTER/SUNION/SDIFF, or their STORE forms when `dst` is set.
    Algebra {
        op: SetOp,
        dst: Option<Bytes>,
        keys: Vec<Bytes>,
    },
    InterCard {
        keys: Vec<Bytes>,
        limit: usize,
    },
    Scan {
        key: Bytes,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
    },
}

fn s(c: SetCommand) -> Command {
    Command::Set(c)
}

fn parse_sadd(a: &[Bytes]) -> ParseResult<Command> {
    take_sadd(&mut a.to_vec())
}

fn take_sadd(a: &mut [Bytes]) -> ParseResult<Command> {
    let members = a[2..].iter_mut().map(std::mem::take).collect();
    Ok(s(SetCommand::Add(a[1].clone(), members)))
}

fn parse_srem(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::Rem(a[1].clone(), a[2..].to_vec())))
}

fn parse_sismember(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::IsMember(a[1].clone(), a[2].clone())))
}

fn parse_smismember(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::MIsMember(a[1].clone(), a[2..].to_vec())))
}

fn parse_smembers(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::Members(a[1].clone())))
}

fn parse_scard(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::Card(a[1].clone())))
}

fn parse_spop(a: &[Bytes]) -> ParseResult<Command> {
    let count = match a.len() {
        2 => None,
        3 => match parse_i64_strict(&a[2]) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(Frame::static_error(error::NOT_POSITIVE)),
        },
        _ => return Err(Frame::static_error(error::SYNTAX)),
    };
    Ok(s(SetCommand::Pop(a[1].clone(), count)))
}

/// Shoal's cap on the repetitions a negative random count asks for: Redis streams even
/// 2^62 of them, which no server should try to build.
pub(crate) const MAX_RANDOM_REPEATS: u64 = 10_000_000;

/// The `count [WITH...]` arguments of SRANDMEMBER / HRANDFIELD / ZRANDMEMBER (`kw` is
/// WITHVALUES or WITHSCORES; empty for SRANDMEMBER, which takes none), checked as Redis
/// checks them: range first, then the option.
pub(crate) fn parse_rand_count(a: &[Bytes], kw: &str) -> ParseResult<(Option<i64>, bool)> {
    if a.len() < 3 {
        return Ok((None, false));
    }
    let count = match parse_i64(&a[2])? {
        i64::MIN => {
            return Err(Frame::static_error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        n => n,
    };
    let with = match a.len() {
        3 => false,
        4 if !kw.is_empty() && is(&a[3], kw) => true,
        _ => return Err(Frame::static_error(error::SYNTAX)),
    };
    // Each repeated pick with values is two replies: Redis refuses what would overflow.
    if with && count < -(i64::MAX / 2) {
        return Err(Frame::static_error("ERR value is out of range"));
    }
    if count < 0 && count.unsigned_abs() > MAX_RANDOM_REPEATS {
        return Err(Frame::static_error("ERR value is out of range"));
    }
    Ok((Some(count), with))
}

/// Positions (in a collection of `len`) that a random-count command returns: distinct
/// ones for a non-negative count (all of them if it is at least `len`), `-count` picks
/// with repetition for a negative one.
pub(crate) fn random_picks(len: usize, count: i64, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    if len == 0 || count == 0 {
        return Vec::new();
    }
    if count < 0 {
        let n = count.unsigned_abs().min(MAX_RANDOM_REPEATS) as usize;
        return (0..n).map(|_| rng.index(len)).collect();
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count >= len {
        return (0..len).collect();
    }
    let mut picks = rng.distinct_indices(len, count);
    // Shuffle so the reply order does not reveal the (hash) order.
    for i in (1..picks.len()).rev() {
        let j = rng.index(i + 1);
        picks.swap(i, j);
    }
    picks
}

fn parse_srandmember(a: &[Bytes]) -> ParseResult<Command> {
    let (count, _) = parse_rand_count(a, "")?;
    Ok(s(SetCommand::RandMember(a[1].clone(), count)))
}

fn parse_smove(a: &[Bytes]) -> ParseResult<Command> {
    Ok(s(SetCommand::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        member: a[3].clone(),
    }))
}

fn algebra(a: &[Bytes], op: SetOp, store: bool) -> ParseResult<Command> {
    let (dst, keys) = if store {
        (Some(a[1].clone()), a[2..].to_vec())
    } else {
        (None, a[1..].to_vec())
    };
    Ok(s(SetCommand::Algebra { op, dst, keys }))
}

fn parse_sinter(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Inter, false)
}
fn parse_sunion(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Union, false)
}
fn parse_sdiff(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Diff, false)
}
fn parse_sinterstore(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Inter, true)
}
fn parse_sunionstore(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Union, true)
}
fn parse_sdiffstore(a: &[Bytes]) -> ParseResult<Command> {
    algebra(a, SetOp::Diff, true)
}

/// `numkeys key...` at `a[at..]`: the keys, or Redis's errors for a bad count (`what`
/// names the counted thing in the message).
pub(crate) fn parse_numkeys(a: &[Bytes], at: usize) -> ParseResult<Vec<Bytes>> {
    let n = match parse_i64_strict(&a[at]) {
        Some(n) if n > 0 => n as u64,
        _ => {
            return Err(Frame::static_error("ERR numkeys should be greater than 0"));
        }
    };
    let avail = (a.len() - at - 1) as u64;
    if n > avail {
        return Err(Frame::static_error(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(a[at + 1..at + 1 + n as usize].to_vec())
}

/// Key positions of `numkeys key...` starting with numkeys at index `at`.
pub(crate) fn numkeys_positions(a: &[Bytes], at: usize) -> Vec<usize> {
    // Redis's genericGetKeys: no keys at all when the count is not positive or exceeds
    // the arguments (the command will answer an error anyway).
    let avail = a.len().saturating_sub(at + 1);
    match a.get(at).and_then(|b| parse_i64_strict(b)) {
        Some(n) if n > 0 && (n as u64) <= avail as u64 => (at + 1..at + 1 + n as usize).collect(),
        _ => Vec::new(),
    }
}

fn sintercard_keys(a: &[Bytes]) -> Vec<usize> {
    numkeys_positions(a, 1)
}

fn parse_sintercard(a: &[Bytes]) -> ParseResult<Command> {
    let keys = parse_numkeys(a, 1)?;
    let mut i = 2 + keys.len();
    let mut limit = 0usize;
    while i < a.len() {
        if is(&a[i], "LIMIT") && i + 1 < a.len() {
            limit = match parse_i64_strict(&a[i + 1]) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(Frame::static_error("ERR LIMIT can't be negative")),
            };
            i += 2;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    Ok(s(SetCommand::InterCard { keys, limit }))
}

fn parse_sscan(a: &[Bytes]) -> ParseResult<Command> {
    let (cursor, pattern, count) = crate::hash::parse_scan_opts(a)?;
    Ok(s(SetCommand::Scan {
        key: a[1].clone(),
        cursor,
        pattern,
        count,
    }))
}

const K1: (i32, i32, i32) = (1, 1, 1);
const KALL: (i32, i32, i32) = (1, -1, 1);
const RF: &[&str] = &["read", "set", "fast"];
const RS: &[&str] = &["read", "set", "slow"];
const WF: &[&str] = &["write", "set", "fast"];
const WS: &[&str] = &["write", "set", "slow"];

/// The set family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, K1, WF)
        .taker(take_sadd, parse_sadd)
        .doc("set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    CommandSpec::new("srem", -3, WRITE | FAST, K1, WF)
        .parser(parse_srem)
        .doc("set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    CommandSpec::new("sismember", 3, READONLY | FAST, K1, RF)
        .parser(parse_sismember)
        .doc("set", "1.0.0", "Determines whether a member belongs to a set."),
    CommandSpec::new("smismember", -3, READONLY | FAST, K1, RF)
        .parser(parse_smismember)
        .doc("set", "6.2.0", "Determines whether multiple members belong to a set."),
    CommandSpec::new("smembers", 2, READONLY, K1, RS)
        .parser(parse_smembers)
        .doc("set", "1.0.0", "Returns all members of a set."),
    CommandSpec::new("scard", 2, READONLY | FAST, K1, RF)
        .parser(parse_scard)
        .doc("set", "1.0.0", "Returns the number of members in a set."),
    CommandSpec::new("spop", -2, WRITE | FAST, K1, WF)
        .parser(parse_spop)
        .doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    CommandSpec::new("srandmember", -2, READONLY, K1, RS)
        .parser(parse_srandmember)
        .doc("set", "1.0.0", "Get one or multiple random members from a set"),
    CommandSpec::new("smove", 4, WRITE | FAST, (1, 2, 1), WF)
        .parser(parse_smove)
        .doc("set", "1.0.0", "Moves a member from one set to another."),
    CommandSpec::new("sinter", -2, READONLY, KALL, RS)
        .parser(parse_sinter)
        .doc("set", "1.0.0", "Returns the intersect of multiple sets."),
    CommandSpec::new("sunion", -2, READONLY, KALL, RS)
        .parser(parse_sunion)
        .doc("set", "1.0.0", "Returns the union of multiple sets."),
    CommandSpec::new("sdiff", -2, READONLY, KALL, RS)
        .parser(parse_sdiff)
        .doc("set", "1.0.0", "Returns the difference of multiple sets."),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, KALL, WS)
        .parser(parse_sinterstore)
        .doc("set", "1.0.0", "Stores the intersect of multiple sets in a key."),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, KALL, WS)
        .parser(parse_sunionstore)
        .doc("set", "1.0.0", "Stores the union of multiple sets in a key."),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, KALL, WS)
        .parser(parse_sdiffstore)
        .doc("set", "1.0.0", "Stores the difference of multiple sets in a key."),
    CommandSpec::new("sintercard", -3, READONLY, (0, 0, 0), RS)
        .parser(parse_sintercard)
        .movable(sintercard_keys)
        .doc("set", "7.0.0", "Returns the number of members of the intersect of multiple sets."),
    CommandSpec::new("sscan", -3, READONLY, K1, RS)
        .parser(parse_sscan)
        .doc("set", "2.0.0", "Iterates over members of a set."),
];

fn wrongtype() -> Frame {
    Frame::static_error(error::WRONGTYPE)
}

/// The set at `key` for reading (None if missing), or WRONGTYPE.
pub(crate) fn read<'a>(db: &'a Db, key: &[u8], now: u64) -> Result<Option<&'a Set>, Frame> {
    crate::value::read(db, key, now)
}

fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a mut Set, Frame> {
    crate::value::write(db, key, now)
}

/// Deletes `key` if it holds an empty set, with the `del` event.
fn drop_if_empty(db: &mut Db, key: &[u8], now: u64) {
    if matches!(db.get(key, now), Some(Value::Set(s)) if s.is_empty()) {
        db.remove(key, now);
        db.notify(class::GENERIC, "del", key);
    }
}

fn set_frame(members: Vec<Frame>) -> Frame {
    Frame::Set(members)
}

impl SetCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            SetCommand::Add(key, members) => match write(db, &key, now) {
                Err(e) => e,
                Ok(set) => {
                    let added = members.iter().filter(|m| set.insert(m)).count();
                    if added > 0 {
                        db.notify(class::SET, "sadd", &key);
                    }
                    Frame::Integer(added as i64)
                }
            },
            SetCommand::Rem(key, members) => match db.get_mut(&key, now) {
                None => Frame::Integer(0),
                Some(Value::Set(set)) => {
                    let removed = members.iter().filter(|m| set.remove(m)).count();
                    if removed > 0 {
                        db.notify(class::SET, "srem", &key);
                        drop_if_empty(db, &key, now);
                    }
                    Frame::Integer(removed as i64)
                }
                Some(_) => wrongtype(),
            },
            SetCommand::IsMember(key, m) => match read(db, &key, now) {
                Err(e) => e,
                Ok(set) => Frame::Integer(i64::from(set.is_some_and(|s| s.contains(&m)))),
            },
            SetCommand::MIsMember(key, ms) => match read(db, &key, now) {
                Err(e) => e,
                Ok(set) => Frame::Array(
                    ms.iter()
                        .map(|m| Frame::Integer(i64::from(set.is_some_and(|s| s.contains(m)))))
                        .collect(),
                ),
            },
            SetCommand::Members(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(set) => set_frame(
                    set.into_iter()
                        .flat_map(|s| s.iter())
                        .map(Frame::bulk)
                        .collect(),
                ),
            },
            SetCommand::Card(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(set) => Frame::Integer(set.map_or(0, |s| s.len() as i64)),
            },
            SetCommand::Pop(key, count) => pop(db, now, &key, count, ctx.seed),
            SetCommand::RandMember(key, count) => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => match count {
                    None => Frame::Null,
                    Some(_) => Frame::Array(Vec::new()),
                },
                Ok(Some(set)) => match count {
                    None => {
                        let mut rng = Rng::new(ctx.seed);
                        set.members
                            .nth(rng.index(set.len()))
                            .map_or(Frame::Null, |(m, _)| Frame::bulk(m))
                    }
                    Some(c) => Frame::Array(
                        random_picks(set.len(), c, ctx.seed)
                            .into_iter()
                            .filter_map(|i| set.members.nth(i).map(|(m, _)| Frame::bulk(m)))
                            .collect(),
                    ),
                },
            },
            SetCommand::Move { src, dst, member } => smove(db, now, &src, &dst, &member),
            SetCommand::Algebra { op, dst, keys } => match compute(db, now, op, &keys) {
                Err(e) => e,
                Ok(result) => match dst {
                    None => set_frame(result.iter().map(|m| Frame::bulk(m)).collect()),
                    Some(dst) => store(db, now, op, &dst, result),
                },
            },
            SetCommand::InterCard { keys, limit } => inter_card(db, now, &keys, limit),
            SetCommand::Scan {
                key,
                cursor,
                pattern,
                count,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => crate::generic::scan_reply(0, Vec::new()),
                Ok(Some(set)) => {
                    let (next, entries) = crate::hash::scan_entries(&set.members, cursor, count);
                    let items = entries
                        .into_iter()
                        .filter(|(m, _)| pattern.as_ref().is_none_or(|p| glob::matches(p, m)))
                        .map(|(m, _)| Frame::bulk(m))
                        .collect();
                    crate::generic::scan_reply(next, items)
                }
            },
        };
        Reply::Frame(f)
    }
}

fn pop(db: &mut Db, now: u64, key: &[u8], count: Option<u64>, seed: u64) -> Frame {
    let set = match db.get_mut(key, now) {
        None => {
            return match count {
                None => Frame::Null,
                Some(_) => set_frame(Vec::new()),
            };
        }
        Some(Value::Set(s)) => s,
        Some(_) => return wrongtype(),
    };
    let mut rng = Rng::new(seed);
    let reply = match count {
        None => {
            let Some(m) = set
                .members
                .nth(rng.index(set.len()))
                .map(|(m, _)| SmallBytes::new(m))
            else {
                return Frame::Null;
            };
            set.remove(&m);
            Frame::bulk(&m)
        }
        Some(0) => return set_frame(Vec::new()),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let chosen: Vec<SmallBytes> = if n >= set.len() {
                set.iter().map(SmallBytes::new).collect()
            } else {
                let mut picks = rng.distinct_indices(set.len(), n);
                for i in (1..picks.len()).rev() {
                    let j = rng.index(i + 1);
                    picks.swap(i, j);
                }
                picks
                    .into_iter()
                    .filter_map(|i| set.members.nth(i).map(|(m, _)| SmallBytes::new(m)))
                    .collect()
            };
            for m in &chosen {
                set.remove(m);
            }
            set_frame(chosen.iter().map(|m| Frame::bulk(m)).collect())
        }
    };
    db.notify(class::SET, "spop", key);
    drop_if_empty(db, key, now);
    reply
}

fn smove(db: &mut Db, now: u64, src: &[u8], dst: &[u8], member: &[u8]) -> Frame {
    let src_set = match read(db, src, now) {
        Err(e) => return e,
        Ok(None) => return Frame::Integer(0),
        Ok(Some(s)) => s,
    };
    let has = src_set.contains(member);
    if let Err(e) = read(db, dst, now) {
        return e;
    }
    if src == dst {
        return Frame::Integer(i64::from(has));
    }
    if !has {
        return Frame::Integer(0);
    }
    if let Some(Value::Set(s)) = db.get_mut(src, now) {
        s.remove(member);
    }
    db.notify(class::SET, "srem", src);
    drop_if_empty(db, src, now);
    match write(db, dst, now) {
        Err(e) => return e,
        Ok(d) => {
            if d.insert(member) {
                db.notify(class::SET, "sadd", dst);
            }
        }
    }
    Frame::Integer(1)
}

/// The members of `op` over `keys` (missing keys are empty sets; any key of another type
/// is WRONGTYPE, checked before computing, as Redis does).
fn compute(db: &Db, now: u64, op: SetOp, keys: &[Bytes]) -> Result<Vec<SmallBytes>, Frame> {
    let mut sets = Vec::with_capacity(keys.len());
    for k in keys {
        sets.push(read(db, k, now)?);
    }
    Ok(match op {
        SetOp::Inter => {
            if sets.iter().any(|s| s.is_none()) {
                return Ok(Vec::new());
            }
            let mut sets: Vec<&Set> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            let Some((first, rest)) = sets.split_first() else {
                return Ok(Vec::new());
            };
            first
                .iter()
                .filter(|m| rest.iter().all(|s| s.contains(m)))
                .map(SmallBytes::new)
                .collect()
        }
        SetOp::Union => {
            let mut acc: ByteMap<()> = ByteMap::new();
            for s in sets.into_iter().flatten() {
                for m in s.iter() {
                    acc.insert(m, ());
                }
            }
            acc.iter().map(|(m, _)| SmallBytes::new(m)).collect()
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else {
                return Ok(Vec::new());
            };
            first
                .iter()
                .filter(|m| sets[1..].iter().flatten().all(|s| !s.contains(m)))
                .map(SmallBytes::new)
                .collect()
        }
    })
}

fn store(db: &mut Db, now: u64, op: SetOp, dst: &[u8], result: Vec<SmallBytes>) -> Frame {
    let n = result.len() as i64;
    if result.is_empty() {
        if db.remove(dst, now).is_some() {
            db.notify(class::GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    let mut set = Set::default();
    for m in &result {
        set.insert(m);
    }
    db.expire_if_needed(dst, now);
    db.set(dst, Value::Set(Box::new(set)));
    let event = match op {
        SetOp::Inter => "sinterstore",
        SetOp::Union => "sunionstore",
        SetOp::Diff => "sdiffstore",
    };
    db.notify(class::SET, event, dst);
    Frame::Integer(n)
}

fn inter_card(db: &Db, now: u64, keys: &[Bytes], limit: usize) -> Frame {
    let mut sets = Vec::with_capacity(keys.len());
    for k in keys {
        match read(db, k, now) {
            Err(e) => return e,
            Ok(s) => sets.push(s),
        }
    }
    // Every key is type-checked before a missing one makes the answer 0.
    let Some(mut sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
        return Frame::Integer(0);
    };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else {
        return Frame::Integer(0);
    };
    let mut n = 0usize;
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(m)) {
            n += 1;
            if limit > 0 && n >= limit {
                break;
            }
        }
    }
    Frame::Integer(n as i64)
}

impl Persist for Set {
    fn encode(&self, w: &mut Writer) {
        w.varint(self.len() as u64);
        for m in self.iter() {
            w.bytes(m);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut s = Set::default();
        for _ in 0..n {
            s.insert(r.bytes()?);
        }
        Ok(s)
    }
}
