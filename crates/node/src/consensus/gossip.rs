//! Transaction gossip: a transaction a client submits to any node reaches
//! every validator's mempool, so whoever leads the next view can propose it.
//!
//! One message is one admitted batch, encoded as [`BlockTxs`] (the same
//! bounded list a block carries). A node gossips only what its own clients
//! submitted, so each transaction crosses each link once; a peer that is
//! rate-limited or offline misses it, which costs latency, never liveness:
//! the submitting node keeps the transaction and proposes it when it leads.

use super::app::now_ms;
use crate::admission::Admission;
use cityledger_types::SignedTx;
use cityledger_types::block::BlockTxs;
use cityledger_types::encoding::{decode_exact, encode};
use cityledger_types::limits::{TX_BYTES_MAX, TX_PER_BLOCK_MAX};
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::Clock;
use futures::StreamExt;
use futures::channel::mpsc;
use std::sync::Arc;
use tracing::debug;

/// Most transactions in one gossip message: any such message fits in
/// [`GOSSIP_MESSAGE_BYTES_MAX`], so a batch never needs splitting by size.
const GOSSIP_MESSAGE_TX_MAX: usize = 512;
/// Largest gossip message, in bytes (the list's length prefix included).
pub const GOSSIP_MESSAGE_BYTES_MAX: usize = GOSSIP_MESSAGE_TX_MAX * TX_BYTES_MAX + 4;

const _: () = assert!(GOSSIP_MESSAGE_TX_MAX <= TX_PER_BLOCK_MAX);

/// Sends admitted batches to every peer until the outbox closes.
pub async fn send_loop<S: Sender>(
    mut sender: S,
    mut outbox: mpsc::Receiver<Vec<Arc<SignedTx>>>,
    admission: Admission,
) {
    while let Some(first) = outbox.next().await {
        let mut batch = first;
        // Coalesce what queued up meanwhile, so that a burst of small
        // batches costs few messages.
        while batch.len() < GOSSIP_MESSAGE_TX_MAX {
            match outbox.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        for chunk in batch.chunks(GOSSIP_MESSAGE_TX_MAX) {
            let message = encode(&BlockTxs(
                chunk.iter().map(|tx| tx.as_ref().clone()).collect(),
            ));
            debug_assert!(message.len() <= GOSSIP_MESSAGE_BYTES_MAX);
            let metrics = admission.metrics();
            if sender.send(Recipients::All, message, false).is_empty() {
                metrics.gossip_dropped_txs.inc_by(chunk.len() as u64);
            } else {
                metrics.gossip_sent_txs.inc_by(chunk.len() as u64);
            }
        }
    }
}

/// Feeds batches from peers to admission until the network stops.
pub async fn receive_loop<R: Receiver, E: Clock>(clock: E, mut receiver: R, admission: Admission) {
    while let Ok((peer, message)) = receiver.recv().await {
        let txs: BlockTxs = match decode_exact(message.as_ref(), "gossip", GOSSIP_MESSAGE_BYTES_MAX)
        {
            Ok(txs) => txs,
            Err(error) => {
                // Authenticated peers only; a bad message is a bug or an
                // attack, and either way it carries nothing we can use.
                debug!(?peer, %error, "undecodable gossip message");
                continue;
            }
        };
        let now_ms = now_ms(&clock);
        admission
            .metrics()
            .gossip_received_txs
            .inc_by(txs.0.len() as u64);
        admission.submit_from_peer(txs.0, now_ms);
    }
}
