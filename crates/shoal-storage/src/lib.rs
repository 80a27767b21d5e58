//! Shoal's durable storage for Raft: the log and vote store of every Raft
//! group a node runs, in one sled database, plus snapshot files.
//!
//! ```text
//! <data-dir>/raft.sled/       sled database: trees log/<group> and meta/<group>
//! <data-dir>/snapshots/       group-<group>.snap, see SnapshotFiles
//! ```
//!
//! Open one [`Storage`] per node, then one [`LogStore`] per Raft group with
//! [`Storage::log_store`]; hand the `LogStore` to `openraft::Raft::new`.
//!
//! Durability follows [`FsyncPolicy`]. With the default, `Always`, an append
//! is acknowledged to openraft only after it is on disk, and one flush serves
//! every append of every group buffered since the previous flush (group
//! commit, see the `flusher` module): durable and still fast under load.

mod codec;
mod flusher;
mod log_store;
mod snapshot_file;
mod worker;

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

pub use codec::decode;
pub use codec::encode;
pub use flusher::FlushStats;
pub use log_store::LogStore;
use openraft::RaftTypeConfig;
use openraft::type_config::alias::LogIdOf;
use serde::de::DeserializeOwned;
pub use snapshot_file::SnapshotFiles;

/// When appended Raft entries are forced to disk (`--fsync`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// An append is acknowledged only after an fsync that covers it; one
    /// fsync covers every group's appends since the last (group commit).
    /// Nothing acknowledged is lost even if every node crashes at once.
    #[default]
    Always,
    /// Appends are acknowledged once written; a timer fsyncs every second,
    /// like Redis `appendfsync everysec`. A simultaneous crash of a majority
    /// can lose up to about a second of acknowledged writes.
    EverySec,
    /// Never fsync explicitly (tests and benchmarks only).
    No,
}

impl FromStr for FsyncPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Ok(Self::Always),
            "everysec" => Ok(Self::EverySec),
            "no" => Ok(Self::No),
            other => Err(format!(
                "unknown fsync policy {other:?}: expected always, everysec or no"
            )),
        }
    }
}

/// A node's storage: one sled database shared by all of its Raft groups.
///
/// Cloning is cheap and shares the database and the flusher thread. The
/// flusher stops, after a final flush, when the last clone and the last
/// [`LogStore`] are dropped.
#[derive(Clone)]
pub struct Storage {
    db: sled::Db,
    flusher: flusher::Flusher,
    policy: FsyncPolicy,
    snapshots: SnapshotFiles,
    stats: Arc<FlushStats>,
    dir: PathBuf,
}

/// sled's segment size for a new log: 2 MiB (sled's default is 512 KiB).
///
/// sled writes anything over a quarter of a segment (a log entry, or a tree node holding
/// several) to a blob file of its own, created and later deleted: with 512 KiB segments
/// an entry of ~800 MSETs (~220 KiB) was a file each, and log nodes of XADD entries (~36
/// KiB each) became files as they filled. On ext4 that file churn was a quarter of the
/// server's CPU under MSET -P 16 and grew with the run (`scripts/ab.sh`, 3 rounds: MSET
/// 354-376k/s -> 457-475k/s; XADD -P 16 onto a stream growing to 6M entries, third 2M:
/// 789-808k/s -> 880-892k/s). The cost is a larger write buffer: 1M stream entries held
/// 24.2-25.3 MB of RSS, 28.4-28.7 MB with 2 MiB segments (Redis: 34.2).
pub const SEGMENT_SIZE: usize = 2 << 20;

/// The segment size to open `path` with: the one it was created with (sled refuses to
/// open a database with another; directories made before [`SEGMENT_SIZE`] was raised use
/// 512 KiB), else [`SEGMENT_SIZE`].
fn segment_size(path: &Path) -> usize {
    std::fs::read(path.join("conf"))
        .ok()
        .and_then(|conf| {
            let text = String::from_utf8_lossy(&conf).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix("segment_size: ")?.trim().parse().ok())
        })
        .unwrap_or(SEGMENT_SIZE)
}

impl Storage {
    /// Opens (or creates) the storage under `data_dir`.
    pub fn open(data_dir: &Path, policy: FsyncPolicy) -> io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let config = sled::Config::new()
            .path(data_dir.join("raft.sled"))
            // Only our flusher fsyncs, so that the policy is exactly what
            // --fsync says and the fsync count is measurable.
            .flush_every_ms(None)
            // The log is short (snapshots compact it), so a small page cache suffices;
            // sled's cache counts toward the node's resident memory.
            .cache_capacity(64 << 20)
            .segment_size(segment_size(&data_dir.join("raft.sled")));
        // sled releases its file lock only when its IO thread pool lets go of the
        // database, a moment after the last handle is dropped: an in-process reopen can
        // find it still held (seen 1 in 60 runs of the durability tests). Wait a little
        // for that; another process holding the directory still fails, after a second.
        let mut attempts = 0;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.kind() == io::ErrorKind::WouldBlock && attempts < 50 =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(io::Error::other(format!(
                        "open sled in {}: {e}",
                        data_dir.display()
                    )));
                }
            }
        };
        let stats = Arc::new(FlushStats::default());
        let flusher = flusher::Flusher::start(db.clone(), policy, stats.clone())?;
        let snapshots = SnapshotFiles::open(data_dir.join("snapshots"))?;
        Ok(Self {
            db,
            flusher,
            policy,
            snapshots,
            stats,
            dir: data_dir.to_path_buf(),
        })
    }

    /// The log and vote store of Raft group `group`, created if new.
    pub fn log_store<C>(&self, group: u64) -> io::Result<LogStore<C>>
    where
        C: RaftTypeConfig,
        LogIdOf<C>: DeserializeOwned,
    {
        let open = |name: String| {
            self.db
                .open_tree(name)
                .map_err(|e| io::Error::other(format!("sled: {e}")))
        };
        let log = open(format!("log/{group}"))?;
        let meta = open(format!("meta/{group}"))?;
        let store = LogStore::new(group, log, meta, self.flusher.clone(), self.policy);
        store.finish_interrupted_purge()?;
        Ok(store)
    }

    /// The groups that have a log in this database, in ascending order.
    pub fn groups(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .db
            .tree_names()
            .iter()
            .filter_map(|n| {
                std::str::from_utf8(n)
                    .ok()?
                    .strip_prefix("log/")?
                    .parse()
                    .ok()
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// The snapshot files of this node.
    pub fn snapshots(&self) -> &SnapshotFiles {
        &self.snapshots
    }

    /// The fsync policy this storage was opened with.
    pub fn policy(&self) -> FsyncPolicy {
        self.policy
    }

    /// Flush and append counters of the shared flusher.
    pub fn flush_stats(&self) -> &FlushStats {
        &self.stats
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Forces everything written so far to disk (blocking).
    pub fn flush(&self) -> io::Result<()> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| io::Error::other(format!("sled flush: {e}")))
    }
}
