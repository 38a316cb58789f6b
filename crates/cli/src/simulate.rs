//! `cityledger simulate`: a sweep of deterministic simulations, one per
//! seed. A failure prints its seed; `--seed S --seeds 1` replays it exactly.

use anyhow::{Result, bail};
use cityledger_node::consensus::simulation::{SimulationConfig, VALIDATORS_RANGE, simulate};
use clap::Args;

/// Arguments of `cityledger simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// First seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of seeds, from `--seed` on.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    seeds: u64,
    /// Validators per run (4 to 25).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Transfers per run.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    transfers: u64,
    /// Share of messages each link delivers, in percent (50 to 100).
    #[arg(long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(50..=100))]
    delivery_percent: u8,
    /// Run without crashes and restarts.
    #[arg(long)]
    no_crashes: bool,
    /// Run without a partition.
    #[arg(long)]
    no_partition: bool,
}

/// Runs the sweep; fails on the first failing seed.
pub fn run(args: SimulateArgs, json: bool) -> Result<()> {
    if !VALIDATORS_RANGE.contains(&args.validators) {
        bail!(
            "--validators must be between {} and {}",
            VALIDATORS_RANGE.start(),
            VALIDATORS_RANGE.end()
        );
    }
    let last = args
        .seed
        .checked_add(args.seeds - 1)
        .ok_or_else(|| anyhow::anyhow!("--seed + --seeds overflows"))?;
    for seed in args.seed..=last {
        let config = SimulationConfig {
            seed,
            validators: args.validators,
            transfers: args.transfers as usize,
            crashes: !args.no_crashes,
            partition: !args.no_partition,
            delivery_percent: args.delivery_percent,
            conflicters: 0,
            equivocators: 0,
        };
        let report = simulate(config).map_err(|failure| {
            anyhow::anyhow!("{failure}\nreplay with: cityledger simulate --seed {seed} --seeds 1 --validators {}", args.validators)
        })?;
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "seed": report.seed,
                    "common_height": report.common_height,
                    "state_root": report.state_root.to_hex(),
                    "finalized_txs": report.finalized_txs,
                    "crashes": report.crashes,
                    "virtual_ms": report.virtual_ms,
                })
            );
        } else {
            println!(
                "seed {seed}: ok, height {}, {} txs, {} crashes, {:.1} s virtual, state root {}",
                report.common_height,
                report.finalized_txs,
                report.crashes,
                report.virtual_ms as f64 / 1000.0,
                report.state_root
            );
        }
    }
    Ok(())
}
