//! RESP2/RESP3 for Shoal: the [`Frame`] value model, an incremental request decoder
//! (multibulk and inline commands, Redis's limits and error texts), a reply encoder that
//! downgrades RESP3 shapes for RESP2 clients, and a reply parser for clients and tests.

pub mod frame;

pub use frame::{Frame, Protocol};
