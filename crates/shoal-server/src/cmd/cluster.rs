//! CLUSTER commands. Shoal is always a Redis Cluster as far as clients can tell: a single
//! node is a cluster of one owning slots 0-16383, so cluster-aware clients (redis-py
//! RedisCluster, redis-rs cluster, `redis-cli -c`) work against it unchanged.

use bytes::Bytes;
use shoal_core::args::parse_i64_strict;
use shoal_resp::Frame;
use shoal_slots::{SLOT_COUNT, key_slot};

use super::connection::{help, verbatim};
use super::info::split_addr;
use crate::connection::Session;
use crate::state::node_name;

fn parse_slot(b: &[u8]) -> Option<u16> {
    parse_i64_strict(b)
        .filter(|s| (0..i64::from(SLOT_COUNT)).contains(s))
        .map(|s| s as u16)
}

/// A cluster member as CLUSTER replies describe it.
struct Member {
    name: String,
    host: String,
    port: u16,
    cport: u16,
    master: bool,
    myself: bool,
}

/// The shard's members: the leader is the master, the others its replicas. With no
/// known leader, every member is reported as a replica and the cluster as failing.
fn members(s: &Session) -> (Vec<Member>, bool) {
    let sh = &s.shared;
    let leader = sh.shard.leader().map(|(id, _)| id);
    let mut out: Vec<Member> = sh
        .shard
        .members()
        .into_iter()
        .map(|(id, n)| {
            let (host, port) = split_addr(&n.client_addr);
            let (_, cport) = split_addr(&n.cluster_addr);
            Member {
                name: node_name(id),
                host,
                port,
                cport,
                master: Some(id) == leader,
                myself: id == sh.node_id_num,
            }
        })
        .collect();
    out.sort_by_key(|m| !m.master);
    (out, leader.is_some())
}

fn node_entry(m: &Member) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(m.host.clone())),
        Frame::Integer(i64::from(m.port)),
        Frame::Bulk(Bytes::from(m.name.clone())),
        Frame::Array(vec![]),
    ])
}

pub fn cluster(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    let sh = s.shared.clone();
    match name {
        "cluster|myid" => Frame::Bulk(Bytes::from(sh.node_id.clone())),
        "cluster|keyslot" => Frame::Integer(i64::from(key_slot(&args[2]))),
        "cluster|info" => {
            let (ms, ok) = members(s);
            let term = sh.shard.term();
            verbatim(
                s,
                format!(
                    "cluster_state:{}\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:{}\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:1\r\ncluster_current_epoch:{term}\r\ncluster_my_epoch:{term}\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
                    if ok { "ok" } else { "fail" },
                    if ok { 16384 } else { 0 },
                    if ok { 0 } else { 16384 },
                    ms.len(),
                ),
            )
        }
        "cluster|slots" => {
            let (ms, ok) = members(s);
            if !ok {
                return Frame::Array(vec![]);
            }
            let mut entry = vec![Frame::Integer(0), Frame::Integer(i64::from(SLOT_COUNT) - 1)];
            entry.extend(ms.iter().map(node_entry));
            Frame::Array(vec![Frame::Array(entry)])
        }
        "cluster|shards" => {
            let (ms, _) = members(s);
            let nodes = ms
                .iter()
                .map(|m| {
                    Frame::Map(vec![
                        (Frame::bulk(b"id"), Frame::Bulk(Bytes::from(m.name.clone()))),
                        (Frame::bulk(b"port"), Frame::Integer(i64::from(m.port))),
                        (Frame::bulk(b"ip"), Frame::Bulk(Bytes::from(m.host.clone()))),
                        (
                            Frame::bulk(b"endpoint"),
                            Frame::Bulk(Bytes::from(m.host.clone())),
                        ),
                        (
                            Frame::bulk(b"role"),
                            Frame::bulk(if m.master { b"master" } else { b"replica" }),
                        ),
                        (Frame::bulk(b"replication-offset"), Frame::Integer(0)),
                        (Frame::bulk(b"health"), Frame::bulk(b"online")),
                    ])
                })
                .collect();
            Frame::Array(vec![Frame::Map(vec![
                (
                    Frame::bulk(b"slots"),
                    Frame::Array(vec![
                        Frame::Integer(0),
                        Frame::Integer(i64::from(SLOT_COUNT) - 1),
                    ]),
                ),
                (Frame::bulk(b"nodes"), Frame::Array(nodes)),
            ])])
        }
        "cluster|nodes" => {
            let (ms, _) = members(s);
            let master = ms.iter().find(|m| m.master).map(|m| m.name.clone());
            let mut text = String::new();
            for m in &ms {
                let mut flags = String::new();
                if m.myself {
                    flags.push_str("myself,");
                }
                flags.push_str(if m.master { "master" } else { "slave" });
                let (of, slots) = if m.master {
                    ("-".to_string(), " 0-16383")
                } else {
                    (master.clone().unwrap_or_else(|| "-".into()), "")
                };
                text.push_str(&format!(
                    "{} {}:{}@{} {flags} {of} 0 0 1 connected{slots}\n",
                    m.name, m.host, m.port, m.cport
                ));
            }
            verbatim(s, text)
        }
        "cluster|countkeysinslot" => match parse_slot(&args[2]) {
            Some(slot) => Frame::Integer(sh.shard.with_db(|db| db.slot_len(slot)) as i64),
            None => Frame::static_error("ERR Invalid slot"),
        },
        "cluster|getkeysinslot" => {
            let (Some(slot), Some(n)) = (parse_slot(&args[2]), parse_i64_strict(&args[3])) else {
                return Frame::static_error("ERR Invalid slot or number of keys");
            };
            if n < 0 {
                return Frame::static_error("ERR Invalid slot or number of keys");
            }
            Frame::Array(sh.shard.with_db(|db| {
                db.slot_entries(slot)
                    .take(n as usize)
                    .map(|(k, _)| Frame::bulk(k))
                    .collect()
            }))
        }
        "cluster|help" => help(&[
            "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "INFO",
            "    Return information about the cluster.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
            "MYID",
            "    Return the node id.",
            "NODES",
            "    Return cluster configuration seen by node.",
            "SHARDS",
            "    Return information about slot range mappings and the nodes associated with them.",
            "SLOTS",
            "    Return information about slots range mappings. Each range is made of:",
            "    start, end, master and replicas IP addresses, ports and ids",
            "HELP",
            "    Print this help.",
        ]),
        _ => shoal_core::table::unknown_command(args),
    }
}
