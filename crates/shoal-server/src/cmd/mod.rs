//! Commands the server executes itself (the core's table marks them with no parser).
//! One module per group: `connection` (PING, HELLO, AUTH, CLIENT, ...), `info`, `config`,
//! `command` (COMMAND and its subcommands), `cluster` (CLUSTER ... for Shoal's topology),
//! `pubsub` (SUBSCRIBE and friends, PUBLISH, PUBSUB, keyspace notifications).

pub mod cluster;
pub mod command;
pub mod config;
pub mod connection;
pub mod info;
pub mod pubsub;

use bytes::Bytes;
use shoal_resp::Frame;

use crate::connection::{Multi, Session};

/// Executes the server command `name`, which may answer with several replies (one
/// confirmation per channel for the (P|S)(UN)SUBSCRIBE family).
pub fn execute_many(s: &mut Session, name: &str, args: &[Bytes]) -> Vec<Frame> {
    match pubsub::kind_of(name) {
        Some((kind, subscribe)) => pubsub::subscription(s, kind, subscribe, args),
        None => vec![execute(s, name, args)],
    }
}

/// Executes the server command `name` (`client|setname` for subcommands).
pub fn execute(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    match name {
        "ping" if s.subs > 0 && !s.resp3() => pubsub::ping_subscribed(args),
        "ping" => connection::ping(s, args),
        "echo" => Frame::Bulk(args[1].clone()),
        "hello" => {
            let reply = connection::hello(s, args);
            s.outbox.set_resp3(s.resp3());
            reply
        }
        "publish" => pubsub::publish(s, args),
        "spublish" => pubsub::spublish(s, args),
        "auth" => connection::auth(s, args),
        "quit" => {
            s.close = true;
            Frame::ok()
        }
        "reset" => {
            pubsub::reset(s);
            connection::reset(s)
        }
        "select" => connection::select(args),
        "time" => connection::time(),
        "readonly" => {
            s.readonly = true;
            Frame::ok()
        }
        "readwrite" => {
            s.readonly = false;
            Frame::ok()
        }
        "multi" => {
            if s.multi.is_some() {
                return Frame::static_error("ERR MULTI calls can not be nested");
            }
            s.multi = Some(Multi::default());
            s.info
                .in_multi
                .store(1, std::sync::atomic::Ordering::Relaxed);
            Frame::ok()
        }
        "exec" => match s.multi.take() {
            None => Frame::static_error("ERR EXEC without MULTI"),
            Some(m) => {
                s.info
                    .in_multi
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                s.exec(m)
            }
        },
        "discard" => match s.multi.take() {
            None => Frame::static_error("ERR DISCARD without MULTI"),
            Some(_) => {
                s.info
                    .in_multi
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                Frame::ok()
            }
        },
        "info" => info::info(s, args),
        _ if name.starts_with("client") => connection::client(s, name, args),
        _ if name.starts_with("config") => config::config(s, name, args),
        _ if name.starts_with("command") => command::command(s, name, args),
        _ if name.starts_with("cluster") => cluster::cluster(s, name, args),
        _ if name.starts_with("pubsub|") => pubsub::pubsub(s, name, args),
        _ => shoal_core::table::unknown_command(args),
    }
}
