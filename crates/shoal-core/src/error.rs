//! Redis's error replies, word for word. Clients match on these texts (and on their
//! code prefix), so every command family takes them from here.

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const INVALID_EXPIRE_SET: &str = "ERR invalid expire time in 'set' command";
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

/// `ERR wrong number of arguments for 'name' command` (subcommands: `'container|sub'`).
pub fn wrong_arity(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// `ERR invalid expire time in 'cmd' command`.
pub fn invalid_expire(cmd: &str) -> String {
    format!("ERR invalid expire time in '{cmd}' command")
}
