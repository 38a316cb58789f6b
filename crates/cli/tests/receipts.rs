//! Receipts and checkpoints from a real dev node, verified after the node
//! is stopped: by `cityledger verify` and `cityledger verify-consistency`
//! (the exit code is the verdict) and, exhaustively against tampering, by
//! the verifier crate in process.

mod common;

use cityledger_types::genesis::Genesis;
use cityledger_types::{Address, Digest};
use cityledger_verifier::verify::{accepted_byte_flips, accepted_flips};
use cityledger_verifier::{
    Checkpoint, Claim, ConsistencyProof, Receipt, TrustAnchor, verify, verify_checkpoint,
    verify_consistency,
};
use common::*;
use std::path::Path;

/// What each transfer moves, in minor units.
const PAYMENT_MINOR: u128 = 1_250;

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

/// Flips every byte of `receipt`'s binary form, one at a time, and checks
/// that no flip still verifies.
fn assert_tamper_proof(receipt: &Receipt, anchor: &TrustAnchor) {
    let accepted = accepted_flips(receipt, anchor, &[0x01]);
    assert!(accepted.is_empty(), "flips that still verify: {accepted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_receipt_verifies_offline_after_the_node_stops() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let mut rng = rand::thread_rng();
    let alice = random_key(&mut rng);
    let nobody = random_key(&mut rng);

    let funded = transfer(
        &treasury,
        &chain,
        org_account("treasury:issuance"),
        address_of(&alice),
        10 * PAYMENT_MINOR,
        "fund-alice",
    );
    submit_and_finalize(&client, &funded).await;
    let paid = transfer(
        &alice,
        &chain,
        address_of(&alice),
        address_of(&treasury),
        PAYMENT_MINOR,
        "pay",
    );
    submit_and_finalize(&client, &paid).await;
    let overdraft = transfer(
        &alice,
        &chain,
        address_of(&alice),
        address_of(&treasury),
        1_000 * PAYMENT_MINOR,
        "overdraft",
    );
    let rejected = submit_and_finalize(&client, &overdraft).await;
    assert!(outcome_code(&rejected).is_some(), "{rejected:?}");

    // A transaction the node never saw has no receipt.
    let (status, problem) = expect_problem(
        client.tx_receipt(&Digest([7; 32])).await,
        "receipt of an unknown transaction",
    );
    assert_eq!((status, problem.code.as_str()), (404, "tx_not_finalized"));

    let out = dir.path();
    let url = node.url.clone();
    let alice_address = address_of(&alice).to_string();
    let nobody_address = address_of(&nobody).to_string();
    let paid_hash = paid.hash().to_hex();
    let overdraft_hash = overdraft.hash().to_hex();
    let files = [
        (
            "paid",
            "tx",
            paid_hash.as_str(),
            vec!["--qr", "paid.png", "--pdf", "paid.pdf"],
        ),
        ("rejected", "tx", overdraft_hash.as_str(), vec!["--binary"]),
        ("balance", "balance", alice_address.as_str(), vec![]),
        ("absent", "balance", nobody_address.as_str(), vec![]),
    ];
    for (name, kind, subject, extra) in &files {
        let target = out.join(name);
        let mut args = vec![
            "receipt",
            kind,
            subject,
            "--node",
            &url,
            "--out",
            path_str(&target),
        ];
        let extra_paths: Vec<String> = extra
            .iter()
            .map(|arg| {
                if arg.contains('.') {
                    path_str(&out.join(arg)).to_owned()
                } else {
                    (*arg).to_owned()
                }
            })
            .collect();
        args.extend(extra_paths.iter().map(String::as_str));
        let fetched = run_cli_logged(&args);
        assert!(fetched.success(), "{fetched:?}");
    }
    // Printed to stdout without --out: the text form, one line.
    let printed = run_cli_logged(&["receipt", "tx", &paid_hash, "--node", &url]);
    assert!(printed.success(), "{printed:?}");
    Receipt::from_text(printed.stdout.trim()).expect("stdout holds the text form");

    let genesis_path = node.home.join("genesis.json");
    node.kill();
    assert!(client.health().await.is_err(), "the node is stopped");

    // Offline, with the CLI: exit 0 and what it proves.
    let expectations = [
        ("paid", "was applied"),
        ("rejected", "but rejected (insufficient_funds"),
        ("balance", "held 112.50 CITY"),
        ("absent", "held no CITY"),
    ];
    for (name, words) in expectations {
        let checked = run_cli_logged(&[
            "verify",
            path_str(&out.join(name)),
            "--trust",
            path_str(&genesis_path),
        ]);
        assert!(checked.success(), "{checked:?}");
        assert!(checked.stdout.starts_with("VALID: "), "{checked:?}");
        assert!(checked.stdout.contains(words), "{name}: {checked:?}");
    }
    let as_json = run_cli_logged(&[
        "verify",
        path_str(&out.join("paid")),
        "--trust",
        path_str(&genesis_path),
        "--json",
    ]);
    assert!(as_json.success(), "{as_json:?}");
    let report: serde_json::Value = serde_json::from_str(as_json.stdout.trim()).expect("JSON");
    assert_eq!(report["valid"], true);
    assert_eq!(report["kind"], "transaction");

    // The QR code and the PDF were written.
    let png = std::fs::read(out.join("paid.png")).expect("QR code written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let pdf = std::fs::read(out.join("paid.pdf")).expect("PDF written");
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));

    // Another chain's genesis does not vouch for these receipts.
    let mut other: Genesis =
        serde_json::from_slice(&std::fs::read(&genesis_path).expect("genesis")).expect("JSON");
    other.chain_id = cityledger_types::ChainId::new("cityledger-elsewhere").expect("chain id");
    let other_path = out.join("other-genesis.json");
    std::fs::write(&other_path, serde_json::to_vec(&other).expect("JSON")).expect("write");
    let refused = run_cli_logged(&[
        "verify",
        path_str(&out.join("paid")),
        "--trust",
        path_str(&other_path),
    ]);
    assert!(!refused.success(), "{refused:?}");
    assert!(refused.stderr.contains("NOT valid"), "{refused:?}");

    // A tampered file fails with a non-zero exit code.
    let mut bytes = std::fs::read(out.join("rejected")).expect("binary receipt");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(out.join("tampered"), &bytes).expect("write");
    let tampered = run_cli_logged(&[
        "verify",
        path_str(&out.join("tampered")),
        "--trust",
        path_str(&genesis_path),
    ]);
    assert!(!tampered.success(), "{tampered:?}");

    // In process: every single-byte flip of each kind fails, and sizes.
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(&genesis_path).expect("genesis")).expect("JSON");
    let anchor = TrustAnchor::from_genesis(&genesis).expect("anchor");
    for (name, _) in expectations {
        let receipt = read_receipt(&out.join(name));
        let verified = verify(&receipt, &anchor).expect("valid");
        eprintln!(
            "{name}: {} bytes, {}",
            receipt.to_bytes().len(),
            verified.statement
        );
        if let Claim::Transaction(_) = receipt.claim {
            assert!(
                receipt.to_bytes().len() < 4096,
                "a transfer receipt stays under 4 KB"
            );
        }
    }
    assert_tamper_proof(&read_receipt(&out.join("paid")), &anchor);
    assert_tamper_proof(&read_receipt(&out.join("balance")), &anchor);
    let _ = Address::parse(&alice_address).expect("address");
}

fn read_receipt(path: &Path) -> Receipt {
    let bytes = std::fs::read(path).expect("receipt file");
    if bytes.starts_with(b"CLRC") {
        Receipt::from_bytes(&bytes).expect("binary receipt")
    } else {
        Receipt::from_text(std::str::from_utf8(&bytes).expect("text")).expect("text receipt")
    }
}

/// Most times the test asks for a newer checkpoint before giving up.
const CHECKPOINT_POLLS_MAX: usize = 200;

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).expect("text file")
}

/// Fetches a checkpoint into `path` until its height is above `above`.
async fn checkpoint_above(url: &str, path: &Path, above: u64) -> Checkpoint {
    for _ in 0..CHECKPOINT_POLLS_MAX {
        let fetched = run_cli_logged(&["checkpoint", "--node", url, "--out", path_str(path)]);
        assert!(fetched.success(), "{fetched:?}");
        let checkpoint = Checkpoint::from_text(&read_text(path)).expect("a checkpoint");
        if checkpoint.height().0 > above {
            return checkpoint;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint above height {above}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_prove_offline_that_the_chain_only_grew() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let mut rng = rand::thread_rng();
    let alice = random_key(&mut rng);
    let url = node.url.clone();
    let out = dir.path();
    let genesis_path = node.home.join("genesis.json");

    let funded = transfer(
        &treasury,
        &chain,
        org_account("treasury:issuance"),
        address_of(&alice),
        PAYMENT_MINOR,
        "fund",
    );
    submit_and_finalize(&client, &funded).await;
    let old = checkpoint_above(&url, &out.join("old"), 0).await;
    // Printed to stdout without --out: the text form, one line.
    let printed = run_cli_logged(&["checkpoint", "--node", &url]);
    assert!(printed.success(), "{printed:?}");
    Checkpoint::from_text(printed.stdout.trim()).expect("stdout holds the text form");

    // More blocks, then a later checkpoint and a receipt from that chain.
    for index in 0..3 {
        let paid = transfer(
            &treasury,
            &chain,
            org_account("treasury:issuance"),
            address_of(&alice),
            PAYMENT_MINOR,
            &format!("more-{index}"),
        );
        submit_and_finalize(&client, &paid).await;
    }
    let new = checkpoint_above(&url, &out.join("new"), old.height().0).await;
    let fetched = run_cli_logged(&[
        "receipt",
        "tx",
        &funded.hash().to_hex(),
        "--node",
        &url,
        "--out",
        path_str(&out.join("funded")),
    ]);
    assert!(fetched.success(), "{fetched:?}");

    // Online: the node's proof is checked, and saved.
    let (old_path, new_path, proof_path) = (out.join("old"), out.join("new"), out.join("proof"));
    let online = run_cli_logged(&[
        "verify-consistency",
        path_str(&old_path),
        path_str(&new_path),
        "--node",
        &url,
        "--save-proof",
        path_str(&proof_path),
        "--trust",
        path_str(&genesis_path),
    ]);
    assert!(online.success(), "{online:?}");
    node.kill();
    assert!(client.health().await.is_err(), "the node is stopped");

    // Offline, with the saved proof: exit 0 and what it proves.
    let check = |old: &Path, new: &Path, proof: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify-consistency",
            path_str(old),
            path_str(new),
            "--proof",
            path_str(proof),
            "--trust",
            path_str(&genesis_path),
        ];
        args.extend_from_slice(extra);
        run_cli_logged(&args)
    };
    let offline = check(&old_path, &new_path, &proof_path, &[]);
    assert!(offline.success(), "{offline:?}");
    assert!(offline.stdout.starts_with("CONSISTENT: "), "{offline:?}");
    assert!(
        offline.stdout.contains(&format!(
            "Block {} ({}) of chain {chain} is an ancestor of block {} ({})",
            old.height(),
            old.block.header.id(),
            new.height(),
            new.block.header.id()
        )),
        "{offline:?}"
    );
    let as_json = check(&old_path, &new_path, &proof_path, &["--json"]);
    assert!(as_json.success(), "{as_json:?}");
    let report: serde_json::Value = serde_json::from_str(as_json.stdout.trim()).expect("JSON");
    assert_eq!(report["consistent"], true);
    assert_eq!(report["blocks_appended"], new.height().0 - old.height().0);
    assert_eq!(report["new"]["kind"], "checkpoint");

    // Swapped, tampered or missing input fails with a non-zero exit code.
    let swapped = check(&new_path, &old_path, &proof_path, &[]);
    assert!(!swapped.success(), "{swapped:?}");
    assert!(swapped.stderr.contains("swap them"), "{swapped:?}");
    let mut proof_bytes = ConsistencyProof::from_text(&read_text(&proof_path))
        .expect("saved proof")
        .to_bytes();
    let last = proof_bytes.len() - 1;
    proof_bytes[last] ^= 0x01;
    std::fs::write(out.join("tampered-proof"), &proof_bytes).expect("write");
    let tampered = check(&old_path, &new_path, &out.join("tampered-proof"), &[]);
    assert!(!tampered.success(), "{tampered:?}");
    assert!(tampered.stderr.contains("NOT consistent"), "{tampered:?}");
    let mut checkpoint_bytes = new.to_bytes();
    let middle = checkpoint_bytes.len() / 2;
    checkpoint_bytes[middle] ^= 0x40;
    std::fs::write(out.join("tampered-new"), &checkpoint_bytes).expect("write");
    let tampered = check(&old_path, &out.join("tampered-new"), &proof_path, &[]);
    assert!(!tampered.success(), "{tampered:?}");
    let without = run_cli_logged(&[
        "verify-consistency",
        path_str(&old_path),
        path_str(&new_path),
        "--trust",
        path_str(&genesis_path),
    ]);
    assert!(!without.success(), "{without:?}");
    assert!(without.stderr.contains("--proof FILE"), "{without:?}");

    // A checkpoint is a trust anchor: the receipt verifies against it.
    let trusted = run_cli_logged(&[
        "verify",
        path_str(&out.join("funded")),
        "--trust",
        path_str(&new_path),
    ]);
    assert!(trusted.success(), "{trusted:?}");
    assert!(
        trusted.stdout.contains("trusted: checkpoint of"),
        "{trusted:?}"
    );

    // In process: sizes, and every single-byte flip of NEW fails.
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(&genesis_path).expect("genesis")).expect("JSON");
    let anchor = TrustAnchor::from_genesis(&genesis).expect("anchor");
    let proof = ConsistencyProof::from_text(&read_text(&proof_path)).expect("proof");
    let consistency = verify_consistency(&old, &new, Some(&proof), &anchor).expect("consistent");
    eprintln!(
        "checkpoint at {}: {} bytes; consistency proof {} → {}: {} bytes; {}",
        new.height(),
        new.to_bytes().len(),
        old.height(),
        new.height(),
        proof.to_bytes().len(),
        consistency.statement
    );
    let accepted = accepted_byte_flips(&new.to_bytes(), &[0x01], |bytes| {
        Checkpoint::from_bytes(bytes)
            .ok()
            .is_some_and(|checkpoint| verify_checkpoint(&checkpoint, &anchor).is_ok())
    });
    assert!(accepted.is_empty(), "flips that still verify: {accepted:?}");
}
