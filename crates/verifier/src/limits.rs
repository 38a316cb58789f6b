//! Every bound of the receipt format, in one place.
//!
//! A receipt comes from outside (a file, a QR code, a web form): each list,
//! string and byte field in it has a bound here, checked while decoding and
//! before allocating, and an input above a bound is refused with an error
//! that names it.

use cityledger_types::limits::{LINKED_TRANSFERS_MAX, TX_BYTES_MAX, VALIDATORS_MAX};

/// Bytes of an ed25519 signature in a certificate.
pub const CERTIFICATE_SIGNATURE_BYTES: usize = 64;
/// Longest LEB128 varint of a u64, in bytes.
pub const VARINT_U64_BYTES_MAX: usize = 10;
/// Longest LEB128 varint of a u32 (Commonware's encoding of a length), in bytes.
pub const VARINT_U32_BYTES_MAX: usize = 5;
/// Largest encoded Commonware `Finalization` for [`VALIDATORS_MAX`]
/// validators: the proposal (three varints and a digest), the signer bitmap
/// (a u64 bit count and one byte per eight validators), the signature count
/// and one signature per validator.
pub const CERTIFICATE_BYTES_MAX: usize = 3 * VARINT_U64_BYTES_MAX
    + 32
    + 8
    + VALIDATORS_MAX.div_ceil(8)
    + VARINT_U32_BYTES_MAX
    + VALIDATORS_MAX * CERTIFICATE_SIGNATURE_BYTES;
/// Most validator-set changes one receipt may carry. A longer history is
/// cut short by trusting a more recent checkpoint instead of genesis.
pub const VALIDATOR_TRANSITIONS_MAX: usize = 8;
/// Most headers between a block and the certified descendant that proves
/// it final, when the block has no certificate of its own.
pub const DESCENDANT_HEADERS_MAX: usize = 16;
/// Most currency definitions a receipt carries to show amounts in major
/// units: one per ledger operation of a linked transaction at most.
pub const RECEIPT_CURRENCIES_MAX: usize = LINKED_TRANSFERS_MAX;
/// Longest statement (the claim in plain words), in bytes.
pub const STATEMENT_BYTES_MAX: usize = 4 * 1024;
/// Largest binary receipt, in bytes. A transfer receipt on four validators
/// is about 1.5 KB; the bound leaves room for the largest transaction (a
/// bulk issuance of obligations, 1 MiB) and a full validator-set path of
/// the largest sets.
pub const RECEIPT_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Longest text (base64url) form of a receipt, in characters; whitespace
/// (line breaks from mail or print) is not counted.
pub const RECEIPT_TEXT_BYTES_MAX: usize = RECEIPT_BYTES_MAX.div_ceil(3) * 4;
/// Most siblings of a history (block-id accumulator) proof: one level per
/// bit of a u64 height.
pub const HISTORY_PROOF_DEPTH_MAX: usize = cityledger_types::limits::HISTORY_PROOF_DEPTH_MAX;
/// Most witness cosignatures on one checkpoint.
pub const CHECKPOINT_COSIGNATURES_MAX: usize = 32;
/// Longest witness name on a cosignature, in bytes.
pub const WITNESS_NAME_BYTES_MAX: usize = 64;
/// Largest binary checkpoint, in bytes.
pub const CHECKPOINT_BYTES_MAX: usize = RECEIPT_BYTES_MAX;

/// The one transaction a receipt carries fits in it, with a quarter of the
/// receipt to spare for its proofs, header, certificate and a validator-set
/// path.
const _: () =
    assert!(TX_BYTES_MAX + 2 * CERTIFICATE_BYTES_MAX + RECEIPT_BYTES_MAX / 4 < RECEIPT_BYTES_MAX);
/// A full path of maximal transitions (certificate, header, state proof and
/// set each) still fits.
const _: () = assert!(
    VALIDATOR_TRANSITIONS_MAX
        * (CERTIFICATE_BYTES_MAX
            + 512
            + cityledger_types::limits::STATE_PROOF_BYTES_MAX
            + VALIDATORS_MAX * 32)
        < RECEIPT_BYTES_MAX
);
const _: () = assert!(STATEMENT_BYTES_MAX < RECEIPT_BYTES_MAX);
