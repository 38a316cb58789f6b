//! `cityledger alert|incident|evidence|case|exam …`: alerts raised by
//! devices, incidents shared across agencies (read with a signed request),
//! evidence sealed as records with its chain of custody, case bundles
//! proven offline, and exams with committed answers (ADR 0008).
//!
//! Media and answers are sealed here, on the signer's machine, like every
//! record (ADR 0007). `evidence add` writes FILE.evidence.json beside the
//! media (its id, salt and commitment: the label that travels with the
//! copy), which `evidence accept` reads to name the commitment of what it
//! received; `exam commit` keeps the salt in the home until `exam reveal`.

use crate::commands::{SignerArgs, block_on};
use crate::home::Home;
use crate::obligation::{Signing, height_of};
use crate::receipts::{print_verified, trust_anchor};
use crate::record::{
    FINALITY_WAIT_MS, TX_LIFETIME_MS, client, digest, done, party_key, random_bytes,
    require_applied, share_key, submit, wrap_for,
};
use anyhow::{Context, Result, bail};
use cityledger_client::api::{EvidenceView, IncidentView, TxStatusView};
use cityledger_client::sign_tx;
use cityledger_types::education::{Certificate, EducationOp, ExamTerms, exam_id};
use cityledger_types::limits::{BLOB_BYTES_MAX, DAY_MS};
use cityledger_types::obligation::Reference;
use cityledger_types::record::{Anchor, Recipients, record_id};
use cityledger_types::safety::{
    CaseAddition, EvidenceAnchor, EvidenceLink, GeoPoint, IncidentStatus, Location, MediaKind,
    Note, OrgList, SafetyOp, Severity, Units, alert_id, case_id, incident_id,
};
use cityledger_types::sealed::{self, WrappedKey, WrappedKeys};
use cityledger_types::{
    Action, AreaCode, CourseName, CredentialType, Digest, EventKind, OrgName, PublicKey,
    RecordType, UnitName,
};
use cityledger_verifier::{Receipt, verify};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Node URL and home of a read.
#[derive(Args)]
pub struct ReadArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
}

/// Where something happened.
#[derive(Args)]
pub struct PlaceArgs {
    /// Area code, e.g. district-7.
    #[arg(long)]
    area: String,
    /// Point `latitude,longitude` in degrees, e.g. 51.5072,-0.1276.
    #[arg(long, allow_hyphen_values = true)]
    point: Option<String>,
}

impl PlaceArgs {
    fn location(&self) -> Result<Location> {
        Ok(Location {
            area: AreaCode::new(self.area.as_str()).context("--area")?,
            point: self
                .point
                .as_deref()
                .map(GeoPoint::parse)
                .transpose()
                .context("--point")?,
        })
    }
}

fn severity(text: &str) -> Result<Severity> {
    Severity::parse(text).with_context(|| {
        let names: Vec<&str> = Severity::ALL.iter().map(Severity::as_str).collect();
        format!("--severity must be one of {}", names.join(", "))
    })
}

fn org(text: &str, flag: &str) -> Result<OrgName> {
    OrgName::new(text).with_context(|| flag.to_owned())
}

fn note(text: &str, flag: &str) -> Result<Note> {
    Note::new(text).with_context(|| flag.to_owned())
}

/// `cityledger alert …`.
#[derive(Subcommand)]
pub enum AlertCommand {
    /// Raise an alert, signed by a registered device; prints its id.
    Raise(RaiseArgs),
    /// The alerts an agency received, newest first.
    List {
        #[command(flatten)]
        read: ReadArgs,
        /// The agency.
        #[arg(long)]
        org: String,
    },
}

/// Arguments of `alert raise`.
#[derive(Args)]
pub struct RaiseArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// What was detected, e.g. collision.
    #[arg(long)]
    kind: String,
    /// info, minor, major or critical.
    #[arg(long)]
    severity: String,
    #[command(flatten)]
    place: PlaceArgs,
    /// The clip or still; only its SHA-256 goes on chain.
    #[arg(long)]
    media: PathBuf,
    /// An agency to notify besides the device's; repeat for several.
    #[arg(long = "notify")]
    notify: Vec<String>,
}

/// Runs an alert command.
pub fn run_alert(command: AlertCommand, json: bool) -> Result<()> {
    match command {
        AlertCommand::Raise(args) => {
            let media = std::fs::read(&args.media)
                .with_context(|| format!("read {}", args.media.display()))?;
            let notify = args
                .notify
                .iter()
                .map(|name| org(name, "--notify"))
                .collect::<Result<Vec<_>>>()?;
            if notify.len() > cityledger_types::limits::ALERT_NOTIFY_MAX {
                bail!(
                    "--notify names {} agencies; an alert notifies at most ALERT_NOTIFY_MAX ({})",
                    notify.len(),
                    cityledger_types::limits::ALERT_NOTIFY_MAX
                );
            }
            let op = SafetyOp::RaiseAlert {
                kind: EventKind::new(args.kind.as_str()).context("--kind")?,
                severity: severity(&args.severity)?,
                location: args.place.location()?,
                media: Digest::of(&media),
                captured_at_ms: crate::commands::now_ms(),
                notify: OrgList(notify),
            };
            let (hash, status) = Signing::new(&args.signer)?.submit_action(Action::Safety(op))?;
            let id = alert_id(&hash);
            done(
                json,
                json!({"alert": id, "height": height_of(&status)}),
                || id.to_hex(),
            )
        }
        AlertCommand::List { read, org: name } => {
            let page = block_on(client(&read.node)?.alerts(&name, None, None))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                for alert in &page.items {
                    println!(
                        "{} {} {} in {} from {} ({}) at height {}",
                        alert.id,
                        alert.severity.as_str(),
                        alert.kind,
                        alert.location.area,
                        alert.device,
                        alert.org,
                        alert.height
                    );
                }
            }
            Ok(())
        }
    }
}

/// `cityledger incident …`.
#[derive(Subcommand)]
pub enum IncidentCommand {
    /// Open an incident for an agency; prints its id.
    Open(OpenArgs),
    /// Record an update: status, units dispatched, location, note.
    Update(UpdateArgs),
    /// Share an incident with another agency.
    Share(ShareArgs),
    /// Close an incident with its outcome.
    Close(CloseArgs),
    /// Show an incident, read as the signer (a member of an agency it is
    /// shared with).
    Show(ShowIncidentArgs),
    /// The incidents an agency sees, read as the signer, one of its
    /// members.
    List(ListIncidentsArgs),
}

/// Arguments of `incident open`.
#[derive(Args)]
pub struct OpenArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The agency; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// What happened, e.g. collision.
    #[arg(long)]
    kind: String,
    /// info, minor, major or critical.
    #[arg(long)]
    severity: String,
    #[command(flatten)]
    place: PlaceArgs,
    /// The first report (no names).
    #[arg(long, default_value = "")]
    note: String,
}

/// Arguments of `incident update`.
#[derive(Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The incident.
    incident: String,
    /// The agency the signer acts for; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// reported, dispatched, on_scene or contained.
    #[arg(long)]
    status: Option<String>,
    /// A new severity.
    #[arg(long)]
    severity: Option<String>,
    /// A new area code.
    #[arg(long)]
    area: Option<String>,
    /// A new point, with --area.
    #[arg(long, requires = "area", allow_hyphen_values = true)]
    point: Option<String>,
    /// A unit dispatched; repeat for several.
    #[arg(long = "unit")]
    units: Vec<String>,
    /// What happened (no names).
    #[arg(long, default_value = "")]
    note: String,
}

/// Arguments of `incident share`.
#[derive(Args)]
pub struct ShareArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The incident.
    incident: String,
    /// The agency to share it with.
    #[arg(long)]
    with: String,
}

/// Arguments of `incident close`.
#[derive(Args)]
pub struct CloseArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The incident.
    incident: String,
    /// How it ended.
    #[arg(long)]
    outcome: String,
}

/// Arguments of `incident show`.
#[derive(Args)]
pub struct ShowIncidentArgs {
    /// Home holding the reader's key.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The reader's key name in the home.
    #[arg(long)]
    signer: String,
    /// The incident.
    incident: String,
}

/// Arguments of `incident list`.
#[derive(Args)]
pub struct ListIncidentsArgs {
    /// Home holding the reader's key.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The reader's key name in the home.
    #[arg(long)]
    signer: String,
    /// The agency; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
}

fn acting_org(given: Option<&str>, signer: &SignerArgs) -> Result<OrgName> {
    OrgName::new(given.unwrap_or(&signer.signer)).context("--org (defaults to the signer's name)")
}

fn submitted(json: bool, key: &str, id: Digest, status: &TxStatusView, word: &str) -> Result<()> {
    done(json, json!({key: id, "height": height_of(status)}), || {
        format!("{key} {id} {word} at height {}", height_of(status))
    })
}

/// Runs an incident command.
pub fn run_incident(command: IncidentCommand, json: bool) -> Result<()> {
    match command {
        IncidentCommand::Open(args) => {
            let op = SafetyOp::OpenIncident {
                org: acting_org(args.org.as_deref(), &args.signer)?,
                kind: EventKind::new(args.kind.as_str()).context("--kind")?,
                severity: severity(&args.severity)?,
                location: args.place.location()?,
                note: note(&args.note, "--note")?,
            };
            let (hash, status) = Signing::new(&args.signer)?.submit_action(Action::Safety(op))?;
            let id = incident_id(&hash);
            done(
                json,
                json!({"incident": id, "height": height_of(&status)}),
                || id.to_hex(),
            )
        }
        IncidentCommand::Update(args) => {
            let incident = digest(&args.incident, "INCIDENT")?;
            let status =
                args.status
                    .as_deref()
                    .map(|text| {
                        IncidentStatus::parse_settable(text).with_context(|| {
                        let names: Vec<&str> =
                            IncidentStatus::SETTABLE.iter().map(|s| s.as_str()).collect();
                        format!(
                            "--status must be one of {} (close an incident with `incident close`)",
                            names.join(", ")
                        )
                    })
                    })
                    .transpose()?;
            let location = args
                .area
                .as_deref()
                .map(|area| {
                    PlaceArgs {
                        area: area.to_owned(),
                        point: args.point.clone(),
                    }
                    .location()
                })
                .transpose()?;
            let units = args
                .units
                .iter()
                .map(|unit| UnitName::new(unit.as_str()).context("--unit"))
                .collect::<Result<Vec<_>>>()?;
            if units.len() > cityledger_types::limits::UNITS_PER_UPDATE_MAX {
                bail!(
                    "{} units given; an update names at most UNITS_PER_UPDATE_MAX ({})",
                    units.len(),
                    cityledger_types::limits::UNITS_PER_UPDATE_MAX
                );
            }
            let op = SafetyOp::UpdateIncident {
                incident,
                org: acting_org(args.org.as_deref(), &args.signer)?,
                status,
                severity: args.severity.as_deref().map(severity).transpose()?,
                location,
                units: Units(units),
                note: note(&args.note, "--note")?,
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            submitted(json, "incident", incident, &status, "updated")
        }
        IncidentCommand::Share(args) => {
            let incident = digest(&args.incident, "INCIDENT")?;
            let op = SafetyOp::ShareIncident {
                incident,
                with: org(&args.with, "--with")?,
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            submitted(
                json,
                "incident",
                incident,
                &status,
                &format!("shared with {}", args.with),
            )
        }
        IncidentCommand::Close(args) => {
            let incident = digest(&args.incident, "INCIDENT")?;
            let op = SafetyOp::CloseIncident {
                incident,
                outcome: note(&args.outcome, "--outcome")?,
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            submitted(json, "incident", incident, &status, "closed")
        }
        IncidentCommand::Show(args) => {
            let incident = digest(&args.incident, "INCIDENT")?;
            let reader = Home::new(&args.home).key(&args.signer)?;
            let view = block_on(client(&args.node)?.incident(&incident, &reader))
                .context("read the incident")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_incident(&view);
            }
            Ok(())
        }
        IncidentCommand::List(args) => {
            let name = args.org.clone().unwrap_or_else(|| args.signer.clone());
            let reader = Home::new(&args.home).key(&args.signer)?;
            let page = block_on(client(&args.node)?.incidents(&name, &reader, None, None))
                .context("list the incidents")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                for incident in &page.items {
                    println!(
                        "{} {} {} {} in {} ({} updates)",
                        incident.id,
                        incident.org,
                        incident.status.as_str(),
                        incident.kind,
                        incident.location.area,
                        incident.updates.len()
                    );
                }
            }
            Ok(())
        }
    }
}

fn print_incident(view: &IncidentView) {
    println!("incident {}", view.id);
    println!(
        "  {} {} incident of {} in {}, {}",
        view.severity.as_str(),
        view.kind,
        view.org,
        view.location.area,
        view.status.as_str()
    );
    let shared: Vec<String> = view.shares.iter().map(|s| s.org.to_string()).collect();
    println!("  shared with [{}]", shared.join(", "));
    for update in &view.updates {
        println!(
            "  height {}: {} {} units [{}] {}",
            update.height,
            update.org,
            update.status.as_str(),
            update.units.join(", "),
            update.note
        );
    }
    if let Some(outcome) = &view.outcome {
        println!("  closed: {outcome}");
    }
}

/// A file sealed for its readers, with the salt of its commitment.
struct SealedFile {
    sealed: sealed::Sealed,
    keys: WrappedKeys,
    salt: [u8; sealed::SALT_BYTES],
}

/// Seals `content` with `salt` for `readers` (each once).
fn seal_for(
    content: &[u8],
    readers: &[PublicKey],
    salt: [u8; sealed::SALT_BYTES],
) -> Result<SealedFile> {
    if content.len() as u64 + sealed::BLOB_OVERHEAD_BYTES as u64 > BLOB_BYTES_MAX {
        bail!(
            "the file is {} bytes; a sealed record holds at most BLOB_BYTES_MAX ({BLOB_BYTES_MAX}) bytes",
            content.len()
        );
    }
    let data_key: [u8; 32] = random_bytes();
    let sealed = sealed::seal(content, &data_key, &random_bytes(), &salt);
    let mut wrapped: Vec<WrappedKey> = Vec::with_capacity(readers.len());
    for reader in readers {
        if wrapped.iter().all(|w| w.reader != *reader) {
            wrapped.push(wrap_for(&data_key, reader, &sealed.blob_digest)?);
        }
    }
    Ok(SealedFile {
        sealed,
        keys: WrappedKeys::new(wrapped).context("readers")?,
        salt,
    })
}

/// Anchors `action` (which names the sealed file's record) with its blob
/// and waits for it to be applied; returns the transaction hash.
fn anchor_with(
    signing: &Signing,
    action: Action,
    file: &SealedFile,
) -> Result<(Digest, TxStatusView)> {
    let tx = sign_tx(
        &signing.key,
        signing.genesis.chain_id.clone(),
        signing.id.clone(),
        crate::commands::now_ms() + TX_LIFETIME_MS,
        action,
    );
    let status = block_on(async {
        let client = client(&signing.node)?;
        client
            .anchor_record(&tx, &file.sealed.blob, &file.keys)
            .await
            .context("anchor the sealed file")?;
        client
            .wait_for_finality(&tx.hash(), FINALITY_WAIT_MS)
            .await
            .context("wait for the anchoring to be finalized")
    })?;
    require_applied(&status)?;
    Ok((tx.hash(), status))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("read {}", path.display()))?
        .len();
    if size > BLOB_BYTES_MAX {
        bail!(
            "{} is {size} bytes, above BLOB_BYTES_MAX ({BLOB_BYTES_MAX})",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

fn salt_hex(salt: &[u8; sealed::SALT_BYTES]) -> String {
    salt.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_salt(text: &str, what: &str) -> Result<[u8; sealed::SALT_BYTES]> {
    Digest::from_hex(text.trim())
        .map(|d| d.0)
        .with_context(|| format!("{what} is not 64 hex characters"))
}

/// `cityledger evidence …`.
#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Seal media as an evidence item of an incident or case; prints its
    /// id and writes FILE.evidence.json (id, salt, commitment).
    Add(AddEvidenceArgs),
    /// Offer the item to a member of another agency (the giving side signs).
    Handover(HandoverArgs),
    /// Accept an offered item (the receiving side signs), naming the
    /// commitment of the copy received.
    Accept(AcceptArgs),
    /// The item's whole chain of custody, as a receipt verified offline
    /// against the home's genesis.
    Custody(CustodyArgs),
    /// The item: its record and custody.
    Show {
        #[command(flatten)]
        read: ReadArgs,
        /// The item.
        evidence: String,
    },
}

/// Arguments of `evidence add`.
#[derive(Args)]
pub struct AddEvidenceArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The media file.
    #[arg(long)]
    file: PathBuf,
    /// The collecting agency; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// The incident it belongs to.
    #[arg(long, conflicts_with = "case")]
    incident: Option<String>,
    /// The case it belongs to.
    #[arg(long)]
    case: Option<String>,
    /// video, still_image, audio, sensor_data or document.
    #[arg(long, default_value = "video")]
    media_kind: String,
    #[command(flatten)]
    place: PlaceArgs,
    /// When it was captured, ms since the Unix epoch; now by default.
    #[arg(long)]
    captured_at_ms: Option<u64>,
    /// The registered device that captured it (key name or hex).
    #[arg(long)]
    source_device: Option<String>,
    /// The record's owner (key name or hex); the signer by default.
    #[arg(long)]
    owner: Option<String>,
}

/// Arguments of `evidence handover`.
#[derive(Args)]
pub struct HandoverArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The item.
    evidence: String,
    /// The receiving agency.
    #[arg(long)]
    to: String,
    /// Its member who is to accept (key name or hex).
    #[arg(long)]
    receiver: String,
}

/// Arguments of `evidence accept`.
#[derive(Args)]
pub struct AcceptArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The item.
    evidence: String,
    /// The copy received; its label FILE.evidence.json gives the salt.
    #[arg(long)]
    file: PathBuf,
    /// The salt, hex, if the label is elsewhere.
    #[arg(long)]
    salt: Option<String>,
}

/// Arguments of `evidence custody`.
#[derive(Args)]
pub struct CustodyArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Home whose genesis is trusted.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// The item.
    evidence: String,
    /// Also write the receipt (text) to FILE.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn label_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".evidence.json");
    PathBuf::from(name)
}

/// Runs an evidence command.
pub fn run_evidence(command: EvidenceCommand, json: bool) -> Result<()> {
    match command {
        EvidenceCommand::Add(args) => add_evidence(args, json),
        EvidenceCommand::Handover(args) => {
            let evidence = digest(&args.evidence, "EVIDENCE")?;
            let home = Home::new(&args.signer.home);
            let receiver = party_key(&home, &args.receiver).context("--receiver")?;
            let view = block_on(client(&args.signer.node)?.evidence(&evidence))
                .context("read the evidence item")?;
            let op = SafetyOp::OfferHandover {
                evidence,
                to: org(&args.to, "--to")?,
                receiver,
                commitment: view.record.commitment,
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            // The receiver reads the media once custodian: the giver opens
            // its own wrapped key (a logged access) and wraps it for them.
            share_key(&Signing::new(&args.signer)?, evidence, &receiver)?;
            submitted(
                json,
                "evidence",
                evidence,
                &status,
                &format!(
                    "offered to {receiver} of {}; custody moves when they accept",
                    args.to
                ),
            )
        }
        EvidenceCommand::Accept(args) => {
            let evidence = digest(&args.evidence, "EVIDENCE")?;
            let content = read_file(&args.file)?;
            let salt = match &args.salt {
                Some(text) => parse_salt(text, "--salt")?,
                None => {
                    let label = label_path(&args.file);
                    let text = std::fs::read_to_string(&label).with_context(|| {
                        format!(
                            "read the evidence label {} (or give --salt)",
                            label.display()
                        )
                    })?;
                    let value: serde_json::Value = serde_json::from_str(&text)
                        .with_context(|| format!("{} is not JSON", label.display()))?;
                    let salt = value["salt"]
                        .as_str()
                        .with_context(|| format!("{} holds no salt", label.display()))?;
                    parse_salt(salt, "the label's salt")?
                }
            };
            let commitment = sealed::content_commitment(&salt, &content);
            let op = SafetyOp::AcceptHandover {
                evidence,
                commitment,
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            submitted(json, "evidence", evidence, &status, "accepted")
        }
        EvidenceCommand::Custody(args) => custody(args, json),
        EvidenceCommand::Show { read, evidence } => {
            let evidence = digest(&evidence, "EVIDENCE")?;
            let view = block_on(client(&read.node)?.evidence(&evidence))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_evidence(&view);
            }
            Ok(())
        }
    }
}

fn add_evidence(args: AddEvidenceArgs, json: bool) -> Result<()> {
    let signing = Signing::new(&args.signer)?;
    let home = Home::new(&args.signer.home);
    let link = match (&args.incident, &args.case) {
        (Some(incident), None) => EvidenceLink::Incident(digest(incident, "--incident")?),
        (None, Some(case)) => EvidenceLink::Case(digest(case, "--case")?),
        _ => bail!("an evidence item belongs to an incident (--incident) or a case (--case)"),
    };
    let media_kind = MediaKind::parse(&args.media_kind).with_context(|| {
        let names: Vec<&str> = MediaKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("--media-kind must be one of {}", names.join(", "))
    })?;
    let owner = match &args.owner {
        Some(text) => party_key(&home, text).context("--owner")?,
        None => signing.key.public_key(),
    };
    let org_name = acting_org(args.org.as_deref(), &args.signer)?;
    let content = read_file(&args.file)?;
    let file = seal_for(&content, &[owner, signing.key.public_key()], random_bytes())?;
    let anchor = Anchor {
        org: Some(org_name.clone()),
        record_type: RecordType::new(format!("evidence_{}", media_kind.as_str()))
            .context("record type")?,
        owner,
        commitment: file.sealed.commitment,
        blob_digest: file.sealed.blob_digest,
        blob_bytes: file.sealed.blob.len() as u64,
        metadata: Reference::default(),
        parent: None,
        recipients: Recipients::default(),
    };
    let op = SafetyOp::AddEvidence(Box::new(EvidenceAnchor {
        anchor,
        link,
        media_kind,
        captured_at_ms: args.captured_at_ms.unwrap_or_else(crate::commands::now_ms),
        location: args.place.location()?,
        source_device: args
            .source_device
            .as_deref()
            .map(|text| party_key(&home, text).context("--source-device"))
            .transpose()?,
    }));
    let (hash, status) = anchor_with(&signing, Action::Safety(op), &file)?;
    let id = record_id(&hash);
    let label = json!({
        "evidence": id,
        "commitment": file.sealed.commitment,
        "salt": salt_hex(&file.salt),
        "custodian": org_name,
    });
    let label_file = label_path(&args.file);
    std::fs::write(&label_file, serde_json::to_string_pretty(&label)?)
        .with_context(|| format!("write {}", label_file.display()))?;
    done(
        json,
        json!({
            "evidence": id,
            "commitment": file.sealed.commitment,
            "label": label_file,
            "height": height_of(&status),
        }),
        || id.to_hex(),
    )
}

fn print_evidence(view: &EvidenceView) {
    println!("evidence {}", view.evidence);
    println!(
        "  {} captured at {} in {}, commitment {}",
        view.media_kind.as_str(),
        view.captured_at_ms,
        view.location.area,
        view.record.commitment
    );
    println!("  held by {}", view.custodian);
    for event in &view.history {
        let counterpart = event
            .counterpart
            .as_ref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        println!(
            "  height {}: {} by {}{counterpart}, signed {}",
            event.height, event.event, event.org, event.by
        );
    }
}

/// Fetches a receipt, verifies it against the home's genesis, prints what
/// it proves and writes it to `out`; fails unless it is valid.
fn verified_receipt(
    view: cityledger_client::api::ReceiptView,
    home: &Path,
    out: Option<&Path>,
    json: bool,
    extra: serde_json::Value,
) -> Result<()> {
    let receipt =
        Receipt::from_text(&view.receipt).context("the node's answer is not a receipt")?;
    let anchor = trust_anchor(None, home)?;
    let verified = verify(&receipt, &anchor)
        .map_err(|error| anyhow::anyhow!("the receipt is NOT valid: {error}"))?;
    if let Some(path) = out {
        std::fs::write(path, format!("{}\n", view.receipt))
            .with_context(|| format!("write {}", path.display()))?;
    }
    if json {
        let mut value = extra;
        value["valid"] = serde_json::Value::Bool(true);
        value["statement"] = serde_json::Value::String(verified.statement.clone());
        value["height"] = json!(verified.height);
        value["receipt"] = serde_json::Value::String(view.receipt);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_verified(&verified);
    }
    Ok(())
}

fn custody(args: CustodyArgs, json: bool) -> Result<()> {
    let evidence = digest(&args.evidence, "EVIDENCE")?;
    let client = client(&args.node)?;
    let view = block_on(client.custody_receipt(&evidence)).context("fetch the custody receipt")?;
    let item = block_on(client.evidence(&evidence)).context("read the evidence item")?;
    verified_receipt(
        view,
        &args.home,
        args.out.as_deref(),
        json,
        json!({
            "evidence": evidence,
            "custodian": item.custodian,
            "offer": item.offer,
            "history": item.history,
        }),
    )
}

/// `cityledger case …`.
#[derive(Subcommand)]
pub enum CaseCommand {
    /// Create a case bundle; prints its id.
    Create(CreateCaseArgs),
    /// Append evidence items, making the bundle's next version.
    Add(AddToCaseArgs),
    /// The bundle: its items in order and every version's root.
    Bundle {
        #[command(flatten)]
        read: ReadArgs,
        /// The case.
        case: String,
    },
    /// Prove an item's place in a version of the bundle: a receipt,
    /// verified offline against the home's genesis.
    Prove(ProveArgs),
}

/// Arguments of `case create`.
#[derive(Args)]
pub struct CreateCaseArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The agency; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// The incident it is about.
    #[arg(long)]
    incident: Option<String>,
    /// A short title (no names).
    #[arg(long, default_value = "")]
    title: String,
}

/// Arguments of `case add`.
#[derive(Args)]
pub struct AddToCaseArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The case.
    case: String,
    /// An evidence item; repeat, in order.
    #[arg(long = "item", required = true)]
    items: Vec<String>,
}

/// Arguments of `case prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Home whose genesis is trusted.
    #[arg(long, default_value = "./.cityledger-dev")]
    home: PathBuf,
    /// The case.
    case: String,
    /// The evidence item.
    item: String,
    /// The version, from 1; the newest by default.
    #[arg(long)]
    version: Option<u32>,
    /// Also write the receipt (text) to FILE.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs a case command.
pub fn run_case(command: CaseCommand, json: bool) -> Result<()> {
    match command {
        CaseCommand::Create(args) => {
            let op = SafetyOp::CreateCase {
                org: acting_org(args.org.as_deref(), &args.signer)?,
                incident: args
                    .incident
                    .as_deref()
                    .map(|text| digest(text, "--incident"))
                    .transpose()?,
                title: note(&args.title, "--title")?,
            };
            let (hash, status) = Signing::new(&args.signer)?.submit_action(Action::Safety(op))?;
            let id = case_id(&hash);
            done(
                json,
                json!({"case": id, "height": height_of(&status)}),
                || id.to_hex(),
            )
        }
        CaseCommand::Add(args) => {
            let case = digest(&args.case, "CASE")?;
            let items = args
                .items
                .iter()
                .map(|text| digest(text, "--item"))
                .collect::<Result<Vec<_>>>()?;
            if items.len() > cityledger_types::limits::CASE_ITEMS_PER_ADD_MAX {
                bail!(
                    "{} items given; one addition holds at most CASE_ITEMS_PER_ADD_MAX ({})",
                    items.len(),
                    cityledger_types::limits::CASE_ITEMS_PER_ADD_MAX
                );
            }
            let op = SafetyOp::AddToCase {
                case,
                items: CaseAddition(items),
            };
            let status = submit(&args.signer, Action::Safety(op))?;
            let view = block_on(client(&args.signer.node)?.case(&case))?;
            let version = view.versions.last().cloned();
            done(
                json,
                json!({"case": case, "version": version, "height": height_of(&status)}),
                || match &version {
                    Some(v) => format!(
                        "case {case} version {}: {} items, root {}",
                        v.version, v.item_count, v.root
                    ),
                    None => format!("case {case} updated"),
                },
            )
        }
        CaseCommand::Bundle { read, case } => {
            let case = digest(&case, "CASE")?;
            let view = block_on(client(&read.node)?.case(&case))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("case {} of {} \"{}\"", view.id, view.org, view.title);
                for (index, item) in view.items.iter().enumerate() {
                    println!("  {}. {item}", index + 1);
                }
                for version in &view.versions {
                    println!(
                        "  version {}: {} items, root {} (height {})",
                        version.version, version.item_count, version.root, version.height
                    );
                }
            }
            Ok(())
        }
        CaseCommand::Prove(args) => {
            let case = digest(&args.case, "CASE")?;
            let item = digest(&args.item, "ITEM")?;
            let view = block_on(client(&args.node)?.case_item_receipt(&case, &item, args.version))
                .context("fetch the bundle-item receipt")?;
            verified_receipt(
                view,
                &args.home,
                args.out.as_deref(),
                json,
                json!({"case": case, "item": item, "version": args.version}),
            )
        }
    }
}

/// `cityledger exam …`.
#[derive(Subcommand)]
pub enum ExamCommand {
    /// Define an exam with its opening time and deadline; prints its id.
    Create(CreateExamArgs),
    /// Commit to a file of answers before the deadline; the salt stays in
    /// the home until the reveal.
    Commit(CommitArgs),
    /// After the deadline, reveal the answers: sealed for the teacher as a
    /// record whose commitment must be the committed one.
    Reveal(RevealArgs),
    /// Grade a student's revealed answers; a pass issues the certificate.
    Grade(GradeArgs),
    /// The exam and every student's commitment, reveal and grade.
    Results {
        #[command(flatten)]
        read: ReadArgs,
        /// The exam.
        exam: String,
    },
}

/// Arguments of `exam create`.
#[derive(Args)]
pub struct CreateExamArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The school; the signer's name by default.
    #[arg(long)]
    org: Option<String>,
    /// The course, e.g. math-101.
    #[arg(long)]
    course: String,
    /// Commitments open this many seconds from now.
    #[arg(long, default_value_t = 0)]
    opens_in_s: u64,
    /// The deadline, this many seconds from now.
    #[arg(long)]
    deadline_in_s: u64,
    /// The highest score.
    #[arg(long, default_value_t = 100)]
    max_score: u32,
    /// The lowest passing score.
    #[arg(long, default_value_t = 50)]
    pass_mark: u32,
    /// The credential type a pass issues, e.g. exam_certificate.
    #[arg(long)]
    certificate: Option<String>,
    /// How long a certificate is valid, in days.
    #[arg(long, default_value_t = 3650)]
    certificate_days: u64,
}

/// Arguments of `exam commit`.
#[derive(Args)]
pub struct CommitArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The exam.
    exam: String,
    /// The file of answers.
    #[arg(long)]
    answers: PathBuf,
}

/// Arguments of `exam reveal`.
#[derive(Args)]
pub struct RevealArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The exam.
    exam: String,
    /// The file of answers, as committed.
    #[arg(long)]
    answers: PathBuf,
    /// Who may read them (key name or hex); the exam's creator by default.
    #[arg(long = "to")]
    readers: Vec<String>,
}

/// Arguments of `exam grade`.
#[derive(Args)]
pub struct GradeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The exam.
    exam: String,
    /// The student (key name or hex).
    #[arg(long)]
    student: String,
    /// The score.
    #[arg(long)]
    score: u32,
}

/// Where `exam commit` keeps a student's salt for an exam.
fn salt_path(home: &Home, exam: &Digest, signer: &str) -> PathBuf {
    home.dir()
        .join("exams")
        .join(format!("{}-{signer}.salt", exam.to_hex()))
}

/// Runs an exam command.
pub fn run_exam(command: ExamCommand, json: bool) -> Result<()> {
    match command {
        ExamCommand::Create(args) => {
            let now = crate::commands::now_ms();
            let seconds = |s: u64, flag: &str| {
                s.checked_mul(1000)
                    .and_then(|ms| now.checked_add(ms))
                    .with_context(|| format!("{flag} is too large"))
            };
            let terms = ExamTerms {
                org: acting_org(args.org.as_deref(), &args.signer)?,
                course: CourseName::new(args.course.as_str()).context("--course")?,
                opens_at_ms: seconds(args.opens_in_s, "--opens-in-s")?,
                deadline_ms: seconds(args.deadline_in_s, "--deadline-in-s")?,
                max_score: args.max_score,
                pass_mark: args.pass_mark,
                certificate: args
                    .certificate
                    .as_deref()
                    .map(|name| {
                        Ok::<_, anyhow::Error>(Certificate {
                            credential_type: CredentialType::new(name).context("--certificate")?,
                            valid_ms: args
                                .certificate_days
                                .checked_mul(DAY_MS)
                                .context("--certificate-days is too large")?,
                        })
                    })
                    .transpose()?,
            };
            let deadline_ms = terms.deadline_ms;
            let op = EducationOp::CreateExam(terms);
            let (hash, status) =
                Signing::new(&args.signer)?.submit_action(Action::Education(op))?;
            let id = exam_id(&hash);
            done(
                json,
                json!({"exam": id, "deadline_ms": deadline_ms, "height": height_of(&status)}),
                || id.to_hex(),
            )
        }
        ExamCommand::Commit(args) => {
            let exam = digest(&args.exam, "EXAM")?;
            let answers = read_file(&args.answers)?;
            let salt: [u8; sealed::SALT_BYTES] = random_bytes();
            let commitment = sealed::content_commitment(&salt, &answers);
            let home = Home::new(&args.signer.home);
            let path = salt_path(&home, &exam, &args.signer.signer);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create {}", dir.display()))?;
            }
            // Kept before submitting: a commitment on chain without its salt
            // could never be revealed.
            std::fs::write(&path, salt_hex(&salt))
                .with_context(|| format!("write {}", path.display()))?;
            let op = EducationOp::Commit { exam, commitment };
            let status = submit(&args.signer, Action::Education(op))?;
            done(
                json,
                json!({"exam": exam, "commitment": commitment, "height": height_of(&status)}),
                || {
                    format!(
                        "committed {commitment} to exam {exam} at height {}",
                        height_of(&status)
                    )
                },
            )
        }
        ExamCommand::Reveal(args) => {
            let exam = digest(&args.exam, "EXAM")?;
            let signing = Signing::new(&args.signer)?;
            let home = Home::new(&args.signer.home);
            let path = salt_path(&home, &exam, &args.signer.signer);
            let salt_text = std::fs::read_to_string(&path)
                .with_context(|| format!("read the salt of the commitment, {}", path.display()))?;
            let salt = parse_salt(&salt_text, "the kept salt")?;
            let answers = read_file(&args.answers)?;
            let mut readers: Vec<PublicKey> = args
                .readers
                .iter()
                .map(|text| party_key(&home, text).context("--to"))
                .collect::<Result<_>>()?;
            if readers.is_empty() {
                let results = block_on(client(&signing.node)?.exam_results(&exam, None, Some(1)))
                    .context("read the exam")?;
                readers.push(results.exam.created_by);
            }
            let student = signing.key.public_key();
            let mut all = vec![student];
            all.extend(readers.iter().copied());
            let file = seal_for(&answers, &all, salt)?;
            let anchor = Anchor {
                org: None,
                record_type: RecordType::new("exam_answers").context("record type")?,
                owner: student,
                commitment: file.sealed.commitment,
                blob_digest: file.sealed.blob_digest,
                blob_bytes: file.sealed.blob.len() as u64,
                metadata: Reference::default(),
                parent: None,
                recipients: Recipients::new(readers).context("--to")?,
            };
            let op = EducationOp::Reveal { exam, anchor };
            let (hash, status) = anchor_with(&signing, Action::Education(op), &file)?;
            let record = record_id(&hash);
            done(
                json,
                json!({"exam": exam, "answers_record": record, "height": height_of(&status)}),
                || format!("revealed exam {exam}: answers record {record}"),
            )
        }
        ExamCommand::Grade(args) => {
            let exam = digest(&args.exam, "EXAM")?;
            let home = Home::new(&args.signer.home);
            let student = party_key(&home, &args.student).context("--student")?;
            let op = EducationOp::Grade {
                exam,
                student,
                score: args.score,
            };
            let status = submit(&args.signer, Action::Education(op))?;
            let results = block_on(client(&args.signer.node)?.exam_results(&exam, None, None))?;
            let entry = results.items.into_iter().find(|e| e.student == student);
            let credential = entry.as_ref().and_then(|e| e.credential);
            let passed = entry.as_ref().and_then(|e| e.passed);
            done(
                json,
                json!({
                    "exam": exam,
                    "student": student,
                    "score": args.score,
                    "passed": passed,
                    "credential": credential,
                    "height": height_of(&status),
                }),
                || match credential {
                    Some(credential) => format!(
                        "graded {}: passed; certificate credential {credential}",
                        args.score
                    ),
                    None => format!("graded {}", args.score),
                },
            )
        }
        ExamCommand::Results { read, exam } => {
            let exam = digest(&exam, "EXAM")?;
            let page = block_on(client(&read.node)?.exam_results(&exam, None, None))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                println!(
                    "exam {} of {} ({}), deadline {}",
                    page.exam.id, page.exam.org, page.exam.course, page.exam.deadline_ms
                );
                for entry in &page.items {
                    let score = entry
                        .score
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "  {} committed {} revealed {} score {score}",
                        entry.student,
                        entry.committed_height,
                        entry
                            .revealed_height
                            .map(|h| h.to_string())
                            .unwrap_or_else(|| "-".into()),
                    );
                }
            }
            Ok(())
        }
    }
}
