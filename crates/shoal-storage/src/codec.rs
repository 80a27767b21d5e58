//! The versioned value encoding for everything this crate writes.
//!
//! ```text
//! [version: u8][crc32 of body: u32 LE][body: postcard]
//! ```
//!
//! Why postcard: openraft's types are serde types (its `serde` feature), and
//! openraft itself keeps them decodable by positional formats such as
//! postcard; postcard is compact (varints), maintained, and returns errors on
//! malformed input instead of panicking. bincode 1 is unmaintained. A CRC over
//! the body turns a torn or bit-flipped value into an error at read time
//! rather than a silently different entry.

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The only encoding version written and read today. 4: a command batch is a sequence of
/// parts, one per submitting connection, each with its own base clock (shoal-raft
/// `batch.rs`); 3 stored every command's clock as a delta from the batch's first and a
/// seed only where one is used; 2 (2026-11) carried the batch as one byte string with a full clock and seed per
/// command; 1 (before 2026-11) encoded each command and argument as a value of its own.
/// A data directory or a peer of an older version is refused with an error naming the
/// version.
pub const VERSION: u8 = 4;
const HEADER: usize = 5;

/// Encodes `value` as `[VERSION][crc32][postcard]`.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(&mut out, value)?;
    Ok(out)
}

/// [`encode`] into `out` (replacing what it held), so that a caller encoding value after
/// value reuses one buffer instead of growing a new one each time.
pub fn encode_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> io::Result<()> {
    out.clear();
    out.extend_from_slice(&[VERSION, 0, 0, 0, 0]);
    *out = postcard::to_extend(value, std::mem::take(out)).map_err(io::Error::other)?;
    let crc = crc32fast::hash(&out[HEADER..]);
    out[1..HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Decodes what [`encode`] wrote. Unknown versions, checksum mismatches,
/// truncation and trailing bytes are `InvalidData` errors.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    if bytes.len() < HEADER {
        return Err(invalid(format!("value too short: {} bytes", bytes.len())));
    }
    if bytes[0] != VERSION {
        return Err(invalid(format!(
            "unknown encoding version {} (this Shoal reads version {VERSION})",
            bytes[0]
        )));
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[1..HEADER]);
    let body = &bytes[HEADER..];
    if crc32fast::hash(body) != u32::from_le_bytes(crc) {
        return Err(invalid("checksum mismatch".to_string()));
    }
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| invalid(format!("undecodable value: {e}")))?;
    if !rest.is_empty() {
        return Err(invalid(format!(
            "{} trailing bytes after value",
            rest.len()
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_corruption() -> io::Result<()> {
        let v = (7u64, "seven".to_string(), vec![1u8, 2, 3]);
        let bytes = encode(&v)?;
        assert_eq!(decode::<(u64, String, Vec<u8>)>(&bytes)?, v);
        for cut in 0..bytes.len() {
            assert!(
                decode::<(u64, String, Vec<u8>)>(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode::<(u64, String, Vec<u8>)>(&b).is_err(), "flip at {i}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode::<(u64, String, Vec<u8>)>(&long).is_err());
        Ok(())
    }
}
