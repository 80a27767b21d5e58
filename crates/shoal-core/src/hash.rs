//! Hash commands: HSET, HMSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS,
//! HVALS, HINCRBY, HINCRBYFLOAT, HSTRLEN, HRANDFIELD, HSCAN — Redis 7.0's semantics,
//! replies and error texts.
//!
//! Representation: a [`ByteMap`] (fields ordered by their fixed-seed hash). Field order
//! is therefore a function of the contents alone: HGETALL, HRANDFIELD and HSCAN answer
//! identically on every replica, including one restored from a snapshot.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{self, Args, ParseResult, is, parse_i64};
use crate::command::{Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::glob;
use crate::small::SmallBytes;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;
use crate::zset::ostree::ByteMap;

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {
    pub fields: ByteMap<SmallBytes>,
}

impl Hash {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// A parsed hash command.
#[derive(Clone, Debug, PartialEq)]
pub enum HashCommand {
    /// HSET / HMSET (`ok_reply`: HMSET answers +OK instead of the count).
    Set {
        key: Bytes,
        pairs: Vec<(Bytes, Bytes)>,
        ok_reply: bool,
    },
    SetNx(Bytes, Bytes, Bytes),
    Get(Bytes, Bytes),
    MGet(Bytes, Vec<Bytes>),
    GetAll(Bytes),
    Del(Bytes, Vec<Bytes>),
    Exists(Bytes, Bytes),
    Len(Bytes),
    Keys(Bytes),
    Vals(Bytes),
    IncrBy(Bytes, Bytes, i64),
    IncrByFloat(Bytes, Bytes, crate::string::LongDouble),
    StrLen(Bytes, Bytes),
    /// HRANDFIELD key [count [WITHVALUES]].
    RandField {
        key: Bytes,
        count: Option<i64>,
        with_values: bool,
    },
    Scan {
        key: Bytes,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
    },
}

fn h(c: HashCommand) -> Command {
    Command::Hash(c)
}

/// HSET's field-value pairs, taken out of `a`.
fn take_field_pairs(a: &mut [Bytes], name: &str) -> ParseResult<Vec<(Bytes, Bytes)>> {
    if !a.len().is_multiple_of(2) {
        return Err(Frame::error(error::wrong_arity(name)));
    }
    Ok(a[2..]
        .chunks_exact_mut(2)
        .map(|p| (std::mem::take(&mut p[0]), std::mem::take(&mut p[1])))
        .collect())
}

fn parse_hset(a: &[Bytes]) -> ParseResult<Command> {
    take_hset(&mut a.to_vec())
}

fn take_hset(a: &mut [Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Set {
        key: a[1].clone(),
        pairs: take_field_pairs(a, "hset")?,
        ok_reply: false,
    }))
}

fn parse_hmset(a: &[Bytes]) -> ParseResult<Command> {
    take_hmset(&mut a.to_vec())
}

fn take_hmset(a: &mut [Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Set {
        key: a[1].clone(),
        pairs: take_field_pairs(a, "hmset")?,
        ok_reply: true,
    }))
}

fn parse_hsetnx(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::SetNx(
        a[1].clone(),
        a[2].clone(),
        a[3].clone(),
    )))
}

fn parse_hget(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Get(a[1].clone(), a[2].clone())))
}

fn parse_hmget(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::MGet(a[1].clone(), a[2..].to_vec())))
}

fn parse_hgetall(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::GetAll(a[1].clone())))
}

fn parse_hdel(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Del(a[1].clone(), a[2..].to_vec())))
}

fn parse_hexists(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Exists(a[1].clone(), a[2].clone())))
}

fn parse_hlen(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Len(a[1].clone())))
}

fn parse_hkeys(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Keys(a[1].clone())))
}

fn parse_hvals(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::Vals(a[1].clone())))
}

fn parse_hincrby(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::IncrBy(
        a[1].clone(),
        a[2].clone(),
        parse_i64(&a[3])?,
    )))
}

fn parse_hincrbyfloat(a: &[Bytes]) -> ParseResult<Command> {
    let by = crate::string::LongDouble::parse(&a[3])
        .ok_or_else(|| Frame::static_error(error::NOT_FLOAT))?;
    if !by.is_finite() {
        return Err(Frame::static_error("ERR value is NaN or Infinity"));
    }
    Ok(h(HashCommand::IncrByFloat(a[1].clone(), a[2].clone(), by)))
}

fn parse_hstrlen(a: &[Bytes]) -> ParseResult<Command> {
    Ok(h(HashCommand::StrLen(a[1].clone(), a[2].clone())))
}

fn parse_hrandfield(a: &[Bytes]) -> ParseResult<Command> {
    let (count, with_values) = crate::set::parse_rand_count(a, "WITHVALUES")?;
    Ok(h(HashCommand::RandField {
        key: a[1].clone(),
        count,
        with_values,
    }))
}

/// The MATCH / COUNT options of SSCAN, HSCAN and ZSCAN (after the cursor).
pub(crate) fn parse_scan_opts(a: &[Bytes]) -> ParseResult<(u64, Option<Bytes>, usize)> {
    let cursor = crate::generic::parse_cursor(&a[2])?;
    let mut pattern = None;
    let mut count = 10usize;
    let mut args = Args::new(a, 3);
    while let Some(opt) = args.next() {
        if is(opt, "MATCH") && args.peek().is_some() {
            pattern = args.next().cloned();
        } else if is(opt, "COUNT") && args.peek().is_some() {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(Frame::static_error(error::SYNTAX));
            }
            count = n as usize;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    // `*` matches everything: skip the matcher, as Redis does.
    let pattern = pattern.filter(|p| p.as_ref() != b"*");
    Ok((cursor, pattern, count))
}

fn parse_hscan(a: &[Bytes]) -> ParseResult<Command> {
    let (cursor, pattern, count) = parse_scan_opts(a)?;
    Ok(h(HashCommand::Scan {
        key: a[1].clone(),
        cursor,
        pattern,
        count,
    }))
}

const K1: (i32, i32, i32) = (1, 1, 1);
const RF: &[&str] = &["read", "hash", "fast"];
const RS: &[&str] = &["read", "hash", "slow"];
const WF: &[&str] = &["write", "hash", "fast"];

/// The hash family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, K1, WF)
        .taker(take_hset, parse_hset)
        .doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_hsetnx)
        .doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
    CommandSpec::new("hget", 3, READONLY | FAST, K1, RF)
        .parser(parse_hget)
        .doc("hash", "2.0.0", "Returns the value of a field in a hash."),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, K1, WF)
        .taker(take_hmset, parse_hmset)
        .doc("hash", "2.0.0", "Sets the values of multiple fields."),
    CommandSpec::new("hmget", -3, READONLY | FAST, K1, RF)
        .parser(parse_hmget)
        .doc("hash", "2.0.0", "Returns the values of all fields in a hash."),
    CommandSpec::new("hgetall", 2, READONLY, K1, RS)
        .parser(parse_hgetall)
        .doc("hash", "2.0.0", "Returns all fields and values in a hash."),
    CommandSpec::new("hdel", -3, WRITE | FAST, K1, WF)
        .parser(parse_hdel)
        .doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    CommandSpec::new("hlen", 2, READONLY | FAST, K1, RF)
        .parser(parse_hlen)
        .doc("hash", "2.0.0", "Returns the number of fields in a hash."),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, K1, RF)
        .parser(parse_hstrlen)
        .doc("hash", "3.2.0", "Returns the length of the value of a field."),
    CommandSpec::new("hkeys", 2, READONLY, K1, RS)
        .parser(parse_hkeys)
        .doc("hash", "2.0.0", "Returns all fields in a hash."),
    CommandSpec::new("hvals", 2, READONLY, K1, RS)
        .parser(parse_hvals)
        .doc("hash", "2.0.0", "Returns all values in a hash."),
    CommandSpec::new("hexists", 3, READONLY | FAST, K1, RF)
        .parser(parse_hexists)
        .doc("hash", "2.0.0", "Determines whether a field exists in a hash."),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_hincrby)
        .doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    CommandSpec::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, K1, WF)
        .parser(parse_hincrbyfloat)
        .doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    CommandSpec::new("hrandfield", -2, READONLY, K1, RS)
        .parser(parse_hrandfield)
        .doc("hash", "6.2.0", "Returns one or more random fields from a hash."),
    CommandSpec::new("hscan", -3, READONLY, K1, RS)
        .parser(parse_hscan)
        .doc("hash", "2.8.0", "Iterates over fields and values of a hash."),
];

fn wrongtype() -> Frame {
    Frame::static_error(error::WRONGTYPE)
}

/// The hash at `key` for reading (None if missing), or WRONGTYPE.
fn read<'a>(db: &'a Db, key: &[u8], now: u64) -> Result<Option<&'a Hash>, Frame> {
    crate::value::read(db, key, now)
}

/// The hash at `key` for writing, created empty if missing; WRONGTYPE otherwise. A caller
/// that may leave it empty must call [`drop_if_empty`].
fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a mut Hash, Frame> {
    crate::value::write(db, key, now)
}

/// Deletes `key` if it holds an empty hash (Redis never keeps empty collections).
fn drop_if_empty(db: &mut Db, key: &[u8], now: u64) -> bool {
    if matches!(db.get(key, now), Some(Value::Hash(h)) if h.is_empty()) {
        db.remove(key, now);
        true
    } else {
        false
    }
}

fn bulk(b: &[u8]) -> Frame {
    Frame::bulk(b)
}

impl HashCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            HashCommand::Set {
                key,
                pairs,
                ok_reply,
            } => match write(db, &key, now) {
                Err(e) => e,
                Ok(hash) => {
                    let mut created = 0;
                    for (f, v) in &pairs {
                        if hash.fields.insert(f, SmallBytes::new(v)).is_none() {
                            created += 1;
                        }
                    }
                    db.notify(class::HASH, "hset", &key);
                    if ok_reply {
                        Frame::ok()
                    } else {
                        Frame::Integer(created)
                    }
                }
            },
            HashCommand::SetNx(key, field, value) => match write(db, &key, now) {
                Err(e) => e,
                Ok(hash) => {
                    if hash.fields.contains(&field) {
                        Frame::Integer(0)
                    } else {
                        hash.fields.insert(&field, SmallBytes::new(&value));
                        db.notify(class::HASH, "hset", &key);
                        Frame::Integer(1)
                    }
                }
            },
            HashCommand::Get(key, field) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => hash
                    .and_then(|h| h.fields.get(&field))
                    .map_or(Frame::Null, |v| bulk(v)),
            },
            HashCommand::MGet(key, fields) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Array(
                    fields
                        .iter()
                        .map(|f| {
                            hash.and_then(|h| h.fields.get(f))
                                .map_or(Frame::Null, |v| bulk(v))
                        })
                        .collect(),
                ),
            },
            HashCommand::GetAll(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Map(
                    hash.into_iter()
                        .flat_map(|h| h.fields.iter())
                        .map(|(f, v)| (bulk(f), bulk(v)))
                        .collect(),
                ),
            },
            HashCommand::Del(key, fields) => match db.get_mut(&key, now) {
                None => Frame::Integer(0),
                Some(Value::Hash(hash)) => {
                    let mut n = 0;
                    for f in &fields {
                        if hash.fields.remove(f).is_some() {
                            n += 1;
                        }
                    }
                    if n > 0 {
                        db.notify(class::HASH, "hdel", &key);
                        if drop_if_empty(db, &key, now) {
                            db.notify(class::GENERIC, "del", &key);
                        }
                    }
                    Frame::Integer(n)
                }
                Some(_) => wrongtype(),
            },
            HashCommand::Exists(key, field) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => {
                    Frame::Integer(i64::from(hash.is_some_and(|h| h.fields.contains(&field))))
                }
            },
            HashCommand::Len(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Integer(hash.map_or(0, |h| h.len() as i64)),
            },
            HashCommand::Keys(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Array(
                    hash.into_iter()
                        .flat_map(|h| h.fields.iter())
                        .map(|(f, _)| bulk(f))
                        .collect(),
                ),
            },
            HashCommand::Vals(key) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Array(
                    hash.into_iter()
                        .flat_map(|h| h.fields.iter())
                        .map(|(_, v)| bulk(v))
                        .collect(),
                ),
            },
            HashCommand::IncrBy(key, field, by) => incr_by(db, now, &key, &field, by),
            HashCommand::IncrByFloat(key, field, by) => incr_by_float(db, now, &key, &field, by),
            HashCommand::StrLen(key, field) => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => Frame::Integer(
                    hash.and_then(|h| h.fields.get(&field))
                        .map_or(0, |v| v.len() as i64),
                ),
            },
            HashCommand::RandField {
                key,
                count,
                with_values,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(hash) => rand_field(hash, count, with_values, ctx),
            },
            HashCommand::Scan {
                key,
                cursor,
                pattern,
                count,
            } => match read(db, &key, now) {
                Err(e) => e,
                Ok(None) => crate::generic::scan_reply(0, Vec::new()),
                Ok(Some(hash)) => {
                    let (next, entries) = scan_entries(&hash.fields, cursor, count);
                    let mut items = Vec::with_capacity(entries.len() * 2);
                    for (f, v) in entries {
                        if pattern.as_ref().is_none_or(|p| glob::matches(p, f)) {
                            items.push(bulk(f));
                            items.push(bulk(v));
                        }
                    }
                    crate::generic::scan_reply(next, items)
                }
            },
        };
        Reply::Frame(f)
    }
}

/// Collections up to this many elements are scanned in one call with cursor 0, as Redis
/// does for its compact (listpack/intset) encodings.
pub(crate) const SCAN_ALL_BELOW: usize = 128;

/// One SCAN step over a [`ByteMap`] with Redis's compact-encoding behaviour for small ones.
pub(crate) fn scan_entries<V>(
    map: &ByteMap<V>,
    cursor: u64,
    count: usize,
) -> (u64, Vec<(&[u8], &V)>) {
    if map.len() <= SCAN_ALL_BELOW {
        return (0, map.iter().collect());
    }
    map.scan(cursor, count)
}

fn rand_field(hash: Option<&Hash>, count: Option<i64>, with_values: bool, ctx: &Ctx) -> Frame {
    let Some(count) = count else {
        // HRANDFIELD key: one field, or a null reply when the key is missing.
        return match hash {
            None => Frame::Null,
            Some(h) => {
                let mut rng = crate::rand::Rng::new(ctx.seed);
                h.fields
                    .nth(rng.index(h.len()))
                    .map_or(Frame::Null, |(f, _)| bulk(f))
            }
        };
    };
    let Some(hash) = hash else {
        return Frame::Array(Vec::new());
    };
    let picks = crate::set::random_picks(hash.len(), count, ctx.seed);
    let entry = |i: usize| hash.fields.nth(i);
    let mut out = Vec::with_capacity(picks.len() * if with_values { 2 } else { 1 });
    for i in picks {
        let Some((f, v)) = entry(i) else { continue };
        if !with_values {
            out.push(bulk(f));
        } else if ctx.resp3 {
            // RESP3: an array of [field, value] pairs.
            out.push(Frame::Array(vec![bulk(f), bulk(v)]));
        } else {
            out.push(bulk(f));
            out.push(bulk(v));
        }
    }
    Frame::Array(out)
}

fn incr_by(db: &mut Db, now: u64, key: &[u8], field: &[u8], by: i64) -> Frame {
    let hash = match write(db, key, now) {
        Err(e) => return e,
        Ok(h) => h,
    };
    let cur = match hash.fields.get(field) {
        None => 0,
        Some(v) => match args::parse_i64_strict(v) {
            Some(n) => n,
            None => {
                drop_if_empty(db, key, now);
                return Frame::static_error("ERR hash value is not an integer");
            }
        },
    };
    let Some(new) = cur.checked_add(by) else {
        drop_if_empty(db, key, now);
        return Frame::static_error(error::OVERFLOW);
    };
    let mut buf = itoa::Buffer::new();
    hash.fields
        .insert(field, SmallBytes::new(buf.format(new).as_bytes()));
    db.notify(class::HASH, "hincrby", key);
    Frame::Integer(new)
}

fn incr_by_float(
    db: &mut Db,
    now: u64,
    key: &[u8],
    field: &[u8],
    by: crate::string::LongDouble,
) -> Frame {
    let hash = match write(db, key, now) {
        Err(e) => return e,
        Ok(h) => h,
    };
    let cur = match hash.fields.get(field) {
        None => crate::string::LongDouble::ZERO,
        Some(v) => match crate::string::LongDouble::parse(v) {
            Some(n) => n,
            None => {
                drop_if_empty(db, key, now);
                return Frame::static_error("ERR hash value is not a float");
            }
        },
    };
    let Some(text) = crate::string::incr_long_double(cur, by) else {
        drop_if_empty(db, key, now);
        return Frame::static_error("ERR increment would produce NaN or Infinity");
    };
    hash.fields.insert(field, SmallBytes::new(text.as_bytes()));
    db.notify(class::HASH, "hincrbyfloat", key);
    Frame::Bulk(Bytes::from(text))
}

impl Persist for Hash {
    fn encode(&self, w: &mut Writer) {
        w.varint(self.len() as u64);
        for (f, v) in self.fields.iter() {
            w.bytes(f);
            w.bytes(v);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut h = Hash::default();
        for _ in 0..n {
            let f = r.bytes()?;
            let v = r.bytes()?;
            h.fields.insert(f, SmallBytes::new(v));
        }
        Ok(h)
    }
}
