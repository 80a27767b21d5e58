//! INCRBYFLOAT and HINCRBYFLOAT against redis-server: Redis adds in x87 long double and
//! prints `%.17Lf` trimmed, so replies differ from f64 in the last digits (`0.1 + 0.2`).
//! Every reply, error text and stored value must match byte for byte.

mod common;

use common::Diff;

/// (start value, increment) pairs: small decimals, large magnitudes, negative values,
/// exponents, hex, values at the edge of what 17 fractional digits show.
const PAIRS: &[(&str, &str)] = &[
    ("0.1", "0.2"),
    ("10.50", "0.1"),
    ("5.0e3", "2.0e2"),
    ("5.0e3", "0.1"),
    ("0", "1e20"),
    ("1e20", "0.1"),
    ("1e20", "1"),
    ("1e19", "0.5"),
    ("123456789012345678", "0.3"),
    ("3.0e3", "1.5e-3"),
    ("-1.5", "0.3"),
    ("-0.1", "-0.2"),
    ("-0", "-0"),
    ("0.3", "-0.3"),
    ("1", "-1"),
    ("1.0000000000000001", "0"),
    ("0.00000000000000001", "0"),
    ("0.000000000000000005", "0"),
    ("0.000000000000000015", "0"),
    ("-0.000000000000000001", "0"),
    ("1e-30", "1"),
    ("1.7976931348623157e308", "1e308"),
    ("1e4000", "1"),
    (
        "3.14159265358979323846264338327950288",
        "2.71828182845904523536028747135266249",
    ),
    ("9007199254740993", "0"),
    ("18446744073709551615", "1"),
    ("18446744073709551617", "0"),
    ("0.1", "0.7"),
    ("1.1", "2.2"),
    ("100.01", "-100"),
    ("0x10", "0.5"),
    ("0x1.8p1", "1"),
    ("+5", "+.5"),
    ("5.", "1E2"),
    ("1e-4940", "0"),
];

/// Increments that Redis refuses one way or another.
const BAD: &[(&str, &str)] = &[
    ("1", "abc"),
    ("1", "nan"),
    ("1", " 1"),
    ("1", "1 "),
    ("1", "1e5000"),
    ("1", "1e-5000"),
    ("1", "inf"),
    ("1", "-inf"),
    ("inf", "1"),
    ("abc", "1"),
    ("1e4932", "1e4932"),
    ("1", ""),
    ("1", "1e"),
];

fn corpus(d: &mut Diff) {
    for (i, (start, by)) in PAIRS.iter().chain(BAD).enumerate() {
        let key = format!("f{i}");
        d.check(&["SET", &key, start]);
        d.check(&["INCRBYFLOAT", &key, by]);
        d.check(&["GET", &key]);
        d.check(&["HSET", "h", &key, start]);
        d.check(&["HINCRBYFLOAT", "h", &key, by]);
        d.check(&["HGET", "h", &key]);
        // And from a missing key / field.
        d.check(&["INCRBYFLOAT", &format!("new{i}"), by]);
        d.check(&["HINCRBYFLOAT", "h2", &format!("new{i}"), by]);
    }
}

#[test]
fn incrbyfloat_corpus_resp2_and_resp3() {
    let mut d = Diff::new();
    corpus(&mut d);
    let mut d = Diff::new_resp3();
    corpus(&mut d);
}

#[test]
fn repeated_increments_accumulate_as_redis_does() {
    let mut d = Diff::new();
    for by in ["0.1", "0.01", "-0.07", "1.3e-5", "12345.6789", "1e15"] {
        let key = format!("acc{by}");
        for _ in 0..200 {
            d.check(&["INCRBYFLOAT", &key, by]);
            d.check(&["HINCRBYFLOAT", "acc", &key, by]);
        }
    }
}
