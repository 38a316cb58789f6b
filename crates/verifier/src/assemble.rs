//! Putting receipts together from what a node holds: a block, its
//! outcomes, a state version and a certificate.
//!
//! The node calls these, and so do the tests of this crate; keeping them
//! here keeps the format in one crate. Nothing here checks a receipt: a
//! node that assembles a wrong one gets it refused by [`crate::verify()`].

use crate::bounded::{BoundedBytes, BoundedText, BoundedVec};
use crate::checkpoint::Checkpoint;
use crate::limits::{DESCENDANT_HEADERS_MAX, RECEIPT_CURRENCIES_MAX, STATEMENT_BYTES_MAX};
use crate::receipt::{
    BalanceClaim, BatchClaim, CaseItemClaim, Claim, CredentialClaim, CurrencyFact, CustodyClaim,
    Finality, FinalizedBlock, MessageClaim, ObligationClaim, Receipt, RecordClaim, TxClaim,
};
use crate::statement;
use crate::validators::ValidatorPath;
use cityledger_types::block::{outcome_leaf, tx_leaf};
use cityledger_types::history::HistoryRecord;
use cityledger_types::limits::STREAM_MESSAGE_BYTES_MAX;
use cityledger_types::merkle::{self, InclusionProof};
use cityledger_types::obligation::{ObligationOp, ObligationRecord};
use cityledger_types::records::{BalanceRecord, CurrencyRecord, StateKey};
use cityledger_types::safety::{CaseRecord, CaseVersionRecord, case_item_leaf};
use cityledger_types::smt::SparseMerkleTree;
use cityledger_types::tx::{Action, LedgerOp};
use cityledger_types::{Address, BlockHeader, CurrencyCode, Digest, SignedTx, TxOutcome};

/// Why a receipt could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// The position is outside the block.
    #[error("position {position} is outside a block of {count} transactions")]
    NoSuchPosition {
        /// Asked for.
        position: usize,
        /// Transactions in the block.
        count: usize,
    },
    /// The currency does not exist in the state.
    #[error("currency {code} does not exist")]
    UnknownCurrency {
        /// Its code.
        code: String,
    },
    /// A message receipt can only be made from a batch receipt.
    #[error("the receipt is not a batch receipt")]
    NotABatch,
    /// The message is not the batch's at the position given.
    #[error("{reason}")]
    NotInBatch {
        /// Why.
        reason: String,
    },
    /// A message above the stream limit.
    #[error("the message is {length} bytes, above the limit of {limit}")]
    MessageTooLong {
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// A state record does not decode: the node's state is damaged.
    #[error("the state entry of {what} does not decode")]
    CorruptState {
        /// Which entry.
        what: String,
    },
    /// More descendants than a receipt may carry.
    #[error("the nearest certified descendant is {count} blocks away, above the limit of {limit}")]
    TooManyDescendants {
        /// Needed.
        count: usize,
        /// [`DESCENDANT_HEADERS_MAX`].
        limit: usize,
    },
    /// A certificate above its bound.
    #[error("the certificate is {length} bytes, above the limit of {limit}")]
    CertificateTooLarge {
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The block's state has no history: only the genesis block's lacks
    /// one, and genesis is trusted through its document.
    #[error("block {height} has no history of earlier blocks to checkpoint")]
    NoHistory {
        /// The block.
        height: cityledger_types::Height,
    },
    /// The rendered statement is above its bound.
    #[error("the statement is {length} bytes, above the limit of {limit}")]
    StatementTooLong {
        /// Its length.
        length: usize,
        /// [`STATEMENT_BYTES_MAX`].
        limit: usize,
    },
}

/// The currency codes a transaction's amounts are in, each once, in order.
pub fn currencies_of(tx: &SignedTx) -> Vec<CurrencyCode> {
    let ops: Vec<&LedgerOp> = match &tx.body.action {
        Action::Ledger(op) => vec![op],
        Action::Linked(ops) => ops.0.iter().collect(),
        Action::Governance(_)
        | Action::Obligation(_)
        | Action::Application(_)
        | Action::Credential(_)
        | Action::Record(_)
        | Action::Device(_)
        | Action::Safety(_)
        | Action::Education(_) => Vec::new(),
    };
    let mut codes: Vec<&CurrencyCode> = ops
        .into_iter()
        .filter_map(|op| match op {
            LedgerOp::Transfer(order) | LedgerOp::CreatePending { order, .. } => {
                Some(&order.currency)
            }
            LedgerOp::PostPending { .. } | LedgerOp::VoidPending { .. } => None,
        })
        .collect();
    match &tx.body.action {
        Action::Obligation(ObligationOp::Pay { currency, .. }) => codes.push(currency),
        Action::Obligation(ObligationOp::Issue(issuance)) => codes.push(&issuance.currency),
        _ => {}
    }
    let mut codes: Vec<CurrencyCode> = codes.into_iter().fold(Vec::new(), |mut unique, code| {
        if !unique.contains(code) {
            unique.push(code.clone());
        }
        unique
    });
    codes.truncate(RECEIPT_CURRENCIES_MAX);
    codes
}

/// The proven definition of `code` in `state`.
pub fn currency_fact(
    state: &SparseMerkleTree,
    code: &CurrencyCode,
) -> Result<CurrencyFact, AssembleError> {
    let key = StateKey::Currency(code.clone()).to_bytes();
    let bytes = state
        .get(&key)
        .ok_or_else(|| AssembleError::UnknownCurrency {
            code: code.to_string(),
        })?;
    let record: CurrencyRecord =
        borsh::from_slice(bytes).map_err(|_| AssembleError::CorruptState {
            what: format!("currency {code}"),
        })?;
    Ok(CurrencyFact {
        record,
        proof: state.prove(&key),
    })
}

/// The claim that the transaction at `position` of a block was included
/// with its outcome. `hashes` and `outcomes` are the block's, in order;
/// `currencies` are proven against the same block's state, or empty when
/// that state is no longer at hand (amounts then read in minor units).
pub fn tx_claim(
    tx: SignedTx,
    position: usize,
    hashes: &[Digest],
    outcomes: &[TxOutcome],
    currencies: Vec<CurrencyFact>,
) -> Result<TxClaim, AssembleError> {
    let (Some(hash), Some(outcome)) = (hashes.get(position), outcomes.get(position)) else {
        return Err(AssembleError::NoSuchPosition {
            position,
            count: hashes.len(),
        });
    };
    debug_assert_eq!(*hash, tx.hash());
    let tx_leaves: Vec<Digest> = hashes.iter().map(tx_leaf).collect();
    let outcome_leaves: Vec<Digest> = hashes
        .iter()
        .zip(outcomes)
        .map(|(hash, outcome)| outcome_leaf(hash, outcome))
        .collect();
    let mut currencies = currencies;
    currencies.truncate(RECEIPT_CURRENCIES_MAX);
    Ok(TxClaim {
        tx,
        outcome: outcome.clone(),
        tx_proof: merkle::prove(&tx_leaves, position),
        outcome_proof: merkle::prove(&outcome_leaves, position),
        currencies: BoundedVec(currencies),
    })
}

/// The claim of `address`'s balance in `code` in `state`, present or absent.
pub fn balance_claim(
    state: &SparseMerkleTree,
    address: Address,
    code: &CurrencyCode,
) -> Result<BalanceClaim, AssembleError> {
    let currency = currency_fact(state, code)?;
    let key = StateKey::Balance(address, code.clone()).to_bytes();
    let balance: Option<BalanceRecord> =
        state_entry(state, &key, || format!("the {code} balance of {address}"))?;
    Ok(BalanceClaim {
        address,
        currency,
        balance,
        proof: state.prove(&key),
    })
}

/// The claim on obligation `id` in `state`: its record and currency, or
/// its absence.
pub fn obligation_claim(
    state: &SparseMerkleTree,
    id: Digest,
) -> Result<ObligationClaim, AssembleError> {
    let key = StateKey::Obligation(id).to_bytes();
    let record: Option<ObligationRecord> = state_entry(state, &key, || format!("obligation {id}"))?;
    let currency = record
        .as_ref()
        .map(|record| currency_fact(state, &record.currency))
        .transpose()?;
    Ok(ObligationClaim {
        id,
        record,
        currency,
        proof: state.prove(&key),
    })
}

/// The claim on the custody of evidence `id` in `state`: its record, or
/// its absence.
pub fn custody_claim(state: &SparseMerkleTree, id: Digest) -> Result<CustodyClaim, AssembleError> {
    let key = StateKey::Custody(id).to_bytes();
    let record = state
        .get(&key)
        .map(borsh::from_slice)
        .transpose()
        .map_err(|_| AssembleError::CorruptState {
            what: format!("custody of evidence {id}"),
        })?;
    Ok(CustodyClaim {
        id,
        record,
        proof: state.prove(&key),
    })
}

/// The claim that `item` is at its position in `version` of `case`, from
/// `state`; `None` when the case, the version or the item is not there.
pub fn case_item_claim(
    state: &SparseMerkleTree,
    case: Digest,
    version: u32,
    item: Digest,
) -> Result<Option<CaseItemClaim>, AssembleError> {
    let corrupt = |what: String| AssembleError::CorruptState { what };
    let Some(case_bytes) = state.get(&StateKey::Case(case).to_bytes()) else {
        return Ok(None);
    };
    let record: CaseRecord =
        borsh::from_slice(case_bytes).map_err(|_| corrupt(format!("case {case}")))?;
    let key = StateKey::CaseVersion(case, version).to_bytes();
    let Some(version_bytes) = state.get(&key) else {
        return Ok(None);
    };
    let kept: CaseVersionRecord = borsh::from_slice(version_bytes)
        .map_err(|_| corrupt(format!("version {version} of case {case}")))?;
    // Items are only appended: version v holds the first item_count items.
    let Some(items) = record.items.0.get(..kept.item_count as usize) else {
        return Err(corrupt(format!(
            "version {version} of case {case} is longer than the case"
        )));
    };
    let Some(index) = items.iter().position(|candidate| *candidate == item) else {
        return Ok(None);
    };
    let leaves: Vec<Digest> = items.iter().map(case_item_leaf).collect();
    Ok(Some(CaseItemClaim {
        case,
        version,
        record: kept,
        proof: state.prove(&key),
        item,
        inclusion: merkle::prove(&leaves, index),
    }))
}

/// The claim on credential `id` in `state`, its record or its absence,
/// judged at `moment` (an earlier final block) or at the state's block.
pub fn credential_claim(
    state: &SparseMerkleTree,
    id: Digest,
    moment: Option<FinalizedBlock>,
) -> Result<CredentialClaim, AssembleError> {
    let key = StateKey::Credential(id).to_bytes();
    Ok(CredentialClaim {
        id,
        record: state_entry(state, &key, || format!("credential {id}"))?,
        proof: state.prove(&key),
        moment,
    })
}

/// The value under `key` in `state`, decoded; `what` names it if corrupt.
fn state_entry<T: borsh::BorshDeserialize>(
    state: &SparseMerkleTree,
    key: &[u8],
    what: impl FnOnce() -> String,
) -> Result<Option<T>, AssembleError> {
    state
        .get(key)
        .map(borsh::from_slice)
        .transpose()
        .map_err(|_| AssembleError::CorruptState { what: what() })
}

/// The claim on record `id` in `state`: its record or its absence.
pub fn record_claim(state: &SparseMerkleTree, id: Digest) -> Result<RecordClaim, AssembleError> {
    let key = StateKey::Record(id).to_bytes();
    Ok(RecordClaim {
        id,
        record: state_entry(state, &key, || format!("record {id}"))?,
        proof: state.prove(&key),
    })
}

/// The claim on batch `id` in `state`: its record or its absence.
pub fn batch_claim(state: &SparseMerkleTree, id: Digest) -> Result<BatchClaim, AssembleError> {
    let key = StateKey::Batch(id).to_bytes();
    Ok(BatchClaim {
        id,
        record: state_entry(state, &key, || format!("batch {id}"))?,
        proof: state.prove(&key),
    })
}

/// The receipt of one message, from its batch's receipt: the message and
/// its inclusion take the batch claim's place, on the same block and
/// validator path, and the statement is rendered anew.
pub fn message_receipt(
    batch_receipt: Receipt,
    message: Vec<u8>,
    inclusion: InclusionProof,
) -> Result<Receipt, AssembleError> {
    let Claim::Batch(batch) = batch_receipt.claim else {
        return Err(AssembleError::NotABatch);
    };
    if message.len() > STREAM_MESSAGE_BYTES_MAX {
        return Err(AssembleError::MessageTooLong {
            length: message.len(),
            limit: STREAM_MESSAGE_BYTES_MAX,
        });
    }
    // A receipt that cannot verify helps no one: the message must be the
    // batch's at that position.
    let Some(record) = &batch.record else {
        return Err(AssembleError::NotInBatch {
            reason: format!("batch {} does not exist", batch.id),
        });
    };
    if inclusion.leaf_count != record.message_count {
        return Err(AssembleError::NotInBatch {
            reason: format!(
                "the proof is for {} messages, batch {} holds {}",
                inclusion.leaf_count, batch.id, record.message_count
            ),
        });
    }
    crate::membership::verify_member(&message, &inclusion, &record.root).map_err(|error| {
        AssembleError::NotInBatch {
            reason: format!(
                "not message {} of batch {}: {error}",
                inclusion.index, batch.id
            ),
        }
    })?;
    let claim = MessageClaim {
        batch: *batch,
        message: BoundedBytes(message),
        inclusion,
    };
    receipt(
        Claim::Message(Box::new(claim)),
        batch_receipt.block,
        batch_receipt.validators,
    )
}

/// Finality by the block's own certificate.
pub fn certified(header: BlockHeader, certificate: &[u8]) -> Result<FinalizedBlock, AssembleError> {
    Ok(FinalizedBlock {
        header,
        finality: Finality::Certified(bounded_certificate(certificate)?),
    })
}

/// Finality by the certificate of the last of `descendants`.
pub fn by_descendant(
    header: BlockHeader,
    descendants: Vec<BlockHeader>,
    certificate: &[u8],
) -> Result<FinalizedBlock, AssembleError> {
    if descendants.len() > DESCENDANT_HEADERS_MAX {
        return Err(AssembleError::TooManyDescendants {
            count: descendants.len(),
            limit: DESCENDANT_HEADERS_MAX,
        });
    }
    Ok(FinalizedBlock {
        header,
        finality: Finality::ByDescendant {
            descendants: BoundedVec(descendants),
            certificate: bounded_certificate(certificate)?,
        },
    })
}

fn bounded_certificate(
    certificate: &[u8],
) -> Result<BoundedBytes<{ crate::limits::CERTIFICATE_BYTES_MAX }>, AssembleError> {
    if certificate.len() > crate::limits::CERTIFICATE_BYTES_MAX {
        return Err(AssembleError::CertificateTooLarge {
            length: certificate.len(),
            limit: crate::limits::CERTIFICATE_BYTES_MAX,
        });
    }
    Ok(BoundedBytes(certificate.to_vec()))
}

/// The receipt of `claim` about `block`, with its statement rendered.
pub fn receipt(
    claim: Claim,
    block: FinalizedBlock,
    validators: ValidatorPath,
) -> Result<Receipt, AssembleError> {
    let statement = match &claim {
        Claim::Transaction(tx) => statement::transaction(tx, &block.header),
        Claim::Balance(balance) => statement::balance(balance, &block.header),
        Claim::Obligation(obligation) => statement::obligation(obligation, &block.header),
        Claim::Credential(credential) => statement::credential(credential, &block.header),
        Claim::Record(record) => statement::record(record, &block.header),
        Claim::Batch(batch) => statement::batch(batch, &block.header),
        Claim::Message(message) => statement::message(message, &block.header),
        Claim::Custody(custody) => statement::custody(custody, &block.header),
        Claim::CaseItem(item) => statement::case_item(item, &block.header),
    };
    if statement.len() > STATEMENT_BYTES_MAX {
        return Err(AssembleError::StatementTooLong {
            length: statement.len(),
            limit: STATEMENT_BYTES_MAX,
        });
    }
    Ok(Receipt {
        claim,
        statement: BoundedText(statement),
        block,
        validators,
    })
}

/// The checkpoint of `block`, whose state is `state`: its history peaks
/// with their proof, and its statement rendered.
pub fn checkpoint(
    state: &SparseMerkleTree,
    block: FinalizedBlock,
    validators: ValidatorPath,
) -> Result<Checkpoint, AssembleError> {
    let height = block.header.height;
    let key = StateKey::History.to_bytes();
    let bytes = state.get(&key).ok_or(AssembleError::NoHistory { height })?;
    let history: HistoryRecord =
        borsh::from_slice(bytes).map_err(|_| AssembleError::CorruptState {
            what: "the history".to_owned(),
        })?;
    let statement = statement::checkpoint(&block.header, &history);
    Ok(Checkpoint {
        history_proof: state.prove(&key),
        history,
        statement: BoundedText(statement),
        block,
        validators,
    })
}
