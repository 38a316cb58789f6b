//! Applications and credentials through the state machine: the renewal
//! path with its fee, a rejection, information requested and given, every
//! status change, every refusal, and the property that a credential's
//! record at the tip proves its status at every earlier height.

use super::*;
use crate::audit::audit_obligations;
use cityledger_types::application::{
    ApplicationOp, ApplicationRecord, ApplicationStatus, Document, Documents, application_id,
};
use cityledger_types::credential::{
    AsOf, CredentialOp, CredentialRecord, CredentialStatus, Field, FieldText, FieldValue, Fields,
    IssuerKeys, commitment, credential_id,
};
use cityledger_types::obligation::{ObligationOp, ObligationRecord, ObligationStatus, Reason};
use cityledger_types::{FieldName, ServiceName};

const DAY: u64 = 86_400_000;
/// Index of the transport agency's admin in `Chain::admins`.
const TRANSPORT: usize = 1;
/// Index of the immigration agency's admin.
const IMMIGRATION: usize = 4;

fn org(name: &str) -> OrgName {
    OrgName::new(name).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::new(text).unwrap()
}

fn field(name: &str, value: FieldValue) -> Field {
    Field {
        name: FieldName::new(name).unwrap(),
        value,
    }
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(FieldText::new(value).unwrap())
}

fn documents(names: &[&str]) -> Documents {
    Documents(
        names
            .iter()
            .enumerate()
            .map(|(i, name)| Document {
                name: FieldName::new(*name).unwrap(),
                digest: Digest([i as u8 + 1; 32]),
            })
            .collect(),
    )
}

/// A driver licence renewal with the class and a salted commitment to the
/// licence number: the number itself never reaches the ledger.
fn licence_renewal() -> Action {
    Action::Application(ApplicationOp::Submit {
        org: org("transport"),
        service: ServiceName::new("driver_licence_renewal").unwrap(),
        fields: Fields::new(vec![
            field("licence_class", text("B")),
            field(
                "licence_number",
                FieldValue::Commitment(commitment(&[7; 32], "D-1234567")),
            ),
        ])
        .unwrap(),
        documents: documents(&["photo", "medical_certificate"]),
    })
}

fn visa_application() -> Action {
    Action::Application(ApplicationOp::Submit {
        org: org("immigration"),
        service: ServiceName::new("visa_application").unwrap(),
        fields: Fields::new(vec![
            field("visa_category", text("work")),
            field("entries", FieldValue::Integer(2)),
            field(
                "passport_number",
                FieldValue::Commitment(commitment(&[9; 32], "P7654321")),
            ),
        ])
        .unwrap(),
        documents: documents(&["passport_copy", "invitation_letter"]),
    })
}

fn approve(application: Digest) -> Action {
    Action::Application(ApplicationOp::Approve {
        application,
        claims: Fields::new(vec![field("licence_class", text("B"))]).unwrap(),
        valid_until_ms: None,
    })
}

fn credential_op(op: CredentialOp) -> Action {
    Action::Credential(op)
}

impl Chain {
    fn load<T: borsh::BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        self.state
            .0
            .get(&key.to_bytes())
            .map(|bytes| borsh::from_slice(bytes).unwrap())
    }

    fn application(&self, id: &Digest) -> ApplicationRecord {
        self.load(&StateKey::Application(*id))
            .expect("application exists")
    }

    fn credential(&self, id: &Digest) -> CredentialRecord {
        self.load(&StateKey::Credential(*id))
            .expect("credential exists")
    }

    /// Executes `action` alone in a block; returns its outcome and hash.
    fn submit_one(&mut self, signer: &SecretKey, action: Action) -> (TxOutcome, Digest) {
        let tx = self.tx(signer, action);
        let hash = tx.hash();
        (self.block(&[tx]).remove(0), hash)
    }

    fn applied(&mut self, signer: &SecretKey, action: Action) -> Digest {
        let (outcome, hash) = self.submit_one(signer, action);
        assert_eq!(outcome, TxOutcome::Applied);
        hash
    }

    fn give(&mut self, to: Address, amount: u128) {
        let treasury = self.treasury().clone();
        self.applied(&treasury, transfer(issuance(), to, amount));
    }

    /// The height and block time of the last block.
    fn now(&self) -> AsOf {
        AsOf {
            height: Height(self.height),
            time_ms: self.time_ms,
        }
    }
}

#[test]
fn a_licence_renewal_raises_its_fee_waits_for_payment_and_issues_a_valid_licence() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    chain.give(alice, 10_000);
    let transport = chain.admins[TRANSPORT].clone();

    let submitted = chain.applied(&alice_key, licence_renewal());
    let id = application_id(&submitted);
    let application = chain.application(&id);
    assert_eq!(application.status, ApplicationStatus::Submitted);
    let fee_id = application.fee_obligation.expect("the service has a fee");
    let fee: ObligationRecord = chain.load(&StateKey::Obligation(fee_id)).unwrap();
    assert_eq!(
        (fee.payer, fee.amount, fee.issuer.as_str(), fee.evidence),
        (alice, Amount(4_000), "transport", Some(id))
    );
    assert_eq!(
        fee.payee,
        Address::parse_or_alias("transport:main").unwrap()
    );

    // Not before the fee is paid.
    let (outcome, _) = chain.submit_one(&transport, approve(id));
    assert!(rejected(RejectCode::FeeUnpaid)(&outcome), "{outcome:?}");
    let pay = Action::Obligation(ObligationOp::Pay {
        obligation: fee_id,
        from: alice,
        currency: city(),
        amount: Amount(4_000),
    });
    chain.applied(&alice_key, pay);
    let approved = chain.applied(&transport, approve(id));

    let licence = credential_id(&approved);
    let application = chain.application(&id);
    assert_eq!(application.status, ApplicationStatus::Approved);
    assert_eq!(
        application.decision.as_ref().and_then(|d| d.credential),
        Some(licence)
    );
    let credential = chain.credential(&licence);
    assert_eq!(credential.holder, alice_key.public_key());
    assert_eq!(credential.application, Some(id));
    assert_eq!(credential.status_at(&chain.now()), CredentialStatus::Valid);
    assert_eq!(
        credential.valid_until_ms(),
        chain.time_ms + 10 * 365 * DAY,
        "the service's longest validity by default"
    );
    assert_eq!(chain.balance(&alice).posted(), 6_000);
    let books = audit_obligations(
        chain
            .state
            .0
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice())),
    )
    .expect("the fee is booked like any obligation");
    assert_eq!(books[&(org("transport"), city())].collected, 4_000);
    // Decided: she may apply again, and the next credential takes the next
    // status list position.
    let again = chain.applied(&alice_key, licence_renewal());
    assert_ne!(application_id(&again), id);
    let education = chain.admins[5].clone();
    let library_card = Action::Application(ApplicationOp::Submit {
        org: org("education"),
        service: ServiceName::new("library_card").unwrap(),
        fields: Fields::default(),
        documents: documents(&["proof_of_address"]),
    });
    let card = application_id(&chain.applied(&alice_key, library_card));
    assert_eq!(
        chain.application(&card).fee_obligation,
        None,
        "a free service"
    );
    let card_credential = credential_id(&chain.applied(&education, approve_plain(card)));
    assert_eq!(chain.credential(&card_credential).status_index, 0);
    assert_eq!(credential.status_index, 0);
}

fn approve_plain(application: Digest) -> Action {
    Action::Application(ApplicationOp::Approve {
        application,
        claims: Fields::default(),
        valid_until_ms: None,
    })
}

#[test]
fn a_visa_is_rejected_with_its_reason_after_more_information_was_asked() {
    let mut chain = Chain::new();
    let (bob_key, _) = citizen(2);
    let immigration = chain.admins[IMMIGRATION].clone();
    let id = application_id(&chain.applied(&bob_key, visa_application()));
    let ask = Action::Application(ApplicationOp::RequestInfo {
        application: id,
        request: reason("the invitation letter is not signed"),
    });
    chain.applied(&immigration, ask);
    assert_eq!(
        chain.application(&id).status,
        ApplicationStatus::InfoRequested
    );
    let answer = Action::Application(ApplicationOp::Respond {
        application: id,
        response: reason("a signed copy is attached"),
        documents: documents(&["signed_invitation"]),
    });
    let (stranger_key, _) = citizen(3);
    let (outcome, _) = chain.submit_one(&stranger_key, answer.clone());
    assert!(rejected(RejectCode::NotApplicant)(&outcome), "{outcome:?}");
    chain.applied(&bob_key, answer.clone());
    let (outcome, _) = chain.submit_one(&bob_key, answer);
    assert!(
        rejected(RejectCode::NoInfoRequested)(&outcome),
        "{outcome:?}"
    );
    let after_answer = chain.application(&id);
    assert_eq!(after_answer.status, ApplicationStatus::Submitted);
    assert_eq!(after_answer.documents.0.len(), 3);
    let refuse = Action::Application(ApplicationOp::Reject {
        application: id,
        reason: reason("the inviting company is not registered"),
    });
    chain.applied(&immigration, refuse.clone());
    let rejected_application = chain.application(&id);
    assert_eq!(rejected_application.status, ApplicationStatus::Rejected);
    let decision = rejected_application.decision.unwrap();
    assert_eq!(
        decision.reason.as_ref().map(Reason::as_str),
        Some("the inviting company is not registered")
    );
    assert_eq!(decision.credential, None);
    let (outcome, _) = chain.submit_one(&immigration, refuse);
    assert!(
        rejected(RejectCode::ApplicationDecided)(&outcome),
        "{outcome:?}"
    );
    // The fee is a processing fee: still owed after the rejection.
    let fee: ObligationRecord = chain
        .load(&StateKey::Obligation(
            rejected_application.fee_obligation.unwrap(),
        ))
        .unwrap();
    assert_eq!(fee.status, ObligationStatus::Open);
}

/// Issues a one-year licence directly to `holder`; returns its id.
fn issue_licence(chain: &mut Chain, holder: &SecretKey, days: u64) -> Digest {
    let transport = chain.admins[TRANSPORT].clone();
    let issue = credential_op(CredentialOp::Issue {
        org: org("transport"),
        credential_type: cityledger_types::CredentialType::new("driver_licence").unwrap(),
        holder: holder.public_key(),
        claims: Fields::new(vec![field("licence_class", text("B"))]).unwrap(),
        valid_until_ms: chain.time_ms + 1000 + days * DAY,
    });
    credential_id(&chain.applied(&transport, issue))
}

#[test]
fn a_revoked_credential_was_valid_before_the_revocation_and_is_revoked_after() {
    let mut chain = Chain::new();
    let (alice_key, _) = citizen(1);
    let id = issue_licence(&mut chain, &alice_key, 365);
    let before = chain.now();
    chain.time_ms += DAY;
    let transport = chain.admins[TRANSPORT].clone();
    let revoke = credential_op(CredentialOp::Revoke {
        credential: id,
        reason: reason("licence withdrawn by court order"),
    });
    chain.applied(&transport, revoke.clone());
    let after = chain.now();
    let record = chain.credential(&id);
    assert_eq!(record.status_at(&before), CredentialStatus::Valid);
    assert_eq!(record.status_at(&after), CredentialStatus::Revoked);
    // Revoked is final.
    for action in [
        revoke,
        credential_op(CredentialOp::Reinstate {
            credential: id,
            reason: reason("appeal"),
        }),
        credential_op(CredentialOp::Renew {
            credential: id,
            valid_until_ms: chain.time_ms + 400 * DAY,
        }),
    ] {
        let (outcome, _) = chain.submit_one(&transport, action);
        assert!(
            rejected(RejectCode::CredentialRevoked)(&outcome),
            "{outcome:?}"
        );
    }
    assert_eq!(chain.credential(&id), record);
}

#[test]
fn an_expired_credential_is_reported_expired_and_a_renewal_makes_it_valid_again() {
    let mut chain = Chain::new();
    let (alice_key, _) = citizen(1);
    let id = issue_licence(&mut chain, &alice_key, 1);
    chain.time_ms += 2 * DAY;
    let expired_at = chain.now();
    let record = chain.credential(&id);
    assert_eq!(record.status_at(&expired_at), CredentialStatus::Expired);
    let transport = chain.admins[TRANSPORT].clone();
    let renew = |until| {
        credential_op(CredentialOp::Renew {
            credential: id,
            valid_until_ms: until,
        })
    };
    let (outcome, _) = chain.submit_one(&transport, renew(record.valid_until_ms()));
    assert!(
        rejected(RejectCode::BadValidity)(&outcome),
        "not an extension"
    );
    let (outcome, _) = chain.submit_one(&transport, renew(chain.time_ms + 30 * 366 * DAY));
    assert!(rejected(RejectCode::BadValidity)(&outcome), "too long");
    let until = chain.time_ms + 1000 + 365 * DAY;
    chain.applied(&transport, renew(until));
    let renewed = chain.credential(&id);
    assert_eq!(renewed.status_at(&chain.now()), CredentialStatus::Valid);
    assert_eq!(renewed.status_at(&expired_at), CredentialStatus::Expired);
    assert_eq!(renewed.valid_until_ms(), until);
}

#[test]
fn suspension_and_reinstatement_alternate() {
    let mut chain = Chain::new();
    let (alice_key, _) = citizen(1);
    let id = issue_licence(&mut chain, &alice_key, 365);
    let transport = chain.admins[TRANSPORT].clone();
    let suspend = credential_op(CredentialOp::Suspend {
        credential: id,
        reason: reason("unpaid fines"),
    });
    let reinstate = credential_op(CredentialOp::Reinstate {
        credential: id,
        reason: reason("fines paid"),
    });
    let (outcome, _) = chain.submit_one(&transport, reinstate.clone());
    assert!(rejected(RejectCode::NotSuspended)(&outcome), "{outcome:?}");
    chain.applied(&transport, suspend.clone());
    assert_eq!(
        chain.credential(&id).status_at(&chain.now()),
        CredentialStatus::Suspended
    );
    let (outcome, _) = chain.submit_one(&transport, suspend);
    assert!(
        rejected(RejectCode::AlreadySuspended)(&outcome),
        "{outcome:?}"
    );
    chain.applied(&transport, reinstate);
    let record = chain.credential(&id);
    assert_eq!(record.status_at(&chain.now()), CredentialStatus::Valid);
    assert_eq!(record.history.changes().len(), 3);
}

#[test]
fn every_refusal_has_its_code_and_changes_nothing() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (bob_key, _) = citizen(2);
    chain.give(alice, 10_000);
    let transport = chain.admins[TRANSPORT].clone();
    let immigration = chain.admins[IMMIGRATION].clone();
    let open = application_id(&chain.applied(&alice_key, licence_renewal()));
    let licence = issue_licence(&mut chain, &alice_key, 365);
    let clear_number = Action::Application(ApplicationOp::Submit {
        org: org("immigration"),
        service: ServiceName::new("passport_renewal").unwrap(),
        fields: Fields::new(vec![field("passport_number", text("P1234567"))]).unwrap(),
        documents: documents(&["photo", "old_passport"]),
    });
    let no_photo = Action::Application(ApplicationOp::Submit {
        org: org("immigration"),
        service: ServiceName::new("passport_renewal").unwrap(),
        fields: Fields::new(vec![field(
            "passport_number",
            FieldValue::Commitment(commitment(&[1; 32], "P1234567")),
        )])
        .unwrap(),
        documents: documents(&["old_passport"]),
    });
    let unknown_service = Action::Application(ApplicationOp::Submit {
        org: org("transport"),
        service: ServiceName::new("boat_licence").unwrap(),
        fields: Fields::default(),
        documents: Documents::default(),
    });
    let until = chain.time_ms + 400 * DAY;
    let cases: Vec<(&str, SecretKey, Action, RejectCode)> = vec![
        (
            "a duplicate application",
            alice_key.clone(),
            licence_renewal(),
            RejectCode::DuplicateApplication,
        ),
        (
            "an approval by the applicant",
            alice_key.clone(),
            approve(open),
            RejectCode::MissingRole,
        ),
        (
            "an approval by another agency",
            immigration.clone(),
            approve(open),
            RejectCode::MissingRole,
        ),
        (
            "the holder renewing",
            alice_key.clone(),
            credential_op(CredentialOp::Renew {
                credential: licence,
                valid_until_ms: until,
            }),
            RejectCode::MissingRole,
        ),
        (
            "the holder reinstating",
            alice_key.clone(),
            credential_op(CredentialOp::Reinstate {
                credential: licence,
                reason: reason("mine"),
            }),
            RejectCode::MissingRole,
        ),
        (
            "the holder revoking",
            alice_key.clone(),
            credential_op(CredentialOp::Revoke {
                credential: licence,
                reason: reason("mine"),
            }),
            RejectCode::MissingRole,
        ),
        (
            "another agency suspending",
            immigration.clone(),
            credential_op(CredentialOp::Suspend {
                credential: licence,
                reason: reason("no"),
            }),
            RejectCode::MissingRole,
        ),
        (
            "a citizen issuing",
            bob_key.clone(),
            credential_op(CredentialOp::Issue {
                org: org("transport"),
                credential_type: cityledger_types::CredentialType::new("driver_licence").unwrap(),
                holder: bob_key.public_key(),
                claims: Fields::default(),
                valid_until_ms: until,
            }),
            RejectCode::MissingRole,
        ),
        (
            "a passport number in clear",
            bob_key.clone(),
            clear_number,
            RejectCode::BadFields,
        ),
        (
            "a missing photo",
            bob_key.clone(),
            no_photo,
            RejectCode::MissingEvidence,
        ),
        (
            "an unknown service",
            bob_key.clone(),
            unknown_service,
            RejectCode::UnknownService,
        ),
        (
            "an unknown credential",
            transport.clone(),
            credential_op(CredentialOp::Revoke {
                credential: Digest([5; 32]),
                reason: reason("x"),
            }),
            RejectCode::UnknownCredential,
        ),
        (
            "an unknown application",
            transport.clone(),
            approve(Digest([6; 32])),
            RejectCode::UnknownApplication,
        ),
        (
            "a citizen naming an issuer key",
            bob_key.clone(),
            credential_op(CredentialOp::SetIssuerKey {
                org: org("transport"),
                key: bob_key.public_key(),
            }),
            RejectCode::MissingRole,
        ),
    ];
    let watched = [
        StateKey::Application(open),
        StateKey::Credential(licence),
        StateKey::StatusListCounter(org("transport")),
        StateKey::IssuerKeys(org("transport")),
        StateKey::OpenApplication(
            org("immigration"),
            ServiceName::new("passport_renewal").unwrap(),
            bob_key.public_key(),
        ),
    ];
    let snapshot = |chain: &Chain| -> Vec<Option<Vec<u8>>> {
        watched
            .iter()
            .map(|key| chain.state.0.get(&key.to_bytes()).cloned())
            .collect()
    };
    let before = snapshot(&chain);
    let obligations_before = count_obligations(&chain);
    for (case, signer, action, code) in cases {
        let (outcome, _) = chain.submit_one(&signer, action);
        assert!(rejected(code)(&outcome), "{case}: {outcome:?}");
    }
    assert_eq!(snapshot(&chain), before, "refusals changed nothing");
    assert_eq!(
        count_obligations(&chain),
        obligations_before,
        "no fee raised"
    );
    let keys: IssuerKeys = chain.load(&StateKey::IssuerKeys(org("transport"))).unwrap();
    assert_eq!(keys.current(), Some(&transport.public_key()));
}

fn count_obligations(chain: &Chain) -> usize {
    chain
        .state
        .0
        .keys()
        .filter(|key| matches!(borsh::from_slice(key), Ok(StateKey::Obligation(_))))
        .count()
}

#[derive(Clone, Debug)]
enum Step {
    Suspend,
    Reinstate,
    Revoke,
    Renew(u64),
    Tick(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Suspend),
        Just(Step::Reinstate),
        Just(Step::Revoke),
        (1..400u64).prop_map(Step::Renew),
        (1..200u64).prop_map(Step::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Whatever changes were made and refused, the record at the tip
    /// answers for every earlier block exactly what the record of that
    /// block answered then: one proof of today's record proves the past.
    #[test]
    fn the_record_at_the_tip_proves_the_status_at_every_earlier_height(steps in proptest::collection::vec(step(), 1..24)) {
        let mut chain = Chain::new();
        let (alice_key, _) = citizen(1);
        let transport = chain.admins[TRANSPORT].clone();
        let id = issue_licence(&mut chain, &alice_key, 100);
        let mut seen: Vec<(AsOf, CredentialStatus)> = Vec::new();
        for step in steps {
            let action = match step {
                Step::Suspend => CredentialOp::Suspend { credential: id, reason: reason("s") },
                Step::Reinstate => CredentialOp::Reinstate { credential: id, reason: reason("r") },
                Step::Revoke => CredentialOp::Revoke { credential: id, reason: reason("v") },
                Step::Renew(days) => CredentialOp::Renew { credential: id, valid_until_ms: chain.time_ms + days * DAY },
                Step::Tick(days) => {
                    chain.time_ms += days * DAY;
                    continue;
                }
            };
            chain.submit_one(&transport, credential_op(action));
            let now = chain.now();
            seen.push((now, chain.credential(&id).status_at(&now)));
        }
        let tip = chain.credential(&id);
        for (as_of, status) in seen {
            prop_assert_eq!(tip.status_at(&as_of), status, "{:?}", as_of);
        }
    }
}

#[test]
fn agencies_define_services_credential_types_and_issuer_keys_as_data() {
    use cityledger_types::application::{EvidenceNames, Fee, ServiceRecord};
    use cityledger_types::credential::{CredentialRoles, FieldSpecs};
    use cityledger_types::tx::Roles;
    use cityledger_types::{CredentialType, KindName};
    let mut chain = Chain::new();
    let (alice_key, _) = citizen(1);
    let transport = chain.admins[TRANSPORT].clone();
    let role = |name: &str| Roles(vec![RoleName::new(name).unwrap()]);
    let boat = CredentialType::new("boat_licence").unwrap();
    let define_type = credential_op(CredentialOp::DefineType {
        org: org("transport"),
        credential_type: boat.clone(),
        roles: CredentialRoles {
            issue: role("harbour.master"),
            renew: role("harbour.master"),
            suspend: role("harbour.master"),
            revoke: role("harbour.master"),
        },
    });
    let service = |fee: Option<Fee>, credential_type: &CredentialType, validity_ms_max| {
        Action::Application(ApplicationOp::DefineService {
            org: org("transport"),
            service: ServiceName::new("boat_licence").unwrap(),
            definition: ServiceRecord {
                decide: role("harbour.master"),
                fee,
                evidence: EvidenceNames(vec![FieldName::new("sailing_test").unwrap()]),
                fields: FieldSpecs::default(),
                credential_type: credential_type.clone(),
                validity_ms_max,
            },
        })
    };
    let fee = |amount, kind: &str| {
        Some(Fee {
            amount: Amount(amount),
            currency: city(),
            obligation_kind: KindName::new(kind).unwrap(),
            due_ms: DAY,
        })
    };
    let (outcome, _) = chain.submit_one(&alice_key, define_type.clone());
    assert!(rejected(RejectCode::MissingRole)(&outcome), "{outcome:?}");
    let cases: Vec<(&str, Action, RejectCode)> = vec![
        (
            "a type not defined yet",
            service(fee(500, "application_fee"), &boat, DAY),
            RejectCode::UnknownCredentialType,
        ),
        (
            "a citizen defining",
            service(None, &CredentialType::new("driver_licence").unwrap(), DAY),
            RejectCode::MissingRole,
        ),
    ];
    for (case, action, code) in cases {
        let signer = if case.starts_with("a citizen") {
            &alice_key
        } else {
            &transport
        };
        let (outcome, _) = chain.submit_one(signer, action);
        assert!(rejected(code)(&outcome), "{case}: {outcome:?}");
    }
    chain.applied(&transport, define_type);
    let cases: Vec<(&str, Action, RejectCode)> = vec![
        (
            "a zero fee",
            service(fee(0, "application_fee"), &boat, DAY),
            RejectCode::BadTerms,
        ),
        (
            "an unknown fee kind",
            service(fee(500, "boat_fee"), &boat, DAY),
            RejectCode::UnknownKind,
        ),
        (
            "no validity",
            service(fee(500, "application_fee"), &boat, 0),
            RejectCode::BadTerms,
        ),
    ];
    for (case, action, code) in cases {
        let (outcome, _) = chain.submit_one(&transport, action);
        assert!(rejected(code)(&outcome), "{case}: {outcome:?}");
    }
    chain.applied(&transport, service(fee(500, "application_fee"), &boat, DAY));
    let (harbour_key, _) = citizen(8);
    let master = Action::Governance(GovernanceOp::SetMember {
        org: org("transport"),
        member: harbour_key.public_key(),
        roles: role("harbour.master"),
    });
    chain.applied(&transport, master);
    let submit = Action::Application(ApplicationOp::Submit {
        org: org("transport"),
        service: ServiceName::new("boat_licence").unwrap(),
        fields: Fields::default(),
        documents: documents(&["sailing_test"]),
    });
    let id = application_id(&chain.applied(&alice_key, submit));
    // The admin lacks the harbour master's role; the harbour master has it.
    let (outcome, _) = chain.submit_one(&transport, approve_plain(id));
    assert!(rejected(RejectCode::MissingRole)(&outcome), "{outcome:?}");
    let (outcome, _) = chain.submit_one(&harbour_key, approve_plain(id));
    assert!(rejected(RejectCode::FeeUnpaid)(&outcome), "{outcome:?}");
    // A new issuer key: the old one stays, for credentials it signed.
    let rotate = credential_op(CredentialOp::SetIssuerKey {
        org: org("transport"),
        key: harbour_key.public_key(),
    });
    chain.applied(&transport, rotate);
    let keys: IssuerKeys = chain.load(&StateKey::IssuerKeys(org("transport"))).unwrap();
    assert_eq!(keys.current(), Some(&harbour_key.public_key()));
    assert_eq!(keys.at(0), Some(&transport.public_key()));
}
