//! Public safety and education through the state machine: a camera alert,
//! an incident shared with the fire service, evidence handed from police
//! to prosecutor, a case bundle in versions; an exam committed, revealed,
//! graded and certified; and every refusal (ADR 0008).

use super::*;
use cityledger_types::credential::{CredentialRecord, FieldValue};
use cityledger_types::device::{DeviceLabel, DeviceOp, DeviceType};
use cityledger_types::education::{Certificate, EducationOp, ExamEntry, ExamTerms, exam_id};
use cityledger_types::merkle;
use cityledger_types::obligation::Reference;
use cityledger_types::record::{
    AccessDecision, AccessRecord, Anchor, Recipients, RecordOp, access_id, record_id,
};
use cityledger_types::safety::{
    AlertRecord, CaseAddition, CaseRecord, CaseVersionRecord, CustodyEventKind, CustodyRecord,
    EvidenceAnchor, EvidenceLink, GeoPoint, IncidentRecord, IncidentStatus, Location, MediaKind,
    Note, OrgList, SafetyOp, Severity, Units, alert_id, case_id, case_item_leaf, incident_id,
};
use cityledger_types::{
    AreaCode, CourseName, CredentialType, EventKind, PublicKey, RecordType, UnitName,
};

const POLICE: usize = 3;
const EDUCATION: usize = 5;
const FIRE: usize = 6;
const PROSECUTOR: usize = 7;

fn org(name: &str) -> OrgName {
    OrgName::new(name).unwrap()
}

fn location() -> Location {
    Location {
        area: AreaCode::new("district-7").unwrap(),
        point: Some(GeoPoint {
            lat_microdeg: 51_507_200,
            lon_microdeg: -127_600,
        }),
    }
}

fn note(text: &str) -> Note {
    Note::new(text).unwrap()
}

fn safety(op: SafetyOp) -> Action {
    Action::Safety(op)
}

fn education(op: EducationOp) -> Action {
    Action::Education(op)
}

fn anchor(org_name: Option<&str>, owner: &PublicKey, commitment: Digest) -> Anchor {
    Anchor {
        org: org_name.map(org),
        record_type: RecordType::new("evidence").unwrap(),
        owner: *owner,
        commitment,
        blob_digest: Digest([0xb1; 32]),
        blob_bytes: 2_048,
        metadata: Reference::default(),
        parent: None,
        recipients: Recipients::default(),
    }
}

impl Chain {
    fn get<T: borsh::BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        self.state
            .0
            .get(&key.to_bytes())
            .map(|bytes| borsh::from_slice(bytes).unwrap())
    }

    /// Executes `action` alone in a block, which must apply it; returns
    /// the transaction's hash.
    fn applies(&mut self, signer: &SecretKey, action: Action) -> Digest {
        let tx = self.tx(signer, action);
        let hash = tx.hash();
        let outcome = self.block(&[tx]).remove(0);
        assert_eq!(outcome, TxOutcome::Applied);
        hash
    }

    /// Executes `action` alone in a block, which must reject it with
    /// `code` and change nothing but the consumed id and bookkeeping.
    fn rejects(&mut self, signer: &SecretKey, action: Action, code: RejectCode) {
        let before = self.state.0.clone();
        let tx = self.tx(signer, action.clone());
        let outcome = self.block(&[tx]).remove(0);
        assert!(
            rejected(code)(&outcome),
            "{action:?}: expected {code:?}, got {outcome:?}"
        );
        let changed = self
            .state
            .0
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| borsh::from_slice::<StateKey>(k).unwrap())
            .filter(|k| !super::is_bookkeeping(k))
            .count();
        assert_eq!(changed, 0, "{action:?} changed the state");
    }
}

fn camera(chain: &mut Chain) -> SecretKey {
    let camera = SecretKey::from_seed([0xca; 32]);
    let transport = chain.admins[1].clone();
    chain.applies(
        &transport,
        Action::Device(DeviceOp::Register {
            org: org("transport"),
            device: camera.public_key(),
            device_type: DeviceType::TrafficCamera,
            label: DeviceLabel::new("junction-12").unwrap(),
        }),
    );
    camera
}

fn raise(notify: Vec<OrgName>) -> Action {
    safety(SafetyOp::RaiseAlert {
        kind: EventKind::new("collision").unwrap(),
        severity: Severity::Major,
        location: location(),
        media: Digest([0x3e; 32]),
        captured_at_ms: T0,
        notify: OrgList(notify),
    })
}

#[test]
fn a_registered_camera_raises_alerts_and_nobody_else_does() {
    let mut chain = Chain::new();
    let camera = camera(&mut chain);
    let hash = chain.applies(&camera, raise(vec![org("police"), org("fire")]));
    let alert: AlertRecord = chain.get(&StateKey::Alert(alert_id(&hash))).unwrap();
    assert_eq!(alert.org, org("transport"));
    assert_eq!(alert.severity, Severity::Major);
    let police = chain.admins[POLICE].clone();
    chain.rejects(&police, raise(vec![]), RejectCode::UnknownDevice);
    chain.rejects(&camera, raise(vec![org("nowhere")]), RejectCode::UnknownOrg);
    chain.rejects(
        &camera,
        raise(vec![org("transport")]),
        RejectCode::BadRecord,
    );
    let mut off_globe = location();
    off_globe.point = Some(GeoPoint {
        lat_microdeg: 91_000_000,
        lon_microdeg: 0,
    });
    chain.rejects(
        &camera,
        safety(SafetyOp::RaiseAlert {
            kind: EventKind::new("fire").unwrap(),
            severity: Severity::Critical,
            location: off_globe,
            media: Digest::ZERO,
            captured_at_ms: T0,
            notify: OrgList::default(),
        }),
        RejectCode::BadLocation,
    );
}

fn open_incident(chain: &mut Chain) -> Digest {
    let police = chain.admins[POLICE].clone();
    let hash = chain.applies(
        &police,
        safety(SafetyOp::OpenIncident {
            org: org("police"),
            kind: EventKind::new("collision").unwrap(),
            severity: Severity::Major,
            location: location(),
            note: note("two cars, one on fire"),
        }),
    );
    incident_id(&hash)
}

fn update(incident: Digest, by: &str, status: Option<IncidentStatus>, unit: &str) -> Action {
    safety(SafetyOp::UpdateIncident {
        incident,
        org: org(by),
        status,
        severity: None,
        location: None,
        units: Units(vec![UnitName::new(unit).unwrap()]),
        note: note("units sent"),
    })
}

#[test]
fn an_incident_is_shared_with_the_fire_service_which_then_updates_it() {
    let mut chain = Chain::new();
    let incident = open_incident(&mut chain);
    let police = chain.admins[POLICE].clone();
    let fire = chain.admins[FIRE].clone();
    // Not shared yet: the fire service may not touch it.
    chain.rejects(
        &fire,
        update(
            incident,
            "fire",
            Some(IncidentStatus::Dispatched),
            "engine-12",
        ),
        RejectCode::IncidentNotShared,
    );
    // Only the opening agency shares.
    chain.rejects(
        &fire,
        safety(SafetyOp::ShareIncident {
            incident,
            with: org("fire"),
        }),
        RejectCode::MissingRole,
    );
    let share = safety(SafetyOp::ShareIncident {
        incident,
        with: org("fire"),
    });
    chain.applies(&police, share.clone());
    chain.rejects(&police, share, RejectCode::AlreadyShared);
    // A member of police acting for fire is refused too.
    chain.rejects(
        &police,
        update(incident, "fire", None, "car-1"),
        RejectCode::MissingRole,
    );
    chain.applies(
        &fire,
        update(
            incident,
            "fire",
            Some(IncidentStatus::Dispatched),
            "engine-12",
        ),
    );
    chain.rejects(
        &police,
        update(incident, "police", Some(IncidentStatus::Closed), "car-1"),
        RejectCode::BadRecord,
    );
    chain.rejects(
        &fire,
        safety(SafetyOp::CloseIncident {
            incident,
            outcome: note("fire out"),
        }),
        RejectCode::MissingRole,
    );
    chain.applies(
        &police,
        safety(SafetyOp::CloseIncident {
            incident,
            outcome: note("road reopened"),
        }),
    );
    chain.rejects(
        &fire,
        update(incident, "fire", None, "engine-12"),
        RejectCode::IncidentClosed,
    );
    let record: IncidentRecord = chain.get(&StateKey::Incident(incident)).unwrap();
    assert_eq!(record.status, IncidentStatus::Closed);
    assert_eq!(record.updates.0.len(), 1);
    assert_eq!(record.updates.0[0].org, org("fire"));
    assert_eq!(record.agencies(), vec![org("police"), org("fire")]);
}

fn add_evidence(chain: &mut Chain, incident: Digest, commitment: Digest) -> Digest {
    let police = chain.admins[POLICE].clone();
    let hash = chain.applies(
        &police,
        safety(SafetyOp::AddEvidence(Box::new(EvidenceAnchor {
            anchor: anchor(Some("police"), &police.public_key(), commitment),
            link: EvidenceLink::Incident(incident),
            media_kind: MediaKind::Video,
            captured_at_ms: T0,
            location: location(),
            source_device: None,
        }))),
    );
    record_id(&hash)
}

fn offer(evidence: Digest, to: &str, receiver: &PublicKey, commitment: Digest) -> Action {
    safety(SafetyOp::OfferHandover {
        evidence,
        to: org(to),
        receiver: *receiver,
        commitment,
    })
}

fn accept(evidence: Digest, commitment: Digest) -> Action {
    safety(SafetyOp::AcceptHandover {
        evidence,
        commitment,
    })
}

#[test]
fn evidence_moves_from_police_to_prosecutor_only_when_accepted() {
    let mut chain = Chain::new();
    let incident = open_incident(&mut chain);
    let media = Digest([0x77; 32]);
    let evidence = add_evidence(&mut chain, incident, media);
    let police = chain.admins[POLICE].clone();
    let prosecutor = chain.admins[PROSECUTOR].clone();
    let fire = chain.admins[FIRE].clone();
    let custody =
        |chain: &Chain| -> CustodyRecord { chain.get(&StateKey::Custody(evidence)).unwrap() };
    // The prosecutor cannot offer what police holds; police cannot offer
    // other media than the record's.
    chain.rejects(
        &prosecutor,
        offer(evidence, "fire", &fire.public_key(), media),
        RejectCode::NotCustodian,
    );
    chain.rejects(
        &police,
        offer(
            evidence,
            "prosecutor",
            &prosecutor.public_key(),
            Digest([1; 32]),
        ),
        RejectCode::CommitmentMismatch,
    );
    chain.rejects(
        &police,
        offer(evidence, "prosecutor", &fire.public_key(), media),
        RejectCode::MissingRole,
    );
    chain.rejects(
        &prosecutor,
        accept(evidence, media),
        RejectCode::NoHandoverOffer,
    );
    chain.applies(
        &police,
        offer(evidence, "prosecutor", &prosecutor.public_key(), media),
    );
    // Offered, not accepted: police still holds it.
    assert_eq!(custody(&chain).custodian, org("police"));
    chain.rejects(
        &police,
        offer(evidence, "fire", &fire.public_key(), media),
        RejectCode::HandoverPending,
    );
    chain.rejects(&fire, accept(evidence, media), RejectCode::NotReceiver);
    // Altered media: the receiver's commitment differs.
    chain.rejects(
        &prosecutor,
        accept(evidence, Digest([2; 32])),
        RejectCode::CommitmentMismatch,
    );
    assert_eq!(custody(&chain).custodian, org("police"));
    chain.applies(&prosecutor, accept(evidence, media));
    let after = custody(&chain);
    assert_eq!(after.custodian, org("prosecutor"));
    assert_eq!(after.offer, None);
    let kinds: Vec<&CustodyEventKind> = after.history.0.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &CustodyEventKind::Collected,
            &CustodyEventKind::Offered {
                to: org("prosecutor"),
                receiver: prosecutor.public_key()
            },
            &CustodyEventKind::Accepted {
                from: org("police")
            },
        ]
    );
    // The custodian's members read the record, and the read is logged;
    // fire, neither custodian nor party, is refused and logged too.
    let read = |chain: &mut Chain, reader: &SecretKey| {
        let hash = chain.applies(
            reader,
            Action::Record(RecordOp::Access {
                record: evidence,
                grant: None,
            }),
        );
        chain
            .get::<AccessRecord>(&StateKey::Access(access_id(&hash)))
            .unwrap()
            .decision
    };
    assert_eq!(read(&mut chain, &prosecutor), AccessDecision::Granted);
    assert_eq!(
        read(&mut chain, &fire),
        AccessDecision::Refused(RejectCode::NoGrant)
    );
    // An item anchored without an agency is no evidence.
    chain.rejects(
        &police,
        safety(SafetyOp::AddEvidence(Box::new(EvidenceAnchor {
            anchor: anchor(None, &police.public_key(), media),
            link: EvidenceLink::Incident(incident),
            media_kind: MediaKind::StillImage,
            captured_at_ms: T0,
            location: location(),
            source_device: None,
        }))),
        RejectCode::BadRecord,
    );
    chain.rejects(
        &police,
        safety(SafetyOp::AddEvidence(Box::new(EvidenceAnchor {
            anchor: anchor(Some("police"), &police.public_key(), media),
            link: EvidenceLink::Incident(Digest([9; 32])),
            media_kind: MediaKind::StillImage,
            captured_at_ms: T0,
            location: location(),
            source_device: None,
        }))),
        RejectCode::UnknownIncident,
    );
}

#[test]
fn every_version_of_a_case_bundle_stays_provable() {
    let mut chain = Chain::new();
    let incident = open_incident(&mut chain);
    let items: Vec<Digest> = (0..5u8)
        .map(|i| add_evidence(&mut chain, incident, Digest([0x40 + i; 32])))
        .collect();
    let police = chain.admins[POLICE].clone();
    let hash = chain.applies(
        &police,
        safety(SafetyOp::CreateCase {
            org: org("police"),
            incident: Some(incident),
            title: note("junction 12 collision"),
        }),
    );
    let case = case_id(&hash);
    let add = |items: &[Digest]| {
        safety(SafetyOp::AddToCase {
            case,
            items: CaseAddition(items.to_vec()),
        })
    };
    chain.applies(&police, add(&items[..3]));
    chain.applies(&police, add(&items[3..]));
    chain.rejects(&police, add(&items[..1]), RejectCode::DuplicateCaseItem);
    chain.rejects(
        &police,
        add(&[Digest([5; 32])]),
        RejectCode::UnknownEvidence,
    );
    chain.rejects(&police, add(&[]), RejectCode::BadRecord);
    let fire = chain.admins[FIRE].clone();
    chain.rejects(&fire, add(&[items[0]]), RejectCode::MissingRole);
    let record: CaseRecord = chain.get(&StateKey::Case(case)).unwrap();
    assert_eq!(record.versions, 2);
    for (version, count) in [(1u32, 3usize), (2, 5)] {
        let kept: CaseVersionRecord = chain.get(&StateKey::CaseVersion(case, version)).unwrap();
        assert_eq!(kept.item_count as usize, count);
        let leaves: Vec<Digest> = record.items.0[..count].iter().map(case_item_leaf).collect();
        for (index, item) in record.items.0[..count].iter().enumerate() {
            let proof = merkle::prove(&leaves, index);
            assert_eq!(proof.verify(&case_item_leaf(item), &kept.root), Ok(()));
        }
    }
}

fn exam_terms(opens_at_ms: u64, deadline_ms: u64) -> ExamTerms {
    ExamTerms {
        org: org("education"),
        course: CourseName::new("math-101").unwrap(),
        opens_at_ms,
        deadline_ms,
        max_score: 100,
        pass_mark: 50,
        certificate: Some(Certificate {
            credential_type: CredentialType::new("exam_certificate").unwrap(),
            valid_ms: 365 * 86_400_000,
        }),
    }
}

fn answers_anchor(student: &PublicKey, teacher: &PublicKey, commitment: Digest) -> Anchor {
    Anchor {
        record_type: RecordType::new("exam_answers").unwrap(),
        recipients: Recipients::new(vec![*teacher]).unwrap(),
        ..anchor(None, student, commitment)
    }
}

#[test]
fn an_exam_takes_commitments_until_its_deadline_and_reveals_after() {
    let mut chain = Chain::new();
    let school = chain.admins[EDUCATION].clone();
    let police = chain.admins[POLICE].clone();
    let (student, _) = citizen(41);
    let (late, _) = citizen(42);
    // Blocks are one second apart: block n has time T0 + n s.
    let opens = chain.time_ms + 3_000;
    let deadline = chain.time_ms + 6_000;
    chain.rejects(
        &police,
        education(EducationOp::CreateExam(exam_terms(opens, deadline))),
        RejectCode::MissingRole,
    );
    chain.rejects(
        &school,
        education(EducationOp::CreateExam(exam_terms(deadline, opens))),
        RejectCode::BadExamTerms,
    );
    let mut unknown_type = exam_terms(opens, deadline + 2_000);
    unknown_type.certificate.as_mut().unwrap().credential_type =
        CredentialType::new("diploma").unwrap();
    chain.rejects(
        &school,
        education(EducationOp::CreateExam(unknown_type)),
        RejectCode::UnknownCredentialType,
    );
    // The three refusals took blocks: re-plan from the clock now.
    let opens = chain.time_ms + 3_000;
    let deadline = chain.time_ms + 6_000;
    let exam = exam_id(&chain.applies(
        &school,
        education(EducationOp::CreateExam(exam_terms(opens, deadline))),
    ));
    let committed = Digest([0xa5; 32]);
    let commit = |commitment| education(EducationOp::Commit { exam, commitment });
    // Block time opens + 0 is not yet reached: too early.
    chain.rejects(&student, commit(committed), RejectCode::ExamNotOpen);
    chain.applies(&student, commit(Digest([0x11; 32])));
    // A second commitment before the deadline replaces the first.
    chain.applies(&student, commit(committed));
    let reveal = |student: &SecretKey, commitment| {
        education(EducationOp::Reveal {
            exam,
            anchor: answers_anchor(&student.public_key(), &school.public_key(), commitment),
        })
    };
    chain.rejects(
        &student,
        reveal(&student, committed),
        RejectCode::ExamNotClosed,
    );
    assert!(
        chain.time_ms + 1_000 >= deadline,
        "the next block is at the deadline"
    );
    chain.rejects(&late, commit(Digest([0x22; 32])), RejectCode::ExamClosed);
    chain.rejects(&late, reveal(&late, committed), RejectCode::NoCommitment);
    chain.rejects(
        &student,
        reveal(&student, Digest([0x12; 32])),
        RejectCode::CommitmentMismatch,
    );
    let grade = |score| {
        education(EducationOp::Grade {
            exam,
            student: student.public_key(),
            score,
        })
    };
    chain.rejects(&school, grade(80), RejectCode::NotRevealed);
    chain.applies(&student, reveal(&student, committed));
    chain.rejects(
        &student,
        reveal(&student, committed),
        RejectCode::AlreadyRevealed,
    );
    // Grading is the teacher's role: the police admin is no teacher.
    chain.rejects(&police, grade(80), RejectCode::MissingRole);
    chain.rejects(&school, grade(101), RejectCode::BadExamTerms);
    chain.applies(&school, grade(80));
    chain.rejects(&school, grade(90), RejectCode::AlreadyGraded);
    let entry: ExamEntry = chain
        .get(&StateKey::ExamEntry(exam, student.public_key()))
        .unwrap();
    let grade = entry.grade.unwrap();
    assert!(grade.passed);
    let revealed = entry.revealed.unwrap();
    let answers: cityledger_types::record::Record =
        chain.get(&StateKey::Record(revealed.record)).unwrap();
    assert_eq!(answers.commitment, committed);
    assert!(answers.recipients.contains(&school.public_key()));
    let credential: CredentialRecord = chain
        .get(&StateKey::Credential(
            grade.credential.expect("a pass issues a certificate"),
        ))
        .unwrap();
    assert_eq!(credential.holder, student.public_key());
    assert_eq!(credential.issuer, org("education"));
    assert_eq!(
        credential
            .claims
            .get(&cityledger_types::FieldName::new("score").unwrap()),
        Some(&FieldValue::Integer(80))
    );
}
