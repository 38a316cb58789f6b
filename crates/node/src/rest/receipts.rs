//! The receipt and checkpoint routes: parse the request, ask the node,
//! return the receipt, checkpoint or consistency proof.
//!
//! The node assembles receipts and does not vouch for them: the answer
//! carries the receipt's text, which the client verifies offline.

use super::parse;
use super::{ApiError, NodeApi};
use crate::receipts::StateSubject;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use cityledger_api::problem::code;
use cityledger_api::{CheckpointView, ConsistencyProofView, Problem, ReceiptView};
use cityledger_types::Height;
use serde::Deserialize;

/// Currency of a balance receipt when the request names none.
pub(super) const DEFAULT_CURRENCY: &str = "CITY";

/// The receipt of a finalized transaction: that it was included in its
/// block, and with which outcome (applied, or rejected and why).
#[utoipa::path(
    get,
    path = "/v1/receipts/tx/{hash}",
    tag = "receipts",
    params(("hash" = String, Path, description = "Transaction hash, 64 hex characters")),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not a hash", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The transaction is not finalized (pending or unknown)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The block is final but its certificate is not stored yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn tx_receipt<N: NodeApi>(
    State(node): State<N>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(hash, "hash")?;
    let hash = parse::hash(&text, "hash")?;
    Ok(Json(node.tx_receipt(hash)?))
}

/// Query of a balance receipt.
#[derive(Debug, Default, Deserialize)]
pub(super) struct BalanceReceiptQuery {
    currency: Option<String>,
}

/// The receipt of an account's balance in one currency, at the newest
/// finalized block with a certificate. An account without a balance entry
/// gets a receipt proving its absence (a zero balance).
#[utoipa::path(
    get,
    path = "/v1/receipts/balance/{address}",
    tag = "receipts",
    params(
        ("address" = String, Path, description = "`cl1…` address, or an `org:account` alias"),
        ("currency" = Option<String>, Query, description = "Currency code; default CITY"),
    ),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Malformed address or currency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such currency", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn balance_receipt<N: NodeApi>(
    State(node): State<N>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<BalanceReceiptQuery>, QueryRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(address, "address")?;
    let address = parse::address(&text, "address")?;
    let query = parse::query_params(query)?;
    let currency = parse::currency(
        query.currency.as_deref().unwrap_or(DEFAULT_CURRENCY),
        "currency",
    )?;
    Ok(Json(node.balance_receipt(address, currency)?))
}

/// The receipt of an obligation: its terms, what was paid and what it owes
/// at the newest certified finalized block, and where it stands (paid,
/// waived, appealed, …). An unknown id gets a receipt proving that no such
/// obligation exists.
#[utoipa::path(
    get,
    path = "/v1/receipts/obligation/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "Obligation id, 64 hex characters")),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn obligation_receipt<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    Ok(Json(node.obligation_receipt(id)?))
}

/// The receipt of a record: its commitment, owner, author, recipients,
/// acknowledgements and erasure at the newest certified finalized block,
/// never its content. An unknown id gets a receipt proving absence.
#[utoipa::path(
    get,
    path = "/v1/receipts/record/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "Record id, 64 hex characters")),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn record_receipt<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    Ok(Json(node.subject_receipt(StateSubject::Record(id))?))
}

/// The receipt of a device's anchored batch: its device, sequence, root and
/// message count at the newest certified finalized block. The device's
/// side turns it into the receipt of one message (`cityledger receipt
/// message`), adding the message and its inclusion under the root; the
/// node never sees messages. An unknown id gets a receipt proving absence.
#[utoipa::path(
    get,
    path = "/v1/receipts/batch/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "Batch id, 64 hex characters")),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn batch_receipt<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    Ok(Json(node.subject_receipt(StateSubject::Batch(id))?))
}

/// Query of a credential receipt.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CredentialReceiptQuery {
    height: Option<String>,
}

/// The receipt of a credential: its record at the newest certified
/// finalized block, and its status (valid, expired, suspended, revoked)
/// at an earlier height or at that block. The record carries every change
/// of status, so the one proof answers for any earlier height; the
/// receipt then also carries that height's block and its finality, so its
/// block time is proven. An unknown id gets a receipt proving absence.
#[utoipa::path(
    get,
    path = "/v1/receipts/credential/{id}",
    tag = "receipts",
    params(
        ("id" = String, Path, description = "Credential id, 64 hex characters"),
        ("height" = Option<u64>, Query, description = "Judge the status after this finalized block; default the newest certified one"),
    ),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id, or a height that is not a decimal number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The height is not finalized with a certificate yet", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn credential_receipt<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<CredentialReceiptQuery>, QueryRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    let query = parse::query_params(query)?;
    let at = query
        .height
        .as_deref()
        .map(|text| {
            parse::decimal_u64(text).map(Height).ok_or_else(|| {
                ApiError::bad_request(
                    code::BAD_MOMENT,
                    "height",
                    format!("height must be a decimal number; got {text:?}"),
                )
            })
        })
        .transpose()?;
    Ok(Json(node.credential_receipt(id, at)?))
}

/// The checkpoint of the newest finalized block with a certificate of its
/// own: its header, certificate and validator sets, and the history of
/// every block before it that its state commits to.
#[utoipa::path(
    get,
    path = "/v1/checkpoints/latest",
    tag = "checkpoints",
    responses(
        (status = 200, description = "The checkpoint; verify it offline before trusting its statement", body = CheckpointView),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn checkpoint<N: NodeApi>(
    State(node): State<N>,
) -> Result<Json<CheckpointView>, ApiError> {
    Ok(Json(node.checkpoint()?))
}

/// Query of a consistency proof.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ConsistencyQuery {
    old: Option<String>,
    new: Option<String>,
}

/// The proof that the finalized block at `old` is an ancestor of the one at
/// `new`: its id in the history that `new`'s state commits to. The node
/// cannot forge it: the verifier checks it against the history in the new
/// checkpoint, which the validators certified.
#[utoipa::path(
    get,
    path = "/v1/checkpoints/consistency",
    tag = "checkpoints",
    params(
        ("old" = u64, Query, description = "Height of the earlier checkpoint"),
        ("new" = u64, Query, description = "Height of the later checkpoint, at most the finalized tip"),
    ),
    responses(
        (status = 200, description = "The proof; check it offline with both checkpoints", body = ConsistencyProofView),
        (status = 400, description = "A height missing or not a decimal number, or `old` not below `new`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`new` is not finalized yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn consistency_proof<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProofView>, ApiError> {
    let query = parse::query_params(query)?;
    let old = required_height(query.old.as_deref(), "old")?;
    let new = required_height(query.new.as_deref(), "new")?;
    if old >= new {
        return Err(ApiError::bad_request(
            code::HEIGHTS_OUT_OF_ORDER,
            "old",
            format!(
                "old ({old}) must be below new ({new}); a block is consistent with itself without a proof"
            ),
        ));
    }
    Ok(Json(node.consistency_proof(old, new)?))
}

/// The height in query parameter `field`, which must be present.
fn required_height(text: Option<&str>, field: &str) -> Result<Height, ApiError> {
    let Some(text) = text else {
        return Err(ApiError::bad_request(
            code::MISSING_PARAMETER,
            field,
            format!("{field} is required: a height"),
        ));
    };
    parse::decimal_u64(text).map(Height).ok_or_else(|| {
        ApiError::bad_request(
            code::BAD_HEIGHT,
            field,
            format!("{field} must be a decimal height; got {text:?}"),
        )
    })
}
