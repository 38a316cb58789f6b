//! Obligations: what a payer owes an agency, as data.
//!
//! A kind of obligation (a traffic fine, a toll, tuition) is data, defined by
//! its organisation with the roles that may issue, waive and decide it. An
//! obligation records its terms (payer, payee, amount, due time, penalty
//! rule, reference data) and where it stands. Penalties are integer
//! arithmetic on block time, so every validator, and every offline reader,
//! computes the same figure.

use crate::address::Address;
use crate::amount::Amount;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::{
    CHARGES_PER_ISSUE_MAX, PENALTY_BPS_PER_PERIOD_MAX, PENALTY_PERIOD_MS_MAX,
    PENALTY_PERIOD_MS_MIN, REASON_BYTES_MAX, REFERENCE_FIELDS_MAX, REFERENCE_VALUE_BYTES_MAX,
};
use crate::names::{CurrencyCode, KindName, OrgName, ReferenceKey, RoleName};
use crate::tx::{Roles, bounded_text};
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of obligation ids.
const OBLIGATION_DOMAIN: &[u8] = b"cityledger/obligation/v1";

/// Basis points in one whole.
const BPS_PER_WHOLE: u128 = 10_000;

bounded_text!(
    /// Why an obligation was waived, appealed, decided or cancelled.
    Reason, "reason", REASON_BYTES_MAX, false
);
bounded_text!(
    /// The value of one reference field, e.g. a plate number.
    ReferenceValue, "reference value", REFERENCE_VALUE_BYTES_MAX, false
);

/// The id of the obligation created by charge `index` of the issuing
/// transaction `tx_hash`: unique without any counter in the state.
pub fn obligation_id(tx_hash: &Digest, index: u32) -> Digest {
    Digest::of_parts(&[OBLIGATION_DOMAIN, &tx_hash.0, &index.to_be_bytes()])
}

/// One field of reference data: plate number, offence code, tax year,
/// student id, prescription id.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ReferenceField {
    /// Field name.
    pub key: ReferenceKey,
    /// Field value.
    pub value: ReferenceValue,
}

/// Why reference data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// More fields than allowed.
    #[error("reference has {count} fields, above the limit of {REFERENCE_FIELDS_MAX}")]
    TooMany {
        /// Fields given.
        count: usize,
    },
    /// A field name appears twice.
    #[error("reference field {key} appears twice")]
    Duplicate {
        /// The name.
        key: String,
    },
}

/// Bounded reference data, each field name at most once, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, serde::Serialize)]
pub struct Reference(Vec<ReferenceField>);

impl Reference {
    /// Validates `fields`.
    pub fn new(fields: Vec<ReferenceField>) -> Result<Reference, ReferenceError> {
        if fields.len() > REFERENCE_FIELDS_MAX {
            return Err(ReferenceError::TooMany {
                count: fields.len(),
            });
        }
        for (index, field) in fields.iter().enumerate() {
            if fields[..index].iter().any(|f| f.key == field.key) {
                return Err(ReferenceError::Duplicate {
                    key: field.key.to_string(),
                });
            }
        }
        Ok(Reference(fields))
    }

    /// The fields.
    pub fn fields(&self) -> &[ReferenceField] {
        &self.0
    }
}

impl BorshDeserialize for Reference {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let fields = read_bounded_vec(reader, REFERENCE_FIELDS_MAX)?;
        Reference::new(fields).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = <Vec<ReferenceField> as serde::Deserialize>::deserialize(deserializer)?;
        Reference::new(fields).map_err(serde::de::Error::custom)
    }
}

/// What lateness costs, on top of the amount.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum PenaltyRule {
    /// Nothing.
    None,
    /// A fixed late fee, once the due time has passed.
    Fixed {
        /// The fee, in minor units.
        amount: Amount,
    },
    /// A share of the amount for every started period after the due time,
    /// never more than `cap` in all.
    BasisPoints {
        /// Basis points (1/100 of a percent) of the amount per period.
        bps_per_period: u32,
        /// Length of a period, in ms of block time.
        period_ms: u64,
        /// The most the penalty may reach, in minor units.
        cap: Amount,
    },
}

/// Why a penalty rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PenaltyError {
    /// A fixed fee of zero; use `none`.
    #[error("a fixed penalty must be above zero; use rule none for no penalty")]
    ZeroFee,
    /// Basis points out of range.
    #[error("bps_per_period is {found}; allowed 1 to {PENALTY_BPS_PER_PERIOD_MAX}")]
    Bps {
        /// Given.
        found: u32,
    },
    /// Period out of range.
    #[error("period_ms is {found}; allowed {PENALTY_PERIOD_MS_MIN} to {PENALTY_PERIOD_MS_MAX}")]
    Period {
        /// Given.
        found: u64,
    },
    /// A cap of zero.
    #[error("the penalty cap must be above zero")]
    ZeroCap,
}

impl PenaltyRule {
    /// Checks the rule's bounds.
    pub fn check(&self) -> Result<(), PenaltyError> {
        match self {
            PenaltyRule::None => Ok(()),
            PenaltyRule::Fixed { amount } if *amount == Amount::ZERO => Err(PenaltyError::ZeroFee),
            PenaltyRule::Fixed { .. } => Ok(()),
            PenaltyRule::BasisPoints {
                bps_per_period,
                period_ms,
                cap,
            } => {
                if *bps_per_period == 0 || *bps_per_period > PENALTY_BPS_PER_PERIOD_MAX {
                    return Err(PenaltyError::Bps {
                        found: *bps_per_period,
                    });
                }
                if !(PENALTY_PERIOD_MS_MIN..=PENALTY_PERIOD_MS_MAX).contains(period_ms) {
                    return Err(PenaltyError::Period { found: *period_ms });
                }
                if *cap == Amount::ZERO {
                    return Err(PenaltyError::ZeroCap);
                }
                Ok(())
            }
        }
    }

    /// The penalty on `principal` at block time `at_ms` for a due time of
    /// `due_at_ms`: zero until the due time has passed.
    pub fn accrued(&self, principal: Amount, due_at_ms: u64, at_ms: u64) -> Amount {
        if at_ms <= due_at_ms {
            return Amount::ZERO;
        }
        match self {
            PenaltyRule::None => Amount::ZERO,
            PenaltyRule::Fixed { amount } => *amount,
            PenaltyRule::BasisPoints {
                bps_per_period,
                period_ms,
                cap,
            } => {
                // A checked rule has a period of at least a minute; a zero
                // would be a decoding bug, and accrues nothing.
                let periods = (at_ms - due_at_ms).div_ceil((*period_ms).max(1));
                let share = u128::from(*bps_per_period).saturating_mul(u128::from(periods));
                let penalty = principal.0.saturating_mul(share) / BPS_PER_WHOLE;
                Amount(penalty.min(cap.0))
            }
        }
    }
}

/// Which of an organisation's roles may act on one kind of obligation. A
/// member holding any role of a list may take that action.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct KindRoles {
    /// May issue (and cancel what was issued).
    pub issue: Roles,
    /// May waive.
    pub waive: Roles,
    /// May decide appeals.
    pub decide: Roles,
}

/// One obligation of an issuance: who owes how much, for what.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Charge {
    /// Who owes it.
    pub payer: Address,
    /// Amount in minor units.
    pub amount: Amount,
    /// Reference data (plate number, offence code, …).
    pub reference: Reference,
    /// The record this obligation rests on, e.g. a camera record.
    pub evidence: Option<Digest>,
}

/// A bounded list of charges.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize)]
pub struct Charges(pub Vec<Charge>);

impl BorshDeserialize for Charges {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, CHARGES_PER_ISSUE_MAX).map(Charges)
    }
}

/// Obligations of one kind issued together: one for a fine, up to
/// [`CHARGES_PER_ISSUE_MAX`] for a toll operator's daily batch.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Issuance {
    /// The issuing organisation; the signer holds an issue role of the kind.
    pub org: OrgName,
    /// The kind.
    pub kind: KindName,
    /// The organisation's account that receives payments.
    pub payee: Address,
    /// Currency of every amount.
    pub currency: CurrencyCode,
    /// Block time by which to pay, ms since the Unix epoch.
    pub due_at_ms: u64,
    /// What lateness costs.
    pub penalty: PenaltyRule,
    /// The obligations, one per charge.
    pub charges: Charges,
}

/// How an appeal ends.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum AppealDecision {
    /// The obligation stands and is payable again by a new due time.
    Upheld {
        /// The new due time, ms since the Unix epoch.
        due_at_ms: u64,
    },
    /// The obligation is cancelled.
    Cancelled,
}

/// An operation on obligations.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ObligationOp {
    /// Define (or redefine) a kind and the roles that act on it; signed by
    /// an admin of the organisation.
    DefineKind {
        /// The organisation.
        org: OrgName,
        /// The kind.
        kind: KindName,
        /// Who may do what.
        roles: KindRoles,
    },
    /// Issue obligations.
    Issue(Issuance),
    /// Pay (part of) an obligation: the transfer and the settlement commit
    /// together. Anyone who may debit `from` may pay; the obligation stays
    /// the payer's.
    Pay {
        /// The obligation.
        obligation: Digest,
        /// The account paying.
        from: Address,
        /// The currency the payer means to pay in; must be the obligation's.
        currency: CurrencyCode,
        /// Amount in minor units; at most what is owed.
        amount: Amount,
    },
    /// Waive what remains; signed by a holder of a waive role.
    Waive {
        /// The obligation.
        obligation: Digest,
        /// Why.
        reason: Reason,
    },
    /// Appeal; signed by the payer, once.
    Appeal {
        /// The obligation.
        obligation: Digest,
        /// Grounds.
        reason: Reason,
    },
    /// Decide an appeal; signed by a holder of a decide role.
    Decide {
        /// The obligation.
        obligation: Digest,
        /// Upheld or cancelled.
        decision: AppealDecision,
        /// Why.
        reason: Reason,
    },
    /// Cancel; signed by a holder of an issue role.
    Cancel {
        /// The obligation.
        obligation: Digest,
        /// Why.
        reason: Reason,
    },
}

/// Where an obligation stands. Overdue is not a stored status: an open or
/// partially paid obligation is overdue whenever block time is past its due
/// time (see [`ObligationRecord::is_overdue_at`]).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum ObligationStatus {
    /// Nothing paid yet.
    Open = 1,
    /// Paid in part.
    PartiallyPaid = 2,
    /// Paid in full: settled.
    Paid = 3,
    /// The rest was waived.
    Waived = 4,
    /// Under appeal: not payable until decided.
    Appealed = 5,
    /// Cancelled by the issuer or by an appeal decision.
    Cancelled = 6,
}

impl ObligationStatus {
    /// The status as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            ObligationStatus::Open => "open",
            ObligationStatus::PartiallyPaid => "partially_paid",
            ObligationStatus::Paid => "paid",
            ObligationStatus::Waived => "waived",
            ObligationStatus::Appealed => "appealed",
            ObligationStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the obligation can still be paid or accrue penalties.
    pub fn is_payable(&self) -> bool {
        matches!(
            self,
            ObligationStatus::Open | ObligationStatus::PartiallyPaid
        )
    }

    /// Whether nothing can change it any more.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            ObligationStatus::Paid | ObligationStatus::Waived | ObligationStatus::Cancelled
        )
    }
}

/// An appeal and its decision.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AppealRecord {
    /// Block time of the appeal.
    pub appealed_at_ms: u64,
    /// The payer's grounds.
    pub reason: Reason,
    /// The decision, once made.
    pub decision: Option<DecisionRecord>,
}

/// A decision on an appeal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DecisionRecord {
    /// What was decided.
    pub decision: AppealDecision,
    /// Who decided.
    pub decided_by: PublicKey,
    /// Under which role.
    pub role: RoleName,
    /// Why.
    pub reason: Reason,
    /// Block time of the decision.
    pub decided_at_ms: u64,
}

/// How an obligation was waived or cancelled.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ClosureRecord {
    /// Who closed it.
    pub closed_by: PublicKey,
    /// Under which role.
    pub role: RoleName,
    /// Why.
    pub reason: Reason,
    /// Block time.
    pub closed_at_ms: u64,
    /// What was left owing and is now waived or cancelled.
    pub amount: Amount,
}

/// A kind of obligation, as its organisation defined it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ObligationKindRecord {
    /// Who may do what.
    pub roles: KindRoles,
}

/// An obligation in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ObligationRecord {
    /// Its kind.
    pub kind: KindName,
    /// The issuing organisation.
    pub issuer: OrgName,
    /// The member who issued it.
    pub issued_by: PublicKey,
    /// Block time of issuance.
    pub issued_at_ms: u64,
    /// Who owes it.
    pub payer: Address,
    /// The issuer's account that receives payments.
    pub payee: Address,
    /// Currency.
    pub currency: CurrencyCode,
    /// The amount owed before penalties, in minor units.
    pub amount: Amount,
    /// Block time by which to pay.
    pub due_at_ms: u64,
    /// What lateness costs.
    pub penalty: PenaltyRule,
    /// Reference data.
    pub reference: Reference,
    /// The record this obligation rests on.
    pub evidence: Option<Digest>,
    /// Where it stands.
    pub status: ObligationStatus,
    /// Sum of payments.
    pub paid: Amount,
    /// Penalty recognised so far (by payments and waivers); never decreases.
    pub penalty_assessed: Amount,
    /// The appeal, if one was made (at most one).
    pub appeal: Option<AppealRecord>,
    /// The waiver or cancellation, once closed so.
    pub closure: Option<ClosureRecord>,
}

impl ObligationRecord {
    /// The penalty at block time `at_ms`: what was recognised, or what the
    /// rule gives now if that is more and the obligation is still payable.
    pub fn penalty_at(&self, at_ms: u64) -> Amount {
        if !self.status.is_payable() {
            return self.penalty_assessed;
        }
        let accrued = self.penalty.accrued(self.amount, self.due_at_ms, at_ms);
        self.penalty_assessed.max(accrued)
    }

    /// What is owed at block time `at_ms`: amount plus penalty, less what
    /// was paid; zero once closed.
    pub fn owed_at(&self, at_ms: u64) -> Amount {
        if self.status.is_closed() {
            return Amount::ZERO;
        }
        let total = self.amount.0.saturating_add(self.penalty_at(at_ms).0);
        Amount(total.saturating_sub(self.paid.0))
    }

    /// Whether it is payable and past its due time at `at_ms`.
    pub fn is_overdue_at(&self, at_ms: u64) -> bool {
        self.status.is_payable() && at_ms > self.due_at_ms
    }
}

/// Flows of obligations for one organisation and currency, over a day of
/// block time or since genesis. All in minor units.
///
/// Invariant: `issued + penalties = collected + waived + cancelled +
/// outstanding`, where `outstanding` is what payable and appealed
/// obligations still owe (penalties counted as recognised).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize, serde::Serialize,
)]
pub struct ObligationTotals {
    /// Amounts issued.
    pub issued: u128,
    /// Penalties recognised.
    pub penalties: u128,
    /// Payments received.
    pub collected: u128,
    /// Amounts waived.
    pub waived: u128,
    /// Amounts cancelled.
    pub cancelled: u128,
}

impl ObligationTotals {
    /// What remains owing: issued and penalties, less what was collected,
    /// waived or cancelled. Negative only for the flows of a period in
    /// which more was settled than issued.
    pub fn outstanding(&self) -> i128 {
        // Each sum is bounded by the money supply, far below i128::MAX.
        (self.issued as i128 + self.penalties as i128)
            - (self.collected as i128 + self.waived as i128 + self.cancelled as i128)
    }

    /// Adds `other`'s flows to these.
    pub fn add(&mut self, other: &ObligationTotals) {
        self.issued = self.issued.saturating_add(other.issued);
        self.penalties = self.penalties.saturating_add(other.penalties);
        self.collected = self.collected.saturating_add(other.collected);
        self.waived = self.waived.saturating_add(other.waived);
        self.cancelled = self.cancelled.saturating_add(other.cancelled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn bps(bps_per_period: u32, period_ms: u64, cap: u128) -> PenaltyRule {
        PenaltyRule::BasisPoints {
            bps_per_period,
            period_ms,
            cap: Amount(cap),
        }
    }

    #[test]
    fn penalties_accrue_per_started_period_up_to_the_cap() {
        let due = 10 * DAY;
        // (rule, principal, at, expected)
        let cases: &[(PenaltyRule, u128, u64, u128)] = &[
            (PenaltyRule::None, 10_000, due + 100 * DAY, 0),
            (
                PenaltyRule::Fixed {
                    amount: Amount(500),
                },
                10_000,
                due,
                0,
            ),
            (
                PenaltyRule::Fixed {
                    amount: Amount(500),
                },
                10_000,
                due + 1,
                500,
            ),
            (bps(100, DAY, 5_000), 10_000, due, 0),
            (bps(100, DAY, 5_000), 10_000, due + 1, 100),
            (bps(100, DAY, 5_000), 10_000, due + DAY, 100),
            (bps(100, DAY, 5_000), 10_000, due + DAY + 1, 200),
            (bps(100, DAY, 5_000), 10_000, due + 30 * DAY, 3_000),
            (bps(100, DAY, 5_000), 10_000, due + 400 * DAY, 5_000),
            // Rounds down: 1 % of 99 minor units is 0.
            (bps(100, DAY, 5_000), 99, due + 1, 0),
            // No overflow on huge amounts: the cap binds.
            (bps(10_000, 60_000, 7), u128::MAX, u64::MAX, 7),
        ];
        for (rule, principal, at, expected) in cases {
            assert_eq!(
                rule.accrued(Amount(*principal), due, *at),
                Amount(*expected),
                "{rule:?} on {principal} at {at}"
            );
        }
    }

    #[test]
    fn penalty_rules_are_bounded() {
        let cases: &[(PenaltyRule, bool)] = &[
            (PenaltyRule::None, true),
            (PenaltyRule::Fixed { amount: Amount(1) }, true),
            (PenaltyRule::Fixed { amount: Amount(0) }, false),
            (bps(1, PENALTY_PERIOD_MS_MIN, 1), true),
            (bps(0, DAY, 1), false),
            (bps(10_001, DAY, 1), false),
            (bps(100, PENALTY_PERIOD_MS_MIN - 1, 1), false),
            (bps(100, PENALTY_PERIOD_MS_MAX + 1, 1), false),
            (bps(100, DAY, 0), false),
        ];
        for (rule, ok) in cases {
            assert_eq!(rule.check().is_ok(), *ok, "{rule:?}");
        }
    }

    fn field(key: &str, value: &str) -> ReferenceField {
        ReferenceField {
            key: ReferenceKey::new(key).unwrap(),
            value: ReferenceValue::new(value).unwrap(),
        }
    }

    #[test]
    fn references_are_bounded_and_unique_also_when_decoded() {
        assert!(Reference::new(vec![field("plate", "AB-123"), field("offence", "S12")]).is_ok());
        assert_eq!(
            Reference::new(vec![field("plate", "A"), field("plate", "B")]),
            Err(ReferenceError::Duplicate {
                key: "plate".into()
            })
        );
        let many: Vec<_> = (0..=REFERENCE_FIELDS_MAX)
            .map(|i| field(&format!("k{i}"), "v"))
            .collect();
        assert!(Reference::new(many).is_err());
        let duplicate = borsh::to_vec(&vec![field("plate", "A"), field("plate", "B")]).unwrap();
        assert!(borsh::from_slice::<Reference>(&duplicate).is_err());
        let good = Reference::new(vec![field("tax_year", "2026")]).unwrap();
        let bytes = borsh::to_vec(&good).unwrap();
        assert_eq!(borsh::from_slice::<Reference>(&bytes).unwrap(), good);
    }

    #[test]
    fn ids_differ_per_charge_and_per_transaction() {
        let a = obligation_id(&Digest([1; 32]), 0);
        assert_ne!(a, obligation_id(&Digest([1; 32]), 1));
        assert_ne!(a, obligation_id(&Digest([2; 32]), 0));
        assert_eq!(a, obligation_id(&Digest([1; 32]), 0));
    }

    #[test]
    fn totals_balance() {
        let totals = ObligationTotals {
            issued: 1_000,
            penalties: 50,
            collected: 600,
            waived: 100,
            cancelled: 200,
        };
        assert_eq!(totals.outstanding(), 150);
        let mut sum = ObligationTotals::default();
        sum.add(&totals);
        sum.add(&totals);
        assert_eq!(sum.outstanding(), 300);
    }
}
