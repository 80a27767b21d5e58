//! Request decoding: Redis 7.0's exact error texts (checked against redis-server 7.0.15),
//! inline quoting, and independence from how the input is chunked.

use bytes::{Bytes, BytesMut};
use shoal_resp::{Limits, RequestDecoder};

fn decode_all(input: &[u8], auth: bool) -> Result<Vec<Vec<Bytes>>, String> {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match d.decode(&mut buf, &Limits::default(), auth) {
            Ok(Some(cmd)) => out.push(cmd),
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.0),
        }
    }
}

fn cmds(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
    decode_all(input, true)
        .unwrap()
        .into_iter()
        .map(|c| c.into_iter().map(|a| a.to_vec()).collect())
        .collect()
}

fn one(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn error_of(input: &[u8], auth: bool) -> String {
    decode_all(input, auth).unwrap_err()
}

#[test]
fn multibulk_basic() {
    assert_eq!(
        cmds(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        vec![one(&["GET", "k"])]
    );
}

#[test]
fn trailing_bytes_after_bulk_are_not_checked() {
    // redis-server 7.0.15 answers +PONG twice to this.
    assert_eq!(
        cmds(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
        vec![one(&["PING"]), one(&["PING"])]
    );
}

#[test]
fn empty_and_negative_multibulk_are_skipped() {
    assert_eq!(cmds(b"*0\r\nPING\r\n"), vec![one(&["PING"])]);
    assert_eq!(cmds(b"*-1\r\n*-5\r\nPING\r\n"), vec![one(&["PING"])]);
    assert_eq!(cmds(b"\r\n\n  \r\nPING\n"), vec![one(&["PING"])]);
}

#[test]
fn error_texts() {
    let cases: &[(&[u8], &str)] = &[
        (b"*-0\r\n", "Protocol error: invalid multibulk length"),
        (b"*x\r\n", "Protocol error: invalid multibulk length"),
        (b"*\r\n", "Protocol error: invalid multibulk length"),
        (b"*01\r\n", "Protocol error: invalid multibulk length"),
        (b"*+1\r\n", "Protocol error: invalid multibulk length"),
        (
            b"*1\n$4\r\nPING\r\n",
            "Protocol error: invalid multibulk length",
        ),
        (
            b"*2147483648\r\n",
            "Protocol error: invalid multibulk length",
        ),
        (b"*1048577\r\n", "Protocol error: invalid multibulk length"),
        (b"*1\r\nx3\r\n", "Protocol error: expected '$', got 'x'"),
        (b"*1\r\n\r\n", "Protocol error: expected '$', got ' '"),
        (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$+4\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$04\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$\r\n", "Protocol error: invalid bulk length"),
        (
            b"*1\r\n$536870913\r\n",
            "Protocol error: invalid bulk length",
        ),
        (
            b"GET \"a\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET 'a\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET \"a\"b\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET 'a'b\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET \"a\\\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            &error_of(input, true),
            want,
            "input {:?}",
            Bytes::copy_from_slice(input)
        );
    }
}

#[test]
fn expected_dollar_with_odd_bytes() {
    // Redis prints the byte with %c; CR/LF become spaces in error replies. A non-ASCII
    // byte cannot travel in a String as-is and becomes its Latin-1 character.
    assert_eq!(
        error_of(b"*1\r\n\n\r\n", true),
        "Protocol error: expected '$', got ' '"
    );
    assert_eq!(
        error_of(b"*1\r\n\xe9\r\n", true),
        "Protocol error: expected '$', got '\u{e9}'"
    );
}

#[test]
fn max_limits_are_configurable() {
    let limits = Limits {
        max_bulk_len: 10,
        max_multibulk_len: 2,
        max_inline_len: 8,
    };
    let err = |input: &[u8]| {
        let mut d = RequestDecoder::new();
        d.decode(&mut BytesMut::from(input), &limits, true)
            .unwrap_err()
            .0
    };
    assert_eq!(err(b"*3\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(err(b"*1\r\n$11\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(err(b"PING PING"), "Protocol error: too big inline request");
}

#[test]
fn big_count_strings() {
    // 64 KiB in the buffer without a CR is still waited for; one byte more is refused.
    let mut v = b"*".to_vec();
    v.extend(std::iter::repeat_n(b'1', 64 * 1024 - 1));
    assert_eq!(decode_all(&v, true).unwrap(), Vec::<Vec<Bytes>>::new());
    v.push(b'1');
    assert_eq!(
        error_of(&v, true),
        "Protocol error: too big mbulk count string"
    );

    let mut v = b"*1\r\n$".to_vec();
    v.extend(std::iter::repeat_n(b'1', 64 * 1024));
    assert_eq!(
        error_of(&v, true),
        "Protocol error: too big bulk count string"
    );

    let mut v = b"GET ".to_vec();
    v.extend(std::iter::repeat_n(b'a', 64 * 1024));
    assert_eq!(error_of(&v, true), "Protocol error: too big inline request");
    // With its newline, a long inline line is fine.
    v.push(b'\n');
    assert_eq!(decode_all(&v, true).unwrap().len(), 1);
}

#[test]
fn unauthenticated_limits() {
    assert_eq!(
        error_of(b"*11\r\n", false),
        "Protocol error: unauthenticated multibulk length"
    );
    assert!(decode_all(b"*10\r\n", false).is_ok());
    assert_eq!(
        error_of(b"*1\r\n$16385\r\n", false),
        "Protocol error: unauthenticated bulk length"
    );
    assert!(decode_all(b"*1\r\n$16384\r\n", false).is_ok());
    assert!(decode_all(b"*11\r\n$16385\r\n", true).is_ok());
}

#[test]
fn inline_quoting() {
    let c = |s: &[u8]| cmds(s);
    assert_eq!(c(b"SET k \"a b\"\r\n"), vec![one(&["SET", "k", "a b"])]);
    assert_eq!(
        c(b"SET k \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n"),
        vec![vec![
            b"SET".to_vec(),
            b"k".to_vec(),
            b"AJ\n\r\t\x08\x07\\\"q".to_vec()
        ]]
    );
    assert_eq!(
        c(b"SET k 'it\\'s \\n'\r\n"),
        vec![one(&["SET", "k", "it's \\n"])]
    );
    assert_eq!(c(b"a\"b c\"\r\n"), vec![one(&["ab c"])]);
    assert_eq!(c(b"ECHO a'b c'\r\n"), vec![one(&["ECHO", "ab c"])]);
    // \x needs two hex digits; otherwise it is the generic escape of 'x'.
    assert_eq!(c(b"ECHO \"a\\x4\"\r\n"), vec![one(&["ECHO", "ax4"])]);
    // A closing quote followed by a \v (C isspace) is fine.
    assert_eq!(c(b"ECHO \"a\"\x0b\r\n"), vec![one(&["ECHO", "a"])]);
    assert_eq!(c(b"  GET\t\tk  \r\n"), vec![one(&["GET", "k"])]);
    assert_eq!(c(b"GET \"\" x\r\n"), vec![one(&["GET", "", "x"])]);
    // \xZZ is not an escape: backslash-x then ZZ, with the backslash dropped.
    assert_eq!(c(b"GET \"\\xZZ\"\r\n"), vec![one(&["GET", "xZZ"])]);
    // \v is skipped between arguments but is not a terminator inside one.
    assert_eq!(c(b"\x0bGET a\x0bb\r\n"), vec![one(&["GET", "a\x0bb"])]);
    // A C string ends at NUL.
    assert_eq!(c(b"GET a\0b c\r\n"), vec![one(&["GET", "a"])]);
    // A bare \r inside the line separates arguments.
    assert_eq!(c(b"GET a\rb\r\n"), vec![one(&["GET", "a", "b"])]);
}

#[test]
fn split_at_every_position() {
    let pipeline: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*0\r\n\
        SET \"a b\" 'c'\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n\r\n*1\r\n$4\r\nPING\r\n";
    let want = cmds(pipeline);
    assert_eq!(want.len(), 5);
    for i in 0..=pipeline.len() {
        for j in i..=pipeline.len() {
            let mut d = RequestDecoder::new();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in [&pipeline[..i], &pipeline[i..j], &pipeline[j..]] {
                buf.extend_from_slice(chunk);
                while let Some(cmd) = d.decode(&mut buf, &Limits::default(), true).unwrap() {
                    got.push(cmd.into_iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                }
            }
            assert_eq!(got, want, "split at {i},{j}");
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn byte_at_a_time() {
    let pipeline: &[u8] = b"*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\nECHO x\r\n";
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in pipeline {
        buf.extend_from_slice(&[b]);
        while let Some(cmd) = d.decode(&mut buf, &Limits::default(), true).unwrap() {
            got.push(cmd);
        }
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][1], Bytes::from_static(b"0123456789"));
}

#[test]
fn bytes_hint_reports_pending_bulk() {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$100000\r\nab"[..]);
    assert!(
        d.decode(&mut buf, &Limits::default(), true)
            .unwrap()
            .is_none()
    );
    assert_eq!(d.bytes_hint(), 100000);
    buf.extend_from_slice(&[b'x'; 99999]);
    assert!(
        d.decode(&mut buf, &Limits::default(), true)
            .unwrap()
            .is_none()
    );
    assert_eq!(d.bytes_hint(), 1);
    buf.extend_from_slice(b"\n");
    assert_eq!(
        d.decode(&mut buf, &Limits::default(), true)
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(d.bytes_hint(), 0);
}

#[test]
fn large_command_in_pieces_is_linear() {
    // 200k arguments fed 1 KiB at a time: quadratic rescanning would take minutes.
    let n = 200_000;
    let mut wire = BytesMut::new();
    let args: Vec<Vec<u8>> = (0..n).map(|i| i.to_string().into_bytes()).collect();
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    shoal_resp::encode_command(&refs, &mut wire);
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let start = std::time::Instant::now();
    let mut result = None;
    for chunk in wire.chunks(1024) {
        buf.extend_from_slice(chunk);
        if let Some(cmd) = d.decode(&mut buf, &Limits::default(), true).unwrap() {
            result = Some(cmd);
        }
    }
    let cmd = result.unwrap();
    assert_eq!(cmd.len(), n);
    assert_eq!(cmd[12345], Bytes::from("12345"));
    assert!(start.elapsed().as_secs() < 10);

    // One 8 MiB bulk in 16 KiB pieces.
    let big = vec![b'x'; 8 << 20];
    let mut wire = BytesMut::new();
    shoal_resp::encode_command(&[b"SET", b"k", &big], &mut wire);
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in wire.chunks(16 * 1024) {
        buf.reserve(d.bytes_hint());
        buf.extend_from_slice(chunk);
        if let Some(cmd) = d.decode(&mut buf, &Limits::default(), true).unwrap() {
            result = Some(cmd);
        }
    }
    assert_eq!(result.unwrap()[2].len(), 8 << 20);
}

/// The full-size case: a 512 MiB bulk (proto-max-bulk-len) in 16 KiB reads (~1 GiB of
/// memory; the machines we test on have plenty).
#[test]
fn max_size_bulk_in_16k_pieces() {
    let len = 512 << 20;
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::from(&format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${len}\r\n")[..]);
    assert!(
        d.decode(&mut buf, &Limits::default(), true)
            .unwrap()
            .is_none()
    );
    let piece = vec![b'v'; 16 * 1024];
    let start = std::time::Instant::now();
    let mut sent = 0;
    let mut reallocations = 0;
    while sent < len {
        let cap = buf.capacity();
        buf.reserve(d.bytes_hint());
        reallocations += usize::from(buf.capacity() != cap);
        let n = piece.len().min(len - sent);
        buf.extend_from_slice(&piece[..n]);
        sent += n;
        assert!(
            d.decode(&mut buf, &Limits::default(), true)
                .unwrap()
                .is_none()
        );
    }
    buf.extend_from_slice(b"\r\n");
    let cmd = d
        .decode(&mut buf, &Limits::default(), true)
        .unwrap()
        .unwrap();
    assert_eq!(cmd[2].len(), len);
    // bytes_hint lets the buffer grow once, not by doubling.
    assert!(reallocations <= 2, "{reallocations} reallocations");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}
