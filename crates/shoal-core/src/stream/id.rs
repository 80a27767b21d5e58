//! Stream IDs (`<ms>-<seq>`) and their parsing, with Redis's exact acceptance rules.
//!
//! Redis parses an ID by splitting at the first `-` and reading each part with
//! `string2ull`: a strict decimal first, then `strtoull` as a fallback, which also takes
//! leading whitespace, a `+` sign and leading zeros (`XRANGE s 01 +` works). The
//! argument is a C string: it ends at the first NUL byte, and one longer than 127 bytes
//! is invalid.

use bytes::Bytes;
use shoal_resp::Frame;

/// The error every malformed ID argument gets.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// A stream entry ID. Ordered as Redis compares them: by ms, then seq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID (`streamIncrID`), or None after the maximum.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID (`streamDecrID`), or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// `ms-seq` as text.
    pub fn to_bytes(self) -> Bytes {
        let mut a = itoa::Buffer::new();
        let mut b = itoa::Buffer::new();
        let ms = a.format(self.ms);
        let seq = b.format(self.seq);
        let mut v = Vec::with_capacity(ms.len() + 1 + seq.len());
        v.extend_from_slice(ms.as_bytes());
        v.push(b'-');
        v.extend_from_slice(seq.as_bytes());
        Bytes::from(v)
    }

    /// The ID as a bulk reply.
    pub fn frame(self) -> Frame {
        Frame::Bulk(self.to_bytes())
    }

    /// Big-endian 16-byte key, as Redis's rax stores it.
    pub fn key_bytes(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// C's `isspace` in the "C" locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Redis's `string2ull`: a strict `string2ll` (non-negative), else `strtoull` over the
/// whole string (leading whitespace and a sign allowed; a `-` negates modulo 2^64, as C
/// does; overflow fails).
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::args::parse_i64_strict(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// What an ID argument turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    /// False for XADD's `<ms>-*` form (the sequence is to be generated).
    pub seq_given: bool,
}

/// `streamGenericParseIDOrReply`: `-`/`+` (unless strict), `<ms>`, `<ms>-<seq>`, and
/// with `allow_auto_seq` the `<ms>-*` form. `missing_seq` fills a bare `<ms>`.
pub fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Option<ParsedId> {
    if arg.len() > 127 {
        return None;
    }
    // The argument is read as a C string.
    let s = match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    };
    if s == b"-" || s == b"+" {
        if strict {
            return None;
        }
        let id = if s == b"-" {
            StreamId::MIN
        } else {
            StreamId::MAX
        };
        return Some(ParsedId {
            id,
            seq_given: true,
        });
    }
    let (ms_part, seq_part) = match s.iter().position(|&b| b == b'-') {
        Some(d) => (&s[..d], Some(&s[d + 1..])),
        None => (s, None),
    };
    let ms = string2ull(ms_part)?;
    let (seq, seq_given) = match seq_part {
        Some(b"*") if allow_auto_seq => (0, false),
        Some(p) => (string2ull(p)?, true),
        None => (missing_seq, true),
    };
    Some(ParsedId {
        id: StreamId::new(ms, seq),
        seq_given,
    })
}

/// A non-strict ID (`-` and `+` allowed).
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Frame> {
    parse_id_generic(arg, missing_seq, false, false)
        .map(|p| p.id)
        .ok_or_else(|| Frame::static_error(INVALID_ID))
}

/// A strict ID (`-` and `+` refused), missing sequence 0.
pub fn parse_strict_id(arg: &[u8]) -> Result<StreamId, Frame> {
    parse_id_generic(arg, 0, true, false)
        .map(|p| p.id)
        .ok_or_else(|| Frame::static_error(INVALID_ID))
}

/// An interval bound of XRANGE/XPENDING/XAUTOCLAIM: an optional `(` makes it exclusive
/// (then the ID must be strict). Returns the ID and whether it was exclusive.
pub fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Frame> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_generic(&arg[1..], missing_seq, true, false)
            .ok_or_else(|| Frame::static_error(INVALID_ID))?;
        Ok((id.id, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

/// The inclusive start of an interval (exclusive bounds move up one).
pub fn parse_range_start(arg: &[u8]) -> Result<StreamId, Frame> {
    let (id, ex) = parse_interval_id(arg, 0)?;
    if ex {
        id.incr()
            .ok_or_else(|| Frame::static_error("ERR invalid start ID for the interval"))
    } else {
        Ok(id)
    }
}

/// The inclusive end of an interval (exclusive bounds move down one).
pub fn parse_range_end(arg: &[u8]) -> Result<StreamId, Frame> {
    let (id, ex) = parse_interval_id(arg, u64::MAX)?;
    if ex {
        id.decr()
            .ok_or_else(|| Frame::static_error("ERR invalid end ID for the interval"))
    } else {
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<StreamId> {
        parse_id_generic(s.as_bytes(), 0, false, false).map(|p| p.id)
    }

    #[test]
    fn accepts_what_redis_accepts() {
        // Verified with redis-cli 7.0.15 through XRANGE: `01`, `+1` work (strtoull
        // fallback); `-01`, `1-2-3` are invalid (split at the first dash).
        assert_eq!(p("01"), Some(StreamId::new(1, 0)));
        assert_eq!(p("+1"), Some(StreamId::new(1, 0)));
        assert_eq!(p(" 1"), Some(StreamId::new(1, 0)));
        assert_eq!(p("-01"), None);
        assert_eq!(p("1-2-3"), None);
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(p("1-"), None);
        assert_eq!(p(""), None);
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(p("5\0junk"), Some(StreamId::new(5, 0)));
        assert_eq!(p(&"1".repeat(128)), None);
        assert_eq!(
            parse_id_generic(b"5-*", 0, true, true),
            Some(ParsedId {
                id: StreamId::new(5, 0),
                seq_given: false
            })
        );
        assert_eq!(parse_id_generic(b"+", 0, true, false), None);
    }

    #[test]
    fn interval_bounds() {
        // `XRANGE s (18446744073709551615-18446744073709551615 +` → invalid start;
        // `XRANGE s - (0-0` → invalid end; `(+` → invalid ID (redis-cli 7.0.15).
        assert!(parse_range_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(parse_range_end(b"(0-0").is_err());
        assert_eq!(
            parse_range_end(b"(0"),
            Ok(StreamId::new(0, u64::MAX).decr().unwrap_or_default())
        );
        assert_eq!(
            parse_range_start(b"(+"),
            Err(Frame::static_error(INVALID_ID))
        );
        assert_eq!(
            parse_range_start(b"("),
            Err(Frame::static_error(INVALID_ID))
        );
    }
}
