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
    /// The obligation does not exist.
    UnknownObligation = 16,
    /// The kind of obligation is not defined by the organisation.
    UnknownKind = 17,
    /// Paying more than is owed.
    Overpayment = 18,
    /// The obligation is already paid in full.
    ObligationSettled = 19,
    /// The obligation was waived.
    ObligationWaived = 20,
    /// The obligation was cancelled.
    ObligationCancelled = 21,
    /// The obligation is under appeal and cannot be paid until decided.
    UnderAppeal = 22,
    /// The obligation is not under appeal.
    NotAppealed = 23,
    /// The obligation was appealed before; it may be appealed once.
    AlreadyAppealed = 24,
    /// The signer is not the obligation's payer.
    NotPayer = 25,
    /// Paying in another currency than the obligation's.
    WrongCurrency = 26,
    /// Terms of an issuance or decision are invalid (due time, penalty
    /// rule, payee, no charges).
    BadTerms = 27,
    /// The organisation defines no such citizen service.
    UnknownService = 28,
    /// The application does not exist.
    UnknownApplication = 29,
    /// The applicant already has an open application for the service.
    DuplicateApplication = 30,
    /// The application was already approved or rejected.
    ApplicationDecided = 31,
    /// The signer is not the application's applicant.
    NotApplicant = 32,
    /// No request for information is waiting for an answer.
    NoInfoRequested = 33,
    /// The application's fee is not paid (or waived) yet.
    FeeUnpaid = 34,
    /// A document the service requires is missing.
    MissingEvidence = 35,
    /// Fields or claims do not meet the service's specifications.
    BadFields = 36,
    /// The organisation defines no such credential type.
    UnknownCredentialType = 37,
    /// The credential does not exist.
    UnknownCredential = 38,
    /// The credential was revoked; nothing changes it any more.
    CredentialRevoked = 39,
    /// The credential is already suspended.
    AlreadySuspended = 40,
    /// The credential is not suspended.
    NotSuspended = 41,
    /// A validity period is empty, in the past, or longer than allowed.
    BadValidity = 42,
    /// A list of the record is full (status changes, rounds, documents).
    RecordFull = 43,
    /// The record does not exist.
    UnknownRecord = 44,
    /// The record was erased; only its tombstone remains.
    RecordErased = 45,
    /// The signer is not the owner (of the record, or of the grant).
    NotRecordOwner = 46,
    /// The signer is not a recipient of the record.
    NotRecipient = 47,
    /// The recipient already acknowledged the record.
    AlreadyAcknowledged = 48,
    /// The commitment given is not the record's.
    CommitmentMismatch = 49,
    /// The grant does not exist.
    UnknownGrant = 50,
    /// The grant was revoked.
    GrantRevoked = 51,
    /// The grant has ended (or had not begun).
    GrantExpired = 52,
    /// The reader is not a party of the record and no grant of its owner covers it.
    NoGrant = 53,
    /// An anchoring is invalid (size, owner, parent).
    BadRecord = 54,
    /// The device is not registered.
    UnknownDevice = 55,
    /// The key is already registered as a device.
    DeviceExists = 56,
    /// The device is suspended or retired.
    DeviceInactive = 57,
    /// The device was retired; nothing changes it any more.
    DeviceRetired = 58,
    /// A batch's sequence is not the device's next one.
    BatchOutOfOrder = 59,
    /// A batch is empty, above its limit, or has no root.
    BadBatch = 60,
    /// The incident does not exist.
    UnknownIncident = 61,
    /// The incident is closed; nothing changes it any more.
    IncidentClosed = 62,
    /// The incident is neither the agency's nor shared with it.
    IncidentNotShared = 63,
    /// The incident is already shared with the agency.
    AlreadyShared = 64,
    /// No evidence item (custody record) has this id.
    UnknownEvidence = 65,
    /// The signer's agency does not hold the evidence item.
    NotCustodian = 66,
    /// The evidence item has an open hand-over offer already.
    HandoverPending = 67,
    /// The evidence item has no open hand-over offer.
    NoHandoverOffer = 68,
    /// The signer is not the receiver the hand-over offer names.
    NotReceiver = 69,
    /// The case does not exist.
    UnknownCase = 70,
    /// The evidence item is in the case already.
    DuplicateCaseItem = 71,
    /// A location's point is outside the globe.
    BadLocation = 72,
    /// The exam does not exist.
    UnknownExam = 73,
    /// The exam does not take commitments yet.
    ExamNotOpen = 74,
    /// The exam's deadline has passed: commitments are refused.
    ExamClosed = 75,
    /// The exam's deadline has not passed: reveals are refused.
    ExamNotClosed = 76,
    /// The student committed no answers to the exam.
    NoCommitment = 77,
    /// The student revealed the answers already.
    AlreadyRevealed = 78,
    /// The student has not revealed the answers.
    NotRevealed = 79,
    /// The answers were graded already.
    AlreadyGraded = 80,
    /// An exam's times, scores or certificate are invalid.
    BadExamTerms = 81,
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
            RejectCode::UnknownObligation => "unknown_obligation",
            RejectCode::UnknownKind => "unknown_kind",
            RejectCode::Overpayment => "overpayment",
            RejectCode::ObligationSettled => "obligation_settled",
            RejectCode::ObligationWaived => "obligation_waived",
            RejectCode::ObligationCancelled => "obligation_cancelled",
            RejectCode::UnderAppeal => "under_appeal",
            RejectCode::NotAppealed => "not_appealed",
            RejectCode::AlreadyAppealed => "already_appealed",
            RejectCode::NotPayer => "not_payer",
            RejectCode::WrongCurrency => "wrong_currency",
            RejectCode::BadTerms => "bad_terms",
            RejectCode::UnknownService => "unknown_service",
            RejectCode::UnknownApplication => "unknown_application",
            RejectCode::DuplicateApplication => "duplicate_application",
            RejectCode::ApplicationDecided => "application_decided",
            RejectCode::NotApplicant => "not_applicant",
            RejectCode::NoInfoRequested => "no_info_requested",
            RejectCode::FeeUnpaid => "fee_unpaid",
            RejectCode::MissingEvidence => "missing_evidence",
            RejectCode::BadFields => "bad_fields",
            RejectCode::UnknownCredentialType => "unknown_credential_type",
            RejectCode::UnknownCredential => "unknown_credential",
            RejectCode::CredentialRevoked => "credential_revoked",
            RejectCode::AlreadySuspended => "already_suspended",
            RejectCode::NotSuspended => "not_suspended",
            RejectCode::BadValidity => "bad_validity",
            RejectCode::RecordFull => "record_full",
            RejectCode::UnknownRecord => "unknown_record",
            RejectCode::RecordErased => "record_erased",
            RejectCode::NotRecordOwner => "not_record_owner",
            RejectCode::NotRecipient => "not_recipient",
            RejectCode::AlreadyAcknowledged => "already_acknowledged",
            RejectCode::CommitmentMismatch => "commitment_mismatch",
            RejectCode::UnknownGrant => "unknown_grant",
            RejectCode::GrantRevoked => "grant_revoked",
            RejectCode::GrantExpired => "grant_expired",
            RejectCode::NoGrant => "no_grant",
            RejectCode::BadRecord => "bad_record",
            RejectCode::UnknownDevice => "unknown_device",
            RejectCode::DeviceExists => "device_exists",
            RejectCode::DeviceInactive => "device_inactive",
            RejectCode::DeviceRetired => "device_retired",
            RejectCode::BatchOutOfOrder => "batch_out_of_order",
            RejectCode::BadBatch => "bad_batch",
            RejectCode::UnknownIncident => "unknown_incident",
            RejectCode::IncidentClosed => "incident_closed",
            RejectCode::IncidentNotShared => "incident_not_shared",
            RejectCode::AlreadyShared => "already_shared",
            RejectCode::UnknownEvidence => "unknown_evidence",
            RejectCode::NotCustodian => "not_custodian",
            RejectCode::HandoverPending => "handover_pending",
            RejectCode::NoHandoverOffer => "no_handover_offer",
            RejectCode::NotReceiver => "not_receiver",
            RejectCode::UnknownCase => "unknown_case",
            RejectCode::DuplicateCaseItem => "duplicate_case_item",
            RejectCode::BadLocation => "bad_location",
            RejectCode::UnknownExam => "unknown_exam",
            RejectCode::ExamNotOpen => "exam_not_open",
            RejectCode::ExamClosed => "exam_closed",
            RejectCode::ExamNotClosed => "exam_not_closed",
            RejectCode::NoCommitment => "no_commitment",
            RejectCode::AlreadyRevealed => "already_revealed",
            RejectCode::NotRevealed => "not_revealed",
            RejectCode::AlreadyGraded => "already_graded",
            RejectCode::BadExamTerms => "bad_exam_terms",
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
