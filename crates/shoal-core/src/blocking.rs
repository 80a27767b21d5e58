//! Retries of blocked list and sorted-set commands, as request arguments.
//!
//! A client blocked by BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX or
//! BZMPOP is retried when a key it waits on is signalled ready. Two things make a retry
//! differ from the command as the client sent it, both from Redis 7.0's
//! `handleClientsBlockedOnKeys`:
//!
//! - Redis serves list waiters only from keys that hold a list (sorted-set waiters only
//!   from sorted sets): a key that became another type leaves the client blocked instead
//!   of answering WRONGTYPE. A retry is therefore flagged; it skips keys of the wrong type
//!   and blocks again. As arguments the flag is the internal wrapper
//!   `__blockretry <command> <args...>` ([`Block::retry_args`](crate::Block)).
//! - Redis serves the waiters of each ready key *from that key*, in the order keys became
//!   ready, not from the first non-empty key in argument order. [`prefer_ready_key`]
//!   rewrites a request so the ready key comes first.
//!
//! Both work on argument lists because a replicated shard proposes retries as log entries.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::{ParseResult, is, parse_i64_strict};
use crate::command::Command;
use crate::error;
use crate::list::{End, ListCommand};
use crate::table::{CommandSpec, Lookup, flags::*};
use crate::zset::{Side, ZSetCommand};

/// Name of the internal retry wrapper.
pub const RETRY: &str = "__blockretry";

/// The internal retry command's table entry.
pub const COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new(RETRY, -3, WRITE | BLOCKING | INTERNAL, (0, 0, 0), &["list"])
            .parser(parse_retry)
            .movable(retry_keys)
            .doc(
                "list",
                "internal",
                "Retry of a blocked list or sorted-set pop (server-generated).",
            ),
    ];

/// `request` with `key` moved to the front of its key list, so that its retry serves it
/// from `key` first: BLPOP/BRPOP/BZPOPMIN/BZPOPMAX (`keys... timeout`) and BLMPOP/BZMPOP
/// (`timeout numkeys keys... where [COUNT n]`), also wrapped in `__blockretry`. BLMOVE and
/// BRPOPLPUSH have one source key: returned unchanged, as is a request whose keys do not
/// include `key`. None for any other command, or a request too malformed to have keys.
pub fn prefer_ready_key(request: &[Bytes], key: &[u8]) -> Option<Vec<Bytes>> {
    let name = request.first()?;
    if is(name, RETRY) {
        let mut out = vec![name.clone()];
        out.extend(prefer_ready_key(request.get(1..)?, key)?);
        return Some(out);
    }
    let keys = if ["blpop", "brpop", "bzpopmin", "bzpopmax"]
        .iter()
        .any(|n| is(name, n))
    {
        if request.len() < 3 {
            return None;
        }
        1..request.len() - 1
    } else if is(name, "blmpop") || is(name, "bzmpop") {
        let numkeys = usize::try_from(parse_i64_strict(request.get(2)?)?).ok()?;
        let end = numkeys.checked_add(3)?;
        if numkeys == 0 || end > request.len() {
            return None;
        }
        3..end
    } else if is(name, "blmove") || is(name, "brpoplpush") {
        return Some(request.to_vec());
    } else {
        return None;
    };
    let mut out = request.to_vec();
    if let Some(i) = out[keys.clone()].iter().position(|k| k[..] == *key) {
        out[keys.start..=keys.start + i].rotate_right(1);
    }
    Some(out)
}

/// The blocking commands `__blockretry` may wrap.
const RETRYABLE: &[&str] = &[
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
];

/// The wrapped command's spec, arity checked (its parser indexes arguments freely).
fn wrapped(a: &[Bytes]) -> ParseResult<&'static CommandSpec> {
    let inner = a.get(1..).unwrap_or(&[]);
    match crate::table::lookup(inner) {
        Lookup::Found(spec, _) if RETRYABLE.contains(&spec.name) => Ok(spec),
        Lookup::Error(e) => Err(e),
        Lookup::Found(..) => Err(Frame::static_error(error::SYNTAX)),
    }
}

/// Parses `__blockretry <command> <args...>`: the wrapped command, flagged as a retry.
fn parse_retry(a: &[Bytes]) -> ParseResult<Command> {
    let spec = wrapped(a)?;
    let parse = spec
        .parse
        .ok_or_else(|| Frame::static_error(error::SYNTAX))?;
    let mut c = parse(&a[1..])?;
    mark_retry(&mut c);
    Ok(c)
}

/// Key positions of `__blockretry`: the wrapped command's, one further right.
fn retry_keys(a: &[Bytes]) -> Vec<usize> {
    match wrapped(a) {
        Ok(spec) => spec
            .key_positions(&a[1..])
            .into_iter()
            .map(|i| i + 1)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Flags a blocking list or sorted-set command as the retry of a blocked client.
pub(crate) fn mark_retry(c: &mut Command) {
    match c {
        Command::List(
            ListCommand::BPop { retry, .. }
            | ListCommand::MPop { retry, .. }
            | ListCommand::Move { retry, .. },
        )
        | Command::ZSet(ZSetCommand::BPop { retry, .. } | ZSetCommand::MPop { retry, .. }) => {
            *retry = true
        }
        _ => {}
    }
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// A timeout in ms as the seconds argument that parses back to it. Only a retry that
/// blocks again reads it, and the server keeps the waiter's original deadline then.
fn secs(ms: u64) -> Bytes {
    Bytes::from(if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    })
}

fn end(e: End) -> Bytes {
    match e {
        End::Left => b("LEFT"),
        End::Right => b("RIGHT"),
    }
}

fn mpop_args(
    name: &'static str,
    timeout_ms: u64,
    keys: &[Bytes],
    wherefrom: Bytes,
    count: u64,
) -> Vec<Bytes> {
    let mut a = vec![
        b(name),
        secs(timeout_ms),
        Bytes::from(keys.len().to_string()),
    ];
    a.extend(keys.iter().cloned());
    a.extend([wherefrom, b("COUNT"), Bytes::from(count.to_string())]);
    a
}

/// The `__blockretry` arguments of a blocking list or sorted-set command; None for a
/// command that does not block.
pub(crate) fn retry_args(c: &Command) -> Option<Vec<Bytes>> {
    let mut a = vec![b(RETRY)];
    match c {
        Command::List(ListCommand::BPop {
            keys,
            end: e,
            timeout_ms,
            ..
        }) => {
            a.push(match e {
                End::Left => b("BLPOP"),
                End::Right => b("BRPOP"),
            });
            a.extend(keys.iter().cloned());
            a.push(secs(*timeout_ms));
        }
        Command::List(ListCommand::Move {
            src,
            dst,
            from,
            to,
            block: Some(timeout_ms),
            ..
        }) => a.extend([
            b("BLMOVE"),
            src.clone(),
            dst.clone(),
            end(*from),
            end(*to),
            secs(*timeout_ms),
        ]),
        Command::List(ListCommand::MPop {
            keys,
            end: e,
            count,
            block: Some(timeout_ms),
            ..
        }) => a.extend(mpop_args("BLMPOP", *timeout_ms, keys, end(*e), *count)),
        Command::ZSet(ZSetCommand::BPop {
            keys,
            side,
            timeout_ms,
            ..
        }) => {
            a.push(match side {
                Side::Min => b("BZPOPMIN"),
                Side::Max => b("BZPOPMAX"),
            });
            a.extend(keys.iter().cloned());
            a.push(secs(*timeout_ms));
        }
        Command::ZSet(ZSetCommand::MPop {
            keys,
            side,
            count,
            block: Some(timeout_ms),
            ..
        }) => {
            let side = match side {
                Side::Min => b("MIN"),
                Side::Max => b("MAX"),
            };
            a.extend(mpop_args("BZMPOP", *timeout_ms, keys, side, *count));
        }
        _ => return None,
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Ctx, Parsed, Reply, parse};
    use crate::db::Db;

    fn args(s: &str) -> Vec<Bytes> {
        s.split_whitespace()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn prefer(req: &str, key: &str) -> Option<Vec<Bytes>> {
        prefer_ready_key(&args(req), key.as_bytes())
    }

    #[test]
    fn moves_the_ready_key_first_keeping_the_others_in_order() {
        assert_eq!(prefer("BLPOP a b c 0", "c"), Some(args("BLPOP c a b 0")));
        assert_eq!(
            prefer("brpop a b c 1.5", "b"),
            Some(args("brpop b a c 1.5"))
        );
        assert_eq!(prefer("BZPOPMIN a b 0", "b"), Some(args("BZPOPMIN b a 0")));
        assert_eq!(prefer("BZPOPMAX a b 0", "a"), Some(args("BZPOPMAX a b 0")));
        // Duplicates: the first occurrence moves.
        assert_eq!(prefer("BLPOP a b b 0", "b"), Some(args("BLPOP b a b 0")));
    }

    #[test]
    fn numkeys_forms_move_within_the_key_list_only() {
        assert_eq!(
            prefer("BLMPOP 0 3 a b c LEFT COUNT 2", "c"),
            Some(args("BLMPOP 0 3 c a b LEFT COUNT 2"))
        );
        assert_eq!(
            prefer("BZMPOP 1 2 a b MAX", "b"),
            Some(args("BZMPOP 1 2 b a MAX"))
        );
        // A key named like the where/COUNT arguments is not a key outside the list.
        assert_eq!(
            prefer("BLMPOP 0 1 a LEFT", "LEFT"),
            Some(args("BLMPOP 0 1 a LEFT"))
        );
        // Malformed numkeys: no key list to reorder.
        assert_eq!(prefer("BLMPOP 0 x a LEFT", "a"), None);
        assert_eq!(prefer("BLMPOP 0 0 a LEFT", "a"), None);
        assert_eq!(prefer("BLMPOP 0 5 a LEFT", "a"), None);
        assert_eq!(prefer("BLMPOP 0 -1 a LEFT", "a"), None);
    }

    #[test]
    fn single_source_commands_and_absent_keys_are_unchanged() {
        let m = "BLMOVE s d LEFT RIGHT 0";
        assert_eq!(prefer(m, "d"), Some(args(m)));
        assert_eq!(
            prefer("BRPOPLPUSH s d 0", "s"),
            Some(args("BRPOPLPUSH s d 0"))
        );
        assert_eq!(prefer("BLPOP a b 0", "z"), Some(args("BLPOP a b 0")));
    }

    #[test]
    fn other_commands_do_not_apply() {
        assert_eq!(prefer("XREAD BLOCK 0 STREAMS a b 0 0", "b"), None);
        assert_eq!(prefer("__xreadretry XREAD STREAMS a 0", "a"), None);
        assert_eq!(prefer("LPOP a", "a"), None);
        assert_eq!(prefer("BLPOP a", "a"), None);
        assert_eq!(prefer_ready_key(&[], b"a"), None);
    }

    #[test]
    fn the_retry_wrapper_is_reordered_inside() {
        assert_eq!(
            prefer("__blockretry BLPOP a b 0", "b"),
            Some(args("__blockretry BLPOP b a 0"))
        );
        assert_eq!(prefer("__blockretry", "b"), None);
        assert_eq!(prefer("__blockretry XREAD STREAMS a 0", "a"), None);
    }

    fn ctx() -> Ctx {
        Ctx {
            now_ms: 1000,
            resp3: false,
            may_block: true,
            seed: 1,
        }
    }

    fn run(db: &mut Db, a: &[Bytes]) -> Reply {
        match parse(a) {
            Err(e) => Reply::Frame(e),
            Ok(Parsed::Keyspace(_, c)) => c.apply(db, &ctx()),
            Ok(Parsed::Server(..)) => panic!("server command"),
        }
    }

    fn blocked(db: &mut Db, req: &str) -> Vec<Bytes> {
        match run(db, &args(req)) {
            Reply::Block(b) => b.retry_args.expect("list and zset retries carry args"),
            Reply::Frame(f) => panic!("{req} answered {f:?}"),
        }
    }

    #[test]
    fn blocked_commands_retry_as_the_wrapper() {
        let mut db = Db::new();
        for (req, retry, keys) in [
            ("BLPOP a b 0", "__blockretry BLPOP a b 0", "a b"),
            ("BRPOP a 1.5", "__blockretry BRPOP a 1.500", "a"),
            (
                "BLMOVE a d LEFT RIGHT 2",
                "__blockretry BLMOVE a d LEFT RIGHT 2",
                "a d",
            ),
            (
                "BRPOPLPUSH a d 0.01",
                "__blockretry BLMOVE a d RIGHT LEFT 0.010",
                "a d",
            ),
            (
                "BLMPOP 0 2 a b RIGHT",
                "__blockretry BLMPOP 0 2 a b RIGHT COUNT 1",
                "a b",
            ),
            ("BZPOPMIN a 0", "__blockretry BZPOPMIN a 0", "a"),
            ("BZPOPMAX a b 0", "__blockretry BZPOPMAX a b 0", "a b"),
            (
                "BZMPOP 3 1 a MAX COUNT 4",
                "__blockretry BZMPOP 3 1 a MAX COUNT 4",
                "a",
            ),
        ] {
            let got = blocked(&mut db, req);
            assert_eq!(got, args(retry), "{req}");
            // The wrapper parses back to the in-memory retry command.
            let Ok(Parsed::Keyspace(_, mut fresh)) = parse(&args(req)) else {
                panic!("{req} parses");
            };
            mark_retry(&mut fresh);
            let Ok(Parsed::Keyspace(spec, c)) = parse(&got) else {
                panic!("{retry} parses");
            };
            assert_eq!(c, fresh, "{req}");
            let found: Vec<Bytes> = spec
                .key_positions(&got)
                .into_iter()
                .map(|i| got[i].clone())
                .collect();
            assert_eq!(found, args(keys), "{retry} keys");
        }
    }

    #[test]
    fn timeouts_round_trip() {
        for ms in (0..5000).chain([86_400_000, 123_456_789]) {
            let Ok(back) = crate::args::parse_timeout(&secs(ms)) else {
                panic!("{ms}");
            };
            assert!(back == ms || back == ms + 1, "{ms} -> {back}");
        }
    }

    #[test]
    fn the_wrapper_rejects_what_it_cannot_wrap() {
        let mut db = Db::new();
        for bad in [
            "__blockretry LPOP a",
            "__blockretry XREAD BLOCK 0 STREAMS a 0",
            "__blockretry BLPOP a",
            "__blockretry NOSUCH a 0",
        ] {
            assert!(
                matches!(run(&mut db, &args(bad)), Reply::Frame(Frame::Error(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_retry_skips_keys_of_another_type_a_fresh_command_does_not() {
        let mut db = Db::new();
        run(&mut db, &args("ZADD z 1 m"));
        run(&mut db, &args("SET s v"));
        run(&mut db, &args("RPUSH l x"));
        let wrongtype = Frame::static_error(error::WRONGTYPE);
        for fresh in [
            "BLPOP z 0",
            "BLMPOP 0 1 s LEFT",
            "BZPOPMIN l 0",
            "BZMPOP 0 1 s MIN",
        ] {
            match run(&mut db, &args(fresh)) {
                Reply::Frame(f) => assert_eq!(f, wrongtype, "{fresh}"),
                Reply::Block(_) => panic!("{fresh} blocked"),
            }
        }
        for retry in [
            "__blockretry BLPOP z s 0",
            "__blockretry BRPOP s 0",
            "__blockretry BLMOVE z d LEFT LEFT 0",
            "__blockretry BRPOPLPUSH s d 0",
            "__blockretry BLMPOP 0 2 s z LEFT",
            "__blockretry BZPOPMIN l s 0",
            "__blockretry BZPOPMAX s 0",
            "__blockretry BZMPOP 0 2 l s MIN",
        ] {
            assert!(
                matches!(run(&mut db, &args(retry)), Reply::Block(_)),
                "{retry} blocks again"
            );
        }
        // Skipped, not stopped at: a later key of the right type serves the retry.
        match run(&mut db, &args("__blockretry BLPOP z s l 0")) {
            Reply::Frame(f) => {
                assert_eq!(f, Frame::Array(vec![Frame::bulk(b"l"), Frame::bulk(b"x")]))
            }
            Reply::Block(_) => panic!("l holds an element"),
        }
        run(&mut db, &args("ZADD z2 1 m"));
        match run(&mut db, &args("__blockretry BZPOPMIN s z2 0")) {
            Reply::Frame(Frame::Array(a)) => assert_eq!(a[0], Frame::bulk(b"z2")),
            other => panic!("z2 holds a member: {other:?}"),
        }
    }
}
