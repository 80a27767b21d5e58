//! Commands the server executes itself (the core's table marks them with no parser).
//! One module per group: `connection` (PING, HELLO, AUTH, CLIENT, ...), `info`, `config`,
//! `command` (COMMAND and its subcommands), `cluster` (CLUSTER ... for Shoal's topology).

pub mod cluster;
pub mod command;
pub mod config;
pub mod connection;
pub mod info;

use bytes::Bytes;
use shoal_resp::Frame;

use crate::connection::{Multi, Session};

/// Executes the server command `name` (`client|setname` for subcommands).
pub fn execute(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    match name {
        "ping" => connection::ping(s, args),
        "echo" => Frame::Bulk(args[1].clone()),
        "hello" => connection::hello(s, args),
        "auth" => connection::auth(s, args),
        "quit" => {
            s.close = true;
            Frame::ok()
        }
        "reset" => connection::reset(s),
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
        _ => shoal_core::table::unknown_command(args),
    }
}
