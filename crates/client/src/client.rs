//! The HTTP client: one method per route of the node's REST API.

use crate::backoff::Backoff;
use crate::error::ClientError;
use crate::limits::{
    CONNECT_TIMEOUT_MS, ERROR_BODY_CHARS_MAX, REQUEST_TIMEOUT_MS, RESPONSE_BYTES_MAX,
    WAIT_TIMEOUT_MS_MAX,
};
use crate::tls::{TrustRoots, http_client_builder};
use cityledger_api::limits::TXS_PER_BATCH_MAX;
use cityledger_api::{
    AccountTxsPage, AccountView, BlockView, CheckpointView, ConsistencyProofView, HealthView,
    Problem, ReceiptView, StatusView, SubmitTxRequest, SubmitTxResponse, SubmitTxsRequest,
    SubmitTxsResponse, TxStatusView,
};
use cityledger_types::{Digest, Height, SignedTx};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};

/// A client of one node's REST API. Cheap to clone; clones share one
/// connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    base_url: Url,
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8080`, or
    /// with a path prefix when the node sits behind a proxy), with the
    /// default timeouts. An `https` node's certificate must chain to the
    /// system's trust store, or to `SSL_CERT_FILE` when that is set.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        // Plain http never reads the trust store.
        let https = base_url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
        let trust = if https {
            TrustRoots::System
        } else {
            TrustRoots::Nothing
        };
        Client::trusting(base_url, &trust)
    }

    /// A client of the node at `base_url` that trusts only the CA
    /// certificates in the PEM bundle `ca_pem`: an agency's private CA.
    pub fn with_ca_pem(base_url: &str, ca_pem: &[u8]) -> Result<Client, ClientError> {
        Client::trusting(base_url, &TrustRoots::Pem(ca_pem.to_vec()))
    }

    fn trusting(base_url: &str, trust: &TrustRoots) -> Result<Client, ClientError> {
        let http = http_client_builder(trust)?
            .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
            .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
            .build()?;
        Client::with_http_client(base_url, http)
    }

    /// A client that sends its requests through `http`, for callers that
    /// configure their own timeouts, proxies or TLS.
    pub fn with_http_client(base_url: &str, http: reqwest::Client) -> Result<Client, ClientError> {
        let bad = |reason: String| ClientError::BadUrl {
            url: base_url.to_owned(),
            reason,
        };
        let url = Url::parse(base_url).map_err(|error| bad(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(format!("scheme {} is not http or https", url.scheme())));
        }
        if url.cannot_be_a_base() {
            return Err(bad("it cannot be a base for paths".to_owned()));
        }
        Ok(Client {
            http,
            base_url: url,
        })
    }

    /// The node's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Submits one signed transaction. `Ok` means admitted to the mempool,
    /// not finalized: follow it with [`Client::wait_for_finality`].
    pub async fn submit(&self, tx: &SignedTx) -> Result<SubmitTxResponse, ClientError> {
        let url = self.url(&["v1", "txs"])?;
        self.post_json(url, &SubmitTxRequest::new(tx)).await
    }

    /// Submits up to `TXS_PER_BATCH_MAX` transactions in one request; the
    /// answer has one result per transaction, in order. A larger batch is
    /// refused before anything is sent.
    pub async fn submit_many(&self, txs: &[SignedTx]) -> Result<SubmitTxsResponse, ClientError> {
        if txs.len() > TXS_PER_BATCH_MAX {
            return Err(ClientError::BatchTooLarge {
                count: txs.len(),
                limit: TXS_PER_BATCH_MAX,
            });
        }
        if txs.is_empty() {
            return Ok(SubmitTxsResponse {
                results: Vec::new(),
            });
        }
        let url = self.url(&["v1", "txs", "batch"])?;
        self.post_json(url, &SubmitTxsRequest::new(txs)).await
    }

    /// Where a transaction stands.
    pub async fn tx_status(&self, hash: &Digest) -> Result<TxStatusView, ClientError> {
        self.get_json(self.url(&["v1", "txs", &hash.to_hex()])?)
            .await
    }

    /// Polls until the transaction is finalized, with pauses doubling from
    /// `POLL_INTERVAL_MS_MIN` to `POLL_INTERVAL_MS_MAX`, for at most
    /// `timeout_ms` (itself capped at `WAIT_TIMEOUT_MS_MAX`). Returns the
    /// finalized status, whose outcome may be a rejection. A failed poll
    /// ends the wait with that error.
    pub async fn wait_for_finality(
        &self,
        hash: &Digest,
        timeout_ms: u64,
    ) -> Result<TxStatusView, ClientError> {
        let timeout_ms = timeout_ms.min(WAIT_TIMEOUT_MS_MAX);
        let started = Instant::now();
        let mut backoff = Backoff::new();
        let mut last_status = None;
        loop {
            let remaining_ms = timeout_ms.saturating_sub(elapsed_ms(started));
            let poll =
                tokio::time::timeout(Duration::from_millis(remaining_ms), self.tx_status(hash));
            match poll.await {
                Ok(Ok(status)) if status.is_finalized() => return Ok(status),
                Ok(Ok(status)) => last_status = Some(Box::new(status)),
                Ok(Err(error)) => return Err(error),
                // The deadline passed during the request.
                Err(_) => {}
            }
            let remaining_ms = timeout_ms.saturating_sub(elapsed_ms(started));
            if remaining_ms == 0 {
                return Err(ClientError::Timeout {
                    waited_ms: elapsed_ms(started),
                    last_status,
                });
            }
            let pause_ms = backoff.next_pause_ms(remaining_ms);
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    }

    /// The finalized block at `height`; a missing block is a problem with
    /// code `block_not_found`.
    pub async fn block(&self, height: Height) -> Result<BlockView, ClientError> {
        self.get_json(self.url(&["v1", "blocks", &height.to_string()])?)
            .await
    }

    /// The finalized block with id `id`.
    pub async fn block_by_id(&self, id: &Digest) -> Result<BlockView, ClientError> {
        self.get_json(self.url(&["v1", "blocks", &id.to_hex()])?)
            .await
    }

    /// The last finalized block.
    pub async fn latest_block(&self) -> Result<BlockView, ClientError> {
        self.get_json(self.url(&["v1", "blocks", "latest"])?).await
    }

    /// An account, by `cl1…` address or `org:account` alias.
    pub async fn account(&self, address: &str) -> Result<AccountView, ClientError> {
        self.get_json(self.url(&["v1", "accounts", address])?).await
    }

    /// A page of an account's transactions, newest first. Pass the previous
    /// page's `next_cursor` to continue; `limit` defaults to the node's
    /// (50) and may be 1 to 1000.
    pub async fn account_txs(
        &self,
        address: &str,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<AccountTxsPage, ClientError> {
        let url = self.account_txs_url(address, cursor, limit)?;
        self.get_json(url).await
    }

    /// The node's status.
    pub async fn status(&self) -> Result<StatusView, ClientError> {
        self.get_json(self.url(&["v1", "status"])?).await
    }

    /// The node's liveness.
    pub async fn health(&self) -> Result<HealthView, ClientError> {
        self.get_json(self.url(&["health"])?).await
    }

    /// The receipt of a finalized transaction. A transaction that is not
    /// finalized yet is a problem with code `tx_not_finalized`. Verify the
    /// receipt offline (`cityledger-verifier`) before trusting it.
    pub async fn tx_receipt(&self, hash: &Digest) -> Result<ReceiptView, ClientError> {
        self.get_json(self.url(&["v1", "receipts", "tx", &hash.to_hex()])?)
            .await
    }

    /// The receipt of an account's balance in `currency` (the node's
    /// default, CITY, when `None`), by `cl1…` address or `org:account`
    /// alias.
    pub async fn balance_receipt(
        &self,
        address: &str,
        currency: Option<&str>,
    ) -> Result<ReceiptView, ClientError> {
        let mut url = self.url(&["v1", "receipts", "balance", address])?;
        if let Some(currency) = currency {
            url.query_pairs_mut().append_pair("currency", currency);
        }
        self.get_json(url).await
    }

    /// The receipt of an obligation (or of its absence) at the newest
    /// certified finalized block.
    pub async fn obligation_receipt(&self, id: &Digest) -> Result<ReceiptView, ClientError> {
        self.get_json(self.url(&["v1", "receipts", "obligation", &id.to_hex()])?)
            .await
    }

    /// The receipt of record `id`: its commitment, parties,
    /// acknowledgements and erasure, never its content.
    pub async fn record_receipt(&self, id: &Digest) -> Result<ReceiptView, ClientError> {
        self.get_json(self.url(&["v1", "receipts", "record", &id.to_hex()])?)
            .await
    }

    /// The receipt of a device's batch `id`; with a message and its
    /// inclusion, it becomes that message's receipt
    /// (`cityledger_verifier::assemble::message_receipt`).
    pub async fn batch_receipt(&self, id: &Digest) -> Result<ReceiptView, ClientError> {
        self.get_json(self.url(&["v1", "receipts", "batch", &id.to_hex()])?)
            .await
    }

    /// The receipt of credential `id`, its status judged after block
    /// `height` or at the newest certified block.
    pub async fn credential_receipt(
        &self,
        id: &Digest,
        height: Option<Height>,
    ) -> Result<ReceiptView, ClientError> {
        let mut url = self.url(&["v1", "receipts", "credential", &id.to_hex()])?;
        if let Some(height) = height {
            url.query_pairs_mut()
                .append_pair("height", &height.0.to_string());
        }
        self.get_json(url).await
    }

    /// The checkpoint of the newest certified finalized block. Verify it
    /// offline (`cityledger_verifier::verify_checkpoint`) before trusting
    /// it.
    pub async fn checkpoint(&self) -> Result<CheckpointView, ClientError> {
        self.get_json(self.url(&["v1", "checkpoints", "latest"])?)
            .await
    }

    /// The proof that the finalized block at `old` is an ancestor of the
    /// one at `new` (`old < new`), to check offline with both checkpoints
    /// (`cityledger_verifier::verify_consistency`); the node cannot forge
    /// it.
    pub async fn consistency_proof(
        &self,
        old: Height,
        new: Height,
    ) -> Result<ConsistencyProofView, ClientError> {
        let mut url = self.url(&["v1", "checkpoints", "consistency"])?;
        url.query_pairs_mut()
            .append_pair("old", &old.0.to_string())
            .append_pair("new", &new.0.to_string());
        self.get_json(url).await
    }

    fn account_txs_url(
        &self,
        address: &str,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Url, ClientError> {
        let mut url = self.url(&["v1", "accounts", address, "txs"])?;
        page_query(&mut url, cursor, limit);
        Ok(url)
    }

    /// The URL of `segments` under the base URL; each segment is
    /// percent-encoded, so an address or cursor cannot change the path.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::BadUrl {
                url: self.base_url.to_string(),
                reason: "it cannot be a base for paths".to_owned(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, ClientError> {
        let response = self.http.get(url).send().await?;
        read_answer(response).await
    }

    /// Sends a prepared request and reads its JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request.send().await?;
        read_answer(response).await
    }

    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, ClientError> {
        let response = self.http.post(url).json(body).send().await?;
        read_answer(response).await
    }
}

/// Adds the paging parameters of a listing to `url`.
pub(crate) fn page_query(url: &mut Url, cursor: Option<&str>, limit: Option<usize>) {
    if cursor.is_none() && limit.is_none() {
        return;
    }
    let mut query = url.query_pairs_mut();
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    if let Some(limit) = limit {
        query.append_pair("limit", &limit.to_string());
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

async fn read_answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status();
    let body = read_body(response).await?;
    decode_answer(status, &body)
}

/// Reads the body, refusing to hold more than `RESPONSE_BYTES_MAX`.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    let too_large = ClientError::ResponseTooLarge {
        limit_bytes: RESPONSE_BYTES_MAX,
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > RESPONSE_BYTES_MAX as u64 {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > RESPONSE_BYTES_MAX {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The view on success; otherwise the problem document, or the start of
/// whatever else the body is (a proxy's HTML page, say).
fn decode_answer<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, ClientError> {
    if status.is_success() {
        return serde_json::from_slice(body).map_err(ClientError::Decode);
    }
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => Err(ClientError::Problem {
            status: status.as_u16(),
            problem: Box::new(problem),
        }),
        Err(_) => Err(ClientError::UnexpectedStatus {
            status: status.as_u16(),
            body: String::from_utf8_lossy(body)
                .chars()
                .take(ERROR_BODY_CHARS_MAX)
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txs::sign_tx;
    use cityledger_api::problem::code;
    use cityledger_types::tx::{ChainId, ClientTxId};
    use cityledger_types::{Action, SecretKey};
    use serde_json::json;

    fn client(base_url: &str) -> Client {
        Client::new(base_url).unwrap()
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_segments() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "http://node:8080",
                &["v1", "status"],
                "http://node:8080/v1/status",
            ),
            ("http://node:8080/", &["health"], "http://node:8080/health"),
            (
                "https://gw.example/ledger/",
                &["v1", "accounts", "treasury:issuance"],
                "https://gw.example/ledger/v1/accounts/treasury:issuance",
            ),
            (
                "http://node",
                &["v1", "accounts", "a/b?c#d"],
                "http://node/v1/accounts/a%2Fb%3Fc%23d",
            ),
        ];
        for (base, segments, expected) in cases {
            assert_eq!(client(base).url(segments).unwrap().as_str(), *expected);
        }
    }

    #[test]
    fn account_history_query() {
        let node = client("http://node");
        let cases: &[(Option<&str>, Option<usize>, &str)] = &[
            (None, None, "http://node/v1/accounts/x/txs"),
            (None, Some(10), "http://node/v1/accounts/x/txs?limit=10"),
            (
                Some("a b&c"),
                Some(5),
                "http://node/v1/accounts/x/txs?cursor=a+b%26c&limit=5",
            ),
        ];
        for (cursor, limit, expected) in cases {
            let url = node.account_txs_url("x", *cursor, *limit).unwrap();
            assert_eq!(url.as_str(), *expected);
        }
    }

    #[test]
    fn refuses_unusable_base_urls() {
        for base in ["not a url", "ftp://node", "mailto:ops@node", ""] {
            assert!(
                matches!(Client::new(base), Err(ClientError::BadUrl { .. })),
                "{base}"
            );
        }
    }

    #[test]
    fn decodes_views_problems_and_other_errors() {
        let hash = Digest([3; 32]);
        let body = json!({"state": "pending", "hash": hash.to_hex()}).to_string();
        let status: TxStatusView = decode_answer(StatusCode::OK, body.as_bytes()).unwrap();
        assert_eq!(status, TxStatusView::Pending { hash });

        let problem = json!({
            "type": "/problems/duplicate_tx_id", "title": "Conflict", "status": 409,
            "detail": "id already used", "code": "duplicate_tx_id",
            "first_result": {"state": "pending", "hash": hash.to_hex()}
        })
        .to_string();
        let error =
            decode_answer::<TxStatusView>(StatusCode::CONFLICT, problem.as_bytes()).unwrap_err();
        assert_eq!(error.problem_code(), Some(code::DUPLICATE_TX_ID));
        let ClientError::Problem { status, problem } = error else {
            panic!("expected a problem");
        };
        assert_eq!(status, 409);
        assert_eq!(problem.first_result, Some(TxStatusView::Pending { hash }));

        let html = "<html>".repeat(1000);
        let error =
            decode_answer::<TxStatusView>(StatusCode::BAD_GATEWAY, html.as_bytes()).unwrap_err();
        let ClientError::UnexpectedStatus { status, body } = error else {
            panic!("expected an unexpected status");
        };
        assert_eq!(status, 502);
        assert_eq!(body.chars().count(), ERROR_BODY_CHARS_MAX);

        let error = decode_answer::<TxStatusView>(StatusCode::OK, b"{\"state\": 1}").unwrap_err();
        assert!(matches!(error, ClientError::Decode(_)));
    }

    #[tokio::test]
    async fn batch_limits_are_checked_before_sending() {
        // Port 9 (discard) is never contacted: both calls return first.
        let node = client("http://127.0.0.1:9");
        let key = SecretKey::from_seed([1; 32]);
        let tx = sign_tx(
            &key,
            ChainId::new("cityledger-dev").unwrap(),
            ClientTxId::new("x").unwrap(),
            0,
            Action::Linked(cityledger_types::tx::LinkedOps(Vec::new())),
        );
        let too_many = vec![tx; TXS_PER_BATCH_MAX + 1];
        assert!(matches!(
            node.submit_many(&too_many).await,
            Err(ClientError::BatchTooLarge { count, limit })
                if count == TXS_PER_BATCH_MAX + 1 && limit == TXS_PER_BATCH_MAX
        ));
        assert_eq!(node.submit_many(&[]).await.unwrap().results, Vec::new());
    }
}
