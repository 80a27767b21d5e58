//! The openraft log store and vote store of one Raft group.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::marker::PhantomData;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::sync::Mutex;

use openraft::LogState;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::RaftTypeConfig;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;
use openraft::type_config::alias::LogIdOf;
use openraft::type_config::alias::VoteOf;
use openraft::type_config::async_runtime::OneshotSender;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::FsyncPolicy;
use crate::codec;
use crate::flusher::Flusher;
use crate::worker::Worker;

const VOTE: &[u8] = b"vote";
const LAST_PURGED: &[u8] = b"last_purged";
const COMMITTED: &[u8] = b"committed";

/// The Raft log and vote of one group.
///
/// Entries live in the sled tree `log/<group>` under big-endian `u64` index
/// keys (so sled's key order is log order); the vote, the last purged log id
/// and the committed log id live in `meta/<group>`. Values use the versioned,
/// checksummed encoding of [`crate::codec`].
///
/// Durability: [`append`](RaftLogStorage::append) completes openraft's
/// callback according to the node's [`FsyncPolicy`]; with `Always` only after
/// the shared flusher has fsynced (group commit across all groups).
/// [`save_vote`](RaftLogStorage::save_vote) returns only once the vote is on
/// disk (except under `FsyncPolicy::No`).
///
/// Cloning is cheap and yields a handle on the same trees; it also serves as
/// openraft's log reader.
pub struct LogStore<C: RaftTypeConfig> {
    group: u64,
    log: sled::Tree,
    meta: sled::Tree,
    flusher: Flusher,
    policy: FsyncPolicy,
    recent: Arc<Mutex<Recent<C>>>,
    purger: Purger,
    /// Where `append` encodes entries (sled copies the bytes): one buffer for the store's
    /// life, where a fresh one grew by doubling for every entry.
    scratch: Vec<u8>,
    _c: PhantomData<fn() -> C>,
}

impl<C: RaftTypeConfig> Clone for LogStore<C> {
    fn clone(&self) -> Self {
        Self {
            group: self.group,
            log: self.log.clone(),
            meta: self.meta.clone(),
            flusher: self.flusher.clone(),
            policy: self.policy,
            recent: self.recent.clone(),
            purger: self.purger.clone(),
            scratch: Vec::new(),
            _c: PhantomData,
        }
    }
}

/// Deletes purged entries from sled on a thread of its own.
///
/// openraft runs `purge` on the same path as `append`, and deleting the thousands of
/// entries a snapshot makes redundant took sled 15–150 ms: every write waited that long
/// (the p99 of replicated writes). Here `purge` only records the new purge point and
/// returns; the thread deletes key by key (no `Batch`: sled applies a batch under a
/// tree-wide write lock, which would stall appends all the same). Requests coalesce to
/// the highest index. Nothing reads below the purge point, and a crash before the
/// deletion finishes leaves entries that `finish_interrupted_purge` removes at start.
/// Dropping the last handle stops the thread and waits for it ([`Worker`]), so that the
/// database is closed (and its lock released) when the store is gone.
#[derive(Clone)]
struct Purger {
    /// None if the thread could not start: entries then stay until the next start.
    worker: Option<Arc<Worker<u64>>>,
    /// The lowest index not purged: reads skip what the thread has yet to delete.
    first_kept: Arc<std::sync::atomic::AtomicU64>,
}

impl Purger {
    fn start(group: u64, log: sled::Tree) -> Purger {
        let spawned = Worker::<u64>::spawn(format!("shoal-purge-{group}"), move |rx| {
            while let Ok(mut upto) = rx.recv() {
                while let Ok(next) = rx.try_recv() {
                    upto = upto.max(next);
                }
                if let Err(e) = remove_each(&log, ..=key(upto)) {
                    tracing::warn!(group, upto, "purging the log failed: {e}");
                }
            }
        });
        let worker = match spawned {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::warn!(group, "cannot start the log purge thread: {e}");
                None
            }
        };
        Purger {
            worker,
            first_kept: Arc::default(),
        }
    }

    /// Asks for every entry at or below `upto` to be deleted.
    fn purge(&self, upto: u64) {
        self.first_kept
            .fetch_max(upto.saturating_add(1), std::sync::atomic::Ordering::Release);
        if let Some(w) = &self.worker {
            let _ = w.send(upto);
        }
    }

    fn first_kept(&self) -> u64 {
        self.first_kept.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Removes every log key in `range`, one key at a time.
fn remove_each(log: &sled::Tree, range: impl RangeBounds<[u8; 8]>) -> io::Result<()> {
    for k in log.range(range).keys() {
        log.remove(k.map_err(sled_err)?).map_err(sled_err)?;
    }
    Ok(())
}

/// The most `append` keeps of its encoding buffer after a big entry.
const SCRATCH_KEEP: usize = 128 << 10;

/// Bytes of encoded entries kept in [`Recent`].
const RECENT_BYTES: usize = 8 << 20;

/// The appended entries not yet applied, in memory. The leader reads every entry right
/// after appending it to replicate it, and the state machine reads it once committed;
/// serving those reads from here spares a sled lookup and a decode (which copies every
/// command) per read. Bounded by [`RECENT_BYTES`] of their encoding; kept consistent
/// with the log by `append`, `truncate_after` and `purge`; applied entries are dropped
/// ([`LogStore::applied_callback`]).
struct Recent<C: RaftTypeConfig> {
    /// (index, entry, encoded size), consecutive indexes.
    entries: VecDeque<(u64, C::Entry, usize)>,
    bytes: usize,
}

impl<C: RaftTypeConfig> Recent<C> {
    fn push(&mut self, index: u64, entry: C::Entry, size: usize) {
        if let Some(&(last, ..)) = self.entries.back() {
            if index <= last {
                // An overwrite: openraft truncates first, but never serve a stale entry.
                self.truncate_after(index.checked_sub(1));
            } else if last.checked_add(1) != Some(index) {
                self.truncate_after(None);
            }
        }
        self.entries.push_back((index, entry, size));
        self.bytes += size;
        while self.bytes > RECENT_BYTES {
            match self.entries.pop_front() {
                Some((.., n)) => self.bytes -= n,
                None => break,
            }
        }
    }

    /// Drops entries with an index above `last` (`None`: all).
    fn truncate_after(&mut self, last: Option<u64>) {
        while let Some((i, _, n)) = self.entries.back() {
            if last.is_some_and(|l| *i <= l) {
                break;
            }
            self.bytes -= *n;
            self.entries.pop_back();
        }
    }

    /// Drops entries with an index at or below `upto`.
    fn purge(&mut self, upto: u64) {
        while let Some((i, _, n)) = self.entries.front() {
            if *i > upto {
                break;
            }
            self.bytes -= *n;
            self.entries.pop_front();
        }
    }

    /// The entries `[start, end)` if all of them are here.
    fn get(&self, start: u64, end: u64) -> Option<Vec<C::Entry>>
    where
        C::Entry: Clone,
    {
        let first = self.entries.front()?.0;
        let last = self.entries.back()?.0;
        if start < first || end > last.checked_add(1)? || start >= end {
            return None;
        }
        let from = usize::try_from(start - first).ok()?;
        let n = usize::try_from(end - start).ok()?;
        Some(
            self.entries
                .range(from..from + n)
                .map(|(_, e, _)| e.clone())
                .collect(),
        )
    }
}

fn sled_err(e: sled::Error) -> io::Error {
    match e {
        sled::Error::Io(e) => e,
        other => io::Error::other(format!("sled: {other}")),
    }
}

fn key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn index_of(k: &[u8]) -> io::Result<u64> {
    let arr: [u8; 8] = k.try_into().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("log key of {} bytes", k.len()),
        )
    })?;
    Ok(u64::from_be_bytes(arr))
}

impl<C: RaftTypeConfig> LogStore<C> {
    pub(crate) fn new(
        group: u64,
        log: sled::Tree,
        meta: sled::Tree,
        flusher: Flusher,
        policy: FsyncPolicy,
    ) -> Self {
        Self {
            group,
            purger: Purger::start(group, log.clone()),
            log,
            meta,
            flusher,
            policy,
            recent: Arc::new(Mutex::new(Recent {
                entries: VecDeque::new(),
                bytes: 0,
            })),
            scratch: Vec::new(),
            _c: PhantomData,
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent<C>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A callback for the state machine: "entries up to this index are applied". The
    /// in-memory copies of applied entries are dropped then, because their commands
    /// borrow (zero-copy) the read buffers of the connections that sent them, and
    /// keeping them would pin those buffers. Later reads (a lagging follower) use sled.
    pub fn applied_callback(&self) -> Arc<dyn Fn(u64) + Send + Sync>
    where
        C::Entry: Send,
    {
        let recent = self.recent.clone();
        Arc::new(move |index| {
            recent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .purge(index)
        })
    }

    /// The Raft group this store belongs to.
    pub fn group(&self) -> u64 {
        self.group
    }

    fn get_meta<T: DeserializeOwned>(&self, k: &[u8]) -> io::Result<Option<T>> {
        match self.meta.get(k).map_err(sled_err)? {
            None => Ok(None),
            Some(v) => codec::decode(&v).map(Some),
        }
    }

    fn put_meta<T: Serialize>(&self, k: &[u8], v: &T) -> io::Result<()> {
        self.meta.insert(k, codec::encode(v)?).map_err(sled_err)?;
        Ok(())
    }

    /// Removes entries at or below the recorded purge point: left over when
    /// a crash hit between writing `last_purged` and removing the entries.
    pub(crate) fn finish_interrupted_purge(&self) -> io::Result<()>
    where
        LogIdOf<C>: DeserializeOwned,
        C: RaftTypeConfig,
    {
        if let Some(p) = self.get_meta::<LogIdOf<C>>(LAST_PURGED)? {
            self.remove_range(..=key(p.index()))?;
        }
        Ok(())
    }

    /// Removes every log key in `range` with one atomic batch.
    fn remove_range(&self, range: impl RangeBounds<[u8; 8]>) -> io::Result<()> {
        let mut batch = sled::Batch::default();
        for kv in self.log.range(range) {
            let (k, _) = kv.map_err(sled_err)?;
            batch.remove(k);
        }
        self.log.apply_batch(batch).map_err(sled_err)
    }
}

impl<C> RaftLogReader<C> for LogStore<C>
where
    C: RaftTypeConfig,
    C::Entry: Serialize + DeserializeOwned + Clone,
    VoteOf<C>: Serialize + DeserializeOwned,
    LogIdOf<C>: Serialize + DeserializeOwned,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        let start = match range.start_bound() {
            Bound::Included(i) => Bound::Included(key(*i)),
            Bound::Excluded(i) => match i.checked_add(1) {
                Some(i) => Bound::Included(key(i)),
                None => return Ok(Vec::new()),
            },
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(i) => Bound::Included(key(*i)),
            Bound::Excluded(i) => Bound::Excluded(key(*i)),
            Bound::Unbounded => Bound::Unbounded,
        };
        if let (Bound::Included(s), Bound::Excluded(e)) = (&start, &end)
            && s >= e
        {
            return Ok(Vec::new());
        }
        if let (Bound::Included(s), Bound::Included(e) | Bound::Excluded(e)) = (&start, &end) {
            let s = u64::from_be_bytes(*s);
            let mut e = u64::from_be_bytes(*e);
            if matches!(end, Bound::Included(_)) {
                e = e.saturating_add(1);
            }
            if let Some(hit) = self.recent().get(s, e) {
                return Ok(hit);
            }
        }
        let mut out = Vec::new();
        let first_kept = self.purger.first_kept();
        for kv in self.log.range((start, end)) {
            let (k, v) = kv.map_err(sled_err)?;
            let index = index_of(&k)?;
            if index < first_kept {
                continue;
            }
            let entry: C::Entry = codec::decode(&v)?;
            if entry.index() != index {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "group {}: entry at key {index} has index {}",
                        self.group,
                        entry.index()
                    ),
                ));
            }
            out.push(entry);
        }
        Ok(out)
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        self.get_meta(VOTE)
    }
}

impl<C> RaftLogStorage<C> for LogStore<C>
where
    C: RaftTypeConfig,
    C::Entry: Serialize + DeserializeOwned + Clone,
    VoteOf<C>: Serialize + DeserializeOwned,
    LogIdOf<C>: Serialize + DeserializeOwned,
{
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let last_purged_log_id: Option<LogIdOf<C>> = self.get_meta(LAST_PURGED)?;
        let last = match self.log.last().map_err(sled_err)? {
            Some((_, v)) => Some(codec::decode::<C::Entry>(&v)?.log_id()),
            None => None,
        };
        // The purge thread may not have deleted everything below the purge point yet.
        let last_log_id = std::cmp::max(last, last_purged_log_id.clone());
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        self.put_meta(VOTE, vote)?;
        if self.policy == FsyncPolicy::No {
            return Ok(());
        }
        // Durable under EverySec too: a forgotten vote can elect two leaders
        // in one term, which no fsync policy may trade for speed.
        let (tx, rx) = C::oneshot();
        self.flusher.after_flush(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        rx.await
            .map_err(|_| io::Error::other("storage flusher dropped the vote flush"))?
    }

    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        // Not flushed: losing it only means re-applying from an older point. Written
        // every time (a sled insert per entry): a node restarted without a quorum serves
        // READONLY reads of everything up to it, so it must not lag.
        self.put_meta(COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        Ok(self.get_meta::<Option<LogIdOf<C>>>(COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        // Plain inserts, not a sled Batch: sled 0.34 seals and writes its IO buffer twice
        // per `apply_batch` (a thread handoff and a write each time), which dominated the
        // append path. Atomicity across entries is not needed: sled recovers a prefix of
        // one thread's operations, a prefix of an append is a valid Raft log, and nothing
        // is acknowledged before the flush that covers all of it.
        for entry in entries {
            let index = entry.index();
            codec::encode_into(&mut self.scratch, &entry)?;
            let size = self.scratch.len();
            self.log
                .insert(key(index), &self.scratch[..])
                .map_err(sled_err)?;
            self.recent().push(index, entry, size);
        }
        if self.scratch.capacity() > SCRATCH_KEEP {
            self.scratch = Vec::new();
        }
        match self.policy {
            FsyncPolicy::Always => self
                .flusher
                .after_flush(Box::new(move |r| callback.io_completed(r))),
            FsyncPolicy::EverySec | FsyncPolicy::No => callback.io_completed(Ok(())),
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        self.recent()
            .truncate_after(last_log_id.as_ref().map(|l| l.index()));
        match last_log_id {
            None => self.remove_range(..),
            Some(id) => match id.index().checked_add(1) {
                Some(from) => self.remove_range(key(from)..),
                None => Ok(()),
            },
        }
    }

    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        // last_purged first: after a crash in between, the log state still
        // reports the purge point and the leftover entries are below it.
        self.put_meta(LAST_PURGED, &log_id)?;
        self.recent().purge(log_id.index());
        self.purger.purge(log_id.index());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    openraft::declare_raft_types!(Cfg: D = String, R = String);

    fn entry(i: u64) -> <Cfg as RaftTypeConfig>::Entry {
        let log_id = openraft::testing::log_id::<Cfg>(1, 0, i);
        RaftEntry::new_normal(log_id, format!("e{i}"))
    }

    fn indexes(r: &Recent<Cfg>, s: u64, e: u64) -> Option<Vec<u64>> {
        r.get(s, e).map(|v| v.iter().map(|e| e.index()).collect())
    }

    #[test]
    fn recent_entries_follow_appends_truncations_and_purges() {
        let mut r = Recent::<Cfg> {
            entries: VecDeque::new(),
            bytes: 0,
        };
        for i in 1..=5 {
            r.push(i, entry(i), 10);
        }
        assert_eq!(indexes(&r, 2, 5), Some(vec![2, 3, 4]));
        assert_eq!(indexes(&r, 0, 3), None, "index 0 is not here");
        assert_eq!(indexes(&r, 4, 7), None, "6 is not here");
        // An overwrite from index 4 drops 4 and 5.
        r.push(4, entry(4), 10);
        assert_eq!(indexes(&r, 1, 5), Some(vec![1, 2, 3, 4]));
        assert_eq!(indexes(&r, 5, 6), None);
        r.truncate_after(Some(2));
        assert_eq!(indexes(&r, 1, 3), Some(vec![1, 2]));
        assert_eq!(r.bytes, 20);
        r.purge(1);
        assert_eq!(indexes(&r, 1, 3), None);
        assert_eq!(indexes(&r, 2, 3), Some(vec![2]));
        // A gap forgets everything before it.
        r.push(9, entry(9), 10);
        assert_eq!(indexes(&r, 2, 3), None);
        assert_eq!(indexes(&r, 9, 10), Some(vec![9]));
        // The byte bound evicts the oldest.
        r.push(10, entry(10), RECENT_BYTES);
        assert_eq!(indexes(&r, 9, 10), None);
        assert_eq!(indexes(&r, 10, 11), Some(vec![10]));
    }

    /// `purge` returns before the entries are gone from sled; until the purge thread has
    /// deleted them, reads and the log state must behave as if they were.
    #[tokio::test]
    async fn purged_entries_are_invisible_at_once_and_deleted_in_the_background() {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("temporary sled");
        let flusher = Flusher::start(db.clone(), FsyncPolicy::No, Arc::default()).expect("flusher");
        let log = db.open_tree("log").expect("tree");
        let meta = db.open_tree("meta").expect("tree");
        let mut store = LogStore::<Cfg>::new(7, log.clone(), meta, flusher, FsyncPolicy::No);
        for i in 1..=2000 {
            let v = codec::encode(&entry(i)).expect("encode");
            log.insert(key(i), v).expect("insert");
        }
        store
            .purge(openraft::testing::log_id::<Cfg>(1, 0, 1500))
            .await
            .expect("purge");
        let got: Vec<u64> = store
            .try_get_log_entries(0..=2000)
            .await
            .expect("read")
            .iter()
            .map(|e| e.index())
            .collect();
        assert_eq!(got, (1501..=2000).collect::<Vec<_>>());
        let state = store.get_log_state().await.expect("state");
        assert_eq!(state.last_purged_log_id.map(|l| l.index()), Some(1500));
        assert_eq!(state.last_log_id.map(|l| l.index()), Some(2000));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let first = log
                .first()
                .expect("first")
                .map(|(k, _)| index_of(&k).expect("key"));
            if first == Some(1501) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still at {first:?}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(log.len(), 500);
    }
}
