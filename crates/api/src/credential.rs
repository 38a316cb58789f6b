//! Applications and credentials on the wire: an application with its
//! rounds and decision, a credential with its status now and its history,
//! a credential's status at a height or time with the proof of its record,
//! an issuer's status list, pages of each, and the readable views of their
//! transactions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_types::application::{
    ApplicationOp, ApplicationRecord, ApplicationStatus, Document,
};
use cityledger_types::credential::{
    AsOf, CredentialOp, CredentialRecord, CredentialStatus, Field, FieldSpec, StatusChangeKind,
};
use cityledger_types::records::StateKey;
use cityledger_types::smt::{ProofError, StateProof};
use cityledger_types::{
    Address, Amount, CredentialType, CurrencyCode, Digest, Height, OrgName, PublicKey, RoleName,
    ServiceName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A request for information and, once given, the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InfoRoundView {
    /// Who asked, hex key.
    #[schema(value_type = String)]
    pub requested_by: PublicKey,
    /// Under which role.
    #[schema(value_type = String)]
    pub role: RoleName,
    /// Block time of the request, ms.
    pub requested_at_ms: u64,
    /// What is needed.
    pub request: String,
    /// Block time of the answer, ms.
    pub responded_at_ms: Option<u64>,
    /// The answer.
    pub response: Option<String>,
}

/// The decision on an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationDecisionView {
    /// Who decided, hex key.
    #[schema(value_type = String)]
    pub decided_by: PublicKey,
    /// Under which role.
    #[schema(value_type = String)]
    pub role: RoleName,
    /// Block time, ms.
    pub decided_at_ms: u64,
    /// Why, for a rejection.
    pub reason: Option<String>,
    /// The credential issued, for an approval, hex.
    #[schema(value_type = Option<String>)]
    pub credential: Option<Digest>,
}

/// An application at the newest finalized block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// The deciding organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// The service, e.g. `passport_renewal`.
    #[schema(value_type = String)]
    pub service: ServiceName,
    /// The applicant's key, hex; it holds the credential an approval issues.
    #[schema(value_type = String)]
    pub applicant: PublicKey,
    /// The applicant's account.
    #[schema(value_type = String)]
    pub applicant_address: Address,
    /// Block time of submission, ms.
    pub submitted_at_ms: u64,
    /// The typed fields: `{name, value: {type, value}}`.
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<Field>,
    /// Commitments of the documents: `{name, digest}`.
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<Document>,
    /// The fee's obligation, hex; see `/v1/obligations/{id}`.
    #[schema(value_type = Option<String>)]
    pub fee_obligation: Option<Digest>,
    /// `submitted`, `info_requested`, `approved` or `rejected`.
    #[schema(value_type = String)]
    pub status: ApplicationStatus,
    /// Requests for information, oldest first.
    pub rounds: Vec<InfoRoundView>,
    /// The decision, once made.
    pub decision: Option<ApplicationDecisionView>,
}

impl ApplicationView {
    /// The view of application `id`.
    pub fn new(id: Digest, record: &ApplicationRecord) -> ApplicationView {
        ApplicationView {
            id,
            org: record.org.clone(),
            service: record.service.clone(),
            applicant: record.applicant,
            applicant_address: Address::of_key(&record.applicant),
            submitted_at_ms: record.submitted_at_ms,
            fields: record.fields.fields().to_vec(),
            documents: record.documents.0.clone(),
            fee_obligation: record.fee_obligation,
            status: record.status,
            rounds: record
                .rounds
                .0
                .iter()
                .map(|round| InfoRoundView {
                    requested_by: round.requested_by,
                    role: round.role.clone(),
                    requested_at_ms: round.requested_at_ms,
                    request: round.request.to_string(),
                    responded_at_ms: round.response.as_ref().map(|r| r.responded_at_ms),
                    response: round.response.as_ref().map(|r| r.response.to_string()),
                })
                .collect(),
            decision: record
                .decision
                .as_ref()
                .map(|decision| ApplicationDecisionView {
                    decided_by: decision.decided_by,
                    role: decision.role.clone(),
                    decided_at_ms: decision.decided_at_ms,
                    reason: decision.reason.as_ref().map(|r| r.to_string()),
                    credential: decision.credential,
                }),
        }
    }
}

/// A page of applications, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationsPage {
    /// The applications of this page.
    pub items: Vec<ApplicationView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// One change of a credential's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusChangeView {
    /// Height of the block that made it.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
    /// Who made it, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// Under which role.
    #[schema(value_type = String)]
    pub role: RoleName,
    /// `{change: issued, valid_from_ms, valid_until_ms}`, `{change:
    /// renewed, valid_until_ms}`, or `suspended`, `reinstated`, `revoked`.
    #[schema(value_type = Object)]
    pub change: StatusChangeKind,
    /// Why, where given.
    pub reason: Option<String>,
}

/// A credential, with its status at the newest finalized block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Its type, e.g. `driver_licence`.
    #[schema(value_type = String)]
    pub credential_type: CredentialType,
    /// The issuing organisation.
    #[schema(value_type = String)]
    pub issuer: OrgName,
    /// The holder's key, hex.
    #[schema(value_type = String)]
    pub holder: PublicKey,
    /// The holder's account.
    #[schema(value_type = String)]
    pub holder_address: Address,
    /// The claims: `{name, value: {type, value}}`.
    #[schema(value_type = Vec<Object>)]
    pub claims: Vec<Field>,
    /// The application whose approval issued it, hex.
    #[schema(value_type = Option<String>)]
    pub application: Option<Digest>,
    /// Its position in the issuer's status lists.
    pub status_index: u32,
    /// Start of validity, ms.
    pub valid_from_ms: u64,
    /// End of validity (exclusive), ms, after every renewal.
    pub valid_until_ms: u64,
    /// `valid`, `not_yet_valid`, `expired`, `suspended` or `revoked`, at
    /// `as_of_ms`.
    #[schema(value_type = String)]
    pub status: CredentialStatus,
    /// Height of the newest finalized block.
    #[schema(value_type = u64)]
    pub as_of_height: Height,
    /// Its block time, ms.
    pub as_of_ms: u64,
    /// The key that signs the issuer's exported credentials now, hex.
    #[schema(value_type = Option<String>)]
    pub issuer_key: Option<PublicKey>,
    /// Every change of its status, oldest first.
    pub history: Vec<StatusChangeView>,
}

impl CredentialView {
    /// The view of credential `id` at `as_of`.
    pub fn new(
        id: Digest,
        record: &CredentialRecord,
        as_of: AsOf,
        issuer_key: Option<PublicKey>,
    ) -> CredentialView {
        CredentialView {
            id,
            credential_type: record.credential_type.clone(),
            issuer: record.issuer.clone(),
            holder: record.holder,
            holder_address: Address::of_key(&record.holder),
            claims: record.claims.fields().to_vec(),
            application: record.application,
            status_index: record.status_index,
            valid_from_ms: record.valid_from_ms(),
            valid_until_ms: record.valid_until_ms(),
            status: record.status_at(&as_of),
            as_of_height: as_of.height,
            as_of_ms: as_of.time_ms,
            issuer_key,
            history: record
                .history
                .changes()
                .iter()
                .map(|change| StatusChangeView {
                    height: change.height,
                    at_ms: change.at_ms,
                    by: change.by,
                    role: change.role.clone(),
                    change: change.kind.clone(),
                    reason: change.reason.as_ref().map(|r| r.to_string()),
                })
                .collect(),
        }
    }
}

/// A page of credentials, newest issued first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialsPage {
    /// The credentials of this page.
    pub items: Vec<CredentialView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// Where a credential stood at a height or a time, with the proof of its
/// record against the state root of the newest finalized block. The record
/// carries every change of status since issuance, so proving today's
/// record proves the answer for any earlier moment: check it with
/// [`CredentialStatusProof::check`], trusting only `state_root` (which a
/// receipt of the block at `proven_height` proves in turn).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialStatusProof {
    /// The credential, hex.
    #[schema(value_type = String)]
    pub credential: Digest,
    /// `valid`, `not_yet_valid`, `expired`, `suspended`, `revoked` or
    /// `not_issued`, at `as_of_height` and `as_of_ms`.
    #[schema(value_type = String)]
    pub status: CredentialStatus,
    /// Changes of later blocks are not in force.
    #[schema(value_type = u64)]
    pub as_of_height: Height,
    /// Changes after this block time are not in force, and validity is
    /// judged at it.
    pub as_of_ms: u64,
    /// The credential's record: base64url of its canonical (borsh) bytes.
    pub record: String,
    /// The proof of the record under `StateKey::Credential(credential)`.
    #[schema(value_type = Object)]
    pub proof: StateProof,
    /// The state root the proof reaches, hex.
    #[schema(value_type = String)]
    pub state_root: Digest,
    /// Height of the block whose header holds `state_root`.
    #[schema(value_type = u64)]
    pub proven_height: Height,
    /// That block's id, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
}

/// Why a status proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusProofError {
    /// The record is not base64url of a credential record.
    #[error("the record does not decode: {0}")]
    Record(String),
    /// The proof does not reach the state root.
    #[error("the proof does not hold: {0}")]
    Proof(#[from] ProofError),
    /// The record says otherwise than the status given.
    #[error("the record gives status {computed}, not {claimed}")]
    Status {
        /// What the record says.
        computed: &'static str,
        /// What the answer claimed.
        claimed: &'static str,
    },
}

impl CredentialStatusProof {
    /// Checks the proof of the record against `state_root`, and the status
    /// against the record; returns the proven record.
    pub fn check(&self) -> Result<CredentialRecord, StatusProofError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.record)
            .map_err(|error| StatusProofError::Record(error.to_string()))?;
        let record: CredentialRecord = borsh::from_slice(&bytes)
            .map_err(|error| StatusProofError::Record(error.to_string()))?;
        let key = StateKey::Credential(self.credential).to_bytes();
        self.proof.verify(&self.state_root, &key, Some(&bytes))?;
        let computed = record.status_at(&AsOf {
            height: self.as_of_height,
            time_ms: self.as_of_ms,
        });
        if computed != self.status {
            return Err(StatusProofError::Status {
                computed: computed.as_str(),
                claimed: self.status.as_str(),
            });
        }
        Ok(record)
    }

    /// The record's bytes as the `record` field carries them.
    pub fn encode_record(record: &CredentialRecord) -> String {
        URL_SAFE_NO_PAD.encode(borsh::to_vec(record).expect("borsh into a Vec is infallible"))
    }
}

/// An issuer's status list for one purpose, as of the newest finalized
/// block: the bits and the unsigned status list credential around them,
/// which the issuer signs with its issuer key and publishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusListView {
    /// The issuer.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// Which list of the issuer (positions `list × bits` onward).
    pub list: u32,
    /// Bits in the list.
    pub bits: u32,
    /// Bits set: credentials revoked, or suspended now.
    pub set_count: u32,
    /// The `encodedList`: multibase base64url of the GZIP of the bits.
    pub encoded_list: String,
    /// The issuer's key now, hex; absent if it has none.
    #[schema(value_type = Option<String>)]
    pub issuer_key: Option<PublicKey>,
    /// Height of the state the list reads.
    #[schema(value_type = u64)]
    pub as_of_height: Height,
    /// Its block time, ms.
    pub as_of_ms: u64,
    /// The unsigned `BitstringStatusListCredential`; absent if the issuer
    /// has no issuer key.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<serde_json::Value>,
}

/// A service's fee, readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeeView {
    /// Amount, minor units.
    #[schema(value_type = String)]
    pub amount: Amount,
    /// Currency.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// The obligation kind it is raised as.
    pub obligation_kind: String,
    /// How long the applicant has to pay, ms.
    pub due_ms: u64,
}

/// An application operation, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ApplicationOpView {
    /// Defining a service.
    DefineService {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// Service.
        #[schema(value_type = String)]
        service: ServiceName,
        /// Roles that decide.
        #[schema(value_type = Vec<String>)]
        decide_roles: Vec<RoleName>,
        /// The fee.
        fee: Option<FeeView>,
        /// Evidence required.
        evidence: Vec<String>,
        /// Fields taken.
        #[schema(value_type = Vec<Object>)]
        fields: Vec<FieldSpec>,
        /// Credential issued.
        #[schema(value_type = String)]
        credential_type: CredentialType,
        /// Longest validity, ms.
        validity_ms_max: u64,
    },
    /// Submitting an application.
    Submit {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// Service.
        #[schema(value_type = String)]
        service: ServiceName,
        /// Fields.
        #[schema(value_type = Vec<Object>)]
        fields: Vec<Field>,
        /// Document commitments.
        #[schema(value_type = Vec<Object>)]
        documents: Vec<Document>,
    },
    /// Asking for more information.
    RequestInfo {
        /// The application, hex.
        #[schema(value_type = String)]
        application: Digest,
        /// What is needed.
        request: String,
    },
    /// Answering.
    Respond {
        /// The application, hex.
        #[schema(value_type = String)]
        application: Digest,
        /// The answer.
        response: String,
        /// Further document commitments.
        #[schema(value_type = Vec<Object>)]
        documents: Vec<Document>,
    },
    /// Approving and issuing.
    Approve {
        /// The application, hex.
        #[schema(value_type = String)]
        application: Digest,
        /// The credential's claims.
        #[schema(value_type = Vec<Object>)]
        claims: Vec<Field>,
        /// End of validity, ms; the service's longest if absent.
        valid_until_ms: Option<u64>,
    },
    /// Rejecting.
    Reject {
        /// The application, hex.
        #[schema(value_type = String)]
        application: Digest,
        /// Why.
        reason: String,
    },
}

impl From<&ApplicationOp> for ApplicationOpView {
    fn from(op: &ApplicationOp) -> ApplicationOpView {
        match op {
            ApplicationOp::DefineService {
                org,
                service,
                definition,
            } => ApplicationOpView::DefineService {
                org: org.clone(),
                service: service.clone(),
                decide_roles: definition.decide.0.clone(),
                fee: definition.fee.as_ref().map(|fee| FeeView {
                    amount: fee.amount,
                    currency: fee.currency.clone(),
                    obligation_kind: fee.obligation_kind.to_string(),
                    due_ms: fee.due_ms,
                }),
                evidence: definition
                    .evidence
                    .0
                    .iter()
                    .map(|e| e.to_string())
                    .collect(),
                fields: definition.fields.specs().to_vec(),
                credential_type: definition.credential_type.clone(),
                validity_ms_max: definition.validity_ms_max,
            },
            ApplicationOp::Submit {
                org,
                service,
                fields,
                documents,
            } => ApplicationOpView::Submit {
                org: org.clone(),
                service: service.clone(),
                fields: fields.fields().to_vec(),
                documents: documents.0.clone(),
            },
            ApplicationOp::RequestInfo {
                application,
                request,
            } => ApplicationOpView::RequestInfo {
                application: *application,
                request: request.to_string(),
            },
            ApplicationOp::Respond {
                application,
                response,
                documents,
            } => ApplicationOpView::Respond {
                application: *application,
                response: response.to_string(),
                documents: documents.0.clone(),
            },
            ApplicationOp::Approve {
                application,
                claims,
                valid_until_ms,
            } => ApplicationOpView::Approve {
                application: *application,
                claims: claims.fields().to_vec(),
                valid_until_ms: *valid_until_ms,
            },
            ApplicationOp::Reject {
                application,
                reason,
            } => ApplicationOpView::Reject {
                application: *application,
                reason: reason.to_string(),
            },
        }
    }
}

/// A credential operation, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CredentialOpView {
    /// Defining a credential type and its roles.
    DefineType {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// Type.
        #[schema(value_type = String)]
        credential_type: CredentialType,
        /// Roles that issue directly.
        #[schema(value_type = Vec<String>)]
        issue_roles: Vec<RoleName>,
        /// Roles that renew.
        #[schema(value_type = Vec<String>)]
        renew_roles: Vec<RoleName>,
        /// Roles that suspend and reinstate.
        #[schema(value_type = Vec<String>)]
        suspend_roles: Vec<RoleName>,
        /// Roles that revoke.
        #[schema(value_type = Vec<String>)]
        revoke_roles: Vec<RoleName>,
    },
    /// Issuing directly.
    Issue {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// Type.
        #[schema(value_type = String)]
        credential_type: CredentialType,
        /// Holder, hex key.
        #[schema(value_type = String)]
        holder: PublicKey,
        /// Claims.
        #[schema(value_type = Vec<Object>)]
        claims: Vec<Field>,
        /// End of validity, ms.
        valid_until_ms: u64,
    },
    /// Renewing.
    Renew {
        /// The credential, hex.
        #[schema(value_type = String)]
        credential: Digest,
        /// The new end of validity, ms.
        valid_until_ms: u64,
    },
    /// Suspending.
    Suspend {
        /// The credential, hex.
        #[schema(value_type = String)]
        credential: Digest,
        /// Why.
        reason: String,
    },
    /// Reinstating.
    Reinstate {
        /// The credential, hex.
        #[schema(value_type = String)]
        credential: Digest,
        /// Why.
        reason: String,
    },
    /// Revoking.
    Revoke {
        /// The credential, hex.
        #[schema(value_type = String)]
        credential: Digest,
        /// Why.
        reason: String,
    },
    /// Naming the issuer key.
    SetIssuerKey {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// The key, hex.
        #[schema(value_type = String)]
        key: PublicKey,
    },
}

impl From<&CredentialOp> for CredentialOpView {
    fn from(op: &CredentialOp) -> CredentialOpView {
        match op {
            CredentialOp::DefineType {
                org,
                credential_type,
                roles,
            } => CredentialOpView::DefineType {
                org: org.clone(),
                credential_type: credential_type.clone(),
                issue_roles: roles.issue.0.clone(),
                renew_roles: roles.renew.0.clone(),
                suspend_roles: roles.suspend.0.clone(),
                revoke_roles: roles.revoke.0.clone(),
            },
            CredentialOp::Issue {
                org,
                credential_type,
                holder,
                claims,
                valid_until_ms,
            } => CredentialOpView::Issue {
                org: org.clone(),
                credential_type: credential_type.clone(),
                holder: *holder,
                claims: claims.fields().to_vec(),
                valid_until_ms: *valid_until_ms,
            },
            CredentialOp::Renew {
                credential,
                valid_until_ms,
            } => CredentialOpView::Renew {
                credential: *credential,
                valid_until_ms: *valid_until_ms,
            },
            CredentialOp::Suspend { credential, reason } => CredentialOpView::Suspend {
                credential: *credential,
                reason: reason.to_string(),
            },
            CredentialOp::Reinstate { credential, reason } => CredentialOpView::Reinstate {
                credential: *credential,
                reason: reason.to_string(),
            },
            CredentialOp::Revoke { credential, reason } => CredentialOpView::Revoke {
                credential: *credential,
                reason: reason.to_string(),
            },
            CredentialOp::SetIssuerKey { org, key } => CredentialOpView::SetIssuerKey {
                org: org.clone(),
                key: *key,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::credential::{Fields, StatusChange, StatusHistory};
    use cityledger_types::smt::SparseMerkleTree;
    use cityledger_types::{Action, SecretKey};

    fn record() -> CredentialRecord {
        CredentialRecord {
            credential_type: CredentialType::new("passport").unwrap(),
            issuer: OrgName::new("immigration").unwrap(),
            holder: SecretKey::from_seed([2; 32]).public_key(),
            claims: Fields::default(),
            application: None,
            status_index: 3,
            history: StatusHistory::new(vec![StatusChange {
                height: Height(4),
                at_ms: 1_000,
                by: SecretKey::from_seed([1; 32]).public_key(),
                role: RoleName::new("applications.decide").unwrap(),
                kind: StatusChangeKind::Issued {
                    valid_from_ms: 1_000,
                    valid_until_ms: 5_000,
                },
                reason: None,
            }])
            .unwrap(),
        }
    }

    #[test]
    fn a_status_proof_holds_against_its_root_and_fails_when_tampered() {
        let id = Digest([7; 32]);
        let record = record();
        let bytes = borsh::to_vec(&record).unwrap();
        let key = StateKey::Credential(id).to_bytes();
        let tree = SparseMerkleTree::new().apply([
            (key.clone(), Some(bytes)),
            (b"other".to_vec(), Some(b"x".to_vec())),
        ]);
        let proof = CredentialStatusProof {
            credential: id,
            status: CredentialStatus::Valid,
            as_of_height: Height(9),
            as_of_ms: 2_000,
            record: CredentialStatusProof::encode_record(&record),
            proof: tree.prove(&key),
            state_root: tree.root(),
            proven_height: Height(9),
            block_id: Digest([1; 32]),
        };
        assert_eq!(proof.check().unwrap(), record);
        let json = serde_json::to_value(&proof).unwrap();
        assert_eq!(json["status"], "valid");
        let back: CredentialStatusProof = serde_json::from_value(json).unwrap();
        assert_eq!(back, proof);
        let lie = CredentialStatusProof {
            status: CredentialStatus::Revoked,
            ..proof.clone()
        };
        assert!(matches!(lie.check(), Err(StatusProofError::Status { .. })));
        let mut forged = record.clone();
        forged.status_index = 4;
        let forged = CredentialStatusProof {
            record: CredentialStatusProof::encode_record(&forged),
            ..proof.clone()
        };
        assert!(matches!(forged.check(), Err(StatusProofError::Proof(_))));
        let expired = CredentialStatusProof {
            as_of_ms: 5_000,
            status: CredentialStatus::Expired,
            ..proof
        };
        assert!(expired.check().is_ok());
    }

    #[test]
    fn action_views_are_tagged_by_kind_and_op() {
        let op = CredentialOp::Revoke {
            credential: Digest([3; 32]),
            reason: cityledger_types::obligation::Reason::new("fraud").unwrap(),
        };
        let view = crate::ActionView::from(&Action::Credential(op));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["kind"], "credential");
        assert_eq!(json["op"], "revoke");
        assert_eq!(json["reason"], "fraud");
        let back: crate::ActionView = serde_json::from_value(json).unwrap();
        assert_eq!(back, view);
    }
}
