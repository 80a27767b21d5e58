//! XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count].

use bytes::Bytes;
use shoal_resp::Frame;

use super::types::Trim;
use super::xadd::parse_add_trim;
use super::{StreamCommand, cmd, write_stream};
use crate::args::ParseResult;
use crate::command::{Command, Ctx};
use crate::db::{Db, class};

/// A parsed XTRIM.
#[derive(Clone, Debug, PartialEq)]
pub struct XTrim {
    pub key: Bytes,
    pub trim: Trim,
}

pub fn parse(a: &[Bytes]) -> ParseResult<Command> {
    let p = parse_add_trim(a, false)?;
    let Some(trim) = p.trim else {
        return Err(Frame::static_error(crate::error::SYNTAX));
    };
    Ok(cmd(StreamCommand::Trim(Box::new(XTrim {
        key: a[1].clone(),
        trim,
    }))))
}

impl XTrim {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(None) => return Frame::Integer(0),
            Ok(Some(s)) => s,
        };
        let n = s.trim(&self.trim);
        if n > 0 {
            db.notify(class::STREAM, "xtrim", &self.key);
        }
        Frame::Integer(n as i64)
    }
}
