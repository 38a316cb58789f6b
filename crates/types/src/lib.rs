//! The CityLedger model: canonical encoding, hashes, signatures and proofs.
//!
//! This crate performs no I/O, spawns nothing and reads no clock, so that it
//! compiles to wasm32 and can be embedded in offline verifiers.

pub mod address;
pub mod amount;
pub mod application;
pub mod block;
pub mod civil;
pub mod credential;
pub mod crypto;
pub mod device;
pub mod digest;
pub mod education;
pub mod encoding;
pub mod genesis;
pub mod history;
pub mod limits;
pub mod merkle;
pub mod names;
pub mod obligation;
pub mod outcome;
pub mod record;
pub mod records;
pub mod safety;
pub mod sealed;
pub mod smt;
pub mod tx;
pub mod validator_set;

pub use address::{Address, AddressKind};
pub use amount::Amount;
pub use block::{Block, BlockHeader, Height};
pub use crypto::{PublicKey, SecretKey, Signature};
pub use digest::Digest;
pub use names::{
    AccountName, AreaCode, CourseName, CredentialType, CurrencyCode, EventKind, FieldName,
    KindName, OrgName, RecordType, RoleName, ServiceName, UnitName,
};
pub use outcome::{RejectCode, TxOutcome};
pub use tx::{Action, ChainId, ClientTxId, LedgerOp, SignedTx, TxBody};
