//! Bounds of the node: queues, caches and batches. Protocol bounds live in
//! `cityledger_types::limits`.

use cityledger_types::limits::{BLOCK_BYTES_MAX, TX_BYTES_MAX, TX_PER_BLOCK_MAX};

/// Most transactions waiting in the mempool.
pub const MEMPOOL_TX_MAX: usize = 200_000;
/// Most bytes of transactions waiting in the mempool.
pub const MEMPOOL_BYTES_MAX: usize = 256 * 1024 * 1024;
/// Seconds a client is told to wait when the mempool is full.
pub const MEMPOOL_RETRY_AFTER_S: u64 = 1;
/// Most transactions checked in one signature batch at admission.
pub const ADMISSION_BATCH_MAX: usize = 1024;
/// Most decompressed signer keys the admission worker keeps (~200 B each).
pub const ADMISSION_KEY_CACHE_MAX: usize = 65_536;
/// Most submissions waiting for admission.
pub const ADMISSION_QUEUE_MAX: usize = 65_536;
/// Most transactions in a block this node proposes.
pub const PROPOSAL_TX_MAX: usize = TX_PER_BLOCK_MAX;
/// Most bytes of transactions in a block this node proposes; leaves room for
/// the header and encoding overhead.
pub const PROPOSAL_TX_BYTES_MAX: usize = BLOCK_BYTES_MAX - 64 * 1024;
/// Most admitted batches waiting to be gossiped (each up to
/// [`ADMISSION_BATCH_MAX`] transactions).
pub const GOSSIP_BATCHES_QUEUED_MAX: usize = 256;
/// Most speculative (verified, not finalized) blocks kept.
pub const SPECULATIVE_BLOCKS_MAX: usize = 64;
/// Most dropped transactions remembered for status queries.
pub const DROPPED_REMEMBERED_MAX: usize = 100_000;
/// Furthest a block's timestamp may be ahead of the local clock, in ms.
pub const BLOCK_TIME_SKEW_MS_MAX: u64 = 5_000;

const _: () = assert!(PROPOSAL_TX_MAX * TX_BYTES_MAX >= PROPOSAL_TX_BYTES_MAX / 8);
const _: () = assert!(MEMPOOL_TX_MAX >= 2 * PROPOSAL_TX_MAX);

/// Most finalized blocks whose state versions are kept after they left the
/// tip, so that receipts of recent blocks can prove state against their
/// own root (amounts in major units, balances at a recent height).
pub const RECENT_FINALIZED_STATES_MAX: usize = 256;
/// Most state writes, summed over the kept versions: a version holds about
/// a dozen tree nodes (~1 KB) per write that no newer version shares, so
/// this bounds the memory they hold to tens of MB on a busy chain.
pub const RECENT_FINALIZED_WRITES_MAX: usize = 50_000;
/// Most blocks a node reads forward from a block without a certificate to
/// find the certified descendant that proves it final.
pub const RECEIPT_DESCENDANT_SCAN_MAX: usize = cityledger_verifier::limits::DESCENDANT_HEADERS_MAX;
/// How far a signed read's clock may be from the node's, in ms: a read
/// signed earlier (replayed) or later than that is refused (ADR 0008).
pub const READ_SKEW_MS_MAX: u64 = 5 * 60 * 1000;

/// Largest backup header frame: a chain id and a few digests.
pub const BACKUP_HEADER_BYTES_MAX: usize = 4 * 1024;
/// Largest wrapped-keys file of one record, as the blob store bounds it.
pub const BACKUP_KEYS_BYTES_MAX: usize = 1024 * 1024;
/// Largest block frame of a backup: a block, its certificate and framing.
pub const BACKUP_BLOCK_FRAME_BYTES_MAX: usize =
    BLOCK_BYTES_MAX + cityledger_storage::limits::CERTIFICATE_BYTES_MAX + 64;
/// Largest blob frame of a backup: one record's blob and keys and framing.
pub const BACKUP_BLOB_FRAME_BYTES_MAX: usize =
    cityledger_types::limits::BLOB_BYTES_MAX as usize + BACKUP_KEYS_BYTES_MAX + 128;
/// Most records whose blobs one backup carries; a backup of a node holding
/// more is refused, naming this limit.
pub const BACKUP_RECORDS_MAX: usize = 1_000_000;
/// Longest reason an aborted backup carries to the client.
pub const BACKUP_ABORT_REASON_BYTES_MAX: usize = 4 * 1024;

const _: () = assert!(BACKUP_BLOB_FRAME_BYTES_MAX <= u32::MAX as usize);
