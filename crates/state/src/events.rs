//! Events: what a finalized block did, for the event stream and indexes.
//! Derived from execution; not part of consensus.

use cityledger_types::{Address, Amount, CurrencyCode, Digest, OrgName, PublicKey, RoleName};
use serde::Serialize;

/// One effect of an applied transaction (or of the block itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Money moved.
    Transferred {
        /// Debited.
        from: Address,
        /// Credited.
        to: Address,
        /// Currency.
        currency: CurrencyCode,
        /// Amount in minor units.
        amount: Amount,
    },
    /// Money was reserved.
    PendingCreated {
        /// Id of the pending transfer.
        pending: Digest,
        /// Debited on post.
        from: Address,
        /// Credited on post.
        to: Address,
        /// Currency.
        currency: CurrencyCode,
        /// Reserved amount.
        amount: Amount,
        /// Block time of the timeout.
        timeout_at_ms: u64,
    },
    /// A reservation was posted.
    PendingPosted {
        /// Id.
        pending: Digest,
        /// Amount moved.
        amount: Amount,
    },
    /// A reservation was voided.
    PendingVoided {
        /// Id.
        pending: Digest,
    },
    /// A reservation timed out.
    PendingTimedOut {
        /// Id.
        pending: Digest,
    },
    /// A member was added or its roles changed.
    MemberSet {
        /// Organisation.
        org: OrgName,
        /// Member key.
        member: PublicKey,
        /// Roles now held.
        roles: Vec<RoleName>,
    },
    /// A member was removed.
    MemberRemoved {
        /// Organisation.
        org: OrgName,
        /// Member key.
        member: PublicKey,
    },
}

impl Event {
    /// Accounts this event touches, for per-account indexes.
    pub fn accounts(&self) -> Vec<Address> {
        match self {
            Event::Transferred { from, to, .. } | Event::PendingCreated { from, to, .. } => {
                vec![*from, *to]
            }
            _ => Vec::new(),
        }
    }
}
