//! Obligations through a real dev node and the `cityledger obligation`
//! commands: a fine appealed, upheld and paid late; a toll operator's batch
//! of 10,000 charges; tuition paid by a parent; and the report reconciled
//! with the payee account's balance.

mod common;

use common::*;
use std::fmt::Write as _;

fn today() -> String {
    cityledger_api::civil::date_of_day((now_ms() / 86_400_000) as u32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fine_is_appealed_upheld_and_paid_and_the_report_matches_the_ledger() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    let alice = cli.new_key("alice");
    let bob = cli.new_key("bob");
    cli.fund(&alice, "500");

    let fine = cli.ok(&[
        "obligation",
        "issue",
        "--signer",
        "transport",
        "--kind",
        "traffic_fine",
        "--payer",
        &alice,
        "--amount",
        "50",
        "--penalty",
        "bps:100/1:10",
        "--ref",
        "plate=AB-123-CD",
        "--ref",
        "offence=S12",
    ]);
    assert_eq!(fine.len(), 64, "issue prints the obligation id: {fine}");
    let shown = cli.json(&["obligation", "show", &fine]);
    assert_eq!(shown["obligation"]["status"], "open");
    assert_eq!(shown["obligation"]["amount"], "5000");
    assert_eq!(shown["obligation"]["reference"][0]["value"], "AB-123-CD");

    // Bob may not appeal Alice's fine; Alice may, once.
    cli.refused(
        &[
            "obligation",
            "appeal",
            &fine,
            "--signer",
            "bob",
            "--reason",
            "not mine either",
        ],
        "not_payer",
    );
    cli.ok(&[
        "obligation",
        "appeal",
        &fine,
        "--signer",
        "alice",
        "--reason",
        "the camera misread my plate",
    ]);
    cli.refused(
        &[
            "obligation",
            "pay",
            &fine,
            "--signer",
            "alice",
            "--amount",
            "50",
        ],
        "under_appeal",
    );
    // A citizen may not decide; the transport agency upholds.
    cli.refused(
        &[
            "obligation",
            "decide",
            &fine,
            "--signer",
            "alice",
            "--uphold",
            "--reason",
            "mine",
        ],
        "missing_role",
    );
    cli.ok(&[
        "obligation",
        "decide",
        &fine,
        "--signer",
        "transport",
        "--uphold",
        "--due-in-days",
        "10",
        "--reason",
        "the photo shows the plate",
    ]);
    cli.refused(
        &[
            "obligation",
            "appeal",
            &fine,
            "--signer",
            "alice",
            "--reason",
            "again",
        ],
        "already_appealed",
    );
    cli.refused(
        &[
            "obligation",
            "pay",
            &fine,
            "--signer",
            "alice",
            "--amount",
            "50.01",
        ],
        "overpayment",
    );

    // Bob pays ten in Alice's place; Alice pays the rest, by default what
    // is owed. The receipt says paid.
    cli.fund(&bob, "10");
    cli.ok(&[
        "obligation",
        "pay",
        &fine,
        "--signer",
        "bob",
        "--amount",
        "10",
    ]);
    let receipt = cli.ok(&["obligation", "pay", &fine, "--signer", "alice"]);
    assert!(receipt.starts_with("PAYMENT RECEIPT"), "{receipt}");
    assert!(receipt.contains("status      paid"), "{receipt}");
    assert!(receipt.contains("paid total  50.00 CITY"), "{receipt}");
    let verifiable = receipt.lines().last().expect("the receipt's text form");
    let receipt_file = dir.path().join("fine.receipt");
    std::fs::write(&receipt_file, verifiable).expect("save the receipt");
    cli.refused(
        &[
            "obligation",
            "pay",
            &fine,
            "--signer",
            "alice",
            "--amount",
            "1",
        ],
        "obligation_settled",
    );

    let shown = cli.json(&["obligation", "show", &fine]);
    assert_eq!(
        shown["obligation"]["payer"],
        alice.as_str(),
        "the fine stays Alice's"
    );
    let steps: Vec<&str> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|item| item["event"]["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        [
            "obligation_issued",
            "obligation_appealed",
            "obligation_decided",
            "obligation_paid",
            "obligation_paid"
        ]
    );
    let paid = cli.json(&["obligation", "list", "--payer", &alice, "--status", "paid"]);
    assert_eq!(paid.as_array().map(Vec::len), Some(1), "{paid}");
    assert_eq!(paid[0]["id"], fine.as_str());
    let open = cli.json(&[
        "obligation",
        "list",
        "--payer",
        &alice,
        "--status",
        "payable",
    ]);
    assert_eq!(open.as_array().map(Vec::len), Some(0), "{open}");

    // The report: collected equals what reached transport:main.
    let report = cli.json(&[
        "obligation",
        "report",
        "--issuer",
        "transport",
        "--from",
        &today(),
    ]);
    assert_eq!(report["issued"], "5000", "{report}");
    assert_eq!(report["collected"], "5000", "{report}");
    assert_eq!(report["outstanding"], "0", "{report}");
    assert_eq!(cli.balance("transport:main"), "50.00");
    assert_eq!(cli.balance(&alice), "460.00");
    assert_eq!(cli.balance(&bob), "0.00");
    cli.refused(
        &[
            "obligation",
            "report",
            "--issuer",
            "transport",
            "--from",
            "2026-02-30",
        ],
        "bad_date",
    );

    // The receipt printed at payment holds with the node stopped.
    drop(cli);
    node.kill();
    let proven = verify_offline(&receipt_file, &node.home.join("genesis.json"));
    assert!(
        proven.contains(&format!("Obligation {fine}: traffic_fine")),
        "{proven}"
    );
    assert!(proven.contains("owing 0.00 CITY; paid"), "{proven}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toll_batch_of_ten_thousand_and_tuition_paid_by_a_parent() {
    const TOLLS: usize = 10_000;
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);

    // One charge per passing car; amounts 2.50 to 2.56.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(test_seed());
    let mut csv = String::from("# payer,amount,reference\n");
    let mut expected_minor = 0u128;
    for i in 0..TOLLS {
        let driver = address_of(&random_key(&mut rng));
        let minor = 250 + (i % 7) as u128;
        expected_minor += minor;
        let _ = writeln!(
            csv,
            "{driver},{}.{:02},plate=P-{i:05};gate=north",
            minor / 100,
            minor % 100
        );
    }
    let file = dir.path().join("tolls.csv");
    std::fs::write(&file, csv).expect("write the charges");
    let issued = cli.json(&[
        "obligation",
        "issue",
        "--signer",
        "transport",
        "--kind",
        "toll",
        "--charges",
        &file.display().to_string(),
        "--due-in-days",
        "14",
    ]);
    let ids = issued["obligations"].as_array().expect("ids");
    assert_eq!(ids.len(), TOLLS);
    let first = ids[0].as_str().expect("id");
    let shown = cli.json(&["obligation", "show", first]);
    assert_eq!(shown["obligation"]["kind"], "toll");
    assert_eq!(shown["obligation"]["reference"][0]["value"], "P-00000");
    let open = cli.json(&[
        "obligation",
        "list",
        "--issuer",
        "transport",
        "--status",
        "open",
        "--limit",
        "20000",
    ]);
    let listed = open.as_array().expect("list");
    assert_eq!(listed.len(), TOLLS, "every charge is its own obligation");
    let report = cli.json(&[
        "obligation",
        "report",
        "--issuer",
        "transport",
        "--from",
        &today(),
    ]);
    assert_eq!(report["issued"], expected_minor.to_string(), "{report}");
    assert_eq!(
        report["outstanding"],
        expected_minor.to_string(),
        "{report}"
    );

    // Tuition: the student owes it, a parent pays it.
    let student = cli.new_key("student");
    let parent = cli.new_key("parent");
    cli.fund(&parent, "5000");
    let tuition = cli.ok(&[
        "obligation",
        "issue",
        "--signer",
        "education",
        "--kind",
        "tuition_fee",
        "--payer",
        &student,
        "--amount",
        "4500",
        "--ref",
        "student_id=S-2026-0042",
    ]);
    let receipt = cli.ok(&["obligation", "pay", &tuition, "--signer", "parent"]);
    assert!(receipt.contains("status      paid"), "{receipt}");
    assert!(
        receipt.contains(&format!("paid from   {parent}")),
        "{receipt}"
    );
    let shown = cli.json(&["obligation", "show", &tuition]);
    assert_eq!(shown["obligation"]["payer"], student.as_str());
    assert_eq!(shown["obligation"]["status"], "paid");
    assert_eq!(cli.balance(&parent), "500.00");
    assert_eq!(cli.balance("education:main"), "4500.00");
    let owed_by_student = cli.json(&["obligation", "list", "--payer", &student]);
    assert_eq!(owed_by_student[0]["id"], tuition.as_str());
    cli.refused(
        &[
            "obligation",
            "list",
            "--issuer",
            "transport",
            "--status",
            "late",
        ],
        "--status",
    );
}
