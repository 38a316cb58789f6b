//! Verified backups of a node's data, and restoring a node from one
//! (ADR 0010).
//!
//! A backup holds the ground truth and what cannot be derived from it:
//! every finalized block with its finality certificate, and the records'
//! sealed blobs and wrapped keys this node holds. The state and the indexes
//! are not in it: [`restore`] rebuilds them by re-executing the blocks
//! through the node's own chain, which is also how every block is checked.
//!
//! - [`format`]: the framed, checksummed file format.
//! - [`write`]: a backup from a store snapshot, consistent with one tip.
//! - [`restore`]: checking a backup, and rebuilding a data directory.
//!
//! This module touches no file of its own: callers give it readers,
//! writers and the directory to fill. It never writes into a live node's
//! data directory.

pub mod format;
pub mod restore;
pub mod write;

pub use format::{BackupHeader, FormatError};
pub use restore::{Progress, RestoreError, Restored, check, restore};
pub use write::{BackupError, BackupSummary, write_backup};

#[cfg(test)]
mod tests;
