//! Helpers shared by the integration tests: real `cityledger` processes on
//! 127.0.0.1, each in its own home, and the client calls the tests make
//! against them.
//!
//! Every wait here has a deadline, so a broken node fails a test instead of
//! hanging it. Nothing asserts a duration.

#![allow(dead_code)]

use cityledger_api::{AccountView, StatusView, SubmitResult, TxStatusView};
use cityledger_client::{Client, ClientError};
use cityledger_types::tx::{TransferOrder, TxBody};
use cityledger_types::{
    Address, Amount, ChainId, ClientTxId, CurrencyCode, Digest, SecretKey, SignedTx,
};
use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest any single wait of a test may take.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
/// How long a test transaction stays valid.
pub const TX_LIFETIME_MS: u64 = 30 * 60 * 1000;
/// Attempts at starting a fresh node (a port may be taken in between
/// probing and binding).
const START_ATTEMPTS_MAX: usize = 3;
/// Lines of a node's log printed when a test fails.
const LOG_TAIL_LINES: usize = 60;
/// Ports tried, from below the kernel's ephemeral range (32768 and up on
/// Linux), so that outgoing connections cannot grab them between probing
/// and the node's bind.
const PORT_RANGE: std::ops::Range<u16> = 20_000..32_000;
const PORT_PROBES_MAX: usize = 500;

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_cityledger")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A seed for this run's randomness: `CITYLEDGER_TEST_SEED` when set (to
/// replay a failure), else the clock. The caller prints it.
pub fn test_seed() -> u64 {
    std::env::var("CITYLEDGER_TEST_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| now_ms() ^ u64::from(std::process::id()))
}

static PORTS_HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port `p` such that `p` (API) and `p + 1` (the dev node's p2p) are both
/// free now, never handed out before by this process.
pub fn free_port_pair() -> u16 {
    free_port_block(2)
}

/// A port `p` such that `p..p + count` are all free now and none was handed
/// out before by this process: a network of `count / 2` nodes.
pub fn free_port_block(count: u16) -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut handed_out = PORTS_HANDED_OUT.lock().expect("port registry lock");
    'probe: for _ in 0..PORT_PROBES_MAX {
        let base = rng.gen_range(PORT_RANGE.start..PORT_RANGE.end - count);
        let ports = base..base + count;
        if ports.clone().any(|p| handed_out.contains(&p)) {
            continue;
        }
        let mut listeners = Vec::new();
        for port in ports.clone() {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(listener) => listeners.push(listener),
                Err(_) => continue 'probe,
            }
        }
        drop(listeners);
        handed_out.extend(ports);
        return base;
    }
    panic!("no {count} free ports found in {PORT_PROBES_MAX} probes of {PORT_RANGE:?}");
}

/// A running `cityledger dev` or `node` process. Dropping it kills the process
/// (SIGKILL) and, when the test is failing, prints the end of its log.
pub struct Node {
    child: Option<Child>,
    /// The API port (p2p is the next one).
    pub port: u16,
    /// `http://127.0.0.1:PORT`, or `https://` with TLS.
    pub url: String,
    /// The CA bundle that the node's TLS certificate chains to, if TLS.
    pub ca_pem: Option<Vec<u8>>,
    /// The node's home.
    pub home: PathBuf,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl Node {
    /// Starts `cityledger dev` on `home` (created on first run) with the API
    /// on `port`, and waits until it answers `/health`. The log of start
    /// number `n` of a home is `home.log.n`, next to the home.
    pub async fn start(home: &Path, port: u16) -> Result<Node, String> {
        Node::start_with(home, port, &[]).await
    }

    /// [`Node::start`] with more arguments for `cityledger dev`.
    pub async fn start_with(home: &Path, port: u16, extra: &[&str]) -> Result<Node, String> {
        let api = format!("127.0.0.1:{port}");
        let mut args = vec!["dev", "--api", &api];
        args.extend_from_slice(extra);
        Node::spawn(&args, home, port, &[], None).await
    }

    /// Starts `cityledger dev` like [`Node::start`], with `env` set in its
    /// environment (the `CITYLEDGER_*` config overrides).
    pub async fn start_with_env(
        home: &Path,
        port: u16,
        env: &[(&str, &str)],
    ) -> Result<Node, String> {
        let api = format!("127.0.0.1:{port}");
        Node::spawn(&["dev", "--api", &api], home, port, env, None).await
    }

    /// Starts `cityledger dev` like [`Node::start_with_env`], serving TLS
    /// with a certificate that chains to `ca_pem` (set by `env`).
    pub async fn start_tls(
        home: &Path,
        port: u16,
        env: &[(&str, &str)],
        ca_pem: &[u8],
    ) -> Result<Node, String> {
        let api = format!("127.0.0.1:{port}");
        Node::spawn(&["dev", "--api", &api], home, port, env, Some(ca_pem)).await
    }

    /// Starts `cityledger node` on a home made by `init`, whose API listens
    /// on `port`, and waits until it answers `/health`.
    pub async fn start_validator(home: &Path, port: u16) -> Result<Node, String> {
        Node::spawn(&["node"], home, port, &[], None).await
    }

    async fn spawn(
        args: &[&str],
        home: &Path,
        port: u16,
        env: &[(&str, &str)],
        ca_pem: Option<&[u8]>,
    ) -> Result<Node, String> {
        let log = next_log_path(home);
        let file = fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        let log_filter = std::env::var("CITYLEDGER_TEST_LOG")
            .unwrap_or_else(|_| "warn,cityledger_node::service=info".to_owned());
        let child = Command::new(binary())
            .args(args)
            .arg("--home")
            .arg(home)
            .env("RUST_LOG", log_filter)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", binary()))?;
        let mut node = Node {
            child: Some(child),
            port,
            url: format!(
                "{}://127.0.0.1:{port}",
                if ca_pem.is_some() { "https" } else { "http" }
            ),
            ca_pem: ca_pem.map(<[u8]>::to_vec),
            home: home.to_owned(),
            log,
        };
        node.wait_healthy().await?;
        Ok(node)
    }

    /// Starts a node on a fresh home `dir/home`, retrying with another port
    /// if the first one was taken in the meantime.
    pub async fn start_fresh(dir: &Path) -> Node {
        Node::start_fresh_with(dir, &[]).await
    }

    /// [`Node::start_fresh`] with more arguments for `cityledger dev`.
    pub async fn start_fresh_with(dir: &Path, extra: &[&str]) -> Node {
        let mut failures = Vec::new();
        for attempt in 0..START_ATTEMPTS_MAX {
            let home = dir.join(format!("home-{attempt}"));
            match Node::start_with(&home, free_port_pair(), extra).await {
                Ok(node) => return node,
                Err(error) => failures.push(error),
            }
        }
        panic!("could not start a dev node: {failures:#?}");
    }

    /// A client of this node.
    pub fn client(&self) -> Client {
        match &self.ca_pem {
            Some(ca_pem) => Client::with_ca_pem(&self.url, ca_pem),
            None => Client::new(&self.url),
        }
        .expect("a valid node URL and CA")
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Polls `/health` until it answers, the process exits or `WAIT_MAX`
    /// passes.
    pub async fn wait_healthy(&mut self) -> Result<(), String> {
        let client = self.client();
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(exit)) = child.try_wait()
            {
                return Err(format!(
                    "node on port {} exited with {exit} before becoming healthy:\n{}",
                    self.port,
                    self.log_tail()
                ));
            }
            if client.health().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "node on port {} not healthy within {WAIT_MAX:?}:\n{}",
                    self.port,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the process with SIGKILL (`Child::kill` on unix) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        lines[start..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of the node log {} ---\n{}\n--- end of node log ---",
                self.log.display(),
                self.log_tail()
            );
        }
    }
}

fn next_log_path(home: &Path) -> PathBuf {
    let name = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "home".to_owned());
    let parent = home.parent().unwrap_or(Path::new("."));
    (0..1000)
        .map(|n| parent.join(format!("{name}.log.{n}")))
        .find(|path| !path.exists())
        .expect("fewer than 1000 starts of one home")
}

/// The key file the CLI writes: `HOME/keys/NAME.json`.
#[derive(serde::Deserialize)]
struct KeyFile {
    name: String,
    public_key: String,
    secret_seed: String,
}

/// Loads the key named `name` from `home`, checking that its public key
/// matches its seed.
pub fn load_key(home: &Path, name: &str) -> SecretKey {
    let path = home.join("keys").join(format!("{name}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let file: KeyFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a key file: {e}", path.display()));
    assert_eq!(file.name, name, "{}", path.display());
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&file.secret_seed, &mut seed)
        .unwrap_or_else(|e| panic!("{}: bad secret_seed: {e}", path.display()));
    let key = SecretKey::from_seed(seed);
    assert_eq!(
        key.public_key().to_hex(),
        file.public_key,
        "{}: public_key does not match secret_seed",
        path.display()
    );
    key
}

/// The treasury admin key of a dev home.
pub fn treasury_key(home: &Path) -> SecretKey {
    load_key(home, "treasury")
}

/// A key from `rng`.
pub fn random_key(rng: &mut impl rand::RngCore) -> SecretKey {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    SecretKey::from_seed(seed)
}

/// The account of `key`.
pub fn address_of(key: &SecretKey) -> Address {
    Address::of_key(&key.public_key())
}

/// An `org:account` address.
pub fn org_account(alias: &str) -> Address {
    Address::parse_or_alias(alias).unwrap_or_else(|e| panic!("{alias}: {e}"))
}

/// The organisation accounts of a dev chain: each organisation's `main`,
/// and the treasury's `issuance`.
pub fn dev_org_accounts() -> Vec<Address> {
    let mut accounts = vec![org_account("treasury:issuance")];
    for org in [
        "treasury",
        "transport",
        "health",
        "police",
        "immigration",
        "education",
        "fire",
        "prosecutor",
    ] {
        accounts.push(org_account(&format!("{org}:main")));
    }
    accounts
}

/// The chain id the node reports.
pub async fn chain_id(client: &Client) -> ChainId {
    client.status().await.expect("read /v1/status").chain_id
}

/// A CITY transfer of `amount` minor units, signed by `key`, with id `id`.
pub fn transfer(
    key: &SecretKey,
    chain_id: &ChainId,
    from: Address,
    to: Address,
    amount: u128,
    id: &str,
) -> SignedTx {
    transfer_expiring(
        key,
        chain_id,
        from,
        to,
        amount,
        id,
        now_ms() + TX_LIFETIME_MS,
    )
}

/// [`transfer`] with an explicit expiry.
pub fn transfer_expiring(
    key: &SecretKey,
    chain_id: &ChainId,
    from: Address,
    to: Address,
    amount: u128,
    id: &str,
    expires_at_ms: u64,
) -> SignedTx {
    TxBody::transfer(
        chain_id.clone(),
        key.public_key(),
        ClientTxId::new(id).expect("test ids are valid"),
        expires_at_ms,
        TransferOrder::new(
            from,
            to,
            CurrencyCode::new("CITY").expect("valid code"),
            Amount(amount),
        ),
    )
    .sign(key)
}

/// Submits `txs` through the batch endpoint in chunks of `chunk` and
/// returns one result per transaction, in order. Items refused because the
/// mempool is full (503) are resubmitted, a bounded number of times.
pub async fn submit_batches(client: &Client, txs: &[SignedTx], chunk: usize) -> Vec<SubmitResult> {
    let mut results = Vec::with_capacity(txs.len());
    for part in txs.chunks(chunk) {
        let mut answers: Vec<Option<SubmitResult>> = vec![None; part.len()];
        let mut todo: Vec<usize> = (0..part.len()).collect();
        for _attempt in 0..100 {
            let batch: Vec<SignedTx> = todo.iter().map(|&i| part[i].clone()).collect();
            let response = client
                .submit_many(&batch)
                .await
                .expect("POST /v1/txs/batch");
            assert_eq!(response.results.len(), batch.len(), "one result per tx");
            let mut retry = Vec::new();
            for (&index, result) in todo.iter().zip(response.results) {
                match &result {
                    SubmitResult::Problem(problem) if problem.status == 503 => retry.push(index),
                    _ => answers[index] = Some(result),
                }
            }
            if retry.is_empty() {
                break;
            }
            todo = retry;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for (index, answer) in answers.into_iter().enumerate() {
            results.push(answer.unwrap_or_else(|| {
                panic!("transaction {index} of a batch stayed refused with 503")
            }));
        }
    }
    results
}

/// Submits one transaction and waits for its finalized status.
pub async fn submit_and_finalize(client: &Client, tx: &SignedTx) -> TxStatusView {
    let response = client
        .submit(tx)
        .await
        .unwrap_or_else(|e| panic!("submit {}: {e}", tx.hash()));
    assert_eq!(response.hash, tx.hash());
    wait_finalized(client, &tx.hash()).await
}

/// Waits (at most `WAIT_MAX`) for a transaction to be finalized.
pub async fn wait_finalized(client: &Client, hash: &Digest) -> TxStatusView {
    client
        .wait_for_finality(hash, WAIT_MAX.as_millis() as u64)
        .await
        .unwrap_or_else(|e| panic!("transaction {hash} not finalized: {e}"))
}

/// Waits until every hash is finalized and returns the statuses in order.
/// Polls each one with `GET /v1/txs/{hash}`, skipping those already seen
/// finalized, until `WAIT_MAX` passes.
pub async fn wait_all_finalized(client: &Client, hashes: &[Digest]) -> Vec<TxStatusView> {
    let deadline = Instant::now() + WAIT_MAX;
    let mut statuses: Vec<Option<TxStatusView>> = vec![None; hashes.len()];
    loop {
        let mut missing = 0usize;
        let mut example = None;
        for (hash, slot) in hashes.iter().zip(statuses.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            let status = client
                .tx_status(hash)
                .await
                .unwrap_or_else(|e| panic!("GET /v1/txs/{hash}: {e}"));
            if status.is_finalized() {
                *slot = Some(status);
            } else {
                missing += 1;
                example.get_or_insert(status);
            }
        }
        if missing == 0 {
            return statuses.into_iter().map(Option::unwrap).collect();
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} transactions not finalized within {WAIT_MAX:?}; e.g. {example:?}",
            hashes.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The posted CITY balance of `address`, in minor units (0 when the account
/// holds none).
pub async fn balance(client: &Client, address: &Address) -> i128 {
    let account = client
        .account(&address.to_string())
        .await
        .unwrap_or_else(|e| panic!("GET /v1/accounts/{address}: {e}"));
    city_balance(&account)
}

/// The posted CITY balance in an account view, checking that it equals
/// credits minus debits.
pub fn city_balance(account: &AccountView) -> i128 {
    let Some(city) = account
        .balances
        .iter()
        .find(|b| b.currency.as_str() == "CITY")
    else {
        return 0;
    };
    let posted = city.credits_posted.0 as i128 - city.debits_posted.0 as i128;
    assert_eq!(
        city.balance_minor, posted,
        "balance_minor of {} is not credits_posted - debits_posted",
        account.address
    );
    posted
}

/// Balances of `addresses`, in order.
pub async fn balances(client: &Client, addresses: &[Address]) -> Vec<i128> {
    let mut out = Vec::with_capacity(addresses.len());
    for address in addresses {
        out.push(balance(client, address).await);
    }
    out
}

/// The node's status.
pub async fn status(client: &Client) -> StatusView {
    client.status().await.expect("GET /v1/status")
}

/// Waits until the mempool is empty (at most `WAIT_MAX`).
pub async fn wait_mempool_empty(client: &Client) -> StatusView {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let status = status(client).await;
        if status.mempool_size == 0 {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "mempool still holds {} transactions after {WAIT_MAX:?}",
            status.mempool_size
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The outcome code of a finalized status: `None` when applied, the
/// rejection code otherwise. Panics if the status is not finalized.
pub fn outcome_code(status: &TxStatusView) -> Option<String> {
    match status {
        TxStatusView::Finalized { outcome, .. } => match outcome {
            cityledger_api::OutcomeView::Applied => None,
            cityledger_api::OutcomeView::Rejected { code, .. } => Some(code.clone()),
        },
        other => panic!("expected a finalized status, got {other:?}"),
    }
}

/// The problem of a client error, or a panic naming `what`.
pub fn expect_problem(
    result: Result<impl std::fmt::Debug, ClientError>,
    what: &str,
) -> (u16, cityledger_api::Problem) {
    match result {
        Err(ClientError::Problem { status, problem }) => (status, *problem),
        other => panic!("{what}: expected a problem document, got {other:?}"),
    }
}

/// The output of a finished CLI run.
#[derive(Debug)]
pub struct CliOutput {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliOutput {
    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `cityledger ARGS` to completion, killing it after `WAIT_MAX`.
pub fn run_cli(args: &[&str]) -> CliOutput {
    run_cli_within(args, WAIT_MAX)
}

/// Runs `cityledger ARGS` like [`run_cli`] and echoes the command, its exit
/// code and its output to stderr, so a failing test shows the session.
pub fn run_cli_logged(args: &[&str]) -> CliOutput {
    let output = run_cli(args);
    eprintln!(
        "$ cityledger {}\n[exit {:?}]\n{}{}",
        args.join(" "),
        output.code,
        output.stdout,
        output.stderr
    );
    output
}

/// Runs `cityledger ARGS` to completion, killing it (and every process it
/// started) after `timeout`. The command runs in its own process group, so
/// that a node it started (as `bench` does) dies with it. Output goes to
/// files, so that a chatty command cannot block on a full pipe while we
/// wait.
pub fn run_cli_within(args: &[&str], timeout: Duration) -> CliOutput {
    run_cli_with_env(args, &[], timeout)
}

/// [`run_cli_within`] with more environment variables.
pub fn run_cli_with_env(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> CliOutput {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("temporary directory for CLI output");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut child = Command::new(binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            fs::File::create(&out_path).expect("stdout file"),
        ))
        .stderr(Stdio::from(
            fs::File::create(&err_path).expect("stderr file"),
        ))
        .process_group(0)
        .spawn()
        .expect("spawn the cityledger binary");
    let deadline = Instant::now() + timeout;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait for the CLI") {
            break exit;
        }
        if Instant::now() > deadline {
            // The group's id is the child's pid (process_group(0)).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`cityledger {}` did not finish within {timeout:?}; stderr:\n{}",
                args.join(" "),
                fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    CliOutput {
        code: exit.code(),
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// A raw HTTP answer: status, content type and body.
#[derive(Debug)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The body as JSON, or a panic showing it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body of HTTP {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts this is an RFC 9457 problem with `status` and `code`, and
    /// returns the document.
    pub fn problem(&self, status: u16, code: &str) -> serde_json::Value {
        let body = self.json();
        assert_eq!(self.status, status, "HTTP status; body {body}");
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "content type of a problem; body {body}"
        );
        assert_eq!(body["status"], status, "problem status; body {body}");
        assert_eq!(body["code"], code, "problem code; body {body}");
        assert_eq!(
            body["type"],
            format!("/problems/{code}"),
            "problem type; body {body}"
        );
        assert!(body["title"].is_string(), "problem title; body {body}");
        assert!(body["detail"].is_string(), "problem detail; body {body}");
        body
    }
}

/// A reqwest builder for `http://` nodes (reqwest's own would panic for
/// want of a TLS provider, see the SDK's `tls` module).
pub fn plain_http_builder() -> reqwest::ClientBuilder {
    cityledger_client::http_client_builder(&cityledger_client::TrustRoots::Nothing)
        .expect("plain http needs no trust store")
}

/// A plain HTTP client with a request timeout, for requests the SDK would
/// never send.
pub fn raw_http() -> reqwest::Client {
    plain_http_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build an HTTP client")
}

/// Sends `method url` with an optional body and content type.
pub async fn raw_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> RawAnswer {
    raw_send(http.request(method, url), url, content_type, body).await
}

/// `GET url` signed by `reader` as the SDK signs private reads, for reads
/// the SDK would never sign (another party's data).
pub async fn signed_raw_get(http: &reqwest::Client, url: &str, reader: &SecretKey) -> RawAnswer {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    let mut request = http.get(url);
    for (name, value) in cityledger_client::signed_read_headers(&parsed, reader) {
        request = request.header(name, value);
    }
    raw_send(request, url, None, None).await
}

async fn raw_send(
    mut request: reqwest::RequestBuilder,
    url: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> RawAnswer {
    if let Some(content_type) = content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request to {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("body from {url}: {e}"))
        .to_vec();
    RawAnswer {
        status,
        content_type,
        body,
    }
}

/// `POST url` with a JSON body given as text.
pub async fn post_json_text(http: &reqwest::Client, url: &str, body: &str) -> RawAnswer {
    raw_request(
        http,
        reqwest::Method::POST,
        url,
        Some("application/json"),
        Some(body.as_bytes().to_vec()),
    )
    .await
}

/// `GET url`.
pub async fn get(http: &reqwest::Client, url: &str) -> RawAnswer {
    raw_request(http, reqwest::Method::GET, url, None, None).await
}

/// Runs the CLI against `node` with `--home` (for commands that sign) and
/// `--node` set, and returns its output; the helpers fail the test with
/// the session when the outcome is not the one expected.
pub struct Cli<'a> {
    node: &'a Node,
    home: String,
}

impl<'a> Cli<'a> {
    pub fn new(node: &'a Node) -> Cli<'a> {
        Cli {
            node,
            home: node.home.display().to_string(),
        }
    }

    /// Runs a signing or reading obligation command.
    pub fn run(&self, args: &[&str]) -> CliOutput {
        let mut full: Vec<&str> = args.to_vec();
        let signs = !matches!(args.get(1), Some(&"list" | &"show" | &"report" | &"status"));
        if signs {
            full.extend(["--home", &self.home]);
        }
        full.extend(["--node", &self.node.url]);
        run_cli_logged(&full)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.success(), "`{}` failed: {output:?}", args.join(" "));
        output.stdout.trim().to_owned()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    /// Runs a command that must fail with `code` in its message.
    pub fn refused(&self, args: &[&str], code: &str) {
        let output = self.run(args);
        assert!(
            !output.success(),
            "`{}` should fail: {output:?}",
            args.join(" ")
        );
        assert!(output.stderr.contains(code), "expected {code}: {output:?}");
    }

    pub fn new_key(&self, name: &str) -> String {
        let output = run_cli(&["keys", "new", name, "--home", &self.home]);
        assert!(output.success(), "{output:?}");
        output.stdout.trim().to_owned()
    }

    pub fn fund(&self, to: &str, amount: &str) {
        let output = run_cli_logged(&[
            "tx",
            "transfer",
            "--home",
            &self.home,
            "--node",
            &self.node.url,
            "--signer",
            "treasury",
            "--from",
            "treasury:issuance",
            "--to",
            to,
            "--amount",
            amount,
        ]);
        assert!(output.success(), "{output:?}");
    }

    pub fn balance(&self, address: &str) -> String {
        let output = run_cli(&["query", "balance", address, "--node", &self.node.url]);
        assert!(output.success(), "{output:?}");
        output.stdout.trim().to_owned()
    }
}

/// Runs `cityledger verify FILE --trust GENESIS` (meant for a stopped
/// node: nothing is contacted) and returns what the receipt proves; fails
/// the test unless it is valid.
pub fn verify_offline(receipt_file: &Path, genesis: &Path) -> String {
    let file = receipt_file.display().to_string();
    let trust = genesis.display().to_string();
    let checked = run_cli_logged(&["verify", &file, "--trust", &trust]);
    assert!(checked.success(), "{checked:?}");
    assert!(checked.stdout.starts_with("VALID: "), "{checked:?}");
    checked.stdout
}

/// Most bytes read from an event stream before giving up.
const STREAM_BYTES_MAX: usize = 4 * 1024 * 1024;

/// One server-sent event.
#[derive(Debug)]
pub struct SseEvent {
    pub id: Option<String>,
    pub name: Option<String>,
    pub height: u64,
    pub data: serde_json::Value,
}

/// Reads the first `count` events of the stream at `url`, within
/// `WAIT_MAX` and `STREAM_BYTES_MAX`.
pub async fn read_sse_events(
    url: &str,
    last_event_id: Option<&str>,
    count: usize,
) -> Vec<SseEvent> {
    // The stream never ends by itself, so the request must not carry an
    // overall timeout; each chunk read has its own deadline.
    let http = plain_http_builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client");
    let mut request = http.get(url);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let deadline = Instant::now() + WAIT_MAX;
    let mut response = tokio::time::timeout(WAIT_MAX, request.send())
        .await
        .expect("stream response within the deadline")
        .expect("GET /v1/stream");
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut buffer = String::new();
    let mut events = Vec::new();
    let mut read = 0usize;
    while events.len() < count {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, response.chunk())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {count} events within {WAIT_MAX:?}",
                    events.len()
                )
            })
            .expect("read the stream")
            .unwrap_or_else(|| panic!("the stream ended after {} events", events.len()));
        read += chunk.len();
        assert!(
            read <= STREAM_BYTES_MAX,
            "{read} bytes without {count} events"
        );
        buffer.push_str(std::str::from_utf8(&chunk).expect("the stream is UTF-8"));
        // Events are separated by a blank line.
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(event) = parse_event(&block) {
                events.push(event);
            }
        }
    }
    events.truncate(count);
    events
}

/// An event from its lines; `None` for a comment-only block (keep-alive).
fn parse_event(block: &str) -> Option<SseEvent> {
    let mut id = None;
    let mut name = None;
    let mut data = String::new();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => name = Some(value.to_owned()),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    let data: serde_json::Value = serde_json::from_str(&data)
        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
    let height = data["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("event without a height: {data}"));
    Some(SseEvent {
        id,
        name,
        height,
        data,
    })
}
