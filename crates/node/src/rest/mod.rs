//! The REST API: routes, input validation, and the mapping of every failure
//! to an RFC 9457 problem document.
//!
//! This module owns the HTTP edge and nothing behind it. It speaks to the
//! node only through [`NodeApi`], so it never locks the mempool, reads the
//! store or names a consensus type, and its tests run against a fake node.
//!
//! It must never panic on input: every body, path segment, query parameter
//! and header is parsed by [`parse`] into a typed value or a 4xx problem
//! that names the field at fault. Bodies are bounded per route before they
//! are read (`SUBMIT_BODY_BYTES_MAX`, `BATCH_BODY_BYTES_MAX`).
//!
//! The same router serves the explorer's files (`ui`), which are compiled
//! into the binary and call nothing but the routes below; they are not
//! part of the OpenAPI document.

mod credentials;
mod edge;
mod error;
mod handlers;
mod listings;
mod obligations;
mod parse;
mod receipts;
mod records;
mod safety;
#[cfg(test)]
mod tests;
mod ui;

pub use credentials::{ApplicationQuery, ApplicationStatusFilter, CredentialQuery, StatusMoment};
pub use edge::{RATE_LIMIT_CLIENTS_MAX, RateLimiter, protect};
pub use error::ApiError;
pub use records::{AccessQuery, GrantQuery, RecordQuery};
pub use safety::SignedReader;

use crate::receipts::StateSubject;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use cityledger_api::limits::{ANCHOR_BODY_BYTES_MAX, BATCH_BODY_BYTES_MAX, SUBMIT_BODY_BYTES_MAX};
use cityledger_api::{
    AccessesPage, BatchProof, DeviceView, DevicesPage, GrantsPage, RecordContentView, RecordView,
    RecordsPage,
};
use cityledger_api::{
    AccountTxsPage, AccountView, ApplicationView, ApplicationsPage, BlockView, BlocksPage,
    CheckpointView, ConsistencyProofView, CredentialStatusProof, CredentialView, CredentialsPage,
    ObligationHistoryPage, ObligationReport, ObligationStatusFilter, ObligationView,
    ObligationsPage, ReceiptView, StatusListView, StatusView, StreamEvent, SubmitTxResponse,
    TxStatusView, TxsPage,
};
use cityledger_api::{
    AlertsPage, CaseView, EvidenceView, ExamResultsPage, IncidentView, IncidentsPage,
};
use cityledger_types::genesis::Genesis;
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::{Address, CurrencyCode, Digest, Height, OrgName, PublicKey, SignedTx};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use utoipa::OpenApi;

/// Seconds between keep-alive comments on an idle event stream; below the
/// usual 30–60 s idle timeouts of proxies and load balancers.
pub const STREAM_KEEP_ALIVE_S: u64 = 15;

/// A transaction decoded at the edge, with the size of its canonical
/// encoding (the mempool accounts for bytes without encoding again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedTx {
    /// The transaction; its signature is not checked yet.
    pub tx: SignedTx,
    /// Length of its canonical encoding, in bytes.
    pub encoded_bytes: usize,
}

/// A validated obligation listing request: at least one of `payer` and
/// `issuer` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObligationQuery {
    /// Obligations owed by this payer.
    pub payer: Option<Address>,
    /// Obligations issued by this organisation.
    pub issuer: Option<OrgName>,
    /// Only those in this status.
    pub status: Option<ObligationStatusFilter>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to `ACCOUNT_TXS_LIMIT_MAX`.
    pub limit: usize,
}

/// A validated report request: a period of at most `REPORT_DAYS_MAX` days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    /// The agency.
    pub issuer: OrgName,
    /// The currency.
    pub currency: CurrencyCode,
    /// First day (days since 1970-01-01, UTC).
    pub from_day: u32,
    /// Last day, inclusive.
    pub to_day: u32,
}

/// What the REST API needs from a node.
///
/// Submission is asynchronous (admission verifies signatures in batches on
/// a worker); reads are synchronous and must be quick, since they run on
/// the server's tasks.
pub trait NodeApi: Clone + Send + Sync + 'static {
    /// Admits a transaction to the mempool. A duplicate client id is a
    /// `Conflict` carrying the first transaction's status; a full mempool
    /// is `MempoolFull`.
    fn submit(&self, tx: DecodedTx) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>>;

    /// Admits many transactions; returns exactly one result per input, in
    /// order.
    fn submit_many(
        &self,
        txs: Vec<DecodedTx>,
    ) -> BoxFuture<'static, Vec<Result<SubmitTxResponse, ApiError>>>;

    /// Where a transaction stands.
    fn tx_status(&self, hash: Digest) -> Result<TxStatusView, ApiError>;

    /// The finalized block at `height`, if any.
    fn block_by_height(&self, height: Height) -> Result<Option<BlockView>, ApiError>;

    /// The finalized block with id `id`, if any.
    fn block_by_id(&self, id: Digest) -> Result<Option<BlockView>, ApiError>;

    /// A page of at most `limit` (1 to `BLOCKS_LIMIT_MAX`) finalized
    /// blocks below height `before` (from the tip when `None`), newest
    /// first.
    fn blocks(&self, before: Option<Height>, limit: usize) -> Result<BlocksPage, ApiError>;

    /// A page of at most `limit` (1 to `RECENT_TXS_LIMIT_MAX`) finalized
    /// transactions of the whole chain, newest first, after `cursor`,
    /// reading at most `RECENT_TXS_SCAN_BLOCKS_MAX` blocks. A cursor the
    /// node did not issue is a `BadRequest` with code `bad_cursor`.
    fn recent_txs(&self, cursor: Option<String>, limit: usize) -> Result<TxsPage, ApiError>;

    /// The chain's genesis document.
    fn genesis(&self) -> Genesis;

    /// An account's owner, flags and balances.
    fn account(&self, address: Address) -> Result<AccountView, ApiError>;

    /// A page of at most `limit` (1 to `ACCOUNT_TXS_LIMIT_MAX`) of an
    /// account's transactions, after `cursor`. A cursor the node did not
    /// issue is a `BadRequest` with code `bad_cursor`.
    fn account_txs(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<AccountTxsPage, ApiError>;

    /// The node's status.
    fn status(&self) -> StatusView;

    /// Finalized blocks from `from_height` (inclusive) onward: replays the
    /// stored ones, then follows live ones. `None` starts at the next block
    /// to be finalized. A consumer that falls too far behind may see the
    /// stream end; it resumes from its last height.
    fn stream(&self, from_height: Option<Height>) -> BoxStream<'static, StreamEvent>;

    /// Metrics in the Prometheus text format.
    fn metrics_text(&self) -> String;

    /// The obligation `id` at the finalized tip, if it exists.
    fn obligation(&self, id: Digest) -> Result<Option<ObligationView>, ApiError>;

    /// A page of obligations. A cursor the node did not issue for this
    /// listing is a `BadRequest` with code `bad_cursor`.
    fn obligations(&self, query: ObligationQuery) -> Result<ObligationsPage, ApiError>;

    /// A page of an obligation's history, oldest first; an unknown
    /// obligation is `NotFound`.
    fn obligation_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError>;

    /// An agency's report; an unknown agency or currency is `NotFound`.
    fn obligation_report(&self, query: ReportQuery) -> Result<ObligationReport, ApiError>;
    /// The receipt of a finalized transaction and its outcome. A
    /// transaction that is not finalized is a `NotFound` with code
    /// `tx_not_finalized`.
    fn tx_receipt(&self, hash: Digest) -> Result<ReceiptView, ApiError>;

    /// The receipt of an account's balance in one currency at the newest
    /// certified finalized block. An unknown currency is a `NotFound` with
    /// code `currency_not_found`.
    fn balance_receipt(
        &self,
        address: Address,
        currency: CurrencyCode,
    ) -> Result<ReceiptView, ApiError>;

    /// The receipt of obligation `id` (or of its absence) at the newest
    /// certified finalized block.
    fn obligation_receipt(&self, id: Digest) -> Result<ReceiptView, ApiError>;

    /// The receipt of credential `id` (or of its absence) at the newest
    /// certified finalized block, its status judged at height `at` or at
    /// that block. A height above it is a `NotFound` with code
    /// `height_not_finalized`.
    fn credential_receipt(&self, id: Digest, at: Option<Height>) -> Result<ReceiptView, ApiError>;

    /// The receipt of a record or batch (or of its absence) at the newest
    /// certified finalized block.
    fn subject_receipt(&self, subject: StateSubject) -> Result<ReceiptView, ApiError>;

    /// The checkpoint of the newest certified finalized block.
    fn checkpoint(&self) -> Result<CheckpointView, ApiError>;

    /// The proof that the finalized block at `old` is an ancestor of the
    /// one at `new`. Heights not in order are a `BadRequest` with code
    /// `heights_out_of_order`; a `new` above the finalized tip is a
    /// `NotFound` with code `height_not_finalized`.
    fn consistency_proof(&self, old: Height, new: Height)
    -> Result<ConsistencyProofView, ApiError>;

    /// The application `id` at the finalized tip, if it exists.
    fn application(&self, id: Digest) -> Result<Option<ApplicationView>, ApiError>;

    /// A page of applications. A cursor the node did not issue for this
    /// listing is a `BadRequest` with code `bad_cursor`.
    fn applications(&self, query: ApplicationQuery) -> Result<ApplicationsPage, ApiError>;

    /// A page of an application's history, oldest first; an unknown
    /// application is `NotFound`.
    fn application_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError>;

    /// The credential `id` at the finalized tip, if it exists.
    fn credential(&self, id: Digest) -> Result<Option<CredentialView>, ApiError>;

    /// A page of credentials.
    fn credentials(&self, query: CredentialQuery) -> Result<CredentialsPage, ApiError>;

    /// A page of a credential's history, oldest first; an unknown
    /// credential is `NotFound`.
    fn credential_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError>;

    /// The status of credential `id` at `moment`, with the proof of its
    /// record at the finalized tip; an unknown credential, or a height not
    /// finalized yet, is `NotFound`.
    fn credential_status(
        &self,
        id: Digest,
        moment: StatusMoment,
    ) -> Result<CredentialStatusProof, ApiError>;

    /// Status list `list` of `org` for `purpose` at the finalized tip, with
    /// the unsigned list credential identified under `base_url`; an
    /// unknown organisation is `NotFound`.
    fn status_list(
        &self,
        org: OrgName,
        purpose: cityledger_vc::StatusPurpose,
        list: u32,
        base_url: String,
    ) -> Result<StatusListView, ApiError>;

    /// Stores the sealed blob and first wrapped keys of the record `tx`
    /// anchors, checked against the digest and size it names, then admits
    /// `tx` as [`NodeApi::submit`] does.
    fn anchor_record(
        &self,
        tx: DecodedTx,
        blob: Vec<u8>,
        keys: WrappedKeys,
    ) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>>;

    /// Merges wrapped keys for new readers, signed by the record's owner or
    /// author; returns how many keys the record now has on this node.
    fn add_record_keys(&self, upload: KeyUpload) -> Result<usize, ApiError>;

    /// The record `id` at the finalized tip, if it exists.
    fn record(&self, id: Digest) -> Result<Option<RecordView>, ApiError>;

    /// A page of records of an owner or a recipient.
    fn records(&self, query: RecordQuery) -> Result<RecordsPage, ApiError>;

    /// The sealed content of record `id` for the finalized access of
    /// transaction `access`: `Gone` after erasure, `Forbidden` with the
    /// access record when the chain refused the access.
    /// `reader` must be the access's reader.
    fn record_content(
        &self,
        id: Digest,
        access: Digest,
        reader: SignedReader,
    ) -> Result<RecordContentView, ApiError>;

    /// A page of an owner's access log, newest first.
    fn accesses(&self, query: AccessQuery) -> Result<AccessesPage, ApiError>;

    /// A page of the grants an owner gave or a reader holds, newest first.
    fn grants(&self, query: GrantQuery) -> Result<GrantsPage, ApiError>;

    /// The device `key`, if registered.
    fn device(&self, key: PublicKey) -> Result<Option<DeviceView>, ApiError>;

    /// A page of an organisation's devices.
    fn devices(
        &self,
        org: OrgName,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DevicesPage, ApiError>;

    /// The batch `id` with the proof of its record; `NotFound` if unknown.
    fn batch(&self, id: Digest) -> Result<BatchProof, ApiError>;

    /// A page of the alerts `org` received, newest first.
    fn alerts(
        &self,
        org: OrgName,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<AlertsPage, ApiError>;

    /// The incident `id` for `reader`: `Forbidden` (`incident_not_shared`)
    /// unless the reader is a member of an agency that sees it, or
    /// (`stale_read`) when its clock is too far from the node's.
    fn incident(&self, id: Digest, reader: SignedReader) -> Result<IncidentView, ApiError>;

    /// A page of the incidents `org` sees, for `reader`, one of its
    /// members.
    fn incidents(
        &self,
        org: OrgName,
        reader: SignedReader,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<IncidentsPage, ApiError>;

    /// The evidence item `id` with its custody, if it exists.
    fn evidence(&self, id: Digest) -> Result<Option<EvidenceView>, ApiError>;

    /// The case `id` with every version, if it exists.
    fn case(&self, id: Digest) -> Result<Option<CaseView>, ApiError>;

    /// Exam `id` and a page of its entries; `NotFound` if unknown.
    fn exam_results(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ExamResultsPage, ApiError>;

    /// The receipt of evidence `id`'s custody (or its absence) at the
    /// newest certified finalized block.
    fn custody_receipt(&self, id: Digest) -> Result<ReceiptView, ApiError>;

    /// The receipt that `item` is at its position in `version` (the newest
    /// if `None`) of `case`; `NotFound` (`case_item_not_found`) when it is
    /// not there.
    fn case_item_receipt(
        &self,
        case: Digest,
        item: Digest,
        version: Option<u32>,
    ) -> Result<ReceiptView, ApiError>;
}

/// The REST router over `node`.
pub fn router<N: NodeApi>(node: N) -> Router {
    routes::<N>()
        .router
        .merge(ui::router())
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .with_state(node)
}

/// The complete OpenAPI document: the schemas of `cityledger-api` and the
/// operations of this module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = cityledger_api::ApiDoc::openapi();
    document.merge(RestDoc::openapi());
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::submit_tx,
        handlers::submit_txs,
        handlers::tx_status,
        handlers::latest_block,
        listings::list_blocks,
        listings::list_txs,
        listings::genesis,
        handlers::block,
        handlers::account,
        handlers::account_txs,
        handlers::status,
        handlers::health,
        handlers::metrics,
        handlers::stream,
        handlers::openapi_json,
        obligations::list,
        obligations::show,
        obligations::history,
        obligations::report,
        receipts::tx_receipt,
        receipts::balance_receipt,
        receipts::obligation_receipt,
        receipts::credential_receipt,
        receipts::record_receipt,
        receipts::batch_receipt,
        receipts::checkpoint,
        receipts::consistency_proof,
        credentials::list_applications,
        credentials::show_application,
        credentials::application_history,
        credentials::list_credentials,
        credentials::show_credential,
        credentials::credential_history,
        credentials::credential_status,
        credentials::status_list,
        records::anchor,
        records::list_records,
        records::show_record,
        records::content,
        records::add_keys,
        records::list_accesses,
        records::list_grants,
        records::list_devices,
        records::show_device,
        records::show_batch,
        safety::list_alerts,
        safety::list_incidents,
        safety::show_incident,
        safety::show_evidence,
        safety::show_case,
        safety::exam_results,
        safety::custody_receipt,
        safety::case_item_receipt,
    ),
    tags(
        (name = "transactions", description = "Submit transactions and follow them to finality"),
        (name = "blocks", description = "Finalized blocks, one at a time or as a stream"),
        (name = "accounts", description = "Balances and history"),
        (name = "node", description = "Status, health, metrics and this document"),
        (name = "obligations", description = "What payers owe agencies: fines, tolls, taxes, fees; their history and the agencies' reports"),
        (name = "receipts", description = "Receipts that anyone can verify offline against the validators' keys"),
        (name = "checkpoints", description = "Checkpoints of the finalized chain and consistency proofs between them: that a later chain extends an earlier one"),
        (name = "credentials", description = "Applications for citizen services, the credentials they issue, their status at any height or time with a proof, and the issuers' status lists"),
        (name = "records", description = "Sealed off-chain records with their commitments, consent grants, the owners' access logs, erasure tombstones, devices and anchored batches of messages"),
        (name = "safety", description = "Alerts from devices, incidents shared across agencies (signed reads), evidence with its chain of custody, and case bundles"),
        (name = "education", description = "Exams with committed answers, their reveals, grades and certificates"),
    )
)]
struct RestDoc;

/// The routes, and the list of (method, path) they were registered with,
/// built together so that the list cannot omit a route. Tests check the
/// list against the OpenAPI document.
struct Routes<N> {
    router: Router<N>,
    registered: Vec<(&'static str, &'static str)>,
}

impl<N: NodeApi> Routes<N> {
    fn new() -> Routes<N> {
        Routes {
            router: Router::new(),
            registered: Vec::new(),
        }
    }

    fn get<H, T>(mut self, path: &'static str, handler: H) -> Routes<N>
    where
        H: Handler<T, N>,
        T: 'static,
    {
        self.router = self.router.route(path, axum::routing::get(handler));
        self.registered.push(("GET", path));
        self
    }

    fn post<H, T>(mut self, path: &'static str, body_bytes_max: usize, handler: H) -> Routes<N>
    where
        H: Handler<T, N>,
        T: 'static,
    {
        let method_router =
            axum::routing::post(handler).layer(DefaultBodyLimit::max(body_bytes_max));
        self.router = self.router.route(path, method_router);
        self.registered.push(("POST", path));
        self
    }
}

fn routes<N: NodeApi>() -> Routes<N> {
    Routes::new()
        .post("/v1/txs", SUBMIT_BODY_BYTES_MAX, handlers::submit_tx::<N>)
        .post(
            "/v1/txs/batch",
            BATCH_BODY_BYTES_MAX,
            handlers::submit_txs::<N>,
        )
        .get("/v1/txs/{hash}", handlers::tx_status::<N>)
        .get("/v1/txs", listings::list_txs::<N>)
        .get("/v1/blocks", listings::list_blocks::<N>)
        .get("/v1/blocks/latest", handlers::latest_block::<N>)
        .get("/v1/blocks/{height_or_id}", handlers::block::<N>)
        .get("/v1/accounts/{address}", handlers::account::<N>)
        .get("/v1/accounts/{address}/txs", handlers::account_txs::<N>)
        .get("/v1/status", handlers::status::<N>)
        .get("/v1/genesis", listings::genesis::<N>)
        .get("/v1/stream", handlers::stream::<N>)
        .get("/health", handlers::health)
        .get("/metrics", handlers::metrics::<N>)
        .get("/openapi.json", handlers::openapi_json)
        .get("/v1/obligations", obligations::list::<N>)
        .get("/v1/obligations/{id}", obligations::show::<N>)
        .get("/v1/obligations/{id}/history", obligations::history::<N>)
        .get("/v1/reports/obligations", obligations::report::<N>)
        .get("/v1/receipts/tx/{hash}", receipts::tx_receipt::<N>)
        .get(
            "/v1/receipts/balance/{address}",
            receipts::balance_receipt::<N>,
        )
        .get(
            "/v1/receipts/obligation/{id}",
            receipts::obligation_receipt::<N>,
        )
        .get(
            "/v1/receipts/credential/{id}",
            receipts::credential_receipt::<N>,
        )
        .get("/v1/receipts/record/{id}", receipts::record_receipt::<N>)
        .get("/v1/receipts/batch/{id}", receipts::batch_receipt::<N>)
        .get("/v1/checkpoints/latest", receipts::checkpoint::<N>)
        .get(
            "/v1/checkpoints/consistency",
            receipts::consistency_proof::<N>,
        )
        .get("/v1/applications", credentials::list_applications::<N>)
        .get("/v1/applications/{id}", credentials::show_application::<N>)
        .get(
            "/v1/applications/{id}/history",
            credentials::application_history::<N>,
        )
        .get("/v1/credentials", credentials::list_credentials::<N>)
        .get("/v1/credentials/{id}", credentials::show_credential::<N>)
        .get(
            "/v1/credentials/{id}/history",
            credentials::credential_history::<N>,
        )
        .get(
            "/v1/credentials/{id}/status",
            credentials::credential_status::<N>,
        )
        .get(
            "/v1/status-lists/{org}/{purpose}/{list}",
            credentials::status_list::<N>,
        )
        .post("/v1/records", ANCHOR_BODY_BYTES_MAX, records::anchor::<N>)
        .get("/v1/records", records::list_records::<N>)
        .get("/v1/records/{id}", records::show_record::<N>)
        .get("/v1/records/{id}/content", records::content::<N>)
        .post(
            "/v1/records/{id}/keys",
            SUBMIT_BODY_BYTES_MAX,
            records::add_keys::<N>,
        )
        .get("/v1/accesses", records::list_accesses::<N>)
        .get("/v1/grants", records::list_grants::<N>)
        .get("/v1/devices", records::list_devices::<N>)
        .get("/v1/devices/{key}", records::show_device::<N>)
        .get("/v1/batches/{id}", records::show_batch::<N>)
        .get("/v1/alerts", safety::list_alerts::<N>)
        .get("/v1/incidents", safety::list_incidents::<N>)
        .get("/v1/incidents/{id}", safety::show_incident::<N>)
        .get("/v1/evidence/{id}", safety::show_evidence::<N>)
        .get("/v1/cases/{id}", safety::show_case::<N>)
        .get("/v1/exams/{id}/results", safety::exam_results::<N>)
        .get("/v1/receipts/custody/{id}", safety::custody_receipt::<N>)
        .get(
            "/v1/receipts/case/{case}/{item}",
            safety::case_item_receipt::<N>,
        )
}
