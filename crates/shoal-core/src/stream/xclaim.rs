//! XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms] [RETRYCOUNT n]
//! [FORCE] [JUSTID] [LASTID id]; XAUTOCLAIM key group consumer min-idle-time start
//! [COUNT n] [JUSTID].
//!
//! Both are writes: they move pending entries between consumers, bump delivery counts,
//! and (7.0) drop PEL entries whose stream entry was deleted.

use bytes::Bytes;
use shoal_resp::Frame;

use super::id::{StreamId, parse_id_generic, parse_range_start, parse_strict_id};
use super::types::Group;
use super::{StreamCommand, c_str, cmd, entry_frame_by_id, write_stream};
use crate::args::{ParseResult, is, parse_i64_strict};
use crate::command::{Command, Ctx};
use crate::db::{Db, class};
use crate::error;

/// IDLE (relative to now) or TIME (absolute), as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryTime {
    Idle(i64),
    Time(i64),
}

/// XCLAIM's arguments after the consumer name.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimArgs {
    pub min_idle: i64,
    pub ids: Vec<StreamId>,
    pub delivery: Option<DeliveryTime>,
    pub retry_count: Option<i64>,
    pub force: bool,
    pub justid: bool,
    pub last_id: StreamId,
}

/// A parsed XCLAIM. Redis checks the key and group before the other arguments, so their
/// parse error is kept to be reported after those checks.
#[derive(Clone, Debug, PartialEq)]
pub struct XClaim {
    pub key: Bytes,
    pub group: Bytes,
    pub consumer: Bytes,
    pub args: Result<ClaimArgs, Frame>,
}

fn int_or(b: &[u8], msg: &'static str) -> Result<i64, Frame> {
    parse_i64_strict(b).ok_or_else(|| Frame::static_error(msg))
}

fn parse_claim_args(a: &[Bytes]) -> Result<ClaimArgs, Frame> {
    let min_idle = int_or(&a[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < a.len() {
        match parse_id_generic(&a[j], 0, true, false) {
            Some(p) => ids.push(p.id),
            None => break,
        }
        j += 1;
    }
    let mut args = ClaimArgs {
        min_idle,
        ids,
        delivery: None,
        retry_count: None,
        force: false,
        justid: false,
        last_id: StreamId::MIN,
    };
    while j < a.len() {
        let more = a.len() - 1 - j;
        let opt = &a[j];
        if is(opt, "force") {
            args.force = true;
        } else if is(opt, "justid") {
            args.justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            args.delivery = Some(DeliveryTime::Idle(int_or(
                &a[j],
                "ERR Invalid IDLE option argument for XCLAIM",
            )?));
        } else if is(opt, "time") && more > 0 {
            j += 1;
            args.delivery = Some(DeliveryTime::Time(int_or(
                &a[j],
                "ERR Invalid TIME option argument for XCLAIM",
            )?));
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            args.retry_count = Some(int_or(
                &a[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            args.last_id = parse_strict_id(&a[j])?;
        } else {
            return Err(Frame::error(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                c_str(opt)
            )));
        }
        j += 1;
    }
    Ok(args)
}

pub fn parse_claim(a: &[Bytes]) -> ParseResult<Command> {
    Ok(cmd(StreamCommand::Claim(Box::new(XClaim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        args: parse_claim_args(a),
    }))))
}

fn nogroup(key: &[u8], group: &[u8]) -> Frame {
    Frame::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        c_str(key),
        c_str(group)
    ))
}

/// Makes sure `name` exists in `g` (first claim only), refreshing its seen time.
fn claimer(g: &mut Group, name: &Bytes, now: i64, created: &mut bool) {
    if g.ensure_consumer(name, now) {
        *created = true;
    }
    if let Some(c) = g.consumers.get_mut(name) {
        c.seen_time = now;
        c.active_time = now;
    }
}

impl XClaim {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms as i64;
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(s) => s,
        };
        let Some(s) = s.filter(|s| s.groups.contains_key(&self.group)) else {
            return nogroup(&self.key, &self.group);
        };
        let args = match self.args {
            Ok(a) => a,
            Err(e) => return e,
        };
        let Some(mut g) = s.groups.remove(&self.group) else {
            return nogroup(&self.key, &self.group);
        };
        if args.last_id > g.last_id {
            g.last_id = args.last_id;
        }
        let delivery_time = match args.delivery {
            None => now,
            Some(d) => {
                let t = match d {
                    DeliveryTime::Idle(idle) => now.wrapping_sub(idle),
                    DeliveryTime::Time(t) => t,
                };
                if t < 0 || t > now { now } else { t }
            }
        };
        let mut created = false;
        let mut out = Vec::new();
        for id in args.ids {
            let exists = s.contains(id);
            if !exists {
                // The entry is gone: so is its pending entry (7.0).
                g.ack(id);
                continue;
            }
            let pending = g.pel.get(&id).cloned();
            // FORCE makes a NACK (delivery count 1) for an entry nobody had pending.
            let count = match pending {
                Some(n) => {
                    if args.min_idle > 0 && now.wrapping_sub(n.delivery_time) < args.min_idle {
                        continue;
                    }
                    n.delivery_count
                }
                None if args.force => 1,
                None => continue,
            };
            claimer(&mut g, &self.consumer, now, &mut created);
            let count = match args.retry_count {
                Some(r) if r >= 0 => r as u64,
                _ if !args.justid => count.wrapping_add(1),
                _ => count,
            };
            g.assign(id, &self.consumer, delivery_time, count);
            if args.justid {
                out.push(id.frame());
            } else {
                out.push(entry_frame_by_id(s, id).unwrap_or(Frame::NullArray));
            }
        }
        s.groups.insert(self.group.clone(), g);
        if created {
            db.notify(class::STREAM, "xgroup-createconsumer", &self.key);
        }
        Frame::Array(out)
    }
}

/// A parsed XAUTOCLAIM.
#[derive(Clone, Debug, PartialEq)]
pub struct XAutoClaim {
    pub key: Bytes,
    pub group: Bytes,
    pub consumer: Bytes,
    pub min_idle: i64,
    pub start: StreamId,
    pub count: u64,
    pub justid: bool,
}

/// COUNT's upper bound: LONG_MAX / max(sizeof(streamID), attempts factor 10).
const AUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;

pub fn parse_autoclaim(a: &[Bytes]) -> ParseResult<Command> {
    let min_idle = int_or(&a[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = parse_range_start(&a[5])?;
    let mut count = 100;
    let mut justid = false;
    let mut j = 6;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(&a[j], "count") && more > 0 {
            count = match parse_i64_strict(&a[j + 1]) {
                Some(c) if (1..=AUTOCLAIM_MAX_COUNT).contains(&c) => c as u64,
                _ => return Err(Frame::static_error("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if is(&a[j], "justid") {
            justid = true;
        } else {
            return Err(Frame::static_error(error::SYNTAX));
        }
        j += 1;
    }
    Ok(cmd(StreamCommand::AutoClaim(Box::new(XAutoClaim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        min_idle,
        start,
        count,
        justid,
    }))))
}

impl XAutoClaim {
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Frame {
        let now = ctx.now_ms as i64;
        let s = match write_stream(db, &self.key, ctx.now_ms) {
            Err(e) => return e,
            Ok(s) => s,
        };
        let Some(s) = s.filter(|s| s.groups.contains_key(&self.group)) else {
            return nogroup(&self.key, &self.group);
        };
        let Some(mut g) = s.groups.remove(&self.group) else {
            return nogroup(&self.key, &self.group);
        };
        let mut attempts = self.count.saturating_mul(10);
        let mut count = self.count;
        let mut created = false;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut cursor = self.start;
        let mut next: Option<StreamId> = None;
        loop {
            let Some((&id, n)) = g.pel.range(cursor..).next() else {
                next = None;
                break;
            };
            if attempts == 0 || count == 0 {
                next = Some(id);
                break;
            }
            attempts -= 1;
            let (delivery_count, last) = (n.delivery_count, n.delivery_time);
            cursor = match id.incr() {
                Some(c) => c,
                None => {
                    // The very last possible ID: nothing can follow it.
                    self.claim_one(
                        s,
                        &mut g,
                        id,
                        delivery_count,
                        last,
                        now,
                        &mut created,
                        &mut claimed,
                        &mut deleted,
                        &mut count,
                    );
                    break;
                }
            };
            self.claim_one(
                s,
                &mut g,
                id,
                delivery_count,
                last,
                now,
                &mut created,
                &mut claimed,
                &mut deleted,
                &mut count,
            );
        }
        s.groups.insert(self.group.clone(), g);
        if created {
            db.notify(class::STREAM, "xgroup-createconsumer", &self.key);
        }
        Frame::Array(vec![
            next.unwrap_or(StreamId::MIN).frame(),
            Frame::Array(claimed),
            Frame::Array(deleted.into_iter().map(StreamId::frame).collect()),
        ])
    }

    #[allow(clippy::too_many_arguments)]
    fn claim_one(
        &self,
        s: &super::Stream,
        g: &mut Group,
        id: StreamId,
        delivery_count: u64,
        last_delivery: i64,
        now: i64,
        created: &mut bool,
        claimed: &mut Vec<Frame>,
        deleted: &mut Vec<StreamId>,
        count: &mut u64,
    ) {
        if !s.contains(id) {
            g.ack(id);
            deleted.push(id);
            *count -= 1;
            return;
        }
        if self.min_idle > 0 && now.wrapping_sub(last_delivery) < self.min_idle {
            return;
        }
        claimer(g, &self.consumer, now, created);
        let dc = if self.justid {
            delivery_count
        } else {
            delivery_count.wrapping_add(1)
        };
        g.assign(id, &self.consumer, now, dc);
        claimed.push(if self.justid {
            id.frame()
        } else {
            entry_frame_by_id(s, id).unwrap_or(Frame::NullArray)
        });
        *count -= 1;
    }
}
