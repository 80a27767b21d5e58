//! Snapshot files: one file per Raft group, replaced atomically.
//!
//! ```text
//! [magic "SHOALSNP"][version: u8 = 1][crc32 of payload: u32 LE][len: u64 LE][payload]
//! ```
//!
//! Snapshots can be large, so they live in files beside the sled database
//! rather than in it (sled handles large values poorly). A file is written
//! to a temporary name, fsynced, renamed over the old one, and the directory
//! is fsynced: a crash leaves either the old or the new snapshot, never a mix.

use std::fs;
use std::io;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

const MAGIC: &[u8; 8] = b"SHOALSNP";
const VERSION: u8 = 1;
const HEADER: usize = 8 + 1 + 4 + 8;

/// The directory holding the snapshot files of one node.
#[derive(Clone, Debug)]
pub struct SnapshotFiles {
    dir: PathBuf,
}

impl SnapshotFiles {
    pub(crate) fn open(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, group: u64) -> PathBuf {
        self.dir.join(format!("group-{group}.snap"))
    }

    /// Durably replaces the snapshot of `group` with `payload`.
    pub fn save(&self, group: u64, payload: &[u8]) -> io::Result<()> {
        let path = self.path(group);
        let tmp = path.with_extension("snap.tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&[VERSION])?;
            f.write_all(&crc32fast::hash(payload).to_le_bytes())?;
            f.write_all(&(payload.len() as u64).to_le_bytes())?;
            f.write_all(payload)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)
    }

    /// The last snapshot saved for `group`, if any. A damaged file is an
    /// `InvalidData` error, never a panic or a silently wrong payload.
    pub fn load(&self, group: u64) -> io::Result<Option<Vec<u8>>> {
        let bytes = match fs::read(self.path(group)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        decode(&bytes).map(|p| Some(p.to_vec()))
    }
}

fn decode(bytes: &[u8]) -> io::Result<&[u8]> {
    let invalid =
        |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("snapshot file: {m}"));
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(invalid("bad header"));
    }
    if bytes[8] != VERSION {
        return Err(invalid("unknown version"));
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[9..13]);
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[13..21]);
    let payload = &bytes[HEADER..];
    if u64::from_le_bytes(len) != payload.len() as u64 {
        return Err(invalid("truncated"));
    }
    if crc32fast::hash(payload) != u32::from_le_bytes(crc) {
        return Err(invalid("checksum mismatch"));
    }
    Ok(payload)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_and_damage() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let files = SnapshotFiles::open(dir.path().join("snap"))?;
        assert_eq!(files.load(3)?, None);
        files.save(3, b"hello")?;
        files.save(3, b"hello world")?;
        assert_eq!(files.load(3)?.as_deref(), Some(&b"hello world"[..]));
        let path = files.path(3);
        let good = fs::read(&path)?;
        fs::write(&path, &good[..good.len() - 1])?;
        assert!(files.load(3).is_err());
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        fs::write(&path, &flipped)?;
        assert!(files.load(3).is_err());
        Ok(())
    }
}
