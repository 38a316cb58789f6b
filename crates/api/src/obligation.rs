//! Obligations on the wire: the obligation with what it owes now, pages of
//! obligations, an obligation's history, the per-agency report, and the
//! readable views of obligation transactions.

use crate::civil;
use cityledger_types::obligation::{
    AppealDecision, Charge, Issuance, KindRoles, ObligationRecord, ObligationStatus,
    ObligationTotals, PenaltyRule, ReferenceField,
};
use cityledger_types::{
    Address, Amount, CurrencyCode, Digest, Height, KindName, OrgName, PublicKey, RoleName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most charges a readable issuance view lists; the rest are counted.
pub const ISSUANCE_VIEW_CHARGES_MAX: usize = 100;

/// Where an obligation stands, as stored. `overdue` is reported beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatusView {
    /// Nothing paid yet.
    Open,
    /// Paid in part.
    PartiallyPaid,
    /// Paid in full.
    Paid,
    /// The rest was waived.
    Waived,
    /// Under appeal.
    Appealed,
    /// Cancelled.
    Cancelled,
}

impl From<ObligationStatus> for ObligationStatusView {
    fn from(status: ObligationStatus) -> ObligationStatusView {
        match status {
            ObligationStatus::Open => ObligationStatusView::Open,
            ObligationStatus::PartiallyPaid => ObligationStatusView::PartiallyPaid,
            ObligationStatus::Paid => ObligationStatusView::Paid,
            ObligationStatus::Waived => ObligationStatusView::Waived,
            ObligationStatus::Appealed => ObligationStatusView::Appealed,
            ObligationStatus::Cancelled => ObligationStatusView::Cancelled,
        }
    }
}

/// Which obligations a listing keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatusFilter {
    /// Nothing paid yet (overdue or not).
    Open,
    /// Paid in part (overdue or not).
    PartiallyPaid,
    /// Open or partially paid, and past the due time.
    Overdue,
    /// Open or partially paid: what can be paid now.
    Payable,
    /// Paid in full.
    Paid,
    /// Waived.
    Waived,
    /// Under appeal.
    Appealed,
    /// Cancelled.
    Cancelled,
}

impl ObligationStatusFilter {
    /// Every filter with its name, for parsing and documentation.
    pub const ALL: [(&'static str, ObligationStatusFilter); 8] = [
        ("open", ObligationStatusFilter::Open),
        ("partially_paid", ObligationStatusFilter::PartiallyPaid),
        ("overdue", ObligationStatusFilter::Overdue),
        ("payable", ObligationStatusFilter::Payable),
        ("paid", ObligationStatusFilter::Paid),
        ("waived", ObligationStatusFilter::Waived),
        ("appealed", ObligationStatusFilter::Appealed),
        ("cancelled", ObligationStatusFilter::Cancelled),
    ];

    /// The filter named `text`.
    pub fn parse(text: &str) -> Option<ObligationStatusFilter> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, filter)| *filter)
    }

    /// Whether `record` passes the filter at block time `at_ms`.
    pub fn keeps(&self, record: &ObligationRecord, at_ms: u64) -> bool {
        let status = record.status;
        match self {
            ObligationStatusFilter::Open => status == ObligationStatus::Open,
            ObligationStatusFilter::PartiallyPaid => status == ObligationStatus::PartiallyPaid,
            ObligationStatusFilter::Overdue => record.is_overdue_at(at_ms),
            ObligationStatusFilter::Payable => status.is_payable(),
            ObligationStatusFilter::Paid => status == ObligationStatus::Paid,
            ObligationStatusFilter::Waived => status == ObligationStatus::Waived,
            ObligationStatusFilter::Appealed => status == ObligationStatus::Appealed,
            ObligationStatusFilter::Cancelled => status == ObligationStatus::Cancelled,
        }
    }
}

/// A penalty rule, tagged by `rule`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum PenaltyRuleView {
    /// No penalty.
    None,
    /// A fixed late fee once the due time has passed.
    Fixed {
        /// The fee, minor units.
        #[schema(value_type = String)]
        amount: Amount,
    },
    /// Basis points of the amount per started period, up to a cap.
    BasisPoints {
        /// Basis points (1/100 %) per period.
        bps_per_period: u32,
        /// Period, ms.
        period_ms: u64,
        /// Most the penalty may reach, minor units.
        #[schema(value_type = String)]
        cap: Amount,
    },
}

impl From<&PenaltyRule> for PenaltyRuleView {
    fn from(rule: &PenaltyRule) -> PenaltyRuleView {
        match rule {
            PenaltyRule::None => PenaltyRuleView::None,
            PenaltyRule::Fixed { amount } => PenaltyRuleView::Fixed { amount: *amount },
            PenaltyRule::BasisPoints {
                bps_per_period,
                period_ms,
                cap,
            } => PenaltyRuleView::BasisPoints {
                bps_per_period: *bps_per_period,
                period_ms: *period_ms,
                cap: *cap,
            },
        }
    }
}

/// One field of reference data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferenceFieldView {
    /// Field name, e.g. `plate`.
    pub key: String,
    /// Field value.
    pub value: String,
}

fn reference_views(fields: &[ReferenceField]) -> Vec<ReferenceFieldView> {
    fields
        .iter()
        .map(|field| ReferenceFieldView {
            key: field.key.to_string(),
            value: field.value.to_string(),
        })
        .collect()
}

/// An appeal and, once made, its decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppealView {
    /// Block time of the appeal, ms.
    pub appealed_at_ms: u64,
    /// The payer's grounds.
    pub reason: String,
    /// The decision, once made.
    pub decision: Option<DecisionView>,
}

/// A decision on an appeal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    /// `upheld` or `cancelled`.
    pub decision: String,
    /// The new due time, when upheld.
    pub due_at_ms: Option<u64>,
    /// Who decided, hex key.
    #[schema(value_type = String)]
    pub decided_by: PublicKey,
    /// Under which role.
    #[schema(value_type = String)]
    pub role: RoleName,
    /// Why.
    pub reason: String,
    /// Block time, ms.
    pub decided_at_ms: u64,
}

/// A waiver or cancellation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClosureView {
    /// Who closed it, hex key.
    #[schema(value_type = String)]
    pub closed_by: PublicKey,
    /// Under which role.
    #[schema(value_type = String)]
    pub role: RoleName,
    /// Why.
    pub reason: String,
    /// Block time, ms.
    pub closed_at_ms: u64,
    /// What was still owed and was waived or cancelled, minor units.
    #[schema(value_type = String)]
    pub amount: Amount,
}

/// An obligation, with what it owes at the time of the newest finalized
/// block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Kind, e.g. `traffic_fine`.
    #[schema(value_type = String)]
    pub kind: KindName,
    /// Issuing organisation.
    #[schema(value_type = String)]
    pub issuer: OrgName,
    /// Member who issued it, hex key.
    #[schema(value_type = String)]
    pub issued_by: PublicKey,
    /// Block time of issuance, ms.
    pub issued_at_ms: u64,
    /// Who owes it.
    #[schema(value_type = String)]
    pub payer: Address,
    /// Where payments go.
    #[schema(value_type = String)]
    pub payee: Address,
    /// Currency.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// Amount before penalties, minor units.
    #[schema(value_type = String)]
    pub amount: Amount,
    /// Due time, ms of block time.
    pub due_at_ms: u64,
    /// What lateness costs.
    pub penalty_rule: PenaltyRuleView,
    /// Reference data.
    pub reference: Vec<ReferenceFieldView>,
    /// The record it rests on, hex.
    #[schema(value_type = Option<String>)]
    pub evidence: Option<Digest>,
    /// Where it stands.
    pub status: ObligationStatusView,
    /// Payable and past its due time at `as_of_ms`.
    pub overdue: bool,
    /// Sum of payments, minor units.
    #[schema(value_type = String)]
    pub paid: Amount,
    /// Penalty recognised by payments and waivers so far, minor units.
    #[schema(value_type = String)]
    pub penalty_assessed: Amount,
    /// Penalty at `as_of_ms`, minor units.
    #[schema(value_type = String)]
    pub penalty: Amount,
    /// What it owes at `as_of_ms`, minor units: pay exactly this to settle it.
    #[schema(value_type = String)]
    pub owed: Amount,
    /// Block time of the newest finalized block, at which `penalty` and
    /// `owed` are computed.
    pub as_of_ms: u64,
    /// The appeal, if any.
    pub appeal: Option<AppealView>,
    /// The waiver or cancellation, if closed so.
    pub closure: Option<ClosureView>,
}

impl ObligationView {
    /// The view of obligation `id`, computed at block time `as_of_ms`.
    pub fn new(id: Digest, record: &ObligationRecord, as_of_ms: u64) -> ObligationView {
        ObligationView {
            id,
            kind: record.kind.clone(),
            issuer: record.issuer.clone(),
            issued_by: record.issued_by,
            issued_at_ms: record.issued_at_ms,
            payer: record.payer,
            payee: record.payee,
            currency: record.currency.clone(),
            amount: record.amount,
            due_at_ms: record.due_at_ms,
            penalty_rule: PenaltyRuleView::from(&record.penalty),
            reference: reference_views(record.reference.fields()),
            evidence: record.evidence,
            status: record.status.into(),
            overdue: record.is_overdue_at(as_of_ms),
            paid: record.paid,
            penalty_assessed: record.penalty_assessed,
            penalty: record.penalty_at(as_of_ms),
            owed: record.owed_at(as_of_ms),
            as_of_ms,
            appeal: record.appeal.as_ref().map(|appeal| AppealView {
                appealed_at_ms: appeal.appealed_at_ms,
                reason: appeal.reason.to_string(),
                decision: appeal.decision.as_ref().map(|decision| DecisionView {
                    decision: decision_name(&decision.decision).to_owned(),
                    due_at_ms: match decision.decision {
                        AppealDecision::Upheld { due_at_ms } => Some(due_at_ms),
                        AppealDecision::Cancelled => None,
                    },
                    decided_by: decision.decided_by,
                    role: decision.role.clone(),
                    reason: decision.reason.to_string(),
                    decided_at_ms: decision.decided_at_ms,
                }),
            }),
            closure: record.closure.as_ref().map(|closure| ClosureView {
                closed_by: closure.closed_by,
                role: closure.role.clone(),
                reason: closure.reason.to_string(),
                closed_at_ms: closure.closed_at_ms,
                amount: closure.amount,
            }),
        }
    }
}

fn decision_name(decision: &AppealDecision) -> &'static str {
    match decision {
        AppealDecision::Upheld { .. } => "upheld",
        AppealDecision::Cancelled => "cancelled",
    }
}

/// A page of obligations, newest issued first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationsPage {
    /// The obligations of this page; may be fewer than the limit even when
    /// more follow (each page scans a bounded part of the index).
    pub items: Vec<ObligationView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// One step of an obligation's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObligationHistoryItem {
    /// Height of the block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub timestamp_ms: u64,
    /// The transaction, hex.
    #[schema(value_type = String)]
    pub tx: Digest,
    /// The event, as on the stream (`type` is `obligation_issued`,
    /// `obligation_paid`, `obligation_waived`, `obligation_appealed`,
    /// `obligation_decided` or `obligation_cancelled`).
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// An obligation's history, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObligationHistoryPage {
    /// The steps of this page.
    pub items: Vec<ObligationHistoryItem>,
    /// Pass as `cursor` to continue; absent on the last page.
    pub next_cursor: Option<String>,
}

/// An agency's obligations in one currency over a period of UTC days of
/// block time: what was issued, collected, waived, cancelled and charged as
/// penalties, and what is outstanding now. `collected` is exactly what
/// obligation payments credited to the agency's payee accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationReport {
    /// The agency.
    #[schema(value_type = String)]
    pub issuer: OrgName,
    /// The currency.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// Decimals of the currency's major unit.
    pub decimals: u8,
    /// First day of the period, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// Last day of the period, inclusive.
    pub to: String,
    /// Issued in the period, minor units.
    #[schema(value_type = String)]
    pub issued: Amount,
    /// Penalties recognised in the period.
    #[schema(value_type = String)]
    pub penalties: Amount,
    /// Collected in the period.
    #[schema(value_type = String)]
    pub collected: Amount,
    /// Waived in the period.
    #[schema(value_type = String)]
    pub waived: Amount,
    /// Cancelled in the period.
    #[schema(value_type = String)]
    pub cancelled: Amount,
    /// Change of what is outstanding over the period, signed.
    #[serde(with = "crate::decimal")]
    #[schema(value_type = String, example = "-2500")]
    pub outstanding_change: i128,
    /// Outstanding now (at `as_of_height`), over all time.
    #[serde(with = "crate::decimal")]
    #[schema(value_type = String)]
    pub outstanding: i128,
    /// Collected since genesis: reconciles with the payee accounts' credits.
    #[schema(value_type = String)]
    pub collected_total: Amount,
    /// Height of the state the report reads.
    #[schema(value_type = u64)]
    pub as_of_height: Height,
}

impl ObligationReport {
    /// The report of `period` (the flows of its days summed) and `book`
    /// (flows since genesis).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        issuer: OrgName,
        currency: CurrencyCode,
        decimals: u8,
        (from_day, to_day): (u32, u32),
        period: &ObligationTotals,
        book: &ObligationTotals,
        as_of_height: Height,
    ) -> ObligationReport {
        ObligationReport {
            issuer,
            currency,
            decimals,
            from: civil::date_of_day(from_day),
            to: civil::date_of_day(to_day),
            issued: Amount(period.issued),
            penalties: Amount(period.penalties),
            collected: Amount(period.collected),
            waived: Amount(period.waived),
            cancelled: Amount(period.cancelled),
            outstanding_change: period.outstanding(),
            outstanding: book.outstanding(),
            collected_total: Amount(book.collected),
            as_of_height,
        }
    }
}

/// Defining a kind of obligation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DefineKindView {
    /// Organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Kind.
    #[schema(value_type = String)]
    pub kind: KindName,
    /// Roles that may issue and cancel.
    #[schema(value_type = Vec<String>)]
    pub issue_roles: Vec<RoleName>,
    /// Roles that may waive.
    #[schema(value_type = Vec<String>)]
    pub waive_roles: Vec<RoleName>,
    /// Roles that may decide appeals.
    #[schema(value_type = Vec<String>)]
    pub decide_roles: Vec<RoleName>,
}

impl DefineKindView {
    /// The view of defining `kind` of `org` with `roles`.
    pub fn new(org: &OrgName, kind: &KindName, roles: &KindRoles) -> DefineKindView {
        DefineKindView {
            org: org.clone(),
            kind: kind.clone(),
            issue_roles: roles.issue.0.clone(),
            waive_roles: roles.waive.0.clone(),
            decide_roles: roles.decide.0.clone(),
        }
    }
}

/// One charge of an issuance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChargeView {
    /// Who owes it.
    #[schema(value_type = String)]
    pub payer: Address,
    /// Amount, minor units.
    #[schema(value_type = String)]
    pub amount: Amount,
    /// Reference data.
    pub reference: Vec<ReferenceFieldView>,
    /// The record it rests on, hex.
    #[schema(value_type = Option<String>)]
    pub evidence: Option<Digest>,
}

impl From<&Charge> for ChargeView {
    fn from(charge: &Charge) -> ChargeView {
        ChargeView {
            payer: charge.payer,
            amount: charge.amount,
            reference: reference_views(charge.reference.fields()),
            evidence: charge.evidence,
        }
    }
}

/// Issuing obligations; a bulk issuance lists its first
/// `ISSUANCE_VIEW_CHARGES_MAX` (100) charges and counts the rest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssueView {
    /// Issuing organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Kind.
    #[schema(value_type = String)]
    pub kind: KindName,
    /// Where payments go.
    #[schema(value_type = String)]
    pub payee: Address,
    /// Currency.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// Due time, ms.
    pub due_at_ms: u64,
    /// What lateness costs.
    pub penalty_rule: PenaltyRuleView,
    /// Number of charges (obligations).
    pub charge_count: u32,
    /// Sum of the charges, minor units.
    #[schema(value_type = String)]
    pub charges_total: Amount,
    /// The first charges.
    pub charges: Vec<ChargeView>,
}

impl From<&Issuance> for IssueView {
    fn from(issuance: &Issuance) -> IssueView {
        let charges = &issuance.charges.0;
        IssueView {
            org: issuance.org.clone(),
            kind: issuance.kind.clone(),
            payee: issuance.payee,
            currency: issuance.currency.clone(),
            due_at_ms: issuance.due_at_ms,
            penalty_rule: PenaltyRuleView::from(&issuance.penalty),
            // Bounded by CHARGES_PER_ISSUE_MAX.
            charge_count: charges.len() as u32,
            charges_total: Amount(
                charges
                    .iter()
                    .fold(0u128, |sum, c| sum.saturating_add(c.amount.0)),
            ),
            charges: charges
                .iter()
                .take(ISSUANCE_VIEW_CHARGES_MAX)
                .map(ChargeView::from)
                .collect(),
        }
    }
}

/// Paying an obligation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PayObligationView {
    /// The obligation, hex.
    #[schema(value_type = String)]
    pub obligation: Digest,
    /// The paying account.
    #[schema(value_type = String)]
    pub from: Address,
    /// Currency.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// Amount, minor units.
    #[schema(value_type = String)]
    pub amount: Amount,
}

/// Waiving, appealing or cancelling an obligation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationReasonView {
    /// The obligation, hex.
    #[schema(value_type = String)]
    pub obligation: Digest,
    /// Why.
    pub reason: String,
}

/// Deciding an appeal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecideAppealView {
    /// The obligation, hex.
    #[schema(value_type = String)]
    pub obligation: Digest,
    /// `upheld` or `cancelled`.
    pub decision: String,
    /// The new due time, when upheld.
    pub due_at_ms: Option<u64>,
    /// Why.
    pub reason: String,
}

impl DecideAppealView {
    /// The view of deciding `decision` on `obligation`.
    pub fn new(obligation: Digest, decision: &AppealDecision, reason: &str) -> DecideAppealView {
        DecideAppealView {
            obligation,
            decision: decision_name(decision).to_owned(),
            due_at_ms: match decision {
                AppealDecision::Upheld { due_at_ms } => Some(*due_at_ms),
                AppealDecision::Cancelled => None,
            },
            reason: reason.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::names::ReferenceKey;
    use cityledger_types::obligation::{Reference, ReferenceValue};

    fn record(status: ObligationStatus, due_at_ms: u64) -> ObligationRecord {
        ObligationRecord {
            kind: KindName::new("toll").unwrap(),
            issuer: OrgName::new("transport").unwrap(),
            issued_by: cityledger_types::SecretKey::from_seed([1; 32]).public_key(),
            issued_at_ms: 0,
            payer: Address::of_key(&cityledger_types::SecretKey::from_seed([2; 32]).public_key()),
            payee: Address::parse_or_alias("transport:main").unwrap(),
            currency: CurrencyCode::new("CITY").unwrap(),
            amount: Amount(1_000),
            due_at_ms,
            penalty: PenaltyRule::Fixed { amount: Amount(50) },
            reference: Reference::new(vec![ReferenceField {
                key: ReferenceKey::new("plate").unwrap(),
                value: ReferenceValue::new("AB-1").unwrap(),
            }])
            .unwrap(),
            evidence: None,
            status,
            paid: Amount(100),
            penalty_assessed: Amount::ZERO,
            appeal: None,
            closure: None,
        }
    }

    #[test]
    fn the_view_says_what_is_owed_now() {
        let view = ObligationView::new(
            Digest([3; 32]),
            &record(ObligationStatus::PartiallyPaid, 10),
            11,
        );
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(value["status"], "partially_paid");
        assert_eq!(value["overdue"], true);
        assert_eq!(value["penalty"], "50");
        assert_eq!(value["owed"], "950");
        assert_eq!(value["penalty_rule"]["rule"], "fixed");
        assert_eq!(value["reference"][0]["key"], "plate");
        let back: ObligationView = serde_json::from_value(value).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn filters_keep_what_they_name() {
        let cases: &[(ObligationStatusFilter, ObligationStatus, u64, bool)] = &[
            (
                ObligationStatusFilter::Overdue,
                ObligationStatus::Open,
                5,
                true,
            ),
            (
                ObligationStatusFilter::Overdue,
                ObligationStatus::Open,
                50,
                false,
            ),
            (
                ObligationStatusFilter::Overdue,
                ObligationStatus::Appealed,
                5,
                false,
            ),
            (
                ObligationStatusFilter::Payable,
                ObligationStatus::PartiallyPaid,
                50,
                true,
            ),
            (
                ObligationStatusFilter::Payable,
                ObligationStatus::Paid,
                50,
                false,
            ),
            (
                ObligationStatusFilter::Open,
                ObligationStatus::Open,
                5,
                true,
            ),
            (
                ObligationStatusFilter::Waived,
                ObligationStatus::Cancelled,
                5,
                false,
            ),
        ];
        for (filter, status, due, expected) in cases {
            assert_eq!(
                filter.keeps(&record(*status, *due), 10),
                *expected,
                "{filter:?} {status:?}"
            );
        }
        for (name, filter) in ObligationStatusFilter::ALL {
            assert_eq!(ObligationStatusFilter::parse(name), Some(filter));
            assert_eq!(serde_json::to_value(filter).unwrap(), name);
        }
        assert_eq!(ObligationStatusFilter::parse("late"), None);
    }
}
