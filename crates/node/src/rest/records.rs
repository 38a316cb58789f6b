//! The record, access, device and batch routes: anchoring a record with
//! its sealed blob, one record or a listing, the sealed content for a
//! granted access (403 with the refused access record, 410 with the
//! tombstone), wrapped keys for new readers, an owner's access log, devices
//! and a batch with its proof.

use super::NodeApi;
use super::error::ApiError;
use super::obligations::org;
use super::parse;
use super::safety::{SignedReader, signed_reader};
use crate::record_indexes::GrantListing;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_api::limits::{ANCHOR_BODY_BYTES_MAX, SUBMIT_BODY_BYTES_MAX};
use cityledger_api::problem::code;
use cityledger_api::{
    AccessesPage, AnchorRecordRequest, BatchProof, DeviceView, DevicesPage, GrantsPage, Problem,
    RecordContentView, RecordKeysRequest, RecordView, RecordsPage, SubmitTxResponse,
};
use cityledger_types::encoding;
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::{Address, Digest, PublicKey};
use serde::Deserialize;

/// A validated record listing: an owner's or a recipient's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordQuery {
    /// Records of this owner.
    pub owner: Option<Address>,
    /// Records sent to this recipient.
    pub recipient: Option<Address>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Who asked: the owner or the recipient listed.
    pub reader: SignedReader,
}

/// A validated grant listing: an owner's or a reader's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantQuery {
    /// Whose grants: an owner's or a reader's.
    pub listing: GrantListing,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Who asked: the owner or the reader listed.
    pub signer: SignedReader,
}

/// A validated access log request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessQuery {
    /// Whose log.
    pub owner: Address,
    /// Only accesses to this record.
    pub record: Option<Digest>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Who asked: the owner.
    pub reader: SignedReader,
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<Digest, ApiError> {
    let text = parse::path_segment(id, "id")?;
    parse::hash(&text, "id")
}

fn base64_field(text: &str, field: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|error| {
        ApiError::bad_request(
            code::BAD_BASE64,
            field,
            format!("{field} is not base64url: {error}"),
        )
    })
}

/// Anchor a record: the node stores the sealed blob and the wrapped keys,
/// checked against the digest and size the anchoring transaction names,
/// then admits the transaction.
#[utoipa::path(
    post,
    path = "/v1/records",
    tag = "records",
    request_body = AnchorRecordRequest,
    responses(
        (status = 202, description = "Blob stored and transaction admitted", body = SubmitTxResponse),
        (status = 400, description = "Not an anchoring, a blob that is not the one it names, malformed keys", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The signer already used this transaction id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body above the limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn anchor<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitTxResponse>), ApiError> {
    let body = parse::body_bytes(body, ANCHOR_BODY_BYTES_MAX)?;
    // JSON only: the blob travels as base64url beside the transaction.
    parse::body_kind(&headers, false)?;
    let request: AnchorRecordRequest = parse::json_body(&body)?;
    let decoded = parse::tx_from_text(&request.tx, "tx")?;
    let blob = base64_field(&request.blob, "blob")?;
    let keys = WrappedKeys::new(request.keys)
        .map_err(|error| ApiError::bad_request(code::BAD_KEYS, "keys", error.to_string()))?;
    let response = node
        .anchor_record(decoded, blob, keys)
        .await
        .map_err(|error| error.with_default_field("tx"))?;
    Ok((StatusCode::ACCEPTED, Json(response)))
}

/// Query of a record listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RecordListParams {
    owner: Option<String>,
    recipient: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Records of an owner (the data subject) or sent to a recipient, newest
/// first: parties, commitments and tombstones, never content. A signed
/// read by that owner or recipient.
#[utoipa::path(
    get,
    path = "/v1/records",
    tag = "records",
    params(
        ("owner" = Option<String>, Query, description = "`cl1…` address of the owner's key"),
        ("recipient" = Option<String>, Query, description = "`cl1…` address of a recipient's key; one of owner and recipient is required"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
        ("x-cityledger-key" = String, Header, description = "The reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The reader's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "A page of records", body = RecordsPage),
        (status = 400, description = "Neither owner nor recipient, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unsigned, badly signed or stale, or signed by another key than the owner or recipient listed (`not_the_reader`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_records<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<RecordListParams>, QueryRejection>,
) -> Result<Json<RecordsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let owner = query
        .owner
        .as_deref()
        .map(|text| parse::address(text, "owner"))
        .transpose()?;
    let recipient = query
        .recipient
        .as_deref()
        .map(|text| parse::address(text, "recipient"))
        .transpose()?;
    if owner.is_none() && recipient.is_none() {
        return Err(ApiError::bad_request(
            code::MISSING_PARAMETER,
            "owner",
            "give owner or recipient",
        ));
    }
    Ok(Json(node.records(RecordQuery {
        owner,
        recipient,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
        reader: signed_reader(&headers, &uri)?,
    })?))
}

/// One record: its type, parties, commitment, metadata, acknowledgements
/// and, once erased, its tombstone.
#[utoipa::path(
    get,
    path = "/v1/records/{id}",
    tag = "records",
    params(("id" = String, Path, description = "Record id, 64 hex characters")),
    responses(
        (status = 200, description = "The record", body = RecordView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_record<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<RecordView>, ApiError> {
    let id = path_id(id)?;
    node.record(id)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(code::RECORD_NOT_FOUND, format!("no record {id}")))
}

/// Query of a content request.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ContentParams {
    access: Option<String>,
}

/// The sealed content of a record for a finalized access transaction
/// signed by the reader: the blob and the data key wrapped for that
/// reader, which only the reader's key opens. A signed read by that
/// reader.
#[utoipa::path(
    get,
    path = "/v1/records/{id}/content",
    tag = "records",
    params(
        ("id" = String, Path, description = "Record id, 64 hex characters"),
        ("access" = String, Query, description = "Hash of the reader's finalized access transaction"),
        ("x-cityledger-key" = String, Header, description = "The reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The reader's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "The sealed blob and the reader's wrapped key", body = RecordContentView),
        (status = 400, description = "Malformed id or access, or an access to another record", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The chain refused the access (no grant, expired, revoked; the problem carries the access record), or the read is unsigned, stale or signed by another key than the access's reader (`not_the_reader`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, no finalized access, or this node holds no blob or key for the reader", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The record was erased; the problem carries its tombstone", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn content<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<ContentParams>, QueryRejection>,
) -> Result<Json<RecordContentView>, ApiError> {
    let id = path_id(id)?;
    let query = parse::query_params(query)?;
    let access = query.access.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            code::MISSING_PARAMETER,
            "access",
            "name the finalized access transaction",
        )
    })?;
    let access = parse::hash(access, "access")?;
    let reader = signed_reader(&headers, &uri)?;
    Ok(Json(node.record_content(id, access, reader)?))
}

/// Hand this node the data key wrapped for new readers, signed by the
/// record's owner or author.
#[utoipa::path(
    post,
    path = "/v1/records/{id}/keys",
    tag = "records",
    request_body = RecordKeysRequest,
    params(("id" = String, Path, description = "Record id, 64 hex characters")),
    responses(
        (status = 200, description = "How many wrapped keys the record has on this node", body = u64),
        (status = 400, description = "Malformed upload, or one for another record", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not signed by the record's owner or author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The record was erased", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn add_keys<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<usize>, ApiError> {
    let id = path_id(id)?;
    let body = parse::body_bytes(body, SUBMIT_BODY_BYTES_MAX)?;
    let request: RecordKeysRequest = parse::json_body(&body)?;
    let bytes = base64_field(&request.upload, "upload")?;
    let upload: KeyUpload = encoding::decode_exact(&bytes, "key upload", SUBMIT_BODY_BYTES_MAX)
        .map_err(|error| ApiError::bad_request(code::BAD_KEYS, "upload", error.to_string()))?;
    if upload.record != id {
        return Err(ApiError::bad_request(
            code::BAD_KEYS,
            "upload",
            format!("the upload is for record {}, not {id}", upload.record),
        ));
    }
    Ok(Json(node.add_record_keys(upload)?))
}

/// Query of an access log.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AccessListParams {
    owner: Option<String>,
    record: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Who accessed an owner's records, granted or refused, newest first; a
/// signed read by the owner.
#[utoipa::path(
    get,
    path = "/v1/accesses",
    tag = "records",
    params(
        ("owner" = String, Query, description = "`cl1…` address of the owner's key"),
        ("record" = Option<String>, Query, description = "Only accesses to this record"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
        ("x-cityledger-key" = String, Header, description = "The reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The reader's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "A page of the access log", body = AccessesPage),
        (status = 400, description = "No owner, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unsigned, badly signed or stale, or signed by another key than the owner (`not_the_reader`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_accesses<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<AccessListParams>, QueryRejection>,
) -> Result<Json<AccessesPage>, ApiError> {
    let query = parse::query_params(query)?;
    let owner = query
        .owner
        .as_deref()
        .ok_or_else(|| ApiError::bad_request(code::MISSING_PARAMETER, "owner", "give the owner"))?;
    let owner = parse::address(owner, "owner")?;
    let record = query
        .record
        .as_deref()
        .map(|text| parse::hash(text, "record"))
        .transpose()?;
    Ok(Json(node.accesses(AccessQuery {
        owner,
        record,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
        reader: signed_reader(&headers, &uri)?,
    })?))
}

/// Query of a grant listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct GrantListParams {
    owner: Option<String>,
    reader: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// The consent grants an owner gave, or those given to a reader, newest
/// first, each with its state at the tip (`active`, `expired`,
/// `revoked`); a signed read by that owner or reader.
#[utoipa::path(
    get,
    path = "/v1/grants",
    tag = "records",
    params(
        ("owner" = Option<String>, Query, description = "`cl1…` address of the owner's key: the grants it gave"),
        ("reader" = Option<String>, Query, description = "`cl1…` address of the reader's key: the grants it holds; give one of owner and reader"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
        ("x-cityledger-key" = String, Header, description = "The owner's or reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The signer's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "A page of grants", body = GrantsPage),
        (status = 400, description = "Neither or both of owner and reader, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unsigned, badly signed or stale, or signed by another key than the party listed (`not_the_reader`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_grants<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<GrantListParams>, QueryRejection>,
) -> Result<Json<GrantsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let listing = match (query.owner.as_deref(), query.reader.as_deref()) {
        (Some(owner), None) => GrantListing::Owner(parse::address(owner, "owner")?),
        (None, Some(reader)) => GrantListing::Reader(parse::address(reader, "reader")?),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                code::BAD_QUERY,
                "reader",
                "give owner or reader, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                code::MISSING_PARAMETER,
                "owner",
                "give owner or reader",
            ));
        }
    };
    Ok(Json(node.grants(GrantQuery {
        listing,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
        signer: signed_reader(&headers, &uri)?,
    })?))
}

/// Query of a device listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DeviceListParams {
    org: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// An organisation's devices, newest registered first.
#[utoipa::path(
    get,
    path = "/v1/devices",
    tag = "records",
    params(
        ("org" = String, Query, description = "The organisation"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of devices", body = DevicesPage),
        (status = 400, description = "No org, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_devices<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<DeviceListParams>, QueryRejection>,
) -> Result<Json<DevicesPage>, ApiError> {
    let query = parse::query_params(query)?;
    let text = query
        .org
        .as_deref()
        .ok_or_else(|| ApiError::bad_request(code::MISSING_PARAMETER, "org", "give the org"))?;
    let org = org(text, "org")?;
    Ok(Json(node.devices(
        org,
        parse::cursor(query.cursor)?,
        parse::page_limit(query.limit.as_deref())?,
    )?))
}

/// One device: its organisation, type, status and next batch sequence.
#[utoipa::path(
    get,
    path = "/v1/devices/{key}",
    tag = "records",
    params(("key" = String, Path, description = "The device's key, 64 hex characters")),
    responses(
        (status = 200, description = "The device", body = DeviceView),
        (status = 400, description = "Not a key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such device", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_device<N: NodeApi>(
    State(node): State<N>,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<DeviceView>, ApiError> {
    let text = parse::path_segment(key, "key")?;
    let key = PublicKey::from_hex(&text)
        .map_err(|error| ApiError::bad_request(code::BAD_KEY, "key", error.to_string()))?;
    node.device(key)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(code::DEVICE_NOT_FOUND, format!("no device {key}")))
}

/// An anchored batch with the proof of its record against the state root;
/// each message proves against its root.
#[utoipa::path(
    get,
    path = "/v1/batches/{id}",
    tag = "records",
    params(("id" = String, Path, description = "Batch id, 64 hex characters")),
    responses(
        (status = 200, description = "The batch and its proof", body = BatchProof),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_batch<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<BatchProof>, ApiError> {
    let id = path_id(id)?;
    Ok(Json(node.batch(id)?))
}
