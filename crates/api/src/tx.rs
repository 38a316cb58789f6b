//! Transactions on the wire: submission requests and responses, status,
//! outcome, and a readable rendering of what a transaction does.
//!
//! The signed bytes travel as base64url (see [`crate::tx_text`]); the views
//! below are for reading only and are never signed or hashed.

use crate::obligation::{
    DecideAppealView, DefineKindView, IssueView, ObligationReasonView, PayObligationView,
};
use crate::problem::Problem;
use crate::tx_text;
use cityledger_types::obligation::{ObligationOp, Reason};
use cityledger_types::tx::{GovernanceOp, TransferOrder};
use cityledger_types::{
    Action, Address, Amount, ClientTxId, CurrencyCode, Digest, Height, LedgerOp, OrgName,
    PublicKey, RoleName, SignedTx, TxOutcome,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Submit one signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxRequest {
    /// base64url, without padding, of the canonical borsh `SignedTx` bytes.
    #[schema(max_length = 1398104)]
    pub tx: String,
}

impl SubmitTxRequest {
    /// The request for `tx`.
    pub fn new(tx: &SignedTx) -> SubmitTxRequest {
        SubmitTxRequest {
            tx: tx_text::encode_tx(tx),
        }
    }
}

/// Submit up to `TXS_PER_BATCH_MAX` (1024) signed transactions; each is
/// accepted or refused on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxsRequest {
    /// base64url of each transaction, as in [`SubmitTxRequest::tx`].
    #[schema(min_items = 1, max_items = 1024)]
    pub txs: Vec<String>,
}

impl SubmitTxsRequest {
    /// The request for `txs`, in order.
    pub fn new(txs: &[SignedTx]) -> SubmitTxsRequest {
        SubmitTxsRequest {
            txs: txs.iter().map(tx_text::encode_tx).collect(),
        }
    }
}

/// A transaction the node accepted, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// The transaction hash, hex.
    #[schema(value_type = String, example = "3f1c…")]
    pub hash: Digest,
    /// Where it stands: usually `pending`; `finalized` when the same
    /// transaction was already included.
    pub status: TxStatusView,
}

/// The fate of one transaction of a batch, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SubmitResult {
    /// Accepted into the mempool (or already known).
    Accepted(SubmitTxResponse),
    /// Refused; the problem names the item as `txs[i]`.
    Problem(Problem),
}

/// One result per submitted transaction, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxsResponse {
    /// Results, one per transaction of the request.
    pub results: Vec<SubmitResult>,
}

/// What executing a finalized transaction did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OutcomeView {
    /// Every effect was applied.
    Applied,
    /// Nothing was applied; the transaction's id is consumed all the same.
    Rejected {
        /// Stable machine code, e.g. `insufficient_funds`. A string rather
        /// than an enum so that older clients can read newer codes.
        #[schema(example = "insufficient_funds")]
        code: String,
        /// Index of the failing operation in a linked batch; 0 otherwise.
        op_index: u32,
        /// For people.
        detail: String,
    },
}

impl From<&TxOutcome> for OutcomeView {
    fn from(outcome: &TxOutcome) -> OutcomeView {
        match outcome {
            TxOutcome::Applied => OutcomeView::Applied,
            TxOutcome::Rejected {
                code,
                op_index,
                detail,
            } => OutcomeView::Rejected {
                code: code.as_str().to_owned(),
                op_index: *op_index,
                detail: detail.clone(),
            },
        }
    }
}

/// Where a transaction stands, as far as this node knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TxStatusView {
    /// In the mempool, waiting for a block.
    Pending {
        /// The transaction hash, hex.
        #[schema(value_type = String)]
        hash: Digest,
    },
    /// In a finalized block; final and never reverted.
    Finalized {
        /// The transaction hash, hex.
        #[schema(value_type = String)]
        hash: Digest,
        /// Height of the block.
        #[schema(value_type = u64)]
        height: Height,
        /// Id of the block, hex.
        #[schema(value_type = String)]
        block_id: Digest,
        /// Position of the transaction in the block.
        position: u32,
        /// What executing it did.
        #[serde(flatten)]
        outcome: OutcomeView,
    },
    /// Neither pending nor finalized: never received, dropped or expired.
    Unknown {
        /// The transaction hash, hex.
        #[schema(value_type = String)]
        hash: Digest,
    },
}

impl TxStatusView {
    /// The transaction hash.
    pub fn hash(&self) -> Digest {
        match self {
            TxStatusView::Pending { hash }
            | TxStatusView::Finalized { hash, .. }
            | TxStatusView::Unknown { hash } => *hash,
        }
    }

    /// Whether the transaction is in a finalized block.
    pub fn is_finalized(&self) -> bool {
        matches!(self, TxStatusView::Finalized { .. })
    }
}

/// A transaction of a block, readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxView {
    /// The transaction hash, hex.
    #[schema(value_type = String)]
    pub hash: Digest,
    /// The signer's public key, hex.
    #[schema(value_type = String)]
    pub signer: PublicKey,
    /// The client-chosen id, unique per signer.
    #[schema(value_type = String)]
    pub id: ClientTxId,
    /// Block time (ms since the Unix epoch) after which it could not be included.
    pub expires_at_ms: u64,
    /// What it does.
    pub action: ActionView,
    /// What executing it did.
    #[serde(flatten)]
    pub outcome: OutcomeView,
}

impl TxView {
    /// The view of `tx`, which executed with `outcome`.
    pub fn new(tx: &SignedTx, outcome: &TxOutcome) -> TxView {
        TxView {
            hash: tx.hash(),
            signer: tx.body.signer,
            id: tx.body.id.clone(),
            expires_at_ms: tx.body.expires_at_ms,
            action: ActionView::from(&tx.body.action),
            outcome: OutcomeView::from(outcome),
        }
    }
}

/// A transfer, now or reserved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransferView {
    /// Debited account.
    #[schema(value_type = String)]
    pub from: Address,
    /// Credited account.
    #[schema(value_type = String)]
    pub to: Address,
    /// Currency code.
    #[schema(value_type = String)]
    pub currency: CurrencyCode,
    /// Amount in minor units, a decimal string.
    #[schema(value_type = String, example = "1250")]
    pub amount: Amount,
    /// Note for both parties.
    pub memo: String,
}

impl From<&TransferOrder> for TransferView {
    fn from(order: &TransferOrder) -> TransferView {
        TransferView {
            from: order.from,
            to: order.to,
            currency: order.currency.clone(),
            amount: order.amount,
            memo: order.memo.as_str().to_owned(),
        }
    }
}

/// A reservation that moves on post and returns on void or timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatePendingView {
    /// What would move.
    pub order: TransferView,
    /// How long the reservation holds, in ms of block time.
    pub timeout_ms: u64,
}

/// Posting (part of) a reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostPendingView {
    /// The pending transfer's id, hex.
    #[schema(value_type = String)]
    pub pending: Digest,
    /// Minor units to move; the whole reservation when absent.
    #[schema(value_type = Option<String>)]
    pub amount: Option<Amount>,
}

/// Releasing a reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoidPendingView {
    /// The pending transfer's id, hex.
    #[schema(value_type = String)]
    pub pending: Digest,
}

/// Ledger operations that all apply, or none does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkedView {
    /// The operations, in order.
    pub ops: Vec<LedgerOpView>,
}

/// Adding a member, or replacing its roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SetMemberView {
    /// Organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Member key, hex.
    #[schema(value_type = String)]
    pub member: PublicKey,
    /// Roles granted.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<RoleName>,
}

/// Removing a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemoveMemberView {
    /// Organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// Member key, hex.
    #[schema(value_type = String)]
    pub member: PublicKey,
}

/// One ledger operation, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LedgerOpView {
    /// Move an amount now.
    Transfer(TransferView),
    /// Reserve an amount.
    CreatePending(CreatePendingView),
    /// Move a reserved amount.
    PostPending(PostPendingView),
    /// Release a reserved amount.
    VoidPending(VoidPendingView),
}

impl From<&LedgerOp> for LedgerOpView {
    fn from(op: &LedgerOp) -> LedgerOpView {
        match op {
            LedgerOp::Transfer(order) => LedgerOpView::Transfer(order.into()),
            LedgerOp::CreatePending { order, timeout_ms } => {
                LedgerOpView::CreatePending(CreatePendingView {
                    order: order.into(),
                    timeout_ms: *timeout_ms,
                })
            }
            LedgerOp::PostPending { pending, amount } => {
                LedgerOpView::PostPending(PostPendingView {
                    pending: *pending,
                    amount: *amount,
                })
            }
            LedgerOp::VoidPending { pending } => {
                LedgerOpView::VoidPending(VoidPendingView { pending: *pending })
            }
        }
    }
}

/// What a transaction does, tagged by `kind`. The ledger kinds are the same
/// as [`LedgerOpView`]'s, so one reader handles both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionView {
    /// Move an amount now.
    Transfer(TransferView),
    /// Reserve an amount.
    CreatePending(CreatePendingView),
    /// Move a reserved amount.
    PostPending(PostPendingView),
    /// Release a reserved amount.
    VoidPending(VoidPendingView),
    /// Several ledger operations, atomically.
    Linked(LinkedView),
    /// Add a member or replace its roles.
    SetMember(SetMemberView),
    /// Remove a member.
    RemoveMember(RemoveMemberView),
    /// Define a kind of obligation and its roles.
    DefineObligationKind(DefineKindView),
    /// Issue obligations (one, or a bulk batch).
    IssueObligations(IssueView),
    /// Pay (part of) an obligation.
    PayObligation(PayObligationView),
    /// Waive what remains of an obligation.
    WaiveObligation(ObligationReasonView),
    /// Appeal an obligation.
    AppealObligation(ObligationReasonView),
    /// Decide an appeal.
    DecideAppeal(DecideAppealView),
    /// Cancel an obligation.
    CancelObligation(ObligationReasonView),
    /// An application operation, tagged by `op`.
    Application(crate::credential::ApplicationOpView),
    /// A credential operation, tagged by `op`.
    Credential(crate::credential::CredentialOpView),
    /// A record operation, tagged by `op`.
    Record(crate::record::RecordOpView),
    /// A device operation, tagged by `op`.
    Device(crate::record::DeviceOpView),
    /// A public safety operation, tagged by `op`.
    Safety(crate::safety::SafetyOpView),
    /// An education operation, tagged by `op`.
    Education(crate::safety::EducationOpView),
}

/// The `kind` tag that [`ActionView`] gives `action`, without rendering
/// it: a listing needs only the tag, and a bulk issuance renders thousands
/// of charges.
pub fn action_kind(action: &Action) -> &'static str {
    match action {
        Action::Ledger(LedgerOp::Transfer(_)) => "transfer",
        Action::Ledger(LedgerOp::CreatePending { .. }) => "create_pending",
        Action::Ledger(LedgerOp::PostPending { .. }) => "post_pending",
        Action::Ledger(LedgerOp::VoidPending { .. }) => "void_pending",
        Action::Linked(_) => "linked",
        Action::Governance(GovernanceOp::SetMember { .. }) => "set_member",
        Action::Governance(GovernanceOp::RemoveMember { .. }) => "remove_member",
        Action::Obligation(ObligationOp::DefineKind { .. }) => "define_obligation_kind",
        Action::Obligation(ObligationOp::Issue(_)) => "issue_obligations",
        Action::Obligation(ObligationOp::Pay { .. }) => "pay_obligation",
        Action::Obligation(ObligationOp::Waive { .. }) => "waive_obligation",
        Action::Obligation(ObligationOp::Appeal { .. }) => "appeal_obligation",
        Action::Obligation(ObligationOp::Decide { .. }) => "decide_appeal",
        Action::Obligation(ObligationOp::Cancel { .. }) => "cancel_obligation",
        Action::Application(_) => "application",
        Action::Credential(_) => "credential",
        Action::Record(_) => "record",
        Action::Device(_) => "device",
        Action::Safety(_) => "safety",
        Action::Education(_) => "education",
    }
}

/// A finalized transaction in a listing: where it is and what it did,
/// without its whole body (`GET /v1/blocks/{height}` has that).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxSummary {
    /// The transaction hash, hex.
    #[schema(value_type = String)]
    pub hash: Digest,
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Position in its block.
    pub position: u32,
    /// Block time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The signer's public key, hex.
    #[schema(value_type = String)]
    pub signer: PublicKey,
    /// What it does: the `kind` of its [`ActionView`], e.g. `transfer`.
    #[schema(example = "transfer")]
    pub kind: String,
    /// The transfer, when it is a single one (the common case, shown in
    /// listings without fetching the block).
    pub transfer: Option<TransferView>,
    /// What executing it did.
    #[serde(flatten)]
    pub outcome: OutcomeView,
}

impl TxSummary {
    /// The summary of `tx`, at `position` in the block at `height` and
    /// time `timestamp_ms`, which executed with `outcome`.
    pub fn new(
        tx: &SignedTx,
        height: Height,
        position: u32,
        timestamp_ms: u64,
        outcome: &TxOutcome,
    ) -> TxSummary {
        let transfer = match &tx.body.action {
            Action::Ledger(LedgerOp::Transfer(order)) => Some(TransferView::from(order)),
            _ => None,
        };
        TxSummary {
            hash: tx.hash(),
            height,
            position,
            timestamp_ms,
            signer: tx.body.signer,
            kind: action_kind(&tx.body.action).to_owned(),
            transfer,
            outcome: OutcomeView::from(outcome),
        }
    }
}

/// A page of finalized transactions, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxsPage {
    /// The transactions.
    pub items: Vec<TxSummary>,
    /// Pass as `cursor` to get the next (older) page; absent at genesis.
    /// A page may hold fewer than `limit` items and still have a cursor:
    /// one request scans a bounded number of blocks.
    pub next_cursor: Option<String>,
}

impl From<LedgerOpView> for ActionView {
    fn from(op: LedgerOpView) -> ActionView {
        match op {
            LedgerOpView::Transfer(view) => ActionView::Transfer(view),
            LedgerOpView::CreatePending(view) => ActionView::CreatePending(view),
            LedgerOpView::PostPending(view) => ActionView::PostPending(view),
            LedgerOpView::VoidPending(view) => ActionView::VoidPending(view),
        }
    }
}

impl From<&Action> for ActionView {
    fn from(action: &Action) -> ActionView {
        match action {
            Action::Ledger(op) => LedgerOpView::from(op).into(),
            Action::Linked(ops) => ActionView::Linked(LinkedView {
                ops: ops.0.iter().map(LedgerOpView::from).collect(),
            }),
            Action::Governance(GovernanceOp::SetMember { org, member, roles }) => {
                ActionView::SetMember(SetMemberView {
                    org: org.clone(),
                    member: *member,
                    roles: roles.0.clone(),
                })
            }
            Action::Governance(GovernanceOp::RemoveMember { org, member }) => {
                ActionView::RemoveMember(RemoveMemberView {
                    org: org.clone(),
                    member: *member,
                })
            }
            Action::Obligation(op) => ActionView::from(op),
            Action::Application(op) => ActionView::Application(op.into()),
            Action::Credential(op) => ActionView::Credential(op.into()),
            Action::Record(op) => ActionView::Record(op.into()),
            Action::Device(op) => ActionView::Device(op.into()),
            Action::Safety(op) => ActionView::Safety(op.into()),
            Action::Education(op) => ActionView::Education(op.into()),
        }
    }
}

impl From<&ObligationOp> for ActionView {
    fn from(op: &ObligationOp) -> ActionView {
        let reason = |obligation: &Digest, reason: &Reason| ObligationReasonView {
            obligation: *obligation,
            reason: reason.to_string(),
        };
        match op {
            ObligationOp::DefineKind { org, kind, roles } => {
                ActionView::DefineObligationKind(DefineKindView::new(org, kind, roles))
            }
            ObligationOp::Issue(issuance) => ActionView::IssueObligations(issuance.into()),
            ObligationOp::Pay {
                obligation,
                from,
                currency,
                amount,
            } => ActionView::PayObligation(PayObligationView {
                obligation: *obligation,
                from: *from,
                currency: currency.clone(),
                amount: *amount,
            }),
            ObligationOp::Waive {
                obligation,
                reason: text,
            } => ActionView::WaiveObligation(reason(obligation, text)),
            ObligationOp::Appeal {
                obligation,
                reason: text,
            } => ActionView::AppealObligation(reason(obligation, text)),
            ObligationOp::Decide {
                obligation,
                decision,
                reason,
            } => ActionView::DecideAppeal(DecideAppealView::new(
                *obligation,
                decision,
                reason.as_str(),
            )),
            ObligationOp::Cancel {
                obligation,
                reason: text,
            } => ActionView::CancelObligation(reason(obligation, text)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cityledger_types::tx::{ChainId, Memo, TxBody};
    use cityledger_types::{RejectCode, SecretKey};
    use serde_json::json;

    pub(crate) fn sample_tx(amount: u128) -> SignedTx {
        let key = SecretKey::from_seed([3; 32]);
        let order = TransferOrder {
            from: Address::of_key(&key.public_key()),
            to: Address::of_key(&SecretKey::from_seed([4; 32]).public_key()),
            currency: CurrencyCode::new("CITY").unwrap(),
            amount: Amount(amount),
            memo: Memo::new("lunch").unwrap(),
        };
        TxBody {
            chain_id: ChainId::new("cityledger-dev").unwrap(),
            signer: key.public_key(),
            id: ClientTxId::new("t-1").unwrap(),
            expires_at_ms: 1_700_000_000_000,
            action: Action::Ledger(LedgerOp::Transfer(order)),
        }
        .sign(&key)
    }

    fn check_round_trip<T>(value: &T, expected: serde_json::Value)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_value(value).unwrap(), expected);
        let back: T = serde_json::from_value(expected).unwrap();
        assert_eq!(&back, value);
    }

    #[test]
    fn status_shapes() {
        let hash = Digest([0xab; 32]);
        let block_id = Digest([0xcd; 32]);
        check_round_trip(
            &TxStatusView::Pending { hash },
            json!({"state": "pending", "hash": hash.to_hex()}),
        );
        check_round_trip(
            &TxStatusView::Unknown { hash },
            json!({"state": "unknown", "hash": hash.to_hex()}),
        );
        check_round_trip(
            &TxStatusView::Finalized {
                hash,
                height: Height(7),
                block_id,
                position: 2,
                outcome: OutcomeView::Applied,
            },
            json!({
                "state": "finalized", "hash": hash.to_hex(), "height": 7,
                "block_id": block_id.to_hex(), "position": 2, "outcome": "applied"
            }),
        );
        let rejected = TxOutcome::Rejected {
            code: RejectCode::InsufficientFunds,
            op_index: 0,
            detail: "balance 5 < 10".into(),
        };
        check_round_trip(
            &TxStatusView::Finalized {
                hash,
                height: Height(7),
                block_id,
                position: 2,
                outcome: OutcomeView::from(&rejected),
            },
            json!({
                "state": "finalized", "hash": hash.to_hex(), "height": 7,
                "block_id": block_id.to_hex(), "position": 2, "outcome": "rejected",
                "code": "insufficient_funds", "op_index": 0, "detail": "balance 5 < 10"
            }),
        );
    }

    #[test]
    fn tx_view_renders_the_action() {
        let tx = sample_tx(1250);
        let view = TxView::new(&tx, &TxOutcome::Applied);
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(value["outcome"], "applied");
        assert_eq!(value["action"]["kind"], "transfer");
        assert_eq!(value["action"]["amount"], "1250");
        assert_eq!(value["action"]["currency"], "CITY");
        assert_eq!(value["id"], "t-1");
        let back: TxView = serde_json::from_value(value).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn action_kind_is_the_views_tag() {
        let tx = sample_tx(1250);
        let value = serde_json::to_value(ActionView::from(&tx.body.action)).unwrap();
        assert_eq!(value["kind"], action_kind(&tx.body.action));
        let summary = TxSummary::new(&tx, Height(4), 2, 9, &TxOutcome::Applied);
        let value = serde_json::to_value(&summary).unwrap();
        assert_eq!(value["kind"], "transfer");
        assert_eq!(value["outcome"], "applied");
        assert_eq!(value["transfer"]["amount"], "1250");
        assert_eq!(value["height"], 4);
        let back: TxSummary = serde_json::from_value(value).unwrap();
        assert_eq!(back, summary);
    }

    #[test]
    fn batch_results_are_tagged() {
        let hash = Digest([1; 32]);
        let accepted = SubmitResult::Accepted(SubmitTxResponse {
            hash,
            status: TxStatusView::Pending { hash },
        });
        check_round_trip(
            &accepted,
            json!({"result": "accepted", "hash": hash.to_hex(),
                   "status": {"state": "pending", "hash": hash.to_hex()}}),
        );
        let refused = SubmitResult::Problem(
            Problem::new(400, "bad_base64", "Bad request", "not base64").with_field("txs[3]"),
        );
        check_round_trip(
            &refused,
            json!({"result": "problem", "type": "/problems/bad_base64", "title": "Bad request",
                   "status": 400, "detail": "not base64", "code": "bad_base64", "field": "txs[3]"}),
        );
    }

    #[test]
    fn the_documented_text_limit_is_the_enforced_one() {
        use utoipa::OpenApi;
        let document = serde_json::to_value(crate::ApiDoc::openapi()).unwrap();
        let documented =
            &document["components"]["schemas"]["SubmitTxRequest"]["properties"]["tx"]["maxLength"];
        assert_eq!(*documented, json!(crate::limits::TX_TEXT_BYTES_MAX));
    }

    #[test]
    fn requests_encode_the_canonical_bytes() {
        let tx = sample_tx(5);
        let request = SubmitTxRequest::new(&tx);
        assert_eq!(tx_text::decode_tx(&request.tx), Ok(tx.clone()));
        let batch = SubmitTxsRequest::new(&[tx.clone(), sample_tx(6)]);
        assert_eq!(batch.txs.len(), 2);
        assert_eq!(batch.txs[0], request.tx);
    }
}
