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
use tracing::warn;

/// Most transactions in one gossip message.
const GOSSIP_MESSAGE_TX_MAX: usize = 512;
/// Largest gossip message, in bytes (the list's length prefix included).
/// Ordinary transactions are a few hundred bytes, so a message is bounded
/// by its count; a few bulk issuances (up to `TX_BYTES_MAX` each) are
/// bounded by bytes, and split over several messages.
pub const GOSSIP_MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Bytes of the list's length prefix (borsh: u32, little-endian).
const LIST_PREFIX_BYTES: usize = 4;

const _: () = assert!(GOSSIP_MESSAGE_TX_MAX <= TX_PER_BLOCK_MAX);
const _: () = assert!(TX_BYTES_MAX + LIST_PREFIX_BYTES <= GOSSIP_MESSAGE_BYTES_MAX);

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
        for (message, count) in messages(&batch) {
            let metrics = admission.metrics();
            if sender.send(Recipients::All, message, false).is_empty() {
                metrics.gossip_dropped_txs.inc_by(count as u64);
            } else {
                metrics.gossip_sent_txs.inc_by(count as u64);
            }
        }
    }
}

/// Splits `batch` into messages of at most [`GOSSIP_MESSAGE_TX_MAX`]
/// transactions and [`GOSSIP_MESSAGE_BYTES_MAX`] bytes, each the encoding of
/// a `BlockTxs`; returns each with its transaction count. Each transaction
/// is encoded once, straight into its message.
fn messages(batch: &[Arc<SignedTx>]) -> Vec<(Vec<u8>, usize)> {
    let mut messages = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    let mut count = 0usize;
    let flush = |body: &mut Vec<u8>, count: &mut usize, messages: &mut Vec<(Vec<u8>, usize)>| {
        if *count == 0 {
            return;
        }
        let mut message = Vec::with_capacity(LIST_PREFIX_BYTES + body.len());
        // Bounded by GOSSIP_MESSAGE_TX_MAX.
        message.extend_from_slice(&(*count as u32).to_le_bytes());
        message.append(body);
        messages.push((message, *count));
        *count = 0;
    };
    for tx in batch {
        let bytes = encode(tx.as_ref());
        let full = count == GOSSIP_MESSAGE_TX_MAX
            || LIST_PREFIX_BYTES + body.len() + bytes.len() > GOSSIP_MESSAGE_BYTES_MAX;
        if full {
            flush(&mut body, &mut count, &mut messages);
        }
        body.extend_from_slice(&bytes);
        count += 1;
    }
    flush(&mut body, &mut count, &mut messages);
    messages
}

/// Feeds batches from peers to admission until the network stops.
pub async fn receive_loop<R: Receiver, E: Clock>(clock: E, mut receiver: R, admission: Admission) {
    while let Ok((peer, message)) = receiver.recv().await {
        let txs: BlockTxs = match decode_exact(message.as_ref(), "gossip", GOSSIP_MESSAGE_BYTES_MAX)
        {
            Ok(txs) => txs,
            Err(error) => {
                // Authenticated peers only; a bad message is a bug, an
                // attack or a peer on an incompatible build (a half-done
                // upgrade), and it carries nothing we can use. A warning:
                // the network works on, but that peer's operator must look.
                // The channel's quota bounds how many lines a peer can cause.
                warn!(?peer, %error, "undecodable gossip message");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::bulk_issuance;
    use cityledger_types::tx::{ChainId, ClientTxId, Memo, TransferOrder, TxBody};
    use cityledger_types::{Address, Amount, CurrencyCode, SecretKey};

    fn tx(index: usize, memo_bytes: usize) -> Arc<SignedTx> {
        let key = SecretKey::from_seed([5; 32]);
        let mut order = TransferOrder::new(
            Address::of_key(&key.public_key()),
            Address::of_key(&SecretKey::from_seed([6; 32]).public_key()),
            CurrencyCode::new("CITY").unwrap(),
            Amount(1),
        );
        order.memo = Memo::new("m".repeat(memo_bytes)).unwrap();
        let body = TxBody::transfer(
            ChainId::new("test").unwrap(),
            key.public_key(),
            ClientTxId::new(format!("t{index}")).unwrap(),
            0,
            order,
        );
        Arc::new(body.sign(&key))
    }

    #[test]
    fn messages_are_bounded_by_count_and_decode_to_the_batch_in_order() {
        let batch: Vec<_> = (0..GOSSIP_MESSAGE_TX_MAX * 2 + 3)
            .map(|i| tx(i, 10))
            .collect();
        let messages = messages(&batch);
        assert_eq!(
            messages.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [GOSSIP_MESSAGE_TX_MAX, GOSSIP_MESSAGE_TX_MAX, 3]
        );
        let mut decoded = Vec::new();
        for (message, count) in &messages {
            assert!(message.len() <= GOSSIP_MESSAGE_BYTES_MAX);
            let txs: BlockTxs = decode_exact(message, "gossip", GOSSIP_MESSAGE_BYTES_MAX).unwrap();
            assert_eq!(txs.0.len(), *count);
            decoded.extend(txs.0);
        }
        let expected: Vec<SignedTx> = batch.iter().map(|tx| tx.as_ref().clone()).collect();
        assert_eq!(decoded, expected);
        assert!(super::messages(&[]).is_empty());
    }

    #[test]
    fn bulk_issuances_split_by_bytes() {
        let batch: Vec<_> = (0..12).map(|i| bulk_issuance(i, 9_000)).collect();
        let one = encode(batch[0].as_ref()).len();
        assert!(one > 300_000, "a bulk issuance is large: {one} bytes");
        let messages = messages(&batch);
        assert!(
            messages.len() >= 2,
            "twelve bulk issuances need several messages"
        );
        let mut total = 0;
        for (message, count) in &messages {
            assert!(message.len() <= GOSSIP_MESSAGE_BYTES_MAX);
            let txs: BlockTxs = decode_exact(message, "gossip", GOSSIP_MESSAGE_BYTES_MAX).unwrap();
            assert_eq!(txs.0.len(), *count);
            total += count;
        }
        assert_eq!(total, batch.len());
    }
}
