//! Server-side request decoding: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The decoder mirrors Redis 7.0's `processMultibulkBuffer` / `processInlineBuffer`
//! closely enough that a client sees the same replies and the same error texts, byte for
//! byte. Where Redis's behaviour is surprising it is kept on purpose, because clients and
//! test suites depend on it:
//!
//! * The byte after a `\r` that ends a count line is skipped without being checked, and
//!   the two bytes after a bulk's payload are skipped without being checked either
//!   (`*1\r\n$4\r\nPINGxx` is a valid `PING`).
//! * `*0` and negative multibulk counts (`*-1`, `*-5`) are silently skipped, as are empty
//!   inline lines.
//! * Inline lines may end in a bare `\n`.
//!
//! Deliberate divergences (Redis's behaviour there comes from C strings, not design):
//!
//! * Redis looks for line ends with `strchr`, which stops at a NUL byte, so an inline line
//!   containing NUL before its `\n` stalls the connection until 64 KiB have piled up.
//!   Here the `\n` is found regardless, and the line is cut at the NUL, which is what
//!   `sdssplitargs` would have seen.
//! * Redis 7.0 accepts multibulk counts up to `INT_MAX`; Shoal enforces
//!   [`Limits::max_multibulk_len`] (1 Mi by default, Redis 6's limit) with Redis's
//!   "invalid multibulk length" text, because a count is a promise of memory to come.
//!
//! ## Why the decoder is stateful
//!
//! A network read delivers whatever the kernel had: a 512 MB `SET` arrives in thousands of
//! pieces, and a 1M-argument `DEL` has a million length lines. Re-parsing from the start of
//! the command on every read would make such a command cost O(n²). So the decoder consumes
//! each argument from the buffer as soon as it is complete, remembers how many arguments
//! are still owed and the length of the bulk being waited for, and remembers how far it has
//! already searched for a line terminator. Every byte is looked at a bounded number of
//! times, however the input is chunked.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

/// The limits Redis applies to requests, before and after authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk argument (`proto-max-bulk-len`, 512 MiB by default).
    pub max_bulk_len: usize,
    /// Largest number of arguments in one multibulk request.
    pub max_multibulk_len: usize,
    /// Longest inline line, and longest count line of a multibulk request, that may sit in
    /// the buffer without its terminator (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// Before authentication Redis 7 refuses requests bigger than any `AUTH`/`HELLO` could be,
/// so an unauthenticated peer cannot make the server buffer large amounts of memory.
const UNAUTH_MAX_MULTIBULK: usize = 10;
const UNAUTH_MAX_BULK: usize = 16384;

/// A request that breaks the protocol. The text is Redis's, without the `ERR ` prefix
/// (e.g. `Protocol error: invalid bulk length`). The caller replies `-ERR <text>` and then
/// closes the connection, as Redis does: after a framing error the stream can no longer be
/// trusted to be in sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    pub(crate) fn new(s: &str) -> Self {
        ProtocolError(s.to_owned())
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Where the decoder is inside the command at the front of the buffer.
#[derive(Debug, Default)]
enum State {
    /// Between commands: the next byte decides multibulk (`*`) or inline.
    #[default]
    Start,
    /// Inside a multibulk command whose count line has been consumed.
    Multibulk {
        /// Arguments still to come, including the one being read.
        remaining: usize,
        /// The length of the bulk being waited for, once its `$len` line is consumed.
        bulk_len: Option<usize>,
    },
}

/// Incremental, resumable decoder for client requests. One per connection.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    state: State,
    /// Arguments of the multibulk command in progress, already split off the buffer.
    args: Vec<Bytes>,
    /// How many bytes at the front of the buffer are known to hold no line terminator, so
    /// a long line arriving in pieces is searched once, not once per piece.
    scanned: usize,
    /// Bytes still missing from the bulk being waited for, for [`Self::bytes_hint`].
    missing: usize,
    /// Argument vectors given back by [`Self::recycle`], for the next commands to fill.
    spare: Vec<Vec<Bytes>>,
    /// Where [`Self::whole`] found each argument, kept between requests.
    spans: Vec<(u32, u32)>,
}

/// Argument vectors kept for reuse at most (a pipeline's worth), and the largest kept.
const SPARE_MAX: usize = 64;

/// Argument positions [`RequestDecoder::whole`] keeps room for between requests (an
/// MSET of a thousand pairs); a longer request's are freed after it.
const SPANS_KEEP: usize = 4096;

/// A length written the one way Redis accepts without question (digits, no sign, no
/// leading zero, at most 10 digits) at `from`, ended by `\r\n`: the number and the index
/// after the line. `None` for anything else, which the general parser judges.
fn canonical_len(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut v = 0u64;
    let mut i = from;
    loop {
        let d = *b.get(i)?;
        if d == b'\r' {
            break;
        }
        if !d.is_ascii_digit() || i - from >= 10 {
            return None;
        }
        v = v * 10 + u64::from(d - b'0');
        i += 1;
    }
    let digits = i - from;
    if digits == 0 || (digits > 1 && b[from] == b'0') || *b.get(i + 1)? != b'\n' {
        return None;
    }
    Some((usize::try_from(v).ok()?, i + 2))
}
const SPARE_CAPACITY_MAX: usize = 64;

/// Parses a length the way Redis's `string2ll` does: no sign but `-`, no leading zeros,
/// no spaces, nothing else on the line. Returns `None` where Redis would fail.
pub(crate) fn parse_ll(s: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE is 21: longer strings are rejected before any digit is read.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

impl RequestDecoder {
    /// A decoder positioned between commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next complete command from the front of `buf`.
    ///
    /// Returns `Ok(Some(args))` with the command's arguments (never empty), `Ok(None)` when
    /// more bytes are needed, or the protocol error Redis would report. Bytes of a
    /// multibulk command are consumed as each argument completes, so `buf` must be the
    /// same stream on the next call; arguments are split from `buf` without copying.
    ///
    /// Empty inline lines and `*0`/negative multibulk counts produce no command: decoding
    /// simply continues with the following bytes. Call repeatedly to drain a pipeline.
    ///
    /// `authenticated == false` applies Redis 7's pre-authentication limits.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        authenticated: bool,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        self.missing = 0;
        loop {
            match self.state {
                State::Start => {
                    let Some(&first) = buf.first() else {
                        return Ok(None);
                    };
                    if first == b'*' {
                        if authenticated
                            && self.scanned == 0
                            && let Some(args) = self.whole(buf, limits)
                        {
                            return Ok(Some(args));
                        }
                        match self.multibulk_header(buf, limits, authenticated)? {
                            Header::NeedMore => return Ok(None),
                            // `*0`, `*-1`: nothing to run; look at what follows.
                            Header::Empty => continue,
                            Header::Started => {}
                        }
                    } else {
                        match self.inline(buf, limits)? {
                            Inline::NeedMore => return Ok(None),
                            Inline::Empty => continue,
                            Inline::Command(args) => return Ok(Some(args)),
                        }
                    }
                }
                State::Multibulk { .. } => {
                    return self.multibulk_args(buf, limits, authenticated);
                }
            }
        }
    }

    /// Gives back a decoded command's argument vector once its caller is done with it:
    /// the next commands reuse it, so a connection that gives them all back decodes
    /// without allocating a vector per request.
    pub fn recycle(&mut self, mut args: Vec<Bytes>) {
        if self.spare.len() < SPARE_MAX && args.capacity() <= SPARE_CAPACITY_MAX {
            args.clear();
            self.spare.push(args);
        }
    }

    /// How many more bytes the command in progress needs, when that is known: what is
    /// still missing of the bulk being read (plus its `\r\n`), as of the last
    /// [`decode`](Self::decode) call. A caller reserves this much before its next read, so
    /// a 512 MB bulk lands in one allocation instead of a series of doublings and copies.
    /// Zero when unknown (between commands, or while a length line is incomplete).
    pub fn bytes_hint(&self) -> usize {
        self.missing
    }

    /// Decodes a request that is in `buf` whole and in canonical form (what clients send)
    /// in one pass, without the resumable state machine. Anything else (incomplete, a
    /// number Redis would reject or must check against a limit, many arguments) gives
    /// `None` and takes the general path, which answers it exactly as Redis does; so this
    /// never fails, and decodes what the general path would decode.
    fn whole(&mut self, buf: &mut BytesMut, limits: &Limits) -> Option<Vec<Bytes>> {
        let b = &buf[..];
        let (count, mut at) = canonical_len(b, 1)?;
        // Each argument takes at least 4 bytes (`$0\r\n`): a count the buffer cannot hold
        // is incomplete, and the general path waits for the rest.
        if count == 0 || count > limits.max_multibulk_len || count > b.len() / 4 {
            return None;
        }
        let spans = &mut self.spans;
        spans.clear();
        for _ in 0..count {
            if *b.get(at)? != b'$' {
                return None;
            }
            let (len, start) = canonical_len(b, at + 1)?;
            if len > limits.max_bulk_len {
                return None;
            }
            let end = start.checked_add(len)?;
            // The two bytes after the payload are skipped unchecked, as Redis does.
            at = end.checked_add(2)?;
            if at > b.len() {
                return None;
            }
            spans.push((u32::try_from(start).ok()?, u32::try_from(end).ok()?));
        }
        let mut args = self.spare.pop().unwrap_or_default();
        args.reserve(count);
        // One split for the request, then slices: cheaper than splitting the buffer
        // argument by argument.
        let frame = buf.split_to(at).freeze();
        args.extend(
            spans
                .iter()
                .map(|&(start, end)| frame.slice(start as usize..end as usize)),
        );
        if spans.capacity() > SPANS_KEEP {
            *spans = Vec::new();
        }
        Some(args)
    }

    /// Finds the `\r` of the line at the front of `buf`, resuming where the last search
    /// stopped. `Ok(Some(i))` means `buf[i] == b'\r'` and one more byte follows it (Redis
    /// requires the byte but does not check that it is `\n`).
    fn find_cr(&mut self, buf: &BytesMut) -> Option<usize> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&b| b == b'\r') {
            Some(off) => {
                let i = from + off;
                if i + 1 < buf.len() {
                    self.scanned = 0;
                    Some(i)
                } else {
                    // The `\r` is the last byte: search from it again next time.
                    self.scanned = i;
                    None
                }
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    fn multibulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        authenticated: bool,
    ) -> Result<Header, ProtocolError> {
        let Some(cr) = self.find_cr(buf) else {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::new(
                    "Protocol error: too big mbulk count string",
                ));
            }
            return Ok(Header::NeedMore);
        };
        let count = parse_ll(&buf[1..cr])
            .filter(|&n| n <= i64::from(i32::MAX))
            .ok_or_else(|| ProtocolError::new("Protocol error: invalid multibulk length"))?;
        if count > 0 && count as u64 > limits.max_multibulk_len as u64 {
            return Err(ProtocolError::new(
                "Protocol error: invalid multibulk length",
            ));
        }
        if count > UNAUTH_MAX_MULTIBULK as i64 && !authenticated {
            return Err(ProtocolError::new(
                "Protocol error: unauthenticated multibulk length",
            ));
        }
        buf.advance(cr + 2);
        if count <= 0 {
            return Ok(Header::Empty);
        }
        let count = count as usize;
        // Never trust the count for preallocation: it is only a promise. Grow with the
        // arguments that actually arrive beyond a modest start.
        let mut args = self.spare.pop().unwrap_or_default();
        args.reserve(count.min(1024));
        self.args = args;
        self.state = State::Multibulk {
            remaining: count,
            bulk_len: None,
        };
        Ok(Header::Started)
    }

    fn multibulk_args(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        authenticated: bool,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let State::Multibulk {
            mut remaining,
            mut bulk_len,
        } = self.state
        else {
            return Ok(None);
        };
        let result = loop {
            if remaining == 0 {
                self.state = State::Start;
                return Ok(Some(std::mem::take(&mut self.args)));
            }
            let len = match bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) = self.find_cr(buf) else {
                        if buf.len() > limits.max_inline_len {
                            break Err(ProtocolError::new(
                                "Protocol error: too big bulk count string",
                            ));
                        }
                        break Ok(None);
                    };
                    let first = buf[0];
                    if first != b'$' {
                        break Err(expected_dollar(first));
                    }
                    let len = match parse_ll(&buf[1..cr]) {
                        Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len as u64 => n as usize,
                        _ => {
                            break Err(ProtocolError::new("Protocol error: invalid bulk length"));
                        }
                    };
                    if len > UNAUTH_MAX_BULK && !authenticated {
                        break Err(ProtocolError::new(
                            "Protocol error: unauthenticated bulk length",
                        ));
                    }
                    buf.advance(cr + 2);
                    bulk_len = Some(len);
                    len
                }
            };
            // The payload and the two bytes after it (Redis skips them unchecked).
            if buf.len() < len + 2 {
                self.missing = len + 2 - buf.len();
                break Ok(None);
            }
            let mut arg = buf.split_to(len + 2);
            arg.truncate(len);
            self.args.push(arg.freeze());
            bulk_len = None;
            remaining -= 1;
        };
        self.state = State::Multibulk {
            remaining,
            bulk_len,
        };
        result
    }

    fn inline(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Inline, ProtocolError> {
        let from = self.scanned.min(buf.len());
        let Some(nl) = buf[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| from + i)
        else {
            self.scanned = buf.len();
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::new("Protocol error: too big inline request"));
            }
            return Ok(Inline::NeedMore);
        };
        self.scanned = 0;
        let mut line = buf.split_to(nl + 1);
        line.truncate(nl);
        if line.last() == Some(&b'\r') {
            line.truncate(nl - 1);
        }
        let args = split_args(&line.freeze())?;
        if args.is_empty() {
            Ok(Inline::Empty)
        } else {
            Ok(Inline::Command(args))
        }
    }
}

enum Header {
    NeedMore,
    Empty,
    Started,
}

enum Inline {
    NeedMore,
    Empty,
    Command(Vec<Bytes>),
}

/// Redis formats the offending byte with `%c` and then replaces CR/LF in error replies by
/// spaces. A byte that is not ASCII cannot be carried in a `String` as-is; it becomes the
/// Latin-1 character of the same value.
fn expected_dollar(b: u8) -> ProtocolError {
    let c = match b {
        b'\r' | b'\n' => ' ',
        _ => b as char,
    };
    ProtocolError(format!("Protocol error: expected '$', got '{c}'"))
}

/// `isspace` in the C locale: what `sdssplitargs` skips between arguments.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline line into arguments with `sdssplitargs`'s rules, which is what
/// `redis-cli` users type: arguments are separated by blanks; `"..."` understands
/// `\n \r \t \b \a \xHH` and `\<any>`; `'...'` understands only `\'`; a closing quote must
/// be followed by a blank or the end of the line; a quote may open in the middle of an
/// argument (`a"b c"` is `ab c`). The line ends at a NUL byte, as a C string does.
///
/// Arguments without quotes are slices of `line` (no copy); quoted ones are unescaped
/// into their own buffer.
pub fn split_args(line: &Bytes) -> Result<Vec<Bytes>, ProtocolError> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let s = &line[..end];
    let at = |i: usize| -> u8 { s.get(i).copied().unwrap_or(0) };
    let unbalanced = || ProtocolError::new("Protocol error: unbalanced quotes in request");
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < s.len() && is_c_space(s[p]) {
            p += 1;
        }
        if p >= s.len() {
            return Ok(args);
        }
        let start = p;
        // Fast path: a plain token is a slice of the line.
        while p < s.len() && !matches!(s[p], b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'') {
            p += 1;
        }
        if p >= s.len() || s[p] != b'"' && s[p] != b'\'' {
            args.push(line.slice(start..p));
            continue;
        }
        // A quote: unescape into an owned buffer, starting with what came before it.
        let mut cur = s[start..p].to_vec();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3)))
                {
                    cur.push(h * 16 + l);
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        // The terminator itself is consumed, as in sdssplitargs.
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    other => cur.push(other),
                }
            }
            p += 1;
        }
        args.push(Bytes::from(cur));
    }
}
