//! Receipts on the wire: the node serves them, anyone verifies them offline.
//!
//! The node assembles a receipt; it does not vouch for it. A client checks
//! the `receipt` text with `cityledger verify` or the `cityledger-verifier`
//! crate (native or WASM) against the validators it trusts, and believes
//! the statement only then.

use cityledger_types::{Digest, Height};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A receipt, as the node serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// What it proves: `transaction` or `balance`.
    pub kind: String,
    /// The claim in plain words, as the receipt states it. Not to be
    /// trusted before the receipt is verified.
    pub statement: String,
    /// Height of the block the claim is about.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Id of that block, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
    /// Size of the binary form, in bytes.
    pub size_bytes: u32,
    /// The receipt in its text form: base64url of the binary form, which
    /// starts with `CLRC` and a version byte.
    pub receipt: String,
}

/// A checkpoint, as the node serves it: the newest finalized block with a
/// certificate of its own, whose state commits to every block before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    /// What it asserts in plain words. Not to be trusted before the
    /// checkpoint is verified.
    pub statement: String,
    /// Height of the checkpoint's block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Id of that block, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
    /// Size of the binary form, in bytes.
    pub size_bytes: u32,
    /// The checkpoint in its text form: base64url of the binary form, which
    /// starts with `CLCP` and a version byte.
    pub checkpoint: String,
}

/// A consistency proof, as the node serves it: that the block at
/// `old_height` is an ancestor of the block at `new_height`, checked
/// against the history in the new checkpoint's certified state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProofView {
    /// The earlier height.
    #[schema(value_type = u64)]
    pub old_height: Height,
    /// The later height.
    #[schema(value_type = u64)]
    pub new_height: Height,
    /// Size of the binary form, in bytes.
    pub size_bytes: u32,
    /// The proof in its text form: base64url of the binary form, which
    /// starts with `CLCY` and a version byte.
    pub proof: String,
}
