//! Behaviour of the state machine: table-driven cases and properties.

use crate::audit::audit_conservation;
use crate::execute::{BlockEnv, Inadmissible, Mode, execute_block};
use crate::genesis::{dev_genesis, genesis_writes};
use crate::view::MemoryState;
use cityledger_types::genesis::GenesisValidator;
use cityledger_types::records::{
    BalanceRecord, ChainRecord, PendingRecord, PendingStatus, StateKey,
};
use cityledger_types::tx::{
    Action, GovernanceOp, LedgerOp, LinkedOps, Memo, Roles, TransferOrder, TxBody, pending_id,
};
use cityledger_types::{
    Address, Amount, ChainId, ClientTxId, CurrencyCode, Digest, Height, OrgName, RejectCode,
    RoleName, SecretKey, SignedTx, TxOutcome,
};
use proptest::prelude::*;

const T0: u64 = 1_800_000_000_000;

struct Chain {
    state: MemoryState,
    height: u64,
    time_ms: u64,
    admins: Vec<SecretKey>,
    nonce: u64,
}

fn chain_id() -> ChainId {
    ChainId::new("test-chain").unwrap()
}

fn city() -> CurrencyCode {
    CurrencyCode::new("CITY").unwrap()
}

fn issuance() -> Address {
    Address::parse_or_alias("treasury:issuance").unwrap()
}

impl Chain {
    fn new() -> Chain {
        let admins: Vec<SecretKey> = (0..crate::genesis::DEV_ORGS.len() as u8)
            .map(|i| SecretKey::from_seed([100 + i; 32]))
            .collect();
        let publics: [_; crate::genesis::DEV_ORGS.len()] =
            std::array::from_fn(|i| admins[i].public_key());
        let validator = GenesisValidator {
            org: OrgName::new("treasury").unwrap(),
            key: publics[0],
        };
        let genesis = dev_genesis(chain_id(), T0, &publics, vec![validator]);
        let mut state = MemoryState::default();
        state.apply(&genesis_writes(&genesis).unwrap());
        Chain {
            state,
            height: 0,
            time_ms: T0,
            admins,
            nonce: 0,
        }
    }

    fn treasury(&self) -> &SecretKey {
        &self.admins[0]
    }

    fn tx(&mut self, signer: &SecretKey, action: Action) -> SignedTx {
        self.nonce += 1;
        TxBody {
            chain_id: chain_id(),
            signer: signer.public_key(),
            id: ClientTxId::new(format!("tx-{}", self.nonce)).unwrap(),
            expires_at_ms: self.time_ms + 60_000,
            action,
        }
        .sign(signer)
    }

    fn env(&self) -> BlockEnv {
        BlockEnv {
            chain_id: chain_id(),
            height: Height(self.height + 1),
            timestamp_ms: self.time_ms,
            // The test chain has no headers: any id per height will do.
            parent_id: Digest::of(&self.height.to_be_bytes()),
        }
    }

    /// Executes one block (verify mode) and applies it; returns outcomes.
    fn block(&mut self, txs: &[SignedTx]) -> Vec<TxOutcome> {
        self.time_ms += 1000;
        let executed =
            execute_block(&self.state, &self.env(), txs, Mode::Verify).expect("valid block");
        self.state.apply(&executed.writes);
        self.height += 1;
        audit_conservation(
            self.state
                .0
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
        )
        .expect("money is conserved");
        executed.outcomes
    }

    fn balance(&self, address: &Address) -> BalanceRecord {
        self.state
            .0
            .get(&StateKey::Balance(*address, city()).to_bytes())
            .map(|bytes| borsh::from_slice(bytes).unwrap())
            .unwrap_or_default()
    }
}

fn order(from: Address, to: Address, amount: u128) -> TransferOrder {
    TransferOrder {
        from,
        to,
        currency: city(),
        amount: Amount(amount),
        memo: Memo::new("").unwrap(),
    }
}

fn transfer(from: Address, to: Address, amount: u128) -> Action {
    Action::Ledger(LedgerOp::Transfer(order(from, to, amount)))
}

fn rejected(code: RejectCode) -> impl Fn(&TxOutcome) -> bool {
    move |outcome| matches!(outcome, TxOutcome::Rejected { code: c, .. } if *c == code)
}

fn citizen(seed: u8) -> (SecretKey, Address) {
    let key = SecretKey::from_seed([seed; 32]);
    let address = Address::of_key(&key.public_key());
    (key, address)
}

#[test]
fn issue_and_transfer() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (_, bob) = citizen(2);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 10_000));
    let pay = chain.tx(&alice_key, transfer(alice, bob, 1_250));
    assert_eq!(
        chain.block(&[fund, pay]),
        vec![TxOutcome::Applied, TxOutcome::Applied]
    );
    assert_eq!(chain.balance(&alice).posted(), 8_750);
    assert_eq!(chain.balance(&bob).posted(), 1_250);
    assert_eq!(chain.balance(&issuance()).posted(), -10_000);
}

#[test]
fn rejections_change_nothing() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (bob_key, bob) = citizen(2);
    let treasury = chain.treasury().clone();
    let transport_admin = chain.admins[1].clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 500));
    chain.block(&[fund]);
    let before = chain.state.0.clone();
    let missing_org_account = Address::parse_or_alias("treasury:nope").unwrap();
    let cases: Vec<(SecretKey, Action, RejectCode)> = vec![
        (
            alice_key.clone(),
            transfer(alice, bob, 501),
            RejectCode::InsufficientFunds,
        ),
        (
            alice_key.clone(),
            transfer(alice, missing_org_account, 1),
            RejectCode::UnknownAccount,
        ),
        (
            bob_key.clone(),
            transfer(alice, bob, 1),
            RejectCode::MissingRole,
        ),
        (
            transport_admin.clone(),
            transfer(issuance(), bob, 1),
            RejectCode::MissingRole,
        ),
        (
            alice_key.clone(),
            transfer(alice, bob, 0),
            RejectCode::ZeroAmount,
        ),
        (
            alice_key.clone(),
            transfer(alice, alice, 1),
            RejectCode::SameAccount,
        ),
        (
            alice_key.clone(),
            Action::Ledger(LedgerOp::Transfer(TransferOrder {
                currency: CurrencyCode::new("EUR").unwrap(),
                ..order(alice, bob, 1)
            })),
            RejectCode::UnknownCurrency,
        ),
        (
            alice_key.clone(),
            Action::Governance(GovernanceOp::RemoveMember {
                org: OrgName::new("treasury").unwrap(),
                member: treasury.public_key(),
            }),
            RejectCode::MissingRole,
        ),
        (
            treasury.clone(),
            Action::Governance(GovernanceOp::RemoveMember {
                org: OrgName::new("treasury").unwrap(),
                member: treasury.public_key(),
            }),
            RejectCode::LastAdmin,
        ),
    ];
    for (signer, action, code) in cases {
        let tx = chain.tx(&signer, action.clone());
        let outcomes = chain.block(&[tx]);
        assert!(rejected(code)(&outcomes[0]), "{action:?}: {outcomes:?}");
        // Only the consumed id and chain bookkeeping (height, history) may
        // change.
        let changed: Vec<StateKey> = chain
            .state
            .0
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| borsh::from_slice::<StateKey>(k).unwrap())
            .filter(|k| !is_bookkeeping(k))
            .collect();
        assert!(changed.is_empty(), "{action:?} changed {changed:?}");
    }
}

/// Every block appends its parent's id, so the state after block h holds
/// the tree of the h ids before it, whatever the block contains.
#[test]
fn every_block_commits_to_the_ids_before_it() {
    use cityledger_types::history::{self, HistoryRecord};
    use cityledger_types::merkle;
    let mut chain = Chain::new();
    let mut parents = Vec::new();
    for _ in 0..5 {
        parents.push(chain.env().parent_id);
        chain.block(&[]);
        let record: HistoryRecord = chain
            .state
            .0
            .get(&StateKey::History.to_bytes())
            .map(|bytes| borsh::from_slice(bytes).unwrap())
            .expect("every executed block writes the history");
        let leaves: Vec<Digest> = parents.iter().map(history::leaf).collect();
        assert_eq!(record.leaf_count(), chain.height);
        assert_eq!(record.root(), merkle::root(&leaves));
    }
}

#[test]
#[should_panic(expected = "history must hold every block before the parent")]
fn a_block_at_the_wrong_height_for_its_parent_state_halts() {
    let chain = Chain::new();
    let env = BlockEnv {
        height: Height(7),
        ..chain.env()
    };
    let _ = execute_block(&chain.state, &env, &[], Mode::Verify);
}

#[test]
fn replayed_id_is_inadmissible() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 500));
    chain.block(std::slice::from_ref(&fund));
    chain.time_ms += 1000;
    let env = chain.env();
    let error = execute_block(
        &chain.state,
        &env,
        std::slice::from_ref(&fund),
        Mode::Verify,
    )
    .unwrap_err();
    assert!(
        matches!(error.reason, Inadmissible::DuplicateId { first_tx, .. } if first_tx == fund.hash())
    );
    let proposed = execute_block(&chain.state, &env, &[fund.clone(), fund], Mode::Propose).unwrap();
    assert!(proposed.included.is_empty());
    assert_eq!(proposed.dropped.len(), 2);
    assert_eq!(chain.balance(&alice).posted(), 500, "applied once");
}

/// Keys every included transaction or block changes, whatever its outcome:
/// the consumed id and its expiry schedule, height and history.
fn is_bookkeeping(key: &StateKey) -> bool {
    matches!(key, StateKey::Chain | StateKey::History) || is_id_key(key)
}

fn is_id_key(key: &StateKey) -> bool {
    matches!(
        key,
        StateKey::TxId(..) | StateKey::TxIdExpiryCount(_) | StateKey::TxIdExpiryBatch(..)
    )
}

/// Keys of the state that remember consumed ids.
fn id_keys(chain: &Chain) -> Vec<StateKey> {
    chain
        .state
        .0
        .keys()
        .map(|bytes| borsh::from_slice::<StateKey>(bytes).expect("state keys decode"))
        .filter(is_id_key)
        .collect()
}

fn chain_record(chain: &Chain) -> ChainRecord {
    let bytes = chain
        .state
        .0
        .get(&StateKey::Chain.to_bytes())
        .expect("chain record");
    borsh::from_slice(bytes).unwrap()
}

#[test]
fn an_id_is_forgotten_once_its_transaction_expired() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 500));
    let also = chain.tx(&treasury, transfer(issuance(), alice, 1));
    chain.block(&[fund.clone(), also]);
    assert_eq!(
        id_keys(&chain).len(),
        2 + 2,
        "two ids, one batch and its count"
    );

    // Up to the second of its expiry the id is still remembered.
    chain.time_ms = fund.body.expires_at_ms - 1000;
    chain.block(&[]);
    assert_eq!(id_keys(&chain).len(), 4);

    chain.time_ms = fund.body.expires_at_ms + 1000;
    chain.block(&[]);
    assert_eq!(id_keys(&chain), vec![], "ids, batches and counts are gone");

    chain.time_ms += 1000;
    let error = execute_block(
        &chain.state,
        &chain.env(),
        std::slice::from_ref(&fund),
        Mode::Verify,
    )
    .unwrap_err();
    assert!(
        matches!(error.reason, Inadmissible::Expired { .. }),
        "a replay is still refused"
    );
    chain.time_ms -= 1000;
    let mut again = fund.body.clone();
    again.expires_at_ms = chain.time_ms + 60_000;
    let outcomes = chain.block(&[again.sign(&treasury)]);
    assert_eq!(
        outcomes,
        vec![TxOutcome::Applied],
        "the id is free for a new transaction"
    );
    assert_eq!(chain.balance(&alice).posted(), 1001);
    assert_eq!(id_keys(&chain).len(), 3);
}

#[test]
fn a_chain_halted_for_days_forgets_ids_in_bounded_steps() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 5));
    chain.block(&[fund]);
    let before = chain_record(&chain).tx_ids_swept_until_s;
    chain.time_ms += 3 * 86_400_000;
    chain.block(&[]);
    assert_eq!(chain_record(&chain).tx_ids_swept_until_s, before + 86_400);
    assert_eq!(
        id_keys(&chain),
        vec![],
        "the expired id lay in the first day"
    );
    for _ in 0..3 {
        chain.block(&[]);
    }
    assert_eq!(
        chain_record(&chain).tx_ids_swept_until_s,
        chain.time_ms / 1000 - 1
    );
}

#[test]
fn same_id_twice_in_one_block_is_inadmissible() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 500));
    chain.time_ms += 1000;
    let proposed = execute_block(
        &chain.state,
        &chain.env(),
        &[fund.clone(), fund.clone()],
        Mode::Propose,
    )
    .unwrap();
    assert_eq!(proposed.included, vec![0]);
    let error = execute_block(
        &chain.state,
        &chain.env(),
        &[fund.clone(), fund],
        Mode::Verify,
    )
    .unwrap_err();
    assert_eq!(error.index, 1);
}

#[test]
fn expired_and_foreign_transactions_are_inadmissible() {
    let mut chain = Chain::new();
    let (_, alice) = citizen(1);
    let treasury = chain.treasury().clone();
    let mut expired = chain.tx(&treasury, transfer(issuance(), alice, 5)).body;
    expired.expires_at_ms = chain.time_ms;
    let expired = expired.sign(&treasury);
    let mut foreign = chain.tx(&treasury, transfer(issuance(), alice, 5)).body;
    foreign.chain_id = ChainId::new("other").unwrap();
    let foreign = foreign.sign(&treasury);
    chain.time_ms += 1000;
    let env = chain.env();
    let error = execute_block(&chain.state, &env, &[expired], Mode::Verify).unwrap_err();
    assert!(matches!(error.reason, Inadmissible::Expired { .. }));
    let error = execute_block(&chain.state, &env, &[foreign], Mode::Verify).unwrap_err();
    assert!(matches!(error.reason, Inadmissible::WrongChain { .. }));
}

#[test]
fn two_phase_post_void_and_timeout() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (_, bob) = citizen(2);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 1_000));
    chain.block(&[fund]);
    let create = |amount, timeout_ms| {
        Action::Ledger(LedgerOp::CreatePending {
            order: order(alice, bob, amount),
            timeout_ms,
        })
    };
    let hold_post = chain.tx(&alice_key, create(300, 60_000));
    let hold_void = chain.tx(&alice_key, create(200, 60_000));
    let hold_timeout = chain.tx(&alice_key, create(400, 5_000));
    let too_much = chain.tx(&alice_key, create(101, 60_000));
    let ids: Vec<Digest> = [&hold_post, &hold_void, &hold_timeout]
        .iter()
        .map(|tx| pending_id(&tx.hash(), 0))
        .collect();
    let outcomes = chain.block(&[hold_post, hold_void, hold_timeout, too_much]);
    assert!(outcomes[..3].iter().all(TxOutcome::is_applied));
    assert!(
        rejected(RejectCode::InsufficientFunds)(&outcomes[3]),
        "reserved funds are not available"
    );
    assert_eq!(chain.balance(&alice).available(), Amount(100));

    let post = chain.tx(
        &alice_key,
        Action::Ledger(LedgerOp::PostPending {
            pending: ids[0],
            amount: Some(Amount(250)),
        }),
    );
    let void = chain.tx(
        &alice_key,
        Action::Ledger(LedgerOp::VoidPending { pending: ids[1] }),
    );
    let post_again = chain.tx(
        &alice_key,
        Action::Ledger(LedgerOp::PostPending {
            pending: ids[0],
            amount: None,
        }),
    );
    let outcomes = chain.block(&[post, void, post_again]);
    assert_eq!(&outcomes[..2], &[TxOutcome::Applied, TxOutcome::Applied]);
    assert!(rejected(RejectCode::PendingClosed)(&outcomes[2]));
    assert_eq!(chain.balance(&bob).posted(), 250);
    assert_eq!(chain.balance(&alice).available(), Amount(1_000 - 250 - 400));

    // Five seconds of block time later the last hold is released by itself.
    for _ in 0..5 {
        chain.block(&[]);
    }
    let record: PendingRecord =
        borsh::from_slice(&chain.state.0[&StateKey::Pending(ids[2]).to_bytes()]).unwrap();
    assert_eq!(record.status, PendingStatus::TimedOut);
    assert_eq!(chain.balance(&alice).available(), Amount(750));
    assert_eq!(chain.balance(&alice).debits_pending, 0);
    let late = chain.tx(
        &alice_key,
        Action::Ledger(LedgerOp::PostPending {
            pending: ids[2],
            amount: None,
        }),
    );
    assert!(rejected(RejectCode::PendingClosed)(
        &chain.block(&[late])[0]
    ));
}

#[test]
fn linked_batch_is_all_or_nothing() {
    let mut chain = Chain::new();
    let (alice_key, alice) = citizen(1);
    let (_, bob) = citizen(2);
    let (_, carol) = citizen(3);
    let treasury = chain.treasury().clone();
    let fund = chain.tx(&treasury, transfer(issuance(), alice, 100));
    chain.block(&[fund]);
    let ops = |second| {
        Action::Linked(LinkedOps(vec![
            LedgerOp::Transfer(order(alice, bob, 60)),
            LedgerOp::Transfer(order(alice, carol, second)),
        ]))
    };
    let failing = chain.tx(&alice_key, ops(41));
    let outcome = &chain.block(&[failing])[0];
    assert!(matches!(
        outcome,
        TxOutcome::Rejected {
            code: RejectCode::InsufficientFunds,
            op_index: 1,
            ..
        }
    ));
    assert_eq!(chain.balance(&bob).posted(), 0, "first leg rolled back");
    let passing = chain.tx(&alice_key, ops(40));
    assert_eq!(chain.block(&[passing]), vec![TxOutcome::Applied]);
    assert_eq!(
        (chain.balance(&bob).posted(), chain.balance(&carol).posted()),
        (60, 40)
    );
}

#[test]
fn governance_grants_roles() {
    let mut chain = Chain::new();
    let (clerk_key, _) = citizen(9);
    let (_, bob) = citizen(2);
    let treasury = chain.treasury().clone();
    let main = Address::parse_or_alias("treasury:main").unwrap();
    let fund = chain.tx(&treasury, transfer(issuance(), main, 1_000));
    let early = chain.tx(&clerk_key, transfer(main, bob, 10));
    let outcomes = chain.block(&[fund, early]);
    assert!(rejected(RejectCode::MissingRole)(&outcomes[1]));
    let grant = chain.tx(
        &treasury,
        Action::Governance(GovernanceOp::SetMember {
            org: OrgName::new("treasury").unwrap(),
            member: clerk_key.public_key(),
            roles: Roles(vec![RoleName::new("ledger.transfer").unwrap()]),
        }),
    );
    let now_allowed = chain.tx(&clerk_key, transfer(main, bob, 10));
    let not_issuer = chain.tx(&clerk_key, transfer(issuance(), bob, 10));
    let outcomes = chain.block(&[grant, now_allowed, not_issuer]);
    assert_eq!(&outcomes[..2], &[TxOutcome::Applied, TxOutcome::Applied]);
    assert!(rejected(RejectCode::MissingRole)(&outcomes[2]));
}

#[derive(Clone, Debug)]
enum Op {
    Fund(usize, u128),
    Pay(usize, usize, u128),
    Hold(usize, usize, u128, u64),
    Post(usize, Option<u128>),
    Void(usize),
    Link(usize, usize, u128, usize, u128),
    Tick,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize, 1..5_000u128).prop_map(|(a, n)| Op::Fund(a, n)),
        (0..4usize, 0..4usize, 0..3_000u128).prop_map(|(a, b, n)| Op::Pay(a, b, n)),
        (0..4usize, 0..4usize, 1..3_000u128, 1..4_000u64)
            .prop_map(|(a, b, n, t)| Op::Hold(a, b, n, t)),
        (0..16usize, proptest::option::of(1..3_000u128)).prop_map(|(i, n)| Op::Post(i, n)),
        (0..16usize).prop_map(Op::Void),
        (0..4usize, 0..4usize, 1..3_000u128, 0..4usize, 1..3_000u128)
            .prop_map(|(a, b, n, c, m)| Op::Link(a, b, n, c, m)),
        Just(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Money is conserved at every height (checked inside `block`), and
    /// execution is a pure function: the same block on the same state gives
    /// the same writes and outcomes.
    #[test]
    fn money_is_conserved_and_execution_is_deterministic(ops in proptest::collection::vec(op_strategy(), 1..60)) {
        let mut chain = Chain::new();
        let citizens: Vec<(SecretKey, Address)> = (1..=4).map(citizen).collect();
        let treasury = chain.treasury().clone();
        let mut holds: Vec<Digest> = Vec::new();
        let mut pending_block = Vec::new();
        for op in ops {
            let tx = match op {
                Op::Fund(a, n) => Some(chain.tx(&treasury, transfer(issuance(), citizens[a].1, n))),
                Op::Pay(a, b, n) => Some(chain.tx(&citizens[a].0, transfer(citizens[a].1, citizens[b].1, n))),
                Op::Hold(a, b, n, t) => {
                    let tx = chain.tx(&citizens[a].0, Action::Ledger(LedgerOp::CreatePending { order: order(citizens[a].1, citizens[b].1, n), timeout_ms: t }));
                    holds.push(pending_id(&tx.hash(), 0));
                    Some(tx)
                }
                Op::Post(..) | Op::Void(..) if holds.is_empty() => None,
                Op::Post(i, n) => {
                    let id = holds[i % holds.len()];
                    // Any citizen may try; only the creator succeeds.
                    Some(chain.tx(&citizens[i % 4].0, Action::Ledger(LedgerOp::PostPending { pending: id, amount: n.map(Amount) })))
                }
                Op::Void(i) => {
                    let id = holds[i % holds.len()];
                    Some(chain.tx(&citizens[i % 4].0, Action::Ledger(LedgerOp::VoidPending { pending: id })))
                }
                Op::Link(a, b, n, c, m) => Some(chain.tx(&citizens[a].0, Action::Linked(LinkedOps(vec![
                    LedgerOp::Transfer(order(citizens[a].1, citizens[b].1, n)),
                    LedgerOp::Transfer(order(citizens[a].1, citizens[c].1, m)),
                ])))),
                Op::Tick => {
                    let txs = std::mem::take(&mut pending_block);
                    let env = BlockEnv { timestamp_ms: chain.time_ms + 1000, ..chain.env() };
                    let first = execute_block(&chain.state, &env, &txs, Mode::Verify).unwrap();
                    let second = execute_block(&chain.state, &env, &txs, Mode::Verify).unwrap();
                    prop_assert_eq!(&first.writes, &second.writes);
                    prop_assert_eq!(&first.outcomes, &second.outcomes);
                    chain.block(&txs);
                    None
                }
            };
            pending_block.extend(tx);
        }
        chain.block(&pending_block);
        for (_, address) in &citizens {
            let balance = chain.balance(address);
            prop_assert!(balance.credits_posted >= balance.debits_posted + balance.debits_pending, "a citizen account went negative");
        }
    }
}

mod credentials;
mod obligations;
mod records;
mod safety;
