//! Property tests: what the encoder writes, the parsers read back unchanged.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use shoal_resp::{Frame, Limits, Protocol, RequestDecoder, encode, encode_command, parse_reply};

/// Text for one-line replies: anything but CR and LF, which the encoder would replace.
fn line_text() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..20,
    )
    .prop_map(Bytes::from)
}

fn blob() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::Null),
        Just(Frame::NullArray),
        any::<f64>()
            .prop_filter("NaN never equals itself", |d| !d.is_nan())
            .prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        (any::<[u8; 3]>(), blob()).prop_map(|(f, t)| Frame::Verbatim(f, t)),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Frame::Map),
        ]
    })
}

/// RESP3 has one null: both null kinds come back as `Null`.
fn normalise(f: Frame) -> Frame {
    match f {
        Frame::NullArray => Frame::Null,
        Frame::Array(v) => Frame::Array(v.into_iter().map(normalise).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().map(normalise).collect()),
        Frame::Push(v) => Frame::Push(v.into_iter().map(normalise).collect()),
        Frame::Map(v) => Frame::Map(
            v.into_iter()
                .map(|(k, v)| (normalise(k), normalise(v)))
                .collect(),
        ),
        other => other,
    }
}

/// What a RESP2 client receives for a RESP3-shaped value.
fn downgrade(f: Frame) -> Frame {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            Frame::Array(v.into_iter().map(downgrade).collect())
        }
        Frame::Map(v) => Frame::Array(
            v.into_iter()
                .flat_map(|(k, v)| [downgrade(k), downgrade(v)])
                .collect(),
        ),
        Frame::Double(d) => {
            let mut s = Vec::new();
            shoal_resp::format_double(d, &mut s);
            Frame::Bulk(Bytes::from(s))
        }
        Frame::Boolean(b) => Frame::Integer(i64::from(b)),
        Frame::BigNumber(n) => Frame::Bulk(n),
        Frame::Verbatim(_, t) => Frame::Bulk(t),
        other => other,
    }
}

fn encoded(f: &Frame, p: Protocol) -> BytesMut {
    let mut out = BytesMut::new();
    encode(f, p, &mut out);
    out
}

proptest! {
    #[test]
    fn resp3_round_trip(f in frame()) {
        let mut buf = encoded(&f, Protocol::Resp3);
        let back = parse_reply(&mut buf).unwrap();
        prop_assert_eq!(back, Some(normalise(f)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn resp2_round_trip(f in frame()) {
        let mut buf = encoded(&f, Protocol::Resp2);
        let back = parse_reply(&mut buf).unwrap();
        prop_assert_eq!(back, Some(downgrade(f)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn resp2_map_is_the_flat_array(pairs in proptest::collection::vec((frame(), frame()), 0..5)) {
        let flat = Frame::Array(pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect());
        prop_assert_eq!(encoded(&Frame::Map(pairs), Protocol::Resp2), encoded(&flat, Protocol::Resp2));
    }

    #[test]
    fn reply_parser_tolerates_any_split(f in frame(), cut in any::<prop::sample::Index>()) {
        let whole = encoded(&f, Protocol::Resp3);
        let cut = cut.index(whole.len() + 1);
        let mut buf = BytesMut::from(&whole[..cut]);
        if cut < whole.len() {
            prop_assert_eq!(parse_reply(&mut buf).unwrap(), None);
            prop_assert_eq!(buf.len(), cut);
        }
        buf.extend_from_slice(&whole[cut..]);
        prop_assert_eq!(parse_reply(&mut buf).unwrap(), Some(normalise(f)));
    }

    #[test]
    fn commands_round_trip(
        cmds in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..8), 1..5),
        chunk in 1usize..64,
    ) {
        let mut wire = BytesMut::new();
        for args in &cmds {
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            encode_command(&refs, &mut wire);
        }
        let mut d = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(cmd) = d.decode(&mut buf, &Limits::default(), true).unwrap() {
                got.push(cmd.into_iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            }
        }
        prop_assert_eq!(got, cmds);
        prop_assert!(buf.is_empty());
    }

    /// Whatever the bytes, the decoder returns a command, an error or "need more": it
    /// never panics, and a command is never empty.
    #[test]
    fn decoder_survives_garbage(data in proptest::collection::vec(any::<u8>(), 0..200), chunk in 1usize..32, auth in any::<bool>()) {
        let mut d = RequestDecoder::new();
        let mut buf = BytesMut::new();
        'outer: for piece in data.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                match d.decode(&mut buf, &Limits::default(), auth) {
                    Ok(Some(cmd)) => prop_assert!(!cmd.is_empty()),
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }

    #[test]
    fn reply_parser_survives_garbage(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = parse_reply(&mut buf) {}
    }
}

/// Decodes `input` fed in pieces of `chunk` bytes: the commands, then the error if any.
fn decode_in_pieces(
    input: &[u8],
    chunk: usize,
    limits: &Limits,
    auth: bool,
) -> (Vec<Vec<Vec<u8>>>, Option<String>) {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match d.decode(&mut buf, limits, auth) {
                Ok(Some(cmd)) => got.push(cmd.into_iter().map(|a| a.to_vec()).collect()),
                Ok(None) => break,
                Err(e) => return (got, Some(e.0)),
            }
        }
    }
    (got, None)
}

/// Near-valid RESP: canonical frames mixed with what only the general parser may judge
/// (leading zeros, signs, a missing `\n`, limits, inline commands, cut-off frames).
fn resp_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"*1\r\n"[..]),
        Just(&b"*2\r\n"[..]),
        Just(&b"*3\r\n"[..]),
        Just(&b"*20\r\n"[..]),
        Just(&b"*03\r\n"[..]),
        Just(&b"*0\r\n"[..]),
        Just(&b"*-1\r\n"[..]),
        Just(&b"*+1\r\n"[..]),
        Just(&b"*1\rx"[..]),
        Just(&b"$3\r\nabc\r\n"[..]),
        Just(&b"$3\r\nabcxy"[..]),
        Just(&b"$0\r\n\r\n"[..]),
        Just(&b"$03\r\nabc\r\n"[..]),
        Just(&b"$-1\r\n"[..]),
        Just(&b"$3\rxabc\r\n"[..]),
        Just(&b"$1\r\n"[..]),
        Just(&b"$12345678901\r\n"[..]),
        Just(&b"PING\r\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"x"[..]),
    ];
    proptest::collection::vec(token, 0..12).prop_map(|ts| ts.concat())
}

/// A long request (an MSET of ten pairs, 21 arguments) decodes the same in one read as
/// byte by byte.
#[test]
fn long_request_decodes_whole_as_in_pieces() {
    let mut req = b"*21\r\n$4\r\nMSET\r\n".to_vec();
    for i in 0..10 {
        req.extend_from_slice(format!("$5\r\nkey:{i}\r\n$3\r\nv{i:02}\r\n").as_bytes());
    }
    req.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    let limits = Limits::default();
    let at_once = decode_in_pieces(&req, req.len(), &limits, true);
    assert_eq!(at_once, decode_in_pieces(&req, 1, &limits, true));
    assert_eq!(at_once.0.len(), 2);
    assert_eq!(at_once.0[0].len(), 21);
    assert_eq!(at_once.0[0][20], b"v09");
}

proptest! {
    /// A request that is in the buffer whole is decoded by a fast path, a request that
    /// arrives in pieces by the resumable parser: both must give the same commands and
    /// the same error, whatever the bytes and limits.
    #[test]
    fn whole_and_piecewise_decoding_agree(
        input in resp_soup(),
        auth in any::<bool>(),
        small_limits in any::<bool>(),
    ) {
        let limits = if small_limits {
            Limits { max_bulk_len: 2, max_multibulk_len: 2, ..Limits::default() }
        } else {
            Limits::default()
        };
        let at_once = decode_in_pieces(&input, input.len().max(1), &limits, auth);
        let bytewise = decode_in_pieces(&input, 1, &limits, auth);
        prop_assert_eq!(at_once, bytewise);
    }
}
