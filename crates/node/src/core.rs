//! The node's shared core: chain, mempool, and the finalized-height signal.
//! The consensus adapter, the admission worker and the REST API all work
//! through it; none of them touches another directly.

use crate::chain::{Chain, ExecutedBlock, Verdict};
use crate::mempool::{Mempool, MempoolLimits};
use crate::metrics::NodeMetrics;
use crate::network::NetworkView;
use crate::replication::Notice;
use cityledger_state::Event;
use cityledger_storage::BlobStore;
use cityledger_types::PublicKey;
use cityledger_types::crypto::{SignedMessage, verify_batch};
use cityledger_types::record::Record;
use cityledger_types::records::StateKey;
use cityledger_types::{Block, SignedTx};
use futures::channel::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Shared state of one node.
pub struct NodeCore {
    /// The chain.
    pub chain: Chain,
    mempool: Mutex<Mempool>,
    finalized_height: watch::Sender<u64>,
    /// Metrics.
    pub metrics: NodeMetrics,
    /// This node's name, for status.
    pub name: String,
    network: Mutex<NetworkView>,
    /// Records' sealed blobs and wrapped keys (ADR 0007).
    pub blobs: Arc<dyn BlobStore>,
    /// Where notices for blob replication go, once a replicator listens.
    replication: Mutex<Option<mpsc::Sender<Notice>>>,
}

/// Replication notices queued for the replicator; records are rare next
/// to transfers, so a full queue means the replicator is stuck.
const REPLICATION_NOTICES_MAX: usize = 4_096;

/// Most records the start-up sweep of erased records looks at; a node
/// holding more sweeps the rest as their erasures are committed.
const ERASURE_SWEEP_RECORDS_MAX: usize = 1_000_000;

impl NodeCore {
    /// Wraps an opened chain, for the node whose consensus key is `me`.
    pub fn new(
        chain: Chain,
        metrics: NodeMetrics,
        name: String,
        me: PublicKey,
        blobs: Arc<dyn BlobStore>,
        mempool: MempoolLimits,
    ) -> Arc<NodeCore> {
        let tip = chain.finalized().block.header.clone();
        metrics.height.set(tip.height.0 as i64);
        let (finalized_height, _) = watch::channel(tip.height.0);
        let validators: Vec<PublicKey> = chain.genesis().validators.iter().map(|v| v.key).collect();
        let mut network = NetworkView::new(me, &validators);
        network.on_commit(tip.round.view);
        let core = Arc::new(NodeCore {
            chain,
            mempool: Mutex::new(Mempool::new(mempool)),
            finalized_height,
            metrics,
            name,
            network: Mutex::new(network),
            blobs,
            replication: Mutex::new(None),
        });
        core.sweep_erased();
        core
    }

    /// Destroys what this node still holds of records erased in the
    /// finalized state: a crash between a block's commit and its erasures
    /// leaves files behind, and the next start removes them.
    fn sweep_erased(&self) {
        let records = match self.blobs.records(ERASURE_SWEEP_RECORDS_MAX) {
            Ok(records) => records,
            Err(error) => {
                tracing::error!(%error, "cannot list the blob store for erased records");
                return;
            }
        };
        let tip = self.chain.finalized();
        for id in records {
            let key = StateKey::Record(id).to_bytes();
            let erased = tip.state.get(&key).is_some_and(|bytes| {
                borsh::from_slice::<Record>(bytes).is_ok_and(|record| record.erasure.is_some())
            });
            if erased {
                self.erase_blob(&id);
            }
        }
    }

    fn erase_blob(&self, record: &cityledger_types::Digest) {
        // Erasure is a legal duty: a failure is logged loudly, and the
        // start-up sweep tries again.
        if let Err(error) = self.blobs.erase(record) {
            tracing::error!(%record, %error, "cannot erase a record's blob and keys");
        }
    }

    /// The notices of what calls for blob replication: anchorings and
    /// grants as they are finalized, key uploads as they are accepted.
    /// One listener at a time; a new one replaces the last.
    pub fn replication_notices(&self) -> mpsc::Receiver<Notice> {
        let (sender, receiver) = mpsc::channel(REPLICATION_NOTICES_MAX);
        *self.replication.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
        receiver
    }

    /// Tells the replicator, if one listens.
    pub fn notify_replication(&self, notice: Notice) {
        let mut replication = self.replication.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = replication.as_mut()
            && sender.try_send(notice).is_err()
        {
            self.metrics.replication_notices_dropped.inc();
            tracing::warn!(
                "the blob replicator lags; a record will be served from the author's node only"
            );
        }
    }

    /// What this node sees of the network, locked.
    pub fn network(&self) -> MutexGuard<'_, NetworkView> {
        self.network.lock().expect("network view lock poisoned")
    }

    /// The mempool, locked.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().expect("mempool lock poisoned")
    }

    /// A receiver that sees every new finalized height.
    pub fn watch_finalized(&self) -> watch::Receiver<u64> {
        self.finalized_height.subscribe()
    }

    /// Checks the signatures of a block's transactions in one batch,
    /// skipping those admitted to the local mempool (already checked).
    pub fn signatures_valid(&self, block: &Block) -> Result<(), String> {
        let unchecked: Vec<(&SignedTx, Vec<u8>)> = {
            let mempool = self.mempool();
            block
                .txs
                .0
                .iter()
                .filter(|tx| !mempool.contains(&tx.hash()))
                .map(|tx| (tx, tx.body.signing_payload()))
                .collect()
        };
        let items: Vec<SignedMessage<'_>> = unchecked
            .iter()
            .map(|(tx, payload)| SignedMessage {
                signer: &tx.body.signer,
                message: payload,
                signature: &tx.signature,
            })
            .collect();
        match verify_batch(&items).iter().position(|ok| !ok) {
            None => Ok(()),
            Some(index) => Err(format!(
                "transaction {} has a bad signature",
                unchecked[index].0.hash()
            )),
        }
    }

    /// Verifies a proposed block: signatures, then re-execution.
    pub fn verify_block(&self, block: Arc<Block>) -> Verdict {
        if self.chain.executed(&block.id()).is_some() {
            return Verdict::Valid;
        }
        if let Err(reason) = self.signatures_valid(&block) {
            return Verdict::Invalid(reason);
        }
        self.chain.verify(block)
    }

    /// Records a newly finalized block: mempool, metrics, subscribers.
    pub fn finalized(&self, executed: &ExecutedBlock, now_ms: u64) {
        let block = &executed.block;
        let mempool_len = {
            let mut mempool = self.mempool();
            mempool.remove_included(executed.tx_hashes.iter());
            mempool.drop_expired(block.header.timestamp_ms);
            mempool.len()
        };
        for (_, event) in executed.events.iter() {
            match event {
                Event::RecordErased { record, .. } => self.erase_blob(record),
                Event::RecordAnchored { record, .. } => {
                    self.notify_replication(Notice::Anchored(*record));
                }
                Event::GrantCreated { grant, .. } => {
                    self.notify_replication(Notice::Granted(*grant));
                }
                _ => {}
            }
        }
        self.metrics.on_finalized(block, now_ms, mempool_len);
        self.network().on_commit(block.header.round.view);
        self.finalized_height.send_replace(block.header.height.0);
    }
}
