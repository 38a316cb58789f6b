//! Every bound of the protocol, in one place.
//!
//! Input above a limit is rejected with an error that names the limit. Where
//! limits relate, a `const` assertion below says so, so that a change to one
//! cannot silently break another.

/// Longest chain id, in bytes.
pub const CHAIN_ID_BYTES_MAX: usize = 64;
/// Longest client-chosen transaction id, in bytes.
pub const TX_ID_BYTES_MAX: usize = 64;
/// Largest encoded signed transaction, in bytes.
pub const TX_BYTES_MAX: usize = 4 * 1024;
/// Most transfers in one linked batch.
pub const LINKED_TRANSFERS_MAX: usize = 16;
/// Longest memo on a transfer, in bytes.
pub const MEMO_BYTES_MAX: usize = 256;
/// Longest organisation name, in bytes.
pub const ORG_NAME_BYTES_MAX: usize = 32;
/// Longest account name inside an organisation, in bytes.
pub const ACCOUNT_NAME_BYTES_MAX: usize = 32;
/// Longest role name, in bytes.
pub const ROLE_NAME_BYTES_MAX: usize = 48;
/// Most roles one member may hold in one organisation.
pub const ROLES_PER_MEMBER_MAX: usize = 16;
/// Most members of one organisation.
pub const MEMBERS_PER_ORG_MAX: usize = 256;
/// Most organisations in the consortium.
pub const ORGS_MAX: usize = 64;
/// Most validators in one validator set.
pub const VALIDATORS_MAX: usize = 128;
/// Longest currency code, in bytes.
pub const CURRENCY_CODE_BYTES_MAX: usize = 8;
/// Most decimals a currency may declare; 10^38 still fits in u128.
pub const CURRENCY_DECIMALS_MAX: u8 = 18;
/// Most transactions in one block.
pub const TX_PER_BLOCK_MAX: usize = 10_000;
/// Largest encoded block, in bytes.
pub const BLOCK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Furthest a transaction's expiry may lie beyond the time it is checked, in ms.
///
/// Bounding the horizon bounds how long a node must remember ids to deduplicate.
pub const TX_EXPIRY_HORIZON_MS_MAX: u64 = 24 * 60 * 60 * 1000;
/// Longest two-phase transfer timeout, in ms.
pub const PENDING_TIMEOUT_MS_MAX: u64 = 30 * 24 * 60 * 60 * 1000;
/// Most pending transfers voided by timeout at the start of one block; the
/// rest wait for the next block so that a block's work stays bounded.
pub const PENDING_TIMEOUTS_PER_BLOCK_MAX: usize = 10_000;
/// Most Merkle siblings in a transaction inclusion proof (2^32 transactions).
pub const TX_PROOF_DEPTH_MAX: usize = 32;

/// Deepest possible state-tree path: one level per bit of a key hash.
pub const TREE_DEPTH_MAX: usize = crate::digest::DIGEST_LEN * 8;
/// Largest borsh encoding of a state proof, for decoding one from outside
/// with `encoding::decode_exact`: the depth, a full bitmap, a sibling at every
/// level and the terminal leaf.
pub const STATE_PROOF_BYTES_MAX: usize = 2
    + (4 + TREE_DEPTH_MAX / 8)
    + (4 + TREE_DEPTH_MAX * crate::digest::DIGEST_LEN)
    + (1 + 2 * crate::digest::DIGEST_LEN);

const _: () = assert!(TX_PER_BLOCK_MAX * 64 <= BLOCK_BYTES_MAX);
const _: () = assert!(TX_BYTES_MAX <= BLOCK_BYTES_MAX);
// In u64: on wasm32, `usize` has 32 bits and the shift would wrap to 0.
const _: () = assert!((1u64 << TX_PROOF_DEPTH_MAX) >= TX_PER_BLOCK_MAX as u64);
