//! The storage interface the node uses, and the values that cross it.
//!
//! This module owns the contract (what a commit means, what each read
//! returns); it never touches a disk. Every implementation must pass the
//! same conformance tests.

use crate::error::StoreError;
use cityledger_state::WriteSet;
use cityledger_types::{Address, Digest, Height};

/// Everything the node persists for one finalized block, borrowed from the
/// node for the duration of the commit.
#[derive(Clone, Copy, Debug)]
pub struct BlockCommit<'a> {
    /// Height of the block.
    pub height: Height,
    /// Id of the block (the hash of its header).
    pub block_id: Digest,
    /// The canonical encoded `Block`.
    pub block_bytes: &'a [u8],
    /// The finality certificate, opaque to storage.
    pub certificate: &'a [u8],
    /// The outcomes (borsh `Vec<TxOutcome>`), opaque to storage.
    pub outcomes_bytes: &'a [u8],
    /// The events, opaque to storage.
    pub events_bytes: &'a [u8],
    /// Transaction hashes in block order; the index is the position.
    pub tx_hashes: &'a [Digest],
    /// `(account touched, position of the transaction)` pairs for the
    /// per-account index. An account may repeat for different positions.
    pub account_entries: &'a [(Address, u32)],
    /// State writes of the block; `None` deletes.
    pub state_writes: &'a WriteSet,
    /// Root of the authenticated state after this block.
    pub state_root: Digest,
    /// Changes to the derived indexes (obligations by payer, history, …),
    /// applied in order in the same atomic batch. Opaque to storage.
    pub index_changes: &'a [IndexChange],
}

/// One change of the derived index: `value: None` deletes `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexChange {
    /// The index key; its layout belongs to the node.
    pub key: Vec<u8>,
    /// The value to store, or `None` to delete.
    pub value: Option<Vec<u8>>,
}

/// An index entry as read back: key and value.
pub type IndexEntry = (Vec<u8>, Vec<u8>);

/// Which way an index scan walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOrder {
    /// Smallest key first.
    Ascending,
    /// Largest key first.
    Descending,
}

/// A finalized block as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// Its height.
    pub height: Height,
    /// Its id.
    pub block_id: Digest,
    /// The canonical encoded `Block`.
    pub block_bytes: Vec<u8>,
    /// Its finality certificate.
    pub certificate: Vec<u8>,
    /// Its outcomes, as committed.
    pub outcomes_bytes: Vec<u8>,
    /// Its events, as committed.
    pub events_bytes: Vec<u8>,
}

/// The newest finalized block in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its height.
    pub height: Height,
    /// Its id.
    pub block_id: Digest,
    /// The state root after it.
    pub state_root: Digest,
}

/// Where a transaction sits in the chain. Orders by height, then position,
/// which is chain order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxLocation {
    /// Height of the block that includes it.
    pub height: Height,
    /// Its position in that block.
    pub position: u32,
}

/// What a successful commit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Committed {
    /// The block was written and is now the tip.
    Written,
    /// The same block was already stored at that height; nothing changed.
    AlreadyPresent,
}

/// Durable storage of the finalized chain.
pub trait Store: Send + Sync + 'static {
    /// Atomically and durably (fsync before returning) commits one finalized
    /// block: block, certificate, outcomes, events, tx index, account index,
    /// state writes and the new tip.
    ///
    /// Idempotent by height: committing a height at or below the tip with
    /// the same block id is a no-op returning [`Committed::AlreadyPresent`];
    /// with a different block id it is [`StoreError::Divergence`]. A height
    /// that is not tip + 1 (or 0 on an empty store) is
    /// [`StoreError::HeightGap`]. A block whose header contradicts the
    /// commit is [`StoreError::InvalidCommit`] or
    /// [`StoreError::ParentMismatch`]. On any error the store is unchanged.
    fn commit(&self, commit: &BlockCommit<'_>) -> Result<Committed, StoreError>;

    /// The newest block, or `None` for an empty store.
    fn tip(&self) -> Result<Option<Tip>, StoreError>;

    /// The block at `height`, if stored.
    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError>;

    /// The height of the block with id `block_id`, if stored.
    fn height_of(&self, block_id: &Digest) -> Result<Option<Height>, StoreError>;

    /// Where the transaction with hash `tx_hash` was included, if it was.
    fn tx_location(&self, tx_hash: &Digest) -> Result<Option<TxLocation>, StoreError>;

    /// Transactions that touched `account`, newest first, strictly before
    /// `before` if given; at most `limit`, itself capped at
    /// [`ACCOUNT_PAGE_MAX`](crate::ACCOUNT_PAGE_MAX). To page, pass the last
    /// location of one page as `before` of the next.
    fn account_txs(
        &self,
        account: &Address,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StoreError>;

    /// Calls `visit` with every state entry, in unspecified order, and
    /// returns how many there were. Used to rebuild the in-memory
    /// authenticated tree at start-up.
    fn for_each_state_entry(&self, visit: &mut dyn FnMut(&[u8], &[u8])) -> Result<u64, StoreError>;

    /// The state value under `key`, if any.
    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Index entries whose key starts with `prefix`, in `order`, strictly
    /// after `after` in that order if given; at most `limit`, itself capped
    /// at [`INDEX_PAGE_MAX`](crate::INDEX_PAGE_MAX). To page, pass the last
    /// key of one page as `after` of the next.
    fn index_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        order: ScanOrder,
    ) -> Result<Vec<IndexEntry>, StoreError>;

    /// A read-only view of the store as it is now, which later commits do
    /// not change: a backup reads one tip and the blocks below it while the
    /// node goes on committing.
    fn snapshot(&self) -> Result<Box<dyn StoreSnapshot>, StoreError>;
}

/// A consistent, read-only view of the finalized chain at one tip.
///
/// Its tip, blocks and state entries are those of one moment: a block
/// committed after the snapshot was taken is not in it, and its tip never
/// names a block it does not hold. It should live no longer than one
/// backup: the engine keeps old versions of values while it exists.
pub trait StoreSnapshot: Send {
    /// The newest block in the view, or `None` for an empty store.
    fn tip(&self) -> Result<Option<Tip>, StoreError>;

    /// The block at `height`, if the view holds it.
    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError>;

    /// The state value under `key` in the view, if any.
    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
}
