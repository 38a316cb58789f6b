//! Receipts on a synthetic chain: what verifies, what must not, and the
//! pinned encodings.
//!
//! The chain is built here from real keys, a real state tree and real
//! signatures, with certificates encoded as Commonware encodes them
//! (`certificate::testing`; the node's tests hold that encoder to the
//! engine's). Nothing is mocked: every refusal below is the verifier's own.

use crate::assemble::{self, balance_claim, certified, currency_fact, tx_claim};
use crate::bounded::BoundedVec;
use crate::certificate::CertificateError;
use crate::certificate::testing::certify;
use crate::receipt::{Claim, FramedDecodeError, RECEIPT_MAGIC, Receipt};
use crate::validators::{PathError, SetTransition, TrustAnchor, ValidatorPath, ValidatorSet};
use crate::verify::{VerifyError, accepted_flips, verify};
use cityledger_types::block::{ConsensusRound, outcomes_root, tx_root};
use cityledger_types::records::{BalanceRecord, CurrencyRecord, StateKey};
use cityledger_types::smt::SparseMerkleTree;
use cityledger_types::tx::{ChainId, ClientTxId, Memo, TransferOrder, TxBody};
use cityledger_types::{
    Address, Amount, BlockHeader, CurrencyCode, Digest, Height, RejectCode, SecretKey, SignedTx,
    TxOutcome,
};

const CHAIN: &str = "cityledger-test";
const BLOCK_TIME_MS: u64 = 1_800_000_000_000;

fn chain_id() -> ChainId {
    ChainId::new(CHAIN).expect("valid chain id")
}

fn city() -> CurrencyCode {
    CurrencyCode::new("CITY").expect("valid code")
}

/// The validators of one epoch.
struct Validators {
    keys: Vec<SecretKey>,
    set: ValidatorSet,
}

impl Validators {
    fn new(epoch: u64, seeds: std::ops::RangeInclusive<u8>) -> Validators {
        let keys: Vec<SecretKey> = seeds.map(|seed| SecretKey::from_seed([seed; 32])).collect();
        let set = ValidatorSet::new(epoch, keys.iter().map(SecretKey::public_key)).expect("set");
        Validators { keys, set }
    }

    fn anchor(&self) -> TrustAnchor {
        TrustAnchor {
            chain_id: chain_id(),
            set: self.set.clone(),
            names: Vec::new(),
            source: format!("test set of epoch {}", self.set.epoch),
        }
    }

    fn certify(&self, header: &BlockHeader, signers: &[usize]) -> Vec<u8> {
        certify(header, &self.keys, signers)
    }
}

fn alice() -> SecretKey {
    SecretKey::from_seed([101; 32])
}

fn bob() -> Address {
    Address::of_key(&SecretKey::from_seed([102; 32]).public_key())
}

fn transfer(id: &str, amount: u128, memo: &str) -> SignedTx {
    let key = alice();
    let mut order = TransferOrder::new(
        Address::of_key(&key.public_key()),
        bob(),
        city(),
        Amount(amount),
    );
    order.memo = Memo::new(memo).expect("memo");
    TxBody::transfer(
        chain_id(),
        key.public_key(),
        ClientTxId::new(id).expect("id"),
        BLOCK_TIME_MS + 60_000,
        order,
    )
    .sign(&key)
}

/// One block: its transactions, outcomes, state and header.
struct TestBlock {
    txs: Vec<SignedTx>,
    outcomes: Vec<TxOutcome>,
    state: SparseMerkleTree,
    header: BlockHeader,
}

fn state(extra: Vec<(Vec<u8>, Vec<u8>)>) -> SparseMerkleTree {
    let mut entries = vec![
        (
            StateKey::Currency(city()).to_bytes(),
            borsh::to_vec(&CurrencyRecord {
                code: city(),
                decimals: 2,
            })
            .expect("encode"),
        ),
        (
            StateKey::Balance(Address::of_key(&alice().public_key()), city()).to_bytes(),
            borsh::to_vec(&BalanceRecord {
                credits_posted: 10_000,
                debits_posted: 1_250,
                debits_pending: 300,
                credits_pending: 0,
            })
            .expect("encode"),
        ),
    ];
    entries.extend((0u32..40).map(|i| (format!("filler-{i}").into_bytes(), vec![1])));
    entries.extend(extra);
    SparseMerkleTree::from_entries(entries)
}

fn block(height: u64, parent: Digest, set: &ValidatorSet, state: SparseMerkleTree) -> TestBlock {
    let txs = vec![
        transfer("pay-1", 1250, "lunch"),
        transfer("pay-2", 1_000_000, ""),
        transfer("pay-3", 5, ""),
    ];
    let outcomes = vec![
        TxOutcome::Applied,
        TxOutcome::Rejected {
            code: RejectCode::InsufficientFunds,
            op_index: 0,
            detail: "available 87.50, needed 10000.00".into(),
        },
        TxOutcome::Applied,
    ];
    let hashes: Vec<Digest> = txs.iter().map(SignedTx::hash).collect();
    let header = BlockHeader {
        chain_id: chain_id(),
        height: Height(height),
        parent,
        timestamp_ms: BLOCK_TIME_MS + height * 1000,
        round: ConsensusRound {
            epoch: set.epoch,
            view: height + 2,
            parent_view: height + 1,
            leader: set.keys().first().copied(),
        },
        tx_root: tx_root(&txs),
        outcomes_root: outcomes_root(&hashes, &outcomes),
        state_root: state.root(),
        validator_set_hash: set.hash(),
        tx_count: txs.len() as u32,
    };
    TestBlock {
        txs,
        outcomes,
        state,
        header,
    }
}

impl TestBlock {
    fn hashes(&self) -> Vec<Digest> {
        self.txs.iter().map(SignedTx::hash).collect()
    }

    fn tx_claim(&self, position: usize, with_currency: bool) -> Claim {
        let currencies = if with_currency {
            vec![currency_fact(&self.state, &city()).expect("currency")]
        } else {
            Vec::new()
        };
        Claim::Transaction(
            tx_claim(
                self.txs[position].clone(),
                position,
                &self.hashes(),
                &self.outcomes,
                currencies,
            )
            .expect("claim"),
        )
    }

    fn balance_claim(&self, address: Address) -> Claim {
        Claim::Balance(balance_claim(&self.state, address, &city()).expect("claim"))
    }
}

fn genesis_validators() -> Validators {
    Validators::new(0, 1..=4)
}

/// A receipt for the transaction at `position` of a block certified by
/// three of the four genesis validators.
fn tx_receipt(position: usize) -> Receipt {
    let validators = genesis_validators();
    let block = block(7, Digest::of(b"parent"), &validators.set, state(Vec::new()));
    let certificate = validators.certify(&block.header, &[0, 1, 3]);
    assemble::receipt(
        block.tx_claim(position, true),
        certified(block.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt")
}

fn balance_receipt(address: Address) -> Receipt {
    let validators = genesis_validators();
    let block = block(7, Digest::of(b"parent"), &validators.set, state(Vec::new()));
    let certificate = validators.certify(&block.header, &[0, 1, 2, 3]);
    assemble::receipt(
        block.balance_claim(address),
        certified(block.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt")
}

#[test]
fn a_transfer_receipt_verifies_and_says_what_happened() {
    let receipt = tx_receipt(0);
    let verified = verify(&receipt, &genesis_validators().anchor()).expect("valid");
    assert_eq!(verified.kind, "transaction");
    assert_eq!(verified.height, Height(7));
    assert_eq!(verified.signers.len(), 3);
    assert_eq!((verified.validators, verified.quorum), (4, 3));
    let expected = format!(
        "Transaction {} signed by {} was applied in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC, position 0: transfer of 12.50 CITY from {} to {} (memo \"lunch\").",
        transfer("pay-1", 1250, "lunch").hash(),
        Address::of_key(&alice().public_key()),
        Address::of_key(&alice().public_key()),
        bob(),
    );
    assert_eq!(verified.statement, expected);
    assert_eq!(receipt.statement(), expected);
}

#[test]
fn a_rejected_transaction_is_proven_rejected() {
    let verified = verify(&tx_receipt(1), &genesis_validators().anchor()).expect("valid");
    assert!(
        verified.statement.contains(
            "was included in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC, position 1, but rejected (insufficient_funds, operation 0: available 87.50, needed 10000.00) and changed nothing: transfer of 10000.00 CITY"
        ),
        "{}",
        verified.statement
    );
}

#[test]
fn without_proven_decimals_amounts_read_in_minor_units() {
    let validators = genesis_validators();
    let block = block(7, Digest::of(b"parent"), &validators.set, state(Vec::new()));
    let certificate = validators.certify(&block.header, &[0, 1, 2]);
    let receipt = assemble::receipt(
        block.tx_claim(2, false),
        certified(block.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt");
    let verified = verify(&receipt, &validators.anchor()).expect("valid");
    assert!(
        verified
            .statement
            .contains("transfer of 5 minor units of CITY")
    );
}

#[test]
fn balance_receipts_prove_presence_and_absence() {
    let anchor = genesis_validators().anchor();
    let present = verify(
        &balance_receipt(Address::of_key(&alice().public_key())),
        &anchor,
    )
    .expect("valid");
    assert_eq!(
        present.statement,
        format!(
            "Account {} held 87.50 CITY, with 3.00 CITY reserved for outgoing pending transfers after block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC.",
            Address::of_key(&alice().public_key())
        )
    );
    let absent = verify(&balance_receipt(bob()), &anchor).expect("valid");
    assert!(
        absent.statement.contains("held no CITY"),
        "{}",
        absent.statement
    );
}

#[test]
fn binary_and_text_forms_round_trip() {
    for receipt in [tx_receipt(0), balance_receipt(bob())] {
        let bytes = receipt.to_bytes();
        assert_eq!(&bytes[..4], &RECEIPT_MAGIC);
        assert_eq!(Receipt::from_bytes(&bytes).expect("decode"), receipt);
        let text = receipt.to_text();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let wrapped: String = text
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\n", std::str::from_utf8(line).expect("ascii")))
            .collect();
        assert_eq!(Receipt::from_text(&wrapped).expect("decode"), receipt);
    }
}

#[test]
fn decoding_refuses_what_is_not_a_receipt() {
    let bytes = tx_receipt(0).to_bytes();
    assert_eq!(
        Receipt::from_bytes(b"hello"),
        Err(FramedDecodeError::WrongMagic {
            what: "receipt",
            magic: RECEIPT_MAGIC
        })
    );
    let mut future = bytes.clone();
    future[4] = 2;
    assert_eq!(
        Receipt::from_bytes(&future),
        Err(FramedDecodeError::UnsupportedVersion {
            what: "receipt",
            found: 2,
            supported: 1
        })
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Receipt::from_bytes(&trailing),
        Err(FramedDecodeError::Body(_))
    ));
    for length in [0, 4, 5, bytes.len() / 2, bytes.len() - 1] {
        assert!(Receipt::from_bytes(&bytes[..length]).is_err(), "{length}");
    }
    assert!(matches!(
        Receipt::from_text("not base64!"),
        Err(FramedDecodeError::BadText { .. })
    ));
}

/// Every byte of a receipt counts: flipping any one (one bit, or all its
/// bits) makes it fail, in decoding or in verification.
fn assert_every_flip_fails(receipt: &Receipt, anchor: &TrustAnchor) {
    assert!(verify(receipt, anchor).is_ok());
    let accepted = accepted_flips(receipt, anchor, &[0x01, 0x80, 0xff]);
    assert!(
        accepted.is_empty(),
        "flips (byte, mask) of {} bytes that still verify: {accepted:?}",
        receipt.to_bytes().len()
    );
}

#[test]
fn flipping_any_byte_of_a_tx_receipt_fails() {
    assert_every_flip_fails(&tx_receipt(0), &genesis_validators().anchor());
}

#[test]
fn flipping_any_byte_of_a_balance_receipt_fails() {
    let anchor = genesis_validators().anchor();
    assert_every_flip_fails(
        &balance_receipt(Address::of_key(&alice().public_key())),
        &anchor,
    );
    assert_every_flip_fails(&balance_receipt(bob()), &anchor);
}

/// The paid fine of the synthetic chain's state.
const FINE: Digest = Digest([0xf1; 32]);

fn fine_record() -> cityledger_types::obligation::ObligationRecord {
    use cityledger_types::obligation::{
        ObligationRecord, ObligationStatus, PenaltyRule, Reference,
    };
    ObligationRecord {
        kind: cityledger_types::KindName::new("traffic_fine").expect("kind"),
        issuer: cityledger_types::OrgName::new("transport").expect("org"),
        issued_by: SecretKey::from_seed([9; 32]).public_key(),
        issued_at_ms: BLOCK_TIME_MS,
        payer: Address::of_key(&alice().public_key()),
        payee: Address::parse_or_alias("transport:main").expect("alias"),
        currency: city(),
        amount: Amount(5_000),
        due_at_ms: BLOCK_TIME_MS + 86_400_000,
        penalty: PenaltyRule::None,
        reference: Reference::default(),
        evidence: None,
        status: ObligationStatus::Paid,
        paid: Amount(5_000),
        penalty_assessed: Amount::ZERO,
        appeal: None,
        closure: None,
    }
}

fn obligation_receipt(id: Digest) -> Receipt {
    let validators = genesis_validators();
    let extra = vec![(
        StateKey::Obligation(FINE).to_bytes(),
        borsh::to_vec(&fine_record()).expect("encode"),
    )];
    let block = block(7, Digest::of(b"parent"), &validators.set, state(extra));
    let certificate = validators.certify(&block.header, &[0, 1, 2]);
    let claim = assemble::obligation_claim(&block.state, id).expect("claim");
    assemble::receipt(
        Claim::Obligation(Box::new(claim)),
        certified(block.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt")
}

#[test]
fn an_obligation_receipt_proves_a_paid_fine_and_an_unknown_id_proves_absence() {
    let anchor = genesis_validators().anchor();
    let paid = verify(&obligation_receipt(FINE), &anchor).expect("valid");
    assert_eq!(paid.kind, "obligation");
    assert_eq!(
        paid.statement,
        format!(
            "Obligation {FINE}: traffic_fine issued by transport to payer {}, 50.00 CITY due by 2027-01-16 08:00:00.000 UTC; paid 50.00 CITY, penalty 0.00 CITY, owing 0.00 CITY; paid, in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC.",
            Address::of_key(&alice().public_key())
        )
    );
    let unknown = Digest([0xf2; 32]);
    let absent = verify(&obligation_receipt(unknown), &anchor).expect("valid");
    assert_eq!(
        absent.statement,
        format!(
            "No obligation {unknown} exists in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC."
        )
    );
    // A record without its proven currency, or a made-up record, fails.
    let mut receipt = obligation_receipt(FINE);
    if let Claim::Obligation(claim) = &mut receipt.claim {
        claim.currency = None;
    }
    assert!(verify(&receipt, &anchor).is_err());
    let mut receipt = obligation_receipt(unknown);
    if let Claim::Obligation(claim) = &mut receipt.claim {
        claim.record = Some(fine_record());
    }
    assert!(verify(&receipt, &anchor).is_err());
}

#[test]
fn flipping_any_byte_of_an_obligation_receipt_fails() {
    let anchor = genesis_validators().anchor();
    assert_every_flip_fails(&obligation_receipt(FINE), &anchor);
    assert_every_flip_fails(&obligation_receipt(Digest([0xf2; 32])), &anchor);
}

#[test]
fn too_few_signers_fail() {
    let validators = genesis_validators();
    let block = block(7, Digest::of(b"parent"), &validators.set, state(Vec::new()));
    for signers in [&[0usize][..], &[1, 3]] {
        let certificate = validators.certify(&block.header, signers);
        let receipt = assemble::receipt(
            block.tx_claim(0, true),
            certified(block.header.clone(), &certificate).expect("finalized"),
            ValidatorPath::single(validators.set.clone()),
        )
        .expect("receipt");
        assert_eq!(
            verify(&receipt, &validators.anchor()),
            Err(VerifyError::Certificate {
                height: Height(7),
                source: CertificateError::NoQuorum {
                    signers: signers.len(),
                    quorum: 3,
                    validators: 4
                }
            })
        );
    }
}

#[test]
fn another_chains_receipt_fails() {
    let receipt = tx_receipt(0);
    let mut elsewhere = genesis_validators().anchor();
    elsewhere.chain_id = ChainId::new("cityledger-other").expect("chain id");
    assert!(matches!(
        verify(&receipt, &elsewhere),
        Err(VerifyError::WrongChain { .. })
    ));
    // Same chain name, other validators: the receipt's sets never reach
    // the trusted one.
    let impostors = Validators::new(0, 51..=54).anchor();
    assert!(matches!(
        verify(&receipt, &impostors),
        Err(VerifyError::Path(PathError::AnchorNotOnPath { .. }))
    ));
}

#[test]
fn a_wrong_statement_fails() {
    let mut receipt = tx_receipt(0);
    receipt.statement.0 = receipt.statement.0.replace("12.50", "125.00");
    assert!(matches!(
        verify(&receipt, &genesis_validators().anchor()),
        Err(VerifyError::StatementMismatch { .. })
    ));
}

/// Epoch 0 (validators 1–4) hands over to epoch 1 (validators 5–8) through
/// a block of epoch 0 whose state records the new set; a balance receipt of
/// epoch 1 then verifies from genesis only through that change.
struct Handover {
    old: Validators,
    new: Validators,
    transition: SetTransition,
    receipt_block: TestBlock,
    receipt_certificate: Vec<u8>,
}

fn handover() -> Handover {
    let old = genesis_validators();
    let new = Validators::new(1, 5..=8);
    let record = cityledger_types::encoding::encode(&new.set);
    let boundary_state = state(vec![(StateKey::ValidatorSet(1).to_bytes(), record)]);
    let boundary = block(20, Digest::of(b"b19"), &old.set, boundary_state);
    let transition = SetTransition {
        header: boundary.header.clone(),
        certificate: crate::bounded::BoundedBytes(old.certify(&boundary.header, &[0, 1, 2])),
        next: new.set.clone(),
        proof: boundary.state.prove(&StateKey::ValidatorSet(1).to_bytes()),
    };
    let receipt_block = block(30, Digest::of(b"b29"), &new.set, state(Vec::new()));
    let receipt_certificate = new.certify(&receipt_block.header, &[1, 2, 3]);
    Handover {
        old,
        new,
        transition,
        receipt_block,
        receipt_certificate,
    }
}

impl Handover {
    fn receipt(&self, path: ValidatorPath) -> Receipt {
        assemble::receipt(
            self.receipt_block
                .balance_claim(Address::of_key(&alice().public_key())),
            certified(self.receipt_block.header.clone(), &self.receipt_certificate)
                .expect("finalized"),
            path,
        )
        .expect("receipt")
    }

    fn path(&self, transitions: Vec<SetTransition>) -> ValidatorPath {
        ValidatorPath {
            base: self.old.set.clone(),
            transitions: BoundedVec(transitions),
        }
    }
}

#[test]
fn after_a_validator_set_change_trust_flows_only_through_the_change() {
    let handover = handover();
    let genesis = handover.old.anchor();
    let through = handover.receipt(handover.path(vec![handover.transition.clone()]));
    let verified = verify(&through, &genesis).expect("valid through the change");
    assert_eq!((verified.epoch, verified.validator_changes), (1, 1));

    // Without the change, the old set did not sign the new block.
    let without = handover.receipt(handover.path(Vec::new()));
    assert!(matches!(
        verify(&without, &genesis),
        Err(VerifyError::NotOfLastSet { .. })
    ));
    // Claiming the new set directly is not trusted from genesis.
    let shortcut = handover.receipt(ValidatorPath::single(handover.new.set.clone()));
    assert!(matches!(
        verify(&shortcut, &genesis),
        Err(VerifyError::Path(PathError::AnchorNotOnPath { .. }))
    ));
    // A checkpoint of the new epoch vouches for the shortcut and the full path.
    let checkpoint = handover.new.anchor();
    assert!(verify(&shortcut, &checkpoint).is_ok());
    let from_checkpoint = verify(&through, &checkpoint).expect("valid");
    assert_eq!(from_checkpoint.validator_changes, 0);
    assert_every_flip_fails(&through, &genesis);
}

#[test]
fn a_forged_set_change_fails() {
    let handover = handover();
    let genesis = handover.old.anchor();
    let attackers = Validators::new(1, 61..=64);
    // The attackers name themselves as the next set: the state disagrees.
    let mut forged = handover.transition.clone();
    forged.next = attackers.set.clone();
    let receipt = handover.receipt(handover.path(vec![forged]));
    assert!(matches!(
        verify(&receipt, &genesis),
        Err(VerifyError::Path(PathError::State { index: 0, .. }))
    ));
    // A change certified by too few of the outgoing set.
    let mut weak = handover.transition.clone();
    weak.certificate = crate::bounded::BoundedBytes(handover.old.certify(&weak.header, &[0, 1]));
    let receipt = handover.receipt(handover.path(vec![weak]));
    assert!(matches!(
        verify(&receipt, &genesis),
        Err(VerifyError::Path(PathError::Certificate { index: 0, .. }))
    ));
    // An old root (a block before the change) checked under the new set.
    let old_block = block(12, Digest::of(b"b11"), &handover.old.set, state(Vec::new()));
    let old_certificate = handover.old.certify(&old_block.header, &[0, 1, 2]);
    let stale = assemble::receipt(
        old_block.balance_claim(bob()),
        certified(old_block.header.clone(), &old_certificate).expect("finalized"),
        handover.path(vec![handover.transition.clone()]),
    )
    .expect("receipt");
    assert!(matches!(
        verify(&stale, &genesis),
        Err(VerifyError::NotOfLastSet { .. })
    ));
}

#[test]
fn a_block_without_certificate_is_final_through_its_descendant() {
    let validators = genesis_validators();
    let target = block(7, Digest::of(b"parent"), &validators.set, state(Vec::new()));
    let child = block(8, target.header.id(), &validators.set, state(Vec::new()));
    let grandchild = block(9, child.header.id(), &validators.set, state(Vec::new()));
    let certificate = validators.certify(&grandchild.header, &[0, 1, 2]);
    let make = |descendants: Vec<BlockHeader>| {
        assemble::receipt(
            target.tx_claim(0, true),
            assemble::by_descendant(target.header.clone(), descendants, &certificate)
                .expect("finalized"),
            ValidatorPath::single(validators.set.clone()),
        )
        .expect("receipt")
    };
    let receipt = make(vec![child.header.clone(), grandchild.header.clone()]);
    let verified = verify(&receipt, &validators.anchor()).expect("valid");
    assert_eq!(
        (verified.height, verified.certified_height),
        (Height(7), Height(9))
    );
    assert_every_flip_fails(&receipt, &validators.anchor());
    let skipping = make(vec![grandchild.header.clone()]);
    assert!(matches!(
        verify(&skipping, &validators.anchor()),
        Err(VerifyError::BrokenDescendants { index: 0, .. })
    ));
}

/// Pins the binary form: a change here changes every receipt ever issued,
/// so it must be a decision (a new version byte), never an accident.
#[test]
fn receipt_format_fixtures() {
    let cases = [
        ("transfer", tx_receipt(0).to_bytes()),
        (
            "balance",
            balance_receipt(Address::of_key(&alice().public_key())).to_bytes(),
        ),
    ];
    let pinned = [
        ("transfer", TRANSFER_FIXTURE_BYTES, TRANSFER_FIXTURE_SHA256),
        ("balance", BALANCE_FIXTURE_BYTES, BALANCE_FIXTURE_SHA256),
    ];
    for (name, bytes) in &cases {
        println!(
            "{name}: {} bytes, sha256 {}",
            bytes.len(),
            Digest::of(bytes)
        );
    }
    for ((name, bytes), (_, length, hash)) in cases.iter().zip(pinned) {
        assert_eq!(bytes.len(), length, "{name} receipt size changed");
        assert_eq!(
            Digest::of(bytes).to_hex(),
            hash,
            "{name} receipt encoding changed"
        );
    }
    // Four validators, three signatures: a transfer receipt fits in one QR
    // code (2,953 bytes in binary mode at the lowest error correction).
    const { assert!(TRANSFER_FIXTURE_BYTES < 2_953) };
}

const TRANSFER_FIXTURE_BYTES: usize = 1650;
const TRANSFER_FIXTURE_SHA256: &str =
    "7bf15c66aa32187814a1af76c828e5f8e9f3ae156e09648df02432077f990cb7";
const BALANCE_FIXTURE_BYTES: usize = 1455;
const BALANCE_FIXTURE_SHA256: &str =
    "fb2428db987bcdd4d57cf002a1ca574dd0a9c47eb9f3d2c6a925b79aa4a8b93f";

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any transfer, at any position of a block of any size, makes a
        /// receipt that round-trips through both forms and verifies.
        #[test]
        fn any_transfer_receipt_round_trips_and_verifies(
            amounts in prop::collection::vec(1u128..1_000_000_000, 1..24),
            pick in any::<prop::sample::Index>(),
            memo in "[ -~]{0,40}",
            signers in prop::sample::subsequence(vec![0usize, 1, 2, 3], 3..=4),
        ) {
            let validators = genesis_validators();
            let txs: Vec<SignedTx> = amounts
                .iter()
                .enumerate()
                .map(|(i, amount)| transfer(&format!("p-{i}"), *amount, &memo))
                .collect();
            let outcomes: Vec<TxOutcome> = (0..txs.len())
                .map(|i| if i % 3 == 1 {
                    TxOutcome::Rejected {
                        code: RejectCode::InsufficientFunds,
                        op_index: 0,
                        detail: format!("case {i}"),
                    }
                } else {
                    TxOutcome::Applied
                })
                .collect();
            let mut block = block(9, Digest::of(b"p"), &validators.set, state(Vec::new()));
            let hashes: Vec<Digest> = txs.iter().map(SignedTx::hash).collect();
            block.header.tx_root = tx_root(&txs);
            block.header.outcomes_root = outcomes_root(&hashes, &outcomes);
            block.header.tx_count = txs.len() as u32;
            block.txs = txs;
            block.outcomes = outcomes;
            let position = pick.index(block.txs.len());
            let certificate = validators.certify(&block.header, &signers);
            let receipt = assemble::receipt(
                block.tx_claim(position, true),
                certified(block.header.clone(), &certificate).expect("finalized"),
                ValidatorPath::single(validators.set.clone()),
            )
            .expect("receipt");
            let bytes = receipt.to_bytes();
            prop_assert_eq!(&Receipt::from_bytes(&bytes).expect("decode"), &receipt);
            prop_assert_eq!(&Receipt::from_text(&receipt.to_text()).expect("decode"), &receipt);
            let verified = verify(&receipt, &validators.anchor()).expect("valid");
            prop_assert_eq!(verified.signers.len(), signers.len());
            prop_assert!(bytes.len() < 4096, "{} bytes", bytes.len());
        }
    }
}

/// The synthetic chain's licence: issued in block 3, revoked in block 6.
const LICENCE: Digest = Digest([0xc1; 32]);

fn licence_record() -> cityledger_types::credential::CredentialRecord {
    use cityledger_types::credential::{
        CredentialRecord, Fields, StatusChange, StatusChangeKind, StatusHistory,
    };
    let officer = SecretKey::from_seed([9; 32]).public_key();
    let change = |height: u64, kind, reason: Option<&str>| StatusChange {
        height: Height(height),
        at_ms: BLOCK_TIME_MS + height * 1000,
        by: officer,
        role: cityledger_types::RoleName::new("licences.decide").expect("role"),
        kind,
        reason: reason.map(|text| cityledger_types::obligation::Reason::new(text).expect("reason")),
    };
    CredentialRecord {
        credential_type: cityledger_types::CredentialType::new("driver_licence").expect("type"),
        issuer: cityledger_types::OrgName::new("transport").expect("org"),
        holder: alice().public_key(),
        claims: Fields::default(),
        application: None,
        status_index: 0,
        history: StatusHistory::new(vec![
            change(
                3,
                StatusChangeKind::Issued {
                    valid_from_ms: BLOCK_TIME_MS + 3000,
                    valid_until_ms: BLOCK_TIME_MS + 86_400_000,
                },
                None,
            ),
            change(
                6,
                StatusChangeKind::Revoked,
                Some("licence withdrawn by court"),
            ),
        ])
        .expect("history"),
    }
}

/// The receipt of credential `id` in block 7, judged at `moment` (a
/// height of the synthetic chain, certified by `moment_signers`).
fn credential_receipt(id: Digest, moment: Option<(u64, &[usize])>) -> Receipt {
    let validators = genesis_validators();
    let extra = vec![(
        StateKey::Credential(LICENCE).to_bytes(),
        borsh::to_vec(&licence_record()).expect("encode"),
    )];
    let tip = block(7, Digest::of(b"parent"), &validators.set, state(extra));
    let certificate = validators.certify(&tip.header, &[0, 1, 2]);
    let moment = moment.map(|(height, signers)| {
        let earlier = block(
            height,
            Digest::of(b"grandparent"),
            &validators.set,
            state(Vec::new()),
        );
        let certificate = validators.certify(&earlier.header, signers);
        certified(earlier.header, &certificate).expect("finalized")
    });
    let claim = assemble::credential_claim(&tip.state, id, moment).expect("claim");
    assemble::receipt(
        Claim::Credential(Box::new(claim)),
        certified(tip.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt")
}

#[test]
fn a_credential_receipt_proves_its_status_before_and_after_a_revocation() {
    let anchor = genesis_validators().anchor();
    let holder = alice().public_key();
    let what =
        format!("Credential {LICENCE}: driver_licence issued by transport to holder {holder}");
    let recorded = "recorded in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC.";
    let cases = [
        (
            None,
            format!(
                "{what}, valid from 2027-01-15 08:00:03.000 UTC until 2027-01-16 08:00:00.000 UTC; revoked at height 7 (2027-01-15 08:00:07.000 UTC); {recorded}"
            ),
        ),
        (
            Some(5),
            format!(
                "{what}, valid from 2027-01-15 08:00:03.000 UTC until 2027-01-16 08:00:00.000 UTC; valid at height 5 (2027-01-15 08:00:05.000 UTC); {recorded}"
            ),
        ),
        (
            Some(2),
            format!("{what}; not yet issued at height 2 (2027-01-15 08:00:02.000 UTC); {recorded}"),
        ),
    ];
    for (moment, expected) in cases {
        let receipt = credential_receipt(LICENCE, moment.map(|h| (h, &[0, 1, 3][..])));
        let verified = verify(&receipt, &anchor).expect("valid");
        assert_eq!(verified.kind, "credential");
        assert_eq!(verified.statement, expected);
    }
    let unknown = Digest([0xc2; 32]);
    let absent = verify(&credential_receipt(unknown, None), &anchor).expect("valid");
    assert_eq!(
        absent.statement,
        format!(
            "No credential {unknown} exists in block 7 of chain cityledger-test at 2027-01-15 08:00:07.000 UTC."
        )
    );
}

#[test]
fn a_credential_receipt_refuses_a_moment_that_is_not_proven_or_not_earlier() {
    let anchor = genesis_validators().anchor();
    // A moment certified by too few validators.
    let receipt = credential_receipt(LICENCE, Some((5, &[0])));
    assert!(matches!(
        verify(&receipt, &anchor),
        Err(VerifyError::Certificate {
            height: Height(5),
            ..
        })
    ));
    // A moment that is the receipt's block, or later.
    for height in [7, 9] {
        let receipt = credential_receipt(LICENCE, Some((height, &[0, 1, 2])));
        assert!(
            matches!(
                verify(&receipt, &anchor),
                Err(VerifyError::BadMoment { .. })
            ),
            "moment at height {height}"
        );
    }
    // A moment whose block time was moved: its certificate no longer holds.
    let mut receipt = credential_receipt(LICENCE, Some((5, &[0, 1, 2])));
    if let Claim::Credential(claim) = &mut receipt.claim
        && let Some(moment) = &mut claim.moment
    {
        moment.header.timestamp_ms += 86_400_000;
    }
    assert!(matches!(
        verify(&receipt, &anchor),
        Err(VerifyError::Certificate { .. })
    ));
    // A record rewritten to drop the revocation fails its state proof.
    let mut receipt = credential_receipt(LICENCE, None);
    if let Claim::Credential(claim) = &mut receipt.claim
        && let Some(record) = &mut claim.record
    {
        let issuance = record.history.changes()[0].clone();
        record.history =
            cityledger_types::credential::StatusHistory::new(vec![issuance]).expect("history");
    }
    assert!(matches!(
        verify(&receipt, &anchor),
        Err(VerifyError::State { .. })
    ));
}

#[test]
fn flipping_any_byte_of_a_credential_receipt_fails() {
    let anchor = genesis_validators().anchor();
    assert_every_flip_fails(&credential_receipt(LICENCE, Some((5, &[0, 1, 2]))), &anchor);
    assert_every_flip_fails(&credential_receipt(Digest([0xc2; 32]), None), &anchor);
}

/// Checkpoints of a synthetic chain whose every state holds the real
/// history of the blocks before it, and the consistency proofs between
/// them, built from the accumulator's nodes as a node builds them.
mod checkpoints {
    use super::*;
    use crate::checkpoint::{
        Checkpoint, ConsistencyError, ConsistencyProof, verify_checkpoint, verify_consistency,
    };
    use crate::verify::accepted_byte_flips;
    use cityledger_types::history::{self, HistoryRecord, NodePosition};
    use std::collections::BTreeMap;

    /// Blocks 0..length; from `fork_from` on, a different state (so other
    /// ids) on the same prefix.
    struct HistoryChain {
        blocks: Vec<TestBlock>,
        nodes: BTreeMap<NodePosition, Digest>,
    }

    fn history_chain(length: u64, fork_from: Option<u64>) -> HistoryChain {
        let set = genesis_validators().set;
        let mut blocks: Vec<TestBlock> = vec![block(0, Digest::ZERO, &set, state(Vec::new()))];
        let mut record = HistoryRecord::default();
        let mut nodes = BTreeMap::new();
        for height in 1..length {
            let parent = blocks[height as usize - 1].header.id();
            nodes.extend(record.append(history::leaf(&parent)));
            let mut extra = vec![(
                StateKey::History.to_bytes(),
                borsh::to_vec(&record).expect("encode"),
            )];
            if fork_from.is_some_and(|from| height >= from) {
                extra.push((b"fork".to_vec(), vec![1]));
            }
            blocks.push(block(height, parent, &set, state(extra)));
        }
        HistoryChain { blocks, nodes }
    }

    impl HistoryChain {
        fn checkpoint(&self, height: u64, signers: &[usize]) -> Checkpoint {
            let validators = genesis_validators();
            let block = &self.blocks[height as usize];
            let certificate = validators.certify(&block.header, signers);
            assemble::checkpoint(
                &block.state,
                certified(block.header.clone(), &certificate).expect("finalized"),
                ValidatorPath::single(validators.set.clone()),
            )
            .expect("checkpoint")
        }

        fn proof(&self, old: u64, new: u64) -> ConsistencyProof {
            let path = history::prove(old, new, &mut |position| {
                self.nodes.get(&position).copied().ok_or(position)
            })
            .expect("every node is kept");
            ConsistencyProof { path }
        }
    }

    const SIGNERS: &[usize] = &[0, 1, 3];

    #[test]
    fn a_later_checkpoint_extends_an_earlier_one() {
        let chain = history_chain(13, None);
        let anchor = genesis_validators().anchor();
        let (old, new) = (chain.checkpoint(5, SIGNERS), chain.checkpoint(12, SIGNERS));
        let verified = verify_checkpoint(&new, &anchor).expect("valid checkpoint");
        assert_eq!((verified.kind, verified.height), ("checkpoint", Height(12)));
        assert_eq!(
            verified.statement,
            format!(
                "Block 12 ({}) of chain cityledger-test at 2027-01-15 08:00:12.000 UTC is final, and its state commits to the 12 blocks before it (history root {}).",
                new.block.header.id(),
                new.history.root()
            )
        );
        let proof = chain.proof(5, 12);
        let consistency =
            verify_consistency(&old, &new, Some(&proof), &anchor).expect("consistent");
        assert_eq!(consistency.blocks_appended, 7);
        assert_eq!(
            consistency.statement,
            format!(
                "Block 5 ({}) of chain cityledger-test is an ancestor of block 12 ({}): the chain finalized up to block 12 extends the one up to block 5, with 7 blocks appended and none rewritten.",
                old.block.header.id(),
                new.block.header.id()
            )
        );
        // Every pair of heights, and one block with itself (no proof needed).
        for new_height in 1..13 {
            let new = chain.checkpoint(new_height, SIGNERS);
            for old_height in 1..new_height {
                let old = chain.checkpoint(old_height, SIGNERS);
                let proof = chain.proof(old_height, new_height);
                assert!(
                    verify_consistency(&old, &new, Some(&proof), &anchor).is_ok(),
                    "{old_height} → {new_height}"
                );
            }
            assert!(verify_consistency(&new, &new, None, &anchor).is_ok());
        }
        // Round trips of both documents.
        assert_eq!(Checkpoint::from_text(&new.to_text()), Ok(new.clone()));
        assert_eq!(ConsistencyProof::from_bytes(&proof.to_bytes()), Ok(proof));
    }

    #[test]
    fn what_is_not_an_extension_fails_with_its_own_error() {
        let main = history_chain(13, None);
        let fork = history_chain(13, Some(3));
        let anchor = genesis_validators().anchor();
        let old = main.checkpoint(5, SIGNERS);
        let new = main.checkpoint(12, SIGNERS);
        let proof = main.proof(5, 12);

        // A NEW on a fork that left the chain before OLD, with either
        // chain's proof.
        let forked = fork.checkpoint(12, SIGNERS);
        for proof in [main.proof(5, 12), fork.proof(5, 12)] {
            assert!(matches!(
                verify_consistency(&old, &forked, Some(&proof), &anchor),
                Err(ConsistencyError::NotAnAncestor {
                    old_height: Height(5),
                    new_height: Height(12),
                    ..
                })
            ));
        }
        // Two blocks final at one height.
        assert!(matches!(
            verify_consistency(&old, &fork.checkpoint(5, SIGNERS), None, &anchor),
            Err(ConsistencyError::Conflict {
                height: Height(5),
                ..
            })
        ));
        // Swapped.
        assert_eq!(
            verify_consistency(&new, &old, Some(&proof), &anchor),
            Err(ConsistencyError::Reversed {
                old_height: Height(12),
                new_height: Height(5)
            })
        );
        // A proof for another height, and none at all.
        assert_eq!(
            verify_consistency(&old, &new, Some(&main.proof(4, 12)), &anchor),
            Err(ConsistencyError::ProofForOtherHeights {
                proof_index: 4,
                proof_leaf_count: 12,
                old_height: Height(5),
                new_height: Height(12)
            })
        );
        assert!(matches!(
            verify_consistency(&old, &new, Some(&main.proof(5, 11)), &anchor),
            Err(ConsistencyError::ProofForOtherHeights { .. })
        ));
        assert!(matches!(
            verify_consistency(&old, &new, None, &anchor),
            Err(ConsistencyError::MissingProof { .. })
        ));
        // A tampered peak: the state root does not commit to it.
        let mut tampered = new.clone();
        let mut peaks = tampered.history.peaks().to_vec();
        peaks[0].0[0] ^= 1;
        tampered.history = HistoryRecord::new(12, peaks).expect("same shape");
        assert!(matches!(
            verify_consistency(&old, &tampered, Some(&proof), &anchor),
            Err(ConsistencyError::New(VerifyError::State { .. }))
        ));
        // OLD's history passed off as NEW's.
        let mut shortened = new.clone();
        shortened.history = old.history.clone();
        shortened.history_proof = old.history_proof.clone();
        assert_eq!(
            verify_consistency(&old, &shortened, Some(&proof), &anchor),
            Err(ConsistencyError::New(VerifyError::HistoryLength {
                height: Height(12),
                leaf_count: 5
            }))
        );
        // Another chain.
        let mut elsewhere = anchor.clone();
        elsewhere.chain_id = ChainId::new("cityledger-other").expect("chain id");
        assert!(matches!(
            verify_consistency(&old, &new, Some(&proof), &elsewhere),
            Err(ConsistencyError::Old(VerifyError::WrongChain { .. }))
        ));
        // Too few signers on either side.
        let weak = main.checkpoint(12, &[0, 1]);
        assert_eq!(
            verify_consistency(&old, &weak, Some(&proof), &anchor),
            Err(ConsistencyError::New(VerifyError::Certificate {
                height: Height(12),
                source: CertificateError::NoQuorum {
                    signers: 2,
                    quorum: 3,
                    validators: 4
                }
            }))
        );
        assert!(matches!(
            verify_consistency(&main.checkpoint(5, &[2]), &new, Some(&proof), &anchor),
            Err(ConsistencyError::Old(VerifyError::Certificate { .. }))
        ));
        // A checkpoint whose words were changed.
        let mut reworded = new.clone();
        reworded.statement.0 = reworded.statement.0.replace("12 blocks", "13 blocks");
        assert!(matches!(
            verify_checkpoint(&reworded, &anchor),
            Err(VerifyError::StatementMismatch { .. })
        ));
    }

    #[test]
    fn flipping_any_byte_of_a_checkpoint_or_its_proof_fails() {
        let chain = history_chain(13, None);
        let anchor = genesis_validators().anchor();
        let old = chain.checkpoint(5, SIGNERS);
        let new = chain.checkpoint(12, SIGNERS);
        let proof = chain.proof(5, 12);
        let masks = [0x01, 0x80, 0xff];
        let accepted = accepted_byte_flips(&new.to_bytes(), &masks, |bytes| {
            Checkpoint::from_bytes(bytes)
                .ok()
                .is_some_and(|checkpoint| verify_checkpoint(&checkpoint, &anchor).is_ok())
        });
        assert!(
            accepted.is_empty(),
            "checkpoint flips that verify: {accepted:?}"
        );
        let accepted = accepted_byte_flips(&proof.to_bytes(), &masks, |bytes| {
            ConsistencyProof::from_bytes(bytes)
                .ok()
                .is_some_and(|proof| verify_consistency(&old, &new, Some(&proof), &anchor).is_ok())
        });
        assert!(accepted.is_empty(), "proof flips that verify: {accepted:?}");
    }

    #[test]
    fn a_checkpoint_is_a_trust_anchor_for_receipts_and_checkpoints() {
        let chain = history_chain(13, None);
        let genesis = genesis_validators().anchor();
        let anchor = TrustAnchor::from_checkpoint(&chain.checkpoint(12, SIGNERS)).expect("anchor");
        assert_eq!(anchor.set, genesis.set);
        assert!(
            anchor
                .source
                .starts_with("checkpoint of cityledger-test at block 12 (")
        );
        let verified = verify(&tx_receipt(0), &anchor).expect("valid under the checkpoint");
        assert_eq!(verified.trusted, anchor.source);
        let (old, new) = (chain.checkpoint(5, SIGNERS), chain.checkpoint(12, SIGNERS));
        assert!(verify_consistency(&old, &new, Some(&chain.proof(5, 12)), &anchor).is_ok());
        // A damaged checkpoint is no anchor.
        let weak = chain.checkpoint(12, &[0]);
        assert!(matches!(
            TrustAnchor::from_checkpoint(&weak),
            Err(VerifyError::Certificate { .. })
        ));
        // Another set's checkpoint vouches for nothing of this chain.
        let impostors = Validators::new(0, 51..=54);
        let mut forged = chain.checkpoint(12, SIGNERS);
        forged.validators = ValidatorPath::single(impostors.set.clone());
        assert!(TrustAnchor::from_checkpoint(&forged).is_err());
    }

    #[test]
    fn decoding_refuses_what_is_not_a_checkpoint() {
        let checkpoint = history_chain(3, None).checkpoint(2, SIGNERS);
        assert_eq!(
            Checkpoint::from_bytes(&tx_receipt(0).to_bytes()),
            Err(FramedDecodeError::WrongMagic {
                what: "checkpoint",
                magic: crate::checkpoint::CHECKPOINT_MAGIC
            })
        );
        let mut trailing = checkpoint.to_bytes();
        trailing.push(0);
        assert!(matches!(
            Checkpoint::from_bytes(&trailing),
            Err(FramedDecodeError::Body(_))
        ));
        assert!(matches!(
            ConsistencyProof::from_text(&"A".repeat(10_000)),
            Err(FramedDecodeError::TextTooLong { .. })
        ));
    }

    /// Pins the checkpoint's binary form and prints the sizes ADR 0004
    /// quotes: a change is a decision (a new version byte).
    #[test]
    fn checkpoint_format_fixture() {
        let chain = history_chain(13, None);
        let checkpoint = chain.checkpoint(12, SIGNERS).to_bytes();
        let proof = chain.proof(5, 12).to_bytes();
        println!(
            "checkpoint: {} bytes, sha256 {}; proof 5→12: {} bytes",
            checkpoint.len(),
            Digest::of(&checkpoint),
            proof.len()
        );
        assert_eq!(checkpoint.len(), CHECKPOINT_FIXTURE_BYTES);
        assert_eq!(Digest::of(&checkpoint).to_hex(), CHECKPOINT_FIXTURE_SHA256);
        // 12 leaves, leaf 5: siblings at three levels and the right subtree.
        assert_eq!(proof.len(), 5 + 8 + 8 + 4 + 4 * 32);
    }

    // Store format 4 moved the history's state key tag after the records'
    // keys, so the history entry's state proof took another path.
    const CHECKPOINT_FIXTURE_BYTES: usize = 1234;
    const CHECKPOINT_FIXTURE_SHA256: &str =
        "a2c2996cdced832fb7dff3c34a19c8e9e3962fc4c2d426b9bce025fa269e2407";
}

/// Records, batches and messages of the synthetic chain.
mod records {
    use super::*;
    use crate::receipt::MessageClaim;
    use cityledger_types::device::{BatchRecord, message_leaf};
    use cityledger_types::limits::RECIPIENTS_PER_RECORD_MAX;
    use cityledger_types::merkle::MerkleTree;
    use cityledger_types::obligation::{Reason, Reference};
    use cityledger_types::record::{
        Acknowledgement, Acknowledgements, Erasure, Recipients, Record,
    };
    use cityledger_types::{OrgName, RecordType};

    const RECORD: Digest = Digest([0x7e; 32]);
    const BATCH: Digest = Digest([0xba; 32]);

    fn key(seed: u8) -> cityledger_types::PublicKey {
        SecretKey::from_seed([seed; 32]).public_key()
    }

    /// A record sent to `recipients` recipients, each of whom
    /// acknowledged it, and erased if `erased`.
    fn record(recipients: usize, erased: bool) -> Record {
        let to: Vec<_> = (0..recipients).map(|i| key(30 + i as u8)).collect();
        Record {
            record_type: RecordType::new("lab_result").expect("type"),
            owner: alice().public_key(),
            author: key(20),
            org: Some(OrgName::new("health").expect("org")),
            commitment: Digest::of(b"content"),
            blob_digest: Digest::of(b"sealed"),
            blob_bytes: 4_321,
            metadata: Reference::new(Vec::new()).expect("metadata"),
            parent: None,
            recipients: Recipients::new(to.clone()).expect("recipients"),
            acknowledgements: Acknowledgements(
                to.iter()
                    .map(|by| Acknowledgement {
                        by: *by,
                        height: Height(4),
                        at_ms: BLOCK_TIME_MS + 4000,
                    })
                    .collect(),
            ),
            anchored_height: Height(3),
            anchored_at_ms: BLOCK_TIME_MS + 3000,
            erasure: erased.then(|| Erasure {
                height: Height(6),
                at_ms: BLOCK_TIME_MS + 6000,
                by: alice().public_key(),
                reason: Reason::new("the patient's name is Ada").expect("reason"),
            }),
        }
    }

    fn messages() -> Vec<Vec<u8>> {
        (0..11u32)
            .map(|i| format!("sensor-4,t={i},pm25={}", 10 + i).into_bytes())
            .collect()
    }

    fn batch_record() -> BatchRecord {
        let leaves: Vec<Digest> = messages().iter().map(|m| message_leaf(m)).collect();
        BatchRecord {
            device: key(40),
            org: OrgName::new("transport").expect("org"),
            sequence: 2,
            root: MerkleTree::new(leaves).root(),
            message_count: 11,
            height: Height(5),
            at_ms: BLOCK_TIME_MS + 5000,
        }
    }

    /// A receipt of block 7, whose state holds the record and the batch.
    fn receipt_of(claim: impl FnOnce(&SparseMerkleTree) -> Claim, record: &Record) -> Receipt {
        let validators = genesis_validators();
        let extra = vec![
            (
                StateKey::Record(RECORD).to_bytes(),
                borsh::to_vec(record).expect("encode"),
            ),
            (
                StateKey::Batch(BATCH).to_bytes(),
                borsh::to_vec(&batch_record()).expect("encode"),
            ),
        ];
        let tip = block(7, Digest::of(b"parent"), &validators.set, state(extra));
        let certificate = validators.certify(&tip.header, &[0, 1, 2]);
        assemble::receipt(
            claim(&tip.state),
            certified(tip.header.clone(), &certificate).expect("finalized"),
            ValidatorPath::single(validators.set.clone()),
        )
        .expect("receipt")
    }

    fn record_receipt(id: Digest, record: &Record) -> Receipt {
        receipt_of(
            |state| Claim::Record(Box::new(assemble::record_claim(state, id).expect("claim"))),
            record,
        )
    }

    fn batch_receipt() -> Receipt {
        receipt_of(
            |state| {
                Claim::Batch(Box::new(
                    assemble::batch_claim(state, BATCH).expect("claim"),
                ))
            },
            &record(1, false),
        )
    }

    fn message_receipt(index: usize) -> Receipt {
        let batch = batch_receipt();
        let leaves: Vec<Digest> = messages().iter().map(|m| message_leaf(m)).collect();
        let inclusion = MerkleTree::new(leaves).prove(index);
        assemble::message_receipt(batch, messages()[index].clone(), inclusion).expect("receipt")
    }

    #[test]
    fn a_record_receipt_proves_parties_acknowledgements_and_erasure_but_no_reason() {
        let anchor = genesis_validators().anchor();
        let erased = verify(&record_receipt(RECORD, &record(2, true)), &anchor).expect("valid");
        assert_eq!(erased.kind, "record");
        let owner = Address::of_key(&alice().public_key());
        let author = Address::of_key(&key(20));
        assert!(
            erased.statement.starts_with(&format!(
                "Record {RECORD}: lab_result of owner {owner}, anchored by {author} for health at height 3"
            )),
            "{}",
            erased.statement
        );
        assert!(
            erased
                .statement
                .contains(&format!("commitment {}", Digest::of(b"content")))
        );
        assert!(erased.statement.contains(&format!(
            "acknowledged by {} at height 4",
            Address::of_key(&key(30))
        )));
        assert!(erased.statement.contains("erased at height 6"));
        assert!(!erased.statement.contains("Ada"), "{}", erased.statement);

        let absent =
            verify(&record_receipt(Digest([1; 32]), &record(0, false)), &anchor).expect("valid");
        assert!(
            absent
                .statement
                .starts_with(&format!("No record {}", Digest([1; 32])))
        );

        // The fullest record still has a statement within its bound.
        let full = record_receipt(RECORD, &record(RECIPIENTS_PER_RECORD_MAX, true));
        assert!(verify(&full, &anchor).is_ok());
    }

    #[test]
    fn a_record_rewritten_to_hide_its_erasure_fails_its_state_proof() {
        let anchor = genesis_validators().anchor();
        let mut receipt = record_receipt(RECORD, &record(1, true));
        if let Claim::Record(claim) = &mut receipt.claim
            && let Some(record) = &mut claim.record
        {
            record.erasure = None;
        }
        receipt = assemble::receipt(receipt.claim, receipt.block, receipt.validators)
            .expect("re-rendered statement");
        assert!(matches!(
            verify(&receipt, &anchor),
            Err(VerifyError::State { .. })
        ));
    }

    #[test]
    fn a_message_receipt_proves_the_message_at_its_position() {
        let anchor = genesis_validators().anchor();
        for index in [0, 5, 10] {
            let verified = verify(&message_receipt(index), &anchor).expect("valid");
            assert_eq!(verified.kind, "message");
            assert!(
                verified.statement.starts_with(&format!(
                    "Message {} of 11 in batch {BATCH} ({} bytes, SHA-256 {}), signed by device {} of transport, sequence 2",
                    index + 1,
                    messages()[index].len(),
                    Digest::of(&messages()[index]),
                    key(40)
                )),
                "{}",
                verified.statement
            );
        }
    }

    /// `receipt`'s message claim changed by `change`, its statement
    /// rendered anew so that only the proofs can refuse it.
    fn altered(receipt: Receipt, change: impl FnOnce(&mut MessageClaim)) -> Receipt {
        let mut claim = receipt.claim;
        if let Claim::Message(message) = &mut claim {
            change(message);
        }
        assemble::receipt(claim, receipt.block, receipt.validators).expect("receipt")
    }

    #[test]
    fn a_changed_moved_or_miscounted_message_is_refused() {
        let anchor = genesis_validators().anchor();
        let changed = altered(message_receipt(3), |claim| claim.message.0.push(b'0'));
        let moved = altered(message_receipt(3), |claim| claim.inclusion.index = 4);
        let miscounted = altered(message_receipt(3), |claim| claim.inclusion.leaf_count = 12);
        let forged_batch = altered(message_receipt(3), |claim| {
            if let Some(record) = &mut claim.batch.record {
                record.message_count = 12;
            }
        });
        for receipt in [changed, moved, miscounted] {
            assert!(
                matches!(
                    verify(&receipt, &anchor),
                    Err(VerifyError::NotInBatch { .. })
                ),
                "{:?}",
                verify(&receipt, &anchor)
            );
        }
        assert!(matches!(
            verify(&forged_batch, &anchor),
            Err(VerifyError::State { .. })
        ));
        let not_a_batch = assemble::message_receipt(
            record_receipt(RECORD, &record(0, false)),
            messages()[0].clone(),
            MerkleTree::new(vec![message_leaf(&messages()[0])]).prove(0),
        );
        assert_eq!(not_a_batch, Err(assemble::AssembleError::NotABatch));
        // Nor is a receipt made of a message the batch does not hold there.
        let batch = receipt_of(
            |state| {
                Claim::Batch(Box::new(
                    assemble::batch_claim(state, BATCH).expect("claim"),
                ))
            },
            &record(0, false),
        );
        let leaves: Vec<Digest> = messages().iter().map(|m| message_leaf(m)).collect();
        let forged = assemble::message_receipt(
            batch,
            b"sensor-4,t=3,pm25=1".to_vec(),
            MerkleTree::new(leaves).prove(3),
        );
        assert!(matches!(
            forged,
            Err(assemble::AssembleError::NotInBatch { .. })
        ));
    }

    #[test]
    fn flipping_any_byte_of_a_record_batch_or_message_receipt_fails() {
        let anchor = genesis_validators().anchor();
        assert_every_flip_fails(&record_receipt(RECORD, &record(2, true)), &anchor);
        assert_every_flip_fails(&batch_receipt(), &anchor);
        assert_every_flip_fails(&message_receipt(7), &anchor);
    }
}

/// The evidence item and case of the synthetic chain's state (ADR 0008).
const EVIDENCE: Digest = Digest([0xe1; 32]);
const CASE: Digest = Digest([0xca; 32]);

fn custody_record() -> cityledger_types::safety::CustodyRecord {
    use cityledger_types::safety::{
        CustodyEvent, CustodyEventKind, CustodyHistory, CustodyRecord, EvidenceLink, Location,
        MediaKind,
    };
    let police = cityledger_types::OrgName::new("police").expect("org");
    let prosecutor = cityledger_types::OrgName::new("prosecutor").expect("org");
    let officer = SecretKey::from_seed([31; 32]).public_key();
    let clerk = SecretKey::from_seed([32; 32]).public_key();
    let event = |kind, org: &cityledger_types::OrgName, by, height| CustodyEvent {
        kind,
        org: org.clone(),
        by,
        height: Height(height),
        at_ms: BLOCK_TIME_MS + height * 1000,
    };
    CustodyRecord {
        link: EvidenceLink::Incident(Digest([0x1c; 32])),
        media_kind: MediaKind::Video,
        captured_at_ms: BLOCK_TIME_MS,
        location: Location {
            area: cityledger_types::AreaCode::new("district-7").expect("area"),
            point: None,
        },
        source_device: None,
        commitment: Digest([0xc0; 32]),
        custodian: prosecutor.clone(),
        offer: None,
        history: CustodyHistory(vec![
            event(CustodyEventKind::Collected, &police, officer, 2),
            event(
                CustodyEventKind::Offered {
                    to: prosecutor.clone(),
                    receiver: clerk,
                },
                &police,
                officer,
                3,
            ),
            event(
                CustodyEventKind::Accepted {
                    from: police.clone(),
                },
                &prosecutor,
                clerk,
                4,
            ),
        ]),
    }
}

/// State entries, as (key, value) bytes.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The case's items and its two versions: the first two items, then five.
fn case_entries() -> (Vec<Digest>, Entries) {
    use cityledger_types::safety::{CaseItems, CaseRecord, CaseVersionRecord, Note, case_root};
    let items: Vec<Digest> = (0..5u8).map(|i| Digest([0x50 + i; 32])).collect();
    let case = CaseRecord {
        org: cityledger_types::OrgName::new("police").expect("org"),
        incident: None,
        title: Note::new("junction 12").expect("note"),
        items: CaseItems(items.clone()),
        versions: 2,
        created_height: Height(2),
        created_at_ms: BLOCK_TIME_MS,
    };
    let version = |count: usize, height: u64| CaseVersionRecord {
        item_count: count as u32,
        root: case_root(&items[..count]),
        height: Height(height),
        at_ms: BLOCK_TIME_MS + height * 1000,
    };
    let entries = vec![
        (
            StateKey::Case(CASE).to_bytes(),
            borsh::to_vec(&case).expect("encode"),
        ),
        (
            StateKey::CaseVersion(CASE, 1).to_bytes(),
            borsh::to_vec(&version(2, 3)).expect("encode"),
        ),
        (
            StateKey::CaseVersion(CASE, 2).to_bytes(),
            borsh::to_vec(&version(5, 5)).expect("encode"),
        ),
    ];
    (items, entries)
}

fn safety_block() -> (TestBlock, Validators) {
    let validators = genesis_validators();
    let (_, mut extra) = case_entries();
    extra.push((
        StateKey::Custody(EVIDENCE).to_bytes(),
        borsh::to_vec(&custody_record()).expect("encode"),
    ));
    let block = block(7, Digest::of(b"parent"), &validators.set, state(extra));
    (block, validators)
}

fn safety_receipt(claim: Claim) -> Receipt {
    let (block, validators) = safety_block();
    let certificate = validators.certify(&block.header, &[0, 1, 2]);
    assemble::receipt(
        claim,
        certified(block.header.clone(), &certificate).expect("finalized"),
        ValidatorPath::single(validators.set.clone()),
    )
    .expect("receipt")
}

fn custody_receipt(id: Digest) -> Receipt {
    let (block, _) = safety_block();
    let claim = assemble::custody_claim(&block.state, id).expect("claim");
    safety_receipt(Claim::Custody(Box::new(claim)))
}

fn case_item_receipt(version: u32, item: Digest) -> Receipt {
    let (block, _) = safety_block();
    let claim = assemble::case_item_claim(&block.state, CASE, version, item)
        .expect("claim")
        .expect("the item is in the version");
    safety_receipt(Claim::CaseItem(Box::new(claim)))
}

#[test]
fn a_custody_receipt_words_the_whole_chain_of_custody() {
    let anchor = genesis_validators().anchor();
    let verified = verify(&custody_receipt(EVIDENCE), &anchor).expect("valid");
    assert_eq!(verified.kind, "custody");
    assert!(
        verified.statement.contains("is held by prosecutor")
            && verified
                .statement
                .contains("accepted by prosecutor from police"),
        "{}",
        verified.statement
    );
    let absent = verify(&custody_receipt(Digest([0xe2; 32])), &anchor).expect("valid");
    assert!(absent.statement.starts_with("No evidence item"));
    // A history with the hand-over left out is not the proven one.
    let mut receipt = custody_receipt(EVIDENCE);
    if let Claim::Custody(claim) = &mut receipt.claim
        && let Some(record) = &mut claim.record
    {
        record.history.0.remove(1);
    }
    assert!(verify(&receipt, &anchor).is_err());
}

#[test]
fn a_case_item_receipt_proves_the_item_and_its_place_in_old_and_new_versions() {
    let anchor = genesis_validators().anchor();
    let (items, _) = case_entries();
    let (block, _) = safety_block();
    for (version, count) in [(1u32, 2usize), (2, 5)] {
        for (index, item) in items[..count].iter().enumerate() {
            let verified = verify(&case_item_receipt(version, *item), &anchor).expect("valid");
            assert_eq!(verified.kind, "case_item");
            let expected = format!(
                "is item {} of the {count} items of version {version} of case {CASE}",
                index + 1
            );
            assert!(
                verified.statement.contains(&expected),
                "{}",
                verified.statement
            );
        }
    }
    // Version 1 holds two items only; a later item is not in it.
    assert_eq!(
        assemble::case_item_claim(&block.state, CASE, 1, items[4]).expect("claim"),
        None
    );
    // Another position, or another item at this position, fails.
    let mut moved = case_item_receipt(2, items[1]);
    if let Claim::CaseItem(claim) = &mut moved.claim {
        claim.inclusion.index = 2;
    }
    assert!(verify(&moved, &anchor).is_err());
    let mut swapped = case_item_receipt(2, items[1]);
    if let Claim::CaseItem(claim) = &mut swapped.claim {
        claim.item = items[2];
    }
    assert!(verify(&swapped, &anchor).is_err());
}

#[test]
fn flipping_any_byte_of_a_custody_or_case_item_receipt_fails() {
    let anchor = genesis_validators().anchor();
    let (items, _) = case_entries();
    assert_every_flip_fails(&custody_receipt(EVIDENCE), &anchor);
    assert_every_flip_fails(&case_item_receipt(1, items[1]), &anchor);
}
