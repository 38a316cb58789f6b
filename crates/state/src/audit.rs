//! Conservation of money: per currency, debits equal credits.
//!
//! [`assert_balanced`] runs on every executed block, on the consensus path,
//! in release builds: a block that would create or destroy money crashes the
//! node rather than be finalized. [`audit_conservation`] sums a whole state.

use crate::view::{StateRead, WriteSet};
use cityledger_types::CurrencyCode;
use cityledger_types::records::{BalanceRecord, StateKey};
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
