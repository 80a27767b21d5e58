//! The server side of the Raft transport: one gRPC service for all groups,
//! routing each RPC to its group by id.
//!
//! Everything from a peer is untrusted input: an undecodable payload is
//! `INVALID_ARGUMENT`, an unknown group `NOT_FOUND`, a vote from a node that
//! is not a voter of the group `PERMISSION_DENIED`, and none of them panics.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use openraft::base::BoxStream;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::VoteRequest;
use openraft::type_config::alias::SnapshotMetaOf;
use openraft::type_config::alias::SnapshotOf;
use openraft::type_config::alias::VoteOf;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shoal_proto::v1 as pb;
use shoal_proto::v1::raft_service_server::RaftService;
use tonic::Request;
use tonic::Response;
use tonic::Status;
use tonic::Streaming;

use crate::node::Groups;
use crate::node::RaftHandle;
use crate::types::GroupId;
use crate::types::NodeId;
use crate::types::TypeConfig;

/// The metadata key naming the group of a `StreamAppend` call.
pub(crate) const GROUP_METADATA: &str = "shoal-group";

/// The largest snapshot a peer may send (it is assembled in memory).
const MAX_SNAPSHOT: u64 = 8 << 30;

/// The gRPC `RaftService` of a node. Mount it with
/// [`crate::Node::grpc_service`].
pub struct RaftGrpc {
    pub(crate) groups: Arc<Groups>,
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Status> {
    shoal_storage::decode(bytes)
        .map_err(|e| Status::invalid_argument(format!("undecodable {what}: {e}")))
}

fn encode_reply<T: Serialize>(v: &T) -> Result<pb::RaftReply, Status> {
    let payload =
        shoal_storage::encode(v).map_err(|e| Status::internal(format!("encode reply: {e}")))?;
    Ok(pb::RaftReply {
        payload: Bytes::from(payload),
    })
}

fn reply<T: Serialize>(v: &T) -> Result<Response<pb::RaftReply>, Status> {
    encode_reply(v).map(Response::new)
}

fn fatal(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("raft group stopped: {e}"))
}

impl RaftGrpc {
    fn raft(&self, group: GroupId) -> Result<RaftHandle, Status> {
        self.groups
            .raft(group)
            .ok_or_else(|| Status::not_found(format!("unknown raft group {group}")))
    }

    /// Rejects a vote whose candidate is not the sender, or not a voter of
    /// the group as this node knows it. A legitimate candidate that this
    /// node does not know yet is still elected by the majority that does.
    fn check_candidate(
        raft: &RaftHandle,
        from: NodeId,
        vote: &VoteOf<TypeConfig>,
    ) -> Result<(), Status> {
        let candidate = vote.leader_id().node_id;
        if candidate != from {
            return Err(Status::permission_denied(format!(
                "node {from} sent a vote for candidate {candidate}"
            )));
        }
        // A node that has no membership yet (a fresh member waiting for the
        // initializing node to win) cannot tell; it votes as Raft says.
        let mut voters = raft.voter_ids().peekable();
        if voters.peek().is_some() && !voters.any(|v| v == candidate) {
            return Err(Status::permission_denied(format!(
                "node {candidate} is not a voter of this group"
            )));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl RaftService for RaftGrpc {
    async fn append_entries(
        &self,
        request: Request<pb::RaftRequest>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let req = request.into_inner();
        let raft = self.raft(req.group_id)?;
        let rpc: AppendEntriesRequest<TypeConfig> = decode("append entries", &req.payload)?;
        reply(&raft.append_entries(rpc).await.map_err(fatal)?)
    }

    type StreamAppendStream = BoxStream<'static, Result<pb::RaftReply, Status>>;

    async fn stream_append(
        &self,
        request: Request<Streaming<pb::RaftRequest>>,
    ) -> Result<Response<Self::StreamAppendStream>, Status> {
        // The group comes in the call's metadata, not a first message: the response
        // headers must not wait for a request, which openraft may hold back (backoff).
        let group = request
            .metadata()
            .get(GROUP_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<GroupId>().ok())
            .ok_or_else(|| Status::invalid_argument("append stream without a group"))?;
        let raft = self.raft(group)?;
        let input = request.into_inner();
        // A bad request ends the requests; why follows the last reply as the status.
        let why: Arc<std::sync::Mutex<Option<Status>>> = Arc::default();
        let why_in = why.clone();
        let requests = input.scan((), move |_, msg| {
            let rpc = match msg {
                Ok(m) if m.group_id == group => decode("append entries", &m.payload),
                Ok(m) => Err(Status::invalid_argument(format!(
                    "append stream of group {group} carried a request for group {}",
                    m.group_id
                ))),
                Err(s) => Err(s),
            };
            std::future::ready(match rpc {
                Ok(rpc) => Some(rpc),
                Err(s) => {
                    *why_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
                    None
                }
            })
        });
        let replies = raft.stream_append(requests).map(|r| match r {
            Ok(result) => encode_reply(&result),
            Err(e) => Err(fatal(e)),
        });
        let why = futures_util::stream::once(async move {
            why.lock().unwrap_or_else(|p| p.into_inner()).take()
        })
        .filter_map(|s| std::future::ready(s.map(Err)));
        Ok(Response::new(Box::pin(replies.chain(why))))
    }

    async fn vote(
        &self,
        request: Request<pb::RaftRequest>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let req = request.into_inner();
        let raft = self.raft(req.group_id)?;
        let rpc: VoteRequest<TypeConfig> = decode("vote", &req.payload)?;
        Self::check_candidate(&raft, req.from, &rpc.vote)?;
        reply(&raft.vote(rpc).await.map_err(fatal)?)
    }

    async fn pre_vote(
        &self,
        request: Request<pb::RaftRequest>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let req = request.into_inner();
        let raft = self.raft(req.group_id)?;
        let rpc: VoteRequest<TypeConfig> = decode("pre-vote", &req.payload)?;
        Self::check_candidate(&raft, req.from, &rpc.vote)?;
        reply(&raft.pre_vote(rpc).await.map_err(fatal)?)
    }

    async fn transfer_leader(
        &self,
        request: Request<pb::RaftRequest>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let req = request.into_inner();
        let raft = self.raft(req.group_id)?;
        let rpc: TransferLeaderRequest<TypeConfig> = decode("transfer leader", &req.payload)?;
        reply(&raft.handle_transfer_leader(rpc).await.map_err(fatal)?)
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<pb::SnapshotChunk>>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let mut stream = request.into_inner();
        let header = match stream.next().await {
            Some(Ok(pb::SnapshotChunk {
                kind: Some(pb::snapshot_chunk::Kind::Header(h)),
            })) => h,
            Some(Ok(_)) => {
                return Err(Status::invalid_argument(
                    "snapshot stream must start with a header",
                ));
            }
            Some(Err(s)) => return Err(s),
            None => return Err(Status::invalid_argument("empty snapshot stream")),
        };
        let raft = self.raft(header.group_id)?;
        let vote: VoteOf<TypeConfig> = decode("snapshot vote", &header.vote)?;
        let meta: SnapshotMetaOf<TypeConfig> = decode("snapshot meta", &header.meta)?;
        if header.total_len > MAX_SNAPSHOT {
            return Err(Status::invalid_argument(format!(
                "snapshot of {} bytes is too large",
                header.total_len
            )));
        }
        if vote.leader_id().node_id != header.from {
            return Err(Status::permission_denied(
                "snapshot vote is not the sender's",
            ));
        }
        // openraft panics on a snapshot that no protocol-following leader can
        // send; refuse the cheap-to-detect forms before handing it over.
        if let Some(last) = &meta.last_log_id
            && last.leader_id.term > vote.leader_id().term
        {
            return Err(Status::invalid_argument(
                "snapshot is newer than the sender's term",
            ));
        }
        let mut data = Vec::with_capacity(header.total_len.min(64 << 20) as usize);
        while let Some(chunk) = stream.next().await {
            match chunk?.kind {
                Some(pb::snapshot_chunk::Kind::Data(d)) => {
                    if (data.len() + d.len()) as u64 > header.total_len {
                        return Err(Status::invalid_argument(
                            "snapshot data longer than announced",
                        ));
                    }
                    data.extend_from_slice(&d);
                }
                _ => return Err(Status::invalid_argument("unexpected snapshot chunk")),
            }
        }
        if data.len() as u64 != header.total_len {
            return Err(Status::invalid_argument(format!(
                "truncated snapshot: {} of {} bytes",
                data.len(),
                header.total_len
            )));
        }
        // Check the keyspace encoding (magic, version, CRC, structure) here,
        // where a bad one is the sender's error, not a storage failure that
        // would stop the group.
        let data = Bytes::from(data);
        let check = data.clone();
        tokio::task::spawn_blocking(move || shoal_core::Db::decode_snapshot(&check).map(|_| ()))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| Status::invalid_argument(format!("corrupt snapshot data: {e:?}")))?;
        let snapshot = SnapshotOf::<TypeConfig, Bytes> {
            meta,
            snapshot: data,
        };
        reply(
            &raft
                .install_full_snapshot(vote, snapshot)
                .await
                .map_err(fatal)?,
        )
    }
}
