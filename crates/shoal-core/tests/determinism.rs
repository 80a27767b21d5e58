//! The rule everything hangs on (DESIGN.md): applying the same commands with the same
//! contexts to two fresh keyspaces gives byte-identical snapshots and identical replies;
//! reads never change state; a snapshot decodes to the keyspace it came from.

use bytes::Bytes;
use proptest::prelude::*;
use shoal_core::{Ctx, Db, Parsed, Reply, parse};
use shoal_resp::Frame;

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..8u8).prop_map(|i| format!("k{i}")),
        (0..4u8).prop_map(|i| format!("{{t}}{i}")),
    ]
}

fn arb_write() -> impl Strategy<Value = Vec<String>> {
    let k = arb_key;
    prop_oneof![
        (k(), any::<u16>()).prop_map(|(k, v)| vec!["SET".into(), k, v.to_string()]),
        (k(), 1..5000u32).prop_map(|(k, ms)| vec![
            "SET".into(),
            k,
            "v".into(),
            "PX".into(),
            ms.to_string()
        ]),
        (k(), any::<i8>()).prop_map(|(k, n)| vec!["INCRBY".into(), k, n.to_string()]),
        (k(), "[a-z]{0,30}").prop_map(|(k, s)| vec!["APPEND".into(), k, s]),
        k().prop_map(|k| vec!["DEL".into(), k]),
        k().prop_map(|k| vec!["GETDEL".into(), k]),
        (k(), 1..100u32).prop_map(|(k, s)| vec!["EXPIRE".into(), k, s.to_string()]),
        k().prop_map(|k| vec!["PERSIST".into(), k]),
        (0..4u8, 0..4u8).prop_map(|(a, b)| vec![
            "RENAME".into(),
            format!("{{t}}{a}"),
            format!("{{t}}{b}")
        ]),
        (k(), 0..40u8, "[a-z]{1,5}").prop_map(|(k, o, s)| vec![
            "SETRANGE".into(),
            k,
            o.to_string(),
            s
        ]),
        (0..4u8, 0..4u8).prop_map(|(a, b)| vec![
            "MSET".into(),
            format!("{{t}}{a}"),
            "x".into(),
            format!("{{t}}{b}"),
            "y".into()
        ]),
        k().prop_map(|k| vec!["XADD".into(), k, "*".into(), "f".into(), "v".into()]),
    ]
}

fn arb_read() -> impl Strategy<Value = Vec<String>> {
    let k = arb_key;
    prop_oneof![
        k().prop_map(|k| vec!["GET".into(), k]),
        k().prop_map(|k| vec!["TTL".into(), k]),
        k().prop_map(|k| vec!["PTTL".into(), k]),
        k().prop_map(|k| vec!["EXISTS".into(), k]),
        k().prop_map(|k| vec!["TYPE".into(), k]),
        k().prop_map(|k| vec!["STRLEN".into(), k]),
        Just(vec!["KEYS".into(), "*".into()]),
        Just(vec!["DBSIZE".into()]),
        Just(vec![
            "SCAN".into(),
            "0".into(),
            "COUNT".into(),
            "1000".into()
        ]),
    ]
}

fn run(db: &mut Db, args: &[String], now: u64) -> Frame {
    let a: Vec<Bytes> = args
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    let ctx = Ctx {
        now_ms: now,
        resp3: false,
        may_block: false,
        seed: now,
    };
    match parse(&a) {
        Err(e) => e,
        Ok(Parsed::Keyspace(_, c)) => match c.apply(db, &ctx) {
            Reply::Frame(f) => f,
            Reply::Block(b) => b.timeout_reply,
        },
        Ok(Parsed::Server(..)) => panic!("not a keyspace command: {args:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn same_log_same_bytes(log in prop::collection::vec((arb_write(), 0..300u64), 1..120)) {
        let (mut a, mut b) = (Db::new(), Db::new());
        let mut now = 1_700_000_000_000u64;
        for (cmd, dt) in &log {
            now += dt;
            let ra = run(&mut a, cmd, now);
            let rb = run(&mut b, cmd, now);
            prop_assert_eq!(ra, rb);
            if dt % 7 == 0 {
                // The active-expiry purge is a replicated write like any other.
                let purge = shoal_core::Command::Generic(
                    shoal_core::generic::GenericCommand::PurgeExpired { limit: 10 });
                let ctx = Ctx { now_ms: now, ..Ctx::default() };
                let _ = purge.clone().apply(&mut a, &ctx);
                let _ = purge.apply(&mut b, &ctx);
            }
        }
        let snap = a.encode_snapshot();
        prop_assert_eq!(&snap, &b.encode_snapshot());
        let restored = Db::decode_snapshot(&snap).expect("decode");
        prop_assert_eq!(restored.encode_snapshot(), snap);
    }

    #[test]
    fn reads_never_mutate(
        log in prop::collection::vec(arb_write(), 1..60),
        reads in prop::collection::vec((arb_read(), 0..10_000u64), 1..60),
    ) {
        let mut db = Db::new();
        let now = 1_700_000_000_000u64;
        for cmd in &log {
            run(&mut db, cmd, now);
        }
        let before = db.encode_snapshot();
        for (cmd, dt) in &reads {
            // Reads later in time see keys expire, but must not delete them.
            run(&mut db, cmd, now + dt);
        }
        prop_assert_eq!(db.encode_snapshot(), before);
    }
}

#[test]
fn corrupt_snapshots_are_rejected() {
    let mut db = Db::new();
    run(&mut db, &["SET".into(), "a".into(), "1".into()], 1);
    let snap = db.encode_snapshot();
    for i in 0..snap.len() {
        let mut bad = snap.clone();
        bad[i] ^= 0x40;
        assert!(Db::decode_snapshot(&bad).is_err(), "flip at {i} accepted");
    }
    for n in 0..snap.len() {
        assert!(Db::decode_snapshot(&snap[..n]).is_err());
    }
}
