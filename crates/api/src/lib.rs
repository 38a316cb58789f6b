//! Request and response types of the REST API, and its OpenAPI document.
//!
//! This crate owns the JSON shapes that cross the wire between a node and
//! its clients: the node's REST module serializes them and the Rust SDK
//! deserializes them, so the two cannot drift apart. It also owns the limits
//! a request must respect and the problem codes a client can branch on.
//!
//! It must never do I/O, hold state or know about HTTP frameworks: the
//! routes themselves, and the `paths` section of the OpenAPI document, live
//! in the node's `rest` module, which merges them into [`ApiDoc`].
//!
//! Conventions of every view:
//! - field names are snake_case;
//! - hashes, block ids and keys are lowercase hex; addresses are `cl1…`;
//! - amounts are decimal strings of minor units, since u128 does not fit a
//!   JavaScript number; signed balances are strings too.

pub mod account;
pub mod block;
pub mod credential;
pub mod decimal;
pub mod limits;
pub mod obligation;
pub mod problem;
pub mod receipt;
pub mod record;
pub mod safety;
pub mod status;
pub mod stream;
pub mod tx;
pub mod tx_text;

pub use account::{AccountKindView, AccountTxItem, AccountTxsPage, AccountView, BalanceView};
pub use block::{BlockSummary, BlockView, BlocksPage, RoundView};
pub use cityledger_types::civil;
pub use credential::{
    ApplicationView, ApplicationsPage, CredentialStatusProof, CredentialView, CredentialsPage,
    StatusListView,
};
pub use obligation::{
    ObligationHistoryItem, ObligationHistoryPage, ObligationReport, ObligationStatusFilter,
    ObligationStatusView, ObligationView, ObligationsPage,
};
pub use problem::Problem;
pub use receipt::{CheckpointView, ConsistencyProofView, ReceiptView};
pub use record::{
    AccessView, AccessesPage, AnchorRecordRequest, BatchProof, DeviceView, DevicesPage, GrantView,
    GrantsPage, RecordContentView, RecordKeysRequest, RecordView, RecordsPage,
};
pub use safety::{
    AlertView, AlertsPage, CaseView, EvidenceView, ExamResultView, ExamResultsPage, ExamView,
    IncidentView, IncidentsPage,
};
pub use status::{EquivocationView, HealthView, StatusView, ValidatorView};
pub use stream::{StreamEvent, StreamEventItem};
pub use tx::{
    ActionView, LedgerOpView, OutcomeView, SubmitResult, SubmitTxRequest, SubmitTxResponse,
    SubmitTxsRequest, SubmitTxsResponse, TxStatusView, TxSummary, TxView, TxsPage, action_kind,
};

use utoipa::OpenApi;

/// The OpenAPI document without its paths: metadata and every schema.
///
/// The node's REST module merges its `#[utoipa::path]` operations into it;
/// call `cityledger_node::rest::openapi()` for the complete document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CityLedger REST API",
        description = "Submit signed transactions, read finalized blocks, accounts and node status, and follow finalized blocks as server-sent events. Errors are RFC 9457 problem documents.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        SubmitTxRequest,
        SubmitTxsRequest,
        SubmitTxResponse,
        SubmitTxsResponse,
        SubmitResult,
        TxStatusView,
        OutcomeView,
        TxView,
        ActionView,
        LedgerOpView,
        tx::TransferView,
        tx::CreatePendingView,
        tx::PostPendingView,
        tx::VoidPendingView,
        tx::LinkedView,
        tx::SetMemberView,
        tx::RemoveMemberView,
        BlockView,
        RoundView,
        BlockSummary,
        BlocksPage,
        TxSummary,
        TxsPage,
        AccountView,
        AccountKindView,
        BalanceView,
        AccountTxsPage,
        AccountTxItem,
        StatusView,
        ValidatorView,
        EquivocationView,
        HealthView,
        StreamEvent,
        StreamEventItem,
        Problem,
        ObligationView,
        ObligationStatusView,
        ObligationStatusFilter,
        ObligationsPage,
        ObligationHistoryItem,
        ObligationHistoryPage,
        ObligationReport,
        obligation::PenaltyRuleView,
        obligation::ReferenceFieldView,
        obligation::AppealView,
        obligation::DecisionView,
        obligation::ClosureView,
        obligation::DefineKindView,
        obligation::ChargeView,
        obligation::IssueView,
        obligation::PayObligationView,
        obligation::ObligationReasonView,
        obligation::DecideAppealView,
        ReceiptView,
        CheckpointView,
        ConsistencyProofView,
        ApplicationView,
        ApplicationsPage,
        credential::InfoRoundView,
        credential::ApplicationDecisionView,
        CredentialView,
        CredentialsPage,
        credential::StatusChangeView,
        CredentialStatusProof,
        StatusListView,
        credential::FeeView,
        credential::ApplicationOpView,
        credential::CredentialOpView,
        RecordView,
        record::AcknowledgementView,
        record::ErasureView,
        RecordsPage,
        GrantView,
        GrantsPage,
        AccessView,
        AccessesPage,
        RecordContentView,
        AnchorRecordRequest,
        RecordKeysRequest,
        DeviceView,
        DevicesPage,
        BatchProof,
        record::RecordOpView,
        record::DeviceOpView,
        AlertView,
        AlertsPage,
        IncidentView,
        IncidentsPage,
        safety::IncidentUpdateView,
        safety::ShareView,
        EvidenceView,
        safety::CustodyEventView,
        CaseView,
        safety::CaseVersionView,
        ExamView,
        ExamResultView,
        ExamResultsPage,
        safety::SafetyOpView,
        safety::EducationOpView,
    ))
)]
pub struct ApiDoc;
