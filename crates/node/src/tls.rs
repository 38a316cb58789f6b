//! TLS on the REST API, with certificates reloaded without a restart.
//!
//! The certificate chain and key come from the two PEM files of
//! `[api.tls]`. [`CertStore`] serves whichever pair it loaded last to each
//! new handshake; [`watch`] reloads the pair when the files change (checked
//! every `reload_check_s`, and at once on SIGHUP), so a renewed certificate
//! is picked up by the next connection and open ones are left alone. A pair
//! that does not load (a half-written file, a key that does not match the
//! certificate) is refused and logged, and the last good pair stays in
//! service: a bad renewal must not take the API down either.
//!
//! Handshakes run in their own tasks behind [`TlsListener`], each bounded
//! in time and all bounded in number, so a client that opens a connection
//! and says nothing holds up no one else.
//!
//! The chain never depends on these certificates: consensus and peers use
//! their own authenticated, encrypted links (ADR 0004). An expired API
//! certificate is logged as an error, exported as a metric, and served on,
//! because clients refuse it themselves and the operator needs the node up
//! to fix it.

pub mod validity;

use crate::config::TlsConfig;
use commonware_runtime::Metrics;
use commonware_runtime::telemetry::metrics::{Counter, Gauge, raw};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{debug, error, info, warn};
pub use validity::Expiry;

/// Longest a client may take over its handshake, in ms.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// Handshakes in progress at once; beyond it new connections wait in the
/// kernel's backlog.
pub const HANDSHAKES_PENDING_MAX: usize = 1_024;
/// A certificate closer than this to its expiry is warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 21;
/// Time between repeated warnings about a close expiry, in seconds.
pub const EXPIRY_WARNING_REPEAT_S: u64 = 86_400;
/// Largest PEM file read; a chain with its intermediates is a few KiB.
pub const PEM_FILE_BYTES_MAX: u64 = 1 << 20;
/// Handshakes finished but not yet taken by the HTTP server.
const ACCEPTED_QUEUED_MAX: usize = 64;

/// The files of a certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The chain, leaf first, PEM.
    pub cert_file: PathBuf,
    /// The leaf's private key (PKCS#8, PKCS#1 or SEC1), PEM.
    pub key_file: PathBuf,
}

impl TlsFiles {
    /// The files `config` names, `None` when TLS is off. Relative paths
    /// are the process's; the CLI makes them the home's when it reads the
    /// file (`Home::config`).
    pub fn of(config: &TlsConfig) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert_file: config.cert_file.clone()?,
            key_file: config.key_file.clone()?,
        })
    }
}

/// Why a certificate and key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read `api.tls.{key}` {path}: {source}")]
    Read {
        /// `cert_file` or `key_file`.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file too large to be a certificate or a key.
    #[error("`api.tls.{key}` {path} is larger than {PEM_FILE_BYTES_MAX} bytes")]
    TooLarge {
        /// `cert_file` or `key_file`.
        key: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// No certificate, or a broken one.
    #[error("`api.tls.cert_file` {path} {reason}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No key, or one rustls cannot sign with.
    #[error("`api.tls.key_file` {path} {reason}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key that is not the certificate's.
    #[error("the key in {key_path} is not the key of the certificate in {cert_path}: {reason}")]
    Mismatch {
        /// The certificate file.
        cert_path: PathBuf,
        /// The key file.
        key_path: PathBuf,
        /// As rustls puts it.
        reason: String,
    },
    /// rustls refused the server set-up.
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// A certificate chain and key ready for handshakes, with what operators
/// check about it.
pub struct LoadedCert {
    certified: Arc<CertifiedKey>,
    /// SHA-256 of both files' bytes, to notice a change.
    files_digest: [u8; 32],
    /// SHA-256 of the leaf certificate's DER, hex: what `openssl x509
    /// -fingerprint -sha256` shows.
    pub fingerprint: String,
    /// The leaf's expiry, when it could be read.
    pub expiry: Option<Expiry>,
    /// Certificates in the chain.
    pub chain_len: usize,
}

impl fmt::Debug for LoadedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedCert")
            .field("fingerprint", &self.fingerprint)
            .field("expiry", &self.expiry)
            .field("chain_len", &self.chain_len)
            .finish_non_exhaustive()
    }
}

impl LoadedCert {
    /// Whole days until expiry at `now_unix_s` (negative once expired).
    pub fn days_left(&self, now_unix_s: i64) -> Option<i64> {
        let expiry = self.expiry.as_ref()?;
        Some((expiry.not_after_unix_s - now_unix_s).div_euclid(86_400))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read_bounded(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    use std::io::Read as _;
    let read_error = |source| TlsError::Read {
        key,
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(PEM_FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > PEM_FILE_BYTES_MAX {
        return Err(TlsError::TooLarge {
            key,
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

/// Reads and checks the pair in `files`: a parsable chain, a key rustls can
/// sign with, and that the key is the leaf certificate's.
pub fn load(files: &TlsFiles) -> Result<LoadedCert, TlsError> {
    let cert_bytes = read_bounded("cert_file", &files.cert_file)?;
    let key_bytes = read_bounded("key_file", &files.key_file)?;
    let bad_cert = |reason: String| TlsError::BadCertificate {
        path: files.cert_file.clone(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| bad_cert(format!("is not a PEM certificate chain: {error}")))?;
    let Some(leaf) = chain.first() else {
        return Err(bad_cert(
            "holds no `-----BEGIN CERTIFICATE-----` block".to_owned(),
        ));
    };
    let fingerprint = hex::encode(Sha256::digest(leaf.as_ref()));
    let expiry = validity::expiry(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|error| TlsError::BadKey {
        path: files.key_file.clone(),
        reason: format!("holds no usable PEM private key: {error}"),
    })?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|error| TlsError::BadKey {
            path: files.key_file.clone(),
            reason: format!("is not a key TLS can sign with: {error}"),
        })?;
    let chain_len = chain.len();
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|error| TlsError::Mismatch {
        cert_path: files.cert_file.clone(),
        key_path: files.key_file.clone(),
        reason: error.to_string(),
    })?;
    let mut digest = Sha256::new();
    digest.update(&cert_bytes);
    digest.update(&key_bytes);
    Ok(LoadedCert {
        certified: Arc::new(certified),
        files_digest: digest.finalize().into(),
        fingerprint,
        expiry,
        chain_len,
    })
}

/// The pair in service, swapped in place when the files change.
pub struct CertStore {
    files: TlsFiles,
    current: RwLock<Arc<LoadedCert>>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("files", &self.files)
            .field("current", &self.current())
            .finish()
    }
}

impl CertStore {
    /// Loads the pair in `files`; a node starts only with a pair that works.
    pub fn open(files: TlsFiles) -> Result<CertStore, TlsError> {
        let loaded = load(&files)?;
        Ok(CertStore {
            files,
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The pair in service.
    pub fn current(&self) -> Arc<LoadedCert> {
        // A panic while swapping leaves either the old or the new pair,
        // both whole: the lock guards one pointer.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again and, when they changed and load, puts the new
    /// pair in service. `Ok(None)`: unchanged. `Err`: they changed but do
    /// not load, and the old pair stays.
    pub fn reload(&self) -> Result<Option<Arc<LoadedCert>>, TlsError> {
        let loaded = load(&self.files)?;
        if loaded.files_digest == self.current().files_digest {
            return Ok(None);
        }
        let loaded = Arc::new(loaded);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded.clone();
        Ok(Some(loaded))
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current().certified.clone())
    }
}

/// The server side of TLS over `store`'s pair: TLS 1.2 and 1.3 with
/// rustls's safe defaults, HTTP/1.1, no client certificates (clients sign
/// what needs authenticating, ADR 0008).
pub fn server_config(store: Arc<CertStore>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Setup(error.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What the API server needs to serve TLS.
pub struct ApiTls {
    /// The certificates.
    pub store: Arc<CertStore>,
    /// Where reloads and failures are counted.
    pub metrics: TlsMetrics,
    /// SIGHUP, which triggers a reload.
    pub hangup: Option<Signal>,
}

/// The TLS metrics, next to the node's on `/metrics`.
#[derive(Clone)]
pub struct TlsMetrics {
    /// Expiry of the certificate in service, in seconds since the epoch.
    pub not_after_s: Gauge,
    /// Certificate pairs put in service after a change of the files.
    pub reloads: Counter,
    /// Changed files that did not load, so the old pair stayed.
    pub reload_failures: Counter,
    /// Handshakes that failed or timed out.
    pub handshake_failures: Counter,
}

impl TlsMetrics {
    /// Registers the metrics under `context`.
    pub fn register(context: &impl Metrics) -> TlsMetrics {
        TlsMetrics {
            not_after_s: context.register(
                "tls_certificate_not_after_seconds",
                "Expiry of the API's TLS certificate, in seconds since the Unix epoch",
                raw::Gauge::default(),
            ),
            reloads: context.register(
                "tls_reloads",
                "API TLS certificates put in service after their files changed",
                raw::Counter::default(),
            ),
            reload_failures: context.register(
                "tls_reload_failures",
                "Changed API TLS certificate files that did not load",
                raw::Counter::default(),
            ),
            handshake_failures: context.register(
                "tls_handshake_failures",
                "API TLS handshakes that failed or timed out",
                raw::Counter::default(),
            ),
        }
    }

    fn show(&self, loaded: &LoadedCert) {
        if let Some(expiry) = &loaded.expiry {
            self.not_after_s.set(expiry.not_after_unix_s);
        }
    }
}

fn now_unix_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Logs the pair now in service, and an error or a warning when it has
/// expired or is about to.
pub fn log_in_service(loaded: &LoadedCert, what: &str) {
    let expires = loaded
        .expiry
        .as_ref()
        .map_or("unknown", |expiry| expiry.not_after_text.as_str());
    info!(fingerprint = %loaded.fingerprint, expires, chain = loaded.chain_len, "{what}");
    warn_if_expiring(loaded);
}

fn warn_if_expiring(loaded: &LoadedCert) {
    let Some(days_left) = loaded.days_left(now_unix_s()) else {
        return;
    };
    if days_left < 0 {
        error!(fingerprint = %loaded.fingerprint, "the API's TLS certificate has EXPIRED; clients refuse it. Renew it: the node reloads it without a restart");
    } else if days_left < EXPIRY_WARNING_DAYS {
        warn!(fingerprint = %loaded.fingerprint, days_left, "the API's TLS certificate expires soon; renew it (the node reloads it without a restart)");
    }
}

/// Reloads `store` every `check_interval` and on each signal `hangup`
/// receives (SIGHUP, registered by the caller before the API answers, so
/// that no early SIGHUP meets the default action and ends the process),
/// until the runtime stops.
pub async fn watch(
    store: Arc<CertStore>,
    check_interval: Duration,
    metrics: TlsMetrics,
    mut hangup: Option<Signal>,
) {
    metrics.show(&store.current());
    let mut warned_at = Instant::now();
    loop {
        let hangup_received = async {
            match hangup.as_mut() {
                Some(hangup) => hangup.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(check_interval) => {}
            _ = hangup_received => info!("SIGHUP: checking the API's TLS certificate"),
        }
        let reloading = store.clone();
        // The files may sit on a slow disk; keep the reads off the workers.
        match tokio::task::spawn_blocking(move || reloading.reload()).await {
            Ok(Ok(Some(loaded))) => {
                metrics.reloads.inc();
                metrics.show(&loaded);
                log_in_service(&loaded, "new API TLS certificate in service");
                warned_at = Instant::now();
            }
            Ok(Ok(None)) => {
                if warned_at.elapsed() >= Duration::from_secs(EXPIRY_WARNING_REPEAT_S) {
                    warn_if_expiring(&store.current());
                    warned_at = Instant::now();
                }
            }
            Ok(Err(error)) => {
                metrics.reload_failures.inc();
                error!(%error, "the API's TLS files changed but do not load; the previous certificate stays in service");
            }
            Err(error) => error!(%error, "the TLS reload task failed"),
        }
    }
}

/// SIGHUP, taken from its default action (ending the process) so that
/// `systemctl reload` is safe on every node; `None`, logged, if the
/// runtime cannot.
pub fn listen_for_hangup() -> Option<Signal> {
    match signal(SignalKind::hangup()) {
        Ok(hangup) => Some(hangup),
        Err(error) => {
            warn!(%error, "cannot listen for SIGHUP; a SIGHUP would stop the node");
            None
        }
    }
}

/// Answers SIGHUP on a node without TLS, which has nothing to reload.
pub async fn ignore_hangup(mut hangup: Signal) {
    while hangup.recv().await.is_some() {
        info!("SIGHUP: nothing to reload, the API serves no TLS");
    }
}

/// A listener that hands the HTTP server connections whose TLS handshake is
/// done.
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    accept_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts on `tcp` and runs the handshakes of `config`.
    pub fn new(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        metrics: TlsMetrics,
    ) -> io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (sender, accepted) = mpsc::channel(ACCEPTED_QUEUED_MAX);
        let accept_task =
            tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), sender, metrics));
        Ok(TlsListener {
            accepted,
            local_addr,
            accept_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    metrics: TlsMetrics,
) {
    let pending = Arc::new(Semaphore::new(HANDSHAKES_PENDING_MAX));
    loop {
        let Ok(permit) = pending.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failed(error).await;
                continue;
            }
        };
        let (acceptor, sender, metrics) = (acceptor.clone(), sender.clone(), metrics.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(
                Duration::from_millis(HANDSHAKE_TIMEOUT_MS),
                acceptor.accept(stream),
            );
            let stream = match handshake.await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    metrics.handshake_failures.inc();
                    debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    metrics.handshake_failures.inc();
                    debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            drop(permit);
            // The server has stopped when the channel is closed.
            let _ = sender.send((stream, peer)).await;
        });
    }
}

/// Accept errors as hyper treats them: a connection reset before it was
/// taken is the client's affair; anything else (out of file descriptors)
/// is logged and waited out, instead of spinning.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    error!(%error, "cannot accept API connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept loop ended (it is aborted only when this listener
            // drops): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests;
