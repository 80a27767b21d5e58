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

/// A free loopback port for a server the test spawns, with `port + 10000` free too:
/// redis-server in cluster mode and a single `shoal` node put their cluster bus there.
///
/// Both come from below the kernel's ephemeral range (32768 and up), so no client
/// connection's source port can take them before the server binds; and both are reserved
/// across nextest's parallel test processes by an advisory lock on a file named after
/// the port, held until this process exits. (Asking the kernel for "any free port" let a
/// test's bus port land on another test's port, or on some connection's source port.)
pub fn free_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = (u64::from(std::process::id()) << 32 | u64::from(nanos)) | 1;
    for _ in 0..20_000 {
        // xorshift64: a different walk per process, so processes rarely even contend.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = 10_000 + (x % 12_768) as u16;
        if let Some(held) = reserve(port)
            && let Some(bus) = reserve(port + 10_000)
        {
            let mut keep = RESERVED.lock().unwrap_or_else(|p| p.into_inner());
            keep.push(held);
            keep.push(bus);
            return port;
        }
    }
    panic!("no free port pair in 10000-32767");
}

/// Lock files of the ports this process holds (the locks go when the process exits).
static RESERVED: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());

/// Locks `port`'s file and checks the port can be bound; `None` if either fails.
fn reserve(port: u16) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    let dir = std::env::temp_dir().join("shoal-test-ports");
    let _ = std::fs::create_dir_all(&dir);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(port.to_string()))
        .ok()?;
    // SAFETY: flock on a descriptor we own; the lock goes with the descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return None;
    }
    TcpListener::bind(("127.0.0.1", port)).ok()?;
    Some(file)
}

/// A fresh temporary directory under the target dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    // Unique per process and call; no port needed (reserving one per directory held
    // two ports for the whole test for nothing).
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("shoal-test-{tag}-{}-{n}", std::process::id()));
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

/// One `shoal` process that can be killed (SIGKILL) and restarted with the same flags,
/// data directory and ports. Its stderr goes to `<dir>.log`.
pub struct Node {
    pub id: u64,
    pub port: u16,
    pub cport: u16,
    pub dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    /// `--log-level` (default: $SHOAL_TEST_LOG, else "warn").
    pub log_level: Option<String>,
}

impl Node {
    /// A node not yet started: `shoal --port P --data-dir D <args>`.
    pub fn new(id: u64, port: u16, cport: u16, dir: PathBuf, args: Vec<String>) -> Node {
        Node {
            id,
            port,
            cport,
            dir,
            args,
            child: None,
            log_level: None,
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.with_extension("log")
    }

    /// Starts the process (if it is not running) and waits until it accepts clients.
    pub fn start(&mut self) {
        if self.child.is_some() {
            return;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("node log");
        let level = self
            .log_level
            .clone()
            .unwrap_or_else(|| std::env::var("SHOAL_TEST_LOG").unwrap_or_else(|_| "warn".into()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_shoal"))
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(&self.dir)
            .arg("--log-level")
            .arg(level)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn shoal");
        wait_for_port(self.port, &mut child, "shoal");
        self.child = Some(child);
    }

    /// SIGKILL, as a crash: nothing is flushed or closed by the process.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (what `docker stop` and systemd send); waits for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("node not running");
        let pid = libc::pid_t::try_from(c.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM");
        c.wait().expect("wait for shoal")
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Whether the process is still alive (false if it was started and then exited by
    /// itself: a crash).
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The Raft log index this node has applied (INFO replication's `master_repl_offset`).
    pub fn applied(&self) -> u64 {
        self.info_field("replication", "master_repl_offset")
    }

    fn info_field(&self, section: &str, field: &str) -> u64 {
        let info: String = redis::cmd("INFO")
            .arg(section)
            .query(&mut self.conn())
            .expect("INFO");
        info.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in INFO {section}"))
    }

    /// This node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The Raft term this node is in (INFO replication's `shoal_raft_term`).
    pub fn term(&self) -> u64 {
        self.info_field("replication", "shoal_raft_term")
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A plain connection (commands for other nodes' slots get -MOVED).
    pub fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("connect to shoal");
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }

    /// A connection that has sent READONLY: a follower serves reads of its own state.
    pub fn readonly(&self) -> redis::Connection {
        let mut c = self.conn();
        let _: () = redis::cmd("READONLY").query(&mut c).expect("READONLY");
        c
    }

    /// This node's view of itself: `Some(true)` if it leads, `Some(false)` if it
    /// follows, `None` if it is down or does not answer.
    pub fn is_leader(&self) -> Option<bool> {
        self.child.as_ref()?;
        let c = redis::Client::open(self.url()).ok()?;
        let mut c = c
            .get_connection_with_timeout(Duration::from_millis(500))
            .ok()?;
        c.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut c).ok()?;
        nodes
            .lines()
            .find(|l| l.contains("myself"))
            .map(|l| l.contains("master"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// N real `shoal` processes on 127.0.0.1 forming one Raft cluster (nodes 1..=N, each
/// with its own data directory). Dropping it kills them all and removes the data,
/// unless the test failed (then the directory and node logs are left for a look).
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub root: PathBuf,
}

impl Cluster {
    /// Starts `n` nodes with `extra` flags each and waits until a write succeeds.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        let root = temp_dir("cluster");
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, (p, c))| format!("{}=127.0.0.1:{c}@{p}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, &(port, cport))| {
                let id = i as u64 + 1;
                let mut args: Vec<String> = vec![
                    "--node-id".into(),
                    id.to_string(),
                    "--cluster-port".into(),
                    cport.to_string(),
                    "--initial-cluster".into(),
                    members.clone(),
                ];
                args.extend(extra.iter().map(|s| s.to_string()));
                Node::new(id, port, cport, root.join(format!("node{id}")), args)
            })
            .collect();
        let mut c = Cluster { nodes, root };
        // Start them together: each waits a few seconds for a leader before listening.
        c.start_all();
        c.wait_serving(Duration::from_secs(30));
        c
    }

    /// The node at index `i` (node id `i + 1`).
    pub fn node(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    /// SIGKILLs every running node at once (all signals sent before any wait).
    pub fn kill_all(&mut self) {
        let mut children: Vec<Child> = self
            .nodes
            .iter_mut()
            .filter_map(|n| n.child.take())
            .collect();
        for c in children.iter_mut() {
            let _ = c.kill();
        }
        for mut c in children {
            let _ = c.wait();
        }
    }

    /// Starts every node that is not running (concurrently, as after a power cut).
    pub fn start_all(&mut self) {
        std::thread::scope(|s| {
            for n in self.nodes.iter_mut() {
                s.spawn(move || n.start());
            }
        });
    }

    /// Index of the node that considers itself leader, waiting up to `max` for one.
    pub fn leader(&self, max: Duration) -> usize {
        let start = Instant::now();
        loop {
            for (i, n) in self.nodes.iter().enumerate() {
                if n.is_leader() == Some(true) {
                    return i;
                }
            }
            assert!(start.elapsed() < max, "no leader within {max:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a write through a cluster client succeeds.
    pub fn wait_serving(&self, max: Duration) {
        let start = Instant::now();
        loop {
            let ok = self.client().get_connection().and_then(|mut c| {
                redis::cmd("SET")
                    .arg("__probe")
                    .arg("1")
                    .query::<()>(&mut c)
            });
            match ok {
                Ok(()) => return,
                Err(e) => assert!(
                    start.elapsed() < max,
                    "cluster not serving within {max:?}: {e}"
                ),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The client addresses of every node (seeds for a cluster client).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
    }

    /// A cluster client, as an application would configure one for fast failover:
    /// short retry waits (redis-rs waits at least 1.28 s between retries by default).
    pub fn client(&self) -> redis::cluster::ClusterClient {
        redis::cluster::ClusterClient::builder(self.urls())
            .retries(30)
            .min_retry_wait(20)
            .max_retry_wait(200)
            .connection_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_secs(5))
            .build()
            .expect("cluster client")
    }

    /// Polls `f` on every running node (through a READONLY connection) until all
    /// return the same `Ok` value, and returns it; panics after `max` showing the
    /// values (an error, e.g. NOGROUP on a follower that has not caught up, counts as
    /// not converged yet).
    pub fn converge<T: PartialEq + std::fmt::Debug>(
        &self,
        max: Duration,
        mut f: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            let vals: Vec<redis::RedisResult<T>> = self
                .nodes
                .iter()
                .filter(|n| n.is_running())
                .map(|n| f(&mut n.readonly()))
                .collect();
            let all_ok = vals.iter().all(|v| v.is_ok());
            if all_ok
                && vals
                    .windows(2)
                    .all(|w| w[0].as_ref().ok() == w[1].as_ref().ok())
            {
                return vals
                    .into_iter()
                    .next()
                    .expect("no running node")
                    .expect("checked ok");
            }
            if start.elapsed() > max {
                panic!("nodes did not converge within {max:?}: {vals:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in self.nodes.iter_mut() {
            n.kill();
        }
        if std::thread::panicking() {
            eprintln!("cluster data and logs kept in {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// A digest of a whole stream (IDs and fields, in order), for comparing nodes.
pub fn stream_digest(c: &mut redis::Connection, key: &str) -> redis::RedisResult<(usize, u64)> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut n = 0;
    let mut start = "-".to_string();
    loop {
        let page: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(key)
            .arg(&start)
            .arg("+")
            .arg("COUNT")
            .arg(10_000)
            .query(c)?;
        let Some(last) = page.last().map(|(id, _)| id.clone()) else {
            break;
        };
        n += page.len();
        page.hash(&mut h);
        start = format!("({last}");
    }
    Ok((n, h.finish()))
}
