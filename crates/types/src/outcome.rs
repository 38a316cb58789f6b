//! The result of executing one transaction.
//!
//! A rejected transaction is data, not an error: it is included, its outcome
//! is committed in the block's `outcomes_root`, and its id is consumed so the
//! client gets the same answer when it resubmits.

use borsh::{BorshDeserialize, BorshSerialize};

/// Why a transaction changed nothing. The code is stable and machine-readable;
/// clients branch on it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum RejectCode {
    /// The debited account lacks the funds.
    InsufficientFunds = 1,
    /// An account does not exist.
    UnknownAccount = 2,
    /// The signer lacks the role the action needs.
    MissingRole = 3,
    /// The currency does not exist.
    UnknownCurrency = 4,
    /// The amount is zero.
    ZeroAmount = 5,
    /// From and to are the same account.
    SameAccount = 6,
    /// A balance would overflow.
    Overflow = 7,
    /// The pending transfer does not exist.
    UnknownPending = 8,
    /// The pending transfer was already posted, voided or timed out.
    PendingClosed = 9,
    /// Posting more than was reserved.
    AmountAboveReserved = 10,
    /// The timeout is zero or above its limit.
    BadTimeout = 11,
    /// The organisation does not exist.
    UnknownOrg = 12,
    /// The change would leave an organisation without an admin.
    LastAdmin = 13,
    /// The transaction expired before it was included.
    Expired = 14,
    /// The account is frozen.
    AccountFrozen = 15,
}

impl RejectCode {
    /// The code as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectCode::InsufficientFunds => "insufficient_funds",
            RejectCode::UnknownAccount => "unknown_account",
            RejectCode::MissingRole => "missing_role",
            RejectCode::UnknownCurrency => "unknown_currency",
            RejectCode::ZeroAmount => "zero_amount",
            RejectCode::SameAccount => "same_account",
            RejectCode::Overflow => "overflow",
            RejectCode::UnknownPending => "unknown_pending",
            RejectCode::PendingClosed => "pending_closed",
            RejectCode::AmountAboveReserved => "amount_above_reserved",
            RejectCode::BadTimeout => "bad_timeout",
            RejectCode::UnknownOrg => "unknown_org",
            RejectCode::LastAdmin => "last_admin",
            RejectCode::Expired => "expired",
            RejectCode::AccountFrozen => "account_frozen",
        }
    }
}

/// What happened to one transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TxOutcome {
    /// Every effect was applied.
    Applied,
    /// Nothing was applied.
    Rejected {
        /// Machine-readable reason.
        code: RejectCode,
        /// Index of the failing operation in a linked batch.
        op_index: u32,
        /// Human-readable detail.
        detail: String,
    },
}

impl TxOutcome {
    /// Whether the transaction was applied.
    pub fn is_applied(&self) -> bool {
        matches!(self, TxOutcome::Applied)
    }
}
