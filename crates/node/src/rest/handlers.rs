//! The route handlers: parse the request, ask the node, shape the answer.
//!
//! Each handler is generic over [`NodeApi`] and carries its OpenAPI
//! operation (`#[utoipa::path]`), so the document is written next to the
//! code it describes.

use super::parse::{self, BODY_FIELD, BlockRef, BodyKind};
use super::{ApiError, DecodedTx, NodeApi, STREAM_KEEP_ALIVE_S};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::sse::{self, KeepAlive, Sse};
use cityledger_api::limits::{BATCH_BODY_BYTES_MAX, SUBMIT_BODY_BYTES_MAX, TXS_PER_BATCH_MAX};
use cityledger_api::problem::code;
use cityledger_api::stream::StreamFilter;
use cityledger_api::{
    AccountTxsPage, AccountView, BlockView, HealthView, Problem, StatusView, StreamEvent,
    SubmitResult, SubmitTxRequest, SubmitTxResponse, SubmitTxsRequest, SubmitTxsResponse,
    TxStatusView,
};
use cityledger_types::AreaCode;
use cityledger_types::safety::Severity;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::time::Duration;

/// Media type of the Prometheus text exposition format.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// SSE event name of a finalized block.
const BLOCK_EVENT_NAME: &str = "block";

/// Submit one signed transaction.
///
/// The body is JSON (`{"tx": "<base64url>"}`) or the raw canonical bytes as
/// `application/octet-stream`. The node checks the chain id, expiry, id and
/// signature before admitting it to the mempool.
#[utoipa::path(
    post,
    path = "/v1/txs",
    tag = "transactions",
    request_body(content(
        (SubmitTxRequest = "application/json"),
        ("application/octet-stream"),
    )),
    responses(
        (status = 202, description = "Admitted to the mempool", body = SubmitTxResponse),
        (status = 400, description = "Malformed or refused transaction", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The signer already used this id; `first_result` tells how that transaction fared", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body above 1.5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor octet-stream", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Mempool full (see `Retry-After`) or node unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn submit_tx<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitTxResponse>), ApiError> {
    let body = parse::body_bytes(body, SUBMIT_BODY_BYTES_MAX)?;
    let decoded = match parse::body_kind(&headers, true)? {
        BodyKind::Json => {
            let request: SubmitTxRequest = parse::json_body(&body)?;
            parse::tx_from_text(&request.tx, "tx")?
        }
        BodyKind::Binary => parse::tx_from_bytes(&body, BODY_FIELD)?,
    };
    let response = node
        .submit(decoded)
        .await
        .map_err(|error| error.with_default_field("tx"))?;
    Ok((StatusCode::ACCEPTED, Json(response)))
}

/// Submit up to 1024 signed transactions in one request.
///
/// Each transaction is decoded and admitted on its own; the response has
/// one result per transaction, in request order, and is 200 even when
/// some (or all) were refused.
#[utoipa::path(
    post,
    path = "/v1/txs/batch",
    tag = "transactions",
    request_body = SubmitTxsRequest,
    responses(
        (status = 200, description = "One result per transaction", body = SubmitTxsResponse),
        (status = 400, description = "Malformed body, empty batch or more than 1024 transactions", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body above 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn submit_txs<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitTxsResponse>, ApiError> {
    let body = parse::body_bytes(body, BATCH_BODY_BYTES_MAX)?;
    parse::body_kind(&headers, false)?;
    let request: SubmitTxsRequest = parse::json_body(&body)?;
    check_batch_size(request.txs.len())?;
    let mut valid: Vec<DecodedTx> = Vec::with_capacity(request.txs.len());
    let refusals: Vec<Option<ApiError>> = request
        .txs
        .iter()
        .enumerate()
        .map(
            |(index, text)| match parse::tx_from_text(text, &batch_field(index)) {
                Ok(decoded) => {
                    valid.push(decoded);
                    None
                }
                Err(error) => Some(error),
            },
        )
        .collect();
    let valid_count = valid.len();
    let answers = node.submit_many(valid).await;
    if answers.len() != valid_count {
        return Err(ApiError::Internal {
            detail: format!(
                "submit_many returned {} results for {valid_count} transactions",
                answers.len()
            ),
        });
    }
    Ok(Json(SubmitTxsResponse {
        results: merge_batch_results(refusals, answers),
    }))
}

fn check_batch_size(count: usize) -> Result<(), ApiError> {
    if count == 0 {
        return Err(ApiError::bad_request(
            code::EMPTY_BATCH,
            "txs",
            "a batch needs at least one transaction",
        ));
    }
    if count > TXS_PER_BATCH_MAX {
        return Err(ApiError::bad_request(
            code::TOO_MANY_TXS,
            "txs",
            format!("batch has {count} transactions, above the limit of {TXS_PER_BATCH_MAX}"),
        ));
    }
    Ok(())
}

fn batch_field(index: usize) -> String {
    format!("txs[{index}]")
}

/// The field of a batch item's problem. The node names fields relative to
/// a single submission (`tx`, `tx.signature`) since it cannot know the
/// item's index; the edge does, and rewrites `tx` to `txs[i]`.
fn batch_item_field(index: usize, field: Option<&str>) -> String {
    let item = batch_field(index);
    match field {
        Some(field) if field.starts_with("txs[") => field.to_owned(),
        Some(field) => match field.strip_prefix("tx") {
            Some(rest) if rest.is_empty() || rest.starts_with('.') => format!("{item}{rest}"),
            _ => format!("{item}.{field}"),
        },
        None => item,
    }
}

/// Puts the node's answers back among the edge's refusals, in request
/// order. `answers` has one entry per item that was not refused.
fn merge_batch_results(
    refusals: Vec<Option<ApiError>>,
    answers: Vec<Result<SubmitTxResponse, ApiError>>,
) -> Vec<SubmitResult> {
    let mut answers = answers.into_iter();
    refusals
        .into_iter()
        .enumerate()
        .map(|(index, refusal)| {
            let answer = match refusal {
                Some(error) => Err(error),
                // The caller checked that the counts match.
                None => answers.next().unwrap_or_else(|| {
                    Err(ApiError::Internal {
                        detail: "submit_many returned too few results".to_owned(),
                    })
                }),
            };
            match answer {
                Ok(response) => SubmitResult::Accepted(response),
                Err(error) => {
                    let mut problem = error.to_problem();
                    problem.field = Some(batch_item_field(index, problem.field.as_deref()));
                    SubmitResult::Problem(problem)
                }
            }
        })
        .collect()
}

/// Where a transaction stands: pending, finalized (with its outcome) or
/// unknown.
#[utoipa::path(
    get,
    path = "/v1/txs/{hash}",
    tag = "transactions",
    params(("hash" = String, Path, description = "Transaction hash, 64 hex characters")),
    responses(
        (status = 200, description = "The transaction's status", body = TxStatusView),
        (status = 400, description = "Not a hash", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn tx_status<N: NodeApi>(
    State(node): State<N>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Json<TxStatusView>, ApiError> {
    let text = parse::path_segment(hash, "hash")?;
    let hash = parse::hash(&text, "hash")?;
    Ok(Json(node.tx_status(hash)?))
}

/// The last finalized block.
#[utoipa::path(
    get,
    path = "/v1/blocks/latest",
    tag = "blocks",
    responses(
        (status = 200, description = "The last finalized block", body = BlockView),
        (status = 404, description = "The node holds no block yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn latest_block<N: NodeApi>(
    State(node): State<N>,
) -> Result<Json<BlockView>, ApiError> {
    let height = node.status().height;
    node.block_by_height(height)?
        .map(Json)
        .ok_or_else(|| block_not_found(&format!("height {height}")))
}

/// A finalized block, by height or by id.
#[utoipa::path(
    get,
    path = "/v1/blocks/{height_or_id}",
    tag = "blocks",
    params(("height_or_id" = String, Path, description = "A decimal height, or a block id as 64 hex characters")),
    responses(
        (status = 200, description = "The block", body = BlockView),
        (status = 400, description = "Neither a height nor a block id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such block", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn block<N: NodeApi>(
    State(node): State<N>,
    height_or_id: Result<Path<String>, PathRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let text = parse::path_segment(height_or_id, "height_or_id")?;
    let found = match parse::block_ref(&text, "height_or_id")? {
        BlockRef::Height(height) => node.block_by_height(height)?,
        BlockRef::Id(id) => node.block_by_id(id)?,
    };
    found.map(Json).ok_or_else(|| block_not_found(&text))
}

fn block_not_found(what: &str) -> ApiError {
    ApiError::not_found(code::BLOCK_NOT_FOUND, format!("no finalized block {what}"))
}

/// An account: owner, flags and balances.
#[utoipa::path(
    get,
    path = "/v1/accounts/{address}",
    tag = "accounts",
    params(("address" = String, Path, description = "`cl1…` address, or an `org:account` alias")),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 400, description = "Malformed address or wrong checksum", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn account<N: NodeApi>(
    State(node): State<N>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Json<AccountView>, ApiError> {
    let text = parse::path_segment(address, "address")?;
    let address = parse::address(&text, "address")?;
    Ok(Json(node.account(address)?))
}

/// Query of an account's history.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AccountTxsQuery {
    cursor: Option<String>,
    // Text, not a number, so that a bad value is reported as `limit` with
    // its range rather than as a generic query error.
    limit: Option<String>,
}

/// An account's transactions, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/accounts/{address}/txs",
    tag = "accounts",
    params(
        ("address" = String, Path, description = "`cl1…` address, or an `org:account` alias"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of transactions", body = AccountTxsPage),
        (status = 400, description = "Malformed address, cursor or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn account_txs<N: NodeApi>(
    State(node): State<N>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<AccountTxsQuery>, QueryRejection>,
) -> Result<Json<AccountTxsPage>, ApiError> {
    let text = parse::path_segment(address, "address")?;
    let address = parse::address(&text, "address")?;
    let query = parse::query_params(query)?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.account_txs(address, cursor, limit)?))
}

/// The node's view of the chain: height, roots, validators, mempool.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "node",
    responses((status = 200, description = "Node status", body = StatusView))
)]
pub(super) async fn status<N: NodeApi>(State(node): State<N>) -> Json<StatusView> {
    Json(node.status())
}

/// Liveness: answers `ok` whenever the REST server runs.
#[utoipa::path(
    get,
    path = "/health",
    tag = "node",
    responses((status = 200, description = "The server answers", body = HealthView))
)]
pub(super) async fn health() -> Json<HealthView> {
    Json(HealthView::ok())
}

/// Metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub(super) async fn metrics<N: NodeApi>(State(node): State<N>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(METRICS_CONTENT_TYPE),
        )],
        node.metrics_text(),
    )
}

/// Query of the event stream.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StreamQuery {
    from_height: Option<String>,
    org: Option<String>,
    area: Option<String>,
    severity: Option<String>,
}

/// The filter of a stream request, each parameter validated.
fn stream_filter(query: &StreamQuery) -> Result<StreamFilter, ApiError> {
    let org = query
        .org
        .as_deref()
        .map(|text| super::obligations::org(text, "org"))
        .transpose()?;
    let area = query
        .area
        .as_deref()
        .map(|text| {
            AreaCode::new(text)
                .map_err(|error| ApiError::bad_request(code::BAD_AREA, "area", error.to_string()))
        })
        .transpose()?;
    let severity = query
        .severity
        .as_deref()
        .map(|text| {
            Severity::parse(text).ok_or_else(|| {
                let names: Vec<&str> = Severity::ALL.iter().map(Severity::as_str).collect();
                ApiError::bad_request(
                    code::BAD_SEVERITY,
                    "severity",
                    format!("severity must be one of {}, not {text:?}", names.join(", ")),
                )
            })
        })
        .transpose()?;
    Ok(StreamFilter {
        org,
        area,
        severity,
    })
}

/// Finalized blocks as server-sent events, from `from_height` onward.
///
/// Each event is named `block`, has the block height as its `id` and a
/// `StreamEvent` as its data. Stored blocks are replayed first, then live
/// ones follow. To resume, reconnect with `Last-Event-ID` set to the last
/// id received (browsers do this themselves); it wins over `from_height`.
/// Comments are sent as keep-alives when no block arrives.
#[utoipa::path(
    get,
    path = "/v1/stream",
    tag = "blocks",
    params(
        ("from_height" = Option<u64>, Query, description = "First height to send; default: the next block to be finalized"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Height of the last event received; the stream resumes after it"),
        ("org" = Option<String>, Query, description = "Only events that concern this agency (its `org`, `issuer` or one of its `orgs`); blocks with none are not sent"),
        ("area" = Option<String>, Query, description = "Only events in this area code"),
        ("severity" = Option<String>, Query, description = "Only events at least this severe: info, minor, major or critical"),
    ),
    responses(
        (status = 200, description = "A stream of `block` events", body = StreamEvent, content_type = "text/event-stream"),
        (status = 400, description = "Malformed from_height, Last-Event-ID, org, area or severity", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn stream<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<sse::Event, axum::Error>>>, ApiError> {
    let query = parse::query_params(query)?;
    let from = parse::stream_start(query.from_height.as_deref(), headers.get("last-event-id"))?;
    let filter = stream_filter(&query)?;
    let events = node
        .stream(from)
        .filter_map(move |event| futures::future::ready(filter.apply(event)))
        .map(|event| sse_event(&event));
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(STREAM_KEEP_ALIVE_S));
    Ok(Sse::new(events).keep_alive(keep_alive))
}

/// One SSE message. Serializing a `StreamEvent` cannot fail (it has no
/// maps with non-string keys); if it ever did, the error ends the stream
/// and the client resumes from its last id.
fn sse_event(event: &StreamEvent) -> Result<sse::Event, axum::Error> {
    sse::Event::default()
        .id(event.height.to_string())
        .event(BLOCK_EVENT_NAME)
        .json_data(event)
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "node",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"))
)]
pub(super) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi())
}

/// Any path no route matches.
pub(super) async fn route_not_found() -> ApiError {
    ApiError::not_found(
        code::ROUTE_NOT_FOUND,
        "no route matches this path; /openapi.json lists the routes",
    )
}

/// A route that exists, with a method it does not take.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
