//! A connection's outbound queue of pushed messages, with Redis's output-buffer limits.
//!
//! Publishers append encoded messages (shared [`Bytes`], one allocation per message and
//! protocol, whatever the number of receivers) and never wait: a subscriber that falls
//! too far behind is closed instead, exactly as Redis's `client-output-buffer-limit`
//! (hard limit: at once; soft limit: when exceeded continuously for longer than the soft
//! seconds). The connection task drains the queue, writes it, and then reports the bytes
//! written, so the accounted size covers both queued and in-flight data.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use futures_util::task::AtomicWaker;

/// Output buffer limits of one client class, in bytes and seconds (0 = no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl BufferLimit {
    /// Redis's default for the pubsub class: `32mb 8mb 60`.
    pub const PUBSUB_DEFAULT: BufferLimit = BufferLimit {
        hard: 32 * 1024 * 1024,
        soft: 8 * 1024 * 1024,
        soft_seconds: 60,
    };
}

/// The per-connection queue. Shared (`Arc`) between the registry and the connection.
pub struct Outbox {
    queue: Mutex<VecDeque<Bytes>>,
    /// Bytes pushed and not yet written to the socket (queued + in flight).
    bytes: AtomicUsize,
    resp3: AtomicBool,
    closed: AtomicBool,
    /// Registry clock (ms, +1 so 0 means "not over the soft limit") when usage first
    /// exceeded the soft limit.
    soft_since: AtomicU64,
    /// Set when the connection task should look: a message was pushed, the client was
    /// closed, or its owner [kicked](Outbox::kick) it. Cleared by the wait that sees it,
    /// so a wake-up with no waiter is kept for the next wait.
    woke: AtomicBool,
    /// The connection task, the only one that waits ([`Outbox::woken`]). One waker for
    /// every reason, registered without a lock: the task waits once per request it
    /// reads (a `Notify` waiter was a lock to register and another to drop, each time).
    waker: AtomicWaker,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new(false)
    }
}

impl Outbox {
    pub fn new(resp3: bool) -> Outbox {
        Outbox {
            queue: Mutex::new(VecDeque::new()),
            bytes: AtomicUsize::new(0),
            resp3: AtomicBool::new(resp3),
            closed: AtomicBool::new(false),
            soft_since: AtomicU64::new(0),
            woke: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    /// Whether pushes to this client are RESP3 (HELLO 3).
    pub fn resp3(&self) -> bool {
        self.resp3.load(Ordering::Relaxed)
    }

    pub fn set_resp3(&self, resp3: bool) {
        self.resp3.store(resp3, Ordering::Relaxed);
    }

    /// Bytes pushed and not yet written (CLIENT LIST `omem`).
    pub fn pending_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Messages queued and not yet taken by the connection (CLIENT LIST `oll`).
    pub fn queued(&self) -> usize {
        self.lock().len()
    }

    /// Whether the client was closed for overcoming its output buffer limits.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Bytes>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a message unless that takes the client over its limits. Returns true if
    /// this push closed the client (the caller counts the disconnection).
    pub(crate) fn push(&self, msg: &Bytes, limit: BufferLimit, now_ms: u64) -> bool {
        if self.is_closed() {
            return false;
        }
        let total = (self.bytes.fetch_add(msg.len(), Ordering::AcqRel) + msg.len()) as u64;
        if self.over_limit(total, limit, now_ms) {
            return self.close_now();
        }
        self.lock().push_back(msg.clone());
        self.wake();
        false
    }

    /// Redis's checkClientOutputBufferLimits: the hard limit closes at once; the soft one
    /// when exceeded for more than `soft_seconds` without dropping below it in between.
    fn over_limit(&self, used: u64, limit: BufferLimit, now_ms: u64) -> bool {
        if limit.hard > 0 && used >= limit.hard {
            return true;
        }
        if limit.soft > 0 && used >= limit.soft {
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now_ms + 1, Ordering::Relaxed);
                return false;
            }
            return now_ms + 1 - since > limit.soft_seconds * 1000;
        }
        self.soft_since.store(0, Ordering::Relaxed);
        false
    }

    /// Marks the client closed and frees its queue at once. Returns true the first time.
    pub fn close_now(&self) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        let dropped = std::mem::take(&mut *self.lock());
        drop(dropped);
        self.wake();
        true
    }

    /// Moves every queued message to `into` (the connection then writes them and calls
    /// [`Outbox::written`]). Returns the number of bytes moved.
    pub fn drain_into(&self, into: &mut VecDeque<Bytes>) -> usize {
        let mut q = self.lock();
        let n = q.iter().map(Bytes::len).sum();
        if into.is_empty() {
            std::mem::swap(&mut *q, into);
        } else {
            into.extend(q.drain(..));
        }
        n
    }

    /// Reports `n` drained bytes as written to the socket.
    pub fn written(&self, n: usize) {
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(n))
            });
    }

    /// Wakes the connection task for a reason of the owner's (the server's CLIENT KILL):
    /// the task checks that reason when [`Outbox::woken`] resolves.
    pub fn kick(&self) {
        self.wake();
    }

    fn wake(&self) {
        self.woke.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Resolves once something happened since the last wake-up: a message was pushed,
    /// the client was closed (check [`Outbox::is_closed`]) or kicked. May resolve
    /// spuriously; a wake-up with no waiter is kept for the next call. Only the
    /// connection task may wait.
    pub fn woken(&self) -> Woken<'_> {
        Woken(self)
    }
}

/// The future [`Outbox::woken`] returns.
pub struct Woken<'a>(&'a Outbox);

impl std::future::Future for Woken<'_> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let outbox = self.0;
        if outbox.woke.swap(false, Ordering::AcqRel) {
            return std::task::Poll::Ready(());
        }
        outbox.waker.register(cx.waker());
        // A wake-up between the check and the registration found no waker to wake.
        if outbox.woke.swap(false, Ordering::AcqRel) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_limit_closes_at_once_and_frees_the_queue() {
        let o = Outbox::new(false);
        let lim = BufferLimit {
            hard: 100,
            soft: 0,
            soft_seconds: 0,
        };
        let m = Bytes::from(vec![b'x'; 40]);
        assert!(!o.push(&m, lim, 0));
        assert!(!o.push(&m, lim, 0));
        assert!(o.push(&m, lim, 0));
        assert!(o.is_closed());
        assert_eq!(o.queued(), 0);
        // Closed once: later pushes neither queue nor count again.
        assert!(!o.push(&m, lim, 0));
    }

    #[test]
    fn soft_limit_needs_continuous_excess() {
        let o = Outbox::new(false);
        let lim = BufferLimit {
            hard: 0,
            soft: 50,
            soft_seconds: 2,
        };
        let m = Bytes::from(vec![b'x'; 60]);
        assert!(!o.push(&m, lim, 1000));
        assert!(!o.push(&m, lim, 2500));
        assert!(!o.push(&m, lim, 3000)); // exactly 2 s: not yet (Redis: elapsed > seconds)
        // Drained and written: usage drops below soft, the timer restarts.
        let mut v = VecDeque::new();
        let n = o.drain_into(&mut v);
        o.written(n);
        assert!(!o.push(&Bytes::from_static(b"x"), lim, 3500));
        assert!(!o.push(&m, lim, 4000));
        assert!(!o.push(&m, lim, 5500));
        assert!(o.push(&m, lim, 6001));
    }
}
