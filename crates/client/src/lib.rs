//! Rust SDK for the CityLedger REST API.
//!
//! [`Client`] mirrors the node's routes one method per route and returns
//! the views of `cityledger-api`, so the SDK and the node share one
//! definition of every JSON shape. [`transfer_tx`] and [`sign_tx`] build
//! and sign transactions locally; the secret key never leaves the caller.
//!
//! Every failure is a [`ClientError`]; a refusal by the node carries its
//! RFC 9457 problem document, whose `code` is stable and meant for
//! branching.
//!
//! This crate must never hold a secret key longer than a call, retry a
//! submission on its own (a retry is the caller's decision: the client id
//! makes it safe, but only the caller knows the id), or wait without a
//! bound.

mod backoff;
mod client;
mod credentials;
mod error;
pub mod limits;
mod obligations;
mod records;
mod safety;
mod signed;
mod tls;
mod txs;

pub use client::Client;
pub use credentials::{ApplicationFilter, Moment};
pub use error::ClientError;
pub use obligations::ObligationFilter;
pub use records::RecordFilter;
pub use signed::signed_read_headers;
pub use tls::{TrustRoots, http_client_builder};
pub use txs::{Transfer, sign_tx, transfer_tx};

pub use cityledger_api as api;
