//! Who is subscribed to what, and delivery.
//!
//! Three namespaces, as in Redis 7.0: channels (SUBSCRIBE), patterns (PSUBSCRIBE) and
//! shard channels (SSUBSCRIBE). A channel is found by hash lookup; patterns are matched
//! one by one against the published channel, so the cost of a PUBLISH depends on the
//! number of patterns and of receivers, never on unrelated channels.
//!
//! A message is encoded at most once per protocol (RESP2 array / RESP3 push) and per
//! pattern, and the resulting [`Bytes`] is shared by every receiver's [`Outbox`].
//! Publishing holds a read lock; (un)subscribing a write lock. Each publisher appends to
//! each receiver's FIFO queue while it publishes, so the messages of one publisher reach
//! every subscriber in publish order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use bytes::Bytes;
use shoal_core::glob;
use shoal_resp::{Frame, Protocol, encode};

use crate::outbox::{BufferLimit, Outbox};

/// A connection's id (CLIENT ID).
pub type ClientId = u64;

/// Which kind of subscription a command is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / UNSUBSCRIBE, messages `message`.
    Channel,
    /// PSUBSCRIBE / PUNSUBSCRIBE, messages `pmessage`.
    Pattern,
    /// SSUBSCRIBE / SUNSUBSCRIBE, messages `smessage`.
    Shard,
}

impl Kind {
    /// The confirmation's first element (`subscribe`, `psubscribe`, `ssubscribe`).
    pub fn subscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// Subscribers of one channel or pattern, by client.
type Subscribers = HashMap<ClientId, Arc<Outbox>>;

/// One client's subscriptions.
struct Client {
    outbox: Arc<Outbox>,
    channels: HashSet<Bytes>,
    /// In subscription order: PUNSUBSCRIBE without arguments reports them in this order,
    /// as Redis 7.0 (a list per client).
    patterns: Vec<Bytes>,
    shard: HashSet<Bytes>,
}

impl Client {
    /// The count a confirmation of `kind` reports: channels + patterns for the classic
    /// kinds, shard channels for the sharded one (Redis 7.0).
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty()
    }
}

#[derive(Default)]
struct Inner {
    clients: HashMap<ClientId, Client>,
    channels: HashMap<Bytes, Subscribers>,
    patterns: HashMap<Bytes, Subscribers>,
    shard: HashMap<Bytes, Subscribers>,
}

impl Inner {
    fn table(&mut self, kind: Kind) -> &mut HashMap<Bytes, Subscribers> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Removes `id` from the subscribers of `name`; drops the entry when it empties.
    fn detach(&mut self, kind: Kind, name: &[u8], id: ClientId) {
        let table = self.table(kind);
        if let Some(subs) = table.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                table.remove(name);
            }
        }
    }
}

/// One confirmation: (un)subscribed `name` (None: UNSUBSCRIBE while subscribed to
/// nothing), with the client's subscription count afterwards.
pub type Confirmation = (Option<Bytes>, usize);

/// Subscription counts of one client (CLIENT LIST `sub`, `psub`, `ssub`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCounts {
    pub channels: usize,
    pub patterns: usize,
    pub shard: usize,
    /// Messages queued for the client and not yet taken by its connection (`oll`).
    pub queued: usize,
    /// Bytes pushed and not yet written (`omem`).
    pub pending_bytes: usize,
}

impl ClientCounts {
    pub fn total(&self) -> usize {
        self.channels + self.patterns + self.shard
    }
}

/// The node's Pub/Sub state.
pub struct Registry {
    inner: RwLock<Inner>,
    limit: Mutex<BufferLimit>,
    epoch: Instant,
    /// Clients closed for overcoming their output buffer limits (INFO stats
    /// `client_output_buffer_limit_disconnections`).
    pub disconnections: AtomicU64,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(BufferLimit::PUBSUB_DEFAULT)
    }
}

/// A message encoded lazily, once per protocol.
struct Encoded<'a> {
    parts: &'a [&'a Bytes],
    kind: &'static [u8],
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl<'a> Encoded<'a> {
    fn new(kind: &'static [u8], parts: &'a [&'a Bytes]) -> Encoded<'a> {
        Encoded {
            parts,
            kind,
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, resp3: bool) -> &Bytes {
        let (slot, proto) = if resp3 {
            (&mut self.resp3, Protocol::Resp3)
        } else {
            (&mut self.resp2, Protocol::Resp2)
        };
        let (kind, parts) = (self.kind, self.parts);
        slot.get_or_insert_with(|| encode_message(kind, parts, proto))
    }
}

/// Encodes a `message` / `pmessage` / `smessage` (an array in RESP2, a push in RESP3).
pub fn encode_message(kind: &'static [u8], parts: &[&Bytes], proto: Protocol) -> Bytes {
    let mut items = Vec::with_capacity(parts.len() + 1);
    items.push(Frame::Bulk(Bytes::from_static(kind)));
    items.extend(parts.iter().map(|p| Frame::Bulk((*p).clone())));
    let len: usize = parts.iter().map(|p| p.len() + 16).sum::<usize>() + 32;
    let mut out = bytes::BytesMut::with_capacity(len);
    encode(&Frame::Push(items), proto, &mut out);
    out.freeze()
}

impl Registry {
    pub fn new(limit: BufferLimit) -> Registry {
        Registry {
            inner: RwLock::new(Inner::default()),
            limit: Mutex::new(limit),
            epoch: Instant::now(),
            disconnections: AtomicU64::new(0),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The pubsub class's output buffer limits.
    pub fn limit(&self) -> BufferLimit {
        *self.limit.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_limit(&self, limit: BufferLimit) {
        *self.limit.lock().unwrap_or_else(|e| e.into_inner()) = limit;
    }

    /// Subscribes client `id` to each of `names`, in order. Returns one confirmation per
    /// name (a repeated name is confirmed again with an unchanged count, as Redis).
    pub fn subscribe(
        &self,
        kind: Kind,
        id: ClientId,
        outbox: &Arc<Outbox>,
        names: &[Bytes],
    ) -> Vec<Confirmation> {
        let mut inner = self.write();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let client = inner.clients.entry(id).or_insert_with(|| Client {
                outbox: outbox.clone(),
                channels: HashSet::new(),
                patterns: Vec::new(),
                shard: HashSet::new(),
            });
            let added = match kind {
                Kind::Channel => client.channels.insert(name.clone()),
                Kind::Shard => client.shard.insert(name.clone()),
                Kind::Pattern => {
                    if client.patterns.contains(name) {
                        false
                    } else {
                        client.patterns.push(name.clone());
                        true
                    }
                }
            };
            let count = client.count(kind);
            if added {
                inner
                    .table(kind)
                    .entry(name.clone())
                    .or_default()
                    .insert(id, outbox.clone());
            }
            out.push((Some(name.clone()), count));
        }
        out
    }

    /// Unsubscribes client `id` from `names`, or from every subscription of `kind` when
    /// `names` is empty. Unsubscribing from nothing yields one `(None, count)`.
    pub fn unsubscribe(&self, kind: Kind, id: ClientId, names: &[Bytes]) -> Vec<Confirmation> {
        let mut inner = self.write();
        let targets: Vec<Bytes> = if names.is_empty() {
            match inner.clients.get(&id) {
                None => Vec::new(),
                Some(c) => match kind {
                    Kind::Channel => c.channels.iter().cloned().collect(),
                    Kind::Pattern => c.patterns.clone(),
                    Kind::Shard => c.shard.iter().cloned().collect(),
                },
            }
        } else {
            names.to_vec()
        };
        let mut out = Vec::with_capacity(targets.len().max(1));
        for name in targets {
            let (removed, count) = match inner.clients.get_mut(&id) {
                None => (false, 0),
                Some(c) => {
                    let removed = match kind {
                        Kind::Channel => c.channels.remove(&name),
                        Kind::Shard => c.shard.remove(&name),
                        Kind::Pattern => match c.patterns.iter().position(|p| *p == name) {
                            Some(i) => {
                                c.patterns.remove(i);
                                true
                            }
                            None => false,
                        },
                    };
                    (removed, c.count(kind))
                }
            };
            if removed {
                inner.detach(kind, &name, id);
            }
            out.push((Some(name), count));
        }
        if out.is_empty() {
            let count = inner.clients.get(&id).map_or(0, |c| c.count(kind));
            out.push((None, count));
        }
        if inner.clients.get(&id).is_some_and(Client::is_empty) {
            inner.clients.remove(&id);
        }
        out
    }

    /// Drops every subscription of a client (disconnect, RESET).
    pub fn remove_client(&self, id: ClientId) {
        let mut inner = self.write();
        let Some(c) = inner.clients.remove(&id) else {
            return;
        };
        for ch in &c.channels {
            inner.detach(Kind::Channel, ch, id);
        }
        for p in &c.patterns {
            inner.detach(Kind::Pattern, p, id);
        }
        for ch in &c.shard {
            inner.detach(Kind::Shard, ch, id);
        }
    }

    /// A client's subscription counts and output queue.
    pub fn client_counts(&self, id: ClientId) -> ClientCounts {
        self.read()
            .clients
            .get(&id)
            .map_or_else(ClientCounts::default, |c| ClientCounts {
                channels: c.channels.len(),
                patterns: c.patterns.len(),
                shard: c.shard.len(),
                queued: c.outbox.queued(),
                pending_bytes: c.outbox.pending_bytes(),
            })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Delivers `message` to the subscribers of `channel` and of every matching pattern.
    /// Returns the number of receivers (a client matching twice counts twice, as Redis).
    pub fn publish(&self, channel: &Bytes, message: &Bytes) -> usize {
        let limit = self.limit();
        let now = self.now_ms();
        let inner = self.read();
        let mut receivers = 0;
        let mut closed = 0;
        if let Some(subs) = inner.channels.get(&channel[..]) {
            let parts = [channel, message];
            let mut enc = Encoded::new(b"message", &parts);
            for o in subs.values() {
                closed += u64::from(o.push(enc.get(o.resp3()), limit, now));
                receivers += 1;
            }
        }
        for (pattern, subs) in &inner.patterns {
            if !glob::matches(pattern, channel) {
                continue;
            }
            let parts = [pattern, channel, message];
            let mut enc = Encoded::new(b"pmessage", &parts);
            for o in subs.values() {
                closed += u64::from(o.push(enc.get(o.resp3()), limit, now));
                receivers += 1;
            }
        }
        drop(inner);
        if closed > 0 {
            self.disconnections.fetch_add(closed, Ordering::Relaxed);
        }
        receivers
    }

    /// SPUBLISH: delivers to the subscribers of shard channel `channel`.
    pub fn spublish(&self, channel: &Bytes, message: &Bytes) -> usize {
        let limit = self.limit();
        let now = self.now_ms();
        let inner = self.read();
        let mut receivers = 0;
        let mut closed = 0;
        if let Some(subs) = inner.shard.get(&channel[..]) {
            let parts = [channel, message];
            let mut enc = Encoded::new(b"smessage", &parts);
            for o in subs.values() {
                closed += u64::from(o.push(enc.get(o.resp3()), limit, now));
                receivers += 1;
            }
        }
        drop(inner);
        if closed > 0 {
            self.disconnections.fetch_add(closed, Ordering::Relaxed);
        }
        receivers
    }

    /// Whether anyone could receive a message on any channel (lets keyspace
    /// notifications skip building channel names when nobody listens).
    pub fn has_subscribers(&self) -> bool {
        let inner = self.read();
        !inner.channels.is_empty() || !inner.patterns.is_empty()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channels, optionally matching a pattern.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let inner = self.read();
        let table = match kind {
            Kind::Shard => &inner.shard,
            _ => &inner.channels,
        };
        table
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of each channel.
    pub fn numsub(&self, kind: Kind, names: &[Bytes]) -> Vec<usize> {
        let inner = self.read();
        let table = match kind {
            Kind::Shard => &inner.shard,
            _ => &inner.channels,
        };
        names
            .iter()
            .map(|n| table.get(&n[..]).map_or(0, HashMap::len))
            .collect()
    }

    /// PUBSUB NUMPAT: distinct patterns with at least one subscriber.
    pub fn numpat(&self) -> usize {
        self.read().patterns.len()
    }

    /// INFO stats: (pubsub_channels, pubsub_patterns, pubsubshard_channels).
    pub fn stats(&self) -> (usize, usize, usize) {
        let inner = self.read();
        (
            inner.channels.len(),
            inner.patterns.len(),
            inner.shard.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn drain(o: &Outbox) -> Vec<Bytes> {
        let mut v = VecDeque::new();
        o.drain_into(&mut v);
        v.into_iter().collect()
    }

    #[test]
    fn counts_and_confirmations() {
        let r = Registry::default();
        let o = Arc::new(Outbox::new(false));
        let c = r.subscribe(Kind::Channel, 1, &o, &[b("a"), b("b"), b("a")]);
        assert_eq!(
            c,
            vec![(Some(b("a")), 1), (Some(b("b")), 2), (Some(b("a")), 2)]
        );
        let c = r.subscribe(Kind::Pattern, 1, &o, &[b("p*")]);
        assert_eq!(c, vec![(Some(b("p*")), 3)]);
        let c = r.subscribe(Kind::Shard, 1, &o, &[b("s")]);
        assert_eq!(c, vec![(Some(b("s")), 1)]);
        assert_eq!(r.stats(), (2, 1, 1));
        let c = r.unsubscribe(Kind::Channel, 1, &[b("zz")]);
        assert_eq!(c, vec![(Some(b("zz")), 3)]);
        let c = r.unsubscribe(Kind::Pattern, 1, &[]);
        assert_eq!(c, vec![(Some(b("p*")), 2)]);
        assert_eq!(r.unsubscribe(Kind::Pattern, 1, &[]), vec![(None, 2)]);
        r.remove_client(1);
        assert_eq!(r.stats(), (0, 0, 0));
        assert_eq!(r.unsubscribe(Kind::Channel, 1, &[]), vec![(None, 0)]);
    }

    #[test]
    fn publish_shares_one_buffer_per_protocol() {
        let r = Registry::default();
        let outs: Vec<_> = (0..4).map(|i| Arc::new(Outbox::new(i % 2 == 1))).collect();
        for (i, o) in outs.iter().enumerate() {
            r.subscribe(Kind::Channel, i as u64, o, &[b("ch")]);
        }
        assert_eq!(r.publish(&b("ch"), &b("hi")), 4);
        let got: Vec<Bytes> = outs.iter().flat_map(|o| drain(o)).collect();
        assert_eq!(
            &got[0][..],
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            &got[1][..],
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        // Same allocation for the receivers of one protocol.
        assert_eq!(got[0].as_ptr(), got[2].as_ptr());
        assert_eq!(got[1].as_ptr(), got[3].as_ptr());
    }

    #[test]
    fn patterns_and_shard_channels() {
        let r = Registry::default();
        let o = Arc::new(Outbox::new(false));
        r.subscribe(Kind::Pattern, 7, &o, &[b("events:*"), b("*:user")]);
        r.subscribe(Kind::Shard, 7, &o, &[b("events:user")]);
        assert_eq!(r.publish(&b("events:user"), &b("m")), 2);
        assert_eq!(r.publish(&b("other"), &b("m")), 0);
        assert_eq!(r.spublish(&b("events:user"), &b("s")), 1);
        let mut got = drain(&o);
        let last = got.pop();
        assert_eq!(
            last.as_deref(),
            Some(&b"*3\r\n$8\r\nsmessage\r\n$11\r\nevents:user\r\n$1\r\ns\r\n"[..])
        );
        got.sort();
        assert_eq!(
            &got[1][..],
            b"*4\r\n$8\r\npmessage\r\n$8\r\nevents:*\r\n$11\r\nevents:user\r\n$1\r\nm\r\n"
        );
        assert_eq!(r.numpat(), 2);
        assert_eq!(
            r.channels(Kind::Shard, Some(b"ev*")),
            vec![b("events:user")]
        );
        assert!(r.channels(Kind::Channel, None).is_empty());
    }

    #[test]
    fn slow_subscriber_is_closed_others_unaffected() {
        let r = Registry::new(BufferLimit {
            hard: 1000,
            soft: 0,
            soft_seconds: 0,
        });
        let slow = Arc::new(Outbox::new(false));
        let fast = Arc::new(Outbox::new(false));
        r.subscribe(Kind::Channel, 1, &slow, &[b("c")]);
        r.subscribe(Kind::Channel, 2, &fast, &[b("c")]);
        let msg = Bytes::from(vec![b'x'; 100]);
        let mut fast_got = 0;
        for _ in 0..100 {
            r.publish(&b("c"), &msg);
            let d = drain(&fast);
            fast_got += d.len();
            fast.written(d.iter().map(Bytes::len).sum());
        }
        assert!(slow.is_closed());
        assert_eq!(fast_got, 100);
        assert!(!fast.is_closed());
        assert_eq!(r.disconnections.load(Ordering::Relaxed), 1);
    }
}
