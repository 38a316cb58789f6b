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
