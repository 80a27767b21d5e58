//! One task per client connection: read, decode, execute, reply.
//!
//! Pipelining: every complete request in the read buffer is executed before anything is
//! written, and all their replies go out in one write. Consecutive keyspace commands form
//! a *segment*: its writes go to the shard as one submission (which the proposer merges
//! with other connections' into one Raft entry) and its reads share one read barrier, so
//! a pipeline of N commands costs one commit, not N.
//!
//! A blocking command (BLPOP, XREAD BLOCK, ...) runs alone; if it cannot be served it
//! parks the connection until it is served, times out, or the client disconnects.
//!
//! Off the leader, keyspace commands answer `-MOVED <slot> <leader>` as a Redis Cluster
//! replica does (after `READONLY`, reads are served locally, possibly stale).
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
use shoal_core::table::{CommandSpec, flags};
use shoal_core::{Command, Ctx, Parsed, Reply};
use shoal_pubsub::Outbox;
use shoal_raft::{CommandReply, PartBuilder, Proposal};
use shoal_resp::{Frame, Limits, Protocol, RequestDecoder, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::blocking::{Removal, Retry, Waiter};
use crate::cmd;
use crate::shard::{ShardError, encoded};
use crate::state::{ClientInfo, Shared, lock, unix_ms};

/// How long a command waits for an election to produce a leader before CLUSTERDOWN.
const ELECTION_WAIT: Duration = Duration::from_secs(2);

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
    /// Buffers kept from one batch of requests to the next (allocating them anew for
    /// every batch was measurable): the keyspace commands of the segment being gathered,
    /// the encoder of the writes proposed, and their slots (for -MOVED replies).
    seg: Vec<Pending>,
    part: PartBuilder,
    slots: Vec<KeySlot>,
    /// Where this connection's proposals are answered, reused (one out at a time).
    reply: Arc<crate::shard::ReplySlot>,
}

/// A keyspace command on its way to the shard.
pub struct Pending {
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
    /// The parsed command of a read, which this node runs itself. Writes are parsed as
    /// they are encoded for the log (`run_segment`).
    /// Boxed: a `Command` is ~150 bytes, and every request's `Pending` is moved several
    /// times on its way to the log (memmove of these was ~3% of the write path).
    read: Option<Box<Command>>,
    /// Its slot (for -MOVED), if it has keys.
    slot: KeySlot,
}

/// A request's slot, hashed only when a reply needs it. Requests with several keys are
/// hashed up front (CROSSSLOT is checked before anything runs); a single key is named by
/// its argument position and hashed only for a `-MOVED` reply, which the leader never
/// sends: hashing every key of every request was ~3% of the write path's CPU, and
/// keeping a clone of the key a reference count up and down (~1.5%).
#[derive(Clone, Debug)]
enum KeySlot {
    None,
    Slot(u16),
    /// The key is the request's argument at this position.
    Arg(usize),
    /// The key, taken out of arguments that are gone before the reply is known.
    Key(Bytes),
}

impl KeySlot {
    /// The slot; `args` are the request's (unused unless the key is one of them).
    fn get(&self, args: &[Bytes]) -> Option<u16> {
        match self {
            KeySlot::None => None,
            KeySlot::Slot(s) => Some(*s),
            KeySlot::Arg(i) => args.get(*i).map(|k| shoal_slots::key_slot(k)),
            KeySlot::Key(k) => Some(shoal_slots::key_slot(k)),
        }
    }

    /// Keeps the key past its request's arguments (which are recycled), taking it out
    /// of them: a move, not a clone.
    fn detach(self, args: &mut [Bytes]) -> KeySlot {
        match self {
            KeySlot::Arg(i) => args
                .get_mut(i)
                .map_or(KeySlot::None, |k| KeySlot::Key(std::mem::take(k))),
            other => other,
        }
    }

    fn is_none(&self) -> bool {
        matches!(self, KeySlot::None)
    }
}

impl Pending {
    /// Runs a read on the applied keyspace.
    fn apply_read(&mut self, db: &mut shoal_core::Db, ctx: &Ctx) -> Reply {
        match self.read.take() {
            Some(c) => c.apply(db, ctx),
            // Writes never reach a read path (the segment runs them through Raft).
            None => Reply::Frame(Frame::static_error("ERR write command run as a read")),
        }
    }
}

/// What one request turned out to be.
enum Step {
    /// Answered already (errors, QUEUED, ...).
    Reply(Frame),
    /// A keyspace command for the shard.
    Keyspace(Pending),
    /// A server command (connection, admin, pub/sub), run in order after the pending
    /// keyspace commands.
    Server(std::borrow::Cow<'static, str>, Vec<Bytes>),
    /// EXEC of a transaction.
    Exec(Multi),
}

/// A parked blocked command.
pub struct Parked {
    id: u64,
    rx: oneshot::Receiver<Bytes>,
    deadline_ms: Option<u64>,
    timeout_reply: Bytes,
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

    /// The context `args` run with: a seed only for the commands that use one.
    fn ctx(&mut self, may_block: bool, args: &[Bytes]) -> Ctx {
        let random = args.first().is_some_and(|name| Ctx::uses_seed(name));
        Ctx {
            now_ms: self.now_ms,
            resp3: self.resp3(),
            may_block,
            seed: if random { self.seed() } else { 0 },
        }
    }

    fn abort_multi(&mut self) {
        if let Some(m) = &mut self.multi {
            m.aborted = true;
        }
    }

    /// Checks a request (existence, arity, auth, slots, subscribe mode), queues it inside
    /// MULTI, and parses keyspace commands, so that only valid commands reach the log.
    fn classify(&mut self, args: Vec<Bytes>) -> Step {
        let lookup = shoal_core::table::lookup(&args);
        self.record_command(&args, &lookup);
        let (spec, full_name) = match lookup {
            // Internal commands (active expiry, retries) exist only inside the log.
            shoal_core::table::Lookup::Found(spec, _) if spec.has(flags::INTERNAL) => {
                self.abort_multi();
                return Step::Reply(shoal_core::table::unknown_command(&args));
            }
            shoal_core::table::Lookup::Found(spec, full_name) => (spec, full_name),
            shoal_core::table::Lookup::Error(e) => {
                self.abort_multi();
                return Step::Reply(e);
            }
        };
        if !self.authed && !spec.has(flags::NO_AUTH) {
            self.abort_multi();
            return Step::Reply(Frame::static_error("NOAUTH Authentication required."));
        }
        let slot = match key_slot(spec, &args) {
            Ok(slot) => slot,
            Err(e) => {
                self.abort_multi();
                return Step::Reply(e);
            }
        };
        if self.subs > 0
            && !self.resp3()
            && !cmd::pubsub::allowed_in_subscribe_mode(spec_name(&full_name))
        {
            self.abort_multi();
            return Step::Reply(cmd::pubsub::subscribe_mode_error(&full_name));
        }
        if self.multi.is_some() {
            let name = args[0].to_ascii_lowercase();
            match &name[..] {
                b"exec" => {
                    self.info.in_multi.store(0, Ordering::Relaxed);
                    return match self.multi.take() {
                        Some(m) => Step::Exec(m),
                        None => Step::Reply(Frame::static_error("ERR EXEC without MULTI")),
                    };
                }
                b"discard" | b"multi" | b"quit" | b"reset" => {}
                _ => {
                    // Redis Cluster redirects at queue time: a transaction runs whole on
                    // the node that owns its slot.
                    if spec.parse.is_some()
                        && !slot.is_none()
                        && let Some(moved) = self.redirect(slot.get(&args), spec.is_write())
                    {
                        self.abort_multi();
                        return Step::Reply(moved);
                    }
                    if let Some(m) = &mut self.multi {
                        m.queued.push(Queued { args });
                    }
                    return Step::Reply(Frame::simple("QUEUED"));
                }
            }
        } else if args[0].eq_ignore_ascii_case(b"exec") {
            return Step::Reply(Frame::static_error("ERR EXEC without MULTI"));
        }
        if spec.parse.is_some() && spec.is_write() {
            return Step::Keyspace(Pending {
                spec,
                args,
                read: None,
                slot,
            });
        }
        match shoal_core::command::parse_found(spec, full_name, &args) {
            Err(e) => Step::Reply(e),
            Ok(Parsed::Keyspace(_, command)) => Step::Keyspace(Pending {
                spec,
                args,
                read: Some(Box::new(command)),
                slot,
            }),
            Ok(Parsed::Server(_, name)) => Step::Server(name, args),
        }
    }

    /// Records the command for CLIENT LIST's `cmd=` as Redis's `lookupCommand` finds it:
    /// the command (or container and subcommand) even when its arity is wrong, nothing
    /// for an unknown command or subcommand.
    fn record_command(&self, args: &[Bytes], lookup: &shoal_core::table::Lookup) {
        match lookup {
            // Most requests: a plain command found already, two stores.
            shoal_core::table::Lookup::Found(spec, std::borrow::Cow::Borrowed(_))
                if !spec.has(flags::INTERNAL) =>
            {
                self.info.last_cmd.set(Some(spec), None)
            }
            _ => match shoal_core::table::lookup_command(args) {
                Some((top, sub)) => self.info.last_cmd.set(Some(top), sub),
                None => self.info.last_cmd.set(None, None),
            },
        }
    }

    /// The redirection a command gets on this node, if it cannot run here: `-MOVED` to
    /// the leader (reads are served locally after READONLY), `-CLUSTERDOWN` without one.
    fn redirect(&self, slot: Option<u16>, write: bool) -> Option<Frame> {
        let shard = &self.shared.shard;
        if shard.is_leader() || (self.readonly && !write) {
            return None;
        }
        Some(not_leader_reply(
            &ShardError::NotLeader(shard.leader()),
            slot,
            write,
        ))
    }

    /// Runs a segment of keyspace commands, encoding their replies in order into `out`.
    /// Drains `seg` (which keeps its capacity) and gives the requests' argument vectors
    /// back to `decoder`.
    async fn run_segment(
        &mut self,
        seg: &mut Vec<Pending>,
        out: &mut BytesMut,
        decoder: &mut RequestDecoder,
    ) {
        let shard = self.shared.shard.clone();
        let mut fresh = false;
        while let Some(first) = seg.first() {
            // The next run: consecutive writes, or consecutive reads.
            let write = first.spec.is_write();
            let k = seg
                .iter()
                .position(|p| p.spec.is_write() != write)
                .unwrap_or(seg.len());
            // Keyless reads run anywhere (DBSIZE, KEYS, SCAN on a replica answer for its
            // own data, as in Redis); everything else needs the leader or READONLY.
            let local_ok = !write && (self.readonly || seg[..k].iter().all(|p| p.slot.is_none()));
            if !shard.is_leader() && !local_ok && shard.leader().is_none() {
                // An election is under way: wait for its outcome (a couple of seconds at
                // most) rather than fail the client.
                shard.wait_for_leader(ELECTION_WAIT).await;
            }
            if !shard.is_leader() && !local_ok {
                let leader = ShardError::NotLeader(shard.leader());
                for p in seg.drain(..k) {
                    let moved = not_leader_reply(&leader, p.slot.get(&p.args), write);
                    encode(&moved, self.proto, out);
                    decoder.recycle(p.args);
                }
                continue;
            }
            if write {
                // Encoded here as they will be logged: the proposer joins the parts of
                // all connections without looking at a command.
                let mut slots = std::mem::take(&mut self.slots);
                for mut p in seg.drain(..k) {
                    let ctx = self.ctx(true, &p.args);
                    // Parsed once, here: the leader's apply runs this (followers parse
                    // the bytes). A syntax error is left to the apply to answer, in
                    // order with the replies of the writes before it.
                    // Takes what the command keeps out of the arguments, which are
                    // dropped below but for the key (a `TakeFn` leaves `args[1]`).
                    let spec = p.spec;
                    self.part
                        .push_parsed(&ctx, &mut p.args, |args| spec.parse_taking(args)?.ok());
                    slots.push(p.slot.detach(&mut p.args));
                    decoder.recycle(p.args);
                }
                let part = self.part.finish();
                match shard.propose_with(part, &self.reply).await {
                    Ok(replies) => {
                        out.extend_from_slice(&replies.encoded());
                        fresh = true;
                    }
                    Err(e) => {
                        for slot in &slots {
                            encode(&not_leader_reply(&e, slot.get(&[]), true), self.proto, out);
                        }
                    }
                }
                slots.clear();
                self.slots = slots;
                continue;
            }
            // Reads: a barrier unless a write of ours just committed (its commit already
            // proved leadership after these reads arrived), or reading locally.
            if shard.is_leader()
                && !fresh
                && let Err(e) = shard.read_barrier().await
            {
                for p in seg.drain(..k) {
                    encode(
                        &not_leader_reply(&e, p.slot.get(&p.args), false),
                        self.proto,
                        out,
                    );
                    decoder.recycle(p.args);
                }
                continue;
            }
            let proto = self.proto;
            shard.with_db(|db| {
                for mut p in seg.drain(..k) {
                    let ctx = self.ctx(false, &p.args);
                    let f = match p.apply_read(db, &ctx) {
                        Reply::Frame(f) => f,
                        Reply::Block(b) => b.timeout_reply,
                    };
                    encode(&f, proto, out);
                    decoder.recycle(p.args);
                }
            });
        }
    }

    /// Runs one blocking command; returns the parked waiter if it must wait.
    async fn run_blocking(&mut self, mut p: Pending, out: &mut BytesMut) -> Option<Parked> {
        let shard = self.shared.shard.clone();
        let write = p.spec.is_write();
        if let Some(moved) = self.redirect(p.slot.get(&p.args), write) {
            encode(&moved, self.proto, out);
            return None;
        }
        // Inside MULTI nothing blocks (handled by EXEC); here the command may block.
        let ctx = self.ctx(true, &p.args);
        if write {
            match shard
                .propose_commands(&[Proposal::new(p.args.clone(), ctx)])
                .await
            {
                Ok(mut replies) => match replies.pop() {
                    Some(CommandReply::Frame(b)) => out.extend_from_slice(&b),
                    Some(CommandReply::Blocked {
                        keys,
                        deadline_ms,
                        timeout_reply,
                        retry_args,
                    }) => {
                        let (tx, rx) = oneshot::channel();
                        let w = Waiter {
                            keys: keys.clone(),
                            args: retry_args.unwrap_or(p.args),
                            retry: Retry::Propose,
                            resp3: ctx.resp3,
                            deadline_ms,
                            timeout_reply: timeout_reply.clone(),
                            tx,
                        };
                        let id = lock(&shard.blocked).add(w);
                        shard.update_tracking();
                        // Data may have arrived between our entry and the registration:
                        // look once more, as a retry.
                        let poke = shard.clone();
                        tokio::spawn(async move {
                            crate::blocking::serve_ready(&poke, keys).await;
                        });
                        return Some(Parked {
                            id,
                            rx,
                            deadline_ms,
                            timeout_reply,
                        });
                    }
                    None => {}
                },
                Err(e) => encode(
                    &not_leader_reply(&e, p.slot.get(&p.args), true),
                    self.proto,
                    out,
                ),
            }
            return None;
        }
        // A blocking read (XREAD BLOCK): served from local state; registered under the
        // state machine's lock so no write can slip between the read and the waiter.
        if shard.is_leader()
            && let Err(e) = shard.read_barrier().await
        {
            encode(
                &not_leader_reply(&e, p.slot.get(&p.args), false),
                self.proto,
                out,
            );
            return None;
        }
        let resp3 = ctx.resp3;
        let args = std::mem::take(&mut p.args);
        let result = shard.with_db(|db| match p.apply_read(db, &ctx) {
            Reply::Frame(f) => Err(f),
            Reply::Block(b) => {
                let (tx, rx) = oneshot::channel();
                let timeout_reply = encoded(&b.timeout_reply, resp3);
                let w = Waiter {
                    keys: b.keys,
                    args: b.retry_args.unwrap_or(args),
                    retry: Retry::Local,
                    resp3,
                    deadline_ms: b.deadline_ms,
                    timeout_reply: timeout_reply.clone(),
                    tx,
                };
                db.track_ready = true;
                let id = lock(&shard.blocked).add(w);
                Ok(Parked {
                    id,
                    rx,
                    deadline_ms: b.deadline_ms,
                    timeout_reply,
                })
            }
        });
        match result {
            Ok(parked) => {
                shard.update_tracking();
                Some(parked)
            }
            Err(f) => {
                encode(&f, self.proto, out);
                None
            }
        }
    }

    /// Runs a MULTI transaction: its keyspace commands are proposed as one entry (so they
    /// apply atomically on every replica), server commands run here, replies in order.
    async fn exec(&mut self, multi: Multi, out: &mut BytesMut) {
        if multi.aborted {
            encode(
                &Frame::static_error("EXECABORT Transaction discarded because of previous errors."),
                self.proto,
                out,
            );
            return;
        }
        enum Slot {
            Done(Bytes),
            Proposed,
            Server(std::borrow::Cow<'static, str>, Vec<Bytes>),
        }
        let mut slots = Vec::with_capacity(multi.queued.len());
        let mut proposals = Vec::new();
        let mut first_slot = None;
        for q in multi.queued {
            match shoal_core::parse(&q.args) {
                Err(e) => slots.push(Slot::Done(encoded(&e, self.resp3()))),
                Ok(Parsed::Keyspace(spec, _)) => {
                    if first_slot.is_none() {
                        first_slot = key_slot(spec, &q.args).ok().and_then(|k| k.get(&q.args));
                    }
                    let ctx = self.ctx(false, &q.args);
                    proposals.push(Proposal::new(q.args, ctx));
                    slots.push(Slot::Proposed);
                }
                Ok(Parsed::Server(_, name)) => slots.push(Slot::Server(name, q.args)),
            }
        }
        let mut replies = Vec::new();
        if !proposals.is_empty() {
            match self.shared.shard.propose_commands(&proposals).await {
                Ok(r) => replies = r,
                Err(e) => {
                    encode(&not_leader_reply(&e, first_slot, true), self.proto, out);
                    return;
                }
            }
        }
        let mut replies = replies.into_iter();
        let mut parts: Vec<Bytes> = Vec::with_capacity(slots.len());
        for slot in slots {
            match slot {
                Slot::Done(b) => parts.push(b),
                Slot::Proposed => parts.push(match replies.next() {
                    Some(CommandReply::Frame(b)) => b,
                    Some(CommandReply::Blocked { timeout_reply, .. }) => timeout_reply,
                    None => encoded(&Frame::Null, self.resp3()),
                }),
                Slot::Server(name, args) => {
                    // SUBSCRIBE inside MULTI: its confirmations join EXEC's array (Redis
                    // writes them after an array header counting commands, not replies).
                    for f in cmd::execute_many(self, &name, &args) {
                        parts.push(encoded(&f, self.resp3()));
                    }
                }
            }
        }
        out.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
        for p in parts {
            out.extend_from_slice(&p);
        }
    }
}

/// The reply for a command this node cannot run.
fn not_leader_reply(e: &ShardError, slot: Option<u16>, write: bool) -> Frame {
    match (e, slot) {
        (ShardError::NotLeader(Some((_, leader))), Some(slot)) => {
            Frame::error(format!("MOVED {slot} {}", leader.client_addr))
        }
        (ShardError::NotLeader(Some(_)), None) if write => {
            Frame::static_error("READONLY You can't write against a read only replica.")
        }
        (ShardError::Unavailable(why), _) => {
            tracing::debug!("shard unavailable: {why}");
            Frame::static_error("CLUSTERDOWN The cluster is down")
        }
        _ => Frame::static_error("CLUSTERDOWN The cluster is down"),
    }
}

/// `config` of `config|get`: the name the subscribe-mode rule looks at.
fn spec_name(full_name: &str) -> &str {
    full_name.split('|').next().unwrap_or(full_name)
}

/// The slot of a request's keys: `KeySlot::None` without keys, CROSSSLOT unless every
/// key hashes to one slot (Redis Cluster's rule; Shoal is always a cluster).
fn key_slot(spec: &CommandSpec, args: &[Bytes]) -> Result<KeySlot, Frame> {
    if spec.keys.is_none() && spec.first_key == 0 {
        return Ok(KeySlot::None);
    }
    if spec.keys.is_none() && spec.first_key == spec.last_key {
        let i = spec.first_key as usize;
        return Ok(if i < args.len() {
            KeySlot::Arg(i)
        } else {
            KeySlot::None
        });
    }
    // The first key, its hashed part and slot. A key with the same hashed part (MSET's
    // keys usually share a hash tag) needs no CRC: hashing every key was ~8% of an MSET;
    // a key equal to the first needs no search for its tag either.
    let mut first: Option<(&[u8], &[u8], u16)> = None;
    let mut same_slot = |p: usize| {
        let Some(k) = args.get(p) else {
            return true;
        };
        match first {
            None => {
                let tag = shoal_slots::hash_tag(k);
                first = Some((k, tag, shoal_slots::tag_slot(tag)));
            }
            Some((f, _, _)) if f == &k[..] => {}
            Some((_, t, s)) => {
                let tag = shoal_slots::hash_tag(k);
                if t != tag && shoal_slots::tag_slot(tag) != s {
                    return false;
                }
            }
        }
        true
    };
    let all_same = match spec.keys {
        Some(_) => spec.key_positions(args).into_iter().all(&mut same_slot),
        None => spec.fixed_key_positions(args).all(&mut same_slot),
    };
    if !all_same {
        return Err(Frame::static_error(
            "CROSSSLOT Keys in request don't hash to the same slot",
        ));
    }
    Ok(first.map_or(KeySlot::None, |(_, _, s)| KeySlot::Slot(s)))
}

/// How a batch of buffered requests ended.
enum BatchEnd {
    /// Everything complete was executed; read more.
    NeedMore,
    /// A command blocked; its reply comes later.
    Blocked(Parked),
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

    /// Writes everything: `buf` alone with one write, chunks with one vectored write per
    /// up to 64 of them. Cancel-safe: what was written is dropped from `self` after each
    /// write, so a caller may drop this future and call again.
    async fn write_to(&mut self, socket: &mut TcpStream) -> std::io::Result<()> {
        loop {
            let n = if self.chunks.is_empty() {
                if self.buf.is_empty() {
                    break;
                }
                socket.write(&self.buf).await?
            } else {
                self.seal();
                let mut iov = [IoSlice::new(&[]); 64];
                let k = self.slices(&mut iov);
                socket.write_vectored(&iov[..k]).await?
            };
            self.consume(n)?;
        }
        self.written_all();
        Ok(())
    }

    /// Writes what the socket takes without waiting. Ok(true) once everything is written.
    fn try_write(&mut self, socket: &TcpStream) -> std::io::Result<bool> {
        loop {
            let r = if self.chunks.is_empty() {
                if self.buf.is_empty() {
                    break;
                }
                socket.try_write(&self.buf)
            } else {
                self.seal();
                let mut iov = [IoSlice::new(&[]); 64];
                let k = self.slices(&mut iov);
                socket.try_write_vectored(&iov[..k])
            };
            match r {
                Ok(n) => self.consume(n)?,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        self.written_all();
        Ok(true)
    }

    /// Fills `iov` with the chunks to write next (`buf` sealed); returns how many.
    fn slices<'a>(&'a self, iov: &mut [IoSlice<'a>; 64]) -> usize {
        let mut k = 0;
        for (slot, c) in iov.iter_mut().zip(self.chunks.iter()) {
            *slot = IoSlice::new(c);
            k += 1;
        }
        k
    }

    /// Drops the first `n` bytes, which were written.
    fn consume(&mut self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        if self.chunks.is_empty() {
            bytes::Buf::advance(&mut self.buf, n);
            return Ok(());
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
        Ok(())
    }

    /// After everything was written: gives a grown buffer back (a big reply's).
    fn written_all(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > 1 << 20 {
            self.buf = BytesMut::with_capacity(16 * 1024);
        }
    }
}

/// Executes every complete request in `inbuf`, encoding replies into `out`.
async fn run_batch(
    session: &mut Session,
    decoder: &mut RequestDecoder,
    inbuf: &mut BytesMut,
    out: &mut Out,
    limits: &Limits,
    shared: &Shared,
) -> BatchEnd {
    let mut executed = 0u64;
    session.now_ms = unix_ms();
    let mut seg = std::mem::take(&mut session.seg);
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
        match session.classify(args) {
            Step::Keyspace(p) if p.spec.has(flags::BLOCKING) => {
                flush_segment(session, &mut seg, out, decoder).await;
                if let Some(parked) = session.run_blocking(p, &mut out.buf).await {
                    break BatchEnd::Blocked(parked);
                }
            }
            Step::Keyspace(p) => {
                seg.push(p);
                if seg.len() >= 1024 {
                    flush_segment(session, &mut seg, out, decoder).await;
                }
            }
            Step::Reply(f) => {
                flush_segment(session, &mut seg, out, decoder).await;
                if f.is_error() {
                    shared
                        .stats
                        .total_error_replies
                        .fetch_add(1, Ordering::Relaxed);
                }
                emit(session, &f, out);
            }
            Step::Exec(m) => {
                flush_segment(session, &mut seg, out, decoder).await;
                session.exec(m, &mut out.buf).await;
            }
            Step::Server(name, args) => {
                flush_segment(session, &mut seg, out, decoder).await;
                let frames = cmd::execute_many(session, &name, &args);
                if !session.stash.is_empty() {
                    let bytes = std::mem::take(&mut session.stash_bytes);
                    out.push_all(&mut session.stash, bytes);
                }
                for f in &frames {
                    if f.is_error() {
                        shared
                            .stats
                            .total_error_replies
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                if frames.len() == 1 {
                    emit(session, &frames[0], out);
                } else {
                    for f in &frames {
                        encode(f, session.proto, &mut out.buf);
                    }
                }
            }
        }
    };
    flush_segment(session, &mut seg, out, decoder).await;
    session.seg = seg;
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

/// One reply, after the subscriber's messages published before it (its own PUBLISH's
/// included), as in Redis.
fn emit(session: &Session, f: &Frame, out: &mut Out) {
    if session.subs > 0 {
        out.drain(&session.outbox);
    }
    encode(f, session.proto, &mut out.buf);
}

async fn flush_segment(
    session: &mut Session,
    seg: &mut Vec<Pending>,
    out: &mut Out,
    decoder: &mut RequestDecoder,
) {
    if seg.is_empty() {
        return;
    }
    if session.subs > 0 {
        out.drain(&session.outbox);
    }
    session.run_segment(seg, &mut out.buf, decoder).await;
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
    // Replies usually fit the socket's buffer: written at once, without registering for
    // wake-ups (a lock each time). Only a full socket waits, and then a kill or a close
    // for the output buffer limits ends the wait.
    let ok = match out.try_write(socket) {
        Ok(true) => true,
        Err(_) => false,
        Ok(false) => {
            let mut other = false;
            let ok = loop {
                tokio::select! {
                    r = out.write_to(socket) => break r.is_ok(),
                    _ = outbox.woken() => {
                        if outbox.is_closed() || info.is_killed() {
                            break false;
                        }
                        other = true;
                    }
                }
            };
            if other {
                // A message pushed meanwhile: the read loop's wait must see it.
                outbox.kick();
            }
            ok
        }
    };
    outbox.written(std::mem::take(&mut out.pushed));
    ok
}

/// Serves one client until it disconnects, quits, or is killed.
pub async fn serve(shared: Arc<Shared>, mut socket: TcpStream, info: Arc<ClientInfo>) {
    let _ = socket.set_nodelay(true);
    let authed = shared.runtime().requirepass.is_none();
    let outbox = info.outbox.clone();
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
        seg: Vec::new(),
        part: PartBuilder::default(),
        slots: Vec::new(),
        reply: Arc::default(),
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
        )
        .await;
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
            BatchEnd::Blocked(parked) => {
                if !flush(&shared, &mut socket, &mut out, &info, &outbox).await {
                    cancel_wait(&shared, parked.id);
                    break;
                }
                let reply = wait_blocked(&shared, &mut socket, &mut inbuf, &info, parked).await;
                match reply {
                    Some(b) => {
                        // Messages pushed while blocked, then the reply.
                        out.drain(&outbox);
                        out.buf.extend_from_slice(&b);
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
        // Biased: no random branch order to draw per request; the outbox first, so that
        // a kill or a close is seen even while the client keeps sending.
        tokio::select! {
            biased;
            _ = outbox.woken() => {
                if outbox.is_closed() || info.is_killed() {
                    break;
                }
                out.drain(&outbox);
            }
            r = socket.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            },
        }
    }
    shared.pubsub.remove_client(info.id);
    let _ = socket.shutdown().await;
}

fn cancel_wait(shared: &Shared, id: u64) {
    lock(&shared.shard.blocked).remove(id);
    shared.shard.update_tracking();
}

/// Waits for a blocked command's reply. Keeps reading (and buffering) what the client
/// sends meanwhile so a disconnect is noticed, and writes Pub/Sub messages (RESP3
/// subscribers may block). Returns None if the client went away or was killed.
async fn wait_blocked(
    shared: &Shared,
    socket: &mut TcpStream,
    inbuf: &mut BytesMut,
    info: &ClientInfo,
    parked: Parked,
) -> Option<Bytes> {
    let outbox = &info.outbox;
    let Parked {
        id,
        mut rx,
        deadline_ms,
        timeout_reply,
    } = parked;
    shared.stats.blocked_clients.fetch_add(1, Ordering::Relaxed);
    let sleep = async {
        match deadline_ms {
            Some(d) => tokio::time::sleep(Duration::from_millis(d.saturating_sub(unix_ms()))).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    let mut pushes = Out::new();
    let mut timed_out = false;
    let result = loop {
        tokio::select! {
            r = &mut rx => break r.ok(),
            _ = &mut sleep, if !timed_out => {
                // Timed out, unless a retry is serving us right now (then its outcome
                // decides: a pop is never lost to a client told it timed out).
                let removal = lock(&shared.shard.blocked).remove(id);
                match removal {
                    Removal::Removed => {
                        shared.shard.update_tracking();
                        break Some(timeout_reply);
                    }
                    Removal::InFlight | Removal::Gone => timed_out = true,
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(10)), if timed_out => {
                // A retry put us back after our deadline: time out now.
                if lock(&shared.shard.blocked).remove(id) == Removal::Removed {
                    shared.shard.update_tracking();
                    break Some(timeout_reply);
                }
            }
            r = socket.read_buf(inbuf) => match r {
                Ok(0) | Err(_) => {
                    cancel_wait(shared, id);
                    break None;
                }
                Ok(_) => {}
            },
            _ = outbox.woken() => {
                let ok = !outbox.is_closed() && !info.is_killed() && {
                    pushes.drain(outbox);
                    flush(shared, socket, &mut pushes, info, outbox).await
                };
                if !ok {
                    cancel_wait(shared, id);
                    break None;
                }
            }
        }
    };
    shared.stats.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    result
}
