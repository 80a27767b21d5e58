//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB ..., and
//! keyspace notifications. The registry is `shoal_pubsub::Registry` in [`Shared`].
//!
//! A single node owns every slot, so shard channels are served locally; the command
//! table gives SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH their channels as key positions, so
//! CROSSSLOT applies to them as in Redis Cluster.

use bytes::{BufMut, Bytes, BytesMut};
use shoal_core::db::KeyEvent;
use shoal_pubsub::Kind;
use shoal_resp::Frame;

use super::connection::help;
use crate::connection::Session;
use crate::state::Shared;

/// The commands that answer with one reply per channel (RESP3: pushes).
pub fn kind_of(name: &str) -> Option<(Kind, bool)> {
    Some(match name {
        "subscribe" => (Kind::Channel, true),
        "psubscribe" => (Kind::Pattern, true),
        "ssubscribe" => (Kind::Shard, true),
        "unsubscribe" => (Kind::Channel, false),
        "punsubscribe" => (Kind::Pattern, false),
        "sunsubscribe" => (Kind::Shard, false),
        _ => return None,
    })
}

/// Commands a RESP2 client may send while subscribed (Redis 7.0's list).
pub fn allowed_in_subscribe_mode(name: &str) -> bool {
    kind_of(name).is_some() || matches!(name, "ping" | "quit" | "reset")
}

/// The error for any other command in RESP2 subscribe mode.
pub fn subscribe_mode_error(full_name: &str) -> Frame {
    Frame::error(format!(
        "ERR Can't execute '{full_name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

/// (P|S)(UN)SUBSCRIBE: one confirmation per channel, each with the running count.
pub fn subscription(s: &mut Session, kind: Kind, subscribe: bool, args: &[Bytes]) -> Vec<Frame> {
    let shared = s.shared.clone();
    let reg = &shared.pubsub;
    let names = &args[1..];
    let confirmations = if subscribe {
        // Messages published before this subscription go out before its confirmation.
        s.stash_pushes();
        reg.subscribe(kind, s.info.id, &s.outbox, names)
    } else {
        let c = reg.unsubscribe(kind, s.info.id, names);
        // Messages of the channels just left were queued before the confirmation.
        s.stash_pushes();
        c
    };
    s.subs = reg.client_counts(s.info.id).total();
    let what = Bytes::from_static(if subscribe {
        kind.subscribe_name()
    } else {
        kind.unsubscribe_name()
    });
    confirmations
        .into_iter()
        .map(|(name, count)| {
            Frame::Push(vec![
                Frame::Bulk(what.clone()),
                name.map_or(Frame::Null, Frame::Bulk),
                Frame::Integer(count as i64),
            ])
        })
        .collect()
}

/// PING in RESP2 subscribe mode: `["pong", <arg or "">]`.
pub fn ping_subscribed(args: &[Bytes]) -> Frame {
    match args.len() {
        1 | 2 => Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"pong")),
            Frame::Bulk(args.get(1).cloned().unwrap_or_default()),
        ]),
        _ => Frame::error(shoal_core::error::wrong_arity("ping")),
    }
}

/// RESET: leaves every subscription without confirmations, as Redis.
pub fn reset(s: &mut Session) {
    s.shared.pubsub.remove_client(s.info.id);
    s.subs = 0;
    s.stash_pushes();
    s.outbox.set_resp3(false);
}

pub fn publish(s: &Session, args: &[Bytes]) -> Frame {
    Frame::Integer(s.shared.pubsub.publish(&args[1], &args[2]) as i64)
}

pub fn spublish(s: &Session, args: &[Bytes]) -> Frame {
    Frame::Integer(s.shared.pubsub.spublish(&args[1], &args[2]) as i64)
}

/// PUBSUB <subcommand>.
pub fn pubsub(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    let reg = &s.shared.pubsub;
    match name {
        "pubsub|channels" | "pubsub|shardchannels" => {
            if args.len() > 3 {
                return Frame::error(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                    shoal_core::table::truncate_lossy(&args[1], 128)
                ));
            }
            let kind = if name == "pubsub|channels" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let list = reg.channels(kind, args.get(2).map(|p| &p[..]));
            Frame::Array(list.into_iter().map(Frame::Bulk).collect())
        }
        "pubsub|numsub" | "pubsub|shardnumsub" => {
            let kind = if name == "pubsub|numsub" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let names = &args[2..];
            let counts = reg.numsub(kind, names);
            let mut out = Vec::with_capacity(names.len() * 2);
            for (n, c) in names.iter().zip(counts) {
                out.push(Frame::Bulk(n.clone()));
                out.push(Frame::Integer(c as i64));
            }
            Frame::Array(out)
        }
        "pubsub|numpat" => Frame::Integer(reg.numpat() as i64),
        "pubsub|help" => help(&[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ]),
        _ => shoal_core::table::unknown_command(args),
    }
}

fn channel(prefix: &[u8], name: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(prefix.len() + name.len());
    b.put_slice(prefix);
    b.put_slice(name);
    b.freeze()
}

/// Publishes keyspace events as Redis's notifyKeyspaceEvent: `__keyspace@0__:<key>`
/// with the event as message (K), then `__keyevent@0__:<event>` with the key (E).
/// Called with the shard lock held, so events reach subscribers in write order.
pub fn publish_key_events(shared: &Shared, events: Vec<KeyEvent>) {
    if events.is_empty() || !shared.pubsub.has_subscribers() {
        return;
    }
    let (k, e) = {
        let rt = shared.runtime.read().unwrap_or_else(|e| e.into_inner());
        (rt.notify_keyspace, rt.notify_keyevent)
    };
    for ev in events {
        let event = Bytes::from_static(ev.event.as_bytes());
        if k {
            let ch = channel(b"__keyspace@0__:", &ev.key);
            shared.pubsub.publish(&ch, &event);
        }
        if e {
            let ch = channel(b"__keyevent@0__:", ev.event.as_bytes());
            shared.pubsub.publish(&ch, &ev.key);
        }
    }
}
