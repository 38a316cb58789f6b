//! A network of four validators, each a real `cityledger node` process on
//! 127.0.0.1 with its own home, under the faults the network must survive:
//! one validator killed and restarted, two killed (no quorum) and one of
//! them restored, a validator whose disk is wiped, and the `testnet`
//! supervisor started and stopped by signal.
//!
//! Every check is on what the nodes serve: heights, block ids, state roots
//! and balances. Waits have deadlines; nothing asserts a duration.

mod common;
mod links;

use cityledger_client::Client;
use cityledger_types::{Address, ChainId, Digest, Height, SecretKey, SignedTx};
use common::*;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Validators in each test network.
const VALIDATORS: usize = 4;
/// The networks of this file run one at a time: four validators each is
/// already as much as a two-core CI machine runs comfortably.
static ONE_NETWORK_AT_A_TIME: Mutex<()> = Mutex::new(());
/// How long a stalled chain is watched to show that it stays stalled:
/// several leader timeouts (1 s each by default).
const STALL_WATCH: Duration = Duration::from_secs(5);

/// Homes and API ports of a network made by `cityledger init`, and the
/// nodes running on them.
struct Network {
    _dir: tempfile::TempDir,
    homes: Vec<PathBuf>,
    ports: Vec<u16>,
    nodes: Vec<Option<Node>>,
    chain_id: ChainId,
    treasury: SecretKey,
    next_id: u64,
}

impl Network {
    /// Creates the homes and starts every validator.
    async fn start() -> Network {
        let mut network = Network::create();
        network.start_all().await;
        network
    }

    async fn start_all(&mut self) {
        for i in 0..VALIDATORS {
            self.restart(i).await;
        }
        self.chain_id = chain_id(&self.client(0)).await;
    }

    /// Creates the homes; starts nothing.
    fn create() -> Network {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let base = free_port_block(2 * VALIDATORS as u16);
        let output = run_cli_logged(&[
            "init",
            "--home",
            &dir.path().to_string_lossy(),
            "--validators",
            &VALIDATORS.to_string(),
            "--base-port",
            &base.to_string(),
            "--json",
        ]);
        assert!(output.success(), "init failed: {}", output.stderr);
        let answer: serde_json::Value =
            serde_json::from_str(&output.stdout).expect("init --json prints JSON");
        let homes: Vec<PathBuf> = answer["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| PathBuf::from(n["home"].as_str().expect("home")))
            .collect();
        assert_eq!(homes.len(), VALIDATORS);
        let ports = (0..VALIDATORS as u16).map(|i| base + 2 * i).collect();
        let treasury = load_key(&homes[0], "treasury");
        Network {
            _dir: dir,
            homes,
            ports,
            nodes: (0..VALIDATORS).map(|_| None).collect(),
            chain_id: ChainId::new("cityledger-local").expect("valid chain id"),
            treasury,
            next_id: 0,
        }
    }

    fn client(&self, i: usize) -> Client {
        Client::new(&format!("http://127.0.0.1:{}", self.ports[i])).expect("a valid URL")
    }

    async fn restart(&mut self, i: usize) {
        let node = Node::start_validator(&self.homes[i], self.ports[i])
            .await
            .unwrap_or_else(|e| panic!("validator {i} did not start: {e}"));
        self.nodes[i] = Some(node);
    }

    fn kill(&mut self, i: usize) {
        let mut node = self.nodes[i].take().expect("the node runs");
        node.kill();
    }

    fn running(&self) -> Vec<usize> {
        (0..VALIDATORS)
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// A fresh citizen funding transfer from the treasury's issuance account.
    fn funding(&mut self, to: Address, amount: u128) -> SignedTx {
        self.next_id += 1;
        transfer(
            &self.treasury,
            &self.chain_id,
            org_account("treasury:issuance"),
            to,
            amount,
            &format!("net-{}", self.next_id),
        )
    }

    async fn height(&self, i: usize) -> u64 {
        status(&self.client(i)).await.height.0
    }

    /// Waits until every running node has finalized `height`.
    async fn wait_height(&self, height: u64) {
        self.wait_height_of(&self.running(), height).await;
    }

    /// Waits until each of `nodes` has finalized `height`.
    async fn wait_height_of(&self, nodes: &[usize], height: u64) {
        for &i in nodes {
            let deadline = Instant::now() + WAIT_MAX;
            loop {
                let reached = self.height(i).await;
                if reached >= height {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "validator {i} stayed at height {reached}, below {height}, for {WAIT_MAX:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// The highest height every running node has finalized.
    async fn common_height(&self) -> u64 {
        let mut lowest = u64::MAX;
        for i in self.running() {
            lowest = lowest.min(self.height(i).await);
        }
        lowest
    }

    /// Checks that every running node serves the same block at every height
    /// up to `height`, and returns the state root there.
    async fn assert_one_chain(&self, height: u64) -> Digest {
        let running = self.running();
        let mut state_root = Digest::default();
        for h in 1..=height {
            let reference = self
                .client(running[0])
                .block(Height(h))
                .await
                .unwrap_or_else(|e| panic!("validator {} block {h}: {e}", running[0]));
            for i in &running[1..] {
                let block = self
                    .client(*i)
                    .block(Height(h))
                    .await
                    .unwrap_or_else(|e| panic!("validator {i} block {h}: {e}"));
                assert_eq!(
                    (block.id, block.state_root),
                    (reference.id, reference.state_root),
                    "validators {} and {i} disagree at height {h}: a fork",
                    running[0]
                );
            }
            state_root = reference.state_root;
        }
        state_root
    }

    /// Waits `STALL_WATCH` and checks that no running node finalized more
    /// than `slack` blocks meanwhile. Returns the highest height seen.
    async fn assert_stalled(&self, slack: u64) -> u64 {
        let before = self.max_height().await;
        tokio::time::sleep(STALL_WATCH).await;
        let after = self.max_height().await;
        assert!(
            after <= before + slack,
            "the chain went from {before} to {after} without a quorum"
        );
        after
    }

    async fn max_height(&self) -> u64 {
        let mut highest = 0;
        for i in self.running() {
            highest = highest.max(self.height(i).await);
        }
        highest
    }
}

/// This run's randomness, from [`test_seed`], printed so that a failure
/// can be replayed with `CITYLEDGER_TEST_SEED`.
fn seeded_rng() -> rand::rngs::StdRng {
    let seed = test_seed();
    println!("seed {seed}");
    rand::rngs::StdRng::seed_from_u64(seed)
}

fn citizen(rng: &mut rand::rngs::StdRng) -> Address {
    address_of(&random_key(rng))
}

/// Runs `test` alone among this file's networks, on its own runtime.
fn one_network_at_a_time<F: std::future::Future>(test: F) -> F::Output {
    let _one = ONE_NETWORK_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a runtime")
        .block_on(test)
}

#[test]
fn the_chain_survives_one_crash_halts_without_quorum_and_resumes() {
    one_network_at_a_time(survives_one_crash_halts_without_quorum_and_resumes());
}

async fn survives_one_crash_halts_without_quorum_and_resumes() {
    let mut rng = seeded_rng();
    let mut net = Network::start().await;
    net.wait_height(2).await;

    // A transfer sent to one validator is finalized and visible on all.
    let alice = citizen(&mut rng);
    let first = net.funding(alice, 1_000);
    submit_and_finalize(&net.client(3), &first).await;
    for i in 0..VALIDATORS {
        wait_finalized(&net.client(i), &first.hash()).await;
        assert_eq!(
            balance(&net.client(i), &alice).await,
            1_000,
            "validator {i}"
        );
    }

    // One of four killed: three still make a quorum.
    net.kill(3);
    let during = net.funding(alice, 2_000);
    submit_and_finalize(&net.client(1), &during).await;
    let height = net.max_height().await;
    net.wait_height(height + 5).await;

    // Restarted, it catches up and serves the same chain and state.
    net.restart(3).await;
    let target = net.max_height().await;
    net.wait_height(target).await;
    wait_finalized(&net.client(3), &during.hash()).await;
    assert_eq!(balance(&net.client(3), &alice).await, 3_000);
    let common = net.common_height().await;
    net.assert_one_chain(common).await;

    // Two of four killed: no quorum, so nothing more is finalized...
    net.kill(2);
    net.kill(3);
    // ...apart from at most the block already in flight.
    let stalled = net.assert_stalled(1).await;
    let waiting = net.funding(alice, 4_000);
    net.client(0)
        .submit(&waiting)
        .await
        .expect("a stalled node still admits transactions");
    let stalled = stalled.max(net.assert_stalled(0).await);

    // One of the two restored: quorum again, and the waiting transfer lands.
    net.restart(2).await;
    net.wait_height(stalled + 3).await;
    let landed = wait_finalized(&net.client(0), &waiting.hash()).await;
    assert_eq!(outcome_code(&landed), None);
    let common = net.common_height().await;
    let root = net.assert_one_chain(common).await;
    for i in net.running() {
        assert_eq!(
            balance(&net.client(i), &alice).await,
            7_000,
            "validator {i}"
        );
        let block = net.client(i).block(Height(common)).await.expect("block");
        assert_eq!(block.state_root, root);
    }

    // The fourth rejoins too, and the books still balance on every node.
    net.restart(3).await;
    net.wait_height(net.max_height().await).await;
    let common = net.common_height().await;
    net.assert_one_chain(common).await;
    for i in 0..VALIDATORS {
        let status = status(&net.client(i)).await;
        assert!(status.equivocations.is_empty(), "validator {i}: {status:?}");
        assert_eq!(status.validators.len(), VALIDATORS);
    }
}

#[test]
fn a_validator_whose_disk_is_wiped_is_rebuilt_from_its_peers() {
    one_network_at_a_time(wiped_validator_is_rebuilt_from_its_peers());
}

async fn wiped_validator_is_rebuilt_from_its_peers() {
    let mut rng = seeded_rng();
    let mut net = Network::start().await;

    // Some history, sent through different validators.
    let mut hashes = Vec::new();
    for round in 0..8 {
        let tx = net.funding(citizen(&mut rng), 100 + round);
        net.client(round as usize % VALIDATORS)
            .submit(&tx)
            .await
            .expect("submit");
        hashes.push(tx.hash());
    }
    wait_all_finalized(&net.client(0), &hashes).await;

    // Stopped while the others go on, then its data directory is lost.
    net.kill(1);
    let height = net.max_height().await;
    net.wait_height(height + 20).await;
    let data = net.homes[1].join("data");
    std::fs::remove_dir_all(&data).expect("wipe the data directory");

    // Restarted on the empty disk: it fetches the chain from its peers.
    net.restart(1).await;
    let target = net.max_height().await;
    net.wait_height(target).await;
    let statuses = wait_all_finalized(&net.client(1), &hashes).await;
    assert!(statuses.iter().all(|s| outcome_code(s).is_none()));
    let common = net.common_height().await;
    net.assert_one_chain(common).await;

    // And it takes part again: with another validator down, the chain
    // needs the rebuilt one for its quorum.
    net.kill(0);
    let tx = net.funding(citizen(&mut rng), 5);
    let landed = submit_and_finalize(&net.client(1), &tx).await;
    assert_eq!(outcome_code(&landed), None);
    assert!(
        data.join("store").exists(),
        "the rebuilt node keeps a store"
    );
}

#[test]
fn partitions_stall_the_side_without_quorum_and_heal_without_a_fork() {
    one_network_at_a_time(partitions_heal_without_a_fork());
}

async fn partitions_heal_without_a_fork() {
    let mut rng = seeded_rng();
    let mut net = Network::create();
    let links = links::Links::install(&net.homes).await;
    net.start_all().await;
    net.wait_height(3).await;

    // 2 | 2: neither side has a quorum of three.
    links.partition(&[0, 1], VALIDATORS);
    let split = net.assert_stalled(1).await;
    net.assert_stalled(0).await;
    links.heal();
    net.wait_height(split + 3).await;
    net.assert_one_chain(net.common_height().await).await;

    // 3 | 1: the three go on and finalize a transfer; the one stalls.
    links.partition(&[3], VALIDATORS);
    let isolated_before = net.height(3).await;
    let tx = net.funding(citizen(&mut rng), 42);
    submit_and_finalize(&net.client(0), &tx).await;
    let majority = net.height(0).await;
    net.wait_height_of(&[0, 1, 2], majority + 3).await;
    let isolated_after = net.height(3).await;
    assert!(
        isolated_after <= isolated_before + 1,
        "the isolated validator went from {isolated_before} to {isolated_after} alone"
    );

    // Healed: the isolated one catches up on the same chain.
    links.heal();
    net.wait_height(net.max_height().await).await;
    wait_finalized(&net.client(3), &tx.hash()).await;
    net.assert_one_chain(net.common_height().await).await;
    drop(links);
}

#[test]
fn testnet_runs_validators_that_finalize_and_stops_them_on_sigterm() {
    let _one = ONE_NETWORK_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let base = free_port_block(2 * VALIDATORS as u16);
    let log = dir.path().join("testnet.out");
    let mut supervisor = std::process::Command::new(binary())
        .args(["testnet", "--validators", &VALIDATORS.to_string()])
        .arg("--home")
        .arg(dir.path())
        .args(["--base-port", &base.to_string()])
        .stdout(std::fs::File::create(&log).expect("create the log"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn testnet");
    let manifest = dir.path().join("testnet.json");
    let deadline = Instant::now() + WAIT_MAX;
    while !manifest.exists() {
        assert!(
            Instant::now() < deadline,
            "no testnet.json within {WAIT_MAX:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&manifest).expect("read testnet.json");
    let listed: serde_json::Value = serde_json::from_str(&text).expect("testnet.json is JSON");
    let nodes = listed["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), VALIDATORS);
    assert_eq!(nodes[0]["name"], "treasury");
    assert_eq!(nodes[0]["api"], format!("http://127.0.0.1:{base}"));
    assert_eq!(nodes[0]["p2p"], format!("127.0.0.1:{}", base + 1));
    let pids: Vec<u64> = nodes
        .iter()
        .map(|n| n["pid"].as_u64().expect("pid"))
        .collect();

    // The documented command works against any node of the testnet.
    let treasury_home = dir.path().join("treasury");
    let citizen = run_cli(&[
        "keys",
        "new",
        "citizen",
        "--home",
        &treasury_home.to_string_lossy(),
    ]);
    assert!(citizen.success(), "{}", citizen.stderr);
    let last_api = nodes[VALIDATORS - 1]["api"]
        .as_str()
        .expect("api")
        .to_owned();
    let sent = run_cli_within(
        &[
            "tx",
            "transfer",
            "--home",
            &treasury_home.to_string_lossy(),
            "--node",
            &last_api,
            "--signer",
            "treasury",
            "--from",
            "treasury:issuance",
            "--to",
            citizen.stdout.trim(),
            "--amount",
            "12.50",
        ],
        WAIT_MAX * 2,
    );
    assert!(
        sent.success(),
        "transfer failed: {}\n{}",
        sent.stderr,
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    for node in &nodes {
        let api = node["api"].as_str().expect("api");
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            let balance = run_cli(&["query", "balance", citizen.stdout.trim(), "--node", api]);
            if balance.stdout.trim() == "12.50" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{api} shows {:?}",
                balance.stdout
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let summary = run_cli(&["status", "--node", &last_api]);
    assert!(summary.success(), "{}", summary.stderr);
    assert!(
        summary.stdout.contains("validators: "),
        "{}",
        summary.stdout
    );

    // SIGTERM stops the supervisor and every node it started.
    let pid = rustix::process::Pid::from_raw(supervisor.id() as i32).expect("a valid pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("signal testnet");
    let deadline = Instant::now() + WAIT_MAX;
    let status = loop {
        if let Some(status) = supervisor.try_wait().expect("wait for testnet") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = supervisor.kill();
            panic!("testnet did not stop within {WAIT_MAX:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "testnet exited with {status}");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "node process {pid} outlived the supervisor"
        );
    }
    assert!(
        !manifest.exists(),
        "testnet.json names processes that are gone"
    );
}

#[test]
fn a_record_reaches_only_its_readers_nodes_and_erasure_clears_every_disk() {
    one_network_at_a_time(records_replicate_to_readers_only());
}

/// The files a node's blob store holds of `record`.
fn blob_files(home: &Path, record: &str) -> Vec<PathBuf> {
    let dir = home.join("data").join("blobs");
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| {
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(record))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `home` holds `files` files of `record`.
async fn wait_blob_files(home: &Path, record: &str, files: usize) {
    let deadline = Instant::now() + WAIT_MAX;
    while blob_files(home, record).len() != files {
        assert!(
            Instant::now() < deadline,
            "{} still holds {:?} of record {record}, not {files} files",
            home.display(),
            blob_files(home, record)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn records_replicate_to_readers_only() {
    let net = Network::start().await;
    let index_of = |org: &str| {
        net.homes
            .iter()
            .position(|home| home.ends_with(org))
            .unwrap_or_else(|| panic!("no {org} node among {:?}", net.homes))
    };
    let (treasury, transport, health, police) = (
        index_of("treasury"),
        index_of("transport"),
        index_of("health"),
        index_of("police"),
    );
    let cli = |i: usize| Cli::new(net.nodes[i].as_ref().expect("the node runs"));
    let admin_hex = |i: usize, org: &str| load_key(&net.homes[i], org).public_key().to_hex();
    let hospital = cli(health);
    hospital.new_key("patient");
    let dir = tempfile::tempdir().expect("temporary directory");
    let report = dir.path().join("report.txt");
    std::fs::write(&report, b"injuries after the collision on Main St (sealed)").expect("write");

    // The hospital sends the patient's report to the police: the police
    // node (a recipient's organisation) receives the blob; the treasury
    // and transport nodes, whose organisations may not read it, do not.
    let anchored = hospital.json(&[
        "record",
        "anchor",
        "--signer",
        "health",
        "--org",
        "health",
        "--type",
        "injury_report",
        "--owner",
        "patient",
        "--to",
        &admin_hex(police, "police"),
        "--file",
        report.to_str().expect("utf-8 path"),
    ]);
    let record = anchored["record"].as_str().expect("record id").to_owned();
    wait_blob_files(&net.homes[police], &record, 2).await;
    let out = dir.path().join("police.txt");
    cli(police).ok(&[
        "record",
        "fetch",
        &record,
        "--signer",
        "police",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(std::fs::read(&out).ok(), std::fs::read(&report).ok());

    // The patient's consent to a transport member brings it to the
    // transport node, which serves it under the grant.
    let granted = hospital.json(&[
        "record",
        "grant",
        "--signer",
        "patient",
        "--reader",
        &admin_hex(transport, "transport"),
        "--record",
        &record,
        "--days",
        "1",
    ]);
    let grant = granted["grant"].as_str().expect("grant id").to_owned();
    wait_blob_files(&net.homes[transport], &record, 2).await;
    let out = dir.path().join("transport.txt");
    let mut fetched = cli(transport).run(&[
        "record",
        "fetch",
        &record,
        "--signer",
        "transport",
        "--grant",
        &grant,
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    // The reader's wrapped key follows the blob by one more message.
    let deadline = Instant::now() + WAIT_MAX;
    while !fetched.success() && fetched.stderr.contains("blob_not_held") {
        assert!(Instant::now() < deadline, "{fetched:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        fetched = cli(transport).run(&[
            "record",
            "fetch",
            &record,
            "--signer",
            "transport",
            "--grant",
            &grant,
            "--out",
            out.to_str().expect("utf-8 path"),
        ]);
    }
    assert!(fetched.success(), "{fetched:?}");
    assert_eq!(std::fs::read(&out).ok(), std::fs::read(&report).ok());
    assert!(
        blob_files(&net.homes[treasury], &record).is_empty(),
        "the treasury's node never held the record"
    );

    // Erased by the patient: gone from the disk of every node.
    hospital.ok(&[
        "record",
        "erase",
        &record,
        "--signer",
        "patient",
        "--reason",
        "GDPR article 17",
    ]);
    for home in &net.homes {
        wait_blob_files(home, &record, 0).await;
    }
    let shown = hospital.json(&["record", "show", &record]);
    assert!(!shown["erasure"].is_null(), "the tombstone stays: {shown}");
}
