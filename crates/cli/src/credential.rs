//! `cityledger application …` and `cityledger credential …`: apply for a
//! citizen service, review and decide applications, and show, renew,
//! suspend, reinstate, revoke, check and export credentials.
//!
//! Every command that changes something signs one transaction with a key
//! of the home, submits it and waits for finality (the obligation
//! commands' [`Signing`]); a rejection is a non-zero exit with the node's
//! reason code. `credential status` checks the proof it prints;
//! `credential export-vc` signs a W3C VC 2.0 document with the issuer key.

use crate::commands::{SignerArgs, block_on, now_ms};
use crate::obligation::{Signing, height_of};
use anyhow::{Context, Result, bail};
use cityledger_api::{CredentialView, civil};
use cityledger_client::{ApplicationFilter, Client, Moment};
use cityledger_types::application::{ApplicationOp, Document, Documents, application_id};
use cityledger_types::credential::{
    CredentialOp, Field, FieldText, FieldValue, Fields, SALT_BYTES, commitment, credential_id,
};
use cityledger_types::limits::DAY_MS;
use cityledger_types::obligation::Reason;
use cityledger_types::{Action, Digest, FieldName, OrgName, ServiceName};
use cityledger_vc::document::date_time;
use clap::{Args, Subcommand};
use std::path::Path;

/// Largest document `--doc` hashes, in bytes: the ledger holds only the
/// hash, but the file is read whole.
const DOCUMENT_FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// The application commands.
#[derive(Subcommand)]
pub enum ApplicationCommand {
    /// Apply for a service; raises its fee as an obligation in the same
    /// transaction and prints the application id.
    Submit(SubmitArgs),
    /// Ask the applicant for more information (as the deciding agency).
    RequestInfo(MessageArgs),
    /// Answer a request for information (as the applicant).
    Respond(RespondArgs),
    /// Approve, issuing the credential (as the deciding agency); the fee
    /// must be paid.
    Approve(ApproveArgs),
    /// Reject with a reason (as the deciding agency).
    Reject(MessageArgs),
    /// List an applicant's applications or an agency's queue.
    List(ApplicationListArgs),
    /// Show an application and its history.
    Show(ShowArgs),
}

/// The credential commands.
#[derive(Subcommand)]
pub enum CredentialCommand {
    /// Show a credential, its status now and its history.
    Show(ShowArgs),
    /// List a holder's or an issuer's credentials.
    List(CredentialListArgs),
    /// Extend a credential's validity (as the issuer).
    Renew(RenewArgs),
    /// Suspend a credential until reinstated (as the issuer).
    Suspend(MessageArgs),
    /// Lift a suspension (as the issuer).
    Reinstate(MessageArgs),
    /// Revoke a credential for good (as the issuer).
    Revoke(MessageArgs),
    /// Print whether a credential was valid, expired, suspended or revoked
    /// at a height or time, with the proof, checked here.
    Status(StatusArgs),
    /// Print the credential as a W3C Verifiable Credential 2.0, signed
    /// (eddsa-jcs-2022) with the issuer key.
    ExportVc(ExportArgs),
    /// Print an issuer's Bitstring Status List credential, signed with the
    /// issuer key, for the issuer to publish.
    StatusList(StatusListArgs),
}

/// Arguments of `application submit`.
#[derive(Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The deciding organisation, e.g. immigration.
    #[arg(long)]
    org: String,
    /// The service, e.g. passport_renewal.
    #[arg(long)]
    service: String,
    /// A field, `name=VALUE`: text, `int:N`, `date:YYYY-MM-DD`,
    /// `flag:true`, `commit:SECRET` (a salted commitment; the salt is
    /// printed, keep it) or `commitment:HEX`. Repeat for several.
    #[arg(long = "field")]
    fields: Vec<String>,
    /// A document, `name=FILE` (its SHA-256 goes on the ledger, the file
    /// stays here) or `name=sha256:HEX`. Repeat for several.
    #[arg(long = "doc")]
    documents: Vec<String>,
}

/// Arguments of commands that take an id and a message.
#[derive(Args)]
pub struct MessageArgs {
    /// The application or credential id.
    #[arg(value_name = "ID")]
    subject: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// The request, or the reason.
    #[arg(long, alias = "message")]
    reason: String,
}

/// Arguments of `application respond`.
#[derive(Args)]
pub struct RespondArgs {
    /// The application id.
    #[arg(value_name = "ID")]
    subject: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// The answer.
    #[arg(long, alias = "reason")]
    message: String,
    /// Further documents, as for `submit`.
    #[arg(long = "doc")]
    documents: Vec<String>,
}

/// Arguments of `application approve`.
#[derive(Args)]
pub struct ApproveArgs {
    /// The application id.
    #[arg(value_name = "ID")]
    subject: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// A claim of the credential, `name=VALUE` as for `--field`.
    #[arg(long = "claim")]
    claims: Vec<String>,
    /// Validity in days from now; the service's longest by default.
    #[arg(long)]
    valid_days: Option<u32>,
}

/// Arguments of `application list`.
#[derive(Args)]
pub struct ApplicationListArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Applications of this address.
    #[arg(long, required_unless_present = "org")]
    applicant: Option<String>,
    /// Applications this organisation decides.
    #[arg(long)]
    org: Option<String>,
    /// open or decided.
    #[arg(long)]
    status: Option<String>,
    /// Most to print.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

/// Arguments of `credential list`.
#[derive(Args)]
pub struct CredentialListArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Credentials of this address.
    #[arg(long, required_unless_present = "issuer")]
    holder: Option<String>,
    /// Credentials of this issuer.
    #[arg(long)]
    issuer: Option<String>,
    /// Most to print.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

/// Arguments of `show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The id.
    #[arg(value_name = "ID")]
    subject: String,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
}

/// Arguments of `credential renew`.
#[derive(Args)]
pub struct RenewArgs {
    /// The credential id.
    #[arg(value_name = "ID")]
    subject: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// New end of validity, YYYY-MM-DD (valid until the end of that day).
    #[arg(long, conflicts_with = "days", required_unless_present = "days")]
    until: Option<String>,
    /// New end of validity in days from now.
    #[arg(long)]
    days: Option<u32>,
}

/// Arguments of `credential status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The credential id.
    #[arg(value_name = "ID")]
    subject: String,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// As of this finalized height.
    #[arg(long, conflicts_with = "at")]
    height: Option<u64>,
    /// As of this time: ms since the Unix epoch, or YYYY-MM-DD (its start, UTC).
    #[arg(long)]
    at: Option<String>,
}

/// Arguments of `credential export-vc`.
#[derive(Args)]
pub struct ExportArgs {
    /// The credential id.
    #[arg(value_name = "ID")]
    subject: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Where the issuer publishes its status lists; the node by default.
    #[arg(long)]
    status_base_url: Option<String>,
}

/// Arguments of `credential status-list`.
#[derive(Args)]
pub struct StatusListArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The issuer; the signer's key name by default.
    #[arg(long)]
    org: Option<String>,
    /// revocation or suspension.
    #[arg(long, default_value = "revocation")]
    purpose: String,
    /// Which list.
    #[arg(long, default_value_t = 0)]
    list: u32,
}

/// Runs an application command.
pub fn run_application(command: ApplicationCommand, json: bool) -> Result<()> {
    match command {
        ApplicationCommand::Submit(args) => submit(args, json),
        ApplicationCommand::RequestInfo(args) => decide(
            args,
            json,
            "information requested on",
            |application, request| ApplicationOp::RequestInfo {
                application,
                request,
            },
        ),
        ApplicationCommand::Respond(args) => respond(args, json),
        ApplicationCommand::Approve(args) => approve(args, json),
        ApplicationCommand::Reject(args) => {
            decide(args, json, "rejected", |application, reason| {
                ApplicationOp::Reject {
                    application,
                    reason,
                }
            })
        }
        ApplicationCommand::List(args) => list_applications(args, json),
        ApplicationCommand::Show(args) => show_application(args, json),
    }
}

/// Runs a credential command.
pub fn run_credential(command: CredentialCommand, json: bool) -> Result<()> {
    match command {
        CredentialCommand::Show(args) => show_credential(args, json),
        CredentialCommand::List(args) => list_credentials(args, json),
        CredentialCommand::Renew(args) => renew(args, json),
        CredentialCommand::Suspend(args) => {
            change(args, json, "suspended", |credential, reason| {
                CredentialOp::Suspend { credential, reason }
            })
        }
        CredentialCommand::Reinstate(args) => {
            change(args, json, "reinstated", |credential, reason| {
                CredentialOp::Reinstate { credential, reason }
            })
        }
        CredentialCommand::Revoke(args) => change(args, json, "revoked", |credential, reason| {
            CredentialOp::Revoke { credential, reason }
        }),
        CredentialCommand::Status(args) => status(args, json),
        CredentialCommand::ExportVc(args) => export_vc(args),
        CredentialCommand::StatusList(args) => status_list(args),
    }
}

fn parse_id(text: &str) -> Result<Digest> {
    Digest::from_hex(text).context("ID must be 64 hex characters")
}

fn client(node: &str) -> Result<Client> {
    Client::new(node).with_context(|| format!("--node {node}"))
}

/// A field or claim, and the salt of its commitment if one was made here.
fn parse_field(text: &str) -> Result<(Field, Option<[u8; SALT_BYTES]>)> {
    let (name, value) = text
        .split_once('=')
        .with_context(|| format!("`{text}` is not name=value"))?;
    let name = FieldName::new(name.trim()).with_context(|| format!("`{text}`: name"))?;
    let mut salt = None;
    let value = if let Some(number) = value.strip_prefix("int:") {
        FieldValue::Integer(number.parse().with_context(|| format!("`{text}`: int"))?)
    } else if let Some(date) = value.strip_prefix("date:") {
        FieldValue::Date(civil::day_of_date(date).with_context(|| format!("`{text}`: date"))?)
    } else if let Some(flag) = value.strip_prefix("flag:") {
        FieldValue::Flag(flag.parse().with_context(|| format!("`{text}`: flag"))?)
    } else if let Some(secret) = value.strip_prefix("commit:") {
        let fresh = crate::home::random_key().seed();
        salt = Some(fresh);
        FieldValue::Commitment(commitment(&fresh, secret))
    } else if let Some(hex) = value.strip_prefix("commitment:") {
        FieldValue::Commitment(Digest::from_hex(hex).with_context(|| format!("`{text}`"))?)
    } else {
        FieldValue::Text(FieldText::new(value).with_context(|| format!("`{text}`: text"))?)
    };
    Ok((Field { name, value }, salt))
}

/// Fields from `name=value` texts, with the salts of the commitments made.
fn parse_fields(texts: &[String]) -> Result<(Fields, Vec<(String, String)>)> {
    let mut fields = Vec::new();
    let mut salts = Vec::new();
    for text in texts {
        let (field, salt) = parse_field(text)?;
        if let Some(salt) = salt {
            salts.push((field.name.to_string(), hex_of(&salt)));
        }
        fields.push(field);
    }
    Ok((Fields::new(fields)?, salts))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Documents from `name=FILE` or `name=sha256:HEX` texts.
fn parse_documents(texts: &[String]) -> Result<Documents> {
    let documents = texts
        .iter()
        .map(|text| {
            let (name, source) = text
                .split_once('=')
                .with_context(|| format!("`{text}` is not name=FILE"))?;
            let digest = match source.strip_prefix("sha256:") {
                Some(hex) => Digest::from_hex(hex).with_context(|| format!("`{text}`"))?,
                None => hash_file(Path::new(source))?,
            };
            Ok(Document {
                name: FieldName::new(name.trim()).with_context(|| format!("`{text}`: name"))?,
                digest,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Documents(documents))
}

fn hash_file(path: &Path) -> Result<Digest> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > DOCUMENT_FILE_BYTES_MAX {
        bail!(
            "{} is {size} bytes; documents of up to {DOCUMENT_FILE_BYTES_MAX} bytes are hashed here",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Digest::of(&bytes))
}

fn reason(text: &str) -> Result<Reason> {
    Reason::new(text).context("--reason")
}

fn submit(args: SubmitArgs, json: bool) -> Result<()> {
    let org = OrgName::new(args.org.as_str()).context("--org")?;
    let service = ServiceName::new(args.service.as_str()).context("--service")?;
    let (fields, salts) = parse_fields(&args.fields)?;
    let documents = parse_documents(&args.documents)?;
    let node = args.signer.node.clone();
    let op = ApplicationOp::Submit {
        org,
        service,
        fields,
        documents,
    };
    let (hash, status) = Signing::new(&args.signer)?.submit_action(Action::Application(op))?;
    let id = application_id(&hash);
    let view = block_on(client(&node)?.application(&id)).context("read the application")?;
    if json {
        let salts: serde_json::Map<String, serde_json::Value> =
            salts.into_iter().map(|(k, v)| (k, v.into())).collect();
        println!(
            "{}",
            serde_json::json!({
                "application": id.to_hex(),
                "fee_obligation": view.fee_obligation.map(|d| d.to_hex()),
                "height": height_of(&status),
                "salts": salts,
            })
        );
        return Ok(());
    }
    println!("{id}");
    if let Some(fee) = view.fee_obligation {
        eprintln!("fee: obligation {fee}; pay it with `cityledger obligation pay {fee}`");
    }
    for (name, salt) in salts {
        eprintln!("salt of {name}: {salt} (keep it: with the value it proves the commitment)");
    }
    Ok(())
}

fn decide(
    args: MessageArgs,
    json: bool,
    done: &str,
    op: impl FnOnce(Digest, Reason) -> ApplicationOp,
) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let op = op(id, reason(&args.reason)?);
    let node = args.signer.node.clone();
    let (_, status) = Signing::new(&args.signer)?.submit_action(Action::Application(op))?;
    print_application_after(&node, &id, height_of(&status), done, json)
}

fn respond(args: RespondArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let op = ApplicationOp::Respond {
        application: id,
        response: Reason::new(args.message.as_str()).context("--message")?,
        documents: parse_documents(&args.documents)?,
    };
    let node = args.signer.node.clone();
    let (_, status) = Signing::new(&args.signer)?.submit_action(Action::Application(op))?;
    print_application_after(&node, &id, height_of(&status), "answered", json)
}

fn approve(args: ApproveArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let (claims, salts) = parse_fields(&args.claims)?;
    let op = ApplicationOp::Approve {
        application: id,
        claims,
        valid_until_ms: args
            .valid_days
            .map(|days| now_ms() + u64::from(days) * DAY_MS),
    };
    let (hash, status) = Signing::new(&args.signer)?.submit_action(Action::Application(op))?;
    let credential = credential_id(&hash);
    if json {
        println!(
            "{}",
            serde_json::json!({ "application": id.to_hex(), "credential": credential.to_hex(), "height": height_of(&status) })
        );
    } else {
        println!("{credential}");
        eprintln!(
            "application {id} approved at height {}; credential {credential} issued",
            height_of(&status)
        );
        for (name, salt) in salts {
            eprintln!("salt of claim {name}: {salt} (give it to the holder)");
        }
    }
    Ok(())
}

fn print_application_after(
    node: &str,
    id: &Digest,
    height: u64,
    done: &str,
    json: bool,
) -> Result<()> {
    let view = block_on(client(node)?.application(id)).context("read the application")?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "application": view, "height": height })
        );
    } else {
        println!(
            "application {id} {done} at height {height}; now {}",
            view.status.as_str()
        );
    }
    Ok(())
}

fn list_applications(args: ApplicationListArgs, json: bool) -> Result<()> {
    let filter = ApplicationFilter {
        applicant: args.applicant.clone(),
        org: args.org.clone(),
        status: args.status.clone(),
    };
    let page = block_on(client(&args.node)?.applications(&filter, None, Some(args.limit as usize)))
        .context("list applications")?;
    if json {
        println!("{}", serde_json::to_string(&page.items)?);
        return Ok(());
    }
    for item in &page.items {
        println!(
            "{}  {:<24} {:<12} {}",
            item.id,
            item.service.as_str(),
            item.org.as_str(),
            item.status.as_str()
        );
    }
    if page.items.is_empty() {
        println!("no applications");
    }
    Ok(())
}

fn show_application(args: ShowArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let client = client(&args.node)?;
    let (view, history) = block_on(async {
        let view = client
            .application(&id)
            .await
            .context("read the application")?;
        let history = client
            .application_history(&id, None, Some(1000))
            .await
            .context("read the history")?;
        anyhow::Ok((view, history))
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "application": view, "history": history.items })
        );
        return Ok(());
    }
    println!(
        "application {} — {} of {}, {}",
        view.id,
        view.service,
        view.org,
        view.status.as_str()
    );
    println!("  applicant {}", view.applicant_address);
    if let Some(fee) = view.fee_obligation {
        println!("  fee obligation {fee}");
    }
    for round in &view.rounds {
        println!(
            "  asked: {} — answered: {}",
            round.request,
            round.response.as_deref().unwrap_or("(waiting)")
        );
    }
    if let Some(decision) = &view.decision {
        if let Some(credential) = decision.credential {
            println!("  credential {credential}");
        }
        if let Some(reason) = &decision.reason {
            println!("  reason: {reason}");
        }
    }
    print_history(&history.items);
    Ok(())
}

fn print_history(items: &[cityledger_api::ObligationHistoryItem]) {
    for item in items {
        let kind = item.event["type"].as_str().unwrap_or("event");
        println!("  height {:>8}  {kind}  tx {}", item.height, item.tx);
    }
}

fn show_credential(args: ShowArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let client = client(&args.node)?;
    let (view, history) = block_on(async {
        let view = client
            .credential(&id)
            .await
            .context("read the credential")?;
        let history = client
            .credential_history(&id, None, Some(1000))
            .await
            .context("read the history")?;
        anyhow::Ok((view, history))
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "credential": view, "history": history.items })
        );
        return Ok(());
    }
    print_credential(&view);
    print_history(&history.items);
    Ok(())
}

fn print_credential(view: &CredentialView) {
    println!(
        "credential {} — {} of {}, {} (as of height {})",
        view.id,
        view.credential_type,
        view.issuer,
        view.status.as_str(),
        view.as_of_height
    );
    println!("  holder {}", view.holder_address);
    println!(
        "  valid {} to {}",
        date_time(view.valid_from_ms),
        date_time(view.valid_until_ms)
    );
    for claim in &view.claims {
        let value = serde_json::to_value(&claim.value).unwrap_or_default();
        println!("  {} = {}", claim.name, value["value"]);
    }
}

fn list_credentials(args: CredentialListArgs, json: bool) -> Result<()> {
    let page = block_on(client(&args.node)?.credentials(
        args.holder.as_deref(),
        args.issuer.as_deref(),
        None,
        Some(args.limit as usize),
    ))
    .context("list credentials")?;
    if json {
        println!("{}", serde_json::to_string(&page.items)?);
        return Ok(());
    }
    for item in &page.items {
        println!(
            "{}  {:<20} {:<12} {}",
            item.id,
            item.credential_type.as_str(),
            item.issuer.as_str(),
            item.status.as_str()
        );
    }
    if page.items.is_empty() {
        println!("no credentials");
    }
    Ok(())
}

fn renew(args: RenewArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let valid_until_ms = match (&args.until, args.days) {
        (Some(date), _) => {
            let day = civil::day_of_date(date).context("--until")?;
            (u64::from(day) + 1) * DAY_MS
        }
        (None, Some(days)) => now_ms() + u64::from(days) * DAY_MS,
        (None, None) => bail!("give --until or --days"),
    };
    let op = CredentialOp::Renew {
        credential: id,
        valid_until_ms,
    };
    submit_change(&args.signer, op, &id, "renewed", json)
}

fn change(
    args: MessageArgs,
    json: bool,
    done: &str,
    op: impl FnOnce(Digest, Reason) -> CredentialOp,
) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let op = op(id, reason(&args.reason)?);
    submit_change(&args.signer, op, &id, done, json)
}

fn submit_change(
    signer: &SignerArgs,
    op: CredentialOp,
    id: &Digest,
    done: &str,
    json: bool,
) -> Result<()> {
    let (_, status) = Signing::new(signer)?.submit_action(Action::Credential(op))?;
    let view = block_on(client(&signer.node)?.credential(id)).context("read the credential")?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "credential": view, "height": height_of(&status) })
        );
    } else {
        println!(
            "credential {id} {done} at height {}; now {}",
            height_of(&status),
            view.status.as_str()
        );
    }
    Ok(())
}

/// `--at`: ms since the Unix epoch, or the start of a UTC day.
fn parse_at(text: &str) -> Result<u64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().context("--at");
    }
    let day = civil::day_of_date(text).context("--at: ms since the epoch or YYYY-MM-DD")?;
    Ok(u64::from(day) * DAY_MS)
}

fn status(args: StatusArgs, json: bool) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let moment = match (args.height, &args.at) {
        (Some(height), _) => Moment::Height(height),
        (None, Some(at)) => Moment::Time(parse_at(at)?),
        (None, None) => Moment::Now,
    };
    let proof = block_on(client(&args.node)?.credential_status(&id, moment))
        .context("read the credential's status")?;
    let record = proof
        .check()
        .context("the node's answer does not hold; do not trust it")?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "status": proof.status.as_str(), "verified": true, "proof": proof })
        );
        return Ok(());
    }
    println!(
        "{} as of height {} ({})",
        proof.status.as_str(),
        proof.as_of_height,
        date_time(proof.as_of_ms)
    );
    println!(
        "  credential {id}: {} of {}, holder {}",
        record.credential_type,
        record.issuer,
        cityledger_types::Address::of_key(&record.holder)
    );
    println!(
        "  proof: its record, with {} status changes, is in the state of finalized block {} ({}), root {}; {} levels, checked here",
        record.history.changes().len(),
        proof.proven_height,
        proof.block_id,
        proof.state_root,
        proof.proof.depth()
    );
    Ok(())
}

fn export_vc(args: ExportArgs) -> Result<()> {
    let id = parse_id(&args.subject)?;
    let signing = Signing::new(&args.signer)?;
    let client = client(&args.signer.node)?;
    let (view, proof) = block_on(async {
        let view = client
            .credential(&id)
            .await
            .context("read the credential")?;
        let proof = client
            .credential_status(&id, Moment::Now)
            .await
            .context("read the credential's proof")?;
        anyhow::Ok((view, proof))
    })?;
    let record = proof
        .check()
        .context("the node's answer does not hold; do not trust it")?;
    let issuer_key = check_issuer_key(&signing, view.issuer_key, &record.issuer)?;
    let base = args.status_base_url.as_deref().unwrap_or(&args.signer.node);
    let document = cityledger_vc::credential_document(&id, &record, &issuer_key, base);
    let signed = cityledger_vc::sign(&document, &signing.key, &date_time(now_ms()))?;
    cityledger_vc::verify(&signed).context("the signed credential does not verify")?;
    println!("{}", serde_json::to_string_pretty(&signed)?);
    Ok(())
}

/// The issuer key, which must be the signer's.
fn check_issuer_key(
    signing: &Signing,
    issuer_key: Option<cityledger_types::PublicKey>,
    org: &OrgName,
) -> Result<cityledger_types::PublicKey> {
    let Some(issuer_key) = issuer_key else {
        bail!("{org} has no issuer key; its admin names one first");
    };
    if issuer_key != signing.key.public_key() {
        bail!(
            "the issuer key of {org} is {}; sign with that key (--signer), not {}",
            issuer_key.to_hex(),
            signing.key.public_key().to_hex()
        );
    }
    Ok(issuer_key)
}

fn status_list(args: StatusListArgs) -> Result<()> {
    let org = OrgName::new(args.org.as_deref().unwrap_or(&args.signer.signer))
        .context("--org (defaults to the signer's name)")?;
    let signing = Signing::new(&args.signer)?;
    let view =
        block_on(client(&args.signer.node)?.status_list(org.as_str(), &args.purpose, args.list))
            .context("read the status list")?;
    check_issuer_key(&signing, view.issuer_key, &org)?;
    let Some(document) = view.credential else {
        bail!("{org} has no issuer key; its admin names one first");
    };
    let signed = cityledger_vc::sign(&document, &signing.key, &date_time(now_ms()))?;
    println!("{}", serde_json::to_string_pretty(&signed)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_by_their_prefix() {
        let cases: &[(&str, Option<FieldValue>)] = &[
            (
                "class=B",
                Some(FieldValue::Text(FieldText::new("B").unwrap())),
            ),
            ("entries=int:2", Some(FieldValue::Integer(2))),
            ("since=date:1970-01-02", Some(FieldValue::Date(1))),
            ("organ_donor=flag:true", Some(FieldValue::Flag(true))),
            ("entries=int:two", None),
            ("no value", None),
            ("Class=B", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_field(text).ok().map(|(field, _)| field.value),
                *expected,
                "{text}"
            );
        }
        let (field, salt) = parse_field("passport_number=commit:P1234567").unwrap();
        let salt = salt.expect("a commitment made here has a salt");
        assert_eq!(
            field.value,
            FieldValue::Commitment(commitment(&salt, "P1234567"))
        );
    }

    #[test]
    fn times_are_ms_or_dates() {
        assert_eq!(parse_at("1000").unwrap(), 1000);
        assert_eq!(parse_at("1970-01-02").unwrap(), DAY_MS);
        assert!(parse_at("tomorrow").is_err());
    }
}
