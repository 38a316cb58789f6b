//! The node's own Prometheus metrics, registered with the runtime so that
//! one `/metrics` page carries them next to the consensus engine's.

use cityledger_types::Block;
use commonware_runtime::Metrics;
use commonware_runtime::telemetry::metrics::{Counter, Gauge, Histogram, raw};

/// Buckets of the finality latency histogram, in seconds.
const LATENCY_BUCKETS_S: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0,
];

/// Handles to the node's metrics.
#[derive(Clone)]
pub struct NodeMetrics {
    /// Height of the finalized tip.
    pub height: Gauge,
    /// Finalized transactions, in total; its rate is finalized tx/s.
    pub finalized_txs: Counter,
    /// Finalized blocks, in total.
    pub finalized_blocks: Counter,
    /// Transactions waiting in the mempool.
    pub mempool_size: Gauge,
    /// Time from a block's timestamp to its commit here, in seconds.
    pub block_latency_s: Histogram,
    /// Transactions admitted to the mempool.
    pub admitted_txs: Counter,
    /// Transactions refused at admission.
    pub refused_txs: Counter,
    /// Transactions sent to peers.
    pub gossip_sent_txs: Counter,
    /// Transactions received from peers.
    pub gossip_received_txs: Counter,
    /// Gossiped transactions dropped: refused by the cheap checks, or no
    /// room in a queue.
    pub gossip_dropped_txs: Counter,
    /// Highest consensus view seen.
    pub consensus_view: Gauge,
    /// Validators heard from within the liveness window, this one included.
    pub validators_live: Gauge,
    /// Equivocations (conflicting votes by one validator) detected.
    pub equivocations: Counter,
    /// Records' blobs received from peers and stored.
    pub blobs_replicated: Counter,
    /// Replication notices dropped because the replicator lagged.
    pub replication_notices_dropped: Counter,
}

impl NodeMetrics {
    /// Registers the metrics under `context`.
    pub fn register(context: &impl Metrics) -> NodeMetrics {
        NodeMetrics {
            height: context.register(
                "finalized_height",
                "Height of the finalized tip",
                raw::Gauge::default(),
            ),
            finalized_txs: context.register(
                "finalized_transactions",
                "Finalized transactions",
                raw::Counter::default(),
            ),
            finalized_blocks: context.register(
                "finalized_blocks",
                "Finalized blocks",
                raw::Counter::default(),
            ),
            mempool_size: context.register(
                "mempool_size",
                "Transactions waiting in the mempool",
                raw::Gauge::default(),
            ),
            block_latency_s: context.register(
                "block_latency_seconds",
                "Time from block timestamp to local commit",
                raw::Histogram::new(LATENCY_BUCKETS_S),
            ),
            admitted_txs: context.register(
                "admitted_transactions",
                "Transactions admitted to the mempool",
                raw::Counter::default(),
            ),
            refused_txs: context.register(
                "refused_transactions",
                "Transactions refused at admission",
                raw::Counter::default(),
            ),
            gossip_sent_txs: context.register(
                "gossip_sent_transactions",
                "Transactions gossiped to peers",
                raw::Counter::default(),
            ),
            gossip_received_txs: context.register(
                "gossip_received_transactions",
                "Transactions received from peers",
                raw::Counter::default(),
            ),
            gossip_dropped_txs: context.register(
                "gossip_dropped_transactions",
                "Gossiped transactions dropped by checks or full queues",
                raw::Counter::default(),
            ),
            consensus_view: context.register(
                "consensus_view",
                "Highest consensus view seen",
                raw::Gauge::default(),
            ),
            validators_live: context.register(
                "validators_live",
                "Validators heard from within the liveness window, this one included",
                raw::Gauge::default(),
            ),
            equivocations: context.register(
                "equivocations",
                "Conflicting votes by one validator detected",
                raw::Counter::default(),
            ),
            blobs_replicated: context.register(
                "blobs_replicated",
                "Records' blobs received from peers and stored",
                raw::Counter::default(),
            ),
            replication_notices_dropped: context.register(
                "replication_notices_dropped",
                "Replication notices dropped because the replicator lagged",
                raw::Counter::default(),
            ),
        }
    }

    /// Updates the metrics for a newly finalized block.
    pub fn on_finalized(&self, block: &Block, now_ms: u64, mempool_len: usize) {
        self.height.set(block.header.height.0 as i64);
        self.finalized_blocks.inc();
        self.finalized_txs.inc_by(u64::from(block.header.tx_count));
        self.mempool_size.set(mempool_len as i64);
        let latency_ms = now_ms.saturating_sub(block.header.timestamp_ms);
        self.block_latency_s.observe(latency_ms as f64 / 1000.0);
    }
}
