//! The deterministic CityLedger state machine, one module per domain.
//!
//! Given the parent state and a block, [`execute_block`] returns the writes,
//! one outcome per transaction, and the events. It reads no clock (time comes
//! from the block), draws no randomness, performs no I/O and iterates no hash
//! map, so every validator computes the same state root.
//!
//! Domains (`governance`, `ledger`, `obligations`, `applications`,
//! `credentials`, `records`, `devices`, `safety`, `education`) are sibling modules of the same shape:
//! an `apply` for their operations, the state keys they own, their checks.

pub mod applications;
pub mod audit;
pub mod credentials;
pub mod dev_services;
pub mod devices;
pub mod education;
pub mod events;
pub mod execute;
pub mod genesis;
pub mod governance;
pub mod ledger;
pub mod obligations;
pub mod outcome;
pub mod records;
pub mod safety;
pub mod tx_ids;
pub mod view;

pub use events::Event;
pub use execute::{BlockEnv, Executed, Inadmissible, InvalidBlock, Mode, execute_block};
pub use view::{MemoryState, StateRead, WriteSet};

#[cfg(test)]
mod tests;
