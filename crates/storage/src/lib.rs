//! Durable storage of finalized blocks, their certificates, the state entries and the indexes; crash-safe, checksummed, embedded.
//!
//! The finalized block log is the ground truth of a node; this crate keeps it,
//! and what is derived from it, on disk. [`Store`] is the interface the node
//! uses. It has three implementations:
//!
//! - [`FjallStore`]: the embedded one, on fjall (an LSM tree). One finalized
//!   block is one atomic, fsynced write batch across all keyspaces, the new
//!   tip included, so a crash leaves either the whole block or none of it.
//! - [`MemoryStore`]: the same semantics in memory, for simulation tests.
//! - [`FaultyStore`]: a wrapper that fails commits on request, for tests of
//!   the node's recovery paths.
//!
//! Beside it, [`BlobStore`] keeps records' sealed content and wrapped keys
//! off the ledger: [`DirBlobStore`] as checksummed files written atomically,
//! [`MemoryBlobStore`] in memory (ADR 0007).
//!
//! # Integrity
//!
//! Every value [`FjallStore`] writes is sealed with a CRC-32 over its
//! keyspace, its key and its bytes, and checked on every read, so a flipped
//! bit or a value found under the wrong key is reported as
//! [`StoreError::Corrupt`] instead of being served. Opening a store checks
//! its format marker, its tip and the tip block before anything else.
//!
//! Before a block is written, its header is decoded and checked against
//! everything the commit claims (height, id, parent, state root, transaction
//! root); after a block is read back, its header is checked against its key
//! and its recorded id. These are the paired assertions of the style guide.
//!
//! # What this crate must never do
//!
//! - Interpret blocks beyond their header, outcomes or events: those are the
//!   node's and the state machine's business.
//! - Serve a value whose checksum does not match, or panic on bytes read
//!   from disk.
//! - Depend on the node, on async runtimes, or on the wall clock.

mod blobs;
mod check;
mod envelope;
mod error;
mod faulty;
mod fjall_store;
mod keys;
pub mod limits;
mod memory;
mod records;
mod store;

pub use blobs::{BlobError, BlobStore, DirBlobStore, MemoryBlobStore};
pub use error::StoreError;
pub use faulty::FaultyStore;
pub use fjall_store::FjallStore;
pub use limits::{ACCOUNT_PAGE_MAX, INDEX_PAGE_MAX};
pub use memory::MemoryStore;
pub use store::{
    BlockCommit, Committed, IndexChange, IndexEntry, ScanOrder, Store, StoreSnapshot, StoredBlock,
    Tip, TxLocation,
};

#[cfg(test)]
mod tests;
