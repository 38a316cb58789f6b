//! How a domain says no: a [`Rejection`], which becomes the transaction's
//! outcome. It is data, not a failure of the node.

use cityledger_types::{RejectCode, TxOutcome};

/// A rejected action: a stable code and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable reason.
    pub code: RejectCode,
    /// Human-readable detail.
    pub detail: String,
}

/// Shorthand for building a rejection.
pub fn reject(code: RejectCode, detail: impl Into<String>) -> Rejection {
    Rejection {
        code,
        detail: detail.into(),
    }
}

impl Rejection {
    /// The outcome of a transaction that failed at operation `op_index`.
    pub fn into_outcome(self, op_index: u32) -> TxOutcome {
        TxOutcome::Rejected {
            code: self.code,
            op_index,
            detail: self.detail,
        }
    }
}
