//! Writes receipts of a synthetic four-validator chain, and its genesis,
//! for the Node.js test of the WASM module (`.ci/run` calls this):
//! `cargo run -p cityledger-verifier-wasm --example fixtures -- DIR`.
//!
//! Everything is real: keys, signatures, the state tree and certificates
//! in Commonware's encoding (the node's tests hold that encoding to the
//! engine's). Only the chain is built in memory instead of by consensus.

use cityledger_types::block::{ConsensusRound, outcomes_root, tx_root};
use cityledger_types::genesis::{Genesis, GenesisCurrency, GenesisValidator};
use cityledger_types::records::{BalanceRecord, CurrencyRecord, StateKey};
use cityledger_types::smt::SparseMerkleTree;
use cityledger_types::tx::{ChainId, ClientTxId, TransferOrder, TxBody};
use cityledger_types::{
    Address, Amount, BlockHeader, CurrencyCode, Digest, Height, OrgName, SecretKey, SignedTx,
    TxOutcome,
};
use cityledger_verifier::Claim;
use cityledger_verifier::assemble::{self, balance_claim, certified, currency_fact, tx_claim};
use cityledger_verifier::certificate::testing::certify;
use cityledger_verifier::validators::{ValidatorPath, ValidatorSet};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: fixtures DIR")?);
    std::fs::create_dir_all(&dir)?;
    let chain_id = ChainId::new("cityledger-wasm-test")?;
    let city = CurrencyCode::new("CITY")?;
    let validators: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
    let orgs = ["treasury", "transport", "health", "police"];
    let genesis = Genesis {
        chain_id: chain_id.clone(),
        genesis_time_ms: 1_800_000_000_000,
        currencies: vec![GenesisCurrency {
            code: city.clone(),
            decimals: 2,
        }],
        orgs: Vec::new(),
        validators: validators
            .iter()
            .zip(orgs)
            .map(|(key, org)| {
                Ok(GenesisValidator {
                    org: OrgName::new(org)?,
                    key: key.public_key(),
                })
            })
            .collect::<Result<_, cityledger_types::names::NameError>>()?,
    };
    let set = ValidatorSet::new(0, validators.iter().map(SecretKey::public_key))?;
    let alice = SecretKey::from_seed([42; 32]);
    let alice_address = Address::of_key(&alice.public_key());
    let state = SparseMerkleTree::from_entries([
        (
            StateKey::Currency(city.clone()).to_bytes(),
            borsh::to_vec(&CurrencyRecord {
                code: city.clone(),
                decimals: 2,
            })?,
        ),
        (
            StateKey::Balance(alice_address, city.clone()).to_bytes(),
            borsh::to_vec(&BalanceRecord {
                credits_posted: 10_000,
                debits_posted: 1_250,
                ..BalanceRecord::default()
            })?,
        ),
    ]);
    let tx: SignedTx = TxBody::transfer(
        chain_id.clone(),
        alice.public_key(),
        ClientTxId::new("lunch-1")?,
        1_800_000_600_000,
        TransferOrder::new(
            alice_address,
            Address::of_key(&validators[0].public_key()),
            city.clone(),
            Amount(1_250),
        ),
    )
    .sign(&alice);
    let outcomes = vec![TxOutcome::Applied];
    let hashes: Vec<Digest> = vec![tx.hash()];
    let header = BlockHeader {
        chain_id: chain_id.clone(),
        height: Height(12),
        parent: Digest::of(b"block 11"),
        timestamp_ms: 1_800_000_012_000,
        round: ConsensusRound {
            epoch: 0,
            view: 14,
            parent_view: 13,
            leader: Some(validators[1].public_key()),
        },
        tx_root: tx_root(std::slice::from_ref(&tx)),
        outcomes_root: outcomes_root(&hashes, &outcomes),
        state_root: state.root(),
        validator_set_hash: set.hash(),
        tx_count: 1,
    };
    let certificate = certify(&header, &validators, &[0, 1, 2]);
    let path = ValidatorPath::single(set);
    let currencies = vec![currency_fact(&state, &city)?];
    let transfer = assemble::receipt(
        Claim::Transaction(tx_claim(tx, 0, &hashes, &outcomes, currencies)?),
        certified(header.clone(), &certificate)?,
        path.clone(),
    )?;
    let balance = assemble::receipt(
        Claim::Balance(balance_claim(&state, alice_address, &city)?),
        certified(header, &certificate)?,
        path,
    )?;
    let mut other = genesis.clone();
    other.chain_id = ChainId::new("cityledger-elsewhere")?;
    let mut tampered = transfer.to_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    std::fs::write(dir.join("genesis.json"), serde_json::to_vec(&genesis)?)?;
    std::fs::write(dir.join("other-genesis.json"), serde_json::to_vec(&other)?)?;
    std::fs::write(dir.join("transfer.bin"), transfer.to_bytes())?;
    std::fs::write(dir.join("transfer.txt"), transfer.to_text())?;
    std::fs::write(dir.join("balance.txt"), balance.to_text())?;
    std::fs::write(dir.join("tampered.bin"), tampered)?;
    println!(
        "wrote fixtures to {}: transfer receipt {} bytes, balance receipt {} bytes",
        dir.display(),
        transfer.to_bytes().len(),
        balance.to_bytes().len()
    );
    // Cost of one offline check (decode and verify), for docs/PERFORMANCE.md.
    let anchor = cityledger_verifier::TrustAnchor::from_genesis(&genesis)?;
    for (name, receipt) in [("transfer", &transfer), ("balance", &balance)] {
        let bytes = receipt.to_bytes();
        let rounds = 200u32;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            let decoded = cityledger_verifier::Receipt::from_bytes(&bytes)?;
            cityledger_verifier::verify(&decoded, &anchor)?;
        }
        println!(
            "{name}: decode and verify in {} us (native, this build's profile)",
            started.elapsed().as_micros() / u128::from(rounds)
        );
    }
    Ok(())
}
