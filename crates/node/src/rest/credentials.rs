//! The application and credential routes: one application or credential,
//! listings, histories, a credential's status at a height or time with its
//! proof, and an issuer's Bitstring Status List.

use super::obligations::org;
use super::parse;
use super::{ApiError, NodeApi};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use cityledger_api::problem::code;
use cityledger_api::{
    ApplicationView, ApplicationsPage, CredentialStatusProof, CredentialView, CredentialsPage,
    ObligationHistoryPage, Problem, StatusListView,
};
use cityledger_types::{Address, Digest, Height, OrgName};
use cityledger_vc::StatusPurpose;
use serde::Deserialize;

/// Which applications a listing returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplicationStatusFilter {
    /// Submitted or waiting for information.
    Open,
    /// Approved or rejected.
    Decided,
}

/// A validated application listing: an applicant's, or a deciding
/// organisation's (then in one group, `open` by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationQuery {
    /// Applications of this applicant (`cl1…` of the key).
    pub applicant: Option<Address>,
    /// Applications this organisation decides.
    pub org: Option<OrgName>,
    /// Only open or only decided ones.
    pub status: Option<ApplicationStatusFilter>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// A validated credential listing: a holder's or an issuer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialQuery {
    /// Credentials of this holder.
    pub holder: Option<Address>,
    /// Credentials of this issuer.
    pub issuer: Option<OrgName>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// The moment a status question asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMoment {
    /// The newest finalized block.
    Now,
    /// The state after block `height`, at its block time.
    Height(Height),
    /// Block time `ms`, with every change made by then.
    Time(u64),
}

/// Query of a listing of applications.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ApplicationListParams {
    applicant: Option<String>,
    org: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Applications of an applicant, or the queue of a deciding agency, newest
/// first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/applications",
    tag = "credentials",
    params(
        ("applicant" = Option<String>, Query, description = "`cl1…` address of the applicant's key"),
        ("org" = Option<String>, Query, description = "Deciding organisation; one of applicant and org is required"),
        ("status" = Option<String>, Query, description = "open (submitted or waiting for information) or decided; an organisation's listing defaults to open"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of applications", body = ApplicationsPage),
        (status = 400, description = "Neither applicant nor org, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_applications<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<ApplicationListParams>, QueryRejection>,
) -> Result<Json<ApplicationsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let applicant = query
        .applicant
        .as_deref()
        .map(|text| parse::address(text, "applicant"))
        .transpose()?;
    let org = query
        .org
        .as_deref()
        .map(|text| org(text, "org"))
        .transpose()?;
    if applicant.is_none() && org.is_none() {
        return Err(ApiError::bad_request(
            code::MISSING_PARAMETER,
            "applicant",
            "give applicant, org or both",
        ));
    }
    let status = query
        .status
        .as_deref()
        .map(|text| match text {
            "open" => Ok(ApplicationStatusFilter::Open),
            "decided" => Ok(ApplicationStatusFilter::Decided),
            _ => Err(ApiError::bad_request(
                code::BAD_APPLICATION_STATUS,
                "status",
                "status must be open or decided",
            )),
        })
        .transpose()?;
    Ok(Json(node.applications(ApplicationQuery {
        applicant,
        org,
        status,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
    })?))
}

/// One application: its fields, document commitments, fee, requests for
/// information and decision.
#[utoipa::path(
    get,
    path = "/v1/applications/{id}",
    tag = "credentials",
    params(("id" = String, Path, description = "Application id, 64 hex characters")),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_application<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ApplicationView>, ApiError> {
    let id = path_id(id)?;
    node.application(id)?.map(Json).ok_or_else(|| {
        ApiError::not_found(code::APPLICATION_NOT_FOUND, format!("no application {id}"))
    })
}

/// Query of a history page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageParams {
    cursor: Option<String>,
    limit: Option<String>,
}

/// Every step of an application, oldest first: submitted, information
/// requested, answered, approved or rejected.
#[utoipa::path(
    get,
    path = "/v1/applications/{id}/history",
    tag = "credentials",
    params(
        ("id" = String, Path, description = "Application id, 64 hex characters"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of the history (the same shape as an obligation's)", body = ObligationHistoryPage),
        (status = 400, description = "Malformed id, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn application_history<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<ObligationHistoryPage>, ApiError> {
    let id = path_id(id)?;
    let query = parse::query_params(query)?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.application_history(id, cursor, limit)?))
}

/// Query of a listing of credentials.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CredentialListParams {
    holder: Option<String>,
    issuer: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Credentials of a holder or of an issuer, newest issued first.
#[utoipa::path(
    get,
    path = "/v1/credentials",
    tag = "credentials",
    params(
        ("holder" = Option<String>, Query, description = "`cl1…` address of the holder's key"),
        ("issuer" = Option<String>, Query, description = "Issuing organisation; one of holder and issuer is required"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of credentials", body = CredentialsPage),
        (status = 400, description = "Neither holder nor issuer, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_credentials<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<CredentialListParams>, QueryRejection>,
) -> Result<Json<CredentialsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let holder = query
        .holder
        .as_deref()
        .map(|text| parse::address(text, "holder"))
        .transpose()?;
    let issuer = query
        .issuer
        .as_deref()
        .map(|text| org(text, "issuer"))
        .transpose()?;
    if holder.is_none() && issuer.is_none() {
        return Err(ApiError::bad_request(
            code::MISSING_PARAMETER,
            "holder",
            "give holder, issuer or both",
        ));
    }
    Ok(Json(node.credentials(CredentialQuery {
        holder,
        issuer,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
    })?))
}

/// One credential: its claims, validity, status now and every change of
/// its status.
#[utoipa::path(
    get,
    path = "/v1/credentials/{id}",
    tag = "credentials",
    params(("id" = String, Path, description = "Credential id, 64 hex characters")),
    responses(
        (status = 200, description = "The credential", body = CredentialView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show_credential<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CredentialView>, ApiError> {
    let id = path_id(id)?;
    node.credential(id)?.map(Json).ok_or_else(|| {
        ApiError::not_found(code::CREDENTIAL_NOT_FOUND, format!("no credential {id}"))
    })
}

/// Every step of a credential, oldest first, as events.
#[utoipa::path(
    get,
    path = "/v1/credentials/{id}/history",
    tag = "credentials",
    params(
        ("id" = String, Path, description = "Credential id, 64 hex characters"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of the history", body = ObligationHistoryPage),
        (status = 400, description = "Malformed id, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn credential_history<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<ObligationHistoryPage>, ApiError> {
    let id = path_id(id)?;
    let query = parse::query_params(query)?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.credential_history(id, cursor, limit)?))
}

/// Query of a status question.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusParams {
    height: Option<String>,
    at: Option<String>,
}

/// Was the credential valid at a height or a time? The answer, with the
/// proof of the credential's record against the state root of the newest
/// finalized block: the record holds every change of status, so the proof
/// covers any earlier moment.
#[utoipa::path(
    get,
    path = "/v1/credentials/{id}/status",
    tag = "credentials",
    params(
        ("id" = String, Path, description = "Credential id, 64 hex characters"),
        ("height" = Option<u64>, Query, description = "The state after this finalized block, at its block time"),
        ("at" = Option<u64>, Query, description = "Block time, ms since the Unix epoch; give height or at, or neither for now"),
    ),
    responses(
        (status = 200, description = "The status and its proof", body = CredentialStatusProof),
        (status = 400, description = "Malformed id, height or time, or both a height and a time", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credential, or the height is not finalized yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn credential_status<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<StatusParams>, QueryRejection>,
) -> Result<Json<CredentialStatusProof>, ApiError> {
    let id = path_id(id)?;
    let query = parse::query_params(query)?;
    let number = |text: &str, field: &str| {
        parse::decimal_u64(text).ok_or_else(|| {
            ApiError::bad_request(
                code::BAD_MOMENT,
                field,
                format!("{field} must be a decimal number; got {text:?}"),
            )
        })
    };
    let moment = match (query.height.as_deref(), query.at.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                code::AMBIGUOUS_MOMENT,
                "at",
                "give a height or a time, not both",
            ));
        }
        (Some(height), None) => StatusMoment::Height(Height(number(height, "height")?)),
        (None, Some(at)) => StatusMoment::Time(number(at, "at")?),
        (None, None) => StatusMoment::Now,
    };
    Ok(Json(node.credential_status(id, moment)?))
}

/// An issuer's Bitstring Status List for `revocation` or `suspension`:
/// the encoded bits and the unsigned status list credential, which the
/// issuer signs with its issuer key (`cityledger credential status-list`).
#[utoipa::path(
    get,
    path = "/v1/status-lists/{org}/{purpose}/{list}",
    tag = "credentials",
    params(
        ("org" = String, Path, description = "The issuing organisation"),
        ("purpose" = String, Path, description = "revocation or suspension"),
        ("list" = u32, Path, description = "Which list: positions list × 131072 onward"),
    ),
    responses(
        (status = 200, description = "The status list", body = StatusListView),
        (status = 400, description = "Malformed organisation, purpose or list", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn status_list<N: NodeApi>(
    State(node): State<N>,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Json<StatusListView>, ApiError> {
    let Path((org_text, purpose, list)) = path
        .map_err(|rejection| ApiError::bad_request(code::BAD_PATH, "org", rejection.body_text()))?;
    let org = org(&org_text, "org")?;
    let purpose = StatusPurpose::parse(&purpose).ok_or_else(|| {
        ApiError::bad_request(
            code::BAD_PURPOSE,
            "purpose",
            "purpose must be revocation or suspension",
        )
    })?;
    let list = parse::decimal_u64(&list)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            ApiError::bad_request(code::BAD_LIST, "list", "list must be a decimal number")
        })?;
    // The list credential's id is the URL it is fetched from; the Host the
    // client used is the best guess of that URL a node has.
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| host.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    Ok(Json(node.status_list(
        org,
        purpose,
        list,
        format!("http://{host}"),
    )?))
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<Digest, ApiError> {
    let text = parse::path_segment(id, "id")?;
    parse::hash(&text, "id")
}
