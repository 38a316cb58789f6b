//! The consensus adapter: the only module that names Commonware types.
//!
//! Commonware's API moves between releases; everything that depends on it is
//! here, so an upgrade touches one module. Outside it, the node speaks in
//! `cityledger_types` (blocks, digests, keys) and the chain's own verdicts.
//!
//! - [`block`]: our block as the engine's block type.
//! - [`app`]: marshal's application (build, verify) and the finalizer that
//!   commits finalized blocks in order.
//! - [`engine`]: wiring of Simplex, marshal, broadcast, backfill and the
//!   authenticated p2p network.
//! - [`gossip`]: transactions submitted to one node, sent to every peer.
//! - [`simulation`]: N full nodes on the deterministic runtime and simulated
//!   network under seeded faults.
//! - [`watch`]: the network view (votes, views, equivocations) from the
//!   engine's activity.

pub mod app;
pub mod block;
pub mod engine;
pub mod gossip;
pub mod replication;
pub mod simulation;
pub mod watch;

#[cfg(test)]
mod certificate_tests;

use commonware_codec::{DecodeExt, Encode};
use commonware_consensus::marshal::core::Mailbox;
use commonware_consensus::marshal::standard::Standard;
use commonware_consensus::simplex::types::Context;
use commonware_cryptography::ed25519;
use commonware_cryptography::sha256::Digest as EngineDigest;

/// The digest type the engine orders.
pub type ConsensusDigest = EngineDigest;
/// A validator's identity on the wire and in certificates.
pub type ConsensusPublicKey = ed25519::PublicKey;
/// The certificate scheme: ed25519, attributable.
pub type ConsensusScheme = commonware_consensus::simplex::scheme::ed25519::Scheme;
/// What the engine tells the application about a round.
pub type ConsensusContext = Context<ConsensusDigest, ConsensusPublicKey>;
/// Marshal's mailbox for our block type.
pub type MarshalMailbox = Mailbox<ConsensusScheme, Standard<block::EngineBlockBox>>;

/// Namespace of every consensus signature: a vote for CityLedger can never be
/// replayed as a signature for anything else.
pub const CONSENSUS_NAMESPACE: &[u8] = b"cityledger/consensus/v1";

/// Our digest as the engine's.
pub fn to_engine_digest(digest: &cityledger_types::Digest) -> ConsensusDigest {
    EngineDigest(digest.0)
}

/// The engine's digest as ours.
pub fn from_engine_digest(digest: &ConsensusDigest) -> cityledger_types::Digest {
    cityledger_types::Digest(digest.0)
}

/// The raw bytes of an engine public key.
pub fn public_key_bytes(key: &ConsensusPublicKey) -> [u8; 32] {
    let encoded = key.encode();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&encoded[..32]);
    bytes
}

/// Our public key as the engine's; `None` if the bytes are not a valid key.
pub fn to_engine_public_key(key: &cityledger_types::PublicKey) -> Option<ConsensusPublicKey> {
    ConsensusPublicKey::decode(key.0.to_vec()).ok()
}

/// A validator's signing key from its 32-byte seed.
pub fn engine_private_key(seed: &[u8; 32]) -> Option<ed25519::PrivateKey> {
    ed25519::PrivateKey::decode(seed.to_vec()).ok()
}
