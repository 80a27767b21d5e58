//! String commands: GET, SET and its options, counters, MGET/MSET, APPEND, STRLEN,
//! GETDEL, GETSET, SETNX, SETEX, PSETEX, INCRBYFLOAT, GETRANGE, SETRANGE.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{self, Args, ParseResult, is, parse_i64};
use crate::command::{Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::small::SmallBytes;
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;

pub mod long_double;
pub use long_double::LongDouble;

/// Largest string value (proto-max-bulk-len).
pub const MAX_STRING: usize = 512 * 1024 * 1024;

const STRING_TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// When a SET's key should expire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expiry {
    /// Clear any deadline (plain SET).
    Clear,
    /// Keep the key's deadline (KEEPTTL).
    Keep,
    /// Relative milliseconds (EX, PX), turned absolute with the command's `now`.
    In(u64),
    /// Absolute milliseconds (EXAT, PXAT).
    At(u64),
}

/// A parsed string command.
#[derive(Clone, Debug, PartialEq)]
pub enum StringCommand {
    Get(Bytes),
    Set {
        key: Bytes,
        value: Bytes,
        /// NX (Some(false)) or XX (Some(true)).
        exists: Option<bool>,
        get: bool,
        expiry: Expiry,
        /// Command name for the expire-time error (`set`, `setex`, `psetex`).
        name: &'static str,
    },
    IncrBy(Bytes, i64),
    IncrByFloat(Bytes, LongDouble),
    MGet(Vec<Bytes>),
    MSet(Vec<(Bytes, Bytes)>),
    MSetNx(Vec<(Bytes, Bytes)>),
    Append(Bytes, Bytes),
    Strlen(Bytes),
    GetDel(Bytes),
    GetSet(Bytes, Bytes),
    GetRange(Bytes, i64, i64),
    SetRange(Bytes, usize, Bytes),
}

fn string_cmd(c: StringCommand) -> Command {
    Command::String(c)
}

fn parse_get(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::Get(a[1].clone())))
}

/// Parses a relative or absolute time argument of SET/GETEX, checking it the way Redis's
/// `getExpireMillisecondsOrReply` does.
fn parse_time(arg: &[u8], unit_ms: u64, cmd: &str) -> ParseResult<u64> {
    let v = parse_i64(arg)?;
    if v <= 0 {
        return Err(Frame::error(error::invalid_expire(cmd)));
    }
    (v as u64)
        .checked_mul(unit_ms)
        .filter(|ms| *ms <= i64::MAX as u64)
        .ok_or_else(|| Frame::error(error::invalid_expire(cmd)))
}

fn parse_set(a: &[Bytes]) -> ParseResult<Command> {
    take_set(&mut a.to_vec())
}

/// [`parse_set`], taking the value (see `table::TakeFn`).
fn take_set(a: &mut [Bytes]) -> ParseResult<Command> {
    let mut exists = None;
    let mut get = false;
    let mut keepttl = false;
    // Redis accepts repeated options; an expire kind only conflicts with another kind or
    // KEEPTTL, and the last value given is the one used.
    let mut expire: Option<(&'static str, &Bytes)> = None;
    let mut args = Args::new(a, 3);
    while let Some(opt) = args.next() {
        if is(opt, "NX") && exists != Some(true) {
            exists = Some(false);
        } else if is(opt, "XX") && exists != Some(false) {
            exists = Some(true);
        } else if is(opt, "GET") {
            get = true;
        } else if is(opt, "KEEPTTL") && expire.is_none() {
            keepttl = true;
        } else if let Some(kind) = ["EX", "PX", "EXAT", "PXAT"]
            .into_iter()
            .find(|k| is(opt, k))
            .filter(|k| !keepttl && expire.is_none_or(|(e, _)| e == *k))
            && let Some(v) = args.peek()
        {
            args.skip(1);
            expire = Some((kind, v));
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    let expiry = match expire {
        None if keepttl => Expiry::Keep,
        None => Expiry::Clear,
        Some(("EX", v)) => Expiry::In(parse_time(v, 1000, "set")?),
        Some(("PX", v)) => Expiry::In(parse_time(v, 1, "set")?),
        Some(("EXAT", v)) => Expiry::At(parse_time(v, 1000, "set")?),
        Some((_, v)) => Expiry::At(parse_time(v, 1, "set")?),
    };
    Ok(string_cmd(StringCommand::Set {
        key: a[1].clone(),
        value: std::mem::take(&mut a[2]),
        exists,
        get,
        expiry,
        name: "set",
    }))
}

fn parse_setnx(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::Set {
        key: a[1].clone(),
        value: a[2].clone(),
        exists: Some(false),
        get: false,
        expiry: Expiry::Clear,
        name: "setnx",
    }))
}

fn parse_setex_generic(a: &[Bytes], unit: u64, name: &'static str) -> ParseResult<Command> {
    let ms = parse_time(&a[2], unit, name)?;
    Ok(string_cmd(StringCommand::Set {
        key: a[1].clone(),
        value: a[3].clone(),
        exists: None,
        get: false,
        expiry: Expiry::In(ms),
        name,
    }))
}

fn parse_setex(a: &[Bytes]) -> ParseResult<Command> {
    parse_setex_generic(a, 1000, "setex")
}

fn parse_psetex(a: &[Bytes]) -> ParseResult<Command> {
    parse_setex_generic(a, 1, "psetex")
}

fn parse_incr(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::IncrBy(a[1].clone(), 1)))
}

fn parse_decr(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::IncrBy(a[1].clone(), -1)))
}

fn parse_incrby(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::IncrBy(
        a[1].clone(),
        parse_i64(&a[2])?,
    )))
}

fn parse_decrby(a: &[Bytes]) -> ParseResult<Command> {
    let by = parse_i64(&a[2])?;
    if by == i64::MIN {
        return Err(Frame::static_error("ERR decrement would overflow"));
    }
    Ok(string_cmd(StringCommand::IncrBy(a[1].clone(), -by)))
}

fn parse_incrbyfloat(a: &[Bytes]) -> ParseResult<Command> {
    let by = LongDouble::parse(&a[2]).ok_or_else(|| Frame::static_error(error::NOT_FLOAT))?;
    Ok(string_cmd(StringCommand::IncrByFloat(a[1].clone(), by)))
}

fn parse_mget(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::MGet(a[1..].to_vec())))
}

/// MSET's key-value pairs, taken out of `a` but for the first key.
fn take_pairs(a: &mut [Bytes], name: &str) -> ParseResult<Vec<(Bytes, Bytes)>> {
    if a.len().is_multiple_of(2) {
        return Err(Frame::error(error::wrong_arity(name)));
    }
    let mut pairs = Vec::with_capacity(a.len() / 2);
    for (i, p) in a[1..].chunks_exact_mut(2).enumerate() {
        let key = if i == 0 {
            p[0].clone()
        } else {
            std::mem::take(&mut p[0])
        };
        pairs.push((key, std::mem::take(&mut p[1])));
    }
    Ok(pairs)
}

fn parse_mset(a: &[Bytes]) -> ParseResult<Command> {
    take_mset(&mut a.to_vec())
}

fn take_mset(a: &mut [Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::MSet(take_pairs(a, "mset")?)))
}

fn parse_msetnx(a: &[Bytes]) -> ParseResult<Command> {
    take_msetnx(&mut a.to_vec())
}

fn take_msetnx(a: &mut [Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::MSetNx(take_pairs(a, "msetnx")?)))
}

fn parse_append(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::Append(
        a[1].clone(),
        a[2].clone(),
    )))
}

fn parse_strlen(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::Strlen(a[1].clone())))
}

fn parse_getdel(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::GetDel(a[1].clone())))
}

fn parse_getset(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::GetSet(
        a[1].clone(),
        a[2].clone(),
    )))
}

fn parse_getrange(a: &[Bytes]) -> ParseResult<Command> {
    Ok(string_cmd(StringCommand::GetRange(
        a[1].clone(),
        parse_i64(&a[2])?,
        parse_i64(&a[3])?,
    )))
}

fn parse_setrange(a: &[Bytes]) -> ParseResult<Command> {
    let off = parse_i64(&a[2])?;
    if off < 0 {
        return Err(Frame::static_error("ERR offset is out of range"));
    }
    if (off as u64).saturating_add(a[3].len() as u64) > MAX_STRING as u64 {
        return Err(Frame::static_error(STRING_TOO_BIG));
    }
    Ok(string_cmd(StringCommand::SetRange(
        a[1].clone(),
        off as usize,
        a[3].clone(),
    )))
}

const K1: (i32, i32, i32) = (1, 1, 1);
const RS: &[&str] = &["read", "string", "fast"];
const WS: &[&str] = &["write", "string", "fast"];
const WSS: &[&str] = &["write", "string", "slow"];

/// The string family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, K1, RS)
        .parser(parse_get)
        .doc("string", "1.0.0", "Returns the string value of a key."),
    CommandSpec::new("set", -3, WRITE | DENYOOM, K1, WSS)
        .taker(take_set, parse_set)
        .doc(
            "string",
            "1.0.0",
            "Sets the string value of a key, ignoring its type.",
        ),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_setnx)
        .doc(
            "string",
            "1.0.0",
            "Set the string value of a key only when the key doesn't exist.",
        ),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, K1, WSS)
        .parser(parse_setex)
        .doc(
            "string",
            "2.0.0",
            "Sets the string value and expiration time of a key.",
        ),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, K1, WSS)
        .parser(parse_psetex)
        .doc(
            "string",
            "2.6.0",
            "Sets both string value and expiration time in milliseconds of a key.",
        ),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_incr)
        .doc(
            "string",
            "1.0.0",
            "Increments the integer value of a key by one.",
        ),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_decr)
        .doc(
            "string",
            "1.0.0",
            "Decrements the integer value of a key by one.",
        ),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_incrby)
        .doc(
            "string",
            "1.0.0",
            "Increments the integer value of a key by a number.",
        ),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_decrby)
        .doc(
            "string",
            "1.0.0",
            "Decrements a number from the integer value of a key.",
        ),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_incrbyfloat)
        .doc(
            "string",
            "2.6.0",
            "Increment the floating point value of a key by a number.",
        ),
    CommandSpec::new("mget", -2, READONLY | FAST, (1, -1, 1), RS)
        .parser(parse_mget)
        .doc(
            "string",
            "1.0.0",
            "Atomically returns the string values of one or more keys.",
        ),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, (1, -1, 2), WSS)
        .taker(take_mset, parse_mset)
        .doc(
            "string",
            "1.0.1",
            "Atomically creates or modifies the string values of one or more keys.",
        ),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), WSS)
        .taker(take_msetnx, parse_msetnx)
        .doc(
            "string",
            "1.0.1",
            "Atomically sets keys only when none of them exist.",
        ),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_append)
        .doc("string", "2.0.0", "Appends a string to the value of a key."),
    CommandSpec::new("strlen", 2, READONLY | FAST, K1, RS)
        .parser(parse_strlen)
        .doc("string", "2.2.0", "Returns the length of a string value."),
    CommandSpec::new("getdel", 2, WRITE | FAST, K1, WS)
        .parser(parse_getdel)
        .doc(
            "string",
            "6.2.0",
            "Returns the string value of a key after deleting the key.",
        ),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, K1, WS)
        .parser(parse_getset)
        .doc(
            "string",
            "1.0.0",
            "Returns the previous string value of a key after setting it to a new value.",
        ),
    CommandSpec::new("getrange", 4, READONLY, K1, &["read", "string", "slow"])
        .parser(parse_getrange)
        .doc(
            "string",
            "2.4.0",
            "Returns a substring of the string stored at a key.",
        ),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, K1, WSS)
        .parser(parse_setrange)
        .doc(
            "string",
            "2.2.0",
            "Overwrites a part of a string value with another by an offset.",
        ),
];

/// The string at `key` (None if missing), or WRONGTYPE.
fn get_str<'a>(db: &'a Db, key: &[u8], now: u64) -> Result<Option<&'a SmallBytes>, Frame> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Frame::static_error(error::WRONGTYPE)),
    }
}

fn bulk_or_null(v: Option<&SmallBytes>) -> Frame {
    v.map_or(Frame::Null, |s| Frame::bulk(s))
}

fn wrongtype() -> Reply {
    Reply::Frame(Frame::static_error(error::WRONGTYPE))
}

impl StringCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            StringCommand::Get(key) => match get_str(db, &key, now) {
                Ok(v) => bulk_or_null(v),
                Err(e) => e,
            },
            StringCommand::Set {
                key,
                value,
                exists,
                get,
                expiry,
                name,
            } => {
                let r = set(db, now, key, value, exists, get, expiry, name);
                // SETNX answers 1/0 where SET NX answers OK/nil.
                return match r {
                    Reply::Frame(Frame::Simple(_)) if name == "setnx" => {
                        Reply::Frame(Frame::Integer(1))
                    }
                    Reply::Frame(Frame::Null) if name == "setnx" => Reply::Frame(Frame::Integer(0)),
                    r => r,
                };
            }
            StringCommand::IncrBy(key, by) => incr_by(db, now, &key, by),
            StringCommand::IncrByFloat(key, by) => incr_by_float(db, now, &key, by),
            StringCommand::MGet(keys) => Frame::Array(
                keys.iter()
                    .map(|k| match db.get(k, now) {
                        Some(Value::Str(s)) => Frame::bulk(s),
                        _ => Frame::Null,
                    })
                    .collect(),
            ),
            StringCommand::MSet(pairs) => {
                for (k, v) in pairs {
                    db.expire_if_needed(&k, now);
                    db.set(&k, Value::Str(SmallBytes::new(&v)));
                    db.notify(class::STRING, "set", &k);
                }
                Frame::ok()
            }
            StringCommand::MSetNx(pairs) => {
                if pairs.iter().any(|(k, _)| db.contains(k, now)) {
                    Frame::Integer(0)
                } else {
                    for (k, v) in pairs {
                        db.expire_if_needed(&k, now);
                        db.set(&k, Value::Str(SmallBytes::new(&v)));
                        db.notify(class::STRING, "set", &k);
                    }
                    Frame::Integer(1)
                }
            }
            StringCommand::Append(key, value) => match db.get_mut(&key, now) {
                None => {
                    let len = value.len();
                    db.set(&key, Value::Str(SmallBytes::new(&value)));
                    db.notify(class::STRING, "append", &key);
                    Frame::Integer(len as i64)
                }
                Some(Value::Str(s)) => {
                    if s.len() + value.len() > MAX_STRING {
                        return Reply::Frame(Frame::static_error(STRING_TOO_BIG));
                    }
                    let mut v = Vec::with_capacity(s.len() + value.len());
                    v.extend_from_slice(s);
                    v.extend_from_slice(&value);
                    *s = SmallBytes::new(&v);
                    db.notify(class::STRING, "append", &key);
                    Frame::Integer(v.len() as i64)
                }
                Some(_) => return wrongtype(),
            },
            StringCommand::Strlen(key) => match get_str(db, &key, now) {
                Ok(v) => Frame::Integer(v.map_or(0, |s| s.len() as i64)),
                Err(e) => e,
            },
            StringCommand::GetDel(key) => match get_str(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Null,
                Ok(Some(s)) => {
                    let f = Frame::bulk(s);
                    db.remove(&key, now);
                    db.notify(class::GENERIC, "del", &key);
                    f
                }
            },
            StringCommand::GetSet(key, value) => match get_str(db, &key, now) {
                Err(e) => e,
                Ok(old) => {
                    let f = bulk_or_null(old);
                    db.expire_if_needed(&key, now);
                    db.set(&key, Value::Str(SmallBytes::new(&value)));
                    db.notify(class::STRING, "set", &key);
                    f
                }
            },
            StringCommand::GetRange(key, start, end) => match get_str(db, &key, now) {
                Err(e) => e,
                Ok(None) => Frame::Bulk(Bytes::new()),
                Ok(Some(s)) => Frame::Bulk(get_range(s, start, end)),
            },
            StringCommand::SetRange(key, off, value) => set_range(db, now, &key, off, &value),
        };
        Reply::Frame(f)
    }
}

#[allow(clippy::too_many_arguments)]
fn set(
    db: &mut Db,
    now: u64,
    key: Bytes,
    value: Bytes,
    exists: Option<bool>,
    get: bool,
    expiry: Expiry,
    name: &str,
) -> Reply {
    // A relative time that overflows once added to now is invalid (Redis's check).
    if let Expiry::In(ms) = expiry
        && (now as i64).checked_add(ms as i64).is_none()
    {
        return Reply::Frame(Frame::error(error::invalid_expire(name)));
    }
    // Only GET needs the old value and only NX/XX its existence: a plain SET (the common
    // case) goes straight to the write.
    let old = if get {
        match get_str(db, &key, now) {
            Ok(v) => v.map(|s| Frame::bulk(s)),
            // With GET the old value must be a string.
            Err(e) => return Reply::Frame(e),
        }
    } else {
        None
    };
    // SET without GET overwrites any type.
    let present = if get {
        old.is_some()
    } else {
        exists.is_some() && db.contains(&key, now)
    };
    let reply_skip = || {
        if get {
            old.clone().unwrap_or(Frame::Null)
        } else {
            Frame::Null
        }
    };
    match exists {
        Some(false) if present => return Reply::Frame(reply_skip()),
        Some(true) if !present => return Reply::Frame(reply_skip()),
        _ => {}
    }
    let deadline = match expiry {
        Expiry::In(ms) => Some(now.saturating_add(ms)),
        Expiry::At(at) => Some(at),
        _ => None,
    };
    db.expire_if_needed(&key, now);
    let v = Value::Str(SmallBytes::new(&value));
    if expiry == Expiry::Keep {
        db.set_keep_ttl(&key, v);
    } else {
        db.set(&key, v);
    }
    db.notify(class::STRING, "set", &key);
    if let Some(at) = deadline {
        // A deadline already past deletes the key at once, as Redis's checkAlreadyExpired.
        if at <= now {
            db.remove(&key, now);
            db.notify(class::GENERIC, "del", &key);
        } else {
            db.set_expire(&key, at);
            db.notify(class::GENERIC, "expire", &key);
        }
    }
    Reply::Frame(if get {
        old.unwrap_or(Frame::Null)
    } else {
        Frame::ok()
    })
}

fn incr_by(db: &mut Db, now: u64, key: &[u8], by: i64) -> Frame {
    // One lookup, the value changed in place. A missing key starts as "0", from which no
    // increment overflows, so the errors below only ever meet keys that existed.
    let Value::Str(s) = db.get_or_insert_with(key, now, || Value::Str(SmallBytes::new(b"0")))
    else {
        return Frame::static_error(error::WRONGTYPE);
    };
    let Some(cur) = args::parse_i64_strict(s) else {
        return Frame::static_error(error::NOT_INTEGER);
    };
    let Some(new) = cur.checked_add(by) else {
        return Frame::static_error(error::OVERFLOW);
    };
    let mut buf = itoa::Buffer::new();
    *s = SmallBytes::new(buf.format(new).as_bytes());
    db.notify(class::STRING, "incrby", key);
    Frame::Integer(new)
}

fn incr_by_float(db: &mut Db, now: u64, key: &[u8], by: LongDouble) -> Frame {
    let cur = match get_str(db, key, now) {
        Err(e) => return e,
        Ok(None) => LongDouble::ZERO,
        Ok(Some(s)) => match LongDouble::parse(s) {
            Some(v) => v,
            None => return Frame::static_error(error::NOT_FLOAT),
        },
    };
    let Some(text) = incr_long_double(cur, by) else {
        return Frame::static_error("ERR increment would produce NaN or Infinity");
    };
    db.expire_if_needed(key, now);
    db.set_keep_ttl(key, Value::Str(SmallBytes::new(text.as_bytes())));
    db.notify(class::STRING, "incrbyfloat", key);
    Frame::Bulk(Bytes::from(text))
}

/// `cur + by` as Redis's INCRBYFLOAT and HINCRBYFLOAT compute and print it (long double,
/// `%.17Lf` trimmed; see [`long_double`]); None when the sum is NaN or infinite.
pub fn incr_long_double(cur: LongDouble, by: LongDouble) -> Option<String> {
    cur.checked_add(by)?.format_human()
}

fn get_range(s: &[u8], start: i64, end: i64) -> Bytes {
    let len = s.len() as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return Bytes::new();
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= len {
        end = len - 1;
    }
    if start > end {
        return Bytes::new();
    }
    Bytes::copy_from_slice(&s[start as usize..=end as usize])
}

fn set_range(db: &mut Db, now: u64, key: &[u8], off: usize, value: &[u8]) -> Frame {
    let cur: Vec<u8> = match get_str(db, key, now) {
        Err(e) => return e,
        Ok(None) => {
            if value.is_empty() {
                return Frame::Integer(0);
            }
            Vec::new()
        }
        Ok(Some(s)) => {
            if value.is_empty() {
                return Frame::Integer(s.len() as i64);
            }
            s.to_vec()
        }
    };
    let mut v = cur;
    if v.len() < off + value.len() {
        v.resize(off + value.len(), 0);
    }
    v[off..off + value.len()].copy_from_slice(value);
    let len = v.len();
    db.expire_if_needed(key, now);
    db.set_keep_ttl(key, Value::Str(SmallBytes::new(&v)));
    db.notify(class::STRING, "setrange", key);
    Frame::Integer(len as i64)
}
