//! `SmallBytes`: a byte string that stores up to 22 bytes inline.
//!
//! Keys, short string values and most field names are tiny. Keeping them inline saves a
//! heap allocation and its header per item, which dominates memory use for millions of
//! small keys. Lookups borrow it as `[u8]`, so maps keyed by it accept `&[u8]`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

/// An immutable byte string, inline when short.
#[derive(Clone)]
pub enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    /// Copies `b`.
    pub fn new(b: &[u8]) -> SmallBytes {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            SmallBytes::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            SmallBytes::Heap(b.into())
        }
    }

    /// The empty string.
    pub const fn empty() -> SmallBytes {
        SmallBytes::Inline {
            len: 0,
            buf: [0; INLINE],
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..usize::from(*len)],
            SmallBytes::Heap(b) => b,
        }
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for SmallBytes {}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

/// Hashes exactly as `[u8]` does, so `Borrow<[u8]>` lookups find the entry.
impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        let s = SmallBytes::new(b"key:1");
        assert!(matches!(s, SmallBytes::Inline { .. }));
        assert_eq!(&*s, b"key:1");
        let long = vec![7u8; 100];
        let h = SmallBytes::new(&long);
        assert!(matches!(h, SmallBytes::Heap(_)));
        assert_eq!(&*h, &long[..]);
    }
}
