//! Checking a receipt against a trust anchor, and what a valid one proves.
//!
//! The order of the checks follows the chain of trust: the validator sets
//! from the anchor, the certificate of the finalizing block with the last
//! set, the headers down to the claim's block, then the claim's own proofs
//! against that header's roots, and last the plain-words statement.

use crate::certificate::{CertificateError, quorum, verify_certificate};
use crate::receipt::{
    BalanceClaim, BatchClaim, CaseItemClaim, Claim, CredentialClaim, CurrencyFact, CustodyClaim,
    Finality, FinalizedBlock, MessageClaim, ObligationClaim, Receipt, RecordClaim, TxClaim,
};
use crate::statement;
use crate::validators::{PathError, TrustAnchor, TrustedPath, ValidatorPath, ValidatorSet};
use cityledger_types::block::{outcome_leaf, tx_leaf};
use cityledger_types::merkle::InclusionError;
use cityledger_types::records::StateKey;
use cityledger_types::safety::case_item_leaf;
use cityledger_types::smt::{ProofError, StateProof};
use cityledger_types::{BlockHeader, Digest, Height, PublicKey};
use serde::Serialize;

/// What a valid receipt proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The claim in plain words.
    pub statement: String,
    /// `transaction`, `balance`, `obligation`, `credential` or
    /// `checkpoint`.
    pub kind: &'static str,
    /// The chain.
    pub chain_id: String,
    /// Height of the block the claim is about.
    pub height: Height,
    /// Its id.
    pub block_id: Digest,
    /// Its block time, ms since the Unix epoch.
    pub block_time_ms: u64,
    /// The block that carries the certificate: the claim's block, or a
    /// descendant.
    pub certified_height: Height,
    /// Epoch of the certifying set.
    pub epoch: u64,
    /// Hash of the certifying set.
    pub validator_set_hash: Digest,
    /// Validators in that set.
    pub validators: usize,
    /// Signers needed for a quorum.
    pub quorum: usize,
    /// The validators that signed, by key.
    pub signers: Vec<PublicKey>,
    /// Their organisations, where the anchor names them (empty otherwise).
    pub signer_names: Vec<String>,
    /// Validator-set changes followed from the anchor.
    pub validator_changes: usize,
    /// Where trust comes from.
    pub trusted: String,
}

/// Why a receipt does not hold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    /// The receipt is for another chain than the anchor's.
    #[error("the receipt is for chain {found}, the trusted chain is {expected}")]
    WrongChain {
        /// The anchor's chain.
        expected: String,
        /// The receipt's.
        found: String,
    },
    /// The validator-set path fails.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The certifying block is not of the last set on the path.
    #[error(
        "block {height} is of epoch {epoch} with validator set {found}, but the path ends at epoch {set_epoch} with set {expected}"
    )]
    NotOfLastSet {
        /// The certified block.
        height: Height,
        /// Its epoch.
        epoch: u64,
        /// Its validator-set hash.
        found: Digest,
        /// The last set's epoch.
        set_epoch: u64,
        /// The last set's hash.
        expected: Digest,
    },
    /// The certificate fails.
    #[error("the certificate of block {height}: {source}")]
    Certificate {
        /// The certified block.
        height: Height,
        /// Why.
        source: CertificateError,
    },
    /// The descendant headers do not lead from the claim's block.
    #[error("descendant header {index} does not extend the one before it: {reason}")]
    BrokenDescendants {
        /// Position in the list.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The transaction's signature does not verify.
    #[error("the transaction's signature does not verify")]
    BadTxSignature,
    /// The transaction is for another chain than its block.
    #[error("the transaction is for chain {found}, its block is of chain {expected}")]
    TxWrongChain {
        /// The block's.
        expected: String,
        /// The transaction's.
        found: String,
    },
    /// An inclusion proof has the wrong shape for the block.
    #[error(
        "{what} proof is for position {index} of {leaf_count}, the block has {tx_count} transactions"
    )]
    ProofShape {
        /// Which proof.
        what: &'static str,
        /// Its index.
        index: u32,
        /// Its leaf count.
        leaf_count: u32,
        /// The header's count.
        tx_count: u32,
    },
    /// The two proofs of a transaction receipt are for different positions.
    #[error("the transaction and outcome proofs are for positions {tx} and {outcome}")]
    PositionMismatch {
        /// The transaction proof's.
        tx: u32,
        /// The outcome proof's.
        outcome: u32,
    },
    /// The transaction is not in the block.
    #[error("the transaction is not in the block: {0}")]
    NotIncluded(InclusionError),
    /// The outcome is not the block's.
    #[error("the outcome is not the one the block committed: {0}")]
    WrongOutcome(InclusionError),
    /// A state entry is not what the state root commits to.
    #[error("{what} is not in the block's state as claimed: {source}")]
    State {
        /// Which entry.
        what: String,
        /// Why.
        source: ProofError,
    },
    /// A currency definition repeats.
    #[error("currency {code} is listed twice")]
    RepeatedCurrency {
        /// The code.
        code: String,
    },
    /// An obligation claim's currency is missing, extra, or another than
    /// the obligation's.
    #[error(
        "obligation {id}: the proven currency must be the obligation's, and only given with it"
    )]
    ObligationCurrency {
        /// The obligation, hex.
        id: String,
    },
    /// A message receipt names no batch, or a message the batch's root does
    /// not commit to at that position.
    #[error("the message is not in batch {batch} as claimed: {reason}")]
    NotInBatch {
        /// The batch, hex.
        batch: String,
        /// Why.
        reason: String,
    },
    /// A credential claim's moment is not an earlier block of the chain.
    #[error("the moment of the credential's status is not usable: {reason}")]
    BadMoment {
        /// What is wrong.
        reason: &'static str,
    },
    /// A checkpoint's history is not of the blocks before it.
    #[error(
        "block {height} carries a history of {leaf_count} blocks; it must be of the {height} before it"
    )]
    HistoryLength {
        /// The checkpoint's height.
        height: Height,
        /// The history's length.
        leaf_count: u64,
    },
    /// A bundle item's inclusion proof does not hold under its version.
    #[error("the item is not where the receipt says in the case bundle: {reason}")]
    CaseItem {
        /// What is wrong.
        reason: String,
    },
    /// The plain words differ from the claim.
    #[error("the receipt's statement does not match its claim; the claim says: {expected}")]
    StatementMismatch {
        /// The statement rendered from the claim.
        expected: String,
    },
}

/// Verifies `receipt` against `anchor`.
pub fn verify(receipt: &Receipt, anchor: &TrustAnchor) -> Result<Verified, VerifyError> {
    let header = &receipt.block.header;
    let finalized = check_final(&receipt.block, &receipt.validators, anchor)?;
    let set = &finalized.path.last;
    let expected = match &receipt.claim {
        Claim::Transaction(claim) => verify_tx(claim, header)?,
        Claim::Balance(claim) => verify_balance(claim, header)?,
        Claim::Obligation(claim) => verify_obligation(claim, header)?,
        Claim::Credential(claim) => verify_credential(claim, header, set)?,
        Claim::Record(claim) => verify_record(claim, header)?,
        Claim::Batch(claim) => verify_batch(claim, header)?,
        Claim::Message(claim) => verify_message(claim, header)?,
        Claim::Custody(claim) => verify_custody(claim, header)?,
        Claim::CaseItem(claim) => verify_case_item(claim, header)?,
    };
    if receipt.statement() != expected {
        return Err(VerifyError::StatementMismatch { expected });
    }
    Ok(finalized.verified(receipt.claim.kind(), expected, header, anchor))
}

/// A block found final under a set the anchor vouches for.
pub(crate) struct Final<'a> {
    /// The validator sets from the anchor.
    pub(crate) path: TrustedPath,
    /// The header that carries the certificate.
    pub(crate) certified: &'a BlockHeader,
    /// Who signed it.
    pub(crate) signers: Vec<PublicKey>,
}

/// The checks every document about a block shares: the block is of the
/// anchor's chain, the validator path leads from the anchor, and the last
/// set on it finalized the block.
pub(crate) fn check_final<'a>(
    block: &'a FinalizedBlock,
    validators: &ValidatorPath,
    anchor: &TrustAnchor,
) -> Result<Final<'a>, VerifyError> {
    let header = &block.header;
    if header.chain_id != anchor.chain_id {
        return Err(VerifyError::WrongChain {
            expected: anchor.chain_id.to_string(),
            found: header.chain_id.to_string(),
        });
    }
    let path = validators.verify(anchor)?;
    let (certified, signers) = verify_finality(block, &path.last)?;
    Ok(Final {
        path,
        certified,
        signers,
    })
}

impl Final<'_> {
    /// What a document of `kind` about `header` proves, in `statement`.
    pub(crate) fn verified(
        self,
        kind: &'static str,
        statement: String,
        header: &BlockHeader,
        anchor: &TrustAnchor,
    ) -> Verified {
        let set = &self.path.last;
        let signer_names = self
            .signers
            .iter()
            .filter_map(|key| anchor.name_of(key).map(str::to_owned))
            .collect();
        Verified {
            statement,
            kind,
            chain_id: header.chain_id.to_string(),
            height: header.height,
            block_id: header.id(),
            block_time_ms: header.timestamp_ms,
            certified_height: self.certified.height,
            epoch: set.epoch,
            validator_set_hash: set.hash(),
            validators: set.keys().len(),
            quorum: quorum(set.keys().len()),
            signers: self.signers,
            signer_names,
            validator_changes: self.path.changes_followed,
            trusted: anchor.source.clone(),
        }
    }
}

/// Checks that `block` is final under `set`: the certificate is of that
/// set and signed by a quorum of it. Returns the certified header (the
/// block's own, or its certified descendant's) and the signers.
fn verify_finality<'a>(
    block: &'a FinalizedBlock,
    set: &ValidatorSet,
) -> Result<(&'a BlockHeader, Vec<PublicKey>), VerifyError> {
    let (certified, certificate) = certified_header(block)?;
    if certified.round.epoch != set.epoch || certified.validator_set_hash != set.hash() {
        return Err(VerifyError::NotOfLastSet {
            height: certified.height,
            epoch: certified.round.epoch,
            found: certified.validator_set_hash,
            set_epoch: set.epoch,
            expected: set.hash(),
        });
    }
    let signers = verify_certificate(certificate, set, certified).map_err(|source| {
        VerifyError::Certificate {
            height: certified.height,
            source,
        }
    })?;
    Ok((certified, signers))
}

/// The header that carries the certificate, after checking that the
/// descendants (if any) lead to it from the claim's block.
fn certified_header(block: &FinalizedBlock) -> Result<(&BlockHeader, &[u8]), VerifyError> {
    let header = &block.header;
    match &block.finality {
        Finality::Certified(certificate) => Ok((header, &certificate.0)),
        Finality::ByDescendant {
            descendants,
            certificate,
        } => {
            let mut previous = header;
            for (index, next) in descendants.0.iter().enumerate() {
                let broken = |reason| VerifyError::BrokenDescendants { index, reason };
                if next.chain_id != header.chain_id {
                    return Err(broken("it is of another chain"));
                }
                if next.height.0.checked_sub(1) != Some(previous.height.0) {
                    return Err(broken("its height does not follow"));
                }
                if next.parent != previous.id() {
                    return Err(broken("its parent is another block"));
                }
                previous = next;
            }
            if descendants.0.is_empty() {
                return Err(VerifyError::BrokenDescendants {
                    index: 0,
                    reason: "there are none",
                });
            }
            Ok((previous, &certificate.0))
        }
    }
}

fn verify_tx(claim: &TxClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    let tx = &claim.tx;
    if tx.body.chain_id != header.chain_id {
        return Err(VerifyError::TxWrongChain {
            expected: header.chain_id.to_string(),
            found: tx.body.chain_id.to_string(),
        });
    }
    // The hash covers the body only; without this check the signature
    // bytes of a receipt would prove nothing.
    tx.body
        .signer
        .verify(&tx.body.signing_payload(), &tx.signature)
        .map_err(|_| VerifyError::BadTxSignature)?;
    for (what, proof) in [
        ("transaction", &claim.tx_proof),
        ("outcome", &claim.outcome_proof),
    ] {
        // The leaf count must be the block's: a proof for a neighbouring
        // tree size can walk the same path to the same root.
        if proof.leaf_count != header.tx_count {
            return Err(VerifyError::ProofShape {
                what,
                index: proof.index,
                leaf_count: proof.leaf_count,
                tx_count: header.tx_count,
            });
        }
    }
    if claim.tx_proof.index != claim.outcome_proof.index {
        return Err(VerifyError::PositionMismatch {
            tx: claim.tx_proof.index,
            outcome: claim.outcome_proof.index,
        });
    }
    let hash = tx.hash();
    claim
        .tx_proof
        .verify(&tx_leaf(&hash), &header.tx_root)
        .map_err(VerifyError::NotIncluded)?;
    claim
        .outcome_proof
        .verify(&outcome_leaf(&hash, &claim.outcome), &header.outcomes_root)
        .map_err(VerifyError::WrongOutcome)?;
    verify_currencies(&claim.currencies.0, header)?;
    Ok(statement::transaction(claim, header))
}

fn verify_balance(claim: &BalanceClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    verify_currencies(std::slice::from_ref(&claim.currency), header)?;
    let key = StateKey::Balance(claim.address, claim.currency.code().clone());
    verify_record_entry(&claim.proof, header, &key, claim.balance.as_ref(), || {
        format!("the {} balance of {}", claim.currency.code(), claim.address)
    })?;
    Ok(statement::balance(claim, header))
}

fn verify_obligation(claim: &ObligationClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    match (&claim.record, &claim.currency) {
        (Some(record), Some(currency)) if *currency.code() == record.currency => {
            verify_currencies(std::slice::from_ref(currency), header)?;
        }
        (None, None) => {}
        _ => {
            return Err(VerifyError::ObligationCurrency {
                id: claim.id.to_hex(),
            });
        }
    }
    verify_record_entry(
        &claim.proof,
        header,
        &StateKey::Obligation(claim.id),
        claim.record.as_ref(),
        || format!("obligation {}", claim.id),
    )?;
    Ok(statement::obligation(claim, header))
}

fn verify_custody(claim: &CustodyClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    let value = claim
        .record
        .as_ref()
        .map(cityledger_types::encoding::encode);
    verify_entry(
        &claim.proof,
        header,
        &StateKey::Custody(claim.id),
        value.as_deref(),
        || format!("custody of evidence {}", claim.id),
    )?;
    Ok(statement::custody(claim, header))
}

fn verify_case_item(claim: &CaseItemClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    verify_entry(
        &claim.proof,
        header,
        &StateKey::CaseVersion(claim.case, claim.version),
        Some(&cityledger_types::encoding::encode(&claim.record)),
        || format!("version {} of case {}", claim.version, claim.case),
    )?;
    if claim.inclusion.leaf_count != claim.record.item_count {
        return Err(VerifyError::CaseItem {
            reason: format!(
                "the proof is for a bundle of {} items; version {} has {}",
                claim.inclusion.leaf_count, claim.version, claim.record.item_count
            ),
        });
    }
    claim
        .inclusion
        .verify(&case_item_leaf(&claim.item), &claim.record.root)
        .map_err(|error| VerifyError::CaseItem {
            reason: error.to_string(),
        })?;
    Ok(statement::case_item(claim, header))
}

fn verify_credential(
    claim: &CredentialClaim,
    header: &BlockHeader,
    set: &ValidatorSet,
) -> Result<String, VerifyError> {
    verify_record_entry(
        &claim.proof,
        header,
        &StateKey::Credential(claim.id),
        claim.record.as_ref(),
        || format!("credential {}", claim.id),
    )?;
    if let Some(moment) = &claim.moment {
        let earlier = &moment.header;
        if earlier.chain_id != header.chain_id {
            return Err(VerifyError::BadMoment {
                reason: "its block is of another chain",
            });
        }
        // One form per question: the receipt's own block is asked about
        // without a moment.
        if earlier.height >= header.height {
            return Err(VerifyError::BadMoment {
                reason: "its block is not earlier than the receipt's block",
            });
        }
        // Until validator sets change on chain, every block of a receipt
        // is final under the same set; the path then grows a set per
        // moment.
        verify_finality(moment, set)?;
    }
    Ok(statement::credential(claim, header))
}

fn verify_record(claim: &RecordClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    verify_record_entry(
        &claim.proof,
        header,
        &StateKey::Record(claim.id),
        claim.record.as_ref(),
        || format!("record {}", claim.id),
    )?;
    Ok(statement::record(claim, header))
}

fn verify_batch_entry(claim: &BatchClaim, header: &BlockHeader) -> Result<(), VerifyError> {
    verify_record_entry(
        &claim.proof,
        header,
        &StateKey::Batch(claim.id),
        claim.record.as_ref(),
        || format!("batch {}", claim.id),
    )
}

fn verify_batch(claim: &BatchClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    verify_batch_entry(claim, header)?;
    Ok(statement::batch(claim, header))
}

fn verify_message(claim: &MessageClaim, header: &BlockHeader) -> Result<String, VerifyError> {
    verify_batch_entry(&claim.batch, header)?;
    let not_in_batch = |reason: String| VerifyError::NotInBatch {
        batch: claim.batch.id.to_hex(),
        reason,
    };
    let Some(batch) = &claim.batch.record else {
        return Err(not_in_batch("no such batch exists".into()));
    };
    if batch.message_count != claim.inclusion.leaf_count {
        return Err(not_in_batch(format!(
            "the proof is for {} messages, the batch holds {}",
            claim.inclusion.leaf_count, batch.message_count
        )));
    }
    crate::membership::verify_member(&claim.message.0, &claim.inclusion, &batch.root)
        .map_err(|error| not_in_batch(error.to_string()))?;
    Ok(statement::message(claim, header))
}

fn verify_currencies(currencies: &[CurrencyFact], header: &BlockHeader) -> Result<(), VerifyError> {
    for (index, fact) in currencies.iter().enumerate() {
        if currencies[..index]
            .iter()
            .any(|seen| seen.code() == fact.code())
        {
            return Err(VerifyError::RepeatedCurrency {
                code: fact.code().to_string(),
            });
        }
        let value = cityledger_types::encoding::encode(&fact.record);
        verify_entry(
            &fact.proof,
            header,
            &StateKey::Currency(fact.code().clone()),
            Some(&value),
            || format!("currency {}", fact.code()),
        )?;
    }
    Ok(())
}

/// Checks one state entry, present with `value` or absent, against the
/// header's state root: the one path every state claim takes.
pub fn verify_entry(
    proof: &StateProof,
    header: &BlockHeader,
    key: &StateKey,
    value: Option<&[u8]>,
    what: impl FnOnce() -> String,
) -> Result<(), VerifyError> {
    proof
        .verify(&header.state_root, &key.to_bytes(), value)
        .map_err(|source| VerifyError::State {
            what: what(),
            source,
        })
}

/// [`verify_entry`] for a typed record, present or proven absent.
fn verify_record_entry<T: borsh::BorshSerialize>(
    proof: &StateProof,
    header: &BlockHeader,
    key: &StateKey,
    record: Option<&T>,
    what: impl FnOnce() -> String,
) -> Result<(), VerifyError> {
    let value = record.map(cityledger_types::encoding::encode);
    verify_entry(proof, header, key, value.as_deref(), what)
}

/// The single-byte changes of `receipt`'s binary form (each byte XORed
/// with each of `masks`) that still decode and verify under `anchor`:
/// empty for a receipt in which every byte counts. For tests, here and in
/// the CLI's integration tests.
pub fn accepted_flips(receipt: &Receipt, anchor: &TrustAnchor, masks: &[u8]) -> Vec<(usize, u8)> {
    accepted_byte_flips(&receipt.to_bytes(), masks, |tampered| {
        Receipt::from_bytes(tampered)
            .ok()
            .is_some_and(|decoded| verify(&decoded, anchor).is_ok())
    })
}

/// The single-byte changes of `bytes` (each byte XORed with each of
/// `masks`) that `accepts` still accepts: the shared loop of every
/// tamper test, whatever the document.
pub fn accepted_byte_flips(
    bytes: &[u8],
    masks: &[u8],
    accepts: impl Fn(&[u8]) -> bool,
) -> Vec<(usize, u8)> {
    let mut accepted = Vec::new();
    let mut tampered = bytes.to_vec();
    for index in 0..bytes.len() {
        for &mask in masks {
            tampered[index] ^= mask;
            if accepts(&tampered) {
                accepted.push((index, mask));
            }
            tampered[index] ^= mask;
        }
    }
    accepted
}
