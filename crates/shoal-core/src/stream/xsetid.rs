//! XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id].

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_strict_id};
use super::{StreamCommand, cmd, write_stream};
use crate::args::{ParseResult, is, parse_i64};
use crate::command::{Command, Ctx};
use crate::db::{Db, class};
use crate::error;

/// A parsed XSETID.
#[derive(Clone, Debug, PartialEq)]
pub struct XSetId {
    pub key: Bytes,
    pub id: StreamId,
    pub entries_added: Option<u64>,
    pub max_deleted: StreamId,
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    let id = parse_strict_id(&a[2])?;
    let mut entries_added = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(&a[i], "entriesadded") && more > 0 {
            let v = parse_i64(&a[i + 1])?;
            if v < 0 {
                return Err(Frame::static_error("ERR entries_added must be positive"));
            }
            entries_added = Some(v as u64);
        } else if is(&a[i], "maxdeletedid") && more > 0 {
            max_deleted = parse_strict_id(&a[i + 1])?;
            if id < max_deleted {
                return Err(Frame::static_error(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        i += 2;
    }
    Ok(cmd(StreamCommand::SetId(Box::new(XSetId {
        key: a[1].clone(),
        id,
        entries_added,
        max_deleted,
    }))))
}

impl XSetId {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::static_error(error::NO_SUCH_KEY),
            Ok(Some(s)) => s,
        };
        // Redis 7.0.15 has no check against the current max-deleted-entry-id (later
        // versions added one): verified with redis-cli.
        if !s.is_empty() {
            let top = s.last_live_id().unwrap_or_default();
            if self.id < top {
                return Frame::static_error(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                );
            }
            if self.entries_added.is_some_and(|n| s.len() > n) {
                return Frame::static_error(
                    "ERR The entries_added specified in XSETID is smaller than the target stream length",
                );
            }
        }
        s.last_id = self.id;
        if let Some(n) = self.entries_added {
            s.entries_added = n;
        }
        if !self.max_deleted.is_zero() {
            s.max_deleted = self.max_deleted;
        }
        db.notify(class::STREAM, "xsetid", &self.key);
        Frame::ok()
    }
}
