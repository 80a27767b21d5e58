//! A test type config and a minimal in-memory state machine, so that
//! openraft's storage suite can drive the sled log store.
#![allow(dead_code)]

use std::io;

use futures_util::StreamExt;
use openraft::RaftSnapshotBuilder;
use openraft::entry::RaftEntry;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use openraft::type_config::alias::LogIdOf;
use openraft::type_config::alias::SnapshotMetaOf;
use openraft::type_config::alias::SnapshotOf;
use openraft::type_config::alias::StoredMembershipOf;

openraft::declare_raft_types!(
    /// Type config for storage tests: string payloads, default everything else.
    pub TestConfig: D = String, R = String
);

#[derive(Clone, Default)]
pub struct MemSm {
    last_applied: Option<LogIdOf<TestConfig>>,
    membership: StoredMembershipOf<TestConfig>,
    current: Option<SnapshotOf<TestConfig, Vec<u8>>>,
}

pub struct MemSmBuilder {
    snap: SnapshotOf<TestConfig, Vec<u8>>,
}

impl RaftSnapshotBuilder<TestConfig> for MemSmBuilder {
    type SnapshotData = Vec<u8>;
    async fn build_snapshot(&mut self) -> Result<SnapshotOf<TestConfig, Vec<u8>>, io::Error> {
        Ok(self.snap.clone())
    }
}

impl RaftStateMachine<TestConfig> for MemSm {
    type SnapshotData = Vec<u8>;
    type SnapshotBuilder = MemSmBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<TestConfig>>, StoredMembershipOf<TestConfig>), io::Error> {
        Ok((self.last_applied, self.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: futures_util::Stream<Item = Result<EntryResponder<TestConfig>, io::Error>>
            + Unpin
            + Send,
    {
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            self.last_applied = Some(entry.log_id());
            if let Some(m) = entry.get_membership() {
                self.membership = StoredMembershipOf::<TestConfig>::new(Some(entry.log_id()), m);
            }
            if let Some(r) = responder {
                r.send(String::new());
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        let snap = SnapshotOf::<TestConfig, Vec<u8>> {
            meta: SnapshotMetaOf::<TestConfig> {
                last_log_id: self.last_applied,
                last_membership: self.membership.clone(),
            },
            snapshot: Vec::new(),
        };
        self.current = Some(snap.clone());
        MemSmBuilder { snap }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TestConfig>,
        snapshot: Vec<u8>,
    ) -> Result<(), io::Error> {
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.current = Some(SnapshotOf::<TestConfig, Vec<u8>> {
            meta: meta.clone(),
            snapshot,
        });
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<TestConfig, Vec<u8>>>, io::Error> {
        Ok(self.current.clone())
    }
}
