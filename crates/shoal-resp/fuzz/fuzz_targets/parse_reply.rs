//! Feeds arbitrary bytes to `parse_reply`, whole and one byte at a time.
//!
//! The parser must never panic, must consume nothing while a reply is incomplete, and
//! must therefore read the same frames however the bytes arrive.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use shoal_resp::parse_reply;

/// Frames (as Debug text, so NaN compares equal to itself), then whether it ended in error.
fn run(pieces: &mut dyn Iterator<Item = &[u8]>) -> (Vec<String>, bool) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match parse_reply(&mut buf) {
                Ok(Some(f)) => frames.push(format!("{f:?}")),
                Ok(None) => {
                    assert_eq!(buf.len(), before);
                    break;
                }
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = run(&mut std::iter::once(data));
    let bytewise = run(&mut data.chunks(1));
    assert_eq!(whole, bytewise);
});
