//! `cityledger bench`: signed transfers through a real node, finalized
//! throughput and submission-to-finality latency.
//!
//! Transactions are signed before the clock starts, so the figure measures
//! the node, not the client's signing. Finality is observed by reading each
//! new finalized block, so latency includes up to one poll interval.

use crate::commands::{block_on, now_ms, wait_healthy};
use crate::home::{Home, random_key};
use anyhow::{Context, Result, bail};
use cityledger_api::SubmitResult;
use cityledger_client::Client;
use cityledger_types::tx::{Action, LedgerOp, Memo, TransferOrder, TxBody};
use cityledger_types::{
    Address, Amount, ChainId, ClientTxId, CurrencyCode, Digest, Height, SecretKey, SignedTx,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Most transactions one run may drive.
const TRANSACTIONS_MAX: u64 = 2_000_000;
/// Transactions per submission request.
const SUBMIT_BATCH: usize = 1_000;
/// How often the finalized tip is polled.
const POLL_INTERVAL_MS: u64 = 20;

/// Arguments of `cityledger bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Node to drive; without it, a dev node is started in a temporary home.
    #[arg(long)]
    node: Option<String>,
    /// Home holding the `treasury` key and genesis of `--node`.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// Number of signed transfers.
    #[arg(long, default_value_t = 20_000)]
    transactions: u64,
    /// Target submission rate in tx/s; 0 submits open loop.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Number of distinct sending accounts.
    #[arg(long, default_value_t = 256)]
    senders: usize,
    /// Give up waiting for finality after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_s: u64,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
}

struct DevNode {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 whose successor is free too: the dev node
/// listens for peers on the API port + 1.
fn free_port() -> Result<u16> {
    for _attempt in 0..64 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
        let port = listener.local_addr()?.port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    bail!("found no two adjacent free ports on 127.0.0.1")
}

fn start_dev_node() -> Result<(DevNode, String, PathBuf)> {
    let dir = tempfile::tempdir().context("create a temporary home")?;
    let port = free_port()?;
    let home = dir.path().join("home");
    let child = Command::new(std::env::current_exe().context("locate the cityledger binary")?)
        .args(["dev", "--home"])
        .arg(&home)
        .args(["--api", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start a dev node")?;
    Ok((
        DevNode { child, _dir: dir },
        format!("http://127.0.0.1:{port}"),
        home,
    ))
}

/// Runs the benchmark.
pub fn run(args: BenchArgs, json: bool) -> Result<()> {
    if args.transactions == 0 || args.transactions > TRANSACTIONS_MAX {
        bail!("--transactions must be between 1 and {TRANSACTIONS_MAX}");
    }
    if args.senders < 2 || args.senders > 100_000 {
        bail!("--senders must be between 2 and 100000");
    }
    let (_dev, node, home) = match &args.node {
        Some(node) => (None, node.clone(), args.home.clone()),
        None => {
            let (dev, node, home) = start_dev_node()?;
            (Some(dev), node, home)
        }
    };
    let summary = block_on(drive(&args, &node, &home))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} transfers finalized in {:.2} s: {:.0} tx/s; latency p50 {} ms, p99 {} ms; {} validator(s), {} blocks",
            summary["transactions"],
            summary["duration_s"],
            summary["finalized_tx_per_s"],
            summary["latency_ms_p50"],
            summary["latency_ms_p99"],
            summary["validators"],
            summary["blocks"]
        );
    }
    Ok(())
}

fn transfer(
    key: &SecretKey,
    chain_id: &ChainId,
    (from, to, amount): (Address, Address, Amount),
    id: String,
) -> SignedTx {
    TxBody {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        id: ClientTxId::new(id).expect("bench ids are valid"),
        expires_at_ms: now_ms() + 30 * 60 * 1000,
        action: Action::Ledger(LedgerOp::Transfer(TransferOrder {
            from,
            to,
            currency: CurrencyCode::new("CITY").expect("valid code"),
            amount,
            memo: Memo::new("").expect("valid memo"),
        })),
    }
    .sign(key)
}

async fn drive(args: &BenchArgs, node: &str, home: &std::path::Path) -> Result<serde_json::Value> {
    let client = Client::new(node)?;
    wait_healthy(&client, Duration::from_secs(60)).await?;
    let status = client.status().await?;
    let chain_id = status.chain_id.clone();
    let treasury = Home::new(home).key("treasury")?;
    let run_tag = hex::encode(&random_key().seed()[..6]);
    let senders: Vec<SecretKey> = (0..args.senders).map(|_| random_key()).collect();
    let addresses: Vec<Address> = senders
        .iter()
        .map(|k| Address::of_key(&k.public_key()))
        .collect();
    let issuance = Address::parse_or_alias("treasury:issuance").expect("valid alias");
    let funding: Vec<SignedTx> = addresses
        .iter()
        .enumerate()
        .map(|(i, to)| {
            let amount = Amount(u128::from(args.transactions) + 1_000);
            transfer(
                &treasury,
                &chain_id,
                (issuance, *to, amount),
                format!("bench-{run_tag}-fund-{i}"),
            )
        })
        .collect();
    submit_all(&client, &funding).await?;
    let last = funding
        .last()
        .map(SignedTx::hash)
        .context("at least one sender")?;
    client
        .wait_for_finality(&last, 60_000)
        .await
        .context("fund the senders")?;

    let txs = sign_transfers(args, &senders, &addresses, &chain_id, &run_tag);
    let progress = progress_bar(args);
    let started = Instant::now();
    let mut finality = Finality::new(client.status().await?.height, txs.len());
    let deadline = started + Duration::from_secs(args.timeout_s);
    for (index, chunk) in txs.chunks(SUBMIT_BATCH).enumerate() {
        if args.rate > 0 {
            let due =
                started + Duration::from_secs_f64((index * SUBMIT_BATCH) as f64 / args.rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        finality.submitted(chunk);
        submit_all(&client, chunk).await?;
        finality.poll(&client, &progress).await?;
    }
    while finality.latencies_ms.len() < txs.len() {
        if Instant::now() > deadline {
            bail!(
                "only {} of {} transfers finalized within {} s",
                finality.latencies_ms.len(),
                txs.len(),
                args.timeout_s
            );
        }
        tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        finality.poll(&client, &progress).await?;
    }
    progress.finish_and_clear();
    let duration_s = started.elapsed().as_secs_f64();
    let blocks = finality.blocks;
    let mut latencies_ms = finality.latencies_ms;
    latencies_ms.sort_unstable();
    let percentile = |p: f64| latencies_ms[((latencies_ms.len() - 1) as f64 * p).round() as usize];
    Ok(serde_json::json!({
        "transactions": txs.len(),
        "finalized_tx_per_s": txs.len() as f64 / duration_s,
        "latency_ms_p50": percentile(0.50),
        "latency_ms_p99": percentile(0.99),
        "duration_s": duration_s,
        "validators": status.validators.len(),
        "blocks": blocks,
        "senders": args.senders,
        "rate": args.rate,
        "node": node,
    }))
}

fn progress_bar(args: &BenchArgs) -> ProgressBar {
    if args.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(args.transactions);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} finalized ({per_sec}) {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

fn sign_transfers(
    args: &BenchArgs,
    senders: &[SecretKey],
    addresses: &[Address],
    chain_id: &ChainId,
    run_tag: &str,
) -> Vec<SignedTx> {
    let count = args.transactions as usize;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t * per_thread..((t + 1) * per_thread).min(count))
                        .map(|i| {
                            let from = i % senders.len();
                            let to = (i * 7 + 1) % senders.len();
                            let to = if to == from {
                                (to + 1) % senders.len()
                            } else {
                                to
                            };
                            transfer(
                                &senders[from],
                                chain_id,
                                (addresses[from], addresses[to], Amount(1)),
                                format!("bench-{run_tag}-{i}"),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signing thread"))
            .collect()
    })
}

async fn submit_all(client: &Client, txs: &[SignedTx]) -> Result<()> {
    let mut pending: Vec<SignedTx> = txs.to_vec();
    for _attempt in 0..600 {
        let response = client
            .submit_many(&pending)
            .await
            .context("submit transactions")?;
        let mut retry = Vec::new();
        for (tx, result) in pending.iter().zip(&response.results) {
            if let SubmitResult::Problem(problem) = result {
                if problem.status == 503 {
                    retry.push(tx.clone());
                } else if problem.code != "duplicate_tx_id" {
                    bail!("transaction refused: {}: {}", problem.code, problem.detail);
                }
            }
        }
        if retry.is_empty() {
            return Ok(());
        }
        pending = retry;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the node stayed full for a minute")
}

/// Follows finalized blocks and records, for each benchmark transaction, the
/// time from its submission to the moment its block was seen finalized.
struct Finality {
    next_height: Height,
    submitted_at: HashMap<Digest, Instant>,
    latencies_ms: Vec<u64>,
    blocks: u64,
}

impl Finality {
    fn new(tip: Height, transactions: usize) -> Finality {
        Finality {
            next_height: tip.next(),
            submitted_at: HashMap::with_capacity(transactions),
            latencies_ms: Vec::with_capacity(transactions),
            blocks: 0,
        }
    }

    fn submitted(&mut self, txs: &[SignedTx]) {
        let now = Instant::now();
        for tx in txs {
            self.submitted_at.insert(tx.hash(), now);
        }
    }

    /// Reads every block finalized since the last poll.
    async fn poll(&mut self, client: &Client, progress: &ProgressBar) -> Result<()> {
        let tip = client.status().await?.height;
        while self.next_height <= tip {
            let block = client.block(self.next_height).await?;
            let seen = Instant::now();
            for tx in &block.txs {
                if let Some(sent) = self.submitted_at.remove(&tx.hash) {
                    self.latencies_ms
                        .push(seen.duration_since(sent).as_millis() as u64);
                }
            }
            self.next_height = self.next_height.next();
            self.blocks += 1;
        }
        progress.set_position(self.latencies_ms.len() as u64);
        Ok(())
    }
}
