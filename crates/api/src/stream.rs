//! The event stream on the wire: one message per finalized block.
//!
//! Each message is a server-sent event whose `id` is the block height, so a
//! client resumes after a disconnect by sending `Last-Event-ID` (or
//! `from_height`) and misses nothing.

use cityledger_types::{Digest, Height};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One effect of a finalized block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEventItem {
    /// The transaction that caused it, hex; absent for effects of the block
    /// itself (such as pending transfers timing out).
    #[schema(value_type = Option<String>)]
    pub tx: Option<Digest>,
    /// The state machine's event (`cityledger_state::Event`) as JSON: an
    /// object tagged by `type`, e.g. `{"type": "transferred", "from": …}`.
    /// Kept as a JSON value so that older clients can read newer event types.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// A finalized block and what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEvent {
    /// Block height; also the SSE event id.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block id, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
    /// Block time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// Effects, in execution order.
    pub events: Vec<StreamEventItem>,
}
