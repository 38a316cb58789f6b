//! The blob store: records' sealed content and wrapped data keys, off the
//! ledger (ADR 0007).
//!
//! [`BlobStore`] is what the node uses; [`DirBlobStore`] keeps each record
//! as two files in one directory, `<id>.blob` and `<id>.keys`, and
//! [`MemoryBlobStore`] keeps them in memory for simulations and REST tests.
//!
//! A blob is content-addressed by the digest its record carries on chain
//! and checked against it on every read, so a changed byte is an error and
//! never a wrong answer. The keys file carries a CRC-32. Every write goes
//! to a temporary name, is fsynced, renamed over the final name, and the
//! directory fsynced, so a crash leaves the old file or the new one, never
//! a torn one. Erasure removes both files and fsyncs the directory: the keys
//! file is the only place the node holds a record's data key, so its
//! removal is the crypto-shredding.
//!
//! This module never decides who may read: the node checks the chain
//! first. It must not panic on bytes read from disk.

use cityledger_types::Digest;
use cityledger_types::encoding;
use cityledger_types::limits::BLOB_BYTES_MAX;
use cityledger_types::sealed::WrappedKeys;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why the blob store failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The disk failed.
    #[error("blob store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A stored blob does not match its digest on chain, or a keys file
    /// its checksum: the disk changed it.
    #[error("blob store: {what} of record {record} is corrupt")]
    Corrupt {
        /// The record.
        record: Digest,
        /// `blob` or `keys`.
        what: &'static str,
    },
    /// A blob to store does not match the digest it claims.
    #[error(
        "the blob is {length} bytes with digest {found}, not the {expected_bytes} bytes with digest {expected} its record names"
    )]
    Mismatch {
        /// The digest the record names.
        expected: Digest,
        /// The size the record names.
        expected_bytes: u64,
        /// The digest of the bytes given.
        found: Digest,
        /// Their length.
        length: usize,
    },
    /// Above `BLOB_BYTES_MAX`.
    #[error("the blob is {length} bytes, above BLOB_BYTES_MAX ({BLOB_BYTES_MAX})")]
    TooLarge {
        /// Its length.
        length: u64,
    },
}

/// Where records' sealed blobs and wrapped keys live on a node.
pub trait BlobStore: Send + Sync {
    /// Stores `blob` for record `record` after checking it against the
    /// digest and size its anchoring names, with its first wrapped keys.
    /// Idempotent: storing the same blob again replaces it with itself.
    fn put(
        &self,
        record: &Digest,
        blob: &[u8],
        expected_digest: &Digest,
        expected_bytes: u64,
        keys: &WrappedKeys,
    ) -> Result<(), BlobError>;

    /// The blob of `record`, checked against `expected_digest`; `None` if
    /// this node does not hold it.
    fn blob(&self, record: &Digest, expected_digest: &Digest)
    -> Result<Option<Vec<u8>>, BlobError>;

    /// The wrapped keys of `record`; `None` if this node holds none.
    fn keys(&self, record: &Digest) -> Result<Option<WrappedKeys>, BlobError>;

    /// Merges `added` into the keys of `record`, a reader's newer key
    /// replacing its older one.
    fn add_keys(&self, record: &Digest, added: &WrappedKeys) -> Result<WrappedKeys, BlobError>;

    /// Destroys the blob and the keys of `record`. Idempotent.
    fn erase(&self, record: &Digest) -> Result<(), BlobError>;

    /// Whether anything of `record` is still held.
    fn holds(&self, record: &Digest) -> Result<bool, BlobError>;

    /// Whether the blob of `record` is held (its keys may not be).
    fn holds_blob(&self, record: &Digest) -> Result<bool, BlobError>;

    /// The records this node holds files of, in id order (at most
    /// `limit`), for the start-up sweep of erased records.
    fn records(&self, limit: usize) -> Result<Vec<Digest>, BlobError>;
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn check_blob(blob: &[u8], expected: &Digest, expected_bytes: u64) -> Result<(), BlobError> {
    if blob.len() as u64 > BLOB_BYTES_MAX {
        return Err(BlobError::TooLarge {
            length: blob.len() as u64,
        });
    }
    let found = Digest::of(blob);
    if found != *expected || blob.len() as u64 != expected_bytes {
        return Err(BlobError::Mismatch {
            expected: *expected,
            expected_bytes,
            found,
            length: blob.len(),
        });
    }
    Ok(())
}

/// Keys file: CRC-32 (4 bytes, big-endian) of the borsh keys that follow.
fn encode_keys(keys: &WrappedKeys) -> Vec<u8> {
    let body = encoding::encode(keys);
    let mut bytes = crc32fast::hash(&body).to_be_bytes().to_vec();
    bytes.extend_from_slice(&body);
    bytes
}

fn decode_keys(record: &Digest, bytes: &[u8]) -> Result<WrappedKeys, BlobError> {
    let corrupt = || BlobError::Corrupt {
        record: *record,
        what: "keys",
    };
    let (crc, body) = bytes.split_first_chunk::<4>().ok_or_else(corrupt)?;
    if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
        return Err(corrupt());
    }
    // A keys file holds at most WRAPPED_KEYS_PER_RECORD_MAX keys of a few
    // hundred bytes each.
    encoding::decode_exact(body, "wrapped keys", 1024 * 1024).map_err(|_| corrupt())
}

/// Blobs as files in one directory.
pub struct DirBlobStore {
    dir: PathBuf,
    // Serialises read-modify-write of keys files; blob writes are
    // idempotent and need no lock.
    keys_lock: Mutex<()>,
}

impl DirBlobStore {
    /// Opens (creating) the directory `dir`, removing temporary files a
    /// crash left behind.
    pub fn open(dir: &Path) -> Result<DirBlobStore, BlobError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        for entry in fs::read_dir(dir).map_err(io_error(dir))? {
            let path = entry.map_err(io_error(dir))?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        Ok(DirBlobStore {
            dir: dir.to_path_buf(),
            keys_lock: Mutex::new(()),
        })
    }

    fn path(&self, record: &Digest, extension: &str) -> PathBuf {
        self.dir.join(format!("{}.{extension}", record.to_hex()))
    }

    fn sync_dir(&self) -> Result<(), BlobError> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(&self.dir))
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsynced,
    /// renamed, then the directory fsynced.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
        let temporary = path.with_extension("tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(io_error(&temporary))?;
        file.write_all(bytes).map_err(io_error(&temporary))?;
        file.sync_all().map_err(io_error(&temporary))?;
        drop(file);
        fs::rename(&temporary, path).map_err(io_error(path))?;
        self.sync_dir()
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, BlobError> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(path)(error)),
        };
        let mut bytes = Vec::new();
        // A file larger than any blob is corrupt; read one byte past the
        // limit to know, never the whole of it.
        Read::by_ref(&mut file)
            .take(BLOB_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error(path))?;
        Ok(Some(bytes))
    }

    fn remove(&self, path: &Path) -> Result<(), BlobError> {
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error(path)(error)),
        }
    }
}

impl BlobStore for DirBlobStore {
    fn put(
        &self,
        record: &Digest,
        blob: &[u8],
        expected_digest: &Digest,
        expected_bytes: u64,
        keys: &WrappedKeys,
    ) -> Result<(), BlobError> {
        check_blob(blob, expected_digest, expected_bytes)?;
        self.write_atomically(&self.path(record, "blob"), blob)?;
        let _guard = self.keys_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.write_atomically(&self.path(record, "keys"), &encode_keys(keys))
    }

    fn blob(
        &self,
        record: &Digest,
        expected_digest: &Digest,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let Some(bytes) = self.read(&self.path(record, "blob"))? else {
            return Ok(None);
        };
        if Digest::of(&bytes) != *expected_digest {
            return Err(BlobError::Corrupt {
                record: *record,
                what: "blob",
            });
        }
        Ok(Some(bytes))
    }

    fn keys(&self, record: &Digest) -> Result<Option<WrappedKeys>, BlobError> {
        self.read(&self.path(record, "keys"))?
            .map(|bytes| decode_keys(record, &bytes))
            .transpose()
    }

    fn add_keys(&self, record: &Digest, added: &WrappedKeys) -> Result<WrappedKeys, BlobError> {
        let _guard = self.keys_lock.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.keys(record)?.unwrap_or_default();
        let merged = current.merged(added).map_err(|_| BlobError::TooLarge {
            length: (current.keys().len() + added.keys().len()) as u64,
        })?;
        self.write_atomically(&self.path(record, "keys"), &encode_keys(&merged))?;
        Ok(merged)
    }

    fn erase(&self, record: &Digest) -> Result<(), BlobError> {
        let _guard = self.keys_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.remove(&self.path(record, "keys"))?;
        self.remove(&self.path(record, "blob"))?;
        self.sync_dir()
    }

    fn holds(&self, record: &Digest) -> Result<bool, BlobError> {
        Ok(self.path(record, "blob").exists() || self.path(record, "keys").exists())
    }

    fn holds_blob(&self, record: &Digest) -> Result<bool, BlobError> {
        Ok(self.path(record, "blob").exists())
    }

    fn records(&self, limit: usize) -> Result<Vec<Digest>, BlobError> {
        let mut ids = std::collections::BTreeSet::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let name = entry.map_err(io_error(&self.dir))?.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.split('.').next()) else {
                continue;
            };
            if let Ok(id) = Digest::from_hex(stem) {
                ids.insert(id);
            }
        }
        Ok(ids.into_iter().take(limit).collect())
    }
}

/// What memory holds of one record: its blob and its wrapped keys.
type MemoryEntries = BTreeMap<Digest, (Option<Vec<u8>>, Option<WrappedKeys>)>;

/// Blobs in memory, for simulations and tests.
#[derive(Default)]
pub struct MemoryBlobStore {
    entries: Mutex<MemoryEntries>,
}

impl MemoryBlobStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryEntries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl BlobStore for MemoryBlobStore {
    fn put(
        &self,
        record: &Digest,
        blob: &[u8],
        expected_digest: &Digest,
        expected_bytes: u64,
        keys: &WrappedKeys,
    ) -> Result<(), BlobError> {
        check_blob(blob, expected_digest, expected_bytes)?;
        self.lock()
            .insert(*record, (Some(blob.to_vec()), Some(keys.clone())));
        Ok(())
    }

    fn blob(
        &self,
        record: &Digest,
        expected_digest: &Digest,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let blob = self.lock().get(record).and_then(|(blob, _)| blob.clone());
        match blob {
            Some(bytes) if Digest::of(&bytes) != *expected_digest => Err(BlobError::Corrupt {
                record: *record,
                what: "blob",
            }),
            other => Ok(other),
        }
    }

    fn keys(&self, record: &Digest) -> Result<Option<WrappedKeys>, BlobError> {
        Ok(self.lock().get(record).and_then(|(_, keys)| keys.clone()))
    }

    fn add_keys(&self, record: &Digest, added: &WrappedKeys) -> Result<WrappedKeys, BlobError> {
        let mut entries = self.lock();
        let entry = entries.entry(*record).or_default();
        let current = entry.1.clone().unwrap_or_default();
        let merged = current.merged(added).map_err(|_| BlobError::TooLarge {
            length: (current.keys().len() + added.keys().len()) as u64,
        })?;
        entry.1 = Some(merged.clone());
        Ok(merged)
    }

    fn erase(&self, record: &Digest) -> Result<(), BlobError> {
        self.lock().remove(record);
        Ok(())
    }

    fn holds(&self, record: &Digest) -> Result<bool, BlobError> {
        Ok(self.lock().contains_key(record))
    }

    fn holds_blob(&self, record: &Digest) -> Result<bool, BlobError> {
        Ok(self
            .lock()
            .get(record)
            .is_some_and(|(blob, _)| blob.is_some()))
    }

    fn records(&self, limit: usize) -> Result<Vec<Digest>, BlobError> {
        Ok(self.lock().keys().take(limit).copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::SecretKey;
    use cityledger_types::sealed::{WrappedKeys, seal, wrap_key};

    fn keys_for(seed: u8, blob_digest: &Digest) -> WrappedKeys {
        let reader = SecretKey::from_seed([seed; 32]).public_key();
        let wrapped = wrap_key(&[1; 32], &reader, blob_digest, &[seed; 32], &[seed; 24]).unwrap();
        WrappedKeys::new(vec![wrapped]).unwrap()
    }

    fn stores(dir: &Path) -> Vec<Box<dyn BlobStore>> {
        vec![
            Box::new(DirBlobStore::open(dir).unwrap()),
            Box::new(MemoryBlobStore::default()),
        ]
    }

    #[test]
    fn a_blob_is_stored_checked_and_erased_with_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = seal(b"lab result", &[1; 32], &[2; 24], &[3; 32]);
        let record = Digest([9; 32]);
        let size = sealed.blob.len() as u64;
        for store in stores(dir.path()) {
            let keys = keys_for(4, &sealed.blob_digest);
            // A blob that is not the one the record names is refused.
            assert!(matches!(
                store.put(&record, b"other", &sealed.blob_digest, size, &keys),
                Err(BlobError::Mismatch { .. })
            ));
            assert!(matches!(
                store.put(&record, &sealed.blob, &sealed.blob_digest, size + 1, &keys),
                Err(BlobError::Mismatch { .. })
            ));
            store
                .put(&record, &sealed.blob, &sealed.blob_digest, size, &keys)
                .unwrap();
            assert_eq!(
                store.blob(&record, &sealed.blob_digest).unwrap(),
                Some(sealed.blob.clone())
            );
            let merged = store
                .add_keys(&record, &keys_for(5, &sealed.blob_digest))
                .unwrap();
            assert_eq!(merged.keys().len(), 2);
            assert_eq!(store.keys(&record).unwrap(), Some(merged));
            assert_eq!(store.records(10).unwrap(), vec![record]);
            store.erase(&record).unwrap();
            assert!(!store.holds(&record).unwrap());
            assert_eq!(store.blob(&record, &sealed.blob_digest).unwrap(), None);
            assert_eq!(store.keys(&record).unwrap(), None);
            store.erase(&record).unwrap();
        }
        // Nothing of the record is left on disk.
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_changed_byte_on_disk_is_reported_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirBlobStore::open(dir.path()).unwrap();
        let sealed = seal(b"mri series", &[1; 32], &[2; 24], &[3; 32]);
        let record = Digest([8; 32]);
        let keys = keys_for(4, &sealed.blob_digest);
        store
            .put(
                &record,
                &sealed.blob,
                &sealed.blob_digest,
                sealed.blob.len() as u64,
                &keys,
            )
            .unwrap();
        for extension in ["blob", "keys"] {
            let path = dir.path().join(format!("{}.{extension}", record.to_hex()));
            let mut bytes = fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            fs::write(&path, &bytes).unwrap();
        }
        assert!(matches!(
            store.blob(&record, &sealed.blob_digest),
            Err(BlobError::Corrupt { what: "blob", .. })
        ));
        assert!(matches!(
            store.keys(&record),
            Err(BlobError::Corrupt { what: "keys", .. })
        ));
        // A crash's temporary file is swept when the store opens again.
        fs::write(dir.path().join("leftover.tmp"), b"x").unwrap();
        DirBlobStore::open(dir.path()).unwrap();
        assert!(!dir.path().join("leftover.tmp").exists());
    }
}
