//! CLUSTER commands. Shoal is always a Redis Cluster as far as clients can tell: a single
//! node is a cluster of one owning slots 0-16383, so cluster-aware clients (redis-py
//! RedisCluster, redis-rs cluster, `redis-cli -c`) work against it unchanged.

use bytes::Bytes;
use shoal_core::args::parse_i64_strict;
use shoal_resp::Frame;
use shoal_slots::{SLOT_COUNT, key_slot};

use super::connection::{help, verbatim};
use crate::connection::Session;
use crate::state::lock;

fn parse_slot(b: &[u8]) -> Option<u16> {
    parse_i64_strict(b)
        .filter(|s| (0..i64::from(SLOT_COUNT)).contains(s))
        .map(|s| s as u16)
}

pub fn cluster(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    let sh = s.shared.clone();
    let ip = sh.config.announce_ip.clone();
    let port = sh.config.announce_port;
    let cport = u32::from(sh.config.port) + 10000;
    match name {
        "cluster|myid" => Frame::Bulk(Bytes::from(sh.node_id.clone())),
        "cluster|keyslot" => Frame::Integer(i64::from(key_slot(&args[2]))),
        "cluster|info" => verbatim(
            s,
            "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\ncluster_current_epoch:1\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
                .to_string(),
        ),
        "cluster|slots" => Frame::Array(vec![Frame::Array(vec![
            Frame::Integer(0),
            Frame::Integer(i64::from(SLOT_COUNT) - 1),
            Frame::Array(vec![
                Frame::Bulk(Bytes::from(ip)),
                Frame::Integer(i64::from(port)),
                Frame::Bulk(Bytes::from(sh.node_id.clone())),
                Frame::Array(vec![]),
            ]),
        ])]),
        "cluster|shards" => Frame::Array(vec![Frame::Map(vec![
            (
                Frame::bulk(b"slots"),
                Frame::Array(vec![
                    Frame::Integer(0),
                    Frame::Integer(i64::from(SLOT_COUNT) - 1),
                ]),
            ),
            (
                Frame::bulk(b"nodes"),
                Frame::Array(vec![Frame::Map(vec![
                    (Frame::bulk(b"id"), Frame::Bulk(Bytes::from(sh.node_id.clone()))),
                    (Frame::bulk(b"port"), Frame::Integer(i64::from(port))),
                    (Frame::bulk(b"ip"), Frame::Bulk(Bytes::from(ip.clone()))),
                    (Frame::bulk(b"endpoint"), Frame::Bulk(Bytes::from(ip))),
                    (Frame::bulk(b"role"), Frame::bulk(b"master")),
                    (Frame::bulk(b"replication-offset"), Frame::Integer(0)),
                    (Frame::bulk(b"health"), Frame::bulk(b"online")),
                ])]),
            ),
        ])]),
        "cluster|nodes" => verbatim(
            s,
            format!(
                "{} {ip}:{port}@{cport} myself,master - 0 0 1 connected 0-16383\n",
                sh.node_id
            ),
        ),
        "cluster|countkeysinslot" => match parse_slot(&args[2]) {
            Some(slot) => Frame::Integer(lock(&sh.shard).db.slot_len(slot) as i64),
            None => Frame::static_error("ERR Invalid slot"),
        },
        "cluster|getkeysinslot" => {
            let (Some(slot), Some(n)) = (parse_slot(&args[2]), parse_i64_strict(&args[3]))
            else {
                return Frame::static_error("ERR Invalid slot or number of keys");
            };
            if n < 0 {
                return Frame::static_error("ERR Invalid slot or number of keys");
            }
            let shard = lock(&sh.shard);
            Frame::Array(
                shard
                    .db
                    .slot_entries(slot)
                    .take(n as usize)
                    .map(|(k, _)| Frame::bulk(k))
                    .collect(),
            )
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
