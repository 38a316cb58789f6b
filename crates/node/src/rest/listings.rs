//! The chain-wide listings an explorer reads: finalized blocks and
//! transactions, newest first, a page at a time, and the genesis document
//! that receipts are verified against.

use super::parse;
use super::{ApiError, NodeApi};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use cityledger_api::limits::{
    BLOCKS_LIMIT_DEFAULT, BLOCKS_LIMIT_MAX, RECENT_TXS_LIMIT_DEFAULT, RECENT_TXS_LIMIT_MAX,
};
use cityledger_api::{BlocksPage, Problem, TxsPage};
use serde::Deserialize;

/// Query of the block listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct BlocksQuery {
    // Text, not numbers, so that a bad value is reported with its field
    // and range rather than as a generic query error.
    before: Option<String>,
    limit: Option<String>,
}

/// Finalized blocks, newest first, without their transactions.
///
/// The first page starts at the finalized tip; pass `next_before` as
/// `before` for the next one.
#[utoipa::path(
    get,
    path = "/v1/blocks",
    tag = "blocks",
    params(
        ("before" = Option<u64>, Query, description = "Only blocks below this height; default: from the finalized tip"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100; default 20", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "A page of blocks", body = BlocksPage),
        (status = 400, description = "Malformed before or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_blocks<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<BlocksQuery>, QueryRejection>,
) -> Result<Json<BlocksPage>, ApiError> {
    let query = parse::query_params(query)?;
    let before = parse::optional_height(query.before.as_deref(), "before")?;
    let limit = parse::limit_in(
        query.limit.as_deref(),
        BLOCKS_LIMIT_DEFAULT,
        BLOCKS_LIMIT_MAX,
    )?;
    Ok(Json(node.blocks(before, limit)?))
}

/// Query of the transaction listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TxsQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// Finalized transactions of the whole chain, newest first, a page at a
/// time.
///
/// One request reads at most 1000 blocks: on a quiet chain a page may hold
/// fewer than `limit` transactions and still carry a `next_cursor`.
#[utoipa::path(
    get,
    path = "/v1/txs",
    tag = "transactions",
    params(
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100; default 20", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "A page of transactions", body = TxsPage),
        (status = 400, description = "Malformed cursor or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_txs<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<TxsQuery>, QueryRejection>,
) -> Result<Json<TxsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let limit = parse::limit_in(
        query.limit.as_deref(),
        RECENT_TXS_LIMIT_DEFAULT,
        RECENT_TXS_LIMIT_MAX,
    )?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.recent_txs(cursor, limit)?))
}

/// The genesis document of this chain: its currencies, organisations and
/// first validator set.
///
/// It is what receipts are verified against. Taken from a node, it is only
/// as good as that node: compare its hash (`genesis_hash` of
/// `/v1/status`, and `cityledger verify`'s) with one you got from the
/// consortium.
#[utoipa::path(
    get,
    path = "/v1/genesis",
    tag = "node",
    responses((status = 200, description = "The genesis document, as in the node's genesis.json", content_type = "application/json"))
)]
pub(super) async fn genesis<N: NodeApi>(
    State(node): State<N>,
) -> Json<cityledger_types::genesis::Genesis> {
    Json(node.genesis())
}
