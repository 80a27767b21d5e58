//! Configuration: command-line flags (named after redis-server's settings where one
//! exists) and an optional TOML file. Flags given on the command line win over the file.

use std::path::PathBuf;

use clap::Parser;
use serde::Deserialize;
use shoal_pubsub::BufferLimit;

/// Shoal: a Redis-protocol message broker whose writes are replicated before they are
/// acknowledged.
#[derive(Parser, Debug, Clone, Default)]
#[command(name = "shoal", version, about)]
pub struct Cli {
    /// TOML configuration file (keys named like the long flags, e.g. `port = 6379`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Client port (RESP).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<String>,
    /// Password required of clients (AUTH / HELLO AUTH), as Redis's requirepass.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Directory for persistent data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address announced to clients in CLUSTER SLOTS / MOVED (default: the bind address).
    #[arg(long)]
    pub announce_ip: Option<String>,
    /// Port announced to clients (default: the client port).
    #[arg(long)]
    pub announce_port: Option<u16>,
    /// Maximum number of connected clients.
    #[arg(long)]
    pub maxclients: Option<usize>,
    /// Largest bulk string a client may send (bytes).
    #[arg(long)]
    pub proto_max_bulk_len: Option<usize>,
    /// Keyspace notification classes, as Redis's notify-keyspace-events (e.g. "KEA").
    #[arg(long)]
    pub notify_keyspace_events: Option<String>,
    /// Output buffer limits per client class, as Redis's client-output-buffer-limit
    /// (e.g. "pubsub 32mb 8mb 60": a subscriber over 32 MB, or over 8 MB for more than
    /// 60 s, is disconnected).
    #[arg(long)]
    pub client_output_buffer_limit: Option<String>,
    /// Log filter (tracing's EnvFilter syntax, e.g. "info" or "shoal_server=debug";
    /// default "info,openraft=warn").
    #[arg(long)]
    pub log_level: Option<String>,
    /// This node's id in the cluster (a positive integer, stable across restarts).
    #[arg(long)]
    pub node_id: Option<u64>,
    /// Cluster-bus (gRPC) port for Raft traffic between nodes (default: port + 10000).
    #[arg(long)]
    pub cluster_port: Option<u16>,
    /// Address the cluster bus announces to peers (default: the announce IP).
    #[arg(long)]
    pub cluster_announce_ip: Option<String>,
    /// The cluster's first membership, the same on every node:
    /// `1=host:cport,2=host:cport,3=host:cport`. A member's client address (what MOVED
    /// and CLUSTER SLOTS tell clients) is host:(cport − 10000) unless given as
    /// `id=host:cport@port` or `id=host:cport@clienthost:port`. Default: this node alone.
    #[arg(long)]
    pub initial_cluster: Option<String>,
    /// When Raft log appends reach the disk: `always` (default: nothing acknowledged is
    /// lost even if every node crashes at once), `everysec`, `no` (tests/benchmarks only).
    #[arg(long)]
    pub fsync: Option<String>,
    /// Raft log entries between two snapshots of the keyspace (default 10000). After a
    /// snapshot the log is compacted, keeping a tenth of this (at most 16 entries) for
    /// followers that lag a little; one that lags more catches up by snapshot install.
    #[arg(long)]
    pub snapshot_entries: Option<u64>,
    /// Threads serving clients, Raft and the keyspace (Redis's `io-threads`; default 1).
    /// One thread spares every request the cross-thread wakeups between connection,
    /// proposer, Raft core and state machine tasks, which cost more than the parallelism
    /// gained on a small machine (benchmarks on 2 cores: SET -P 1 +30%). Raise it on a
    /// many-core host with many connections. Disk flushes and snapshots run on their
    /// own threads either way.
    #[arg(long)]
    pub io_threads: Option<usize>,
}

/// The file form: the same settings, all optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    port: Option<u16>,
    bind: Option<String>,
    requirepass: Option<String>,
    data_dir: Option<PathBuf>,
    announce_ip: Option<String>,
    announce_port: Option<u16>,
    maxclients: Option<usize>,
    proto_max_bulk_len: Option<usize>,
    notify_keyspace_events: Option<String>,
    client_output_buffer_limit: Option<String>,
    log_level: Option<String>,
    node_id: Option<u64>,
    cluster_port: Option<u16>,
    cluster_announce_ip: Option<String>,
    initial_cluster: Option<String>,
    fsync: Option<String>,
    snapshot_entries: Option<u64>,
    io_threads: Option<usize>,
}

/// A member of the initial cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    /// Clients' address (`host:port`).
    pub client_addr: String,
    /// Cluster-bus address (`host:cport`).
    pub cluster_addr: String,
}

/// Parses `1=host:cport[@port],2=...`.
pub fn parse_initial_cluster(s: &str) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}': expected id=host:port"))?;
        let id: u64 = id
            .trim()
            .parse()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| format!("'{part}': node id must be a positive integer"))?;
        // `host:cport`, `host:cport@port` or `host:cport@clienthost:port`.
        let (cluster, client) = match addr.split_once('@') {
            Some((c, p)) => (c, Some(p)),
            None => (addr, None),
        };
        let (host, cport) = cluster
            .rsplit_once(':')
            .ok_or_else(|| format!("'{part}': expected host:port"))?;
        let cport: u16 = cport
            .parse()
            .map_err(|_| format!("'{part}': bad cluster port"))?;
        let client_addr = match client {
            Some(c) if c.contains(':') => {
                let (h, p) = c.rsplit_once(':').unwrap_or((c, ""));
                let p: u16 = p
                    .parse()
                    .map_err(|_| format!("'{part}': bad client port"))?;
                format!("{h}:{p}")
            }
            Some(p) => {
                let p: u16 = p
                    .parse()
                    .map_err(|_| format!("'{part}': bad client port"))?;
                format!("{host}:{p}")
            }
            None => {
                let p = cport
                    .checked_sub(10000)
                    .ok_or_else(|| format!("'{part}': cluster port below 10000: give @port"))?;
                format!("{host}:{p}")
            }
        };
        if out.iter().any(|m: &Member| m.id == id) {
            return Err(format!("node id {id} appears twice"));
        }
        out.push(Member {
            id,
            client_addr,
            cluster_addr: format!("{host}:{cport}"),
        });
    }
    if out.is_empty() {
        return Err("empty".into());
    }
    Ok(out)
}

/// Parses `--fsync`.
pub fn parse_fsync(s: &str) -> Result<shoal_raft::FsyncPolicy, String> {
    match s.to_ascii_lowercase().as_str() {
        "always" => Ok(shoal_raft::FsyncPolicy::Always),
        "everysec" => Ok(shoal_raft::FsyncPolicy::EverySec),
        "no" => Ok(shoal_raft::FsyncPolicy::No),
        other => Err(format!("--fsync {other}: expected always, everysec or no")),
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: String,
    pub requirepass: Option<String>,
    pub data_dir: PathBuf,
    pub announce_ip: String,
    pub announce_port: u16,
    pub maxclients: usize,
    pub proto_max_bulk_len: usize,
    pub notify_keyspace_events: String,
    /// normal, replica, pubsub limits (only pubsub is enforced: other classes never
    /// queue pushed messages).
    pub client_output_buffer_limit: [BufferLimit; 3],
    pub log_level: String,
    pub config_file: Option<PathBuf>,
    pub node_id: u64,
    pub cluster_port: u16,
    pub initial_cluster: Vec<Member>,
    /// `always`, `everysec` or `no` (as given, for CONFIG GET / INFO).
    pub fsync: String,
    pub fsync_policy: shoal_raft::FsyncPolicy,
    /// Raft log entries between snapshots.
    pub snapshot_entries: u64,
    /// Tokio worker threads.
    pub io_threads: usize,
}

impl Config {
    /// Merges flags over the file over defaults.
    pub fn load(cli: Cli) -> Result<Config, String> {
        let file = match &cli.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("bad config {}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let port = cli.port.or(file.port).unwrap_or(6379);
        let bind = cli.bind.or(file.bind).unwrap_or_else(|| "127.0.0.1".into());
        let announce_ip =
            cli.announce_ip
                .or(file.announce_ip)
                .unwrap_or_else(|| match bind.as_str() {
                    "0.0.0.0" | "::" => "127.0.0.1".into(),
                    b => b.to_string(),
                });
        let mut client_output_buffer_limit = DEFAULT_OBUF_LIMITS;
        if let Some(v) = cli
            .client_output_buffer_limit
            .or(file.client_output_buffer_limit)
        {
            client_output_buffer_limit = parse_obuf_limits(&v, client_output_buffer_limit)
                .map_err(|e| format!("client-output-buffer-limit: {e}"))?;
        }
        let node_id = cli.node_id.or(file.node_id).unwrap_or(1);
        if node_id == 0 {
            return Err("--node-id must be positive".into());
        }
        let cluster_port = match cli.cluster_port.or(file.cluster_port) {
            Some(p) => p,
            None => port
                .checked_add(10000)
                .ok_or("--port above 55535 needs an explicit --cluster-port")?,
        };
        let announce_port = cli.announce_port.or(file.announce_port).unwrap_or(port);
        let cluster_announce_ip = cli
            .cluster_announce_ip
            .or(file.cluster_announce_ip)
            .unwrap_or_else(|| announce_ip.clone());
        let initial_cluster = match cli.initial_cluster.or(file.initial_cluster) {
            Some(s) => parse_initial_cluster(&s).map_err(|e| format!("--initial-cluster {e}"))?,
            None => vec![Member {
                id: node_id,
                client_addr: format!("{announce_ip}:{announce_port}"),
                cluster_addr: format!("{cluster_announce_ip}:{cluster_port}"),
            }],
        };
        if !initial_cluster.iter().any(|m| m.id == node_id) {
            return Err(format!(
                "--node-id {node_id} is not a member of --initial-cluster"
            ));
        }
        let fsync = cli
            .fsync
            .or(file.fsync)
            .unwrap_or_else(|| "always".into())
            .to_ascii_lowercase();
        let fsync_policy = parse_fsync(&fsync)?;
        let snapshot_entries = cli
            .snapshot_entries
            .or(file.snapshot_entries)
            .unwrap_or(10_000);
        if snapshot_entries < 10 {
            return Err("--snapshot-entries must be at least 10".into());
        }
        let io_threads = cli.io_threads.or(file.io_threads).unwrap_or(1);
        if !(1..=128).contains(&io_threads) {
            return Err("--io-threads must be between 1 and 128".into());
        }
        Ok(Config {
            io_threads,
            snapshot_entries,
            node_id,
            cluster_port,
            initial_cluster,
            fsync,
            fsync_policy,
            client_output_buffer_limit,
            port,
            announce_port,
            bind,
            announce_ip,
            requirepass: cli
                .requirepass
                .or(file.requirepass)
                .filter(|p| !p.is_empty()),
            data_dir: cli
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("shoal-data")),
            maxclients: cli.maxclients.or(file.maxclients).unwrap_or(10000),
            proto_max_bulk_len: cli
                .proto_max_bulk_len
                .or(file.proto_max_bulk_len)
                .unwrap_or(512 * 1024 * 1024),
            notify_keyspace_events: cli
                .notify_keyspace_events
                .or(file.notify_keyspace_events)
                .unwrap_or_default(),
            log_level: cli
                .log_level
                .or(file.log_level)
                // openraft logs every election step, vote and purge at info.
                .unwrap_or_else(|| "info,openraft=warn".into()),
            config_file: cli.config,
        })
    }
}

/// Parses Redis's notify-keyspace-events letters into core classes plus the K/E bits.
/// Returns None for an unknown letter (Redis: "Invalid event class character").
pub fn parse_notify_flags(s: &str) -> Option<(u16, bool, bool)> {
    use shoal_core::db::class::*;
    let (mut classes, mut k, mut e) = (0u16, false, false);
    for c in s.chars() {
        match c {
            'A' => {
                classes |= GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM
            }
            'g' => classes |= GENERIC,
            '$' => classes |= STRING,
            'l' => classes |= LIST,
            's' => classes |= SET,
            'h' => classes |= HASH,
            'z' => classes |= ZSET,
            'x' => classes |= EXPIRED,
            'e' => classes |= EVICTED,
            't' => classes |= STREAM,
            'm' => classes |= KEY_MISS,
            'n' => classes |= NEW,
            'K' => k = true,
            'E' => e = true,
            _ => return None,
        }
    }
    Some((classes, k, e))
}

/// Formats flags back the way CONFIG GET notify-keyspace-events shows them.
pub fn format_notify_flags(classes: u16, k: bool, e: bool) -> String {
    use shoal_core::db::class::*;
    let mut s = String::new();
    let all = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM;
    if classes & all == all {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
        ] {
            if classes & bit != 0 {
                s.push(c);
            }
        }
    }
    if k {
        s.push('K');
    }
    if e {
        s.push('E');
    }
    if classes & KEY_MISS != 0 {
        s.push('m');
    }
    if classes & NEW != 0 {
        s.push('n');
    }
    s
}

/// Redis's defaults: `normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60`.
pub const DEFAULT_OBUF_LIMITS: [BufferLimit; 3] = [
    BufferLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    },
    BufferLimit {
        hard: 256 * 1024 * 1024,
        soft: 64 * 1024 * 1024,
        soft_seconds: 60,
    },
    BufferLimit::PUBSUB_DEFAULT,
];

/// Redis's memtoull: a number with an optional unit (k=1000, kb=1024, m, mb, g, gb;
/// any case).
fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if num.is_empty() {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// Parses `<class> <hard> <soft> <seconds>` groups over `current`, with Redis's errors.
pub fn parse_obuf_limits(
    s: &str,
    current: [BufferLimit; 3],
) -> Result<[BufferLimit; 3], &'static str> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.");
    }
    let mut out = current;
    for g in words.chunks_exact(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration."),
        };
        let err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = parse_memory(g[1]).ok_or(err)?;
        let soft = parse_memory(g[2]).ok_or(err)?;
        let soft_seconds = g[3].parse::<u64>().map_err(|_| err)?;
        out[class] = BufferLimit {
            hard,
            soft,
            soft_seconds,
        };
    }
    Ok(out)
}

/// Formats limits as CONFIG GET shows them.
pub fn format_obuf_limits(l: &[BufferLimit; 3]) -> String {
    let mut s = String::new();
    for (name, x) in ["normal", "slave", "pubsub"].iter().zip(l) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("{name} {} {} {}", x.hard, x.soft, x.soft_seconds));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obuf_limits_parse_like_redis() {
        let l = parse_obuf_limits("pubsub 1k 1KB 1", DEFAULT_OBUF_LIMITS);
        assert_eq!(
            l.map(|l| format_obuf_limits(&l)),
            Ok("normal 0 0 0 slave 268435456 67108864 60 pubsub 1000 1024 1".into())
        );
        assert!(parse_obuf_limits("pubsub 1", DEFAULT_OBUF_LIMITS).is_err());
        assert!(parse_obuf_limits("foo 1 2 3", DEFAULT_OBUF_LIMITS).is_err());
        assert!(parse_obuf_limits("pubsub 1gb 2 -1", DEFAULT_OBUF_LIMITS).is_err());
        assert_eq!(
            parse_obuf_limits("", DEFAULT_OBUF_LIMITS),
            Ok(DEFAULT_OBUF_LIMITS)
        );
    }
}

#[cfg(test)]
mod initial_cluster_tests {
    use super::*;

    #[test]
    fn initial_cluster_forms() {
        let m = parse_initial_cluster("1=a:16379,2=b:17000@7001,3=c:16379@127.0.0.1:7103")
            .expect("parses");
        assert_eq!(m[0].client_addr, "a:6379");
        assert_eq!(m[0].cluster_addr, "a:16379");
        assert_eq!(m[1].client_addr, "b:7001");
        assert_eq!(m[2].client_addr, "127.0.0.1:7103");
        assert_eq!(m[2].cluster_addr, "c:16379");
        assert!(parse_initial_cluster("1=a:500").is_err());
        assert!(parse_initial_cluster("0=a:16379").is_err());
        assert!(parse_initial_cluster("1=a:16379,1=b:16379").is_err());
        assert!(parse_initial_cluster("x").is_err());
    }
}
