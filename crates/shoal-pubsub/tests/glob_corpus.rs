//! Glob patterns as PSUBSCRIBE / PUBSUB CHANNELS see them.
//!
//! - A fixed corpus whose expected answers were recorded from redis-server 7.0.15
//!   (`PUBSUB CHANNELS <pattern>` with every channel of `CHANNELS` subscribed); the
//!   differential test `diff_pubsub::glob_patterns_match_redis` compares random patterns
//!   live.
//! - A property: PUBLISH reaches a pattern subscriber exactly when `glob::matches` says
//!   so, and PUBSUB CHANNELS lists exactly the matching channels.

use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use shoal_core::glob;
use shoal_pubsub::{Kind, Outbox, Registry};

const CHANNELS: &[&str] = &[
    "a",
    "b",
    "ab",
    "abc",
    "a*c",
    "a?c",
    "[",
    "]",
    "\\",
    "a\\b",
    "-",
    "^",
    "a-z",
    "x]y",
    "[a]",
    "aXc",
    "ABC",
    "a.b.c",
    "events:user",
    "events:",
    "news",
    "n",
    "a]",
    "\\*",
];
/// (pattern, the channels redis-server 7.0.15 listed for PUBSUB CHANNELS <pattern>).
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "*",
        &[
            "-",
            "ABC",
            "[",
            "[a]",
            "\\",
            "\\*",
            "]",
            "^",
            "a",
            "a*c",
            "a-z",
            "a.b.c",
            "a?c",
            "aXc",
            "a\\b",
            "a]",
            "ab",
            "abc",
            "b",
            "events:",
            "events:user",
            "n",
            "news",
            "x]y",
        ],
    ),
    (
        "a*",
        &[
            "a", "a*c", "a-z", "a.b.c", "a?c", "aXc", "a\\b", "a]", "ab", "abc",
        ],
    ),
    ("*c", &["a*c", "a.b.c", "a?c", "aXc", "abc"]),
    ("a?c", &["a*c", "a?c", "aXc", "abc"]),
    ("a[bX]c", &["aXc", "abc"]),
    ("a[^b]c", &["a*c", "a?c", "aXc"]),
    ("a[!b]c", &["abc"]),
    (
        "[a-c]*",
        &[
            "a", "a*c", "a-z", "a.b.c", "a?c", "aXc", "a\\b", "a]", "ab", "abc", "b",
        ],
    ),
    ("[c-a]", &["a", "b"]),
    (
        "[z-a]*",
        &[
            "a",
            "a*c",
            "a-z",
            "a.b.c",
            "a?c",
            "aXc",
            "a\\b",
            "a]",
            "ab",
            "abc",
            "b",
            "events:",
            "events:user",
            "n",
            "news",
            "x]y",
        ],
    ),
    ("a\\*c", &["a*c"]),
    ("a\\?c", &["a?c"]),
    ("\\*", &[]),
    ("\\", &["\\"]),
    ("a\\", &[]),
    ("[", &[]),
    ("[a", &["a"]),
    ("a[", &[]),
    ("[]", &[]),
    ("[]]", &[]),
    ("[]a]", &[]),
    ("x[]]y", &[]),
    ("[^]", &["-", "[", "\\", "]", "^", "a", "b", "n"]),
    ("[^]]*", &["a]", "x]y"]),
    ("a[-]*", &["a-z"]),
    ("-", &["-"]),
    ("[a-]", &["]", "^", "a"]),
    (
        "[-a]*",
        &[
            "-", "a", "a*c", "a-z", "a.b.c", "a?c", "aXc", "a\\b", "a]", "ab", "abc",
        ],
    ),
    ("[\\]]", &["]"]),
    ("\\[*", &["[", "[a]"]),
    ("\\]", &["]"]),
    ("*\\*", &["\\*"]),
    ("events:*", &["events:", "events:user"]),
    ("events:?*", &["events:user"]),
    ("e*s:u*", &["events:user"]),
    ("n[aeiou]ws", &["news"]),
    (
        "**",
        &[
            "-",
            "ABC",
            "[",
            "[a]",
            "\\",
            "\\*",
            "]",
            "^",
            "a",
            "a*c",
            "a-z",
            "a.b.c",
            "a?c",
            "aXc",
            "a\\b",
            "a]",
            "ab",
            "abc",
            "b",
            "events:",
            "events:user",
            "n",
            "news",
            "x]y",
        ],
    ),
    ("?", &["-", "[", "\\", "]", "^", "a", "b", "n"]),
    ("??", &["\\*", "a]", "ab"]),
    (
        "???*",
        &[
            "ABC",
            "[a]",
            "a*c",
            "a-z",
            "a.b.c",
            "a?c",
            "aXc",
            "a\\b",
            "abc",
            "events:",
            "events:user",
            "news",
            "x]y",
        ],
    ),
    ("[ab][ab]", &["ab"]),
    ("a*b*c", &["a.b.c", "abc"]),
    ("*.*.*", &["a.b.c"]),
    ("[A-Z]*", &["ABC"]),
    ("[a-z][A-Z]c", &["aXc"]),
    ("[^a-z]*", &["-", "ABC", "[", "[a]", "\\", "\\*", "]", "^"]),
    ("a[b-]", &["a]", "ab"]),
    (
        "[^-]*",
        &[
            "ABC",
            "[",
            "[a]",
            "\\",
            "\\*",
            "]",
            "^",
            "a",
            "a*c",
            "a-z",
            "a.b.c",
            "a?c",
            "aXc",
            "a\\b",
            "a]",
            "ab",
            "abc",
            "b",
            "events:",
            "events:user",
            "n",
            "news",
            "x]y",
        ],
    ),
];

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn corpus_matches_redis() {
    let reg = Registry::default();
    let o = Arc::new(Outbox::new(false));
    let names: Vec<Bytes> = CHANNELS.iter().map(|c| b(c)).collect();
    reg.subscribe(Kind::Channel, 1, &o, &names);
    for (pattern, want) in EXPECTED {
        let mut got: Vec<String> = reg
            .channels(Kind::Channel, Some(pattern.as_bytes()))
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "pattern {pattern:?}");
        for c in CHANNELS {
            assert_eq!(
                glob::matches(pattern.as_bytes(), c.as_bytes()),
                want.iter().any(|w| w == c),
                "glob::matches({pattern:?}, {c:?})"
            );
        }
    }
}

fn glob_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "b", "c", "*", "?", "[", "]", "^", "-", "\\", "[a-c]", "[^b]",
        ]),
        0..6,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn delivery_follows_glob(patterns in prop::collection::vec(glob_text(), 1..5),
                             channel in glob_text().prop_filter("non-empty", |c| !c.is_empty())) {
        let reg = Registry::default();
        let o = Arc::new(Outbox::new(false));
        let pats: Vec<Bytes> = patterns.iter().map(|p| b(p)).collect();
        reg.subscribe(Kind::Pattern, 1, &o, &pats);
        let mut distinct = patterns.clone();
        distinct.sort();
        distinct.dedup();
        let want = distinct
            .iter()
            .filter(|p| glob::matches(p.as_bytes(), channel.as_bytes()))
            .count();
        prop_assert_eq!(reg.publish(&b(&channel), &b("m")), want);
        let mut q = std::collections::VecDeque::new();
        o.drain_into(&mut q);
        prop_assert_eq!(q.len(), want);
    }
}
