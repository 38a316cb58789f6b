//! [`FaultyStore`]: a wrapper that fails commits on request, for tests.
//!
//! It owns fault injection only; every answer it does not fail comes from
//! the wrapped store unchanged. It never corrupts data: damage on disk is
//! tested against [`FjallStore`](crate::FjallStore) directly.

use crate::error::StoreError;
use crate::store::{
    BlockCommit, Committed, IndexEntry, ScanOrder, Store, StoreSnapshot, StoredBlock, Tip,
    TxLocation,
};
use cityledger_types::{Address, Digest, Height};
use std::sync::atomic::{AtomicU8, Ordering};

const NO_FAULT: u8 = 0;
const FAIL_BEFORE_WRITE: u8 = 1;
const FAIL_AFTER_WRITE: u8 = 2;

/// A store that fails its next commit when told to.
pub struct FaultyStore<S> {
    inner: S,
    next_commit_fault: AtomicU8,
}

impl<S: Store> FaultyStore<S> {
    /// Wraps `inner`, with no fault armed.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            next_commit_fault: AtomicU8::new(NO_FAULT),
        }
    }

    /// Makes the next commit fail with an I/O error before anything is
    /// written: the disk refused the write.
    pub fn fail_next_commit(&self) {
        self.next_commit_fault
            .store(FAIL_BEFORE_WRITE, Ordering::SeqCst);
    }

    /// Makes the next commit write the block and then fail with an I/O
    /// error: the outcome a caller sees when `fsync` reports an error after
    /// the data reached the disk. A retry must then find the block present.
    pub fn fail_next_commit_after_write(&self) {
        self.next_commit_fault
            .store(FAIL_AFTER_WRITE, Ordering::SeqCst);
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

fn injected_fault() -> StoreError {
    StoreError::Io {
        operation: "commit (injected fault)",
        source: std::io::Error::other("injected by FaultyStore"),
    }
}

impl<S: Store> Store for FaultyStore<S> {
    fn commit(&self, commit: &BlockCommit<'_>) -> Result<Committed, StoreError> {
        match self.next_commit_fault.swap(NO_FAULT, Ordering::SeqCst) {
            FAIL_BEFORE_WRITE => Err(injected_fault()),
            FAIL_AFTER_WRITE => {
                self.inner.commit(commit)?;
                Err(injected_fault())
            }
            _ => self.inner.commit(commit),
        }
    }

    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        self.inner.tip()
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        self.inner.block(height)
    }

    fn height_of(&self, block_id: &Digest) -> Result<Option<Height>, StoreError> {
        self.inner.height_of(block_id)
    }

    fn tx_location(&self, tx_hash: &Digest) -> Result<Option<TxLocation>, StoreError> {
        self.inner.tx_location(tx_hash)
    }

    fn account_txs(
        &self,
        account: &Address,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StoreError> {
        self.inner.account_txs(account, before, limit)
    }

    fn for_each_state_entry(&self, visit: &mut dyn FnMut(&[u8], &[u8])) -> Result<u64, StoreError> {
        self.inner.for_each_state_entry(visit)
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.state_get(key)
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        order: ScanOrder,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        self.inner.index_scan(prefix, after, limit, order)
    }

    fn snapshot(&self) -> Result<Box<dyn StoreSnapshot>, StoreError> {
        self.inner.snapshot()
    }
}
