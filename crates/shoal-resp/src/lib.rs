//! RESP2/RESP3 for Shoal: the [`Frame`] value model, an incremental request decoder
//! (multibulk and inline commands, Redis's limits and error texts), a reply encoder that
//! downgrades RESP3 shapes for RESP2 clients, and a reply parser for clients and tests.
//!
//! A connection's read loop, in outline: read into a `BytesMut`, drain every complete
//! command, and on a protocol error reply once and close, as Redis does.
//!
//! ```
//! use bytes::BytesMut;
//! use shoal_resp::{Frame, Limits, Protocol, RequestDecoder, encode};
//!
//! let mut decoder = RequestDecoder::new();
//! let limits = Limits::default();
//! let mut input = BytesMut::from(&b"*1\r\n$4\r\nPING\r\nECHO hi\r\n*1\r\n$4\r\nPI"[..]);
//! let mut output = BytesMut::new();
//! loop {
//!     match decoder.decode(&mut input, &limits, true) {
//!         Ok(Some(args)) => {
//!             let reply = if args[0].eq_ignore_ascii_case(b"ping") {
//!                 Frame::simple("PONG")
//!             } else {
//!                 Frame::Bulk(args[1].clone())
//!             };
//!             encode(&reply, Protocol::Resp2, &mut output);
//!         }
//!         // Need more bytes: reserve what the decoder knows is coming, then read again.
//!         Ok(None) => {
//!             input.reserve(decoder.bytes_hint());
//!             break;
//!         }
//!         Err(e) => {
//!             encode(&Frame::error(format!("ERR {e}")), Protocol::Resp2, &mut output);
//!             break; // then close the connection
//!         }
//!     }
//! }
//! assert_eq!(&output[..], b"+PONG\r\n$2\r\nhi\r\n");
//! ```

pub mod decode;
pub mod encode;
pub mod frame;
pub mod reply;

pub use decode::{Limits, ProtocolError, RequestDecoder, split_args};
pub use encode::{
    ArrayWriter, FormattedDouble, double_digits, encode, encode_command, format_double,
};
pub use frame::{Frame, Protocol};
pub use reply::parse_reply;
