//! `cityledger bench`: signed transactions through a real node, finalized
//! throughput and submission-to-finality latency.
//!
//! Two workloads: `transfers` between many accounts, and `fines`, where
//! every citizen pays a fine into one treasury account (the hot account
//! that Fabric's read conflicts fail on). The fines are issued, in bulk,
//! before the clock starts.
//!
//! Transactions are signed before the clock starts, so the figure measures
//! the node, not the client's signing. Finality is observed by reading each
//! new finalized block, so latency includes up to one poll interval; every
//! benchmark transaction's outcome is counted, so a rejection shows.

use crate::commands::{NetworkPlan, block_on, create_network, now_ms, wait_healthy};
use crate::home::{Home, random_key};
use anyhow::{Context, Result, bail};
use cityledger_api::OutcomeView;
use cityledger_api::SubmitResult;
use cityledger_client::Client;
use cityledger_types::limits::CHARGES_PER_ISSUE_MAX;
use cityledger_types::obligation::{
    Charge, Charges, Issuance, ObligationOp, PenaltyRule, Reference, obligation_id,
};
use cityledger_types::tx::{TransferOrder, TxBody};
use cityledger_types::{
    Action, Address, Amount, ChainId, ClientTxId, CurrencyCode, Digest, Height, KindName, OrgName,
    SecretKey, SignedTx,
};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rustix::process::{Pid, Signal, kill_process};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod soak;

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
    /// Start a network of this many validators on 127.0.0.1 and spread the
    /// load over all of them (default: a one-validator dev chain).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=16))]
    validators: Option<u16>,
    /// What the load is.
    #[arg(long, value_enum, default_value_t = Workload::Transfers)]
    workload: Workload,
    /// Hold `--rate` transfers a second for this long (`30m`, `90s`, `2h`)
    /// instead of sending `--transactions`: a soak, reporting throughput,
    /// each node's memory and the disk used every `--sample-s`.
    #[arg(long, value_parser = soak::parse_duration)]
    duration: Option<u64>,
    /// Seconds per soak sample.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    sample_s: u64,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// The load a benchmark drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Transfers between the senders' accounts.
    Transfers,
    /// Each sender pays traffic fines into the one `treasury:main` account.
    Fines,
    /// A device anchors `--transactions` telemetry messages in batches of
    /// 65,536 under one Merkle root each; reports messages anchored per
    /// second, hashing included.
    Stream,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Transfers => "transfers",
            Workload::Fines => "fines",
            Workload::Stream => "stream",
        }
    }
}

/// Nodes the benchmark started itself, stopped (SIGTERM, then SIGKILL) when
/// it ends.
struct Spawned {
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        for child in &self.children {
            if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
                let _ = kill_process(pid, Signal::TERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for child in &mut self.children {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A first port of `count` consecutive ports free on 127.0.0.1.
fn free_ports(count: u16) -> Result<u16> {
    for _attempt in 0..64 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
        let base = listener.local_addr()?.port();
        drop(listener);
        let Some(end) = base.checked_add(count) else {
            continue;
        };
        if (base..end).all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return Ok(base);
        }
    }
    bail!("found no {count} consecutive free ports on 127.0.0.1")
}

/// Starts `validators` nodes in a temporary directory: the dev chain for
/// one, a network made by `init` for more. Returns them with their API URLs
/// and the home that holds the treasury key.
fn start_nodes(validators: u16) -> Result<(Spawned, Vec<String>, PathBuf)> {
    let dir = tempfile::tempdir().context("create a temporary home")?;
    let binary = std::env::current_exe().context("locate the cityledger binary")?;
    let base = free_ports(2 * validators)?;
    let spawn = |args: &[&str], home: &std::path::Path| {
        Command::new(&binary)
            .args(args)
            .arg("--home")
            .arg(home)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("start a node")
    };
    if validators == 1 {
        let home = dir.path().join("home");
        let child = spawn(&["dev", "--api", &format!("127.0.0.1:{base}")], &home)?;
        let spawned = Spawned {
            children: vec![child],
            dir,
        };
        return Ok((spawned, vec![format!("http://127.0.0.1:{base}")], home));
    }
    let (_, nodes) = create_network(&NetworkPlan {
        dir: dir.path(),
        validators,
        organisations: None,
        base_port: base,
        chain_id: "cityledger-bench",
    })?;
    let mut spawned = Spawned {
        children: Vec::new(),
        dir,
    };
    for node in &nodes {
        spawned.children.push(spawn(&["node"], &node.home)?);
    }
    let urls = nodes.iter().map(|n| format!("http://{}", n.api)).collect();
    Ok((spawned, urls, nodes[0].home.clone()))
}

/// CPU time a process has used so far, in seconds, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces: utime and stime are the 12th and 13th of them.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

/// The nodes a run drives: its own, started here, or `--node`'s.
struct Target {
    spawned: Option<Spawned>,
    nodes: Vec<String>,
    /// The home holding the treasury key.
    home: PathBuf,
    /// The processes of the nodes started here.
    pids: Vec<u32>,
}

impl Target {
    fn of(args: &BenchArgs) -> Result<Target> {
        if args.node.is_some() && args.validators.is_some() {
            bail!("--validators starts its own network; it cannot be combined with --node");
        }
        let Some(node) = &args.node else {
            let (spawned, nodes, home) = start_nodes(args.validators.unwrap_or(1))?;
            let pids = spawned.children.iter().map(Child::id).collect();
            return Ok(Target {
                spawned: Some(spawned),
                nodes,
                home,
                pids,
            });
        };
        Ok(Target {
            spawned: None,
            nodes: vec![node.clone()],
            home: args.home.clone(),
            pids: Vec::new(),
        })
    }
}

fn check_senders(args: &BenchArgs) -> Result<()> {
    if args.senders < 2 || args.senders > 100_000 {
        bail!("--senders must be between 2 and 100000");
    }
    Ok(())
}

/// Runs the benchmark.
pub fn run(args: BenchArgs, json: bool) -> Result<()> {
    if args.workload == Workload::Stream {
        return run_stream(args, json);
    }
    if let Some(duration_s) = args.duration {
        return run_soak(args, duration_s, json);
    }
    if args.transactions == 0 || args.transactions > TRANSACTIONS_MAX {
        bail!("--transactions must be between 1 and {TRANSACTIONS_MAX}");
    }
    check_senders(&args)?;
    let target = Target::of(&args)?;
    let summary = block_on(drive(&args, &target.nodes, &target.home, &target.pids));
    drop(target);
    let summary = summary?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} {} finalized in {:.2} s: {:.0} tx/s; latency p50 {} ms, p99 {} ms; {} rejected; {} validator(s), {} blocks; CPU per node (% of one core) {}",
            summary["transactions"],
            args.workload.name(),
            summary["duration_s"],
            summary["finalized_tx_per_s"],
            summary["latency_ms_p50"],
            summary["latency_ms_p99"],
            summary["rejected"],
            summary["validators"],
            summary["blocks"],
            summary["cpu_percent_per_node"]
        );
    }
    Ok(())
}

/// `bench --duration`: see [`soak`].
fn run_soak(args: BenchArgs, duration_s: u64, json: bool) -> Result<()> {
    if args.workload != Workload::Transfers {
        bail!("--duration drives transfers; leave --workload out");
    }
    if args.rate == 0 {
        bail!("--duration holds a steady load: give it --rate (tx/s)");
    }
    check_senders(&args)?;
    let target = Target::of(&args)?;
    let watched = soak::Watched {
        pids: &target.pids,
        data_dir: target.spawned.as_ref().map(|s| s.dir.path()),
    };
    let summary = block_on(soak::drive(
        &args,
        duration_s,
        &target.nodes,
        &target.home,
        &watched,
    ));
    drop(target);
    let summary = summary?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        soak::print(&summary);
    }
    Ok(())
}

/// Most messages a stream benchmark anchors (at ~100 B a message, about
/// 6 GiB of memory held at once).
const STREAM_MESSAGES_MAX: u64 = 64_000_000;

/// `bench --workload stream`: messages anchored per second, from the first
/// hash to the finality of the last batch.
fn run_stream(args: BenchArgs, json: bool) -> Result<()> {
    if args.transactions == 0 || args.transactions > STREAM_MESSAGES_MAX {
        bail!("--transactions (messages) must be between 1 and {STREAM_MESSAGES_MAX}");
    }
    let target = Target::of(&args)?;
    let summary = block_on(drive_stream(&args, &target.nodes[0], &target.home));
    drop(target);
    let summary = summary?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} messages anchored in {} batches in {:.3} s: {:.0} messages/s (hashing {:.3} s, {:.0} messages/s; chain {:.3} s)",
            summary["messages"],
            summary["batches"],
            summary["duration_s"],
            summary["anchored_messages_per_s"],
            summary["hash_s"],
            summary["hashed_messages_per_s"],
            summary["chain_s"],
        );
    }
    Ok(())
}

async fn drive_stream(
    args: &BenchArgs,
    node: &str,
    home: &std::path::Path,
) -> Result<serde_json::Value> {
    use cityledger_types::device::{DeviceLabel, DeviceOp, DeviceType};
    use cityledger_types::limits::BATCH_MESSAGES_MAX;
    let client = Client::new(node)?;
    wait_healthy(&client, Duration::from_secs(60)).await?;
    let chain_id = client.status().await?.chain_id;
    let treasury = Home::new(home).key("treasury")?;
    let run_tag = hex::encode(&random_key().seed()[..6]);
    let device = random_key();
    let register = signed(
        &treasury,
        &chain_id,
        format!("bench-{run_tag}-device"),
        Action::Device(DeviceOp::Register {
            org: OrgName::new("treasury").expect("valid name"),
            device: device.public_key(),
            device_type: DeviceType::ConnectedCar,
            label: DeviceLabel::new("bench").expect("valid label"),
        }),
    );
    submit_all(&client, std::slice::from_ref(&register)).await?;
    client
        .wait_for_finality(&register.hash(), 60_000)
        .await
        .context("register the bench device")?;
    // Telemetry of ~100 bytes, as a connected car sends.
    let messages: Vec<Vec<u8>> = (0..args.transactions)
        .map(|i| {
            format!(
                "car-{:05},t={},speed_kmh={},lat=52.{:06},lon=4.{:06},fuel=0.{:03}",
                i % 10_000,
                1_800_000_000_000u64 + i,
                30 + i % 90,
                i % 1_000_000,
                (i * 7) % 1_000_000,
                i % 1000
            )
            .into_bytes()
        })
        .collect();
    let started = Instant::now();
    let (txs, batches) =
        crate::record::batch_txs(&device, &chain_id, &messages, BATCH_MESSAGES_MAX, 0);
    let hash_s = started.elapsed().as_secs_f64();
    submit_all(&client, &txs).await?;
    let mut rejected = 0usize;
    for tx in &txs {
        let status = client
            .wait_for_finality(&tx.hash(), args.timeout_s.saturating_mul(1000))
            .await
            .context("anchor a batch")?;
        if matches!(
            status,
            cityledger_api::TxStatusView::Finalized {
                outcome: OutcomeView::Rejected { .. },
                ..
            }
        ) {
            rejected += 1;
        }
    }
    let duration_s = started.elapsed().as_secs_f64();
    if rejected > 0 {
        bail!("{rejected} of {} batches were rejected", txs.len());
    }
    let message_bytes: usize = messages.iter().map(Vec::len).sum();
    Ok(serde_json::json!({
        "workload": "stream",
        "messages": messages.len(),
        "message_bytes_mean": message_bytes / messages.len().max(1),
        "batches": batches.len(),
        "batch_messages_max": BATCH_MESSAGES_MAX,
        "duration_s": duration_s,
        "anchored_messages_per_s": messages.len() as f64 / duration_s,
        "hash_s": hash_s,
        "hashed_messages_per_s": messages.len() as f64 / hash_s.max(1e-9),
        "chain_s": duration_s - hash_s,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "node": node,
    }))
}

/// How long a benchmark transaction stays valid: ample for the time from
/// signing to finality, and short like a real client's, so that a soak
/// measures the state once the ids of expired transactions are forgotten
/// (`cityledger_state::tx_ids`), not a state that only grows.
const BENCH_TX_LIFETIME_MS: u64 = 5 * 60 * 1000;

fn city() -> CurrencyCode {
    CurrencyCode::new("CITY").expect("valid code")
}

fn transfer(
    key: &SecretKey,
    chain_id: &ChainId,
    (from, to, amount): (Address, Address, Amount),
    id: String,
) -> SignedTx {
    TxBody::transfer(
        chain_id.clone(),
        key.public_key(),
        ClientTxId::new(id).expect("bench ids are valid"),
        now_ms() + BENCH_TX_LIFETIME_MS,
        TransferOrder::new(from, to, city(), amount),
    )
    .sign(key)
}

fn signed(key: &SecretKey, chain_id: &ChainId, id: String, action: Action) -> SignedTx {
    TxBody {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        id: ClientTxId::new(id).expect("bench ids are valid"),
        expires_at_ms: now_ms() + BENCH_TX_LIFETIME_MS,
        action,
    }
    .sign(key)
}

/// The treasury's account that receives every fine of the `fines` workload.
fn fines_payee() -> Address {
    Address::parse_or_alias("treasury:main").expect("valid alias")
}

/// Issues `count` fines of one minor unit, to the senders in turn, in
/// issuances of `CHARGES_PER_ISSUE_MAX`; returns the obligation ids in
/// order. Not timed.
async fn issue_fines(
    client: &Client,
    treasury: &SecretKey,
    chain_id: &ChainId,
    addresses: &[Address],
    count: usize,
    run_tag: &str,
) -> Result<Vec<Digest>> {
    let mut ids = Vec::with_capacity(count);
    let mut last = None;
    for (batch, start) in (0..count).step_by(CHARGES_PER_ISSUE_MAX).enumerate() {
        let end = (start + CHARGES_PER_ISSUE_MAX).min(count);
        let charges = (start..end)
            .map(|i| Charge {
                payer: addresses[i % addresses.len()],
                amount: Amount(1),
                reference: Reference::default(),
                evidence: None,
            })
            .collect();
        let issuance = Issuance {
            org: OrgName::new("treasury").expect("valid name"),
            kind: KindName::new("traffic_fine").expect("valid kind"),
            payee: fines_payee(),
            currency: city(),
            due_at_ms: now_ms() + 24 * 60 * 60 * 1000,
            penalty: PenaltyRule::None,
            charges: Charges(charges),
        };
        let action = Action::Obligation(ObligationOp::Issue(issuance));
        let tx = signed(
            treasury,
            chain_id,
            format!("bench-{run_tag}-fines-{batch}"),
            action,
        );
        let hash = tx.hash();
        ids.extend((0..(end - start) as u32).map(|index| obligation_id(&hash, index)));
        submit_all(client, std::slice::from_ref(&tx)).await?;
        last = Some(hash);
    }
    let last = last.context("at least one fine")?;
    let status = client
        .wait_for_finality(&last, 120_000)
        .await
        .context("issue the fines")?;
    if let cityledger_api::TxStatusView::Finalized {
        outcome: OutcomeView::Rejected { code, detail, .. },
        ..
    } = status
    {
        bail!("issuing the fines was rejected: {code}: {detail}");
    }
    Ok(ids)
}

/// The clients of a run and its funded senders.
struct Setup {
    /// One per node, each answering.
    clients: Vec<Client>,
    /// The first node's status at the start.
    status: cityledger_api::StatusView,
    treasury: SecretKey,
    /// Makes this run's transaction ids unique.
    run_tag: String,
    senders: Vec<SecretKey>,
    addresses: Vec<Address>,
}

impl Setup {
    /// Waits for every node, then gives each of `--senders` new accounts
    /// `per_sender` units from the treasury.
    async fn funded(
        args: &BenchArgs,
        nodes: &[String],
        home: &std::path::Path,
        per_sender: u64,
    ) -> Result<Setup> {
        let clients: Vec<Client> = nodes
            .iter()
            .map(|n| Client::new(n))
            .collect::<Result<_, _>>()?;
        for client in &clients {
            wait_healthy(client, Duration::from_secs(60)).await?;
        }
        let status = clients[0].status().await?;
        let treasury = Home::new(home).key("treasury")?;
        let run_tag = hex::encode(&random_key().seed()[..6]);
        let senders: Vec<SecretKey> = (0..args.senders).map(|_| random_key()).collect();
        let addresses: Vec<Address> = senders
            .iter()
            .map(|k| Address::of_key(&k.public_key()))
            .collect();
        let amount = per_sender.saturating_add(1_000);
        let chain_id = &status.chain_id;
        fund_senders(
            &clients[0],
            &treasury,
            chain_id,
            &addresses,
            amount,
            &run_tag,
        )
        .await?;
        Ok(Setup {
            clients,
            status,
            treasury,
            run_tag,
            senders,
            addresses,
        })
    }
}

async fn drive(
    args: &BenchArgs,
    nodes: &[String],
    home: &std::path::Path,
    pids: &[u32],
) -> Result<serde_json::Value> {
    let setup = Setup::funded(args, nodes, home, args.transactions).await?;
    let Setup {
        clients,
        status,
        treasury,
        run_tag,
        senders,
        addresses,
    } = &setup;
    let (client, chain_id) = (&clients[0], &status.chain_id);

    let txs = match args.workload {
        Workload::Transfers => sign_transfers(args, senders, addresses, chain_id, run_tag),
        Workload::Fines => {
            let count = args.transactions as usize;
            let fines = issue_fines(client, treasury, chain_id, addresses, count, run_tag).await?;
            sign_payments(&fines, senders, addresses, chain_id, run_tag)
        }
        // `run` hands the stream workload to `run_stream` before this.
        Workload::Stream => bail!("the stream workload is driven by run_stream"),
    };
    let progress = progress_bar(args, args.transactions);
    let cpu_before: Vec<Option<f64>> = pids.iter().map(|p| cpu_seconds(*p)).collect();
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
        // Clients spread over every node, as citizens and agencies would.
        submit_all(&clients[index % clients.len()], chunk).await?;
        finality.poll(client, &progress).await?;
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
        finality.poll(client, &progress).await?;
    }
    progress.finish_and_clear();
    let duration_s = started.elapsed().as_secs_f64();
    let cpu_percent_per_node: Vec<Option<f64>> = pids
        .iter()
        .zip(cpu_before)
        .map(|(pid, before)| {
            let used = cpu_seconds(*pid)? - before?;
            Some((100.0 * used / duration_s).round())
        })
        .collect();
    let blocks = finality.blocks;
    let mut latencies_ms = std::mem::take(&mut finality.latencies_ms);
    latencies_ms.sort_unstable();
    let percentile = |p: f64| latencies_ms[((latencies_ms.len() - 1) as f64 * p).round() as usize];
    Ok(serde_json::json!({
        "workload": args.workload.name(),
        "rejected": finality.rejected.values().sum::<u64>(),
        "rejection_codes": finality.rejected,
        "transactions": txs.len(),
        "finalized_tx_per_s": txs.len() as f64 / duration_s,
        "latency_ms_p50": percentile(0.50),
        "latency_ms_p99": percentile(0.99),
        "duration_s": duration_s,
        "validators": status.validators.len(),
        "blocks": blocks,
        "senders": args.senders,
        "rate": args.rate,
        "nodes": nodes,
        "cpu_percent_per_node": cpu_percent_per_node,
    }))
}

/// Gives each of `addresses` `amount` from the treasury's issuance
/// account, and waits until that is final.
async fn fund_senders(
    client: &Client,
    treasury: &SecretKey,
    chain_id: &ChainId,
    addresses: &[Address],
    amount: u64,
    run_tag: &str,
) -> Result<()> {
    let issuance = Address::parse_or_alias("treasury:issuance").expect("valid alias");
    let funding: Vec<SignedTx> = addresses
        .iter()
        .enumerate()
        .map(|(i, to)| {
            transfer(
                treasury,
                chain_id,
                (issuance, *to, Amount(u128::from(amount))),
                format!("bench-{run_tag}-fund-{i}"),
            )
        })
        .collect();
    submit_all(client, &funding).await?;
    let last = funding
        .last()
        .map(SignedTx::hash)
        .context("at least one sender")?;
    client
        .wait_for_finality(&last, 60_000)
        .await
        .context("fund the senders")?;
    Ok(())
}

fn progress_bar(args: &BenchArgs, total: u64) -> ProgressBar {
    if args.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} finalized ({per_sec}) {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Signs transaction `i` for every `i` below `count`, on every core.
fn sign_parallel(count: usize, sign: impl Fn(usize) -> SignedTx + Sync) -> Vec<SignedTx> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_thread = count.div_ceil(threads);
    let sign = &sign;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t * per_thread..((t + 1) * per_thread).min(count))
                        .map(sign)
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

fn sign_transfers(
    args: &BenchArgs,
    senders: &[SecretKey],
    addresses: &[Address],
    chain_id: &ChainId,
    run_tag: &str,
) -> Vec<SignedTx> {
    sign_parallel(args.transactions as usize, |i| {
        transfer_at(i, senders, addresses, chain_id, run_tag)
    })
}

/// Transfer `i` of a run: one unit between two distinct senders, spread so
/// that consecutive transfers touch different accounts.
fn transfer_at(
    i: usize,
    senders: &[SecretKey],
    addresses: &[Address],
    chain_id: &ChainId,
    run_tag: &str,
) -> SignedTx {
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
}

/// One payment per fine, by the fined sender, from its own account.
fn sign_payments(
    fines: &[Digest],
    senders: &[SecretKey],
    addresses: &[Address],
    chain_id: &ChainId,
    run_tag: &str,
) -> Vec<SignedTx> {
    sign_parallel(fines.len(), |i| {
        let payer = i % senders.len();
        let pay = ObligationOp::Pay {
            obligation: fines[i],
            from: addresses[payer],
            currency: city(),
            amount: Amount(1),
        };
        signed(
            &senders[payer],
            chain_id,
            format!("bench-{run_tag}-{i}"),
            Action::Obligation(pay),
        )
    })
}

/// Submits `txs` in batches of `SUBMIT_BATCH`, retrying what a full
/// mempool turned away.
async fn submit_all(client: &Client, txs: &[SignedTx]) -> Result<()> {
    for chunk in txs.chunks(SUBMIT_BATCH) {
        submit_batch(client, chunk).await?;
    }
    Ok(())
}

async fn submit_batch(client: &Client, txs: &[SignedTx]) -> Result<()> {
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
    /// Benchmark transactions rejected, by reason code.
    rejected: BTreeMap<String, u64>,
}

impl Finality {
    fn new(tip: Height, transactions: usize) -> Finality {
        Finality {
            next_height: tip.next(),
            submitted_at: HashMap::with_capacity(transactions),
            latencies_ms: Vec::with_capacity(transactions),
            blocks: 0,
            rejected: BTreeMap::new(),
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
                    if let OutcomeView::Rejected { code, .. } = &tx.outcome {
                        *self.rejected.entry(code.clone()).or_default() += 1;
                    }
                }
            }
            self.next_height = self.next_height.next();
            self.blocks += 1;
        }
        progress.set_position(self.latencies_ms.len() as u64);
        Ok(())
    }
}
