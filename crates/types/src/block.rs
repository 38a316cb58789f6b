//! Blocks: a header that commits to everything, and the signed transactions.
//!
//! The block id is the hash of the header only; the header commits to the
//! body through `tx_root` and to execution through `outcomes_root` and
//! `state_root`. A light client therefore needs the header and a proof, never
//! the whole block.

use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::{self, DecodeError, read_bounded_vec};
use crate::limits::{BLOCK_BYTES_MAX, TX_PER_BLOCK_MAX};
use crate::merkle;
use crate::outcome::TxOutcome;
use crate::tx::{ChainId, SignedTx};
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of block ids.
pub const BLOCK_DOMAIN: &[u8] = b"cityledger/block/v1";

/// Position of a block in the chain; genesis is 0.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Default,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    /// The next height. Heights never overflow in practice (one block per ms
    /// for 500 million years), so overflow is an invariant violation.
    pub fn next(self) -> Height {
        Height(self.0.checked_add(1).expect("height overflow"))
    }
}

impl std::fmt::Display for Height {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The consensus round that produced a block, as the engine reported it.
///
/// Kept in our own types so that this crate does not depend on the engine.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct ConsensusRound {
    /// Epoch of the validator set.
    pub epoch: u64,
    /// View in which the block was proposed.
    pub view: u64,
    /// View of the parent block.
    pub parent_view: u64,
    /// The leader that proposed it.
    pub leader: Option<PublicKey>,
}

/// What a block commits to.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// Height of this block.
    pub height: Height,
    /// Id of the parent block; `Digest::ZERO` for genesis.
    pub parent: Digest,
    /// Block time in ms since the Unix epoch, agreed by consensus: never less
    /// than the parent's.
    pub timestamp_ms: u64,
    /// The round that produced this block.
    pub round: ConsensusRound,
    /// Merkle root of the transaction hashes, in block order.
    pub tx_root: Digest,
    /// Merkle root of the transaction outcomes, in block order.
    pub outcomes_root: Digest,
    /// Root of the authenticated state after executing this block.
    pub state_root: Digest,
    /// Hash of the validator set that finalizes this block.
    pub validator_set_hash: Digest,
    /// Number of transactions.
    pub tx_count: u32,
}

impl BlockHeader {
    /// The block id.
    pub fn id(&self) -> Digest {
        let mut bytes = Vec::with_capacity(BLOCK_DOMAIN.len() + 300);
        bytes.extend_from_slice(BLOCK_DOMAIN);
        self.serialize(&mut bytes)
            .expect("borsh encoding into a Vec is infallible");
        Digest::of(&bytes)
    }
}

/// A bounded list of signed transactions.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct BlockTxs(pub Vec<SignedTx>);

impl BorshDeserialize for BlockTxs {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, TX_PER_BLOCK_MAX).map(BlockTxs)
    }
}

/// A header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, in execution order.
    pub txs: BlockTxs,
}

impl Block {
    /// The block id (hash of the header).
    pub fn id(&self) -> Digest {
        self.header.id()
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::encode(self)
    }

    /// Decodes a block received from outside. Checks the encoding and the
    /// tx root against the body; execution is checked elsewhere.
    pub fn from_bytes(bytes: &[u8]) -> Result<Block, DecodeError> {
        let block: Block = encoding::decode_exact(bytes, "block", BLOCK_BYTES_MAX)?;
        if block.header.tx_count as usize != block.txs.0.len() {
            return Err(DecodeError::Invalid {
                what: "block",
                reason: "tx_count does not match the body".into(),
            });
        }
        if tx_root(&block.txs.0) != block.header.tx_root {
            return Err(DecodeError::Invalid {
                what: "block",
                reason: "tx_root does not match the body".into(),
            });
        }
        Ok(block)
    }
}

/// Merkle leaf of a transaction: its hash.
pub fn tx_leaf(tx_hash: &Digest) -> Digest {
    merkle::leaf_hash(&tx_hash.0)
}

/// Merkle root of a block's transactions.
pub fn tx_root(txs: &[SignedTx]) -> Digest {
    let leaves: Vec<Digest> = txs.iter().map(|tx| tx_leaf(&tx.hash())).collect();
    merkle::root(&leaves)
}

/// Merkle leaf of an outcome: it binds the transaction hash to its result.
pub fn outcome_leaf(tx_hash: &Digest, outcome: &TxOutcome) -> Digest {
    let mut bytes = tx_hash.0.to_vec();
    outcome
        .serialize(&mut bytes)
        .expect("borsh encoding into a Vec is infallible");
    merkle::leaf_hash(&bytes)
}

/// Merkle root of a block's outcomes.
pub fn outcomes_root(tx_hashes: &[Digest], outcomes: &[TxOutcome]) -> Digest {
    assert_eq!(
        tx_hashes.len(),
        outcomes.len(),
        "one outcome per transaction"
    );
    let leaves: Vec<Digest> = tx_hashes
        .iter()
        .zip(outcomes)
        .map(|(hash, outcome)| outcome_leaf(hash, outcome))
        .collect();
    merkle::root(&leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn header() -> BlockHeader {
        BlockHeader {
            chain_id: ChainId::new("cityledger-dev").unwrap(),
            height: Height(7),
            parent: Digest::of(b"parent"),
            timestamp_ms: 1_800_000_000_000,
            round: ConsensusRound {
                epoch: 0,
                view: 9,
                parent_view: 8,
                leader: Some(SecretKey::from_seed([1; 32]).public_key()),
            },
            tx_root: Digest::ZERO,
            outcomes_root: Digest::ZERO,
            state_root: Digest::of(b"state"),
            validator_set_hash: Digest::of(b"validators"),
            tx_count: 0,
        }
    }

    /// Pins the header encoding: block ids change only by decision.
    #[test]
    fn header_fixture() {
        assert_eq!(
            header().id().to_hex(),
            HEADER_FIXTURE_ID,
            "block header encoding changed"
        );
    }

    const HEADER_FIXTURE_ID: &str =
        "67dc5f5e15e5a9066d9b164c90b6123420e411f72b296380627ca1dde68f15f2";

    #[test]
    fn block_round_trip_checks_the_body() {
        let block = Block {
            header: header(),
            txs: BlockTxs::default(),
        };
        assert_eq!(Block::from_bytes(&block.to_bytes()).unwrap(), block);
        let mut lying = block.clone();
        lying.header.tx_count = 1;
        assert!(Block::from_bytes(&lying.to_bytes()).is_err());
        let mut bytes = block.to_bytes();
        bytes.push(1);
        assert!(Block::from_bytes(&bytes).is_err());
    }
}
