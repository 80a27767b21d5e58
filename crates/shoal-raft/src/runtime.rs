//! The thread the node's Raft groups run on.
//!
//! openraft spawns its core and state-machine tasks on the runtime `Raft::new` runs in.
//! Giving them a runtime of their own (one thread) lets the log appends, the applies and
//! the replication RPCs proceed in parallel with the client connections, which keep the
//! server's runtime: on 2 cores this turned the single write path into a two-stage
//! pipeline instead of one thread doing both halves in turn.

use std::future::Future;
use std::io;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A current-thread tokio runtime driven by a dedicated OS thread until dropped.
pub(crate) struct RaftThread {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RaftThread {
    pub(crate) fn start() -> io::Result<RaftThread> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("shoal-raft".into())
            .spawn(move || {
                // Tasks spawned on `rt` run while this blocks; dropping `rt` at the end
                // cancels whatever is left (groups are shut down before that).
                let _ = rt.block_on(stopped);
            })?;
        Ok(RaftThread {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the Raft thread (so what it spawns lives there) and returns its output.
    pub(crate) async fn run<F>(&self, f: F) -> io::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle
            .spawn(f)
            .await
            .map_err(|e| io::Error::other(format!("raft thread: {e}")))
    }
}

impl Drop for RaftThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The last `Node` may be dropped on the Raft thread itself (by a task there);
        // joining would then wait for ourselves.
        if let Some(t) = self.thread.take()
            && t.thread().id() != std::thread::current().id()
        {
            let _ = t.join();
        }
    }
}
