//! Node status and health on the wire.

use cityledger_types::tx::ChainId;
use cityledger_types::{Digest, Height, OrgName, PublicKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A validator of the current set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidatorView {
    /// The organisation that runs it.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Its consensus key, hex.
    #[schema(value_type = String)]
    pub key: PublicKey,
    /// Highest consensus view this node has seen a vote of it for; absent
    /// before the first.
    pub last_view: Option<u64>,
    /// When this node last saw a vote of it, ms since the Unix epoch.
    pub last_seen_ms: Option<u64>,
    /// Whether it voted within the liveness window (this node: always).
    pub live: bool,
}

/// Evidence that a validator signed two conflicting messages in one view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EquivocationView {
    /// The validator's consensus key, hex.
    #[schema(value_type = String)]
    pub validator: PublicKey,
    /// The view in which it equivocated.
    pub view: u64,
    /// `conflicting_notarize`, `conflicting_finalize` or `nullify_finalize`.
    pub kind: String,
    /// When this node detected it, ms since the Unix epoch.
    pub detected_ms: u64,
}

/// What a node knows about the chain and itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    /// The chain.
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    /// This node's configured name.
    pub node_name: String,
    /// Height of the last finalized block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Id of the last finalized block, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
    /// State root after the last finalized block, hex.
    #[schema(value_type = String)]
    pub state_root: Digest,
    /// Block time of the last finalized block, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Transactions waiting in the mempool.
    pub mempool_size: u64,
    /// The current validator set.
    pub validators: Vec<ValidatorView>,
    /// Hash of the current validator set, hex.
    #[schema(value_type = String)]
    pub validator_set_hash: Digest,
    /// Hash of the genesis document, hex: the chain's identity.
    #[schema(value_type = String)]
    pub genesis_hash: Digest,
    /// Node software version.
    pub version: String,
    /// Whether the node is catching up with its peers.
    pub syncing: bool,
    /// Highest consensus view this node has seen.
    pub view: u64,
    /// Finalized views this node has seen certified but not yet committed:
    /// the catch-up still to do (0 when in step).
    pub views_behind: u64,
    /// Validators that voted within the liveness window, this one included.
    pub validators_live: u32,
    /// Equivocations detected since start, newest last (bounded).
    pub equivocations: Vec<EquivocationView>,
}

/// Liveness of the REST server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// Always `ok` when the server answers.
    #[schema(example = "ok")]
    pub status: String,
}

impl HealthView {
    /// The only health a server that answers can report.
    pub fn ok() -> HealthView {
        HealthView {
            status: "ok".to_owned(),
        }
    }
}
