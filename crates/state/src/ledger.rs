//! The ledger: accounts, balances, single, two-phase and linked transfers.
//!
//! Owns `StateKey::Account`, `Balance`, `Pending`, `TimeoutCount` and
//! `TimeoutEntry`. Every movement adds the same amount to one account's
//! debits and another's credits, so per currency the sum of debits equals the
//! sum of credits at every height; [`crate::audit`] checks it.
//!
//! Transfers on one account are ordered by their position in the block, never
//! rejected for contention: there is no read-set validation to fail.

use crate::events::Event;
use crate::governance::require_role;
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::address::AddressKind;
use cityledger_types::genesis::{ROLE_LEDGER_ISSUE, ROLE_LEDGER_TRANSFER};
use cityledger_types::limits::{PENDING_TIMEOUT_MS_MAX, PENDING_TIMEOUTS_PER_BLOCK_MAX};
use cityledger_types::records::{
    AccountRecord, BalanceRecord, ChainRecord, CurrencyRecord, FLAG_ALLOW_NEGATIVE, FLAG_FROZEN,
    Owner, PendingRecord, PendingStatus, StateKey,
};
use cityledger_types::tx::{LedgerOp, TransferOrder, pending_id};
use cityledger_types::{Address, Amount, Digest, PublicKey, RejectCode};

/// Who acts, and when, for one ledger operation.
pub struct OpContext<'a> {
    /// The transaction's signer.
    pub signer: &'a PublicKey,
    /// The transaction's hash.
    pub tx_hash: &'a Digest,
    /// Position of the operation in its transaction.
    pub op_index: u32,
    /// Block time.
    pub timestamp_ms: u64,
}

/// Applies one ledger operation.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    op: &LedgerOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        LedgerOp::Transfer(order) => transfer(layer, context.signer, order, events),
        LedgerOp::CreatePending { order, timeout_ms } => {
            create_pending(layer, context, order, *timeout_ms, events)
        }
        LedgerOp::PostPending { pending, amount } => {
            post_pending(layer, context, pending, *amount, events)
        }
        LedgerOp::VoidPending { pending } => void_pending(layer, context, pending, events),
    }
}

/// Moves `order.amount` now, debiting an account `signer` may debit.
pub(crate) fn transfer(
    layer: &mut Layer<'_>,
    signer: &PublicKey,
    order: &TransferOrder,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let debit_flags = check_order(layer, signer, order)?;
    let mut from = balance(layer, &order.from, order);
    let mut to = balance(layer, &order.to, order);
    ensure_available(&from, debit_flags, order)?;
    from.debits_posted = add(from.debits_posted, order.amount)?;
    to.credits_posted = add(to.credits_posted, order.amount)?;
    store_pair(layer, order, &from, &to);
    events.push(Event::Transferred {
        from: order.from,
        to: order.to,
        currency: order.currency.clone(),
        amount: order.amount,
    });
    Ok(())
}

fn create_pending(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    order: &TransferOrder,
    timeout_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    if timeout_ms == 0 || timeout_ms > PENDING_TIMEOUT_MS_MAX {
        return Err(reject(
            RejectCode::BadTimeout,
            format!("timeout_ms must be between 1 and {PENDING_TIMEOUT_MS_MAX}"),
        ));
    }
    let debit_flags = check_order(layer, context.signer, order)?;
    let mut from = balance(layer, &order.from, order);
    let mut to = balance(layer, &order.to, order);
    ensure_available(&from, debit_flags, order)?;
    from.debits_pending = add(from.debits_pending, order.amount)?;
    to.credits_pending = add(to.credits_pending, order.amount)?;
    store_pair(layer, order, &from, &to);
    let id = pending_id(context.tx_hash, context.op_index);
    let timeout_at_ms = context.timestamp_ms.saturating_add(timeout_ms);
    layer.store(
        &StateKey::Pending(id),
        &PendingRecord {
            order: order.clone(),
            creator: *context.signer,
            timeout_at_ms,
            status: PendingStatus::Pending,
            posted: Amount::ZERO,
        },
    );
    schedule_timeout(layer, id, timeout_at_ms);
    events.push(Event::PendingCreated {
        pending: id,
        from: order.from,
        to: order.to,
        currency: order.currency.clone(),
        amount: order.amount,
        timeout_at_ms,
    });
    Ok(())
}

fn post_pending(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    amount: Option<Amount>,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = open_pending(layer, context, id)?;
    let reserved = record.order.amount;
    let amount = amount.unwrap_or(reserved);
    if amount == Amount::ZERO {
        return Err(reject(RejectCode::ZeroAmount, "amount must be above zero"));
    }
    if amount > reserved {
        return Err(reject(
            RejectCode::AmountAboveReserved,
            format!("posting {amount} but only {reserved} is reserved"),
        ));
    }
    let order = record.order.clone();
    let (mut from, mut to) = release(layer, &order);
    from.debits_posted = add(from.debits_posted, amount)?;
    to.credits_posted = add(to.credits_posted, amount)?;
    store_pair(layer, &order, &from, &to);
    record.status = PendingStatus::Posted;
    record.posted = amount;
    layer.store(&StateKey::Pending(*id), &record);
    events.push(Event::PendingPosted {
        pending: *id,
        amount,
    });
    Ok(())
}

fn void_pending(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = open_pending(layer, context, id)?;
    let (from, to) = release(layer, &record.order);
    store_pair(layer, &record.order, &from, &to);
    record.status = PendingStatus::Voided;
    layer.store(&StateKey::Pending(*id), &record);
    events.push(Event::PendingVoided { pending: *id });
    Ok(())
}

/// Loads a pending transfer that `context.signer` may still post or void.
fn open_pending(
    layer: &Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
) -> Result<PendingRecord, Rejection> {
    let record: PendingRecord = layer.load(&StateKey::Pending(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownPending,
            format!("pending transfer {id} does not exist"),
        )
    })?;
    if record.status != PendingStatus::Pending {
        return Err(reject(
            RejectCode::PendingClosed,
            format!("pending transfer {id} is already {:?}", record.status),
        ));
    }
    if context.timestamp_ms >= record.timeout_at_ms {
        return Err(reject(
            RejectCode::PendingClosed,
            format!(
                "pending transfer {id} timed out at {}",
                record.timeout_at_ms
            ),
        ));
    }
    if record.creator != *context.signer {
        return Err(reject(
            RejectCode::MissingRole,
            "only the creator of a pending transfer may post or void it",
        ));
    }
    Ok(record)
}

/// Undoes a reservation's pending sums and returns both balances.
fn release(layer: &Layer<'_>, order: &TransferOrder) -> (BalanceRecord, BalanceRecord) {
    let mut from = balance(layer, &order.from, order);
    let mut to = balance(layer, &order.to, order);
    // The reservation added exactly these amounts; anything else is a broken
    // invariant of this module.
    from.debits_pending = from
        .debits_pending
        .checked_sub(order.amount.0)
        .expect("pending debits cover the reservation");
    to.credits_pending = to
        .credits_pending
        .checked_sub(order.amount.0)
        .expect("pending credits cover the reservation");
    (from, to)
}

fn schedule_timeout(layer: &mut Layer<'_>, id: Digest, timeout_at_ms: u64) {
    // Bucketed by the second at or after the timeout, so a sweep at block
    // time t never voids a transfer before its timeout.
    let second = timeout_at_ms.div_ceil(1000);
    let count_key = StateKey::TimeoutCount(second);
    let count: u32 = layer.load(&count_key).unwrap_or(0);
    layer.store(&StateKey::TimeoutEntry(second, count), &id);
    layer.store(&count_key, &(count + 1));
}

/// Voids pending transfers whose timeout has passed, bucket by bucket, up to
/// [`PENDING_TIMEOUTS_PER_BLOCK_MAX`] per block. Unswept, timed-out transfers
/// are already refused by post and void; the sweep only releases funds.
pub fn sweep_timeouts(layer: &mut Layer<'_>, timestamp_ms: u64, events: &mut Vec<Event>) {
    let mut chain: ChainRecord = layer.load(&StateKey::Chain).unwrap_or_default();
    let now_s = timestamp_ms / 1000;
    let mut voided = 0usize;
    // Bounded by the block budget and by the seconds per block, so a chain
    // that was halted for a month catches up over several blocks.
    let seconds_max = 86_400u64;
    let last = now_s.min(chain.timeouts_swept_until_s.saturating_add(seconds_max));
    while chain.timeouts_swept_until_s < last && voided < PENDING_TIMEOUTS_PER_BLOCK_MAX {
        let second = chain.timeouts_swept_until_s + 1;
        voided += sweep_second(layer, second, events);
        chain.timeouts_swept_until_s = second;
    }
    layer.store(&StateKey::Chain, &chain);
}

fn sweep_second(layer: &mut Layer<'_>, second: u64, events: &mut Vec<Event>) -> usize {
    let count_key = StateKey::TimeoutCount(second);
    let Some(count) = layer.load::<u32>(&count_key) else {
        return 0;
    };
    let mut voided = 0;
    for index in 0..count {
        let entry_key = StateKey::TimeoutEntry(second, index);
        let id: Digest = layer.load(&entry_key).expect("timeout entries are dense");
        layer.delete(&entry_key);
        let pending_key = StateKey::Pending(id);
        let mut record: PendingRecord = layer.load(&pending_key).expect("scheduled pending exists");
        if record.status != PendingStatus::Pending {
            continue;
        }
        let (from, to) = release(layer, &record.order);
        store_pair(layer, &record.order, &from, &to);
        record.status = PendingStatus::TimedOut;
        layer.store(&pending_key, &record);
        events.push(Event::PendingTimedOut { pending: id });
        voided += 1;
    }
    layer.delete(&count_key);
    voided
}

/// Checks an order and that the signer may debit its source; returns the
/// source account's flags.
fn check_order(
    layer: &Layer<'_>,
    signer: &PublicKey,
    order: &TransferOrder,
) -> Result<u32, Rejection> {
    if order.amount == Amount::ZERO {
        return Err(reject(RejectCode::ZeroAmount, "amount must be above zero"));
    }
    if order.from == order.to {
        return Err(reject(
            RejectCode::SameAccount,
            "from and to are the same account",
        ));
    }
    if layer
        .load::<CurrencyRecord>(&StateKey::Currency(order.currency.clone()))
        .is_none()
    {
        return Err(reject(
            RejectCode::UnknownCurrency,
            format!("currency {} does not exist", order.currency),
        ));
    }
    let debit_flags = authorize_debit(layer, signer, &order.from)?;
    let credit_flags = account_flags(layer, &order.to)?;
    if (debit_flags | credit_flags) & FLAG_FROZEN != 0 {
        return Err(reject(
            RejectCode::AccountFrozen,
            "an account of the transfer is frozen",
        ));
    }
    Ok(debit_flags)
}

/// Flags of an account that may be credited. A key address needs no record:
/// it opens on its first credit. An organisation address must exist.
fn account_flags(layer: &Layer<'_>, address: &Address) -> Result<u32, Rejection> {
    if let Some(record) = layer.load::<AccountRecord>(&StateKey::Account(*address)) {
        return Ok(record.flags);
    }
    match address.kind() {
        Some(AddressKind::Key) => Ok(0),
        _ => Err(reject(
            RejectCode::UnknownAccount,
            format!("account {address} does not exist"),
        )),
    }
}

/// Checks that `signer` may debit `from` (owns it, or holds the right role
/// in its organisation); returns the account's flags.
pub(crate) fn authorize_debit(
    layer: &Layer<'_>,
    signer: &PublicKey,
    from: &Address,
) -> Result<u32, Rejection> {
    let record: Option<AccountRecord> = layer.load(&StateKey::Account(*from));
    let (owner, flags) = match record {
        Some(record) => (record.owner, record.flags),
        None => {
            account_flags(layer, from)?;
            if Address::of_key(signer) != *from {
                return Err(reject(
                    RejectCode::MissingRole,
                    format!("signer {signer} does not own account {from}"),
                ));
            }
            (Owner::Key(*signer), 0)
        }
    };
    match owner {
        Owner::Key(key) if key == *signer => {}
        Owner::Key(_) => {
            return Err(reject(
                RejectCode::MissingRole,
                format!("signer {signer} does not own account {from}"),
            ));
        }
        Owner::Org(org) => {
            let role = if flags & FLAG_ALLOW_NEGATIVE != 0 {
                ROLE_LEDGER_ISSUE
            } else {
                ROLE_LEDGER_TRANSFER
            };
            require_role(layer, &org, signer, role)?;
        }
    }
    Ok(flags)
}

fn balance(layer: &Layer<'_>, address: &Address, order: &TransferOrder) -> BalanceRecord {
    layer
        .load(&StateKey::Balance(*address, order.currency.clone()))
        .unwrap_or_default()
}

fn ensure_available(
    from: &BalanceRecord,
    flags: u32,
    order: &TransferOrder,
) -> Result<(), Rejection> {
    if flags & FLAG_ALLOW_NEGATIVE != 0 || from.available() >= order.amount {
        return Ok(());
    }
    Err(reject(
        RejectCode::InsufficientFunds,
        format!(
            "account {} has {} {} available, {} needed",
            order.from,
            from.available(),
            order.currency,
            order.amount
        ),
    ))
}

fn add(sum: u128, amount: Amount) -> Result<u128, Rejection> {
    sum.checked_add(amount.0)
        .ok_or_else(|| reject(RejectCode::Overflow, "a balance would overflow"))
}

fn store_pair(
    layer: &mut Layer<'_>,
    order: &TransferOrder,
    from: &BalanceRecord,
    to: &BalanceRecord,
) {
    layer.store(&StateKey::Balance(order.from, order.currency.clone()), from);
    layer.store(&StateKey::Balance(order.to, order.currency.clone()), to);
}
