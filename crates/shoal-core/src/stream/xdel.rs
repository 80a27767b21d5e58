//! XDEL key id [id ...].

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_strict_id};
use super::{StreamCommand, cmd, write_stream};
use crate::args::ParseResult;
use crate::command::{Command, Ctx};
use crate::db::{Db, class};

/// A parsed XDEL. Redis parses the IDs after looking the key up (a missing key answers
/// 0 even for bad IDs), so a bad ID is kept as the error to give then.
#[derive(Clone, Debug, PartialEq)]
pub struct XDel {
    pub key: Bytes,
    pub ids: Result<Vec<StreamId>, Frame>,
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    let ids = a[2..].iter().map(|x| parse_strict_id(x)).collect();
    Ok(cmd(StreamCommand::Del(Box::new(XDel {
        key: a[1].clone(),
        ids,
    }))))
}

impl XDel {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::Integer(0),
            Ok(Some(s)) => s,
        };
        let ids = match self.ids {
            Ok(ids) => ids,
            Err(e) => return e,
        };
        let mut deleted = 0;
        for id in ids {
            if s.delete(id) {
                if id > s.max_deleted {
                    s.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            s.refresh_first_id();
            db.notify(class::STREAM, "xdel", &self.key);
        }
        Frame::Integer(deleted)
    }
}
