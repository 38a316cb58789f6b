//! Running a node: open the store and the chain, start consensus, admission
//! and the REST API on the production runtime, and stop cleanly on signal.
//!
//! This is start-up glue; it is the one place that picks the tokio runtime.

use crate::admission::admission;
use crate::chain::{Chain, ChainError};
use crate::config::NodeConfig;
use crate::consensus::engine::{self, EngineConfig};
use crate::consensus::{engine_private_key, to_engine_public_key};
use crate::core::NodeCore;
use crate::limits::GOSSIP_BATCHES_QUEUED_MAX;
use crate::metrics::NodeMetrics;
use cityledger_storage::FjallStore;
use cityledger_types::Height;
use cityledger_types::genesis::Genesis;
use commonware_runtime::{Handle, Runner as _, Spawner as _, Supervisor as _, tokio};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info};

/// The store's directory in the data directory.
pub const STORE_DIR: &str = "store";
/// The blob store's directory in the data directory.
pub const BLOBS_DIR: &str = "blobs";
/// The consensus journals' and archives' directory in the data directory.
pub const CONSENSUS_DIR: &str = "consensus";

/// Everything needed to run a node, already loaded and validated.
pub struct NodeSettings {
    /// The configuration file's content.
    pub config: NodeConfig,
    /// The genesis document.
    pub genesis: Genesis,
    /// The node's 32-byte key seed.
    pub node_key_seed: [u8; 32],
    /// Where the node keeps its data.
    pub data_dir: PathBuf,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store could not be opened.
    #[error("cannot open the store in {path}: {source}")]
    Store {
        /// Its directory.
        path: PathBuf,
        /// Why.
        source: cityledger_storage::StoreError,
    },
    /// The blob store could not be opened.
    #[error("cannot open the blob store in {path}: {source}")]
    Blobs {
        /// Its directory.
        path: PathBuf,
        /// Why.
        source: cityledger_storage::BlobError,
    },
    /// The chain could not be opened.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The key or validator set is unusable.
    #[error("{0}")]
    Keys(String),
    /// The API address could not be bound.
    #[error("cannot listen for the API on {address}: {source}")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The API's TLS certificate or key does not load.
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

fn engine_config(settings: &NodeSettings) -> Result<EngineConfig, NodeError> {
    let signer = engine_private_key(&settings.node_key_seed)
        .ok_or_else(|| NodeError::Keys("the node key is not a valid ed25519 seed".into()))?;
    let mut validators = Vec::new();
    for validator in &settings.config.validators {
        let key = to_engine_public_key(&validator.key).ok_or_else(|| {
            NodeError::Keys(format!("validator {} has an invalid key", validator.name))
        })?;
        validators.push((key, validator.p2p));
    }
    Ok(EngineConfig {
        signer,
        validators,
        p2p_listen: settings.config.p2p_listen,
        leader_timeout: Duration::from_millis(settings.config.leader_timeout_ms),
        resume_from_tip: false,
    })
}

/// Runs the node until SIGINT or SIGTERM.
pub fn run(settings: NodeSettings) -> Result<(), NodeError> {
    let mut engine_config = engine_config(&settings)?;
    // Before the store is opened, so that a bad certificate stops the start
    // with its reason and nothing half-running.
    let tls = crate::tls::TlsFiles::of(&settings.config.api.tls)
        .map(crate::tls::CertStore::open)
        .transpose()?
        .map(Arc::new);
    if let Some(store) = &tls {
        crate::tls::log_in_service(&store.current(), "API TLS certificate loaded");
    }
    let me = cityledger_types::SecretKey::from_seed(settings.node_key_seed).public_key();
    let store_path = settings.data_dir.join(STORE_DIR);
    let store = FjallStore::open(&store_path).map_err(|source| NodeError::Store {
        path: store_path.clone(),
        source,
    })?;
    let chain = Chain::open(Arc::new(store), settings.genesis.clone())?;
    let blobs_path = settings.data_dir.join(BLOBS_DIR);
    let blobs: Arc<dyn cityledger_storage::BlobStore> = Arc::new(
        cityledger_storage::DirBlobStore::open(&blobs_path).map_err(|source| NodeError::Blobs {
            path: blobs_path.clone(),
            source,
        })?,
    );
    // A store with blocks but no consensus journals is a restored node
    // (ADR 0010). With peers it learns the current view from them; a lone
    // validator has none, so its consensus starts from the tip's
    // certificate instead of waiting for a peer that never comes.
    let consensus_dir = settings.data_dir.join(CONSENSUS_DIR);
    engine_config.resume_from_tip = settings.config.validators.len() == 1
        && !consensus_dir.exists()
        && chain.finalized().block.header.height > Height(0);
    let listener = std::net::TcpListener::bind(settings.config.api_listen).map_err(|source| {
        NodeError::Listen {
            address: settings.config.api_listen,
            source,
        }
    })?;
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let runtime_config = tokio::Config::new()
        .with_worker_threads(workers)
        .with_storage_directory(consensus_dir)
        .with_catch_panics(false);
    let runner = tokio::Runner::new(runtime_config);
    runner.start(|context| async move {
        let metrics = NodeMetrics::register(&context.child("cityledger"));
        let core = NodeCore::new(
            chain,
            metrics,
            settings.config.name.clone(),
            me,
            blobs,
            settings.config.mempool,
        );
        let admin_socket = settings.data_dir.join(crate::admin::ADMIN_SOCKET);
        if let Err(error) = crate::admin::serve(&admin_socket, core.chain.store().clone(), core.blobs.clone()) {
            // Not fatal: the node runs, and is backed up when stopped.
            error!(%error, path = %admin_socket.display(), "cannot open the admin socket; a backup needs the node stopped");
        }
        let (gossip_outbox, gossip_inbox) = futures::channel::mpsc::channel(GOSSIP_BATCHES_QUEUED_MAX);
        // With no peers there is no one to gossip to; the unused inbox then
        // closes at once.
        let has_peers = settings.config.validators.len() > 1;
        let (admission, worker) = admission(core.clone(), has_peers.then_some(gossip_outbox));
        let mut handles: Vec<Handle<()>> = vec![context.child("admission").dedicated().spawn(move |_| worker.run())];
        handles.extend(engine::start(context.child("consensus"), core.clone(), engine_config, admission.clone(), gossip_inbox).await);
        let api = crate::api_impl::ApiService::new(core.clone(), admission, context.child("api"));
        // Registered with TLS off too (at zero), so that dashboards and alerts
        // are the same for every node. Dropping the last handle unregisters
        // a metric, so one is kept to the end.
        let tls_metrics = crate::tls::TlsMetrics::register(&context.child("cityledger").child("api"));
        // Before the API answers, so that no SIGHUP meets its default action.
        let hangup = crate::tls::listen_for_hangup();
        let tls = match tls {
            Some(store) => Some(crate::tls::ApiTls {
                store,
                metrics: tls_metrics.clone(),
                hangup,
            }),
            None => {
                if let Some(hangup) = hangup {
                    handles.push(context.child("hangup").spawn(|_| crate::tls::ignore_hangup(hangup)));
                }
                None
            }
        };
        handles.push(crate::api_impl::serve(context.child("http"), listener, api, settings.config.api.clone(), tls));
        info!(api = %settings.config.api_listen, height = %core.chain.finalized().block.header.height, "node started");
        wait_for_signal().await;
        info!("stopping");
        let _ = context.stop(0, Some(Duration::from_secs(5))).await;
        drop(handles);
        drop(tls_metrics);
    });
    Ok(())
}

async fn wait_for_signal() {
    use ::tokio::signal::unix::{SignalKind, signal};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        error!("cannot listen for SIGTERM");
        let _ = ::tokio::signal::ctrl_c().await;
        return;
    };
    ::tokio::select! {
        _ = ::tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
