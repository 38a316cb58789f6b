//! Parsing of outside input at the REST edge: bodies, path segments, query
//! parameters and headers, each into a typed value or an [`ApiError`] that
//! names the field at fault.
//!
//! Every function here is total: no input makes it panic, and none
//! allocates more than a small multiple of its (already bounded) input.

use super::{ApiError, DecodedTx};
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use cityledger_api::limits::{ACCOUNT_TXS_LIMIT_DEFAULT, ACCOUNT_TXS_LIMIT_MAX, CURSOR_BYTES_MAX};
use cityledger_api::problem::code;
use cityledger_api::tx_text::{self, TxTextError};
use cityledger_types::address::AddressError;
use cityledger_types::encoding::DecodeError;
use cityledger_types::{Address, CurrencyCode, Digest, Height, SignedTx};
use serde::de::DeserializeOwned;

/// Field name used when the fault is in the body as a whole.
pub(super) const BODY_FIELD: &str = "body";
const JSON_MEDIA_TYPE: &str = "application/json";
const BINARY_MEDIA_TYPE: &str = "application/octet-stream";

/// How a submission body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyKind {
    /// A JSON document.
    Json,
    /// The raw canonical bytes of one transaction.
    Binary,
}

/// The body's encoding, from its content type. `binary_allowed` says
/// whether the route takes raw transaction bytes.
pub(super) fn body_kind(headers: &HeaderMap, binary_allowed: bool) -> Result<BodyKind, ApiError> {
    let accepted = if binary_allowed {
        "application/json or application/octet-stream"
    } else {
        "application/json"
    };
    let refuse = |found: &str| ApiError::UnsupportedMediaType {
        detail: format!("content type {found} is not accepted here; send {accepted}"),
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(refuse("(none)"));
    };
    let text = value.to_str().map_err(|_| refuse("(not text)"))?;
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        JSON_MEDIA_TYPE => Ok(BodyKind::Json),
        BINARY_MEDIA_TYPE if binary_allowed => Ok(BodyKind::Binary),
        _ => Err(refuse(&essence)),
    }
}

/// The body, or 413 when it is above the route's `limit_bytes`.
pub(super) fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    limit_bytes: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit_bytes }
        } else {
            ApiError::bad_request(code::UNREADABLE_BODY, BODY_FIELD, rejection.body_text())
        }
    })
}

/// Parses a JSON body into `T`. The problem names the field at fault
/// (`txs[3]`) and carries serde's message, with line and column.
pub(super) fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = json_error_field(&error);
        ApiError::bad_request(code::MALFORMED_JSON, &field, error.into_inner().to_string())
    })?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(code::MALFORMED_JSON, BODY_FIELD, error.to_string())
    })?;
    Ok(value)
}

fn json_error_field(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    if path != "." {
        return path;
    }
    // A missing field fails at its parent, so the path is the root; serde's
    // message is the only place that names the field.
    missing_field_name(&error.inner().to_string())
        .unwrap_or(BODY_FIELD)
        .to_owned()
}

/// The field named by serde's "missing field `name`" message.
fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Decodes a transaction's base64url text found at `field`.
pub(super) fn tx_from_text(text: &str, field: &str) -> Result<DecodedTx, ApiError> {
    let bytes = tx_text::decode_tx_bytes(text).map_err(|error| tx_text_error(error, field))?;
    tx_from_bytes(&bytes, field)
}

/// Decodes a transaction's canonical bytes found at `field`.
pub(super) fn tx_from_bytes(bytes: &[u8], field: &str) -> Result<DecodedTx, ApiError> {
    let tx = SignedTx::from_bytes(bytes).map_err(|error| decode_error(error, field))?;
    Ok(DecodedTx {
        tx,
        encoded_bytes: bytes.len(),
    })
}

fn tx_text_error(error: TxTextError, field: &str) -> ApiError {
    match error {
        TxTextError::TooLong { .. } => {
            ApiError::bad_request(code::TX_TOO_LARGE, field, error.to_string())
        }
        TxTextError::BadBase64 { .. } => {
            ApiError::bad_request(code::BAD_BASE64, field, error.to_string())
        }
        TxTextError::Decode(error) => decode_error(error, field),
    }
}

fn decode_error(error: DecodeError, field: &str) -> ApiError {
    let code = match error {
        DecodeError::TooLarge { .. } => code::TX_TOO_LARGE,
        DecodeError::Invalid { .. } => code::UNDECODABLE_TX,
    };
    ApiError::bad_request(code, field, error.to_string())
}

/// A path segment, or a problem naming `field` when it cannot be decoded
/// (for example percent-encoded bytes that are not UTF-8).
pub(super) fn path_segment(
    segment: Result<Path<String>, PathRejection>,
    field: &str,
) -> Result<String, ApiError> {
    segment
        .map(|Path(text)| text)
        .map_err(|rejection| ApiError::bad_request(code::BAD_PATH, field, rejection.body_text()))
}

/// The query parameters, or a problem when the query string is malformed.
pub(super) fn query_params<T>(
    query: Result<axum::extract::Query<T>, QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|axum::extract::Query(params)| params)
        .map_err(|rejection| ApiError::bad_request(code::BAD_QUERY, "query", rejection.body_text()))
}

/// A 64-hex-character hash at `field`.
pub(super) fn hash(text: &str, field: &str) -> Result<Digest, ApiError> {
    Digest::from_hex(text)
        .map_err(|error| ApiError::bad_request(code::BAD_HASH, field, error.to_string()))
}

/// What a block path segment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockRef {
    /// A height, given in decimal.
    Height(Height),
    /// A block id, given as 64 hex characters.
    Id(Digest),
}

/// A block reference: a decimal height or a 64-hex-character block id.
pub(super) fn block_ref(text: &str, field: &str) -> Result<BlockRef, ApiError> {
    if text.len() == 2 * cityledger_types::digest::DIGEST_LEN
        && let Ok(id) = Digest::from_hex(text)
    {
        return Ok(BlockRef::Id(id));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(|h| BlockRef::Height(Height(h)))
            .map_err(|_| {
                ApiError::bad_request(
                    code::BAD_BLOCK_REF,
                    field,
                    format!("height {text} is above the largest height, {}", u64::MAX),
                )
            });
    }
    Err(ApiError::bad_request(
        code::BAD_BLOCK_REF,
        field,
        "expected a decimal height, a 64-hex-character block id, or `latest`",
    ))
}

/// An address: `cl1…` with its checksum, or an `org:account` alias.
pub(super) fn address(text: &str, field: &str) -> Result<Address, ApiError> {
    Address::parse_or_alias(text).map_err(|error| {
        let code = match error {
            AddressError::BadChecksum => code::ADDRESS_CHECKSUM_MISMATCH,
            AddressError::Malformed { .. } | AddressError::BadName(_) => code::BAD_ADDRESS,
        };
        ApiError::bad_request(code, field, error.to_string())
    })
}

/// A page size of the account history and the other cursor listings.
pub(super) fn page_limit(text: Option<&str>) -> Result<usize, ApiError> {
    limit_in(text, ACCOUNT_TXS_LIMIT_DEFAULT, ACCOUNT_TXS_LIMIT_MAX)
}

/// A `limit` from 1 to `max`, `default` when absent.
pub(super) fn limit_in(text: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(default);
    };
    let out_of_range = || {
        ApiError::bad_request(
            code::BAD_LIMIT,
            "limit",
            format!("limit must be a whole number from 1 to {max}; got {text:?}"),
        )
    };
    let limit: usize = text.parse().map_err(|_| out_of_range())?;
    if limit == 0 || limit > max {
        return Err(out_of_range());
    }
    Ok(limit)
}

/// A decimal block height at `field`, absent when not given.
pub(super) fn optional_height(text: Option<&str>, field: &str) -> Result<Option<Height>, ApiError> {
    text.map(|text| {
        decimal_u64(text).map(Height).ok_or_else(|| {
            ApiError::bad_request(
                code::BAD_HEIGHT,
                field,
                format!("{field} must be a decimal block height; got {text:?}"),
            )
        })
    })
    .transpose()
}

/// A page cursor: absent or empty means the first page.
pub(super) fn cursor(text: Option<String>) -> Result<Option<String>, ApiError> {
    match text {
        Some(text) if text.len() > CURSOR_BYTES_MAX => Err(ApiError::bad_request(
            code::BAD_CURSOR,
            "cursor",
            format!(
                "cursor is {} bytes, above the limit of {CURSOR_BYTES_MAX}",
                text.len()
            ),
        )),
        Some(text) if text.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Where a stream starts. `Last-Event-ID` (the height of the last event the
/// client saw) wins over `from_height`: an `EventSource` reconnects with its
/// original URL, so the header is the more recent of the two.
pub(super) fn stream_start(
    from_height: Option<&str>,
    last_event_id: Option<&HeaderValue>,
) -> Result<Option<Height>, ApiError> {
    if let Some(value) = last_event_id {
        let bad = || {
            ApiError::bad_request(
                code::BAD_LAST_EVENT_ID,
                "Last-Event-ID",
                "Last-Event-ID must be the decimal height of the last event received",
            )
        };
        let text = value.to_str().map_err(|_| bad())?;
        let last = decimal_u64(text.trim()).ok_or_else(bad)?;
        let next = last.checked_add(1).ok_or_else(bad)?;
        return Ok(Some(Height(next)));
    }
    from_height
        .map(|text| {
            decimal_u64(text).map(Height).ok_or_else(|| {
                ApiError::bad_request(
                    code::BAD_FROM_HEIGHT,
                    "from_height",
                    format!("from_height must be a decimal block height; got {text:?}"),
                )
            })
        })
        .transpose()
}

/// A u64 in plain decimal digits: no sign, no spaces.
pub(super) fn decimal_u64(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A currency code at `field`.
pub(super) fn currency(text: &str, field: &str) -> Result<CurrencyCode, ApiError> {
    CurrencyCode::new(text)
        .map_err(|error| ApiError::bad_request(code::BAD_CURRENCY, field, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_refs() {
        let id = Digest([0x12; 32]);
        let cases: Vec<(String, Option<BlockRef>)> = vec![
            ("0".into(), Some(BlockRef::Height(Height(0)))),
            ("42".into(), Some(BlockRef::Height(Height(42)))),
            (
                u64::MAX.to_string(),
                Some(BlockRef::Height(Height(u64::MAX))),
            ),
            ("18446744073709551616".into(), None),
            (id.to_hex(), Some(BlockRef::Id(id))),
            ("1".repeat(64), Some(BlockRef::Id(Digest([0x11; 32])))),
            ("-1".into(), None),
            ("+1".into(), None),
            ("abc".into(), None),
            ("g".repeat(64), None),
            (String::new(), None),
        ];
        for (text, expected) in cases {
            assert_eq!(block_ref(&text, "height_or_id").ok(), expected, "{text}");
        }
    }

    #[test]
    fn page_limits() {
        let cases: &[(Option<&str>, Option<usize>)] = &[
            (None, Some(ACCOUNT_TXS_LIMIT_DEFAULT)),
            (Some("1"), Some(1)),
            (Some("1000"), Some(1000)),
            (Some("0"), None),
            (Some("1001"), None),
            (Some("-5"), None),
            (Some("ten"), None),
            (Some("99999999999999999999999"), None),
        ];
        for (text, expected) in cases {
            assert_eq!(page_limit(*text).ok(), *expected, "{text:?}");
        }
    }

    #[test]
    fn stream_starts() {
        let header = |text: &'static str| HeaderValue::from_static(text);
        assert_eq!(stream_start(None, None).ok(), Some(None));
        assert_eq!(stream_start(Some("5"), None).ok(), Some(Some(Height(5))));
        assert_eq!(
            stream_start(Some("5"), Some(&header("9"))).ok(),
            Some(Some(Height(10)))
        );
        assert!(stream_start(Some("x"), None).is_err());
        assert!(stream_start(None, Some(&header("18446744073709551615"))).is_err());
        assert!(stream_start(None, Some(&header("nine"))).is_err());
    }

    #[test]
    fn missing_field_names() {
        assert_eq!(
            missing_field_name("missing field `tx` at line 1 column 2"),
            Some("tx")
        );
        assert_eq!(missing_field_name("expected value"), None);
    }
}
