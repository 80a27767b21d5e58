//! Reply encoding, RESP3 or RESP2, byte-identical to Redis 7.0.
//!
//! Commands build one RESP3-shaped [`Frame`]; the connection's [`Protocol`] decides how it
//! goes on the wire. RESP2 has no maps, sets, doubles, booleans, big numbers, verbatim
//! strings or pushes, so they are downgraded the way Redis does it (`addReplyMapLen` emits
//! `*2N`, `addReplyDouble` a bulk string, `addReplyBool` `:1`/`:0`, ...). A client written
//! for Redis therefore sees exactly the shapes it expects.
//!
//! Everything is written straight into the output buffer: numbers are formatted on the
//! stack, never through an intermediate `String`.

use bytes::{BufMut, BytesMut};

use crate::frame::{Frame, Protocol};

/// Writes `frame` to `out` in the given protocol.
pub fn encode(frame: &Frame, proto: Protocol, out: &mut BytesMut) {
    let resp3 = proto == Protocol::Resp3;
    match frame {
        // The reply of most writes: a constant-length copy the compiler inlines.
        Frame::Simple(s) if &s[..] == b"OK" => out.put_slice(b"+OK\r\n"),
        Frame::Simple(s) => line(out, b'+', s),
        Frame::Error(s) => line(out, b'-', s),
        Frame::Integer(n) => {
            // Assembled on the stack and written in one copy (the reply of most writes).
            let mut b = itoa::Buffer::new();
            let digits = b.format(*n).as_bytes();
            let mut line = [0u8; 24];
            line[0] = b':';
            line[1..=digits.len()].copy_from_slice(digits);
            line[digits.len() + 1..digits.len() + 3].copy_from_slice(b"\r\n");
            out.put_slice(&line[..digits.len() + 3]);
        }
        Frame::Bulk(b) => bulk(out, b),
        Frame::Null => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Frame::NullArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Frame::Array(items) => {
            header(out, b'*', items.len());
            for f in items {
                encode(f, proto, out);
            }
        }
        Frame::Map(pairs) => {
            if resp3 {
                header(out, b'%', pairs.len());
            } else {
                header(out, b'*', pairs.len() * 2);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Frame::Set(items) | Frame::Push(items) => {
            let tag = match (resp3, frame) {
                (false, _) => b'*',
                (true, Frame::Set(_)) => b'~',
                (true, _) => b'>',
            };
            header(out, tag, items.len());
            for f in items {
                encode(f, proto, out);
            }
        }
        Frame::Double(d) => {
            let formatted = double_digits(*d);
            let text = formatted.as_bytes();
            if resp3 {
                line(out, b',', text);
            } else {
                bulk(out, text);
            }
        }
        Frame::Boolean(b) => out.put_slice(match (resp3, b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        }),
        Frame::BigNumber(n) => {
            if resp3 {
                line(out, b'(', n);
            } else {
                bulk(out, n);
            }
        }
        Frame::Raw(encoded) => out.put_slice(encoded),
        Frame::Verbatim(format, text) => {
            if resp3 {
                header(out, b'=', text.len() + 4);
                out.reserve(text.len() + 6);
                out.put_slice(format);
                out.put_u8(b':');
                out.put_slice(text);
                crlf(out);
            } else {
                bulk(out, text);
            }
        }
    }
}

/// Writes the elements of an array reply straight into one buffer, for replies that
/// RESP2 and RESP3 encode alike; [`ArrayWriter::finish`] makes them a [`Frame::Raw`].
#[derive(Default)]
pub struct ArrayWriter {
    body: BytesMut,
    len: usize,
}

impl ArrayWriter {
    /// Counts one more top-level element; write it with the methods below.
    pub fn element(&mut self) -> &mut Self {
        self.len += 1;
        self
    }

    /// Writes an array header of `len` elements (nested inside an element).
    pub fn array(&mut self, len: usize) -> &mut Self {
        header(&mut self.body, b'*', len);
        self
    }

    /// Writes a bulk string.
    pub fn bulk(&mut self, data: &[u8]) -> &mut Self {
        bulk(&mut self.body, data);
        self
    }

    /// Top-level elements so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no element was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The array as one encoded reply.
    pub fn finish(self) -> Frame {
        let mut out = BytesMut::with_capacity(self.body.len() + 16);
        header(&mut out, b'*', self.len);
        out.put_slice(&self.body);
        Frame::Raw(out.freeze())
    }
}

/// Writes a command as clients send it: a multibulk of bulk strings.
pub fn encode_command(args: &[&[u8]], out: &mut BytesMut) {
    header(out, b'*', args.len());
    for a in args {
        bulk(out, a);
    }
}

/// Appends `f` formatted as Redis 7.0 formats doubles in replies (`%.17g`, with `inf`,
/// `-inf` and `nan` spelled out). Commands that reply with a score as a bulk string (e.g.
/// `ZINCRBY` in RESP2) use this to match Redis byte for byte.
pub fn format_double(f: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(double_digits(f).as_bytes());
}

/// A double formatted on the stack by [`double_digits`]; no allocation.
#[derive(Clone, Copy)]
pub struct FormattedDouble {
    // Longest `%.17g` output: `-1.2345678901234567e-308` is 24 bytes.
    buf: [u8; 32],
    len: usize,
}

impl FormattedDouble {
    /// The formatted text (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len.min(self.buf.len())]
    }
}

/// A fixed-capacity `fmt::Write` sink on the stack, so `core::fmt`'s exact (correctly
/// rounded) float formatting can be used without allocating.
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `printf("%.17g", f)` without libc. Redis 7.0 prints doubles this way (7.2 moved to the
/// shortest round-trip form), so `0.1` is `0.10000000000000001`: 17 significant digits are
/// what it takes for every double to read back exactly.
///
/// Rust's `{:.16e}` gives the 17 correctly rounded significant digits (ties to even, as
/// glibc); this function then applies `%g`'s layout rules: fixed notation when the decimal
/// exponent is in `-4..17`, scientific otherwise, trailing zeros removed, exponent with a
/// sign and at least two digits.
pub fn double_digits(f: f64) -> FormattedDouble {
    let mut out = [0u8; 32];
    let mut n = 0;
    let mut push = |bytes: &[u8], n: &mut usize| {
        for &b in bytes {
            if let Some(slot) = out.get_mut(*n) {
                *slot = b;
                *n += 1;
            }
        }
    };
    if f.is_nan() {
        push(b"nan", &mut n);
        return FormattedDouble { buf: out, len: n };
    }
    if f.is_infinite() {
        push(if f > 0.0 { b"inf" } else { b"-inf" }, &mut n);
        return FormattedDouble { buf: out, len: n };
    }
    let mut sci = StackBuf {
        buf: [0; 40],
        len: 0,
    };
    // Cannot fail: the longest output (`-1.7976931348623157e308`) fits in 40 bytes.
    let _ = std::fmt::write(&mut sci, format_args!("{:.16e}", f));
    let s = &sci.buf[..sci.len];
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // s is now `D.DDDDDDDDDDDDDDDDeX`.
    let epos = s.iter().position(|&b| b == b'e').unwrap_or(s.len());
    let mut digits = [0u8; 17];
    let mut nd = 0;
    for &b in &s[..epos] {
        if b.is_ascii_digit() && nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let exp: i32 = std::str::from_utf8(s.get(epos + 1..).unwrap_or(b"0"))
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    // Significant digits left after dropping trailing zeros (at least one).
    let mut sig = nd;
    while sig > 1 && digits[sig - 1] == b'0' {
        sig -= 1;
    }
    if neg {
        push(b"-", &mut n);
    }
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            push(&digits[..int_len.min(nd)], &mut n);
            if sig > int_len {
                push(b".", &mut n);
                push(&digits[int_len..sig], &mut n);
            }
        } else {
            push(b"0.", &mut n);
            for _ in 0..(-exp - 1) {
                push(b"0", &mut n);
            }
            push(&digits[..sig], &mut n);
        }
    } else {
        push(&digits[..1], &mut n);
        if sig > 1 {
            push(b".", &mut n);
            push(&digits[1..sig], &mut n);
        }
        push(if exp < 0 { b"e-" } else { b"e+" }, &mut n);
        let e = exp.unsigned_abs();
        if e < 10 {
            push(b"0", &mut n);
        }
        let mut ib = itoa::Buffer::new();
        push(ib.format(e).as_bytes(), &mut n);
    }
    FormattedDouble { buf: out, len: n }
}

#[inline]
fn crlf(out: &mut BytesMut) {
    out.put_slice(b"\r\n");
}

/// `<tag><len>\r\n`, the start of every aggregate and bulk.
#[inline]
fn header(out: &mut BytesMut, tag: u8, len: usize) {
    let mut b = itoa::Buffer::new();
    let digits = b.format(len).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(tag);
    out.put_slice(digits);
    crlf(out);
}

#[inline]
fn bulk(out: &mut BytesMut, data: &[u8]) {
    header(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    crlf(out);
}

/// A one-line reply (`+`, `-`, `,`, `(`). A CR or LF inside would end the line early and
/// desynchronise the client, so they are replaced by spaces, as Redis does for errors.
#[inline]
fn line(out: &mut BytesMut, tag: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(tag);
    let start = out.len();
    out.put_slice(text);
    for b in &mut out[start..] {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    crlf(out);
}
