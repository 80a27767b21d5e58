//! The client side of the Raft transport: one cached gRPC channel per peer,
//! shared by every group, and openraft-multi's adapter binding it to a
//! (target, group) pair.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use futures_util::Stream;
use futures_util::StreamExt;
use openraft::RaftNetworkFactory;
use openraft::base::BoxFuture;
use openraft::base::BoxStream;
use openraft::error::NetworkError;
use openraft::error::RPCError;
use openraft::error::ReplicationClosed;
use openraft::error::StreamingError;
use openraft::error::Unreachable;
use openraft::network::Backoff;
use openraft::network::RPCOption;
use openraft::network::v2::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::StreamAppendResult;
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

fn timed_out(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{what} timed out"))
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
            .map_err(|_| network(timed_out("raft rpc")))?
            .map_err(status_error)?;
        shoal_storage::decode(&reply.into_inner().payload).map_err(network)
    }
}

/// Replies still due on a replication stream, for its timeout: the stream may sit idle
/// (no new entries) as long as it likes, but once a request is out its reply must come.
#[derive(Default)]
struct Outstanding {
    sent: AtomicU64,
    answered: AtomicU64,
}

impl Router {
    /// Opens a replication stream to `target` for `group` (gRPC `StreamAppend`): every
    /// request openraft yields is sent as soon as it is made, and the replies come back in
    /// order, so the leader does not wait a round trip between AppendEntries. A stream
    /// fails once a request has gone unanswered for `option.hard_ttl()` (the limit of one
    /// request/response RPC; detected within twice that); an idle stream (no new
    /// entries) stays open.
    async fn stream_append<S>(
        &self,
        target: NodeId,
        group: GroupId,
        input: S,
        option: RPCOption,
    ) -> Result<
        BoxStream<'static, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
        RPCError<TypeConfig>,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        let from = self.from;
        let count = Arc::new(Outstanding::default());
        let sent = count.clone();
        let requests = skip_superseded_commits(input).filter_map(move |rpc| {
            let request = match shoal_storage::encode(&rpc) {
                Ok(payload) => {
                    sent.sent.fetch_add(1, Ordering::Relaxed);
                    Some(pb::RaftRequest {
                        group_id: group,
                        from,
                        payload: Bytes::from(payload),
                    })
                }
                Err(e) => {
                    // Cannot happen for openraft's serde types; ending the stream makes
                    // openraft start another.
                    tracing::error!(group, target, error = %e, "cannot encode an append request");
                    None
                }
            };
            std::future::ready(request)
        });
        let mut client = self.client(target)?;
        let ttl = option.hard_ttl();
        let mut call = tonic::Request::new(requests);
        call.metadata_mut()
            .insert(crate::service::GROUP_METADATA, group.into());
        let replies = tokio::time::timeout(ttl, client.stream_append(call))
            .await
            .map_err(|_| network(timed_out("opening a replication stream")))?
            .map_err(status_error)?
            .into_inner();
        let out = futures_util::stream::unfold(Some((replies, count)), move |state| async move {
            let (mut replies, count) = state?;
            loop {
                // Sent before this wait began: a request among them still unanswered when
                // the wait ends has been out a full `ttl`. (Counting at the end instead
                // would fail a request sent just before the end of an idle wait.)
                let out_before = count.sent.load(Ordering::Relaxed);
                match tokio::time::timeout(ttl, replies.next()).await {
                    Ok(Some(Ok(reply))) => {
                        count.answered.fetch_add(1, Ordering::Relaxed);
                        let r = shoal_storage::decode(&reply.payload).map_err(network);
                        let next = r.is_ok().then_some((replies, count));
                        return Some((r, next));
                    }
                    Ok(Some(Err(status))) => return Some((Err(status_error(status)), None)),
                    Ok(None) => return None,
                    Err(_) => {
                        if out_before > count.answered.load(Ordering::Relaxed) {
                            let e = network(timed_out("append reply"));
                            return Some((Err(e), None));
                        }
                    }
                }
            }
        });
        Ok(Box::pin(out))
    }
}

/// How long a commit-only AppendEntries waits for a request that would make it redundant.
const COMMIT_LINGER: Duration = Duration::from_millis(2);

/// Leaves out a commit-only AppendEntries (no entries: it only tells the follower the
/// new commit index) when another request follows within [`COMMIT_LINGER`]: that one
/// carries a commit index at least as new. Under load openraft sends one after every
/// entry, as many messages again as the entries themselves, each a wake-up, a decode
/// and a reply on the follower and the leader. A follower then applies an entry with the
/// next one; idle, at most `COMMIT_LINGER` later. Responses acknowledge the follower's
/// log position cumulatively, so a request left out needs none. A stream that ends
/// (a heartbeat is a stream of one) sends what it holds at once.
fn skip_superseded_commits<S>(input: S) -> SkipSupersededCommits<S> {
    SkipSupersededCommits {
        input,
        held: None,
        linger: Box::pin(tokio::time::sleep(COMMIT_LINGER)),
        ended: false,
    }
}

/// The stream [`skip_superseded_commits`] returns.
struct SkipSupersededCommits<S> {
    input: S,
    /// A commit-only request waiting for the next one, or for `linger`.
    held: Option<AppendEntriesRequest<TypeConfig>>,
    linger: std::pin::Pin<Box<tokio::time::Sleep>>,
    ended: bool,
}

impl<S> Stream for SkipSupersededCommits<S>
where
    S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Unpin,
{
    type Item = AppendEntriesRequest<TypeConfig>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(this.held.take());
            }
            match this.input.poll_next_unpin(cx) {
                Poll::Ready(None) => this.ended = true,
                Poll::Ready(Some(rpc)) if rpc.entries.is_empty() => {
                    // The deadline is the first held request's: a run of commit-only
                    // requests does not hold the commit back longer.
                    if this.held.is_none() {
                        let at = tokio::time::Instant::now() + COMMIT_LINGER;
                        this.linger.as_mut().reset(at);
                    }
                    this.held = Some(rpc);
                }
                Poll::Ready(Some(rpc)) => {
                    this.held = None;
                    return Poll::Ready(Some(rpc));
                }
                Poll::Pending => {
                    if this.held.is_some() && this.linger.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(this.held.take());
                    }
                    return Poll::Pending;
                }
            }
        }
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
    type Network = GroupClient;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Self::Network {
        self.router.register(target, &node.cluster_addr);
        GroupClient {
            rpc: GroupNetworkAdapter::new(self.router.clone(), target, self.group),
            router: self.router.clone(),
            target,
            group: self.group,
        }
    }
}

/// openraft's network to one peer for one group: openraft-multi's adapter for the
/// request/response RPCs, and a gRPC stream for replication ([`Router::stream_append`]),
/// which the adapter does not offer (it sends one AppendEntries at a time).
pub(crate) struct GroupClient {
    rpc: GroupNetworkAdapter<TypeConfig, GroupId, Router>,
    router: Router,
    target: NodeId,
    group: GroupId,
}

impl RaftNetworkV2<TypeConfig> for GroupClient {
    type SnapshotData = Bytes;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.rpc.append_entries(rpc, option).await
    }

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        option: RPCOption,
    ) -> BoxFuture<
        's,
        Result<
            BoxStream<'s, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
            RPCError<TypeConfig>,
        >,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        let router = self.router.clone();
        let (target, group) = (self.target, self.group);
        Box::pin(async move { router.stream_append(target, group, input, option).await })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.rpc.vote(rpc, option).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.rpc.pre_vote(rpc, option).await
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<TypeConfig>,
        snapshot: SnapshotOf<TypeConfig, Bytes>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        self.rpc.full_snapshot(vote, snapshot, cancel, option).await
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.rpc.transfer_leader(req, option).await
    }

    fn backoff(&self) -> Option<Backoff> {
        self.rpc.backoff()
    }
}
