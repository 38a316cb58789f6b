//! Obligations: what payers owe agencies, from issuance to settlement.
//!
//! Owns `StateKey::ObligationKind`, `Obligation`, `ObligationTotals` and
//! `ObligationBook`. A payment is a ledger transfer and a settlement in one
//! transaction layer, so both commit or neither does. Every change of what
//! is owed is booked in the day's totals and the running book of the
//! issuer, so that for every organisation and currency
//! `issued + penalties = collected + waived + cancelled + outstanding`.
//!
//! Payments into one agency account are ordered by their position in the
//! block and never rejected for contention: the hot keys (the payee's
//! balance, the day's totals) are read and written in order, with no
//! read-set validation to fail.

use crate::events::Event;
use crate::governance::{require_any_role, require_role};
use crate::ledger::{self, OpContext};
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::genesis::ROLE_ADMIN;
use cityledger_types::limits::{DAY_MS, DUE_HORIZON_MS_MAX};
use cityledger_types::obligation::{
    AppealDecision, AppealRecord, ClosureRecord, DecisionRecord, Issuance, KindRoles,
    ObligationKindRecord, ObligationOp, ObligationRecord, ObligationStatus, ObligationTotals,
    Reason, obligation_id,
};
use cityledger_types::records::{AccountRecord, CurrencyRecord, Owner, StateKey};
use cityledger_types::tx::{Memo, Roles, TransferOrder};
use cityledger_types::{
    Address, Amount, CurrencyCode, Digest, KindName, OrgName, RejectCode, RoleName,
};

/// Applies one obligation operation.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    op: &ObligationOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        ObligationOp::DefineKind { org, kind, roles } => {
            define_kind(layer, context, org, kind, roles, events)
        }
        ObligationOp::Issue(issuance) => issue(layer, context, issuance, events),
        ObligationOp::Pay {
            obligation,
            from,
            currency,
            amount,
        } => pay(layer, context, obligation, from, currency, *amount, events),
        ObligationOp::Waive { obligation, reason } => {
            waive(layer, context, obligation, reason, events)
        }
        ObligationOp::Appeal { obligation, reason } => {
            appeal(layer, context, obligation, reason, events)
        }
        ObligationOp::Decide {
            obligation,
            decision,
            reason,
        } => decide(layer, context, obligation, decision, reason, events),
        ObligationOp::Cancel { obligation, reason } => {
            cancel(layer, context, obligation, reason, events)
        }
    }
}

fn define_kind(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    org: &OrgName,
    kind: &KindName,
    roles: &KindRoles,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_role(layer, org, context.signer, ROLE_ADMIN)?;
    if roles.issue.0.is_empty() {
        return Err(reject(
            RejectCode::BadTerms,
            "a kind needs at least one role that may issue it",
        ));
    }
    layer.store(
        &StateKey::ObligationKind(org.clone(), kind.clone()),
        &ObligationKindRecord {
            roles: roles.clone(),
        },
    );
    events.push(Event::ObligationKindDefined {
        org: org.clone(),
        kind: kind.clone(),
    });
    Ok(())
}

fn issue(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    issuance: &Issuance,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let kind = load_kind(layer, &issuance.org, &issuance.kind)?;
    require_any_role(
        layer,
        &issuance.org,
        context.signer,
        &kind.roles.issue.0,
        &format!("issue {}", issuance.kind),
    )?;
    raise(layer, context, issuance, events)
}

/// Creates and books the obligations of `issuance`, with ids from the
/// transaction of `context`, without asking who may issue them: the caller
/// has authorised it. An application's fee is raised so, by the applicant,
/// on the terms the deciding organisation's admin set for its service.
pub(crate) fn raise(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    issuance: &Issuance,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    load_kind(layer, &issuance.org, &issuance.kind)?;
    check_issuance(layer, context, issuance)?;
    let mut issued_total = 0u128;
    for (index, charge) in issuance.charges.0.iter().enumerate() {
        if charge.amount == Amount::ZERO {
            return Err(reject(
                RejectCode::ZeroAmount,
                format!("charge {index}: amount must be above zero"),
            ));
        }
        issued_total = issued_total
            .checked_add(charge.amount.0)
            .ok_or_else(|| reject(RejectCode::Overflow, "the charges' sum overflows"))?;
        // Bounded by CHARGES_PER_ISSUE_MAX, far below u32::MAX.
        let id = obligation_id(context.tx_hash, index as u32);
        let record = ObligationRecord {
            kind: issuance.kind.clone(),
            issuer: issuance.org.clone(),
            issued_by: *context.signer,
            issued_at_ms: context.timestamp_ms,
            payer: charge.payer,
            payee: issuance.payee,
            currency: issuance.currency.clone(),
            amount: charge.amount,
            due_at_ms: issuance.due_at_ms,
            penalty: issuance.penalty.clone(),
            reference: charge.reference.clone(),
            evidence: charge.evidence,
            status: ObligationStatus::Open,
            paid: Amount::ZERO,
            penalty_assessed: Amount::ZERO,
            appeal: None,
            closure: None,
        };
        layer.store(&StateKey::Obligation(id), &record);
        events.push(Event::ObligationIssued {
            obligation: id,
            issuer: record.issuer,
            kind: record.kind,
            payer: record.payer,
            payee: record.payee,
            currency: record.currency,
            amount: record.amount,
            due_at_ms: record.due_at_ms,
        });
    }
    book(
        layer,
        &issuance.org,
        &issuance.currency,
        context.timestamp_ms,
        ObligationTotals {
            issued: issued_total,
            ..ObligationTotals::default()
        },
    );
    Ok(())
}

fn check_issuance(
    layer: &Layer<'_>,
    context: &OpContext<'_>,
    issuance: &Issuance,
) -> Result<(), Rejection> {
    if issuance.charges.0.is_empty() {
        return Err(reject(
            RejectCode::BadTerms,
            "an issuance needs at least one charge",
        ));
    }
    check_due(context.timestamp_ms, issuance.due_at_ms)?;
    issuance
        .penalty
        .check()
        .map_err(|error| reject(RejectCode::BadTerms, format!("penalty: {error}")))?;
    if layer
        .load::<CurrencyRecord>(&StateKey::Currency(issuance.currency.clone()))
        .is_none()
    {
        return Err(reject(
            RejectCode::UnknownCurrency,
            format!("currency {} does not exist", issuance.currency),
        ));
    }
    let payee: Option<AccountRecord> = layer.load(&StateKey::Account(issuance.payee));
    match payee.map(|account| account.owner) {
        Some(Owner::Org(owner)) if owner == issuance.org => Ok(()),
        _ => Err(reject(
            RejectCode::BadTerms,
            format!(
                "payee {} is not an account of {}",
                issuance.payee, issuance.org
            ),
        )),
    }
}

fn check_due(now_ms: u64, due_at_ms: u64) -> Result<(), Rejection> {
    if due_at_ms < now_ms {
        return Err(reject(
            RejectCode::BadTerms,
            format!("due time {due_at_ms} is before block time {now_ms}"),
        ));
    }
    if due_at_ms - now_ms > DUE_HORIZON_MS_MAX {
        return Err(reject(
            RejectCode::BadTerms,
            format!(
                "due time {due_at_ms} is more than {DUE_HORIZON_MS_MAX} ms after block time {now_ms}"
            ),
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn pay(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    from: &Address,
    currency: &CurrencyCode,
    amount: Amount,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = load(layer, id)?;
    if record.status == ObligationStatus::Appealed {
        return Err(reject(
            RejectCode::UnderAppeal,
            format!("obligation {id} is under appeal; it is payable again once upheld"),
        ));
    }
    ensure_open(id, &record)?;
    if *currency != record.currency {
        return Err(reject(
            RejectCode::WrongCurrency,
            format!(
                "obligation {id} is owed in {}, not {currency}",
                record.currency
            ),
        ));
    }
    if amount == Amount::ZERO {
        return Err(reject(RejectCode::ZeroAmount, "amount must be above zero"));
    }
    let penalty_delta = recognise_penalty(&mut record, context.timestamp_ms);
    let owed = record.owed_at(context.timestamp_ms);
    if amount > owed {
        return Err(reject(
            RejectCode::Overpayment,
            format!("paying {amount} but obligation {id} owes {owed}"),
        ));
    }
    let order = TransferOrder {
        from: *from,
        to: record.payee,
        currency: record.currency.clone(),
        amount,
        memo: Memo::new(format!("obligation {id}")).expect("an obligation memo is in bounds"),
    };
    ledger::transfer(layer, context.signer, &order, events)?;
    record.paid = Amount(record.paid.0 + amount.0);
    record.status = if amount == owed {
        ObligationStatus::Paid
    } else {
        ObligationStatus::PartiallyPaid
    };
    book(
        layer,
        &record.issuer,
        &record.currency,
        context.timestamp_ms,
        ObligationTotals {
            penalties: penalty_delta.0,
            collected: amount.0,
            ..ObligationTotals::default()
        },
    );
    events.push(Event::ObligationPaid {
        obligation: *id,
        issuer: record.issuer.clone(),
        payer: record.payer,
        paid_from: *from,
        amount,
        penalty_assessed: penalty_delta,
        status: record.status,
    });
    layer.store(&StateKey::Obligation(*id), &record);
    Ok(())
}

fn waive(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_agency(layer, context, id, |roles| &roles.waive, "waive")?;
    let penalty_delta = recognise_penalty(&mut record, context.timestamp_ms);
    let remaining = record.owed_at(context.timestamp_ms);
    record.status = ObligationStatus::Waived;
    record.closure = Some(ClosureRecord {
        closed_by: *context.signer,
        role: role.clone(),
        reason: reason.clone(),
        closed_at_ms: context.timestamp_ms,
        amount: remaining,
    });
    book(
        layer,
        &record.issuer,
        &record.currency,
        context.timestamp_ms,
        ObligationTotals {
            penalties: penalty_delta.0,
            waived: remaining.0,
            ..ObligationTotals::default()
        },
    );
    events.push(Event::ObligationWaived {
        obligation: *id,
        issuer: record.issuer.clone(),
        payer: record.payer,
        role,
        amount: remaining,
        reason: reason.to_string(),
    });
    layer.store(&StateKey::Obligation(*id), &record);
    Ok(())
}

fn appeal(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = load(layer, id)?;
    if record.appeal.is_some() {
        return Err(reject(
            RejectCode::AlreadyAppealed,
            format!("obligation {id} was appealed before; it may be appealed once"),
        ));
    }
    ensure_open(id, &record)?;
    ledger::authorize_debit(layer, context.signer, &record.payer).map_err(|_| {
        reject(
            RejectCode::NotPayer,
            format!(
                "signer {} does not act for payer {} of obligation {id}",
                context.signer, record.payer
            ),
        )
    })?;
    record.status = ObligationStatus::Appealed;
    record.appeal = Some(AppealRecord {
        appealed_at_ms: context.timestamp_ms,
        reason: reason.clone(),
        decision: None,
    });
    events.push(Event::ObligationAppealed {
        obligation: *id,
        issuer: record.issuer.clone(),
        payer: record.payer,
        reason: reason.to_string(),
    });
    layer.store(&StateKey::Obligation(*id), &record);
    Ok(())
}

fn decide(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    decision: &AppealDecision,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_agency(
        layer,
        context,
        id,
        |roles| &roles.decide,
        "decide appeals of",
    )?;
    if record.status != ObligationStatus::Appealed {
        return Err(reject(
            RejectCode::NotAppealed,
            format!("obligation {id} is not under appeal"),
        ));
    }
    match decision {
        AppealDecision::Upheld { due_at_ms } => {
            check_due(context.timestamp_ms, *due_at_ms)?;
            record.due_at_ms = *due_at_ms;
            record.status = if record.paid == Amount::ZERO {
                ObligationStatus::Open
            } else {
                ObligationStatus::PartiallyPaid
            };
        }
        AppealDecision::Cancelled => {
            close_cancelled(layer, context, &mut record, &role, reason);
        }
    }
    if let Some(appeal) = record.appeal.as_mut() {
        appeal.decision = Some(DecisionRecord {
            decision: decision.clone(),
            decided_by: *context.signer,
            role: role.clone(),
            reason: reason.clone(),
            decided_at_ms: context.timestamp_ms,
        });
    }
    events.push(Event::ObligationDecided {
        obligation: *id,
        issuer: record.issuer.clone(),
        payer: record.payer,
        decision: decision.clone(),
        role,
        reason: reason.to_string(),
    });
    layer.store(&StateKey::Obligation(*id), &record);
    Ok(())
}

fn cancel(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_agency(layer, context, id, |roles| &roles.issue, "cancel")?;
    let amount = close_cancelled(layer, context, &mut record, &role, reason);
    events.push(Event::ObligationCancelled {
        obligation: *id,
        issuer: record.issuer.clone(),
        payer: record.payer,
        amount,
        reason: reason.to_string(),
    });
    layer.store(&StateKey::Obligation(*id), &record);
    Ok(())
}

/// Cancels what remains owing, without recognising further penalties (a
/// cancelled obligation was never due); payments already made stay
/// collected. Returns the amount cancelled.
fn close_cancelled(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    record: &mut ObligationRecord,
    role: &RoleName,
    reason: &Reason,
) -> Amount {
    let remaining = Amount(
        (record.amount.0 + record.penalty_assessed.0)
            .checked_sub(record.paid.0)
            .expect("payments never exceed amount plus recognised penalty"),
    );
    record.status = ObligationStatus::Cancelled;
    record.closure = Some(ClosureRecord {
        closed_by: *context.signer,
        role: role.clone(),
        reason: reason.clone(),
        closed_at_ms: context.timestamp_ms,
        amount: remaining,
    });
    book(
        layer,
        &record.issuer,
        &record.currency,
        context.timestamp_ms,
        ObligationTotals {
            cancelled: remaining.0,
            ..ObligationTotals::default()
        },
    );
    remaining
}

/// Recognises the penalty the rule gives at `at_ms`; returns the increase.
fn recognise_penalty(record: &mut ObligationRecord, at_ms: u64) -> Amount {
    let penalty = record.penalty_at(at_ms);
    let delta = Amount(penalty.0 - record.penalty_assessed.0);
    record.penalty_assessed = penalty;
    delta
}

/// Loads an obligation that is not closed, for an action of its issuer:
/// the signer must hold one of the roles `roles_of` picks from its kind.
/// Returns the obligation and the role the action is recorded under.
fn load_for_agency(
    layer: &Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    roles_of: fn(&KindRoles) -> &Roles,
    action: &str,
) -> Result<(ObligationRecord, RoleName), Rejection> {
    let record = load(layer, id)?;
    ensure_open(id, &record)?;
    let kind = load_kind(layer, &record.issuer, &record.kind)?;
    let role = require_any_role(
        layer,
        &record.issuer,
        context.signer,
        &roles_of(&kind.roles).0,
        &format!("{action} {}", record.kind),
    )?;
    Ok((record, role))
}

fn load(layer: &Layer<'_>, id: &Digest) -> Result<ObligationRecord, Rejection> {
    layer.load(&StateKey::Obligation(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownObligation,
            format!("obligation {id} does not exist"),
        )
    })
}

fn load_kind(
    layer: &Layer<'_>,
    org: &OrgName,
    kind: &KindName,
) -> Result<ObligationKindRecord, Rejection> {
    layer
        .load(&StateKey::ObligationKind(org.clone(), kind.clone()))
        .ok_or_else(|| {
            reject(
                RejectCode::UnknownKind,
                format!("{org} defines no obligation kind {kind}"),
            )
        })
}

/// Refuses an obligation that is paid, waived or cancelled, each with its
/// own code.
fn ensure_open(id: &Digest, record: &ObligationRecord) -> Result<(), Rejection> {
    let code = match record.status {
        ObligationStatus::Paid => RejectCode::ObligationSettled,
        ObligationStatus::Waived => RejectCode::ObligationWaived,
        ObligationStatus::Cancelled => RejectCode::ObligationCancelled,
        ObligationStatus::Open | ObligationStatus::PartiallyPaid | ObligationStatus::Appealed => {
            return Ok(());
        }
    };
    Err(reject(
        code,
        format!("obligation {id} is {}", record.status.as_str()),
    ))
}

/// The UTC day of block time `at_ms`, the bucket of the totals. Days fit a
/// u32 for eleven million years.
pub fn day_of(at_ms: u64) -> u32 {
    u32::try_from(at_ms / DAY_MS).unwrap_or(u32::MAX)
}

/// Adds `flows` to the day's totals and to the running book.
fn book(
    layer: &mut Layer<'_>,
    org: &OrgName,
    currency: &CurrencyCode,
    at_ms: u64,
    flows: ObligationTotals,
) {
    for key in [
        StateKey::ObligationTotals(org.clone(), currency.clone(), day_of(at_ms)),
        StateKey::ObligationBook(org.clone(), currency.clone()),
    ] {
        let mut totals: ObligationTotals = layer.load(&key).unwrap_or_default();
        totals.add(&flows);
        layer.store(&key, &totals);
    }
}
