//! The commands, one function each.

use crate::home::{Home, random_key};
use crate::logging::LogFormat;
use anyhow::{Context, Result, bail};
use cityledger_api::{OutcomeView, TxStatusView};
use cityledger_client::{Client, ClientError};
use cityledger_node::config::{
    ApiConfig, LEADER_TIMEOUT_MS_DEFAULT, MempoolLimits, NodeConfig, ValidatorAddress,
};
use cityledger_node::service::{NodeSettings, run as run_node};
use cityledger_node::tls::TlsFiles;
use cityledger_state::genesis::{DEV_ORGS, consortium_genesis};
use cityledger_types::genesis::GenesisValidator;
use cityledger_types::tx::{Action, LedgerOp, Memo, TransferOrder, TxBody};
use cityledger_types::{Address, Amount, ChainId, ClientTxId, CurrencyCode, OrgName, SignedTx};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::info;

/// Chain id of the development chain.
pub const DEV_CHAIN_ID: &str = "cityledger-dev";
/// How long a CLI transaction stays valid.
pub(crate) const TX_LIFETIME_MS: u64 = 10 * 60 * 1000;
/// How long `tx transfer` waits for finality.
const FINALITY_WAIT_MS: u64 = 60_000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs `future` on a small runtime: the CLI's client calls.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime")
        .block_on(future)
}

/// `cityledger dev`.
pub fn dev(home_dir: &Path, api: SocketAddr, log_format: LogFormat, json: bool) -> Result<()> {
    let home = Home::new(home_dir);
    if !home.is_initialised() {
        create_dev_home(&home, api)?;
    }
    let mut config = home.config()?;
    config.api_listen = api;
    let url = config.api_url();
    if log_format == LogFormat::Json {
        // Every line on stdout is then a JSON log line, this one included.
        info!(api = %url, home = %home.dir().display(), "starting the dev chain");
    } else if json {
        println!("{}", serde_json::json!({ "api": url, "home": home.dir() }));
    } else {
        println!(
            "CityLedger dev chain: API at {url} (home {})",
            home.dir().display()
        );
    }
    start(&home, config)
}

fn create_dev_home(home: &Home, api: SocketAddr) -> Result<()> {
    let node_key = random_key();
    let orgs: Vec<(OrgName, cityledger_types::SecretKey)> = DEV_ORGS
        .iter()
        .map(|name| {
            (
                OrgName::new(*name).expect("dev organisation names are valid"),
                random_key(),
            )
        })
        .collect();
    let treasury = orgs[0].0.clone();
    let genesis = consortium_genesis(
        ChainId::new(DEV_CHAIN_ID).expect("valid chain id"),
        now_ms(),
        &orgs
            .iter()
            .map(|(name, key)| (name.clone(), key.public_key()))
            .collect::<Vec<_>>(),
        vec![GenesisValidator {
            org: treasury.clone(),
            key: node_key.public_key(),
        }],
    );
    let p2p = SocketAddr::new(
        api.ip(),
        api.port()
            .checked_add(1)
            .context("--api port must be below 65535")?,
    );
    home.write_genesis(&genesis)?;
    home.write_node_key(&node_key)?;
    for (name, key) in &orgs {
        home.write_key(name.as_str(), key)?;
    }
    home.write_config(&NodeConfig {
        name: treasury.to_string(),
        api_listen: api,
        p2p_listen: p2p,
        leader_timeout_ms: LEADER_TIMEOUT_MS_DEFAULT,
        api: ApiConfig::default(),
        mempool: MempoolLimits::default(),
        validators: vec![ValidatorAddress {
            name: treasury.to_string(),
            key: node_key.public_key(),
            p2p,
        }],
    })
}

/// `cityledger config check`: the node's own validation, without the node.
pub fn config_check(home_dir: &Path, json: bool) -> Result<()> {
    let home = Home::new(home_dir);
    if !home.is_initialised() {
        bail!(
            "{} holds no node configuration (config.toml)",
            home_dir.display()
        );
    }
    let config = home.config()?;
    // The node refuses to start on TLS files that do not load, so the
    // check reads them too.
    let tls = match TlsFiles::of(&config.api.tls) {
        Some(files) => Some(cityledger_node::tls::load(&files)?),
        None => None,
    };
    if json {
        let tls = tls.as_ref().map(|loaded| {
            serde_json::json!({
                "fingerprint_sha256": loaded.fingerprint,
                "not_after": loaded.expiry.as_ref().map(|expiry| &expiry.not_after_text),
                "chain_len": loaded.chain_len,
            })
        });
        println!(
            "{}",
            serde_json::json!({ "valid": true, "config": config, "tls": tls })
        );
    } else {
        println!(
            "{}: valid. Node {}, API at {}, p2p on {}, {} validators, rate limit {}",
            home_dir.join("config.toml").display(),
            config.name,
            config.api_url(),
            config.p2p_listen,
            config.validators.len(),
            match config.api.rate_limit_per_s {
                0 => "off".to_owned(),
                rate => format!(
                    "{rate}/s per client (burst {})",
                    config.api.rate_limit_burst
                ),
            }
        );
        if let Some(loaded) = &tls {
            let expires = loaded
                .expiry
                .as_ref()
                .map_or("an unreadable date", |expiry| {
                    expiry.not_after_text.as_str()
                });
            println!(
                "TLS certificate: {} in its chain, SHA-256 {}, expires {expires}",
                loaded.chain_len, loaded.fingerprint
            );
        }
    }
    Ok(())
}

/// `cityledger node`.
pub fn node(home_dir: &Path, log_format: LogFormat) -> Result<()> {
    let home = Home::new(home_dir);
    if !home.is_initialised() {
        bail!(
            "{} holds no node; create one with `cityledger init` or `cityledger dev`",
            home_dir.display()
        );
    }
    let config = home.config()?;
    if log_format == LogFormat::Json {
        info!(node = %config.name, api = %config.api_url(), "starting the node");
    } else {
        println!(
            "CityLedger node {}: API at {}",
            config.name,
            config.api_url()
        );
    }
    start(&home, config)
}

fn start(home: &Home, config: NodeConfig) -> Result<()> {
    let genesis = home.genesis()?;
    let node_key = home.node_key()?;
    run_node(NodeSettings {
        config,
        genesis,
        node_key_seed: node_key,
        data_dir: home.data_dir(),
    })
    .with_context(|| format!("node in {} failed", home.dir().display()))
}

/// One node of a network created by [`create_network`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct NetworkNode {
    /// Its organisation's name, also its directory under the network's.
    pub name: String,
    /// Its home.
    pub home: PathBuf,
    /// Where its API listens.
    pub api: SocketAddr,
    /// Where it listens for peers.
    pub p2p: SocketAddr,
}

/// What `init` creates.
pub struct NetworkPlan<'a> {
    /// Directory that receives one home per validator.
    pub dir: &'a Path,
    /// Number of validators.
    pub validators: u16,
    /// Organisation names; the first `validators` run one validator each.
    pub organisations: Option<Vec<String>>,
    /// Validator i gets base+2i (API) and base+2i+1 (p2p).
    pub base_port: u16,
    /// The chain id.
    pub chain_id: &'a str,
}

/// Name of the home, under a network's directory, that holds the admin keys
/// of organisations that run no validator.
pub const KEYRING_HOME: &str = "keyring";

/// Writes one home per validator: its node key, its organisation's admin
/// key, a config that lists every validator, and the shared genesis.
/// Admin keys of organisations without a validator go to the keyring home,
/// so that none is lost.
pub fn create_network(plan: &NetworkPlan<'_>) -> Result<(String, Vec<NetworkNode>)> {
    let validators = plan.validators;
    let names: Vec<String> = plan
        .organisations
        .clone()
        .unwrap_or_else(|| DEV_ORGS.iter().map(|s| s.to_string()).collect());
    let orgs: Vec<OrgName> = names
        .iter()
        .map(|n| OrgName::new(n.as_str()).with_context(|| format!("--organisations: `{n}`")))
        .collect::<Result<_>>()?;
    if orgs.len() < validators as usize {
        bail!(
            "--validators {validators} needs at least {validators} organisations, got {}",
            orgs.len()
        );
    }
    if let Some(name) = orgs.iter().find(|o| o.as_str() == KEYRING_HOME) {
        bail!("--organisations: `{name}` is reserved for the keyring home");
    }
    let last_port = u32::from(plan.base_port) + 2 * u32::from(validators);
    if last_port > u32::from(u16::MAX) {
        bail!(
            "--base-port {} leaves no room for {validators} validators",
            plan.base_port
        );
    }
    let chain_id = ChainId::new(plan.chain_id).context("--chain-id")?;
    let admins: Vec<_> = orgs.iter().map(|_| random_key()).collect();
    let node_keys: Vec<_> = (0..validators).map(|_| random_key()).collect();
    let address = |i: usize, offset: u16| {
        SocketAddr::from(([127, 0, 0, 1], plan.base_port + 2 * i as u16 + offset))
    };
    let genesis = consortium_genesis(
        chain_id,
        now_ms(),
        &orgs
            .iter()
            .zip(&admins)
            .map(|(o, k)| (o.clone(), k.public_key()))
            .collect::<Vec<_>>(),
        node_keys
            .iter()
            .zip(&orgs)
            .map(|(key, org)| GenesisValidator {
                org: org.clone(),
                key: key.public_key(),
            })
            .collect(),
    );
    let book: Vec<ValidatorAddress> = node_keys
        .iter()
        .zip(&orgs)
        .enumerate()
        .map(|(i, (key, org))| ValidatorAddress {
            name: org.to_string(),
            key: key.public_key(),
            p2p: address(i, 1),
        })
        .collect();
    let mut nodes = Vec::new();
    for (i, (node_key, org)) in node_keys.iter().zip(&orgs).enumerate() {
        let home = Home::new(plan.dir.join(org.as_str()));
        home.write_genesis(&genesis)?;
        home.write_node_key(node_key)?;
        home.write_key(org.as_str(), &admins[i])?;
        home.write_config(&NodeConfig {
            name: org.to_string(),
            api_listen: address(i, 0),
            p2p_listen: address(i, 1),
            leader_timeout_ms: LEADER_TIMEOUT_MS_DEFAULT,
            api: ApiConfig::default(),
            mempool: MempoolLimits::default(),
            validators: book.clone(),
        })?;
        nodes.push(NetworkNode {
            name: org.to_string(),
            home: home.dir().to_owned(),
            api: address(i, 0),
            p2p: address(i, 1),
        });
    }
    if orgs.len() > nodes.len() {
        let keyring = Home::new(plan.dir.join(KEYRING_HOME));
        keyring.write_genesis(&genesis)?;
        for (org, key) in orgs.iter().zip(&admins).skip(nodes.len()) {
            keyring.write_key(org.as_str(), key)?;
        }
    }
    Ok((genesis.chain_id.to_string(), nodes))
}

/// `cityledger init`.
pub fn init(plan: &NetworkPlan<'_>, json: bool) -> Result<()> {
    let (chain_id, nodes) = create_network(plan)?;
    if json {
        let nodes: Vec<_> = nodes
            .iter()
            .map(|n| serde_json::json!({ "name": n.name, "home": n.home, "api": format!("http://{}", n.api), "p2p": n.p2p.to_string() }))
            .collect();
        println!(
            "{}",
            serde_json::json!({ "chain_id": chain_id, "nodes": nodes })
        );
    } else {
        println!(
            "created {} validator homes under {}",
            nodes.len(),
            plan.dir.display()
        );
        for node in &nodes {
            println!(
                "  {:<12} API http://{}  p2p {}",
                node.name, node.api, node.p2p
            );
        }
    }
    Ok(())
}

/// `cityledger keys new`.
pub fn keys_new(home_dir: &Path, name: &str, json: bool) -> Result<()> {
    let home = Home::new(home_dir);
    let key = random_key();
    home.write_key(name, &key)?;
    print_key(name, &key, json);
    Ok(())
}

/// `cityledger keys show`.
pub fn keys_show(home_dir: &Path, name: &str, json: bool) -> Result<()> {
    let key = Home::new(home_dir).key(name)?;
    print_key(name, &key, json);
    Ok(())
}

fn print_key(name: &str, key: &cityledger_types::SecretKey, json: bool) {
    let address = Address::of_key(&key.public_key());
    if json {
        println!(
            "{}",
            serde_json::json!({ "name": name, "address": address.to_string(), "public_key": key.public_key().to_hex() })
        );
    } else {
        println!("{address}");
    }
}

/// Who signs a transaction, and where it goes.
#[derive(Args)]
pub struct SignerArgs {
    /// Home directory holding the signer's key and the genesis.
    #[arg(long, default_value = "./.cityledger-dev")]
    pub home: PathBuf,
    /// Node URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub node: String,
    /// Name of the signing key in the home.
    #[arg(long)]
    pub signer: String,
    /// Client transaction id; resubmitting the same id never applies twice.
    #[arg(long)]
    pub id: Option<String>,
}

impl SignerArgs {
    /// The client id given, or a fresh random one.
    pub fn tx_id(&self) -> Result<ClientTxId> {
        match &self.id {
            Some(id) => ClientTxId::new(id.as_str()).context("--id"),
            None => Ok(random_tx_id()),
        }
    }
}

/// Arguments of `cityledger tx transfer`.
#[derive(Args)]
pub struct TransferArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Recipient: an address (`cl1…`) or an organisation account (`org:name`).
    #[arg(long)]
    to: String,
    /// Amount in major units, e.g. 12.50.
    #[arg(long)]
    amount: String,
    /// Currency.
    #[arg(long, default_value = "CITY")]
    currency: String,
    /// Debited account; the signer's own account by default.
    #[arg(long)]
    from: Option<String>,
    /// Note for both parties.
    #[arg(long, default_value = "")]
    memo: String,
}

/// `cityledger tx transfer`.
pub fn transfer(args: TransferArgs, json: bool) -> Result<()> {
    let home = Home::new(&args.signer.home);
    let genesis = home.genesis()?;
    let key = home.key(&args.signer.signer)?;
    let currency = CurrencyCode::new(args.currency.as_str()).context("--currency")?;
    let decimals = currency_decimals(&genesis, &currency)?;
    let amount = Amount::parse_major(&args.amount, decimals).context("--amount")?;
    let to = Address::parse_or_alias(&args.to).context("--to")?;
    let from = match &args.from {
        Some(text) => Address::parse_or_alias(text).context("--from")?,
        None => Address::of_key(&key.public_key()),
    };
    let id = args.signer.tx_id()?;
    let tx = TxBody {
        chain_id: genesis.chain_id.clone(),
        signer: key.public_key(),
        id,
        expires_at_ms: now_ms() + TX_LIFETIME_MS,
        action: Action::Ledger(LedgerOp::Transfer(TransferOrder {
            from,
            to,
            currency,
            amount,
            memo: Memo::new(args.memo.as_str()).context("--memo")?,
        })),
    }
    .sign(&key);
    let status = block_on(submit_and_wait(&args.signer.node, &tx))?;
    report_final(&status, json)
}

/// Decimals of `currency`, which must be a currency of the chain.
pub(crate) fn currency_decimals(
    genesis: &cityledger_types::genesis::Genesis,
    currency: &CurrencyCode,
) -> Result<u8> {
    genesis
        .currencies
        .iter()
        .find(|c| c.code == *currency)
        .map(|c| c.decimals)
        .with_context(|| format!("--currency: {currency} is not a currency of this chain"))
}

/// A fresh client transaction id: 32 random hex characters.
pub(crate) fn random_tx_id() -> ClientTxId {
    ClientTxId::new(hex::encode(&random_key().seed()[..16])).expect("hex ids are valid")
}

/// Submits `tx` and waits for its finality. A reused client id follows the
/// first transaction instead, so a retried command reports the first result.
pub(crate) async fn submit_and_wait(node: &str, tx: &SignedTx) -> Result<TxStatusView> {
    let client = Client::new(node).with_context(|| format!("--node {node}"))?;
    let hash = match client.submit(tx).await {
        Ok(response) => response.hash,
        // The id was used before: follow the first transaction instead, so
        // a retried command reports the first result and never applies twice.
        Err(ClientError::Problem { problem, .. }) if problem.code == "duplicate_tx_id" => {
            match problem.first_result {
                Some(first) => first.hash(),
                None => bail!("{}", problem.detail),
            }
        }
        Err(error) => return Err(error).context("submit the transaction"),
    };
    client
        .wait_for_finality(&hash, FINALITY_WAIT_MS)
        .await
        .with_context(|| format!("wait for transaction {hash} to be finalized"))
}

fn report_final(status: &TxStatusView, json: bool) -> Result<()> {
    let TxStatusView::Finalized {
        hash,
        height,
        outcome,
        ..
    } = status
    else {
        bail!("transaction {} was not finalized", status.hash());
    };
    match outcome {
        OutcomeView::Applied => {
            if json {
                println!("{}", serde_json::to_string(status)?);
            } else {
                println!("finalized at height {height} (tx {hash})");
            }
            Ok(())
        }
        OutcomeView::Rejected { code, detail, .. } => {
            bail!("transaction {hash} was rejected at height {height}: {code}: {detail}")
        }
    }
}

/// `cityledger query balance`.
pub fn balance(node: &str, address: &str, currency: &str, json: bool) -> Result<()> {
    let currency = CurrencyCode::new(currency).context("--currency")?;
    Address::parse_or_alias(address).context("ADDRESS")?;
    let account = block_on(async {
        let client = Client::new(node).with_context(|| format!("--node {node}"))?;
        client.account(address).await.context("read the account")
    })?;
    let balance = account.balances.iter().find(|b| b.currency == currency);
    let (minor, major, decimals) = match balance {
        Some(b) => (b.balance_minor, b.balance.clone(), b.decimals),
        None => (0, Amount(0).to_major(2), 2),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "address": account.address, "currency": currency, "balance": major, "balance_minor": minor.to_string(), "decimals": decimals })
        );
    } else {
        println!("{major}");
    }
    Ok(())
}

/// `cityledger status` (and `query status`).
pub fn status(node: &str, json: bool) -> Result<()> {
    let status = block_on(async {
        let client = Client::new(node).with_context(|| format!("--node {node}"))?;
        client.status().await.context("read the node status")
    })?;
    if json {
        println!("{}", serde_json::to_string(&status)?);
        return Ok(());
    }
    let sync = if status.syncing {
        format!(
            "catching up, {} finalized views behind",
            status.views_behind
        )
    } else {
        "in step".to_owned()
    };
    println!(
        "node {} on {}: height {}, view {}, {sync}",
        status.node_name, status.chain_id, status.height, status.view
    );
    println!("state root {}", status.state_root);
    println!(
        "validators: {} of {} live",
        status.validators_live,
        status.validators.len()
    );
    for validator in &status.validators {
        let seen = match validator.last_view {
            Some(view) => format!("last vote in view {view}"),
            None => "no vote seen".to_owned(),
        };
        let state = if validator.live { "live" } else { "silent" };
        println!("  {:<12} {state:<6} {seen}", validator.org.as_str());
    }
    for equivocation in &status.equivocations {
        println!(
            "EQUIVOCATION: validator {} ({}) in view {}",
            equivocation.validator, equivocation.kind, equivocation.view
        );
    }
    Ok(())
}

/// Waits until `node` answers its health check, up to `timeout`.
pub async fn wait_healthy(client: &Client, timeout: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if client.health().await.is_ok() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("the node did not become healthy within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
