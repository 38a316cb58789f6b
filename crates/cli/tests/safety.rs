//! Public safety and education through a real dev node and the
//! `cityledger alert`, `incident`, `evidence`, `case` and `exam` commands
//! (ADR 0008): a camera's alert reaches the police's filtered stream; an
//! incident shared with the fire service shows on the fire service's
//! stream as it is updated, and is refused to an agency it is not shared
//! with; evidence passes from police to prosecutor only when the
//! prosecutor accepts the unaltered copy, and its custody is a receipt
//! verified offline; a case bundle's items are proven in each version.
//! An exam takes a commitment before its deadline, refuses a late one and
//! a reveal that does not match, and a graded pass is a certificate whose
//! receipt verifies; the library is a category grant with logged reads.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn text(value: &serde_json::Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}

fn path(path: &std::path::Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Runs a read-only command against `node` (no `--home`).
fn read(node: &Node, args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.extend(["--node", &node.url, "--json"]);
    let output = run_cli_logged(&full);
    assert!(output.success(), "{output:?}");
    serde_json::from_str(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {output:?}"))
}

/// The next height to be finalized.
async fn next_height(node: &Node) -> u64 {
    status(&node.client()).await.height.0 + 1
}

/// Reads `count` blocks of the stream filtered by `query`, from `from`, in
/// the background, so that they are seen as they are finalized.
fn follow(
    node: &Node,
    query: &str,
    from: u64,
    count: usize,
) -> tokio::task::JoinHandle<Vec<SseEvent>> {
    let url = format!("{}/v1/stream?from_height={from}&{query}", node.url);
    tokio::spawn(async move { read_sse_events(&url, None, count).await })
}

/// The event types of the blocks `events`, in order.
fn event_types(events: &[SseEvent]) -> Vec<String> {
    events
        .iter()
        .flat_map(|block| {
            block.data["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|item| {
                    item["event"]["type"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_an_incident_shared_with_fire_evidence_to_the_prosecutor_and_a_proven_bundle() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    let home = node.home.display().to_string();

    // Before: transport's camera sees a collision; the police's command
    // centre, subscribed to major alerts, receives it once it is final.
    cli.new_key("camera");
    cli.ok(&[
        "device",
        "register",
        "--signer",
        "transport",
        "--key",
        "camera",
        "--type",
        "traffic_camera",
        "--label",
        "junction-12",
    ]);
    let clip = dir.path().join("clip.mp4");
    std::fs::write(&clip, b"\x00\x00\x00\x18ftypmp42 junction 12, 08:14:03").expect("write clip");
    let police_alerts = follow(
        &node,
        "org=police&severity=major",
        next_height(&node).await,
        1,
    );
    let raised = cli.json(&[
        "alert",
        "raise",
        "--signer",
        "camera",
        "--kind",
        "collision",
        "--severity",
        "major",
        "--area",
        "district-7",
        "--point",
        "51.5072,-0.1276",
        "--media",
        path(&clip),
        "--notify",
        "police",
        "--notify",
        "fire",
    ]);
    let alert = text(&raised, "alert");
    let seen = police_alerts.await.expect("the stream reader");
    assert_eq!(event_types(&seen), ["alert_raised"]);
    assert_eq!(seen[0].data["events"][0]["event"]["alert"], alert.as_str());
    let fire_alerts = read(&node, &["alert", "list", "--org", "fire"]);
    assert_eq!(
        fire_alerts["items"][0]["id"],
        alert.as_str(),
        "{fire_alerts}"
    );
    assert_eq!(fire_alerts["items"][0]["org"], "transport");
    // A key that is no registered device raises nothing.
    cli.refused(
        &[
            "alert",
            "raise",
            "--signer",
            "police",
            "--kind",
            "collision",
            "--severity",
            "minor",
            "--area",
            "district-7",
            "--media",
            path(&clip),
        ],
        "unknown_device",
    );
    // Stream filters are checked.
    let bad = get(
        &raw_http(),
        &format!("{}/v1/stream?severity=urgent", node.url),
    )
    .await;
    bad.problem(400, "bad_severity");

    // During: police open the incident; fire may not read it until shared.
    let opened = cli.json(&[
        "incident",
        "open",
        "--signer",
        "police",
        "--kind",
        "collision",
        "--severity",
        "major",
        "--area",
        "district-7",
        "--note",
        "two cars, one burning",
    ]);
    let incident = text(&opened, "incident");
    cli.refused(
        &[
            "incident", "show", &incident, "--signer", "fire", "--home", &home,
        ],
        "incident_not_shared",
    );
    let fire_stream = follow(&node, "org=fire", next_height(&node).await, 3);
    cli.ok(&[
        "incident", "share", &incident, "--signer", "police", "--with", "fire",
    ]);
    cli.ok(&[
        "incident",
        "update",
        &incident,
        "--signer",
        "police",
        "--status",
        "dispatched",
        "--unit",
        "car-12",
        "--note",
        "fire service requested",
    ]);
    cli.ok(&[
        "incident", "update", &incident, "--signer", "fire", "--status", "on_scene", "--unit",
        "engine-3", "--note", "fire out",
    ]);
    let seen = fire_stream.await.expect("the stream reader");
    assert_eq!(
        event_types(&seen),
        ["incident_shared", "incident_updated", "incident_updated"]
    );
    assert_eq!(seen[2].data["events"][0]["event"]["by_org"], "fire");
    let shown = cli.json(&[
        "incident", "show", &incident, "--signer", "fire", "--home", &home,
    ]);
    assert_eq!(shown["status"], "on_scene", "{shown}");
    assert_eq!(shown["updates"].as_array().map(Vec::len), Some(2));
    assert_eq!(shown["shares"][0]["org"], "fire");
    // Health was never given it.
    cli.refused(
        &[
            "incident", "show", &incident, "--signer", "health", "--home", &home,
        ],
        "incident_not_shared",
    );
    let listed = cli.json(&["incident", "list", "--signer", "fire", "--home", &home]);
    assert_eq!(listed["items"][0]["id"], incident.as_str(), "{listed}");
    cli.ok(&[
        "incident",
        "close",
        &incident,
        "--signer",
        "police",
        "--outcome",
        "road reopened",
    ]);

    // After: the clip is evidence; police hand it to the prosecutor.
    let added = cli.json(&[
        "evidence",
        "add",
        "--signer",
        "police",
        "--incident",
        &incident,
        "--file",
        path(&clip),
        "--media-kind",
        "video",
        "--area",
        "district-7",
        "--source-device",
        "camera",
    ]);
    let evidence = text(&added, "evidence");
    cli.ok(&[
        "evidence",
        "handover",
        &evidence,
        "--signer",
        "police",
        "--to",
        "prosecutor",
        "--receiver",
        "prosecutor",
    ]);
    // Not accepted by the receiving side: someone else cannot take it, and
    // custody stays with the police.
    cli.refused(
        &[
            "evidence",
            "accept",
            &evidence,
            "--signer",
            "fire",
            "--file",
            path(&clip),
        ],
        "not_receiver",
    );
    let item = read(&node, &["evidence", "show", &evidence]);
    assert_eq!(item["custodian"], "police", "{item}");
    assert_eq!(item["offer"]["counterpart"], "prosecutor", "{item}");
    // An altered copy is refused.
    let altered = dir.path().join("altered.mp4");
    let mut bytes = std::fs::read(&clip).expect("read clip");
    bytes[10] ^= 1;
    std::fs::write(&altered, bytes).expect("write altered copy");
    std::fs::copy(
        dir.path().join("clip.mp4.evidence.json"),
        dir.path().join("altered.mp4.evidence.json"),
    )
    .expect("copy the label");
    cli.refused(
        &[
            "evidence",
            "accept",
            &evidence,
            "--signer",
            "prosecutor",
            "--file",
            path(&altered),
        ],
        "commitment_mismatch",
    );
    cli.ok(&[
        "evidence",
        "accept",
        &evidence,
        "--signer",
        "prosecutor",
        "--file",
        path(&clip),
    ]);
    let custody_file = dir.path().join("custody.receipt");
    let custody = cli.json(&[
        "evidence",
        "custody",
        &evidence,
        "--out",
        path(&custody_file),
    ]);
    assert_eq!(custody["valid"], true);
    assert_eq!(custody["custodian"], "prosecutor");
    let steps: Vec<&str> = custody["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(steps, ["collected", "offered", "accepted"]);
    let statement = text(&custody, "statement");
    assert!(statement.contains("is held by prosecutor"), "{statement}");
    assert!(
        statement.contains("accepted by prosecutor from police"),
        "{statement}"
    );
    // The prosecutor, now custodian, reads the media; the read is logged.
    let received = dir.path().join("received.mp4");
    cli.ok(&[
        "record",
        "fetch",
        &evidence,
        "--signer",
        "prosecutor",
        "--out",
        path(&received),
    ]);
    assert_eq!(std::fs::read(&received).ok(), std::fs::read(&clip).ok());

    // The case bundle: two versions, each item proven where it sits.
    let still = dir.path().join("still.jpg");
    std::fs::write(&still, b"\xff\xd8\xff junction 12 still").expect("write still");
    let second = text(
        &cli.json(&[
            "evidence",
            "add",
            "--signer",
            "police",
            "--incident",
            &incident,
            "--file",
            path(&still),
            "--media-kind",
            "still_image",
            "--area",
            "district-7",
        ]),
        "evidence",
    );
    let case = text(
        &cli.json(&[
            "case",
            "create",
            "--signer",
            "police",
            "--incident",
            &incident,
            "--title",
            "junction 12 collision",
        ]),
        "case",
    );
    cli.ok(&[
        "case", "add", &case, "--signer", "police", "--item", &evidence,
    ]);
    let version_two = cli.json(&[
        "case", "add", &case, "--signer", "police", "--item", &second,
    ]);
    assert_eq!(version_two["version"]["version"], 2, "{version_two}");
    let bundle = read(&node, &["case", "bundle", &case]);
    assert_eq!(bundle["items"], serde_json::json!([evidence, second]));
    assert_eq!(bundle["versions"].as_array().map(Vec::len), Some(2));
    let old_file = dir.path().join("bundle-v1.receipt");
    let old = cli.json(&[
        "case",
        "prove",
        &case,
        &evidence,
        "--version",
        "1",
        "--out",
        path(&old_file),
    ]);
    assert!(
        text(&old, "statement").contains("is item 1 of the 1 items of version 1"),
        "{old}"
    );
    let new = cli.json(&["case", "prove", &case, &second]);
    assert!(
        text(&new, "statement").contains("is item 2 of the 2 items of version 2"),
        "{new}"
    );
    cli.refused(
        &["case", "prove", &case, &second, "--version", "1"],
        "case_item_not_found",
    );
    drop(node);
    // Offline, against the genesis alone: the old version and the custody.
    let genesis = cli_home_genesis(dir.path());
    assert!(verify_offline(&old_file, &genesis).contains("version 1 of case"));
    assert!(verify_offline(&custody_file, &genesis).contains("chain of custody"));
}

/// The genesis of the first home `Node::start_fresh` made under `dir`.
fn cli_home_genesis(dir: &std::path::Path) -> std::path::PathBuf {
    (0..3)
        .map(|attempt| dir.join(format!("home-{attempt}")).join("genesis.json"))
        .find(|path| path.exists())
        .expect("a home with its genesis")
}

/// Waits until a finalized block's time is at or past `deadline_ms`,
/// finalizing small transfers so that blocks keep coming.
async fn wait_block_time(cli: &Cli<'_>, node: &Node, deadline_ms: u64) {
    let deadline = Instant::now() + WAIT_MAX;
    let spare = cli.new_key("clock");
    loop {
        if status(&node.client()).await.timestamp_ms >= deadline_ms {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "block time never reached {deadline_ms}"
        );
        if now_ms() >= deadline_ms {
            cli.fund(&spare, "0.01");
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exam_commits_on_time_refuses_late_and_mismatched_answers_and_certifies_a_pass() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let cli = Cli::new(&node);
    cli.new_key("student");
    cli.new_key("latecomer");
    let created = cli.json(&[
        "exam",
        "create",
        "--signer",
        "education",
        "--course",
        "math-101",
        "--deadline-in-s",
        "15",
        "--pass-mark",
        "60",
        "--certificate",
        "exam_certificate",
    ]);
    let exam = text(&created, "exam");
    let deadline_ms = created["deadline_ms"].as_u64().expect("deadline");
    let answers = dir.path().join("answers.txt");
    std::fs::write(&answers, b"1:B 2:D 3:A 4:proof by induction").expect("write answers");
    let committed = cli.json(&[
        "exam",
        "commit",
        &exam,
        "--signer",
        "student",
        "--answers",
        path(&answers),
    ]);
    // Before the deadline nothing is revealed.
    cli.refused(
        &[
            "exam",
            "reveal",
            &exam,
            "--signer",
            "student",
            "--answers",
            path(&answers),
        ],
        "exam_not_closed",
    );
    wait_block_time(&cli, &node, deadline_ms).await;
    let late = dir.path().join("late.txt");
    std::fs::write(&late, b"1:B 2:D 3:A 4:copied").expect("write late answers");
    cli.refused(
        &[
            "exam",
            "commit",
            &exam,
            "--signer",
            "latecomer",
            "--answers",
            path(&late),
        ],
        "exam_closed",
    );
    // Answers changed after committing do not match.
    let changed = dir.path().join("changed.txt");
    std::fs::write(&changed, b"1:C 2:D 3:A 4:proof by induction").expect("write changed");
    cli.refused(
        &[
            "exam",
            "reveal",
            &exam,
            "--signer",
            "student",
            "--answers",
            path(&changed),
        ],
        "commitment_mismatch",
    );
    let revealed = cli.json(&[
        "exam",
        "reveal",
        &exam,
        "--signer",
        "student",
        "--answers",
        path(&answers),
    ]);
    let record = text(&revealed, "answers_record");
    // The teacher reads the sealed answers, which match the commitment.
    let opened = dir.path().join("opened.txt");
    let fetched = cli.json(&[
        "record",
        "fetch",
        &record,
        "--signer",
        "education",
        "--out",
        path(&opened),
    ]);
    assert_eq!(fetched["commitment"], committed["commitment"]);
    assert_eq!(std::fs::read(&opened).ok(), std::fs::read(&answers).ok());
    // Grading is the teacher's role; a pass issues the certificate.
    cli.refused(
        &[
            "exam",
            "grade",
            &exam,
            "--signer",
            "police",
            "--student",
            "student",
            "--score",
            "80",
        ],
        "missing_role",
    );
    let graded = cli.json(&[
        "exam",
        "grade",
        &exam,
        "--signer",
        "education",
        "--student",
        "student",
        "--score",
        "80",
    ]);
    assert_eq!(graded["passed"], true);
    let credential = text(&graded, "credential");
    let results = read(&node, &["exam", "results", &exam]);
    assert_eq!(results["items"][0]["score"], 80, "{results}");
    assert_eq!(results["items"][0]["answers_record"], record.as_str());
    let certificate = dir.path().join("certificate.receipt");
    let fetched = run_cli_logged(&[
        "receipt",
        "credential",
        &credential,
        "--node",
        &node.url,
        "--out",
        path(&certificate),
    ]);
    assert!(fetched.success(), "{fetched:?}");

    // The library: a category grant, and every read in the access log.
    let book = dir.path().join("book.txt");
    std::fs::write(&book, b"Chapter 1. Induction.").expect("write book");
    let anchored = cli.json(&[
        "record",
        "anchor",
        "--signer",
        "education",
        "--org",
        "education",
        "--type",
        "curriculum",
        "--owner",
        "education",
        "--file",
        path(&book),
    ]);
    let book_record = text(&anchored, "record");
    let granted = cli.json(&[
        "record",
        "grant",
        "--signer",
        "education",
        "--reader",
        "student",
        "--category",
        "curriculum",
        "--days",
        "180",
    ]);
    let grant = text(&granted, "grant");
    cli.ok(&[
        "record",
        "fetch",
        &book_record,
        "--signer",
        "student",
        "--grant",
        &grant,
    ]);
    cli.refused(
        &["record", "fetch", &book_record, "--signer", "latecomer"],
        "no_grant",
    );
    let log = cli.json(&[
        "record",
        "accesses",
        "--owner",
        "education",
        "--record",
        &book_record,
    ]);
    let entries = log["items"].as_array().expect("items");
    assert!(
        entries
            .iter()
            .any(|a| a["grant"] == grant.as_str() && a["decision"] == "granted"),
        "{log}"
    );
    assert!(entries.iter().any(|a| a["refused"] == "no_grant"), "{log}");

    drop(node);
    let statement = verify_offline(&certificate, &cli_home_genesis(dir.path()));
    assert!(statement.contains("exam_certificate"), "{statement}");
}
