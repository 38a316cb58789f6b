//! The mempool: admitted transactions waiting for a block.
//!
//! Admission checks size, chain id, expiry, duplicates and the signature
//! before a transaction gets in; signatures are checked in batches by
//! [`crate::admission`]. Transactions leave in arrival order, so transfers on
//! one account are ordered by arrival and never rejected for contention.
//! Every structure is bounded by a named limit.

use crate::limits::{DROPPED_REMEMBERED_MAX, MEMPOOL_BYTES_MAX, MEMPOOL_TX_MAX};
use cityledger_types::limits::CHARGES_PER_BLOCK_MAX;
use cityledger_types::{ClientTxId, Digest, PublicKey, SignedTx};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// No room; retry later.
    #[error("the mempool is full ({count} transactions, {bytes} bytes)")]
    Full {
        /// Transactions held.
        count: usize,
        /// Bytes held.
        bytes: usize,
    },
    /// The signer's id is already waiting, in this or another transaction.
    #[error("id already pending in transaction {hash}")]
    DuplicateId {
        /// The waiting transaction.
        hash: Digest,
    },
}

struct Entry {
    tx: Arc<SignedTx>,
    bytes: usize,
    sequence: u64,
    /// Obligations the transaction creates (`Action::charge_count`).
    charges: usize,
}

/// How much the pool holds before it refuses submissions with 503 and
/// Retry-After: the `[mempool]` section of the node's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolLimits {
    /// Most transactions waiting.
    pub tx_max: usize,
    /// Most bytes of transactions waiting.
    pub bytes_max: usize,
}

impl Default for MempoolLimits {
    fn default() -> MempoolLimits {
        MempoolLimits {
            tx_max: MEMPOOL_TX_MAX,
            bytes_max: MEMPOOL_BYTES_MAX,
        }
    }
}

/// The pool.
#[derive(Default)]
pub struct Mempool {
    limits: MempoolLimits,
    entries: HashMap<Digest, Entry>,
    order: BTreeMap<u64, Digest>,
    ids: HashMap<(PublicKey, ClientTxId), Digest>,
    next_sequence: u64,
    bytes: usize,
    dropped: HashMap<Digest, String>,
    dropped_order: VecDeque<Digest>,
}

impl Mempool {
    /// An empty pool bounded by `limits`.
    pub fn new(limits: MempoolLimits) -> Mempool {
        Mempool {
            limits,
            ..Mempool::default()
        }
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `hash` is waiting.
    pub fn contains(&self, hash: &Digest) -> bool {
        self.entries.contains_key(hash)
    }

    /// The waiting transaction that uses `(signer, id)`.
    pub fn pending_id(&self, signer: &PublicKey, id: &ClientTxId) -> Option<Digest> {
        self.ids.get(&(*signer, id.clone())).copied()
    }

    /// Why `hash` was dropped, if it was.
    pub fn dropped_reason(&self, hash: &Digest) -> Option<&str> {
        self.dropped.get(hash).map(String::as_str)
    }

    /// Adds a checked transaction.
    pub fn insert(
        &mut self,
        tx: Arc<SignedTx>,
        hash: Digest,
        bytes: usize,
    ) -> Result<(), MempoolError> {
        let id_key = (tx.body.signer, tx.body.id.clone());
        if let Some(existing) = self.ids.get(&id_key) {
            return Err(MempoolError::DuplicateId { hash: *existing });
        }
        if self.entries.len() >= self.limits.tx_max || self.bytes + bytes > self.limits.bytes_max {
            return Err(MempoolError::Full {
                count: self.entries.len(),
                bytes: self.bytes,
            });
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.ids.insert(id_key, hash);
        self.order.insert(sequence, hash);
        self.bytes += bytes;
        self.entries.insert(
            hash,
            Entry {
                charges: tx.body.action.charge_count(),
                tx,
                bytes,
                sequence,
            },
        );
        Ok(())
    }

    /// Up to `count_max` transactions and `bytes_max` bytes, oldest first,
    /// skipping `exclude` (already in blocks on the way to finalization),
    /// and never more obligations than a block may create
    /// (`CHARGES_PER_BLOCK_MAX`): a batch that does not fit waits for the
    /// next block, and so does everything behind it, to keep arrival order.
    pub fn take(
        &self,
        count_max: usize,
        bytes_max: usize,
        exclude: &HashSet<Digest>,
    ) -> Vec<Arc<SignedTx>> {
        let mut taken = Vec::new();
        let mut bytes = 0;
        let mut charges = 0;
        for hash in self.order.values() {
            if taken.len() >= count_max {
                break;
            }
            if exclude.contains(hash) {
                continue;
            }
            let entry = &self.entries[hash];
            if bytes + entry.bytes > bytes_max || charges + entry.charges > CHARGES_PER_BLOCK_MAX {
                break;
            }
            bytes += entry.bytes;
            charges += entry.charges;
            taken.push(entry.tx.clone());
        }
        taken
    }

    /// Removes transactions that made it into a finalized block.
    pub fn remove_included<'a>(&mut self, hashes: impl IntoIterator<Item = &'a Digest>) {
        for hash in hashes {
            self.remove(hash);
        }
    }

    /// Removes a transaction that can never be included, remembering why.
    pub fn drop_tx(&mut self, hash: &Digest, reason: String) {
        if self.remove(hash).is_none() {
            return;
        }
        if self.dropped_order.len() >= DROPPED_REMEMBERED_MAX
            && let Some(oldest) = self.dropped_order.pop_front()
        {
            self.dropped.remove(&oldest);
        }
        self.dropped_order.push_back(*hash);
        self.dropped.insert(*hash, reason);
    }

    /// Removes transactions whose expiry is before `now_ms`.
    pub fn drop_expired(&mut self, now_ms: u64) -> usize {
        let expired: Vec<Digest> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.tx.body.expires_at_ms < now_ms)
            .map(|(hash, _)| *hash)
            .collect();
        for hash in &expired {
            self.drop_tx(hash, "expired before it was included".into());
        }
        expired.len()
    }

    fn remove(&mut self, hash: &Digest) -> Option<Arc<SignedTx>> {
        let entry = self.entries.remove(hash)?;
        self.order.remove(&entry.sequence);
        self.ids
            .remove(&(entry.tx.body.signer, entry.tx.body.id.clone()));
        self.bytes -= entry.bytes;
        Some(entry.tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::tx::{Action, LedgerOp, Memo, TransferOrder, TxBody};
    use cityledger_types::{Address, Amount, ChainId, CurrencyCode, SecretKey};

    fn tx(seed: u8, id: &str) -> Arc<SignedTx> {
        let key = SecretKey::from_seed([seed; 32]);
        Arc::new(
            TxBody {
                chain_id: ChainId::new("c").unwrap(),
                signer: key.public_key(),
                id: ClientTxId::new(id).unwrap(),
                expires_at_ms: 1_000,
                action: Action::Ledger(LedgerOp::Transfer(TransferOrder {
                    from: Address::of_key(&key.public_key()),
                    to: Address::of_key(&SecretKey::from_seed([0; 32]).public_key()),
                    currency: CurrencyCode::new("CITY").unwrap(),
                    amount: Amount(1),
                    memo: Memo::new("").unwrap(),
                })),
            }
            .sign(&key),
        )
    }

    #[test]
    fn a_full_pool_refuses_by_count_and_by_bytes() {
        let mut pool = Mempool::new(MempoolLimits {
            tx_max: 2,
            bytes_max: 250,
        });
        let (a, b, c) = (tx(1, "a"), tx(1, "b"), tx(2, "a"));
        pool.insert(a.clone(), a.hash(), 100).unwrap();
        assert_eq!(
            pool.insert(b.clone(), b.hash(), 200),
            Err(MempoolError::Full {
                count: 1,
                bytes: 100
            }),
            "the bytes would pass bytes_max"
        );
        pool.insert(b.clone(), b.hash(), 100).unwrap();
        assert_eq!(
            pool.insert(c.clone(), c.hash(), 10),
            Err(MempoolError::Full {
                count: 2,
                bytes: 200
            }),
            "tx_max is reached"
        );
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn fifo_dedup_and_exclusion() {
        let mut pool = Mempool::default();
        let (a, b, c) = (tx(1, "a"), tx(1, "b"), tx(2, "a"));
        for t in [&a, &b, &c] {
            pool.insert(t.clone(), t.hash(), 100).unwrap();
        }
        assert_eq!(
            pool.insert(tx(1, "a"), Digest::ZERO, 100),
            Err(MempoolError::DuplicateId { hash: a.hash() })
        );
        let exclude: HashSet<Digest> = [b.hash()].into();
        let taken: Vec<Digest> = pool
            .take(10, 1_000, &exclude)
            .iter()
            .map(|t| t.hash())
            .collect();
        assert_eq!(taken, vec![a.hash(), c.hash()]);
        assert_eq!(pool.take(10, 250, &HashSet::new()).len(), 2, "byte bound");
        pool.remove_included([&a.hash()]);
        pool.drop_tx(&b.hash(), "bad".into());
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.dropped_reason(&b.hash()), Some("bad"));
        assert_eq!(pool.drop_expired(2_000), 1);
        assert!(pool.is_empty());
    }

    #[test]
    fn a_proposal_never_takes_more_charges_than_a_block_may_create() {
        use cityledger_types::limits::CHARGES_PER_ISSUE_MAX;
        let mut pool = Mempool::default();
        let full = CHARGES_PER_BLOCK_MAX / CHARGES_PER_ISSUE_MAX;
        let issuances: Vec<_> = (0..=full)
            .map(|i| crate::test_support::bulk_issuance(i, CHARGES_PER_ISSUE_MAX))
            .collect();
        for tx in &issuances {
            pool.insert(tx.clone(), tx.hash(), 1_000).unwrap();
        }
        let small = tx(9, "after");
        pool.insert(small.clone(), small.hash(), 100).unwrap();
        let taken = pool.take(100, usize::MAX, &HashSet::new());
        assert_eq!(taken.len(), full, "the batch that does not fit waits");
        assert!(
            !taken.iter().any(|t| t.hash() == small.hash()),
            "nothing overtakes the waiting batch"
        );
    }
}
