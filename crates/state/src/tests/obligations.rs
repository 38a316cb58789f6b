//! Obligations through the state machine: the lifecycle, every refusal,
//! bulk issuance, and the books reconciled with the ledger.

use super::*;
use crate::audit::audit_obligations;
use cityledger_types::KindName;
use cityledger_types::genesis::{ROLE_OBLIGATIONS_ISSUE, ROLE_OBLIGATIONS_WAIVE};
use cityledger_types::limits::CHARGES_PER_ISSUE_MAX;
use cityledger_types::names::ReferenceKey;
use cityledger_types::obligation::{
    AppealDecision, Charge, Charges, Issuance, KindRoles, ObligationOp, ObligationRecord,
    ObligationStatus, ObligationTotals, PenaltyRule, Reason, Reference, ReferenceField,
    ReferenceValue, obligation_id,
};

const DAY: u64 = 86_400_000;
/// Index of the transport agency's admin in `Chain::admins`.
const TRANSPORT: usize = 1;
/// Index of the education agency's admin.
const EDUCATION: usize = 5;

fn transport_org() -> OrgName {
    OrgName::new("transport").unwrap()
}

fn transport_main() -> Address {
    Address::parse_or_alias("transport:main").unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::new(text).unwrap()
}

fn plate(value: &str) -> Reference {
    Reference::new(vec![ReferenceField {
        key: ReferenceKey::new("plate").unwrap(),
        value: ReferenceValue::new(value).unwrap(),
    }])
    .unwrap()
}

fn charge(payer: Address, amount: u128) -> Charge {
    Charge {
        payer,
        amount: Amount(amount),
        reference: plate("AB-123-CD"),
        evidence: None,
    }
}

fn issuance(kind: &str, due_at_ms: u64, penalty: PenaltyRule, charges: Vec<Charge>) -> Action {
    Action::Obligation(ObligationOp::Issue(Issuance {
        org: transport_org(),
        kind: KindName::new(kind).unwrap(),
        payee: transport_main(),
        currency: city(),
        due_at_ms,
        penalty,
        charges: Charges(charges),
    }))
}

fn pay(obligation: Digest, from: Address, amount: u128) -> Action {
    Action::Obligation(ObligationOp::Pay {
        obligation,
        from,
        currency: city(),
        amount: Amount(amount),
    })
}

fn late_fee() -> PenaltyRule {
    // 1 % a day, at most 10 % of a 100.00 fine.
    PenaltyRule::BasisPoints {
        bps_per_period: 100,
        period_ms: DAY,
        cap: Amount(1_000),
    }
}

impl Chain {
    fn obligation(&self, id: &Digest) -> ObligationRecord {
        let bytes = self
            .state
            .0
            .get(&StateKey::Obligation(*id).to_bytes())
            .expect("obligation exists");
        borsh::from_slice(bytes).unwrap()
    }

    fn book(&self) -> ObligationTotals {
        let books = audit_obligations(
            self.state
                .0
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
        )
        .expect("the obligation books reconcile");
        books
            .get(&(transport_org(), city()))
            .copied()
            .unwrap_or_default()
    }

    fn fund(&mut self, to: Address, amount: u128) {
        let treasury = self.treasury().clone();
        let tx = self.tx(&treasury, transfer(issuance_account(), to, amount));
        assert_eq!(self.block(&[tx]), vec![TxOutcome::Applied]);
    }

    /// Issues one traffic fine of `amount` to `payer`, due in `due_in_ms`.
    fn fine(&mut self, payer: Address, amount: u128, due_in_ms: u64) -> Digest {
        let transport = self.admins[TRANSPORT].clone();
        let due = self.time_ms + 1000 + due_in_ms;
        let tx = self.tx(
            &transport,
            issuance("traffic_fine", due, late_fee(), vec![charge(payer, amount)]),
        );
        assert_eq!(
            self.block(std::slice::from_ref(&tx)),
            vec![TxOutcome::Applied]
        );
        obligation_id(&tx.hash(), 0)
    }

    fn run(&mut self, signer: &SecretKey, action: Action) -> TxOutcome {
        let tx = self.tx(signer, action);
        self.block(&[tx]).remove(0)
    }

    fn advance(&mut self, ms: u64) {
        self.time_ms += ms;
    }
}

fn issuance_account() -> Address {
    super::issuance()
}

#[test]
fn fine_appealed_upheld_then_paid_late_with_its_penalty() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    chain.fund(alice, 50_000);
    let id = chain.fine(alice, 10_000, DAY);
    assert_eq!(chain.obligation(&id).status, ObligationStatus::Open);
    let appeal = Action::Obligation(ObligationOp::Appeal {
        obligation: id,
        reason: reason("the camera misread my plate"),
    });
    assert_eq!(chain.run(&alice_key, appeal.clone()), TxOutcome::Applied);
    assert_eq!(chain.obligation(&id).status, ObligationStatus::Appealed);
    assert!(rejected(RejectCode::UnderAppeal)(
        &chain.run(&alice_key, pay(id, alice, 100))
    ));
    let transport = chain.admins[TRANSPORT].clone();
    let new_due = chain.time_ms + 2 * DAY;
    let uphold = Action::Obligation(ObligationOp::Decide {
        obligation: id,
        decision: AppealDecision::Upheld { due_at_ms: new_due },
        reason: reason("photo shows the plate clearly"),
    });
    assert_eq!(chain.run(&transport, uphold), TxOutcome::Applied);
    let upheld = chain.obligation(&id);
    assert_eq!(
        (upheld.status, upheld.due_at_ms),
        (ObligationStatus::Open, new_due)
    );
    assert!(rejected(RejectCode::AlreadyAppealed)(
        &chain.run(&alice_key, appeal)
    ));
    // Three days and a few seconds after the new due time: four started
    // days, a 4 % late fee.
    chain.advance(5 * DAY);
    let owed = chain.obligation(&id).owed_at(chain.time_ms + 1000);
    assert_eq!(owed, Amount(10_400));
    assert!(rejected(RejectCode::Overpayment)(
        &chain.run(&alice_key, pay(id, alice, 10_401))
    ));
    assert_eq!(
        chain.run(&alice_key, pay(id, alice, 400)),
        TxOutcome::Applied
    );
    let partial = chain.obligation(&id);
    assert_eq!(
        (partial.status, partial.paid, partial.penalty_assessed),
        (ObligationStatus::PartiallyPaid, Amount(400), Amount(400))
    );
    assert_eq!(
        chain.run(&alice_key, pay(id, alice, 10_000)),
        TxOutcome::Applied
    );
    let paid = chain.obligation(&id);
    assert_eq!(
        (paid.status, paid.paid),
        (ObligationStatus::Paid, Amount(10_400))
    );
    assert!(rejected(RejectCode::ObligationSettled)(
        &chain.run(&alice_key, pay(id, alice, 1))
    ));
    assert_eq!(chain.balance(&alice).posted(), 50_000 - 10_400);
    assert_eq!(chain.balance(&transport_main()).posted(), 10_400);
    let book = chain.book();
    assert_eq!(
        (
            book.issued,
            book.penalties,
            book.collected,
            book.outstanding()
        ),
        (10_000, 400, 10_400, 0)
    );
}

#[test]
fn anyone_may_pay_and_the_obligation_stays_the_payers() {
    let mut chain = Chain::new();
    let (_, student) = citizen(1);
    let (parent_key, parent) = citizen(2);
    chain.fund(parent, 900_000);
    let education = chain.admins[EDUCATION].clone();
    let tuition = Action::Obligation(ObligationOp::Issue(Issuance {
        org: OrgName::new("education").unwrap(),
        kind: KindName::new("tuition_fee").unwrap(),
        payee: Address::parse_or_alias("education:main").unwrap(),
        currency: city(),
        due_at_ms: chain.time_ms + 30 * DAY,
        penalty: PenaltyRule::None,
        charges: Charges(vec![charge(student, 450_000)]),
    }));
    let tx = chain.tx(&education, tuition);
    assert_eq!(
        chain.block(std::slice::from_ref(&tx)),
        vec![TxOutcome::Applied]
    );
    let id = obligation_id(&tx.hash(), 0);
    assert_eq!(
        chain.run(&parent_key, pay(id, parent, 450_000)),
        TxOutcome::Applied
    );
    let record = chain.obligation(&id);
    assert_eq!(
        (record.payer, record.status),
        (student, ObligationStatus::Paid)
    );
    assert_eq!(chain.balance(&parent).posted(), 450_000);
    // Paying from someone else's account is a ledger refusal, and changes
    // nothing on the obligation either.
    let (stranger_key, _) = citizen(3);
    let id = chain.fine(student, 100, DAY);
    assert!(rejected(RejectCode::MissingRole)(
        &chain.run(&stranger_key, pay(id, parent, 100))
    ));
    assert_eq!(chain.obligation(&id).paid, Amount::ZERO);
}

#[test]
fn every_refusal_has_its_code_and_changes_nothing() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (bob_key, bob) = citizen(2);
    chain.fund(alice, 100_000);
    chain.fund(bob, 100_000);
    let transport = chain.admins[TRANSPORT].clone();
    // A clerk who may issue, but neither waive nor decide.
    let (clerk_key, _) = citizen(9);
    let clerk_roles = Action::Governance(GovernanceOp::SetMember {
        org: transport_org(),
        member: clerk_key.public_key(),
        roles: Roles(vec![RoleName::new(ROLE_OBLIGATIONS_ISSUE).unwrap()]),
    });
    assert_eq!(chain.run(&transport, clerk_roles), TxOutcome::Applied);

    let open = chain.fine(alice, 1_000, DAY);
    let cancelled = chain.fine(alice, 1_000, DAY);
    let waived = chain.fine(alice, 1_000, DAY);
    let cancel = Action::Obligation(ObligationOp::Cancel {
        obligation: cancelled,
        reason: reason("issued in error"),
    });
    assert_eq!(chain.run(&clerk_key, cancel), TxOutcome::Applied);
    let waive = |obligation| {
        Action::Obligation(ObligationOp::Waive {
            obligation,
            reason: reason("first offence"),
        })
    };
    assert_eq!(chain.run(&transport, waive(waived)), TxOutcome::Applied);
    let appeal = |obligation| {
        Action::Obligation(ObligationOp::Appeal {
            obligation,
            reason: reason("not me"),
        })
    };
    let decide = |obligation| {
        Action::Obligation(ObligationOp::Decide {
            obligation,
            decision: AppealDecision::Cancelled,
            reason: reason("accepted"),
        })
    };
    let wrong_currency = Action::Obligation(ObligationOp::Pay {
        obligation: open,
        from: alice,
        currency: CurrencyCode::new("EUR").unwrap(),
        amount: Amount(1_000),
    });
    let book_before = chain.book();
    let cases: Vec<(&str, SecretKey, Action, RejectCode)> = vec![
        (
            "overpaying",
            alice_key.clone(),
            pay(open, alice, 1_001),
            RejectCode::Overpayment,
        ),
        (
            "paying a cancelled one",
            alice_key.clone(),
            pay(cancelled, alice, 1),
            RejectCode::ObligationCancelled,
        ),
        (
            "paying a waived one",
            alice_key.clone(),
            pay(waived, alice, 1),
            RejectCode::ObligationWaived,
        ),
        (
            "the wrong currency",
            alice_key.clone(),
            wrong_currency,
            RejectCode::WrongCurrency,
        ),
        (
            "paying zero",
            alice_key.clone(),
            pay(open, alice, 0),
            RejectCode::ZeroAmount,
        ),
        (
            "waiving without the role",
            clerk_key.clone(),
            waive(open),
            RejectCode::MissingRole,
        ),
        (
            "waiving as a citizen",
            alice_key.clone(),
            waive(open),
            RejectCode::MissingRole,
        ),
        (
            "appealing someone else's",
            bob_key.clone(),
            appeal(open),
            RejectCode::NotPayer,
        ),
        (
            "deciding without an appeal",
            transport.clone(),
            decide(open),
            RejectCode::NotAppealed,
        ),
        (
            "an unknown obligation",
            alice_key.clone(),
            pay(Digest([9; 32]), alice, 1),
            RejectCode::UnknownObligation,
        ),
        (
            "paying from another's account",
            alice_key.clone(),
            pay(open, bob, 1_000),
            RejectCode::MissingRole,
        ),
    ];
    for (case, signer, action, code) in cases {
        let outcome = chain.run(&signer, action);
        assert!(rejected(code)(&outcome), "{case}: {outcome:?}");
    }
    // Deciding without the role, and appealing twice.
    assert_eq!(chain.run(&alice_key, appeal(open)), TxOutcome::Applied);
    assert!(rejected(RejectCode::MissingRole)(
        &chain.run(&clerk_key, decide(open))
    ));
    assert!(rejected(RejectCode::AlreadyAppealed)(
        &chain.run(&alice_key, appeal(open))
    ));
    let record = chain.obligation(&open);
    assert_eq!(
        (record.status, record.paid),
        (ObligationStatus::Appealed, Amount::ZERO)
    );
    assert_eq!(chain.book(), book_before, "refusals booked nothing");
    assert_eq!(chain.balance(&alice).posted(), 100_000);
}

#[test]
fn a_payment_without_funds_moves_nothing_and_settles_nothing() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    chain.fund(alice, 500);
    let id = chain.fine(alice, 1_000, DAY);
    assert!(rejected(RejectCode::InsufficientFunds)(
        &chain.run(&alice_key, pay(id, alice, 1_000))
    ));
    let record = chain.obligation(&id);
    assert_eq!(
        (record.status, record.paid),
        (ObligationStatus::Open, Amount::ZERO)
    );
    assert_eq!(chain.balance(&alice).posted(), 500);
    assert_eq!(chain.book().collected, 0);
}

#[test]
fn issuance_terms_are_checked() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let transport = chain.admins[TRANSPORT].clone();
    let health = chain.admins[2].clone();
    let now = chain.time_ms + 1000;
    let with_payee = |payee: &str| {
        let Action::Obligation(ObligationOp::Issue(mut issuance)) =
            issuance("toll", now + DAY, PenaltyRule::None, vec![charge(alice, 5)])
        else {
            unreachable!()
        };
        issuance.payee = Address::parse_or_alias(payee).unwrap();
        Action::Obligation(ObligationOp::Issue(issuance))
    };
    let zero_fee = PenaltyRule::Fixed {
        amount: Amount::ZERO,
    };
    let cases: Vec<(&str, SecretKey, Action, RejectCode)> = vec![
        (
            "due in the past",
            transport.clone(),
            issuance("toll", now - 1, PenaltyRule::None, vec![charge(alice, 5)]),
            RejectCode::BadTerms,
        ),
        (
            "a zero late fee",
            transport.clone(),
            issuance("toll", now + DAY, zero_fee, vec![charge(alice, 5)]),
            RejectCode::BadTerms,
        ),
        (
            "no charges",
            transport.clone(),
            issuance("toll", now + DAY, PenaltyRule::None, vec![]),
            RejectCode::BadTerms,
        ),
        (
            "a zero charge",
            transport.clone(),
            issuance(
                "toll",
                now + DAY,
                PenaltyRule::None,
                vec![charge(alice, 5), charge(alice, 0)],
            ),
            RejectCode::ZeroAmount,
        ),
        (
            "an unknown kind",
            transport.clone(),
            issuance(
                "parking",
                now + DAY,
                PenaltyRule::None,
                vec![charge(alice, 5)],
            ),
            RejectCode::UnknownKind,
        ),
        (
            "another agency's member",
            health,
            issuance("toll", now + DAY, PenaltyRule::None, vec![charge(alice, 5)]),
            RejectCode::MissingRole,
        ),
        (
            "another agency's payee",
            transport.clone(),
            with_payee("health:main"),
            RejectCode::BadTerms,
        ),
        (
            "a key account as payee",
            transport.clone(),
            with_payee(&alice.to_string()),
            RejectCode::BadTerms,
        ),
    ];
    for (case, signer, action, code) in cases {
        let outcome = chain.run(&signer, action);
        assert!(rejected(code)(&outcome), "{case}: {outcome:?}");
    }
    assert_eq!(chain.book(), ObligationTotals::default());
}

#[test]
fn agencies_define_kinds_and_roles_as_data() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let transport = chain.admins[TRANSPORT].clone();
    let (clerk_key, _) = citizen(9);
    let parking = KindName::new("parking").unwrap();
    let define = |issue: &str| {
        Action::Obligation(ObligationOp::DefineKind {
            org: transport_org(),
            kind: parking.clone(),
            roles: KindRoles {
                issue: Roles(vec![RoleName::new(issue).unwrap()]),
                waive: Roles(vec![RoleName::new(ROLE_OBLIGATIONS_WAIVE).unwrap()]),
                decide: Roles(Vec::new()),
            },
        })
    };
    // Only an admin defines kinds.
    assert!(rejected(RejectCode::MissingRole)(
        &chain.run(&clerk_key, define("parking.warden"))
    ));
    assert_eq!(
        chain.run(&transport, define("parking.warden")),
        TxOutcome::Applied
    );
    let warden = Action::Governance(GovernanceOp::SetMember {
        org: transport_org(),
        member: clerk_key.public_key(),
        roles: Roles(vec![RoleName::new("parking.warden").unwrap()]),
    });
    assert_eq!(chain.run(&transport, warden), TxOutcome::Applied);
    let now = chain.time_ms + 1000;
    let ticket = issuance(
        "parking",
        now + DAY,
        PenaltyRule::None,
        vec![charge(alice, 40)],
    );
    // The admin lacks the warden role; the warden has it.
    assert!(rejected(RejectCode::MissingRole)(
        &chain.run(&transport, ticket.clone())
    ));
    assert_eq!(chain.run(&clerk_key, ticket), TxOutcome::Applied);
}

#[test]
fn a_toll_batch_issues_ten_thousand_obligations_in_one_transaction() {
    let mut chain = Chain::new();
    let transport = chain.admins[TRANSPORT].clone();
    let drivers: Vec<Address> = (0..CHARGES_PER_ISSUE_MAX)
        .map(|i| Address::of_key(&SecretKey::from_seed(seed(i)).public_key()))
        .collect();
    let charges: Vec<Charge> = drivers
        .iter()
        .enumerate()
        .map(|(i, driver)| charge(*driver, 250 + (i % 7) as u128))
        .collect();
    let expected_total: u128 = charges.iter().map(|c| c.amount.0).sum();
    let due = chain.time_ms + 30 * DAY;
    let tx = chain.tx(
        &transport,
        issuance("toll", due, PenaltyRule::None, charges),
    );
    assert!(tx.to_bytes().len() <= cityledger_types::limits::TX_BYTES_MAX);
    let decoded = SignedTx::from_bytes(&tx.to_bytes()).expect("a full batch decodes");
    assert_eq!(decoded, tx);
    assert_eq!(
        chain.block(std::slice::from_ref(&tx)),
        vec![TxOutcome::Applied]
    );
    for index in [0, 1, 4_999, CHARGES_PER_ISSUE_MAX - 1] {
        let record = chain.obligation(&obligation_id(&tx.hash(), index as u32));
        assert_eq!(record.payer, drivers[index]);
        assert_eq!(record.status, ObligationStatus::Open);
    }
    assert_eq!(chain.book().issued, expected_total);
    // One more charge than the limit does not decode.
    let mut too_many = tx.clone();
    let Action::Obligation(ObligationOp::Issue(issuance)) = &mut too_many.body.action else {
        unreachable!()
    };
    issuance.charges.0.push(charge(drivers[0], 1));
    assert!(SignedTx::from_bytes(&too_many.to_bytes()).is_err());
}

#[test]
fn a_block_never_creates_more_obligations_than_its_bound() {
    use crate::execute::{Inadmissible, Mode};
    use cityledger_types::limits::CHARGES_PER_BLOCK_MAX;
    let mut chain = Chain::new();
    let transport = chain.admins[TRANSPORT].clone();
    let (_, driver) = citizen(1);
    let due = chain.time_ms + DAY;
    let batches = CHARGES_PER_BLOCK_MAX / CHARGES_PER_ISSUE_MAX + 1;
    let txs: Vec<SignedTx> = (0..batches)
        .map(|_| {
            let charges = vec![charge(driver, 1); CHARGES_PER_ISSUE_MAX];
            chain.tx(
                &transport,
                issuance("toll", due, PenaltyRule::None, charges),
            )
        })
        .collect();
    let env = BlockEnv {
        timestamp_ms: chain.time_ms + 1000,
        ..chain.env()
    };
    let invalid = execute_block(&chain.state, &env, &txs, Mode::Verify).unwrap_err();
    assert_eq!(invalid.index, batches - 1);
    assert!(matches!(
        invalid.reason,
        Inadmissible::TooManyCharges { .. }
    ));
    let proposed = execute_block(&chain.state, &env, &txs, Mode::Propose).unwrap();
    assert_eq!(proposed.included.len(), batches - 1);
    assert_eq!(proposed.dropped.len(), 1);
}

fn seed(index: usize) -> [u8; 32] {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(index as u64).to_be_bytes());
    seed
}

#[test]
fn payments_into_one_account_in_one_block_all_apply_in_order() {
    let mut chain = Chain::new();
    let citizens: Vec<(SecretKey, Address)> = (0..200)
        .map(|i| {
            let key = SecretKey::from_seed(seed(i));
            let address = Address::of_key(&key.public_key());
            (key, address)
        })
        .collect();
    let treasury = chain.treasury().clone();
    let transport = chain.admins[TRANSPORT].clone();
    let funding: Vec<SignedTx> = citizens
        .iter()
        .map(|(_, a)| chain.tx(&treasury, transfer(issuance_account(), *a, 1_000)))
        .collect();
    let due = chain.time_ms + DAY;
    let fines = chain.tx(
        &transport,
        issuance(
            "traffic_fine",
            due,
            PenaltyRule::None,
            citizens.iter().map(|(_, a)| charge(*a, 600)).collect(),
        ),
    );
    let mut setup = funding;
    setup.push(fines.clone());
    assert!(chain.block(&setup).iter().all(TxOutcome::is_applied));
    let payments: Vec<SignedTx> = citizens
        .iter()
        .enumerate()
        .map(|(i, (key, address))| {
            chain.tx(
                key,
                pay(obligation_id(&fines.hash(), i as u32), *address, 600),
            )
        })
        .collect();
    let outcomes = chain.block(&payments);
    assert!(
        outcomes.iter().all(TxOutcome::is_applied),
        "no payment lost to contention"
    );
    assert_eq!(chain.balance(&transport_main()).posted(), 200 * 600);
    assert_eq!(chain.book().collected, 200 * 600);
}

#[derive(Clone, Debug)]
enum ObOp {
    Issue(usize, u128, u64),
    Pay(usize, usize, u128),
    ThirdPartyPay(usize, usize, u128),
    Waive(usize),
    Cancel(usize),
    Appeal(usize, usize),
    Uphold(usize, u64),
    Dismiss(usize),
    Tick(u64),
}

fn ob_op() -> impl Strategy<Value = ObOp> {
    prop_oneof![
        (0..4usize, 1..5_000u128, 0..5 * DAY).prop_map(|(p, n, d)| ObOp::Issue(p, n, d)),
        (0..4usize, 0..32usize, 1..6_000u128).prop_map(|(p, o, n)| ObOp::Pay(p, o, n)),
        (0..4usize, 0..32usize, 1..6_000u128).prop_map(|(p, o, n)| ObOp::ThirdPartyPay(p, o, n)),
        (0..32usize).prop_map(ObOp::Waive),
        (0..32usize).prop_map(ObOp::Cancel),
        (0..4usize, 0..32usize).prop_map(|(p, o)| ObOp::Appeal(p, o)),
        (0..32usize, 0..5 * DAY).prop_map(|(o, d)| ObOp::Uphold(o, d)),
        (0..32usize).prop_map(ObOp::Dismiss),
        (0..3 * DAY).prop_map(ObOp::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Along any path: money is conserved (checked in `block`); no
    /// obligation is ever paid more than its amount plus penalties; the
    /// books reconcile with the obligations (audit_obligations); and what
    /// the books say was collected is exactly what reached the payee account.
    #[test]
    fn obligations_conserve_money_and_the_books_equal_the_ledger(ops in proptest::collection::vec(ob_op(), 1..50)) {
        let mut chain = Chain::new();
        let citizens: Vec<(SecretKey, Address)> = (1..=4).map(citizen).collect();
        for (_, address) in &citizens {
            chain.fund(*address, 40_000);
        }
        let transport = chain.admins[TRANSPORT].clone();
        let mut ids: Vec<Digest> = Vec::new();
        let mut block = Vec::new();
        for op in ops {
            let pick = |ids: &[Digest], i: usize| ids.get(i % ids.len().max(1)).copied();
            let action = match op {
                ObOp::Issue(p, n, d) => {
                    let due = chain.time_ms + 1000 + d;
                    let tx = chain.tx(&transport, issuance("traffic_fine", due, late_fee(), vec![charge(citizens[p].1, n)]));
                    ids.push(obligation_id(&tx.hash(), 0));
                    block.push(tx);
                    None
                }
                ObOp::Pay(p, o, n) => pick(&ids, o).map(|id| (citizens[p].0.clone(), pay(id, citizens[p].1, n))),
                ObOp::ThirdPartyPay(p, o, n) => pick(&ids, o).map(|id| (citizens[(p + 1) % 4].0.clone(), pay(id, citizens[(p + 1) % 4].1, n))),
                ObOp::Waive(o) => pick(&ids, o).map(|id| (transport.clone(), Action::Obligation(ObligationOp::Waive { obligation: id, reason: reason("w") }))),
                ObOp::Cancel(o) => pick(&ids, o).map(|id| (transport.clone(), Action::Obligation(ObligationOp::Cancel { obligation: id, reason: reason("c") }))),
                ObOp::Appeal(p, o) => pick(&ids, o).map(|id| (citizens[p].0.clone(), Action::Obligation(ObligationOp::Appeal { obligation: id, reason: reason("a") }))),
                ObOp::Uphold(o, d) => {
                    let due = chain.time_ms + 1000 + d;
                    pick(&ids, o).map(|id| (transport.clone(), Action::Obligation(ObligationOp::Decide { obligation: id, decision: AppealDecision::Upheld { due_at_ms: due }, reason: reason("u") })))
                }
                ObOp::Dismiss(o) => pick(&ids, o).map(|id| (transport.clone(), Action::Obligation(ObligationOp::Decide { obligation: id, decision: AppealDecision::Cancelled, reason: reason("d") }))),
                ObOp::Tick(ms) => {
                    let txs = std::mem::take(&mut block);
                    chain.block(&txs);
                    chain.advance(ms);
                    None
                }
            };
            if let Some((signer, action)) = action {
                let tx = chain.tx(&signer, action);
                block.push(tx);
            }
        }
        chain.block(&block);
        for id in &ids {
            let Some(bytes) = chain.state.0.get(&StateKey::Obligation(*id).to_bytes()) else { continue };
            let record: ObligationRecord = borsh::from_slice(bytes).unwrap();
            prop_assert!(record.paid.0 <= record.amount.0 + record.penalty_assessed.0, "overpaid: {record:?}");
            if record.status == ObligationStatus::Paid {
                prop_assert_eq!(record.paid.0, record.amount.0 + record.penalty_assessed.0);
            }
        }
        let book = chain.book();
        let collected_by_ledger = chain.balance(&transport_main()).posted();
        prop_assert_eq!(book.collected as i128, collected_by_ledger);
    }
}
