//! Records, devices and streams through a real dev node and the
//! `cityledger record`, `device` and `stream` commands: a lab result passes
//! from the hospital to the pharmacy with the patient's consent, every
//! access (granted or refused) in the patient's log, and erasure removes
//! the blob and the keys from the node's disk and leaves a tombstone; the
//! scanner hands images to the image server, provably on both sides; every
//! message of a 100,000-message stream proves, and a changed one fails.

mod common;

use cityledger_types::Digest;
use cityledger_types::device::message_leaf;
use cityledger_types::merkle::MerkleTree;
use common::*;

fn text(value: &serde_json::Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}

/// The files the node's blob store holds of `record`.
fn blob_files(node: &Node, record: &str) -> Vec<std::path::PathBuf> {
    let dir = node.home.join("data").join("blobs");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(record))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_result_reaches_the_pharmacy_with_consent_and_erasure_leaves_only_a_tombstone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    cli.new_key("patient");
    cli.new_key("pharmacy");
    let result = dir.path().join("hba1c.txt");
    std::fs::write(
        &result,
        b"HbA1c 6.1 % (patient ref in the sealed content only)",
    )
    .expect("write the result");

    let anchored = cli.json(&[
        "record",
        "anchor",
        "--signer",
        "health",
        "--org",
        "health",
        "--type",
        "lab_result",
        "--owner",
        "patient",
        "--meta",
        "study=HB-2026",
        "--file",
        result.to_str().expect("utf-8 path"),
    ]);
    let record = text(&anchored, "record");
    assert_eq!(blob_files(&node, &record).len(), 2, "blob and keys stored");
    let shown = cli.json(&["record", "show", &record]);
    assert_eq!(shown["record_type"], "lab_result");
    assert_eq!(shown["commitment"], anchored["commitment"]);

    // Without consent the pharmacy is refused, and the refusal is logged.
    cli.refused(
        &["record", "fetch", &record, "--signer", "pharmacy"],
        "no_grant",
    );
    let log = cli.json(&["record", "accesses", "--owner", "patient"]);
    assert_eq!(log["items"][0]["refused"], "no_grant", "{log}");

    // The patient consents for this record; the pharmacy reads it.
    let granted = cli.json(&[
        "record", "grant", "--signer", "patient", "--reader", "pharmacy", "--record", &record,
        "--days", "7",
    ]);
    let grant = text(&granted, "grant");
    let out = dir.path().join("received.txt");
    let fetched = cli.json(&[
        "record",
        "fetch",
        &record,
        "--signer",
        "pharmacy",
        "--grant",
        &grant,
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        std::fs::read(&out).expect("read the received content"),
        std::fs::read(&result).expect("read the result")
    );
    assert_eq!(fetched["commitment"], anchored["commitment"]);

    // Both sides list the grant, each signing its own read; a third party
    // is refused the patient's list.
    let given = cli.json(&["record", "grants", "--owner", "patient"]);
    assert_eq!(given["items"][0]["id"], grant.as_str(), "{given}");
    assert_eq!(given["items"][0]["state"], "active", "{given}");
    assert_eq!(
        given["items"][0]["scope"]["value"],
        record.as_str(),
        "{given}"
    );
    let held = cli.json(&["record", "grants", "--reader", "pharmacy"]);
    assert_eq!(held["items"][0]["id"], grant.as_str(), "{held}");
    let patient = load_key(&node.home, "patient");
    let pharmacy = load_key(&node.home, "pharmacy");
    let spying = node
        .client()
        .grants_given(&pharmacy, None, None)
        .await
        .expect("the pharmacy's own grants given: none");
    assert!(spying.items.is_empty(), "{spying:?}");
    let patient_address = cityledger_types::Address::of_key(&patient.public_key());
    let mut url = reqwest::Url::parse(&format!("{}/v1/grants", node.url)).expect("url");
    url.query_pairs_mut()
        .append_pair("owner", &patient_address.to_string());
    let refused = signed_raw_get(&raw_http(), url.as_str(), &pharmacy).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.json()["code"], "not_the_reader", "{refused:?}");

    // The log names every access: the pharmacy's, under the grant.
    let log = cli.json(&[
        "record", "accesses", "--owner", "patient", "--record", &record,
    ]);
    let entries = log["items"].as_array().expect("items");
    assert!(
        entries.iter().any(|a| a["grant"] == grant.as_str()
            && a["decision"] == "granted"
            && a["id"] == fetched["access"]),
        "{log}"
    );

    // Revoked, the grant reads no more; the refusal is logged too.
    cli.ok(&["record", "revoke-grant", &grant, "--signer", "patient"]);
    let given = cli.json(&["record", "grants", "--owner", "patient"]);
    assert_eq!(given["items"][0]["state"], "revoked", "{given}");
    cli.refused(
        &[
            "record", "fetch", &record, "--signer", "pharmacy", "--grant", &grant,
        ],
        "grant_revoked",
    );

    // Erasure: the blob and keys leave the disk, the tombstone stays.
    cli.ok(&[
        "record",
        "erase",
        &record,
        "--signer",
        "patient",
        "--reason",
        "GDPR article 17",
    ]);
    assert!(
        blob_files(&node, &record).is_empty(),
        "blob and keys are gone from the disk"
    );
    let tombstone = cli.json(&["record", "show", &record]);
    assert_eq!(tombstone["erasure"]["reason"], "GDPR article 17");
    // The record's receipt proves the commitment and the erasure, not the
    // reason (which may name the patient).
    let receipt = dir.path().join("record.receipt");
    let made = run_cli_logged(&[
        "receipt",
        "record",
        &record,
        "--node",
        &node.url,
        "--out",
        receipt.to_str().expect("utf-8 path"),
    ]);
    assert!(made.success(), "{made:?}");
    let proven = verify_offline(&receipt, &node.home.join("genesis.json"));
    let commitment = anchored["commitment"].as_str().expect("commitment");
    assert!(
        proven.contains(&format!("commitment {commitment}")),
        "{proven}"
    );
    assert!(proven.contains("erased at height"), "{proven}");
    assert!(!proven.contains("GDPR"), "{proven}");
    assert_eq!(
        tombstone["commitment"], anchored["commitment"],
        "kept for audit"
    );
    cli.refused(
        &["record", "fetch", &record, "--signer", "patient"],
        "410 Gone",
    );
    let answer = raw_http()
        .get(format!(
            "{}/v1/records/{record}/content?access={}",
            node.url,
            Digest([1; 32])
        ))
        .send()
        .await
        .expect("ask for the content");
    // Sealed content is a private read: unsigned, it is refused before the
    // node looks the record up (the signed fetch above got its 410).
    assert_eq!(answer.status().as_u16(), 403);
    let problem: serde_json::Value = answer.json().await.expect("a problem document");
    assert_eq!(problem["code"], "unsigned_read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_hands_images_to_the_image_server_provably_on_both_sides() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    cli.new_key("patient");
    cli.new_key("scanner");
    cli.new_key("server");
    for (name, device_type) in [("scanner", "mri_scanner"), ("server", "imaging_server")] {
        cli.ok(&[
            "device",
            "register",
            "--signer",
            "health",
            "--key",
            name,
            "--type",
            device_type,
            "--label",
            "radiology-1",
        ]);
    }
    let devices = cli.json(&["device", "list", "--org", "health"]);
    assert_eq!(
        devices["items"].as_array().map(Vec::len),
        Some(2),
        "{devices}"
    );

    let series = dir.path().join("series.dcm");
    std::fs::write(&series, vec![7u8; 200_000]).expect("write the series");
    let sent = cli.json(&[
        "record",
        "send",
        "--signer",
        "scanner",
        "--org",
        "health",
        "--type",
        "mri_image",
        "--owner",
        "patient",
        "--to",
        "server",
        "--file",
        series.to_str().expect("utf-8 path"),
    ]);
    let record = text(&sent, "record");
    let received = dir.path().join("received.dcm");
    let acknowledged = cli.json(&[
        "record",
        "ack",
        &record,
        "--signer",
        "server",
        "--out",
        received.to_str().expect("utf-8 path"),
    ]);
    assert!(
        acknowledged["acknowledged_at"].as_u64().is_some(),
        "{acknowledged}"
    );
    assert_eq!(
        std::fs::read(&received).expect("read"),
        std::fs::read(&series).expect("read")
    );
    // A second acknowledgement is refused: delivery is recorded once.
    cli.refused(
        &["record", "ack", &record, "--signer", "server"],
        "already_acknowledged",
    );
    let shown = cli.json(&["record", "show", &record]);
    let server_key = run_cli(&[
        "keys",
        "show",
        "server",
        "--home",
        &node.home.display().to_string(),
        "--json",
    ]);
    let server_key: serde_json::Value =
        serde_json::from_str(&server_key.stdout).expect("keys show --json");
    assert_eq!(shown["author"].as_str().map(str::len), Some(64));
    assert_eq!(
        shown["acknowledgements"][0]["by"], server_key["public_key"],
        "{shown}"
    );

    // A suspended scanner signs nothing.
    cli.ok(&[
        "device",
        "suspend",
        "scanner",
        "--signer",
        "health",
        "--reason",
        "calibration",
    ]);
    cli.refused(
        &[
            "record",
            "send",
            "--signer",
            "scanner",
            "--org",
            "health",
            "--type",
            "mri_image",
            "--owner",
            "patient",
            "--to",
            "server",
            "--file",
            series.to_str().expect("utf-8 path"),
        ],
        "device_inactive",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_of_a_100000_message_stream_proves_and_a_changed_one_fails() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    cli.new_key("car");
    cli.ok(&[
        "device",
        "register",
        "--signer",
        "transport",
        "--key",
        "car",
        "--type",
        "connected_car",
        "--label",
        "fleet-17",
    ]);
    let messages: Vec<String> = (0..100_000u32)
        .map(|i| format!("car-17,t={i},speed={},lat=52.{i:06}", 30 + i % 90))
        .collect();
    let file = dir.path().join("telemetry.csv");
    std::fs::write(&file, messages.join("\n") + "\n").expect("write the stream");
    let file_arg = file.to_str().expect("utf-8 path");
    let anchored = cli.json(&["stream", "anchor", file_arg, "--signer", "car"]);
    assert_eq!(anchored["messages"], 100_000);
    assert_eq!(anchored["batches"], 2, "65,536 messages per batch");

    // Every message proves against its batch and the state root.
    let anchors: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("telemetry.csv.anchors.json")).expect("anchors file"),
    )
    .expect("anchors JSON");
    let client = node.client();
    let mut proven = 0usize;
    for batch in anchors["batches"].as_array().expect("batches") {
        let id = Digest::from_hex(batch["batch"].as_str().expect("batch id")).expect("hex");
        let first = batch["first_line"].as_u64().expect("first line") as usize - 1;
        let count = batch["message_count"].as_u64().expect("count") as usize;
        let proof = client.batch(&id).await.expect("the batch and its proof");
        let part = &messages[first..first + count];
        let tree = MerkleTree::new(part.iter().map(|m| message_leaf(m.as_bytes())).collect());
        for (index, message) in part.iter().enumerate() {
            proof
                .check_message(message.as_bytes(), &tree.prove(index))
                .unwrap_or_else(|e| panic!("message {} fails: {e}", first + index + 1));
            proven += 1;
        }
        let mut changed = part[0].clone();
        changed.push('0');
        assert!(
            proof
                .check_message(changed.as_bytes(), &tree.prove(0))
                .is_err()
        );
    }
    assert_eq!(proven, 100_000);

    // Through the CLI: a line proves; once changed in the file, it fails.
    let prove =
        |line: &str| run_cli_logged(&["stream", "prove", file_arg, line, "--node", &node.url]);
    for line in ["1", "65536", "65537", "100000"] {
        let output = prove(line);
        assert!(
            output.success() && output.stdout.starts_with("VALID"),
            "{output:?}"
        );
    }
    // A message receipt, checked offline: the line, its position and its
    // batch, final on chain.
    let receipt = dir.path().join("message-65537.receipt");
    let made = run_cli_logged(&[
        "receipt",
        "message",
        file_arg,
        "65537",
        "--node",
        &node.url,
        "--out",
        receipt.to_str().expect("utf-8 path"),
    ]);
    assert!(made.success(), "{made:?}");
    let genesis = node.home.join("genesis.json");
    let valid = verify_offline(&receipt, &genesis);
    assert!(
        valid.contains("Message 1 of 34464 in batch "),
        "line 65,537 opens the second batch: {valid}"
    );

    let mut tampered = messages.clone();
    tampered[70_000] = tampered[70_000].replace("speed=", "speed=1");
    std::fs::write(&file, tampered.join("\n") + "\n").expect("rewrite the stream");
    let output = prove("70001");
    assert!(
        !output.success(),
        "a changed message must not prove: {output:?}"
    );
    assert!(output.stderr.contains("does not prove"), "{output:?}");
    assert!(prove("1").success(), "the other batch is untouched");
    let refused = run_cli_logged(&["receipt", "message", file_arg, "70001", "--node", &node.url]);
    assert!(
        !refused.success(),
        "no receipt for a changed message: {refused:?}"
    );

    // The receipt made before stays valid with the node stopped.
    drop(cli);
    let mut node = node;
    node.kill();
    verify_offline(&receipt, &genesis);
}
