//! Feeds arbitrary bytes, in arbitrary chunkings, to `RequestDecoder`.
//!
//! Beyond "never panics", it checks the property the server relies on: chunking is
//! invisible. Decoding the input in pieces must give the same commands, and the same
//! success or failure, as decoding it in one buffer. (Inputs are far below the 64 KiB
//! line limits, the only place where Redis itself lets read sizes show through.)
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use shoal_resp::{Limits, RequestDecoder};

/// Every command, then `Err` if decoding stopped on a protocol error.
fn run(pieces: &[&[u8]], auth: bool) -> (Vec<Vec<Bytes>>, bool) {
    let limits = Limits::default();
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match d.decode(&mut buf, &limits, auth) {
                Ok(Some(cmd)) => {
                    assert!(!cmd.is_empty());
                    cmds.push(cmd);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(e.0.starts_with("Protocol error: "));
                    return (cmds, true);
                }
            }
        }
    }
    (cmds, false)
}

fuzz_target!(|data: &[u8]| {
    // First byte: options and the chunking seed; the rest is the stream.
    let Some((&ctl, stream)) = data.split_first() else {
        return;
    };
    if stream.len() >= 60 * 1024 {
        return;
    }
    let auth = ctl & 1 == 1;
    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut seed = u32::from(ctl) | 1;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed as usize % 17 + 1).min(rest.len());
        let (a, b) = rest.split_at(n);
        pieces.push(a);
        rest = b;
    }
    let whole = run(&[stream], auth);
    let chunked = run(&pieces, auth);
    assert_eq!(whole, chunked);
});
