//! CONFIG GET / SET / RESETSTAT / HELP over the settings Shoal has.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use shoal_core::glob;
use shoal_resp::Frame;

use super::connection::help;
use crate::config::{
    format_notify_flags, format_obuf_limits, parse_notify_flags, parse_obuf_limits,
};
use crate::connection::Session;
use crate::state::Shared;

/// Every parameter CONFIG GET knows, with whether CONFIG SET may change it.
const PARAMS: &[(&str, bool)] = &[
    ("port", false),
    ("bind", false),
    ("requirepass", true),
    ("maxclients", true),
    ("timeout", false),
    ("proto-max-bulk-len", false),
    ("notify-keyspace-events", true),
    ("save", false),
    ("appendonly", false),
    ("appendfsync", false),
    ("cluster-enabled", false),
    ("databases", false),
    ("maxmemory", false),
    ("maxmemory-policy", false),
    ("dir", false),
    ("dbfilename", false),
    ("client-output-buffer-limit", true),
    ("hz", false),
    ("tcp-keepalive", false),
    ("cluster-announce-ip", false),
    ("cluster-announce-port", false),
    ("io-threads", false),
];

fn get(sh: &Shared, name: &str) -> String {
    let rt = sh.runtime();
    let c = &sh.config;
    match name {
        "port" => c.port.to_string(),
        "bind" => c.bind.clone(),
        "requirepass" => rt.requirepass.clone().unwrap_or_default(),
        "maxclients" => rt.maxclients.to_string(),
        "timeout" => "0".into(),
        "proto-max-bulk-len" => c.proto_max_bulk_len.to_string(),
        "notify-keyspace-events" => {
            let classes = sh.shard.with_db(|db| db.notify_classes);
            format_notify_flags(classes, rt.notify_keyspace, rt.notify_keyevent)
        }
        "save" => String::new(),
        "appendonly" => "no".into(),
        "appendfsync" => "everysec".into(),
        "cluster-enabled" => "yes".into(),
        "databases" => "1".into(),
        "maxmemory" => "0".into(),
        "maxmemory-policy" => "noeviction".into(),
        "dir" => std::fs::canonicalize(&c.data_dir)
            .unwrap_or_else(|_| c.data_dir.clone())
            .display()
            .to_string(),
        "dbfilename" => "dump.rdb".into(),
        "client-output-buffer-limit" => format_obuf_limits(&rt.obuf_limits),
        "hz" => "10".into(),
        "tcp-keepalive" => "300".into(),
        "cluster-announce-ip" => c.announce_ip.clone(),
        "cluster-announce-port" => c.announce_port.to_string(),
        "io-threads" => c.io_threads.to_string(),
        _ => String::new(),
    }
}

fn set(sh: &Shared, name: &str, value: &[u8]) -> Result<(), String> {
    let v = String::from_utf8_lossy(value).into_owned();
    let mut rt = sh.runtime.write().unwrap_or_else(|e| e.into_inner());
    match name {
        "requirepass" => rt.requirepass = if v.is_empty() { None } else { Some(v) },
        "maxclients" => {
            rt.maxclients = v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or("argument couldn't be parsed into an integer")?
        }
        "notify-keyspace-events" => {
            let (classes, k, e) = parse_notify_flags(&v)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmd'.")?;
            rt.notify_keyspace = k;
            rt.notify_keyevent = e;
            // Events are only worth building when they will be published somewhere.
            let classes = if k || e { classes } else { 0 };
            sh.shard.with_db(|db| db.notify_classes = classes);
        }
        "client-output-buffer-limit" => {
            rt.obuf_limits = parse_obuf_limits(&v, rt.obuf_limits)?;
            // Only the pubsub class ever queues pushed messages.
            sh.pubsub.set_limit(rt.obuf_limits[2]);
        }
        _ => return Err("can't set immutable config".into()),
    }
    Ok(())
}

pub fn config(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    let sh = s.shared.clone();
    match name {
        "config|get" => {
            let mut pairs = Vec::new();
            let mut seen = Vec::new();
            for pat in &args[2..] {
                let pat = pat.to_ascii_lowercase();
                for (p, _) in PARAMS {
                    if !seen.contains(p) && glob::matches(&pat, p.as_bytes()) {
                        seen.push(*p);
                        pairs.push((
                            Frame::bulk(p.as_bytes()),
                            Frame::Bulk(Bytes::from(get(&sh, p))),
                        ));
                    }
                }
            }
            Frame::Map(pairs)
        }
        "config|set" => {
            if !args.len().is_multiple_of(2) {
                return Frame::error(shoal_core::error::wrong_arity("config|set"));
            }
            // Validate every name first so a bad one changes nothing.
            for pair in args[2..].chunks_exact(2) {
                let n = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                if !PARAMS.iter().any(|(p, _)| *p == n) {
                    return Frame::error(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        shoal_core::table::truncate_lossy(&pair[0], 128)
                    ));
                }
            }
            for pair in args[2..].chunks_exact(2) {
                let n = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                if let Err(e) = set(&sh, &n, &pair[1]) {
                    return Frame::error(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{n}') - {e}"
                    ));
                }
            }
            Frame::ok()
        }
        "config|resetstat" => {
            let st = &sh.stats;
            for c in [
                &st.total_commands,
                &st.total_connections,
                &st.rejected_connections,
                &st.net_input_bytes,
                &st.net_output_bytes,
                &st.expired_keys,
                &st.total_error_replies,
            ] {
                c.store(0, Ordering::Relaxed);
            }
            sh.pubsub.disconnections.store(0, Ordering::Relaxed);
            Frame::ok()
        }
        "config|help" => help(&[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Print this help.",
        ]),
        _ => shoal_core::table::unknown_command(args),
    }
}
