//! Public safety and education on the wire: alerts, incidents with their
//! updates and shares, evidence custody, case bundles, exams and their
//! results, and the readable views of their transactions (ADR 0008).
//!
//! No view carries media, answers or a salt; an incident's notes are only
//! served to a member of an agency it is shared with (a signed read).

use crate::record::RecordView;
use cityledger_types::education::{EducationOp, ExamEntry, ExamRecord};
use cityledger_types::safety::{
    AlertRecord, CaseRecord, CaseVersionRecord, CustodyEventKind, CustodyRecord, EvidenceLink,
    IncidentRecord, IncidentStatus, Location, MediaKind, SafetyOp, Severity,
};
use cityledger_types::{Digest, Height, OrgName, PublicKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Domain tag of signed reads: `cityledger/read/v1 ‖ path ‖ time (8, BE)`.
pub const READ_DOMAIN: &[u8] = b"cityledger/read/v1";
/// Header naming the reader's key (hex).
pub const READ_KEY_HEADER: &str = "x-cityledger-key";
/// Header with the reader's clock, ms since the Unix epoch.
pub const READ_TIME_HEADER: &str = "x-cityledger-time";
/// Header with the reader's signature (hex).
pub const READ_SIGNATURE_HEADER: &str = "x-cityledger-signature";

/// The bytes a reader signs to read `path_and_query` at `time_ms`.
pub fn read_payload(path_and_query: &str, time_ms: u64) -> Vec<u8> {
    let mut payload = READ_DOMAIN.to_vec();
    payload.extend_from_slice(path_and_query.as_bytes());
    payload.extend_from_slice(&time_ms.to_be_bytes());
    payload
}

/// An alert raised by a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// The device, hex key.
    #[schema(value_type = String)]
    pub device: PublicKey,
    /// The device's organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// What was detected.
    pub kind: String,
    /// `info`, `minor`, `major` or `critical`.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Where: `area` and an optional `point` in micro-degrees.
    #[schema(value_type = Object)]
    pub location: Location,
    /// SHA-256 of the media, hex.
    #[schema(value_type = String)]
    pub media: Digest,
    /// When captured, ms.
    pub captured_at_ms: u64,
    /// Agencies notified.
    #[schema(value_type = Vec<String>)]
    pub notify: Vec<OrgName>,
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
}

impl AlertView {
    /// The view of alert `id`.
    pub fn new(id: Digest, alert: &AlertRecord) -> AlertView {
        AlertView {
            id,
            device: alert.device,
            org: alert.org.clone(),
            kind: alert.kind.to_string(),
            severity: alert.severity,
            location: alert.location.clone(),
            media: alert.media,
            captured_at_ms: alert.captured_at_ms,
            notify: alert.notify.0.clone(),
            height: alert.height,
            at_ms: alert.at_ms,
        }
    }
}

/// A page of alerts, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertsPage {
    /// The alerts.
    pub items: Vec<AlertView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One update of an incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentUpdateView {
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
    /// Who recorded it, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// For which agency.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// The status after it.
    #[schema(value_type = String)]
    pub status: IncidentStatus,
    /// The severity after it.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// The new location, if it moved.
    #[schema(value_type = Option<Object>)]
    pub location: Option<Location>,
    /// Units dispatched.
    pub units: Vec<String>,
    /// What happened.
    pub note: String,
}

/// An agency an incident is shared with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareView {
    /// The agency.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Who shared it, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// Height of the sharing block.
    #[schema(value_type = u64)]
    pub height: Height,
}

/// An incident, as its agencies see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// The opening agency.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// What happened.
    pub kind: String,
    /// How severe, now.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Where, now.
    #[schema(value_type = Object)]
    pub location: Location,
    /// Where it stands.
    #[schema(value_type = String)]
    pub status: IncidentStatus,
    /// Who opened it, hex key.
    #[schema(value_type = String)]
    pub opened_by: PublicKey,
    /// Height of the opening block.
    #[schema(value_type = u64)]
    pub opened_height: Height,
    /// The first report.
    pub note: String,
    /// Updates, oldest first.
    pub updates: Vec<IncidentUpdateView>,
    /// The agencies it is shared with.
    pub shares: Vec<ShareView>,
    /// How it ended, once closed.
    pub outcome: Option<String>,
    /// Height of the closing block, once closed.
    #[schema(value_type = Option<u64>)]
    pub closed_height: Option<Height>,
}

impl IncidentView {
    /// The view of incident `id`.
    pub fn new(id: Digest, incident: &IncidentRecord) -> IncidentView {
        IncidentView {
            id,
            org: incident.org.clone(),
            kind: incident.kind.to_string(),
            severity: incident.severity,
            location: incident.location.clone(),
            status: incident.status,
            opened_by: incident.opened_by,
            opened_height: incident.opened_height,
            note: incident.note.to_string(),
            updates: incident
                .updates
                .0
                .iter()
                .map(|update| IncidentUpdateView {
                    height: update.height,
                    at_ms: update.at_ms,
                    by: update.by,
                    org: update.org.clone(),
                    status: update.status,
                    severity: update.severity,
                    location: update.location.clone(),
                    units: update.units.0.iter().map(|u| u.to_string()).collect(),
                    note: update.note.to_string(),
                })
                .collect(),
            shares: incident
                .shares
                .0
                .iter()
                .map(|share| ShareView {
                    org: share.org.clone(),
                    by: share.by,
                    height: share.height,
                })
                .collect(),
            outcome: incident.closure.as_ref().map(|c| c.outcome.to_string()),
            closed_height: incident.closure.as_ref().map(|c| c.height),
        }
    }
}

/// A page of incidents an agency sees, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentsPage {
    /// The incidents.
    pub items: Vec<IncidentView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One entry of a custody history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CustodyEventView {
    /// `collected`, `offered` or `accepted`.
    pub event: String,
    /// The agency that acted.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Who signed, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// For an offer: the receiving agency; for an acceptance: the former
    /// custodian.
    #[schema(value_type = Option<String>)]
    pub counterpart: Option<OrgName>,
    /// For an offer: the member who is to accept, hex key.
    #[schema(value_type = Option<String>)]
    pub receiver: Option<PublicKey>,
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
}

/// An evidence item: its record and its custody.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceView {
    /// The item (its record's id), hex.
    #[schema(value_type = String)]
    pub evidence: Digest,
    /// The record: parties, commitment, tombstone.
    pub record: RecordView,
    /// `{"to": "incident"|"case", "id": …}`.
    #[schema(value_type = Object)]
    pub link: EvidenceLink,
    /// What the media are.
    #[schema(value_type = String)]
    pub media_kind: MediaKind,
    /// When captured, ms.
    pub captured_at_ms: u64,
    /// Where.
    #[schema(value_type = Object)]
    pub location: Location,
    /// The capturing device, hex key.
    #[schema(value_type = Option<String>)]
    pub source_device: Option<PublicKey>,
    /// The agency holding it.
    #[schema(value_type = String)]
    pub custodian: OrgName,
    /// The open offer, if any.
    pub offer: Option<CustodyEventView>,
    /// Every custody event, oldest first.
    pub history: Vec<CustodyEventView>,
}

impl EvidenceView {
    /// The view of evidence `id`.
    pub fn new(id: Digest, record: RecordView, custody: &CustodyRecord) -> EvidenceView {
        let history: Vec<CustodyEventView> = custody
            .history
            .0
            .iter()
            .map(|event| {
                let (name, counterpart, receiver) = match &event.kind {
                    CustodyEventKind::Collected => ("collected", None, None),
                    CustodyEventKind::Offered { to, receiver } => {
                        ("offered", Some(to.clone()), Some(*receiver))
                    }
                    CustodyEventKind::Accepted { from } => ("accepted", Some(from.clone()), None),
                };
                CustodyEventView {
                    event: name.to_owned(),
                    org: event.org.clone(),
                    by: event.by,
                    counterpart,
                    receiver,
                    height: event.height,
                    at_ms: event.at_ms,
                }
            })
            .collect();
        let offer = custody
            .offer
            .as_ref()
            .and_then(|_| history.iter().rev().find(|e| e.event == "offered").cloned());
        EvidenceView {
            evidence: id,
            record,
            link: custody.link,
            media_kind: custody.media_kind,
            captured_at_ms: custody.captured_at_ms,
            location: custody.location.clone(),
            source_device: custody.source_device,
            custodian: custody.custodian.clone(),
            offer,
            history,
        }
    }
}

/// One version of a case bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseVersionView {
    /// Its number, from 1.
    pub version: u32,
    /// Items in it: the first ones of the case.
    pub item_count: u32,
    /// Its bundle root, hex.
    #[schema(value_type = String)]
    pub root: Digest,
    /// Height of the block that made it.
    #[schema(value_type = u64)]
    pub height: Height,
}

impl CaseVersionView {
    /// The view of `version` of a case.
    pub fn new(version: u32, record: &CaseVersionRecord) -> CaseVersionView {
        CaseVersionView {
            version,
            item_count: record.item_count,
            root: record.root,
            height: record.height,
        }
    }
}

/// A case bundle with every version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Its agency.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// The incident it is about, hex.
    #[schema(value_type = Option<String>)]
    pub incident: Option<Digest>,
    /// Its title.
    pub title: String,
    /// Its items, in order, hex.
    #[schema(value_type = Vec<String>)]
    pub items: Vec<Digest>,
    /// Every version, oldest first.
    pub versions: Vec<CaseVersionView>,
}

impl CaseView {
    /// The view of case `id` with its `versions`.
    pub fn new(id: Digest, case: &CaseRecord, versions: Vec<CaseVersionView>) -> CaseView {
        CaseView {
            id,
            org: case.org.clone(),
            incident: case.incident,
            title: case.title.to_string(),
            items: case.items.0.clone(),
            versions,
        }
    }
}

/// An exam.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExamView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// The school.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// The course.
    pub course: String,
    /// Commitments from, ms of block time.
    pub opens_at_ms: u64,
    /// Commitments until (exclusive), reveals from, ms of block time.
    pub deadline_ms: u64,
    /// The highest score.
    pub max_score: u32,
    /// The lowest passing score.
    pub pass_mark: u32,
    /// The credential type a pass issues.
    pub certificate: Option<String>,
    /// Who defined it, hex key.
    #[schema(value_type = String)]
    pub created_by: PublicKey,
}

impl ExamView {
    /// The view of exam `id`.
    pub fn new(id: Digest, exam: &ExamRecord) -> ExamView {
        ExamView {
            id,
            org: exam.terms.org.clone(),
            course: exam.terms.course.to_string(),
            opens_at_ms: exam.terms.opens_at_ms,
            deadline_ms: exam.terms.deadline_ms,
            max_score: exam.terms.max_score,
            pass_mark: exam.terms.pass_mark,
            certificate: exam
                .terms
                .certificate
                .as_ref()
                .map(|c| c.credential_type.to_string()),
            created_by: exam.created_by,
        }
    }
}

/// A student's entry in an exam.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExamResultView {
    /// The student, hex key.
    #[schema(value_type = String)]
    pub student: PublicKey,
    /// The commitment, hex.
    #[schema(value_type = String)]
    pub commitment: Digest,
    /// Height of the commitment's block.
    #[schema(value_type = u64)]
    pub committed_height: Height,
    /// The answers' record once revealed, hex.
    #[schema(value_type = Option<String>)]
    pub answers_record: Option<Digest>,
    /// Height of the reveal.
    #[schema(value_type = Option<u64>)]
    pub revealed_height: Option<Height>,
    /// The score once graded.
    pub score: Option<u32>,
    /// Whether it passes, once graded.
    pub passed: Option<bool>,
    /// The certificate issued, hex.
    #[schema(value_type = Option<String>)]
    pub credential: Option<Digest>,
}

impl ExamResultView {
    /// The view of `student`'s entry.
    pub fn new(student: PublicKey, entry: &ExamEntry) -> ExamResultView {
        ExamResultView {
            student,
            commitment: entry.commitment,
            committed_height: entry.committed_height,
            answers_record: entry.revealed.as_ref().map(|r| r.record),
            revealed_height: entry.revealed.as_ref().map(|r| r.height),
            score: entry.grade.as_ref().map(|g| g.score),
            passed: entry.grade.as_ref().map(|g| g.passed),
            credential: entry.grade.as_ref().and_then(|g| g.credential),
        }
    }
}

/// An exam and its entries, newest commitment first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExamResultsPage {
    /// The exam.
    pub exam: ExamView,
    /// Its entries.
    pub items: Vec<ExamResultView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A safety operation, tagged by `op`; notes are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SafetyOpView {
    /// Raising an alert.
    RaiseAlert {
        /// Kind.
        kind: String,
        /// Severity.
        severity: String,
        /// Area.
        area: String,
    },
    /// Opening an incident.
    OpenIncident {
        /// Agency.
        #[schema(value_type = String)]
        org: OrgName,
        /// Kind.
        kind: String,
        /// Severity.
        severity: String,
    },
    /// Updating an incident.
    UpdateIncident {
        /// The incident, hex.
        #[schema(value_type = String)]
        incident: Digest,
        /// The agency acting.
        #[schema(value_type = String)]
        org: OrgName,
    },
    /// Sharing an incident.
    ShareIncident {
        /// The incident, hex.
        #[schema(value_type = String)]
        incident: Digest,
        /// With whom.
        #[schema(value_type = String)]
        with: OrgName,
    },
    /// Closing an incident.
    CloseIncident {
        /// The incident, hex.
        #[schema(value_type = String)]
        incident: Digest,
    },
    /// Anchoring an evidence item.
    AddEvidence {
        /// The custodian agency.
        #[schema(value_type = Option<String>)]
        org: Option<OrgName>,
        /// Media kind.
        media_kind: String,
        /// Content commitment, hex.
        #[schema(value_type = String)]
        commitment: Digest,
    },
    /// Offering an item to another agency.
    OfferHandover {
        /// The item, hex.
        #[schema(value_type = String)]
        evidence: Digest,
        /// The receiving agency.
        #[schema(value_type = String)]
        to: OrgName,
        /// The receiver, hex key.
        #[schema(value_type = String)]
        receiver: PublicKey,
    },
    /// Accepting an item.
    AcceptHandover {
        /// The item, hex.
        #[schema(value_type = String)]
        evidence: Digest,
    },
    /// Creating a case.
    CreateCase {
        /// Agency.
        #[schema(value_type = String)]
        org: OrgName,
    },
    /// Appending items to a case.
    AddToCase {
        /// The case, hex.
        #[schema(value_type = String)]
        case: Digest,
        /// The items, hex.
        #[schema(value_type = Vec<String>)]
        items: Vec<Digest>,
    },
}

impl From<&SafetyOp> for SafetyOpView {
    fn from(op: &SafetyOp) -> SafetyOpView {
        match op {
            SafetyOp::RaiseAlert {
                kind,
                severity,
                location,
                ..
            } => SafetyOpView::RaiseAlert {
                kind: kind.to_string(),
                severity: severity.as_str().to_owned(),
                area: location.area.to_string(),
            },
            SafetyOp::OpenIncident {
                org,
                kind,
                severity,
                ..
            } => SafetyOpView::OpenIncident {
                org: org.clone(),
                kind: kind.to_string(),
                severity: severity.as_str().to_owned(),
            },
            SafetyOp::UpdateIncident { incident, org, .. } => SafetyOpView::UpdateIncident {
                incident: *incident,
                org: org.clone(),
            },
            SafetyOp::ShareIncident { incident, with } => SafetyOpView::ShareIncident {
                incident: *incident,
                with: with.clone(),
            },
            SafetyOp::CloseIncident { incident, .. } => SafetyOpView::CloseIncident {
                incident: *incident,
            },
            SafetyOp::AddEvidence(evidence) => SafetyOpView::AddEvidence {
                org: evidence.anchor.org.clone(),
                media_kind: evidence.media_kind.as_str().to_owned(),
                commitment: evidence.anchor.commitment,
            },
            SafetyOp::OfferHandover {
                evidence,
                to,
                receiver,
                ..
            } => SafetyOpView::OfferHandover {
                evidence: *evidence,
                to: to.clone(),
                receiver: *receiver,
            },
            SafetyOp::AcceptHandover { evidence, .. } => SafetyOpView::AcceptHandover {
                evidence: *evidence,
            },
            SafetyOp::CreateCase { org, .. } => SafetyOpView::CreateCase { org: org.clone() },
            SafetyOp::AddToCase { case, items } => SafetyOpView::AddToCase {
                case: *case,
                items: items.0.clone(),
            },
        }
    }
}

/// An education operation, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EducationOpView {
    /// Defining an exam.
    CreateExam {
        /// The school.
        #[schema(value_type = String)]
        org: OrgName,
        /// The course.
        course: String,
        /// The deadline, ms.
        deadline_ms: u64,
    },
    /// Committing to answers.
    Commit {
        /// The exam, hex.
        #[schema(value_type = String)]
        exam: Digest,
        /// The commitment, hex.
        #[schema(value_type = String)]
        commitment: Digest,
    },
    /// Revealing the answers as a record.
    Reveal {
        /// The exam, hex.
        #[schema(value_type = String)]
        exam: Digest,
        /// The commitment, hex.
        #[schema(value_type = String)]
        commitment: Digest,
    },
    /// Grading.
    Grade {
        /// The exam, hex.
        #[schema(value_type = String)]
        exam: Digest,
        /// The student, hex key.
        #[schema(value_type = String)]
        student: PublicKey,
        /// The score.
        score: u32,
    },
}

impl From<&EducationOp> for EducationOpView {
    fn from(op: &EducationOp) -> EducationOpView {
        match op {
            EducationOp::CreateExam(terms) => EducationOpView::CreateExam {
                org: terms.org.clone(),
                course: terms.course.to_string(),
                deadline_ms: terms.deadline_ms,
            },
            EducationOp::Commit { exam, commitment } => EducationOpView::Commit {
                exam: *exam,
                commitment: *commitment,
            },
            EducationOp::Reveal { exam, anchor } => EducationOpView::Reveal {
                exam: *exam,
                commitment: anchor.commitment,
            },
            EducationOp::Grade {
                exam,
                student,
                score,
            } => EducationOpView::Grade {
                exam: *exam,
                student: *student,
                score: *score,
            },
        }
    }
}
