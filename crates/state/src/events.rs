//! Events: what a finalized block did, for the event stream and indexes.
//! Derived from execution; not part of consensus.

use cityledger_types::obligation::{AppealDecision, ObligationStatus};
use cityledger_types::{
    Address, Amount, CurrencyCode, Digest, KindName, OrgName, PublicKey, RoleName,
};
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
    /// A kind of obligation was defined or redefined.
    ObligationKindDefined {
        /// Organisation.
        org: OrgName,
        /// Kind.
        kind: KindName,
    },
    /// An obligation was issued.
    ObligationIssued {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Kind.
        kind: KindName,
        /// Who owes it.
        payer: Address,
        /// Where payments go.
        payee: Address,
        /// Currency.
        currency: CurrencyCode,
        /// Amount before penalties.
        amount: Amount,
        /// Due time.
        due_at_ms: u64,
    },
    /// A payment settled (part of) an obligation.
    ObligationPaid {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Who owes it.
        payer: Address,
        /// The account that paid.
        paid_from: Address,
        /// Amount of this payment.
        amount: Amount,
        /// Penalty recognised by this payment.
        penalty_assessed: Amount,
        /// Status after the payment.
        status: ObligationStatus,
    },
    /// What remained of an obligation was waived.
    ObligationWaived {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Who owes it.
        payer: Address,
        /// The role under which it was waived.
        role: RoleName,
        /// Amount waived.
        amount: Amount,
        /// Why.
        reason: String,
    },
    /// The payer appealed.
    ObligationAppealed {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Who owes it.
        payer: Address,
        /// Grounds.
        reason: String,
    },
    /// An appeal was decided.
    ObligationDecided {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Who owes it.
        payer: Address,
        /// The decision.
        decision: AppealDecision,
        /// The role under which it was decided.
        role: RoleName,
        /// Why.
        reason: String,
    },
    /// The issuer cancelled an obligation.
    ObligationCancelled {
        /// Its id.
        obligation: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Who owes it.
        payer: Address,
        /// Amount that was still owed.
        amount: Amount,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// Accounts this event touches, for per-account indexes.
    pub fn accounts(&self) -> Vec<Address> {
        match self {
            Event::Transferred { from, to, .. } | Event::PendingCreated { from, to, .. } => {
                vec![*from, *to]
            }
            Event::ObligationIssued { payer, .. } => vec![*payer],
            _ => Vec::new(),
        }
    }

    /// The obligation this event is about, for its history.
    pub fn obligation(&self) -> Option<Digest> {
        match self {
            Event::ObligationIssued { obligation, .. }
            | Event::ObligationPaid { obligation, .. }
            | Event::ObligationWaived { obligation, .. }
            | Event::ObligationAppealed { obligation, .. }
            | Event::ObligationDecided { obligation, .. }
            | Event::ObligationCancelled { obligation, .. } => Some(*obligation),
            _ => None,
        }
    }

    /// The organisation this event concerns, for filtered streams.
    pub fn org(&self) -> Option<&OrgName> {
        match self {
            Event::MemberSet { org, .. }
            | Event::MemberRemoved { org, .. }
            | Event::ObligationKindDefined { org, .. } => Some(org),
            Event::ObligationIssued { issuer, .. }
            | Event::ObligationPaid { issuer, .. }
            | Event::ObligationWaived { issuer, .. }
            | Event::ObligationAppealed { issuer, .. }
            | Event::ObligationDecided { issuer, .. }
            | Event::ObligationCancelled { issuer, .. } => Some(issuer),
            _ => None,
        }
    }
}
