//! Conservation of money: per currency, debits equal credits.
//!
//! [`assert_balanced`] runs on every executed block, on the consensus path,
//! in release builds: a block that would create or destroy money crashes the
//! node rather than be finalized. [`audit_conservation`] sums a whole state,
//! and [`audit_obligations`] reconciles the obligation books with the
//! obligations.

use crate::view::{StateRead, WriteSet};
use cityledger_types::obligation::{ObligationRecord, ObligationTotals};
use cityledger_types::records::{BalanceRecord, StateKey};
use cityledger_types::{CurrencyCode, OrgName};
use std::collections::BTreeMap;

/// Per-currency sums of the four balance fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Sum of posted debits.
    pub debits_posted: i128,
    /// Sum of posted credits.
    pub credits_posted: i128,
    /// Sum of pending debits.
    pub debits_pending: i128,
    /// Sum of pending credits.
    pub credits_pending: i128,
}

impl Totals {
    fn add(&mut self, record: &BalanceRecord, sign: i128) {
        self.debits_posted += sign * record.debits_posted as i128;
        self.credits_posted += sign * record.credits_posted as i128;
        self.debits_pending += sign * record.debits_pending as i128;
        self.credits_pending += sign * record.credits_pending as i128;
    }

    fn balanced(&self) -> bool {
        self.debits_posted == self.credits_posted && self.debits_pending == self.credits_pending
    }
}

/// Money was created or destroyed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency {currency} is unbalanced: {totals:?}")]
pub struct Unbalanced {
    /// The currency.
    pub currency: CurrencyCode,
    /// Its sums.
    pub totals: Totals,
}

fn balance_entry(key: &[u8], value: &[u8]) -> Option<(CurrencyCode, BalanceRecord)> {
    match borsh::from_slice::<StateKey>(key) {
        Ok(StateKey::Balance(_, currency)) => {
            let record = borsh::from_slice(value).expect("balance records decode");
            Some((currency, record))
        }
        _ => None,
    }
}

/// Sums all balances in `entries` and checks each currency.
pub fn audit_conservation<'a>(
    entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<BTreeMap<CurrencyCode, Totals>, Unbalanced> {
    let mut totals: BTreeMap<CurrencyCode, Totals> = BTreeMap::new();
    for (key, value) in entries {
        if let Some((currency, record)) = balance_entry(key, value) {
            totals.entry(currency).or_default().add(&record, 1);
        }
    }
    for (currency, sums) in &totals {
        if !sums.balanced() {
            return Err(Unbalanced {
                currency: currency.clone(),
                totals: *sums,
            });
        }
    }
    Ok(totals)
}

/// Panics if `writes` change any currency's debits and credits by different
/// amounts relative to `parent`.
pub fn assert_balanced(parent: &dyn StateRead, writes: &WriteSet) {
    let mut deltas: BTreeMap<CurrencyCode, Totals> = BTreeMap::new();
    for (key, value) in writes {
        let Ok(StateKey::Balance(_, currency)) = borsh::from_slice::<StateKey>(key) else {
            continue;
        };
        let delta = deltas.entry(currency).or_default();
        if let Some(old) = parent.get(key) {
            let old: BalanceRecord = borsh::from_slice(&old).expect("balance records decode");
            delta.add(&old, -1);
        }
        if let Some(new) = value {
            let new: BalanceRecord = borsh::from_slice(new).expect("balance records decode");
            delta.add(&new, 1);
        }
    }
    for (currency, delta) in deltas {
        assert!(
            delta.balanced(),
            "block would create or destroy {currency}: {delta:?}"
        );
    }
}

/// The books of obligations disagree with the obligations themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("obligation books of {org} in {currency} are off: {reason}")]
pub struct BooksOff {
    /// The organisation.
    pub org: OrgName,
    /// The currency.
    pub currency: CurrencyCode,
    /// What disagrees.
    pub reason: String,
}

#[derive(Default)]
struct Ledger {
    book: ObligationTotals,
    days: ObligationTotals,
    outstanding: i128,
    paid: u128,
}

/// Checks, for every organisation and currency of a whole state, that the
/// running book equals the sum of its days; that what the book says is
/// collected is what obligations say was paid; and that the book's
/// outstanding equals what open and appealed obligations still owe.
/// Returns the books.
pub fn audit_obligations<'a>(
    entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<BTreeMap<(OrgName, CurrencyCode), ObligationTotals>, BooksOff> {
    let mut books: BTreeMap<(OrgName, CurrencyCode), Ledger> = BTreeMap::new();
    for (key, value) in entries {
        match borsh::from_slice::<StateKey>(key) {
            Ok(StateKey::ObligationBook(org, currency)) => {
                books.entry((org, currency)).or_default().book = decode(value);
            }
            Ok(StateKey::ObligationTotals(org, currency, _)) => {
                let day: ObligationTotals = decode(value);
                books.entry((org, currency)).or_default().days.add(&day);
            }
            Ok(StateKey::Obligation(_)) => {
                let record: ObligationRecord = decode(value);
                let entry = books
                    .entry((record.issuer.clone(), record.currency.clone()))
                    .or_default();
                entry.paid += record.paid.0;
                if !record.status.is_closed() {
                    entry.outstanding += record.amount.0 as i128
                        + record.penalty_assessed.0 as i128
                        - record.paid.0 as i128;
                }
            }
            _ => {}
        }
    }
    let mut result = BTreeMap::new();
    for ((org, currency), ledger) in books {
        let off = |reason: String| BooksOff {
            org: org.clone(),
            currency: currency.clone(),
            reason,
        };
        if ledger.book != ledger.days {
            return Err(off(format!(
                "book {:?} is not the sum of its days {:?}",
                ledger.book, ledger.days
            )));
        }
        if ledger.book.collected != ledger.paid {
            return Err(off(format!(
                "book collected {} but obligations were paid {}",
                ledger.book.collected, ledger.paid
            )));
        }
        if ledger.book.outstanding() != ledger.outstanding {
            return Err(off(format!(
                "book outstanding {} but obligations owe {}",
                ledger.book.outstanding(),
                ledger.outstanding
            )));
        }
        result.insert((org, currency), ledger.book);
    }
    Ok(result)
}

fn decode<T: borsh::BorshDeserialize>(value: &[u8]) -> T {
    borsh::from_slice(value).expect("state records decode")
}
