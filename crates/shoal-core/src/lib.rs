//! `shoal-core`: the deterministic heart of Shoal.
//!
//! It holds a shard's keyspace ([`Db`]) and executes typed commands against it. It does
//! no I/O, spawns nothing, and reads no clock or random source: everything
//! nondeterministic arrives in a command's [`Ctx`]. Applying the same commands with the
//! same contexts in the same order yields byte-identical state and replies on any
//! replica, which is what Raft replication, snapshots and restart recovery rely on.
//!
//! Layout: one module per command family (`string`, `generic`, `list`, `hash`, `set`,
//! `zset`, `stream/`), each with its table entries, parsers and `apply`; `table` is the
//! command table; `db` the keyspace; `snapshot` the encoding of a keyspace.

pub mod args;
pub mod blocking;
pub mod command;
pub mod db;
pub mod error;
pub mod generic;
pub mod glob;
pub mod hash;
pub mod keytable;
pub mod list;
pub mod rand;
pub mod server;
pub mod set;
pub mod small;
pub mod snapshot;
pub mod stream;
pub mod string;
pub mod table;
pub mod value;
pub mod zset;

pub use blocking::prefer_ready_key;
pub use command::{Block, Command, Ctx, Parsed, Reply, parse, parse_take};
pub use db::Db;
pub use small::SmallBytes;
pub use value::Value;
