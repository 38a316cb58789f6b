//! Receipts anyone can verify offline: their format, and the checks of
//! finality certificates, validator-set changes and Merkle proofs.
//!
//! A receipt ([`Receipt`]) says something about the chain (a transaction
//! and its outcome, a balance) and carries what a verifier needs to believe
//! it without asking any node: the proofs, the block header, the
//! validators' finality certificate and the validator sets since a trusted
//! anchor. [`verify()`] checks all of it against a [`TrustAnchor`] (the
//! genesis document, or a checkpoint) and returns what it proves.
//!
//! A [`Checkpoint`] is a finalized header whose state commits to the ids of
//! all earlier blocks; [`verify_consistency`] checks that a later
//! checkpoint's chain extends an earlier one's.
//!
//! This crate does no I/O, spawns nothing, reads no clock and does not
//! depend on Commonware: it builds for wasm32, so a browser or a phone can
//! check a receipt, and it re-implements the engine's certificate format
//! and signing rules, which the node's tests hold to the engine's own.

pub mod assemble;
pub mod bounded;
pub mod certificate;
pub mod checkpoint;
pub mod ed25519;
pub mod limits;
pub mod membership;
pub mod receipt;
pub mod statement;
pub mod validators;
pub mod verify;

pub use checkpoint::{
    Checkpoint, Consistency, ConsistencyError, ConsistencyProof, verify_checkpoint,
    verify_consistency,
};
pub use receipt::{
    BalanceClaim, BatchClaim, CaseItemClaim, Claim, CredentialClaim, CurrencyFact, CustodyClaim,
    Finality, FinalizedBlock, FramedDecodeError, MessageClaim, ObligationClaim, Receipt,
    RecordClaim, TxClaim,
};
pub use validators::{SetTransition, TrustAnchor, ValidatorPath, ValidatorSet};
pub use verify::{Verified, VerifyError, verify};

#[cfg(test)]
mod tests;
