//! Argument parsing with Redis's exact errors.
//!
//! Commands arrive as a list of byte strings. These helpers turn them into typed values
//! once, at the edge, failing with the reply Redis would give.

use bytes::Bytes;
use shoal_resp::Frame;

use crate::error;

/// A parse failure is the error reply to send.
pub type ParseResult<T> = Result<T, Frame>;

/// A cursor over a command's arguments (after the command name, or wherever it starts).
pub struct Args<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// A cursor over `args`, starting at index `start`.
    pub fn new(args: &'a [Bytes], start: usize) -> Args<'a> {
        Args { args, pos: start }
    }

    /// The next argument, if any.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'a Bytes> {
        let a = self.args.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }

    /// The next argument, or a syntax error.
    pub fn next_or_syntax(&mut self) -> ParseResult<&'a Bytes> {
        self.next()
            .ok_or_else(|| Frame::static_error(error::SYNTAX))
    }

    /// The next argument without consuming it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    /// Consumes the next argument if it equals `kw` (ASCII case-insensitive).
    pub fn eat(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(kw.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    /// The arguments not consumed yet.
    pub fn rest(&self) -> &'a [Bytes] {
        self.args.get(self.pos..).unwrap_or(&[])
    }

    /// Skips `n` arguments.
    pub fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.args.len());
    }

    /// The next argument as an i64, failing with `ERR value is not an integer or out of range`.
    pub fn next_i64(&mut self) -> ParseResult<i64> {
        parse_i64(self.next_or_syntax()?)
    }
}

/// Whether `arg` equals `kw`, ignoring ASCII case.
pub fn is(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// Parses a strict decimal i64 as Redis's `string2ll` does: no spaces, no `+`, no
/// leading zeros (except "0"), no "-0".
pub fn parse_i64_strict(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// An i64 argument, or `ERR value is not an integer or out of range`.
pub fn parse_i64(b: &[u8]) -> ParseResult<i64> {
    parse_i64_strict(b).ok_or_else(|| Frame::static_error(error::NOT_INTEGER))
}

/// A non-negative integer that fits usize, or the given error.
pub fn parse_usize_or(b: &[u8], err: &'static str) -> ParseResult<usize> {
    match parse_i64_strict(b) {
        Some(v) if v >= 0 => Ok(v as usize),
        _ => Err(Frame::static_error(err)),
    }
}

/// Parses a float as Redis's `string2ld`/`strtold` accepts it: decimal or exponent
/// notation, `inf`/`-inf`/`+inf`, no surrounding spaces, no NaN.
pub fn parse_f64_strict(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b.len() > 5120 {
        return None;
    }
    // Scores are mostly small integers: up to 15 digits convert to f64 exactly, as
    // strtold reads them ("-0" is -0.0 in both).
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
        let v = digits
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0')) as f64;
        return Some(if neg { -v } else { v });
    }
    if b[0].is_ascii_whitespace() || b[b.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    if !b.iter().any(u8::is_ascii_alphabetic) {
        // No letters: no inf/nan spelling to police, nothing to lower-case.
        return s.parse::<f64>().ok().filter(|v| !v.is_nan());
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts "nan"/"inf" spellings we handled above; refuse the rest of them.
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            lower.parse::<f64>().ok()?
        }
    };
    if v.is_nan() { None } else { Some(v) }
}

/// An f64 argument, or `ERR value is not a valid float`.
pub fn parse_f64(b: &[u8]) -> ParseResult<f64> {
    parse_f64_strict(b).ok_or_else(|| Frame::static_error(error::NOT_FLOAT))
}

/// A blocking command's timeout in seconds (float), as Redis's `getTimeoutFromObjectOrReply`
/// reads it, in milliseconds rounded up (0 = block forever). Redis casts the product to a
/// C `long long`, which turns anything out of its range into a negative number: hence
/// `ERR timeout is negative` for `inf` or `1e17`.
pub fn parse_timeout(b: &[u8]) -> ParseResult<u64> {
    let secs = parse_f64_strict(b).ok_or_else(|| Frame::static_error(error::TIMEOUT_NOT_FLOAT))?;
    let ms = (secs * 1000.0).ceil();
    if !(0.0..9.223_372_036_854_776e18).contains(&ms) && ms != 0.0 {
        return Err(Frame::static_error(error::TIMEOUT_NEGATIVE));
    }
    // -0.0 (from e.g. "-0.0001") is zero: block forever, as Redis does.
    Ok(ms as u64)
}

/// The absolute deadline of a blocking command's timeout at `now` (None: forever), or
/// `ERR timeout is out of range` when it would overflow.
pub fn timeout_deadline(timeout_ms: u64, now: u64) -> Result<Option<u64>, Frame> {
    if timeout_ms == 0 {
        return Ok(None);
    }
    match timeout_ms.checked_add(now) {
        Some(at) if at <= i64::MAX as u64 => Ok(Some(at)),
        _ => Err(Frame::static_error(error::TIMEOUT_OUT_OF_RANGE)),
    }
}

/// Formats an integer into a bulk reply without going through `String`.
pub fn int_bulk(v: i64) -> Frame {
    let mut buf = itoa::Buffer::new();
    Frame::Bulk(Bytes::copy_from_slice(buf.format(v).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"-12"), Some(-12));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"9223372036854775808"[..],
            b"01",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"1a",
        ] {
            assert_eq!(parse_i64_strict(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64_strict(b"1.5"), Some(1.5));
        // The integer fast path agrees with the general parser, signs and zeros included.
        assert!(parse_f64_strict(b"-0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
        assert_eq!(parse_f64_strict(b"007"), Some(7.0));
        assert_eq!(parse_f64_strict(b"+5"), Some(5.0));
        assert_eq!(parse_f64_strict(b"-"), None);
        for n in [
            0i64,
            1,
            -1,
            42,
            999_999_999_999_999,
            -999_999_999_999_999,
            1_234_567_890_123_456,
        ] {
            let text = n.to_string();
            assert_eq!(
                parse_f64_strict(text.as_bytes()),
                text.parse::<f64>().ok(),
                "{n}"
            );
        }
        assert_eq!(parse_f64_strict(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64_strict(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64_strict(b"nan"), None);
        assert_eq!(parse_f64_strict(b" 1"), None);
        assert_eq!(parse_f64_strict(b"abc"), None);
    }
}
