//! The obligation routes: one obligation, listings by payer or issuer and
//! status, an obligation's history, and the per-agency report.

use super::parse;
use super::{ApiError, NodeApi, ObligationQuery, ReportQuery};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use cityledger_api::civil;
use cityledger_api::limits::REPORT_DAYS_MAX;
use cityledger_api::problem::code;
use cityledger_api::{
    ObligationHistoryPage, ObligationReport, ObligationStatusFilter, ObligationView,
    ObligationsPage, Problem,
};
use cityledger_types::{CurrencyCode, OrgName};
use serde::Deserialize;

/// Query of an obligation listing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    payer: Option<String>,
    issuer: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Obligations of a payer or of an issuing agency, newest issued first,
/// optionally of one status, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/obligations",
    tag = "obligations",
    params(
        ("payer" = Option<String>, Query, description = "`cl1…` address of the payer"),
        ("issuer" = Option<String>, Query, description = "Issuing organisation; one of payer and issuer is required, both may be given"),
        ("status" = Option<String>, Query, description = "open, partially_paid, overdue, payable, paid, waived, appealed or cancelled"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of obligations; `next_cursor` is absent when the listing is complete", body = ObligationsPage),
        (status = 400, description = "Neither payer nor issuer, or a malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ObligationsPage>, ApiError> {
    let query = parse::query_params(query)?;
    let payer = query
        .payer
        .as_deref()
        .map(|text| parse::address(text, "payer"))
        .transpose()?;
    let issuer = query
        .issuer
        .as_deref()
        .map(|text| org(text, "issuer"))
        .transpose()?;
    if payer.is_none() && issuer.is_none() {
        return Err(ApiError::bad_request(
            code::MISSING_PARAMETER,
            "payer",
            "give payer, issuer or both",
        ));
    }
    let status = query.status.as_deref().map(status_filter).transpose()?;
    let query = ObligationQuery {
        payer,
        issuer,
        status,
        cursor: parse::cursor(query.cursor)?,
        limit: parse::page_limit(query.limit.as_deref())?,
    };
    Ok(Json(node.obligations(query)?))
}

/// One obligation, with its penalty and what it owes at the time of the
/// newest finalized block.
#[utoipa::path(
    get,
    path = "/v1/obligations/{id}",
    tag = "obligations",
    params(("id" = String, Path, description = "Obligation id, 64 hex characters")),
    responses(
        (status = 200, description = "The obligation", body = ObligationView),
        (status = 400, description = "Not an id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such obligation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn show<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ObligationView>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    node.obligation(id)?.map(Json).ok_or_else(|| {
        ApiError::not_found(code::OBLIGATION_NOT_FOUND, format!("no obligation {id}"))
    })
}

/// Query of a history page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct HistoryQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// Every step of an obligation's life, oldest first: issued, paid, waived,
/// appealed, decided, cancelled.
#[utoipa::path(
    get,
    path = "/v1/obligations/{id}/history",
    tag = "obligations",
    params(
        ("id" = String, Path, description = "Obligation id, 64 hex characters"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000; default 50", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of the history", body = ObligationHistoryPage),
        (status = 400, description = "Malformed id, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such obligation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn history<N: NodeApi>(
    State(node): State<N>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<ObligationHistoryPage>, ApiError> {
    let text = parse::path_segment(id, "id")?;
    let id = parse::hash(&text, "id")?;
    let query = parse::query_params(query)?;
    let limit = parse::page_limit(query.limit.as_deref())?;
    let cursor = parse::cursor(query.cursor)?;
    Ok(Json(node.obligation_history(id, cursor, limit)?))
}

/// Query of a report.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ReportParams {
    issuer: Option<String>,
    currency: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// An agency's obligations over a period of UTC days: issued, penalties,
/// collected, waived, cancelled, and outstanding now. `collected_total`
/// reconciles with the credits of the agency's payee accounts.
#[utoipa::path(
    get,
    path = "/v1/reports/obligations",
    tag = "obligations",
    params(
        ("issuer" = String, Query, description = "The agency"),
        ("currency" = Option<String>, Query, description = "Currency code; default CITY"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD (UTC)"),
        ("to" = String, Query, description = "Last day, inclusive; at most 366 days after `from`"),
    ),
    responses(
        (status = 200, description = "The report", body = ObligationReport),
        (status = 400, description = "A missing or malformed parameter, or a bad period", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency or currency", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn report<N: NodeApi>(
    State(node): State<N>,
    query: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Json<ObligationReport>, ApiError> {
    let query = parse::query_params(query)?;
    let issuer = org(required(query.issuer.as_deref(), "issuer")?, "issuer")?;
    let currency =
        CurrencyCode::new(query.currency.as_deref().unwrap_or("CITY")).map_err(|error| {
            ApiError::bad_request(code::BAD_CURRENCY, "currency", error.to_string())
        })?;
    let from_day = day(required(query.from.as_deref(), "from")?, "from")?;
    let to_day = day(required(query.to.as_deref(), "to")?, "to")?;
    if to_day < from_day || to_day - from_day >= REPORT_DAYS_MAX {
        return Err(ApiError::bad_request(
            code::BAD_PERIOD,
            "to",
            format!(
                "the period must end on or after `from` and span at most {REPORT_DAYS_MAX} days"
            ),
        ));
    }
    Ok(Json(node.obligation_report(ReportQuery {
        issuer,
        currency,
        from_day,
        to_day,
    })?))
}

fn required<'a>(value: Option<&'a str>, field: &str) -> Result<&'a str, ApiError> {
    value.ok_or_else(|| {
        ApiError::bad_request(
            code::MISSING_PARAMETER,
            field,
            format!("{field} is required"),
        )
    })
}

pub(super) fn org(text: &str, field: &str) -> Result<OrgName, ApiError> {
    OrgName::new(text)
        .map_err(|error| ApiError::bad_request(code::BAD_ORG, field, error.to_string()))
}

fn day(text: &str, field: &str) -> Result<u32, ApiError> {
    civil::day_of_date(text)
        .map_err(|error| ApiError::bad_request(code::BAD_DATE, field, error.to_string()))
}

fn status_filter(text: &str) -> Result<ObligationStatusFilter, ApiError> {
    ObligationStatusFilter::parse(text).ok_or_else(|| {
        let names: Vec<&str> = ObligationStatusFilter::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect();
        ApiError::bad_request(
            code::BAD_STATUS,
            "status",
            format!("status must be one of {}", names.join(", ")),
        )
    })
}
