//! A background OS thread fed through a channel, owned by its handles: when the last one
//! is dropped the channel closes, the thread finishes what it has, and the dropper joins
//! it. Joining matters: the thread holds the sled database, and a node must be able to
//! reopen its directory (sled's file lock) as soon as its storage handles are gone.

use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;

pub(crate) struct Worker<M> {
    tx: Option<mpsc::Sender<M>>,
    thread: Option<JoinHandle<()>>,
}

impl<M: Send + 'static> Worker<M> {
    /// Starts thread `name` running `run` on the receiving end.
    pub(crate) fn spawn(
        name: String,
        run: impl FnOnce(mpsc::Receiver<M>) + Send + 'static,
    ) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<M>();
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(rx))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `m`; gives it back if the thread is gone.
    pub(crate) fn send(&self, m: M) -> Result<(), M> {
        match &self.tx {
            Some(tx) => tx.send(m).map_err(|mpsc::SendError(m)| m),
            None => Err(m),
        }
    }
}

impl<M> Drop for Worker<M> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take()
            && t.thread().id() != std::thread::current().id()
        {
            let name = t.thread().name().unwrap_or("storage").to_string();
            if t.join().is_err() {
                tracing::error!("{name} thread panicked");
            }
        }
    }
}
