//! Admission: the checks a transaction passes before it enters the mempool.
//!
//! Cheap checks (chain id, expiry, duplicate id) run on the caller's task.
//! Signatures are then checked by one worker in batches of up to
//! [`ADMISSION_BATCH_MAX`]: under load, batch verification costs about a
//! third of one-by-one verification, and a single submission still gets an
//! answer as soon as the worker is free.
//!
//! Transactions come from two places: clients of this node's API, who wait
//! for an answer, and peers, who gossip what their clients submitted and
//! wait for nothing. Only client submissions are gossiped on, so a
//! transaction crosses each link once.

use crate::core::NodeCore;
use crate::limits::{
    ADMISSION_BATCH_MAX, ADMISSION_KEY_CACHE_MAX, ADMISSION_QUEUE_MAX, MEMPOOL_RETRY_AFTER_S,
};
use crate::mempool::MempoolError;
use cityledger_types::crypto::{KeyCache, SignedMessage, verify_batch_cached};
use cityledger_types::limits::{TX_BYTES_MAX, TX_EXPIRY_HORIZON_MS_MAX};
use cityledger_types::records::{StateKey, TxIdRecord};
use cityledger_types::{Digest, SignedTx};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// Signed for another chain.
    #[error("transaction is for chain {found}, this node runs {expected}")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The transaction's.
        found: String,
    },
    /// Already expired.
    #[error("transaction expired at {expires_at_ms}; it is now {now_ms}")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// Node time.
        now_ms: u64,
    },
    /// Expiry too far ahead.
    #[error("expires_at_ms is more than {horizon_ms} ms ahead")]
    ExpiryTooFar {
        /// The horizon.
        horizon_ms: u64,
    },
    /// The signature does not verify.
    #[error("signature does not verify for signer {signer}")]
    BadSignature {
        /// Claimed signer, hex.
        signer: String,
    },
    /// The id was already used: by a finalized or by a waiting transaction.
    #[error("id already used by transaction {first_tx}")]
    DuplicateId {
        /// The transaction that used it first.
        first_tx: Digest,
    },
    /// The mempool is full.
    #[error("the mempool is full; retry in {retry_after_s} s")]
    Full {
        /// When to retry.
        retry_after_s: u64,
    },
    /// The node is shutting down.
    #[error("the node is shutting down")]
    Closed,
}

struct Submission {
    tx: Arc<SignedTx>,
    hash: Digest,
    bytes: usize,
    /// The waiting client; `None` for a transaction gossiped by a peer.
    reply: Option<oneshot::Sender<Result<Digest, AdmitError>>>,
}

/// Where admitted client transactions go to be gossiped, one admitted batch
/// per message.
pub type GossipOutbox = mpsc::Sender<Vec<Arc<SignedTx>>>;

/// Submits transactions to the admission worker.
#[derive(Clone)]
pub struct Admission {
    core: Arc<NodeCore>,
    queue: mpsc::Sender<Submission>,
}

/// The worker's end of the queue.
pub struct AdmissionWorker {
    core: Arc<NodeCore>,
    queue: mpsc::Receiver<Submission>,
    gossip: Option<GossipOutbox>,
    keys: KeyCache,
}

/// Creates the submitting handle and the worker. Client transactions the
/// worker admits are sent to `gossip`, when there are peers to tell.
pub fn admission(
    core: Arc<NodeCore>,
    gossip: Option<GossipOutbox>,
) -> (Admission, AdmissionWorker) {
    let (sender, receiver) = mpsc::channel(ADMISSION_QUEUE_MAX);
    (
        Admission {
            core: core.clone(),
            queue: sender,
        },
        AdmissionWorker {
            core,
            queue: receiver,
            gossip,
            keys: KeyCache::new(ADMISSION_KEY_CACHE_MAX),
        },
    )
}

impl Admission {
    /// Admits `tx` (its encoded size is `bytes`) at node time `now_ms`.
    pub async fn submit(
        &self,
        tx: SignedTx,
        bytes: usize,
        now_ms: u64,
    ) -> Result<Digest, AdmitError> {
        let hash = tx.hash();
        if let Err(error) = self.precheck(&tx, now_ms) {
            self.core.metrics.refused_txs.inc();
            return Err(error);
        }
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            tx: Arc::new(tx),
            hash,
            bytes,
            reply: Some(reply),
        };
        let mut queue = self.queue.clone();
        if let Err(error) = queue.try_send(submission) {
            if error.is_full() {
                return Err(AdmitError::Full {
                    retry_after_s: MEMPOOL_RETRY_AFTER_S,
                });
            }
            return Err(AdmitError::Closed);
        }
        let _ = queue.flush().await;
        answer.await.unwrap_or(Err(AdmitError::Closed))
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &crate::metrics::NodeMetrics {
        &self.core.metrics
    }

    /// Queues transactions gossiped by a peer, without waiting for them.
    /// Those that fail the cheap checks, or find the queue full, are dropped:
    /// the peer's own node still holds them and proposes them when it leads.
    pub fn submit_from_peer(&self, txs: Vec<SignedTx>, now_ms: u64) {
        let mut queue = self.queue.clone();
        for tx in txs {
            let bytes = borsh::object_length(&tx).unwrap_or(usize::MAX);
            if bytes > TX_BYTES_MAX || self.precheck(&tx, now_ms).is_err() {
                self.core.metrics.gossip_dropped_txs.inc();
                continue;
            }
            let submission = Submission {
                hash: tx.hash(),
                tx: Arc::new(tx),
                bytes,
                reply: None,
            };
            if queue.try_send(submission).is_err() {
                self.core.metrics.gossip_dropped_txs.inc();
            }
        }
    }

    /// Checks everything but the signature.
    pub fn precheck(&self, tx: &SignedTx, now_ms: u64) -> Result<(), AdmitError> {
        let body = &tx.body;
        let genesis = self.core.chain.genesis();
        if body.chain_id != genesis.chain_id {
            return Err(AdmitError::WrongChain {
                expected: genesis.chain_id.to_string(),
                found: body.chain_id.to_string(),
            });
        }
        if body.expires_at_ms < now_ms {
            return Err(AdmitError::Expired {
                expires_at_ms: body.expires_at_ms,
                now_ms,
            });
        }
        if body.expires_at_ms - now_ms > TX_EXPIRY_HORIZON_MS_MAX {
            return Err(AdmitError::ExpiryTooFar {
                horizon_ms: TX_EXPIRY_HORIZON_MS_MAX,
            });
        }
        let id_key = StateKey::TxId(body.signer, body.id.clone()).to_bytes();
        if let Some(bytes) = self.core.chain.finalized().state.get(&id_key) {
            let first: TxIdRecord = borsh::from_slice(bytes).expect("stored tx id records decode");
            return Err(AdmitError::DuplicateId {
                first_tx: first.tx_hash,
            });
        }
        if let Some(first_tx) = self.core.mempool().pending_id(&body.signer, &body.id) {
            return Err(AdmitError::DuplicateId { first_tx });
        }
        Ok(())
    }
}

impl AdmissionWorker {
    /// Runs until every [`Admission`] handle is dropped.
    pub async fn run(mut self) {
        while let Some(first) = self.queue.next().await {
            let mut batch = vec![first];
            while batch.len() < ADMISSION_BATCH_MAX {
                match self.queue.try_recv() {
                    Ok(submission) => batch.push(submission),
                    _ => break,
                }
            }
            self.admit_batch(batch);
        }
    }

    fn admit_batch(&mut self, batch: Vec<Submission>) {
        let payloads: Vec<Vec<u8>> = batch.iter().map(|s| s.tx.body.signing_payload()).collect();
        let items: Vec<SignedMessage<'_>> = batch
            .iter()
            .zip(&payloads)
            .map(|(s, payload)| SignedMessage {
                signer: &s.tx.body.signer,
                message: payload,
                signature: &s.tx.signature,
            })
            .collect();
        let verdicts = verify_batch_cached(&items, &mut self.keys);
        let mut mempool = self.core.mempool();
        let mut to_gossip = Vec::new();
        for (submission, valid) in batch.into_iter().zip(verdicts) {
            let result = if !valid {
                Err(AdmitError::BadSignature {
                    signer: submission.tx.body.signer.to_hex(),
                })
            } else {
                mempool
                    .insert(submission.tx.clone(), submission.hash, submission.bytes)
                    .map(|()| submission.hash)
                    .map_err(|error| match error {
                        MempoolError::Full { .. } => AdmitError::Full {
                            retry_after_s: MEMPOOL_RETRY_AFTER_S,
                        },
                        MempoolError::DuplicateId { hash } => {
                            AdmitError::DuplicateId { first_tx: hash }
                        }
                    })
            };
            // A peer's copy of a transaction this node already holds is
            // normal gossip traffic, not a refusal of anyone's submission.
            let from_client = submission.reply.is_some();
            let counter = match (&result, from_client) {
                (Ok(_), _) => &self.core.metrics.admitted_txs,
                (Err(_), true) => &self.core.metrics.refused_txs,
                (Err(_), false) => &self.core.metrics.gossip_dropped_txs,
            };
            counter.inc();
            if let Some(reply) = submission.reply {
                if result.is_ok() {
                    to_gossip.push(submission.tx);
                }
                let _ = reply.send(result);
            }
        }
        self.core.metrics.mempool_size.set(mempool.len() as i64);
        drop(mempool);
        self.gossip(to_gossip);
    }

    fn gossip(&mut self, txs: Vec<Arc<SignedTx>>) {
        let Some(outbox) = self.gossip.as_mut() else {
            return;
        };
        if txs.is_empty() {
            return;
        }
        let count = txs.len() as u64;
        // A full outbox means the links are saturated; the transactions stay
        // in this node's mempool and are proposed when this node leads.
        if outbox.try_send(txs).is_err() {
            self.core.metrics.gossip_dropped_txs.inc_by(count);
        }
    }
}
