//! Accounts on the wire: owner, flags, balances per currency, and the
//! account's transaction history in pages.

use crate::tx::OutcomeView;
use cityledger_types::records::{AccountRecord, BalanceRecord, CurrencyRecord, Owner};
use cityledger_types::{Address, AddressKind, Amount, CurrencyCode, Digest, Height};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who may own an account, as its address tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKindView {
    /// The default account of a key.
    Key,
    /// An account of an organisation.
    Org,
}

/// One balance of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    /// Currency code.
    #[schema(value_type = String, example = "CITY")]
    pub currency: CurrencyCode,
    /// Decimals of the major unit.
    pub decimals: u8,
    /// Posted balance in minor units, signed: credits minus debits.
    #[serde(with = "crate::decimal")]
    #[schema(value_type = String, example = "1250")]
    pub balance_minor: i128,
    /// Posted balance in major units, e.g. `12.50`; `-` when negative.
    #[schema(example = "12.50")]
    pub balance: String,
    /// What may still be debited, in minor units.
    #[schema(value_type = String)]
    pub available_minor: Amount,
    /// Sum of posted debits, minor units.
    #[schema(value_type = String)]
    pub debits_posted: Amount,
    /// Sum of posted credits, minor units.
    #[schema(value_type = String)]
    pub credits_posted: Amount,
    /// Sum of reserved debits, minor units.
    #[schema(value_type = String)]
    pub debits_pending: Amount,
    /// Sum of reserved credits, minor units.
    #[schema(value_type = String)]
    pub credits_pending: Amount,
}

impl BalanceView {
    /// The view of `balance` in `currency`.
    pub fn new(currency: &CurrencyRecord, balance: &BalanceRecord) -> BalanceView {
        let balance_minor = balance.posted();
        BalanceView {
            currency: currency.code.clone(),
            decimals: currency.decimals,
            balance_minor,
            balance: signed_major(balance_minor, currency.decimals),
            available_minor: balance.available(),
            debits_posted: Amount(balance.debits_posted),
            credits_posted: Amount(balance.credits_posted),
            debits_pending: Amount(balance.debits_pending),
            credits_pending: Amount(balance.credits_pending),
        }
    }
}

/// `minor` in major units with `decimals` fraction digits, signed.
fn signed_major(minor: i128, decimals: u8) -> String {
    let magnitude = Amount(minor.unsigned_abs()).to_major(decimals);
    if minor < 0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// An account: who controls it and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// The address, `cl1…`.
    #[schema(value_type = String)]
    pub address: Address,
    /// Key or organisation account.
    pub kind: AccountKindView,
    /// The owner: a key (hex) or an organisation name; absent for a key
    /// account that has not been credited yet.
    pub owner: Option<String>,
    /// `FLAG_*` bits: 1 = may go negative (issuance), 2 = frozen.
    pub flags: u32,
    /// Balances, one per currency the account has held, by currency code.
    pub balances: Vec<BalanceView>,
}

impl AccountView {
    /// The view of the account at `address`, whose record is `record` (none
    /// for a key account not yet opened).
    pub fn new(
        address: Address,
        record: Option<&AccountRecord>,
        balances: Vec<BalanceView>,
    ) -> AccountView {
        let kind = match address.kind() {
            Some(AddressKind::Org) => AccountKindView::Org,
            Some(AddressKind::Key) | None => AccountKindView::Key,
        };
        AccountView {
            address,
            kind,
            owner: record.map(|record| match &record.owner {
                Owner::Key(key) => key.to_hex(),
                Owner::Org(org) => org.as_str().to_owned(),
            }),
            flags: record.map_or(0, |record| record.flags),
            balances,
        }
    }
}

/// One transaction that touched an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountTxItem {
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Position in the block.
    pub position: u32,
    /// The transaction hash, hex.
    #[schema(value_type = String)]
    pub hash: Digest,
    /// What executing it did.
    #[serde(flatten)]
    pub outcome: OutcomeView,
}

/// A page of an account's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountTxsPage {
    /// The transactions of this page.
    pub items: Vec<AccountTxItem>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::names::{AccountName, OrgName};
    use cityledger_types::records::FLAG_ALLOW_NEGATIVE;
    use serde_json::json;

    fn city() -> CurrencyRecord {
        CurrencyRecord {
            code: CurrencyCode::new("CITY").unwrap(),
            decimals: 2,
        }
    }

    #[test]
    fn signed_major_units() {
        let cases: &[(i128, u8, &str)] = &[
            (1250, 2, "12.50"),
            (-1250, 2, "-12.50"),
            (-5, 2, "-0.05"),
            (0, 2, "0.00"),
            (7, 0, "7"),
        ];
        for (minor, decimals, expected) in cases {
            assert_eq!(signed_major(*minor, *decimals), *expected, "{minor}");
        }
    }

    #[test]
    fn negative_balance_travels_as_strings() {
        let record = BalanceRecord {
            debits_posted: 10_000,
            credits_posted: 2_500,
            debits_pending: 0,
            credits_pending: 100,
        };
        let view = BalanceView::new(&city(), &record);
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(
            value,
            json!({
                "currency": "CITY", "decimals": 2, "balance_minor": "-7500",
                "balance": "-75.00", "available_minor": "0",
                "debits_posted": "10000", "credits_posted": "2500",
                "debits_pending": "0", "credits_pending": "100"
            })
        );
        let back: BalanceView = serde_json::from_value(value).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn org_account_names_its_owner() {
        let org = OrgName::new("treasury").unwrap();
        let address = Address::of_org(&org, &AccountName::new("issuance").unwrap());
        let record = AccountRecord {
            owner: Owner::Org(org),
            flags: FLAG_ALLOW_NEGATIVE,
        };
        let view = AccountView::new(address, Some(&record), Vec::new());
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(value["kind"], "org");
        assert_eq!(value["owner"], "treasury");
        assert_eq!(value["flags"], 1);
        assert_eq!(value["address"], address.to_string());
    }
}
