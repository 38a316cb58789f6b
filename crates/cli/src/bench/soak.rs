//! `cityledger bench --duration D`: a steady load held for a long time,
//! sampled every `--sample-s`: finalized throughput, each node's resident
//! memory and the disk the nodes use. Throughput that sags, or memory that
//! only grows, under hours of load is what operators of Iroha report; this
//! is how we show ours does neither.
//!
//! Transactions are signed just in time on a thread of their own (a
//! 30-minute run is millions of them), one submission batch ahead of the
//! schedule.

use super::{
    BenchArgs, Finality, POLL_INTERVAL_MS, SUBMIT_BATCH, Setup, progress_bar, submit_batch,
    transfer_at,
};
use anyhow::{Result, bail};
use cityledger_client::Client;
use cityledger_types::{Address, SecretKey, SignedTx};
use std::path::Path;
use std::time::{Duration, Instant};

/// Bounds of `--duration`, in seconds.
pub(super) const DURATION_S_RANGE: std::ops::RangeInclusive<u64> = 10..=24 * 3_600;
/// Signed batches kept ready ahead of the schedule.
const BATCHES_AHEAD: usize = 4;
/// A run keeps its throughput when its last full sample is at least this
/// share of its first (issue 11's soak target).
pub(super) const HELD_RATIO_MIN: f64 = 0.95;

/// `30m`, `90s`, `2h` or plain seconds, in seconds.
pub(super) fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit_s) = match text.as_bytes().last() {
        Some(b's') => (&text[..text.len() - 1], 1),
        Some(b'm') => (&text[..text.len() - 1], 60),
        Some(b'h') => (&text[..text.len() - 1], 3_600),
        _ => (text, 1),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m or 2h"))?;
    let seconds = count
        .checked_mul(unit_s)
        .filter(|s| DURATION_S_RANGE.contains(s))
        .ok_or_else(|| {
            format!(
                "{text:?} is outside {}s..={}h",
                DURATION_S_RANGE.start(),
                DURATION_S_RANGE.end() / 3_600
            )
        })?;
    Ok(seconds)
}

/// One sample of a soak run.
#[derive(Clone, Debug, serde::Serialize)]
struct Sample {
    /// Seconds from the start to the sample's end.
    at_s: u64,
    /// Transactions finalized within the sample.
    finalized: u64,
    /// Their rate.
    tx_per_s: f64,
    /// Each node's resident memory, MiB.
    rss_mib: Vec<Option<f64>>,
    /// Bytes the nodes' homes hold, MiB (nodes the bench started only).
    disk_mib: Option<f64>,
}

/// Resident memory of process `pid`, MiB, from /proc.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Bytes of the files under `dir`; files that vanish meanwhile (the store
/// compacts) are skipped.
fn disk_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => disk_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// Signs transfers `0..total` in batches on a thread of its own, a few
/// batches ahead; it stops when the receiver is dropped.
fn spawn_signer(
    total: u64,
    batch_size: u64,
    senders: Vec<SecretKey>,
    addresses: Vec<Address>,
    chain_id: cityledger_types::ChainId,
    run_tag: String,
) -> tokio::sync::mpsc::Receiver<Vec<SignedTx>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    std::thread::spawn(move || {
        let mut start = 0u64;
        while start < total {
            let end = (start + batch_size).min(total);
            let batch = (start..end)
                .map(|i| transfer_at(i as usize, &senders, &addresses, &chain_id, &run_tag))
                .collect();
            if sender.blocking_send(batch).is_err() {
                return;
            }
            start = end;
        }
    });
    receiver
}

/// What the soak watches besides the chain: the node processes and where
/// they keep their data.
pub(super) struct Watched<'a> {
    /// Their process ids.
    pub pids: &'a [u32],
    /// Their homes, when the bench started them.
    pub data_dir: Option<&'a Path>,
}

impl Watched<'_> {
    fn sample(&self, at_s: u64, finalized: u64, span_s: f64) -> Sample {
        Sample {
            at_s,
            finalized,
            tx_per_s: finalized as f64 / span_s,
            rss_mib: self.pids.iter().map(|pid| rss_mib(*pid)).collect(),
            disk_mib: self
                .data_dir
                .map(|dir| disk_bytes(dir) as f64 / (1 << 20) as f64),
        }
    }
}

/// Drives `rate` transfers a second for `duration_s` over `nodes`.
pub(super) async fn drive(
    args: &BenchArgs,
    duration_s: u64,
    nodes: &[String],
    home: &Path,
    watched: &Watched<'_>,
) -> Result<serde_json::Value> {
    let total = args.rate.saturating_mul(duration_s);
    let setup = Setup::funded(args, nodes, home, total / args.senders as u64).await?;
    let Setup {
        clients,
        status,
        run_tag,
        senders,
        addresses,
        ..
    } = setup;
    let client = &clients[0];
    let chain_id = status.chain_id.clone();
    // About ten submissions a second, so that the load is steady rather
    // than a burst per batch.
    let batch_size = (args.rate / 10).clamp(1, SUBMIT_BATCH as u64);
    let mut batches = spawn_signer(total, batch_size, senders, addresses, chain_id, run_tag);

    let progress = progress_bar(args, total);
    let started = Instant::now();
    let mut run = Run {
        finality: Finality::new(client.status().await?.height, 0),
        samples: vec![watched.sample(0, 0, 1.0)],
        counted: 0,
        started,
        sample_s: args.sample_s,
    };
    let mut submitted = 0u64;
    let mut index = 0usize;
    while let Some(batch) = batches.recv().await {
        let due = started + Duration::from_secs_f64(submitted as f64 / args.rate as f64);
        run.follow_until(due, client, &progress, watched).await?;
        run.finality.submitted(&batch);
        submit_batch(&clients[index % clients.len()], &batch).await?;
        submitted += batch.len() as u64;
        index += 1;
    }
    let end = started + Duration::from_secs(duration_s);
    run.follow_until(end, client, &progress, watched).await?;
    let mut finality = run.finality;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    while (finality.latencies_ms.len() as u64) < total {
        if Instant::now() > deadline {
            bail!(
                "only {} of {total} transfers finalized within {} s of the load's end",
                finality.latencies_ms.len(),
                args.timeout_s
            );
        }
        tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        finality.poll(client, &progress).await?;
    }
    progress.finish_and_clear();
    Ok(summary(args, duration_s, &status, finality, &run.samples))
}

/// A soak in progress: what is finalized, and the samples taken.
struct Run {
    finality: Finality,
    samples: Vec<Sample>,
    /// Finalized transactions already counted in a sample.
    counted: u64,
    started: Instant,
    sample_s: u64,
}

impl Run {
    /// Follows finality, sampling when a sample is due, until `until`.
    async fn follow_until(
        &mut self,
        until: Instant,
        client: &Client,
        progress: &indicatif::ProgressBar,
        watched: &Watched<'_>,
    ) -> Result<()> {
        loop {
            self.finality.poll(client, progress).await?;
            let next_at_s = self.samples.len() as u64 * self.sample_s;
            if self.started.elapsed().as_secs() >= next_at_s {
                let finalized = self.finality.latencies_ms.len() as u64;
                let sample =
                    watched.sample(next_at_s, finalized - self.counted, self.sample_s as f64);
                self.samples.push(sample);
                self.counted = finalized;
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            let pause = Duration::from_millis(POLL_INTERVAL_MS).min(until - now);
            tokio::time::sleep(pause).await;
        }
    }
}

fn summary(
    args: &BenchArgs,
    duration_s: u64,
    status: &cityledger_api::StatusView,
    mut finality: Finality,
    samples: &[Sample],
) -> serde_json::Value {
    // samples[0] is the start; the rest are full samples.
    let full = &samples[1..];
    let first = full.first().map_or(0.0, |s| s.tx_per_s);
    let last = full.last().map_or(0.0, |s| s.tx_per_s);
    let ratio = if first > 0.0 { last / first } else { 0.0 };
    let max_rss = |sample: &Sample| {
        sample
            .rss_mib
            .iter()
            .flatten()
            .fold(0.0f64, |a, b| a.max(*b))
    };
    // Memory is judged from the second sample on: the first holds the
    // warm-up (caches filling, the mempool reaching its steady size).
    let rss_from = full.get(1).or(full.first()).map(max_rss);
    let rss_to = full.last().map(max_rss);
    let growth = match (rss_from, rss_to) {
        (Some(from), Some(to)) if from > 0.0 => Some(100.0 * (to - from) / from),
        _ => None,
    };
    finality.latencies_ms.sort_unstable();
    let latencies_ms = &finality.latencies_ms;
    let percentile = |p: f64| {
        latencies_ms
            .get(((latencies_ms.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
    };
    serde_json::json!({
        "workload": "soak",
        "duration_s": duration_s,
        "sample_s": args.sample_s,
        "rate": args.rate,
        "senders": args.senders,
        "validators": status.validators.len(),
        "transactions": finality.latencies_ms.len(),
        "rejected": finality.rejected.values().sum::<u64>(),
        "rejection_codes": finality.rejected,
        "blocks": finality.blocks,
        "latency_ms_p50": percentile(0.50),
        "latency_ms_p99": percentile(0.99),
        "first_sample_tx_per_s": first,
        "last_sample_tx_per_s": last,
        "last_to_first": ratio,
        "throughput_held": ratio >= HELD_RATIO_MIN,
        "rss_mib_max_from": rss_from,
        "rss_mib_max_last": rss_to,
        "rss_growth_percent": growth,
        "disk_mib_last": full.last().and_then(|s| s.disk_mib),
        "samples": samples,
    })
}

/// The human form of a soak summary.
pub(super) fn print(summary: &serde_json::Value) {
    println!(
        "soak: {} transfers at {} tx/s for {} s on {} validator(s); latency p50 {} ms, p99 {} ms; {} rejected",
        summary["transactions"],
        summary["rate"],
        summary["duration_s"],
        summary["validators"],
        summary["latency_ms_p50"],
        summary["latency_ms_p99"],
        summary["rejected"],
    );
    println!(
        "{:>8} {:>10} {:>12} {:>10}",
        "at s", "tx/s", "max RSS MiB", "disk MiB"
    );
    for sample in summary["samples"].as_array().into_iter().flatten().skip(1) {
        let rss = sample["rss_mib"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_f64)
            .fold(0.0f64, f64::max);
        println!(
            "{:>8} {:>10.0} {:>12.0} {:>10.0}",
            sample["at_s"].as_u64().unwrap_or(0),
            sample["tx_per_s"].as_f64().unwrap_or(0.0),
            rss,
            sample["disk_mib"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "last/first throughput {:.3} ({}), memory growth after warm-up {}%",
        summary["last_to_first"].as_f64().unwrap_or(0.0),
        if summary["throughput_held"] == true {
            "held"
        } else {
            "NOT held"
        },
        summary["rss_growth_percent"]
            .as_f64()
            .map_or("n/a".to_owned(), |g| format!("{g:.1}")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2h"), Ok(7_200));
        assert_eq!(parse_duration("45"), Ok(45));
        for bad in [
            "",
            "m",
            "-5m",
            "5 minutes",
            "9s",
            "25h",
            "18446744073709551615h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn disk_usage_adds_up_nested_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(dir.path().join("x"), [0u8; 100]).expect("write");
        std::fs::write(dir.path().join("a/b/y"), [0u8; 23]).expect("write");
        assert_eq!(disk_bytes(dir.path()), 123);
        assert_eq!(disk_bytes(&dir.path().join("missing")), 0);
    }
}
