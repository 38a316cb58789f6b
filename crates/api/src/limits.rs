//! Every bound of the REST API, in one place.
//!
//! The node enforces them and the SDK checks them before sending, so a
//! request over a limit fails fast with an error that names the limit.

use cityledger_types::limits::{BLOB_BYTES_MAX, TX_BYTES_MAX, WRAPPED_KEYS_PER_RECORD_MAX};

/// Most transactions in one batch submission.
pub const TXS_PER_BATCH_MAX: usize = 1024;
/// Largest body of a single submission, in bytes: room for the largest
/// transaction (a bulk issuance) as base64url text in JSON.
pub const SUBMIT_BODY_BYTES_MAX: usize = 1536 * 1024;
/// Largest body of a batch submission, in bytes.
///
/// Deliberately below `TXS_PER_BATCH_MAX` maximal transactions: a batch of
/// typical transfers (a few hundred bytes each) fits, and one request cannot
/// hold the node's memory for long. The byte limit binds first.
pub const BATCH_BODY_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Longest base64url text of one transaction, in characters.
pub const TX_TEXT_BYTES_MAX: usize = TX_BYTES_MAX.div_ceil(3) * 4;
/// Room in a single-submission body for the JSON around the transaction text.
const SUBMIT_ENVELOPE_BYTES_MAX: usize = 1024;
/// Account history page size when the client gives none.
pub const ACCOUNT_TXS_LIMIT_DEFAULT: usize = 50;
/// Largest account history page.
pub const ACCOUNT_TXS_LIMIT_MAX: usize = 1000;
/// Most days one obligation report covers: a leap year.
pub const REPORT_DAYS_MAX: u32 = 366;
/// Most index entries one obligation listing page reads before it answers,
/// so that a filter that matches little cannot make one request scan a
/// whole agency's obligations; the page then carries a cursor to go on.
pub const OBLIGATION_SCAN_MAX: usize = 2000;
/// Most index entries one application or credential listing page reads
/// before it answers, for the same reason as `OBLIGATION_SCAN_MAX`.
pub const LISTING_SCAN_MAX: usize = 2000;
/// Room in an anchoring body for one wrapped key as JSON (a key, an
/// ephemeral key and a nonce as byte arrays, the sealed data key): a
/// generous bound, since serde writes byte arrays as lists of numbers.
const WRAPPED_KEY_JSON_BYTES_MAX: usize = 1024;
/// Largest body of an anchoring (`POST /v1/records`), in bytes: the
/// transaction, the largest blob as base64url and every wrapped key.
pub const ANCHOR_BODY_BYTES_MAX: usize = TX_TEXT_BYTES_MAX
    + (BLOB_BYTES_MAX as usize).div_ceil(3) * 4
    + WRAPPED_KEYS_PER_RECORD_MAX * WRAPPED_KEY_JSON_BYTES_MAX
    + SUBMIT_ENVELOPE_BYTES_MAX;
/// Block listing page size when the client gives none.
pub const BLOCKS_LIMIT_DEFAULT: usize = 20;
/// Largest block listing page.
pub const BLOCKS_LIMIT_MAX: usize = 100;
/// Recent transaction listing page size when the client gives none.
pub const RECENT_TXS_LIMIT_DEFAULT: usize = 20;
/// Largest recent transaction listing page.
pub const RECENT_TXS_LIMIT_MAX: usize = 100;
/// Most blocks one recent transaction listing page reads before it
/// answers: a quiet chain has long runs of empty blocks, and one request
/// must not read them all; the page then carries a cursor to go on.
pub const RECENT_TXS_SCAN_BLOCKS_MAX: usize = 1000;
/// Longest account history cursor, in bytes. Cursors are opaque to clients.
pub const CURSOR_BYTES_MAX: usize = 256;

const _: () = assert!(TX_TEXT_BYTES_MAX + SUBMIT_ENVELOPE_BYTES_MAX <= SUBMIT_BODY_BYTES_MAX);
const _: () = assert!(TX_BYTES_MAX <= SUBMIT_BODY_BYTES_MAX);
const _: () = assert!(SUBMIT_BODY_BYTES_MAX <= BATCH_BODY_BYTES_MAX);
const _: () = assert!(ACCOUNT_TXS_LIMIT_DEFAULT <= ACCOUNT_TXS_LIMIT_MAX);
const _: () = assert!(BLOCKS_LIMIT_DEFAULT <= BLOCKS_LIMIT_MAX);
const _: () = assert!(RECENT_TXS_LIMIT_DEFAULT <= RECENT_TXS_LIMIT_MAX);
const _: () = assert!(BLOCKS_LIMIT_MAX <= RECENT_TXS_SCAN_BLOCKS_MAX);
