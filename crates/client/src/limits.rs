//! Every bound of the SDK, in one place.

/// Largest response body the client reads, in bytes. A block of
/// `TX_PER_BLOCK_MAX` transactions renders to well under this, and so does
/// the largest sealed blob as base64url.
pub const RESPONSE_BYTES_MAX: usize = 96 * 1024 * 1024;
/// Longest time one request may take, including reading the body, in ms.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// Longest time to establish a connection, in ms.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Longest [`crate::Client::wait_for_finality`] waits, whatever it is asked.
pub const WAIT_TIMEOUT_MS_MAX: u64 = 10 * 60 * 1000;
/// First pause between status polls, in ms: about one block interval, so a
/// transaction finalized in the next block is seen promptly.
pub const POLL_INTERVAL_MS_MIN: u64 = 50;
/// Longest pause between status polls, in ms.
pub const POLL_INTERVAL_MS_MAX: u64 = 2_000;
/// Most characters of an unexpected (non-problem) error body kept in the
/// error, so that an HTML error page does not flood a log.
pub const ERROR_BODY_CHARS_MAX: usize = 512;

const _: () = assert!(POLL_INTERVAL_MS_MIN <= POLL_INTERVAL_MS_MAX);
const _: () = assert!(
    (cityledger_types::limits::BLOB_BYTES_MAX as usize).div_ceil(3) * 4 + 64 * 1024
        <= RESPONSE_BYTES_MAX
);
const _: () = assert!(POLL_INTERVAL_MS_MAX <= WAIT_TIMEOUT_MS_MAX);
