//! The state machine of one shard: a `shoal_core::Db` that changes only by
//! applying committed entries.

use std::io;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

use bytes::Bytes;
use bytes::BytesMut;
use futures_util::Stream;
use futures_util::StreamExt;
use openraft::EntryPayload;
use openraft::RaftSnapshotBuilder;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use openraft::type_config::alias::LogIdOf;
use openraft::type_config::alias::SnapshotMetaOf;
use openraft::type_config::alias::SnapshotOf;
use openraft::type_config::alias::StoredMembershipOf;
use serde::Deserialize;
use serde::Serialize;
use shoal_core::Ctx;
use shoal_core::Db;
use shoal_core::Parsed;
use shoal_core::Reply;
use shoal_core::db::Effects;
use shoal_resp::Frame;
use shoal_resp::Protocol;
use shoal_storage::SnapshotFiles;
use tokio::sync::broadcast;

use crate::types::Batch;
use crate::types::BatchReply;
use crate::types::CommandReply;
use crate::types::GroupId;
use crate::types::TypeConfig;

type Snapshot = SnapshotOf<TypeConfig, Bytes>;
type SnapshotMeta = SnapshotMetaOf<TypeConfig>;

/// What the state machine of a group shares with the node (reads, effects).
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Effects (ready keys, keyspace events) of applied entries, in order.
    pub(crate) effects: broadcast::Sender<Effects>,
    /// Bytes of commands applied since the last snapshot was started: entries carry
    /// batches of any size, so the log's length in entries says little about its size.
    pub(crate) applied_bytes: std::sync::atomic::AtomicU64,
    /// Size of the last snapshot built or installed: the log may grow to about this
    /// much before the next one, so snapshot work stays proportional to writes.
    pub(crate) snapshot_bytes: std::sync::atomic::AtomicU64,
    /// Serializes writing the snapshot file with updating `current`, so that the file
    /// always holds the snapshot `current` describes.
    save: Mutex<()>,
}

struct State {
    db: Db,
    last_applied: Option<LogIdOf<TypeConfig>>,
    membership: StoredMembershipOf<TypeConfig>,
    /// The metadata of the snapshot in the snapshot file. Its data stays on disk until a
    /// lagging follower needs it: holding it would double the keyspace's memory.
    current: Option<SnapshotMeta>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while applying leaves no half-applied entry visible to
        // openraft (it stops the group); reading the data is still safe.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the keyspace.
    pub(crate) fn with_db<T>(&self, f: impl FnOnce(&mut Db) -> T) -> T {
        f(&mut self.lock().db)
    }

    pub(crate) fn last_applied_index(&self) -> Option<u64> {
        self.lock().last_applied.map(|l| l.index)
    }
}

/// The snapshot file's content: openraft's metadata and the keyspace
/// encoded by `Db::encode_snapshot` (itself versioned and CRC-checked).
#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    meta: SnapshotMeta,
    data: Bytes,
}

/// openraft's state machine for one group.
pub struct StateMachine {
    group: GroupId,
    shared: Arc<Shared>,
    files: SnapshotFiles,
    /// Told the last index of every applied run (the log store drops its in-memory
    /// copies of applied entries).
    on_applied: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl StateMachine {
    /// Opens the state machine of `group`, starting from its last saved
    /// snapshot if there is one (openraft then re-applies the committed log
    /// after it). A damaged snapshot file is an error: its log is purged, so
    /// starting empty would silently lose data.
    pub(crate) fn open(group: GroupId, files: SnapshotFiles) -> io::Result<Self> {
        let mut snapshot_bytes = 0;
        let mut state = State {
            db: Db::new(),
            last_applied: None,
            membership: StoredMembershipOf::<TypeConfig>::default(),
            current: None,
        };
        if let Some(bytes) = files.load(group)? {
            let file: SnapshotFile = shoal_storage::decode(&bytes)?;
            state.db = decode_db(&file.data)?;
            state.last_applied = file.meta.last_log_id;
            state.membership = file.meta.last_membership.clone();
            snapshot_bytes = file.data.len() as u64;
            state.current = Some(file.meta);
        }
        let (effects, _) = broadcast::channel(1024);
        Ok(Self {
            group,
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                effects,
                applied_bytes: std::sync::atomic::AtomicU64::new(0),
                snapshot_bytes: std::sync::atomic::AtomicU64::new(snapshot_bytes),
                save: Mutex::new(()),
            }),
            files,
            on_applied: None,
        })
    }

    /// Registers what to call with the last index of each applied run of entries.
    pub(crate) fn on_applied(&mut self, f: Arc<dyn Fn(u64) + Send + Sync>) {
        self.on_applied = Some(f);
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }
}

fn decode_db(data: &[u8]) -> io::Result<Db> {
    Db::decode_snapshot(data)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("snapshot: {e:?}")))
}

fn protocol(ctx: &shoal_core::Ctx) -> Protocol {
    if ctx.resp3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    }
}

/// Applies one command and appends its encoded reply (for the client's protocol) to
/// `out`, if given; a blocking command that must wait reports what to wait for instead.
fn apply_one(
    db: &mut Db,
    args: &mut [Bytes],
    ctx: &Ctx,
    out: Option<&mut BytesMut>,
) -> Option<CommandReply> {
    // Taken: the arguments are decoded afresh for the next command.
    let frame = match shoal_core::parse_take(args) {
        Err(f) => f,
        Ok(Parsed::Keyspace(_, cmd)) => {
            let reply = cmd.apply(db, ctx);
            return out.and_then(|out| encode_reply(reply, ctx, out));
        }
        Ok(Parsed::Server(_, name)) => Frame::Error(Bytes::from(format!(
            "ERR '{name}' is not a keyspace command and cannot be replicated"
        ))),
    };
    if let Some(out) = out {
        shoal_resp::encode(&frame, protocol(ctx), out);
    }
    None
}

/// Encodes a command's reply into `out`, or reports what a blocked command waits for.
fn encode_reply(reply: Reply, ctx: &Ctx, out: &mut BytesMut) -> Option<CommandReply> {
    let frame = match reply {
        Reply::Frame(f) => f,
        Reply::Block(b) => {
            let mut timeout = BytesMut::new();
            shoal_resp::encode(&b.timeout_reply, protocol(ctx), &mut timeout);
            return Some(CommandReply::Blocked {
                keys: b.keys,
                deadline_ms: b.deadline_ms,
                timeout_reply: timeout.freeze(),
                retry_args: b.retry_args,
            });
        }
    };
    shoal_resp::encode(&frame, protocol(ctx), out);
    None
}

/// Applies a batch. Every reply is encoded into one buffer ([`BatchReply`]): one
/// allocation per entry instead of one per command. With `answer` false (an entry no
/// client waits for: a follower's, or one replayed at start) nothing is encoded: the
/// keyspace changes the same either way, and encoding was ~2 % of a follower's CPU.
fn apply_batch(db: &mut Db, batch: &Batch, answer: bool) -> BatchReply {
    let room = if answer { batch.len() } else { 0 };
    let mut out = BytesMut::with_capacity(room * 8);
    // Per command, where its reply ends in `out`; the blocked ones aside.
    let mut ends = Vec::with_capacity(room);
    let mut blocked_at = Vec::new();
    let mut commands = batch.commands();
    let mut args = Vec::new();
    // On the leader that built the batch, the commands its connections parsed already:
    // one slot per command, part by part (taken in step with `commands`).
    let mut parsed = batch.take_parsed().unwrap_or_default();
    let mut parts = parsed.iter_mut();
    let mut slots = [].iter_mut();
    loop {
        let slot = loop {
            match slots.next() {
                Some(s) => break Some(s),
                None => match parts.next() {
                    Some(p) => slots = p.iter_mut(),
                    None => break None,
                },
            }
        };
        let blocked = match slot.and_then(Option::take) {
            Some(command) => {
                let Some(ctx) = commands.skip_next() else {
                    break;
                };
                let reply = command.apply(db, &ctx);
                if !answer {
                    continue;
                }
                encode_reply(reply, &ctx, &mut out)
            }
            None => {
                let Some(ctx) = commands.next_into(&mut args) else {
                    break;
                };
                let blocked = apply_one(db, &mut args, &ctx, answer.then_some(&mut out));
                if !answer {
                    continue;
                }
                blocked
            }
        };
        if let Some(blocked) = blocked {
            blocked_at.push((ends.len(), blocked));
        }
        ends.push(out.len());
    }
    BatchReply::new(out.freeze(), ends, blocked_at)
}

/// Builds a snapshot from a copy of the keyspace taken between two applies,
/// so that encoding does not hold up the write path.
pub struct SnapshotBuilder {
    group: GroupId,
    db: Db,
    meta: SnapshotMeta,
    shared: Arc<Shared>,
    files: SnapshotFiles,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Bytes;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let db = std::mem::take(&mut self.db);
        let meta = self.meta.clone();
        let files = self.files.clone();
        let group = self.group;
        let shared = self.shared.clone();
        let snapshot = tokio::task::spawn_blocking(move || -> io::Result<Snapshot> {
            let data = Bytes::from(db.encode_snapshot());
            drop(db);
            shared
                .snapshot_bytes
                .store(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
            let file = SnapshotFile { meta, data };
            let _saving = shared.save.lock().unwrap_or_else(|p| p.into_inner());
            let newer = match &shared.lock().current {
                Some(c) => c.last_log_id < file.meta.last_log_id,
                None => true,
            };
            if newer {
                files.save(group, &shoal_storage::encode(&file)?)?;
                shared.lock().current = Some(file.meta.clone());
            }
            Ok(Snapshot {
                meta: file.meta,
                snapshot: file.data,
            })
        })
        .await
        .map_err(io::Error::other)??;
        tracing::info!(
            group,
            index = snapshot.meta.last_log_id.map(|l| l.index),
            bytes = snapshot.snapshot.len(),
            "built snapshot"
        );
        Ok(snapshot)
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = Bytes;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<TypeConfig>>, StoredMembershipOf<TypeConfig>), io::Error> {
        let st = self.shared.lock();
        Ok((st.last_applied, st.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + Send,
    {
        let mut last = None;
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            last = Some(entry.log_id.index);
            let (reply, effects) = {
                let mut st = self.shared.lock();
                st.last_applied = Some(entry.log_id);
                let reply = match &entry.payload {
                    EntryPayload::Blank => BatchReply::default(),
                    EntryPayload::Normal(batch) => {
                        self.shared.applied_bytes.fetch_add(
                            batch.encoded_len() as u64,
                            std::sync::atomic::Ordering::Relaxed,
                        );
                        apply_batch(&mut st.db, batch, responder.is_some())
                    }
                    EntryPayload::Membership(m) => {
                        st.membership =
                            StoredMembershipOf::<TypeConfig>::new(Some(entry.log_id), m.clone());
                        BatchReply::default()
                    }
                };
                let effects = st.db.has_effects().then(|| st.db.take_effects());
                (reply, effects)
            };
            if let Some(e) = effects {
                // No receiver is fine: nobody waits on these keys.
                let _ = self.shared.effects.send(e);
            }
            if let Some(r) = responder {
                r.send(reply);
            }
        }
        if let (Some(f), Some(i)) = (&self.on_applied, last) {
            f(i);
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.shared
            .applied_bytes
            .store(0, std::sync::atomic::Ordering::Relaxed);
        let st = self.shared.lock();
        SnapshotBuilder {
            group: self.group,
            db: st.db.clone(),
            meta: SnapshotMeta {
                last_log_id: st.last_applied,
                last_membership: st.membership.clone(),
            },
            shared: self.shared.clone(),
            files: self.files.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Bytes,
    ) -> Result<(), io::Error> {
        let file = SnapshotFile {
            meta: meta.clone(),
            data: snapshot,
        };
        let files = self.files.clone();
        let group = self.group;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let mut db = decode_db(&file.data)?;
            shared
                .snapshot_bytes
                .store(file.data.len() as u64, std::sync::atomic::Ordering::Relaxed);
            let encoded = shoal_storage::encode(&file)?;
            let _saving = shared.save.lock().unwrap_or_else(|p| p.into_inner());
            files.save(group, &encoded)?;
            let mut st = shared.lock();
            // Node-local settings are not part of the replicated state: keep them.
            db.notify_classes = st.db.notify_classes;
            db.track_ready = st.db.track_ready;
            let old = std::mem::replace(&mut st.db, db);
            st.last_applied = file.meta.last_log_id;
            st.membership = file.meta.last_membership.clone();
            st.current = Some(file.meta);
            drop(st);
            // Freeing a large keyspace takes a while: not under the lock.
            drop(old);
            Ok(())
        })
        .await
        .map_err(io::Error::other)??;
        tracing::info!(
            group,
            index = meta.last_log_id.map(|l| l.index),
            "installed snapshot from the leader"
        );
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        if self.shared.lock().current.is_none() {
            return Ok(None);
        }
        let files = self.files.clone();
        let group = self.group;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || -> io::Result<Option<Snapshot>> {
            let _saving = shared.save.lock().unwrap_or_else(|p| p.into_inner());
            let Some(bytes) = files.load(group)? else {
                return Ok(None);
            };
            let file: SnapshotFile = shoal_storage::decode(&bytes)?;
            Ok(Some(Snapshot {
                meta: file.meta,
                snapshot: file.data,
            }))
        })
        .await
        .map_err(io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use openraft::StorageError;
    use openraft::testing::log::StoreBuilder;
    use openraft::testing::log::Suite;
    use openraft::type_config::TypeConfigExt;
    use shoal_storage::FsyncPolicy;
    use shoal_storage::LogStore;
    use shoal_storage::Storage;

    use super::*;
    use crate::batch::Proposal;

    struct Builder;

    impl StoreBuilder<TypeConfig, LogStore<TypeConfig>, StateMachine, tempfile::TempDir> for Builder {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore<TypeConfig>, StateMachine), StorageError<TypeConfig>>
        {
            let io = |e: io::Error| StorageError::write(TypeConfig::err_from_error(&e));
            let dir = tempfile::tempdir().map_err(io)?;
            let storage = Storage::open(dir.path(), FsyncPolicy::Always).map_err(io)?;
            let log = storage.log_store::<TypeConfig>(3).map_err(io)?;
            let sm = StateMachine::open(3, storage.snapshots().clone()).map_err(io)?;
            Ok((dir, log, sm))
        }
    }

    /// openraft's storage suite with Shoal's real type config, log store and
    /// state machine (snapshot build/install through the snapshot files).
    #[test]
    fn openraft_suite_with_shoal_state_machine() -> Result<(), StorageError<TypeConfig>> {
        TypeConfig::run(async { Suite::test_all(Builder).await })
    }

    fn p(args: &[&str], now_ms: u64) -> Proposal {
        Proposal::new(
            args.iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
            shoal_core::Ctx {
                now_ms,
                ..Default::default()
            },
        )
    }

    /// Applying the same batches to two keyspaces gives the same replies and
    /// byte-identical state; a RESP3 context changes only the encoding.
    #[test]
    fn batches_apply_deterministically_with_one_reply_each() {
        let batch = Batch::new(vec![
            p(&["SET", "a", "1"], 5),
            p(&["XADD", "s", "*", "f", "v"], 1000),
            p(&["XADD", "s", "*", "f", "w"], 1000),
            p(&["INCR", "s"], 1),
            p(&["NOSUCHCMD"], 1),
            p(&["PING"], 1),
            p(&["XREAD", "BLOCK", "0", "STREAMS", "empty", "$"], 1),
            Proposal::new(
                ["XREAD", "BLOCK", "100", "STREAMS", "empty", "$"]
                    .iter()
                    .map(|a| Bytes::from(*a))
                    .collect(),
                shoal_core::Ctx {
                    now_ms: 7,
                    may_block: true,
                    ..Default::default()
                },
            ),
        ]);
        let (mut a, mut b) = (Db::new(), Db::new());
        let ra = apply_batch(&mut a, &batch, true);
        let rb = apply_batch(&mut b, &batch, true);
        assert_eq!(ra, rb);
        assert_eq!(a.encode_snapshot(), b.encode_snapshot());
        let replies = ra.clone().into_replies();
        let frames: Vec<&[u8]> = replies
            .iter()
            .map(|r| match r {
                CommandReply::Frame(f) => &f[..],
                CommandReply::Blocked { .. } => b"<blocked>",
            })
            .collect();
        assert_eq!(frames[0], b"+OK\r\n");
        assert_eq!(frames[1], b"$6\r\n1000-0\r\n");
        assert_eq!(frames[2], b"$6\r\n1000-1\r\n");
        assert!(frames[3].starts_with(b"-WRONGTYPE"));
        assert!(frames[4].starts_with(b"-ERR unknown command"));
        assert!(
            frames[5].starts_with(b"-ERR"),
            "server commands are not replicated"
        );
        // A blocking read proposed without may_block answers as if timed out;
        // with may_block it reports what to wait for and changes nothing.
        assert_eq!(frames[6], b"*-1\r\n");
        match &replies[7] {
            CommandReply::Blocked {
                keys,
                deadline_ms,
                timeout_reply,
                retry_args,
            } => {
                assert_eq!(keys, &vec![Bytes::from("empty")]);
                assert_eq!(*deadline_ms, Some(107));
                assert_eq!(&timeout_reply[..], b"*-1\r\n");
                // XREAD retries in its internal form, `$` resolved.
                assert!(
                    retry_args
                        .as_ref()
                        .is_some_and(|a| a.first().is_some_and(|n| &n[..] == b"__xreadretry"))
                );
            }
            other => panic!("expected Blocked, got {other:?}"),
        }
    }

    /// The leader applies the commands its connections parsed; followers parse the bytes.
    /// Both must give the same replies and byte-identical state, also when only some
    /// commands of a part were parsed (a syntax error is left to the bytes) and when the
    /// parsed ones are taken by an earlier apply (a second apply parses the bytes).
    #[test]
    fn parsed_commands_apply_as_their_bytes_do() {
        let reqs = [
            p(&["SET", "k", "v", "EX", "100"], 5),
            p(&["SET", "k", "v", "NOPE"], 5),
            p(&["XADD", "s", "MAXLEN", "~", "10", "*", "f", "v"], 1000),
            p(&["HSET", "h", "a", "1", "b", "2"], 6),
            p(&["LPUSH", "l", "x", "y"], 7),
            p(&["INCR", "s"], 8),
            p(&["ZADD", "z", "GT", "CH", "1.5", "m"], 9),
            p(&["XGROUP", "CREATE", "s", "g", "0"], 10),
            p(
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "COUNT",
                    "1",
                    "STREAMS",
                    "s",
                    ">",
                ],
                11,
            ),
        ];
        let mut parts = Vec::new();
        for chunk in reqs.chunks(4) {
            let mut b = crate::batch::PartBuilder::default();
            for r in chunk {
                let mut args = r.args.clone();
                b.push_parsed(&r.ctx, &mut args, |args| {
                    match shoal_core::parse_take(args) {
                        Ok(Parsed::Keyspace(_, c)) => Some(c),
                        _ => None,
                    }
                });
            }
            parts.push(b.finish());
        }
        let leader = Batch::join(&mut parts);
        let follower = Batch::from_wire(leader.wire_bytes()).expect("valid batch");
        let (mut a, mut b, mut c) = (Db::new(), Db::new(), Db::new());
        let ra = apply_batch(&mut a, &leader, true);
        let rb = apply_batch(&mut b, &follower, true);
        let rc = apply_batch(&mut c, &leader, true);
        assert_eq!(ra, rb);
        assert_eq!(ra, rc);
        assert_eq!(a.encode_snapshot(), b.encode_snapshot());
        assert_eq!(a.encode_snapshot(), c.encode_snapshot());
        // A follower's apply, which encodes no replies, changes the keyspace alike.
        let mut d = Db::new();
        assert!(apply_batch(&mut d, &follower, false).is_empty());
        assert_eq!(a.encode_snapshot(), d.encode_snapshot());
        assert_eq!(ra.len(), reqs.len());
        match &ra.into_replies()[1] {
            CommandReply::Frame(f) => assert!(f.starts_with(b"-ERR syntax error"), "{f:?}"),
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}
