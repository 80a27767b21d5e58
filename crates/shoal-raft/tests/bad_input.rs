//! Untrusted input from peers is rejected with an error status, never a
//! panic, and the node keeps working.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use openraft::Vote;
use openraft::raft::VoteRequest;
use shoal_core::Ctx;
use shoal_proto::v1 as pb;
use shoal_proto::v1::raft_service_client::RaftServiceClient;
use shoal_raft::Batch;
use shoal_raft::Node;
use shoal_raft::NodeConfig;
use shoal_raft::NodeInfo;
use shoal_raft::Proposal;
use shoal_raft::TypeConfig;
use tonic::Code;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

fn vote_payload(candidate: u64) -> Result<Bytes, BoxErr> {
    let req = VoteRequest::<TypeConfig>::new(Vote::new(99, candidate), None);
    Ok(Bytes::from(shoal_storage::encode(&req)?))
}

fn req(group_id: u64, from: u64, payload: Bytes) -> pb::RaftRequest {
    pb::RaftRequest {
        group_id,
        from,
        payload,
    }
}

fn header(
    group_id: u64,
    from: u64,
    total_len: u64,
    vote_for: u64,
) -> Result<pb::SnapshotChunk, BoxErr> {
    let meta = openraft::type_config::alias::SnapshotMetaOf::<TypeConfig>::default();
    Ok(pb::SnapshotChunk {
        kind: Some(pb::snapshot_chunk::Kind::Header(pb::SnapshotHeader {
            group_id,
            from,
            vote: Bytes::from(shoal_storage::encode(
                &openraft::type_config::alias::VoteOf::<TypeConfig>::new_committed(99, vote_for),
            )?),
            meta: Bytes::from(shoal_storage::encode(&meta)?),
            total_len,
        })),
    })
}

fn data(b: &'static [u8]) -> pb::SnapshotChunk {
    pb::SnapshotChunk {
        kind: Some(pb::snapshot_chunk::Kind::Data(Bytes::from_static(b))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_bad_input_is_rejected_without_panic() -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let node = Node::open(NodeConfig::new(1, dir.path())).await?;
    node.serve(listener);
    node.start_group(1).await?;
    let me = NodeInfo {
        client_addr: "127.0.0.1:1".into(),
        cluster_addr: addr.to_string(),
    };
    node.initialize(1, BTreeMap::from([(1, me)])).await?;
    // The membership check of votes needs the membership applied (a node with none must
    // accept the vote of whoever initializes the cluster): wait for it, as a loaded
    // machine may take a moment.
    for _ in 0..1000 {
        if !node.members(1)?.is_empty() && node.raft(1)?.voter_ids().next().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut client = RaftServiceClient::connect(format!("http://{addr}")).await?;

    let code = |r: Result<tonic::Response<pb::RaftReply>, tonic::Status>| match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    };

    // An RPC for a group this node does not run.
    assert_eq!(
        code(client.vote(req(99, 2, vote_payload(2)?)).await),
        Code::NotFound
    );
    assert_eq!(
        code(client.append_entries(req(99, 2, Bytes::new())).await),
        Code::NotFound
    );
    // Garbage and truncated payloads.
    assert_eq!(
        code(
            client
                .append_entries(req(1, 2, Bytes::from_static(b"garbage")))
                .await
        ),
        Code::InvalidArgument
    );
    let good = vote_payload(1)?;
    for cut in [0, 1, 5, good.len() - 1] {
        assert_eq!(
            code(client.vote(req(1, 1, good.slice(..cut))).await),
            Code::InvalidArgument,
            "cut {cut}"
        );
        assert_eq!(
            code(client.append_entries(req(1, 1, good.slice(..cut))).await),
            Code::InvalidArgument
        );
        assert_eq!(
            code(client.transfer_leader(req(1, 1, good.slice(..cut))).await),
            Code::InvalidArgument
        );
    }
    let mut flipped = good.to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x55;
    assert_eq!(
        code(client.pre_vote(req(1, 1, Bytes::from(flipped))).await),
        Code::InvalidArgument
    );
    // A well-formed message of the wrong type.
    assert_eq!(
        code(client.append_entries(req(1, 1, good.clone())).await),
        Code::InvalidArgument
    );
    // A vote from a node that is not a member, and one not from its sender.
    assert_eq!(
        code(client.vote(req(1, 42, vote_payload(42)?)).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(client.pre_vote(req(1, 42, vote_payload(42)?)).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(client.vote(req(1, 42, vote_payload(1)?)).await),
        Code::PermissionDenied
    );

    // Snapshot streams: empty, data first, truncated, too long, corrupt data.
    let snap = |chunks: Vec<pb::SnapshotChunk>| {
        let mut c = client.clone();
        async move { code(c.install_snapshot(tokio_stream::iter(chunks)).await) }
    };
    assert_eq!(snap(vec![]).await, Code::InvalidArgument);
    assert_eq!(snap(vec![data(b"xx")]).await, Code::InvalidArgument);
    assert_eq!(
        snap(vec![header(99, 2, 2, 2)?, data(b"xx")]).await,
        Code::NotFound
    );
    assert_eq!(
        snap(vec![header(1, 2, 100, 2)?, data(b"half")]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        snap(vec![header(1, 2, 2, 2)?, data(b"too long")]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        snap(vec![header(1, 2, 4, 2)?, data(b"junk")]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        snap(vec![header(1, 2, 4, 3)?, data(b"junk")]).await,
        Code::PermissionDenied
    );
    let mut bad_header = header(1, 2, 4, 2)?;
    if let Some(pb::snapshot_chunk::Kind::Header(h)) = &mut bad_header.kind {
        h.meta = Bytes::from_static(b"\x01\x00\x00\x00\x00");
    }
    assert_eq!(snap(vec![bad_header]).await, Code::InvalidArgument);

    // Replication streams (the group is named in the call's metadata): no or a bad group,
    // an unknown group, garbage, a message of the wrong type or of another group. A stream
    // that was accepted ends with the error status after its replies.
    let stream = |group: Option<&'static str>, msgs: Vec<pb::RaftRequest>| {
        let mut c = client.clone();
        async move {
            let mut call = tonic::Request::new(tokio_stream::iter(msgs));
            if let Some(g) = group {
                call.metadata_mut().insert(
                    "shoal-group",
                    tonic::metadata::MetadataValue::from_static(g),
                );
            }
            match c.stream_append(call).await {
                Err(s) => s.code(),
                Ok(r) => {
                    let mut replies = r.into_inner();
                    loop {
                        match replies.message().await {
                            Ok(Some(_)) => continue,
                            Ok(None) => break Code::Ok,
                            Err(s) => break s.code(),
                        }
                    }
                }
            }
        }
    };
    let garbage = || req(1, 2, Bytes::from_static(b"garbage"));
    assert_eq!(stream(None, vec![garbage()]).await, Code::InvalidArgument);
    assert_eq!(
        stream(Some("x"), vec![garbage()]).await,
        Code::InvalidArgument
    );
    assert_eq!(stream(Some("99"), vec![garbage()]).await, Code::NotFound);
    assert_eq!(
        stream(Some("1"), vec![garbage()]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        stream(Some("1"), vec![req(1, 1, good.slice(..good.len() - 1))]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        stream(Some("1"), vec![req(1, 1, good.clone())]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        stream(Some("1"), vec![req(2, 1, good.clone())]).await,
        Code::InvalidArgument
    );
    assert_eq!(stream(Some("1"), vec![]).await, Code::Ok);

    // The node still serves writes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !node.is_leader(1)? {
        assert!(std::time::Instant::now() < deadline, "no leader");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let set = Proposal::new(vec!["SET".into(), "k".into(), "v".into()], Ctx::default());
    let replies = node.propose(1, Batch::new(vec![set])).await?;
    assert_eq!(
        replies,
        vec![shoal_raft::CommandReply::Frame(Bytes::from_static(
            b"+OK\r\n"
        ))]
    );
    node.shutdown().await;
    Ok(())
}
