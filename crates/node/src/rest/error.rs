//! The one error type of the REST edge and its mapping to HTTP: a status
//! code and an RFC 9457 problem document.
//!
//! Node implementations return [`ApiError`]; handlers return it for bad
//! input. Nothing else in the REST module chooses a status code, so the
//! mapping is reviewed in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityledger_api::problem::{PROBLEM_CONTENT_TYPE, Problem, code};
use cityledger_api::tx::TxStatusView;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or refused on its content (400).
    #[error("{detail}")]
    BadRequest {
        /// Machine code, e.g. `bad_hash`.
        code: &'static str,
        /// The request field at fault, e.g. `tx` or `txs[3]`.
        field: Option<String>,
        /// For people.
        detail: String,
    },
    /// The resource does not exist (404).
    #[error("{detail}")]
    NotFound {
        /// Machine code, e.g. `block_not_found`.
        code: &'static str,
        /// For people.
        detail: String,
    },
    /// The route exists but not for this method (405).
    /// The chain judged the access and refused it (403); the body carries
    /// the access record.
    #[error("{detail}")]
    Forbidden {
        /// Machine code.
        code: &'static str,
        /// What happened.
        detail: String,
        /// The refused access, as logged on chain.
        access: Option<Box<cityledger_api::AccessView>>,
    },
    /// The record was erased (410); the body carries its tombstone.
    #[error("{detail}")]
    Gone {
        /// What happened.
        detail: String,
        /// The record with its tombstone.
        record: Box<cityledger_api::RecordView>,
    },
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The request conflicts with what the node holds, e.g. a client id
    /// already used (409).
    #[error("{detail}")]
    Conflict {
        /// Machine code, e.g. `duplicate_tx_id`.
        code: &'static str,
        /// For people.
        detail: String,
        /// How the first transaction with the same id fared. Boxed so that
        /// every `Result<_, ApiError>` stays small.
        first_result: Option<Box<TxStatusView>>,
    },
    /// The body is above the route's limit (413).
    #[error("request body is above the limit of {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The route's limit.
        limit_bytes: usize,
    },
    /// The body's content type is not accepted by the route (415).
    #[error("{detail}")]
    UnsupportedMediaType {
        /// What the route accepts.
        detail: String,
    },
    /// The mempool is full; the client should retry later (503 with
    /// `Retry-After`).
    #[error("the mempool is full; retry in {retry_after_s} s")]
    MempoolFull {
        /// Seconds until a retry is worthwhile.
        retry_after_s: u64,
    },
    /// The client address is over the rate limit (429 with `Retry-After`).
    #[error("too many requests from this address; retry in {retry_after_s} s")]
    RateLimited {
        /// Seconds until a request would be admitted.
        retry_after_s: u64,
    },
    /// The node cannot serve now: starting, syncing or shutting down (503).
    #[error("{detail}")]
    Unavailable {
        /// For people.
        detail: String,
    },
    /// A fault inside the node (500). The detail is logged, not returned,
    /// since it may describe the node's internals.
    #[error("internal error: {detail}")]
    Internal {
        /// For the log.
        detail: String,
    },
}

impl ApiError {
    /// A 400 naming the field at fault.
    pub fn bad_request(code: &'static str, field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// A 404.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            code,
            detail: detail.into(),
        }
    }

    /// A 409 for a client id the signer already used, carrying how the
    /// first transaction with that id fared when the node knows.
    pub fn duplicate_tx_id(
        detail: impl Into<String>,
        first_result: Option<TxStatusView>,
    ) -> ApiError {
        ApiError::Conflict {
            code: code::DUPLICATE_TX_ID,
            detail: detail.into(),
            first_result: first_result.map(Box::new),
        }
    }

    /// Names `field` as the one at fault, unless the error already names one
    /// or is not about a field.
    pub fn with_default_field(self, field: &str) -> ApiError {
        match self {
            ApiError::BadRequest {
                code,
                field: None,
                detail,
            } => ApiError::BadRequest {
                code,
                field: Some(field.to_owned()),
                detail,
            },
            other => other,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MempoolFull { .. } | ApiError::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Forbidden { code, .. } => code,
            ApiError::Gone { .. } => code::RECORD_ERASED,
            ApiError::MethodNotAllowed => code::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => code::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => code::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MempoolFull { .. } => code::MEMPOOL_FULL,
            ApiError::RateLimited { .. } => code::RATE_LIMITED,
            ApiError::Unavailable { .. } => code::UNAVAILABLE,
            ApiError::Internal { .. } => code::INTERNAL,
        }
    }

    /// The problem document. Also used for the items of a batch, which
    /// share one HTTP response.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let detail = match self {
            ApiError::Internal { .. } => {
                "internal error; the node's log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let problem = Problem::new(status.as_u16(), self.code(), title, detail);
        match self {
            ApiError::BadRequest {
                field: Some(field), ..
            } => problem.with_field(field.clone()),
            ApiError::Conflict {
                first_result: Some(first),
                ..
            } => problem.with_first_result((**first).clone()),
            ApiError::Forbidden {
                access: Some(access),
                ..
            } => problem.with_access((**access).clone()),
            ApiError::Gone { record, .. } => problem.with_tombstone((**record).clone()),
            ApiError::PayloadTooLarge { .. } => problem.with_field("body"),
            ApiError::UnsupportedMediaType { .. } => problem.with_field("content-type"),
            _ => problem,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { detail } = &self {
            // Logged here, where the error is handled, and nowhere else.
            tracing::error!(%detail, "REST request failed inside the node");
        }
        let problem = self.to_problem();
        let mut response = (self.status(), axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let ApiError::MempoolFull { retry_after_s } | ApiError::RateLimited { retry_after_s } =
            self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}
