//! The client side of the Raft transport: one cached gRPC channel per peer,
//! shared by every group, and openraft-multi's adapter binding it to a
//! (target, group) pair.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use openraft::RaftNetworkFactory;
use openraft::error::NetworkError;
use openraft::error::RPCError;
use openraft::error::ReplicationClosed;
use openraft::error::StreamingError;
use openraft::error::Unreachable;
use openraft::network::RPCOption;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::TransferLeaderResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;
use openraft::type_config::alias::SnapshotOf;
use openraft::type_config::alias::VoteOf;
use openraft_multi::GroupNetworkAdapter;
use openraft_multi::GroupRouter;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shoal_proto::v1 as pb;
use shoal_proto::v1::raft_service_client::RaftServiceClient;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::types::GroupId;
use crate::types::NodeId;
use crate::types::NodeInfo;
use crate::types::TypeConfig;

/// Largest gRPC message accepted or sent (tonic's default is 4 MiB).
pub(crate) const MAX_MESSAGE: usize = 64 << 20;
/// Snapshot data bytes per streamed chunk.
const SNAPSHOT_CHUNK: usize = 1 << 20;

#[derive(Debug)]
struct Peer {
    addr: String,
    channel: Channel,
}

/// Connections to peers, shared by all groups of a node: HTTP/2 multiplexes
/// every group's RPCs over one channel per peer.
#[derive(Clone)]
pub(crate) struct Router {
    from: NodeId,
    peers: Arc<RwLock<HashMap<NodeId, Peer>>>,
}

#[derive(Clone, Copy)]
enum Rpc {
    Append,
    Vote,
    PreVote,
    TransferLeader,
}

fn unreachable(e: impl std::error::Error + 'static) -> RPCError<TypeConfig> {
    RPCError::Unreachable(Unreachable::new(&e))
}

fn network(e: impl std::error::Error + 'static) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::new(&e))
}

fn status_error(s: tonic::Status) -> RPCError<TypeConfig> {
    match s.code() {
        // The peer is down, restarting, or does not run the group (yet):
        // let openraft back off rather than hammer it.
        tonic::Code::Unavailable | tonic::Code::NotFound | tonic::Code::Cancelled => unreachable(s),
        _ => network(s),
    }
}

impl Router {
    pub(crate) fn new(from: NodeId) -> Self {
        Self {
            from,
            peers: Arc::default(),
        }
    }

    /// Makes sure `target` is reached at `addr`, creating or replacing its
    /// channel. Cheap when nothing changed.
    pub(crate) fn register(&self, target: NodeId, addr: &str) {
        {
            let peers = self.peers.read().unwrap_or_else(|p| p.into_inner());
            if peers.get(&target).is_some_and(|p| p.addr == addr) {
                return;
            }
        }
        match Endpoint::from_shared(format!("http://{addr}")) {
            Ok(ep) => {
                let channel = ep
                    .connect_timeout(Duration::from_secs(1))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(10))
                    .keep_alive_while_idle(true)
                    .connect_lazy();
                let mut peers = self.peers.write().unwrap_or_else(|p| p.into_inner());
                peers.insert(
                    target,
                    Peer {
                        addr: addr.to_string(),
                        channel,
                    },
                );
            }
            Err(e) => tracing::warn!(target, addr, error = %e, "invalid peer address"),
        }
    }

    fn client(&self, target: NodeId) -> Result<RaftServiceClient<Channel>, RPCError<TypeConfig>> {
        let peers = self.peers.read().unwrap_or_else(|p| p.into_inner());
        let peer = peers.get(&target).ok_or_else(|| {
            unreachable(std::io::Error::other(format!(
                "no address for node {target}"
            )))
        })?;
        Ok(RaftServiceClient::new(peer.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE))
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        target: NodeId,
        group: GroupId,
        rpc: Rpc,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<TypeConfig>> {
        let payload = Bytes::from(shoal_storage::encode(req).map_err(network)?);
        let request = pb::RaftRequest {
            group_id: group,
            from: self.from,
            payload,
        };
        let mut client = self.client(target)?;
        let fut = async move {
            match rpc {
                Rpc::Append => client.append_entries(request).await,
                Rpc::Vote => client.vote(request).await,
                Rpc::PreVote => client.pre_vote(request).await,
                Rpc::TransferLeader => client.transfer_leader(request).await,
            }
        };
        let reply = tokio::time::timeout(option.hard_ttl(), fut)
            .await
            .map_err(|_| {
                network(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "raft rpc timed out",
                ))
            })?
            .map_err(status_error)?;
        shoal_storage::decode(&reply.into_inner().payload).map_err(network)
    }
}

impl GroupRouter<TypeConfig, GroupId> for Router {
    type SnapshotData = Bytes;

    async fn append_entries(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::Append, &rpc, &option)
            .await
    }

    async fn vote(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::Vote, &rpc, &option).await
    }

    async fn pre_vote(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::PreVote, &rpc, &option)
            .await
    }

    async fn transfer_leader(
        &self,
        target: NodeId,
        group_id: GroupId,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::TransferLeader, &req, &option)
            .await
    }

    async fn full_snapshot(
        &self,
        target: NodeId,
        group_id: GroupId,
        vote: VoteOf<TypeConfig>,
        snapshot: SnapshotOf<TypeConfig, Bytes>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let net = |e: &dyn std::error::Error| {
            StreamingError::Network(NetworkError::new(&std::io::Error::other(e.to_string())))
        };
        let header = pb::SnapshotHeader {
            group_id,
            from: self.from,
            vote: Bytes::from(shoal_storage::encode(&vote).map_err(|e| net(&e))?),
            meta: Bytes::from(shoal_storage::encode(&snapshot.meta).map_err(|e| net(&e))?),
            total_len: snapshot.snapshot.len() as u64,
        };
        let data = snapshot.snapshot;
        let chunk = option
            .snapshot_chunk_size()
            .unwrap_or(SNAPSHOT_CHUNK)
            .clamp(4096, MAX_MESSAGE / 2);
        let mut chunks = vec![pb::SnapshotChunk {
            kind: Some(pb::snapshot_chunk::Kind::Header(header)),
        }];
        let mut at = 0;
        while at < data.len() {
            let end = (at + chunk).min(data.len());
            chunks.push(pb::SnapshotChunk {
                kind: Some(pb::snapshot_chunk::Kind::Data(data.slice(at..end))),
            });
            at = end;
        }
        let mut client = self.client(target).map_err(|e| match e {
            RPCError::Unreachable(u) => StreamingError::Unreachable(u),
            other => net(&other),
        })?;
        let send = client.install_snapshot(tokio_stream::iter(chunks));
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            r = tokio::time::timeout(option.hard_ttl().max(Duration::from_secs(10)), send) => {
                let reply = r
                    .map_err(|_| net(&std::io::Error::new(std::io::ErrorKind::TimedOut, "snapshot send timed out")))?
                    .map_err(|s| match status_error(s) {
                        RPCError::Unreachable(u) => StreamingError::Unreachable(u),
                        other => net(&other),
                    })?;
                shoal_storage::decode(&reply.into_inner().payload).map_err(|e| net(&e))
            }
        }
    }
}

/// openraft's network factory for one group: binds the shared [`Router`]
/// to the group id. `new_client` only records the peer's address and
/// clones handles, so it is cheap, as openraft expects.
pub(crate) struct GroupNetwork {
    pub(crate) router: Router,
    pub(crate) group: GroupId,
}

impl RaftNetworkFactory<TypeConfig> for GroupNetwork {
    type Network = GroupNetworkAdapter<TypeConfig, GroupId, Router>;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Self::Network {
        self.router.register(target, &node.cluster_addr);
        GroupNetworkAdapter::new(self.router.clone(), target, self.group)
    }
}
