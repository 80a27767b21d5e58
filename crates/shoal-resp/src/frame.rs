//! The RESP value model shared by the parser, the encoder and every command.
//!
//! One `Frame` type covers RESP2 and RESP3. Commands build the *RESP3-shaped* value
//! (maps, sets, doubles, booleans); the encoder downgrades it for RESP2 clients the way
//! Redis does (map → flat array, double → bulk string, boolean → integer, push → array).

use bytes::Bytes;

/// A RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+OK\r\n`
    Simple(Bytes),
    /// `-ERR message\r\n` (the text includes the error code prefix, e.g. `ERR ...`).
    Error(Bytes),
    /// `:42\r\n`
    Integer(i64),
    /// `$3\r\nfoo\r\n`
    Bulk(Bytes),
    /// A missing bulk: RESP2 `$-1\r\n`, RESP3 `_\r\n`.
    Null,
    /// A missing array: RESP2 `*-1\r\n`, RESP3 `_\r\n`.
    NullArray,
    /// `*N\r\n...`
    Array(Vec<Frame>),
    /// RESP3 `%N\r\n...`; RESP2 flattens to an array of 2N elements.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~N\r\n...`; RESP2 array.
    Set(Vec<Frame>),
    /// RESP3 `,1.5\r\n`; RESP2 bulk string. Formatted as Redis 7.0 does (`%.17g`, `inf`, `-inf`, `nan`).
    Double(f64),
    /// RESP3 `#t\r\n`; RESP2 integer 1/0.
    Boolean(bool),
    /// RESP3 `(123...\r\n`; RESP2 bulk string.
    BigNumber(Bytes),
    /// RESP3 `=N\r\ntxt:...\r\n` (format, text); RESP2 bulk string of the text.
    Verbatim([u8; 3], Bytes),
    /// RESP3 `>N\r\n...` out-of-band push; RESP2 array.
    Push(Vec<Frame>),
    /// A reply already encoded, written as is. Only for shapes RESP2 and RESP3 encode
    /// alike (arrays of bulks and integers): built with [`crate::encode::ArrayWriter`]
    /// where a long reply would otherwise be a tree of small allocations (an XRANGE of
    /// 100 entries was ~700).
    Raw(Bytes),
}

impl Frame {
    /// The frame with every [`Frame::Raw`] in it decoded into the frames it encodes, for
    /// code that inspects a reply rather than sending it (tests, mostly).
    pub fn expand_raw(self) -> Frame {
        let all = |v: Vec<Frame>| v.into_iter().map(Frame::expand_raw).collect();
        match self {
            Frame::Raw(encoded) => {
                let mut buf = bytes::BytesMut::from(&encoded[..]);
                match crate::reply::parse_reply(&mut buf) {
                    Ok(Some(f)) if buf.is_empty() => f,
                    _ => Frame::Error(Bytes::from_static(b"ERR malformed raw reply")),
                }
            }
            Frame::Array(v) => Frame::Array(all(v)),
            Frame::Set(v) => Frame::Set(all(v)),
            Frame::Push(v) => Frame::Push(all(v)),
            Frame::Map(pairs) => Frame::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.expand_raw(), v.expand_raw()))
                    .collect(),
            ),
            other => other,
        }
    }

    /// `+OK`
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// A simple string from a static text.
    pub fn simple(s: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply; `msg` carries its code prefix (`ERR ...`, `WRONGTYPE ...`).
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(Bytes::from(msg.into()))
    }

    /// An error from a static text.
    pub fn static_error(msg: &'static str) -> Frame {
        Frame::Error(Bytes::from_static(msg.as_bytes()))
    }

    /// A bulk string copied from a slice.
    pub fn bulk(b: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b))
    }

    /// True for `Frame::Error`.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }
}

/// Which protocol a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}
