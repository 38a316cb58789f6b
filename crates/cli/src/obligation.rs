//! `cityledger obligation …`: issue, pay, waive, appeal, decide, cancel,
//! list, show and report obligations.
//!
//! Every command that changes something signs one transaction with a key
//! of the home, submits it, and waits for finality; a rejection is a
//! non-zero exit with the node's reason code.

use crate::commands::{
    SignerArgs, TX_LIFETIME_MS, block_on, currency_decimals, now_ms, submit_and_wait,
};
use crate::home::Home;
use anyhow::{Context, Result, bail};
use cityledger_api::{
    ObligationReport, ObligationStatusFilter, ObligationView, OutcomeView, TxStatusView, civil,
};
use cityledger_client::{Client, ObligationFilter, sign_tx};
use cityledger_types::genesis::Genesis;
use cityledger_types::limits::{CHARGES_PER_ISSUE_MAX, DAY_MS};
use cityledger_types::names::ReferenceKey;
use cityledger_types::obligation::{
    AppealDecision, Charge, Charges, Issuance, KindRoles, ObligationOp, PenaltyRule, Reason,
    Reference, ReferenceField, ReferenceValue, obligation_id,
};
use cityledger_types::tx::Roles;
use cityledger_types::{
    Action, Address, Amount, ClientTxId, CurrencyCode, Digest, KindName, OrgName, RoleName,
    SecretKey,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The obligation commands.
#[derive(Subcommand)]
pub enum ObligationCommand {
    /// Issue one obligation, or a batch of up to 10,000 from a CSV file.
    Issue(IssueArgs),
    /// Pay (part of) an obligation; waits for finality and prints the receipt.
    Pay(PayArgs),
    /// Waive what remains of an obligation.
    Waive(ReasonArgs),
    /// Appeal an obligation (as its payer, once).
    Appeal(ReasonArgs),
    /// Decide an appeal: uphold it with a new due date, or cancel.
    Decide(DecideArgs),
    /// Cancel an obligation (as its issuer).
    Cancel(ReasonArgs),
    /// Define a kind of obligation and the roles that may issue, waive and
    /// decide it (as the organisation's admin).
    DefineKind(DefineKindArgs),
    /// List obligations of a payer or an issuer.
    List(ListArgs),
    /// Show an obligation and its history.
    Show(ShowArgs),
    /// An agency's totals over a period: issued, collected, outstanding,
    /// waived, cancelled, penalties.
    Report(ReportArgs),
}

/// Arguments of `obligation issue`.
#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Issuing organisation; the signer's key name by default.
    #[arg(long)]
    org: Option<String>,
    /// Kind, e.g. traffic_fine, toll, tuition_fee.
    #[arg(long)]
    kind: String,
    /// Who owes it (for one obligation).
    #[arg(long, conflicts_with = "charges")]
    payer: Option<String>,
    /// Amount in major units, e.g. 50.00 (for one obligation).
    #[arg(long, conflicts_with = "charges")]
    amount: Option<String>,
    /// CSV file of charges, one per line: `payer,amount[,key=value;key=value]`.
    #[arg(long)]
    charges: Option<PathBuf>,
    /// The organisation's account that receives payments; `ORG:main` by default.
    #[arg(long)]
    payee: Option<String>,
    /// Currency.
    #[arg(long, default_value = "CITY")]
    currency: String,
    /// Due date, YYYY-MM-DD: due by the end of that day (UTC).
    #[arg(long, conflicts_with = "due_in_days")]
    due: Option<String>,
    /// Due in this many days from now.
    #[arg(long, default_value_t = 30)]
    due_in_days: u32,
    /// Penalty: `none`, `fixed:AMOUNT`, or `bps:POINTS/DAYS:CAP` (e.g.
    /// `bps:100/1:20.00` is 1 % a day, at most 20.00).
    #[arg(long, default_value = "none")]
    penalty: String,
    /// Reference data, `key=value`; repeat for several.
    #[arg(long = "ref")]
    reference: Vec<String>,
    /// Id of the record this obligation rests on (hex).
    #[arg(long)]
    evidence: Option<String>,
}

/// Arguments of `obligation pay`.
#[derive(Args)]
pub struct PayArgs {
    /// The obligation id.
    obligation: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Paying account; the signer's own by default.
    #[arg(long)]
    from: Option<String>,
    /// Amount in major units; by default what is owed now.
    #[arg(long)]
    amount: Option<String>,
}

/// Arguments of `obligation waive`, `appeal` and `cancel`.
#[derive(Args)]
pub struct ReasonArgs {
    /// The obligation id.
    obligation: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Arguments of `obligation decide`.
#[derive(Args)]
pub struct DecideArgs {
    /// The obligation id.
    obligation: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Uphold: the obligation is payable again by `--due` or `--due-in-days`.
    #[arg(long, conflicts_with = "cancel", required_unless_present = "cancel")]
    uphold: bool,
    /// Cancel the obligation.
    #[arg(long)]
    cancel: bool,
    /// New due date, YYYY-MM-DD, when upheld.
    #[arg(long, conflicts_with = "due_in_days")]
    due: Option<String>,
    /// New due time in days from now, when upheld.
    #[arg(long, default_value_t = 30)]
    due_in_days: u32,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Arguments of `obligation define-kind`.
#[derive(Args)]
pub struct DefineKindArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The organisation; the signer's key name by default.
    #[arg(long)]
    org: Option<String>,
    /// The kind, e.g. parking_ticket.
    #[arg(long)]
    kind: String,
    /// Roles that may issue and cancel, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    issue_roles: Vec<String>,
    /// Roles that may waive.
    #[arg(long, value_delimiter = ',')]
    waive_roles: Vec<String>,
    /// Roles that may decide appeals.
    #[arg(long, value_delimiter = ',')]
    decide_roles: Vec<String>,
}

/// Arguments of `obligation list`.
#[derive(Args)]
pub struct ListArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Obligations owed by this address.
    #[arg(long, required_unless_present = "issuer")]
    payer: Option<String>,
    /// Obligations issued by this organisation.
    #[arg(long)]
    issuer: Option<String>,
    /// open, partially_paid, overdue, payable, paid, waived, appealed or cancelled.
    #[arg(long)]
    status: Option<String>,
    /// Most obligations to print.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
}

/// Arguments of `obligation show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The obligation id.
    obligation: String,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
}

/// Arguments of `obligation report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The agency.
    #[arg(long)]
    issuer: String,
    /// Currency.
    #[arg(long, default_value = "CITY")]
    currency: String,
    /// First day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: String,
    /// Last day, inclusive; today by default.
    #[arg(long)]
    to: Option<String>,
}

/// Runs an obligation command.
pub fn run(command: ObligationCommand, json: bool) -> Result<()> {
    match command {
        ObligationCommand::Issue(args) => issue(args, json),
        ObligationCommand::Pay(args) => pay(args, json),
        ObligationCommand::Waive(args) => {
            with_reason(args, json, "waived", |obligation, reason| {
                ObligationOp::Waive { obligation, reason }
            })
        }
        ObligationCommand::Appeal(args) => {
            with_reason(args, json, "appealed", |obligation, reason| {
                ObligationOp::Appeal { obligation, reason }
            })
        }
        ObligationCommand::Cancel(args) => {
            with_reason(args, json, "cancelled", |obligation, reason| {
                ObligationOp::Cancel { obligation, reason }
            })
        }
        ObligationCommand::Decide(args) => decide(args, json),
        ObligationCommand::DefineKind(args) => define_kind(args, json),
        ObligationCommand::List(args) => list(args, json),
        ObligationCommand::Show(args) => show(args, json),
        ObligationCommand::Report(args) => report(args, json),
    }
}

/// A signer ready to sign: its key, the genesis and a client id.
pub(crate) struct Signing {
    /// The signer's key.
    pub(crate) key: SecretKey,
    /// The chain's genesis.
    pub(crate) genesis: Genesis,
    /// The client id of the first transaction.
    pub(crate) id: ClientTxId,
    /// The node's URL.
    pub(crate) node: String,
}

impl Signing {
    /// The signer of `args`, from its home.
    pub(crate) fn new(args: &SignerArgs) -> Result<Signing> {
        let home = Home::new(&args.home);
        let id = args.tx_id()?;
        Ok(Signing {
            key: home.key(&args.signer)?,
            genesis: home.genesis()?,
            id,
            node: args.node.clone(),
        })
    }

    /// Signs `op`, submits it and waits for finality; fails on rejection.
    fn submit(self, op: ObligationOp) -> Result<(Digest, TxStatusView)> {
        self.submit_action(Action::Obligation(op))
    }

    /// Signs `action`, submits it and waits for finality; fails on
    /// rejection with the node's reason code.
    pub(crate) fn submit_action(self, action: Action) -> Result<(Digest, TxStatusView)> {
        let tx = sign_tx(
            &self.key,
            self.genesis.chain_id.clone(),
            self.id,
            now_ms() + TX_LIFETIME_MS,
            action,
        );
        let status = block_on(submit_and_wait(&self.node, &tx))?;
        applied(&status)?;
        Ok((tx.hash(), status))
    }
}

/// Fails unless `status` is finalized and applied.
fn applied(status: &TxStatusView) -> Result<()> {
    match status {
        TxStatusView::Finalized {
            outcome: OutcomeView::Applied,
            ..
        } => Ok(()),
        TxStatusView::Finalized {
            hash,
            height,
            outcome: OutcomeView::Rejected { code, detail, .. },
            ..
        } => bail!("transaction {hash} was rejected at height {height}: {code}: {detail}"),
        other => bail!("transaction {} was not finalized", other.hash()),
    }
}

/// The height a finalized transaction was included at; 0 otherwise.
pub(crate) fn height_of(status: &TxStatusView) -> u64 {
    match status {
        TxStatusView::Finalized { height, .. } => height.0,
        _ => 0,
    }
}

fn issue(args: IssueArgs, json: bool) -> Result<()> {
    let signing = Signing::new(&args.signer)?;
    let org = OrgName::new(args.org.as_deref().unwrap_or(&args.signer.signer))
        .context("--org (defaults to the signer's name)")?;
    let currency = CurrencyCode::new(args.currency.as_str()).context("--currency")?;
    let decimals = currency_decimals(&signing.genesis, &currency)?;
    let charges = match &args.charges {
        Some(path) => read_charges(path, decimals)?,
        None => vec![single_charge(&args, decimals)?],
    };
    let payee = match &args.payee {
        Some(text) => Address::parse_or_alias(text).context("--payee")?,
        None => Address::parse_or_alias(&format!("{org}:main")).context("--org")?,
    };
    let issuance = Issuance {
        org,
        kind: KindName::new(args.kind.as_str()).context("--kind")?,
        payee,
        currency,
        due_at_ms: due_at_ms(args.due.as_deref(), args.due_in_days)?,
        penalty: parse_penalty(&args.penalty, decimals).context("--penalty")?,
        charges: Charges(charges),
    };
    let count = issuance.charges.0.len();
    let (hash, status) = signing.submit(ObligationOp::Issue(issuance))?;
    let ids: Vec<Digest> = (0..count as u32).map(|i| obligation_id(&hash, i)).collect();
    if json {
        let ids: Vec<String> = ids.iter().map(Digest::to_hex).collect();
        println!(
            "{}",
            serde_json::json!({ "tx": hash.to_hex(), "height": height_of(&status), "obligations": ids })
        );
    } else if let [id] = ids.as_slice() {
        println!("{id}");
    } else {
        println!(
            "issued {count} obligations at height {} (tx {hash}); the first is {}",
            height_of(&status),
            ids[0]
        );
    }
    Ok(())
}

fn single_charge(args: &IssueArgs, decimals: u8) -> Result<Charge> {
    let payer = args
        .payer
        .as_deref()
        .context("give --payer and --amount, or --charges FILE")?;
    let amount = args
        .amount
        .as_deref()
        .context("give --payer and --amount, or --charges FILE")?;
    Ok(Charge {
        payer: Address::parse_or_alias(payer).context("--payer")?,
        amount: Amount::parse_major(amount, decimals).context("--amount")?,
        reference: parse_reference(args.reference.iter().map(String::as_str)).context("--ref")?,
        evidence: args
            .evidence
            .as_deref()
            .map(Digest::from_hex)
            .transpose()
            .context("--evidence")?,
    })
}

/// Reads `payer,amount[,key=value;key=value]` lines; blank lines and lines
/// starting with `#` are skipped.
fn read_charges(path: &std::path::Path, decimals: u8) -> Result<Vec<Charge>> {
    // Each line is under 1 KiB; a file that cannot hold a valid batch is
    // refused before it is read whole.
    let size_max = (CHARGES_PER_ISSUE_MAX as u64 + 1) * 1024;
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > size_max {
        bail!(
            "{} is {} bytes; a batch of {CHARGES_PER_ISSUE_MAX} charges fits in {size_max}",
            path.display(),
            metadata.len()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut charges = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), number + 1);
        let mut fields = line.splitn(3, ',');
        let payer = fields.next().unwrap_or_default().trim();
        let amount = fields
            .next()
            .with_context(|| format!("{}: expected payer,amount", at()))?
            .trim();
        let reference = fields.next().unwrap_or_default();
        charges.push(Charge {
            payer: Address::parse_or_alias(payer).with_context(|| format!("{}: payer", at()))?,
            amount: Amount::parse_major(amount, decimals)
                .with_context(|| format!("{}: amount", at()))?,
            reference: parse_reference(reference.split(';').filter(|f| !f.trim().is_empty()))
                .with_context(|| format!("{}: reference", at()))?,
            evidence: None,
        });
        if charges.len() > CHARGES_PER_ISSUE_MAX {
            bail!(
                "{} has more than {CHARGES_PER_ISSUE_MAX} charges, the most one transaction issues",
                path.display()
            );
        }
    }
    if charges.is_empty() {
        bail!("{} holds no charges", path.display());
    }
    Ok(charges)
}

fn parse_reference<'a>(fields: impl Iterator<Item = &'a str>) -> Result<Reference> {
    let fields = fields
        .map(|field| {
            let (key, value) = field
                .trim()
                .split_once('=')
                .with_context(|| format!("`{field}` is not key=value"))?;
            Ok(ReferenceField {
                key: ReferenceKey::new(key.trim())?,
                value: ReferenceValue::new(value.trim())?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Reference::new(fields)?)
}

/// `none`, `fixed:AMOUNT` or `bps:POINTS/DAYS:CAP`.
fn parse_penalty(text: &str, decimals: u8) -> Result<PenaltyRule> {
    let rule = if text == "none" {
        PenaltyRule::None
    } else if let Some(amount) = text.strip_prefix("fixed:") {
        PenaltyRule::Fixed {
            amount: Amount::parse_major(amount, decimals)?,
        }
    } else if let Some(rest) = text.strip_prefix("bps:") {
        let (points, rest) = rest
            .split_once('/')
            .context("expected bps:POINTS/DAYS:CAP")?;
        let (days, cap) = rest
            .split_once(':')
            .context("expected bps:POINTS/DAYS:CAP")?;
        let days: u64 = days.parse().context("DAYS must be a whole number")?;
        PenaltyRule::BasisPoints {
            bps_per_period: points.parse().context("POINTS must be a whole number")?,
            period_ms: days.saturating_mul(DAY_MS),
            cap: Amount::parse_major(cap, decimals)?,
        }
    } else {
        bail!("`{text}` is not none, fixed:AMOUNT or bps:POINTS/DAYS:CAP");
    };
    rule.check()?;
    Ok(rule)
}

/// The end of day `due` (UTC), or `days` from now.
fn due_at_ms(due: Option<&str>, days: u32) -> Result<u64> {
    match due {
        Some(date) => {
            let day = civil::day_of_date(date).context("--due")?;
            Ok((u64::from(day) + 1) * DAY_MS - 1)
        }
        None => Ok(now_ms() + u64::from(days) * DAY_MS),
    }
}

fn parse_id(text: &str) -> Result<Digest> {
    Digest::from_hex(text).context("OBLIGATION must be an obligation id, 64 hex characters")
}

fn reason(text: &str) -> Result<Reason> {
    Reason::new(text).context("--reason")
}

fn with_reason(
    args: ReasonArgs,
    json: bool,
    done: &str,
    op: impl FnOnce(Digest, Reason) -> ObligationOp,
) -> Result<()> {
    let obligation = parse_id(&args.obligation)?;
    let reason = reason(&args.reason)?;
    let node = args.signer.node.clone();
    let (_, status) = Signing::new(&args.signer)?.submit(op(obligation, reason))?;
    print_after(&node, &obligation, &status, done, json)
}

fn decide(args: DecideArgs, json: bool) -> Result<()> {
    let obligation = parse_id(&args.obligation)?;
    let decision = if args.cancel {
        AppealDecision::Cancelled
    } else {
        AppealDecision::Upheld {
            due_at_ms: due_at_ms(args.due.as_deref(), args.due_in_days)?,
        }
    };
    let op = ObligationOp::Decide {
        obligation,
        decision,
        reason: reason(&args.reason)?,
    };
    let node = args.signer.node.clone();
    let (_, status) = Signing::new(&args.signer)?.submit(op)?;
    let done = if args.cancel {
        "cancelled on appeal"
    } else {
        "upheld"
    };
    print_after(&node, &obligation, &status, done, json)
}

fn define_kind(args: DefineKindArgs, json: bool) -> Result<()> {
    let roles = |names: &[String], flag: &str| -> Result<Roles> {
        names
            .iter()
            .map(|name| RoleName::new(name.as_str()).with_context(|| format!("{flag}: `{name}`")))
            .collect::<Result<Vec<_>>>()
            .map(Roles)
    };
    let org = OrgName::new(args.org.as_deref().unwrap_or(&args.signer.signer))
        .context("--org (defaults to the signer's name)")?;
    let kind = KindName::new(args.kind.as_str()).context("--kind")?;
    let op = ObligationOp::DefineKind {
        org: org.clone(),
        kind: kind.clone(),
        roles: KindRoles {
            issue: roles(&args.issue_roles, "--issue-roles")?,
            waive: roles(&args.waive_roles, "--waive-roles")?,
            decide: roles(&args.decide_roles, "--decide-roles")?,
        },
    };
    let (hash, status) = Signing::new(&args.signer)?.submit(op)?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "org": org, "kind": kind, "tx": hash.to_hex(), "height": height_of(&status) })
        );
    } else {
        println!("{org} defines {kind} (height {})", height_of(&status));
    }
    Ok(())
}

fn pay(args: PayArgs, json: bool) -> Result<()> {
    let obligation = parse_id(&args.obligation)?;
    let signing = Signing::new(&args.signer)?;
    let client =
        Client::new(&args.signer.node).with_context(|| format!("--node {}", args.signer.node))?;
    let before = block_on(client.obligation(&obligation)).context("read the obligation")?;
    let decimals = currency_decimals(&signing.genesis, &before.currency)?;
    let amount = match &args.amount {
        Some(text) => Amount::parse_major(text, decimals).context("--amount")?,
        None => before.owed,
    };
    let from = match &args.from {
        Some(text) => Address::parse_or_alias(text).context("--from")?,
        None => Address::of_key(&signing.key.public_key()),
    };
    let op = ObligationOp::Pay {
        obligation,
        from,
        currency: before.currency.clone(),
        amount,
    };
    let (hash, status) = signing.submit(op)?;
    let (after, receipt) = block_on(async {
        let after = client.obligation(&obligation).await?;
        let receipt = client.obligation_receipt(&obligation).await?;
        Ok::<_, cityledger_client::ClientError>((after, receipt))
    })
    .context("read the obligation and its receipt")?;
    let paid = Payment {
        tx: hash,
        amount,
        from,
        decimals,
        receipt: receipt.receipt,
    };
    print_payment_receipt(&after, &status, &paid, json)
}

/// A payment as the receipt shows it.
struct Payment {
    tx: Digest,
    amount: Amount,
    from: Address,
    decimals: u8,
    /// The obligation's verifiable receipt, text form.
    receipt: String,
}

fn print_payment_receipt(
    obligation: &ObligationView,
    status: &TxStatusView,
    payment: &Payment,
    json: bool,
) -> Result<()> {
    let Payment {
        tx,
        amount,
        from,
        decimals,
        receipt,
    } = payment;
    let (tx, amount, from, decimals) = (*tx, *amount, *from, *decimals);
    let TxStatusView::Finalized {
        height, block_id, ..
    } = status
    else {
        bail!("transaction {tx} was not finalized");
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "receipt": "payment",
                "obligation": obligation,
                "amount": amount,
                "paid_from": from,
                "tx": tx.to_hex(),
                "height": height,
                "block_id": block_id.to_hex(),
                "verifiable_receipt": receipt,
            })
        );
        return Ok(());
    }
    let major = |value: Amount| format!("{} {}", value.to_major(decimals), obligation.currency);
    println!("PAYMENT RECEIPT — final once printed: the agencies' validators finalized it");
    println!(
        "  obligation  {} ({} of {})",
        obligation.id, obligation.kind, obligation.issuer
    );
    println!("  payer       {}", obligation.payer);
    println!("  paid from   {from}");
    println!("  paid now    {}", major(amount));
    println!("  paid total  {}", major(obligation.paid));
    println!("  still owed  {}", major(obligation.owed));
    println!("  status      {}", status_text(obligation));
    println!("  tx          {tx}");
    println!("  block       {height} ({block_id})");
    println!(
        "  verify it offline: save the next line and run `cityledger verify FILE --trust genesis.json`"
    );
    println!("{receipt}");
    Ok(())
}

fn status_text(obligation: &ObligationView) -> String {
    let status = serde_json::to_value(obligation.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if obligation.overdue {
        format!("{status}, overdue")
    } else {
        status
    }
}

fn print_after(
    node: &str,
    obligation: &Digest,
    status: &TxStatusView,
    done: &str,
    json: bool,
) -> Result<()> {
    let client = Client::new(node).with_context(|| format!("--node {node}"))?;
    let view = block_on(client.obligation(obligation)).context("read the obligation")?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "obligation": view, "height": height_of(status) })
        );
    } else {
        println!(
            "obligation {obligation} {done} at height {}; now {}",
            height_of(status),
            status_text(&view)
        );
    }
    Ok(())
}

fn list(args: ListArgs, json: bool) -> Result<()> {
    let status = args
        .status
        .as_deref()
        .map(|text| {
            ObligationStatusFilter::parse(text).with_context(|| {
                format!("--status: `{text}` is not open, partially_paid, overdue, payable, paid, waived, appealed or cancelled")
            })
        })
        .transpose()?;
    if let Some(payer) = &args.payer {
        Address::parse_or_alias(payer).context("--payer")?;
    }
    if let Some(issuer) = &args.issuer {
        OrgName::new(issuer.as_str()).context("--issuer")?;
    }
    let filter = ObligationFilter {
        payer: args.payer.clone(),
        issuer: args.issuer.clone(),
        status,
    };
    let client = Client::new(&args.node).with_context(|| format!("--node {}", args.node))?;
    let limit = args.limit as usize;
    let items = block_on(async {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        // Bounded: each page either fills `items` or moves the cursor on,
        // and the listing ends when the node returns no cursor.
        loop {
            let page_limit = (limit - items.len()).min(1000);
            let page = client
                .obligations(&filter, cursor.as_deref(), Some(page_limit))
                .await
                .context("list obligations")?;
            items.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() || items.len() >= limit {
                break;
            }
        }
        items.truncate(limit);
        anyhow::Ok(items)
    })?;
    if json {
        println!("{}", serde_json::to_string(&items)?);
        return Ok(());
    }
    for item in &items {
        println!(
            "{}  {:<16} {:<12} owes {:>12} {}  {}",
            item.id,
            item.kind.as_str(),
            item.issuer.as_str(),
            item.owed,
            item.currency,
            status_text(item)
        );
    }
    if items.is_empty() {
        println!("no obligations");
    }
    Ok(())
}

fn show(args: ShowArgs, json: bool) -> Result<()> {
    let obligation = parse_id(&args.obligation)?;
    let client = Client::new(&args.node).with_context(|| format!("--node {}", args.node))?;
    let (view, history) = block_on(async {
        let view = client
            .obligation(&obligation)
            .await
            .context("read the obligation")?;
        let history = client
            .obligation_history(&obligation, None, Some(1000))
            .await
            .context("read the history")?;
        anyhow::Ok((view, history))
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "obligation": view, "history": history.items })
        );
        return Ok(());
    }
    println!("obligation {} — {} of {}", view.id, view.kind, view.issuer);
    println!("  payer {}  payee {}", view.payer, view.payee);
    println!(
        "  amount {} {}, penalty {}, paid {}, owed {}",
        view.amount, view.currency, view.penalty, view.paid, view.owed
    );
    println!(
        "  due at {} ms; status {}",
        view.due_at_ms,
        status_text(&view)
    );
    for field in &view.reference {
        println!("  {} = {}", field.key, field.value);
    }
    for item in &history.items {
        let kind = item.event["type"].as_str().unwrap_or("event");
        println!("  height {:>8}  {kind}  tx {}", item.height, item.tx);
    }
    Ok(())
}

fn report(args: ReportArgs, json: bool) -> Result<()> {
    let to = match &args.to {
        Some(to) => to.clone(),
        None => civil::date_of_day((now_ms() / DAY_MS) as u32),
    };
    let client = Client::new(&args.node).with_context(|| format!("--node {}", args.node))?;
    let report: ObligationReport =
        block_on(client.obligation_report(&args.issuer, &args.currency, &args.from, &to))
            .context("read the report")?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let major = |value: Amount| value.to_major(report.decimals);
    println!(
        "{} obligations in {}, {} to {} (as of height {})",
        report.issuer, report.currency, report.from, report.to, report.as_of_height
    );
    println!("  issued      {:>16}", major(report.issued));
    println!("  penalties   {:>16}", major(report.penalties));
    println!("  collected   {:>16}", major(report.collected));
    println!("  waived      {:>16}", major(report.waived));
    println!("  cancelled   {:>16}", major(report.cancelled));
    println!(
        "  outstanding {:>16} (now, all time)",
        signed_major(report.outstanding, report.decimals)
    );
    println!(
        "  collected since genesis {}",
        major(report.collected_total)
    );
    Ok(())
}

fn signed_major(value: i128, decimals: u8) -> String {
    let magnitude = Amount(value.unsigned_abs()).to_major(decimals);
    if value < 0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_parse_in_major_units() {
        let cases: &[(&str, Option<PenaltyRule>)] = &[
            ("none", Some(PenaltyRule::None)),
            (
                "fixed:10.00",
                Some(PenaltyRule::Fixed {
                    amount: Amount(1_000),
                }),
            ),
            (
                "bps:100/1:20.00",
                Some(PenaltyRule::BasisPoints {
                    bps_per_period: 100,
                    period_ms: DAY_MS,
                    cap: Amount(2_000),
                }),
            ),
            ("bps:0/1:20.00", None),
            ("bps:100/0:20.00", None),
            ("bps:100:20.00", None),
            ("fixed:0", None),
            ("late", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_penalty(text, 2).ok(), *expected, "{text}");
        }
    }

    #[test]
    fn charges_files_are_read_line_by_line_with_their_position_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let payer = Address::of_key(&SecretKey::from_seed([1; 32]).public_key());
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            format!("# tolls of the day\n{payer},2.50,plate=AB-1;gate=north\n\n{payer},3\n"),
        )
        .unwrap();
        let charges = read_charges(&good, 2).unwrap();
        assert_eq!(charges.len(), 2);
        assert_eq!(charges[0].amount, Amount(250));
        assert_eq!(charges[0].reference.fields().len(), 2);
        assert_eq!(charges[1].amount, Amount(300));
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, format!("{payer},2.50\n{payer},two\n")).unwrap();
        let error = format!("{:#}", read_charges(&bad, 2).unwrap_err());
        assert!(error.contains("bad.csv:2: amount"), "{error}");
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "# nothing\n").unwrap();
        assert!(read_charges(&empty, 2).is_err());
    }

    #[test]
    fn a_due_date_means_the_end_of_that_day() {
        let due = due_at_ms(Some("2026-12-01"), 0).unwrap();
        assert_eq!(due, 20_789 * DAY_MS - 1);
        assert!(due_at_ms(Some("2026-02-30"), 0).is_err());
    }
}
