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

/// A collection type stored in a [`Value`] variant: lets each command family reach its
/// own type with one shared lookup (and one WRONGTYPE rule) instead of its own copy.
pub trait Typed: Default + Sized {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
    fn into_value(self) -> Value;
}

macro_rules! typed {
    ($t:ty, $variant:ident) => {
        impl Typed for $t {
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn into_value(self) -> Value {
                Value::$variant(Box::new(self))
            }
        }
    };
}

typed!(List, List);
typed!(Hash, Hash);
typed!(Set, Set);
typed!(ZSet, ZSet);

fn wrongtype() -> shoal_resp::Frame {
    shoal_resp::Frame::static_error(crate::error::WRONGTYPE)
}

/// The `T` at `key` for reading (None if missing), or WRONGTYPE.
pub fn read<'a, T: Typed>(
    db: &'a crate::Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a T>, shoal_resp::Frame> {
    match db.get(key, now) {
        None => Ok(None),
        Some(v) => T::of(v).map(Some).ok_or_else(wrongtype),
    }
}

/// The `T` at `key` for writing, created empty if missing; WRONGTYPE otherwise. A caller
/// that may leave it empty must delete the key.
pub fn write<'a, T: Typed>(
    db: &'a mut crate::Db,
    key: &[u8],
    now: u64,
) -> Result<&'a mut T, shoal_resp::Frame> {
    // One lookup: a live key of another type is found (nothing is inserted) and refused.
    T::of_mut(db.get_or_insert_with(key, now, || T::default().into_value())).ok_or_else(wrongtype)
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_is_small() {
        // A string value must not make every map entry bigger than the key plus 24 bytes.
        assert!(std::mem::size_of::<super::Value>() <= 32);
    }
}
