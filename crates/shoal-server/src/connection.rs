//! One task per client connection: read, decode, execute, reply.
//!
//! Pipelining: every complete request in the read buffer is executed before anything is
//! written, and all their replies go out in one write. Keyspace commands of one batch
//! take the shard lock once. A blocked command (BLPOP, XREAD BLOCK, ...) parks the
//! connection until it is served, times out, or the client disconnects.
//!
//! Pub/Sub: each connection owns an [`Outbox`] that publishers append encoded messages
//! to. The task `select!`s between socket reads, its outbox and kill; pushed messages
//! and replies leave in one vectored write, the shared message buffers uncopied. A
//! subscriber over its output buffer limit is closed by the publisher's push (which
//! never waits), and the task ends even while a write to it is stuck.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use shoal_core::table::CommandSpec;
use shoal_core::{Command, Ctx, Parsed, Reply};
use shoal_pubsub::Outbox;
use shoal_resp::{Frame, Limits, Protocol, RequestDecoder, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::blocking::Waiter;
use crate::cmd;
use crate::state::{ClientInfo, Shard, Shared, lock, unix_ms};

/// A command queued inside MULTI: checked for existence and arity when queued, parsed and
/// executed at EXEC (so syntax errors show up in EXEC's results, as in Redis).
pub struct Queued {
    pub args: Vec<Bytes>,
}

/// MULTI state.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<Queued>,
    /// An error while queueing: EXEC must answer EXECABORT.
    pub aborted: bool,
}

/// Per-connection protocol state, separate from the socket so commands can borrow it.
pub struct Session {
    pub shared: Arc<Shared>,
    pub info: Arc<ClientInfo>,
    pub proto: Protocol,
    pub authed: bool,
    pub multi: Option<Multi>,
    pub readonly: bool,
    /// Close once the pending replies are written (QUIT, protocol error).
    pub close: bool,
    /// Pub/Sub messages for this client, appended by publishers.
    pub outbox: Arc<Outbox>,
    /// Channels + patterns + shard channels subscribed (RESP2 subscribe mode when > 0).
    pub subs: usize,
    /// Messages taken from the outbox that must precede the current command's replies.
    stash: VecDeque<Bytes>,
    stash_bytes: usize,
    rng: u64,
    /// The clock, read once per batch of pipelined requests (as Redis snapshots it per
    /// command): a batch executes in microseconds, and one read per request was measurable.
    now_ms: u64,
}

/// What executing one request asks of the connection loop.
pub enum Outcome {
    Reply(Frame),
    /// Several replies (a confirmation per channel of SUBSCRIBE and friends).
    Many(Vec<Frame>),
    /// Park until the receiver yields the reply or the deadline passes.
    Blocked {
        id: u64,
        rx: oneshot::Receiver<Frame>,
        deadline_ms: Option<u64>,
        timeout_reply: Frame,
    },
}

impl Session {
    pub fn resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// Takes the messages queued so far; they go out before the current reply.
    pub fn stash_pushes(&mut self) {
        self.stash_bytes += self.outbox.drain_into(&mut self.stash);
    }

    fn seed(&mut self) -> u64 {
        // xorshift64*: cheap per-command seeds; the core only sees the number.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn ctx(&mut self, may_block: bool) -> Ctx {
        Ctx {
            now_ms: self.now_ms,
            resp3: self.resp3(),
            may_block,
            seed: self.seed(),
        }
    }

    /// Executes one request. `guard` holds the shard lock across a batch.
    pub fn execute<'a>(
        &mut self,
        args: Vec<Bytes>,
        guard: &mut Option<std::sync::MutexGuard<'a, Shard>>,
        shared: &'a Shared,
    ) -> Outcome {
        let (spec, full_name) = match shoal_core::table::lookup(&args) {
            // Internal commands (active expiry, retries) exist only inside the log.
            shoal_core::table::Lookup::Found(spec, _)
                if spec.has(shoal_core::table::flags::INTERNAL) =>
            {
                if let Some(m) = &mut self.multi {
                    m.aborted = true;
                }
                return Outcome::Reply(shoal_core::table::unknown_command(&args));
            }
            shoal_core::table::Lookup::Found(spec, full_name) => (spec, full_name),
            shoal_core::table::Lookup::Error(e) => {
                if let Some(m) = &mut self.multi {
                    m.aborted = true;
                }
                return Outcome::Reply(e);
            }
        };
        if !self.authed && !spec.has(shoal_core::table::flags::NO_AUTH) {
            if let Some(m) = &mut self.multi {
                m.aborted = true;
            }
            return Outcome::Reply(Frame::static_error("NOAUTH Authentication required."));
        }
        if let Some(err) = cross_slot(spec, &args) {
            if let Some(m) = &mut self.multi {
                m.aborted = true;
            }
            return Outcome::Reply(err);
        }
        if self.subs > 0
            && !self.resp3()
            && !cmd::pubsub::allowed_in_subscribe_mode(spec_name(&full_name))
        {
            if let Some(m) = &mut self.multi {
                m.aborted = true;
            }
            return Outcome::Reply(cmd::pubsub::subscribe_mode_error(&full_name));
        }
        if let Some(m) = &mut self.multi {
            let name = args[0].to_ascii_lowercase();
            if !matches!(
                &name[..],
                b"exec" | b"discard" | b"multi" | b"quit" | b"reset"
            ) {
                m.queued.push(Queued { args });
                return Outcome::Reply(Frame::simple("QUEUED"));
            }
        }
        match shoal_core::command::parse_found(spec, full_name, &args) {
            Err(e) => Outcome::Reply(e),
            Ok(Parsed::Keyspace(_, command)) => {
                let ctx = self.ctx(true);
                let shard = guard.get_or_insert_with(|| lock(&shared.shard));
                self.apply(shard, command, &args, ctx)
            }
            Ok(Parsed::Server(_, name)) => {
                *guard = None;
                let mut replies = cmd::execute_many(self, &name, &args);
                match replies.len() {
                    1 => Outcome::Reply(replies.pop().unwrap_or(Frame::Null)),
                    _ => Outcome::Many(replies),
                }
            }
        }
    }

    /// Applies a keyspace command (`args`: the request it was parsed from) and serves any
    /// clients it unblocks.
    fn apply(&mut self, shard: &mut Shard, command: Command, args: &[Bytes], ctx: Ctx) -> Outcome {
        let keys_ready_possible = !shard.blocked.is_empty();
        shard.db.track_ready = keys_ready_possible;
        match command.apply(&mut shard.db, &ctx) {
            Reply::Frame(f) => {
                if keys_ready_possible {
                    shard.blocked.serve(&mut shard.db, ctx.now_ms, ctx.seed);
                    shard.db.track_ready = !shard.blocked.is_empty();
                }
                self.after_write(shard);
                Outcome::Reply(f)
            }
            Reply::Block(b) => {
                let (tx, rx) = oneshot::channel();
                let id = shard.blocked.add(Waiter {
                    keys: b.keys,
                    args: b.retry_args.unwrap_or_else(|| args.to_vec()),
                    retry: b.retry,
                    resp3: ctx.resp3,
                    tx,
                });
                shard.db.track_ready = true;
                Outcome::Blocked {
                    id,
                    rx,
                    deadline_ms: b.deadline_ms,
                    timeout_reply: b.timeout_reply,
                }
            }
        }
    }

    fn after_write(&mut self, shard: &mut Shard) {
        // Keyspace notifications, published under the shard lock: in write order.
        if shard.db.notify_classes != 0 {
            let events = shard.db.take_events();
            cmd::pubsub::publish_key_events(&self.shared, events);
        }
    }

    /// Runs a MULTI transaction's queued commands atomically.
    pub fn exec(&mut self, multi: Multi) -> Frame {
        if multi.aborted {
            return Frame::static_error(
                "EXECABORT Transaction discarded because of previous errors.",
            );
        }
        let shared = self.shared.clone();
        let mut replies = Vec::with_capacity(multi.queued.len());
        let mut guard = Some(lock(&shared.shard));
        for q in multi.queued {
            let reply = match shoal_core::parse(&q.args) {
                Err(e) => e,
                Ok(Parsed::Keyspace(_, command)) => {
                    let ctx = self.ctx(false);
                    let shard = guard.get_or_insert_with(|| lock(&shared.shard));
                    // Blocked clients are served once EXEC is done, as Redis does
                    // (handleClientsBlockedOnKeys runs after the whole EXEC): a reader
                    // woken by a transaction sees all of its writes.
                    shard.db.track_ready = !shard.blocked.is_empty();
                    let reply = match command.apply(&mut shard.db, &ctx) {
                        Reply::Frame(f) => f,
                        // Commands never block inside MULTI (may_block is false).
                        Reply::Block(b) => b.timeout_reply,
                    };
                    self.after_write(shard);
                    reply
                }
                Ok(Parsed::Server(_, name)) => {
                    // Server commands take other locks (clients, shard for INFO): never
                    // call them with the shard lock held.
                    guard = None;
                    // SUBSCRIBE inside MULTI: its confirmations join EXEC's array (Redis
                    // writes them after an array header counting commands, not replies).
                    let mut many = cmd::execute_many(self, &name, &q.args);
                    let last = many.pop().unwrap_or(Frame::Null);
                    replies.append(&mut many);
                    last
                }
            };
            replies.push(reply);
        }
        let ctx = self.ctx(true);
        let shard: &mut Shard = guard.get_or_insert_with(|| lock(&shared.shard));
        if !shard.blocked.is_empty() {
            shard.blocked.serve(&mut shard.db, ctx.now_ms, ctx.seed);
        }
        shard.db.track_ready = !shard.blocked.is_empty();
        Frame::Array(replies)
    }
}

/// `config` of `config|get`: the name the subscribe-mode rule looks at.
fn spec_name(full_name: &str) -> &str {
    full_name.split('|').next().unwrap_or(full_name)
}

/// CROSSSLOT unless every key of the request hashes to one slot (Redis Cluster's rule;
/// Shoal is always a cluster, even of one node).
fn cross_slot(spec: &CommandSpec, args: &[Bytes]) -> Option<Frame> {
    // Commands with at most one key (most of them) cannot cross slots.
    if spec.keys.is_none() && (spec.first_key == 0 || spec.first_key == spec.last_key) {
        return None;
    }
    let positions = spec.key_positions(args);
    let mut slot = None;
    for p in positions {
        let Some(k) = args.get(p) else { continue };
        let s = shoal_slots::key_slot(k);
        match slot {
            None => slot = Some(s),
            Some(x) if x != s => {
                return Some(Frame::static_error(
                    "CROSSSLOT Keys in request don't hash to the same slot",
                ));
            }
            _ => {}
        }
    }
    None
}

/// How a batch of buffered requests ended.
enum BatchEnd {
    /// Everything complete was executed; read more.
    NeedMore,
    /// A command blocked; its reply comes later.
    Blocked {
        id: u64,
        rx: oneshot::Receiver<Frame>,
        deadline_ms: Option<u64>,
        timeout_reply: Frame,
    },
    /// A framing error: reply it, then close.
    ProtocolError(String),
}

/// Pending output: replies encoded into `buf`, and chunks (frozen replies and shared
/// Pub/Sub message buffers) in the order they must be written.
struct Out {
    buf: BytesMut,
    chunks: VecDeque<Bytes>,
    /// Bytes of outbox messages among `chunks` (reported written after the write).
    pushed: usize,
}

impl Out {
    fn new() -> Out {
        Out {
            buf: BytesMut::with_capacity(16 * 1024),
            chunks: VecDeque::new(),
            pushed: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.chunks.is_empty()
    }

    fn seal(&mut self) {
        if !self.buf.is_empty() {
            let b = self.buf.split().freeze();
            self.chunks.push_back(b);
        }
    }

    /// Appends pushed messages after what is already pending.
    fn push_all(&mut self, msgs: &mut VecDeque<Bytes>, bytes: usize) {
        if msgs.is_empty() {
            return;
        }
        self.seal();
        self.chunks.append(msgs);
        self.pushed += bytes;
    }

    /// Takes everything queued in `outbox`.
    fn drain(&mut self, outbox: &Outbox) {
        self.seal();
        self.pushed += outbox.drain_into(&mut self.chunks);
    }

    fn len(&self) -> usize {
        self.buf.len() + self.chunks.iter().map(Bytes::len).sum::<usize>()
    }

    /// Writes everything (one vectored write per up to 64 chunks).
    async fn write_to(&mut self, socket: &mut TcpStream) -> std::io::Result<()> {
        if self.chunks.is_empty() {
            socket.write_all(&self.buf).await?;
            self.buf.clear();
            if self.buf.capacity() > 1 << 20 {
                self.buf = BytesMut::with_capacity(16 * 1024);
            }
            return Ok(());
        }
        self.seal();
        while !self.chunks.is_empty() {
            let n = {
                let mut iov = [IoSlice::new(&[]); 64];
                let mut k = 0;
                for (slot, c) in iov.iter_mut().zip(self.chunks.iter()) {
                    *slot = IoSlice::new(c);
                    k += 1;
                }
                socket.write_vectored(&iov[..k]).await?
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            let mut left = n;
            while left > 0 {
                let Some(front) = self.chunks.front_mut() else {
                    break;
                };
                if front.len() <= left {
                    left -= front.len();
                    self.chunks.pop_front();
                } else {
                    let _ = front.split_to(left);
                    left = 0;
                }
            }
        }
        if self.buf.capacity() > 1 << 20 {
            self.buf = BytesMut::with_capacity(16 * 1024);
        }
        Ok(())
    }
}

/// Executes every complete request in `inbuf`, encoding replies into `out`. Synchronous so
/// the shard lock, held across the batch, can never be held across an await.
fn run_batch(
    session: &mut Session,
    decoder: &mut RequestDecoder,
    inbuf: &mut BytesMut,
    out: &mut Out,
    limits: &Limits,
    shared: &Shared,
) -> BatchEnd {
    let mut guard = None;
    let mut executed = 0u64;
    session.now_ms = unix_ms();
    let end = loop {
        if session.close {
            break BatchEnd::NeedMore;
        }
        let args = match decoder.decode(inbuf, limits, session.authed) {
            Ok(Some(a)) => a,
            Ok(None) => break BatchEnd::NeedMore,
            Err(e) => break BatchEnd::ProtocolError(e.0),
        };
        executed += 1;
        let outcome = session.execute(args, &mut guard, shared);
        if !session.stash.is_empty() {
            let bytes = std::mem::take(&mut session.stash_bytes);
            out.push_all(&mut session.stash, bytes);
        }
        match outcome {
            Outcome::Reply(f) => {
                if f.is_error() {
                    shared
                        .stats
                        .total_error_replies
                        .fetch_add(1, Ordering::Relaxed);
                }
                // A subscriber's messages published before this reply (its own PUBLISH
                // included) precede it, as in Redis.
                if session.subs > 0 {
                    out.drain(&session.outbox);
                }
                encode(&f, session.proto, &mut out.buf)
            }
            Outcome::Many(frames) => {
                for f in &frames {
                    if f.is_error() {
                        shared
                            .stats
                            .total_error_replies
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    encode(f, session.proto, &mut out.buf);
                }
            }
            Outcome::Blocked {
                id,
                rx,
                deadline_ms,
                timeout_reply,
            } => {
                break BatchEnd::Blocked {
                    id,
                    rx,
                    deadline_ms,
                    timeout_reply,
                };
            }
        }
    };
    drop(guard);
    if executed > 0 {
        shared
            .stats
            .total_commands
            .fetch_add(executed, Ordering::Relaxed);
        session
            .info
            .last_interaction_ms
            .store(shared.uptime_ms(), Ordering::Relaxed);
    }
    end
}

/// Writes `out`, giving up if the client is killed or closed for its output buffer
/// limits meanwhile (a subscriber that does not read must not hold its task forever).
/// Returns false if the connection should end.
async fn flush(
    shared: &Shared,
    socket: &mut TcpStream,
    out: &mut Out,
    info: &ClientInfo,
    outbox: &Outbox,
) -> bool {
    if out.is_empty() {
        return true;
    }
    shared
        .stats
        .net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    let ok = tokio::select! {
        r = out.write_to(socket) => r.is_ok(),
        _ = info.kill.notified() => false,
        _ = outbox.closed() => false,
    };
    outbox.written(std::mem::take(&mut out.pushed));
    ok
}

/// Serves one client until it disconnects, quits, or is killed.
pub async fn serve(shared: Arc<Shared>, mut socket: TcpStream, info: Arc<ClientInfo>) {
    let _ = socket.set_nodelay(true);
    let authed = shared.runtime().requirepass.is_none();
    let outbox = Arc::new(Outbox::new(false));
    let mut session = Session {
        shared: shared.clone(),
        info: info.clone(),
        proto: Protocol::Resp2,
        authed,
        multi: None,
        readonly: false,
        close: false,
        outbox: outbox.clone(),
        subs: 0,
        stash: VecDeque::new(),
        stash_bytes: 0,
        rng: info.id.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        now_ms: unix_ms(),
    };
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let mut out = Out::new();
    let mut decoder = RequestDecoder::new();
    let limits = Limits {
        max_bulk_len: shared.config.proto_max_bulk_len,
        ..Limits::default()
    };
    loop {
        let end = run_batch(
            &mut session,
            &mut decoder,
            &mut inbuf,
            &mut out,
            &limits,
            &shared,
        );
        match end {
            BatchEnd::NeedMore => {}
            BatchEnd::ProtocolError(e) => {
                encode(
                    &Frame::error(format!("ERR {e}")),
                    session.proto,
                    &mut out.buf,
                );
                let _ = flush(&shared, &mut socket, &mut out, &info, &outbox).await;
                break;
            }
            BatchEnd::Blocked {
                id,
                rx,
                deadline_ms,
                timeout_reply,
            } => {
                if !flush(&shared, &mut socket, &mut out, &info, &outbox).await {
                    cancel_wait(&shared, id);
                    break;
                }
                let reply = wait_blocked(
                    &shared,
                    &mut socket,
                    &mut inbuf,
                    &outbox,
                    id,
                    rx,
                    deadline_ms,
                    timeout_reply,
                )
                .await;
                match reply {
                    Some(f) => {
                        // Messages pushed while blocked, then the reply.
                        out.drain(&outbox);
                        encode(&f, session.proto, &mut out.buf)
                    }
                    None => break,
                }
                // More requests may already be buffered: run them before reading.
                continue;
            }
        }
        if !flush(&shared, &mut socket, &mut out, &info, &outbox).await {
            break;
        }
        if session.close || outbox.is_closed() {
            break;
        }
        let want = decoder.bytes_hint().clamp(16 * 1024, 64 << 20);
        inbuf.reserve(want);
        tokio::select! {
            r = socket.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            },
            _ = outbox.data() => out.drain(&outbox),
            _ = outbox.closed() => break,
            _ = info.kill.notified() => break,
        }
    }
    shared.pubsub.remove_client(info.id);
    let _ = socket.shutdown().await;
}

fn cancel_wait(shared: &Shared, id: u64) {
    let mut shard = lock(&shared.shard);
    shard.blocked.remove(id);
    shard.db.track_ready = !shard.blocked.is_empty();
}

/// Waits for a blocked command's reply. Keeps reading (and buffering) what the client
/// sends meanwhile so a disconnect is noticed, and writes Pub/Sub messages (RESP3
/// subscribers may block). Returns None if the client went away.
#[allow(clippy::too_many_arguments)]
async fn wait_blocked(
    shared: &Shared,
    socket: &mut TcpStream,
    inbuf: &mut BytesMut,
    outbox: &Outbox,
    id: u64,
    mut rx: oneshot::Receiver<Frame>,
    deadline_ms: Option<u64>,
    timeout_reply: Frame,
) -> Option<Frame> {
    shared.stats.blocked_clients.fetch_add(1, Ordering::Relaxed);
    let sleep = async {
        match deadline_ms {
            Some(d) => tokio::time::sleep(Duration::from_millis(d.saturating_sub(unix_ms()))).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    let mut pushes = Out::new();
    let result = loop {
        tokio::select! {
            r = &mut rx => break r.ok(),
            _ = &mut sleep => {
                // Timed out, unless a writer served us in the meantime.
                let removed = {
                    let mut shard = lock(&shared.shard);
                    let removed = shard.blocked.remove(id);
                    shard.db.track_ready = !shard.blocked.is_empty();
                    removed
                };
                if removed {
                    break Some(timeout_reply);
                }
                break rx.await.ok();
            }
            r = socket.read_buf(inbuf) => match r {
                Ok(0) | Err(_) => {
                    cancel_wait(shared, id);
                    break None;
                }
                Ok(_) => {}
            },
            _ = outbox.data() => {
                pushes.drain(outbox);
                let ok = tokio::select! {
                    r = pushes.write_to(socket) => r.is_ok(),
                    _ = outbox.closed() => false,
                };
                outbox.written(std::mem::take(&mut pushes.pushed));
                if !ok {
                    cancel_wait(shared, id);
                    break None;
                }
            }
            _ = outbox.closed() => {
                cancel_wait(shared, id);
                break None;
            }
        }
    };
    shared.stats.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    result
}
