//! Generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, the EXPIRE family, TTL/PTTL,
//! EXPIRETIME/PEXPIRETIME, PERSIST, KEYS, SCAN, RENAME, RENAMENX, DBSIZE, FLUSHALL,
//! FLUSHDB. Also the internal expiry purge the server runs as a replicated write.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{Args, ParseResult, is, parse_i64};
use crate::command::{Command, Ctx, Reply};
use crate::db::{Db, class};
use crate::error;
use crate::glob;
use crate::table::{CommandSpec, flags::*};

/// EXPIRE's NX/XX/GT/LT condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireCond {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// A parsed generic command.
#[derive(Clone, Debug, PartialEq)]
pub enum GenericCommand {
    Del(Vec<Bytes>),
    Exists(Vec<Bytes>),
    Type(Bytes),
    /// Any EXPIRE variant, with the deadline still relative or absolute as given.
    Expire {
        key: Bytes,
        /// Milliseconds (already scaled from seconds).
        when_ms: i64,
        absolute: bool,
        cond: ExpireCond,
        name: &'static str,
    },
    Ttl {
        key: Bytes,
        ms: bool,
        absolute: bool,
    },
    Persist(Bytes),
    Keys(Bytes),
    Scan {
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        type_name: Option<Bytes>,
    },
    Rename {
        from: Bytes,
        to: Bytes,
        nx: bool,
    },
    DbSize,
    Flush,
    /// Active expiry: delete up to `limit` keys whose deadline passed (internal, not a
    /// client command).
    PurgeExpired {
        limit: usize,
    },
}

fn g(c: GenericCommand) -> Command {
    Command::Generic(c)
}

fn parse_del(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Del(a[1..].to_vec())))
}

fn parse_exists(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Exists(a[1..].to_vec())))
}

fn parse_type(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Type(a[1].clone())))
}

fn parse_expire_generic(
    a: &[Bytes],
    unit_ms: i64,
    absolute: bool,
    name: &'static str,
) -> ParseResult<Command> {
    // Redis checks the options first, then the number.
    let mut cond = ExpireCond::Always;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        if is(opt, "NX") {
            nx = true;
        } else if is(opt, "XX") {
            xx = true;
        } else if is(opt, "GT") {
            gt = true;
        } else if is(opt, "LT") {
            lt = true;
        } else {
            return Err(Frame::error(format!(
                "ERR Unsupported option {}",
                crate::table::truncate_lossy(opt, 128)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(Frame::static_error(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(Frame::static_error(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    if nx {
        cond = ExpireCond::Nx;
    } else if gt {
        cond = ExpireCond::Gt;
    } else if lt {
        cond = ExpireCond::Lt;
    }
    // XX combines with GT/LT: both must hold. Keep XX as its own check in apply.
    let when = parse_i64(&a[2])?;
    let when_ms = when
        .checked_mul(unit_ms)
        .ok_or_else(|| Frame::error(error::invalid_expire(name)))?;
    Ok(g(GenericCommand::Expire {
        key: a[1].clone(),
        when_ms,
        absolute,
        cond: if xx && cond == ExpireCond::Always {
            ExpireCond::Xx
        } else {
            cond
        },
        name,
    }))
}

fn parse_expire(a: &[Bytes]) -> ParseResult<Command> {
    parse_expire_generic(a, 1000, false, "expire")
}
fn parse_pexpire(a: &[Bytes]) -> ParseResult<Command> {
    parse_expire_generic(a, 1, false, "pexpire")
}
fn parse_expireat(a: &[Bytes]) -> ParseResult<Command> {
    parse_expire_generic(a, 1000, true, "expireat")
}
fn parse_pexpireat(a: &[Bytes]) -> ParseResult<Command> {
    parse_expire_generic(a, 1, true, "pexpireat")
}

fn ttl_cmd(a: &[Bytes], ms: bool, absolute: bool) -> ParseResult<Command> {
    Ok(g(GenericCommand::Ttl {
        key: a[1].clone(),
        ms,
        absolute,
    }))
}
fn parse_ttl(a: &[Bytes]) -> ParseResult<Command> {
    ttl_cmd(a, false, false)
}
fn parse_pttl(a: &[Bytes]) -> ParseResult<Command> {
    ttl_cmd(a, true, false)
}
fn parse_expiretime(a: &[Bytes]) -> ParseResult<Command> {
    ttl_cmd(a, false, true)
}
fn parse_pexpiretime(a: &[Bytes]) -> ParseResult<Command> {
    ttl_cmd(a, true, true)
}

fn parse_persist(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Persist(a[1].clone())))
}

fn parse_keys(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Keys(a[1].clone())))
}

fn parse_scan(a: &[Bytes]) -> ParseResult<Command> {
    let cursor = parse_cursor(&a[1])?;
    let mut pattern = None;
    let mut count = 10usize;
    let mut type_name = None;
    let mut args = Args::new(a, 2);
    while let Some(opt) = args.next() {
        if is(opt, "MATCH") && args.peek().is_some() {
            pattern = args.next().cloned();
        } else if is(opt, "COUNT") && args.peek().is_some() {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(Frame::static_error(error::SYNTAX));
            }
            count = n as usize;
        } else if is(opt, "TYPE") && args.peek().is_some() {
            type_name = args.next().cloned();
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
    }
    Ok(g(GenericCommand::Scan {
        cursor,
        pattern,
        count,
        type_name,
    }))
}

/// A SCAN-family cursor: an unsigned decimal, or `ERR invalid cursor`.
pub fn parse_cursor(b: &[u8]) -> ParseResult<u64> {
    let s = std::str::from_utf8(b).ok();
    match s.and_then(|s| {
        if s.starts_with('+') || s.is_empty() {
            None
        } else {
            s.parse::<u64>().ok()
        }
    }) {
        Some(c) => Ok(c),
        None => Err(Frame::static_error("ERR invalid cursor")),
    }
}

fn parse_rename(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Rename {
        from: a[1].clone(),
        to: a[2].clone(),
        nx: false,
    }))
}
fn parse_renamenx(a: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::Rename {
        from: a[1].clone(),
        to: a[2].clone(),
        nx: true,
    }))
}

/// `__purgeexpired <limit>`: the active-expiry cycle, as a replicated write.
fn parse_purge(a: &[Bytes]) -> ParseResult<Command> {
    let limit = crate::args::parse_usize_or(&a[1], error::NOT_INTEGER)?;
    Ok(g(GenericCommand::PurgeExpired { limit }))
}

/// The arguments of the active-expiry command for `limit` keys.
pub fn purge_expired_args(limit: usize) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"__purgeexpired"),
        Bytes::from(limit.to_string()),
    ]
}

fn parse_dbsize(_: &[Bytes]) -> ParseResult<Command> {
    Ok(g(GenericCommand::DbSize))
}

fn parse_flush(a: &[Bytes]) -> ParseResult<Command> {
    match a.len() {
        1 => {}
        2 if is(&a[1], "ASYNC") || is(&a[1], "SYNC") => {}
        _ => return Err(Frame::static_error(error::SYNTAX)),
    }
    Ok(g(GenericCommand::Flush))
}

const K1: (i32, i32, i32) = (1, 1, 1);
const KALL: (i32, i32, i32) = (1, -1, 1);

/// The generic family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, KALL, &["keyspace", "write", "slow"])
        .parser(parse_del)
        .doc("generic", "1.0.0", "Deletes one or more keys."),
    CommandSpec::new("unlink", -2, WRITE | FAST, KALL, &["keyspace", "write", "fast"])
        .parser(parse_del)
        .doc("generic", "4.0.0", "Asynchronously deletes one or more keys."),
    CommandSpec::new("exists", -2, READONLY | FAST, KALL, &["keyspace", "read", "fast"])
        .parser(parse_exists)
        .doc("generic", "1.0.0", "Determines whether one or more keys exist."),
    CommandSpec::new("touch", -2, READONLY | FAST, KALL, &["keyspace", "read", "fast"])
        .parser(parse_exists)
        .doc("generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    CommandSpec::new("type", 2, READONLY | FAST, K1, &["keyspace", "read", "fast"])
        .parser(parse_type)
        .doc("generic", "1.0.0", "Determines the type of value stored at a key."),
    CommandSpec::new("expire", -3, WRITE | FAST, K1, &["keyspace", "write", "fast"])
        .parser(parse_expire)
        .doc("generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    CommandSpec::new("pexpire", -3, WRITE | FAST, K1, &["keyspace", "write", "fast"])
        .parser(parse_pexpire)
        .doc("generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    CommandSpec::new("expireat", -3, WRITE | FAST, K1, &["keyspace", "write", "fast"])
        .parser(parse_expireat)
        .doc("generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, K1, &["keyspace", "write", "fast"])
        .parser(parse_pexpireat)
        .doc("generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    CommandSpec::new("ttl", 2, READONLY | FAST, K1, &["keyspace", "read", "fast"])
        .parser(parse_ttl)
        .doc("generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    CommandSpec::new("pttl", 2, READONLY | FAST, K1, &["keyspace", "read", "fast"])
        .parser(parse_pttl)
        .doc("generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    CommandSpec::new("expiretime", 2, READONLY | FAST, K1, &["keyspace", "read", "fast"])
        .parser(parse_expiretime)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, K1, &["keyspace", "read", "fast"])
        .parser(parse_pexpiretime)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    CommandSpec::new("persist", 2, WRITE | FAST, K1, &["keyspace", "write", "fast"])
        .parser(parse_persist)
        .doc("generic", "2.2.0", "Removes the expiration time of a key."),
    CommandSpec::new("keys", 2, READONLY, (0, 0, 0), &["keyspace", "read", "slow", "dangerous"])
        .parser(parse_keys)
        .doc("generic", "1.0.0", "Returns all key names that match a pattern."),
    CommandSpec::new("scan", -2, READONLY, (0, 0, 0), &["keyspace", "read", "slow"])
        .parser(parse_scan)
        .doc("generic", "2.8.0", "Iterates over the key names in the database."),
    CommandSpec::new("rename", 3, WRITE, (1, 2, 1), &["keyspace", "write", "slow"])
        .parser(parse_rename)
        .doc("generic", "1.0.0", "Renames a key and overwrites the destination."),
    CommandSpec::new("renamenx", 3, WRITE | FAST, (1, 2, 1), &["keyspace", "write", "fast"])
        .parser(parse_renamenx)
        .doc("generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    CommandSpec::new("__purgeexpired", 2, WRITE | INTERNAL, (0, 0, 0), &["keyspace"])
        .parser(parse_purge)
        .doc("generic", "internal", "Deletes keys whose deadline passed (server-generated)."),
    CommandSpec::new("dbsize", 1, READONLY | FAST, (0, 0, 0), &["keyspace", "read", "fast"])
        .parser(parse_dbsize)
        .doc("server", "1.0.0", "Returns the number of keys in the database."),
    CommandSpec::new("flushall", -1, WRITE, (0, 0, 0), &["keyspace", "write", "slow", "dangerous"])
        .parser(parse_flush)
        .doc("server", "1.0.0", "Removes all keys from all databases."),
    CommandSpec::new("flushdb", -1, WRITE, (0, 0, 0), &["keyspace", "write", "slow", "dangerous"])
        .parser(parse_flush)
        .doc("server", "1.0.0", "Remove all keys from the current database."),
];

impl GenericCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        let now = ctx.now_ms;
        let f = match self {
            GenericCommand::Del(keys) => {
                let mut n = 0;
                for k in &keys {
                    if db.remove(k, now).is_some() {
                        db.notify(class::GENERIC, "del", k);
                        n += 1;
                    }
                }
                Frame::Integer(n)
            }
            GenericCommand::Exists(keys) => {
                Frame::Integer(keys.iter().filter(|k| db.contains(k, now)).count() as i64)
            }
            GenericCommand::Type(key) => match db.get(&key, now) {
                Some(v) => Frame::simple(v.type_name()),
                None => Frame::simple("none"),
            },
            GenericCommand::Expire {
                key,
                when_ms,
                absolute,
                cond,
                name,
            } => expire(db, now, &key, when_ms, absolute, cond, name),
            GenericCommand::Ttl { key, ms, absolute } => {
                if !db.contains(&key, now) {
                    Frame::Integer(-2)
                } else {
                    match db.expire_at(&key) {
                        None => Frame::Integer(-1),
                        Some(at) if absolute => {
                            Frame::Integer(if ms { at as i64 } else { (at / 1000) as i64 })
                        }
                        Some(at) => {
                            let ttl = at.saturating_sub(now) as i64;
                            Frame::Integer(if ms { ttl } else { (ttl + 500) / 1000 })
                        }
                    }
                }
            }
            GenericCommand::Persist(key) => {
                if db.get_mut(&key, now).is_some() && db.remove_expire(&key) {
                    db.notify(class::GENERIC, "persist", &key);
                    Frame::Integer(1)
                } else {
                    Frame::Integer(0)
                }
            }
            GenericCommand::Keys(pattern) => {
                let all = pattern.as_ref() == b"*";
                let mut out = Vec::new();
                for (k, _) in db.iter() {
                    if (all || glob::matches(&pattern, k)) && db.contains(k, now) {
                        out.push(Frame::bulk(k));
                    }
                }
                Frame::Array(out)
            }
            GenericCommand::Scan {
                cursor,
                pattern,
                count,
                type_name,
            } => {
                let mut keys = Vec::new();
                let next = db.scan(cursor, count, now, |k, v| {
                    if let Some(p) = &pattern
                        && !glob::matches(p, k)
                    {
                        return;
                    }
                    if let Some(t) = &type_name
                        && !t.eq_ignore_ascii_case(v.type_name().as_bytes())
                    {
                        return;
                    }
                    keys.push(Frame::bulk(k));
                });
                scan_reply(next, keys)
            }
            GenericCommand::Rename { from, to, nx } => rename(db, now, &from, &to, nx),
            GenericCommand::DbSize => Frame::Integer(db.len() as i64),
            GenericCommand::Flush => {
                db.clear();
                Frame::ok()
            }
            GenericCommand::PurgeExpired { limit } => {
                Frame::Integer(db.purge_expired(now, limit).len() as i64)
            }
        };
        Reply::Frame(f)
    }
}

/// The reply shape of every SCAN-family command: `[cursor, [items...]]`.
pub fn scan_reply(next: u64, items: Vec<Frame>) -> Frame {
    let mut buf = itoa::Buffer::new();
    Frame::Array(vec![
        Frame::bulk(buf.format(next).as_bytes()),
        Frame::Array(items),
    ])
}

fn expire(
    db: &mut Db,
    now: u64,
    key: &[u8],
    when_ms: i64,
    absolute: bool,
    cond: ExpireCond,
    name: &str,
) -> Frame {
    let when = if absolute {
        when_ms
    } else {
        match (now as i64).checked_add(when_ms) {
            Some(w) => w,
            None => return Frame::error(error::invalid_expire(name)),
        }
    };
    if db.get_mut(key, now).is_none() {
        return Frame::Integer(0);
    }
    let current = db.expire_at(key).map(|v| v as i64);
    let ok = match cond {
        ExpireCond::Always => true,
        ExpireCond::Nx => current.is_none(),
        ExpireCond::Xx => current.is_some(),
        ExpireCond::Gt => matches!(current, Some(c) if when > c),
        ExpireCond::Lt => current.is_none_or(|c| when < c),
    };
    if !ok {
        return Frame::Integer(0);
    }
    if when <= now as i64 {
        db.remove(key, now);
        db.notify(class::GENERIC, "del", key);
    } else {
        db.set_expire(key, when as u64);
        db.notify(class::GENERIC, "expire", key);
    }
    Frame::Integer(1)
}

fn rename(db: &mut Db, now: u64, from: &[u8], to: &[u8], nx: bool) -> Frame {
    if !db.contains(from, now) {
        return Frame::static_error(error::NO_SUCH_KEY);
    }
    if from == to {
        return if nx { Frame::Integer(0) } else { Frame::ok() };
    }
    if nx && db.contains(to, now) {
        return Frame::Integer(0);
    }
    let deadline = db.expire_at(from);
    let Some(v) = db.remove(from, now) else {
        return Frame::static_error(error::NO_SUCH_KEY);
    };
    db.expire_if_needed(to, now);
    db.set(to, v);
    if let Some(at) = deadline {
        db.set_expire(to, at);
    }
    db.notify(class::GENERIC, "rename_from", from);
    db.notify(class::GENERIC, "rename_to", to);
    if nx { Frame::Integer(1) } else { Frame::ok() }
}
