//! `cityledger testnet`: N real validator processes on 127.0.0.1, created on
//! first run and resumed after, supervised until SIGINT or SIGTERM.
//!
//! Each node is an ordinary `cityledger node` process with its own home, so
//! a test can kill one with SIGKILL and restart it exactly as an operator
//! would. The supervisor reports a node that exits and does not restart it:
//! a crash loop would hide the failure a demo or a test is looking for.
//! `testnet.json` appears once every node serves its API, so a script can
//! wait for the file and then use the network.

use crate::commands::{NetworkNode, NetworkPlan, create_network};
use crate::home::Home;
use crate::logging::{LogArgs, LogFormat};
use anyhow::{Context, Result, bail};
use clap::Args;
use rustix::process::{Pid, Signal, kill_process};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tracing::{error, warn};

/// How long a node gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the nodes get to open their stores and serve their APIs.
const READY_WAIT: Duration = Duration::from_secs(60);
/// How often the supervisor looks at its children.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Arguments of `cityledger testnet`.
#[derive(Args)]
pub struct TestnetArgs {
    /// Directory of the network: one home per validator, created on first run.
    #[arg(long)]
    home: PathBuf,
    /// Number of validators.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    validators: u16,
    /// First port; validator i uses base+2i for the API and base+2i+1 for p2p.
    #[arg(long, default_value_t = 26600)]
    base_port: u16,
    /// Organisations, comma separated; defaults to the eight city agencies.
    #[arg(long, value_delimiter = ',')]
    organisations: Option<Vec<String>>,
    /// Chain id of a new network.
    #[arg(long, default_value = "cityledger-local")]
    chain_id: String,
    /// Also the format of each node's log (`DIR/NAME.log`).
    #[command(flatten)]
    pub log: LogArgs,
}

/// One entry of `testnet.json`.
#[derive(serde::Serialize)]
struct RunningNode {
    name: String,
    pid: u32,
    api: String,
    p2p: String,
}

/// `cityledger testnet`.
pub fn run(args: TestnetArgs, json: bool) -> Result<()> {
    let nodes = existing_network(&args.home)?;
    let nodes = if nodes.is_empty() {
        create_network(&NetworkPlan {
            dir: &args.home,
            validators: args.validators,
            organisations: args.organisations.clone(),
            base_port: args.base_port,
            chain_id: &args.chain_id,
        })?
        .1
    } else if nodes.len() != usize::from(args.validators) {
        bail!(
            "{} already holds a network of {} validators, not {}",
            args.home.display(),
            nodes.len(),
            args.validators
        );
    } else {
        nodes
    };
    let mut children = Vec::new();
    for node in &nodes {
        match spawn_node(node, args.log.log_format) {
            Ok(child) => children.push((node, child)),
            Err(error) => {
                stop_all(&mut children);
                return Err(error);
            }
        }
    }
    let manifest = args.home.join("testnet.json");
    let outcome = crate::commands::block_on(async {
        // Signals are caught from here on, so a SIGTERM during start-up
        // stops the nodes too instead of orphaning them.
        let mut stop = StopSignals::new()?;
        tokio::select! {
            ready = wait_all_healthy(&mut children) => ready?,
            _ = stop.next() => return Ok(()),
        }
        // testnet.json is the readiness signal scripts wait for: written
        // only once every node answers.
        announce(&children, &manifest, &args.home, json)?;
        supervise(&mut children, &mut stop).await
    });
    stop_all(&mut children);
    let _ = fs::remove_file(&manifest);
    outcome
}

/// SIGINT and SIGTERM.
struct StopSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

/// Writes testnet.json and prints the nodes.
fn announce(
    children: &[(&NetworkNode, Child)],
    manifest: &Path,
    dir: &Path,
    json: bool,
) -> Result<()> {
    let running: Vec<RunningNode> = children
        .iter()
        .map(|(node, child)| RunningNode {
            name: node.name.clone(),
            pid: child.id(),
            api: format!("http://{}", node.api),
            p2p: node.p2p.to_string(),
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "nodes": running }))?;
    write_atomic(manifest, text.as_bytes())?;
    if json {
        println!("{}", serde_json::json!({ "nodes": running }));
        return Ok(());
    }
    println!(
        "testnet of {} validators under {}",
        running.len(),
        dir.display()
    );
    for node in &running {
        println!(
            "  {:<12} pid {:<8} API {}  p2p {}",
            node.name, node.pid, node.api, node.p2p
        );
    }
    println!("stop with Ctrl-C");
    Ok(())
}

/// The validator homes already under `dir`, in address-book order.
fn existing_network(dir: &Path) -> Result<Vec<NetworkNode>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut nodes = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let home = Home::new(&path);
        if !home.is_initialised() {
            continue;
        }
        let config = home.config()?;
        nodes.push(NetworkNode {
            name: config.name.clone(),
            home: path,
            api: config.api_listen,
            p2p: config.p2p_listen,
        });
    }
    nodes.sort_by_key(|node| node.p2p);
    Ok(nodes)
}

fn spawn_node(node: &NetworkNode, log_format: LogFormat) -> Result<Child> {
    let log_path = node.home.with_extension("log");
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let errors = log.try_clone()?;
    let binary = std::env::current_exe().context("cannot find the cityledger binary")?;
    Command::new(binary)
        .arg("node")
        .arg("--home")
        .arg(&node.home)
        .arg("--log-format")
        .arg(log_format.as_arg())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(errors))
        .spawn()
        .with_context(|| format!("cannot start node {}", node.name))
}

/// Waits until every node answers `/health`; fails if one exits first or
/// [`READY_WAIT`] passes.
async fn wait_all_healthy(children: &mut [(&NetworkNode, Child)]) -> Result<()> {
    let deadline = Instant::now() + READY_WAIT;
    for (node, child) in children.iter_mut() {
        let client = cityledger_client::Client::new(&format!("http://{}", node.api))?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "node {} exited ({status}) before serving; its log is {}",
                    node.name,
                    node.home.with_extension("log").display()
                );
            }
            if client.health().await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "node {} did not serve its API within {READY_WAIT:?}",
                    node.name
                );
            }
            tokio::time::sleep(POLL_INTERVAL / 2).await;
        }
    }
    Ok(())
}

/// Waits for SIGINT or SIGTERM, reporting nodes that exit meanwhile. Fails
/// when every node has exited.
async fn supervise(children: &mut [(&NetworkNode, Child)], stop: &mut StopSignals) -> Result<()> {
    let mut exited = vec![false; children.len()];
    loop {
        tokio::select! {
            _ = stop.next() => return Ok(()),
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        for ((node, child), exited) in children.iter_mut().zip(exited.iter_mut()) {
            if *exited {
                continue;
            }
            if let Ok(Some(status)) = child.try_wait() {
                // The network goes on without it, or halts without a
                // quorum: either way an operator has to look.
                error!(
                    node = %node.name,
                    %status,
                    log = %node.home.with_extension("log").display(),
                    "a node exited"
                );
                *exited = true;
            }
        }
        if exited.iter().all(|e| *e) {
            bail!("every node has exited");
        }
    }
}

/// Stops every child: SIGTERM, then SIGKILL after the grace period.
fn stop_all(children: &mut [(&NetworkNode, Child)]) {
    for (_, child) in children.iter_mut() {
        if let Ok(None) = child.try_wait()
            && let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw)
        {
            let _ = kill_process(pid, Signal::TERM);
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    for (node, child) in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    warn!(node = %node.name, grace = ?STOP_GRACE, "a node did not stop in time; killing it");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(POLL_INTERVAL / 4),
            }
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("json.tmp");
    fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
