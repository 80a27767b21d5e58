//! XACK key group id [id ...].

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_strict_id};
use super::{StreamCommand, cmd, write_stream};
use crate::args::ParseResult;
use crate::command::{Command, Ctx};
use crate::db::Db;

/// A parsed XACK. A missing key or group answers 0 before the IDs are looked at, so a
/// bad ID is kept as the error to give after those checks.
#[derive(Clone, Debug, PartialEq)]
pub struct XAck {
    pub key: Bytes,
    pub group: Bytes,
    pub ids: Result<Vec<StreamId>, Frame>,
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Ack(Box::new(XAck {
        key: a[1].clone(),
        group: a[2].clone(),
        ids: a[3..].iter().map(|x| parse_strict_id(x)).collect(),
    }))))
}

impl XAck {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::Integer(0),
            Ok(Some(s)) => s,
        };
        let Some(g) = s.groups.get_mut(&self.group) else {
            return Frame::Integer(0);
        };
        let ids = match self.ids {
            Ok(ids) => ids,
            Err(e) => return e,
        };
        let n = ids.into_iter().filter(|id| g.ack(*id)).count();
        Frame::Integer(n as i64)
    }
}
