//! `cityledger receipt …` fetches receipts from a node; `cityledger verify`
//! checks one offline, against the genesis or checkpoint the user trusts.

use crate::commands::block_on;
use crate::home::Home;
use crate::printable::{self, Printout};
use anyhow::{Context, Result, bail};
use cityledger_client::Client;
use cityledger_types::genesis::Genesis;
use cityledger_types::{Address, Digest, Height};
use cityledger_verifier::assemble;
use cityledger_verifier::limits::RECEIPT_TEXT_BYTES_MAX;
use cityledger_verifier::receipt::RECEIPT_MAGIC;
use cityledger_verifier::statement::utc;
use cityledger_verifier::{
    Checkpoint, Claim, FramedDecodeError, Receipt, TrustAnchor, Verified, verify,
};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// Largest file `verify` reads: a receipt's text form with room for JSON
/// around it (a saved REST answer).
const RECEIPT_FILE_BYTES_MAX: usize = RECEIPT_TEXT_BYTES_MAX + 64 * 1024;
/// Largest trust file (a genesis document) `verify` reads.
const TRUST_FILE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// What to get a receipt of.
#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// The receipt of a finalized transaction and its outcome.
    Tx {
        /// Transaction hash, 64 hex characters.
        hash: String,
        #[command(flatten)]
        output: ReceiptOutput,
    },
    /// The receipt of an account's balance at the latest certified block.
    Balance {
        /// Address (`cl1…`) or organisation account (`treasury:main`).
        address: String,
        /// Currency.
        #[arg(long, default_value = "CITY")]
        currency: String,
        #[command(flatten)]
        output: ReceiptOutput,
    },
    /// The receipt of an obligation: its terms, payments and status at the
    /// latest certified block (the paid-fine receipt a citizen keeps).
    Obligation {
        /// Obligation id, 64 hex characters.
        id: String,
        #[command(flatten)]
        output: ReceiptOutput,
    },
    /// The receipt of a credential's status (valid, expired, suspended,
    /// revoked) at a height, the proof a border guard or employer checks.
    Credential {
        /// Credential id, 64 hex characters.
        id: String,
        /// Judge the status after this finalized block; default the
        /// latest certified block.
        #[arg(long, value_name = "HEIGHT")]
        at: Option<u64>,
        #[command(flatten)]
        output: ReceiptOutput,
    },
    /// The receipt of a record: its commitment, owner, author, recipients,
    /// acknowledgements and erasure, never its content (the proof of an
    /// exchange both sides keep).
    Record {
        /// Record id, 64 hex characters.
        id: String,
        #[command(flatten)]
        output: ReceiptOutput,
    },
    /// The receipt of one message of an anchored stream: the line of FILE
    /// (anchored with `cityledger stream anchor`, FILE.anchors.json beside
    /// it), proven at its position in its batch, and the batch on chain.
    Message {
        /// The anchored file.
        file: PathBuf,
        /// The line, from 1.
        line: usize,
        #[command(flatten)]
        output: ReceiptOutput,
    },
}

/// Where a receipt goes.
#[derive(Args)]
pub struct ReceiptOutput {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Write the receipt to FILE (its text form, or binary with --binary)
    /// instead of printing its text form.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// With --out, write the binary form.
    #[arg(long, requires = "out")]
    binary: bool,
    /// Also write the receipt as a QR code (PNG) to FILE.
    #[arg(long, value_name = "FILE")]
    qr: Option<PathBuf>,
    /// Also write a printable PDF (statement, QR code and text) to FILE.
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
}

/// `cityledger verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The receipt: binary, text, or a saved REST answer (JSON).
    file: PathBuf,
    /// What to trust: the chain's genesis document (JSON), as published by
    /// the consortium, or a checkpoint you trusted before (`cityledger
    /// checkpoint`; its validator set is trusted). Default: the genesis of
    /// --home.
    #[arg(long, value_name = "GENESIS_OR_CHECKPOINT")]
    trust: Option<PathBuf>,
    /// Home whose genesis is trusted when --trust is not given.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
}

/// `cityledger receipt tx|balance|obligation|credential|record|message`.
pub fn receipt(command: ReceiptCommand, json: bool) -> Result<()> {
    let (view, output) = match command {
        ReceiptCommand::Tx { hash, output } => {
            let hash = Digest::from_hex(&hash).context("HASH")?;
            let view = fetch(&output.node, |client| async move {
                client.tx_receipt(&hash).await
            })?;
            (view, output)
        }
        ReceiptCommand::Balance {
            address,
            currency,
            output,
        } => {
            Address::parse_or_alias(&address).context("ADDRESS")?;
            let view = fetch(&output.node, |client| async move {
                client.balance_receipt(&address, Some(&currency)).await
            })?;
            (view, output)
        }
        ReceiptCommand::Obligation { id, output } => {
            let id = Digest::from_hex(&id).context("ID")?;
            let view = fetch(&output.node, |client| async move {
                client.obligation_receipt(&id).await
            })?;
            (view, output)
        }
        ReceiptCommand::Credential { id, at, output } => {
            let id = Digest::from_hex(&id).context("ID")?;
            let view = fetch(&output.node, |client| async move {
                client.credential_receipt(&id, at.map(Height)).await
            })?;
            (view, output)
        }
        ReceiptCommand::Record { id, output } => {
            let id = Digest::from_hex(&id).context("ID")?;
            let view = fetch(&output.node, |client| async move {
                client.record_receipt(&id).await
            })?;
            (view, output)
        }
        ReceiptCommand::Message { file, line, output } => {
            let view = message_receipt(&file, line, &output.node)?;
            (view, output)
        }
    };
    let receipt =
        Receipt::from_text(&view.receipt).context("the node's answer is not a receipt")?;
    let bytes = receipt.to_bytes();
    if let Some(path) = &output.out {
        let content = if output.binary {
            bytes.clone()
        } else {
            format!("{}\n", view.receipt).into_bytes()
        };
        printable::write_file(path, &content)?;
    }
    let code = if output.qr.is_some() || output.pdf.is_some() {
        Some(printable::qr_code(&bytes))
    } else {
        None
    };
    if let Some(path) = &output.qr {
        let code = code
            .as_ref()
            .expect("made above")
            .as_ref()
            .map_err(clone_error)?;
        printable::write_file(path, &printable::png(code))?;
    }
    if let Some(path) = &output.pdf {
        let header = &receipt.block.header;
        let details = vec![
            ("Chain".to_owned(), header.chain_id.to_string()),
            (
                "Block".to_owned(),
                format!("{} ({})", header.height, header.id()),
            ),
            ("Block time".to_owned(), utc(header.timestamp_ms)),
            ("Size".to_owned(), format!("{} bytes", bytes.len())),
            (
                "Check it".to_owned(),
                "cityledger verify FILE --trust genesis.json (offline)".to_owned(),
            ),
        ];
        let printout = Printout {
            title: "CityLedger receipt",
            statement: receipt.statement(),
            details: &details,
            text: &view.receipt,
        };
        // A receipt too large for one QR code is still printed, as text.
        let qr = code.as_ref().and_then(|result| result.as_ref().ok());
        printable::write_file(path, &printable::pdf(&printout, qr)?)?;
    }
    if json {
        println!("{}", serde_json::to_string(&view)?);
    } else if output.out.is_some() || output.qr.is_some() || output.pdf.is_some() {
        println!("{}", receipt.statement());
        println!("receipt of {} bytes written", bytes.len());
    } else {
        println!("{}", view.receipt);
        eprintln!("{} ({} bytes)", receipt.statement(), bytes.len());
    }
    Ok(())
}

/// The receipt of line `line` of the anchored `file`: the node's receipt
/// of its batch, with the message and its inclusion put in its place.
fn message_receipt(file: &Path, line: usize, node: &str) -> Result<cityledger_api::ReceiptView> {
    let anchored = crate::record::anchored_line(file, line)?;
    let batch = anchored.batch;
    let view = fetch(
        node,
        |client| async move { client.batch_receipt(&batch).await },
    )?;
    let batch_receipt =
        Receipt::from_text(&view.receipt).context("the node's answer is not a receipt")?;
    if let Claim::Batch(claim) = &batch_receipt.claim
        && claim.record.as_ref().map(|record| record.device) != Some(anchored.device)
    {
        bail!(
            "batch {batch} is not on chain as anchored by device {}",
            anchored.device
        );
    }
    let receipt = assemble::message_receipt(batch_receipt, anchored.message, anchored.inclusion)
        .with_context(|| format!("line {line} of {}", file.display()))?;
    let text = receipt.to_text();
    Ok(cityledger_api::ReceiptView {
        kind: receipt.claim.kind().into(),
        statement: receipt.statement().to_owned(),
        height: receipt.block.header.height,
        block_id: receipt.block.header.id(),
        size_bytes: receipt.to_bytes().len() as u32,
        receipt: text,
    })
}

fn clone_error(error: &anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}

fn fetch<F, Fut>(node: &str, call: F) -> Result<cityledger_api::ReceiptView>
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<
            Output = Result<cityledger_api::ReceiptView, cityledger_client::ClientError>,
        >,
{
    let client = Client::new(node).with_context(|| format!("--node {node}"))?;
    block_on(call(client)).context("fetch the receipt")
}

/// `cityledger verify`: exit 0 only when the receipt is valid.
pub fn verify_file(args: VerifyArgs, json: bool) -> Result<()> {
    let receipt: Receipt = read_document(&args.file)?;
    let anchor = trust_anchor(args.trust.as_deref(), &args.home)?;
    let verified = verify(&receipt, &anchor)
        .map_err(|error| anyhow::anyhow!("the receipt is NOT valid: {error}"))?;
    if json {
        let mut value = serde_json::to_value(&verified)?;
        value["valid"] = serde_json::Value::Bool(true);
        println!("{value}");
    } else {
        print_verified(&verified);
    }
    Ok(())
}

/// Prints what a verified receipt or checkpoint proves, and who signed.
pub(crate) fn print_verified(verified: &Verified) {
    println!("VALID: {}", verified.statement);
    println!(
        "  block {} of {} ({}), {}",
        verified.height,
        verified.chain_id,
        verified.block_id,
        utc(verified.block_time_ms)
    );
    let by = if verified.signer_names.len() == verified.signers.len() {
        verified.signer_names.join(", ")
    } else {
        verified
            .signers
            .iter()
            .map(|key| key.to_hex()[..16].to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let through = if verified.certified_height == verified.height {
        String::new()
    } else {
        format!(" through descendant block {}", verified.certified_height)
    };
    println!(
        "  finalized{through} by {} of {} validators (quorum {}): {by}",
        verified.signers.len(),
        verified.validators,
        verified.quorum
    );
    println!(
        "  trusted: {} ({} validator-set changes followed)",
        verified.trusted, verified.validator_changes
    );
}

/// A document with the verifier's framing, readable from a file in any of
/// its forms: binary, base64url text, or the REST answer's JSON.
pub(crate) trait Document: Sized {
    /// What it is, for errors.
    const WHAT: &'static str;
    /// First bytes of its binary form.
    const MAGIC: [u8; 4];
    /// The field of the REST answer that holds its text form.
    const FIELD: &'static str;
    /// Largest file read.
    const FILE_BYTES_MAX: usize;
    /// Decodes the binary form.
    fn from_bytes(bytes: &[u8]) -> Result<Self, FramedDecodeError>;
    /// Decodes the text form.
    fn from_text(text: &str) -> Result<Self, FramedDecodeError>;
}

impl Document for Receipt {
    const WHAT: &'static str = "receipt";
    const MAGIC: [u8; 4] = RECEIPT_MAGIC;
    const FIELD: &'static str = "receipt";
    const FILE_BYTES_MAX: usize = RECEIPT_FILE_BYTES_MAX;
    fn from_bytes(bytes: &[u8]) -> Result<Self, FramedDecodeError> {
        Receipt::from_bytes(bytes)
    }
    fn from_text(text: &str) -> Result<Self, FramedDecodeError> {
        Receipt::from_text(text)
    }
}

/// Reads a document (`T`) from `path` in any of its forms.
pub(crate) fn read_document<T: Document>(path: &Path) -> Result<T> {
    let bytes = read_bounded(path, T::FILE_BYTES_MAX)?;
    decode_document(&bytes)
        .with_context(|| format!("{} is not a valid {}", path.display(), T::WHAT))
}

/// Decodes a document (`T`) in any of its forms: binary (starting with its
/// magic), text, or a saved REST answer (JSON) whose field holds the text.
pub(crate) fn decode_document<T: Document>(bytes: &[u8]) -> Result<T> {
    if bytes.starts_with(&T::MAGIC) {
        return Ok(T::from_bytes(bytes)?);
    }
    let text = std::str::from_utf8(bytes).context("neither its binary form nor text")?;
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Ok(T::from_text(trimmed)?);
    }
    let answer: serde_json::Value = serde_json::from_str(trimmed).context("malformed JSON")?;
    match answer.get(T::FIELD).and_then(serde_json::Value::as_str) {
        Some(text) => Ok(T::from_text(text)?),
        None => bail!("JSON without a `{}` text", T::FIELD),
    }
}

/// The anchor of `--trust` (a genesis document or a checkpoint), or the
/// genesis of `home`.
pub fn trust_anchor(trust: Option<&Path>, home: &Path) -> Result<TrustAnchor> {
    let path = match trust {
        Some(path) => path.to_path_buf(),
        None => {
            let home = Home::new(home);
            let genesis = home.dir().join("genesis.json");
            if !genesis.exists() {
                bail!(
                    "no trust anchor: pass --trust with the chain's genesis.json or a checkpoint"
                );
            }
            genesis
        }
    };
    let bytes = read_bounded(&path, TRUST_FILE_BYTES_MAX)?;
    if let Ok(genesis) = serde_json::from_slice::<Genesis>(&bytes) {
        return TrustAnchor::from_genesis(&genesis)
            .with_context(|| format!("{} has no valid validator set", path.display()));
    }
    let Ok(checkpoint) = decode_document::<Checkpoint>(&bytes) else {
        bail!(
            "{} is neither a genesis document (JSON) nor a checkpoint",
            path.display()
        );
    };
    TrustAnchor::from_checkpoint(&checkpoint)
        .map_err(|error| anyhow::anyhow!("{} is not a valid checkpoint: {error}", path.display()))
}

/// The bytes of `path`, refused above `limit`.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let length = std::fs::metadata(path)
        .with_context(|| format!("read {}", path.display()))?
        .len();
    if length > limit as u64 {
        bail!(
            "{} is {length} bytes, above the limit of {limit}",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}
