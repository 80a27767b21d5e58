//! `shoal-pubsub`: Shoal's Pub/Sub registry, as Redis 7.0.
//!
//! - [`Registry`]: subscriptions to channels (SUBSCRIBE), glob patterns (PSUBSCRIBE,
//!   matched with `shoal_core::glob`, Redis's `stringmatchlen`) and shard channels
//!   (SSUBSCRIBE); PUBLISH / SPUBLISH fan-out; PUBSUB introspection.
//! - [`Outbox`]: one per connection, the bounded queue publishers append to. Publishers
//!   never block; a subscriber over its `client-output-buffer-limit` is closed.
//!
//! Messages are fire-and-forget and node-local here; forwarding between nodes belongs to
//! `shoal-cluster`. Depends on `shoal-resp` (encoding) and `shoal-core` (glob matching
//! only — the one arrow beyond the architecture table's `pubsub → resp`).

pub mod outbox;
pub mod registry;

pub use outbox::{BufferLimit, Outbox};
pub use registry::{ClientCounts, ClientId, Confirmation, Kind, Registry, encode_message};
