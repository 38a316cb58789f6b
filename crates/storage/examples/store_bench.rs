//! Commit throughput of [`FjallStore`]: 50 blocks of 10,000 transfers each.
//!
//! Per transfer the block writes 2 state keys (two balances), 1 tx index
//! entry and 2 account index entries; per block, a block record of realistic
//! size, its id and the tip. Every commit is fsynced.
//!
//! Run: `cargo run --release -p cityledger-storage --example store_bench [DIR]`.
//! Without DIR it uses a temporary directory on the default temp filesystem
//! (make sure that is a real disk, not tmpfs, or fsync is free).

use cityledger_state::WriteSet;
use cityledger_storage::{BlockCommit, FjallStore, Store};
use cityledger_types::address::ADDRESS_LEN;
use cityledger_types::block::{BlockHeader, ConsensusRound, tx_leaf};
use cityledger_types::{Address, ChainId, Digest, Height, merkle};
use std::time::{Duration, Instant};

const BLOCK_COUNT: u64 = 50;
const TRANSFERS_PER_BLOCK: u32 = 10_000;
const ACCOUNT_COUNT: u64 = 100_000;
/// Bytes of one signed transfer in the block body.
const TX_BYTES: usize = 190;
/// Bytes of the events of one transfer.
const EVENT_BYTES: usize = 200;
const STATE_VALUE_BYTES: usize = 64;

/// Everything one block commits, owned.
struct BenchBlock {
    height: Height,
    block_id: Digest,
    block_bytes: Vec<u8>,
    certificate: Vec<u8>,
    outcomes: Vec<u8>,
    events: Vec<u8>,
    tx_hashes: Vec<Digest>,
    account_entries: Vec<(Address, u32)>,
    state_writes: WriteSet,
    state_root: Digest,
}

impl BenchBlock {
    fn commit(&self) -> BlockCommit<'_> {
        BlockCommit {
            height: self.height,
            block_id: self.block_id,
            block_bytes: &self.block_bytes,
            certificate: &self.certificate,
            outcomes_bytes: &self.outcomes,
            events_bytes: &self.events,
            tx_hashes: &self.tx_hashes,
            account_entries: &self.account_entries,
            state_writes: &self.state_writes,
            state_root: self.state_root,
            index_changes: &[],
        }
    }

    fn key_count(&self) -> usize {
        // Block record, block id and tip, plus the indexes and state.
        3 + self.tx_hashes.len() + self.account_entries.len() + self.state_writes.len()
    }
}

/// SplitMix64: a deterministic stream of account choices.
struct Accounts(u64);

impl Accounts {
    fn next(&mut self) -> Address {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let index = (z ^ (z >> 31)) % ACCOUNT_COUNT;
        let mut bytes = [0u8; ADDRESS_LEN];
        bytes[ADDRESS_LEN - 8..].copy_from_slice(&index.to_be_bytes());
        Address(bytes)
    }
}

fn balance_key(account: &Address) -> Vec<u8> {
    // Shaped like borsh(StateKey::Balance(address, "EUR")).
    [&[5u8][..], &account.0, &3u32.to_le_bytes(), b"EUR"].concat()
}

fn build_block(height: Height, parent: Digest, accounts: &mut Accounts) -> BenchBlock {
    let mut tx_hashes = Vec::with_capacity(TRANSFERS_PER_BLOCK as usize);
    let mut account_entries = Vec::with_capacity(2 * TRANSFERS_PER_BLOCK as usize);
    let mut state_writes = WriteSet::new();
    for position in 0..TRANSFERS_PER_BLOCK {
        let (from, to) = (accounts.next(), accounts.next());
        tx_hashes.push(Digest::of_parts(&[
            &height.0.to_be_bytes(),
            &position.to_be_bytes(),
        ]));
        account_entries.push((from, position));
        account_entries.push((to, position));
        let value = vec![position as u8; STATE_VALUE_BYTES];
        state_writes.insert(balance_key(&from), Some(value.clone()));
        state_writes.insert(balance_key(&to), Some(value));
    }
    account_entries.sort_unstable();
    account_entries.dedup();
    let leaves: Vec<Digest> = tx_hashes.iter().map(tx_leaf).collect();
    let state_root = Digest::of(&height.0.to_be_bytes());
    let header = BlockHeader {
        chain_id: ChainId::new("cityledger-bench").expect("valid chain id"),
        height,
        parent,
        timestamp_ms: height.0 * 500,
        round: ConsensusRound::default(),
        tx_root: merkle::root(&leaves),
        outcomes_root: Digest::ZERO,
        state_root,
        validator_set_hash: Digest::ZERO,
        tx_count: TRANSFERS_PER_BLOCK,
    };
    // Storage reads only the header; the body stands in for the signed
    // transactions at their real size.
    let mut block_bytes = borsh::to_vec(&header).expect("encode header");
    block_bytes.resize(
        block_bytes.len() + TX_BYTES * TRANSFERS_PER_BLOCK as usize,
        0xab,
    );
    BenchBlock {
        height,
        block_id: header.id(),
        block_bytes,
        certificate: vec![0xce; 3 * 1024],
        outcomes: vec![0; 4 + TRANSFERS_PER_BLOCK as usize],
        events: vec![b'e'; EVENT_BYTES * TRANSFERS_PER_BLOCK as usize],
        tx_hashes,
        account_entries,
        state_writes,
        state_root,
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let temporary = tempfile::tempdir()?;
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| temporary.path().to_path_buf(), Into::into);
    let store = FjallStore::open(&dir)?;
    let mut accounts = Accounts(42);
    let mut parent = Digest::ZERO;
    let mut commit_times = Vec::new();
    let (mut keys, mut bytes) = (0usize, 0usize);
    for height in 0..BLOCK_COUNT {
        let block = build_block(Height(height), parent, &mut accounts);
        let started = Instant::now();
        store.commit(&block.commit())?;
        commit_times.push(started.elapsed());
        keys += block.key_count();
        bytes += block.block_bytes.len() + block.events.len() + block.outcomes.len();
        parent = block.block_id;
    }
    let total: Duration = commit_times.iter().sum();
    let mut sorted = commit_times.clone();
    sorted.sort_unstable();
    println!("store at {}", dir.display());
    println!(
        "{BLOCK_COUNT} blocks x {TRANSFERS_PER_BLOCK} transfers: {keys} keys, {:.1} MiB of block records",
        bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "commit: {:.0} keys/s, {:.0} transfers/s; ms per commit mean {:.1}, p50 {:.1}, p90 {:.1}, max {:.1}",
        keys as f64 / total.as_secs_f64(),
        (BLOCK_COUNT * u64::from(TRANSFERS_PER_BLOCK)) as f64 / total.as_secs_f64(),
        total.as_secs_f64() * 1e3 / BLOCK_COUNT as f64,
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.9),
        percentile(&sorted, 1.0),
    );
    drop(store);

    let started = Instant::now();
    let store = FjallStore::open(&dir)?;
    let opened = started.elapsed();
    let started = Instant::now();
    let entries = store.for_each_state_entry(&mut |_, _| {})?;
    println!(
        "reopen (with start-up check): {:.1} ms; scan of {entries} state entries: {:.1} ms",
        opened.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
