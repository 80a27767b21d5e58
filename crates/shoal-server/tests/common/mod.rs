//! Test harness: real processes on loopback ports, real clients.
//!
//! - [`Shoal`] spawns the `shoal` binary built by cargo, on a free port, with its own data
//!   directory, and kills it on drop.
//! - [`RedisServer`] spawns a real `redis-server` 7 as a one-node Redis Cluster owning
//!   every slot (Shoal is always a cluster, so that is the behaviour to compare with).
//! - [`Raw`] is a minimal RESP client that returns replies as [`Frame`]s, so tests compare
//!   exact types (bulk vs simple string, RESP3 map vs array), not just values.
//! - [`Diff`] sends the same commands to both servers and asserts equal replies.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use shoal_resp::{Frame, encode_command, parse_reply};

/// A free loopback port (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A fresh temporary directory under the target dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!(
        "shoal-test-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("temp dir");
    base
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port}");
}

/// A running `shoal` process.
pub struct Shoal {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Shoal {
    /// Starts shoal with extra flags.
    pub fn start_with(extra: &[&str]) -> Shoal {
        let port = free_port();
        let dir = temp_dir("shoal");
        let mut child = Command::new(env!("CARGO_BIN_EXE_shoal"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(&dir)
            .arg("--log-level")
            .arg("warn")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn shoal");
        wait_for_port(port, &mut child, "shoal");
        Shoal { port, dir, child }
    }

    pub fn start() -> Shoal {
        Shoal::start_with(&[])
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect to shoal")
    }
}

impl Drop for Shoal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running reference `redis-server`, configured as a one-node cluster owning every slot.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = free_port();
        let dir = temp_dir("redis");
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server not found: run scripts/test.sh, which installs it");
        wait_for_port(port, &mut child, "redis-server");
        let mut r = Raw::connect(port);
        r.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        // Wait for the cluster to report ok so key commands are served.
        let start = Instant::now();
        loop {
            if let Frame::Bulk(b) | Frame::Verbatim(_, b) = r.cmd(&["CLUSTER", "INFO"])
                && String::from_utf8_lossy(&b).contains("cluster_state:ok")
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis cluster not ok"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { port, dir, child }
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minimal RESP client returning exact frames.
pub struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let _ = stream.set_nodelay(true);
        Raw {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Sends raw bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends one command without reading its reply.
    pub fn send(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_bytes(&a);
    }

    pub fn send_bytes(&mut self, args: &[&[u8]]) {
        let mut out = BytesMut::new();
        encode_command(args, &mut out);
        self.send_raw(&out);
    }

    /// Reads one reply; None if the server closed the connection.
    pub fn try_read(&mut self) -> Option<Frame> {
        loop {
            match parse_reply(&mut self.buf) {
                Ok(Some(f)) => return Some(f),
                Ok(None) => {}
                Err(e) => panic!("bad reply from server: {e}"),
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    pub fn read(&mut self) -> Frame {
        self.try_read().expect("connection closed")
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        self.send(args);
        self.read()
    }

    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Frame {
        self.send_bytes(args);
        self.read()
    }

    /// Sets how long reads wait before giving up.
    pub fn set_read_timeout(&mut self, d: Duration) {
        let _ = self.stream.set_read_timeout(Some(d));
    }

    /// Reads one reply; None if none arrives within the read timeout (or the server
    /// closed the connection).
    pub fn try_read_timeout(&mut self) -> Option<Frame> {
        loop {
            match parse_reply(&mut self.buf) {
                Ok(Some(f)) => return Some(f),
                Ok(None) => {}
                Err(e) => panic!("bad reply from server: {e}"),
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None;
                }
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Whether the server has closed the connection (reads until EOF or timeout).
    pub fn is_closed(&mut self) -> bool {
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(500)));
        let mut b = [0u8; 1024];
        matches!(self.stream.read(&mut b), Ok(0))
    }
}

/// Sorts the elements of arrays/sets in a reply, recursively one level, for commands
/// whose order is unspecified (KEYS, SMEMBERS, HGETALL in RESP3, ...).
pub fn sorted(f: Frame) -> Frame {
    fn key(f: &Frame) -> String {
        format!("{f:?}")
    }
    match f {
        Frame::Array(mut v) => {
            v.sort_by_key(key);
            Frame::Array(v)
        }
        Frame::Set(mut v) => {
            v.sort_by_key(key);
            Frame::Set(v)
        }
        Frame::Map(mut v) => {
            v.sort_by_key(|(k, _)| key(k));
            Frame::Map(v)
        }
        other => other,
    }
}

/// How to compare one command's replies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Exact,
    /// Compare after [`sorted`].
    Unordered,
    /// Only check that both are errors / both are not, and of the same type.
    SameShape,
}

/// A pair of connections, one to Shoal and one to redis-server, speaking the same RESP
/// version. Every command goes to both; replies must match.
pub struct Diff {
    pub shoal: Raw,
    pub redis: Raw,
    /// Held so the servers live as long as the Diff.
    _servers: Option<(Shoal, RedisServer)>,
    pub resp3: bool,
}

impl Diff {
    /// Starts a fresh Shoal and redis-server and connects to both with RESP2.
    pub fn new() -> Diff {
        let shoal = Shoal::start();
        let redis = RedisServer::start();
        Diff {
            shoal: shoal.raw(),
            redis: redis.raw(),
            _servers: Some((shoal, redis)),
            resp3: false,
        }
    }

    /// Same, then `HELLO 3` on both connections.
    pub fn new_resp3() -> Diff {
        let mut d = Diff::new();
        d.hello3();
        d
    }

    /// Switches both connections to RESP3.
    pub fn hello3(&mut self) {
        self.shoal.cmd(&["HELLO", "3"]);
        self.redis.cmd(&["HELLO", "3"]);
        self.resp3 = true;
    }

    /// Sends `args` to both and asserts the replies are equal. Returns Shoal's reply.
    pub fn check(&mut self, args: &[&str]) -> Frame {
        self.check_with(args, Cmp::Exact)
    }

    /// Same, comparing unordered replies after sorting.
    pub fn check_unordered(&mut self, args: &[&str]) -> Frame {
        self.check_with(args, Cmp::Unordered)
    }

    pub fn check_with(&mut self, args: &[&str], cmp: Cmp) -> Frame {
        let s = self.shoal.cmd(args);
        let r = self.redis.cmd(args);
        compare(args, s, r, cmp, self.resp3)
    }

    /// A blocking command inside MULTI: Redis answers at once with what it would reply on
    /// timeout (or serves it when data is there), and so must Shoal.
    pub fn check_blocking(&mut self, args: &[&str]) {
        self.check(&["MULTI"]);
        self.check(args);
        self.check(&["EXEC"]);
    }

    /// A SCAN-family reply: same cursor, same items in any order (small collections come
    /// back whole; their order is the encoding's).
    pub fn check_scan(&mut self, args: &[&str]) {
        let s = self.shoal.cmd(args);
        let r = self.redis.cmd(args);
        let norm = |f: Frame| match f {
            Frame::Array(mut v) if v.len() == 2 => {
                let items = sorted(v.pop().unwrap_or(Frame::Null));
                v.push(items);
                Frame::Array(v)
            }
            other => other,
        };
        assert_eq!(norm(s), norm(r), "{args:?}: shoal (left) vs redis (right)");
    }

    /// A random-choice command: the choice differs by design (Shoal draws from a
    /// replicated seed), so compare the reply type and length, and the whole reply when it
    /// cannot depend on the choice (errors, nulls).
    pub fn check_random(&mut self, args: &[&str]) {
        let s = self.shoal.cmd(args);
        let r = self.redis.cmd(args);
        let len = |f: &Frame| match f {
            Frame::Array(v) | Frame::Set(v) => Some(v.len()),
            _ => None,
        };
        assert_eq!(
            std::mem::discriminant(&s),
            std::mem::discriminant(&r),
            "{args:?}: shoal {s:?} vs redis {r:?}"
        );
        assert_eq!(len(&s), len(&r), "{args:?}: shoal {s:?} vs redis {r:?}");
        if matches!(s, Frame::Error(_) | Frame::Null | Frame::NullArray) {
            assert_eq!(s, r, "{args:?}");
        }
    }

    /// Sends every command of `cmds` to both, compares each reply exactly.
    pub fn check_all(&mut self, cmds: &[&[&str]]) {
        for c in cmds {
            self.check(c);
        }
    }

    /// Sends all of `cmds` as one pipeline (one write), then compares the replies in order.
    pub fn check_pipeline(&mut self, cmds: &[&[&str]]) {
        let mut out = BytesMut::new();
        for c in cmds {
            let a: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
            encode_command(&a, &mut out);
        }
        self.shoal.send_raw(&out);
        self.redis.send_raw(&out);
        for c in cmds {
            let s = self.shoal.read();
            let r = self.redis.read();
            compare(c, s, r, Cmp::Exact, self.resp3);
        }
    }

    /// The ports of (shoal, redis-server), to open more connections to each.
    pub fn ports(&self) -> (u16, u16) {
        match &self._servers {
            Some((shoal, redis)) => (shoal.port, redis.port),
            None => panic!("this Diff does not own its servers"),
        }
    }

    /// Opens fresh connections to both servers (RESP2).
    pub fn reconnect(&mut self) {
        if let Some((shoal, redis)) = &self._servers {
            self.shoal = shoal.raw();
            self.redis = redis.raw();
            self.resp3 = false;
        }
    }

    /// Sends raw bytes to both and compares `n` replies (None once a server closed).
    pub fn check_raw(&mut self, bytes: &[u8], n: usize) {
        self.shoal.send_raw(bytes);
        self.redis.send_raw(bytes);
        for _ in 0..n {
            let s = self.shoal.try_read();
            let r = self.redis.try_read();
            assert_eq!(
                s,
                r,
                "raw {:?}: shoal (left) vs redis (right)",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

fn compare(args: &[&str], s: Frame, r: Frame, cmp: Cmp, resp3: bool) -> Frame {
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    match cmp {
        Cmp::Exact => assert_eq!(s, r, "{proto} {args:?}: shoal (left) vs redis (right)"),
        Cmp::Unordered => assert_eq!(
            sorted(s.clone()),
            sorted(r),
            "{proto} {args:?} (unordered): shoal (left) vs redis (right)"
        ),
        Cmp::SameShape => assert_eq!(
            std::mem::discriminant(&s),
            std::mem::discriminant(&r),
            "{proto} {args:?}: reply types differ: shoal {s:?} vs redis {r:?}"
        ),
    }
    s
}
