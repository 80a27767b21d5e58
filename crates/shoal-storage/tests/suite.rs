//! openraft's own storage test suite against the sled log store, once per
//! fsync policy.

mod common;

use common::MemSm;
use common::TestConfig;
use openraft::StorageError;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::type_config::TypeConfigExt;
use shoal_storage::FsyncPolicy;
use shoal_storage::LogStore;
use shoal_storage::Storage;

struct SledBuilder(FsyncPolicy);

impl StoreBuilder<TestConfig, LogStore<TestConfig>, MemSm, tempfile::TempDir> for SledBuilder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore<TestConfig>, MemSm), StorageError<TestConfig>> {
        let io = |e: std::io::Error| StorageError::write(TestConfig::err_from_error(&e));
        let dir = tempfile::tempdir().map_err(io)?;
        let storage = Storage::open(dir.path(), self.0).map_err(io)?;
        // A group id other than 0, to catch code that ignores it.
        let store = storage.log_store::<TestConfig>(7).map_err(io)?;
        Ok((dir, store, MemSm::default()))
    }
}

fn run(policy: FsyncPolicy) -> Result<(), StorageError<TestConfig>> {
    TestConfig::run(async move { Suite::test_all(SledBuilder(policy)).await })
}

#[test]
fn openraft_suite_fsync_always() -> Result<(), StorageError<TestConfig>> {
    run(FsyncPolicy::Always)
}

#[test]
fn openraft_suite_fsync_everysec() -> Result<(), StorageError<TestConfig>> {
    run(FsyncPolicy::EverySec)
}

#[test]
fn openraft_suite_fsync_no() -> Result<(), StorageError<TestConfig>> {
    run(FsyncPolicy::No)
}
