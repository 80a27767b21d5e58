//! Typed commands and how they are applied.
//!
//! A request is parsed once, at the edge, into a [`Command`]: one variant per command
//! family, each holding that family's own enum (`string::StringCommand`, ...). Applying a
//! command to a [`Db`] with a [`Ctx`] is deterministic: the same commands with the same
//! contexts give the same state and replies on every replica.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::db::Db;
use crate::table::{CommandSpec, Lookup};
use crate::{blocking, generic, hash, list, server, set, stream, string, zset};

/// Everything nondeterministic a command may depend on, decided before it is applied
/// (by the leader, in a replicated shard) and carried with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ctx {
    /// Wall-clock milliseconds since the Unix epoch: `XADD *` IDs, expiry, idle times.
    pub now_ms: u64,
    /// The client speaks RESP3 (a few replies change shape, not just type).
    pub resp3: bool,
    /// The command may block (false inside MULTI/EXEC: it answers as if timed out).
    pub may_block: bool,
    /// Seed for commands that choose at random ([`Ctx::uses_seed`]); 0 for the others,
    /// so that a replicated entry carries seeds only where they matter.
    pub seed: u64,
}

impl Ctx {
    /// Whether the command named `name` (any case) chooses at random, from `seed`.
    pub fn uses_seed(name: &[u8]) -> bool {
        const RANDOM: [&[u8]; 4] = [b"spop", b"srandmember", b"hrandfield", b"zrandmember"];
        RANDOM.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}

/// The outcome of applying a command.
#[derive(Debug)]
pub enum Reply {
    /// Send this reply.
    Frame(Frame),
    /// Nothing to serve yet: park the client until one of `keys` is signalled ready
    /// (see [`crate::db::Effects::ready`]) or the deadline passes.
    Block(Box<Block>),
}

impl Reply {
    /// The reply frame, if the command did not block.
    pub fn into_frame(self) -> Option<Frame> {
        match self {
            Reply::Frame(f) => Some(f),
            Reply::Block(_) => None,
        }
    }
}

impl From<Frame> for Reply {
    fn from(f: Frame) -> Self {
        Reply::Frame(f)
    }
}

/// A blocked command, as the server parks it.
#[derive(Debug)]
pub struct Block {
    /// Keys whose readiness should retry the command.
    pub keys: Vec<Bytes>,
    /// Absolute deadline in ms; None blocks forever.
    pub deadline_ms: Option<u64>,
    /// The command to apply when woken (with `$`-style arguments resolved).
    pub retry: Command,
    /// The retry as request arguments, when it differs from the original request (an
    /// internal command); None retries the original arguments. A replicated shard
    /// proposes retries as log entries, and log entries carry arguments.
    pub retry_args: Option<Vec<Bytes>>,
    /// The reply when the deadline passes.
    pub timeout_reply: Frame,
}

/// A parsed keyspace command.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    String(string::StringCommand),
    Generic(generic::GenericCommand),
    List(list::ListCommand),
    Hash(hash::HashCommand),
    Set(set::SetCommand),
    ZSet(zset::ZSetCommand),
    Stream(stream::StreamCommand),
}

impl Command {
    /// Applies the command to `db`.
    pub fn apply(self, db: &mut Db, ctx: &Ctx) -> Reply {
        match self {
            Command::String(c) => c.apply(db, ctx),
            Command::Generic(c) => c.apply(db, ctx),
            Command::List(c) => c.apply(db, ctx),
            Command::Hash(c) => c.apply(db, ctx),
            Command::Set(c) => c.apply(db, ctx),
            Command::ZSet(c) => c.apply(db, ctx),
            Command::Stream(c) => c.apply(db, ctx),
        }
    }
}

/// Every family's command table. The server-executed commands come first.
pub static FAMILIES: &[&[CommandSpec]] = &[
    server::COMMANDS,
    generic::COMMANDS,
    string::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    stream::COMMANDS,
    blocking::COMMANDS,
];

/// What a request turned out to be.
pub enum Parsed {
    /// A keyspace command for the core, with its spec.
    Keyspace(&'static CommandSpec, Command),
    /// A command the server executes itself (connection, admin, cluster, pub/sub), with
    /// its spec and display name (`client|setname`).
    Server(&'static CommandSpec, std::borrow::Cow<'static, str>),
}

/// Looks up, checks arity and parses a request. Errors are the reply to send.
pub fn parse(args: &[Bytes]) -> Result<Parsed, Frame> {
    match crate::table::lookup(args) {
        Lookup::Error(e) => Err(e),
        Lookup::Found(spec, name) => parse_found(spec, name, args),
    }
}

/// Parses a request whose spec was already looked up (saves a second lookup).
pub fn parse_found(
    spec: &'static CommandSpec,
    name: std::borrow::Cow<'static, str>,
    args: &[Bytes],
) -> Result<Parsed, Frame> {
    match spec.parse {
        Some(p) => Ok(Parsed::Keyspace(spec, p(args)?)),
        None => Ok(Parsed::Server(spec, name)),
    }
}

/// [`parse`], taking the arguments a command keeps out of `args` where its spec has a
/// [`TakeFn`](crate::table::TakeFn) (what is left of `args` is then unspecified, but for
/// `args[1]`): for callers that drop the arguments right after.
pub fn parse_take(args: &mut [Bytes]) -> Result<Parsed, Frame> {
    match crate::table::lookup(args) {
        Lookup::Error(e) => Err(e),
        Lookup::Found(spec, name) => match spec.parse_taking(args) {
            Some(command) => Ok(Parsed::Keyspace(spec, command?)),
            None => Ok(Parsed::Server(spec, name)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::Ctx;
    use bytes::Bytes;

    fn args(words: &str) -> Vec<Bytes> {
        words
            .split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn view(p: Result<super::Parsed, shoal_resp::Frame>) -> String {
        match p {
            Ok(super::Parsed::Keyspace(spec, c)) => format!("{} {c:?}", spec.name),
            Ok(super::Parsed::Server(_, name)) => format!("server {name}"),
            Err(e) => format!("{e:?}"),
        }
    }

    /// Taking parsers make the same commands and errors as the borrowing ones and leave
    /// the first key where the connection looks for it; they exist only where the first
    /// key is `args[1]`.
    #[test]
    fn takers_parse_as_parsers_do() {
        let requests = [
            "SET k v",
            "SET k v EX 10 GET",
            "SET k v NX XX",
            "SET k v PX",
            "MSET k1 v1 k2 v2 k3 v3",
            "MSET k1 v1 k2",
            "MSETNX k1 v1 k2 v2",
            "HSET h f1 v1 f2 v2",
            "HSET h f1",
            "HMSET h f v",
            "LPUSH l a b c",
            "RPUSH l a",
            "SADD s a b a",
            "XADD x * f v g w",
            "XADD x MAXLEN ~ 10 LIMIT 5 1-1 f v",
            "XADD x NOMKSTREAM MINID = 5 * f v",
            "XADD x 0-0 f v",
            "XADD x * f",
            "XADD x BOGUS * f v",
        ];
        for r in requests {
            let a = args(r);
            let mut taken = a.clone();
            let (t, p) = (view(super::parse_take(&mut taken)), view(super::parse(&a)));
            assert_eq!(t, p, "{r}");
            assert_eq!(taken[1], a[1], "{r}: the first key");
        }
        for spec in crate::table::all() {
            if spec.take.is_some() {
                assert_eq!(spec.first_key, 1, "{}", spec.name);
                assert!(spec.parse.is_some(), "{}", spec.name);
            }
        }
    }

    /// The commands that read `ctx.seed` (set.rs, hash.rs, zset: a command missing here
    /// would always draw from seed 0) are recognised in any case; the rest carry no seed.
    #[test]
    fn seeded_commands() {
        for name in ["SPOP", "srandmember", "HRandField", "zrandmember"] {
            assert!(Ctx::uses_seed(name.as_bytes()), "{name}");
        }
        for name in ["SET", "XADD", "spo", "spopx", ""] {
            assert!(!Ctx::uses_seed(name.as_bytes()), "{name}");
        }
    }
}
