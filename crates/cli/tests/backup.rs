//! The restore drill, on four real validator processes on 127.0.0.1: a
//! validator is backed up while it runs, the chain goes on, the validator
//! loses its disk, is restored from the backup, restarts, catches up from
//! its peers and serves the same blocks, state roots and records as the
//! others. And the backups a restore must refuse: truncated, with one
//! flipped byte, of another chain; each refused with its reason and the
//! target home left as it was.
//!
//! Waits have deadlines; nothing asserts a duration.

mod common;

use cityledger_client::Client;
use cityledger_types::{ChainId, Height, SecretKey};
use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Validators of the drill's network: the fewest with a quorum (three)
/// while one is down.
const VALIDATORS: usize = 4;
/// The validator that is backed up and loses its disk.
const RESTORED: usize = 2;
/// Blocks the chain makes between the backup and the loss of the disk.
const BLOCKS_AFTER_BACKUP: u64 = 10;

struct Network {
    dir: tempfile::TempDir,
    homes: Vec<PathBuf>,
    ports: Vec<u16>,
    nodes: Vec<Option<Node>>,
    chain_id: ChainId,
    treasury: SecretKey,
    next_id: u64,
}

impl Network {
    async fn start() -> Network {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let base = free_port_block(2 * VALIDATORS as u16);
        let homes = init_network(dir.path(), VALIDATORS, base, "cityledger-drill");
        let treasury = load_key(&homes[0], "treasury");
        let mut network = Network {
            dir,
            ports: (0..VALIDATORS as u16).map(|i| base + 2 * i).collect(),
            nodes: (0..VALIDATORS).map(|_| None).collect(),
            homes,
            chain_id: ChainId::new("cityledger-drill").expect("valid chain id"),
            treasury,
            next_id: 0,
        };
        for i in 0..VALIDATORS {
            network.start_node(i).await;
        }
        network
    }

    async fn start_node(&mut self, i: usize) {
        let node = Node::start_validator(&self.homes[i], self.ports[i])
            .await
            .unwrap_or_else(|e| panic!("validator {i} did not start: {e}"));
        self.nodes[i] = Some(node);
    }

    fn client(&self, i: usize) -> Client {
        Client::new(&format!("http://127.0.0.1:{}", self.ports[i])).expect("a valid URL")
    }

    fn running(&self) -> Vec<usize> {
        (0..VALIDATORS)
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    async fn height(&self, i: usize) -> u64 {
        status(&self.client(i)).await.height.0
    }

    /// Waits until every running node has finalized `height`.
    async fn wait_height(&self, height: u64) {
        for i in self.running() {
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

    async fn max_height(&self) -> u64 {
        let mut highest = 0;
        for i in self.running() {
            highest = highest.max(self.height(i).await);
        }
        highest
    }

    /// A transfer from the treasury's issuance account to `to`, sent
    /// through validator `via` and finalized.
    async fn fund(&mut self, via: usize, to: &SecretKey, amount: u128) {
        self.next_id += 1;
        let tx = transfer(
            &self.treasury,
            &self.chain_id,
            org_account("treasury:issuance"),
            address_of(to),
            amount,
            &format!("drill-{}", self.next_id),
        );
        let landed = submit_and_finalize(&self.client(via), &tx).await;
        assert_eq!(outcome_code(&landed), None, "the funding applies");
    }
}

/// `cityledger backup --json` of `home` into `out`, which must succeed;
/// its summary.
fn take_backup(home: &Path, out: &Path) -> serde_json::Value {
    let taken = run_cli_logged(&[
        "backup",
        "--home",
        &home.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--json",
    ]);
    assert!(taken.success(), "{taken:?}");
    serde_json::from_str(&taken.stdout).expect("JSON")
}

/// `cityledger init` of `validators` homes under `dir`; returns them.
fn init_network(dir: &Path, validators: usize, base: u16, chain_id: &str) -> Vec<PathBuf> {
    let output = run_cli_logged(&[
        "init",
        "--home",
        &dir.to_string_lossy(),
        "--validators",
        &validators.to_string(),
        "--base-port",
        &base.to_string(),
        "--chain-id",
        chain_id,
        "--json",
    ]);
    assert!(output.success(), "init failed: {}", output.stderr);
    let answer: serde_json::Value =
        serde_json::from_str(&output.stdout).expect("init --json prints JSON");
    answer["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| PathBuf::from(n["home"].as_str().expect("home")))
        .collect()
}

/// Every path under `dir` with its size: what "untouched" is checked by.
fn listing(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).expect("read a directory") {
            let path = entry.expect("an entry").path();
            let metadata = fs::symlink_metadata(&path).expect("metadata");
            if metadata.is_dir() {
                pending.push(path.clone());
            }
            out.insert(path, metadata.len());
        }
    }
    out
}

/// A home like `source` without its data: configuration, genesis and keys.
fn spare_home(source: &Path, at: &Path) -> PathBuf {
    fs::create_dir_all(at).expect("create the spare home");
    for name in ["config.toml", "genesis.json", "node.key"] {
        fs::copy(source.join(name), at.join(name)).expect("copy a home file");
    }
    at.to_path_buf()
}

/// Runs a restore that must fail with `reason` in its message and leave
/// `home` exactly as it was.
fn assert_refused(home: &Path, file: &Path, reason: &str) {
    let before = listing(home);
    let output = run_cli_logged(&[
        "restore",
        "--home",
        &home.to_string_lossy(),
        &file.to_string_lossy(),
    ]);
    assert!(!output.success(), "restore of {} succeeded", file.display());
    assert!(
        output.stderr.contains(reason),
        "expected `{reason}` in: {}",
        output.stderr
    );
    assert_eq!(
        listing(home),
        before,
        "the refused restore changed the home"
    );
}

/// The offset of frame `index`'s payload in a backup: frames follow the
/// 12-byte preamble as kind (1), length (4), payload, checksum (32).
fn payload_offset(bytes: &[u8], index: usize) -> usize {
    let mut offset = 12;
    for _ in 0..index {
        let length = u32::from_be_bytes(bytes[offset + 1..offset + 5].try_into().expect("4"));
        offset += 5 + length as usize + 32;
    }
    offset + 5
}

/// The files the blob store of `home` holds of `record`.
fn blob_files(home: &Path, record: &str) -> usize {
    fs::read_dir(home.join("data").join("blobs"))
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.file_name().to_string_lossy().starts_with(record))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_validator_that_loses_its_disk_is_restored_from_a_backup_taken_while_it_ran() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a runtime")
        .block_on(restore_drill());
}

async fn restore_drill() {
    let mut net = Network::start().await;
    net.wait_height(2).await;
    let home = net.homes[RESTORED].clone();
    let before_backup = SecretKey::from_seed([11; 32]);
    net.fund(RESTORED, &before_backup, 1_000).await;

    // A record the restored validator's organisation holds off the ledger.
    let cli = Cli::new(net.nodes[RESTORED].as_ref().expect("runs"));
    cli.new_key("patient");
    let report = net.dir.path().join("report.txt");
    fs::write(&report, b"discharge summary (sealed)").expect("write");
    let police = load_key(&net.homes[3], "police").public_key().to_hex();
    let anchored = cli.json(&[
        "record",
        "anchor",
        "--signer",
        "health",
        "--org",
        "health",
        "--type",
        "discharge",
        "--owner",
        "patient",
        "--to",
        &police,
        "--file",
        &report.to_string_lossy(),
    ]);
    let record = anchored["record"].as_str().expect("record id").to_owned();
    assert_eq!(
        blob_files(&home, &record),
        2,
        "the author's node holds blob and keys"
    );

    // Backed up while it runs.
    let backup = net.dir.path().join("health.backup");
    let summary = take_backup(&home, &backup);
    assert_eq!(summary["from"], "the running node");
    assert_eq!(summary["blobs"], 1);
    let backup_height = summary["height"].as_u64().expect("height");
    assert!(backup_height >= 2, "{summary}");
    assert!(
        fs::read_dir(net.dir.path()).expect("list").all(|e| !e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .contains("partial")),
        "no partial file is left beside the backup"
    );

    // The chain goes on, then the validator loses its disk.
    let after_backup = SecretKey::from_seed([12; 32]);
    net.fund(0, &after_backup, 2_000).await;
    net.wait_height(backup_height + BLOCKS_AFTER_BACKUP).await;
    net.nodes[RESTORED].take().expect("runs").kill();
    fs::remove_dir_all(home.join("data")).expect("lose the disk");

    let restored = run_cli_logged(&[
        "restore",
        "--home",
        &home.to_string_lossy(),
        &backup.to_string_lossy(),
        "--progress-every",
        "2",
    ]);
    assert!(restored.success(), "{restored:?}");
    assert!(
        restored
            .stderr
            .contains(&format!("restore: block 2 of {backup_height}"))
            && restored.stderr.contains(&format!(
                "restore: block {backup_height} of {backup_height}"
            )),
        "progress lines on stderr: {}",
        restored.stderr
    );
    assert!(!home.join("data.restoring").exists());
    assert_eq!(
        blob_files(&home, &record),
        2,
        "the record's blob and keys are back"
    );

    // Restarted, it serves the backup's tip at once and catches up.
    net.start_node(RESTORED).await;
    assert!(net.height(RESTORED).await >= backup_height);
    let target = net.max_height().await;
    net.wait_height(target).await;
    let height = Height(target);
    let reference = net.client(0).block(height).await.expect("block");
    for i in net.running() {
        let block = net.client(i).block(height).await.expect("block");
        assert_eq!(
            (block.id, block.state_root),
            (reference.id, reference.state_root),
            "validator {i} at height {target}"
        );
    }
    for key in [&before_backup, &after_backup] {
        let balances: Vec<i128> = {
            let mut out = Vec::new();
            for i in net.running() {
                out.push(balance(&net.client(i), &address_of(key)).await);
            }
            out
        };
        assert!(balances.windows(2).all(|w| w[0] == w[1]), "{balances:?}");
    }
    assert_eq!(
        balance(&net.client(RESTORED), &address_of(&after_backup)).await,
        2_000,
        "the block after the backup came from the peers"
    );

    refusals(&net, &backup).await;
}

/// Truncated, flipped and foreign backups are refused, and the home stays.
async fn refusals(net: &Network, backup: &Path) {
    let bytes = fs::read(backup).expect("read the backup");
    let spare = spare_home(&net.homes[RESTORED], &net.dir.path().join("spare"));

    let truncated = net.dir.path().join("truncated.backup");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    assert_refused(&spare, &truncated, "the backup is truncated");

    let flipped = net.dir.path().join("flipped.backup");
    let mut damaged = bytes.clone();
    damaged[payload_offset(&bytes, 2) + 7] ^= 0x04;
    fs::write(&flipped, &damaged).expect("write");
    assert_refused(&spare, &flipped, "frame 2 (block)");
    assert_refused(&spare, &flipped, "fails its checksum");

    let other_dir = net.dir.path().join("other");
    let other = init_network(&other_dir, 1, free_port_block(2), "cityledger-other");
    assert_refused(&other[0], backup, "a backup of another chain");

    // And a node's data is never replaced unasked, nor under a running node.
    let running_home = net.homes[0].to_string_lossy().into_owned();
    let file = backup.to_string_lossy().into_owned();
    let unasked = run_cli_logged(&["restore", "--home", &running_home, &file]);
    assert!(
        !unasked.success() && unasked.stderr.contains("is not empty"),
        "{unasked:?}"
    );
    let forced = run_cli_logged(&["restore", "--home", &running_home, &file, "--force"]);
    assert!(
        !forced.success() && forced.stderr.contains("is running"),
        "{forced:?}"
    );
    assert!(net.height(0).await >= 1, "the running node still serves");
}

/// A one-validator chain has no peer to learn the current view from after
/// a restore: its consensus starts from the restored tip's certificate, and
/// the chain goes on from there with the restored state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_validator_resumes_from_its_restored_tip() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let citizen = SecretKey::from_seed([21; 32]);
    let funding = transfer(
        &treasury,
        &chain,
        org_account("treasury:issuance"),
        address_of(&citizen),
        700,
        "lone-1",
    );
    assert_eq!(
        outcome_code(&submit_and_finalize(&client, &funding).await),
        None
    );

    let home = node.home.clone();
    let backup = dir.path().join("dev.backup");
    let summary = take_backup(&home, &backup);
    let backup_height = summary["height"].as_u64().expect("height");

    node.kill();
    fs::remove_dir_all(home.join("data")).expect("lose the disk");
    let restored = run_cli_logged(&[
        "restore",
        "--home",
        &home.to_string_lossy(),
        &backup.to_string_lossy(),
    ]);
    assert!(restored.success(), "{restored:?}");

    let node = Node::start(&home, node.port)
        .await
        .expect("the restored dev node starts");
    let client = node.client();
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let height = status(&client).await.height.0;
        if height > backup_height + 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restored chain stayed at height {height} (backup at {backup_height}):\n{}",
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        balance(&client, &address_of(&citizen)).await,
        700,
        "the restored state"
    );
    let after = transfer(
        &treasury,
        &chain,
        org_account("treasury:issuance"),
        address_of(&citizen),
        50,
        "lone-2",
    );
    assert_eq!(
        outcome_code(&submit_and_finalize(&client, &after).await),
        None
    );
    assert_eq!(balance(&client, &address_of(&citizen)).await, 750);

    // Its journals now exist: a crash and a restart replay them as usual.
    let resumed_height = status(&client).await.height.0;
    let mut node = node;
    node.kill();
    let node = Node::start(&home, node.port)
        .await
        .expect("the dev node restarts after a crash");
    let client = node.client();
    let deadline = Instant::now() + WAIT_MAX;
    while status(&client).await.height.0 <= resumed_height + 3 {
        assert!(
            Instant::now() < deadline,
            "the chain did not go on after the restart:\n{}",
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(balance(&client, &address_of(&citizen)).await, 750);
}
