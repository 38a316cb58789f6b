//! Records, grants, the access log, erasure, devices and batches through
//! the state machine: the hospital → pharmacy lab result with consent, the
//! scanner → image server hand-off, every refusal, and the property that
//! the access log judges every access as the grant rule says.

use super::*;
use cityledger_types::device::{
    BatchRecord, DeviceLabel, DeviceOp, DeviceRecord, DeviceStatus, DeviceType, batch_id,
};
use cityledger_types::limits::BATCH_MESSAGES_MAX;
use cityledger_types::obligation::{Reason, Reference};
use cityledger_types::record::{
    AccessDecision, AccessRecord, Anchor, GrantRecord, GrantScope, Recipients, Record, RecordOp,
    access_id, grant_id, record_id,
};
use cityledger_types::{PublicKey, RecordType};

const DAY: u64 = 86_400_000;
/// Index of the health agency's admin in `Chain::admins`.
const HEALTH: usize = 2;
/// Index of the police admin: a member of another organisation.
const POLICE: usize = 3;

fn record_type(name: &str) -> RecordType {
    RecordType::new(name).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::new(text).unwrap()
}

fn anchor(org: Option<&str>, owner: &PublicKey, recipients: Vec<PublicKey>) -> Anchor {
    Anchor {
        org: org.map(|name| OrgName::new(name).unwrap()),
        record_type: record_type("lab_result"),
        owner: *owner,
        commitment: Digest([0xc0; 32]),
        blob_digest: Digest([0xb1; 32]),
        blob_bytes: 1_024,
        metadata: Reference::default(),
        parent: None,
        recipients: Recipients::new(recipients).unwrap(),
    }
}

fn record_op(op: RecordOp) -> Action {
    Action::Record(op)
}

fn device_op(op: DeviceOp) -> Action {
    Action::Device(op)
}

fn grant(reader: &PublicKey, scope: GrantScope, valid_until_ms: u64) -> Action {
    record_op(RecordOp::Grant {
        reader: *reader,
        scope,
        valid_until_ms,
    })
}

fn access(record: Digest, grant: Option<Digest>) -> Action {
    record_op(RecordOp::Access { record, grant })
}

fn register(device: &PublicKey, device_type: DeviceType) -> Action {
    device_op(DeviceOp::Register {
        org: OrgName::new("health").unwrap(),
        device: *device,
        device_type,
        label: DeviceLabel::new("ward-3").unwrap(),
    })
}

fn batch(sequence: u64, message_count: u32) -> Action {
    device_op(DeviceOp::AnchorBatch {
        sequence,
        root: Digest([0xaa; 32]),
        message_count,
    })
}

impl Chain {
    fn load_as<T: borsh::BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        self.state
            .0
            .get(&key.to_bytes())
            .map(|bytes| borsh::from_slice(bytes).unwrap())
    }

    /// Executes `action` alone in a block; returns its outcome and hash.
    fn one(&mut self, signer: &SecretKey, action: Action) -> (TxOutcome, Digest) {
        let tx = self.tx(signer, action);
        let hash = tx.hash();
        (self.block(&[tx]).remove(0), hash)
    }

    fn ok(&mut self, signer: &SecretKey, action: Action) -> Digest {
        let (outcome, hash) = self.one(signer, action);
        assert_eq!(outcome, TxOutcome::Applied);
        hash
    }

    fn refuses(&mut self, signer: &SecretKey, action: Action, code: RejectCode) {
        let (outcome, _) = self.one(signer, action);
        assert!(
            rejected(code)(&outcome),
            "expected {code:?}, got {outcome:?}"
        );
    }

    fn record(&self, id: &Digest) -> Record {
        self.load_as(&StateKey::Record(*id)).expect("record exists")
    }

    /// Logs an access and returns its decision from the access log.
    fn read(
        &mut self,
        reader: &SecretKey,
        record: Digest,
        grant: Option<Digest>,
    ) -> AccessDecision {
        let hash = self.ok(reader, access(record, grant));
        let logged: AccessRecord = self
            .load_as(&StateKey::Access(access_id(&hash)))
            .expect("every access is logged");
        assert_eq!(logged.record, record);
        assert_eq!(logged.reader, reader.public_key());
        assert_eq!(logged.grant, grant);
        assert_eq!(logged.at_ms, self.time_ms);
        logged.decision
    }
}

fn refused(code: RejectCode) -> AccessDecision {
    AccessDecision::Refused(code)
}

#[test]
fn a_lab_result_reaches_the_pharmacy_with_the_patients_consent_and_every_access_is_logged() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let (patient, _) = citizen(1);
    let (pharmacy, _) = citizen(2);
    let (stranger, _) = citizen(3);
    let anchored = chain.ok(
        &hospital,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![],
        ))),
    );
    let id = record_id(&anchored);
    let record = chain.record(&id);
    assert_eq!(record.author, hospital.public_key());
    assert_eq!(record.owner, patient.public_key());

    // Without consent the pharmacy is refused, and the refusal is logged.
    assert_eq!(
        chain.read(&pharmacy, id, None),
        refused(RejectCode::NoGrant)
    );
    // The parties read without a grant.
    assert_eq!(chain.read(&patient, id, None), AccessDecision::Granted);
    assert_eq!(chain.read(&hospital, id, None), AccessDecision::Granted);

    let until = chain.time_ms + 10 * DAY;
    let consent = grant_id(&chain.ok(
        &patient,
        grant(&pharmacy.public_key(), GrantScope::Record(id), until),
    ));
    assert_eq!(
        chain.read(&pharmacy, id, Some(consent)),
        AccessDecision::Granted
    );
    // Another reader cannot ride on the pharmacy's grant.
    assert_eq!(
        chain.read(&stranger, id, Some(consent)),
        refused(RejectCode::NoGrant)
    );
    // A grant id that does not exist is no access at all: rejected.
    chain.refuses(
        &pharmacy,
        access(id, Some(Digest([9; 32]))),
        RejectCode::UnknownGrant,
    );
    chain.refuses(
        &pharmacy,
        access(Digest([9; 32]), None),
        RejectCode::UnknownRecord,
    );

    // Only the grant's owner revokes it, once; after that it reads no more.
    chain.refuses(
        &pharmacy,
        record_op(RecordOp::RevokeGrant { grant: consent }),
        RejectCode::NotRecordOwner,
    );
    chain.ok(
        &patient,
        record_op(RecordOp::RevokeGrant { grant: consent }),
    );
    chain.refuses(
        &patient,
        record_op(RecordOp::RevokeGrant { grant: consent }),
        RejectCode::GrantRevoked,
    );
    assert_eq!(
        chain.read(&pharmacy, id, Some(consent)),
        refused(RejectCode::GrantRevoked)
    );

    // A category grant covers the patient's lab results, until it ends.
    let category = grant_id(&chain.ok(
        &patient,
        grant(
            &pharmacy.public_key(),
            GrantScope::Category(record_type("lab_result")),
            chain.time_ms + 2_500,
        ),
    ));
    assert_eq!(
        chain.read(&pharmacy, id, Some(category)),
        AccessDecision::Granted
    );
    // Blocks are a second apart: two blocks later the grant has ended.
    chain.block(&[]);
    assert_eq!(
        chain.read(&pharmacy, id, Some(category)),
        refused(RejectCode::GrantExpired)
    );
    let x_rays = grant_id(&chain.ok(
        &patient,
        grant(
            &pharmacy.public_key(),
            GrantScope::Category(record_type("x_ray")),
            chain.time_ms + DAY,
        ),
    ));
    assert_eq!(
        chain.read(&pharmacy, id, Some(x_rays)),
        refused(RejectCode::NoGrant)
    );
}

#[test]
fn grants_are_the_owners_to_give_for_a_bounded_period() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let (patient, _) = citizen(1);
    let (pharmacy, _) = citizen(2);
    let id = record_id(&chain.ok(
        &hospital,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![],
        ))),
    ));
    let later = chain.time_ms + DAY;
    chain.refuses(
        &hospital,
        grant(&pharmacy.public_key(), GrantScope::Record(id), later),
        RejectCode::NotRecordOwner,
    );
    chain.refuses(
        &patient,
        grant(
            &pharmacy.public_key(),
            GrantScope::Record(Digest([4; 32])),
            later,
        ),
        RejectCode::UnknownRecord,
    );
    chain.refuses(
        &patient,
        grant(&patient.public_key(), GrantScope::Record(id), later),
        RejectCode::BadRecord,
    );
    let now = chain.time_ms;
    chain.refuses(
        &patient,
        grant(&pharmacy.public_key(), GrantScope::Record(id), now),
        RejectCode::BadValidity,
    );
    chain.refuses(
        &patient,
        grant(
            &pharmacy.public_key(),
            GrantScope::Record(id),
            now + 11 * 366 * DAY,
        ),
        RejectCode::BadValidity,
    );
    let made = grant_id(&chain.ok(
        &patient,
        grant(&pharmacy.public_key(), GrantScope::Record(id), later + DAY),
    ));
    let record: GrantRecord = chain.load_as(&StateKey::Grant(made)).unwrap();
    assert_eq!(record.owner, patient.public_key());
    assert_eq!(record.granted_at_ms, chain.time_ms);
}

#[test]
fn anchoring_needs_a_right_to_write_for_the_organisation_or_ones_own_record() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let police = chain.admins[POLICE].clone();
    let (patient, _) = citizen(1);
    let (other, _) = citizen(2);
    let owner = patient.public_key();
    // A citizen anchors their own record, not someone else's.
    chain.ok(
        &patient,
        record_op(RecordOp::Anchor(anchor(None, &owner, vec![]))),
    );
    chain.refuses(
        &other,
        record_op(RecordOp::Anchor(anchor(None, &owner, vec![]))),
        RejectCode::BadRecord,
    );
    chain.refuses(
        &police,
        record_op(RecordOp::Anchor(anchor(Some("health"), &owner, vec![]))),
        RejectCode::MissingRole,
    );
    chain.refuses(
        &hospital,
        record_op(RecordOp::Anchor(anchor(Some("nowhere"), &owner, vec![]))),
        RejectCode::UnknownOrg,
    );
    for blob_bytes in [0, cityledger_types::limits::BLOB_BYTES_MAX + 1] {
        let mut empty = anchor(Some("health"), &owner, vec![]);
        empty.blob_bytes = blob_bytes;
        chain.refuses(
            &hospital,
            record_op(RecordOp::Anchor(empty)),
            RejectCode::BadRecord,
        );
    }
    let mut orphan = anchor(Some("health"), &owner, vec![]);
    orphan.parent = Some(Digest([5; 32]));
    chain.refuses(
        &hospital,
        record_op(RecordOp::Anchor(orphan)),
        RejectCode::UnknownRecord,
    );
}

#[test]
fn a_recipient_acknowledges_once_what_it_received() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let (patient, _) = citizen(1);
    let (department, _) = citizen(2);
    let (stranger, _) = citizen(3);
    let id = record_id(&chain.ok(
        &hospital,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![department.public_key()],
        ))),
    ));
    let ack = |commitment| {
        record_op(RecordOp::Acknowledge {
            record: id,
            commitment,
        })
    };
    chain.refuses(&stranger, ack(Digest([0xc0; 32])), RejectCode::NotRecipient);
    chain.refuses(
        &department,
        ack(Digest([0xc1; 32])),
        RejectCode::CommitmentMismatch,
    );
    let first = chain.tx(&department, ack(Digest([0xc0; 32])));
    assert_eq!(
        chain.block(std::slice::from_ref(&first)),
        vec![TxOutcome::Applied]
    );
    // The same transaction again is inadmissible; a new one is refused.
    let replay = execute_block(&chain.state, &chain.env(), &[first], Mode::Verify);
    assert!(matches!(
        replay,
        Err(crate::execute::InvalidBlock {
            reason: Inadmissible::DuplicateId { .. },
            ..
        })
    ));
    chain.refuses(
        &department,
        ack(Digest([0xc0; 32])),
        RejectCode::AlreadyAcknowledged,
    );
    let record = chain.record(&id);
    assert_eq!(record.acknowledgements.0.len(), 1);
    assert_eq!(record.acknowledgements.0[0].by, department.public_key());
    // The recipient reads without a grant.
    assert_eq!(chain.read(&department, id, None), AccessDecision::Granted);
}

#[test]
fn erasure_leaves_a_tombstone_with_the_commitment_and_refuses_everything_after() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let police = chain.admins[POLICE].clone();
    let (patient, _) = citizen(1);
    let (pharmacy, _) = citizen(2);
    let (stranger, _) = citizen(3);
    let id = record_id(&chain.ok(
        &hospital,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![pharmacy.public_key()],
        ))),
    ));
    let erase = |text| {
        record_op(RecordOp::Erase {
            record: id,
            reason: reason(text),
        })
    };
    chain.refuses(&stranger, erase("mine now"), RejectCode::MissingRole);
    chain.refuses(&police, erase("not ours"), RejectCode::MissingRole);
    chain.ok(&patient, erase("GDPR article 17"));
    let record = chain.record(&id);
    let tombstone = record.erasure.as_ref().expect("erased");
    assert_eq!(tombstone.by, patient.public_key());
    assert_eq!(tombstone.height, Height(chain.height));
    assert_eq!(record.commitment, Digest([0xc0; 32]), "kept for audit");
    chain.refuses(&hospital, erase("again"), RejectCode::RecordErased);
    assert_eq!(
        chain.read(&pharmacy, id, None),
        refused(RejectCode::RecordErased)
    );
    chain.refuses(
        &pharmacy,
        record_op(RecordOp::Acknowledge {
            record: id,
            commitment: Digest([0xc0; 32]),
        }),
        RejectCode::RecordErased,
    );
    chain.refuses(
        &patient,
        grant(
            &stranger.public_key(),
            GrantScope::Record(id),
            chain.time_ms + DAY,
        ),
        RejectCode::RecordErased,
    );
    // The controlling organisation may erase too; a citizen's own record
    // only its owner.
    let second = record_id(&chain.ok(
        &hospital,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![],
        ))),
    ));
    chain.ok(
        &hospital,
        record_op(RecordOp::Erase {
            record: second,
            reason: reason("retention period over"),
        }),
    );
    let own = record_id(&chain.ok(
        &patient,
        record_op(RecordOp::Anchor(anchor(
            None,
            &patient.public_key(),
            vec![],
        ))),
    ));
    chain.refuses(
        &hospital,
        record_op(RecordOp::Erase {
            record: own,
            reason: reason("tidy"),
        }),
        RejectCode::NotRecordOwner,
    );
}

#[test]
fn the_scanner_hands_images_to_the_image_server_provably_on_both_sides() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let (patient, _) = citizen(1);
    let scanner = SecretKey::from_seed([40; 32]);
    let server = SecretKey::from_seed([41; 32]);
    chain.ok(
        &hospital,
        register(&scanner.public_key(), DeviceType::MriScanner),
    );
    chain.ok(
        &hospital,
        register(&server.public_key(), DeviceType::ImagingServer),
    );
    let mut images = anchor(
        Some("health"),
        &patient.public_key(),
        vec![server.public_key()],
    );
    images.record_type = record_type("mri_image");
    let id = record_id(&chain.ok(&scanner, record_op(RecordOp::Anchor(images))));
    chain.ok(
        &server,
        record_op(RecordOp::Acknowledge {
            record: id,
            commitment: Digest([0xc0; 32]),
        }),
    );
    let mut report = anchor(Some("health"), &patient.public_key(), vec![]);
    report.parent = Some(id);
    let report_id = record_id(&chain.ok(&server, record_op(RecordOp::Anchor(report))));
    let images = chain.record(&id);
    assert_eq!(images.author, scanner.public_key());
    assert_eq!(
        images
            .acknowledgements
            .by(&server.public_key())
            .map(|a| a.height),
        Some(Height(chain.height - 1))
    );
    assert_eq!(chain.record(&report_id).parent, Some(id));

    // A device of another organisation, or one out of service, anchors
    // nothing.
    let mut for_police = anchor(Some("police"), &patient.public_key(), vec![]);
    for_police.record_type = record_type("mri_image");
    chain.refuses(
        &scanner,
        record_op(RecordOp::Anchor(for_police)),
        RejectCode::MissingRole,
    );
    chain.ok(
        &hospital,
        device_op(DeviceOp::Suspend {
            device: scanner.public_key(),
            reason: reason("calibration"),
        }),
    );
    chain.refuses(
        &scanner,
        record_op(RecordOp::Anchor(anchor(
            Some("health"),
            &patient.public_key(),
            vec![],
        ))),
        RejectCode::DeviceInactive,
    );
}

#[test]
fn devices_are_registered_suspended_reinstated_and_retired_by_their_organisation() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let police = chain.admins[POLICE].clone();
    let sensor = SecretKey::from_seed([50; 32]).public_key();
    let change = |op: fn(PublicKey, Reason) -> DeviceOp| device_op(op(sensor, reason("why")));
    let suspend = |device, reason| DeviceOp::Suspend { device, reason };
    let reinstate = |device, reason| DeviceOp::Reinstate { device, reason };
    let retire = |device, reason| DeviceOp::Retire { device, reason };

    chain.refuses(
        &police,
        register(&sensor, DeviceType::Sensor),
        RejectCode::MissingRole,
    );
    chain.refuses(&hospital, change(suspend), RejectCode::UnknownDevice);
    chain.ok(&hospital, register(&sensor, DeviceType::Sensor));
    chain.refuses(
        &hospital,
        register(&sensor, DeviceType::Sensor),
        RejectCode::DeviceExists,
    );
    chain.refuses(&police, change(suspend), RejectCode::MissingRole);
    chain.refuses(&hospital, change(reinstate), RejectCode::NotSuspended);
    chain.ok(&hospital, change(suspend));
    chain.refuses(&hospital, change(suspend), RejectCode::AlreadySuspended);
    chain.ok(&hospital, change(reinstate));
    chain.ok(&hospital, change(retire));
    for op in [suspend, reinstate, retire] {
        chain.refuses(&hospital, change(op), RejectCode::DeviceRetired);
    }
    // A retired key is never registered again.
    chain.refuses(
        &hospital,
        register(&sensor, DeviceType::Sensor),
        RejectCode::DeviceExists,
    );
    let record: DeviceRecord = chain.load_as(&StateKey::Device(sensor)).unwrap();
    assert_eq!(record.status, DeviceStatus::Retired);
}

#[test]
fn batches_are_anchored_in_sequence_by_active_devices_only() {
    let mut chain = Chain::new();
    let hospital = chain.admins[HEALTH].clone();
    let car = SecretKey::from_seed([60; 32]);
    let (stranger, _) = citizen(3);
    chain.refuses(&stranger, batch(0, 10), RejectCode::UnknownDevice);
    chain.ok(
        &hospital,
        register(&car.public_key(), DeviceType::ConnectedCar),
    );
    chain.refuses(&car, batch(1, 10), RejectCode::BatchOutOfOrder);
    chain.refuses(&car, batch(0, 0), RejectCode::BadBatch);
    chain.refuses(
        &car,
        batch(0, BATCH_MESSAGES_MAX as u32 + 1),
        RejectCode::BadBatch,
    );
    chain.refuses(
        &car,
        device_op(DeviceOp::AnchorBatch {
            sequence: 0,
            root: Digest::ZERO,
            message_count: 1,
        }),
        RejectCode::BadBatch,
    );
    let first = chain.ok(&car, batch(0, BATCH_MESSAGES_MAX as u32));
    // The same batch sequence again is a replay.
    chain.refuses(&car, batch(0, 10), RejectCode::BatchOutOfOrder);
    chain.ok(&car, batch(1, 10));
    let anchored: BatchRecord = chain.load_as(&StateKey::Batch(batch_id(&first))).unwrap();
    assert_eq!(anchored.device, car.public_key());
    assert_eq!(anchored.message_count, BATCH_MESSAGES_MAX as u32);
    assert_eq!(anchored.sequence, 0);
    chain.ok(
        &hospital,
        device_op(DeviceOp::Suspend {
            device: car.public_key(),
            reason: reason("stolen"),
        }),
    );
    chain.refuses(&car, batch(2, 10), RejectCode::DeviceInactive);
}

/// One step of the property: the patient grants, revokes, time passes, or
/// the reader reads.
#[derive(Clone, Debug)]
enum Step {
    Grant { lasts_blocks: u64 },
    RevokeLast,
    Wait,
    Read,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u64..5).prop_map(|lasts_blocks| Step::Grant { lasts_blocks }),
        Just(Step::RevokeLast),
        Just(Step::Wait),
        Just(Step::Read),
        Just(Step::Read),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Whatever the patient does, each read under the latest grant is
    /// logged with the decision the rule gives: granted while the grant
    /// has neither ended nor been revoked, and no grant, no access.
    #[test]
    fn every_access_is_logged_as_the_grant_rule_decides(steps in prop::collection::vec(step(), 1..24)) {
        let mut chain = Chain::new();
        let hospital = chain.admins[HEALTH].clone();
        let (patient, _) = citizen(1);
        let (reader, _) = citizen(2);
        let id = record_id(&chain.ok(
            &hospital,
            record_op(RecordOp::Anchor(anchor(Some("health"), &patient.public_key(), vec![]))),
        ));
        // The model: the latest grant, its end, and whether it is revoked.
        let mut latest: Option<(Digest, u64, bool)> = None;
        for step in steps {
            match step {
                Step::Grant { lasts_blocks } => {
                    // The grant's block is one second after the last.
                    let until = chain.time_ms + 1_000 + lasts_blocks * 1_000;
                    let made = chain.ok(&patient, grant(&reader.public_key(), GrantScope::Record(id), until));
                    latest = Some((grant_id(&made), until, false));
                }
                Step::RevokeLast => {
                    if let Some((grant, _, revoked)) = latest.as_mut() {
                        let (outcome, _) = chain.one(&patient, record_op(RecordOp::RevokeGrant { grant: *grant }));
                        prop_assert_eq!(outcome.is_applied(), !*revoked);
                        *revoked = true;
                    }
                }
                Step::Wait => {
                    chain.block(&[]);
                }
                Step::Read => {
                    let named = latest.map(|(grant, _, _)| grant);
                    let expected = match latest {
                        None => refused(RejectCode::NoGrant),
                        Some((_, _, true)) => refused(RejectCode::GrantRevoked),
                        // The read's block is one second after the last.
                        Some((_, until, false)) if chain.time_ms + 1_000 >= until => {
                            refused(RejectCode::GrantExpired)
                        }
                        Some(_) => AccessDecision::Granted,
                    };
                    prop_assert_eq!(chain.read(&reader, id, named), expected);
                }
            }
        }
    }
}
