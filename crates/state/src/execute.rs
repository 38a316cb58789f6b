//! Block execution: the one pure function from (parent state, block) to
//! (writes, outcomes, events).
//!
//! Signatures are checked before execution, in batches, by the node; this
//! module trusts that every transaction it is given is signed by its signer.
//! Everything else about a transaction is checked here, against block time
//! and the parent state, so proposer and verifiers agree.

use crate::audit::assert_balanced;
use crate::events::Event;
use crate::outcome::Rejection;
use crate::view::{Layer, StateRead, WriteSet};
use crate::{
    applications, credentials, devices, education, governance, ledger, obligations, records,
    safety, tx_ids,
};
use cityledger_types::history::{self, HistoryRecord};
use cityledger_types::limits::{CHARGES_PER_BLOCK_MAX, TX_EXPIRY_HORIZON_MS_MAX};
use cityledger_types::records::{ChainRecord, StateKey, TxIdRecord};
use cityledger_types::tx::{Action, LedgerOp};
use cityledger_types::{ChainId, Digest, Height, SignedTx, TxOutcome};
use std::collections::BTreeSet;

/// What the block provides to execution.
#[derive(Clone, Debug)]
pub struct BlockEnv {
    /// The chain.
    pub chain_id: ChainId,
    /// Height of the block being executed.
    pub height: Height,
    /// Block time, agreed by consensus.
    pub timestamp_ms: u64,
    /// Id of the parent block, which this block appends to the history
    /// accumulator (`StateKey::History`).
    pub parent_id: Digest,
}

/// Why a transaction may not be in a block at all.
///
/// Unlike a rejection, which is a committed outcome, these make a block
/// invalid; a proposer drops such transactions instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inadmissible {
    /// Signed for another chain.
    #[error("transaction is for chain {found}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The transaction's.
        found: String,
    },
    /// Expired before this block.
    #[error("transaction expired at {expires_at_ms}, block time is {block_time_ms}")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// Block time.
        block_time_ms: u64,
    },
    /// Expiry further ahead than allowed.
    #[error(
        "transaction expiry {expires_at_ms} is more than {horizon_ms} ms after block time {block_time_ms}"
    )]
    ExpiryTooFar {
        /// Its expiry.
        expires_at_ms: u64,
        /// Block time.
        block_time_ms: u64,
        /// The limit.
        horizon_ms: u64,
    },
    /// The block's issuances would create more obligations than a block
    /// may hold.
    #[error("the block's issuances exceed {limit} charges")]
    TooManyCharges {
        /// The limit.
        limit: usize,
    },
    /// The signer already used this id.
    #[error("id already used by transaction {first_tx} at height {first_height}")]
    DuplicateId {
        /// The transaction that used it.
        first_tx: Digest,
        /// Where it was included.
        first_height: Height,
    },
}

/// Whether to drop or refuse inadmissible transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Building a block: drop them.
    Propose,
    /// Checking a block: the block is invalid.
    Verify,
}

/// A block that must not be finalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transaction {index} is inadmissible: {reason}")]
pub struct InvalidBlock {
    /// Position of the offending transaction.
    pub index: usize,
    /// Why.
    pub reason: Inadmissible,
}

/// The result of executing a block.
#[derive(Debug, Default)]
pub struct Executed {
    /// All state writes.
    pub writes: WriteSet,
    /// Indices (into the given list) of the transactions included.
    pub included: Vec<usize>,
    /// One outcome per included transaction.
    pub outcomes: Vec<TxOutcome>,
    /// Events, each with the position of its transaction in the block, or
    /// `None` for effects of the block itself (timeouts).
    pub events: Vec<(Option<u32>, Event)>,
    /// Transactions dropped while proposing, with why.
    pub dropped: Vec<(usize, Inadmissible)>,
}

/// Executes `txs` on top of `parent` at `env`.
pub fn execute_block(
    parent: &dyn StateRead,
    env: &BlockEnv,
    txs: &[SignedTx],
    mode: Mode,
) -> Result<Executed, InvalidBlock> {
    let mut layer = Layer::caching(parent);
    let mut executed = Executed::default();
    let mut block_events = Vec::new();
    ledger::sweep_timeouts(&mut layer, env.timestamp_ms, &mut block_events);
    tx_ids::sweep(&mut layer, env.timestamp_ms);
    executed
        .events
        .extend(block_events.into_iter().map(|e| (None, e)));
    let mut ids_in_block = BTreeSet::new();
    let mut consumed = tx_ids::Consumed::default();
    let mut charges = 0usize;
    for (index, tx) in txs.iter().enumerate() {
        let hash = tx.hash();
        let tx_charges = tx.body.action.charge_count();
        let admitted = admit(&layer, env, tx, &ids_in_block).and_then(|()| {
            if charges + tx_charges > CHARGES_PER_BLOCK_MAX {
                return Err(Inadmissible::TooManyCharges {
                    limit: CHARGES_PER_BLOCK_MAX,
                });
            }
            Ok(())
        });
        if let Err(reason) = admitted {
            match mode {
                Mode::Propose => {
                    executed.dropped.push((index, reason));
                    continue;
                }
                Mode::Verify => return Err(InvalidBlock { index, reason }),
            }
        }
        ids_in_block.insert((tx.body.signer, tx.body.id.clone()));
        charges += tx_charges;
        let position = executed.included.len() as u32;
        let (outcome, events) = execute_tx(&mut layer, env, tx, &hash);
        consumed.record(&mut layer, tx, hash, env.height);
        executed.included.push(index);
        executed.outcomes.push(outcome);
        executed
            .events
            .extend(events.into_iter().map(|e| (Some(position), e)));
    }
    consumed.schedule(&mut layer);
    let mut chain: ChainRecord = layer.load(&StateKey::Chain).unwrap_or_default();
    chain.height = env.height;
    layer.store(&StateKey::Chain, &chain);
    append_parent(&mut layer, env);
    executed.writes = layer.into_writes();
    assert_balanced(parent, &executed.writes);
    Ok(executed)
}

/// Appends the parent's id to the history accumulator, so that the block's
/// state root commits to every block before it (ADR 0004).
fn append_parent(layer: &mut Layer<'_>, env: &BlockEnv) {
    let mut history: HistoryRecord = layer.load(&StateKey::History).unwrap_or_default();
    // Block h appends block h-1: a history of another length means the
    // parent state is not the parent's, and executing on would diverge.
    assert_eq!(
        history.leaf_count().checked_add(1),
        Some(env.height.0),
        "the parent state's history must hold every block before the parent"
    );
    history.append(history::leaf(&env.parent_id));
    layer.store(&StateKey::History, &history);
}

/// Checks what makes a transaction inadmissible, in a fixed order.
pub fn admit(
    state: &dyn StateRead,
    env: &BlockEnv,
    tx: &SignedTx,
    ids_in_block: &BTreeSet<(cityledger_types::PublicKey, cityledger_types::ClientTxId)>,
) -> Result<(), Inadmissible> {
    let body = &tx.body;
    if body.chain_id != env.chain_id {
        return Err(Inadmissible::WrongChain {
            expected: env.chain_id.to_string(),
            found: body.chain_id.to_string(),
        });
    }
    if body.expires_at_ms < env.timestamp_ms {
        return Err(Inadmissible::Expired {
            expires_at_ms: body.expires_at_ms,
            block_time_ms: env.timestamp_ms,
        });
    }
    if body.expires_at_ms - env.timestamp_ms > TX_EXPIRY_HORIZON_MS_MAX {
        return Err(Inadmissible::ExpiryTooFar {
            expires_at_ms: body.expires_at_ms,
            block_time_ms: env.timestamp_ms,
            horizon_ms: TX_EXPIRY_HORIZON_MS_MAX,
        });
    }
    let id_key = StateKey::TxId(body.signer, body.id.clone()).to_bytes();
    if let Some(bytes) = state.get(&id_key) {
        let first: TxIdRecord = borsh::from_slice(&bytes).expect("stored tx id records decode");
        return Err(Inadmissible::DuplicateId {
            first_tx: first.tx_hash,
            first_height: first.height,
        });
    }
    if ids_in_block.contains(&(body.signer, body.id.clone())) {
        return Err(Inadmissible::DuplicateId {
            first_tx: Digest::ZERO,
            first_height: env.height,
        });
    }
    Ok(())
}

fn execute_tx(
    block_layer: &mut Layer<'_>,
    env: &BlockEnv,
    tx: &SignedTx,
    hash: &Digest,
) -> (TxOutcome, Vec<Event>) {
    let mut events = Vec::new();
    let result = {
        let mut tx_layer = Layer::new(block_layer);
        let result = apply_action(&mut tx_layer, env, tx, hash, &mut events);
        result.map(|()| tx_layer.into_writes())
    };
    match result {
        Ok(writes) => {
            block_layer.absorb(writes);
            (TxOutcome::Applied, events)
        }
        Err((op_index, rejection)) => (rejection.into_outcome(op_index), Vec::new()),
    }
}

fn apply_action(
    layer: &mut Layer<'_>,
    env: &BlockEnv,
    tx: &SignedTx,
    hash: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), (u32, Rejection)> {
    let signer = &tx.body.signer;
    match &tx.body.action {
        Action::Ledger(op) => apply_ledger(layer, env, signer, hash, 0, op, events),
        Action::Linked(ops) => {
            for (index, op) in ops.0.iter().enumerate() {
                apply_ledger(layer, env, signer, hash, index as u32, op, events)?;
            }
            Ok(())
        }
        Action::Governance(op) => governance::apply(layer, signer, op, events).map_err(|r| (0, r)),
        Action::Obligation(op) => {
            let context = ledger::OpContext {
                signer,
                tx_hash: hash,
                op_index: 0,
                timestamp_ms: env.timestamp_ms,
            };
            obligations::apply(layer, &context, op, events).map_err(|r| (0, r))
        }
        Action::Application(op) => {
            let context = op_context(env, signer, hash);
            applications::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
        Action::Credential(op) => {
            let context = op_context(env, signer, hash);
            credentials::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
        Action::Record(op) => {
            let context = op_context(env, signer, hash);
            records::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
        Action::Device(op) => {
            let context = op_context(env, signer, hash);
            devices::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
        Action::Safety(op) => {
            let context = op_context(env, signer, hash);
            safety::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
        Action::Education(op) => {
            let context = op_context(env, signer, hash);
            education::apply(layer, &context, env.height, op, events).map_err(|r| (0, r))
        }
    }
}

fn apply_ledger(
    layer: &mut Layer<'_>,
    env: &BlockEnv,
    signer: &cityledger_types::PublicKey,
    hash: &Digest,
    op_index: u32,
    op: &LedgerOp,
    events: &mut Vec<Event>,
) -> Result<(), (u32, Rejection)> {
    let context = ledger::OpContext {
        signer,
        tx_hash: hash,
        op_index,
        timestamp_ms: env.timestamp_ms,
    };
    ledger::apply(layer, &context, op, events).map_err(|r| (op_index, r))
}

/// The context of a transaction's single operation.
fn op_context<'a>(
    env: &BlockEnv,
    signer: &'a cityledger_types::PublicKey,
    hash: &'a Digest,
) -> ledger::OpContext<'a> {
    ledger::OpContext {
        signer,
        tx_hash: hash,
        op_index: 0,
        timestamp_ms: env.timestamp_ms,
    }
}
