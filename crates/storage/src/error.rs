//! Why a storage operation failed.
//!
//! Three kinds are kept apart: the caller asked for something the chain
//! forbids (gap, divergence, invalid commit, limit), the data on disk is
//! damaged (corrupt, unsupported format, refused at open), or the engine or
//! the disk failed (engine, I/O). The store never logs; the caller logs once.

use cityledger_types::{Digest, Height};
use std::path::PathBuf;

/// A boxed error from the storage engine, so that its type does not leak
/// into this crate's interface.
pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The block is not the next one.
    #[error("expected a block at height {expected}, got height {found}")]
    HeightGap {
        /// The only height that can be committed now.
        expected: Height,
        /// The height offered.
        found: Height,
    },

    /// A different block is already finalized at this height. Finality has
    /// been violated, or the node has a bug; either way it must stop.
    #[error("divergence at height {height}: stored block {stored}, offered block {offered}")]
    Divergence {
        /// The height.
        height: Height,
        /// Id of the stored block.
        stored: Digest,
        /// Id of the offered block.
        offered: Digest,
    },

    /// The block does not extend the tip.
    #[error("block at height {height} has parent {found}, but the tip is {expected}")]
    ParentMismatch {
        /// Height of the offered block.
        height: Height,
        /// Id of the tip (zero for genesis).
        expected: Digest,
        /// The parent the block names.
        found: Digest,
    },

    /// The commit contradicts its own block header, or its indexes point
    /// outside the block.
    #[error("invalid commit at height {height}: {reason}")]
    InvalidCommit {
        /// Height of the offered block.
        height: Height,
        /// What is inconsistent.
        reason: String,
    },

    /// Part of the commit is above a limit.
    #[error("{what} is {length}, above {limit_name} ({limit})")]
    LimitExceeded {
        /// What is too large.
        what: &'static str,
        /// Its size (bytes or count).
        length: usize,
        /// Name of the limit in `cityledger_storage::limits`.
        limit_name: &'static str,
        /// The limit.
        limit: usize,
    },

    /// A stored value failed its checksum or does not decode.
    #[error("corrupt value in keyspace `{keyspace}` under key {key_hex}: {reason}")]
    Corrupt {
        /// The keyspace.
        keyspace: &'static str,
        /// The key, in hex.
        key_hex: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The store was written by a build with another storage format.
    #[error(
        "the store at {} has format version {found}, this build reads version {supported}; \
         use a build of the matching version or migrate the store",
        dir.display()
    )]
    UnsupportedFormat {
        /// The data directory.
        dir: PathBuf,
        /// The version found on disk.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// The start-up check of an existing store failed; the store was not
    /// opened, so that nothing is served or appended on top of damage.
    #[error(
        "refused to open the store at {}: {cause}; restore the directory from a backup \
         or resynchronise the node",
        dir.display()
    )]
    OpenRefused {
        /// The data directory.
        dir: PathBuf,
        /// What the check found.
        cause: Box<StoreError>,
    },

    /// Another process holds the store open: a running node. The engine
    /// admits one process per store.
    #[error("the store at {} is in use by another process (a running node?)", dir.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },

    /// The engine could not open the data directory (unreadable, not a
    /// store).
    #[error("could not open the store at {}: {source}", dir.display())]
    Open {
        /// The data directory.
        dir: PathBuf,
        /// The engine's error.
        source: EngineError,
    },

    /// The storage engine failed.
    #[error("storage engine failed to {operation}: {source}")]
    Engine {
        /// What was being done.
        operation: &'static str,
        /// The engine's error.
        source: EngineError,
    },

    /// An I/O operation failed.
    #[error("I/O failed during {operation}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

impl StoreError {
    /// A closure that wraps an engine error with what was being done.
    pub(crate) fn engine<E>(operation: &'static str) -> impl FnOnce(E) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| StoreError::Engine {
            operation,
            source: Box::new(source),
        }
    }

    /// Whether this error reports damaged data, directly or as the reason
    /// a store was refused at open.
    pub fn is_corrupt(&self) -> bool {
        match self {
            StoreError::Corrupt { .. } => true,
            StoreError::OpenRefused { cause, .. } => cause.is_corrupt(),
            _ => false,
        }
    }
}
