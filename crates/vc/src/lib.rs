//! W3C Verifiable Credentials 2.0 of CityLedger credentials: JCS
//! canonicalization (RFC 8785), `eddsa-jcs-2022` Data Integrity proofs,
//! `did:key` identifiers and Bitstring Status Lists.
//!
//! A credential's truth is its record on chain, proven against a state
//! root; this crate only writes that record as a document that standard
//! verifiers and wallets read, signs it with the issuer's key, and checks
//! such signatures. It performs no I/O and reads no clock: every time is
//! given.

pub mod document;
pub mod jcs;
pub mod limits;
pub mod multibase;
pub mod proof;
pub mod status_list;

pub use document::{StatusPurpose, credential_document, status_list_document};
pub use proof::{ProofError, sign, verify};
pub use status_list::Bitstring;
