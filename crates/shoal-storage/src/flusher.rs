//! Group commit: one flusher thread per node serves every Raft group.
//!
//! Appends from all groups write their entries into sled (in memory) and hand
//! a completion callback to the flusher. The flusher takes every callback
//! queued so far, calls one `sled::Db::flush()` (in sled 0.34 all trees share
//! one log, so one flush persists every earlier write of every tree), then
//! completes them all. Callbacks that arrive during a flush wait for the next
//! one, so under load one fsync acknowledges many entries of many groups.
//!
//! It is an OS thread rather than a task: `flush()` blocks on fsync, and a
//! thread keeps the store independent of which async runtime drives it.

use std::io;
use std::sync::mpsc;
use std::time::Duration;
use std::time::Instant;

use crate::FsyncPolicy;
use crate::worker::Worker;

/// A completion to run after the next flush, with its result.
pub(crate) type Callback = Box<dyn FnOnce(io::Result<()>) + Send + 'static>;

/// What the flusher thread receives.
pub(crate) enum Msg {
    /// Complete after the next flush.
    AfterFlush(Callback),
}

/// Sends work to the flusher thread; cheap to clone.
///
/// When the last clone is dropped the thread does a final flush and is
/// joined ([`Worker`]), so that the database (and its file lock) is released
/// by the time the last handle is gone: a node can reopen its directory right
/// away.
#[derive(Clone)]
pub(crate) struct Flusher {
    inner: std::sync::Arc<Worker<Msg>>,
}

/// Counters read by tests and benchmarks.
#[derive(Debug, Default)]
pub struct FlushStats {
    /// Number of fsyncs done by the flusher.
    pub flushes: std::sync::atomic::AtomicU64,
    /// Number of callbacks completed by those fsyncs.
    pub callbacks: std::sync::atomic::AtomicU64,
}

impl Flusher {
    pub(crate) fn start(
        db: sled::Db,
        policy: FsyncPolicy,
        stats: std::sync::Arc<FlushStats>,
    ) -> io::Result<Self> {
        let worker = Worker::spawn("shoal-flusher".into(), move |rx| run(db, policy, rx, stats))?;
        Ok(Self {
            inner: std::sync::Arc::new(worker),
        })
    }

    /// Runs `cb` once everything written before this call is on disk.
    /// If the flusher is gone (the node is shutting down), `cb` gets an error.
    pub(crate) fn after_flush(&self, cb: Callback) {
        if let Err(Msg::AfterFlush(cb)) = self.inner.send(Msg::AfterFlush(cb)) {
            cb(Err(io::Error::other("storage flusher stopped")));
        }
    }
}

fn run(
    db: sled::Db,
    policy: FsyncPolicy,
    rx: mpsc::Receiver<Msg>,
    stats: std::sync::Arc<FlushStats>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let period = Duration::from_secs(1);
    let mut next_timed = Instant::now() + period;
    let mut batch: Vec<Callback> = Vec::new();
    loop {
        // Wait for work; under `EverySec` wake up at least once a second.
        let first = if policy == FsyncPolicy::EverySec {
            match rx.recv_timeout(next_timed.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            }
        };
        if let Some(Msg::AfterFlush(cb)) = first {
            batch.push(cb);
        }
        // Everything queued by now is served by one flush.
        while let Ok(Msg::AfterFlush(cb)) = rx.try_recv() {
            batch.push(cb);
        }
        let timed = policy == FsyncPolicy::EverySec && Instant::now() >= next_timed;
        if batch.is_empty() && !timed {
            continue;
        }
        let result = db
            .flush()
            .map(|_| ())
            .map_err(|e| io::Error::other(format!("sled flush: {e}")));
        if timed {
            next_timed = Instant::now() + period;
        }
        stats.flushes.fetch_add(1, Relaxed);
        stats.callbacks.fetch_add(batch.len() as u64, Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, "flush failed; failing {} appends", batch.len());
        }
        for cb in batch.drain(..) {
            cb(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            });
        }
    }
    // Senders are gone: the node is shutting down cleanly. Persist what is left.
    if let Err(e) = db.flush() {
        tracing::error!(error = %e, "final flush failed");
    }
}
