//! Every bound of the storage layer, in one place.
//!
//! A commit above a limit is refused with [`StoreError::LimitExceeded`]
//! naming the limit, before anything is written; a value read back above a
//! limit is reported as corrupt, before anything is allocated for it.
//!
//! [`StoreError::LimitExceeded`]: crate::StoreError::LimitExceeded

use cityledger_types::limits::{LINKED_TRANSFERS_MAX, PENDING_TIMEOUTS_PER_BLOCK_MAX};

pub use cityledger_types::limits::{BLOCK_BYTES_MAX, TX_PER_BLOCK_MAX};

/// Largest finality certificate, in bytes. A certificate holds at most one
/// signature (64 bytes) and one signer index per validator; 128 validators
/// need under 10 KiB.
pub const CERTIFICATE_BYTES_MAX: usize = 64 * 1024;

/// Largest encoded list of a block's outcomes, in bytes: about 800 bytes
/// per transaction at [`TX_PER_BLOCK_MAX`], most of it rejection detail.
pub const OUTCOMES_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Largest encoded list of a block's events, in bytes. Events are the
/// largest part of a block record: a full block of linked batches carries
/// about 90,000 transfers, at a few hundred bytes of event each.
pub const EVENTS_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Longest state key, in bytes. Encoded `StateKey`s are under 150 bytes.
pub const STATE_KEY_BYTES_MAX: usize = 1024;

/// Largest state value, in bytes. Encoded records are under 2 KiB.
pub const STATE_VALUE_BYTES_MAX: usize = 64 * 1024;

/// Most state writes in one block.
pub const STATE_WRITES_PER_BLOCK_MAX: usize = 1_000_000;

/// Most per-account index entries in one block.
pub const ACCOUNT_ENTRIES_PER_BLOCK_MAX: usize = TX_PER_BLOCK_MAX * LINKED_TRANSFERS_MAX * 2;

/// Most locations one call to `account_txs` returns.
pub const ACCOUNT_PAGE_MAX: usize = 1000;

/// Longest derived-index key, in bytes.
pub const INDEX_KEY_BYTES_MAX: usize = 512;

/// Largest derived-index value, in bytes.
pub const INDEX_VALUE_BYTES_MAX: usize = 16 * 1024;

/// Most derived-index changes in one block: a block of bulk issuances makes
/// five entries per obligation it creates.
pub const INDEX_CHANGES_PER_BLOCK_MAX: usize = 1_000_000;

/// Most entries one call to `index_scan` returns.
pub const INDEX_PAGE_MAX: usize = 1000;

/// Largest stored block record: the block, its certificate, outcomes and
/// events, their ids and length prefixes.
pub(crate) const BLOCK_RECORD_BYTES_MAX: usize =
    BLOCK_BYTES_MAX + CERTIFICATE_BYTES_MAX + OUTCOMES_BYTES_MAX + EVENTS_BYTES_MAX + 1024;

// A transfer writes at most four keys (two balances, and two accounts opened
// on first credit); a transaction also consumes its client id, and the
// timeout sweep rewrites a pending transfer and its timeout entry.
const _: () = assert!(
    STATE_WRITES_PER_BLOCK_MAX
        >= TX_PER_BLOCK_MAX * (LINKED_TRANSFERS_MAX * 4 + 1) + PENDING_TIMEOUTS_PER_BLOCK_MAX * 2
);
// fjall keys are at most 65,535 bytes.
const _: () = assert!(STATE_KEY_BYTES_MAX < u16::MAX as usize);
const _: () = assert!(INDEX_KEY_BYTES_MAX < u16::MAX as usize);
// Five index entries per obligation a block may create, with room for
// the rest of the block.
const _: () =
    assert!(INDEX_CHANGES_PER_BLOCK_MAX >= 10 * cityledger_types::limits::CHARGES_PER_BLOCK_MAX);
// An obligation's event is under 512 bytes of JSON: a block's issuances
// take at most half the events' room.
const _: () =
    assert!(512 * cityledger_types::limits::CHARGES_PER_BLOCK_MAX <= EVENTS_BYTES_MAX / 2);
// Section lengths in a block record are u32.
const _: () = assert!(BLOCK_RECORD_BYTES_MAX < u32::MAX as usize);
// A position in a block fits the u32 of the index keys.
const _: () = assert!(TX_PER_BLOCK_MAX < u32::MAX as usize);
