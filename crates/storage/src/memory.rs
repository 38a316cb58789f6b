//! [`MemoryStore`]: the store in memory, for simulation tests.
//!
//! Same checks and same answers as [`FjallStore`](crate::FjallStore), by
//! running the same [`crate::check`] functions; nothing survives the
//! process. It owns ordered maps behind one mutex and never touches a disk.

use crate::check::{self, Decision};
use crate::error::StoreError;
use crate::limits::{ACCOUNT_PAGE_MAX, INDEX_PAGE_MAX};
use crate::store::{
    BlockCommit, Committed, IndexEntry, ScanOrder, Store, StoreSnapshot, StoredBlock, Tip,
    TxLocation,
};
use cityledger_types::{Address, Digest, Height};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

/// The store in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Chain>,
}

/// Everything stored, in ordered maps so that scans are deterministic.
#[derive(Default)]
struct Chain {
    tip: Option<Tip>,
    blocks: BTreeMap<Height, StoredBlock>,
    heights: BTreeMap<Digest, Height>,
    txs: BTreeMap<Digest, TxLocation>,
    accounts: BTreeSet<(Address, TxLocation)>,
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    index: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Chain> {
        // Poisoned only if a commit panicked halfway through applying; the
        // maps may then disagree with each other, so nothing may read them.
        self.inner
            .lock()
            .expect("memory store lock poisoned by an earlier panic")
    }
}

impl Chain {
    fn append(&mut self, commit: &BlockCommit<'_>) {
        self.blocks.insert(commit.height, stored_block(commit));
        self.heights.insert(commit.block_id, commit.height);
        for (position, tx_hash) in (0u32..).zip(commit.tx_hashes) {
            let location = TxLocation {
                height: commit.height,
                position,
            };
            self.txs.insert(*tx_hash, location);
        }
        for (account, position) in commit.account_entries {
            let location = TxLocation {
                height: commit.height,
                position: *position,
            };
            self.accounts.insert((*account, location));
        }
        for (key, value) in commit.state_writes {
            match value {
                Some(value) => self.state.insert(key.clone(), value.clone()),
                None => self.state.remove(key),
            };
        }
        for change in commit.index_changes {
            match &change.value {
                Some(value) => self.index.insert(change.key.clone(), value.clone()),
                None => self.index.remove(&change.key),
            };
        }
        self.tip = Some(Tip {
            height: commit.height,
            block_id: commit.block_id,
            state_root: commit.state_root,
        });
    }
}

fn stored_block(commit: &BlockCommit<'_>) -> StoredBlock {
    StoredBlock {
        height: commit.height,
        block_id: commit.block_id,
        block_bytes: commit.block_bytes.to_vec(),
        certificate: commit.certificate.to_vec(),
        outcomes_bytes: commit.outcomes_bytes.to_vec(),
        events_bytes: commit.events_bytes.to_vec(),
    }
}

impl Store for MemoryStore {
    fn commit(&self, commit: &BlockCommit<'_>) -> Result<Committed, StoreError> {
        let header = check::validate(commit)?;
        let mut chain = self.lock();
        let decision = check::decide(commit, &header, chain.tip.as_ref(), |height| {
            Ok(chain.blocks.get(&height).map(|block| block.block_id))
        })?;
        if decision == Decision::AlreadyPresent {
            return Ok(Committed::AlreadyPresent);
        }
        chain.append(commit);
        Ok(Committed::Written)
    }

    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        Ok(self.lock().tip)
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        Ok(self.lock().blocks.get(&height).cloned())
    }

    fn height_of(&self, block_id: &Digest) -> Result<Option<Height>, StoreError> {
        Ok(self.lock().heights.get(block_id).copied())
    }

    fn tx_location(&self, tx_hash: &Digest) -> Result<Option<TxLocation>, StoreError> {
        Ok(self.lock().txs.get(tx_hash).copied())
    }

    fn account_txs(
        &self,
        account: &Address,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StoreError> {
        let first = TxLocation {
            height: Height(0),
            position: 0,
        };
        let last = TxLocation {
            height: Height(u64::MAX),
            position: u32::MAX,
        };
        let chain = self.lock();
        let range = match before {
            Some(before) => chain.accounts.range((*account, first)..(*account, before)),
            None => chain.accounts.range((*account, first)..=(*account, last)),
        };
        Ok(range
            .rev()
            .take(limit.min(ACCOUNT_PAGE_MAX))
            .map(|(_, location)| *location)
            .collect())
    }

    fn for_each_state_entry(&self, visit: &mut dyn FnMut(&[u8], &[u8])) -> Result<u64, StoreError> {
        let chain = self.lock();
        for (key, value) in &chain.state {
            visit(key, value);
        }
        Ok(chain.state.len() as u64)
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().state.get(key).cloned())
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        order: ScanOrder,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        if after.is_some_and(|after| !after.starts_with(prefix)) {
            return Ok(Vec::new());
        }
        let chain = self.lock();
        let bounds = match (order, after) {
            (_, None) => (Included(prefix.to_vec()), Unbounded),
            (ScanOrder::Ascending, Some(after)) => (Excluded(after.to_vec()), Unbounded),
            (ScanOrder::Descending, Some(after)) => {
                (Included(prefix.to_vec()), Excluded(after.to_vec()))
            }
        };
        let range = chain.index.range::<Vec<u8>, _>(bounds);
        let entries: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = match order {
            ScanOrder::Ascending => Box::new(range),
            ScanOrder::Descending => {
                Box::new(range.rev().skip_while(|(key, _)| !key.starts_with(prefix)))
            }
        };
        Ok(entries
            .take_while(|(key, _)| key.starts_with(prefix))
            .take(limit.min(INDEX_PAGE_MAX))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn snapshot(&self) -> Result<Box<dyn StoreSnapshot>, StoreError> {
        // A copy: the memory store serves simulations and tests, whose
        // chains are small.
        let chain = self.lock();
        Ok(Box::new(MemorySnapshot {
            tip: chain.tip,
            blocks: chain.blocks.clone(),
            state: chain.state.clone(),
        }))
    }
}

/// A copy of the memory store's tip, blocks and state.
struct MemorySnapshot {
    tip: Option<Tip>,
    blocks: BTreeMap<Height, StoredBlock>,
    state: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl StoreSnapshot for MemorySnapshot {
    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        Ok(self.tip)
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        Ok(self.blocks.get(&height).cloned())
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state.get(key).cloned())
    }
}
