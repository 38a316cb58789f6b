//! Finalized blocks on the wire: the header's commitments, the transactions
//! with their outcomes, and the finality certificate.

use crate::tx::TxView;
use crate::tx_text;
use cityledger_types::block::ConsensusRound;
use cityledger_types::tx::ChainId;
use cityledger_types::{Block, Digest, Height, PublicKey, TxOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The consensus round that produced a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoundView {
    /// Epoch of the validator set.
    pub epoch: u64,
    /// View in which the block was proposed.
    pub view: u64,
    /// View of the parent block.
    pub parent_view: u64,
    /// The proposing leader's key, hex; absent for genesis.
    #[schema(value_type = Option<String>)]
    pub leader: Option<PublicKey>,
}

impl From<&ConsensusRound> for RoundView {
    fn from(round: &ConsensusRound) -> RoundView {
        RoundView {
            epoch: round.epoch,
            view: round.view,
            parent_view: round.parent_view,
            leader: round.leader,
        }
    }
}

/// A finalized block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    /// The chain.
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    /// Height; genesis is 0.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block id (hash of the header), hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Parent block id, hex; all zeros for genesis.
    #[schema(value_type = String)]
    pub parent: Digest,
    /// Block time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Merkle root of the transaction hashes, hex.
    #[schema(value_type = String)]
    pub tx_root: Digest,
    /// Merkle root of the outcomes, hex.
    #[schema(value_type = String)]
    pub outcomes_root: Digest,
    /// State root after this block, hex.
    #[schema(value_type = String)]
    pub state_root: Digest,
    /// Hash of the validator set that finalized it, hex.
    #[schema(value_type = String)]
    pub validator_set_hash: Digest,
    /// Number of transactions.
    pub tx_count: u32,
    /// The consensus round.
    pub round: RoundView,
    /// The transactions in execution order, with their outcomes.
    pub txs: Vec<TxView>,
    /// The finality certificate, base64url; absent when the node has none
    /// (genesis, or a block it received without one).
    pub certificate: Option<String>,
}

impl BlockView {
    /// The view of `block`, executed with `outcomes` (one per transaction)
    /// and finalized by `certificate`.
    ///
    /// # Panics
    /// If `outcomes` does not have one entry per transaction: the node's
    /// store would be inconsistent, which is a broken invariant.
    pub fn new(block: &Block, outcomes: &[TxOutcome], certificate: Option<&[u8]>) -> BlockView {
        assert_eq!(
            block.txs.0.len(),
            outcomes.len(),
            "one outcome per transaction of block {}",
            block.header.height
        );
        let header = &block.header;
        BlockView {
            chain_id: header.chain_id.clone(),
            height: header.height,
            id: header.id(),
            parent: header.parent,
            timestamp_ms: header.timestamp_ms,
            tx_root: header.tx_root,
            outcomes_root: header.outcomes_root,
            state_root: header.state_root,
            validator_set_hash: header.validator_set_hash,
            tx_count: header.tx_count,
            round: RoundView::from(&header.round),
            txs: block
                .txs
                .0
                .iter()
                .zip(outcomes)
                .map(|(tx, outcome)| TxView::new(tx, outcome))
                .collect(),
            certificate: certificate.map(tx_text::encode_bytes),
        }
    }
}

/// A finalized block in a listing: its header's essentials, without its
/// transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// Height; genesis is 0.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Block time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Number of transactions.
    pub tx_count: u32,
    /// How many of them were rejected.
    pub rejected_count: u32,
    /// State root after this block, hex.
    #[schema(value_type = String)]
    pub state_root: Digest,
    /// Hash of the validator set that finalized it, hex.
    #[schema(value_type = String)]
    pub validator_set_hash: Digest,
    /// The consensus round.
    pub round: RoundView,
    /// Whether the node holds its finality certificate.
    pub certified: bool,
}

impl BlockSummary {
    /// The summary of `block`, executed with `outcomes`, with a
    /// certificate or not.
    pub fn new(block: &Block, outcomes: &[TxOutcome], certified: bool) -> BlockSummary {
        let header = &block.header;
        let rejected = outcomes
            .iter()
            .filter(|outcome| !matches!(outcome, TxOutcome::Applied))
            .count();
        BlockSummary {
            height: header.height,
            id: header.id(),
            timestamp_ms: header.timestamp_ms,
            tx_count: header.tx_count,
            rejected_count: u32::try_from(rejected).unwrap_or(u32::MAX),
            state_root: header.state_root,
            validator_set_hash: header.validator_set_hash,
            round: RoundView::from(&header.round),
            certified,
        }
    }
}

/// A page of finalized blocks, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlocksPage {
    /// The blocks.
    pub items: Vec<BlockSummary>,
    /// Pass as `before` to get the next (older) page; absent once the page
    /// reaches genesis.
    #[schema(value_type = Option<u64>)]
    pub next_before: Option<Height>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::tests::sample_tx;
    use cityledger_types::RejectCode;
    use cityledger_types::block::{BlockHeader, BlockTxs, tx_root};

    #[test]
    fn renders_header_txs_and_certificate() {
        let txs = vec![sample_tx(1), sample_tx(2)];
        let header = BlockHeader {
            chain_id: ChainId::new("cityledger-dev").unwrap(),
            height: Height(3),
            parent: Digest([9; 32]),
            timestamp_ms: 1_700_000_000_000,
            round: ConsensusRound {
                epoch: 0,
                view: 5,
                parent_view: 4,
                leader: None,
            },
            tx_root: tx_root(&txs),
            outcomes_root: Digest::ZERO,
            state_root: Digest::ZERO,
            validator_set_hash: Digest::ZERO,
            tx_count: 2,
        };
        let block = Block {
            header,
            txs: BlockTxs(txs),
        };
        let outcomes = [
            TxOutcome::Applied,
            TxOutcome::Rejected {
                code: RejectCode::InsufficientFunds,
                op_index: 0,
                detail: "short".into(),
            },
        ];
        let view = BlockView::new(&block, &outcomes, Some(&[1, 2, 3]));
        assert_eq!(view.id, block.id());
        assert_eq!(view.certificate.as_deref(), Some("AQID"));
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(value["height"], 3);
        assert_eq!(value["round"]["view"], 5);
        assert_eq!(value["txs"][1]["outcome"], "rejected");
        assert_eq!(value["txs"][1]["code"], "insufficient_funds");
        let back: BlockView = serde_json::from_value(value).unwrap();
        assert_eq!(back, view);

        let summary = BlockSummary::new(&block, &outcomes, true);
        assert_eq!((summary.tx_count, summary.rejected_count), (2, 1));
        assert_eq!(summary.id, block.id());
        let value = serde_json::to_value(&summary).unwrap();
        assert_eq!(value["height"], 3);
        assert_eq!(value["certified"], true);
    }
}
