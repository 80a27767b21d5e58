//! Streams: the whole Redis 7.0 Streams family (plus 7.2's consumer `active-time` and
//! `inactive` fields), as deterministic commands.
//!
//! Where to find things:
//! - `id`: stream IDs and Redis's ID parsing rules;
//! - `chunk`: the compact node holding up to 100 entries in one buffer;
//! - `types`: the [`Stream`] value, consumer groups, PELs, trimming, lag arithmetic;
//! - one module per command or small group: `xadd` (XADD and the trim options shared
//!   with XTRIM), `xtrim`, `xrange` (XRANGE, XREVRANGE, XLEN), `xdel`, `xsetid`, `xread`
//!   (XREAD, XREADGROUP), `group` (XGROUP), `xack`, `xpending`, `xclaim` (XCLAIM,
//!   XAUTOCLAIM), `xinfo`; `persist` is the snapshot encoding.
//!
//! Time comes only from [`Ctx::now_ms`]: `XADD *` IDs, delivery and idle times.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::command::{Command, Ctx, Reply};
use crate::db::Db;
use crate::error;
use crate::table::{CommandSpec, flags::*};
use crate::value::Value;

pub mod chunk;
pub mod group;
pub mod id;
mod persist;
pub mod types;
pub mod xack;
pub mod xadd;
pub mod xclaim;
pub mod xdel;
pub mod xinfo;
pub mod xpending;
pub mod xrange;
pub mod xread;
pub mod xsetid;
pub mod xtrim;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

pub use id::StreamId;
pub use types::{Consumer, Group, Nack, Stream, Trim, TrimStrategy};

/// A parsed stream command (boxed: keeps `Command`, which every reply may carry, small).
#[derive(Clone, Debug, PartialEq)]
pub enum StreamCommand {
    Add(Box<xadd::XAdd>),
    Trim(Box<xtrim::XTrim>),
    Len(Bytes),
    Range(Box<xrange::XRange>),
    Del(Box<xdel::XDel>),
    SetId(Box<xsetid::XSetId>),
    Read(Box<xread::XRead>),
    Group(Box<group::XGroup>),
    Ack(Box<xack::XAck>),
    Pending(Box<xpending::XPending>),
    Claim(Box<xclaim::XClaim>),
    AutoClaim(Box<xclaim::XAutoClaim>),
    Info(Box<xinfo::XInfo>),
}

impl StreamCommand {
    /// Applies the command.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        match self {
            StreamCommand::Add(c) => c.apply(db, ctx).into(),
            StreamCommand::Trim(c) => c.apply(db, ctx).into(),
            StreamCommand::Len(key) => xrange::xlen(db, ctx, &key).into(),
            StreamCommand::Range(c) => c.apply(db, ctx).into(),
            StreamCommand::Del(c) => c.apply(db, ctx).into(),
            StreamCommand::SetId(c) => c.apply(db, ctx).into(),
            StreamCommand::Read(c) => c.apply(db, ctx),
            StreamCommand::Group(c) => c.apply(db, ctx).into(),
            StreamCommand::Ack(c) => c.apply(db, ctx).into(),
            StreamCommand::Pending(c) => c.apply(db, ctx).into(),
            StreamCommand::Claim(c) => c.apply(db, ctx).into(),
            StreamCommand::AutoClaim(c) => c.apply(db, ctx).into(),
            StreamCommand::Info(c) => c.apply(db, ctx).into(),
        }
    }
}

pub(crate) fn cmd(c: StreamCommand) -> Command {
    Command::Stream(c)
}

pub(crate) fn wrongtype() -> Frame {
    Frame::static_error(error::WRONGTYPE)
}

/// The stream at `key` for reading (None if missing), or WRONGTYPE.
pub(crate) fn read_stream<'a>(
    db: &'a Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a Stream>, Frame> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// The stream at `key` for writing (None if missing), or WRONGTYPE.
pub(crate) fn write_stream<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut Stream>, Frame> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// `[id, [field, value, ...]]`, an entry as every stream reply shows it (the replies that
/// list many entries write it with [`write_entry`] instead).
pub(crate) fn entry_frame(e: &chunk::EntryRef<'_>) -> Frame {
    let mut fv = Vec::with_capacity(e.fields.len() * 2);
    for (f, v) in &e.fields {
        fv.push(Frame::bulk(f));
        fv.push(Frame::bulk(v));
    }
    Frame::Array(vec![e.id.frame(), Frame::Array(fv)])
}

/// `<ms>-<seq>` written into `buf` (u64::MAX is 20 digits), without allocating.
fn id_text(id: StreamId, buf: &mut [u8; 41]) -> &[u8] {
    let (mut a, mut b) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (ms, seq) = (a.format(id.ms).as_bytes(), b.format(id.seq).as_bytes());
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..][..seq.len()].copy_from_slice(seq);
    &buf[..ms.len() + 1 + seq.len()]
}

/// Writes an entry as [`entry_frame`] shows it into a reply being encoded: the replies
/// that list many entries (XRANGE, XREAD, XREADGROUP) are written straight to their
/// encoding instead of a tree of frames (malloc and free were a third of an XRANGE).
pub(crate) fn write_entry(w: &mut shoal_resp::ArrayWriter, e: &chunk::EntryRef<'_>) {
    let mut digits = [0u8; 41];
    w.element()
        .array(2)
        .bulk(id_text(e.id, &mut digits))
        .array(e.fields.len() * 2);
    for (f, v) in &e.fields {
        w.bulk(f).bulk(v);
    }
}

/// The entry `id` of `s` as a reply, or None if it does not exist.
pub(crate) fn entry_frame_by_id(s: &Stream, id: StreamId) -> Option<Frame> {
    let mut out = None;
    s.range(id, id, false, |e| {
        out = Some(entry_frame(e));
        false
    });
    out
}

/// Redis prints names into errors with `%s`: the text up to the first NUL byte.
pub(crate) fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).replace(['\r', '\n'], " ")
}

/// A HELP reply: lines as simple strings.
pub(crate) fn help(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

const K1: (i32, i32, i32) = (1, 1, 1);
const K2: (i32, i32, i32) = (2, 2, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);
const WF: &[&str] = &["write", "stream", "fast"];
const WS: &[&str] = &["write", "stream", "slow"];
const RF: &[&str] = &["read", "stream", "fast"];
const RS: &[&str] = &["read", "stream", "slow"];

const XGROUP_SUBS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, WRITE | DENYOOM, K2, WS)
        .parser(group::parse_create)
        .doc("stream", "5.0.0", "Creates a consumer group."),
    CommandSpec::new("createconsumer", 5, WRITE | DENYOOM, K2, WS)
        .parser(group::parse_createconsumer)
        .doc("stream", "6.2.0", "Creates a consumer in a consumer group."),
    CommandSpec::new("delconsumer", 5, WRITE, K2, WS)
        .parser(group::parse_delconsumer)
        .doc(
            "stream",
            "5.0.0",
            "Deletes a consumer from a consumer group.",
        ),
    CommandSpec::new("destroy", 4, WRITE, K2, WS)
        .parser(group::parse_destroy)
        .doc("stream", "5.0.0", "Destroys a consumer group."),
    CommandSpec::new("help", 2, LOADING | STALE, NOKEYS, &["stream", "slow"])
        .parser(group::parse_help)
        .doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
    CommandSpec::new("setid", -5, WRITE, K2, WS)
        .parser(group::parse_setid)
        .doc(
            "stream",
            "5.0.0",
            "Sets the last-delivered ID of a consumer group.",
        ),
];

const XINFO_SUBS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, READONLY, K2, RS)
        .parser(xinfo::parse_consumers)
        .doc(
            "stream",
            "5.0.0",
            "Returns a list of the consumers in a consumer group.",
        ),
    CommandSpec::new("groups", 3, READONLY, K2, RS)
        .parser(xinfo::parse_groups)
        .doc(
            "stream",
            "5.0.0",
            "Returns a list of the consumer groups of a stream.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, NOKEYS, &["stream", "slow"])
        .parser(xinfo::parse_help)
        .doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
    CommandSpec::new("stream", -3, READONLY, K2, RS)
        .parser(xinfo::parse_stream)
        .doc("stream", "5.0.0", "Returns information about a stream."),
];

/// The stream family's command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xack", -4, WRITE | FAST, K1, WF)
        .parser(xack::parse)
        .doc("stream", "5.0.0", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."),
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, K1, WF)
        .taker(xadd::take, xadd::parse)
        .doc("stream", "5.0.0", "Appends a new message to a stream. Creates the key if it doesn't exist."),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, K1, WF)
        .parser(xclaim::parse_autoclaim)
        .doc("stream", "6.2.0", "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."),
    CommandSpec::new("xclaim", -6, WRITE | FAST, K1, WF)
        .parser(xclaim::parse_claim)
        .doc("stream", "5.0.0", "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."),
    CommandSpec::new("xdel", -3, WRITE | FAST, K1, WF)
        .parser(xdel::parse)
        .doc("stream", "5.0.0", "Returns the number of messages after removing them from a stream."),
    CommandSpec::new("xgroup", -2, 0, NOKEYS, &["slow"])
        .subs(XGROUP_SUBS)
        .doc("stream", "5.0.0", "A container for consumer groups commands."),
    CommandSpec::new("xinfo", -2, 0, NOKEYS, &["slow"])
        .subs(XINFO_SUBS)
        .doc("stream", "5.0.0", "A container for stream introspection commands."),
    CommandSpec::new("xlen", 2, READONLY | FAST, K1, RF)
        .parser(xrange::parse_xlen)
        .doc("stream", "5.0.0", "Return the number of messages in a stream."),
    CommandSpec::new("xpending", -3, READONLY, K1, RS)
        .parser(xpending::parse)
        .doc("stream", "5.0.0", "Returns the information and entries from a stream consumer group's pending entries list."),
    CommandSpec::new("xrange", -4, READONLY, K1, RS)
        .parser(xrange::parse_xrange)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs."),
    CommandSpec::new("xread", -4, READONLY | BLOCKING, NOKEYS, &["read", "stream", "slow", "blocking"])
        .parser(xread::parse_xread)
        .movable(xread::keys)
        .doc("stream", "5.0.0", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING, NOKEYS, &["write", "stream", "slow", "blocking"])
        .parser(xread::parse_xreadgroup)
        .movable(xread::keys)
        .doc("stream", "5.0.0", "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."),
    CommandSpec::new("__xreadretry", -5, WRITE | BLOCKING | INTERNAL, NOKEYS, &["stream"])
        .parser(xread::parse_retry)
        .movable(xread::retry_keys)
        .doc("stream", "internal", "Retry of a blocked XREAD/XREADGROUP (server-generated)."),
    CommandSpec::new("xrevrange", -4, READONLY, K1, RS)
        .parser(xrange::parse_xrevrange)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs in reverse order."),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, K1, WF)
        .parser(xsetid::parse)
        .doc("stream", "5.0.0", "An internal command for replicating stream values."),
    CommandSpec::new("xtrim", -4, WRITE, K1, WS)
        .parser(xtrim::parse)
        .doc("stream", "5.0.0", "Deletes messages from the beginning of a stream."),
];
