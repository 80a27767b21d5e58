//! Reply parsing: every RESP2/RESP3 type, partial input, attributes and malformed input.

use bytes::{Bytes, BytesMut};
use shoal_resp::{Frame, parse_reply};

fn parse(input: &[u8]) -> Frame {
    let mut buf = BytesMut::from(input);
    let f = parse_reply(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty(), "left over: {buf:?}");
    f
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn every_type() {
    assert_eq!(parse(b"+OK\r\n"), Frame::ok());
    assert_eq!(parse(b"-ERR x\r\n"), Frame::Error(b("ERR x")));
    assert_eq!(parse(b":-3\r\n"), Frame::Integer(-3));
    assert_eq!(parse(b"$3\r\nfoo\r\n"), Frame::bulk(b"foo"));
    assert_eq!(parse(b"$-1\r\n"), Frame::Null);
    assert_eq!(parse(b"*-1\r\n"), Frame::NullArray);
    assert_eq!(parse(b"_\r\n"), Frame::Null);
    assert_eq!(parse(b",1.5\r\n"), Frame::Double(1.5));
    assert_eq!(parse(b",inf\r\n"), Frame::Double(f64::INFINITY));
    assert_eq!(parse(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
    assert_eq!(parse(b",1e+20\r\n"), Frame::Double(1e20));
    assert!(matches!(parse(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
    assert_eq!(parse(b"#t\r\n"), Frame::Boolean(true));
    assert_eq!(parse(b"#f\r\n"), Frame::Boolean(false));
    assert_eq!(
        parse(b"(12345678901234567890\r\n"),
        Frame::BigNumber(b("12345678901234567890"))
    );
    assert_eq!(parse(b"!5\r\nERR x\r\n"), Frame::Error(b("ERR x")));
    assert_eq!(
        parse(b"=15\r\ntxt:Some string\r\n"),
        Frame::Verbatim(*b"txt", b("Some string"))
    );
    assert_eq!(
        parse(b"*2\r\n:1\r\n*1\r\n+a\r\n"),
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![Frame::simple("a")])
        ])
    );
    assert_eq!(
        parse(b"%1\r\n+k\r\n~1\r\n:2\r\n"),
        Frame::Map(vec![(
            Frame::simple("k"),
            Frame::Set(vec![Frame::Integer(2)])
        )])
    );
    assert_eq!(
        parse(b">2\r\n+message\r\n$1\r\nx\r\n"),
        Frame::Push(vec![Frame::simple("message"), Frame::bulk(b"x")])
    );
}

#[test]
fn attributes_are_skipped() {
    assert_eq!(
        parse(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n"),
        Frame::Array(vec![Frame::Integer(2)])
    );
}

#[test]
fn partial_input_consumes_nothing() {
    let whole: &[u8] = b"*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n,2.5\r\n=7\r\ntxt:abc\r\n+next\r\n";
    let first_len = whole.len() - b"+next\r\n".len();
    for cut in 0..first_len {
        let mut buf = BytesMut::from(&whole[..cut]);
        assert_eq!(parse_reply(&mut buf).unwrap(), None, "cut {cut}");
        assert_eq!(buf.len(), cut);
    }
    let mut buf = BytesMut::from(whole);
    assert!(matches!(
        parse_reply(&mut buf).unwrap(),
        Some(Frame::Array(_))
    ));
    assert_eq!(parse_reply(&mut buf).unwrap(), Some(Frame::simple("next")));
    assert!(buf.is_empty());
}

#[test]
fn malformed() {
    for bad in [
        &b"?x\r\n"[..],
        b":abc\r\n",
        b"$3\r\nfooXX",
        b"$-2\r\n",
        b"*-2\r\n",
        b"%-1\r\n",
        b"#x\r\n",
        b",abc\r\n",
        b"_x\r\n",
        b"=2\r\nab\r\n",
        b"=5\r\ntxt;a\r\n",
        b"+a\rb\r\n",
    ] {
        let mut buf = BytesMut::from(bad);
        assert!(parse_reply(&mut buf).is_err(), "{bad:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = b"*1\r\n".repeat(100_000);
    let mut buf = BytesMut::from(&deep[..]);
    assert!(parse_reply(&mut buf).is_err());
    let attrs = b"|0\r\n".repeat(100_000);
    let mut buf = BytesMut::from(&attrs[..]);
    assert!(parse_reply(&mut buf).is_err());
}
