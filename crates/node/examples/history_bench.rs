//! Cost of the history accumulator on the embedded store: committing empty
//! blocks (each appends its parent's id and stores the nodes it completes),
//! then building consistency proofs between heights spread over the chain.
//!
//! Run: `cargo run --release -p cityledger-node --example history_bench
//! [BLOCKS] [DIR]`. Without DIR it uses a temporary directory (make sure it
//! is a real disk: every commit is fsynced).

use cityledger_node::chain::Chain;
use cityledger_node::history_index;
use cityledger_state::genesis::dev_genesis;
use cityledger_storage::{FjallStore, Store};
use cityledger_types::block::ConsensusRound;
use cityledger_types::genesis::GenesisValidator;
use cityledger_types::history;
use cityledger_types::records::StateKey;
use cityledger_types::{ChainId, Height, OrgName, SecretKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BLOCKS_DEFAULT: u64 = 10_000;
/// Proofs measured, each from a different old height to the tip.
const PROOFS: u64 = 1_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let blocks: u64 = match args.next() {
        Some(text) => text.parse()?,
        None => BLOCKS_DEFAULT,
    };
    let temporary = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| temporary.path().to_path_buf(), std::path::PathBuf::from);
    let store: Arc<dyn Store> = Arc::new(FjallStore::open(&dir)?);
    let admins =
        [1u8, 2, 3, 4, 5, 6, 7, 8].map(|seed| SecretKey::from_seed([seed; 32]).public_key());
    let validator = GenesisValidator {
        org: OrgName::new("treasury")?,
        key: SecretKey::from_seed([9; 32]).public_key(),
    };
    let genesis = dev_genesis(
        ChainId::new("cityledger-bench")?,
        1_800_000_000_000,
        &admins,
        vec![validator],
    );
    let chain = Chain::open(store.clone(), genesis)?;

    let started = Instant::now();
    for _ in 0..blocks {
        let tip = chain.finalized();
        let view = tip.block.header.height.0 + 1;
        let round = ConsensusRound {
            epoch: 0,
            view,
            parent_view: view - 1,
            leader: None,
        };
        let (built, _) = chain.build(&tip, round, tip.block.header.timestamp_ms + 1, &[]);
        chain.commit(built.block.clone(), b"certificate")?;
    }
    let commit_time = started.elapsed();
    let tip = chain.finalized();
    let tip_height = tip.block.header.height;
    let bytes = tip
        .state
        .get(&StateKey::History.to_bytes())
        .ok_or("no history")?;
    let record: history::HistoryRecord = borsh::from_slice(bytes)?;
    println!(
        "{blocks} empty blocks committed in {:.1} s ({:.0} µs per block, fsync included); history record {} bytes, {} peaks",
        commit_time.as_secs_f64(),
        per(commit_time, blocks),
        bytes.len(),
        record.peaks().len()
    );

    let mut proving = Duration::ZERO;
    let mut verifying = Duration::ZERO;
    let (mut siblings_max, mut siblings_total) = (0usize, 0usize);
    let root = record.root();
    let step = (tip_height.0 / PROOFS).max(1);
    let mut count = 0u64;
    for old in (0..tip_height.0)
        .step_by(step as usize)
        .take(PROOFS as usize)
    {
        let started = Instant::now();
        let proof = history_index::prove(store.as_ref(), Height(old), tip_height)?;
        proving += started.elapsed();
        let stored = store.block(Height(old))?.ok_or("missing block")?;
        let started = Instant::now();
        proof
            .verify(&history::leaf(&stored.block_id), &root)
            .map_err(|error| format!("proof of {old} fails: {error}"))?;
        verifying += started.elapsed();
        siblings_max = siblings_max.max(proof.siblings.len());
        siblings_total += proof.siblings.len();
        count += 1;
    }
    println!(
        "{count} proofs to height {tip_height}: build {:.0} µs each, verify {:.1} µs each; {:.1} hashes on average, {siblings_max} at most ({} bytes framed)",
        per(proving, count),
        per(verifying, count),
        siblings_total as f64 / count as f64,
        5 + 8 + 8 + 4 + 32 * siblings_max
    );
    Ok(())
}

fn per(total: Duration, count: u64) -> f64 {
    total.as_secs_f64() * 1e6 / count.max(1) as f64
}
