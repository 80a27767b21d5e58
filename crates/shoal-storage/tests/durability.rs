//! Durability and group commit of the sled log store.
//!
//! `acknowledged_appends_survive_kill_9` runs this test binary again as a
//! child process (the `crash_child` test, which does nothing unless its
//! environment variable is set), lets it append and print what openraft would
//! have been told is durable, kills it with SIGKILL (no destructor, no final
//! flush), reopens the database and checks that every acknowledged entry and
//! the vote are there.

mod common;

use std::io::BufRead;
use std::io::BufReader;
use std::io::Write;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use common::TestConfig;
use openraft::RaftLogReader;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::testing::blank_ent;
use openraft::type_config::TypeConfigExt;
use openraft::type_config::alias::VoteOf;
use shoal_storage::FsyncPolicy;
use shoal_storage::Storage;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

const CHILD_ENV: &str = "SHOAL_STORAGE_CRASH_CHILD_DIR";
const GROUPS: u64 = 4;

/// Appends one entry and waits for openraft's durability callback.
async fn append_acked(
    store: &mut shoal_storage::LogStore<TestConfig>,
    index: u64,
) -> Result<(), BoxErr> {
    let (tx, rx) = TestConfig::oneshot();
    store
        .append(
            [blank_ent::<TestConfig>(1, 1, index)],
            IOFlushed::signal(tx),
        )
        .await?;
    rx.await??;
    Ok(())
}

#[test]
fn crash_child() -> Result<(), BoxErr> {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return Ok(()); // Only does something when run by the crash test.
    };
    TestConfig::run(async move {
        let storage = Storage::open(std::path::Path::new(&dir), FsyncPolicy::Always)?;
        let mut stores = Vec::new();
        for g in 0..GROUPS {
            let mut s = storage.log_store::<TestConfig>(g)?;
            s.save_vote(&VoteOf::<TestConfig>::new(5, g)).await?;
            stores.push(s);
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "VOTED")?;
        out.flush()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        // Each group appends concurrently: group commit serves all of them.
        let (tx, rx) = std::sync::mpsc::channel::<(u64, u64)>();
        for (g, mut s) in stores.into_iter().enumerate() {
            let tx = tx.clone();
            tokio::spawn(async move {
                for index in 0..1_000_000u64 {
                    if Instant::now() > deadline || append_acked(&mut s, index).await.is_err() {
                        break;
                    }
                    if tx.send((g as u64, index)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        while let Ok((g, i)) = tokio::task::block_in_place(|| rx.recv()) {
            writeln!(out, "ACK {g} {i}")?;
            out.flush()?;
        }
        Ok(())
    })
}

#[test]
fn acknowledged_appends_survive_kill_9() -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut acked = vec![None::<u64>; GROUPS as usize];
    let mut voted = false;
    let mut total = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        // libtest may print its own text in front of the child's first line.
        if line.ends_with("VOTED") {
            voted = true;
        } else if let Some(rest) = line.find("ACK ").map(|at| &line[at + 4..]) {
            let mut it = rest.split(' ').map(str::parse::<u64>);
            let (Some(Ok(g)), Some(Ok(i))) = (it.next(), it.next()) else {
                continue;
            };
            acked[g as usize] = Some(i);
            total += 1;
            if total == 2_000 {
                break;
            }
        }
    }
    child.kill()?; // SIGKILL
    child.wait()?;
    assert!(
        voted && total == 2_000,
        "child stopped early: voted={voted} acks={total}"
    );

    TestConfig::run(async {
        let storage = Storage::open(dir.path(), FsyncPolicy::Always)?;
        for g in 0..GROUPS {
            let mut s = storage.log_store::<TestConfig>(g)?;
            assert_eq!(s.read_vote().await?, Some(VoteOf::<TestConfig>::new(5, g)));
            let entries = s.try_get_log_entries(0..).await?;
            if let Some(last) = acked[g as usize] {
                assert!(
                    entries.len() as u64 > last,
                    "group {g}: acknowledged up to {last} but only {} entries survived",
                    entries.len()
                );
            }
            for (i, e) in entries.iter().enumerate() {
                assert_eq!(e.log_id.index, i as u64);
            }
        }
        Ok::<_, BoxErr>(())
    })
}

#[test]
fn one_flush_serves_many_groups() -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    TestConfig::run(async {
        let storage = Storage::open(dir.path(), FsyncPolicy::Always)?;
        let mut tasks = Vec::new();
        let per_group = 200u64;
        let groups = 16u64;
        let start = Instant::now();
        for g in 0..groups {
            let mut s = storage.log_store::<TestConfig>(g)?;
            tasks.push(tokio::spawn(async move {
                for i in 0..per_group {
                    append_acked(&mut s, i).await?;
                }
                Ok::<_, BoxErr>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let elapsed = start.elapsed();
        let stats = storage.flush_stats();
        let flushes = stats.flushes.load(std::sync::atomic::Ordering::Relaxed);
        let callbacks = stats.callbacks.load(std::sync::atomic::Ordering::Relaxed);
        let appends = groups * per_group;
        eprintln!(
            "{appends} acknowledged appends from {groups} groups in {elapsed:?} ({:.0}/s): {flushes} fsyncs, {:.1} appends per fsync",
            appends as f64 / elapsed.as_secs_f64(),
            callbacks as f64 / flushes.max(1) as f64
        );
        assert_eq!(callbacks, appends);
        assert!(
            flushes < appends / 2,
            "no group commit: {flushes} fsyncs for {appends} appends"
        );
        assert_eq!(storage.groups(), (0..groups).collect::<Vec<_>>());
        Ok(())
    })
}

#[test]
fn corrupt_value_is_an_error_not_a_panic() -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    TestConfig::run(async {
        {
            let storage = Storage::open(dir.path(), FsyncPolicy::Always)?;
            let mut s = storage.log_store::<TestConfig>(1)?;
            for i in 0..3 {
                append_acked(&mut s, i).await?;
            }
        }
        // Damage entry 1 behind the store's back.
        {
            let db = sled::Config::new()
                .path(dir.path().join("raft.sled"))
                .segment_size(shoal_storage::SEGMENT_SIZE)
                .open()?;
            let tree = db.open_tree("log/1")?;
            let mut v = tree
                .get(1u64.to_be_bytes())?
                .ok_or("entry 1 missing")?
                .to_vec();
            let last = v.len() - 1;
            v[last] ^= 0xff;
            tree.insert(1u64.to_be_bytes(), v)?;
            tree.insert(9u64.to_be_bytes(), &b"\x01garbage"[..])?;
            db.flush()?;
        }
        let storage = Storage::open(dir.path(), FsyncPolicy::Always)?;
        let mut s = storage.log_store::<TestConfig>(1)?;
        assert_eq!(s.try_get_log_entries(0..1).await?.len(), 1);
        let err = s
            .try_get_log_entries(0..3)
            .await
            .err()
            .ok_or("corruption not detected")?;
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(s.get_log_state().await.is_err(), "last entry is garbage");
        Ok(())
    })
}

/// A log created with sled's default 512 KiB segments (every directory made before
/// Shoal raised the size) opens with the size it was made with; a new one gets
/// `SEGMENT_SIZE`.
#[test]
fn logs_keep_the_segment_size_they_were_made_with() -> Result<(), BoxErr> {
    let old = tempfile::tempdir()?;
    {
        let db = sled::Config::new()
            .path(old.path().join("raft.sled"))
            .segment_size(512 << 10)
            .open()?;
        db.insert(b"k", &b"v"[..])?;
        db.flush()?;
    }
    let new = tempfile::tempdir()?;
    TestConfig::run(async {
        for dir in [&old, &new] {
            let storage = Storage::open(dir.path(), FsyncPolicy::Always)?;
            let mut s = storage.log_store::<TestConfig>(1)?;
            append_acked(&mut s, 0).await?;
        }
        Ok::<_, BoxErr>(())
    })?;
    let conf = |d: &tempfile::TempDir| std::fs::read(d.path().join("raft.sled/conf"));
    let has = |c: Vec<u8>, size: usize| {
        String::from_utf8_lossy(&c).contains(&format!("segment_size: {size}\n"))
    };
    assert!(has(conf(&old)?, 512 << 10), "the old size is kept");
    assert!(has(conf(&new)?, shoal_storage::SEGMENT_SIZE));
    Ok(())
}
