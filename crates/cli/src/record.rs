//! `cityledger record …`, `device …` and `stream …`: records sealed on the
//! client and anchored with their blob, fetched through a signed access
//! that the chain judges and logs, acknowledged, granted, erased; devices
//! registered and retired; files of messages anchored as batches and each
//! message proven on its own (ADR 0007).
//!
//! Sealing and opening happen here, on the signer's machine: the node sees
//! only the sealed blob and keys wrapped for readers.

use crate::commands::{SignerArgs, block_on, now_ms, random_tx_id, submit_and_wait};
use crate::home::{Home, random_key};
use crate::obligation::{Signing, height_of};
use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_client::api::{AccessView, RecordContentView, RecordView, TxStatusView};
use cityledger_client::{Client, ClientError, RecordFilter, sign_tx};
use cityledger_types::device::{DeviceLabel, DeviceOp, DeviceType, batch_id, message_leaf};
use cityledger_types::limits::{
    BATCH_MESSAGES_MAX, BLOB_BYTES_MAX, DAY_MS, STREAM_MESSAGE_BYTES_MAX,
};
use cityledger_types::merkle::{self, InclusionProof};
use cityledger_types::names::ReferenceKey;
use cityledger_types::obligation::{Reason, Reference, ReferenceField, ReferenceValue};
use cityledger_types::record::{Anchor, GrantScope, Recipients, RecordOp, grant_id, record_id};
use cityledger_types::sealed::{self, KeyUpload, WrappedKey, WrappedKeys};
use cityledger_types::{Action, Digest, OrgName, PublicKey, RecordType, SecretKey, SignedTx};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

/// How long a record transaction may wait for inclusion, in ms.
pub(crate) const TX_LIFETIME_MS: u64 = 5 * 60 * 1000;
/// Longest message line `stream anchor` takes, in bytes.
/// Most messages one `stream anchor` file holds: a hundred full batches.
const STREAM_MESSAGES_MAX: usize = 100 * BATCH_MESSAGES_MAX;

/// `cityledger record …`.
#[derive(Subcommand)]
pub enum RecordCommand {
    /// Seal a file and anchor it as a record owned by `--owner`; prints its id.
    Anchor(AnchorArgs),
    /// The same as anchor, with at least one recipient (`--to`).
    Send(AnchorArgs),
    /// Read a record: a signed access is judged and logged on chain, then
    /// the content is opened with the signer's key and checked against the
    /// commitment.
    Fetch(FetchArgs),
    /// Fetch a record sent to the signer and acknowledge its delivery.
    Ack(FetchArgs),
    /// Grant a reader access to a record or a category of the signer's
    /// records, and hand the node the data keys wrapped for the reader.
    Grant(GrantArgs),
    /// Revoke a grant.
    RevokeGrant(RevokeGrantArgs),
    /// Who accessed an owner's records, granted or refused.
    Accesses(AccessesArgs),
    /// The grants an owner gave (`--owner`) or a reader holds (`--reader`),
    /// with their state now: active, expired or revoked.
    Grants(GrantsArgs),
    /// Erase a record: its content and keys are destroyed, a tombstone stays.
    Erase(EraseArgs),
    /// Show a record: parties, commitment, acknowledgements, tombstone.
    Show(ShowArgs),
}

/// `cityledger device …`.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Register a device key for an organisation.
    Register(RegisterArgs),
    /// Take a device out of service until reinstated.
    Suspend(DeviceChangeArgs),
    /// Put a suspended device back in service.
    Reinstate(DeviceChangeArgs),
    /// Take a device out of service for good.
    Retire(DeviceChangeArgs),
    /// An organisation's devices.
    List(DeviceListArgs),
}

/// `cityledger stream …`.
#[derive(Subcommand)]
pub enum StreamCommand {
    /// Anchor a file of messages, one per line, in batches signed by the
    /// device; writes FILE.anchors.json, which `stream prove` reads.
    Anchor(StreamAnchorArgs),
    /// Prove one line of an anchored file against its batch and the state
    /// root; exits 0 only if the proof holds.
    Prove(StreamProveArgs),
}

/// Arguments of `record anchor` and `record send`.
#[derive(Args)]
pub struct AnchorArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The file to seal.
    #[arg(long)]
    file: PathBuf,
    /// Record type, e.g. lab_result.
    #[arg(long = "type")]
    record_type: String,
    /// The owner (data subject): a key name in the home or 64 hex.
    #[arg(long)]
    owner: String,
    /// Organisation the signer anchors for; none for one's own record.
    #[arg(long)]
    org: Option<String>,
    /// A recipient (key name or hex); repeat for several.
    #[arg(long = "to")]
    recipients: Vec<String>,
    /// The record this one follows or answers.
    #[arg(long)]
    parent: Option<String>,
    /// Metadata `key=value` (no personal data); repeat for several.
    #[arg(long = "meta")]
    metadata: Vec<String>,
}

/// Arguments of `record fetch` and `record ack`.
#[derive(Args)]
pub struct FetchArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The record.
    record: String,
    /// The grant to read under; none for the record's own parties.
    #[arg(long)]
    grant: Option<String>,
    /// Where to write the content; not written if absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `record grant`.
#[derive(Args)]
pub struct GrantArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Who may read: a key name in the home or 64 hex.
    #[arg(long)]
    reader: String,
    /// One record.
    #[arg(long, conflicts_with = "category")]
    record: Option<String>,
    /// Every record of this type of the signer.
    #[arg(long)]
    category: Option<String>,
    /// How long the grant lasts, in days.
    #[arg(long, default_value_t = 30)]
    days: u64,
}

/// Arguments of `record revoke-grant`.
#[derive(Args)]
pub struct RevokeGrantArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The grant.
    grant: String,
}

/// Arguments of `record accesses`.
#[derive(Args)]
pub struct AccessesArgs {
    /// Home directory holding the keys.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The owner: a key name in the home; it signs the read.
    #[arg(long)]
    owner: String,
    /// Only accesses to this record.
    #[arg(long)]
    record: Option<String>,
}

/// Arguments of `record grants`.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("party").required(true).args(["owner", "reader"])))]
pub struct GrantsArgs {
    /// Home directory holding the keys.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The grants this owner gave: a key name in the home; it signs the read.
    #[arg(long)]
    owner: Option<String>,
    /// The grants this reader holds: a key name in the home; it signs the read.
    #[arg(long)]
    reader: Option<String>,
}

/// Arguments of `record erase`.
#[derive(Args)]
pub struct EraseArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The record.
    record: String,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Arguments of `record show`.
#[derive(Args)]
pub struct ShowArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The record.
    record: String,
}

/// Arguments of `device register`.
#[derive(Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The owning organisation; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// The device's key: a key name in the home or 64 hex.
    #[arg(long)]
    key: String,
    /// mri_scanner, imaging_server, traffic_camera, sensor, connected_car
    /// or gateway.
    #[arg(long = "type")]
    device_type: String,
    /// Asset tag or location.
    #[arg(long)]
    label: String,
}

/// Arguments of `device suspend|reinstate|retire`.
#[derive(Args)]
pub struct DeviceChangeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The device's key: a key name in the home or 64 hex.
    device: String,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Arguments of `device list`.
#[derive(Args)]
pub struct DeviceListArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The organisation.
    #[arg(long)]
    org: String,
}

/// Arguments of `stream anchor`.
#[derive(Args)]
pub struct StreamAnchorArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The file of messages, one per line.
    file: PathBuf,
    /// Messages per batch, 1 to 65,536.
    #[arg(long, default_value_t = BATCH_MESSAGES_MAX)]
    batch_size: usize,
}

/// Arguments of `stream prove`.
#[derive(Args)]
pub struct StreamProveArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The anchored file (its FILE.anchors.json beside it).
    file: PathBuf,
    /// The line to prove, from 1.
    line: usize,
}

/// Runs a record command.
pub fn run_record(command: RecordCommand, json: bool) -> Result<()> {
    match command {
        RecordCommand::Anchor(args) => anchor(args, false, json),
        RecordCommand::Send(args) => anchor(args, true, json),
        RecordCommand::Fetch(args) => fetch(args, false, json),
        RecordCommand::Ack(args) => fetch(args, true, json),
        RecordCommand::Grant(args) => grant(args, json),
        RecordCommand::RevokeGrant(args) => {
            let grant = digest(&args.grant, "grant")?;
            let status = submit(
                &args.signer,
                Action::Record(RecordOp::RevokeGrant { grant }),
            )?;
            done(
                json,
                json!({"grant": grant, "height": height_of(&status)}),
                || format!("grant {grant} revoked at height {}", height_of(&status)),
            )
        }
        RecordCommand::Accesses(args) => accesses(args, json),
        RecordCommand::Grants(args) => grants(args, json),
        RecordCommand::Erase(args) => {
            let record = digest(&args.record, "record")?;
            let reason = Reason::new(args.reason.as_str()).context("--reason")?;
            let status = submit(
                &args.signer,
                Action::Record(RecordOp::Erase { record, reason }),
            )?;
            done(
                json,
                json!({"record": record, "height": height_of(&status)}),
                || {
                    format!(
                        "record {record} erased at height {}; its tombstone and commitment stay",
                        height_of(&status)
                    )
                },
            )
        }
        RecordCommand::Show(args) => {
            let record = digest(&args.record, "record")?;
            let view = block_on(client(&args.node)?.record(&record))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_record(&view);
            }
            Ok(())
        }
    }
}

/// Runs a device command.
pub fn run_device(command: DeviceCommand, json: bool) -> Result<()> {
    let change = |args: DeviceChangeArgs, op: fn(PublicKey, Reason) -> DeviceOp, word: &str| {
        let home = Home::new(&args.signer.home);
        let device = party_key(&home, &args.device).context("device")?;
        let reason = Reason::new(args.reason.as_str()).context("--reason")?;
        let status = submit(&args.signer, Action::Device(op(device, reason)))?;
        done(
            json,
            json!({"device": device, "height": height_of(&status)}),
            || format!("device {device} {word} at height {}", height_of(&status)),
        )
    };
    match command {
        DeviceCommand::Register(args) => {
            let home = Home::new(&args.signer.home);
            let org = OrgName::new(args.org.as_deref().unwrap_or(&args.signer.signer))
                .context("--org (defaults to the signer's name)")?;
            let device = party_key(&home, &args.key).context("--key")?;
            let device_type = DeviceType::parse(&args.device_type).with_context(|| {
                let names: Vec<&str> = DeviceType::ALL.iter().map(|t| t.as_str()).collect();
                format!("--type must be one of {}", names.join(", "))
            })?;
            let label = DeviceLabel::new(args.label.as_str()).context("--label")?;
            let op = DeviceOp::Register {
                org,
                device,
                device_type,
                label,
            };
            let status = submit(&args.signer, Action::Device(op))?;
            done(
                json,
                json!({"device": device, "height": height_of(&status)}),
                || device.to_hex(),
            )
        }
        DeviceCommand::Suspend(args) => change(
            args,
            |device, reason| DeviceOp::Suspend { device, reason },
            "suspended",
        ),
        DeviceCommand::Reinstate(args) => change(
            args,
            |device, reason| DeviceOp::Reinstate { device, reason },
            "reinstated",
        ),
        DeviceCommand::Retire(args) => change(
            args,
            |device, reason| DeviceOp::Retire { device, reason },
            "retired",
        ),
        DeviceCommand::List(args) => {
            let page = block_on(client(&args.node)?.devices(&args.org, None, None))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                for device in &page.items {
                    println!(
                        "{} {} {} {} next batch {}",
                        device.key,
                        device.device_type.as_str(),
                        device.status.as_str(),
                        device.label,
                        device.next_batch_sequence
                    );
                }
            }
            Ok(())
        }
    }
}

pub(crate) fn client(node: &str) -> Result<Client> {
    Client::new(node).with_context(|| format!("--node {node}"))
}

pub(crate) fn digest(text: &str, what: &str) -> Result<Digest> {
    Digest::from_hex(text).with_context(|| format!("{what} must be 64 hex characters"))
}

/// A party named on the command line: a key name in the home, or its hex.
pub(crate) fn party_key(home: &Home, text: &str) -> Result<PublicKey> {
    if let Ok(key) = PublicKey::from_hex(text) {
        return Ok(key);
    }
    Ok(home
        .key(text)
        .with_context(|| format!("{text:?} is neither 64 hex nor a key name in the home"))?
        .public_key())
}

/// Prints `value` as JSON, or the human line.
pub(crate) fn done(
    json: bool,
    value: serde_json::Value,
    line: impl FnOnce() -> String,
) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", line());
    }
    Ok(())
}

/// Fails unless `status` is finalized and applied.
pub(crate) fn require_applied(status: &TxStatusView) -> Result<()> {
    match status {
        TxStatusView::Finalized {
            outcome: cityledger_client::api::OutcomeView::Applied,
            ..
        } => Ok(()),
        TxStatusView::Finalized {
            hash,
            height,
            outcome: cityledger_client::api::OutcomeView::Rejected { code, detail, .. },
            ..
        } => bail!("transaction {hash} was rejected at height {height}: {code}: {detail}"),
        other => bail!("transaction {} was not finalized", other.hash()),
    }
}

pub(crate) fn submit(args: &SignerArgs, action: Action) -> Result<TxStatusView> {
    let (_, status) = Signing::new(args)?.submit_action(action)?;
    Ok(status)
}

/// Signs `action` with a fresh client id (commands that send several
/// transactions cannot reuse `--id`).
pub(crate) fn sign_fresh(signing: &Signing, action: Action) -> SignedTx {
    sign_tx(
        &signing.key,
        signing.genesis.chain_id.clone(),
        random_tx_id(),
        now_ms() + TX_LIFETIME_MS,
        action,
    )
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

pub(crate) fn wrap_for(
    data_key: &[u8; 32],
    reader: &PublicKey,
    blob_digest: &Digest,
) -> Result<WrappedKey> {
    // The ephemeral secret is a fresh ed25519 seed's worth of randomness;
    // X25519 clamps it.
    sealed::wrap_key(
        data_key,
        reader,
        blob_digest,
        &random_key().seed(),
        &random_bytes(),
    )
    .with_context(|| format!("wrap the data key for {reader}"))
}

pub(crate) fn metadata(pairs: &[String]) -> Result<Reference> {
    let mut fields = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--meta {pair:?} is not key=value"))?;
        fields.push(ReferenceField {
            key: ReferenceKey::new(key).with_context(|| format!("--meta {pair:?}"))?,
            value: ReferenceValue::new(value).with_context(|| format!("--meta {pair:?}"))?,
        });
    }
    Reference::new(fields).context("--meta")
}

fn anchor(args: AnchorArgs, needs_recipient: bool, json: bool) -> Result<()> {
    if needs_recipient && args.recipients.is_empty() {
        bail!("record send needs at least one recipient (--to)");
    }
    let signing = Signing::new(&args.signer)?;
    let home = Home::new(&args.signer.home);
    let content_bytes = std::fs::metadata(&args.file)
        .with_context(|| format!("read {}", args.file.display()))?
        .len();
    if content_bytes + sealed::BLOB_OVERHEAD_BYTES as u64 > BLOB_BYTES_MAX {
        bail!(
            "{} is {content_bytes} bytes; a sealed record holds at most BLOB_BYTES_MAX ({BLOB_BYTES_MAX}) bytes: split it into records linked by --parent",
            args.file.display()
        );
    }
    let content =
        std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let owner = party_key(&home, &args.owner).context("--owner")?;
    let recipients: Vec<PublicKey> = args
        .recipients
        .iter()
        .map(|text| party_key(&home, text).context("--to"))
        .collect::<Result<_>>()?;
    let data_key: [u8; 32] = random_bytes();
    let sealed = sealed::seal(&content, &data_key, &random_bytes(), &random_bytes());
    // The owner, the author and every recipient can open it.
    let mut readers = vec![owner, signing.key.public_key()];
    readers.extend(recipients.iter().copied());
    readers.dedup();
    let mut wrapped = Vec::with_capacity(readers.len());
    for reader in &readers {
        if wrapped.iter().all(|w: &WrappedKey| w.reader != *reader) {
            wrapped.push(wrap_for(&data_key, reader, &sealed.blob_digest)?);
        }
    }
    let keys = WrappedKeys::new(wrapped).context("readers")?;
    let anchor = Anchor {
        org: args
            .org
            .as_deref()
            .map(OrgName::new)
            .transpose()
            .context("--org")?,
        record_type: RecordType::new(args.record_type.as_str()).context("--type")?,
        owner,
        commitment: sealed.commitment,
        blob_digest: sealed.blob_digest,
        blob_bytes: sealed.blob.len() as u64,
        metadata: metadata(&args.metadata)?,
        parent: args
            .parent
            .as_deref()
            .map(|text| digest(text, "--parent"))
            .transpose()?,
        recipients: Recipients::new(recipients).context("--to")?,
    };
    let tx = sign_tx(
        &signing.key,
        signing.genesis.chain_id.clone(),
        signing.id.clone(),
        now_ms() + TX_LIFETIME_MS,
        Action::Record(RecordOp::Anchor(anchor)),
    );
    let id = record_id(&tx.hash());
    let status = block_on(async {
        let client = client(&signing.node)?;
        client
            .anchor_record(&tx, &sealed.blob, &keys)
            .await
            .context("anchor the record")?;
        client
            .wait_for_finality(&tx.hash(), FINALITY_WAIT_MS)
            .await
            .context("wait for the anchoring to be finalized")
    })?;
    require_applied(&status)?;
    done(
        json,
        json!({
            "record": id,
            "commitment": sealed.commitment,
            "blob_digest": sealed.blob_digest,
            "height": height_of(&status),
        }),
        || id.to_hex(),
    )
}

/// How long to wait for a record transaction's finality, in ms.
pub(crate) const FINALITY_WAIT_MS: u64 = 60_000;

/// What a fetch ended in.
enum Fetched {
    /// Granted: the content, opened and checked.
    Opened {
        content: Vec<u8>,
        view: Box<RecordContentView>,
    },
    /// Refused on chain (403), with the access record.
    Refused(Box<AccessView>),
}

/// Submits an access to `record` signed by `signing`'s key, waits for it,
/// and opens the content it grants.
fn fetch_content(signing: &Signing, record: Digest, grant: Option<Digest>) -> Result<Fetched> {
    let client = client(&signing.node)?;
    // An erased record is not worth an access: the node answers 410 with
    // the tombstone straight away.
    let view = block_on(client.record(&record)).context("read the record")?;
    if let Some(erasure) = &view.erasure {
        bail!(
            "record {record} was erased at height {} by {} (\"{}\"); only its tombstone and commitment {} remain (410 Gone)",
            erasure.height,
            erasure.by,
            erasure.reason,
            view.commitment
        );
    }
    let tx = sign_fresh(signing, Action::Record(RecordOp::Access { record, grant }));
    let status = block_on(submit_and_wait(&signing.node, &tx))?;
    require_applied(&status)?;
    match block_on(client.record_content(&record, &tx.hash(), &signing.key)) {
        Ok(view) => {
            let blob = URL_SAFE_NO_PAD
                .decode(&view.blob)
                .context("the node sent a blob that is not base64url")?;
            if Digest::of(&blob) != view.record.blob_digest {
                bail!("the node sent a blob whose digest is not the record's: refusing it");
            }
            let data_key = sealed::unwrap_key(&view.wrapped_key, &signing.key, &blob_digest(&view))
                .context("open the data key wrapped for the signer")?;
            let content = sealed::open(&blob, &data_key, &view.record.commitment)
                .context("open the sealed content")?;
            Ok(Fetched::Opened {
                content,
                view: Box::new(view),
            })
        }
        Err(ClientError::Problem {
            status: 403,
            problem,
        }) => match problem.access {
            Some(access) => Ok(Fetched::Refused(access)),
            None => bail!("{}", problem.detail),
        },
        Err(ClientError::Problem {
            status: 410,
            problem,
        }) => bail!("{} (410 Gone)", problem.detail),
        Err(error) => Err(error).context("fetch the sealed content"),
    }
}

fn blob_digest(view: &RecordContentView) -> Digest {
    view.record.blob_digest
}

fn fetch(args: FetchArgs, acknowledge: bool, json: bool) -> Result<()> {
    let signing = Signing::new(&args.signer)?;
    let record = digest(&args.record, "record")?;
    let grant = args
        .grant
        .as_deref()
        .map(|text| digest(text, "--grant"))
        .transpose()?;
    let (content, view) = match fetch_content(&signing, record, grant)? {
        Fetched::Opened { content, view } => (content, view),
        Fetched::Refused(access) => {
            let reason = access.refused.as_deref().unwrap_or("refused");
            if json {
                println!("{}", serde_json::to_string_pretty(&access)?);
            }
            bail!(
                "access to record {record} refused ({reason}) at height {}; the refusal is in the owner's access log as {} (403)",
                access.height,
                access.id
            );
        }
    };
    if let Some(out) = &args.out {
        std::fs::write(out, &content).with_context(|| format!("write {}", out.display()))?;
    }
    let mut acknowledged_at = None;
    if acknowledge {
        let tx = sign_fresh(
            &signing,
            Action::Record(RecordOp::Acknowledge {
                record,
                commitment: view.record.commitment,
            }),
        );
        let status = block_on(submit_and_wait(&signing.node, &tx))?;
        require_applied(&status)?;
        acknowledged_at = Some(height_of(&status));
    }
    done(
        json,
        json!({
            "record": record,
            "access": view.access.id,
            "access_height": view.access.height,
            "bytes": content.len(),
            "commitment": view.record.commitment,
            "acknowledged_at": acknowledged_at,
        }),
        || {
            let mut line = format!(
                "record {record}: {} bytes, commitment checked; access {} logged at height {}",
                content.len(),
                view.access.id,
                view.access.height
            );
            if let Some(height) = acknowledged_at {
                line.push_str(&format!("; delivery acknowledged at height {height}"));
            }
            line
        },
    )
}

fn grant(args: GrantArgs, json: bool) -> Result<()> {
    let signing = Signing::new(&args.signer)?;
    let home = Home::new(&args.signer.home);
    let reader = party_key(&home, &args.reader).context("--reader")?;
    let scope = match (&args.record, &args.category) {
        (Some(record), None) => GrantScope::Record(digest(record, "--record")?),
        (None, Some(category)) => {
            GrantScope::Category(RecordType::new(category.as_str()).context("--category")?)
        }
        _ => bail!("give --record or --category"),
    };
    if args.days == 0 || args.days > 3650 {
        bail!("--days must be 1 to 3650");
    }
    let valid_until_ms = now_ms() + args.days * DAY_MS;
    let op = RecordOp::Grant {
        reader,
        scope: scope.clone(),
        valid_until_ms,
    };
    let tx = sign_tx(
        &signing.key,
        signing.genesis.chain_id.clone(),
        signing.id.clone(),
        now_ms() + TX_LIFETIME_MS,
        Action::Record(op),
    );
    let status = block_on(submit_and_wait(&signing.node, &tx))?;
    require_applied(&status)?;
    let id = grant_id(&tx.hash());
    // The reader needs the data key: open the signer's own wrapped key and
    // wrap it for the reader, for each record the grant covers now.
    let records = match &scope {
        GrantScope::Record(record) => vec![*record],
        GrantScope::Category(record_type) => {
            let owner = cityledger_types::Address::of_key(&signing.key.public_key());
            let page = block_on(client(&signing.node)?.records(
                &RecordFilter::Owner(owner.to_string()),
                &signing.key,
                None,
                Some(cityledger_client::api::limits::ACCOUNT_TXS_LIMIT_MAX),
            ))?;
            page.items
                .iter()
                .filter(|r| r.record_type == *record_type && r.erasure.is_none())
                .map(|r| r.id)
                .collect()
        }
    };
    let mut keyed = 0usize;
    for record in &records {
        share_key(&signing, *record, &reader)?;
        keyed += 1;
    }
    done(
        json,
        json!({"grant": id, "height": height_of(&status), "records_keyed": keyed}),
        || id.to_hex(),
    )
}

/// Wraps the data key of `record` for `reader` and hands it to the node;
/// the signer opens its own wrapped key first (an access the chain logs).
pub(crate) fn share_key(signing: &Signing, record: Digest, reader: &PublicKey) -> Result<()> {
    let view = match fetch_content(signing, record, None)? {
        Fetched::Opened { view, .. } => view,
        Fetched::Refused(access) => bail!(
            "the signer may not read record {record} ({}), so cannot share its key",
            access.refused.as_deref().unwrap_or("refused")
        ),
    };
    let data_key = sealed::unwrap_key(&view.wrapped_key, &signing.key, &view.record.blob_digest)
        .context("open the signer's wrapped key")?;
    let wrapped = wrap_for(&data_key, reader, &view.record.blob_digest)?;
    let upload = KeyUpload::sign(
        record,
        WrappedKeys::new(vec![wrapped]).context("wrapped keys")?,
        &signing.key,
    );
    block_on(client(&signing.node)?.add_record_keys(&upload))
        .with_context(|| format!("hand the node the key of record {record} for {reader}"))?;
    Ok(())
}

fn accesses(args: AccessesArgs, json: bool) -> Result<()> {
    let home = Home::new(&args.home);
    // The log is private: the owner signs the read, so its key must be here.
    let owner = home
        .key(&args.owner)
        .context("--owner: the owner signs the read of its access log")?;
    let record = args
        .record
        .as_deref()
        .map(|text| digest(text, "--record"))
        .transpose()?;
    let page = block_on(client(&args.node)?.accesses(&owner, record.as_ref(), None, None))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    for access in &page.items {
        let grant = access
            .grant
            .map_or("as a party".to_string(), |g| format!("under grant {g}"));
        let decision = match &access.refused {
            Some(reason) => format!("REFUSED ({reason})"),
            None => "granted".to_string(),
        };
        println!(
            "height {} {} read record {} {grant}: {decision}",
            access.height, access.reader_address, access.record
        );
    }
    Ok(())
}

fn grants(args: GrantsArgs, json: bool) -> Result<()> {
    let home = Home::new(&args.home);
    let client = client(&args.node)?;
    // Grants are private: the party listed signs the read.
    let page = match (&args.owner, &args.reader) {
        (Some(owner), _) => {
            let key = home
                .key(owner)
                .context("--owner: the owner signs the read")?;
            block_on(client.grants_given(&key, None, None))?
        }
        (None, Some(reader)) => {
            let key = home
                .key(reader)
                .context("--reader: the reader signs the read")?;
            block_on(client.grants_held(&key, None, None))?
        }
        (None, None) => bail!("give --owner or --reader"),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    for grant in &page.items {
        let scope = match &grant.scope {
            GrantScope::Record(record) => format!("record {record}"),
            GrantScope::Category(record_type) => format!("every {record_type} record"),
        };
        println!(
            "grant {} to {} for {scope}, from height {} until {} ms: {}",
            grant.id, grant.reader_address, grant.granted_height, grant.valid_until_ms, grant.state
        );
    }
    Ok(())
}

fn print_record(view: &RecordView) {
    println!("record {} ({})", view.id, view.record_type);
    println!("  owner {}, author {}", view.owner, view.author);
    if let Some(org) = &view.org {
        println!("  controlled by {org}");
    }
    println!(
        "  commitment {}, {} sealed bytes (digest {})",
        view.commitment, view.blob_bytes, view.blob_digest
    );
    println!("  anchored at height {}", view.anchored_height);
    if let Some(parent) = &view.parent {
        println!("  follows {parent}");
    }
    for recipient in &view.recipients {
        let ack = view
            .acknowledgements
            .iter()
            .find(|a| a.by == *recipient)
            .map_or("not acknowledged".to_string(), |a| {
                format!("acknowledged at height {}", a.height)
            });
        println!("  sent to {recipient}: {ack}");
    }
    if let Some(erasure) = &view.erasure {
        println!(
            "  ERASED at height {} by {}: {}",
            erasure.height, erasure.by, erasure.reason
        );
    }
}

/// The batches `stream anchor` made of a file, for `stream prove`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Anchors {
    /// The device that signed them.
    device: PublicKey,
    /// Each batch: its id, its first line (from 1) and its size.
    batches: Vec<AnchoredBatch>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct AnchoredBatch {
    batch: Digest,
    sequence: u64,
    first_line: usize,
    message_count: usize,
}

fn anchors_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".anchors.json");
    PathBuf::from(name)
}

/// The messages of `file`, one per line, bounded.
fn read_messages(file: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    // A final newline ends the last line; it does not start another.
    let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut messages = Vec::new();
    for (index, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.len() > STREAM_MESSAGE_BYTES_MAX {
            bail!(
                "line {} is {} bytes, above the limit of {STREAM_MESSAGE_BYTES_MAX}",
                index + 1,
                line.len()
            );
        }
        if messages.len() >= STREAM_MESSAGES_MAX {
            bail!(
                "{} has more than {STREAM_MESSAGES_MAX} lines",
                file.display()
            );
        }
        messages.push(line.to_vec());
    }
    Ok(messages)
}

/// The leaf hashes of `messages`, on every core: hashing is what anchoring
/// a stream costs (ADR 0007, docs/PERFORMANCE.md).
pub fn message_leaves(messages: &[Vec<u8>]) -> Vec<Digest> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = messages.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = messages
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|m| message_leaf(m)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(leaves) => leaves,
                // A hashing thread cannot fail; if one panicked, so do we.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Anchors `messages` in batches of `batch_size`, signed by `device`, from
/// sequence `first_sequence`; returns the signed transactions and the
/// batches they anchor.
pub fn batch_txs(
    device: &SecretKey,
    chain_id: &cityledger_types::ChainId,
    messages: &[Vec<u8>],
    batch_size: usize,
    first_sequence: u64,
) -> (Vec<SignedTx>, Vec<AnchoredBatchInfo>) {
    let leaves = message_leaves(messages);
    let mut txs = Vec::new();
    let mut batches = Vec::new();
    for (index, part) in leaves.chunks(batch_size).enumerate() {
        let sequence = first_sequence + index as u64;
        let op = DeviceOp::AnchorBatch {
            sequence,
            root: merkle::root(part),
            message_count: part.len() as u32,
        };
        let tx = sign_tx(
            device,
            chain_id.clone(),
            random_tx_id(),
            now_ms() + TX_LIFETIME_MS,
            Action::Device(op),
        );
        batches.push(AnchoredBatchInfo {
            batch: batch_id(&tx.hash()),
            sequence,
            first_index: index * batch_size,
            message_count: part.len(),
        });
        txs.push(tx);
    }
    (txs, batches)
}

/// One batch of a stream, as `batch_txs` cut it.
pub struct AnchoredBatchInfo {
    /// Its id.
    pub batch: Digest,
    /// Its sequence.
    pub sequence: u64,
    /// Index of its first message.
    pub first_index: usize,
    /// Its size.
    pub message_count: usize,
}

/// Runs a stream command.
pub fn run_stream(command: StreamCommand, json: bool) -> Result<()> {
    match command {
        StreamCommand::Anchor(args) => stream_anchor(args, json),
        StreamCommand::Prove(args) => stream_prove(args, json),
    }
}

fn stream_anchor(args: StreamAnchorArgs, json: bool) -> Result<()> {
    if args.batch_size == 0 || args.batch_size > BATCH_MESSAGES_MAX {
        bail!("--batch-size must be 1 to {BATCH_MESSAGES_MAX}");
    }
    let signing = Signing::new(&args.signer)?;
    let messages = read_messages(&args.file)?;
    if messages.is_empty() {
        bail!("{} has no lines to anchor", args.file.display());
    }
    let client = client(&signing.node)?;
    let device = block_on(client.device(&signing.key.public_key()))
        .context("the signer must be a registered device")?;
    let (txs, batches) = batch_txs(
        &signing.key,
        &signing.genesis.chain_id,
        &messages,
        args.batch_size,
        device.next_batch_sequence,
    );
    let mut last_height = 0;
    for tx in &txs {
        let status = block_on(submit_and_wait(&signing.node, tx))?;
        require_applied(&status)?;
        last_height = height_of(&status);
    }
    let anchors = Anchors {
        device: signing.key.public_key(),
        batches: batches
            .iter()
            .map(|b| AnchoredBatch {
                batch: b.batch,
                sequence: b.sequence,
                first_line: b.first_index + 1,
                message_count: b.message_count,
            })
            .collect(),
    };
    let path = anchors_path(&args.file);
    std::fs::write(&path, serde_json::to_vec_pretty(&anchors)?)
        .with_context(|| format!("write {}", path.display()))?;
    done(
        json,
        json!({
            "messages": messages.len(),
            "batches": anchors.batches.len(),
            "height": last_height,
            "anchors": path,
        }),
        || {
            format!(
                "{} messages anchored in {} batches by device {} (last at height {last_height}); proofs need {}",
                messages.len(),
                anchors.batches.len(),
                anchors.device,
                path.display()
            )
        },
    )
}

/// One line of an anchored stream file: its batch, the device that
/// anchored it, its bytes and its inclusion under the batch's root.
pub struct AnchoredLine {
    /// The batch.
    pub batch: Digest,
    /// The device the anchor file names.
    pub device: PublicKey,
    /// The line's bytes.
    pub message: Vec<u8>,
    /// Its inclusion under the batch's root.
    pub inclusion: InclusionProof,
}

/// Finds `line` (from 1) of `file` in the batches its anchor file records,
/// and proves it among its batch's messages.
pub fn anchored_line(file: &Path, line: usize) -> Result<AnchoredLine> {
    let path = anchors_path(file);
    let anchors: Anchors = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not a stream anchor file", path.display()))?;
    let mut messages = read_messages(file)?;
    if line == 0 || line > messages.len() {
        bail!("line must be 1 to {}", messages.len());
    }
    let Some(batch) = anchors
        .batches
        .iter()
        .find(|b| line >= b.first_line && line < b.first_line + b.message_count)
    else {
        bail!("line {line} is in no anchored batch");
    };
    let start = batch.first_line - 1;
    let end = start + batch.message_count;
    if end > messages.len() {
        bail!("the file has fewer lines than were anchored: it was changed");
    }
    let leaves = message_leaves(&messages[start..end]);
    let inclusion: InclusionProof = merkle::prove(&leaves, line - 1 - start);
    Ok(AnchoredLine {
        batch: batch.batch,
        device: anchors.device,
        message: messages.swap_remove(line - 1),
        inclusion,
    })
}

fn stream_prove(args: StreamProveArgs, json: bool) -> Result<()> {
    let AnchoredLine {
        batch,
        device,
        message,
        inclusion,
    } = anchored_line(&args.file, args.line)?;
    let index = inclusion.index;
    let proof = block_on(client(&args.node)?.batch(&batch))?;
    let record = proof
        .check_message(&message, &inclusion)
        .with_context(|| format!("line {} does not prove against batch {}", args.line, batch))?;
    if record.device != device {
        bail!("batch {batch} was signed by another device");
    }
    done(
        json,
        json!({
            "line": args.line,
            "message": String::from_utf8_lossy(&message),
            "batch": batch,
            "sequence": record.sequence,
            "device": record.device,
            "anchored_height": record.height,
            "inclusion": inclusion,
            "batch_proof": proof,
        }),
        || {
            format!(
                "VALID: line {} is message {} of batch {} ({} messages) signed by device {}, anchored at height {}; state root {} of block {}",
                args.line,
                index,
                batch,
                record.message_count,
                record.device,
                record.height,
                proof.state_root,
                proof.proven_height
            )
        },
    )
}
