//! Client-side reply parsing, for Shoal's own clients, bench tools and tests.
//!
//! Understands every RESP2 and RESP3 type. Parsing is done in two passes over the
//! buffered bytes: the first only checks that a whole, well-formed frame is present and
//! measures it; the second splits exactly those bytes off the buffer and builds the
//! [`Frame`], with strings sliced out of the split (no copies). The first pass allocates
//! nothing, so an incomplete reply costs no garbage, and nothing is consumed until a whole
//! frame is there.
//!
//! The parser keeps no state between calls, so a reply that arrives in many pieces is
//! re-measured from its start on each call: fine for the replies a client or test sees,
//! and the price of a free function. The server's hot path, request decoding, is
//! stateful and linear instead (see [`crate::decode`]).
//!
//! Attributes (`|N ...`) are metadata a server may put before a reply; they are skipped
//! and the reply that follows is returned.

use bytes::{Bytes, BytesMut};

use crate::decode::ProtocolError;
use crate::frame::Frame;

/// How deeply aggregates may nest. Real replies nest a handful of levels; the bound keeps
/// a hostile or corrupt stream from exhausting the stack.
const MAX_DEPTH: usize = 512;

/// Parses one complete reply from the front of `buf`, consuming its bytes.
///
/// `Ok(None)` when `buf` does not yet hold a complete reply (nothing is consumed).
/// `$-1` becomes [`Frame::Null`], `*-1` [`Frame::NullArray`], RESP3 `_` [`Frame::Null`],
/// and a RESP3 blob error (`!len`) a [`Frame::Error`].
pub fn parse_reply(buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
    let Some(len) = measure(buf, 0, 0)? else {
        return Ok(None);
    };
    let bytes = buf.split_to(len).freeze();
    let (frame, _) = build(&bytes, 0)?;
    Ok(Some(frame))
}

fn err(msg: &str) -> ProtocolError {
    ProtocolError(format!("Protocol error: {msg}"))
}

/// The line starting at `pos` (after the type byte): its content end and the position
/// after its `\r\n`. `None` if the line is not complete yet.
fn line_at(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>, ProtocolError> {
    let Some(rest) = buf.get(pos..) else {
        return Ok(None);
    };
    match rest.iter().position(|&b| b == b'\r') {
        None => Ok(None),
        Some(i) => {
            let end = pos + i;
            match buf.get(end + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some((end, end + 2))),
                Some(_) => Err(err("expected CRLF")),
            }
        }
    }
}

fn int_of(s: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| err("invalid integer"))
}

/// A length or count: `-1` means null (returned as `None`), other negatives are invalid.
fn len_of(s: &[u8]) -> Result<Option<usize>, ProtocolError> {
    match int_of(s)? {
        -1 => Ok(None),
        n if n < 0 => Err(err("invalid length")),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| err("invalid length")),
    }
}

fn double_of(s: &[u8]) -> Result<f64, ProtocolError> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| err("invalid double"))
}

/// Pass one: is there a complete frame at `pos`? Returns the position after it.
fn measure(buf: &[u8], pos: usize, depth: usize) -> Result<Option<usize>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(err("reply nested too deeply"));
    }
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((end, next)) = line_at(buf, pos + 1)? else {
        return Ok(None);
    };
    let line = &buf[pos + 1..end];
    match tag {
        b'+' | b'-' | b'(' => Ok(Some(next)),
        b':' => int_of(line).map(|_| Some(next)),
        b',' => double_of(line).map(|_| Some(next)),
        b'#' => match line {
            b"t" | b"f" => Ok(Some(next)),
            _ => Err(err("invalid boolean")),
        },
        b'_' => {
            if line.is_empty() {
                Ok(Some(next))
            } else {
                Err(err("invalid null"))
            }
        }
        b'$' | b'!' | b'=' => {
            let Some(len) = len_of(line)? else {
                return if tag == b'$' {
                    Ok(Some(next))
                } else {
                    Err(err("invalid length"))
                };
            };
            if tag == b'=' && (len < 4 || buf.get(next + 3).is_some_and(|&b| b != b':')) {
                return Err(err("invalid verbatim string"));
            }
            let Some(after) = next.checked_add(len).and_then(|e| e.checked_add(2)) else {
                return Err(err("invalid length"));
            };
            if buf.len() < after {
                return Ok(None);
            }
            if &buf[after - 2..after] != b"\r\n" {
                return Err(err("expected CRLF"));
            }
            Ok(Some(after))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let Some(count) = len_of(line)? else {
                return if tag == b'*' {
                    Ok(Some(next))
                } else {
                    Err(err("invalid length"))
                };
            };
            let items = if matches!(tag, b'%' | b'|') {
                count.checked_mul(2).ok_or_else(|| err("invalid length"))?
            } else {
                count
            };
            let mut p = next;
            for _ in 0..items {
                match measure(buf, p, depth + 1)? {
                    Some(q) => p = q,
                    None => return Ok(None),
                }
            }
            if tag == b'|' {
                // An attribute annotates the reply that follows it. Counting it as a level
                // keeps a run of attributes from recursing without bound.
                measure(buf, p, depth + 1)
            } else {
                Ok(Some(p))
            }
        }
        other => Err(err(&format!(
            "unexpected reply type byte {:?}",
            other as char
        ))),
    }
}

/// Pass two: build the frame at `pos` from bytes that pass one has validated.
fn build(bytes: &Bytes, pos: usize) -> Result<(Frame, usize), ProtocolError> {
    let incomplete = || err("incomplete reply");
    let tag = *bytes.get(pos).ok_or_else(incomplete)?;
    let (end, next) = line_at(bytes, pos + 1)?.ok_or_else(incomplete)?;
    let line = &bytes[pos + 1..end];
    let text = || bytes.slice(pos + 1..end);
    Ok(match tag {
        b'+' => (Frame::Simple(text()), next),
        b'-' => (Frame::Error(text()), next),
        b'(' => (Frame::BigNumber(text()), next),
        b':' => (Frame::Integer(int_of(line)?), next),
        b',' => (Frame::Double(double_of(line)?), next),
        b'#' => (Frame::Boolean(line == b"t"), next),
        b'_' => (Frame::Null, next),
        b'$' | b'!' | b'=' => {
            let Some(len) = len_of(line)? else {
                return Ok((Frame::Null, next));
            };
            let after = next + len + 2;
            if bytes.len() < after {
                return Err(incomplete());
            }
            let data = bytes.slice(next..next + len);
            let frame = match tag {
                b'$' => Frame::Bulk(data),
                b'!' => Frame::Error(data),
                _ => {
                    let mut format = [0u8; 3];
                    format.copy_from_slice(data.get(..3).ok_or_else(incomplete)?);
                    Frame::Verbatim(format, data.slice(4..))
                }
            };
            (frame, after)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let Some(count) = len_of(line)? else {
                return Ok((Frame::NullArray, next));
            };
            let mut p = next;
            if matches!(tag, b'%' | b'|') {
                let mut pairs = Vec::with_capacity(count);
                for _ in 0..count {
                    let (k, q) = build(bytes, p)?;
                    let (v, q) = build(bytes, q)?;
                    pairs.push((k, v));
                    p = q;
                }
                if tag == b'|' {
                    return build(bytes, p);
                }
                (Frame::Map(pairs), p)
            } else {
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    let (f, q) = build(bytes, p)?;
                    items.push(f);
                    p = q;
                }
                let frame = match tag {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    _ => Frame::Push(items),
                };
                (frame, p)
            }
        }
        _ => return Err(err("unexpected reply type byte")),
    })
}
