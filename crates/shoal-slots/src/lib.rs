//! Key → hash slot, exactly as Redis Cluster computes it.
//!
//! A slot is `CRC16/XMODEM(k) mod 16384`, where `k` is the whole key unless the key holds
//! a *hash tag*: the bytes between the first `{` and the first `}` after it, when that
//! span is non-empty. Hash tags let related keys (`{user1000}.following`,
//! `{user1000}.followers`) land in one slot so multi-key commands may use them together.

/// Number of hash slots in a cluster.
pub const SLOT_COUNT: u16 = 16384;

/// The hash slot of `key`.
pub fn key_slot(key: &[u8]) -> u16 {
    tag_slot(hash_tag(key))
}

/// The hash slot of a key's hashed part ([`hash_tag`]): keys whose hashed parts are
/// equal share a slot without computing it twice.
pub fn tag_slot(hashed: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOT_COUNT
}

/// The part of `key` that is hashed: the hash tag if there is a non-empty one, else the key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        let rest = &key[open + 1..];
        if let Some(close) = rest.iter().position(|&b| b == b'}')
            && close > 0
        {
            return &rest[..close];
        }
    }
    key
}

/// An inclusive range of slots, as CLUSTER SLOTS reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
}

impl SlotRange {
    /// Every slot.
    pub const ALL: SlotRange = SlotRange {
        start: 0,
        end: SLOT_COUNT - 1,
    };

    /// Whether `slot` falls in this range.
    pub fn contains(&self, slot: u16) -> bool {
        self.start <= slot && slot <= self.end
    }

    /// How many slots the range covers.
    pub fn len(&self) -> usize {
        usize::from(self.end - self.start) + 1
    }

    /// A range always holds at least one slot.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // Empty tag: the whole key is hashed.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        // The tag ends at the first `}` after the first `{`.
        assert_eq!(hash_tag(b"foo{{bar}}"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(tag_slot(hash_tag(b"key:{tag}:1")), key_slot(b"key:{tag}:2"));
        // Values Redis reports for CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn no_closing_brace_hashes_whole_key() {
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        assert_eq!(hash_tag(b"}foo{"), b"}foo{");
    }

    #[test]
    fn ranges() {
        assert_eq!(SlotRange::ALL.len(), 16384);
        assert!(SlotRange::ALL.contains(16383));
        assert!(!SlotRange { start: 5, end: 9 }.contains(10));
    }
}
