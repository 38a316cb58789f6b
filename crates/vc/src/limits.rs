//! Every bound of the VC layer, in one place.

/// Deepest nesting of a JSON document canonicalized or verified; our own
/// documents nest four levels.
pub const JSON_DEPTH_MAX: usize = 32;
/// Largest Verifiable Credential document read from outside, in bytes.
pub const DOCUMENT_BYTES_MAX: usize = 256 * 1024;
/// Bits of one Bitstring Status List: the specification's minimum of
/// 16 KiB, which hides which credential a verifier asks about among
/// 131,072.
pub const STATUS_LIST_BITS: usize = 16 * 1024 * 8;
/// Largest encoded list accepted from outside (base64url of the GZIP);
/// a list of random bits compresses to about its own size.
pub const ENCODED_LIST_BYTES_MAX: usize = 64 * 1024;

const _: () = assert!(STATUS_LIST_BITS.is_multiple_of(8));
const _: () = assert!(ENCODED_LIST_BYTES_MAX >= (STATUS_LIST_BITS / 8) * 4 / 3 + 64);
