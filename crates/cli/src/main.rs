//! The `cityledger` command: run a dev chain or a node, create networks and
//! keys, send transactions, query balances and benchmark.

mod backup;
mod bench;
mod checkpoints;
mod commands;
mod credential;
mod home;
mod logging;
mod obligation;
mod printable;
mod receipts;
mod record;
mod safety;
mod simulate;
mod testnet;

use anyhow::Result;
use clap::{Parser, Subcommand};
use logging::{LogArgs, LogFormat};
use std::net::SocketAddr;
use std::path::PathBuf;

// The node allocates and frees state-tree nodes at a high rate; glibc's
// allocator doubles the cost of a tree update (crates/types/examples/smt_bench.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CityLedger: a permissioned BFT ledger for a city's agencies and citizens.
#[derive(Parser)]
#[command(name = "cityledger", version, about)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a one-validator development chain (created on first run).
    Dev {
        /// Home directory of the dev chain.
        #[arg(long, default_value = "./.cityledger-dev")]
        home: PathBuf,
        /// Address of the REST API.
        #[arg(long, default_value = "127.0.0.1:8080")]
        api: SocketAddr,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Run a node from a home created by `init` or `dev`.
    Node {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Check a node's configuration file as the node would at start-up.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a verified backup of a node's data: every finalized block with
    /// its certificate, and the records' sealed blobs and keys.
    ///
    /// Works while the node runs (it writes the backup from a snapshot of
    /// one tip, through its admin socket HOME/data/admin.sock, without stopping)
    /// or when it is stopped. The file appears under its name only once it
    /// is complete, fsynced and checked. It holds no secret key and no
    /// configuration: keep node.key, config.toml and genesis.json apart.
    /// It does hold the wrapped keys of records, so keep it as carefully as
    /// the node's disk, and expire old backups: an erased record's keys
    /// live on in backups taken before its erasure.
    Backup(backup::BackupArgs),
    /// Rebuild a node's data from a backup, then start the node as usual.
    ///
    /// The whole file is checked first (every frame's checksum, the
    /// whole-file digest, and that it is of this home's chain), so a
    /// damaged or foreign backup is refused with nothing changed. Then
    /// every block's certificate is checked against the genesis validators
    /// and the block re-executed, its state root compared with its header,
    /// into DIR/data.restoring, which becomes DIR/data only at the end.
    /// Exits non-zero on any failure. Then start the node: it serves the
    /// restored state at once and catches up with its peers. The consensus
    /// journals are not in a backup: a restored validator learns the current
    /// view from its peers, and a lone validator (a dev chain) starts its
    /// consensus from the restored tip's certificate (ADR 0010).
    Restore(backup::RestoreArgs),
    /// Create one home per validator for a new network.
    Init {
        /// Directory that will hold one home per validator.
        #[arg(long)]
        home: PathBuf,
        /// Number of validators.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
        validators: u16,
        /// Organisations, comma separated; defaults to the eight city agencies.
        #[arg(long, value_delimiter = ',')]
        organisations: Option<Vec<String>>,
        /// First port; validator i uses base+2i for the API and base+2i+1 for p2p.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Chain id.
        #[arg(long, default_value = "cityledger-local")]
        chain_id: String,
    },
    /// Create (first run) and run a network of N validator processes on
    /// 127.0.0.1, until SIGINT or SIGTERM.
    Testnet(testnet::TestnetArgs),
    /// Summarise a node's view of the network: height, view, validators
    /// heard from, catch-up and equivocations.
    Status {
        /// Node URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
    },
    /// Run deterministic simulations of a whole network under seeded faults
    /// and check safety and liveness; a failure prints the seed that replays it.
    Simulate(simulate::SimulateArgs),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign and submit transactions.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Read the ledger.
    #[command(subcommand)]
    Query(QueryCommand),
    /// Drive signed transfers through a node and report finalized throughput
    /// and latency.
    Bench(bench::BenchArgs),
    /// Obligations: fines, tolls, taxes, tuition and fees owed to agencies.
    #[command(subcommand)]
    Obligation(obligation::ObligationCommand),
    /// Fetch a receipt that anyone can verify offline.
    #[command(subcommand)]
    Receipt(receipts::ReceiptCommand),
    /// Check a receipt offline against a genesis or checkpoint you trust;
    /// exits 0 only if it is valid.
    Verify(receipts::VerifyArgs),
    /// Fetch a checkpoint: a finalized block, certified by a quorum of
    /// validators, whose state commits to every block before it.
    Checkpoint(checkpoints::CheckpointArgs),
    /// Check offline that a later checkpoint's chain extends an earlier
    /// one's (Certificate Transparency style); exits 0 only if it does.
    VerifyConsistency(checkpoints::VerifyConsistencyArgs),
    /// Applications for citizen services: licence and passport renewals,
    /// visas, cards; their fees, review and decision.
    #[command(subcommand)]
    Application(credential::ApplicationCommand),
    /// Credentials: show, renew, suspend, reinstate, revoke, check the
    /// status with a proof, export as a W3C Verifiable Credential.
    #[command(subcommand)]
    Credential(credential::CredentialCommand),
    /// Records kept off-chain and sealed: anchor, send, fetch, acknowledge,
    /// grant and revoke access, list who accessed them, erase, show.
    #[command(subcommand)]
    Record(record::RecordCommand),
    /// Devices of an organisation: register, suspend, reinstate, retire, list.
    #[command(subcommand)]
    Device(record::DeviceCommand),
    /// Streams of device messages anchored in batches, each message provable.
    #[command(subcommand)]
    Stream(record::StreamCommand),
    /// Alerts raised by registered cameras and sensors.
    #[command(subcommand)]
    Alert(safety::AlertCommand),
    /// Incidents opened by an agency, updated and shared with others.
    #[command(subcommand)]
    Incident(safety::IncidentCommand),
    /// Evidence items and their chain of custody between agencies.
    #[command(subcommand)]
    Evidence(safety::EvidenceCommand),
    /// Case bundles: ordered, Merkle-committed lists of evidence items.
    #[command(subcommand)]
    Case(safety::CaseCommand),
    /// Exams with answers committed before the deadline and revealed after.
    #[command(subcommand)]
    Exam(safety::ExamCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate HOME/config.toml, with the environment's CITYLEDGER_*
    /// overrides, without starting the node; exits non-zero naming the
    /// file, the line and the reason when it is refused.
    Check {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print the address of its account.
    New {
        /// Name of the key.
        name: String,
        /// Home directory that holds the key.
        #[arg(long, default_value = "./.cityledger-dev")]
        home: PathBuf,
    },
    /// Print a key's public key and address.
    Show {
        /// Name of the key.
        name: String,
        /// Home directory that holds the key.
        #[arg(long, default_value = "./.cityledger-dev")]
        home: PathBuf,
    },
}

#[derive(Subcommand)]
enum TxCommand {
    /// Transfer money and wait for finality.
    Transfer(commands::TransferArgs),
}

#[derive(Subcommand)]
enum QueryCommand {
    /// Print an account's balance in major units.
    Balance {
        /// Address (`cl1…`) or organisation account (`treasury:main`).
        address: String,
        /// Node URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        /// Currency.
        #[arg(long, default_value = "CITY")]
        currency: String,
    },
    /// Print the node's status.
    Status {
        /// Node URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
    },
}

impl Command {
    /// How a long-running command logs; `None` for the others, which
    /// print their result and log nothing.
    fn log_format(&self) -> Option<LogFormat> {
        match self {
            Command::Dev { log, .. } | Command::Node { log, .. } => Some(log.log_format),
            Command::Testnet(args) => Some(args.log.log_format),
            _ => None,
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    let log_format = cli.command.log_format();
    if let Some(format) = log_format {
        logging::init(format);
    }
    if let Err(error) = run(cli) {
        if log_format == Some(LogFormat::Json) {
            // A collector reads every line as JSON: the reason the node
            // stopped is a log line like the others.
            tracing::error!(target: "cityledger", "{error:#}");
        } else if json {
            let body = serde_json::json!({ "error": format!("{error:#}") });
            println!("{body}");
        } else {
            eprintln!("error: {error:#}");
        }
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Dev { home, api, log } => commands::dev(&home, api, log.log_format, json),
        Command::Node { home, log } => commands::node(&home, log.log_format),
        Command::Config(ConfigCommand::Check { home }) => commands::config_check(&home, json),
        Command::Init {
            home,
            validators,
            organisations,
            base_port,
            chain_id,
        } => commands::init(
            &commands::NetworkPlan {
                dir: &home,
                validators,
                organisations,
                base_port,
                chain_id: &chain_id,
            },
            json,
        ),
        Command::Testnet(args) => testnet::run(args, json),
        Command::Backup(args) => backup::backup(args, json),
        Command::Restore(args) => backup::restore(args, json),
        Command::Simulate(args) => simulate::run(args, json),
        Command::Status { node } => commands::status(&node, json),
        Command::Keys(KeysCommand::New { name, home }) => commands::keys_new(&home, &name, json),
        Command::Keys(KeysCommand::Show { name, home }) => commands::keys_show(&home, &name, json),
        Command::Tx(TxCommand::Transfer(args)) => commands::transfer(args, json),
        Command::Query(QueryCommand::Balance {
            address,
            node,
            currency,
        }) => commands::balance(&node, &address, &currency, json),
        Command::Query(QueryCommand::Status { node }) => commands::status(&node, json),
        Command::Bench(args) => bench::run(args, json),
        Command::Obligation(command) => obligation::run(command, json),
        Command::Receipt(command) => receipts::receipt(command, json),
        Command::Verify(args) => receipts::verify_file(args, json),
        Command::Checkpoint(args) => checkpoints::checkpoint(args, json),
        Command::VerifyConsistency(args) => checkpoints::verify_consistency_files(args, json),
        Command::Application(command) => credential::run_application(command, json),
        Command::Credential(command) => credential::run_credential(command, json),
        Command::Record(command) => record::run_record(command, json),
        Command::Device(command) => record::run_device(command, json),
        Command::Stream(command) => record::run_stream(command, json),
        Command::Alert(command) => safety::run_alert(command, json),
        Command::Incident(command) => safety::run_incident(command, json),
        Command::Evidence(command) => safety::run_evidence(command, json),
        Command::Case(command) => safety::run_case(command, json),
        Command::Exam(command) => safety::run_exam(command, json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clap checks a command line's definition only when it is parsed; a
    /// clash of two arguments' names would panic at the first use.
    #[test]
    fn the_command_line_is_well_formed() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
