//! The command table: one [`CommandSpec`] per command, as Redis's `commands.def`.
//!
//! The table drives arity errors, `COMMAND` / `COMMAND INFO` / `COMMAND DOCS`, the key
//! positions used for slot routing and `CROSSSLOT`, and parsing: a spec with a `parse`
//! function is a keyspace command executed by the core; one without is handled by the
//! server (connection, admin and cluster commands).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;
use shoal_resp::Frame;

use crate::args::ParseResult;
use crate::command::Command;

/// Command flags, named as `COMMAND INFO` prints them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const MOVABLEKEYS: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;

    /// Flag bits with their `COMMAND INFO` names, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Parses a command's full argument list (name first) into a typed command.
pub type ParseFn = fn(&[Bytes]) -> ParseResult<Command>;

/// Finds the key argument positions of a command whose keys move (XREAD's STREAMS, ...).
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

/// Everything Shoal knows about one command (or one subcommand of a container).
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (`"get"`; for a subcommand `"create"`).
    pub name: &'static str,
    /// Redis arity: `n > 0` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    /// Bitwise OR of [`flags`].
    pub flags: u32,
    /// First key position (0 = no keys), last key (-1 = last argument), step.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories without '@' (`"read"`, `"string"`, `"fast"`).
    pub acl: &'static [&'static str],
    /// Parser of a keyspace command; `None` when the server executes it.
    pub parse: Option<ParseFn>,
    /// Key positions of a command with MOVABLEKEYS.
    pub keys: Option<KeysFn>,
    /// Subcommands of a container command (`XGROUP CREATE`, `CONFIG GET`).
    pub subcommands: &'static [CommandSpec],
    /// One-line summary for `COMMAND DOCS`.
    pub summary: &'static str,
    /// Version of Redis that introduced it (for `COMMAND DOCS`).
    pub since: &'static str,
    /// Command group for `COMMAND DOCS` (`"string"`, `"stream"`, ...).
    pub group: &'static str,
}

impl CommandSpec {
    /// A spec with no keys, no parser, no subcommands; fill the rest with struct update syntax.
    pub const BASE: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &[],
        parse: None,
        keys: None,
        subcommands: &[],
        summary: "",
        since: "1.0.0",
        group: "generic",
    };

    /// A spec with the fields every command has; the rest via the builder methods below.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: (i32, i32, i32),
        acl: &'static [&'static str],
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            acl,
            ..CommandSpec::BASE
        }
    }

    /// Makes this a keyspace command parsed by `f`.
    pub const fn parser(mut self, f: ParseFn) -> CommandSpec {
        self.parse = Some(f);
        self
    }

    /// Key positions found by `f` (sets MOVABLEKEYS).
    pub const fn movable(mut self, f: KeysFn) -> CommandSpec {
        self.keys = Some(f);
        self.flags |= flags::MOVABLEKEYS;
        self
    }

    /// Makes this a container of `subs`.
    pub const fn subs(mut self, subs: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subs;
        self
    }

    /// Documentation for COMMAND DOCS.
    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> CommandSpec {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self
    }

    /// Whether `n` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, n: usize) -> bool {
        let n = n as i64;
        let a = i64::from(self.arity);
        if a >= 0 { n == a } else { n >= -a }
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn is_write(&self) -> bool {
        self.has(flags::WRITE)
    }

    /// Indices of the key arguments in `args` (name at index 0).
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        if let Some(f) = self.keys {
            return f(args);
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let len = args.len() as i32;
        let last = if self.last_key < 0 {
            len + self.last_key
        } else {
            self.last_key.min(len - 1)
        };
        let step = self.step.max(1);
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last {
            out.push(i as usize);
            i += step;
        }
        out
    }
}

/// What looking a command up found.
pub enum Lookup {
    /// The spec to run (for a container, the subcommand's), with its display name
    /// (`get`, `xgroup|create`) for error messages.
    Found(&'static CommandSpec, Cow<'static, str>),
    /// The error reply to send (unknown command/subcommand, wrong arity).
    Error(Frame),
}

/// All commands. Each family module contributes its own table.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    crate::command::FAMILIES.iter().flat_map(|f| f.iter())
}

/// Name → spec index, built once: lookup is on every request's path.
fn index() -> &'static HashMap<&'static [u8], &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static [u8], &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| all().map(|s| (s.name.as_bytes(), s)).collect())
}

fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    // Lower-case into a stack buffer: no allocation per request.
    let mut buf = [0u8; 32];
    let lower = buf.get_mut(..name.len())?;
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    index().get(&*lower).copied()
}

/// Finds a top-level command by name (any case).
pub fn get(name: &[u8]) -> Option<&'static CommandSpec> {
    find(name)
}

/// Finds the command for `args`, resolving subcommands and checking arity, with Redis's
/// error replies.
pub fn lookup(args: &[Bytes]) -> Lookup {
    let Some(name) = args.first() else {
        return Lookup::Error(Frame::static_error("ERR empty command"));
    };
    let Some(spec) = find(name) else {
        return Lookup::Error(unknown_command(args));
    };
    if !spec.subcommands.is_empty() {
        if args.len() < 2 {
            // COMMAND alone is valid; CLIENT alone is an arity error.
            return if spec.arity_ok(args.len()) {
                Lookup::Found(spec, Cow::Borrowed(spec.name))
            } else {
                Lookup::Error(Frame::error(crate::error::wrong_arity(spec.name)))
            };
        }
        let sub = &args[1];
        let Some(subspec) = spec
            .subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(sub))
        else {
            return Lookup::Error(Frame::error(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                truncate_lossy(sub, 128),
                spec.name.to_ascii_uppercase()
            )));
        };
        let full = format!("{}|{}", spec.name, subspec.name);
        if !subspec.arity_ok(args.len()) {
            return Lookup::Error(Frame::error(crate::error::wrong_arity(&full)));
        }
        return Lookup::Found(subspec, Cow::Owned(full));
    }
    if !spec.arity_ok(args.len()) {
        return Lookup::Error(Frame::error(crate::error::wrong_arity(spec.name)));
    }
    Lookup::Found(spec, Cow::Borrowed(spec.name))
}

/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `, as Redis 7 words it.
pub fn unknown_command(args: &[Bytes]) -> Frame {
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        truncate_lossy(&args[0], 128)
    );
    // Redis appends `'arg' ` while the list is shorter than 128 bytes, each argument cut
    // to what is left of those 128.
    let mut list = String::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let shown = truncate_lossy(a, 128 - list.len());
        list.push('\'');
        list.push_str(&shown);
        list.push_str("' ");
    }
    msg.push_str(&list);
    Frame::error(msg)
}

/// Redis prints user strings into errors with `%.128s` and turns newlines into spaces so
/// the error stays a single protocol line.
pub fn truncate_lossy(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned();
    s.replace(['\r', '\n'], " ")
}
