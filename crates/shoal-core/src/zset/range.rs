//! Score, lex and rank ranges of sorted sets: parsing (Redis's `zslParseRange` and
//! `zslParseLexRange`, with their error texts) and selection over a [`ZSet`].

use bytes::Bytes;
use shoal_resp::Frame;

use super::{RangeOpts, ZSet};
use crate::args::{ParseResult, parse_f64_strict};

/// One end of a score range: `1.5` (inclusive) or `(1.5` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

/// One end of a lex range: `-`, `+`, `[x` or `(x`.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Bytes),
    Excl(Bytes),
}

/// What a range selects.
#[derive(Clone, Debug, PartialEq)]
pub enum RangeKind {
    /// Start and stop ranks (negative from the end), in the command's direction.
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

const NOT_FLOAT: &str = "ERR min or max is not a float";
const NOT_LEX: &str = "ERR min or max not valid string range item";

fn parse_score_bound(b: &[u8]) -> Option<ScoreBound> {
    let (exclusive, rest) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    // strtod skips leading spaces and reads "" as 0; Redis only checks what follows.
    let start = rest
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[start..];
    let value = if rest.is_empty() {
        0.0
    } else {
        parse_f64_strict(rest)?
    };
    Some(ScoreBound { value, exclusive })
}

/// `min max` of ZCOUNT, ZRANGEBYSCORE, ZREMRANGEBYSCORE...
pub fn parse_score_range(min: &[u8], max: &[u8]) -> ParseResult<(ScoreBound, ScoreBound)> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Frame::static_error(NOT_FLOAT)),
    }
}

fn parse_lex_bound(b: &[u8]) -> Option<LexBound> {
    match b.first()? {
        b'-' if b.len() == 1 => Some(LexBound::NegInf),
        b'+' if b.len() == 1 => Some(LexBound::PosInf),
        b'[' => Some(LexBound::Incl(Bytes::copy_from_slice(&b[1..]))),
        b'(' => Some(LexBound::Excl(Bytes::copy_from_slice(&b[1..]))),
        _ => None,
    }
}

/// `min max` of ZLEXCOUNT, ZRANGEBYLEX, ZREMRANGEBYLEX...
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> ParseResult<(LexBound, LexBound)> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Frame::static_error(NOT_LEX)),
    }
}

fn below_min(s: f64, min: &ScoreBound) -> bool {
    if min.exclusive {
        s <= min.value
    } else {
        s < min.value
    }
}

fn within_max(s: f64, max: &ScoreBound) -> bool {
    if max.exclusive {
        s < max.value
    } else {
        s <= max.value
    }
}

/// The ascending rank span `[start, end)` of elements with scores in `min..max`.
pub fn score_span(z: &ZSet, min: &ScoreBound, max: &ScoreBound) -> (usize, usize) {
    // Redis: empty when min > max, or min == max with either end exclusive.
    if min.value > max.value || (min.value == max.value && (min.exclusive || max.exclusive)) {
        return (0, 0);
    }
    let start = z.count_prefix(|s, _| below_min(s, min));
    let end = z.count_prefix(|s, _| within_max(s, max));
    (start, end.max(start))
}

fn lex_below_min(m: &[u8], min: &LexBound) -> bool {
    match min {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Incl(b) => m < &b[..],
        LexBound::Excl(b) => m <= &b[..],
    }
}

fn lex_within_max(m: &[u8], max: &LexBound) -> bool {
    match max {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Incl(b) => m <= &b[..],
        LexBound::Excl(b) => m < &b[..],
    }
}

/// Whether the lex range is empty by its bounds alone (Redis's `zslIsInLexRange` checks).
fn lex_range_empty(min: &LexBound, max: &LexBound) -> bool {
    match (min, max) {
        (LexBound::PosInf, _) | (_, LexBound::NegInf) => true,
        (LexBound::NegInf, _) | (_, LexBound::PosInf) => false,
        (LexBound::Incl(a), LexBound::Incl(b)) => a > b,
        (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => a >= b,
    }
}

/// The ascending rank span `[start, end)` of members in the lex range (meaningful when
/// all scores are equal, as in Redis).
pub fn lex_span(z: &ZSet, min: &LexBound, max: &LexBound) -> (usize, usize) {
    if lex_range_empty(min, max) {
        return (0, 0);
    }
    let start = z.count_prefix(|_, m| lex_below_min(m, min));
    let end = z.count_prefix(|_, m| lex_within_max(m, max));
    (start, end.max(start))
}

/// The elements a ZRANGE-family command selects, in reply order.
pub fn select<'a>(z: &'a ZSet, kind: &RangeKind, opts: &RangeOpts) -> Vec<(&'a [u8], f64)> {
    let len = z.len();
    match kind {
        RangeKind::Rank(a, b) => {
            let Some((s, e)) = crate::list::clamp_range(*a, *b, len) else {
                return Vec::new();
            };
            let n = e - s + 1;
            if opts.rev {
                z.iter_rev_from(len - 1 - s).take(n).collect()
            } else {
                z.iter_from(s).take(n).collect()
            }
        }
        RangeKind::Score(min, max) => {
            let span = score_span(z, min, max);
            take_span(z, span, opts)
        }
        RangeKind::Lex(min, max) => {
            let span = lex_span(z, min, max);
            take_span(z, span, opts)
        }
    }
}

/// Applies direction and LIMIT to a rank span.
fn take_span<'a>(z: &'a ZSet, (s, e): (usize, usize), opts: &RangeOpts) -> Vec<(&'a [u8], f64)> {
    let n = e - s;
    let (offset, count) = opts.limit.unwrap_or((0, -1));
    // A negative offset selects nothing; a negative count means "all the rest".
    if offset < 0 || n == 0 {
        return Vec::new();
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if offset >= n {
        return Vec::new();
    }
    let take = if count < 0 {
        n - offset
    } else {
        usize::try_from(count).unwrap_or(usize::MAX).min(n - offset)
    };
    if opts.rev {
        z.iter_rev_from(e - 1 - offset).take(take).collect()
    } else {
        z.iter_from(s + offset).take(take).collect()
    }
}
