//! Sorted-set commands: ZADD (NX XX GT LT CH INCR), ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//! ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK, ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and the
//! legacy ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX / ZREVRANGEBYLEX / ZREVRANGE,
//! ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX, ZMPOP/BZMPOP, ZREMRANGEBYSCORE/RANK/LEX, ZSCAN,
//! ZRANDMEMBER — Redis 7.0's semantics, RESP2/RESP3 reply shapes and error texts.
//!
//! Representation: `scores`, a [`ByteMap`] member → score (O(log n) ZSCORE; its hash order
//! serves ZSCAN cursors and ZRANDMEMBER), and `by_score`, an [`OsTree`] ordered by
//! (score, member) with subtree sizes: ZRANK, rank ranges, ZCOUNT and the start of a score
//! or lex range are all O(log n), a range of m elements O(log n + m). Scores are never
//! NaN, and -0 is stored as 0 (as Redis's compact encoding does), so `f64::total_cmp`
//! orders them as Redis's `<` does.

mod algebra;
pub mod ostree;
mod range;

#[cfg(test)]
mod ds_tests;

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{self, ParseResult, is, parse_i64, parse_i64_strict};
use crate::command::{Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::glob;
use crate::small::SmallBytes;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;
pub use algebra::{Aggregate, AlgebraOpts, Output, ZOp};
use ostree::{ByteMap, OsTree};
pub use range::{LexBound, RangeKind, ScoreBound};

/// A score in the (score, member) order: total order, NaN never stored.
#[derive(Clone, Copy, Debug)]
pub struct Score(pub f64);

impl PartialEq for Score {
    fn eq(&self, o: &Self) -> bool {
        self.0.total_cmp(&o.0).is_eq()
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// A sorted set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    scores: ByteMap<f64>,
    by_score: OsTree<(Score, SmallBytes), ()>,
}

/// Normalizes -0 to 0.
fn norm(s: f64) -> f64 {
    s + 0.0
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.scores.get(m).copied()
    }

    /// Sets `m`'s score; returns the previous score.
    pub fn insert(&mut self, m: &[u8], score: f64) -> Option<f64> {
        let score = norm(score);
        let old = self.scores.insert(m, score);
        if let Some(o) = old {
            if Score(o) == Score(score) {
                return old;
            }
            self.by_score.remove_by(cmp_entry(o, m));
        }
        self.by_score.insert((Score(score), SmallBytes::new(m)), ());
        old
    }

    /// Removes `m`; returns its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let old = self.scores.remove(m)?;
        self.by_score.remove_by(cmp_entry(old, m));
        Some(old)
    }

    /// 0-based rank of `m` in ascending order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        self.by_score.find_by(cmp_entry(s, m)).map(|e| e.0)
    }

    /// The element at ascending rank `i`.
    pub fn nth(&self, i: usize) -> Option<(&[u8], f64)> {
        self.by_score.nth(i).map(|(k, _)| (k.1.as_slice(), k.0.0))
    }

    /// Elements in ascending order from rank `i`.
    pub fn iter_from(&self, i: usize) -> impl Iterator<Item = (&[u8], f64)> {
        self.by_score
            .iter_from(i)
            .map(|(k, _)| (k.1.as_slice(), k.0.0))
    }

    /// Elements in descending order from ascending rank `i` down.
    pub fn iter_rev_from(&self, i: usize) -> impl Iterator<Item = (&[u8], f64)> {
        self.by_score
            .iter_rev_from(i)
            .map(|(k, _)| (k.1.as_slice(), k.0.0))
    }

    /// Elements in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        self.iter_from(0)
    }

    /// Number of elements whose (score, member) satisfies `pred` (true for a prefix).
    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.by_score
            .partition_point(|k| pred(k.0.0, k.1.as_slice()))
    }
}

fn cmp_entry(score: f64, m: &[u8]) -> impl Fn(&(Score, SmallBytes)) -> std::cmp::Ordering + '_ {
    move |k| k.0.cmp(&Score(score)).then_with(|| k.1.as_slice().cmp(m))
}

/// ZADD's flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

/// Which end ZPOPMIN/ZPOPMAX and friends pop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Min,
    Max,
}

/// ZRANGE's LIMIT and WITHSCORES, after validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeOpts {
    pub rev: bool,
    pub with_scores: bool,
    /// (offset, count); count < 0 is unlimited.
    pub limit: Option<(i64, i64)>,
}

/// A parsed sorted-set command.
#[derive(Clone, Debug, PartialEq)]
pub enum ZSetCommand {
    Add {
        key: Bytes,
        flags: AddFlags,
        pairs: Vec<(f64, Bytes)>,
    },
    IncrBy(Bytes, f64, Bytes),
    Rem(Bytes, Vec<Bytes>),
    Score(Bytes, Bytes),
    MScore(Bytes, Vec<Bytes>),
    Card(Bytes),
    Count(Bytes, ScoreBound, ScoreBound),
    /// The bounds boxed, as for the ranges below: inline they made every `Command` (the
    /// largest variant's size) 144 bytes, too big for the compiler to move inline.
    LexCount(Bytes, Box<(LexBound, LexBound)>),
    Rank {
        key: Bytes,
        member: Bytes,
        rev: bool,
    },
    Range {
        key: Bytes,
        range: Box<(RangeKind, RangeOpts)>,
    },
    Pop {
        key: Bytes,
        side: Side,
        count: Option<u64>,
    },
    BPop {
        keys: Vec<Bytes>,
        side: Side,
        timeout_ms: u64,
        /// The retry of a blocked client ([`crate::blocking`]): keys of another type are
        /// skipped.
        retry: bool,
    },
    MPop {
        keys: Vec<Bytes>,
        side: Side,
        count: u64,
        block: Option<u64>,
        /// The retry of a blocked client: keys of another type are skipped.
        retry: bool,
    },
    RemRange {
        key: Bytes,
        kind: Box<RangeKind>,
    },
    Scan {
        key: Bytes,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
    },
    RandMember {
        key: Bytes,
        count: Option<i64>,
        with_scores: bool,
    },
    /// ZUNION/ZINTER/ZDIFF, their STORE forms (`dst`), ZINTERCARD. `opts` holds the
    /// options or the error they gave, answered after the keys' type check.
    Algebra {
        op: ZOp,
        dst: Option<Bytes>,
        keys: Vec<Bytes>,
        opts: Result<AlgebraOpts, Frame>,
        output: Output,
    },
    /// ZRANGESTORE (the range boxed: it would make every command bigger).
    RangeStore {
        dst: Bytes,
        src: Bytes,
        range: Box<(RangeKind, RangeOpts)>,
    },
}

fn z(c: ZSetCommand) -> Command {
    Command::ZSet(c)
}

/// A score or increment as Redis's `getDoubleFromObject` reads it: like any float, but
/// a finite spelling that overflows to ±inf or underflows to 0 (`1e400`, `1e-400`) is
/// refused, as strtod's ERANGE makes Redis refuse it.
fn parse_score(b: &[u8]) -> ParseResult<f64> {
    let v = args::parse_f64(b)?;
    let mantissa = b.split(|&c| c == b'e' || c == b'E').next().unwrap_or(b);
    let spelled_inf = b
        .iter()
        .any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'));
    let overflow = v.is_infinite() && !spelled_inf;
    let underflow = v == 0.0 && mantissa.iter().any(|c| (b'1'..=b'9').contains(c));
    if overflow || underflow {
        return Err(Frame::static_error(error::NOT_FLOAT));
    }
    Ok(v)
}

fn parse_zadd(a: &[Bytes]) -> ParseResult<Command> {
    let mut flags = AddFlags::default();
    let mut i = 2;
    while i < a.len() {
        let o = &a[i];
        if is(o, "NX") {
            flags.nx = true;
        } else if is(o, "XX") {
            flags.xx = true;
        } else if is(o, "GT") {
            flags.gt = true;
        } else if is(o, "LT") {
            flags.lt = true;
        } else if is(o, "CH") {
            flags.ch = true;
        } else if is(o, "INCR") {
            flags.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = a.len() - i;
    if elements == 0 || elements % 2 == 1 {
        return Err(Frame::static_error(error::SYNTAX));
    }
    if flags.nx && flags.xx {
        return Err(Frame::static_error(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(Frame::static_error(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && elements > 2 {
        return Err(Frame::static_error(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for p in a[i..].chunks_exact(2) {
        pairs.push((parse_score(&p[0])?, p[1].clone()));
    }
    Ok(z(ZSetCommand::Add {
        key: a[1].clone(),
        flags,
        pairs,
    }))
}

fn parse_zincrby(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::IncrBy(
        a[1].clone(),
        parse_score(&a[2])?,
        a[3].clone(),
    )))
}

fn parse_zrem(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::Rem(a[1].clone(), a[2..].to_vec())))
}

fn parse_zscore(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::Score(a[1].clone(), a[2].clone())))
}

fn parse_zmscore(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::MScore(a[1].clone(), a[2..].to_vec())))
}

fn parse_zcard(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::Card(a[1].clone())))
}

fn parse_zcount(a: &[Bytes]) -> ParseResult<Command> {
    let (min, max) = range::parse_score_range(&a[2], &a[3])?;
    Ok(z(ZSetCommand::Count(a[1].clone(), min, max)))
}

fn parse_zlexcount(a: &[Bytes]) -> ParseResult<Command> {
    let (min, max) = range::parse_lex_range(&a[2], &a[3])?;
    Ok(z(ZSetCommand::LexCount(a[1].clone(), Box::new((min, max)))))
}

fn parse_zrank(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::Rank {
        key: a[1].clone(),
        member: a[2].clone(),
        rev: false,
    }))
}

fn parse_zrevrank(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::Rank {
        key: a[1].clone(),
        member: a[2].clone(),
        rev: true,
    }))
}

/// Which ZRANGE-family command is being parsed: fixes the range type and direction of
/// the legacy forms (their BYSCORE/BYLEX/REV are then syntax errors, as in Redis).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeCmd {
    ZRange,
    ByScore { rev: bool },
    ByLex { rev: bool },
    ZRevRange,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Auto,
    Rank,
    Score,
    Lex,
}

fn parse_range_generic(a: &[Bytes], cmd: RangeCmd) -> ParseResult<Command> {
    let (mut ty, mut rev) = match cmd {
        RangeCmd::ZRange => (Type::Auto, None),
        RangeCmd::ByScore { rev } => (Type::Score, Some(rev)),
        RangeCmd::ByLex { rev } => (Type::Lex, Some(rev)),
        RangeCmd::ZRevRange => (Type::Rank, Some(true)),
    };
    let mut with_scores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = 4;
    while j < a.len() {
        let left = a.len() - j - 1;
        let o = &a[j];
        if is(o, "WITHSCORES") {
            with_scores = true;
        } else if is(o, "LIMIT") && left >= 2 {
            let off = parse_i64(&a[j + 1])?;
            let cnt = parse_i64(&a[j + 2])?;
            limit = Some((off, cnt));
            j += 2;
        } else if rev.is_none() && is(o, "REV") {
            rev = Some(true);
        } else if ty == Type::Auto && is(o, "BYLEX") {
            ty = Type::Lex;
        } else if ty == Type::Auto && is(o, "BYSCORE") {
            ty = Type::Score;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if ty == Type::Auto {
        ty = Type::Rank;
    }
    if ty == Type::Rank && limit.is_some_and(|l| l.1 != -1) {
        return Err(Frame::static_error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && ty == Type::Lex {
        return Err(Frame::static_error(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (lo, hi) = if rev && ty != Type::Rank {
        (&a[3], &a[2])
    } else {
        (&a[2], &a[3])
    };
    let kind = match ty {
        Type::Rank | Type::Auto => RangeKind::Rank(parse_i64(lo)?, parse_i64(hi)?),
        Type::Score => {
            let (min, max) = range::parse_score_range(lo, hi)?;
            RangeKind::Score(min, max)
        }
        Type::Lex => {
            let (min, max) = range::parse_lex_range(lo, hi)?;
            RangeKind::Lex(min, max)
        }
    };
    let opts = RangeOpts {
        rev,
        with_scores,
        limit: if ty == Type::Rank { None } else { limit },
    };
    Ok(z(ZSetCommand::Range {
        key: a[1].clone(),
        range: Box::new((kind, opts)),
    }))
}

fn parse_zrange(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ZRange)
}
fn parse_zrangebyscore(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ByScore { rev: false })
}
fn parse_zrevrangebyscore(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ByScore { rev: true })
}
fn parse_zrangebylex(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ByLex { rev: false })
}
fn parse_zrevrangebylex(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ByLex { rev: true })
}
fn parse_zrevrange(a: &[Bytes]) -> ParseResult<Command> {
    parse_range_generic(a, RangeCmd::ZRevRange)
}

fn pop(a: &[Bytes], side: Side) -> ParseResult<Command> {
    let count = match a.len() {
        2 => None,
        3 => match parse_i64_strict(&a[2]) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(Frame::static_error(error::NOT_POSITIVE)),
        },
        _ => return Err(Frame::static_error(error::SYNTAX)),
    };
    Ok(z(ZSetCommand::Pop {
        key: a[1].clone(),
        side,
        count,
    }))
}

fn parse_zpopmin(a: &[Bytes]) -> ParseResult<Command> {
    pop(a, Side::Min)
}
fn parse_zpopmax(a: &[Bytes]) -> ParseResult<Command> {
    pop(a, Side::Max)
}

fn bpop(a: &[Bytes], side: Side) -> ParseResult<Command> {
    let timeout_ms = args::parse_timeout(&a[a.len() - 1])?;
    Ok(z(ZSetCommand::BPop {
        keys: a[1..a.len() - 1].to_vec(),
        side,
        timeout_ms,
        retry: false,
    }))
}

fn parse_bzpopmin(a: &[Bytes]) -> ParseResult<Command> {
    bpop(a, Side::Min)
}
fn parse_bzpopmax(a: &[Bytes]) -> ParseResult<Command> {
    bpop(a, Side::Max)
}

fn parse_side(b: &[u8]) -> ParseResult<Side> {
    if is(b, "MIN") {
        Ok(Side::Min)
    } else if is(b, "MAX") {
        Ok(Side::Max)
    } else {
        Err(Frame::static_error(error::SYNTAX))
    }
}

fn parse_zmpop(a: &[Bytes]) -> ParseResult<Command> {
    let (keys, side, count) = crate::list::parse_mpop_tail(a, 1, parse_side)?;
    Ok(z(ZSetCommand::MPop {
        keys,
        side,
        count,
        block: None,
        retry: false,
    }))
}

fn parse_bzmpop(a: &[Bytes]) -> ParseResult<Command> {
    let (keys, side, count) = crate::list::parse_mpop_tail(a, 2, parse_side)?;
    let timeout = args::parse_timeout(&a[1])?;
    Ok(z(ZSetCommand::MPop {
        keys,
        side,
        count,
        block: Some(timeout),
        retry: false,
    }))
}

fn parse_zremrangebyscore(a: &[Bytes]) -> ParseResult<Command> {
    let (min, max) = range::parse_score_range(&a[2], &a[3])?;
    Ok(z(ZSetCommand::RemRange {
        key: a[1].clone(),
        kind: Box::new(RangeKind::Score(min, max)),
    }))
}

fn parse_zremrangebyrank(a: &[Bytes]) -> ParseResult<Command> {
    Ok(z(ZSetCommand::RemRange {
        key: a[1].clone(),
        kind: Box::new(RangeKind::Rank(parse_i64(&a[2])?, parse_i64(&a[3])?)),
    }))
}

fn parse_zremrangebylex(a: &[Bytes]) -> ParseResult<Command> {
    let (min, max) = range::parse_lex_range(&a[2], &a[3])?;
    Ok(z(ZSetCommand::RemRange {
        key: a[1].clone(),
        kind: Box::new(RangeKind::Lex(min, max)),
    }))
}

fn parse_zscan(a: &[Bytes]) -> ParseResult<Command> {
    let (cursor, pattern, count) = crate::hash::parse_scan_opts(a)?;
    Ok(z(ZSetCommand::Scan {
        key: a[1].clone(),
        cursor,
        pattern,
        count,
    }))
}

fn parse_zrandmember(a: &[Bytes]) -> ParseResult<Command> {
    let (count, with_scores) = crate::set::parse_rand_count(a, "WITHSCORES")?;
    Ok(z(ZSetCommand::RandMember {
        key: a[1].clone(),
        count,
        with_scores,
    }))
}

const K1: (i32, i32, i32) = (1, 1, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);
const RF: &[&str] = &["read", "sortedset", "fast"];
const RS: &[&str] = &["read", "sortedset", "slow"];
const WF: &[&str] = &["write", "sortedset", "fast"];
const WS: &[&str] = &["write", "sortedset", "slow"];

/// The sorted-set family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_zadd)
        .doc("sorted_set", "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_zincrby)
        .doc("sorted_set", "1.2.0", "Increments the score of a member in a sorted set."),
    CommandSpec::new("zrem", -3, WRITE | FAST, K1, WF)
        .parser(parse_zrem)
        .doc("sorted_set", "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
    CommandSpec::new("zscore", 3, READONLY | FAST, K1, RF)
        .parser(parse_zscore)
        .doc("sorted_set", "1.2.0", "Returns the score of a member in a sorted set."),
    CommandSpec::new("zmscore", -3, READONLY | FAST, K1, RF)
        .parser(parse_zmscore)
        .doc("sorted_set", "6.2.0", "Returns the score of one or more members in a sorted set."),
    CommandSpec::new("zcard", 2, READONLY | FAST, K1, RF)
        .parser(parse_zcard)
        .doc("sorted_set", "1.2.0", "Returns the number of members in a sorted set."),
    CommandSpec::new("zcount", 4, READONLY | FAST, K1, RF)
        .parser(parse_zcount)
        .doc("sorted_set", "2.0.0", "Returns the count of members in a sorted set that have scores within a range."),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, K1, RF)
        .parser(parse_zlexcount)
        .doc("sorted_set", "2.8.9", "Returns the number of members in a sorted set within a lexicographical range."),
    CommandSpec::new("zrank", 3, READONLY | FAST, K1, RF)
        .parser(parse_zrank)
        .doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores."),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, K1, RF)
        .parser(parse_zrevrank)
        .doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores."),
    CommandSpec::new("zrange", -4, READONLY, K1, RS)
        .parser(parse_zrange)
        .doc("sorted_set", "1.2.0", "Returns members in a sorted set within a range of indexes."),
    CommandSpec::new("zrangebyscore", -4, READONLY, K1, RS)
        .parser(parse_zrangebyscore)
        .doc("sorted_set", "1.0.5", "Returns members in a sorted set within a range of scores."),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, K1, RS)
        .parser(parse_zrevrangebyscore)
        .doc("sorted_set", "2.2.0", "Returns members in a sorted set within a range of scores in reverse order."),
    CommandSpec::new("zrangebylex", -4, READONLY, K1, RS)
        .parser(parse_zrangebylex)
        .doc("sorted_set", "2.8.9", "Returns members in a sorted set within a lexicographical range."),
    CommandSpec::new("zrevrangebylex", -4, READONLY, K1, RS)
        .parser(parse_zrevrangebylex)
        .doc("sorted_set", "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order."),
    CommandSpec::new("zrevrange", -4, READONLY, K1, RS)
        .parser(parse_zrevrange)
        .doc("sorted_set", "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order."),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, K1, WF)
        .parser(parse_zpopmin)
        .doc("sorted_set", "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, K1, WF)
        .parser(parse_zpopmax)
        .doc("sorted_set", "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), &["write", "sortedset", "fast", "blocking"])
        .parser(parse_bzpopmin)
        .doc("sorted_set", "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), &["write", "sortedset", "fast", "blocking"])
        .parser(parse_bzpopmax)
        .doc("sorted_set", "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."),
    CommandSpec::new("zmpop", -4, WRITE, NOKEYS, WS)
        .parser(parse_zmpop)
        .movable(crate::list::mpop_keys)
        .doc("sorted_set", "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, NOKEYS, &["write", "sortedset", "slow", "blocking"])
        .parser(parse_bzmpop)
        .movable(crate::list::bmpop_keys)
        .doc("sorted_set", "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    CommandSpec::new("zremrangebyscore", 4, WRITE, K1, WS)
        .parser(parse_zremrangebyscore)
        .doc("sorted_set", "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
    CommandSpec::new("zremrangebyrank", 4, WRITE, K1, WS)
        .parser(parse_zremrangebyrank)
        .doc("sorted_set", "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
    CommandSpec::new("zremrangebylex", 4, WRITE, K1, WS)
        .parser(parse_zremrangebylex)
        .doc("sorted_set", "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
    CommandSpec::new("zscan", -3, READONLY, K1, RS)
        .parser(parse_zscan)
        .doc("sorted_set", "2.8.0", "Iterates over members and scores of a sorted set."),
    CommandSpec::new("zrandmember", -2, READONLY, K1, RS)
        .parser(parse_zrandmember)
        .doc("sorted_set", "6.2.0", "Returns one or more random members from a sorted set."),
    CommandSpec::new("zunion", -3, READONLY, NOKEYS, RS)
        .parser(algebra::parse_zunion)
        .movable(algebra::keys_at1)
        .doc("sorted_set", "6.2.0", "Returns the union of multiple sorted sets."),
    CommandSpec::new("zinter", -3, READONLY, NOKEYS, RS)
        .parser(algebra::parse_zinter)
        .movable(algebra::keys_at1)
        .doc("sorted_set", "6.2.0", "Returns the intersect of multiple sorted sets."),
    CommandSpec::new("zdiff", -3, READONLY, NOKEYS, RS)
        .parser(algebra::parse_zdiff)
        .movable(algebra::keys_at1)
        .doc("sorted_set", "6.2.0", "Returns the difference between multiple sorted sets."),
    CommandSpec::new("zintercard", -3, READONLY, NOKEYS, RS)
        .parser(algebra::parse_zintercard)
        .movable(algebra::keys_at1)
        .doc("sorted_set", "7.0.0", "Returns the number of members of the intersect of multiple sorted sets."),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM, K1, WS)
        .parser(algebra::parse_zunionstore)
        .movable(algebra::keys_store)
        .doc("sorted_set", "2.0.0", "Stores the union of multiple sorted sets in a key."),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM, K1, WS)
        .parser(algebra::parse_zinterstore)
        .movable(algebra::keys_store)
        .doc("sorted_set", "2.0.0", "Stores the intersect of multiple sorted sets in a key."),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM, K1, WS)
        .parser(algebra::parse_zdiffstore)
        .movable(algebra::keys_store)
        .doc("sorted_set", "6.2.0", "Stores the difference of multiple sorted sets in a key."),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), WS)
        .doc("sorted_set", "6.2.0", "Stores a range of members from sorted set in a key.")
        .parser(algebra::parse_zrangestore),
];

fn wrongtype() -> Frame {
    Frame::static_error(error::WRONGTYPE)
}

fn read<'a>(db: &'a Db, key: &[u8], now: u64) -> Result<Option<&'a ZSet>, Frame> {
    crate::value::read(db, key, now)
}

fn get_mut<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut ZSet>, Frame> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(wrongtype()),
    }
}

/// Deletes `key` if it holds an empty sorted set; returns whether it did.
fn drop_if_empty(db: &mut Db, key: &[u8], now: u64) -> bool {
    if matches!(db.get(key, now), Some(Value::ZSet(z)) if z.is_empty()) {
        db.remove(key, now);
        true
    } else {
        false
    }
}

/// A score as a bulk string, formatted as Redis 7.0 does (`%.17g`).
pub(crate) fn score_bulk(s: f64) -> Frame {
    let mut out = Vec::with_capacity(24);
    shoal_resp::encode::format_double(s, &mut out);
    Frame::Bulk(Bytes::from(out))
}

/// (member, score) pairs: flat in RESP2, `[member, score]` arrays in RESP3 (Redis 7.0's
/// ZRANGE WITHSCORES, ZPOPMIN with count, ZRANDMEMBER WITHSCORES).
fn pairs_reply(items: Vec<(Frame, f64)>, resp3: bool) -> Frame {
    if resp3 {
        Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![m, Frame::Double(s)]))
                .collect(),
        )
    } else {
        let mut out = Vec::with_capacity(items.len() * 2);
        for (m, s) in items {
            out.push(m);
            out.push(Frame::Double(s));
        }
        Frame::Array(out)
    }
}

impl ZSetCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            ZSetCommand::Add { key, flags, pairs } => zadd(db, now, &key, flags, &pairs),
            ZSetCommand::IncrBy(key, by, member) => {
                let flags = AddFlags {
                    incr: true,
                    ..AddFlags::default()
                };
                zadd(db, now, &key, flags, &[(by, member)])
            }
            ZSetCommand::Rem(key, members) => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Integer(0),
                Ok(Some(zs)) => {
                    let n = members.iter().filter(|m| zs.remove(m).is_some()).count();
                    if n > 0 {
                        db.notify(class::ZSET, "zrem", &key);
                        if drop_if_empty(db, &key, now) {
                            db.notify(class::GENERIC, "del", &key);
                        }
                    }
                    Frame::Integer(n as i64)
                }
            },
            ZSetCommand::Score(key, m) => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => zs
                    .and_then(|z| z.score(&m))
                    .map_or(Frame::Null, Frame::Double),
            },
            ZSetCommand::MScore(key, ms) => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => Frame::Array(
                    ms.iter()
                        .map(|m| {
                            zs.and_then(|z| z.score(m))
                                .map_or(Frame::Null, Frame::Double)
                        })
                        .collect(),
                ),
            },
            ZSetCommand::Card(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => Frame::Integer(zs.map_or(0, |z| z.len() as i64)),
            },
            ZSetCommand::Count(key, min, max) => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => Frame::Integer(zs.map_or(0, |z| {
                    let (s, e) = range::score_span(z, &min, &max);
                    (e - s) as i64
                })),
            },
            ZSetCommand::LexCount(key, bounds) => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => Frame::Integer(zs.map_or(0, |z| {
                    let (s, e) = range::lex_span(z, &bounds.0, &bounds.1);
                    (e - s) as i64
                })),
            },
            ZSetCommand::Rank { key, member, rev } => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => zs
                    .and_then(|z| {
                        z.rank(&member)
                            .map(|r| if rev { z.len() - 1 - r } else { r })
                    })
                    .map_or(Frame::Null, |r| Frame::Integer(r as i64)),
            },
            ZSetCommand::Range { key, range } => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Array(Vec::new()),
                Ok(Some(zs)) => {
                    let (kind, opts) = &*range;
                    let items = range::select(zs, kind, opts);
                    if opts.with_scores {
                        pairs_reply(
                            items
                                .into_iter()
                                .map(|(m, s)| (Frame::bulk(m), s))
                                .collect(),
                            ctx.resp3,
                        )
                    } else {
                        Frame::Array(items.into_iter().map(|(m, _)| Frame::bulk(m)).collect())
                    }
                }
            },
            ZSetCommand::Pop { key, side, count } => {
                match pop_n(db, now, &key, side, count.unwrap_or(1)) {
                    Err(e) => e,
                    Ok(popped) => match count {
                        // Without a count: a flat [member, score] in both protocols.
                        None => match popped.into_iter().next() {
                            None => Frame::Array(Vec::new()),
                            Some((m, s)) => Frame::Array(vec![Frame::bulk(&m), Frame::Double(s)]),
                        },
                        Some(_) => pairs_reply(
                            popped.iter().map(|(m, s)| (Frame::bulk(m), *s)).collect(),
                            ctx.resp3,
                        ),
                    },
                }
            }
            ZSetCommand::BPop {
                keys,
                side,
                timeout_ms,
                retry,
            } => return bpop_apply(db, ctx, keys, side, timeout_ms, retry),
            ZSetCommand::MPop {
                keys,
                side,
                count,
                block,
                retry,
            } => return mpop(db, ctx, keys, side, count, block, retry),
            ZSetCommand::RemRange { key, kind } => match get_mut(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Integer(0),
                Ok(Some(zs)) => {
                    let (s, e) = match &*kind {
                        RangeKind::Rank(a, b) => crate::list::clamp_range(*a, *b, zs.len())
                            .map_or((0, 0), |(s, e)| (s, e + 1)),
                        RangeKind::Score(min, max) => range::score_span(zs, min, max),
                        RangeKind::Lex(min, max) => range::lex_span(zs, min, max),
                    };
                    let doomed: Vec<SmallBytes> = zs
                        .iter_from(s)
                        .take(e.saturating_sub(s))
                        .map(|(m, _)| SmallBytes::new(m))
                        .collect();
                    for m in &doomed {
                        zs.remove(m);
                    }
                    if !doomed.is_empty() {
                        let event = match *kind {
                            RangeKind::Rank(..) => "zremrangebyrank",
                            RangeKind::Score(..) => "zremrangebyscore",
                            RangeKind::Lex(..) => "zremrangebylex",
                        };
                        db.notify(class::ZSET, event, &key);
                        if drop_if_empty(db, &key, now) {
                            db.notify(class::GENERIC, "del", &key);
                        }
                    }
                    Frame::Integer(doomed.len() as i64)
                }
            },
            ZSetCommand::Scan {
                key,
                cursor,
                pattern,
                count,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => crate::generic::scan_reply(0, Vec::new()),
                Ok(Some(zs)) => {
                    // Small sorted sets come back whole and in score order, as Redis's
                    // listpack encoding answers; big ones by hash cursor.
                    let (next, entries): (u64, Vec<(&[u8], f64)>) =
                        if zs.len() <= crate::hash::SCAN_ALL_BELOW {
                            (0, zs.iter().collect())
                        } else {
                            let (n, e) = zs.scores.scan(cursor, count);
                            (n, e.into_iter().map(|(m, s)| (m, *s)).collect())
                        };
                    let mut items = Vec::with_capacity(entries.len() * 2);
                    for (m, s) in entries {
                        if pattern.as_ref().is_none_or(|p| glob::matches(p, m)) {
                            items.push(Frame::bulk(m));
                            items.push(score_bulk(s));
                        }
                    }
                    crate::generic::scan_reply(next, items)
                }
            },
            ZSetCommand::RandMember {
                key,
                count,
                with_scores,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(zs) => rand_member(zs, count, with_scores, ctx),
            },
            ZSetCommand::Algebra {
                op,
                dst,
                keys,
                opts,
                output,
            } => algebra::apply_algebra(db, now, ctx.resp3, op, dst, &keys, opts, output),
            ZSetCommand::RangeStore { dst, src, range } => {
                algebra::apply_range_store(db, now, &dst, &src, &range.0, &range.1)
            }
        };
        Reply::Frame(f)
    }
}

fn zadd(db: &mut Db, now: u64, key: &[u8], f: AddFlags, pairs: &[(f64, Bytes)]) -> Frame {
    match db.get(key, now) {
        Some(Value::ZSet(_)) => {}
        Some(_) => return wrongtype(),
        None if f.xx => {
            return if f.incr {
                Frame::Null
            } else {
                Frame::Integer(0)
            };
        }
        None => {}
    }
    let Value::ZSet(zs) = db.get_or_insert_with(key, now, || Value::ZSet(Box::default())) else {
        return wrongtype();
    };
    let (mut added, mut updated) = (0i64, 0i64);
    let mut result = None;
    let mut nan = false;
    for (score, member) in pairs {
        match zs.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let new = if f.incr {
                    let n = cur + score;
                    if n.is_nan() {
                        nan = true;
                        break;
                    }
                    n
                } else {
                    *score
                };
                if (f.gt && new <= cur) || (f.lt && new >= cur) {
                    continue;
                }
                result = Some(norm(new));
                if new != cur {
                    zs.insert(member, new);
                    updated += 1;
                }
            }
            None => {
                if f.xx {
                    continue;
                }
                zs.insert(member, *score);
                result = Some(norm(*score));
                added += 1;
            }
        }
    }
    if added + updated > 0 {
        db.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
        db.signal_ready(key);
    } else {
        drop_if_empty(db, key, now);
    }
    if nan {
        return Frame::static_error("ERR resulting score is not a number (NaN)");
    }
    if f.incr {
        result.map_or(Frame::Null, Frame::Double)
    } else {
        Frame::Integer(if f.ch { added + updated } else { added })
    }
}

/// Pops up to `count` from one end of the sorted set at `key`, with events.
fn pop_n(
    db: &mut Db,
    now: u64,
    key: &[u8],
    side: Side,
    count: u64,
) -> Result<Vec<(SmallBytes, f64)>, Frame> {
    let Some(zs) = get_mut(db, key, now)? else {
        return Ok(Vec::new());
    };
    let n = usize::try_from(count).unwrap_or(usize::MAX).min(zs.len());
    if n == 0 {
        return Ok(Vec::new());
    }
    let popped: Vec<(SmallBytes, f64)> = match side {
        Side::Min => zs
            .iter_from(0)
            .take(n)
            .map(|(m, s)| (SmallBytes::new(m), s))
            .collect(),
        Side::Max => zs
            .iter_rev_from(zs.len() - 1)
            .take(n)
            .map(|(m, s)| (SmallBytes::new(m), s))
            .collect(),
    };
    for (m, _) in &popped {
        zs.remove(m);
    }
    db.notify(
        class::ZSET,
        match side {
            Side::Min => "zpopmin",
            Side::Max => "zpopmax",
        },
        key,
    );
    if drop_if_empty(db, key, now) {
        db.notify(class::GENERIC, "del", key);
    }
    Ok(popped)
}

/// A key and what was popped from it.
type Popped = (Bytes, Vec<(SmallBytes, f64)>);

/// Pops from the first non-empty sorted set of `keys`; WRONGTYPE if a key of another type
/// comes first, unless `retry` (a blocked client's retry skips such keys, as Redis serves
/// sorted-set waiters only from sorted sets).
fn pop_first(
    db: &mut Db,
    now: u64,
    keys: &[Bytes],
    side: Side,
    count: u64,
    retry: bool,
) -> Result<Option<Popped>, Frame> {
    for key in keys {
        let zs = match read(db, key, now) {
            Err(_) if retry => continue,
            r => r?,
        };
        match zs {
            Some(z) if !z.is_empty() => {
                return Ok(Some((key.clone(), pop_n(db, now, key, side, count)?)));
            }
            _ => continue,
        }
    }
    Ok(None)
}

fn bpop_apply(
    db: &mut Db,
    ctx: &Ctx,
    keys: Vec<Bytes>,
    side: Side,
    timeout_ms: u64,
    retry: bool,
) -> Reply {
    match pop_first(db, ctx.now_ms, &keys, side, 1, retry) {
        Err(e) => Reply::Frame(e),
        Ok(Some((key, popped))) => Reply::Frame(match popped.into_iter().next() {
            Some((m, s)) => Frame::Array(vec![Frame::Bulk(key), Frame::bulk(&m), Frame::Double(s)]),
            None => Frame::NullArray,
        }),
        Ok(None) => crate::list::block_or_timeout(
            ctx,
            keys.clone(),
            timeout_ms,
            Command::ZSet(ZSetCommand::BPop {
                keys,
                side,
                timeout_ms,
                retry,
            }),
            Frame::NullArray,
            Frame::NullArray,
        ),
    }
}

fn mpop(
    db: &mut Db,
    ctx: &Ctx,
    keys: Vec<Bytes>,
    side: Side,
    count: u64,
    block: Option<u64>,
    retry: bool,
) -> Reply {
    match pop_first(db, ctx.now_ms, &keys, side, count, retry) {
        Err(e) => Reply::Frame(e),
        Ok(Some((key, popped))) => Reply::Frame(Frame::Array(vec![
            Frame::Bulk(key),
            // ZMPOP nests [member, score] pairs in both protocols.
            Frame::Array(
                popped
                    .iter()
                    .map(|(m, s)| Frame::Array(vec![Frame::bulk(m), Frame::Double(*s)]))
                    .collect(),
            ),
        ])),
        Ok(None) => match block {
            None => Reply::Frame(Frame::NullArray),
            Some(timeout_ms) => crate::list::block_or_timeout(
                ctx,
                keys.clone(),
                timeout_ms,
                Command::ZSet(ZSetCommand::MPop {
                    keys,
                    side,
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

fn rand_member(zs: Option<&ZSet>, count: Option<i64>, with_scores: bool, ctx: &Ctx) -> Frame {
    let Some(count) = count else {
        return match zs {
            None => Frame::Null,
            Some(z) => {
                let mut rng = crate::rand::Rng::new(ctx.seed);
                z.scores
                    .nth(rng.index(z.len()))
                    .map_or(Frame::Null, |(m, _)| Frame::bulk(m))
            }
        };
    };
    let Some(zs) = zs else {
        return Frame::Array(Vec::new());
    };
    let picks = crate::set::random_picks(zs.len(), count, ctx.seed);
    let items: Vec<(Frame, f64)> = picks
        .into_iter()
        .filter_map(|i| zs.scores.nth(i).map(|(m, s)| (Frame::bulk(m), *s)))
        .collect();
    if with_scores {
        pairs_reply(items, ctx.resp3)
    } else {
        Frame::Array(items.into_iter().map(|(m, _)| m).collect())
    }
}

impl Persist for ZSet {
    fn encode(&self, w: &mut Writer) {
        // Score order is canonical (ties broken by member).
        w.varint(self.len() as u64);
        for (m, s) in self.iter() {
            w.bytes(m);
            w.f64(s);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut z = ZSet::default();
        for _ in 0..n {
            let m = r.bytes()?;
            let s = r.f64()?;
            if s.is_nan() {
                return Err(SnapshotError("NaN score".into()));
            }
            z.insert(m, s);
        }
        Ok(z)
    }
}
