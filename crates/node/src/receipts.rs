//! Receipts from this node's chain: a finalized transaction with its
//! outcome, or a balance, an obligation, a credential, an evidence item's
//! custody or a case-bundle item at the finalized tip, assembled with the block's
//! certificate and the validator set into a `cityledger_verifier::Receipt`;
//! and checkpoints with the consistency proofs between them.
//!
//! The node assembles; it never vouches. Whoever holds a receipt checks it
//! offline with the verifier, so a bug here yields a receipt that fails,
//! never one that lies. This module reads the store and the chain's state
//! versions; it never writes, and it knows nothing of HTTP.

use crate::chain::{Chain, ExecutedBlock};
use crate::history_index::{self, HistoryIndexError};
use crate::limits::RECEIPT_DESCENDANT_SCAN_MAX;
use cityledger_storage::{Store, StoreError};
use cityledger_types::{Address, Block, BlockHeader, CurrencyCode, Digest, Height, TxOutcome};
use cityledger_verifier::assemble::{self, AssembleError, currencies_of, currency_fact};
use cityledger_verifier::validators::{ValidatorPath, ValidatorSet};
use cityledger_verifier::{Checkpoint, Claim, ConsistencyProof, FinalizedBlock, Receipt};

/// Why no receipt could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The transaction is not in a finalized block (pending, dropped or
    /// unknown).
    #[error("transaction {hash} is not finalized; a receipt exists once it is")]
    NotFinalized {
        /// Its hash.
        hash: Digest,
    },
    /// The currency does not exist.
    #[error("currency {code} does not exist")]
    UnknownCurrency {
        /// Its code.
        code: CurrencyCode,
    },
    /// The block is final, but no certificate that proves it is stored
    /// yet: its certified descendant is not committed here.
    #[error(
        "block {height} has no certificate of its own and no certified descendant is stored yet; retry in a moment"
    )]
    NoCertificateYet {
        /// The block.
        height: Height,
    },
    /// The height asked about is above the newest certified finalized
    /// block.
    #[error(
        "height {height} is not finalized with a certificate yet; the newest certified height is {certified}"
    )]
    HeightNotFinalized {
        /// The height asked about.
        height: Height,
        /// The newest certified finalized height.
        certified: Height,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data does not decode: the store is damaged.
    #[error("stored block {height} is damaged: {reason}")]
    Corrupt {
        /// The block.
        height: Height,
        /// Why.
        reason: String,
    },
    /// The pieces do not fit the format (a bound).
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    /// A consistency proof's new height is above the finalized tip.
    #[error("height {height} is not finalized yet; the finalized tip is {tip}")]
    AboveTip {
        /// The height asked about.
        height: Height,
        /// The finalized tip.
        tip: Height,
    },
    /// A consistency proof's heights are not `old < new`.
    #[error(
        "the old height {old} must be below the new height {new} (a block is consistent with itself without a proof)"
    )]
    HeightsOutOfOrder {
        /// The old height.
        old: Height,
        /// The new height.
        new: Height,
    },
    /// The history index cannot serve the proof.
    #[error(transparent)]
    History(#[from] HistoryIndexError),
}

/// A finalized block read back with its outcomes and certificate.
struct StoredFinal {
    block: Block,
    outcomes: Vec<TxOutcome>,
    certificate: Vec<u8>,
}

fn load(store: &dyn Store, height: Height) -> Result<Option<StoredFinal>, ReceiptError> {
    let Some(stored) = store.block(height)? else {
        return Ok(None);
    };
    let corrupt = |reason: String| ReceiptError::Corrupt { height, reason };
    let block = Block::from_bytes(&stored.block_bytes).map_err(|e| corrupt(e.to_string()))?;
    let outcomes: Vec<TxOutcome> =
        borsh::from_slice(&stored.outcomes_bytes).map_err(|e| corrupt(e.to_string()))?;
    Ok(Some(StoredFinal {
        block,
        outcomes,
        certificate: stored.certificate,
    }))
}

/// The validator path of every receipt until validator sets change on
/// chain: genesis's set, the one the engine runs in epoch 0.
fn validator_path(chain: &Chain) -> ValidatorPath {
    let set = ValidatorSet::new(0, chain.genesis().validators.iter().map(|v| v.key))
        .expect("a genesis that opened has a valid validator set");
    ValidatorPath::single(set)
}

/// Why `header` is final: its certificate, or the nearest certified
/// descendant within the scan bound.
fn finality(
    chain: &Chain,
    header: BlockHeader,
    certificate: Vec<u8>,
) -> Result<FinalizedBlock, ReceiptError> {
    if !certificate.is_empty() {
        return Ok(assemble::certified(header, &certificate)?);
    }
    let height = header.height;
    let tip = chain.finalized().block.header.height;
    let mut descendants = Vec::new();
    let mut next = height.next();
    while next <= tip && descendants.len() < RECEIPT_DESCENDANT_SCAN_MAX {
        let Some(stored) = load(chain.store().as_ref(), next)? else {
            break;
        };
        descendants.push(stored.block.header);
        if !stored.certificate.is_empty() {
            return Ok(assemble::by_descendant(
                header,
                descendants,
                &stored.certificate,
            )?);
        }
        next = next.next();
    }
    Err(ReceiptError::NoCertificateYet { height })
}

/// The receipt of the finalized transaction `hash` and its outcome.
pub fn tx_receipt(chain: &Chain, hash: Digest) -> Result<Receipt, ReceiptError> {
    let store = chain.store().as_ref();
    let location = store
        .tx_location(&hash)?
        .ok_or(ReceiptError::NotFinalized { hash })?;
    let height = location.height;
    let stored = load(store, height)?.ok_or_else(|| ReceiptError::Corrupt {
        height,
        reason: "the transaction index names a block the store does not hold".into(),
    })?;
    let position = location.position as usize;
    let tx = stored
        .block
        .txs
        .0
        .get(position)
        .cloned()
        .ok_or_else(|| ReceiptError::Corrupt {
            height,
            reason: "the indexed position is outside the block".into(),
        })?;
    let hashes: Vec<Digest> = stored.block.txs.0.iter().map(|tx| tx.hash()).collect();
    // Decimals are proven against the block's own state root, which only
    // the recent state versions can do; older receipts read minor units.
    let currencies = match chain.finalized_at(height) {
        Some(executed) => currencies_of(&tx)
            .iter()
            .filter_map(|code| currency_fact(&executed.state, code).ok())
            .collect(),
        None => Vec::new(),
    };
    let claim = assemble::tx_claim(tx, position, &hashes, &stored.outcomes, currencies)?;
    let block = finality(chain, stored.block.header, stored.certificate)?;
    Ok(assemble::receipt(
        Claim::Transaction(claim),
        block,
        validator_path(chain),
    )?)
}

/// The receipt of `address`'s balance in `currency` after the newest
/// finalized block that has a certificate of its own (normally the tip).
pub fn balance_receipt(
    chain: &Chain,
    address: Address,
    currency: &CurrencyCode,
) -> Result<Receipt, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let claim =
        assemble::balance_claim(&executed.state, address, currency).map_err(
            |error| match error {
                AssembleError::UnknownCurrency { .. } => ReceiptError::UnknownCurrency {
                    code: currency.clone(),
                },
                other => ReceiptError::Assemble(other),
            },
        )?;
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(assemble::receipt(
        Claim::Balance(claim),
        block,
        validator_path(chain),
    )?)
}

/// The newest finalized block that has a certificate of its own (normally
/// the tip), with its state version and certificate: what a state claim is
/// proven against.
fn certified_state(chain: &Chain) -> Result<(ExecutedBlock, Vec<u8>), ReceiptError> {
    let tip = chain.finalized();
    let mut height = tip.block.header.height;
    // A state proof needs the state version of a certified block; the tip
    // almost always has its certificate, and otherwise a recent one does.
    loop {
        let certificate = chain
            .store()
            .block(height)?
            .map(|stored| stored.certificate)
            .unwrap_or_default();
        match chain.finalized_at(height) {
            Some(executed) if !certificate.is_empty() => return Ok((executed, certificate)),
            Some(_) if height.0 > 0 => height = Height(height.0 - 1),
            _ => {
                return Err(ReceiptError::NoCertificateYet {
                    height: tip.block.header.height,
                });
            }
        }
    }
}

/// The receipt of obligation `id` (its terms and status, or its absence)
/// after the newest certified finalized block.
pub fn obligation_receipt(chain: &Chain, id: Digest) -> Result<Receipt, ReceiptError> {
    state_receipt(chain, |state| {
        Ok(Claim::Obligation(Box::new(assemble::obligation_claim(
            state, id,
        )?)))
    })
}

/// What a receipt on one state entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateSubject {
    /// A record's commitment, parties, acknowledgements and erasure.
    Record(Digest),
    /// A device's anchored batch; a message receipt is made from it.
    Batch(Digest),
}

/// The receipt of `subject` (its entry, or its absence) at the newest
/// certified finalized block.
pub fn subject_receipt(chain: &Chain, subject: StateSubject) -> Result<Receipt, ReceiptError> {
    state_receipt(chain, |state| {
        Ok(match subject {
            StateSubject::Record(id) => Claim::Record(Box::new(assemble::record_claim(state, id)?)),
            StateSubject::Batch(id) => Claim::Batch(Box::new(assemble::batch_claim(state, id)?)),
        })
    })
}

/// The receipt of the claim `claim` makes on the state of the newest
/// certified finalized block.
fn state_receipt(
    chain: &Chain,
    claim: impl FnOnce(&cityledger_types::smt::SparseMerkleTree) -> Result<Claim, AssembleError>,
) -> Result<Receipt, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let claim = claim(&executed.state)?;
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(assemble::receipt(claim, block, validator_path(chain))?)
}

/// The receipt of credential `id` (its record, or its absence) after the
/// newest certified finalized block, with its status judged at `at`: an
/// earlier height, whose block and finality the receipt then carries so
/// that its block time is proven, or the receipt's own block.
pub fn credential_receipt(
    chain: &Chain,
    id: Digest,
    at: Option<Height>,
) -> Result<Receipt, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let certified_height = executed.block.header.height;
    let moment = match at {
        Some(height) if height > certified_height => {
            return Err(ReceiptError::HeightNotFinalized {
                height,
                certified: certified_height,
            });
        }
        Some(height) if height < certified_height => {
            let stored =
                load(chain.store().as_ref(), height)?.ok_or_else(|| ReceiptError::Corrupt {
                    height,
                    reason: "a finalized height below the tip is missing from the store".into(),
                })?;
            Some(finality(chain, stored.block.header, stored.certificate)?)
        }
        _ => None,
    };
    let claim = assemble::credential_claim(&executed.state, id, moment)?;
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(assemble::receipt(
        Claim::Credential(Box::new(claim)),
        block,
        validator_path(chain),
    )?)
}

/// The receipt of the custody of evidence `id` (its whole chain of
/// custody, or its absence) after the newest certified finalized block.
pub fn custody_receipt(chain: &Chain, id: Digest) -> Result<Receipt, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let claim = assemble::custody_claim(&executed.state, id)?;
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(assemble::receipt(
        Claim::Custody(Box::new(claim)),
        block,
        validator_path(chain),
    )?)
}

/// The receipt that `item` is at its position in `version` of `case`
/// (the newest version if `None`), after the newest certified finalized
/// block; `Ok(None)` when the case, the version or the item is not there.
pub fn case_item_receipt(
    chain: &Chain,
    case: Digest,
    version: Option<u32>,
    item: Digest,
) -> Result<Option<Receipt>, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let version = match version {
        Some(version) => version,
        None => {
            let key = cityledger_types::records::StateKey::Case(case).to_bytes();
            let Some(bytes) = executed.state.get(&key) else {
                return Ok(None);
            };
            let record: cityledger_types::safety::CaseRecord =
                borsh::from_slice(bytes).map_err(|e| ReceiptError::Corrupt {
                    height: executed.block.header.height,
                    reason: e.to_string(),
                })?;
            record.versions
        }
    };
    let Some(claim) = assemble::case_item_claim(&executed.state, case, version, item)? else {
        return Ok(None);
    };
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(Some(assemble::receipt(
        Claim::CaseItem(Box::new(claim)),
        block,
        validator_path(chain),
    )?))
}

/// The checkpoint of the newest finalized block that has a certificate of
/// its own: its header, finality, validator path and the history peaks its
/// state holds.
pub fn checkpoint(chain: &Chain) -> Result<Checkpoint, ReceiptError> {
    let (executed, certificate) = certified_state(chain)?;
    let block = assemble::certified(executed.block.header.clone(), &certificate)?;
    Ok(assemble::checkpoint(
        &executed.state,
        block,
        validator_path(chain),
    )?)
}

/// The proof that the finalized block at `old` is an ancestor of the one at
/// `new`, from the history index; `old < new <= tip`.
pub fn consistency_proof(
    chain: &Chain,
    old: Height,
    new: Height,
) -> Result<ConsistencyProof, ReceiptError> {
    if old >= new {
        return Err(ReceiptError::HeightsOutOfOrder { old, new });
    }
    let tip = chain.finalized().block.header.height;
    if new > tip {
        return Err(ReceiptError::AboveTip { height: new, tip });
    }
    let path = history_index::prove(chain.store().as_ref(), old, new)?;
    Ok(ConsistencyProof { path })
}

/// The checkpoint as the REST API serves it.
pub fn checkpoint_view(checkpoint: &Checkpoint) -> cityledger_api::CheckpointView {
    let header = &checkpoint.block.header;
    cityledger_api::CheckpointView {
        statement: checkpoint.statement().to_owned(),
        height: header.height,
        block_id: header.id(),
        size_bytes: checkpoint.to_bytes().len() as u32,
        checkpoint: checkpoint.to_text(),
    }
}

/// The consistency proof as the REST API serves it.
pub fn consistency_view(proof: &ConsistencyProof) -> cityledger_api::ConsistencyProofView {
    cityledger_api::ConsistencyProofView {
        old_height: Height(proof.path.index),
        new_height: Height(proof.path.leaf_count),
        size_bytes: proof.to_bytes().len() as u32,
        proof: proof.to_text(),
    }
}

/// The receipt as the REST API serves it.
pub fn view(receipt: &Receipt) -> cityledger_api::ReceiptView {
    let bytes = receipt.to_bytes();
    let header = &receipt.block.header;
    cityledger_api::ReceiptView {
        kind: receipt.claim.kind().to_owned(),
        statement: receipt.statement().to_owned(),
        height: header.height,
        block_id: header.id(),
        size_bytes: bytes.len() as u32,
        receipt: receipt.to_text(),
    }
}
