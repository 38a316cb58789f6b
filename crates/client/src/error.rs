//! What can go wrong talking to a node, kept apart by who is at fault: the
//! node refused (a problem document), the network failed, the answer was
//! unreadable, or the wait ran out.

use cityledger_api::{Problem, TxStatusView};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL cannot be used.
    #[error("base URL {url:?} is not usable: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// TLS cannot be set up: no usable CA certificate.
    #[error("TLS: {reason}")]
    Tls {
        /// Why.
        reason: String,
    },
    /// The node answered with an RFC 9457 problem document.
    #[error("node refused the request with HTTP {status}: {problem}")]
    Problem {
        /// HTTP status.
        status: u16,
        /// The problem; branch on `problem.code`.
        problem: Box<Problem>,
    },
    /// The node (or a proxy in front of it) answered with an error that is
    /// not a problem document.
    #[error("HTTP {status} without a problem document: {body}")]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer is not the expected JSON.
    #[error("cannot decode the response: {0}")]
    Decode(#[source] serde_json::Error),
    /// The answer is larger than the client reads.
    #[error("response is above the limit of {limit_bytes} bytes")]
    ResponseTooLarge {
        /// `RESPONSE_BYTES_MAX`.
        limit_bytes: usize,
    },
    /// A batch is larger than the API accepts; nothing was sent.
    #[error("batch of {count} transactions is above the limit of {limit}")]
    BatchTooLarge {
        /// Transactions given.
        count: usize,
        /// `TXS_PER_BATCH_MAX`.
        limit: usize,
    },
    /// The transaction was not finalized in time.
    #[error("transaction not finalized after {waited_ms} ms")]
    Timeout {
        /// How long the client waited.
        waited_ms: u64,
        /// The last status seen, if any poll answered.
        last_status: Option<Box<TxStatusView>>,
    },
}

impl ClientError {
    /// The problem's machine code, when the node refused the request.
    pub fn problem_code(&self) -> Option<&str> {
        match self {
            ClientError::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }
}
