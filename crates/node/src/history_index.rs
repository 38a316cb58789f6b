//! The history accumulator's nodes in the derived index, and consistency
//! proofs built from them.
//!
//! Each block's state holds only the peaks of the tree over the ids of the
//! blocks before it (`StateKey::History`, ADR 0004). To prove that block
//! `a` is an ancestor of block `b`, a node needs the roots of perfect
//! subtrees inside the tree of `b` leaves; those never change once
//! complete, so each block's commit writes the ones its append completes
//! (two per block on average, 32 bytes each) in the same atomic batch as
//! the block, and a proof reads O(log² b) of them, whatever the heights.
//!
//! | prefix | key after the prefix                  | value          |
//! |--------|---------------------------------------|----------------|
//! | `h.n`  | level (1) ‖ index at that level (8)   | node hash (32) |
//!
//! Like every index, this is derived from the block log and in no state
//! root: a node that serves a wrong node gets its proof refused by the
//! verifier, against the root the validators certified.

use cityledger_state::{StateRead, WriteSet};
use cityledger_storage::{IndexChange, ScanOrder, Store, StoreError};
use cityledger_types::digest::DIGEST_LEN;
use cityledger_types::history::{self, HistoryProof, HistoryRecord, NodePosition};
use cityledger_types::records::StateKey;
use cityledger_types::{Digest, Height};

const NODE: &[u8] = b"h.n";

/// Why a history proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HistoryIndexError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A node the tree must have is missing or malformed: the index is
    /// damaged.
    #[error(
        "history node at level {level}, index {index} is missing or damaged in the index; rebuild the node's indexes"
    )]
    Damaged {
        /// Its level.
        level: u8,
        /// Its index.
        index: u64,
    },
}

/// The index key of the node at `position`.
pub fn node_key(position: NodePosition) -> Vec<u8> {
    let mut key = Vec::with_capacity(NODE.len() + 1 + 8);
    key.extend_from_slice(NODE);
    key.push(position.level);
    key.extend_from_slice(&position.index.to_be_bytes());
    key
}

/// The nodes that committing a block on `parent` (whose id is `parent_id`)
/// completes. `writes` are the block's: the history it wrote must be the
/// parent's with `parent_id` appended (a paired check with execution).
pub fn block_changes(
    parent: &dyn StateRead,
    parent_id: &Digest,
    writes: &WriteSet,
) -> Vec<IndexChange> {
    let key = StateKey::History.to_bytes();
    let mut record: HistoryRecord = parent
        .get(&key)
        .map(|bytes| borsh::from_slice(&bytes).expect("the parent's history decodes"))
        .unwrap_or_default();
    let completed = record.append(history::leaf(parent_id));
    let written = writes
        .get(&key)
        .and_then(|value| value.as_deref())
        .map(|bytes| borsh::from_slice::<HistoryRecord>(bytes).expect("the history decodes"));
    assert_eq!(
        written.as_ref(),
        Some(&record),
        "the block's history is its parent's with the parent appended"
    );
    completed
        .into_iter()
        .map(|(position, hash)| IndexChange {
            key: node_key(position),
            value: Some(hash.0.to_vec()),
        })
        .collect()
}

/// The proof that the block at `old` is leaf `old` of the history of the
/// block at `new` (`old < new`, both committed here), from the stored
/// nodes.
pub fn prove(
    store: &dyn Store,
    old: Height,
    new: Height,
) -> Result<HistoryProof, HistoryIndexError> {
    assert!(old < new, "callers check the heights before proving");
    history::prove(old.0, new.0, &mut |position| node(store, position))
}

/// The stored node at `position`.
fn node(store: &dyn Store, position: NodePosition) -> Result<Digest, HistoryIndexError> {
    let key = node_key(position);
    let damaged = HistoryIndexError::Damaged {
        level: position.level,
        index: position.index,
    };
    // Keys are fixed-width, so the scan of a whole key finds that key only.
    let found = store.index_scan(&key, None, 1, ScanOrder::Ascending)?;
    let Some((found_key, value)) = found.into_iter().next() else {
        return Err(damaged);
    };
    let bytes: [u8; DIGEST_LEN] = value.as_slice().try_into().map_err(|_| damaged)?;
    if found_key != key {
        return Err(HistoryIndexError::Damaged {
            level: position.level,
            index: position.index,
        });
    }
    Ok(Digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use cityledger_state::genesis::dev_genesis;
    use cityledger_storage::MemoryStore;
    use cityledger_types::block::ConsensusRound;
    use cityledger_types::genesis::{Genesis, GenesisValidator};
    use cityledger_types::{ChainId, OrgName, SecretKey};
    use std::sync::Arc;

    fn genesis() -> Genesis {
        let admins =
            [1u8, 2, 3, 4, 5, 6, 7, 8].map(|seed| SecretKey::from_seed([seed; 32]).public_key());
        let validator = GenesisValidator {
            org: OrgName::new("treasury").expect("org"),
            key: SecretKey::from_seed([9; 32]).public_key(),
        };
        dev_genesis(
            ChainId::new("cityledger-history").expect("chain id"),
            1_800_000_000_000,
            &admins,
            vec![validator],
        )
    }

    /// Finalizes `count` empty blocks on `chain`.
    fn grow(chain: &Chain, count: u64) {
        for _ in 0..count {
            let tip = chain.finalized();
            let view = tip.block.header.height.0 + 1;
            let round = ConsensusRound {
                epoch: 0,
                view,
                parent_view: view - 1,
                leader: None,
            };
            let (built, _) = chain.build(&tip, round, tip.block.header.timestamp_ms + 1, &[]);
            chain
                .commit(built.block.clone(), b"certificate")
                .expect("commit");
        }
    }

    fn history_at(chain: &Chain) -> HistoryRecord {
        let state = chain.finalized().state;
        borsh::from_slice(state.get(&StateKey::History.to_bytes()).expect("history"))
            .expect("decodes")
    }

    #[test]
    fn proofs_from_stored_nodes_verify_against_every_later_history() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let chain = Chain::open(store.clone(), genesis()).expect("open");
        let mut ids = vec![chain.genesis_block().id()];
        for _ in 0..20 {
            grow(&chain, 1);
            ids.push(chain.finalized().block.id());
        }
        let record = history_at(&chain);
        assert_eq!(record.leaf_count(), 20);
        for old in 0..20u64 {
            let proof = prove(store.as_ref(), Height(old), Height(20)).expect("proof");
            assert_eq!(
                proof.verify(&history::leaf(&ids[old as usize]), &record.root()),
                Ok(()),
                "block {old}"
            );
        }
    }

    /// A restart rebuilds the state from the stored entries, and a replay
    /// re-executes the blocks: both reach the same roots, history included.
    #[test]
    fn a_restart_and_a_replay_reach_the_same_state_root() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let chain = Chain::open(store.clone(), genesis()).expect("open");
        grow(&chain, 9);
        let before = chain.finalized();
        drop(chain);
        let reopened = Chain::open(store.clone(), genesis()).expect("reopen");
        assert_eq!(
            reopened.finalized().state.root(),
            before.block.header.state_root
        );
        grow(&reopened, 3);
        assert_eq!(history_at(&reopened).leaf_count(), 12);
        let replay_store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let replay = Chain::open(replay_store.clone(), genesis()).expect("open");
        for height in 1..=12 {
            let stored = store.block(Height(height)).expect("read").expect("stored");
            let block = cityledger_types::Block::from_bytes(&stored.block_bytes).expect("decodes");
            let committed = replay
                .commit(Arc::new(block), &stored.certificate)
                .expect("commit")
                .expect("newly committed");
            assert_eq!(committed.state.root(), committed.block.header.state_root);
        }
        assert_eq!(
            replay.finalized().block.id(),
            reopened.finalized().block.id()
        );
        let proof = prove(replay_store.as_ref(), Height(4), Height(12)).expect("proof");
        assert_eq!(
            proof,
            prove(store.as_ref(), Height(4), Height(12)).expect("proof")
        );
    }

    #[test]
    fn a_missing_node_is_reported_as_damage() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let chain = Chain::open(store.clone(), genesis()).expect("open");
        grow(&chain, 3);
        // Only blocks 1..=3 were committed: leaf 5 was never stored.
        assert!(matches!(
            node(store.as_ref(), NodePosition { level: 0, index: 5 }),
            Err(HistoryIndexError::Damaged { level: 0, index: 5 })
        ));
    }
}
