//! The CityLedger node: consensus adapter, mempool, chain state, REST API
//! and metrics.
//!
//! The chain state ([`chain`]) and the mempool ([`mempool`]) are plain data
//! structures; the consensus adapter ([`consensus`]) is the only module that
//! names Commonware types; the REST API ([`rest`]) speaks only through the
//! [`rest::NodeApi`] trait.

pub mod admin;
pub mod admission;
pub mod api_impl;
pub mod backup;
pub mod chain;
pub mod config;
pub mod consensus;
pub mod core;
pub mod credential_indexes;
pub mod history_index;
pub mod indexes;
pub mod limits;
pub mod mempool;
pub mod metrics;
pub mod network;
pub mod receipts;
pub mod record_indexes;
pub mod replication;
pub mod rest;
pub mod safety_indexes;
pub mod service;
#[cfg(test)]
mod test_support;
pub mod tls;
