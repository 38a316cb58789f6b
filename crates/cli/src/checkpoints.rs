//! `cityledger checkpoint` fetches a checkpoint of the finalized chain;
//! `cityledger verify-consistency` checks offline that a later checkpoint's
//! chain extends an earlier one's, against the genesis or checkpoint the
//! user trusts.

use crate::commands::block_on;
use crate::printable;
use crate::receipts::{Document, print_verified, read_document, trust_anchor};
use anyhow::{Context, Result, bail};
use cityledger_client::Client;
use cityledger_verifier::checkpoint::{CHECKPOINT_MAGIC, CONSISTENCY_MAGIC};
use cityledger_verifier::limits::CHECKPOINT_BYTES_MAX;
use cityledger_verifier::{Checkpoint, ConsistencyProof, FramedDecodeError, verify_consistency};
use clap::Args;
use std::path::PathBuf;

/// Largest checkpoint or proof file read: a checkpoint's text form with
/// room for JSON around it (a saved REST answer).
const CHECKPOINT_FILE_BYTES_MAX: usize = CHECKPOINT_BYTES_MAX.div_ceil(3) * 4 + 64 * 1024;

/// `cityledger checkpoint`.
#[derive(Args)]
pub struct CheckpointArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Write the checkpoint's text form to FILE instead of printing it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `cityledger verify-consistency`.
#[derive(Args)]
pub struct VerifyConsistencyArgs {
    /// The earlier checkpoint: binary, text, or a saved REST answer (JSON).
    old: PathBuf,
    /// The later checkpoint, in any of the same forms.
    new: PathBuf,
    /// The consistency proof, in any of the same forms.
    #[arg(long, value_name = "FILE", conflicts_with = "node")]
    proof: Option<PathBuf>,
    /// Fetch the consistency proof from this node. It cannot forge one: the
    /// proof is checked against NEW's certified history.
    #[arg(long, value_name = "URL")]
    node: Option<String>,
    /// With --node, also write the fetched proof (text form) to FILE, to
    /// check again offline.
    #[arg(long, value_name = "FILE", requires = "node")]
    save_proof: Option<PathBuf>,
    /// What to trust: the chain's genesis document (JSON) or a checkpoint
    /// you trusted before. Default: the genesis of --home.
    #[arg(long, value_name = "GENESIS_OR_CHECKPOINT")]
    trust: Option<PathBuf>,
    /// Home whose genesis is trusted when --trust is not given.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
}

/// `cityledger checkpoint`: prints or writes the newest checkpoint.
pub fn checkpoint(args: CheckpointArgs, json: bool) -> Result<()> {
    let client = Client::new(&args.node).with_context(|| format!("--node {}", args.node))?;
    let view = block_on(client.checkpoint()).context("fetch the checkpoint")?;
    let checkpoint =
        Checkpoint::from_text(&view.checkpoint).context("the node's answer is not a checkpoint")?;
    let size_bytes = checkpoint.to_bytes().len();
    if let Some(path) = &args.out {
        printable::write_file(path, format!("{}\n", view.checkpoint).as_bytes())?;
    }
    if json {
        println!("{}", serde_json::to_string(&view)?);
    } else if args.out.is_some() {
        println!("{}", checkpoint.statement());
        println!("checkpoint of {size_bytes} bytes written");
    } else {
        println!("{}", view.checkpoint);
        eprintln!("{} ({size_bytes} bytes)", checkpoint.statement());
    }
    Ok(())
}

/// `cityledger verify-consistency`: exit 0 only when OLD's block is an
/// ancestor of NEW's (or the same block).
pub fn verify_consistency_files(args: VerifyConsistencyArgs, json: bool) -> Result<()> {
    let old: Checkpoint = read_document(&args.old)?;
    let new: Checkpoint = read_document(&args.new)?;
    let anchor = trust_anchor(args.trust.as_deref(), &args.home)?;
    // Only a later NEW needs a proof; for any other order the verifier's
    // refusal is the answer, and a node would refuse to prove it.
    let proof = if old.height() < new.height() {
        Some(consistency_proof(&args, &old, &new)?)
    } else {
        None
    };
    let consistency = verify_consistency(&old, &new, proof.as_ref(), &anchor)
        .map_err(|error| anyhow::anyhow!("the checkpoints are NOT consistent: {error}"))?;
    if json {
        let mut value = serde_json::to_value(&consistency)?;
        value["consistent"] = serde_json::Value::Bool(true);
        println!("{value}");
    } else {
        println!("CONSISTENT: {}", consistency.statement);
        for (which, verified) in [("old", &consistency.old), ("new", &consistency.new)] {
            println!("{which} checkpoint:");
            print_verified(verified);
        }
        if let Some(proof) = &proof {
            println!(
                "  consistency proof: {} bytes, {} hashes",
                proof.to_bytes().len(),
                proof.path.siblings.len()
            );
        }
    }
    Ok(())
}

/// The proof from `--proof`, or fetched from `--node` (and saved with
/// `--save-proof`).
fn consistency_proof(
    args: &VerifyConsistencyArgs,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<ConsistencyProof> {
    if let Some(path) = &args.proof {
        return read_document(path);
    }
    let Some(node) = &args.node else {
        bail!(
            "block {} is later than block {}: give the consistency proof with --proof FILE, or fetch it with --node URL",
            new.height(),
            old.height()
        );
    };
    let client = Client::new(node).with_context(|| format!("--node {node}"))?;
    let view = block_on(client.consistency_proof(old.height(), new.height()))
        .context("fetch the consistency proof")?;
    if let Some(path) = &args.save_proof {
        printable::write_file(path, format!("{}\n", view.proof).as_bytes())?;
    }
    ConsistencyProof::from_text(&view.proof).context("the node's answer is not a consistency proof")
}

impl Document for Checkpoint {
    const WHAT: &'static str = "checkpoint";
    const MAGIC: [u8; 4] = CHECKPOINT_MAGIC;
    const FIELD: &'static str = "checkpoint";
    const FILE_BYTES_MAX: usize = CHECKPOINT_FILE_BYTES_MAX;
    fn from_bytes(bytes: &[u8]) -> Result<Self, FramedDecodeError> {
        Checkpoint::from_bytes(bytes)
    }
    fn from_text(text: &str) -> Result<Self, FramedDecodeError> {
        Checkpoint::from_text(text)
    }
}

impl Document for ConsistencyProof {
    const WHAT: &'static str = "consistency proof";
    const MAGIC: [u8; 4] = CONSISTENCY_MAGIC;
    const FIELD: &'static str = "proof";
    const FILE_BYTES_MAX: usize = CHECKPOINT_FILE_BYTES_MAX;
    fn from_bytes(bytes: &[u8]) -> Result<Self, FramedDecodeError> {
        ConsistencyProof::from_bytes(bytes)
    }
    fn from_text(text: &str) -> Result<Self, FramedDecodeError> {
        ConsistencyProof::from_text(text)
    }
}
