//! Model-based tests: random command sequences applied to the core and to a plain
//! reference model (a BTreeMap of entries and a map of PELs) must agree on XRANGE, XLEN
//! and XPENDING after every step. Plus determinism (same log, same snapshot bytes) and
//! snapshot round-trips.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use shoal_resp::Frame;

use super::StreamId;
use super::tests::run_args;
use crate::command::{Ctx, Reply};
use crate::db::Db;

#[derive(Clone, Debug)]
enum Op {
    /// Explicit (ms, seq) or `*`; the clock advances by `tick` first.
    Add {
        id: Option<(u64, u64)>,
        fields: u8,
        tick: u8,
    },
    Del(u64, u64),
    TrimMaxLen(u8),
    TrimMinId(u64),
    Create(u8, bool),
    ReadGroup {
        g: u8,
        c: u8,
        count: u8,
        history: bool,
    },
    Ack(u8, u64, u64),
    Claim {
        g: u8,
        c: u8,
        min_idle: u8,
        ids: Vec<(u64, u64)>,
    },
    Tick(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let idp = (0u64..40, 0u64..3);
    prop_oneof![
        6 => (proptest::option::weighted(0.5, idp.clone()), 1u8..4, 0u8..3)
            .prop_map(|(id, fields, tick)| Op::Add { id, fields, tick }),
        2 => idp.clone().prop_map(|(a, b)| Op::Del(a, b)),
        1 => (0u8..20).prop_map(Op::TrimMaxLen),
        1 => (0u64..40).prop_map(Op::TrimMinId),
        1 => (0u8..2, any::<bool>()).prop_map(|(g, d)| Op::Create(g, d)),
        4 => (0u8..2, 0u8..3, 0u8..4, any::<bool>())
            .prop_map(|(g, c, count, history)| Op::ReadGroup { g, c, count, history }),
        2 => (0u8..2, idp.clone()).prop_map(|(g, (a, b))| Op::Ack(g, a, b)),
        2 => (0u8..2, 0u8..3, 0u8..4, proptest::collection::vec(idp, 0..4))
            .prop_map(|(g, c, min_idle, ids)| Op::Claim { g, c, min_idle, ids }),
        1 => (0u8..5).prop_map(Op::Tick),
    ]
}

#[derive(Clone, Debug)]
struct Pending {
    consumer: String,
    count: u64,
    time: u64,
}

#[derive(Default)]
struct MGroup {
    last: StreamId,
    pel: BTreeMap<StreamId, Pending>,
}

#[derive(Default)]
struct Model {
    exists: bool,
    entries: BTreeMap<StreamId, Vec<(String, String)>>,
    last: StreamId,
    groups: BTreeMap<String, MGroup>,
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

impl Model {
    fn entry_frame(&self, id: StreamId) -> Option<Frame> {
        let f = self.entries.get(&id)?;
        let mut fv = Vec::new();
        for (a, b) in f {
            fv.push(bulk(a));
            fv.push(bulk(b));
        }
        Some(Frame::Array(vec![id.frame(), Frame::Array(fv)]))
    }

    fn xrange(&self) -> Frame {
        if !self.exists {
            return Frame::Array(vec![]);
        }
        Frame::Array(
            self.entries
                .keys()
                .filter_map(|id| self.entry_frame(*id))
                .collect(),
        )
    }

    fn xpending(&self, g: &str, now: u64) -> Frame {
        let Some(grp) = self.groups.get(g) else {
            return Frame::error(format!("NOGROUP No such key 's' or consumer group '{g}'"));
        };
        Frame::Array(
            grp.pel
                .iter()
                .map(|(id, p)| {
                    Frame::Array(vec![
                        id.frame(),
                        bulk(&p.consumer),
                        Frame::Integer(now as i64 - p.time as i64),
                        Frame::Integer(p.count as i64),
                    ])
                })
                .collect(),
        )
    }
}

fn frame_of(r: Reply) -> Frame {
    match r {
        Reply::Frame(f) => f.expand_raw(),
        Reply::Block(_) => Frame::simple("BLOCKED"),
    }
}

fn run(db: &mut Db, now: u64, cmd: &[String]) -> Frame {
    let a: Vec<Bytes> = cmd
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    let ctx = Ctx {
        now_ms: now,
        resp3: false,
        may_block: false,
        seed: 0,
    };
    frame_of(run_args(db, &ctx, &a))
}

fn sv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Applies `op` to the model, returning the command to send the core and the reply the
/// model expects (None when only the follow-up checks matter).
fn step(m: &mut Model, op: &Op, now: &mut u64) -> (Vec<String>, Option<Frame>) {
    match op {
        Op::Add { id, fields, tick } => {
            *now += u64::from(*tick);
            let pairs: Vec<(String, String)> = (0..*fields)
                .map(|i| (format!("f{i}"), format!("v{}", *now + u64::from(i))))
                .collect();
            let (arg, new) = match id {
                None => {
                    let new = if *now > m.last.ms {
                        StreamId::new(*now, 0)
                    } else {
                        StreamId::new(m.last.ms, m.last.seq + 1)
                    };
                    ("*".to_string(), Some(new))
                }
                Some((ms, seq)) => {
                    let id = StreamId::new(*ms, *seq);
                    let ok = id > m.last && !id.is_zero();
                    (format!("{ms}-{seq}"), ok.then_some(id))
                }
            };
            let mut cmd = sv(&["xadd", "s", &arg]);
            for (f, v) in &pairs {
                cmd.push(f.clone());
                cmd.push(v.clone());
            }
            let want = new.map(|id| {
                m.exists = true;
                m.entries.insert(id, pairs.clone());
                m.last = id;
                id.frame()
            });
            (cmd, want)
        }
        Op::Del(ms, seq) => {
            let id = StreamId::new(*ms, *seq);
            let n = i64::from(m.entries.remove(&id).is_some());
            (sv(&["xdel", "s", &id.to_string()]), Some(Frame::Integer(n)))
        }
        Op::TrimMaxLen(n) => {
            let n = usize::from(*n);
            let mut removed = 0;
            while m.entries.len() > n {
                m.entries.pop_first();
                removed += 1;
            }
            (
                sv(&["xtrim", "s", "maxlen", &n.to_string()]),
                Some(Frame::Integer(removed)),
            )
        }
        Op::TrimMinId(ms) => {
            let min = StreamId::new(*ms, 0);
            let before = m.entries.len();
            m.entries.retain(|id, _| *id >= min);
            (
                sv(&["xtrim", "s", "minid", &ms.to_string()]),
                Some(Frame::Integer((before - m.entries.len()) as i64)),
            )
        }
        Op::Create(g, dollar) => {
            let name = format!("g{g}");
            let want = if m.groups.contains_key(&name) {
                Frame::error("BUSYGROUP Consumer Group name already exists")
            } else {
                m.exists = true;
                let last = if *dollar { m.last } else { StreamId::MIN };
                m.groups.insert(
                    name.clone(),
                    MGroup {
                        last,
                        pel: BTreeMap::new(),
                    },
                );
                Frame::ok()
            };
            let id = if *dollar { "$" } else { "0" };
            (
                sv(&["xgroup", "create", "s", &name, id, "mkstream"]),
                Some(want),
            )
        }
        Op::ReadGroup {
            g,
            c,
            count,
            history,
        } => {
            let name = format!("g{g}");
            let cons = format!("c{c}");
            let cmd = sv(&[
                "xreadgroup",
                "group",
                &name,
                &cons,
                "count",
                &count.to_string(),
                "streams",
                "s",
                if *history { "0" } else { ">" },
            ]);
            let limit = if *count == 0 {
                usize::MAX
            } else {
                usize::from(*count)
            };
            let entries = &m.entries;
            let Some(grp) = m.groups.get_mut(&name) else {
                return (cmd, None);
            };
            let mut out = Vec::new();
            if *history {
                let ids: Vec<StreamId> = grp
                    .pel
                    .iter()
                    .filter(|(_, p)| p.consumer == cons)
                    .map(|(id, _)| *id)
                    .take(limit)
                    .collect();
                for id in ids {
                    if entries.contains_key(&id)
                        && let Some(p) = grp.pel.get_mut(&id)
                    {
                        p.count += 1;
                        p.time = *now;
                    }
                    out.push(id);
                }
            } else {
                let ids: Vec<StreamId> = entries
                    .range(grp.last.incr().unwrap_or(StreamId::MAX)..)
                    .map(|(id, _)| *id)
                    .take(limit)
                    .collect();
                for id in ids {
                    grp.last = id;
                    grp.pel.insert(
                        id,
                        Pending {
                            consumer: cons.clone(),
                            count: 1,
                            time: *now,
                        },
                    );
                    out.push(id);
                }
                if out.is_empty() {
                    return (cmd, Some(Frame::NullArray));
                }
            }
            let frames = out
                .iter()
                .map(|id| {
                    m.entry_frame(*id)
                        .unwrap_or_else(|| Frame::Array(vec![id.frame(), Frame::NullArray]))
                })
                .collect();
            (
                cmd,
                Some(Frame::Array(vec![Frame::Array(vec![
                    bulk("s"),
                    Frame::Array(frames),
                ])])),
            )
        }
        Op::Ack(g, ms, seq) => {
            let name = format!("g{g}");
            let id = StreamId::new(*ms, *seq);
            let n = m
                .groups
                .get_mut(&name)
                .map_or(0, |grp| i64::from(grp.pel.remove(&id).is_some()));
            (
                sv(&["xack", "s", &name, &id.to_string()]),
                Some(Frame::Integer(n)),
            )
        }
        Op::Claim {
            g,
            c,
            min_idle,
            ids,
        } => {
            let name = format!("g{g}");
            let cons = format!("c{c}");
            let mut cmd = sv(&["xclaim", "s", &name, &cons, &min_idle.to_string()]);
            let ids: Vec<StreamId> = ids.iter().map(|(a, b)| StreamId::new(*a, *b)).collect();
            for id in &ids {
                cmd.push(id.to_string());
            }
            cmd.push("justid".into());
            if ids.is_empty() {
                // XCLAIM needs at least one ID (arity); skip.
                return (sv(&["xlen", "s"]), None);
            }
            let entries = &m.entries;
            let Some(grp) = m.groups.get_mut(&name) else {
                return (cmd, None);
            };
            let mut out = Vec::new();
            for id in ids {
                if !entries.contains_key(&id) {
                    grp.pel.remove(&id);
                    continue;
                }
                let Some(p) = grp.pel.get_mut(&id) else {
                    continue;
                };
                if *min_idle > 0 && *now - p.time < u64::from(*min_idle) {
                    continue;
                }
                p.consumer = cons.clone();
                p.time = *now;
                out.push(id.frame());
            }
            (cmd, Some(Frame::Array(out)))
        }
        Op::Tick(t) => {
            *now += u64::from(*t);
            (sv(&["xlen", "s"]), None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn core_agrees_with_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut db = Db::new();
        let mut m = Model::default();
        let mut now = 1000u64;
        for op in &ops {
            let (cmd, want) = step(&mut m, op, &mut now);
            let got = run(&mut db, now, &cmd);
            if let Some(w) = want {
                prop_assert_eq!(&got, &w, "{:?}", cmd);
            } else if matches!(op, Op::Add { .. }) {
                prop_assert!(got.is_error(), "{:?} should fail: {:?}", cmd, got);
            }
            prop_assert_eq!(run(&mut db, now, &sv(&["xrange", "s", "-", "+"])), m.xrange());
            prop_assert_eq!(
                run(&mut db, now, &sv(&["xlen", "s"])),
                Frame::Integer(m.entries.len() as i64)
            );
            for g in m.groups.keys() {
                prop_assert_eq!(
                    run(&mut db, now, &sv(&["xpending", "s", g, "-", "+", "1000"])),
                    m.xpending(g, now)
                );
            }
        }
        // Snapshot round-trip keeps everything.
        let snap = db.encode_snapshot();
        let back = Db::decode_snapshot(&snap).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(back == db);
        prop_assert_eq!(back.encode_snapshot(), snap);
    }

    /// The same command log applied to two fresh Dbs gives byte-identical snapshots.
    #[test]
    fn deterministic(ops in proptest::collection::vec(op(), 1..60)) {
        let mut snaps = Vec::new();
        for _ in 0..2 {
            let mut db = Db::new();
            let mut m = Model::default();
            let mut now = 1000u64;
            for op in &ops {
                let (cmd, _) = step(&mut m, op, &mut now);
                run(&mut db, now, &cmd);
                run(&mut db, now, &sv(&["xadd", "s", "maxlen", "~", "5", "*", "a", "b"]));
            }
            snaps.push(db.encode_snapshot());
        }
        prop_assert_eq!(&snaps[0], &snaps[1]);
    }

    /// Decoding arbitrary bytes never panics.
    #[test]
    fn decode_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        use crate::snapshot::{Persist, Reader};
        let mut r = Reader::new(&bytes);
        let _ = super::Stream::decode(&mut r);
    }

    /// No command argument list makes the core panic.
    #[test]
    fn no_panic_on_any_args(
        name in prop::sample::select(vec![
            "xadd", "xrange", "xrevrange", "xdel", "xtrim", "xsetid", "xread", "xreadgroup",
            "xack", "xpending", "xclaim", "xautoclaim", "xlen",
        ]),
        rest in proptest::collection::vec(
            prop::sample::select(vec![
                "s", "g", "c", "0", "1", "-", "+", "$", ">", "*", "(1", "1-*", "~", "=",
                "maxlen", "minid", "limit", "count", "block", "streams", "group", "noack",
                "idle", "time", "retrycount", "force", "justid", "lastid", "nomkstream",
                "18446744073709551615-18446744073709551615", "-1", "x",
            ]),
            0..12,
        ),
    ) {
        let mut db = Db::new();
        let mut a = vec![name.to_string()];
        a.extend(rest.iter().map(|s| s.to_string()));
        for setup in [
            sv(&["xadd", "s", "1-1", "a", "b"]),
            sv(&["xgroup", "create", "s", "g", "0"]),
            sv(&["xreadgroup", "group", "g", "c", "streams", "s", ">"]),
        ] {
            run(&mut db, 5, &setup);
        }
        run(&mut db, 10, &a);
        let snap = db.encode_snapshot();
        prop_assert!(Db::decode_snapshot(&snap).is_ok());
    }
}
