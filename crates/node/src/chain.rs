//! Chain state: the finalized state, the speculative states of blocks not yet
//! finalized, and the three things consensus asks of the application: build a
//! block, verify a block, commit a finalized block.
//!
//! The authenticated state is a persistent sparse Merkle tree held in memory:
//! every block's state is a version sharing structure with its parent, so
//! building on a notarized-but-not-finalized parent costs one version, not a
//! copy. The store holds the finalized entries; the tree is rebuilt from them
//! at start-up and its root must equal the stored tip's state root.
//!
//! This module knows nothing of the consensus engine, the network or the
//! clock: callers pass block time in.

use crate::limits::{
    RECENT_FINALIZED_STATES_MAX, RECENT_FINALIZED_WRITES_MAX, SPECULATIVE_BLOCKS_MAX,
};
use crate::{credential_indexes, history_index, indexes, record_indexes, safety_indexes};
use cityledger_state::genesis::genesis_writes;
use cityledger_state::{BlockEnv, Event, InvalidBlock, Mode, StateRead, WriteSet, execute_block};
use cityledger_storage::{BlockCommit, Committed, Store, StoreError};
use cityledger_types::block::{BlockTxs, ConsensusRound, outcomes_root, tx_leaf, tx_root};
use cityledger_types::genesis::Genesis;
use cityledger_types::merkle;
use cityledger_types::smt::SparseMerkleTree;
use cityledger_types::{Address, Block, BlockHeader, ChainId, Digest, Height, SignedTx, TxOutcome};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// A block with the state it leads to.
#[derive(Clone)]
pub struct ExecutedBlock {
    /// The block.
    pub block: Arc<Block>,
    /// State after the block.
    pub state: SparseMerkleTree,
    /// Outcome of each transaction.
    pub outcomes: Arc<Vec<TxOutcome>>,
    /// Events, with the position of their transaction.
    pub events: Arc<Vec<(Option<u32>, Event)>>,
    /// Hashes of the block's transactions, in order, computed once.
    pub tx_hashes: Arc<Vec<Digest>>,
    /// The state writes of the block, kept so that committing it does not
    /// execute it a second time. Empty for a reopened tip.
    pub writes: Arc<WriteSet>,
}

/// Why the chain could not be opened or a block not committed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The genesis document is invalid.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] cityledger_state::genesis::GenesisError),
    /// The store belongs to another chain.
    #[error("the store holds chain {found}, the genesis is for chain {expected}")]
    WrongChain {
        /// From genesis.
        expected: String,
        /// From the store.
        found: String,
    },
    /// The state entries do not hash to the tip's state root.
    #[error(
        "the stored state does not match the finalized state root at height {height}: computed {computed}, expected {expected}; the store is damaged, restore it from a backup or resync"
    )]
    StateRootMismatch {
        /// Tip height.
        height: Height,
        /// The root in the tip header.
        expected: Digest,
        /// The root of the stored entries.
        computed: Digest,
    },
    /// A stored block does not decode.
    #[error("stored block at height {height} does not decode: {reason}")]
    CorruptBlock {
        /// Height.
        height: Height,
        /// Why.
        reason: String,
    },
}

/// The verdict on a proposed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: its state is kept for building on it.
    Valid,
    /// Permanently invalid, with why.
    Invalid(String),
    /// Its parent's state is unknown here (not yet verified).
    UnknownParent,
}

/// Adapter: a tree version as the state machine's read interface.
struct TreeView<'a>(&'a SparseMerkleTree);

impl StateRead for TreeView<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).map(<[u8]>::to_vec)
    }
}

struct Inner {
    finalized: ExecutedBlock,
    speculative: HashMap<Digest, ExecutedBlock>,
    /// Finalized blocks before the tip, oldest first, with their state
    /// versions, for receipts; bounded by `RECENT_FINALIZED_*`.
    recent: VecDeque<ExecutedBlock>,
    /// Writes summed over `recent`.
    recent_writes: usize,
}

impl Inner {
    /// Makes `executed` the tip and keeps the old tip among the recent.
    fn advance(&mut self, executed: ExecutedBlock) {
        let previous = std::mem::replace(&mut self.finalized, executed);
        self.recent_writes += previous.writes.len();
        self.recent.push_back(previous);
        while self.recent.len() > RECENT_FINALIZED_STATES_MAX
            || self.recent_writes > RECENT_FINALIZED_WRITES_MAX
        {
            let Some(oldest) = self.recent.pop_front() else {
                break;
            };
            self.recent_writes -= oldest.writes.len();
        }
    }
}

/// The chain: finalized tip, speculative blocks, and the store.
pub struct Chain {
    store: Arc<dyn Store>,
    genesis: Genesis,
    chain_id: ChainId,
    validator_set_hash: Digest,
    genesis_block: Arc<Block>,
    inner: Mutex<Inner>,
}

impl Chain {
    /// Opens the chain on `store`: writes genesis on an empty store, or
    /// rebuilds the state tree from the stored entries and checks its root.
    pub fn open(store: Arc<dyn Store>, genesis: Genesis) -> Result<Chain, ChainError> {
        let writes = genesis_writes(&genesis)?;
        let genesis_state = SparseMerkleTree::new().apply(writes.clone());
        let genesis_block = Arc::new(genesis_block(&genesis, genesis_state.root()));
        let finalized = match store.tip()? {
            None => commit_genesis(store.as_ref(), &genesis_block, genesis_state, &writes)?,
            Some(tip) => reopen(store.as_ref(), &genesis, tip.height, tip.state_root)?,
        };
        Ok(Chain {
            store,
            chain_id: genesis.chain_id.clone(),
            validator_set_hash: genesis.validator_set_hash(),
            genesis,
            genesis_block,
            inner: Mutex::new(Inner {
                finalized,
                speculative: HashMap::new(),
                recent: VecDeque::new(),
                recent_writes: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock means a broken invariant; the node
        // is going down anyway, and continuing on poisoned state would risk
        // divergence.
        self.inner.lock().expect("chain state lock poisoned")
    }

    /// The genesis document.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis block (height 0).
    pub fn genesis_block(&self) -> Arc<Block> {
        self.genesis_block.clone()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The finalized tip.
    pub fn finalized(&self) -> ExecutedBlock {
        self.lock().finalized.clone()
    }

    /// The finalized block at `height` with its state version, if it is
    /// the tip or still among the recent ones kept for receipts.
    pub fn finalized_at(&self, height: Height) -> Option<ExecutedBlock> {
        let inner = self.lock();
        if inner.finalized.block.header.height == height {
            return Some(inner.finalized.clone());
        }
        inner
            .recent
            .iter()
            .find(|executed| executed.block.header.height == height)
            .cloned()
    }

    /// The executed block with `id`, finalized tip or speculative.
    pub fn executed(&self, id: &Digest) -> Option<ExecutedBlock> {
        let inner = self.lock();
        if inner.finalized.block.id() == *id {
            return Some(inner.finalized.clone());
        }
        inner.speculative.get(id).cloned()
    }

    /// Hashes of transactions in speculative blocks from `parent` back to the
    /// finalized tip: a proposer must not include them again.
    pub fn in_flight(&self, parent: &Digest) -> std::collections::HashSet<Digest> {
        let inner = self.lock();
        let mut hashes = std::collections::HashSet::new();
        let mut cursor = *parent;
        for _ in 0..SPECULATIVE_BLOCKS_MAX {
            let Some(executed) = inner.speculative.get(&cursor) else {
                break;
            };
            hashes.extend(executed.tx_hashes.iter().copied());
            cursor = executed.block.header.parent;
        }
        hashes
    }

    fn env(&self, height: Height, timestamp_ms: u64, parent_id: Digest) -> BlockEnv {
        BlockEnv {
            chain_id: self.chain_id.clone(),
            height,
            timestamp_ms,
            parent_id,
        }
    }

    /// Builds a block on `parent` from `candidates` (already signature
    /// checked), dropping those that are inadmissible. Returns the block and
    /// the dropped transactions with why.
    pub fn build(
        &self,
        parent: &ExecutedBlock,
        round: ConsensusRound,
        timestamp_ms: u64,
        candidates: &[Arc<SignedTx>],
    ) -> (ExecutedBlock, Vec<(Digest, String)>) {
        let parent_header = &parent.block.header;
        let timestamp_ms = timestamp_ms.max(parent_header.timestamp_ms);
        let height = parent_header.height.next();
        let txs: Vec<SignedTx> = candidates.iter().map(|tx| (**tx).clone()).collect();
        let executed = execute_block(
            &TreeView(&parent.state),
            &self.env(height, timestamp_ms, parent.block.id()),
            &txs,
            Mode::Propose,
        )
        .expect("propose mode drops inadmissible transactions instead of failing");
        let dropped = executed
            .dropped
            .iter()
            .map(|(index, reason)| (txs[*index].hash(), reason.to_string()))
            .collect();
        let included: Vec<SignedTx> = executed.included.iter().map(|i| txs[*i].clone()).collect();
        let state = parent.state.apply(executed.writes.clone());
        let hashes: Vec<Digest> = included.iter().map(SignedTx::hash).collect();
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height,
            parent: parent.block.id(),
            timestamp_ms,
            round,
            tx_root: tx_root(&included),
            outcomes_root: outcomes_root(&hashes, &executed.outcomes),
            state_root: state.root(),
            validator_set_hash: self.validator_set_hash,
            tx_count: included.len() as u32,
        };
        let block = ExecutedBlock {
            block: Arc::new(Block {
                header,
                txs: BlockTxs(included),
            }),
            state,
            outcomes: Arc::new(executed.outcomes),
            events: Arc::new(executed.events),
            writes: Arc::new(executed.writes),
            tx_hashes: Arc::new(hashes),
        };
        self.remember(block.clone());
        (block, dropped)
    }

    /// Verifies `block` against its parent's state: re-executes it and
    /// compares every root. Signatures must have been checked by the caller.
    pub fn verify(&self, block: Arc<Block>) -> Verdict {
        if self.executed(&block.id()).is_some() {
            return Verdict::Valid;
        }
        let Some(parent) = self.executed(&block.header.parent) else {
            return Verdict::UnknownParent;
        };
        match self.reexecute(&parent, block) {
            Ok(executed) => {
                self.remember(executed);
                Verdict::Valid
            }
            Err(reason) => Verdict::Invalid(reason),
        }
    }

    fn reexecute(
        &self,
        parent: &ExecutedBlock,
        block: Arc<Block>,
    ) -> Result<ExecutedBlock, String> {
        let header = &block.header;
        let parent_header = &parent.block.header;
        check_header_links(
            header,
            parent_header,
            &self.chain_id,
            &self.validator_set_hash,
        )?;
        // Callers find the parent by this id; checked again because the
        // history accumulator appends it and must append the real parent.
        if header.parent != parent.block.id() {
            return Err("parent is not the block it executes on".into());
        }
        // Each hash re-encodes its transaction: compute them once for both roots.
        let hashes: Vec<Digest> = block.txs.0.iter().map(SignedTx::hash).collect();
        let tx_leaves: Vec<Digest> = hashes.iter().map(tx_leaf).collect();
        if merkle::root(&tx_leaves) != header.tx_root || header.tx_count as usize != hashes.len() {
            return Err("tx_root or tx_count does not match the body".into());
        }
        let executed = execute_block(
            &TreeView(&parent.state),
            &self.env(header.height, header.timestamp_ms, header.parent),
            &block.txs.0,
            Mode::Verify,
        )
        .map_err(|InvalidBlock { index, reason }| format!("transaction {index}: {reason}"))?;
        if outcomes_root(&hashes, &executed.outcomes) != header.outcomes_root {
            return Err("outcomes_root does not match execution".into());
        }
        let state = parent.state.apply(executed.writes.clone());
        if state.root() != header.state_root {
            return Err(format!(
                "state_root {} does not match execution ({})",
                header.state_root,
                state.root()
            ));
        }
        Ok(ExecutedBlock {
            block,
            state,
            outcomes: Arc::new(executed.outcomes),
            events: Arc::new(executed.events),
            writes: Arc::new(executed.writes),
            tx_hashes: Arc::new(hashes),
        })
    }

    fn remember(&self, executed: ExecutedBlock) {
        let mut inner = self.lock();
        if inner.speculative.len() >= SPECULATIVE_BLOCKS_MAX {
            // Keep the newest: old forks can no longer be built on once the
            // tip moved past them, and a verify for them is re-executed.
            let finalized_height = inner.finalized.block.header.height;
            inner
                .speculative
                .retain(|_, b| b.block.header.height > finalized_height);
            if inner.speculative.len() >= SPECULATIVE_BLOCKS_MAX {
                let oldest = inner
                    .speculative
                    .iter()
                    .min_by_key(|(_, b)| b.block.header.height)
                    .map(|(id, _)| *id);
                if let Some(oldest) = oldest {
                    inner.speculative.remove(&oldest);
                }
            }
        }
        inner.speculative.insert(executed.block.id(), executed);
    }

    /// Commits a finalized block with its certificate. Idempotent by height:
    /// a block at or below the tip is acknowledged without effect, as marshal
    /// re-delivers blocks after a restart. Returns the executed block when it
    /// was newly committed.
    pub fn commit(
        &self,
        block: Arc<Block>,
        certificate: &[u8],
    ) -> Result<Option<ExecutedBlock>, ChainError> {
        let tip = self.finalized();
        let height = block.header.height;
        if height <= tip.block.header.height {
            return Ok(None);
        }
        assert_eq!(
            block.header.parent,
            tip.block.id(),
            "finalized blocks arrive in order and extend the finalized tip"
        );
        let executed = match self.executed(&block.id()) {
            Some(executed) => executed,
            None => self
                .reexecute(&tip, block)
                .unwrap_or_else(|reason| panic!("a finalized block failed re-execution: {reason}")),
        };
        self.persist(&tip, &executed, certificate)?;
        let mut inner = self.lock();
        inner.advance(executed.clone());
        inner
            .speculative
            .retain(|_, b| b.block.header.height > height);
        Ok(Some(executed))
    }

    fn persist(
        &self,
        parent: &ExecutedBlock,
        executed: &ExecutedBlock,
        certificate: &[u8],
    ) -> Result<(), ChainError> {
        let block = &executed.block;
        let hashes = &executed.tx_hashes;
        let account_entries = account_entries(&executed.events);
        // Each domain's indexes, from the same diff and events.
        let mut index_changes: Vec<_> = [
            indexes::block_changes,
            credential_indexes::block_changes,
            record_indexes::block_changes,
            safety_indexes::block_changes,
        ]
        .iter()
        .flat_map(|changes| {
            changes(
                &TreeView(&parent.state),
                &executed.writes,
                &executed.events,
                hashes,
                block.header.height,
                block.header.timestamp_ms,
            )
        })
        .collect();
        // The history nodes the block's append completes, for consistency
        // proofs between any two heights.
        index_changes.extend(history_index::block_changes(
            &TreeView(&parent.state),
            &parent.block.id(),
            &executed.writes,
        ));
        let outcomes_bytes = borsh::to_vec(executed.outcomes.as_ref())
            .expect("borsh encoding into a Vec is infallible");
        let events_bytes =
            serde_json::to_vec(executed.events.as_ref()).expect("events serialize to JSON");
        let block_bytes = block.to_bytes();
        let committed = self.store.commit(&BlockCommit {
            height: block.header.height,
            block_id: block.id(),
            block_bytes: &block_bytes,
            certificate,
            outcomes_bytes: &outcomes_bytes,
            events_bytes: &events_bytes,
            tx_hashes: hashes,
            account_entries: &account_entries,
            state_writes: &executed.writes,
            state_root: block.header.state_root,
            index_changes: &index_changes,
        })?;
        debug_assert!(matches!(committed, Committed::Written));
        Ok(())
    }
}

fn account_entries(events: &[(Option<u32>, Event)]) -> Vec<(Address, u32)> {
    let mut entries: Vec<(Address, u32)> = events
        .iter()
        .filter_map(|(position, event)| position.map(|p| (p, event)))
        .flat_map(|(position, event)| event.accounts().into_iter().map(move |a| (a, position)))
        .collect();
    entries.sort();
    entries.dedup();
    entries
}

fn check_header_links(
    header: &BlockHeader,
    parent: &BlockHeader,
    chain_id: &ChainId,
    validator_set_hash: &Digest,
) -> Result<(), String> {
    if header.chain_id != *chain_id {
        return Err(format!("block is for chain {}", header.chain_id));
    }
    if header.height != parent.height.next() {
        return Err(format!(
            "height {} does not follow parent height {}",
            header.height, parent.height
        ));
    }
    if header.timestamp_ms < parent.timestamp_ms {
        return Err("timestamp is before the parent's".into());
    }
    if header.validator_set_hash != *validator_set_hash {
        return Err("validator_set_hash does not match the validator set".into());
    }
    Ok(())
}

/// The genesis block of the chain `genesis` describes: what every block of
/// that chain descends from, so its id names the chain.
pub fn genesis_block_of(genesis: &Genesis) -> Result<Block, ChainError> {
    let state = SparseMerkleTree::new().apply(genesis_writes(genesis)?);
    Ok(genesis_block(genesis, state.root()))
}

/// The block at height 0: no transactions, the genesis state.
pub fn genesis_block(genesis: &Genesis, state_root: Digest) -> Block {
    Block {
        header: BlockHeader {
            chain_id: genesis.chain_id.clone(),
            height: Height(0),
            parent: Digest::ZERO,
            timestamp_ms: genesis.genesis_time_ms,
            round: ConsensusRound::default(),
            tx_root: Digest::ZERO,
            outcomes_root: Digest::ZERO,
            state_root,
            validator_set_hash: genesis.validator_set_hash(),
            tx_count: 0,
        },
        txs: BlockTxs::default(),
    }
}

fn commit_genesis(
    store: &dyn Store,
    block: &Arc<Block>,
    state: SparseMerkleTree,
    writes: &cityledger_state::WriteSet,
) -> Result<ExecutedBlock, ChainError> {
    let bytes = block.to_bytes();
    store.commit(&BlockCommit {
        height: Height(0),
        block_id: block.id(),
        block_bytes: &bytes,
        certificate: &[],
        outcomes_bytes: &borsh::to_vec(&Vec::<TxOutcome>::new()).expect("infallible"),
        events_bytes: b"[]",
        tx_hashes: &[],
        account_entries: &[],
        state_writes: writes,
        state_root: block.header.state_root,
        index_changes: &[],
    })?;
    Ok(ExecutedBlock {
        block: block.clone(),
        state,
        outcomes: Arc::new(Vec::new()),
        events: Arc::new(Vec::new()),
        writes: Arc::new(WriteSet::new()),
        tx_hashes: Arc::new(Vec::new()),
    })
}

fn reopen(
    store: &dyn Store,
    genesis: &Genesis,
    height: Height,
    state_root: Digest,
) -> Result<ExecutedBlock, ChainError> {
    let stored = store
        .block(height)?
        .ok_or_else(|| ChainError::CorruptBlock {
            height,
            reason: "the tip block is missing".into(),
        })?;
    let block =
        Block::from_bytes(&stored.block_bytes).map_err(|error| ChainError::CorruptBlock {
            height,
            reason: error.to_string(),
        })?;
    if block.header.chain_id != genesis.chain_id {
        return Err(ChainError::WrongChain {
            expected: genesis.chain_id.to_string(),
            found: block.header.chain_id.to_string(),
        });
    }
    let mut entries = Vec::new();
    store.for_each_state_entry(&mut |key, value| entries.push((key.to_vec(), value.to_vec())))?;
    let state = SparseMerkleTree::from_entries(entries);
    if state.root() != state_root || state_root != block.header.state_root {
        return Err(ChainError::StateRootMismatch {
            height,
            expected: block.header.state_root,
            computed: state.root(),
        });
    }
    let outcomes: Vec<TxOutcome> =
        borsh::from_slice(&stored.outcomes_bytes).map_err(|error| ChainError::CorruptBlock {
            height,
            reason: error.to_string(),
        })?;
    Ok(ExecutedBlock {
        block: Arc::new(block),
        state,
        outcomes: Arc::new(outcomes),
        events: Arc::new(Vec::new()),
        writes: Arc::new(WriteSet::new()),
        tx_hashes: Arc::new(Vec::new()),
    })
}
