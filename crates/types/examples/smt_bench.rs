//! Throughput of the state tree on one core: bulk build of 1M entries, then
//! batches of random balance updates, the shape of a block of transfers.
//!
//! Run with `cargo run --release -p cityledger-types --example smt_bench`.
//! Seeded, so two runs do the same work.
//!
//! Results on a 2-core AMD EPYC VM (SHA-NI), shared with a running compiler,
//! so about ±15%; four runs, default glibc allocator, then with
//! `GLIBC_TUNABLES=glibc.malloc.tcache_count=65535`:
//!
//! | measure                                  | default glibc   | tcache tuned    |
//! |------------------------------------------|-----------------|-----------------|
//! | `from_entries`, 1M entries               | 2.0 s           | 1.6 s           |
//! | resident memory                          | 313 bytes/entry | 313 bytes/entry |
//! | `apply`, old version freed each batch    | 56k-60k/s       | 97k-104k/s      |
//! | `apply`, versions kept                   | 128k-146k/s     | 157k-165k/s     |
//! | then freeing the 20 old versions         | 1.4-1.6 s       | 1.1-1.3 s       |
//! | `apply_in_place`                         | 199k-220k/s     | 214k-235k/s     |
//! | `prove` / `verify`                       | ~190k/s, ~125k/s|                 |
//!
//! `apply_in_place` reaches ~300k/s on a freshly built tree, whose nodes lie
//! in path order; here it runs after the `apply` rounds have scattered them.

use cityledger_types::smt::SparseMerkleTree;
use std::time::{Duration, Instant};

const ENTRIES: u64 = 1_000_000;
const BATCHES: usize = 20;
const WRITES_PER_BATCH: usize = 20_000;
const PROOFS: usize = 10_000;
const SEED: u64 = 0x5EED_C17E;
/// Page size of x86-64 Linux, to turn /proc/self/statm pages into bytes.
const PAGE_BYTES: u64 = 4096;

type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// SplitMix64: enough randomness for a benchmark, without a dependency.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn account_key(index: u64) -> Vec<u8> {
    [&b"acct/"[..], &index.to_be_bytes()].concat()
}

/// A balance and a nonce, as a ledger account would store them.
fn account_value(balance: u64, nonce: u64) -> Vec<u8> {
    [balance.to_le_bytes(), nonce.to_le_bytes()].concat()
}

/// Resident memory, where Linux exposes it.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * PAGE_BYTES)
}

fn random_batch(rng: &mut Rng) -> Batch {
    (0..WRITES_PER_BATCH)
        .map(|_| {
            let index = rng.next_u64() % ENTRIES;
            let value = account_value(rng.next_u64() % 1_000_000, rng.next_u64());
            (account_key(index), Some(value))
        })
        .collect()
}

/// Runs `apply` on each batch; returns the total and the slowest batch time.
fn timed_batches(batches: Vec<Batch>, mut apply: impl FnMut(Batch)) -> (Duration, Duration) {
    let mut slowest = Duration::ZERO;
    let start = Instant::now();
    for batch in batches {
        let batch_start = Instant::now();
        apply(batch);
        slowest = slowest.max(batch_start.elapsed());
    }
    (start.elapsed(), slowest)
}

fn report(name: &str, elapsed: Duration, slowest: Duration) {
    let updates = BATCHES * WRITES_PER_BATCH;
    println!(
        "{name}: {updates} updates in {BATCHES} batches of {WRITES_PER_BATCH}: {:.3} s, {:.0} updates/s, slowest batch {:.1} ms",
        elapsed.as_secs_f64(),
        per_second(updates, elapsed),
        slowest.as_secs_f64() * 1000.0
    );
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn main() {
    let mut tree = build_tree();
    let mut rng = Rng(SEED);

    let batches: Vec<Batch> = (0..BATCHES).map(|_| random_batch(&mut rng)).collect();
    let (elapsed, slowest) = timed_batches(batches, |batch| {
        // The old version is freed here, as a node does once a block is final.
        tree = tree.apply(batch);
    });
    report("apply, old version freed", elapsed, slowest);

    let batches: Vec<Batch> = (0..BATCHES).map(|_| random_batch(&mut rng)).collect();
    let mut versions = vec![tree.clone()];
    let (elapsed, slowest) = timed_batches(batches, |batch| {
        // Speculative versions are kept, as a node does for blocks not yet final.
        let next = versions.last().unwrap_or(&tree).apply(batch);
        versions.push(next);
    });
    report("apply, versions kept", elapsed, slowest);
    tree = versions.pop().unwrap_or(tree);
    let start = Instant::now();
    drop(versions);
    println!(
        "  then freeing the {BATCHES} older versions: {:.3} s",
        start.elapsed().as_secs_f64()
    );

    let batches: Vec<Batch> = (0..BATCHES).map(|_| random_batch(&mut rng)).collect();
    let (elapsed, slowest) = timed_batches(batches, |batch| tree.apply_in_place(batch));
    report("apply_in_place", elapsed, slowest);

    measure_proofs(&tree, &mut rng);
    println!("root: {}", tree.root());
}

fn build_tree() -> SparseMerkleTree {
    let resident_before = resident_bytes();
    let start = Instant::now();
    let entries = (0..ENTRIES).map(|i| (account_key(i), account_value(i, 0)));
    let tree = SparseMerkleTree::from_entries(entries);
    let build = start.elapsed();
    println!(
        "from_entries: {} entries in {:.3} s ({:.0} entries/s)",
        tree.len(),
        build.as_secs_f64(),
        per_second(tree.len(), build)
    );
    if let (Some(before), Some(after)) = (resident_before, resident_bytes()) {
        let per_entry = after.saturating_sub(before) as f64 / tree.len() as f64;
        println!("resident memory: {per_entry:.0} bytes/entry (13-byte keys, 16-byte values)");
    }
    tree
}

fn measure_proofs(tree: &SparseMerkleTree, rng: &mut Rng) {
    let keys: Vec<Vec<u8>> = (0..PROOFS)
        .map(|_| account_key(rng.next_u64() % ENTRIES))
        .collect();
    let start = Instant::now();
    let proofs: Vec<_> = keys.iter().map(|key| tree.prove(key)).collect();
    let prove = start.elapsed();
    let root = tree.root();
    let start = Instant::now();
    let verified = keys
        .iter()
        .zip(&proofs)
        .filter(|(key, proof)| proof.verify(&root, key, tree.get(key)).is_ok())
        .count();
    let verify = start.elapsed();
    assert_eq!(verified, PROOFS, "every proof of a present key verifies");
    let depth_sum: usize = proofs.iter().map(|proof| proof.depth()).sum();
    println!(
        "proofs: {:.0} prove/s, {:.0} verify/s, mean depth {:.1}",
        per_second(PROOFS, prove),
        per_second(PROOFS, verify),
        depth_sum as f64 / PROOFS as f64
    );
}
