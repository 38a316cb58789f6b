//! Citizen services: applications, their fees, review and decision.
//!
//! A service (driver licence renewal, passport renewal, visa application,
//! library card) is data, defined by the organisation that decides it: the
//! roles that decide, the fee, the evidence and fields an application must
//! carry, and the credential an approval issues. An application carries
//! commitments (hashes) of its documents, never the documents; its fee is
//! an obligation raised in the same transaction; the agency may ask for
//! more information any number of times up to [`INFO_ROUNDS_MAX`], and
//! approves (issuing the credential in the same transaction) or rejects
//! with a reason.

use crate::amount::Amount;
use crate::credential::{FieldSpecs, Fields};
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::{DOCUMENTS_PER_APPLICATION_MAX, EVIDENCE_PER_SERVICE_MAX, INFO_ROUNDS_MAX};
use crate::names::{
    CredentialType, CurrencyCode, FieldName, KindName, OrgName, RoleName, ServiceName,
};
use crate::obligation::Reason;
use crate::tx::Roles;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of application ids.
const APPLICATION_DOMAIN: &[u8] = b"cityledger/application/v1";

/// The id of the application submitted by the transaction `tx_hash`.
pub fn application_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[APPLICATION_DOMAIN, &tx_hash.0])
}

/// The fee of a service: raised as an obligation of `obligation_kind`,
/// owed by the applicant to the deciding organisation's `main` account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Fee {
    /// Amount, minor units; above zero.
    pub amount: Amount,
    /// Currency.
    pub currency: CurrencyCode,
    /// The organisation's obligation kind the fee is raised as, e.g.
    /// `application_fee`; its roles waive it.
    pub obligation_kind: KindName,
    /// How long the applicant has to pay, ms from submission.
    pub due_ms: u64,
}

/// Names of the evidence a service requires, at most
/// [`EVIDENCE_PER_SERVICE_MAX`].
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct EvidenceNames(pub Vec<FieldName>);

impl BorshDeserialize for EvidenceNames {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, EVIDENCE_PER_SERVICE_MAX).map(EvidenceNames)
    }
}

/// A citizen service, as its organisation defined it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ServiceRecord {
    /// Roles that may request information, approve and reject.
    pub decide: Roles,
    /// The fee, if the service has one.
    pub fee: Option<Fee>,
    /// Evidence every application must carry a document commitment for.
    pub evidence: EvidenceNames,
    /// The fields an application carries.
    pub fields: FieldSpecs,
    /// The credential an approval issues; a type the organisation defines.
    pub credential_type: CredentialType,
    /// The longest validity an approval may give, ms from approval.
    pub validity_ms_max: u64,
}

/// A commitment to one document that stays off-chain.
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
pub struct Document {
    /// Which evidence it is, e.g. `photo`.
    pub name: FieldName,
    /// SHA-256 of the document (see the records issue).
    pub digest: Digest,
}

/// Document commitments, at most [`DOCUMENTS_PER_APPLICATION_MAX`].
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct Documents(pub Vec<Document>);

impl BorshDeserialize for Documents {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, DOCUMENTS_PER_APPLICATION_MAX).map(Documents)
    }
}

/// An operation on applications.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ApplicationOp {
    /// Define (or redefine) a service; signed by an admin of the
    /// organisation.
    DefineService {
        /// The deciding organisation.
        org: OrgName,
        /// The service.
        service: ServiceName,
        /// Its terms.
        definition: ServiceRecord,
    },
    /// Apply; signed by the applicant, whose key holds the credential an
    /// approval issues. Raises the fee as an obligation in the same
    /// transaction. One open application per applicant and service.
    Submit {
        /// The deciding organisation.
        org: OrgName,
        /// The service.
        service: ServiceName,
        /// The typed fields the service takes.
        fields: Fields,
        /// Commitments of the required evidence.
        documents: Documents,
    },
    /// Ask the applicant for more; signed by a holder of a decide role.
    RequestInfo {
        /// The application.
        application: Digest,
        /// What is needed.
        request: Reason,
    },
    /// Answer a request for information; signed by the applicant.
    Respond {
        /// The application.
        application: Digest,
        /// The answer.
        response: Reason,
        /// Commitments of further documents.
        documents: Documents,
    },
    /// Approve, issuing the service's credential in the same transaction;
    /// signed by a holder of a decide role. The fee must be settled.
    Approve {
        /// The application.
        application: Digest,
        /// The credential's claims.
        claims: Fields,
        /// End of validity (exclusive), ms of block time; the service's
        /// longest validity if `None`.
        valid_until_ms: Option<u64>,
    },
    /// Reject; signed by a holder of a decide role.
    Reject {
        /// The application.
        application: Digest,
        /// Why.
        reason: Reason,
    },
}

/// Where an application stands.
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
pub enum ApplicationStatus {
    /// Waiting for the agency.
    Submitted = 1,
    /// Waiting for the applicant's answer.
    InfoRequested = 2,
    /// Approved; the credential was issued.
    Approved = 3,
    /// Rejected.
    Rejected = 4,
}

impl ApplicationStatus {
    /// The status as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::InfoRequested => "info_requested",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    /// Whether it is decided: nothing changes it any more.
    pub fn is_decided(&self) -> bool {
        matches!(
            self,
            ApplicationStatus::Approved | ApplicationStatus::Rejected
        )
    }
}

/// A request for information and its answer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct InfoRound {
    /// Who asked.
    pub requested_by: PublicKey,
    /// Under which role.
    pub role: RoleName,
    /// Block time of the request.
    pub requested_at_ms: u64,
    /// What is needed.
    pub request: Reason,
    /// The applicant's answer, once given.
    pub response: Option<InfoResponse>,
}

/// The applicant's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct InfoResponse {
    /// Block time of the answer.
    pub responded_at_ms: u64,
    /// The answer.
    pub response: Reason,
}

/// The rounds of requests, at most [`INFO_ROUNDS_MAX`].
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct InfoRounds(pub Vec<InfoRound>);

impl BorshDeserialize for InfoRounds {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, INFO_ROUNDS_MAX).map(InfoRounds)
    }
}

/// The decision on an application.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ApplicationDecision {
    /// Who decided.
    pub decided_by: PublicKey,
    /// Under which role.
    pub role: RoleName,
    /// Block time.
    pub decided_at_ms: u64,
    /// Why, for a rejection.
    pub reason: Option<Reason>,
    /// The credential issued, for an approval.
    pub credential: Option<Digest>,
}

/// An application in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ApplicationRecord {
    /// The deciding organisation.
    pub org: OrgName,
    /// The service.
    pub service: ServiceName,
    /// The applicant's key; it holds the credential an approval issues.
    pub applicant: PublicKey,
    /// Block time of submission.
    pub submitted_at_ms: u64,
    /// The typed fields.
    pub fields: Fields,
    /// Document commitments, of the submission and of every answer.
    pub documents: Documents,
    /// The fee's obligation, if the service has a fee.
    pub fee_obligation: Option<Digest>,
    /// Where it stands.
    pub status: ApplicationStatus,
    /// Requests for information and their answers.
    pub rounds: InfoRounds,
    /// The decision, once made.
    pub decision: Option<ApplicationDecision>,
}

/// Which application of an applicant is open for a service, so that a
/// second one is refused until the first is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct OpenApplication {
    /// The open application.
    pub application: Digest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_per_transaction_and_from_credential_ids() {
        let a = application_id(&Digest([1; 32]));
        assert_ne!(a, application_id(&Digest([2; 32])));
        assert_ne!(a, crate::credential::credential_id(&Digest([1; 32])));
    }

    #[test]
    fn decided_is_final() {
        let cases = [
            (ApplicationStatus::Submitted, false),
            (ApplicationStatus::InfoRequested, false),
            (ApplicationStatus::Approved, true),
            (ApplicationStatus::Rejected, true),
        ];
        for (status, decided) in cases {
            assert_eq!(status.is_decided(), decided, "{}", status.as_str());
        }
    }
}
