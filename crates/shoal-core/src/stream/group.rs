//! XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP.

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_id, parse_strict_id};
use super::types::{Group, INVALID_ENTRIES_READ};
use super::{StreamCommand, c_str, cmd, help, write_stream};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::{Db, class};
use crate::value::Value;

/// The ID of XGROUP CREATE / SETID: `$` or a parsed ID (a parse error is reported after
/// the key and group checks, as Redis does).
#[derive(Clone, Debug, PartialEq)]
pub enum GroupId {
    Last,
    Id(Result<StreamId, Frame>),
}

/// A parsed XGROUP subcommand.
#[derive(Clone, Debug, PartialEq)]
pub enum XGroup {
    Create {
        key: Bytes,
        group: Bytes,
        id: GroupId,
        mkstream: bool,
        entries_read: i64,
    },
    SetId {
        key: Bytes,
        group: Bytes,
        id: GroupId,
        entries_read: i64,
    },
    Destroy {
        key: Bytes,
        group: Bytes,
    },
    CreateConsumer {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
    },
    DelConsumer {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
    },
    Help,
}

fn x(g: XGroup) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Group(Box::new(g))))
}

fn subcommand_syntax(sub: &str) -> Frame {
    Frame::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try XGROUP HELP."
    ))
}

fn entries_read_arg(b: &[u8]) -> ParseResult<i64> {
    let v = parse_i64(b)?;
    if v < 0 && v != INVALID_ENTRIES_READ {
        return Err(Frame::static_error(
            "ERR value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(v)
}

pub fn parse_create(a: &[Bytes]) -> ParseResult<Command> {
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < a.len() {
        if is(&a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(&a[i], "entriesread") && i + 1 < a.len() {
            entries_read = entries_read_arg(&a[i + 1])?;
            i += 2;
        } else {
            return Err(subcommand_syntax("create"));
        }
    }
    if a.len() > 8 {
        return Err(subcommand_syntax("create"));
    }
    let id = if &a[4][..] == b"$" {
        GroupId::Last
    } else {
        GroupId::Id(parse_strict_id(&a[4]))
    };
    x(XGroup::Create {
        key: a[2].clone(),
        group: a[3].clone(),
        id,
        mkstream,
        entries_read,
    })
}

pub fn parse_setid(a: &[Bytes]) -> ParseResult<Command> {
    let mut entries_read = INVALID_ENTRIES_READ;
    if a.len() == 7 {
        if !is(&a[5], "entriesread") {
            return Err(subcommand_syntax("setid"));
        }
        entries_read = entries_read_arg(&a[6])?;
    } else if a.len() != 5 {
        return Err(subcommand_syntax("setid"));
    }
    let id = if &a[4][..] == b"$" {
        GroupId::Last
    } else {
        GroupId::Id(parse_id(&a[4], 0))
    };
    x(XGroup::SetId {
        key: a[2].clone(),
        group: a[3].clone(),
        id,
        entries_read,
    })
}

pub fn parse_destroy(a: &[Bytes]) -> ParseResult<Command> {
    x(XGroup::Destroy {
        key: a[2].clone(),
        group: a[3].clone(),
    })
}

pub fn parse_createconsumer(a: &[Bytes]) -> ParseResult<Command> {
    x(XGroup::CreateConsumer {
        key: a[2].clone(),
        group: a[3].clone(),
        consumer: a[4].clone(),
    })
}

pub fn parse_delconsumer(a: &[Bytes]) -> ParseResult<Command> {
    x(XGroup::DelConsumer {
        key: a[2].clone(),
        group: a[3].clone(),
        consumer: a[4].clone(),
    })
}

pub fn parse_help(_a: &[Bytes]) -> ParseResult<Command> {
    x(XGroup::Help)
}

const HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

const NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

fn no_group(group: &[u8], key: &[u8]) -> Frame {
    Frame::error(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        c_str(group),
        c_str(key)
    ))
}

impl XGroup {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms;
        let (key, group, mkstream) = match &self {
            XGroup::Help => return help(HELP),
            XGroup::Create {
                key,
                group,
                mkstream,
                ..
            } => (key.clone(), group.clone(), *mkstream),
            XGroup::SetId { key, group, .. }
            | XGroup::Destroy { key, group }
            | XGroup::CreateConsumer { key, group, .. }
            | XGroup::DelConsumer { key, group, .. } => (key.clone(), group.clone(), false),
        };
        // Common checks: type, key existence (unless MKSTREAM), group existence for the
        // subcommands that need it.
        let exists = match write_stream(db, &key, now) {
            Err(e) => return e,
            Ok(s) => s.map(|s| s.groups.contains_key(&group)),
        };
        match exists {
            None if !mkstream => return Frame::static_error(NEEDS_KEY),
            Some(false)
                if matches!(
                    self,
                    XGroup::SetId { .. }
                        | XGroup::CreateConsumer { .. }
                        | XGroup::DelConsumer { .. }
                ) =>
            {
                return no_group(&group, &key);
            }
            _ => {}
        }
        match self {
            XGroup::Help => help(HELP),
            XGroup::Create {
                id, entries_read, ..
            } => {
                let id = match id {
                    GroupId::Last => match write_stream(db, &key, now) {
                        Ok(Some(s)) => s.last_id,
                        _ => StreamId::MIN,
                    },
                    GroupId::Id(r) => match r {
                        Ok(id) => id,
                        Err(e) => return e,
                    },
                };
                if exists.is_none() {
                    db.set(&key, Value::Stream(Box::default()));
                }
                let Ok(Some(s)) = write_stream(db, &key, now) else {
                    return Frame::static_error(NEEDS_KEY);
                };
                if s.groups.contains_key(&group) {
                    return Frame::static_error("BUSYGROUP Consumer Group name already exists");
                }
                s.groups.insert(group, Group::new(id, entries_read));
                db.notify(class::STREAM, "xgroup-create", &key);
                Frame::ok()
            }
            XGroup::SetId {
                id, entries_read, ..
            } => {
                let Ok(Some(s)) = write_stream(db, &key, now) else {
                    return Frame::static_error(NEEDS_KEY);
                };
                let id = match id {
                    GroupId::Last => s.last_id,
                    GroupId::Id(Ok(id)) => id,
                    GroupId::Id(Err(e)) => return e,
                };
                if let Some(g) = s.groups.get_mut(&group) {
                    g.last_id = id;
                    g.entries_read = entries_read;
                }
                db.notify(class::STREAM, "xgroup-setid", &key);
                Frame::ok()
            }
            XGroup::Destroy { .. } => {
                let Ok(Some(s)) = write_stream(db, &key, now) else {
                    return Frame::static_error(NEEDS_KEY);
                };
                if s.groups.remove(&group).is_some() {
                    db.notify(class::STREAM, "xgroup-destroy", &key);
                    // Blocked XREADGROUP readers of this group must learn it is gone.
                    db.signal_ready(&key);
                    Frame::Integer(1)
                } else {
                    Frame::Integer(0)
                }
            }
            XGroup::CreateConsumer { consumer, .. } => {
                let Ok(Some(s)) = write_stream(db, &key, now) else {
                    return Frame::static_error(NEEDS_KEY);
                };
                let created = s
                    .groups
                    .get_mut(&group)
                    .is_some_and(|g| g.ensure_consumer(&consumer, now as i64));
                if created {
                    db.notify(class::STREAM, "xgroup-createconsumer", &key);
                }
                Frame::Integer(i64::from(created))
            }
            XGroup::DelConsumer { consumer, .. } => {
                let Ok(Some(s)) = write_stream(db, &key, now) else {
                    return Frame::static_error(NEEDS_KEY);
                };
                let Some(g) = s.groups.get_mut(&group) else {
                    return Frame::Integer(0);
                };
                let Some(c) = g.consumers.remove(&consumer) else {
                    return Frame::Integer(0);
                };
                for id in &c.pel {
                    g.pel.remove(id);
                }
                db.notify(class::STREAM, "xgroup-delconsumer", &key);
                Frame::Integer(c.pel.len() as i64)
            }
        }
    }
}
