//! TLS end to end over 127.0.0.1: what a client trusts decides which
//! certificate it proves was served, so a reload is seen from outside.

use super::*;
use axum::extract::ConnectInfo;
use axum::routing::get;
use cityledger_client::Client;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use std::fs;

/// A test certificate authority.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    fn pem(&self) -> Vec<u8> {
        self.issuer.pem().into_bytes()
    }

    /// A leaf for 127.0.0.1 expiring on `not_after`: (chain PEM, key PEM).
    fn leaf(&self, not_after: (i32, u8, u8)) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("leaf params");
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        (cert.pem(), key.serialize_pem())
    }
}

fn write_pair(files: &TlsFiles, (cert, key): &(String, String)) {
    fs::write(&files.cert_file, cert).expect("write the certificate");
    fs::write(&files.key_file, key).expect("write the key");
}

fn files_in(dir: &Path) -> TlsFiles {
    TlsFiles {
        cert_file: dir.join("cert.pem"),
        key_file: dir.join("key.pem"),
    }
}

fn metrics() -> TlsMetrics {
    TlsMetrics {
        not_after_s: Gauge::detached(raw::Gauge::default()),
        reloads: Counter::detached(raw::Counter::default()),
        reload_failures: Counter::detached(raw::Counter::default()),
        handshake_failures: Counter::detached(raw::Counter::default()),
    }
}

/// Serves a page that echoes the client's address over TLS from `store`,
/// on a free port of 127.0.0.1.
async fn serve(store: Arc<CertStore>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::serve::ListenerExt as _;
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "https://127.0.0.1:{}",
        tcp.local_addr().expect("address").port()
    );
    let config = server_config(store).expect("server config");
    let listener = TlsListener::new(tcp, config, metrics())
        .expect("listener")
        .tap_io(|_| ());
    let app = axum::Router::new()
        .route(
            "/health",
            // The client's address reaches handlers, for the rate limits.
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                axum::Json(serde_json::json!({ "status": format!("ok from {}", peer.ip()) }))
            }),
        )
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, server)
}

async fn trusted_by(url: &str, ca: &TestCa) -> bool {
    let client = Client::with_ca_pem(url, &ca.pem()).expect("client");
    client.health().await.is_ok()
}

#[tokio::test]
async fn serves_tls_and_reloads_a_renewed_certificate_without_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files_in(dir.path());
    let (first_ca, second_ca) = (TestCa::new("first CA"), TestCa::new("second CA"));
    write_pair(&files, &first_ca.leaf((2031, 6, 30)));
    let store = Arc::new(CertStore::open(files.clone()).expect("a good pair loads"));
    let first = store.current();
    assert_eq!(
        first.expiry.as_ref().map(|e| e.not_after_text.as_str()),
        Some("2031-06-30T00:00:00Z")
    );
    assert_eq!(first.chain_len, 1);
    let (url, server) = serve(store.clone()).await;

    assert!(
        trusted_by(&url, &first_ca).await,
        "the first CA's leaf is served"
    );
    assert!(
        !trusted_by(&url, &second_ca).await,
        "another CA's client refuses it"
    );
    let http = Client::new(&url.replace("https", "http")).expect("client");
    assert!(http.health().await.is_err(), "plain http gets no answer");

    assert!(store.reload().expect("unchanged files load").is_none());
    write_pair(&files, &second_ca.leaf((2032, 1, 31)));
    let renewed = store
        .reload()
        .expect("the renewed pair loads")
        .expect("changed");
    assert_ne!(renewed.fingerprint, first.fingerprint);
    assert!(
        trusted_by(&url, &second_ca).await,
        "the renewed leaf is served"
    );
    assert!(!trusted_by(&url, &first_ca).await, "the old one is not");

    // A renewal gone wrong keeps the last good pair in service.
    fs::write(&files.cert_file, "-----BEGIN CERTIFICATE-----\nbroken").expect("write");
    assert!(matches!(
        store.reload(),
        Err(TlsError::BadCertificate { .. })
    ));
    assert_eq!(store.current().fingerprint, renewed.fingerprint);
    assert!(
        trusted_by(&url, &second_ca).await,
        "still served after a bad renewal"
    );
    server.abort();
}

#[tokio::test]
async fn a_silent_connection_does_not_hold_up_the_handshakes_of_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files_in(dir.path());
    let ca = TestCa::new("CA");
    write_pair(&files, &ca.leaf((2031, 6, 30)));
    let store = Arc::new(CertStore::open(files).expect("loads"));
    let (url, server) = serve(store).await;
    let address = url.trim_start_matches("https://");
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(address).await.expect("connect"));
    }
    let client = Client::with_ca_pem(&url, &ca.pem()).expect("client");
    let health = tokio::time::timeout(Duration::from_secs(20), client.health())
        .await
        .expect("answered while eight connections say nothing")
        .expect("healthy");
    assert_eq!(health.status, "ok from 127.0.0.1");
    drop(silent);
    server.abort();
}

#[tokio::test]
async fn the_watcher_picks_up_changed_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files_in(dir.path());
    let (first_ca, second_ca) = (TestCa::new("first CA"), TestCa::new("second CA"));
    write_pair(&files, &first_ca.leaf((2031, 6, 30)));
    let store = Arc::new(CertStore::open(files.clone()).expect("loads"));
    let metrics = metrics();
    let watcher = tokio::spawn(watch(
        store.clone(),
        Duration::from_millis(20),
        metrics.clone(),
        None,
    ));
    write_pair(&files, &second_ca.leaf((2032, 1, 31)));
    let deadline = Instant::now() + Duration::from_secs(20);
    while metrics.reloads.get() == 0 {
        assert!(Instant::now() < deadline, "no reload within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metrics.reload_failures.get(), 0);
    assert_eq!(
        store
            .current()
            .expiry
            .as_ref()
            .map(|e| e.not_after_text.clone()),
        Some("2032-01-31T00:00:00Z".to_owned())
    );
    // `date -u -d 2032-01-31 +%s`
    assert_eq!(metrics.not_after_s.get(), 1_959_120_000);
    watcher.abort();
}

#[test]
fn pairs_that_cannot_work_are_refused_with_the_file_and_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files_in(dir.path());
    let ca = TestCa::new("CA");
    let (cert, key) = ca.leaf((2031, 6, 30));
    let (_, other_key) = ca.leaf((2031, 6, 30));

    let error = load(&files).expect_err("no files");
    assert!(
        error
            .to_string()
            .starts_with("cannot read `api.tls.cert_file`"),
        "{error}"
    );
    write_pair(&files, &(cert.clone(), other_key));
    let error = load(&files).expect_err("a key of another certificate");
    assert!(matches!(error, TlsError::Mismatch { .. }), "{error}");
    write_pair(&files, &(String::from("no PEM here"), key.clone()));
    let error = load(&files).expect_err("no certificate");
    assert!(
        error
            .to_string()
            .contains("holds no `-----BEGIN CERTIFICATE-----`"),
        "{error}"
    );
    write_pair(&files, &(cert.clone(), cert.clone()));
    let error = load(&files).expect_err("a certificate as the key");
    assert!(matches!(error, TlsError::BadKey { .. }), "{error}");
    let huge = "A".repeat(PEM_FILE_BYTES_MAX as usize + 1);
    write_pair(&files, &(huge, key.clone()));
    let error = load(&files).expect_err("too large");
    assert!(
        matches!(
            error,
            TlsError::TooLarge {
                key: "cert_file",
                ..
            }
        ),
        "{error}"
    );
    write_pair(&files, &(cert, key));
    let loaded = load(&files).expect("a good pair");
    assert_eq!(loaded.fingerprint.len(), 64);
    assert_eq!(loaded.days_left(1_940_000_000), Some(6));
}
