//! Shoal's gRPC and protobuf types, generated at build time from
//! `proto/shoal/v1/*.proto` (see `build.rs`).
//!
//! - [`v1::raft_service_client::RaftServiceClient`] sends Raft RPCs to a peer.
//! - [`v1::raft_service_server::RaftServiceServer`] serves them; implement
//!   [`v1::raft_service_server::RaftService`].
//!
//! Raft payloads are opaque bytes here; `shoal-raft` owns their encoding.

/// `package shoal.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("shoal.v1");
}
