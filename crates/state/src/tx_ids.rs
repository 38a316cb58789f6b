//! Consumed client ids: what makes a transaction at most once, and how the
//! state forgets them once that no longer needs remembering.
//!
//! A transaction is admitted only before its `expires_at_ms`, and block time
//! never goes back. So once block time has passed a transaction's expiry, a
//! replay of it is refused as expired, and its `(signer, id)` record guards
//! nothing. Each block schedules the ids it consumes by the second their
//! transactions expire (`TxIdExpiryCount`, `TxIdExpiryBatch`: one batch per
//! block and second, not one entry per id), and each block forgets the ids
//! of every second wholly before its own time. The state therefore holds
//! the ids of unexpired transactions only: at most the transaction rate
//! times `TX_EXPIRY_HORIZON_MS_MAX`, in practice times the few minutes
//! clients give their transactions.
//!
//! An id forgotten this way may be used again by a new transaction of the
//! same signer: ids are unique among the signer's unexpired transactions.

use crate::view::Layer;
use cityledger_types::limits::TX_IDS_FORGOTTEN_PER_BLOCK_MAX;
use cityledger_types::records::{ChainRecord, StateKey, TxIdExpiryBatch, TxIdRecord};
use cityledger_types::{ClientTxId, Digest, Height, PublicKey, SignedTx};
use std::collections::BTreeMap;

/// Most seconds of block time one block sweeps, so that the first block
/// after a long halt does bounded work; later blocks go on from there.
const SECONDS_PER_BLOCK_MAX: u64 = 86_400;

/// The ids one block consumes, grouped by the second their transactions
/// expire (ordered, so the writes are the same on every validator).
#[derive(Debug, Default)]
pub struct Consumed {
    by_expiry_s: BTreeMap<u64, Vec<(PublicKey, ClientTxId)>>,
}

impl Consumed {
    /// Records that `tx`, included at `height`, used its id.
    pub fn record(&mut self, layer: &mut Layer<'_>, tx: &SignedTx, hash: Digest, height: Height) {
        let body = &tx.body;
        layer.store(
            &StateKey::TxId(body.signer, body.id.clone()),
            &TxIdRecord {
                tx_hash: hash,
                height,
            },
        );
        self.by_expiry_s
            .entry(body.expires_at_ms / 1000)
            .or_default()
            .push((body.signer, body.id.clone()));
    }

    /// Writes one batch per expiry second, after the seconds already swept.
    pub fn schedule(self, layer: &mut Layer<'_>) {
        let chain: ChainRecord = layer.load(&StateKey::Chain).unwrap_or_default();
        for (second, ids) in self.by_expiry_s {
            // Admission refuses a transaction expired before block time, and
            // the sweep stops short of block time's second: a batch behind
            // the sweep would never be forgotten.
            assert!(
                second > chain.tx_ids_swept_until_s,
                "an admitted transaction expires after the swept seconds"
            );
            let count_key = StateKey::TxIdExpiryCount(second);
            let count: u32 = layer.load(&count_key).unwrap_or(0);
            layer.store(
                &StateKey::TxIdExpiryBatch(second, count),
                &TxIdExpiryBatch { ids },
            );
            layer.store(&count_key, &(count + 1));
        }
    }
}

/// Forgets the ids of transactions that expired in the seconds wholly before
/// `timestamp_ms`; returns how many it forgot.
pub fn sweep(layer: &mut Layer<'_>, timestamp_ms: u64) -> usize {
    let mut chain: ChainRecord = layer.load(&StateKey::Chain).unwrap_or_default();
    // Second s holds expiries up to (s + 1) * 1000 - 1 ms, all before any
    // block time in a later second.
    let Some(last) = (timestamp_ms / 1000).checked_sub(1) else {
        return 0;
    };
    let last = last.min(
        chain
            .tx_ids_swept_until_s
            .saturating_add(SECONDS_PER_BLOCK_MAX),
    );
    let mut forgotten = 0usize;
    while chain.tx_ids_swept_until_s < last && forgotten < TX_IDS_FORGOTTEN_PER_BLOCK_MAX {
        let second = chain.tx_ids_swept_until_s + 1;
        forgotten += sweep_second(layer, second);
        chain.tx_ids_swept_until_s = second;
    }
    layer.store(&StateKey::Chain, &chain);
    forgotten
}

fn sweep_second(layer: &mut Layer<'_>, second: u64) -> usize {
    let count_key = StateKey::TxIdExpiryCount(second);
    let Some(count) = layer.load::<u32>(&count_key) else {
        return 0;
    };
    let mut forgotten = 0;
    for index in 0..count {
        let batch_key = StateKey::TxIdExpiryBatch(second, index);
        let batch: TxIdExpiryBatch = layer
            .load(&batch_key)
            .expect("expiry batches are dense up to their count");
        layer.delete(&batch_key);
        for (signer, id) in batch.ids {
            layer.delete(&StateKey::TxId(signer, id));
            forgotten += 1;
        }
    }
    layer.delete(&count_key);
    forgotten
}
