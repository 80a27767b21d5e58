//! The value stored under a key.

use crate::hash::Hash;
use crate::list::List;
use crate::set::Set;
use crate::small::SmallBytes;
use crate::stream::Stream;
use crate::zset::ZSet;

/// A key's value: one of Redis's data types. Collections are boxed so that the common
/// case, a short string, keeps the map entry small.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(SmallBytes),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_is_small() {
        // A string value must not make every map entry bigger than the key plus 24 bytes.
        assert!(std::mem::size_of::<super::Value>() <= 32);
    }
}
