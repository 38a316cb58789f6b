//! The plain words of a claim, rendered from its structured form.
//!
//! The verifier renders the statement of every receipt it checks and
//! refuses one whose stored words differ, so the sentence a court clerk
//! reads is bound to the proven data. The rendering is therefore part of
//! the format: version 1 receipts are rendered by these functions, and a
//! change of wording needs a new receipt version (the fixture tests fail
//! first).

use crate::receipt::{BalanceClaim, CurrencyFact, TxClaim};
use cityledger_types::limits::CURRENCY_DECIMALS_MAX;
use cityledger_types::tx::{Action, GovernanceOp, LedgerOp, TransferOrder};
use cityledger_types::{Address, Amount, BlockHeader, CurrencyCode, TxOutcome};

/// The statement of a transaction receipt.
pub fn transaction(claim: &TxClaim, header: &BlockHeader) -> String {
    let body = &claim.tx.body;
    let place = format!(
        "in block {} of chain {} at {}, position {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms),
        claim.tx_proof.index
    );
    let verdict = match &claim.outcome {
        TxOutcome::Applied => format!("was applied {place}"),
        TxOutcome::Rejected {
            code,
            op_index,
            detail,
        } => format!(
            "was included {place}, but rejected ({}, operation {op_index}: {detail}) and changed nothing",
            code.as_str()
        ),
    };
    format!(
        "Transaction {} signed by {} {verdict}: {}.",
        claim.tx.hash(),
        Address::of_key(&body.signer),
        action(&body.action, &claim.currencies.0),
    )
}

/// The statement of a balance receipt.
pub fn balance(claim: &BalanceClaim, header: &BlockHeader) -> String {
    let code = claim.currency.code();
    let decimals = claim.currency.record.decimals;
    let held = match &claim.balance {
        None => format!("held no {code} (the account has no {code} balance)"),
        Some(record) => {
            let mut held = format!(
                "held {} {code}",
                signed_major(record.credits_posted, record.debits_posted, decimals)
            );
            let pending: Vec<String> = [
                (
                    record.debits_pending,
                    "reserved for outgoing pending transfers",
                ),
                (record.credits_pending, "incoming in pending transfers"),
            ]
            .iter()
            .filter(|(sum, _)| *sum > 0)
            .map(|(sum, what)| format!("{} {code} {what}", major(Amount(*sum), decimals)))
            .collect();
            if !pending.is_empty() {
                held.push_str(&format!(", with {}", pending.join(" and ")));
            }
            held
        }
    };
    format!(
        "Account {} {held} after block {} of chain {} at {}.",
        claim.address,
        header.height,
        header.chain_id,
        utc(header.timestamp_ms),
    )
}

fn action(action: &Action, currencies: &[CurrencyFact]) -> String {
    match action {
        Action::Ledger(op) => ledger_op(op, currencies),
        Action::Linked(ops) => {
            let each: Vec<String> = ops.0.iter().map(|op| ledger_op(op, currencies)).collect();
            format!("linked operations, all or none: {}", each.join("; "))
        }
        Action::Governance(GovernanceOp::SetMember { org, member, roles }) => {
            let names: Vec<&str> = roles.0.iter().map(|role| role.as_str()).collect();
            format!(
                "member {member} of organisation {org} given the roles [{}]",
                names.join(", ")
            )
        }
        Action::Governance(GovernanceOp::RemoveMember { org, member }) => {
            format!("member {member} removed from organisation {org}")
        }
    }
}

fn ledger_op(op: &LedgerOp, currencies: &[CurrencyFact]) -> String {
    match op {
        LedgerOp::Transfer(order) => format!("transfer of {}", order_words(order, currencies)),
        LedgerOp::CreatePending { order, timeout_ms } => format!(
            "reservation of {}, held for {timeout_ms} ms of block time",
            order_words(order, currencies)
        ),
        LedgerOp::PostPending { pending, amount } => match amount {
            Some(amount) => {
                format!("posting of {amount} minor units of pending transfer {pending}")
            }
            None => format!("posting of pending transfer {pending} in full"),
        },
        LedgerOp::VoidPending { pending } => format!("void of pending transfer {pending}"),
    }
}

fn order_words(order: &TransferOrder, currencies: &[CurrencyFact]) -> String {
    let mut words = format!(
        "{} from {} to {}",
        amount_words(order.amount, &order.currency, currencies),
        order.from,
        order.to
    );
    if !order.memo.as_str().is_empty() {
        words.push_str(&format!(" (memo \"{}\")", order.memo));
    }
    words
}

/// `12.50 CITY` when the currency's decimals are proven in the receipt,
/// `1250 minor units of CITY` otherwise.
fn amount_words(amount: Amount, code: &CurrencyCode, currencies: &[CurrencyFact]) -> String {
    match currencies.iter().find(|fact| fact.code() == code) {
        Some(fact) => format!("{} {code}", major(amount, fact.record.decimals)),
        None => format!("{amount} minor units of {code}"),
    }
}

/// Credits minus debits in major units, without a signed type that could
/// overflow on sums no real chain reaches.
fn signed_major(credits: u128, debits: u128, decimals: u8) -> String {
    if credits >= debits {
        major(Amount(credits - debits), decimals)
    } else {
        format!("-{}", major(Amount(debits - credits), decimals))
    }
}

/// An amount in major units; decimals beyond what the protocol allows
/// (which no chain's state holds) read as minor units rather than panic.
fn major(amount: Amount, decimals: u8) -> String {
    if decimals <= CURRENCY_DECIMALS_MAX {
        amount.to_major(decimals)
    } else {
        amount.to_string()
    }
}

/// Block time as `2027-03-01 14:05:09.120 UTC`, without a date library: days
/// since the epoch to a civil date (Howard Hinnant's algorithm).
pub fn utc(timestamp_ms: u64) -> String {
    let seconds = timestamp_ms / 1000;
    let days = (seconds / 86_400) as i64;
    let second_of_day = seconds % 86_400;
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        timestamp_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        let cases = [
            (0, "1970-01-01 00:00:00.000 UTC"),
            (951_782_400_000, "2000-02-29 00:00:00.000 UTC"),
            (1_700_000_000_123, "2023-11-14 22:13:20.123 UTC"),
            (4_102_444_799_999, "2099-12-31 23:59:59.999 UTC"),
        ];
        for (timestamp_ms, expected) in cases {
            assert_eq!(utc(timestamp_ms), expected);
        }
    }

    #[test]
    fn signed_amounts() {
        assert_eq!(signed_major(0, 1250, 2), "-12.50");
        assert_eq!(signed_major(5, 0, 2), "0.05");
        assert_eq!(signed_major(7, 7, 0), "0");
        assert_eq!(signed_major(u128::MAX, 0, 0), u128::MAX.to_string());
        assert_eq!(major(Amount(5), 200), "5");
    }
}
