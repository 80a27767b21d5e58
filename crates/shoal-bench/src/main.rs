//! `shoal-bench`: load that redis-benchmark cannot express, run the same way against
//! Shoal and redis-server so `scripts/bench.sh` can print ratios.
//!
//! - `group`: a consumer-group pipeline: a pre-filled stream, N consumers each looping
//!   XREADGROUP COUNT c + XACK of what it read, until the stream is drained.
//! - `fanout`: one publisher, N subscribers; messages carry their send time, so each
//!   subscriber measures end-to-end latency; reports delivered messages/s, p50, p99.
//! - `latency`: one request at a time (or at a fixed rate) and its latency percentiles.
//!
//! Output is one line of `key=value` pairs, easy to parse from a shell script.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use clap::{Parser, Subcommand};
use shoal_resp::{Frame, encode_command, parse_reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 6379)]
    port: u16,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Consumer-group pipeline over a pre-filled stream.
    Group {
        #[arg(long, default_value_t = 200_000)]
        entries: usize,
        #[arg(long, default_value_t = 4)]
        consumers: usize,
        #[arg(long, default_value_t = 100)]
        count: usize,
    },
    /// Pub/Sub fan-out: 1 publisher, N subscribers.
    Fanout {
        #[arg(long, default_value_t = 10)]
        subscribers: usize,
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        #[arg(long, default_value_t = 64)]
        size: usize,
        /// Messages per publish pipeline batch.
        #[arg(long, default_value_t = 16)]
        pipeline: usize,
    },
    /// Latency of one command: each of `--clients` connections sends one request at a
    /// time; `--rate` is the total requests per second (0 = back to back).
    Latency {
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        #[arg(long, default_value_t = 0)]
        rate: u64,
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// The command, e.g. `XADD lat * f v`.
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
}

/// A minimal pipelined RESP connection.
struct Conn {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
}

impl Conn {
    async fn connect(host: &str, port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(64 * 1024),
        })
    }

    fn queue(&mut self, args: &[&[u8]]) {
        encode_command(args, &mut self.wbuf);
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.stream.write_all(&self.wbuf).await?;
        self.wbuf.clear();
        Ok(())
    }

    async fn read(&mut self) -> std::io::Result<Frame> {
        loop {
            match parse_reply(&mut self.rbuf) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::other(e.0)),
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn cmd(&mut self, args: &[&[u8]]) -> std::io::Result<Frame> {
        self.queue(args);
        self.flush().await?;
        self.read().await
    }
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

async fn group(cli: &Cli, entries: usize, consumers: usize, count: usize) -> std::io::Result<()> {
    let mut c = Conn::connect(&cli.host, cli.port).await?;
    let key = b"bench:{g}:stream";
    c.cmd(&[b"DEL", key]).await?;
    // Pre-fill in pipelined batches.
    let mut left = entries;
    while left > 0 {
        let n = left.min(1000);
        for _ in 0..n {
            c.queue(&[b"XADD", key, b"*", b"sensor", b"temp", b"value", b"22.5"]);
        }
        c.flush().await?;
        for _ in 0..n {
            c.read().await?;
        }
        left -= n;
    }
    c.cmd(&[b"XGROUP", b"CREATE", key, b"g", b"0"]).await?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..consumers {
        let (host, port) = (cli.host.clone(), cli.port);
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::connect(&host, port).await?;
            let name = format!("c{i}");
            let count = count.to_string();
            let mut done = 0usize;
            loop {
                let reply = c
                    .cmd(&[
                        b"XREADGROUP",
                        b"GROUP",
                        b"g",
                        name.as_bytes(),
                        b"COUNT",
                        count.as_bytes(),
                        b"STREAMS",
                        key,
                        b">",
                    ])
                    .await?;
                let ids = entry_ids(&reply);
                if ids.is_empty() {
                    return Ok::<usize, std::io::Error>(done);
                }
                let mut args: Vec<&[u8]> = vec![b"XACK", key, b"g"];
                args.extend(ids.iter().map(|b| &b[..]));
                c.cmd(&args).await?;
                done += ids.len();
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(std::io::Error::other)??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "test=group entries={total} consumers={consumers} count={count} secs={secs:.3} entries_per_sec={:.0}",
        total as f64 / secs
    );
    Ok(())
}

/// The entry IDs of an XREADGROUP reply (RESP2 array or RESP3 map form).
fn entry_ids(reply: &Frame) -> Vec<Bytes> {
    let entries = match reply {
        Frame::Array(streams) => match streams.first() {
            Some(Frame::Array(kv)) if kv.len() == 2 => &kv[1],
            _ => return Vec::new(),
        },
        Frame::Map(m) => match m.first() {
            Some((_, v)) => v,
            None => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    let Frame::Array(list) = entries else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| match e {
            Frame::Array(p) => match p.first() {
                Some(Frame::Bulk(id)) => Some(id.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

async fn fanout(
    cli: &Cli,
    subscribers: usize,
    messages: usize,
    size: usize,
    pipeline: usize,
) -> std::io::Result<()> {
    let channel = b"bench:fanout";
    let mut subs = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers.max(1));
    for _ in 0..subscribers {
        let (host, port) = (cli.host.clone(), cli.port);
        let ready = ready_tx.clone();
        subs.push(tokio::spawn(async move {
            let mut c = Conn::connect(&host, port).await?;
            c.cmd(&[b"SUBSCRIBE", channel]).await?;
            let _ = ready.send(()).await;
            let mut lat = Vec::with_capacity(messages);
            while lat.len() < messages {
                let f = c.read().await?;
                let (Frame::Array(parts) | Frame::Push(parts)) = f else {
                    continue;
                };
                if let Some(Frame::Bulk(payload)) = parts.get(2) {
                    let sent = payload
                        .get(..16)
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0);
                    lat.push(now_us().saturating_sub(sent));
                }
            }
            Ok::<Vec<u64>, std::io::Error>(lat)
        }));
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        ready_rx.recv().await;
    }
    let mut p = Conn::connect(&cli.host, cli.port).await?;
    let start = Instant::now();
    let pad = vec![b'x'; size.saturating_sub(16)];
    let mut sent = 0;
    while sent < messages {
        let n = pipeline.min(messages - sent);
        for _ in 0..n {
            let mut payload = format!("{:016}", now_us()).into_bytes();
            payload.extend_from_slice(&pad);
            p.queue(&[b"PUBLISH", channel, &payload]);
        }
        p.flush().await?;
        for _ in 0..n {
            p.read().await?;
        }
        sent += n;
    }
    let mut all = Vec::new();
    for s in subs {
        all.extend(s.await.map_err(std::io::Error::other)??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "test=fanout subscribers={subscribers} messages={messages} delivered={} secs={secs:.3} delivered_per_sec={:.0} p50_ms={:.3} p99_ms={:.3}",
        all.len(),
        all.len() as f64 / secs,
        pct(&all, 0.50),
        pct(&all, 0.99)
    );
    Ok(())
}

async fn latency(
    cli: &Cli,
    requests: usize,
    rate: u64,
    clients: usize,
    command: &[String],
) -> std::io::Result<()> {
    let clients = clients.max(1);
    let per_client = requests.div_ceil(clients);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (host, port) = (cli.host.clone(), cli.port);
        let command = command.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(&host, port).await?;
            let args: Vec<&[u8]> = command.iter().map(|s| s.as_bytes()).collect();
            let mut lat = Vec::with_capacity(per_client);
            // Each client sends at rate/clients, offset so the clients interleave.
            let interval =
                (rate > 0).then(|| Duration::from_nanos(1_000_000_000 * clients as u64 / rate));
            let offset = interval.map(|iv| iv * c as u32 / clients as u32);
            for i in 0..per_client {
                if let (Some(iv), Some(off)) = (interval, offset) {
                    let due = start + off + iv * i as u32;
                    tokio::time::sleep_until(due.into()).await;
                }
                let t = Instant::now();
                let f = conn.cmd(&args).await?;
                lat.push(t.elapsed().as_micros() as u64);
                if let Frame::Error(e) = f {
                    return Err(std::io::Error::other(
                        String::from_utf8_lossy(&e).into_owned(),
                    ));
                }
            }
            Ok::<Vec<u64>, std::io::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.map_err(std::io::Error::other)??);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "test=latency requests={} clients={clients} rate={rate} achieved_rps={:.0} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        lat.len(),
        lat.len() as f64 / secs,
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let r = match &cli.cmd {
        Cmd::Group {
            entries,
            consumers,
            count,
        } => group(&cli, *entries, *consumers, *count).await,
        Cmd::Fanout {
            subscribers,
            messages,
            size,
            pipeline,
        } => fanout(&cli, *subscribers, *messages, *size, *pipeline).await,
        Cmd::Latency {
            requests,
            rate,
            clients,
            command,
        } => latency(&cli, *requests, *rate, *clients, command).await,
    };
    if let Err(e) = r {
        eprintln!("shoal-bench: {e}");
        std::process::exit(1);
    }
}
