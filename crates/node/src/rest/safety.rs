//! The public safety and education routes: alerts an agency received,
//! incidents (signed reads: 403 `incident_not_shared` for a reader of no
//! agency it is shared with), evidence with its custody, case bundles, exam
//! results, and the custody and bundle-item receipts (ADR 0008).

use super::NodeApi;
use super::error::ApiError;
use super::obligations::org;
use super::parse;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use cityledger_api::problem::code;
use cityledger_api::safety::{
    READ_KEY_HEADER, READ_SIGNATURE_HEADER, READ_TIME_HEADER, read_payload,
};
use cityledger_api::{
    AlertsPage, CaseView, EvidenceView, ExamResultsPage, IncidentView, IncidentsPage, Problem,
    ReceiptView,
};
use cityledger_types::{Digest, PublicKey, Signature};
use serde::Deserialize;

/// A reader whose signature over the request the REST edge checked; the
/// node checks its clock and its membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedReader {
    /// The reader's key.
    pub key: PublicKey,
    /// The reader's clock when signing, ms since the Unix epoch.
    pub time_ms: u64,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    let value = headers.get(name).ok_or_else(|| ApiError::Forbidden {
        code: code::UNSIGNED_READ,
        detail: format!(
            "this read must be signed: send {READ_KEY_HEADER}, {READ_TIME_HEADER} and {READ_SIGNATURE_HEADER} (ed25519 over cityledger/read/v1 ‖ path and query ‖ time); {name} is missing"
        ),
        access: None,
    })?;
    value
        .to_str()
        .map_err(|_| bad_signature(format!("{name} is not text")))
}

fn bad_signature(detail: String) -> ApiError {
    ApiError::Forbidden {
        code: code::BAD_READ_SIGNATURE,
        detail,
        access: None,
    }
}

/// The reader of a signed request for `uri`.
pub(super) fn signed_reader(headers: &HeaderMap, uri: &Uri) -> Result<SignedReader, ApiError> {
    let key = PublicKey::from_hex(header(headers, READ_KEY_HEADER)?)
        .map_err(|error| bad_signature(format!("{READ_KEY_HEADER}: {error}")))?;
    let time_ms = parse::decimal_u64(header(headers, READ_TIME_HEADER)?).ok_or_else(|| {
        bad_signature(format!(
            "{READ_TIME_HEADER} must be ms since the Unix epoch"
        ))
    })?;
    let signature = Signature::from_hex(header(headers, READ_SIGNATURE_HEADER)?)
        .map_err(|error| bad_signature(format!("{READ_SIGNATURE_HEADER}: {error}")))?;
    let target = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    key.verify(&read_payload(target, time_ms), &signature)
        .map_err(|_| {
            bad_signature(format!(
                "the signature does not verify for {key} over {target} at {time_ms}"
            ))
        })?;
    Ok(SignedReader { key, time_ms })
}

fn path_id(id: Result<Path<String>, PathRejection>, field: &str) -> Result<Digest, ApiError> {
    let text = parse::path_segment(id, field)?;
    parse::hash(&text, field)
}

/// Query of an agency's listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AgencyListParams {
    org: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Alerts an agency received (its devices' and those it was notified of),
/// newest first.
#[utoipa::path(
    get,
    path = "/v1/alerts",
    tag = "safety",
    params(
        ("org" = String, Query, description = "The agency"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of alerts", body = AlertsPage),
        (status = 400, description = "No or a malformed org, cursor or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_alerts<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<AgencyListParams>, QueryRejection>,
) -> Result<Json<AlertsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let org = required_org(query.org.as_deref())?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.alerts(org, cursor, limit)?))
}

fn required_org(text: Option<&str>) -> Result<cityledger_types::OrgName, ApiError> {
    let text = text.ok_or_else(|| {
        ApiError::bad_request(code::MISSING_PARAMETER, "org", "give the agency: org=")
    })?;
    org(text, "org")
}

/// Incidents an agency opened or was shared, newest first; a signed read
/// by one of its members.
#[utoipa::path(
    get,
    path = "/v1/incidents",
    tag = "safety",
    params(
        ("org" = String, Query, description = "The agency"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
        ("x-cityledger-key" = String, Header, description = "The reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The reader's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentsPage),
        (status = 400, description = "No or a malformed org, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unsigned, badly signed, stale, or the reader is not a member of the agency", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_incidents<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<AgencyListParams>, QueryRejection>,
) -> Result<Json<IncidentsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let org = required_org(query.org.as_deref())?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    let reader = signed_reader(&headers, &uri)?;
    Ok(Json(node.incidents(org, reader, cursor, limit)?))
}

/// An incident with its updates and shares; a signed read by a member of
/// an agency it is shared with.
#[utoipa::path(
    get,
    path = "/v1/incidents/{id}",
    tag = "safety",
    params(
        ("id" = String, Path, description = "Incident id, 64 hex characters"),
        ("x-cityledger-key" = String, Header, description = "The reader's key, hex"),
        ("x-cityledger-time" = u64, Header, description = "The reader's clock, ms"),
        ("x-cityledger-signature" = String, Header, description = "ed25519 over `cityledger/read/v1 ‖ path and query ‖ time (8 bytes, big-endian)`, hex"),
    ),
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unsigned, badly signed, stale, or not shared with the reader's agencies (`incident_not_shared`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_incident<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = path_id(id, "id")?;
    let reader = signed_reader(&headers, &uri)?;
    Ok(Json(node.incident(id, reader)?))
}

/// An evidence item: its record (parties, commitment) and its custody
/// (holder, open offer, every hand-over).
#[utoipa::path(
    get,
    path = "/v1/evidence/{id}",
    tag = "safety",
    params(("id" = String, Path, description = "Evidence id (its record's), 64 hex characters")),
    responses(
        (status = 200, description = "The item and its custody", body = EvidenceView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such evidence item", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_evidence<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EvidenceView>, ApiError> {
    let id = path_id(id, "id")?;
    node.evidence(id)?.map(Json).ok_or_else(|| {
        ApiError::not_found(code::EVIDENCE_NOT_FOUND, format!("no evidence item {id}"))
    })
}

/// A case bundle: its items in order and every version's root.
#[utoipa::path(
    get,
    path = "/v1/cases/{id}",
    tag = "safety",
    params(("id" = String, Path, description = "Case id, 64 hex characters")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_case<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CaseView>, ApiError> {
    let id = path_id(id, "id")?;
    node.case(id)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(code::CASE_NOT_FOUND, format!("no case {id}")))
}

/// Query of a page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageParams {
    cursor: Option<String>,
    limit: Option<String>,
}

/// An exam and its students' entries: commitments, reveals, grades and
/// certificates.
#[utoipa::path(
    get,
    path = "/v1/exams/{id}/results",
    tag = "education",
    params(
        ("id" = String, Path, description = "Exam id, 64 hex characters"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "The exam and a page of entries", body = ExamResultsPage),
        (status = 400, description = "Not an id, or a malformed cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such exam", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn exam_results<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<ExamResultsPage>, ApiError> {
    let id = path_id(id, "id")?;
    let query = parse::query_params(query)?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.exam_results(id, cursor, limit)?))
}

/// The receipt of an evidence item's custody: who holds it and every
/// hand-over, proven by one state entry. An unknown id gets a receipt
/// proving absence.
#[utoipa::path(
    get,
    path = "/v1/receipts/custody/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "Evidence id, 64 hex characters")),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn custody_receipt<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let id = path_id(id, "id")?;
    Ok(Json(node.custody_receipt(id)?))
}

/// Query of a bundle-item receipt.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CaseItemParams {
    version: Option<String>,
}

/// The receipt that an evidence item is at its position in a version of a
/// case bundle (the newest by default).
#[utoipa::path(
    get,
    path = "/v1/receipts/case/{case}/{item}",
    tag = "receipts",
    params(
        ("case" = String, Path, description = "Case id, 64 hex characters"),
        ("item" = String, Path, description = "Evidence id, 64 hex characters"),
        ("version" = Option<u32>, Query, description = "The bundle version, from 1; default the newest"),
    ),
    responses(
        (status = 200, description = "The receipt; verify it offline before trusting its statement", body = ReceiptView),
        (status = 400, description = "Not an id, or a version that is not a number from 1", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case or version, or the item is not in it", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No certified finalized block yet; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn case_item_receipt<N: NodeApi>(
    State(node): State<N>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<CaseItemParams>, QueryRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let Path((case, item)) =
        path.map_err(|error| ApiError::bad_request(code::BAD_PATH, "path", error.body_text()))?;
    let case = parse::hash(&case, "case")?;
    let item = parse::hash(&item, "item")?;
    let query = parse::query_params(query)?;
    let version = query
        .version
        .as_deref()
        .map(|text| match parse::decimal_u64(text) {
            Some(version) if (1..=u64::from(u32::MAX)).contains(&version) => Ok(version as u32),
            _ => Err(ApiError::bad_request(
                code::BAD_VERSION,
                "version",
                format!("version must be a number from 1, not {text:?}"),
            )),
        })
        .transpose()?;
    Ok(Json(node.case_item_receipt(case, item, version)?))
}
