//! INFO, with Redis's section and field names so monitoring tools and client feature
//! detection (redis_version) work unchanged.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use shoal_core::args::is;
use shoal_resp::Frame;

use super::connection::{REDIS_VERSION, verbatim};
use crate::connection::Session;
use crate::state::{Shared, lock};

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];

pub fn info(s: &mut Session, args: &[Bytes]) -> Frame {
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT);
    }
    for a in &args[1..] {
        if is(a, "all") || is(a, "default") || is(a, "everything") {
            wanted.extend(DEFAULT);
        } else if let Some(sec) = DEFAULT.iter().find(|d| is(a, d)) {
            wanted.push(sec);
        }
    }
    let mut out = String::new();
    for sec in DEFAULT.iter().filter(|d| wanted.contains(d)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(&s.shared, sec, &mut out);
    }
    verbatim(s, out)
}

/// Resident set size in bytes, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn cpu_seconds() -> (f64, f64) {
    // utime and stime are fields 14 and 15 of /proc/self/stat, in clock ticks (100/s).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(11), tick(12))
}

/// `host:port` → (host, port).
pub fn split_addr(addr: &str) -> (String, u16) {
    match addr.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(0)),
        None => (addr.to_string(), 0),
    }
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    }
}

fn section(sh: &Shared, name: &str, out: &mut String) {
    let st = &sh.stats;
    let ld = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let pubsub = if name == "stats" {
        sh.pubsub.stats()
    } else {
        (0, 0, 0)
    };
    let _ = match name {
        "server" => {
            let up = sh.started.elapsed().as_secs();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            write!(
                out,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nshoal_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:cluster\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{up}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nexecutable:{}\r\nconfig_file:{}\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                sh.run_id,
                sh.config.port,
                now.as_micros(),
                up / 86400,
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                sh.config
                    .config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            )
        }
        "clients" => write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
            lock(&sh.clients).len(),
            sh.runtime().maxclients,
            st.blocked_clients.load(Ordering::Relaxed),
        ),
        "memory" => {
            let rss = rss_bytes();
            write!(
                out,
                "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{rss}\r\nused_memory_peak_human:{}\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\nmem_allocator:libc\r\n",
                human(rss),
                human(rss),
                human(rss),
            )
        }
        "persistence" => write!(
            out,
            "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_last_write_status:ok\r\nshoal_durability:raft\r\nshoal_fsync:{}\r\nshoal_data_dir:{}\r\n",
            sh.config.fsync,
            sh.config.data_dir.display()
        ),
        "stats" => write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:0\r\nkeyspace_misses:0\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\ntotal_error_replies:{}\r\nclient_output_buffer_limit_disconnections:{}\r\n",
            ld(&st.total_connections),
            ld(&st.total_commands),
            ld(&st.net_input_bytes),
            ld(&st.net_output_bytes),
            ld(&st.rejected_connections),
            ld(&st.expired_keys),
            pubsub.0,
            pubsub.1,
            pubsub.2,
            ld(&st.total_error_replies),
            // Redis 7.2's name; 7.0 has no such field.
            ld(&sh.pubsub.disconnections),
        ),
        "replication" => {
            let leader = sh.shard.leader();
            let me = sh.node_id_num;
            let followers: Vec<_> = sh
                .shard
                .members()
                .into_iter()
                .filter(|(id, _)| *id != me)
                .collect();
            let offset = sh
                .shard
                .node
                .applied_index(sh.shard.group)
                .ok()
                .flatten()
                .unwrap_or(0);
            match leader {
                Some((id, _)) if id == me => {
                    let _ = write!(
                        out,
                        "# Replication\r\nrole:master\r\nconnected_slaves:{}\r\n",
                        followers.len()
                    );
                    for (i, (_, n)) in followers.iter().enumerate() {
                        let (host, port) = split_addr(&n.client_addr);
                        let _ = write!(
                            out,
                            "slave{i}:ip={host},port={port},state=online,offset={offset},lag=0\r\n"
                        );
                    }
                }
                other => {
                    let (host, port) = other
                        .as_ref()
                        .map(|(_, n)| split_addr(&n.client_addr))
                        .unwrap_or_default();
                    let _ = write!(
                        out,
                        "# Replication\r\nrole:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\nslave_repl_offset:{offset}\r\nslave_read_only:1\r\nconnected_slaves:0\r\n",
                        if other.is_some() { "up" } else { "down" }
                    );
                }
            }
            write!(
                out,
                "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_repl_offset:{offset}\r\nshoal_raft_term:{}\r\n",
                sh.run_id,
                sh.shard.term()
            )
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            write!(
                out,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n"
            )
        }
        "cluster" => write!(out, "# Cluster\r\ncluster_enabled:1\r\n"),
        "keyspace" => {
            let (keys, expires) = sh.shard.with_db(|db| (db.len(), db.expires_len()));
            if keys > 0 {
                write!(
                    out,
                    "# Keyspace\r\ndb0:keys={keys},expires={expires},avg_ttl=0\r\n"
                )
            } else {
                write!(out, "# Keyspace\r\n")
            }
        }
        _ => Ok(()),
    };
}
