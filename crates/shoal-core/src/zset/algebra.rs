//! Sorted-set algebra: ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD, and
//! ZRANGESTORE — Redis 7.0's `zunionInterDiffGenericCommand` and `zrangeGenericCommand`
//! with a store handler.
//!
//! Order of checks, as Redis does it: numkeys (not an integer, < 1, more than the
//! arguments), then the keys' types (WRONGTYPE), then the options (WEIGHTS, AGGREGATE,
//! WITHSCORES, LIMIT). The options are parsed at the edge like everything else, but a
//! parse error travels inside the command and is answered only after the type check.
//! Plain sets are valid inputs, each member scoring 1. Inputs are combined smallest
//! first (Redis sorts them by cardinality), which fixes the order of floating-point sums.

use bytes::Bytes;
use shoal_resp::Frame;

use super::{RangeKind, RangeOpts, Score, ZSet, ZSetCommand, pairs_reply, range, wrongtype, z};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::Command;
use crate::db::{Db, class};
use crate::error;
use crate::set::Set;
use crate::value::Value;

/// Which combination of the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZOp {
    Union,
    Inter,
    Diff,
}

/// How the scores of a member present in several inputs combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

/// The options after the keys.
#[derive(Clone, Debug, PartialEq)]
pub struct AlgebraOpts {
    /// One weight per key (all 1 without WEIGHTS).
    pub weights: Vec<f64>,
    pub aggregate: Aggregate,
    pub with_scores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    pub limit: u64,
}

/// What the command answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// ZUNION/ZINTER/ZDIFF: the members (WITHSCORES: and scores).
    Reply,
    /// ZINTERCARD: the count.
    Card,
}

fn name_of(op: ZOp, store: bool, card: bool) -> &'static str {
    match (op, store, card) {
        (_, _, true) => "zintercard",
        (ZOp::Union, false, _) => "zunion",
        (ZOp::Inter, false, _) => "zinter",
        (ZOp::Diff, false, _) => "zdiff",
        (ZOp::Union, true, _) => "zunionstore",
        (ZOp::Inter, true, _) => "zinterstore",
        (ZOp::Diff, true, _) => "zdiffstore",
    }
}

/// Parses `[dst] numkeys key... [options]`.
fn parse_algebra(a: &[Bytes], op: ZOp, store: bool, card: bool) -> ParseResult<Command> {
    let at = if store { 2 } else { 1 };
    let n = parse_i64(&a[at])?;
    if n < 1 {
        return Err(Frame::error(format!(
            "ERR at least 1 input key is needed for '{}' command",
            name_of(op, store, card)
        )));
    }
    let avail = (a.len() - at - 1) as u64;
    if n as u64 > avail {
        return Err(Frame::static_error(error::SYNTAX));
    }
    let n = n as usize;
    let keys = a[at + 1..at + 1 + n].to_vec();
    let opts = parse_opts(&a[at + 1 + n..], n, op, store, card);
    Ok(z(ZSetCommand::Algebra {
        op,
        dst: store.then(|| a[1].clone()),
        keys,
        opts,
        output: if card { Output::Card } else { Output::Reply },
    }))
}

fn parse_opts(
    rest: &[Bytes],
    n: usize,
    op: ZOp,
    store: bool,
    card: bool,
) -> Result<AlgebraOpts, Frame> {
    let mut o = AlgebraOpts {
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let mut j = 0;
    while j < rest.len() {
        let left = rest.len() - j;
        let arg = &rest[j];
        if op != ZOp::Diff && !card && left > n && is(arg, "WEIGHTS") {
            for (i, w) in rest[j + 1..j + 1 + n].iter().enumerate() {
                o.weights[i] = super::parse_score(w)
                    .map_err(|_| Frame::static_error("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != ZOp::Diff && !card && left >= 2 && is(arg, "AGGREGATE") {
            let v = &rest[j + 1];
            o.aggregate = if is(v, "SUM") {
                Aggregate::Sum
            } else if is(v, "MIN") {
                Aggregate::Min
            } else if is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(Frame::static_error(error::SYNTAX));
            };
            j += 2;
        } else if !store && !card && is(arg, "WITHSCORES") {
            o.with_scores = true;
            j += 1;
        } else if card && left >= 2 && is(arg, "LIMIT") {
            const NEG: &str = "ERR LIMIT can't be negative";
            let l = crate::args::parse_i64_strict(&rest[j + 1])
                .ok_or_else(|| Frame::static_error(NEG))?;
            if l < 0 {
                return Err(Frame::static_error(NEG));
            }
            o.limit = l as u64;
            j += 2;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    Ok(o)
}

pub(super) fn parse_zunion(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Union, false, false)
}
pub(super) fn parse_zinter(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Inter, false, false)
}
pub(super) fn parse_zdiff(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Diff, false, false)
}
pub(super) fn parse_zunionstore(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Union, true, false)
}
pub(super) fn parse_zinterstore(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Inter, true, false)
}
pub(super) fn parse_zdiffstore(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Diff, true, false)
}
pub(super) fn parse_zintercard(a: &[Bytes]) -> ParseResult<Command> {
    parse_algebra(a, ZOp::Inter, false, true)
}

/// Key positions of ZUNION/ZINTER/ZDIFF/ZINTERCARD (numkeys at 1).
pub(super) fn keys_at1(a: &[Bytes]) -> Vec<usize> {
    crate::set::numkeys_positions(a, 1)
}

/// Key positions of the STORE forms: the destination, then numkeys at 2.
pub(super) fn keys_store(a: &[Bytes]) -> Vec<usize> {
    let mut v = crate::set::numkeys_positions(a, 2);
    if !v.is_empty() {
        v.insert(0, 1);
    }
    v
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`: ZRANGE's
/// grammar without WITHSCORES.
pub(super) fn parse_zrangestore(a: &[Bytes]) -> ParseResult<Command> {
    if a[5..].iter().any(|x| is(x, "WITHSCORES")) {
        return Err(Frame::static_error(error::SYNTAX));
    }
    // ZRANGE's parser reads `name key min max options`: drop the destination.
    let Command::ZSet(ZSetCommand::Range { key, range }) =
        super::parse_range_generic(&a[1..], super::RangeCmd::ZRange)?
    else {
        return Err(Frame::static_error(error::SYNTAX));
    };
    Ok(z(ZSetCommand::RangeStore {
        dst: a[1].clone(),
        src: key,
        range,
    }))
}

/// One input: a sorted set, a set (members score 1), or nothing.
#[derive(Clone, Copy)]
enum Input<'a> {
    Z(&'a ZSet),
    S(&'a Set),
    Empty,
}

impl<'a> Input<'a> {
    fn len(&self) -> usize {
        match self {
            Input::Z(z) => z.len(),
            Input::S(s) => s.len(),
            Input::Empty => 0,
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Input::Z(z) => z.score(m),
            Input::S(s) => s.contains(m).then_some(1.0),
            Input::Empty => None,
        }
    }

    fn entries(&self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match *self {
            Input::Z(z) => Box::new(z.iter()),
            Input::S(s) => Box::new(s.iter().map(|m| (m, 1.0))),
            Input::Empty => Box::new(std::iter::empty()),
        }
    }
}

fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis keeps 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// The result: (member, score) in ZRANGE order, or a count for ZINTERCARD.
enum Combined {
    Members(Vec<(Vec<u8>, f64)>),
    Card(u64),
}

fn combine(inputs: &[Input<'_>], op: ZOp, o: &AlgebraOpts, card: bool) -> Combined {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        ZOp::Inter => {
            order.sort_by_key(|&i| inputs[i].len());
            let first = order[0];
            let mut count = 0u64;
            for (m, s) in inputs[first].entries() {
                let mut score = o.weights[first] * s;
                if score.is_nan() {
                    score = 0.0;
                }
                let mut everywhere = true;
                for &j in &order[1..] {
                    match inputs[j].score(m) {
                        Some(v) => aggregate(&mut score, v * o.weights[j], o.aggregate),
                        None => {
                            everywhere = false;
                            break;
                        }
                    }
                }
                if !everywhere {
                    continue;
                }
                if card {
                    count += 1;
                    if o.limit > 0 && count >= o.limit {
                        break;
                    }
                } else {
                    out.push((m.to_vec(), score));
                }
            }
            if card {
                return Combined::Card(count);
            }
        }
        ZOp::Union => {
            order.sort_by_key(|&i| inputs[i].len());
            let mut acc: crate::db::Map<Vec<u8>, f64> = crate::db::new_map();
            for &i in &order {
                for (m, s) in inputs[i].entries() {
                    let mut score = o.weights[i] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(cur) => aggregate(cur, score, o.aggregate),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                }
            }
            out = acc.into_iter().collect();
        }
        ZOp::Diff => {
            for (m, s) in inputs[0].entries() {
                if inputs[1..].iter().all(|x| x.score(m).is_none()) {
                    out.push((m.to_vec(), s));
                }
            }
        }
    }
    // Sorted-set order: score (with -0 equal to 0), then member bytes.
    out.sort_by(|a, b| {
        Score(a.1 + 0.0)
            .cmp(&Score(b.1 + 0.0))
            .then_with(|| a.0.cmp(&b.0))
    });
    Combined::Members(out)
}

/// Applies ZUNION/ZINTER/ZDIFF[STORE]/ZINTERCARD.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_algebra(
    db: &mut Db,
    now: u64,
    resp3: bool,
    op: ZOp,
    dst: Option<Bytes>,
    keys: &[Bytes],
    opts: Result<AlgebraOpts, Frame>,
    output: Output,
) -> Frame {
    let mut inputs = Vec::with_capacity(keys.len());
    for k in keys {
        inputs.push(match db.get(k, now) {
            None => Input::Empty,
            Some(Value::ZSet(z)) => Input::Z(z),
            Some(Value::Set(s)) => Input::S(s),
            Some(_) => return wrongtype(),
        });
    }
    let o = match opts {
        Ok(o) => o,
        Err(e) => return e,
    };
    let members = match combine(&inputs, op, &o, output == Output::Card) {
        Combined::Card(n) => return Frame::Integer(n as i64),
        Combined::Members(m) => m,
    };
    let Some(dst) = dst else {
        return members_reply(members, o.with_scores, resp3);
    };
    let event = match op {
        ZOp::Union => "zunionstore",
        ZOp::Inter => "zinterstore",
        ZOp::Diff => "zdiffstore",
    };
    store(db, now, &dst, members, event)
}

fn members_reply(members: Vec<(Vec<u8>, f64)>, with_scores: bool, resp3: bool) -> Frame {
    if with_scores {
        pairs_reply(
            members
                .into_iter()
                .map(|(m, s)| (Frame::Bulk(Bytes::from(m)), s))
                .collect(),
            resp3,
        )
    } else {
        Frame::Array(
            members
                .into_iter()
                .map(|(m, _)| Frame::Bulk(Bytes::from(m)))
                .collect(),
        )
    }
}

/// Replaces `dst` with the members (dropping any TTL), or deletes it when there are none,
/// with Redis's replies and events.
fn store(
    db: &mut Db,
    now: u64,
    dst: &[u8],
    members: Vec<(Vec<u8>, f64)>,
    event: &'static str,
) -> Frame {
    if members.is_empty() {
        if db.remove(dst, now).is_some() {
            db.notify(class::GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    let mut zs = ZSet::default();
    for (m, s) in &members {
        zs.insert(m, *s);
    }
    let n = zs.len() as i64;
    db.expire_if_needed(dst, now);
    db.set(dst, Value::ZSet(Box::new(zs)));
    db.notify(class::ZSET, event, dst);
    db.signal_ready(dst);
    Frame::Integer(n)
}

/// Applies ZRANGESTORE.
pub(super) fn apply_range_store(
    db: &mut Db,
    now: u64,
    dst: &[u8],
    src: &[u8],
    kind: &RangeKind,
    opts: &RangeOpts,
) -> Frame {
    let members: Vec<(Vec<u8>, f64)> = match db.get(src, now) {
        None => Vec::new(),
        Some(Value::ZSet(zs)) => range::select(zs, kind, opts)
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect(),
        Some(_) => return wrongtype(),
    };
    store(db, now, dst, members, "zrangestore")
}
