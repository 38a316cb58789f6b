//! Citizen services and credentials through a real dev node and the
//! `cityledger application` and `cityledger credential` commands: a driver
//! licence renewal from submission, fee and approval to a valid licence,
//! revoked and checked at a height before and after, reported expired past
//! its validity, exported as a signed W3C VC with its status list; a visa
//! rejected with a reason after information was asked; and each refusal
//! the issue names, changing nothing.

mod common;

use cityledger_types::Digest;
use cityledger_vc::Bitstring;
use common::*;

fn height(value: &serde_json::Value) -> u64 {
    value["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("no height in {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_is_renewed_paid_approved_revoked_checked_at_two_heights_and_exported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    let alice = cli.new_key("alice");
    cli.fund(&alice, "100");
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, b"not really a photo").expect("write the photo");
    let medical = Digest::of(b"medical certificate").to_hex();

    let renewal: Vec<String> = [
        "application",
        "submit",
        "--signer",
        "alice",
        "--org",
        "transport",
        "--service",
        "driver_licence_renewal",
        "--field",
        "licence_class=B",
        "--field",
        "licence_number=commit:D-1234567",
        "--doc",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("photo={}", photo.display()),
        "--doc".into(),
        format!("medical_certificate=sha256:{medical}"),
    ])
    .collect();
    let renewal: Vec<&str> = renewal.iter().map(String::as_str).collect();
    let submitted = cli.json(&renewal);
    let application = submitted["application"].as_str().unwrap().to_owned();
    let fee = submitted["fee_obligation"].as_str().unwrap().to_owned();
    assert_eq!(
        submitted["salts"]["licence_number"].as_str().map(str::len),
        Some(64),
        "the holder is given the salt of the commitment: {submitted}"
    );
    let shown = cli.json(&["application", "show", &application]);
    assert_eq!(shown["application"]["status"], "submitted");
    assert_eq!(
        shown["application"]["documents"][0]["digest"],
        Digest::of(b"not really a photo").to_hex()
    );
    assert_eq!(
        shown["application"]["fields"][1]["value"]["type"], "commitment",
        "the licence number is not on the ledger in clear"
    );

    // Refused, each with its code, changing nothing.
    cli.refused(&renewal, "duplicate_application");
    cli.refused(
        &["application", "approve", &application, "--signer", "alice"],
        "missing_role",
    );
    cli.refused(
        &[
            "application",
            "approve",
            &application,
            "--signer",
            "transport",
        ],
        "fee_unpaid",
    );
    let unchanged = cli.json(&["application", "show", &application]);
    assert_eq!(unchanged["application"], shown["application"]);

    cli.ok(&["obligation", "pay", &fee, "--signer", "alice"]);
    let approved = cli.json(&[
        "application",
        "approve",
        &application,
        "--signer",
        "transport",
        "--claim",
        "licence_class=B",
    ]);
    let credential = approved["credential"].as_str().unwrap().to_owned();
    let issued_at = height(&approved);
    let status = cli.json(&["credential", "status", &credential]);
    assert_eq!(status["status"], "valid", "{status}");
    assert_eq!(status["verified"], true);
    let listed = cli.json(&["credential", "list", "--holder", &alice]);
    assert_eq!(listed[0]["id"], credential.as_str());
    let mine = cli.json(&["application", "list", "--applicant", &alice]);
    assert_eq!(mine[0]["status"], "approved");
    let history = cli.json(&["application", "show", &application]);
    let steps: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["application_submitted", "application_approved"]);

    // The holder cannot change it.
    for action in ["revoke", "suspend"] {
        cli.refused(
            &[
                "credential",
                action,
                &credential,
                "--signer",
                "alice",
                "--reason",
                "mine",
            ],
            "missing_role",
        );
    }
    cli.refused(
        &[
            "credential",
            "renew",
            &credential,
            "--signer",
            "alice",
            "--days",
            "4000",
        ],
        "missing_role",
    );
    let still = cli.json(&["credential", "show", &credential]);
    assert_eq!(still["credential"]["status"], "valid");
    assert_eq!(still["credential"]["history"].as_array().unwrap().len(), 1);

    // Exported as a signed VC by the issuer key only.
    cli.refused(
        &["credential", "export-vc", &credential, "--signer", "alice"],
        "issuer key",
    );
    let vc = cli.json(&[
        "credential",
        "export-vc",
        &credential,
        "--signer",
        "transport",
    ]);
    let key = cityledger_vc::verify(&vc).expect("the exported VC verifies");
    assert_eq!(key, load_key(&node.home, "transport").public_key());
    assert_eq!(vc["credentialSubject"]["licence_class"], "B");
    let position: usize = vc["credentialStatus"][0]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let revoked = cli.json(&[
        "credential",
        "revoke",
        &credential,
        "--signer",
        "transport",
        "--reason",
        "licence withdrawn by court order",
    ]);
    let revoked_at = height(&revoked);
    assert!(revoked_at > issued_at);
    let before = cli.json(&[
        "credential",
        "status",
        &credential,
        "--height",
        &issued_at.to_string(),
    ]);
    assert_eq!(before["status"], "valid", "{before}");
    let after = cli.json(&[
        "credential",
        "status",
        &credential,
        "--height",
        &revoked_at.to_string(),
    ]);
    assert_eq!(after["status"], "revoked", "{after}");
    let text = cli.ok(&[
        "credential",
        "status",
        &credential,
        "--height",
        &issued_at.to_string(),
    ]);
    assert!(text.starts_with("valid as of height"), "{text}");

    // Receipts of the status before and after the revocation, which a
    // border guard checks offline.
    let url = node.url.clone();
    let receipt_at = |height: u64, name: &str| {
        let file = dir.path().join(name);
        let fetched = run_cli_logged(&[
            "receipt",
            "credential",
            &credential,
            "--at",
            &height.to_string(),
            "--node",
            &url,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(fetched.success(), "{fetched:?}");
        file
    };
    let valid_receipt = receipt_at(issued_at, "valid.receipt");
    let revoked_receipt = receipt_at(revoked_at, "revoked.receipt");
    let too_late = run_cli_logged(&[
        "receipt",
        "credential",
        &credential,
        "--at",
        "999999",
        "--node",
        &url,
    ]);
    assert!(!too_late.success(), "{too_late:?}");
    assert!(
        too_late.stderr.contains("height_not_finalized"),
        "{too_late:?}"
    );

    // Past its validity it is reported expired.
    let until = still["credential"]["valid_until_ms"].as_u64().unwrap();
    let later = cli.json(&[
        "credential",
        "status",
        &credential,
        "--at",
        &until.to_string(),
    ]);
    assert_eq!(later["status"], "revoked", "revoked wins over expired");
    let list = cli.json(&[
        "credential",
        "status-list",
        "--signer",
        "transport",
        "--purpose",
        "revocation",
    ]);
    assert_eq!(cityledger_vc::verify(&list).ok(), Some(key));
    let bits = Bitstring::decode(list["credentialSubject"]["encodedList"].as_str().unwrap())
        .expect("the list decodes");
    assert!(bits.get(position).unwrap(), "the revocation is in the list");
    assert_eq!(bits.count(), 1);

    drop(cli);
    node.kill();
    let genesis = node.home.join("genesis.json");
    let valid = verify_offline(&valid_receipt, &genesis);
    assert!(
        valid.contains(&format!("; valid at height {issued_at} (")),
        "{valid}"
    );
    let revoked = verify_offline(&revoked_receipt, &genesis);
    assert!(
        revoked.contains(&format!("; revoked at height {revoked_at} (")),
        "{revoked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visa_is_rejected_with_its_reason_and_a_library_card_expires() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    let bob = cli.new_key("bob");
    let visa = cli.json(&[
        "application",
        "submit",
        "--signer",
        "bob",
        "--org",
        "immigration",
        "--service",
        "visa_application",
        "--field",
        "visa_category=work",
        "--field",
        "entries=int:2",
        "--field",
        "passport_number=commit:P7654321",
        "--doc",
        &format!("passport_copy=sha256:{}", Digest([1; 32]).to_hex()),
        "--doc",
        &format!("invitation_letter=sha256:{}", Digest([2; 32]).to_hex()),
    ]);
    let id = visa["application"].as_str().unwrap().to_owned();
    cli.ok(&[
        "application",
        "request-info",
        &id,
        "--signer",
        "immigration",
        "--reason",
        "the invitation letter is not signed",
    ]);
    cli.refused(
        &[
            "application",
            "respond",
            &id,
            "--signer",
            "immigration",
            "--message",
            "x",
        ],
        "not_applicant",
    );
    cli.ok(&[
        "application",
        "respond",
        &id,
        "--signer",
        "bob",
        "--message",
        "a signed copy is attached",
        "--doc",
        &format!("signed_invitation=sha256:{}", Digest([3; 32]).to_hex()),
    ]);
    let queue = cli.json(&["application", "list", "--org", "immigration"]);
    assert_eq!(queue[0]["id"], id.as_str(), "in the agency's open queue");
    cli.ok(&[
        "application",
        "reject",
        &id,
        "--signer",
        "immigration",
        "--reason",
        "the inviting company is not registered",
    ]);
    let shown = cli.json(&["application", "show", &id]);
    assert_eq!(shown["application"]["status"], "rejected");
    assert_eq!(
        shown["application"]["decision"]["reason"],
        "the inviting company is not registered"
    );
    assert_eq!(shown["history"].as_array().unwrap().len(), 4);
    let decided = cli.json(&[
        "application",
        "list",
        "--org",
        "immigration",
        "--status",
        "decided",
    ]);
    assert_eq!(decided[0]["id"], id.as_str());

    // A free service: a library card for 1 day, expired a day later.
    let card = cli.json(&[
        "application",
        "submit",
        "--signer",
        "bob",
        "--org",
        "education",
        "--service",
        "library_card",
        "--doc",
        &format!("proof_of_address=sha256:{}", Digest([4; 32]).to_hex()),
    ]);
    assert!(card["fee_obligation"].is_null());
    let approved = cli.json(&[
        "application",
        "approve",
        card["application"].as_str().unwrap(),
        "--signer",
        "education",
        "--valid-days",
        "1",
    ]);
    let credential = approved["credential"].as_str().unwrap();
    let shown = cli.json(&["credential", "show", credential]);
    let until = shown["credential"]["valid_until_ms"].as_u64().unwrap();
    let expired = cli.json(&[
        "credential",
        "status",
        credential,
        "--at",
        &until.to_string(),
    ]);
    assert_eq!(expired["status"], "expired", "{expired}");
    let text = cli.ok(&[
        "credential",
        "status",
        credential,
        "--at",
        &until.to_string(),
    ]);
    assert!(text.starts_with("expired"), "{text}");
    let valid = cli.json(&["credential", "status", credential]);
    assert_eq!(valid["status"], "valid");
    let mine = cli.json(&["application", "list", "--applicant", &bob]);
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
}
