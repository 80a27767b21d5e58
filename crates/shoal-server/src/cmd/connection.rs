//! Connection commands: PING, HELLO, AUTH, RESET, SELECT, TIME, CLIENT.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use shoal_core::args::{is, parse_i64_strict};
use shoal_resp::{Frame, Protocol};

use crate::connection::Session;
use crate::state::{ClientInfo, Shared, lock};

/// The Redis version Shoal reports, so clients' feature detection picks 7.0 behaviour.
pub const REDIS_VERSION: &str = "7.0.15";

pub fn ping(_s: &Session, args: &[Bytes]) -> Frame {
    match args.len() {
        1 => Frame::simple("PONG"),
        2 => Frame::Bulk(args[1].clone()),
        _ => Frame::error(shoal_core::error::wrong_arity("ping")),
    }
}

/// Checks a password for the default user.
fn check_password(shared: &Shared, user: Option<&[u8]>, pass: &[u8]) -> Result<(), Frame> {
    let wrong =
        || Frame::static_error("WRONGPASS invalid username-password pair or user is disabled.");
    if let Some(u) = user
        && u != b"default"
    {
        return Err(wrong());
    }
    match shared.runtime().requirepass {
        // The default user has no password: any password is accepted.
        None => Ok(()),
        Some(p) if p.as_bytes() == pass => Ok(()),
        Some(_) => Err(wrong()),
    }
}

pub fn auth(s: &mut Session, args: &[Bytes]) -> Frame {
    let (user, pass) = match args.len() {
        2 => (None, &args[1]),
        3 => (Some(&args[1][..]), &args[2]),
        _ => return Frame::static_error(shoal_core::error::SYNTAX),
    };
    if user.is_none() && s.shared.runtime().requirepass.is_none() {
        return Frame::static_error(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
    }
    match check_password(&s.shared, user, pass) {
        Ok(()) => {
            s.authed = true;
            Frame::ok()
        }
        Err(e) => e,
    }
}

pub fn hello(s: &mut Session, args: &[Bytes]) -> Frame {
    let mut proto = s.proto;
    let mut i = 1;
    if args.len() > 1 {
        let v = match parse_i64_strict(&args[1]) {
            Some(v) => v,
            None => {
                return Frame::static_error(
                    "ERR Protocol version is not an integer or out of range",
                );
            }
        };
        proto = match v {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Frame::static_error("NOPROTO unsupported protocol version"),
        };
        i = 2;
    }
    let mut auth: Option<(Bytes, Bytes)> = None;
    let mut setname: Option<Bytes> = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if is(&args[i], "AUTH") && more >= 2 {
            auth = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 3;
        } else if is(&args[i], "SETNAME") && more >= 1 {
            setname = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Frame::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                shoal_core::table::truncate_lossy(&args[i], 128)
            ));
        }
    }
    if let Some((user, pass)) = &auth {
        if let Err(e) = check_password(&s.shared, Some(user), pass) {
            return e;
        }
        s.authed = true;
    }
    if !s.authed {
        return Frame::static_error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        );
    }
    if let Some(name) = setname {
        if let Err(e) = validate_name(&name) {
            return e;
        }
        *lock(&s.info.name) = name_of(&name);
    }
    s.proto = proto;
    s.info.resp.store(
        if proto == Protocol::Resp3 { 3 } else { 2 },
        Ordering::Relaxed,
    );
    Frame::Map(vec![
        (Frame::bulk(b"server"), Frame::bulk(b"redis")),
        (
            Frame::bulk(b"version"),
            Frame::bulk(REDIS_VERSION.as_bytes()),
        ),
        (
            Frame::bulk(b"proto"),
            Frame::Integer(if proto == Protocol::Resp3 { 3 } else { 2 }),
        ),
        (Frame::bulk(b"id"), Frame::Integer(s.info.id as i64)),
        (Frame::bulk(b"mode"), Frame::bulk(b"cluster")),
        (Frame::bulk(b"role"), Frame::bulk(b"master")),
        (Frame::bulk(b"modules"), Frame::Array(vec![])),
    ])
}

pub fn reset(s: &mut Session) -> Frame {
    s.multi = None;
    s.info.in_multi.store(0, Ordering::Relaxed);
    s.readonly = false;
    s.proto = Protocol::Resp2;
    s.info.resp.store(2, Ordering::Relaxed);
    *lock(&s.info.name) = None;
    s.authed = s.shared.runtime().requirepass.is_none();
    Frame::simple("RESET")
}

pub fn select(args: &[Bytes]) -> Frame {
    match parse_i64_strict(&args[1]) {
        None => Frame::static_error(shoal_core::error::NOT_INTEGER),
        Some(0) => Frame::ok(),
        Some(_) => Frame::static_error("ERR SELECT is not allowed in cluster mode"),
    }
}

pub fn time() -> Frame {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Frame::Array(vec![
        Frame::bulk(now.as_secs().to_string().as_bytes()),
        Frame::bulk(now.subsec_micros().to_string().as_bytes()),
    ])
}

/// Redis allows client names of printable ASCII without spaces.
fn validate_name(name: &[u8]) -> Result<(), Frame> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Frame::static_error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

fn name_of(name: &[u8]) -> Option<String> {
    if name.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(name).into_owned())
    }
}

/// One CLIENT LIST / CLIENT INFO line, with Redis 7.0's fields.
pub fn client_line(shared: &Shared, c: &ClientInfo) -> String {
    let now = shared.uptime_ms();
    let age = c.created.elapsed().as_secs();
    let idle = now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
    let multi = if c.in_multi.load(Ordering::Relaxed) == 1 {
        0
    } else {
        -1
    };
    let subs = shared.pubsub.client_counts(c.id);
    let mut flags = String::new();
    if subs.total() > 0 {
        flags.push('P');
    }
    if multi == 0 {
        flags.push('x');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}\n",
        c.id,
        c.addr,
        c.laddr,
        c.name(),
        age,
        idle,
        flags,
        subs.channels,
        subs.patterns,
        subs.shard,
        multi,
        subs.queued,
        subs.pending_bytes,
        c.last_cmd.name(),
        c.resp.load(Ordering::Relaxed),
        lock(&c.lib_name).clone().unwrap_or_default(),
        lock(&c.lib_ver).clone().unwrap_or_default(),
    )
}

/// A bulk string, as a verbatim text string for RESP3 clients (as Redis's CLIENT LIST, INFO).
pub fn verbatim(s: &Session, text: String) -> Frame {
    if s.resp3() {
        Frame::Verbatim(*b"txt", Bytes::from(text))
    } else {
        Frame::Bulk(Bytes::from(text))
    }
}

pub fn client(s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    match name {
        "client|id" => Frame::Integer(s.info.id as i64),
        "client|getname" => match lock(&s.info.name).clone() {
            Some(n) => Frame::Bulk(Bytes::from(n)),
            None => Frame::Null,
        },
        "client|setname" => {
            if let Err(e) = validate_name(&args[2]) {
                return e;
            }
            *lock(&s.info.name) = name_of(&args[2]);
            Frame::ok()
        }
        "client|setinfo" => {
            let value = &args[3];
            if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
                return Frame::error(format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    shoal_core::table::truncate_lossy(&args[2], 64)
                ));
            }
            let v = Some(String::from_utf8_lossy(value).into_owned());
            if is(&args[2], "lib-name") {
                *lock(&s.info.lib_name) = v;
            } else if is(&args[2], "lib-ver") {
                *lock(&s.info.lib_ver) = v;
            } else {
                return Frame::error(format!(
                    "ERR Unrecognized option '{}'",
                    shoal_core::table::truncate_lossy(&args[2], 64)
                ));
            }
            Frame::ok()
        }
        "client|info" => {
            let line = client_line(&s.shared, &s.info);
            verbatim(s, line)
        }
        "client|list" => client_list(s, args),
        "client|kill" => client_kill(s, args),
        "client|help" => help(&[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO).",
            "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [...]]",
            "    Return information about client connections.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "HELP",
            "    Print this help.",
        ]),
        _ => shoal_core::table::unknown_command(args),
    }
}

/// A HELP reply: status lines.
pub fn help(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

fn client_list(s: &mut Session, args: &[Bytes]) -> Frame {
    let mut ids: Option<Vec<u64>> = None;
    // Some(true): only Pub/Sub clients; Some(false): only normal ones.
    let mut pubsub_type: Option<bool> = None;
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "TYPE") && i + 1 < args.len() {
            let t = &args[i + 1];
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|k| is(t, k))
            {
                return Frame::error(format!(
                    "ERR Unknown client type '{}'",
                    shoal_core::table::truncate_lossy(t, 64)
                ));
            }
            pubsub_type = if is(t, "pubsub") {
                Some(true)
            } else if is(t, "normal") {
                Some(false)
            } else {
                // No replicas or masters connect to a Shoal client port.
                ids = Some(Vec::new());
                None
            };
            i += 2;
        } else if is(&args[i], "ID") && i + 1 < args.len() {
            let mut v = Vec::new();
            for a in &args[i + 1..] {
                match parse_i64_strict(a) {
                    Some(id) if id > 0 => v.push(id as u64),
                    _ => return Frame::static_error("ERR Invalid client ID"),
                }
            }
            ids = Some(v);
            i = args.len();
        } else {
            return Frame::static_error(shoal_core::error::SYNTAX);
        }
    }
    let clients: Vec<_> = {
        let map = lock(&s.shared.clients);
        let mut v: Vec<_> = map.values().cloned().collect();
        v.sort_by_key(|c| c.id);
        v
    };
    let mut text = String::new();
    for c in clients {
        if let Some(ids) = &ids
            && !ids.contains(&c.id)
        {
            continue;
        }
        if let Some(want) = pubsub_type
            && (s.shared.pubsub.client_counts(c.id).total() > 0) != want
        {
            continue;
        }
        text.push_str(&client_line(&s.shared, &c));
    }
    verbatim(s, text)
}

fn client_kill(s: &mut Session, args: &[Bytes]) -> Frame {
    let clients: Vec<_> = lock(&s.shared.clients).values().cloned().collect();
    // Old form: CLIENT KILL ip:port.
    if args.len() == 3 {
        let addr = String::from_utf8_lossy(&args[2]);
        for c in &clients {
            if c.addr.to_string() == addr {
                kill(c);
                return Frame::ok();
            }
        }
        return Frame::static_error("ERR No such client");
    }
    if !args.len().is_multiple_of(2) {
        return Frame::static_error(shoal_core::error::SYNTAX);
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut skipme = true;
    for pair in args[2..].chunks_exact(2) {
        let (k, v) = (&pair[0], &pair[1]);
        if is(k, "ID") {
            match parse_i64_strict(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Frame::static_error("ERR client-id should be greater than 0"),
            }
        } else if is(k, "ADDR") {
            addr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(k, "LADDR") {
            laddr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(k, "SKIPME") {
            if is(v, "yes") {
                skipme = true;
            } else if is(v, "no") {
                skipme = false;
            } else {
                return Frame::static_error(shoal_core::error::SYNTAX);
            }
        } else if is(k, "TYPE") || is(k, "USER") || is(k, "MAXAGE") {
            // Accepted filters that match every Shoal client (all are normal, default user).
        } else {
            return Frame::static_error(shoal_core::error::SYNTAX);
        }
    }
    let mut n = 0;
    for c in &clients {
        if id.is_some_and(|i| i != c.id)
            || addr.as_ref().is_some_and(|a| *a != c.addr.to_string())
            || laddr.as_ref().is_some_and(|a| *a != c.laddr.to_string())
            || (skipme && c.id == s.info.id)
        {
            continue;
        }
        if c.id == s.info.id {
            s.close = true;
        } else {
            kill(c);
        }
        n += 1;
    }
    Frame::Integer(n)
}

fn kill(c: &ClientInfo) {
    c.killed.store(1, Ordering::Relaxed);
    c.outbox.kick();
}
