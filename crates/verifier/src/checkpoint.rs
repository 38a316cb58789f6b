//! Checkpoints and consistency proofs: that a later finalized chain extends
//! an earlier one, in the style of Certificate Transparency.
//!
//! ```text
//! checkpoint  = "CLCP" ‖ version 1 ‖ borsh(Checkpoint)        text: base64url
//! consistency = "CLCY" ‖ version 1 ‖ borsh(ConsistencyProof)  text: base64url
//! Checkpoint  = header ‖ finality ‖ history peaks ‖ their state proof
//!             ‖ statement ‖ validator-set path
//! ```
//!
//! A checkpoint is "signed" by a quorum of validators, not by one node: it
//! is a header, its finality certificate and the validator sets from a
//! trust anchor, exactly as a receipt's. Its block's state holds the peaks
//! of the history accumulator (`cityledger_types::history`) over the ids of
//! every earlier block, and the checkpoint carries them with their proof
//! against the certified state root, so the checkpoint itself commits to
//! its whole past.
//!
//! Consistency between an OLD and a NEW checkpoint is then one inclusion
//! proof: id(OLD) is leaf `OLD.height` of NEW's history, whose root the
//! validators certified. A node that serves the proof cannot forge it; a
//! proof for another pair of heights, a forked NEW or a tampered peak each
//! fail with their own error. A checkpoint is also a trust anchor
//! ([`TrustAnchor::from_checkpoint`]): the set that certified it.
//!
//! Witness cosignatures (independent parties signing `cityledger/
//! checkpoint/v1 ‖ chain ‖ height ‖ block id` after checking consistency
//! with the last checkpoint they saw) are a next step: they would travel
//! beside the checkpoint, so this format does not change for them.

use crate::bounded::BoundedText;
use crate::limits::{CHECKPOINT_BYTES_MAX, STATEMENT_BYTES_MAX};
use crate::receipt::{FinalizedBlock, FramedDecodeError, Framing};
use crate::statement;
use crate::validators::{TrustAnchor, ValidatorPath};
use crate::verify::{Verified, VerifyError, check_final, verify_entry};
use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::history::{self, HistoryProof, HistoryRecord};
use cityledger_types::merkle::InclusionError;
use cityledger_types::records::StateKey;
use cityledger_types::smt::StateProof;
use cityledger_types::{Digest, Height};
use serde::Serialize;

/// First bytes of every binary checkpoint.
pub const CHECKPOINT_MAGIC: [u8; 4] = *b"CLCP";
/// The checkpoint version this crate writes and reads.
pub const CHECKPOINT_VERSION: u8 = 1;
/// First bytes of every binary consistency proof.
pub const CONSISTENCY_MAGIC: [u8; 4] = *b"CLCY";
/// The consistency proof version this crate writes and reads.
pub const CONSISTENCY_VERSION: u8 = 1;
/// Largest binary consistency proof: the heights, the sibling count and
/// one sibling per bit of a height.
pub const CONSISTENCY_BYTES_MAX: usize =
    5 + 8 + 8 + 4 + cityledger_types::limits::HISTORY_PROOF_DEPTH_MAX * 32;

const CHECKPOINT_FRAMING: Framing = Framing {
    what: "checkpoint",
    magic: CHECKPOINT_MAGIC,
    version: CHECKPOINT_VERSION,
    bytes_max: CHECKPOINT_BYTES_MAX,
    text_max: CHECKPOINT_BYTES_MAX.div_ceil(3) * 4,
};

const CONSISTENCY_FRAMING: Framing = Framing {
    what: "consistency proof",
    magic: CONSISTENCY_MAGIC,
    version: CONSISTENCY_VERSION,
    bytes_max: CONSISTENCY_BYTES_MAX,
    text_max: CONSISTENCY_BYTES_MAX.div_ceil(3) * 4,
};

/// A finalized block that commits to its whole past, final under a quorum.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Checkpoint {
    /// The header and why it is final.
    pub block: FinalizedBlock,
    /// The history accumulator in the block's state: the peaks of the tree
    /// over the ids of the `height` blocks before it.
    pub history: HistoryRecord,
    /// Proof of `StateKey::History` = `history` against the header's state
    /// root.
    pub history_proof: StateProof,
    /// What the checkpoint asserts, in plain words, as the verifier renders
    /// it.
    pub statement: BoundedText<STATEMENT_BYTES_MAX>,
    /// The validator sets from the anchor to the set that finalized.
    pub validators: ValidatorPath,
}

/// That one block is an ancestor of another: the old block's id is leaf
/// `path.index` (its height) of the new block's history of
/// `path.leaf_count` (its height) blocks.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConsistencyProof {
    /// The inclusion proof in the new block's history.
    pub path: HistoryProof,
}

impl Checkpoint {
    /// The canonical binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        CHECKPOINT_FRAMING.encode(self)
    }

    /// Decodes the binary form; [`verify_checkpoint`] checks what it claims.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, FramedDecodeError> {
        CHECKPOINT_FRAMING.decode(bytes)
    }

    /// The text form: base64url without padding.
    pub fn to_text(&self) -> String {
        CHECKPOINT_FRAMING.encode_text(self)
    }

    /// Decodes the text form; whitespace anywhere is ignored.
    pub fn from_text(text: &str) -> Result<Checkpoint, FramedDecodeError> {
        CHECKPOINT_FRAMING.decode_text(text)
    }

    /// The plain-words statement.
    pub fn statement(&self) -> &str {
        &self.statement.0
    }

    /// Height of the checkpoint's block.
    pub fn height(&self) -> Height {
        self.block.header.height
    }
}

impl ConsistencyProof {
    /// The canonical binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        CONSISTENCY_FRAMING.encode(self)
    }

    /// Decodes the binary form; [`verify_consistency`] checks it.
    pub fn from_bytes(bytes: &[u8]) -> Result<ConsistencyProof, FramedDecodeError> {
        CONSISTENCY_FRAMING.decode(bytes)
    }

    /// The text form: base64url without padding.
    pub fn to_text(&self) -> String {
        CONSISTENCY_FRAMING.encode_text(self)
    }

    /// Decodes the text form; whitespace anywhere is ignored.
    pub fn from_text(text: &str) -> Result<ConsistencyProof, FramedDecodeError> {
        CONSISTENCY_FRAMING.decode_text(text)
    }
}

/// Verifies `checkpoint` against `anchor`: final under a set the anchor
/// vouches for, with a history of exactly the blocks before it that its
/// state root commits to, and the statement its claim renders.
pub fn verify_checkpoint(
    checkpoint: &Checkpoint,
    anchor: &TrustAnchor,
) -> Result<Verified, VerifyError> {
    let header = &checkpoint.block.header;
    let finalized = check_final(&checkpoint.block, &checkpoint.validators, anchor)?;
    // A history of another length would make a proof about other heights.
    if checkpoint.history.leaf_count() != header.height.0 {
        return Err(VerifyError::HistoryLength {
            height: header.height,
            leaf_count: checkpoint.history.leaf_count(),
        });
    }
    let value = cityledger_types::encoding::encode(&checkpoint.history);
    verify_entry(
        &checkpoint.history_proof,
        header,
        &StateKey::History,
        Some(&value),
        || "the history of earlier blocks".to_owned(),
    )?;
    let expected = statement::checkpoint(header, &checkpoint.history);
    if checkpoint.statement() != expected {
        return Err(VerifyError::StatementMismatch { expected });
    }
    Ok(finalized.verified("checkpoint", expected, header, anchor))
}

impl TrustAnchor {
    /// Trust in the validator set that certified `checkpoint`, for holders
    /// who trusted it before (as they would a genesis document). The
    /// checkpoint is checked against its own path's first set, so a damaged
    /// file is refused; whether it is the chain's is the holder's trust.
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Result<TrustAnchor, VerifyError> {
        let header = &checkpoint.block.header;
        let own = TrustAnchor {
            chain_id: header.chain_id.clone(),
            set: checkpoint.validators.base.clone(),
            names: Vec::new(),
            source: String::new(),
        };
        let verified = verify_checkpoint(checkpoint, &own)?;
        Ok(TrustAnchor {
            chain_id: header.chain_id.clone(),
            set: checkpoint.validators.last().clone(),
            names: Vec::new(),
            source: format!(
                "checkpoint of {} at block {} ({}), certified by {} of {} validators of epoch {}",
                header.chain_id,
                header.height,
                verified.block_id,
                verified.signers.len(),
                verified.validators,
                verified.epoch
            ),
        })
    }
}

/// What a valid consistency check proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Consistency {
    /// What it proves, in plain words.
    pub statement: String,
    /// The chain.
    pub chain_id: String,
    /// The earlier checkpoint, as verified.
    pub old: Verified,
    /// The later checkpoint, as verified.
    pub new: Verified,
    /// Blocks finalized after OLD's, up to and including NEW's.
    pub blocks_appended: u64,
    /// Where trust comes from.
    pub trusted: String,
}

/// Why two checkpoints are not shown consistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConsistencyError {
    /// OLD does not verify.
    #[error("the old checkpoint is not valid: {0}")]
    Old(VerifyError),
    /// NEW does not verify.
    #[error("the new checkpoint is not valid: {0}")]
    New(VerifyError),
    /// OLD is later than NEW.
    #[error(
        "the old checkpoint is block {old_height}, later than the new one's block {new_height}; swap them"
    )]
    Reversed {
        /// OLD's height.
        old_height: Height,
        /// NEW's height.
        new_height: Height,
    },
    /// Two different blocks are final at one height.
    #[error(
        "two different blocks are final at height {height} ({old} and {new}): the validators signed conflicting histories; keep both checkpoints as evidence"
    )]
    Conflict {
        /// The height.
        height: Height,
        /// OLD's block id.
        old: Digest,
        /// NEW's block id.
        new: Digest,
    },
    /// NEW is later than OLD and no proof was given.
    #[error(
        "a consistency proof is needed to show block {old_height} is an ancestor of block {new_height}"
    )]
    MissingProof {
        /// OLD's height.
        old_height: Height,
        /// NEW's height.
        new_height: Height,
    },
    /// The proof is about other heights.
    #[error(
        "the proof places block {proof_index} in a history of {proof_leaf_count} blocks, not block {old_height} in the {new_height} blocks before NEW"
    )]
    ProofForOtherHeights {
        /// The leaf the proof is for.
        proof_index: u64,
        /// The tree size the proof is for.
        proof_leaf_count: u64,
        /// OLD's height.
        old_height: Height,
        /// NEW's height.
        new_height: Height,
    },
    /// OLD's block is not in NEW's history: NEW is on another fork, or the
    /// proof is not the chain's.
    #[error("block {old_height} ({old_id}) is not an ancestor of block {new_height}: {source}")]
    NotAnAncestor {
        /// OLD's height.
        old_height: Height,
        /// OLD's block id.
        old_id: Digest,
        /// NEW's height.
        new_height: Height,
        /// Why the inclusion proof fails.
        source: InclusionError,
    },
}

/// Verifies that `old`'s block is an ancestor of `new`'s (or the same
/// block), both final under sets `anchor` vouches for, with `proof` placing
/// `old`'s id in `new`'s certified history. The proof is needed whenever
/// `new` is later than `old`.
pub fn verify_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: Option<&ConsistencyProof>,
    anchor: &TrustAnchor,
) -> Result<Consistency, ConsistencyError> {
    let old_verified = verify_checkpoint(old, anchor).map_err(ConsistencyError::Old)?;
    let new_verified = verify_checkpoint(new, anchor).map_err(ConsistencyError::New)?;
    let (old_height, new_height) = (old.height(), new.height());
    let (old_id, new_id) = (old_verified.block_id, new_verified.block_id);
    if old_height > new_height {
        return Err(ConsistencyError::Reversed {
            old_height,
            new_height,
        });
    }
    if old_height == new_height && old_id != new_id {
        return Err(ConsistencyError::Conflict {
            height: old_height,
            old: old_id,
            new: new_id,
        });
    }
    match proof {
        None if old_height == new_height => {}
        None => {
            return Err(ConsistencyError::MissingProof {
                old_height,
                new_height,
            });
        }
        Some(proof) => {
            let path = &proof.path;
            if path.index != old_height.0 || path.leaf_count != new_height.0 {
                return Err(ConsistencyError::ProofForOtherHeights {
                    proof_index: path.index,
                    proof_leaf_count: path.leaf_count,
                    old_height,
                    new_height,
                });
            }
            path.verify(&history::leaf(&old_id), &new.history.root())
                .map_err(|source| ConsistencyError::NotAnAncestor {
                    old_height,
                    old_id,
                    new_height,
                    source,
                })?;
        }
    }
    Ok(Consistency {
        statement: statement::consistency(&old.block.header, &new.block.header),
        chain_id: new_verified.chain_id.clone(),
        blocks_appended: new_height.0 - old_height.0,
        trusted: anchor.source.clone(),
        old: old_verified,
        new: new_verified,
    })
}
