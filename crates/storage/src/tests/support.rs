//! Builders of valid (and deliberately invalid) commits for the tests.

use crate::store::{BlockCommit, IndexChange};
use cityledger_state::WriteSet;
use cityledger_types::address::ADDRESS_LEN;
use cityledger_types::block::{Block, BlockHeader, BlockTxs, ConsensusRound, tx_leaf};
use cityledger_types::{Address, ChainId, Digest, Height, merkle};

/// An owned commit: a block with consistent header, indexes and writes.
#[derive(Clone, Debug)]
pub(crate) struct TestBlock {
    pub(crate) height: Height,
    pub(crate) block_id: Digest,
    pub(crate) block_bytes: Vec<u8>,
    pub(crate) certificate: Vec<u8>,
    pub(crate) outcomes: Vec<u8>,
    pub(crate) events: Vec<u8>,
    pub(crate) tx_hashes: Vec<Digest>,
    pub(crate) account_entries: Vec<(Address, u32)>,
    pub(crate) state_writes: WriteSet,
    pub(crate) state_root: Digest,
    pub(crate) index_changes: Vec<IndexChange>,
}

/// What goes into a test block besides its place in the chain.
#[derive(Clone, Debug, Default)]
pub(crate) struct Contents {
    pub(crate) tx_count: u32,
    pub(crate) account_entries: Vec<(Address, u32)>,
    pub(crate) state_writes: WriteSet,
    pub(crate) index_changes: Vec<IndexChange>,
    /// Makes a different block at the same height and parent.
    pub(crate) variant: u64,
}

impl TestBlock {
    /// A block at `height` on top of `parent`, with a consistent header.
    pub(crate) fn new(height: Height, parent: Digest, contents: Contents) -> TestBlock {
        let tx_hashes: Vec<Digest> = (0..contents.tx_count)
            .map(|position| tx_hash(height, position, contents.variant))
            .collect();
        let leaves: Vec<Digest> = tx_hashes.iter().map(tx_leaf).collect();
        let state_root = Digest::of_parts(&[
            b"root",
            &height.0.to_be_bytes(),
            &contents.variant.to_be_bytes(),
        ]);
        let header = BlockHeader {
            chain_id: ChainId::new("cityledger-test").expect("valid chain id"),
            height,
            parent,
            timestamp_ms: height.0 * 1000 + contents.variant,
            round: ConsensusRound::default(),
            tx_root: merkle::root(&leaves),
            outcomes_root: Digest::ZERO,
            state_root,
            validator_set_hash: Digest::ZERO,
            tx_count: contents.tx_count,
        };
        let block_id = header.id();
        // The body is empty: storage reads only the header, and the header
        // commits to the hashes through tx_root.
        let block_bytes = Block {
            header,
            txs: BlockTxs(Vec::new()),
        }
        .to_bytes();
        TestBlock {
            height,
            block_id,
            block_bytes,
            certificate: format!("certificate {height}").into_bytes(),
            outcomes: format!("outcomes {height}").into_bytes(),
            events: format!("events {height}").into_bytes(),
            tx_hashes,
            account_entries: contents.account_entries,
            state_writes: contents.state_writes,
            state_root,
            index_changes: contents.index_changes,
        }
    }

    /// The commit the node would pass.
    pub(crate) fn commit(&self) -> BlockCommit<'_> {
        BlockCommit {
            height: self.height,
            block_id: self.block_id,
            block_bytes: &self.block_bytes,
            certificate: &self.certificate,
            outcomes_bytes: &self.outcomes,
            events_bytes: &self.events,
            tx_hashes: &self.tx_hashes,
            account_entries: &self.account_entries,
            state_writes: &self.state_writes,
            state_root: self.state_root,
            index_changes: &self.index_changes,
        }
    }
}

/// Builds consecutive blocks.
#[derive(Default)]
pub(crate) struct TestChain {
    pub(crate) blocks: Vec<TestBlock>,
}

impl TestChain {
    /// Appends the next block and returns it.
    pub(crate) fn push(&mut self, contents: Contents) -> &TestBlock {
        let (height, parent) = match self.blocks.last() {
            Some(last) => (last.height.next(), last.block_id),
            None => (Height(0), Digest::ZERO),
        };
        self.blocks.push(TestBlock::new(height, parent, contents));
        self.blocks.last().expect("just pushed")
    }

    /// Appends `count` blocks with `tx_count` transactions each.
    pub(crate) fn extend(&mut self, count: usize, tx_count: u32) {
        for _ in 0..count {
            self.push(Contents {
                tx_count,
                ..Contents::default()
            });
        }
    }

    /// The parent id for the next block.
    pub(crate) fn tip_id(&self) -> Digest {
        self.blocks
            .last()
            .map_or(Digest::ZERO, |block| block.block_id)
    }

    /// The next height.
    pub(crate) fn next_height(&self) -> Height {
        self.blocks
            .last()
            .map_or(Height(0), |block| block.height.next())
    }
}

/// A distinct transaction hash per (height, position, variant).
pub(crate) fn tx_hash(height: Height, position: u32, variant: u64) -> Digest {
    Digest::of_parts(&[
        b"tx",
        &height.0.to_be_bytes(),
        &position.to_be_bytes(),
        &variant.to_be_bytes(),
    ])
}

/// A test address.
pub(crate) fn address(seed: u8) -> Address {
    Address([seed; ADDRESS_LEN])
}

/// A write set from `(key, value)` pairs; `None` deletes.
pub(crate) fn writes(entries: &[(&str, Option<&str>)]) -> WriteSet {
    entries
        .iter()
        .map(|(key, value)| {
            (
                key.as_bytes().to_vec(),
                value.map(|v| v.as_bytes().to_vec()),
            )
        })
        .collect()
}

/// Index changes from `(key, value)` pairs; `None` deletes.
pub(crate) fn index_changes(entries: &[(&str, Option<&str>)]) -> Vec<IndexChange> {
    entries
        .iter()
        .map(|(key, value)| IndexChange {
            key: key.as_bytes().to_vec(),
            value: value.map(|v| v.as_bytes().to_vec()),
        })
        .collect()
}
