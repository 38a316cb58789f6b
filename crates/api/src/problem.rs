//! RFC 9457 problem documents: the one error body of the REST API.
//!
//! Clients branch on [`Problem::code`], a stable machine code; `title` and
//! `detail` are for people. The `type` URI is relative (`/problems/<code>`),
//! so the document names no external host and resolves against whichever
//! node answered.

use crate::tx::TxStatusView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of problem documents.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Prefix of the `type` URI; the code follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "/problems/";

/// The machine codes of problems raised by the REST edge itself. Nodes add
/// their own (for example `bad_signature` or `duplicate_tx_id`).
pub mod code {
    /// The body is not the expected JSON document.
    pub const MALFORMED_JSON: &str = "malformed_json";
    /// The body could not be read.
    pub const UNREADABLE_BODY: &str = "unreadable_body";
    /// The content type is not one the route accepts.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The body is above the route's size limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// A transaction text is not base64url.
    pub const BAD_BASE64: &str = "bad_base64";
    /// A transaction text is longer than any valid transaction.
    pub const TX_TOO_LARGE: &str = "tx_too_large";
    /// The bytes are not a canonically encoded signed transaction.
    pub const UNDECODABLE_TX: &str = "undecodable_tx";
    /// A batch has no transactions.
    pub const EMPTY_BATCH: &str = "empty_batch";
    /// A batch has more transactions than allowed.
    pub const TOO_MANY_TXS: &str = "too_many_txs";
    /// A hash is not 64 hex characters.
    pub const BAD_HASH: &str = "bad_hash";
    /// A block reference is neither a height nor a block id.
    pub const BAD_BLOCK_REF: &str = "bad_block_ref";
    /// An address is malformed.
    pub const BAD_ADDRESS: &str = "bad_address";
    /// An address has a wrong checksum: most likely a typo.
    pub const ADDRESS_CHECKSUM_MISMATCH: &str = "address_checksum_mismatch";
    /// A page size is not a number in range.
    pub const BAD_LIMIT: &str = "bad_limit";
    /// A cursor is too long or not one the node issued.
    pub const BAD_CURSOR: &str = "bad_cursor";
    /// A stream start height is not a number.
    pub const BAD_FROM_HEIGHT: &str = "bad_from_height";
    /// A `Last-Event-ID` header is not a block height.
    pub const BAD_LAST_EVENT_ID: &str = "bad_last_event_id";
    /// The query string could not be parsed.
    pub const BAD_QUERY: &str = "bad_query";
    /// A path segment could not be parsed.
    pub const BAD_PATH: &str = "bad_path";
    /// No route has this path.
    pub const ROUTE_NOT_FOUND: &str = "route_not_found";
    /// The route exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// No block at that height or with that id.
    pub const BLOCK_NOT_FOUND: &str = "block_not_found";
    /// No such account.
    pub const ACCOUNT_NOT_FOUND: &str = "account_not_found";
    /// An organisation name is malformed.
    pub const BAD_ORG: &str = "bad_org";
    /// A currency code is malformed.
    pub const BAD_CURRENCY: &str = "bad_currency";
    /// A status filter names no status.
    pub const BAD_STATUS: &str = "bad_status";
    /// A date is not `YYYY-MM-DD`.
    pub const BAD_DATE: &str = "bad_date";
    /// A period ends before it starts or is longer than allowed.
    pub const BAD_PERIOD: &str = "bad_period";
    /// A required query parameter is missing.
    pub const MISSING_PARAMETER: &str = "missing_parameter";
    /// No obligation with that id.
    pub const OBLIGATION_NOT_FOUND: &str = "obligation_not_found";
    /// No such organisation.
    pub const ORG_NOT_FOUND: &str = "org_not_found";
    /// No such currency.
    pub const CURRENCY_NOT_FOUND: &str = "currency_not_found";
    /// The signer already used this client id; `first_result` says how the
    /// first transaction fared.
    pub const DUPLICATE_TX_ID: &str = "duplicate_tx_id";
    /// The mempool is full; retry after the `Retry-After` header's seconds.
    pub const MEMPOOL_FULL: &str = "mempool_full";
    /// This client address sent more requests than the node's rate limit
    /// allows; retry after the `Retry-After` header's seconds.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The node cannot serve the request now (starting, syncing).
    pub const UNAVAILABLE: &str = "unavailable";
    /// A fault inside the node; details are in its log.
    pub const INTERNAL: &str = "internal";
    /// The transaction is not finalized (pending or unknown), so there is
    /// no receipt for it yet.
    pub const TX_NOT_FINALIZED: &str = "tx_not_finalized";
    /// No application with that id.
    pub const APPLICATION_NOT_FOUND: &str = "application_not_found";
    /// No credential with that id.
    pub const CREDENTIAL_NOT_FOUND: &str = "credential_not_found";
    /// A status filter of applications is neither `open` nor `decided`.
    pub const BAD_APPLICATION_STATUS: &str = "bad_application_status";
    /// A status list purpose is neither `revocation` nor `suspension`.
    pub const BAD_PURPOSE: &str = "bad_purpose";
    /// A height or a block time is not a decimal number.
    pub const BAD_MOMENT: &str = "bad_moment";
    /// Both a height and a time were given; ask for one.
    pub const AMBIGUOUS_MOMENT: &str = "ambiguous_moment";
    /// The height asked about is not finalized yet.
    pub const HEIGHT_NOT_FINALIZED: &str = "height_not_finalized";
    /// A status list number is not a decimal number.
    pub const BAD_LIST: &str = "bad_list";
    /// No record with that id exists.
    pub const RECORD_NOT_FOUND: &str = "record_not_found";
    /// The access was judged on chain and refused; the problem carries the
    /// access record.
    pub const ACCESS_REFUSED: &str = "access_refused";
    /// The record was erased; the problem carries its tombstone.
    pub const RECORD_ERASED: &str = "record_erased";
    /// The access named is not a finalized access to this record.
    pub const NOT_AN_ACCESS: &str = "not_an_access";
    /// The transaction given does not anchor a record.
    pub const NOT_AN_ANCHOR: &str = "not_an_anchor";
    /// The blob does not match the digest or size its anchoring names.
    pub const BLOB_MISMATCH: &str = "blob_mismatch";
    /// This node does not hold the record's blob, or no data key wrapped
    /// for the reader.
    pub const BLOB_NOT_HELD: &str = "blob_not_held";
    /// Wrapped keys are malformed, duplicated or above their limit.
    pub const BAD_KEYS: &str = "bad_keys";
    /// A key upload's signature does not verify, or its signer is neither
    /// the record's owner nor its author.
    pub const NOT_RECORD_PARTY: &str = "not_record_party";
    /// No device with that key is registered.
    pub const DEVICE_NOT_FOUND: &str = "device_not_found";
    /// No batch with that id exists.
    pub const BATCH_NOT_FOUND: &str = "batch_not_found";
    /// A hex key is malformed.
    pub const BAD_KEY: &str = "bad_key";
    /// A height is not a decimal number.
    pub const BAD_HEIGHT: &str = "bad_height";
    /// A consistency proof was asked for an old height that is not below
    /// the new one (one block needs no proof).
    pub const HEIGHTS_OUT_OF_ORDER: &str = "heights_out_of_order";
    /// No incident with that id exists.
    pub const INCIDENT_NOT_FOUND: &str = "incident_not_found";
    /// The reader is a member of no agency the incident is shared with.
    pub const INCIDENT_NOT_SHARED: &str = "incident_not_shared";
    /// A read that must be signed carries no signature headers.
    pub const UNSIGNED_READ: &str = "unsigned_read";
    /// A signed read's headers are malformed or its signature does not
    /// verify.
    pub const BAD_READ_SIGNATURE: &str = "bad_read_signature";
    /// A signed read's time is too far from the node's clock.
    pub const STALE_READ: &str = "stale_read";
    /// A private read (records of a party, an access log, sealed content)
    /// signed by a key other than the party whose data it is.
    pub const NOT_THE_READER: &str = "not_the_reader";
    /// No evidence item with that id exists.
    pub const EVIDENCE_NOT_FOUND: &str = "evidence_not_found";
    /// No case with that id exists.
    pub const CASE_NOT_FOUND: &str = "case_not_found";
    /// The case, its version or the item in it does not exist.
    pub const CASE_ITEM_NOT_FOUND: &str = "case_item_not_found";
    /// No exam with that id exists.
    pub const EXAM_NOT_FOUND: &str = "exam_not_found";
    /// A severity is not `info`, `minor`, `major` or `critical`.
    pub const BAD_SEVERITY: &str = "bad_severity";
    /// An area code is malformed.
    pub const BAD_AREA: &str = "bad_area";
    /// A case version is not a number from 1.
    pub const BAD_VERSION: &str = "bad_version";
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/bad_base64",
    "title": "Bad request",
    "status": 400,
    "detail": "transaction text is not base64url: Invalid symbol 33, offset 3.",
    "code": "bad_base64",
    "field": "tx"
}))]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for people.
    pub detail: String,
    /// Stable machine code; clients branch on it.
    pub code: String,
    /// The request field at fault: a body field (`tx`, `txs[3]`), a path
    /// parameter (`hash`), a query parameter (`limit`) or a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a duplicate transaction id: the status of the transaction that
    /// used the id first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_result: Option<TxStatusView>,
    /// For a refused access (403): the access record the chain wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Box<crate::record::AccessView>>,
    /// For an erased record (410): the record with its tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tombstone: Option<Box<crate::record::RecordView>>,
}

impl Problem {
    /// A problem with `code`; its `type` is derived from the code.
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
            field: None,
            first_result: None,
            access: None,
            tombstone: None,
        }
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Problem {
        self.field = Some(field.into());
        self
    }

    /// Attaches the refused access record.
    pub fn with_access(mut self, access: crate::record::AccessView) -> Problem {
        self.access = Some(Box::new(access));
        self
    }

    /// Attaches an erased record's tombstone.
    pub fn with_tombstone(mut self, record: crate::record::RecordView) -> Problem {
        self.tombstone = Some(Box::new(record));
        self
    }

    /// Attaches the first result of a duplicate transaction id.
    pub fn with_first_result(mut self, first_result: TxStatusView) -> Problem {
        self.first_result = Some(first_result);
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.code, self.detail)?;
        if let Some(field) = &self.field {
            write!(f, " [field {field}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::Digest;
    use serde_json::json;

    #[test]
    fn serializes_as_rfc_9457() {
        let problem =
            Problem::new(400, code::BAD_HASH, "Bad request", "expected 64 hex").with_field("hash");
        assert_eq!(
            serde_json::to_value(&problem).unwrap(),
            json!({
                "type": "/problems/bad_hash",
                "title": "Bad request",
                "status": 400,
                "detail": "expected 64 hex",
                "code": "bad_hash",
                "field": "hash"
            })
        );
    }

    #[test]
    fn carries_the_first_result_of_a_duplicate() {
        let first = TxStatusView::Pending {
            hash: Digest([1; 32]),
        };
        let problem = Problem::new(409, code::DUPLICATE_TX_ID, "Conflict", "id used")
            .with_first_result(first.clone());
        let text = serde_json::to_string(&problem).unwrap();
        let back: Problem = serde_json::from_str(&text).unwrap();
        assert_eq!(back.first_result, Some(first));
        assert_eq!(back, problem);
    }
}
