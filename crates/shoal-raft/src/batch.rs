//! What a Raft entry carries: a [`Batch`] of client commands ([`Proposal`]s), kept in
//! its wire encoding from the moment the leader builds it.
//!
//! An entry is encoded for the leader's log, for every follower it is sent to, and for
//! every follower's log; it is decoded by every RPC that carries it and once more to be
//! applied. Held as one encoded buffer, all of those are a copy of that buffer (one
//! allocation per entry), where a tree of commands and arguments cost one allocation per
//! argument at every decode. The commands are decoded (as slices of the buffer, no copy)
//! only where they are applied.
//!
//! The encoding:
//!
//! ```text
//! [count: varint]                      (nothing more if count = 0)
//! parts, until count commands are read:
//!   [n: varint >= 1][base_ms: u64 LE]  n commands follow, stamped around base_ms
//!   per command: [flags: u8][now_ms - base_ms: zigzag varint][seed: u64 LE if flags & 4]
//!                [argc: varint] argc x ([len: varint][bytes])
//! flags: 1 = resp3, 2 = may_block, 4 = has a seed (else the seed is 0)
//! ```
//!
//! A part is what one connection submitted ([`Part`], encoded by the connection with a
//! [`PartBuilder`] as its requests arrive): the proposer joins the parts of many
//! connections into one batch by copying their bytes, without looking at a command.
//!
//! Clocks and seeds are most of a small command's weight (a `SET k v` is ~25 bytes of
//! arguments), so they are encoded by what they vary by: the commands of one part were
//! stamped within a millisecond or two of each other (a delta of one byte), and only the
//! few commands that choose at random carry a seed ([`shoal_core::Ctx::uses_seed`]).
//! Every byte saved here is saved in the leader's log, on the wire to each follower and
//! in each follower's log. Varints are LEB128; the delta wraps (any u64 round-trips).
//!
//! The leader parses each write once, at the connection, to run it there; the parsed
//! commands ride along with the batch in memory ([`Batch::take_parsed`]), so the
//! leader's own apply skips decoding and parsing them again. They are never encoded:
//! followers, and anything read back from the log, parse the bytes, which are the only
//! truth (parsing is deterministic, so both roads lead to the same command).
//!
//! A batch is checked when it is built from bytes (a decoded RPC or log entry), so a
//! batch that exists always decodes; the storage codec's checksum has already ruled out
//! corruption by then, this rules out a peer's nonsense.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde::Serialize;
use shoal_core::{Command, Ctx};

/// One client command, as the leader decided to run it.
///
/// `args` are the raw request arguments (`["SET", "k", "v"]`); every replica parses them
/// with [`shoal_core::parse`]. `ctx` carries everything nondeterministic (clock,
/// randomness, RESP3 flag), decided by the leader before proposing, so every replica
/// computes the same state and reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The request, command name first.
    pub args: Vec<Bytes>,
    /// The context every replica applies it with.
    pub ctx: Ctx,
}

impl Proposal {
    /// A proposal of `args` under `ctx`.
    pub fn new(args: Vec<Bytes>, ctx: Ctx) -> Self {
        Self { args, ctx }
    }
}

/// The payload of one Raft entry: many commands, applied in order and atomically (no
/// other entry interleaves). Each command gets its own reply.
///
/// A shard leader gathers the commands that arrive while its previous proposal is in
/// flight and proposes them as one batch, so throughput grows with load instead of being
/// bounded by fsync latency. Cloning is cheap (the encoding is shared).
#[derive(Clone, Default)]
pub struct Batch {
    /// The encoding described in the module doc, count first; empty for no commands.
    wire: Bytes,
    /// Number of commands.
    len: usize,
    /// The commands as the leader parsed them, part by part (see the module doc); shared
    /// by the clones of the entry (the log's cache of recent entries, the apply) and
    /// taken by the first apply.
    parsed: Option<Arc<Mutex<Option<PartsParsed>>>>,
}

/// Per part, its commands in order, each parsed or not.
type PartsParsed = Vec<Vec<Option<Command>>>;

/// Batches are equal when their commands are: what was parsed on the way is not part of
/// a batch's value.
impl PartialEq for Batch {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.wire == other.wire
    }
}

impl Eq for Batch {}

const RESP3: u8 = 1;
const MAY_BLOCK: u8 = 2;
const HAS_SEED: u8 = 4;

/// The commands one connection submits, encoded for a [`Batch`] (see the module doc):
/// built by a [`PartBuilder`], joined with others' by [`Batch::join`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Part {
    /// The commands, clocks relative to `base`.
    wire: Bytes,
    count: usize,
    base: u64,
    /// One per command: the command as parsed by the connection, if it was.
    parsed: Vec<Option<Command>>,
}

impl Part {
    /// The given commands as one part.
    pub fn of(commands: &[Proposal]) -> Part {
        let mut b = PartBuilder::default();
        for p in commands {
            b.push(&p.ctx, &p.args);
        }
        b.finish()
    }

    /// Number of commands.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the part has no commands.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Encodes commands into [`Part`]s. Reusable: [`PartBuilder::finish`] keeps the buffer's
/// spare capacity for the next part, so a connection encodes without allocating per
/// request.
#[derive(Default)]
pub struct PartBuilder {
    buf: BytesMut,
    count: usize,
    base: u64,
    parsed: Vec<Option<Command>>,
}

impl PartBuilder {
    /// Appends a command (`args`: name first) to run with `ctx`.
    pub fn push<A: AsRef<[u8]>>(&mut self, ctx: &Ctx, args: &[A]) {
        self.encode(ctx, args);
        self.parsed.push(None);
    }

    /// Appends a command with what `parse` makes of `args` (`None`: not parsed, or it did
    /// not parse): the leader's apply runs that instead of parsing the bytes again. It
    /// must be exactly what [`shoal_core::parse`] makes of `args`. (A closure, so that
    /// the large `Command` is built where it is kept instead of copied there.)
    pub fn push_parsed<A: AsRef<[u8]>>(
        &mut self,
        ctx: &Ctx,
        args: &mut [A],
        parse: impl FnOnce(&mut [A]) -> Option<Command>,
    ) {
        // Encoded first: `parse` may take arguments out of `args`.
        self.encode(ctx, args);
        self.parsed.push(parse(args));
    }

    fn encode<A: AsRef<[u8]>>(&mut self, ctx: &Ctx, args: &[A]) {
        if self.count == 0 {
            self.base = ctx.now_ms;
        }
        self.count += 1;
        let w = &mut self.buf;
        w.reserve(20 + args.iter().map(|a| a.as_ref().len() + 5).sum::<usize>());
        let seeded = ctx.seed != 0;
        w.put_u8(
            if ctx.resp3 { RESP3 } else { 0 }
                | if ctx.may_block { MAY_BLOCK } else { 0 }
                | if seeded { HAS_SEED } else { 0 },
        );
        put_varint(w, zigzag(ctx.now_ms.wrapping_sub(self.base)));
        if seeded {
            w.put_u64_le(ctx.seed);
        }
        put_varint(w, args.len() as u64);
        for a in args {
            let a = a.as_ref();
            put_varint(w, a.len() as u64);
            w.put_slice(a);
        }
    }

    /// Commands pushed since the last `finish`.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing was pushed since the last `finish`.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Takes the commands pushed so far as a part.
    pub fn finish(&mut self) -> Part {
        let part = Part {
            wire: self.buf.split().freeze(),
            count: self.count,
            base: self.base,
            // The next part is likely as long as this one: room for it up front, not
            // regrowth (a `Command` is large to copy).
            parsed: std::mem::replace(&mut self.parsed, Vec::with_capacity(self.count)),
        };
        self.count = 0;
        part
    }
}

impl Batch {
    /// A batch of the given commands, in apply order.
    pub fn new(commands: Vec<Proposal>) -> Self {
        Self::join(&mut [Part::of(&commands)])
    }

    /// The parts' commands, part after part: one copy of their bytes. What the parts
    /// parsed moves into the batch.
    pub fn join(parts: &mut [Part]) -> Self {
        let len: usize = parts.iter().map(Part::len).sum();
        if len == 0 {
            return Self::default();
        }
        let size: usize = parts.iter().map(|p| p.wire.len() + 18).sum();
        let mut w = BytesMut::with_capacity(size + 10);
        put_varint(&mut w, len as u64);
        let mut parsed = Vec::with_capacity(parts.len());
        let mut any_parsed = false;
        for p in parts.iter_mut().filter(|p| !p.is_empty()) {
            put_varint(&mut w, p.count as u64);
            w.put_u64_le(p.base);
            w.put_slice(&p.wire);
            let mut cmds = std::mem::take(&mut p.parsed);
            if cmds.len() != p.count {
                // Not one per command (a part built by hand): parse them all at apply.
                cmds.clear();
                cmds.resize(p.count, None);
            }
            any_parsed |= cmds.iter().any(Option::is_some);
            parsed.push(cmds);
        }
        Self {
            wire: w.freeze(),
            len,
            parsed: any_parsed.then(|| Arc::new(Mutex::new(Some(parsed)))),
        }
    }

    /// The commands the leader parsed when it built this batch, in order, one per
    /// command (`None` where the bytes must be parsed); `None` if there are none, or
    /// after the first call: they are applied once.
    pub fn take_parsed(&self) -> Option<Vec<Vec<Option<Command>>>> {
        let cell = self.parsed.as_ref()?;
        cell.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Takes an encoded batch (from a peer or the log), checking that it decodes.
    pub fn from_wire(wire: Bytes) -> Result<Self, BadBatch> {
        if wire.is_empty() {
            return Ok(Self::default());
        }
        let mut r = Reader { buf: &wire, at: 0 };
        let len = usize::try_from(r.varint()?).map_err(|_| BadBatch("command count"))?;
        if len == 0 {
            return Err(BadBatch("command count (zero, not empty)"));
        }
        let mut left = len;
        while left > 0 {
            let (n, base) = r.part_header(left)?;
            left -= n;
            for _ in 0..n {
                r.ctx(base)?;
                let argc = r.varint()?;
                for _ in 0..argc {
                    let n =
                        usize::try_from(r.varint()?).map_err(|_| BadBatch("argument length"))?;
                    r.take(n)?;
                }
            }
        }
        if r.at != wire.len() {
            return Err(BadBatch("trailing bytes"));
        }
        Ok(Self {
            wire,
            len,
            parsed: None,
        })
    }

    /// Number of commands.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch has no commands.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The encoding (what [`Batch::from_wire`] takes back).
    pub fn wire_bytes(&self) -> Bytes {
        self.wire.clone()
    }

    /// Size of the encoding in bytes (what the entry weighs in the log).
    pub fn encoded_len(&self) -> usize {
        self.wire.len()
    }

    /// The commands in apply order. Each call of `next_into` refills one argument vector,
    /// so applying a batch allocates nothing per command.
    pub fn commands(&self) -> Commands<'_> {
        let mut r = Reader {
            buf: &self.wire,
            at: 0,
        };
        // Checked by `join`/`from_wire`.
        let left = if self.wire.is_empty() {
            0
        } else {
            r.varint().unwrap_or(0) as usize
        };
        Commands {
            wire: &self.wire,
            at: r.at,
            left,
            part_left: 0,
            base: 0,
        }
    }
}

/// Iterates a [`Batch`]'s commands; see [`Batch::commands`].
pub struct Commands<'a> {
    wire: &'a Bytes,
    at: usize,
    /// Commands left in the batch, and in the current part.
    left: usize,
    part_left: usize,
    /// The current part's base clock (`now_ms` deltas are relative to it).
    base: u64,
}

impl<'a> Commands<'a> {
    /// Starts the next command: its context, and a reader at its argument count.
    fn begin(&mut self) -> Option<(Ctx, Reader<'a>)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let wire: &'a [u8] = self.wire;
        let mut r = Reader {
            buf: wire,
            at: self.at,
        };
        // The batch was checked when it was made; a failure here is a bug, answered by
        // ending the iteration rather than a panic.
        if self.part_left == 0 {
            (self.part_left, self.base) = r.part_header(self.left + 1).ok()?;
        }
        self.part_left -= 1;
        let ctx = r.ctx(self.base).ok()?;
        Some((ctx, r))
    }

    /// Puts the next command's arguments (slices of the batch, no copy) into `args` and
    /// returns its context; `None` after the last command.
    pub fn next_into(&mut self, args: &mut Vec<Bytes>) -> Option<Ctx> {
        let (ctx, mut r) = self.begin()?;
        args.clear();
        let argc = r.varint().ok()?;
        for _ in 0..argc {
            let n = r.varint().ok()? as usize;
            let start = r.at;
            r.take(n).ok()?;
            args.push(self.wire.slice(start..start + n));
        }
        self.at = r.at;
        Some(ctx)
    }

    /// Steps over the next command without decoding its arguments (the caller has them
    /// parsed already) and returns its context; `None` after the last command.
    pub fn skip_next(&mut self) -> Option<Ctx> {
        let (ctx, mut r) = self.begin()?;
        let argc = r.varint().ok()?;
        for _ in 0..argc {
            let n = r.varint().ok()? as usize;
            r.take(n).ok()?;
        }
        self.at = r.at;
        Some(ctx)
    }
}

impl Iterator for Commands<'_> {
    type Item = Proposal;

    fn next(&mut self) -> Option<Proposal> {
        let mut args = Vec::new();
        let ctx = self.next_into(&mut args)?;
        Some(Proposal { args, ctx })
    }
}

/// Why bytes are not a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadBatch(&'static str);

impl fmt::Display for BadBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed command batch: bad {}", self.0)
    }
}

impl std::error::Error for BadBatch {}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], BadBatch> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(BadBatch("length (truncated)"))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, BadBatch> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.take(1)?.first().ok_or(BadBatch("varint"))?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(BadBatch("varint"))
    }

    fn u64(&mut self) -> Result<u64, BadBatch> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    /// A part's command count (1 to `left`) and base clock.
    fn part_header(&mut self, left: usize) -> Result<(usize, u64), BadBatch> {
        let n = usize::try_from(self.varint()?)
            .ok()
            .filter(|n| (1..=left).contains(n))
            .ok_or(BadBatch("part length"))?;
        Ok((n, self.u64()?))
    }

    fn ctx(&mut self, base: u64) -> Result<Ctx, BadBatch> {
        let flags = *self.take(1)?.first().ok_or(BadBatch("flags"))?;
        if flags & !(RESP3 | MAY_BLOCK | HAS_SEED) != 0 {
            return Err(BadBatch("flags"));
        }
        let now_ms = base.wrapping_add(unzigzag(self.varint()?));
        let seed = if flags & HAS_SEED != 0 {
            self.u64()?
        } else {
            0
        };
        Ok(Ctx {
            now_ms,
            resp3: flags & RESP3 != 0,
            may_block: flags & MAY_BLOCK != 0,
            seed,
        })
    }
}

/// A wrapping difference as a small unsigned number: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
fn zigzag(delta: u64) -> u64 {
    let d = delta as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag(v: u64) -> u64 {
    (v >> 1) ^ (v & 1).wrapping_neg()
}

fn put_varint(w: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        w.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    w.put_u8(v as u8);
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.commands()).finish()
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Batch({} commands)", self.len)
    }
}

/// On the wire and in the log a batch is one byte string: its encoding.
impl Serialize for Batch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.wire)
    }
}

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Batch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an encoded command batch")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Batch, E> {
                Batch::from_wire(Bytes::copy_from_slice(v)).map_err(E::custom)
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Batch, E> {
                Batch::from_wire(Bytes::from(v)).map_err(E::custom)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&[u8]], ctx: Ctx) -> Proposal {
        Proposal::new(
            args.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
            ctx,
        )
    }

    fn sample() -> Vec<Proposal> {
        vec![
            p(
                &[b"XADD", b"s", b"*", b"f", b"v"],
                Ctx {
                    now_ms: 1_700_000_000_123,
                    resp3: true,
                    may_block: false,
                    seed: u64::MAX,
                },
            ),
            p(&[], Ctx::default()),
            p(
                &[b"SET", b"", &[0u8; 300]],
                Ctx {
                    now_ms: 0,
                    resp3: false,
                    may_block: true,
                    seed: 7,
                },
            ),
        ]
    }

    #[test]
    fn commands_round_trip_through_the_encoding() {
        let cmds = sample();
        let b = Batch::new(cmds.clone());
        assert_eq!(b.len(), 3);
        assert_eq!(b.commands().collect::<Vec<_>>(), cmds);
        let again = Batch::from_wire(b.wire.clone()).expect("valid");
        assert_eq!(again, b);
        let bytes = shoal_storage::encode(&b).expect("encode");
        let back: Batch = shoal_storage::decode(&bytes).expect("decode");
        assert_eq!(back.commands().collect::<Vec<_>>(), cmds);
        assert!(Batch::new(Vec::new()).is_empty());
        assert_eq!(Batch::new(Vec::new()).commands().count(), 0);
    }

    #[test]
    fn every_truncation_or_extension_is_rejected() {
        let wire = Batch::new(sample()).wire;
        for cut in 1..wire.len() {
            assert!(Batch::from_wire(wire.slice(..cut)).is_err(), "cut at {cut}");
        }
        let mut longer = wire.to_vec();
        longer.push(0);
        assert!(Batch::from_wire(Bytes::from(longer)).is_err());
        // A huge argument count or length must not allocate or panic.
        let mut bogus = BytesMut::new();
        put_varint(&mut bogus, 1);
        put_varint(&mut bogus, 1);
        bogus.put_slice(&[0u8; 10]); // base, flags, delta
        put_varint(&mut bogus, u64::MAX);
        assert!(Batch::from_wire(bogus.freeze()).is_err());
        // Unknown flags and a count of zero (the empty batch is zero bytes) are refused.
        let mut wire = Batch::new(sample()).wire.to_vec();
        wire[10] |= 0x80;
        assert!(Batch::from_wire(Bytes::from(wire)).is_err());
        assert!(Batch::from_wire(Bytes::from_static(&[0])).is_err());
        // Parts of no command, or of more commands than the batch holds, are refused.
        let valid = Batch::new(sample()).wire.to_vec();
        for n in [0u8, 4] {
            let mut w = valid.clone();
            w[1] = n;
            assert!(Batch::from_wire(Bytes::from(w)).is_err(), "part of {n}");
        }
    }

    #[test]
    fn joined_parts_apply_in_order() {
        let all = sample();
        let mut builder = PartBuilder::default();
        let mut parts = Vec::new();
        for chunk in [&all[..1], &all[1..1], &all[1..]] {
            for c in chunk {
                builder.push(&c.ctx, &c.args);
            }
            parts.push(builder.finish());
        }
        assert_eq!(parts.iter().map(Part::len).collect::<Vec<_>>(), [1, 0, 2]);
        let b = Batch::join(&mut parts);
        assert_eq!(b.len(), 3);
        assert_eq!(b.commands().collect::<Vec<_>>(), all);
        let again = Batch::from_wire(b.wire.clone()).expect("valid");
        assert_eq!(again.commands().collect::<Vec<_>>(), all);
        assert_eq!(
            Batch::join(&mut [Part::default(), Part::default()]),
            Batch::default()
        );
    }

    #[test]
    fn clocks_and_seeds_cost_bytes_only_when_they_vary() {
        let ctx = |now_ms, seed| Ctx {
            now_ms,
            resp3: false,
            may_block: true,
            seed,
        };
        // 100 `SET key:000000000042 xxx` stamped over 3 ms: 2 bytes of context each.
        let set = |ms| p(&[b"SET", b"key:000000000042", b"xxx"], ctx(ms, 0));
        let b = Batch::new((0..100).map(|i| set(1_700_000_000_000 + i % 3)).collect());
        assert_eq!(b.encoded_len(), 1 + 1 + 8 + 100 * (2 + 1 + 4 + 17 + 4));
        // Clocks going backwards or wrapping, and seeds, round-trip.
        let odd = vec![
            set(5),
            set(0),
            set(u64::MAX),
            p(&[b"SPOP", b"s"], ctx(1, 1)),
            p(&[b"SPOP", b"s"], ctx(1, u64::MAX)),
        ];
        let b = Batch::new(odd.clone());
        let back = Batch::from_wire(b.wire.clone()).expect("valid");
        assert_eq!(back.commands().collect::<Vec<_>>(), odd);
    }

    /// Stepping over commands reads the same contexts as decoding them, across parts.
    #[test]
    fn skip_next_reads_what_next_into_reads() {
        let cmds = sample();
        let b = Batch::join(&mut [Part::of(&cmds[..1]), Part::of(&cmds[1..])]);
        let mut skip = b.commands();
        let mut full = b.commands();
        let mut args = Vec::new();
        for want in &cmds {
            assert_eq!(skip.skip_next().as_ref(), Some(&want.ctx));
            assert_eq!(full.next_into(&mut args).as_ref(), Some(&want.ctx));
        }
        assert_eq!(skip.skip_next(), None);
    }

    /// What the parts parsed moves into the batch, one slot per command, and is handed
    /// out once; a part whose parsed commands do not match its count contributes none.
    #[test]
    fn parsed_commands_travel_with_the_batch_once() {
        let get = |k: &str| shoal_core::parse(&[Bytes::from("GET"), Bytes::from(k.to_owned())]);
        let parsed = |k: &str| match get(k) {
            Ok(shoal_core::Parsed::Keyspace(_, c)) => Some(c),
            _ => None,
        };
        let mut b1 = PartBuilder::default();
        b1.push_parsed(&Ctx::default(), &mut [&b"GET"[..], b"a"], |_| parsed("a"));
        b1.push(&Ctx::default(), &[&b"GET"[..], b"b"]);
        let mut odd = Part::of(&[Proposal::new(
            vec![Bytes::from("GET"), Bytes::from("c")],
            Ctx::default(),
        )]);
        odd.parsed = vec![parsed("c"), parsed("d")];
        let b = Batch::join(&mut [b1.finish(), Part::default(), odd]);
        assert_eq!(b.len(), 3);
        let taken = b.take_parsed().expect("parsed commands");
        assert_eq!(taken, vec![vec![parsed("a"), None], vec![None]]);
        assert!(b.take_parsed().is_none(), "handed out once");
        assert!(
            Batch::new(sample()).take_parsed().is_none(),
            "nothing parsed"
        );
        let copy = Batch::from_wire(b.wire_bytes()).expect("valid");
        assert_eq!(copy, b);
        assert!(copy.take_parsed().is_none(), "never encoded");
    }
}
