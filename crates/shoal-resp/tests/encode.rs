//! Encoding: RESP3 and RESP2 bytes as Redis 7.0 writes them, and `%.17g` doubles.

use bytes::{Bytes, BytesMut};
use shoal_resp::{Frame, Protocol, encode, encode_command, format_double};

fn enc(f: &Frame, p: Protocol) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(f, p, &mut out);
    out.to_vec()
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn fmt(f: f64) -> String {
    let mut v = Vec::new();
    format_double(f, &mut v);
    String::from_utf8(v).unwrap()
}

/// `'%.17g' % x` from Python (same digits as glibc's printf), for edge cases and random
/// bit patterns. The first values were also checked with redis-server 7.0.15's ZSCORE.
const VECTORS: &[(u64, &str)] = &[
    (0x3fb999999999999a, "0.10000000000000001"),
    (0x3ff8000000000000, "1.5"),
    (0x4008000000000000, "3"),
    (0x4415af1d78b58c40, "1e+20"),
    (0x3ee4f8b588e368f1, "1.0000000000000001e-05"),
    (0x3f1a36e2eb1c432d, "0.0001"),
    (0x3ee9e0fcaf9380fc, "1.234e-05"),
    (0x437b69b4ba630f35, "1.2345678901234568e+17"),
    (0x4341c37937e08000, "10000000000000000"),
    (0x4376345785d8a000, "1e+17"),
    (0x430c6bf526340002, "1000000000000000.2"),
    (0x00002e055c9a3f6c, "2.5000000000000171e-310"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0x0000000000000001, "4.9406564584124654e-324"),
    (0xc004000000000000, "-2.5"),
    (0x3fe0000000000000, "0.5"),
    (0x3fd5555555555555, "0.33333333333333331"),
    (0x3fe5555555555555, "0.66666666666666663"),
    (0x4059000000000000, "100"),
    (0x40c81cd6c8b43958, "12345.678"),
    (0x8000000000000000, "-0"),
    (0x0000000000000000, "0"),
    (0x4340000000000000, "9007199254740992"),
    (0x430c6bf526340002, "1000000000000000.2"),
    (0x4376345785d8a000, "1e+17"),
    (0x3f1a36e2eb1c432d, "0.0001"),
    (0x3f1a36e2eb1c432c, "9.9999999999999991e-05"),
    (0xf2a74de452e6b438, "-1.989032661366619e+244"),
    (0x6513270e269e0d37, "7.761117632285041e+178"),
    (0x0c5c7fd0a6a3a450, "3.980498358697587e-249"),
    (0xd23f0824128b2f33, "-1.5432835417340557e+88"),
    (0x1818e811892f902b, "1.3647584518757569e-192"),
    (0x9531985d5d9dc9f8, "-1.3701135617873088e-206"),
    (0xe8e25d940ed90475, "-1.7160537630466207e+197"),
    (0x36f675cc81e74ef5, "6.2946752411953861e-44"),
    (0x1600a35a099950d8, "1.0613447212142254e-202"),
    (0x6b0d549b6f03675a, "4.7083251603875462e+207"),
    (0x3d9c172411e20b8f, "6.3870161585135632e-12"),
    (0x8d116ece1738f7d9, "-9.9731303785687331e-246"),
    (0x0f21ddb66cad4a26, "8.7797532256802712e-236"),
    (0x90c192cfd3ac94af, "-5.7955032484989932e-228"),
    (0xf28c105d1fb17c23, "-5.9881801593860111e+243"),
    (0xa170b33839263059, "-1.3060523885277959e-147"),
    (0x953f48f1a09f76b5, "-2.4361176994848409e-206"),
    (0x0fd630f1f29d0da9, "2.2333869991501741e-232"),
    (0x95e60af593bd04cf, "-3.5152797062666699e-203"),
    (0x0cb1e29c658cda14, "1.5987381841032883e-247"),
    (0x3898d190f9ebdacc, "4.6678633181812096e-36"),
    (0x8e81973e0becd7b0, "-8.4418727921054556e-239"),
    (0x2217beaddbc496cb, "1.9015657400796622e-144"),
    (0x6b4cb2424a23d596, "7.370437700706684e+208"),
    (0x8a6a63ec24ede6a4, "-1.7163996725272777e-258"),
    (0x922766581e27a1c0, "-3.2367190832119987e-221"),
    (0x8f6d05584ef8aa38, "-2.2818334634712625e-234"),
    (0xae97ba94d0eda82f, "-3.0536383926309363e-84"),
    (0x1a61dbe22e44158b, "1.3449551894627777e-181"),
    (0x923a736994e3bf91, "-7.3174959760626057e-221"),
    (0x301850c5a38fd547, "5.2498223088143036e-77"),
    (0x18f135d25f557203, "1.5450754142984396e-188"),
    (0xb64ce4228c38fb29, "-3.9536256982247919e-47"),
    (0x907a70c31012f037, "-2.7249126747649799e-229"),
    (0x9e7769b10f4205b4, "-6.5051418615487723e-162"),
    (0x7f15052434b9b5df, "1.4414848395559941e+304"),
    (0x881ed162ae2eb154, "-1.4583679262758548e-269"),
    (0xc6f877186d76b07e, "-7.9394166688077208e+33"),
    (0x7731af10506bf2ef, "1.4255183989699612e+266"),
    (0xec66a78795e761d1, "-1.5253157012324029e+214"),
    (0xc0f6dbf3f4c54698, "-93631.247258449323"),
    (0xc1187148066c556e, "-400466.00627263531"),
    (0x4121f7aded143b60, "588758.9630449824"),
    (0x41184a93784735a0, "397988.86745914258"),
    (0xc11f3cfbea0a8100, "-511806.97855569422"),
    (0x41022b7b5d383238, "148847.42051734193"),
    (0x40e89b203e7262e0, "50393.00762290298"),
    (0x4126e585fb7799d8, "750274.99114685785"),
    (0x411c022a50c58230, "458890.57887843531"),
    (0xc119e2f1e18140fe, "-424124.47021962691"),
    (0x412d4ebb63d5186e, "960349.6949851641"),
    (0xc1274fb8e3112197, "-763868.44349007576"),
    (0xc103fd52d9f7bbcc, "-163754.35642954556"),
    (0x411f63a76fbfe7cc, "514281.85913049872"),
    (0xc1253dbddc81f4e6, "-696030.93067899044"),
    (0xc0d58e73239bda80, "-22073.799048388842"),
    (0xc12c1fe2f8c88e77, "-921585.48590512469"),
    (0x411488beda2eb478, "336431.71306879027"),
    (0x412025eb77007dde, "529141.73242562613"),
    (0x4101d41f0b604c58, "146051.88055476802"),
    (0x4055e33333333333, "87.549999999999997"),
    (0x403f5eb851eb851f, "31.370000000000001"),
    (0x405161eb851eb852, "69.530000000000001"),
    (0x404db851eb851eb8, "59.439999999999998"),
    (0x404cfeb851eb851f, "57.990000000000002"),
    (0x4046cf5c28f5c28f, "45.619999999999997"),
    (0x4055000000000000, "84"),
    (0x40579e147ae147ae, "94.469999999999999"),
    (0x4047b47ae147ae14, "47.409999999999997"),
    (0x40509ae147ae147b, "66.420000000000002"),
];

#[test]
fn doubles_match_printf_17g() {
    for &(bits, want) in VECTORS {
        assert_eq!(fmt(f64::from_bits(bits)), want, "bits {bits:#x}");
    }
    assert_eq!(fmt(f64::INFINITY), "inf");
    assert_eq!(fmt(f64::NEG_INFINITY), "-inf");
    assert_eq!(fmt(f64::NAN), "nan");
}

#[test]
fn doubles_on_the_wire() {
    let d = Frame::Double(0.1);
    assert_eq!(enc(&d, Protocol::Resp3), b",0.10000000000000001\r\n");
    assert_eq!(enc(&d, Protocol::Resp2), b"$19\r\n0.10000000000000001\r\n");
    let inf = Frame::Double(f64::NEG_INFINITY);
    assert_eq!(enc(&inf, Protocol::Resp3), b",-inf\r\n");
    assert_eq!(enc(&inf, Protocol::Resp2), b"$4\r\n-inf\r\n");
}

#[test]
fn scalars() {
    use Protocol::*;
    for p in [Resp2, Resp3] {
        assert_eq!(enc(&Frame::ok(), p), b"+OK\r\n");
        assert_eq!(enc(&Frame::static_error("ERR no"), p), b"-ERR no\r\n");
        assert_eq!(enc(&Frame::Integer(-42), p), b":-42\r\n");
        assert_eq!(
            enc(&Frame::Integer(i64::MIN), p),
            b":-9223372036854775808\r\n"
        );
        assert_eq!(enc(&Frame::bulk(b"foo"), p), b"$3\r\nfoo\r\n");
        assert_eq!(enc(&Frame::bulk(b""), p), b"$0\r\n\r\n");
    }
    assert_eq!(enc(&Frame::Null, Resp2), b"$-1\r\n");
    assert_eq!(enc(&Frame::NullArray, Resp2), b"*-1\r\n");
    assert_eq!(enc(&Frame::Null, Resp3), b"_\r\n");
    assert_eq!(enc(&Frame::NullArray, Resp3), b"_\r\n");
    assert_eq!(enc(&Frame::Boolean(true), Resp3), b"#t\r\n");
    assert_eq!(enc(&Frame::Boolean(false), Resp3), b"#f\r\n");
    assert_eq!(enc(&Frame::Boolean(true), Resp2), b":1\r\n");
    assert_eq!(enc(&Frame::Boolean(false), Resp2), b":0\r\n");
    let big = Frame::BigNumber(b("3492890328409238509324850943850943825024385"));
    assert_eq!(
        enc(&big, Resp3),
        b"(3492890328409238509324850943850943825024385\r\n"
    );
    assert_eq!(
        enc(&big, Resp2),
        b"$43\r\n3492890328409238509324850943850943825024385\r\n"
    );
    let v = Frame::Verbatim(*b"txt", b("Some string"));
    assert_eq!(enc(&v, Resp3), b"=15\r\ntxt:Some string\r\n");
    assert_eq!(enc(&v, Resp2), b"$11\r\nSome string\r\n");
}

#[test]
fn line_breaks_in_one_line_replies_become_spaces() {
    let e = Frame::Error(b("ERR a\r\nb"));
    assert_eq!(enc(&e, Protocol::Resp2), b"-ERR a  b\r\n");
}

#[test]
fn aggregates() {
    use Protocol::*;
    let map = Frame::Map(vec![
        (Frame::simple("first"), Frame::Integer(1)),
        (Frame::simple("second"), Frame::Double(2.5)),
    ]);
    assert_eq!(
        enc(&map, Resp3),
        b"%2\r\n+first\r\n:1\r\n+second\r\n,2.5\r\n"
    );
    assert_eq!(
        enc(&map, Resp2),
        b"*4\r\n+first\r\n:1\r\n+second\r\n$3\r\n2.5\r\n"
    );
    let set = Frame::Set(vec![Frame::bulk(b"a"), Frame::Null]);
    assert_eq!(enc(&set, Resp3), b"~2\r\n$1\r\na\r\n_\r\n");
    assert_eq!(enc(&set, Resp2), b"*2\r\n$1\r\na\r\n$-1\r\n");
    let push = Frame::Push(vec![Frame::bulk(b"message"), Frame::Array(vec![])]);
    assert_eq!(enc(&push, Resp3), b">2\r\n$7\r\nmessage\r\n*0\r\n");
    assert_eq!(enc(&push, Resp2), b"*2\r\n$7\r\nmessage\r\n*0\r\n");
}

#[test]
fn commands() {
    let mut out = BytesMut::new();
    encode_command(&[b"SET", b"key", b""], &mut out);
    assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n");
}

/// An array written with `ArrayWriter` encodes, and expands back, as the frames it stands for.
#[test]
fn array_writer_matches_the_frames_it_replaces() {
    let mut w = shoal_resp::ArrayWriter::default();
    w.element()
        .array(2)
        .bulk(b"1-0")
        .array(2)
        .bulk(b"f")
        .bulk(b"");
    w.element().bulk(b"x");
    let frames = Frame::Array(vec![
        Frame::Array(vec![
            Frame::Bulk(b("1-0")),
            Frame::Array(vec![Frame::Bulk(b("f")), Frame::Bulk(b(""))]),
        ]),
        Frame::Bulk(b("x")),
    ]);
    assert_eq!(w.len(), 2);
    let raw = w.finish();
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let (mut x, mut y) = (BytesMut::new(), BytesMut::new());
        encode(&raw, proto, &mut x);
        encode(&frames, proto, &mut y);
        assert_eq!(x, y);
    }
    assert_eq!(raw.expand_raw(), frames);
    assert_eq!(
        shoal_resp::ArrayWriter::default().finish().expand_raw(),
        Frame::Array(vec![])
    );
}
