//! Events: what a finalized block did, for the event stream and indexes.
//! Derived from execution; not part of consensus.

use cityledger_types::device::{DeviceStatus, DeviceType};
use cityledger_types::obligation::{AppealDecision, ObligationStatus};
use cityledger_types::record::GrantScope;
use cityledger_types::safety::{EvidenceLink, IncidentStatus, MediaKind, Severity};
use cityledger_types::{
    Address, Amount, AreaCode, CourseName, CredentialType, CurrencyCode, Digest, EventKind,
    KindName, OrgName, PublicKey, RecordType, RejectCode, RoleName, ServiceName, UnitName,
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
    /// A citizen service was defined or redefined.
    ServiceDefined {
        /// Deciding organisation.
        org: OrgName,
        /// The service.
        service: ServiceName,
    },
    /// An application was submitted (and its fee raised).
    ApplicationSubmitted {
        /// Its id.
        application: Digest,
        /// Deciding organisation.
        org: OrgName,
        /// The service.
        service: ServiceName,
        /// The applicant's account.
        applicant: Address,
        /// The fee's obligation, if the service has a fee.
        fee_obligation: Option<Digest>,
    },
    /// The agency asked the applicant for more information.
    ApplicationInfoRequested {
        /// Its id.
        application: Digest,
        /// Deciding organisation.
        org: OrgName,
        /// The applicant's account.
        applicant: Address,
        /// The role under which it was asked.
        role: RoleName,
        /// What is needed.
        request: String,
    },
    /// The applicant answered.
    ApplicationResponded {
        /// Its id.
        application: Digest,
        /// Deciding organisation.
        org: OrgName,
        /// The applicant's account.
        applicant: Address,
        /// Documents added with the answer.
        documents: u32,
    },
    /// An application was approved and its credential issued.
    ApplicationApproved {
        /// Its id.
        application: Digest,
        /// Deciding organisation.
        org: OrgName,
        /// The applicant's account.
        applicant: Address,
        /// The role under which it was approved.
        role: RoleName,
        /// The credential issued.
        credential: Digest,
    },
    /// An application was rejected.
    ApplicationRejected {
        /// Its id.
        application: Digest,
        /// Deciding organisation.
        org: OrgName,
        /// The applicant's account.
        applicant: Address,
        /// The role under which it was rejected.
        role: RoleName,
        /// Why.
        reason: String,
    },
    /// A credential type was defined or redefined.
    CredentialTypeDefined {
        /// Organisation.
        org: OrgName,
        /// The type.
        credential_type: CredentialType,
    },
    /// A credential was issued.
    CredentialIssued {
        /// Its id.
        credential: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// Its type.
        credential_type: CredentialType,
        /// The holder's account.
        holder: Address,
        /// Start of validity, ms.
        valid_from_ms: u64,
        /// End of validity (exclusive), ms.
        valid_until_ms: u64,
        /// The application approved, if any.
        application: Option<Digest>,
    },
    /// A credential's validity was extended.
    CredentialRenewed {
        /// Its id.
        credential: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// The holder's account.
        holder: Address,
        /// The new end of validity (exclusive), ms.
        valid_until_ms: u64,
    },
    /// A credential was suspended.
    CredentialSuspended {
        /// Its id.
        credential: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// The holder's account.
        holder: Address,
        /// Why.
        reason: String,
    },
    /// A suspension was lifted.
    CredentialReinstated {
        /// Its id.
        credential: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// The holder's account.
        holder: Address,
        /// Why.
        reason: String,
    },
    /// A credential was revoked.
    CredentialRevoked {
        /// Its id.
        credential: Digest,
        /// Issuing organisation.
        issuer: OrgName,
        /// The holder's account.
        holder: Address,
        /// Why.
        reason: String,
    },
    /// An organisation named the key that signs its exported credentials.
    IssuerKeySet {
        /// Organisation.
        org: OrgName,
        /// The key.
        key: PublicKey,
    },
    /// A record was anchored.
    RecordAnchored {
        /// Its id.
        record: Digest,
        /// Its type.
        record_type: RecordType,
        /// The owner's account.
        owner: Address,
        /// The author's account.
        author: Address,
        /// The controlling organisation, if any.
        org: Option<OrgName>,
        /// The record it follows, if any.
        parent: Option<Digest>,
        /// The recipients' accounts.
        recipients: Vec<Address>,
    },
    /// A recipient acknowledged delivery of a record.
    RecordAcknowledged {
        /// The record.
        record: Digest,
        /// The owner's account.
        owner: Address,
        /// The recipient's account.
        by: Address,
    },
    /// An owner granted a reader access.
    GrantCreated {
        /// The grant's id.
        grant: Digest,
        /// The owner's account.
        owner: Address,
        /// The reader's account.
        reader: Address,
        /// What it covers.
        scope: GrantScope,
        /// Its end, ms of block time.
        valid_until_ms: u64,
    },
    /// An owner revoked a grant.
    GrantRevoked {
        /// The grant.
        grant: Digest,
        /// The owner's account.
        owner: Address,
        /// The reader's account.
        reader: Address,
    },
    /// A reader asked to read a record: an entry of the owner's access log.
    RecordAccessed {
        /// The access record's id.
        access: Digest,
        /// The record.
        record: Digest,
        /// The owner's account.
        owner: Address,
        /// The reader's account.
        reader: Address,
        /// The grant named, if any.
        grant: Option<Digest>,
        /// Why it was refused, if it was.
        refused: Option<RejectCode>,
    },
    /// A record was erased; its tombstone stays.
    RecordErased {
        /// The record.
        record: Digest,
        /// The owner's account.
        owner: Address,
        /// Who erased it.
        by: Address,
        /// Why.
        reason: String,
    },
    /// An organisation registered a device.
    DeviceRegistered {
        /// The device's key.
        device: PublicKey,
        /// Its organisation.
        org: OrgName,
        /// What it is.
        device_type: DeviceType,
    },
    /// A device was suspended, reinstated or retired.
    DeviceStatusChanged {
        /// The device's key.
        device: PublicKey,
        /// Its organisation.
        org: OrgName,
        /// Its new status.
        status: DeviceStatus,
        /// Why.
        reason: String,
    },
    /// A device anchored a batch of messages.
    BatchAnchored {
        /// The batch's id.
        batch: Digest,
        /// The device's key.
        device: PublicKey,
        /// Its organisation.
        org: OrgName,
        /// Its sequence among the device's batches.
        sequence: u64,
        /// How many messages.
        message_count: u32,
    },
    /// A device raised an alert.
    AlertRaised {
        /// The alert's id.
        alert: Digest,
        /// The device's key.
        device: PublicKey,
        /// Its organisation.
        org: OrgName,
        /// What was detected.
        kind: EventKind,
        /// How severe.
        severity: Severity,
        /// Where.
        area: AreaCode,
        /// The device's organisation, then those notified.
        orgs: Vec<OrgName>,
    },
    /// An agency opened an incident.
    IncidentOpened {
        /// The incident's id.
        incident: Digest,
        /// The opening agency.
        org: OrgName,
        /// What happened.
        kind: EventKind,
        /// How severe.
        severity: Severity,
        /// Where.
        area: AreaCode,
        /// The agencies that see it.
        orgs: Vec<OrgName>,
    },
    /// An update was recorded on an incident.
    IncidentUpdated {
        /// The incident.
        incident: Digest,
        /// The opening agency.
        org: OrgName,
        /// The agency that recorded the update.
        by_org: OrgName,
        /// Its position among the incident's updates.
        update: u32,
        /// The status after it.
        status: IncidentStatus,
        /// The severity after it.
        severity: Severity,
        /// The area after it.
        area: AreaCode,
        /// Units dispatched with it.
        units: Vec<UnitName>,
        /// The agencies that see it.
        orgs: Vec<OrgName>,
    },
    /// An incident was shared with another agency.
    IncidentShared {
        /// The incident.
        incident: Digest,
        /// The opening agency.
        org: OrgName,
        /// The agency it is now shared with.
        with: OrgName,
        /// Its severity.
        severity: Severity,
        /// Its area.
        area: AreaCode,
        /// The agencies that see it.
        orgs: Vec<OrgName>,
    },
    /// An incident was closed.
    IncidentClosed {
        /// The incident.
        incident: Digest,
        /// The opening agency.
        org: OrgName,
        /// Its severity.
        severity: Severity,
        /// Its area.
        area: AreaCode,
        /// The agencies that see it.
        orgs: Vec<OrgName>,
    },
    /// An evidence item was anchored and its custody opened.
    EvidenceAdded {
        /// The item (its record's id).
        evidence: Digest,
        /// The custodian agency.
        org: OrgName,
        /// What it belongs to.
        link: EvidenceLink,
        /// What the media are.
        media_kind: MediaKind,
        /// Where they were captured.
        area: AreaCode,
        /// The agencies concerned.
        orgs: Vec<OrgName>,
    },
    /// A custodian offered an evidence item to another agency.
    HandoverOffered {
        /// The item.
        evidence: Digest,
        /// The custodian agency.
        org: OrgName,
        /// The receiving agency.
        to: OrgName,
        /// The receiver's account.
        receiver: Address,
        /// Both agencies.
        orgs: Vec<OrgName>,
    },
    /// The receiver accepted an evidence item: custody moved.
    HandoverAccepted {
        /// The item.
        evidence: Digest,
        /// The new custodian.
        org: OrgName,
        /// The former custodian.
        from: OrgName,
        /// Both agencies.
        orgs: Vec<OrgName>,
    },
    /// A case was created.
    CaseCreated {
        /// The case's id.
        case: Digest,
        /// Its agency.
        org: OrgName,
        /// The incident it is about, if any.
        incident: Option<Digest>,
    },
    /// Items were appended to a case: a new version of its bundle.
    CaseVersioned {
        /// The case.
        case: Digest,
        /// Its agency.
        org: OrgName,
        /// The new version, from 1.
        version: u32,
        /// Items in it.
        item_count: u32,
        /// Its bundle root.
        root: Digest,
    },
    /// A school defined an exam.
    ExamCreated {
        /// The exam's id.
        exam: Digest,
        /// The school.
        org: OrgName,
        /// The course.
        course: CourseName,
        /// When commitments open, ms.
        opens_at_ms: u64,
        /// The deadline, ms.
        deadline_ms: u64,
    },
    /// A student committed to answers.
    AnswersCommitted {
        /// The exam.
        exam: Digest,
        /// The school.
        org: OrgName,
        /// The student's account.
        student: Address,
        /// The student's key, which the entry is stored under.
        student_key: PublicKey,
        /// The commitment.
        commitment: Digest,
    },
    /// A student revealed the answers as a record.
    AnswersRevealed {
        /// The exam.
        exam: Digest,
        /// The school.
        org: OrgName,
        /// The student's account.
        student: Address,
        /// The answers' record.
        record: Digest,
    },
    /// A teacher graded a student's answers.
    ExamGraded {
        /// The exam.
        exam: Digest,
        /// The school.
        org: OrgName,
        /// The student's account.
        student: Address,
        /// The score.
        score: u32,
        /// Whether it passes.
        passed: bool,
        /// The certificate issued, if any.
        credential: Option<Digest>,
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
            Event::ApplicationSubmitted { applicant, .. }
            | Event::ApplicationInfoRequested { applicant, .. }
            | Event::ApplicationResponded { applicant, .. }
            | Event::ApplicationApproved { applicant, .. }
            | Event::ApplicationRejected { applicant, .. } => vec![*applicant],
            Event::CredentialIssued { holder, .. }
            | Event::CredentialRenewed { holder, .. }
            | Event::CredentialSuspended { holder, .. }
            | Event::CredentialReinstated { holder, .. }
            | Event::CredentialRevoked { holder, .. } => vec![*holder],
            Event::RecordAnchored {
                owner,
                author,
                recipients,
                ..
            } => {
                let mut accounts = dedup_pair(*owner, *author);
                for recipient in recipients {
                    if !accounts.contains(recipient) {
                        accounts.push(*recipient);
                    }
                }
                accounts
            }
            Event::RecordAcknowledged { owner, by, .. } | Event::RecordErased { owner, by, .. } => {
                dedup_pair(*owner, *by)
            }
            Event::GrantCreated { owner, reader, .. }
            | Event::GrantRevoked { owner, reader, .. }
            | Event::RecordAccessed { owner, reader, .. } => dedup_pair(*owner, *reader),
            Event::AnswersCommitted { student, .. }
            | Event::AnswersRevealed { student, .. }
            | Event::ExamGraded { student, .. } => vec![*student],
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
            Event::ServiceDefined { org, .. }
            | Event::ApplicationSubmitted { org, .. }
            | Event::ApplicationInfoRequested { org, .. }
            | Event::ApplicationResponded { org, .. }
            | Event::ApplicationApproved { org, .. }
            | Event::ApplicationRejected { org, .. }
            | Event::CredentialTypeDefined { org, .. }
            | Event::IssuerKeySet { org, .. } => Some(org),
            Event::CredentialIssued { issuer, .. }
            | Event::CredentialRenewed { issuer, .. }
            | Event::CredentialSuspended { issuer, .. }
            | Event::CredentialReinstated { issuer, .. }
            | Event::CredentialRevoked { issuer, .. } => Some(issuer),
            Event::RecordAnchored { org, .. } => org.as_ref(),
            Event::DeviceRegistered { org, .. }
            | Event::DeviceStatusChanged { org, .. }
            | Event::BatchAnchored { org, .. } => Some(org),
            Event::AlertRaised { org, .. }
            | Event::IncidentOpened { org, .. }
            | Event::IncidentUpdated { org, .. }
            | Event::IncidentShared { org, .. }
            | Event::IncidentClosed { org, .. }
            | Event::EvidenceAdded { org, .. }
            | Event::HandoverOffered { org, .. }
            | Event::HandoverAccepted { org, .. }
            | Event::CaseCreated { org, .. }
            | Event::CaseVersioned { org, .. }
            | Event::ExamCreated { org, .. }
            | Event::AnswersCommitted { org, .. }
            | Event::AnswersRevealed { org, .. }
            | Event::ExamGraded { org, .. } => Some(org),
            _ => None,
        }
    }

    /// The record this event is about, for its history.
    pub fn record(&self) -> Option<Digest> {
        match self {
            Event::RecordAnchored { record, .. }
            | Event::RecordAcknowledged { record, .. }
            | Event::RecordAccessed { record, .. }
            | Event::RecordErased { record, .. } => Some(*record),
            Event::EvidenceAdded { evidence, .. }
            | Event::HandoverOffered { evidence, .. }
            | Event::HandoverAccepted { evidence, .. } => Some(*evidence),
            Event::GrantCreated {
                scope: GrantScope::Record(record),
                ..
            } => Some(*record),
            _ => None,
        }
    }

    /// The application this event is about, for its history.
    pub fn application(&self) -> Option<Digest> {
        match self {
            Event::ApplicationSubmitted { application, .. }
            | Event::ApplicationInfoRequested { application, .. }
            | Event::ApplicationResponded { application, .. }
            | Event::ApplicationApproved { application, .. }
            | Event::ApplicationRejected { application, .. } => Some(*application),
            _ => None,
        }
    }

    /// The credential this event is about, for its history.
    pub fn credential(&self) -> Option<Digest> {
        match self {
            Event::CredentialIssued { credential, .. }
            | Event::CredentialRenewed { credential, .. }
            | Event::CredentialSuspended { credential, .. }
            | Event::CredentialReinstated { credential, .. }
            | Event::CredentialRevoked { credential, .. } => Some(*credential),
            _ => None,
        }
    }
}

/// Two accounts, once if they are the same.
fn dedup_pair(first: Address, second: Address) -> Vec<Address> {
    if first == second {
        vec![first]
    } else {
        vec![first, second]
    }
}
