//! RESP2/RESP3 for Shoal: the [`Frame`] value model, an incremental request decoder
//! (multibulk and inline commands, Redis's limits and error texts), a reply encoder that
//! downgrades RESP3 shapes for RESP2 clients, and a reply parser for clients and tests.

pub mod decode;
pub mod encode;
pub mod frame;
pub mod reply;

pub use decode::{Limits, ProtocolError, RequestDecoder, split_args};
pub use encode::{double_digits, encode, encode_command, format_double};
pub use frame::{Frame, Protocol};
pub use reply::parse_reply;
