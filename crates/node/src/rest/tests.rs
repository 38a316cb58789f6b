//! The REST edge against a fake node: every route's happy path, every kind
//! of bad input (status, problem code and field), and the OpenAPI document
//! against the registered routes.

use super::*;
use crate::record_indexes::GrantListing;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use cityledger_api::limits::TXS_PER_BATCH_MAX;
use cityledger_api::problem::code;
use cityledger_api::tx_text::{encode_bytes, encode_tx};
use cityledger_api::{
    AccessView, AccountTxItem, OutcomeView, ReceiptView, StreamEventItem, ValidatorView,
};
use cityledger_types::block::{BlockHeader, BlockTxs, ConsensusRound, tx_root};
use cityledger_types::genesis::Genesis;
use cityledger_types::limits::TX_BYTES_MAX;
use cityledger_types::names::{AccountName, OrgName};
use cityledger_types::tx::{ChainId, ClientTxId, Memo, TransferOrder, TxBody};
use cityledger_types::{Action, Amount, Block, CurrencyCode, LedgerOp, SecretKey, TxOutcome};
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const FINAL_HEIGHT: u64 = 3;

fn sample_tx(id: &str) -> SignedTx {
    let key = SecretKey::from_seed([1; 32]);
    let order = TransferOrder {
        from: Address::of_key(&key.public_key()),
        to: Address::of_key(&SecretKey::from_seed([2; 32]).public_key()),
        currency: CurrencyCode::new("CITY").unwrap(),
        amount: Amount(1250),
        memo: Memo::new("").unwrap(),
    };
    TxBody {
        chain_id: ChainId::new("cityledger-test").unwrap(),
        signer: key.public_key(),
        id: ClientTxId::new(id).unwrap(),
        expires_at_ms: 1_700_000_000_000,
        action: Action::Ledger(LedgerOp::Transfer(order)),
    }
    .sign(&key)
}

fn sample_block() -> BlockView {
    let txs = vec![sample_tx("in-block")];
    let header = BlockHeader {
        chain_id: ChainId::new("cityledger-test").unwrap(),
        height: Height(1),
        parent: Digest([7; 32]),
        timestamp_ms: 1_700_000_000_000,
        round: ConsensusRound::default(),
        tx_root: tx_root(&txs),
        outcomes_root: Digest::ZERO,
        state_root: Digest([8; 32]),
        validator_set_hash: Digest([9; 32]),
        tx_count: 1,
    };
    let block = Block {
        header,
        txs: BlockTxs(txs),
    };
    BlockView::new(&block, &[TxOutcome::Applied], Some(b"certificate"))
}

/// What the fake node was asked, for assertions on argument passing.
#[derive(Default)]
struct Calls {
    blocks: Option<(Option<Height>, usize)>,
    recent_txs: Option<(Option<String>, usize)>,
    account_txs: Option<(Address, Option<String>, usize)>,
    stream_from: Option<Option<Height>>,
    obligations: Option<ObligationQuery>,
    report: Option<ReportQuery>,
    balance_receipt: Option<(Address, CurrencyCode)>,
    credential_receipt: Option<(Digest, Option<Height>)>,
    subject_receipt: Option<StateSubject>,
    consistency_proof: Option<(Height, Height)>,
    applications: Option<ApplicationQuery>,
    status_moment: Option<StatusMoment>,
    status_list: Option<(OrgName, cityledger_vc::StatusPurpose, u32, String)>,
    anchored: Option<(usize, usize)>,
    records: Option<RecordQuery>,
    accesses: Option<AccessQuery>,
    grants: Option<GrantQuery>,
    devices: Option<OrgName>,
}

/// The one obligation the fake node knows.
const FAKE_OBLIGATION: Digest = Digest([0x0b; 32]);

fn fake_obligation() -> ObligationView {
    use cityledger_types::obligation::{
        ObligationRecord, ObligationStatus, PenaltyRule, Reference,
    };
    let record = ObligationRecord {
        kind: cityledger_types::KindName::new("traffic_fine").unwrap(),
        issuer: OrgName::new("transport").unwrap(),
        issued_by: SecretKey::from_seed([5; 32]).public_key(),
        issued_at_ms: 1_700_000_000_000,
        payer: Address::of_key(&SecretKey::from_seed([2; 32]).public_key()),
        payee: Address::parse_or_alias("transport:main").unwrap(),
        currency: CurrencyCode::new("CITY").unwrap(),
        amount: Amount(5_000),
        due_at_ms: 1_700_000_100_000,
        penalty: PenaltyRule::None,
        reference: Reference::default(),
        evidence: None,
        status: ObligationStatus::Open,
        paid: Amount::ZERO,
        penalty_assessed: Amount::ZERO,
        appeal: None,
        closure: None,
    };
    ObligationView::new(FAKE_OBLIGATION, &record, 1_700_000_000_000)
}

/// A node whose answers depend only on the request: ids `dup`, `full` and
/// `badsig` trigger the node-side refusals.
#[derive(Clone)]
struct FakeNode {
    block: Arc<BlockView>,
    calls: Arc<Mutex<Calls>>,
}

impl FakeNode {
    fn new() -> FakeNode {
        FakeNode {
            block: Arc::new(sample_block()),
            calls: Arc::new(Mutex::new(Calls::default())),
        }
    }

    fn finalized(&self) -> TxStatusView {
        TxStatusView::Finalized {
            hash: self.block.txs[0].hash,
            height: Height(1),
            block_id: self.block.id,
            position: 0,
            outcome: OutcomeView::Applied,
        }
    }

    fn admit(&self, decoded: DecodedTx) -> Result<SubmitTxResponse, ApiError> {
        assert_eq!(decoded.encoded_bytes, decoded.tx.to_bytes().len());
        let hash = decoded.tx.hash();
        match decoded.tx.body.id.as_str() {
            "dup" => Err(ApiError::duplicate_tx_id(
                "id already used",
                Some(self.finalized()),
            )),
            "full" => Err(ApiError::MempoolFull { retry_after_s: 2 }),
            "badsig" => Err(ApiError::bad_request(
                "bad_signature",
                "tx.signature",
                "signature does not verify",
            )),
            _ => Ok(SubmitTxResponse {
                hash,
                status: TxStatusView::Pending { hash },
            }),
        }
    }

    fn stream_event(&self, height: u64) -> StreamEvent {
        StreamEvent {
            height: Height(height),
            block_id: Digest([height as u8; 32]),
            timestamp_ms: 1_700_000_000_000 + height,
            tx_count: 1,
            events: vec![StreamEventItem {
                tx: Some(Digest([1; 32])),
                event: json!({"type": "transferred", "amount": "5"}),
            }],
        }
    }
}

impl NodeApi for FakeNode {
    fn submit(&self, tx: DecodedTx) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>> {
        let answer = self.admit(tx);
        async move { answer }.boxed()
    }

    fn submit_many(
        &self,
        txs: Vec<DecodedTx>,
    ) -> BoxFuture<'static, Vec<Result<SubmitTxResponse, ApiError>>> {
        let answers: Vec<_> = txs.into_iter().map(|tx| self.admit(tx)).collect();
        async move { answers }.boxed()
    }

    fn tx_status(&self, hash: Digest) -> Result<TxStatusView, ApiError> {
        if hash == self.block.txs[0].hash {
            return Ok(self.finalized());
        }
        Ok(TxStatusView::Unknown { hash })
    }

    fn block_by_height(&self, height: Height) -> Result<Option<BlockView>, ApiError> {
        Ok((height == self.block.height).then(|| (*self.block).clone()))
    }

    fn block_by_id(&self, id: Digest) -> Result<Option<BlockView>, ApiError> {
        Ok((id == self.block.id).then(|| (*self.block).clone()))
    }

    fn blocks(&self, before: Option<Height>, limit: usize) -> Result<BlocksPage, ApiError> {
        self.calls.lock().unwrap().blocks = Some((before, limit));
        let block = Block {
            header: BlockHeader {
                chain_id: ChainId::new("cityledger-test").unwrap(),
                height: self.block.height,
                parent: self.block.parent,
                timestamp_ms: self.block.timestamp_ms,
                round: ConsensusRound::default(),
                tx_root: self.block.tx_root,
                outcomes_root: self.block.outcomes_root,
                state_root: self.block.state_root,
                validator_set_hash: self.block.validator_set_hash,
                tx_count: 1,
            },
            txs: BlockTxs(vec![sample_tx("in-block")]),
        };
        Ok(BlocksPage {
            items: vec![cityledger_api::BlockSummary::new(
                &block,
                &[TxOutcome::Applied],
                true,
            )],
            next_before: None,
        })
    }

    fn recent_txs(&self, cursor: Option<String>, limit: usize) -> Result<TxsPage, ApiError> {
        if cursor.as_deref() == Some("forged") {
            return Err(ApiError::bad_request(
                code::BAD_CURSOR,
                "cursor",
                "cursor must be `height:position` as returned in next_cursor",
            ));
        }
        self.calls.lock().unwrap().recent_txs = Some((cursor, limit));
        Ok(TxsPage {
            items: vec![cityledger_api::TxSummary::new(
                &sample_tx("in-block"),
                Height(1),
                0,
                self.block.timestamp_ms,
                &TxOutcome::Applied,
            )],
            next_cursor: Some("0:4294967295".into()),
        })
    }

    fn genesis(&self) -> Genesis {
        Genesis {
            chain_id: ChainId::new("cityledger-test").unwrap(),
            genesis_time_ms: 1_700_000_000_000,
            currencies: Vec::new(),
            orgs: Vec::new(),
            validators: Vec::new(),
        }
    }

    fn account(&self, address: Address) -> Result<AccountView, ApiError> {
        Ok(AccountView::new(address, None, Vec::new()))
    }

    fn account_txs(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<AccountTxsPage, ApiError> {
        self.calls.lock().unwrap().account_txs = Some((address, cursor, limit));
        Ok(AccountTxsPage {
            items: vec![AccountTxItem {
                height: Height(1),
                position: 0,
                hash: self.block.txs[0].hash,
                outcome: OutcomeView::Applied,
            }],
            next_cursor: Some("next".into()),
        })
    }

    fn status(&self) -> StatusView {
        StatusView {
            chain_id: ChainId::new("cityledger-test").unwrap(),
            node_name: "fake".into(),
            height: Height(1),
            block_id: self.block.id,
            state_root: self.block.state_root,
            timestamp_ms: self.block.timestamp_ms,
            mempool_size: 0,
            validators: vec![ValidatorView {
                org: OrgName::new("treasury").unwrap(),
                key: SecretKey::from_seed([5; 32]).public_key(),
                last_view: Some(7),
                last_seen_ms: Some(self.block.timestamp_ms),
                live: true,
            }],
            validator_set_hash: self.block.validator_set_hash,
            genesis_hash: Digest([6; 32]),
            version: "test".into(),
            syncing: false,
            view: 7,
            views_behind: 0,
            validators_live: 1,
            equivocations: Vec::new(),
        }
    }

    fn stream(&self, from_height: Option<Height>) -> BoxStream<'static, StreamEvent> {
        self.calls.lock().unwrap().stream_from = Some(from_height);
        let first = from_height.map_or(1, |height| height.0);
        let events: Vec<StreamEvent> = (first..=FINAL_HEIGHT)
            .map(|height| self.stream_event(height))
            .collect();
        futures::stream::iter(events).boxed()
    }

    fn metrics_text(&self) -> String {
        "cityledger_height 1\n".into()
    }

    fn obligation(&self, id: Digest) -> Result<Option<ObligationView>, ApiError> {
        Ok((id == FAKE_OBLIGATION).then(fake_obligation))
    }

    fn obligations(&self, query: ObligationQuery) -> Result<ObligationsPage, ApiError> {
        self.calls.lock().unwrap().obligations = Some(query);
        Ok(ObligationsPage {
            items: vec![fake_obligation()],
            next_cursor: Some("next".into()),
        })
    }

    fn obligation_history(
        &self,
        id: Digest,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        if id != FAKE_OBLIGATION {
            return Err(ApiError::not_found(
                code::OBLIGATION_NOT_FOUND,
                "no such obligation",
            ));
        }
        Ok(ObligationHistoryPage {
            items: vec![cityledger_api::ObligationHistoryItem {
                height: Height(1),
                timestamp_ms: 1_700_000_000_000,
                tx: self.block.txs[0].hash,
                event: json!({"type": "obligation_issued"}),
            }],
            next_cursor: None,
        })
    }

    fn obligation_report(&self, query: ReportQuery) -> Result<ObligationReport, ApiError> {
        self.calls.lock().unwrap().report = Some(query.clone());
        let flows = cityledger_types::obligation::ObligationTotals {
            issued: 100,
            collected: 60,
            ..Default::default()
        };
        Ok(ObligationReport::new(
            query.issuer,
            query.currency,
            2,
            (query.from_day, query.to_day),
            &flows,
            &flows,
            Height(1),
        ))
    }

    fn tx_receipt(&self, hash: Digest) -> Result<ReceiptView, ApiError> {
        if hash != self.block.txs[0].hash {
            return Err(ApiError::not_found(
                code::TX_NOT_FINALIZED,
                "transaction is not finalized",
            ));
        }
        Ok(self.receipt("transaction"))
    }

    fn balance_receipt(
        &self,
        address: Address,
        currency: CurrencyCode,
    ) -> Result<ReceiptView, ApiError> {
        self.calls.lock().unwrap().balance_receipt = Some((address, currency.clone()));
        if currency.as_str() != "CITY" {
            return Err(ApiError::not_found(
                code::CURRENCY_NOT_FOUND,
                format!("currency {currency} does not exist"),
            ));
        }
        Ok(self.receipt("balance"))
    }

    fn obligation_receipt(&self, id: Digest) -> Result<ReceiptView, ApiError> {
        assert_eq!(id, FAKE_OBLIGATION);
        Ok(self.receipt("obligation"))
    }

    fn subject_receipt(&self, subject: StateSubject) -> Result<ReceiptView, ApiError> {
        self.calls.lock().unwrap().subject_receipt = Some(subject);
        Ok(self.receipt(match subject {
            StateSubject::Record(_) => "record",
            StateSubject::Batch(_) => "batch",
        }))
    }

    fn credential_receipt(&self, id: Digest, at: Option<Height>) -> Result<ReceiptView, ApiError> {
        self.calls.lock().unwrap().credential_receipt = Some((id, at));
        if at.is_some_and(|height| height.0 > FINAL_HEIGHT) {
            return Err(ApiError::not_found(
                code::HEIGHT_NOT_FINALIZED,
                "height is not finalized",
            ));
        }
        Ok(self.receipt("credential"))
    }

    fn checkpoint(&self) -> Result<CheckpointView, ApiError> {
        Ok(self.checkpoint_view())
    }

    fn consistency_proof(
        &self,
        old: Height,
        new: Height,
    ) -> Result<ConsistencyProofView, ApiError> {
        self.calls.lock().unwrap().consistency_proof = Some((old, new));
        if new.0 > FINAL_HEIGHT {
            return Err(ApiError::not_found(
                code::HEIGHT_NOT_FINALIZED,
                "height is not finalized",
            ));
        }
        Ok(fake_consistency_proof(old, new))
    }

    fn application(&self, id: Digest) -> Result<Option<ApplicationView>, ApiError> {
        Ok((id == FAKE_OBLIGATION).then(fake_application))
    }

    fn applications(&self, query: ApplicationQuery) -> Result<ApplicationsPage, ApiError> {
        self.calls.lock().unwrap().applications = Some(query);
        Ok(ApplicationsPage {
            items: vec![fake_application()],
            next_cursor: None,
        })
    }

    fn application_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        if id != FAKE_OBLIGATION {
            return Err(ApiError::not_found(
                code::APPLICATION_NOT_FOUND,
                "no such application",
            ));
        }
        self.obligation_history(id, cursor, limit)
    }

    fn credential(&self, id: Digest) -> Result<Option<CredentialView>, ApiError> {
        Ok((id == FAKE_OBLIGATION).then(fake_credential))
    }

    fn credentials(&self, _query: CredentialQuery) -> Result<CredentialsPage, ApiError> {
        Ok(CredentialsPage {
            items: vec![fake_credential()],
            next_cursor: None,
        })
    }

    fn credential_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        if id != FAKE_OBLIGATION {
            return Err(ApiError::not_found(
                code::CREDENTIAL_NOT_FOUND,
                "no such credential",
            ));
        }
        self.obligation_history(id, cursor, limit)
    }

    fn credential_status(
        &self,
        id: Digest,
        moment: StatusMoment,
    ) -> Result<CredentialStatusProof, ApiError> {
        if id != FAKE_OBLIGATION {
            return Err(ApiError::not_found(
                code::CREDENTIAL_NOT_FOUND,
                "no such credential",
            ));
        }
        self.calls.lock().unwrap().status_moment = Some(moment);
        let record = fake_credential_record();
        Ok(CredentialStatusProof {
            credential: id,
            status: cityledger_types::credential::CredentialStatus::Valid,
            as_of_height: Height(FINAL_HEIGHT),
            as_of_ms: 1_700_000_000_000,
            record: CredentialStatusProof::encode_record(&record),
            proof: Default::default(),
            state_root: Digest([8; 32]),
            proven_height: Height(FINAL_HEIGHT),
            block_id: Digest([9; 32]),
        })
    }

    fn status_list(
        &self,
        org: OrgName,
        purpose: cityledger_vc::StatusPurpose,
        list: u32,
        base_url: String,
    ) -> Result<StatusListView, ApiError> {
        self.calls.lock().unwrap().status_list = Some((org.clone(), purpose, list, base_url));
        Ok(StatusListView {
            org,
            purpose: purpose.as_str().into(),
            list,
            bits: 131_072,
            set_count: 0,
            encoded_list: cityledger_vc::Bitstring::default().encode(),
            issuer_key: None,
            as_of_height: Height(FINAL_HEIGHT),
            as_of_ms: 1_700_000_000_000,
            credential: None,
        })
    }

    fn anchor_record(
        &self,
        tx: DecodedTx,
        blob: Vec<u8>,
        keys: cityledger_types::sealed::WrappedKeys,
    ) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>> {
        self.calls.lock().unwrap().anchored = Some((blob.len(), keys.keys().len()));
        self.submit(tx)
    }

    fn add_record_keys(
        &self,
        upload: cityledger_types::sealed::KeyUpload,
    ) -> Result<usize, ApiError> {
        Ok(upload.keys.keys().len())
    }

    fn record(&self, id: Digest) -> Result<Option<RecordView>, ApiError> {
        Ok(Some(fake_record(id, false)))
    }

    fn records(&self, query: RecordQuery) -> Result<RecordsPage, ApiError> {
        self.calls.lock().unwrap().records = Some(query);
        Ok(RecordsPage {
            items: vec![fake_record(FAKE_OBLIGATION, false)],
            next_cursor: None,
        })
    }

    fn record_content(
        &self,
        id: Digest,
        access: Digest,
        _reader: crate::rest::SignedReader,
    ) -> Result<RecordContentView, ApiError> {
        if id == ERASED_RECORD {
            return Err(ApiError::Gone {
                detail: "erased".into(),
                record: Box::new(fake_record(id, true)),
            });
        }
        let view = fake_access(access);
        if access == REFUSED_ACCESS {
            return Err(ApiError::Forbidden {
                code: code::ACCESS_REFUSED,
                detail: "refused".into(),
                access: Some(Box::new(view)),
            });
        }
        let reader = SecretKey::from_seed([2; 32]).public_key();
        Ok(RecordContentView {
            record: fake_record(id, false),
            access: view,
            blob: "Q0xTQg".into(),
            wrapped_key: cityledger_types::sealed::wrap_key(
                &[1; 32],
                &reader,
                &Digest([3; 32]),
                &[4; 32],
                &[5; 24],
            )
            .unwrap(),
        })
    }

    fn grants(&self, query: GrantQuery) -> Result<GrantsPage, ApiError> {
        self.calls.lock().unwrap().grants = Some(query);
        Ok(GrantsPage {
            items: Vec::new(),
            next_cursor: None,
        })
    }

    fn accesses(&self, query: AccessQuery) -> Result<AccessesPage, ApiError> {
        self.calls.lock().unwrap().accesses = Some(query);
        Ok(AccessesPage {
            items: vec![fake_access(Digest([1; 32]))],
            next_cursor: None,
        })
    }

    fn device(&self, key: cityledger_types::PublicKey) -> Result<Option<DeviceView>, ApiError> {
        use cityledger_types::device::{DeviceLabel, DeviceRecord, DeviceStatus, DeviceType};
        Ok(Some(DeviceView::new(
            key,
            &DeviceRecord {
                org: OrgName::new("health").unwrap(),
                device_type: DeviceType::MriScanner,
                label: DeviceLabel::new("ward-3").unwrap(),
                status: DeviceStatus::Active,
                registered_height: Height(1),
                registered_at_ms: 1_700_000_000_000,
                status_changed_at_ms: 1_700_000_000_000,
                next_batch_sequence: 0,
            },
        )))
    }

    fn devices(
        &self,
        org: OrgName,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Result<DevicesPage, ApiError> {
        self.calls.lock().unwrap().devices = Some(org);
        Ok(DevicesPage {
            items: Vec::new(),
            next_cursor: None,
        })
    }

    fn batch(&self, id: Digest) -> Result<BatchProof, ApiError> {
        use cityledger_types::device::BatchRecord;
        use cityledger_types::smt::SparseMerkleTree;
        let record = BatchRecord {
            device: SecretKey::from_seed([6; 32]).public_key(),
            org: OrgName::new("transport").unwrap(),
            sequence: 0,
            root: Digest([7; 32]),
            message_count: 3,
            height: Height(1),
            at_ms: 1_700_000_000_000,
        };
        let bytes = borsh::to_vec(&record).unwrap();
        let key = cityledger_types::records::StateKey::Batch(id).to_bytes();
        let tree = SparseMerkleTree::new().apply([(key.clone(), Some(bytes.clone()))]);
        Ok(BatchProof {
            batch: id,
            device: record.device,
            sequence: 0,
            root: record.root,
            message_count: 3,
            anchored_height: Height(1),
            record: encode_bytes(&bytes),
            proof: tree.prove(&key),
            state_root: tree.root(),
            proven_height: Height(FINAL_HEIGHT),
            block_id: Digest([8; 32]),
        })
    }

    fn alerts(
        &self,
        _org: OrgName,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Result<cityledger_api::AlertsPage, ApiError> {
        Ok(cityledger_api::AlertsPage {
            items: Vec::new(),
            next_cursor: None,
        })
    }

    fn incident(
        &self,
        id: Digest,
        _reader: crate::rest::SignedReader,
    ) -> Result<cityledger_api::IncidentView, ApiError> {
        if id == FAKE_OBLIGATION {
            return Ok(cityledger_api::IncidentView::new(id, &fake_incident()));
        }
        Err(ApiError::not_found(
            code::INCIDENT_NOT_FOUND,
            format!("no incident {id}"),
        ))
    }

    fn incidents(
        &self,
        _org: OrgName,
        _reader: crate::rest::SignedReader,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Result<cityledger_api::IncidentsPage, ApiError> {
        Ok(cityledger_api::IncidentsPage {
            items: Vec::new(),
            next_cursor: None,
        })
    }

    fn evidence(&self, id: Digest) -> Result<Option<cityledger_api::EvidenceView>, ApiError> {
        Ok((id == FAKE_OBLIGATION).then(|| {
            cityledger_api::EvidenceView::new(id, fake_record(id, false), &fake_custody())
        }))
    }

    fn case(&self, id: Digest) -> Result<Option<cityledger_api::CaseView>, ApiError> {
        use cityledger_types::safety::{CaseItems, CaseRecord, Note};
        let case = CaseRecord {
            org: OrgName::new("police").unwrap(),
            incident: None,
            title: Note::new("junction 12").unwrap(),
            items: CaseItems::default(),
            versions: 0,
            created_height: Height(1),
            created_at_ms: 1_700_000_000_000,
        };
        Ok((id == FAKE_OBLIGATION).then(|| cityledger_api::CaseView::new(id, &case, Vec::new())))
    }

    fn exam_results(
        &self,
        id: Digest,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Result<cityledger_api::ExamResultsPage, ApiError> {
        use cityledger_types::education::{ExamRecord, ExamTerms};
        if id != FAKE_OBLIGATION {
            return Err(ApiError::not_found(
                code::EXAM_NOT_FOUND,
                format!("no exam {id}"),
            ));
        }
        let exam = ExamRecord {
            terms: ExamTerms {
                org: OrgName::new("education").unwrap(),
                course: cityledger_types::CourseName::new("math-101").unwrap(),
                opens_at_ms: 1_700_000_000_000,
                deadline_ms: 1_700_000_600_000,
                max_score: 100,
                pass_mark: 50,
                certificate: None,
            },
            created_by: SecretKey::from_seed([6; 32]).public_key(),
            created_height: Height(1),
        };
        Ok(cityledger_api::ExamResultsPage {
            exam: cityledger_api::ExamView::new(id, &exam),
            items: Vec::new(),
            next_cursor: None,
        })
    }

    fn custody_receipt(&self, _id: Digest) -> Result<ReceiptView, ApiError> {
        Ok(self.receipt("custody"))
    }

    fn case_item_receipt(
        &self,
        _case: Digest,
        _item: Digest,
        version: Option<u32>,
    ) -> Result<ReceiptView, ApiError> {
        if version == Some(9) {
            return Err(ApiError::not_found(
                code::CASE_ITEM_NOT_FOUND,
                "no such version",
            ));
        }
        Ok(self.receipt("case_item"))
    }
}

/// A record the fake node reports erased.
const ERASED_RECORD: Digest = Digest([0xee; 32]);
/// An access the fake node reports refused.
const REFUSED_ACCESS: Digest = Digest([0xdd; 32]);

fn fake_location() -> cityledger_types::safety::Location {
    cityledger_types::safety::Location {
        area: cityledger_types::AreaCode::new("district-7").unwrap(),
        point: None,
    }
}

fn fake_incident() -> cityledger_types::safety::IncidentRecord {
    use cityledger_types::safety::{IncidentRecord, IncidentStatus, Note, Severity};
    IncidentRecord {
        org: OrgName::new("police").unwrap(),
        kind: cityledger_types::EventKind::new("collision").unwrap(),
        severity: Severity::Major,
        location: fake_location(),
        status: IncidentStatus::Reported,
        opened_by: SecretKey::from_seed([6; 32]).public_key(),
        opened_height: Height(1),
        opened_at_ms: 1_700_000_000_000,
        note: Note::new("two cars").unwrap(),
        updates: Default::default(),
        shares: Default::default(),
        closure: None,
    }
}

fn fake_custody() -> cityledger_types::safety::CustodyRecord {
    use cityledger_types::safety::{CustodyRecord, EvidenceLink, MediaKind};
    CustodyRecord {
        link: EvidenceLink::Incident(Digest([2; 32])),
        media_kind: MediaKind::Video,
        captured_at_ms: 1_700_000_000_000,
        location: fake_location(),
        source_device: None,
        commitment: Digest([3; 32]),
        custodian: OrgName::new("police").unwrap(),
        offer: None,
        history: Default::default(),
    }
}

fn fake_record(id: Digest, erased: bool) -> RecordView {
    use cityledger_types::obligation::{Reason, Reference};
    use cityledger_types::record::{Acknowledgements, Erasure, Recipients, Record};
    let owner = SecretKey::from_seed([2; 32]).public_key();
    RecordView::new(
        id,
        &Record {
            record_type: cityledger_types::RecordType::new("lab_result").unwrap(),
            owner,
            author: SecretKey::from_seed([5; 32]).public_key(),
            org: Some(OrgName::new("health").unwrap()),
            commitment: Digest([1; 32]),
            blob_digest: Digest([3; 32]),
            blob_bytes: 100,
            metadata: Reference::default(),
            parent: None,
            recipients: Recipients::default(),
            acknowledgements: Acknowledgements::default(),
            anchored_height: Height(1),
            anchored_at_ms: 1_700_000_000_000,
            erasure: erased.then(|| Erasure {
                height: Height(2),
                at_ms: 1_700_000_001_000,
                by: owner,
                reason: Reason::new("GDPR").unwrap(),
            }),
        },
    )
}

fn fake_access(id: Digest) -> AccessView {
    use cityledger_types::record::{AccessDecision, AccessRecord};
    let decision = if id == REFUSED_ACCESS {
        AccessDecision::Refused(cityledger_types::RejectCode::NoGrant)
    } else {
        AccessDecision::Granted
    };
    AccessView::new(
        id,
        &AccessRecord {
            record: Digest([1; 32]),
            owner: SecretKey::from_seed([2; 32]).public_key(),
            reader: SecretKey::from_seed([3; 32]).public_key(),
            grant: None,
            height: Height(2),
            at_ms: 1_700_000_001_000,
            decision,
        },
    )
}

fn fake_consistency_proof(old: Height, new: Height) -> ConsistencyProofView {
    ConsistencyProofView {
        old_height: old,
        new_height: new,
        size_bytes: 3,
        proof: "Q0xD".into(),
    }
}

impl FakeNode {
    fn checkpoint_view(&self) -> CheckpointView {
        CheckpointView {
            statement: "a checkpoint".into(),
            height: self.block.height,
            block_id: self.block.id,
            size_bytes: 3,
            checkpoint: "Q0xD".into(),
        }
    }

    fn receipt(&self, kind: &str) -> ReceiptView {
        ReceiptView {
            kind: kind.to_owned(),
            statement: format!("a {kind} receipt"),
            height: self.block.height,
            block_id: self.block.id,
            size_bytes: 3,
            receipt: "Q0xS".into(),
        }
    }
}

fn fake_credential_record() -> cityledger_types::credential::CredentialRecord {
    use cityledger_types::credential::{
        CredentialRecord, Fields, StatusChange, StatusChangeKind, StatusHistory,
    };
    CredentialRecord {
        credential_type: cityledger_types::CredentialType::new("passport").unwrap(),
        issuer: OrgName::new("immigration").unwrap(),
        holder: SecretKey::from_seed([2; 32]).public_key(),
        claims: Fields::default(),
        application: Some(FAKE_OBLIGATION),
        status_index: 0,
        history: StatusHistory::new(vec![StatusChange {
            height: Height(2),
            at_ms: 1_600_000_000_000,
            by: SecretKey::from_seed([5; 32]).public_key(),
            role: cityledger_types::RoleName::new("applications.decide").unwrap(),
            kind: StatusChangeKind::Issued {
                valid_from_ms: 1_600_000_000_000,
                valid_until_ms: 1_900_000_000_000,
            },
            reason: None,
        }])
        .unwrap(),
    }
}

fn fake_credential() -> CredentialView {
    let as_of = cityledger_types::credential::AsOf {
        height: Height(FINAL_HEIGHT),
        time_ms: 1_700_000_000_000,
    };
    CredentialView::new(FAKE_OBLIGATION, &fake_credential_record(), as_of, None)
}

fn fake_application() -> ApplicationView {
    use cityledger_types::application::{ApplicationRecord, ApplicationStatus, Documents};
    let record = ApplicationRecord {
        org: OrgName::new("immigration").unwrap(),
        service: cityledger_types::ServiceName::new("passport_renewal").unwrap(),
        applicant: SecretKey::from_seed([2; 32]).public_key(),
        submitted_at_ms: 1_600_000_000_000,
        fields: Default::default(),
        documents: Documents::default(),
        fee_obligation: None,
        status: ApplicationStatus::Submitted,
        rounds: Default::default(),
        decision: None,
    };
    ApplicationView::new(FAKE_OBLIGATION, &record)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |value| value.to_str().unwrap())
    }
}

async fn send_to(node: &FakeNode, request: Request<Body>) -> Answer {
    let response = router(node.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn send(request: Request<Body>) -> Answer {
    send_to(&FakeNode::new(), request).await
}

/// Whether `GET path` is a private read, which must be signed.
fn is_signed_read(path: &str) -> bool {
    path.starts_with("/v1/incidents")
        || [
            "/v1/records",
            "/v1/records/{id}/content",
            "/v1/accesses",
            "/v1/grants",
        ]
        .contains(&path)
}

/// The key `signed_get` signs with.
fn signed_reader_key() -> SecretKey {
    SecretKey::from_seed([21; 32])
}

/// `GET uri` signed as a reader with its clock at `time_ms`.
fn signed_get(uri: &str, time_ms: u64) -> Request<Body> {
    use cityledger_api::safety::{
        READ_KEY_HEADER, READ_SIGNATURE_HEADER, READ_TIME_HEADER, read_payload,
    };
    let reader = signed_reader_key();
    let signature = reader.sign(&read_payload(uri, time_ms));
    Request::get(uri)
        .header(READ_KEY_HEADER, reader.public_key().to_hex())
        .header(READ_TIME_HEADER, time_ms.to_string())
        .header(READ_SIGNATURE_HEADER, signature.to_hex())
        .body(Body::empty())
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::post(uri);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).unwrap()
}

fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    post(uri, Some("application/json"), body)
}

/// Sends `request` and checks that the answer is a problem document with
/// `status`, `code` and `field`; returns the document.
async fn check_problem(
    request: Request<Body>,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) -> Value {
    let uri = request.uri().to_string();
    let answer = send(request).await;
    assert_eq!(
        answer.status,
        status,
        "{uri}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.content_type(), "application/problem+json", "{uri}");
    let problem = answer.json();
    assert_eq!(problem["code"], code, "{uri}: {problem}");
    assert_eq!(problem["status"], status.as_u16(), "{uri}");
    assert_eq!(problem["type"], format!("/problems/{code}"), "{uri}");
    assert_eq!(problem["field"].as_str(), field, "{uri}: {problem}");
    assert!(!problem["detail"].as_str().unwrap().is_empty(), "{uri}");
    problem
}

fn submit_body(tx: &SignedTx) -> String {
    json!({ "tx": encode_tx(tx) }).to_string()
}

// --- submission -----------------------------------------------------------

#[tokio::test]
async fn submit_json_and_binary() {
    let tx = sample_tx("t-1");
    let hash = tx.hash().to_hex();
    for request in [
        post_json("/v1/txs", submit_body(&tx)),
        post_json("/v1/txs", json!({"tx": encode_tx(&tx) + "=="}).to_string()),
        post(
            "/v1/txs",
            Some("application/json; charset=utf-8"),
            submit_body(&tx),
        ),
        post("/v1/txs", Some("application/octet-stream"), tx.to_bytes()),
    ] {
        let answer = send(request).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        assert_eq!(
            answer.json(),
            json!({"hash": hash, "status": {"state": "pending", "hash": hash}})
        );
    }
}

#[tokio::test]
async fn submit_refuses_bad_input() {
    let tx = sample_tx("t-1");
    let mut trailing = tx.to_bytes();
    trailing.push(0);
    let cases: Vec<(Request<Body>, StatusCode, &str, Option<&str>)> = vec![
        (
            post_json("/v1/txs", "{\"tx\": "),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("tx"),
        ),
        (
            post_json("/v1/txs", ""),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("body"),
        ),
        (
            post_json("/v1/txs", "{\"tx\": 5}"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("tx"),
        ),
        (
            post_json("/v1/txs", "{}"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("tx"),
        ),
        (
            post_json("/v1/txs", "[]"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("body"),
        ),
        (
            post_json("/v1/txs", submit_body(&tx) + " x"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("body"),
        ),
        (
            post_json("/v1/txs", "{\"tx\": \"a!b\"}"),
            StatusCode::BAD_REQUEST,
            code::BAD_BASE64,
            Some("tx"),
        ),
        (
            post_json("/v1/txs", "{\"tx\": \"AAAA\"}"),
            StatusCode::BAD_REQUEST,
            code::UNDECODABLE_TX,
            Some("tx"),
        ),
        (
            post_json(
                "/v1/txs",
                json!({"tx": encode_bytes(&trailing)}).to_string(),
            ),
            StatusCode::BAD_REQUEST,
            code::UNDECODABLE_TX,
            Some("tx"),
        ),
        (
            post_json(
                "/v1/txs",
                json!({"tx": "A".repeat(cityledger_api::limits::TX_TEXT_BYTES_MAX + 4)})
                    .to_string(),
            ),
            StatusCode::BAD_REQUEST,
            code::TX_TOO_LARGE,
            Some("tx"),
        ),
        (
            post("/v1/txs", Some("application/octet-stream"), vec![1u8, 2, 3]),
            StatusCode::BAD_REQUEST,
            code::UNDECODABLE_TX,
            Some("body"),
        ),
        (
            post(
                "/v1/txs",
                Some("application/octet-stream"),
                vec![0u8; TX_BYTES_MAX + 1],
            ),
            StatusCode::BAD_REQUEST,
            code::TX_TOO_LARGE,
            Some("body"),
        ),
        (
            post("/v1/txs", None, submit_body(&tx)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            Some("content-type"),
        ),
        (
            post("/v1/txs", Some("text/plain"), submit_body(&tx)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            Some("content-type"),
        ),
        (
            post_json("/v1/txs", vec![b' '; SUBMIT_BODY_BYTES_MAX + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            Some("body"),
        ),
        (
            post_json("/v1/txs", submit_body(&sample_tx("badsig"))),
            StatusCode::BAD_REQUEST,
            "bad_signature",
            Some("tx.signature"),
        ),
    ];
    for (request, status, code, field) in cases {
        check_problem(request, status, code, field).await;
    }
}

#[tokio::test]
async fn duplicate_id_is_409_with_first_result() {
    let request = post_json("/v1/txs", submit_body(&sample_tx("dup")));
    let problem = check_problem(request, StatusCode::CONFLICT, code::DUPLICATE_TX_ID, None).await;
    assert_eq!(problem["first_result"]["state"], "finalized");
    assert_eq!(problem["first_result"]["outcome"], "applied");
}

#[tokio::test]
async fn full_mempool_is_503_with_retry_after() {
    let answer = send(post_json("/v1/txs", submit_body(&sample_tx("full")))).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers.get(header::RETRY_AFTER).unwrap(), "2");
    assert_eq!(answer.json()["code"], code::MEMPOOL_FULL);
}

#[tokio::test]
async fn batch_answers_each_item_in_order() {
    let good = sample_tx("t-1");
    let body = json!({"txs": [
        encode_tx(&good),
        "a!b",
        encode_tx(&sample_tx("dup")),
        encode_tx(&sample_tx("badsig")),
        "AAAA",
        encode_tx(&sample_tx("t-2")),
    ]});
    let answer = send(post_json("/v1/txs/batch", body.to_string())).await;
    assert_eq!(answer.status, StatusCode::OK);
    let results = answer.json()["results"].as_array().unwrap().clone();
    let summary: Vec<(String, String, String)> = results
        .iter()
        .map(|result| {
            let text = |key: &str| result[key].as_str().unwrap_or("").to_owned();
            (text("result"), text("code"), text("field"))
        })
        .collect();
    let expected = [
        ("accepted", "", ""),
        ("problem", code::BAD_BASE64, "txs[1]"),
        ("problem", code::DUPLICATE_TX_ID, "txs[2]"),
        ("problem", "bad_signature", "txs[3].signature"),
        ("problem", code::UNDECODABLE_TX, "txs[4]"),
        ("accepted", "", ""),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(summary, expected);
    assert_eq!(results[0]["hash"], good.hash().to_hex());
    assert_eq!(results[2]["first_result"]["state"], "finalized");
}

#[tokio::test]
async fn batch_refuses_bad_input() {
    let too_many = json!({"txs": vec!["AAAA"; TXS_PER_BATCH_MAX + 1]}).to_string();
    let cases: Vec<(Request<Body>, StatusCode, &str, Option<&str>)> = vec![
        (
            post_json("/v1/txs/batch", "{\"txs\": []}"),
            StatusCode::BAD_REQUEST,
            code::EMPTY_BATCH,
            Some("txs"),
        ),
        (
            post_json("/v1/txs/batch", too_many),
            StatusCode::BAD_REQUEST,
            code::TOO_MANY_TXS,
            Some("txs"),
        ),
        (
            post_json("/v1/txs/batch", "{\"txs\": \"AAAA\"}"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("txs"),
        ),
        (
            post_json("/v1/txs/batch", "{\"txs\": [\"AAAA\", 1]}"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("txs[1]"),
        ),
        (
            post_json("/v1/txs/batch", "{\"tx\": \"AAAA\"}"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("txs"),
        ),
        (
            post_json("/v1/txs/batch", "not json"),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("body"),
        ),
        (
            post("/v1/txs/batch", Some("application/octet-stream"), vec![1u8]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            Some("content-type"),
        ),
        (
            post_json("/v1/txs/batch", vec![b' '; BATCH_BODY_BYTES_MAX + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            Some("body"),
        ),
    ];
    for (request, status, code, field) in cases {
        check_problem(request, status, code, field).await;
    }
}

// --- reads ----------------------------------------------------------------

#[tokio::test]
async fn tx_status_by_hash() {
    let node = FakeNode::new();
    let known = node.block.txs[0].hash.to_hex();
    let answer = send_to(&node, get(&format!("/v1/txs/{known}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"state": "finalized", "hash": known, "height": 1,
               "block_id": node.block.id.to_hex(), "position": 0, "outcome": "applied"})
    );
    let unknown = Digest([0xee; 32]).to_hex();
    let answer = send_to(&node, get(&format!("/v1/txs/{unknown}"))).await;
    assert_eq!(answer.json(), json!({"state": "unknown", "hash": unknown}));

    for bad in [
        "xyz",
        &"a".repeat(63),
        &"g".repeat(64),
        &"a".repeat(65),
        "%FF",
    ] {
        let uri = format!("/v1/txs/{bad}");
        let expected = if bad == "%FF" {
            code::BAD_PATH
        } else {
            code::BAD_HASH
        };
        check_problem(get(&uri), StatusCode::BAD_REQUEST, expected, Some("hash")).await;
    }
}

#[tokio::test]
async fn blocks_by_height_id_and_latest() {
    let node = FakeNode::new();
    let id = node.block.id.to_hex();
    for uri in [
        "/v1/blocks/1".to_owned(),
        format!("/v1/blocks/{id}"),
        "/v1/blocks/latest".to_owned(),
    ] {
        let answer = send_to(&node, get(&uri)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let block = answer.json();
        assert_eq!(block["id"], id);
        assert_eq!(block["height"], 1);
        assert_eq!(block["txs"][0]["action"]["kind"], "transfer");
        assert_eq!(block["certificate"], encode_bytes(b"certificate"));
    }
    let field = Some("height_or_id");
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            "/v1/blocks/2".into(),
            StatusCode::NOT_FOUND,
            code::BLOCK_NOT_FOUND,
            None,
        ),
        (
            format!("/v1/blocks/{}", "0".repeat(64)),
            StatusCode::NOT_FOUND,
            code::BLOCK_NOT_FOUND,
            None,
        ),
        (
            "/v1/blocks/abc".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_BLOCK_REF,
            field,
        ),
        (
            "/v1/blocks/-1".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_BLOCK_REF,
            field,
        ),
        (
            "/v1/blocks/18446744073709551616".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_BLOCK_REF,
            field,
        ),
    ];
    for (uri, status, code, field) in cases {
        check_problem(get(&uri), status, code, field).await;
    }
}

#[tokio::test]
async fn accounts_by_address_or_alias() {
    let address = Address::of_key(&SecretKey::from_seed([1; 32]).public_key());
    let answer = send(get(&format!("/v1/accounts/{address}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["address"], address.to_string());
    assert_eq!(answer.json()["kind"], "key");

    let alias = Address::of_org(
        &OrgName::new("treasury").unwrap(),
        &AccountName::new("issuance").unwrap(),
    );
    for uri in [
        "/v1/accounts/treasury:issuance",
        "/v1/accounts/treasury%3Aissuance",
    ] {
        let answer = send(get(uri)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.json()["address"], alias.to_string());
        assert_eq!(answer.json()["kind"], "org");
    }

    let mut typo = address.to_string().into_bytes();
    typo[10] = if typo[10] == b'0' { b'1' } else { b'0' };
    let typo = String::from_utf8(typo).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (typo, code::ADDRESS_CHECKSUM_MISMATCH),
        ("cl1xyz".into(), code::BAD_ADDRESS),
        ("nonsense".into(), code::BAD_ADDRESS),
        ("Treasury:issuance".into(), code::BAD_ADDRESS),
        ("treasury:".into(), code::BAD_ADDRESS),
    ];
    for (text, code) in cases {
        let uri = format!("/v1/accounts/{text}");
        check_problem(get(&uri), StatusCode::BAD_REQUEST, code, Some("address")).await;
        let uri = format!("/v1/accounts/{text}/txs");
        check_problem(get(&uri), StatusCode::BAD_REQUEST, code, Some("address")).await;
    }
}

#[tokio::test]
async fn account_history_pages() {
    let node = FakeNode::new();
    let address = Address::of_key(&SecretKey::from_seed([1; 32]).public_key());
    let base = format!("/v1/accounts/{address}/txs");
    let answer = send_to(&node, get(&base)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["next_cursor"], "next");
    assert_eq!(answer.json()["items"][0]["outcome"], "applied");
    assert_eq!(
        node.calls.lock().unwrap().account_txs,
        Some((address, None, 50))
    );
    let answer = send_to(&node, get(&format!("{base}?cursor=abc&limit=1000"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        node.calls.lock().unwrap().account_txs,
        Some((address, Some("abc".into()), 1000))
    );

    let long_cursor = "c".repeat(cityledger_api::limits::CURSOR_BYTES_MAX + 1);
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("{base}?limit=0"), code::BAD_LIMIT, "limit"),
        (format!("{base}?limit=1001"), code::BAD_LIMIT, "limit"),
        (format!("{base}?limit=ten"), code::BAD_LIMIT, "limit"),
        (format!("{base}?limit=-1"), code::BAD_LIMIT, "limit"),
        (
            format!("{base}?cursor={long_cursor}"),
            code::BAD_CURSOR,
            "cursor",
        ),
        (format!("{base}?limit=1&limit=2"), code::BAD_QUERY, "query"),
    ];
    for (uri, code, field) in cases {
        check_problem(get(&uri), StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
}

#[tokio::test]
async fn status_health_and_metrics() {
    let answer = send(get("/v1/status")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let status = answer.json();
    assert_eq!(status["height"], 1);
    assert_eq!(status["chain_id"], "cityledger-test");
    assert_eq!(status["validators"][0]["org"], "treasury");

    let answer = send(get("/health")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "ok"}));

    let answer = send(get("/metrics")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(answer.body, b"cityledger_height 1\n");
}

// --- stream ---------------------------------------------------------------

/// The `data:` payloads and `id:` lines of an SSE body.
fn sse_messages(body: &[u8]) -> Vec<(String, Value)> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    text.split("\n\n")
        .filter(|message| message.contains("data:"))
        .map(|message| {
            let field = |name: &str| {
                message
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap()
                    .trim()
                    .to_owned()
            };
            assert_eq!(field("event:"), "block");
            (field("id:"), serde_json::from_str(&field("data:")).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn stream_replays_from_height_and_resumes_after_last_event_id() {
    let node = FakeNode::new();
    let answer = send_to(&node, get("/v1/stream?from_height=2")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "text/event-stream");
    let messages = sse_messages(&answer.body);
    let ids: Vec<&str> = messages.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["2", "3"]);
    assert_eq!(messages[0].1["height"], 2);
    assert_eq!(messages[0].1["events"][0]["event"]["type"], "transferred");
    assert_eq!(
        node.calls.lock().unwrap().stream_from,
        Some(Some(Height(2)))
    );

    let request = Request::get("/v1/stream?from_height=1")
        .header("Last-Event-ID", "2")
        .body(Body::empty())
        .unwrap();
    let answer = send_to(&node, request).await;
    let ids: Vec<String> = sse_messages(&answer.body)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["3"]);
    assert_eq!(
        node.calls.lock().unwrap().stream_from,
        Some(Some(Height(3)))
    );

    send_to(&node, get("/v1/stream")).await;
    assert_eq!(node.calls.lock().unwrap().stream_from, Some(None));
}

#[tokio::test]
async fn stream_refuses_bad_start() {
    check_problem(
        get("/v1/stream?from_height=soon"),
        StatusCode::BAD_REQUEST,
        code::BAD_FROM_HEIGHT,
        Some("from_height"),
    )
    .await;
    let request = Request::get("/v1/stream")
        .header("Last-Event-ID", "last")
        .body(Body::empty())
        .unwrap();
    check_problem(
        request,
        StatusCode::BAD_REQUEST,
        code::BAD_LAST_EVENT_ID,
        Some("Last-Event-ID"),
    )
    .await;
}

// --- routing and the OpenAPI document -------------------------------------

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    for uri in [
        "/v1",
        "/v2/status",
        "/v1/txs/a/b",
        "/v1/accounts",
        "/ui/",
        "/ui/nothing.js",
        "/ui/js/../index.html",
        "/index.html",
    ] {
        check_problem(get(uri), StatusCode::NOT_FOUND, code::ROUTE_NOT_FOUND, None).await;
    }
    let delete = Request::delete("/v1/status").body(Body::empty()).unwrap();
    check_problem(
        delete,
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        None,
    )
    .await;
    let delete = Request::delete("/v1/status").body(Body::empty()).unwrap();
    let answer = send(delete).await;
    assert_eq!(answer.headers.get(header::ALLOW).unwrap(), "GET,HEAD");
    check_problem(
        get("/v1/txs/batch"),
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        None,
    )
    .await;
}

/// The (method, path) pairs of the OpenAPI document.
fn documented_routes(document: &utoipa::openapi::OpenApi) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
            ("HEAD", item.head.is_some()),
            ("OPTIONS", item.options.is_some()),
            ("TRACE", item.trace.is_some()),
        ];
        for (method, present) in methods {
            if present {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn openapi_documents_exactly_the_registered_routes() {
    let registered: BTreeSet<(String, String)> = routes::<FakeNode>()
        .registered
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented_routes(&openapi()), registered);
}

#[tokio::test]
async fn every_registered_route_is_served() {
    let node = FakeNode::new();
    let tx = sample_tx("t-1");
    for (method, path) in routes::<FakeNode>().registered {
        let uri = path
            .replace("{hash}", &node.block.txs[0].hash.to_hex())
            .replace("{height_or_id}", "1")
            .replace("{address}", "treasury:issuance")
            .replace("{id}", &FAKE_OBLIGATION.to_hex())
            .replace("{org}", "immigration")
            .replace("{purpose}", "revocation")
            .replace("{list}", "0")
            .replace(
                "{key}",
                &SecretKey::from_seed([6; 32]).public_key().to_hex(),
            );
        let uri = uri
            .replace("{case}", &FAKE_OBLIGATION.to_hex())
            .replace("{item}", &Digest([2; 32]).to_hex());
        let uri = match path {
            "/v1/alerts" | "/v1/incidents" => format!("{uri}?org=police"),
            "/v1/records" => format!("{uri}?owner=treasury:issuance"),
            "/v1/records/{id}/content" => format!("{uri}?access={}", Digest([1; 32])),
            "/v1/accesses" => format!("{uri}?owner=treasury:issuance"),
            "/v1/grants" => format!("{uri}?reader=treasury:issuance"),
            "/v1/devices" => format!("{uri}?org=health"),
            "/v1/obligations" => format!("{uri}?issuer=transport"),
            "/v1/applications" => format!("{uri}?org=immigration"),
            "/v1/credentials" => format!("{uri}?issuer=immigration"),
            "/v1/checkpoints/consistency" => format!("{uri}?old=1&new=2"),
            "/v1/reports/obligations" => {
                format!("{uri}?issuer=transport&from=2026-01-01&to=2026-01-31")
            }
            _ => uri,
        };
        let request = match method {
            "POST" if path.ends_with("batch") => {
                post_json(&uri, json!({"txs": [encode_tx(&tx)]}).to_string())
            }
            "POST" if path == "/v1/records" => post_json(&uri, anchor_body(&tx, "Q0xTQg")),
            "POST" if path.ends_with("keys") => post_json(&uri, keys_body(FAKE_OBLIGATION)),
            "POST" => post_json(&uri, submit_body(&tx)),
            _ if is_signed_read(path) => signed_get(&uri, 1_000),
            _ => get(&uri),
        };
        let answer = send_to(&node, request).await;
        assert!(
            answer.status.is_success(),
            "{method} {uri}: {}",
            answer.status
        );
    }
}

#[tokio::test]
async fn openapi_json_is_served_and_complete() {
    let answer = send(get("/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let document = answer.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(document["info"]["title"], "CityLedger REST API");
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "SubmitTxRequest",
        "TxStatusView",
        "BlockView",
        "AccountView",
        "Problem",
        "StreamEvent",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} missing");
    }
    let paths = document["paths"].as_object().unwrap();
    // A path may carry several methods (`/v1/records`, `/v1/txs`: GET and
    // POST).
    let registered: BTreeSet<&str> = routes::<FakeNode>()
        .registered
        .iter()
        .map(|(_, path)| *path)
        .collect();
    assert_eq!(paths.len(), registered.len());
}

// --- explorer listings and files -----------------------------------------

#[tokio::test]
async fn block_listing_passes_before_and_limit() {
    let node = FakeNode::new();
    let answer = send_to(&node, get("/v1/blocks")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let page = answer.json();
    assert_eq!(page["items"][0]["height"], 1);
    assert_eq!(page["items"][0]["tx_count"], 1);
    assert_eq!(page["items"][0]["certified"], true);
    assert_eq!(page["next_before"], Value::Null);
    assert_eq!(node.calls.lock().unwrap().blocks, Some((None, 20)));
    let answer = send_to(&node, get("/v1/blocks?before=7&limit=100")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        node.calls.lock().unwrap().blocks,
        Some((Some(Height(7)), 100))
    );
}

#[tokio::test]
async fn recent_txs_pass_cursor_and_limit() {
    let node = FakeNode::new();
    let answer = send_to(&node, get("/v1/txs?limit=5&cursor=3:1")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let page = answer.json();
    assert_eq!(page["items"][0]["kind"], "transfer");
    assert_eq!(page["items"][0]["outcome"], "applied");
    assert_eq!(page["items"][0]["transfer"]["amount"], "1250");
    assert_eq!(page["next_cursor"], "0:4294967295");
    assert_eq!(
        node.calls.lock().unwrap().recent_txs,
        Some((Some("3:1".into()), 5))
    );
    send_to(&node, get("/v1/txs?cursor=")).await;
    assert_eq!(node.calls.lock().unwrap().recent_txs, Some((None, 20)));
}

#[tokio::test]
async fn listings_refuse_bad_input_naming_the_field() {
    let cases = [
        ("/v1/blocks?before=-1", code::BAD_HEIGHT, "before"),
        ("/v1/blocks?before=1e3", code::BAD_HEIGHT, "before"),
        ("/v1/blocks?before=", code::BAD_HEIGHT, "before"),
        ("/v1/blocks?limit=0", code::BAD_LIMIT, "limit"),
        ("/v1/blocks?limit=101", code::BAD_LIMIT, "limit"),
        ("/v1/txs?limit=101", code::BAD_LIMIT, "limit"),
        ("/v1/txs?limit=ten", code::BAD_LIMIT, "limit"),
        ("/v1/txs?cursor=forged", code::BAD_CURSOR, "cursor"),
    ];
    for (uri, code, field) in cases {
        check_problem(get(uri), StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    let long_cursor = format!("/v1/txs?cursor={}", "1".repeat(300));
    check_problem(
        get(&long_cursor),
        StatusCode::BAD_REQUEST,
        code::BAD_CURSOR,
        Some("cursor"),
    )
    .await;
}

#[tokio::test]
async fn genesis_is_served_as_json() {
    let answer = send(get("/v1/genesis")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type().starts_with("application/json"));
    let genesis: Genesis = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(genesis.chain_id.as_str(), "cityledger-test");
}

#[tokio::test]
async fn explorer_files_are_served_with_types_and_revalidation() {
    let page = send(get("/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("<script type=\"module\" src=\"/ui/js/app.js\">"));
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-cache");

    let expected = [
        ("/ui/style.css", "text/css; charset=utf-8"),
        ("/ui/js/app.js", "text/javascript; charset=utf-8"),
        ("/ui/vendor/jsQR.js", "text/javascript; charset=utf-8"),
        ("/ui/verifier.wasm", "application/wasm"),
    ];
    for (uri, content_type) in expected {
        let answer = send(get(uri)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.content_type(), content_type, "{uri}");
        assert_eq!(answer.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!answer.body.is_empty(), "{uri}");
    }
    let wasm = send(get("/ui/verifier.wasm")).await;
    assert_eq!(&wasm.body[..4], b"\0asm", "a WebAssembly module");

    // Every listed file is served, and an unchanged one revalidates to 304.
    for path in ui::asset_paths() {
        let uri = if path.is_empty() {
            "/".to_owned()
        } else {
            format!("/ui/{path}")
        };
        let answer = send(get(&uri)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let etag = answer.headers[header::ETAG].clone();
        let request = Request::get(&uri)
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap();
        let again = send(request).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(again.body.is_empty(), "{uri}");
        let request = Request::get(&uri)
            .header(header::IF_NONE_MATCH, "\"other\"")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(request).await.status, StatusCode::OK, "{uri}");
    }
}

// --- obligations -----------------------------------------------------------

#[tokio::test]
async fn obligation_listing_passes_a_typed_query() {
    let node = FakeNode::new();
    let payer = Address::of_key(&SecretKey::from_seed([2; 32]).public_key());
    let uri =
        format!("/v1/obligations?payer={payer}&issuer=transport&status=overdue&limit=5&cursor=abc");
    let answer = send_to(&node, get(&uri)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["items"][0]["id"], FAKE_OBLIGATION.to_hex());
    assert_eq!(answer.json()["next_cursor"], "next");
    let query = node.calls.lock().unwrap().obligations.clone().unwrap();
    assert_eq!(
        query,
        ObligationQuery {
            payer: Some(payer),
            issuer: Some(OrgName::new("transport").unwrap()),
            status: Some(ObligationStatusFilter::Overdue),
            cursor: Some("abc".into()),
            limit: 5,
        }
    );
    let answer = send_to(
        &node,
        get(&format!("/v1/obligations/{}", FAKE_OBLIGATION.to_hex())),
    )
    .await;
    assert_eq!(answer.json()["owed"], "5000");
    let history = send_to(
        &node,
        get(&format!(
            "/v1/obligations/{}/history",
            FAKE_OBLIGATION.to_hex()
        )),
    )
    .await;
    assert_eq!(
        history.json()["items"][0]["event"]["type"],
        "obligation_issued"
    );
}

#[tokio::test]
async fn obligation_report_takes_dates_and_a_default_currency() {
    let node = FakeNode::new();
    let answer = send_to(
        &node,
        get("/v1/reports/obligations?issuer=transport&from=2026-12-01&to=2026-12-31"),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let report = answer.json();
    assert_eq!(
        (report["from"].as_str(), report["to"].as_str()),
        (Some("2026-12-01"), Some("2026-12-31"))
    );
    assert_eq!(report["outstanding"], "40");
    let query = node.calls.lock().unwrap().report.clone().unwrap();
    assert_eq!(
        (query.currency.as_str(), query.to_day - query.from_day),
        ("CITY", 30)
    );
}

#[tokio::test]
async fn obligation_routes_refuse_bad_input() {
    let unknown = Digest([0x0c; 32]).to_hex();
    let report = "/v1/reports/obligations?issuer=transport";
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            "/v1/obligations".into(),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("payer"),
        ),
        (
            "/v1/obligations?issuer=Transport".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_ORG,
            Some("issuer"),
        ),
        (
            "/v1/obligations?payer=cl1xyz".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_ADDRESS,
            Some("payer"),
        ),
        (
            "/v1/obligations?issuer=transport&status=late".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_STATUS,
            Some("status"),
        ),
        (
            "/v1/obligations?issuer=transport&limit=0".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_LIMIT,
            Some("limit"),
        ),
        (
            "/v1/obligations/xyz".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_HASH,
            Some("id"),
        ),
        (
            format!("/v1/obligations/{unknown}"),
            StatusCode::NOT_FOUND,
            code::OBLIGATION_NOT_FOUND,
            None,
        ),
        (
            format!("/v1/obligations/{unknown}/history"),
            StatusCode::NOT_FOUND,
            code::OBLIGATION_NOT_FOUND,
            None,
        ),
        (
            "/v1/reports/obligations?from=2026-01-01&to=2026-01-02".into(),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("issuer"),
        ),
        (
            format!("{report}&from=2026-01-01"),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("to"),
        ),
        (
            format!("{report}&from=2026-13-01&to=2026-12-31"),
            StatusCode::BAD_REQUEST,
            code::BAD_DATE,
            Some("from"),
        ),
        (
            format!("{report}&from=2026-12-31&to=2026-12-01"),
            StatusCode::BAD_REQUEST,
            code::BAD_PERIOD,
            Some("to"),
        ),
        (
            format!("{report}&from=2025-01-01&to=2026-12-31"),
            StatusCode::BAD_REQUEST,
            code::BAD_PERIOD,
            Some("to"),
        ),
        (
            format!("{report}&currency=city&from=2026-01-01&to=2026-01-02"),
            StatusCode::BAD_REQUEST,
            code::BAD_CURRENCY,
            Some("currency"),
        ),
    ];
    for (uri, status, code, field) in cases {
        check_problem(get(&uri), status, code, field).await;
    }
}

// --- the SDK against the router, over real HTTP on 127.0.0.1 ---------------

/// Serves `node`'s router on a free port of 127.0.0.1 and returns an SDK
/// client of it, with the server task to abort at the end.
async fn serve_sdk(
    node: &FakeNode,
) -> (
    cityledger_client::Client,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, router(node.clone())).into_future());
    let client = cityledger_client::Client::new(&format!("http://{address}")).unwrap();
    (client, server)
}

#[tokio::test]
async fn sdk_round_trips_through_the_router() {
    use cityledger_client::ClientError;

    let node = FakeNode::new();
    let (client, server) = serve_sdk(&node).await;

    let tx = sample_tx("t-1");
    let accepted = client.submit(&tx).await.unwrap();
    assert_eq!(accepted.hash, tx.hash());

    let error = client.submit(&sample_tx("dup")).await.unwrap_err();
    assert_eq!(error.problem_code(), Some(code::DUPLICATE_TX_ID));
    let ClientError::Problem { status, problem } = error else {
        panic!("expected a problem, got {error:?}");
    };
    assert_eq!(status, 409);
    assert_eq!(problem.first_result, Some(node.finalized()));

    let batch = client
        .submit_many(&[tx.clone(), sample_tx("full")])
        .await
        .unwrap();
    assert!(matches!(
        batch.results[0],
        cityledger_api::SubmitResult::Accepted(_)
    ));
    assert!(matches!(
        &batch.results[1],
        cityledger_api::SubmitResult::Problem(problem) if problem.code == code::MEMPOOL_FULL
    ));

    let finalized = client
        .wait_for_finality(&node.block.txs[0].hash, 1_000)
        .await
        .unwrap();
    assert_eq!(finalized, node.finalized());
    let pending = client
        .wait_for_finality(&Digest([0xee; 32]), 120)
        .await
        .unwrap_err();
    assert!(
        matches!(pending, ClientError::Timeout { .. }),
        "{pending:?}"
    );

    assert_eq!(client.block(Height(1)).await.unwrap(), *node.block);
    assert_eq!(
        client.block_by_id(&node.block.id).await.unwrap(),
        *node.block
    );
    assert_eq!(client.latest_block().await.unwrap(), *node.block);
    let missing = client.block(Height(9)).await.unwrap_err();
    assert_eq!(missing.problem_code(), Some(code::BLOCK_NOT_FOUND));

    let account = client.account("treasury:issuance").await.unwrap();
    assert_eq!(account.kind, cityledger_api::AccountKindView::Org);
    let page = client
        .account_txs("treasury:issuance", Some("abc"), Some(7))
        .await
        .unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("next"));
    assert_eq!(
        node.calls.lock().unwrap().account_txs,
        Some((account.address, Some("abc".into()), 7))
    );
    let typo = client.account("cl1xyz").await.unwrap_err();
    assert_eq!(typo.problem_code(), Some(code::BAD_ADDRESS));

    assert_eq!(client.status().await.unwrap(), node.status());
    assert_eq!(client.health().await.unwrap().status, "ok");
    server.abort();
}

// --- receipts ----------------------------------------------------------------

#[tokio::test]
async fn receipts_by_tx_hash_and_by_balance() {
    let node = FakeNode::new();
    let hash = node.block.txs[0].hash;
    let answer = send_to(&node, get(&format!("/v1/receipts/tx/{hash}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["kind"], "transaction");
    assert_eq!(answer.json()["receipt"], "Q0xS");

    let answer = send_to(&node, get("/v1/receipts/balance/treasury:issuance")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["kind"], "balance");
    let treasury = Address::parse_or_alias("treasury:issuance").unwrap();
    assert_eq!(
        node.calls.lock().unwrap().balance_receipt,
        Some((treasury, CurrencyCode::new("CITY").unwrap()))
    );
    let answer = send_to(
        &node,
        get("/v1/receipts/balance/treasury:issuance?currency=CITY"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn receipts_of_obligations_and_credentials_pass_their_ids_and_heights() {
    let node = FakeNode::new();
    let id = FAKE_OBLIGATION;
    let answer = send_to(&node, get(&format!("/v1/receipts/obligation/{id}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["kind"], "obligation");
    let answer = send_to(&node, get(&format!("/v1/receipts/credential/{id}"))).await;
    assert_eq!(answer.json()["kind"], "credential");
    assert_eq!(
        node.calls.lock().unwrap().credential_receipt,
        Some((id, None))
    );
    let answer = send_to(
        &node,
        get(&format!("/v1/receipts/credential/{id}?height=2")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        node.calls.lock().unwrap().credential_receipt,
        Some((id, Some(Height(2))))
    );
}

#[tokio::test]
async fn receipts_of_records_and_batches_pass_their_ids_and_refuse_bad_ones() {
    let node = FakeNode::new();
    let id = Digest([0x5e; 32]);
    for (path, kind, subject) in [
        ("record", "record", StateSubject::Record(id)),
        ("batch", "batch", StateSubject::Batch(id)),
    ] {
        let answer = send_to(&node, get(&format!("/v1/receipts/{path}/{id}"))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json()["kind"], kind);
        assert_eq!(node.calls.lock().unwrap().subject_receipt, Some(subject));
        let answer = send_to(&node, get(&format!("/v1/receipts/{path}/not-hex"))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.json()["field"], "id");
    }
}

#[tokio::test]
async fn receipts_refuse_bad_input() {
    let cases: &[(&str, StatusCode, &str, Option<&str>)] = &[
        (
            "/v1/receipts/tx/abc",
            StatusCode::BAD_REQUEST,
            code::BAD_HASH,
            Some("hash"),
        ),
        (
            &format!("/v1/receipts/tx/{}", Digest([0xee; 32])),
            StatusCode::NOT_FOUND,
            code::TX_NOT_FINALIZED,
            None,
        ),
        (
            "/v1/receipts/balance/cl1xyz",
            StatusCode::BAD_REQUEST,
            code::BAD_ADDRESS,
            Some("address"),
        ),
        (
            "/v1/receipts/balance/treasury:issuance?currency=not%20a%20code",
            StatusCode::BAD_REQUEST,
            code::BAD_CURRENCY,
            Some("currency"),
        ),
        (
            "/v1/receipts/balance/treasury:issuance?currency=EUR",
            StatusCode::NOT_FOUND,
            code::CURRENCY_NOT_FOUND,
            None,
        ),
        (
            "/v1/receipts/balance/treasury:issuance?currency=CITY&currency=EUR",
            StatusCode::BAD_REQUEST,
            code::BAD_QUERY,
            Some("query"),
        ),
        (
            &format!("/v1/receipts/credential/{FAKE_OBLIGATION}?height=two"),
            StatusCode::BAD_REQUEST,
            code::BAD_MOMENT,
            Some("height"),
        ),
        (
            &format!("/v1/receipts/credential/{FAKE_OBLIGATION}?height=999999"),
            StatusCode::NOT_FOUND,
            code::HEIGHT_NOT_FINALIZED,
            None,
        ),
        (
            "/v1/receipts/credential/zz",
            StatusCode::BAD_REQUEST,
            code::BAD_HASH,
            Some("id"),
        ),
    ];
    for (uri, status, code, field) in cases {
        check_problem(get(uri), *status, code, *field).await;
    }
}

#[tokio::test]
async fn sdk_fetches_receipts() {
    let node = FakeNode::new();
    let (client, server) = serve_sdk(&node).await;
    let hash = node.block.txs[0].hash;
    assert_eq!(
        client.tx_receipt(&hash).await.unwrap(),
        node.receipt("transaction")
    );
    let pending = client.tx_receipt(&Digest([1; 32])).await.unwrap_err();
    assert_eq!(pending.problem_code(), Some(code::TX_NOT_FINALIZED));
    assert_eq!(
        client
            .balance_receipt("treasury:issuance", Some("CITY"))
            .await
            .unwrap(),
        node.receipt("balance")
    );
    let unknown = client
        .balance_receipt("treasury:issuance", Some("EUR"))
        .await
        .unwrap_err();
    assert_eq!(unknown.problem_code(), Some(code::CURRENCY_NOT_FOUND));
    server.abort();
}

// --- checkpoints -------------------------------------------------------------

#[tokio::test]
async fn checkpoints_and_consistency_proofs_pass_their_heights() {
    let node = FakeNode::new();
    let answer = send_to(&node, get("/v1/checkpoints/latest")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["checkpoint"], "Q0xD");
    assert_eq!(answer.json()["height"], 1);
    let answer = send_to(&node, get("/v1/checkpoints/consistency?old=1&new=3")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["old_height"], 1);
    assert_eq!(
        node.calls.lock().unwrap().consistency_proof,
        Some((Height(1), Height(3)))
    );
}

#[tokio::test]
async fn consistency_proofs_refuse_bad_heights_naming_the_field() {
    let cases: &[(&str, StatusCode, &str, Option<&str>)] = &[
        (
            "/v1/checkpoints/consistency?new=3",
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("old"),
        ),
        (
            "/v1/checkpoints/consistency?old=1",
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("new"),
        ),
        (
            "/v1/checkpoints/consistency?old=one&new=3",
            StatusCode::BAD_REQUEST,
            code::BAD_HEIGHT,
            Some("old"),
        ),
        (
            "/v1/checkpoints/consistency?old=1&new=-3",
            StatusCode::BAD_REQUEST,
            code::BAD_HEIGHT,
            Some("new"),
        ),
        (
            "/v1/checkpoints/consistency?old=3&new=3",
            StatusCode::BAD_REQUEST,
            code::HEIGHTS_OUT_OF_ORDER,
            Some("old"),
        ),
        (
            "/v1/checkpoints/consistency?old=1&new=99",
            StatusCode::NOT_FOUND,
            code::HEIGHT_NOT_FINALIZED,
            None,
        ),
        (
            "/v1/checkpoints/consistency?old=1&new=2&new=3",
            StatusCode::BAD_REQUEST,
            code::BAD_QUERY,
            Some("query"),
        ),
    ];
    for (uri, status, code, field) in cases {
        check_problem(get(uri), *status, code, *field).await;
    }
}

#[tokio::test]
async fn sdk_fetches_checkpoints_and_consistency_proofs() {
    let node = FakeNode::new();
    let (client, server) = serve_sdk(&node).await;
    assert_eq!(client.checkpoint().await.unwrap(), node.checkpoint_view());
    assert_eq!(
        client
            .consistency_proof(Height(1), Height(2))
            .await
            .unwrap(),
        fake_consistency_proof(Height(1), Height(2))
    );
    let ahead = client
        .consistency_proof(Height(1), Height(9))
        .await
        .unwrap_err();
    assert_eq!(ahead.problem_code(), Some(code::HEIGHT_NOT_FINALIZED));
    server.abort();
}

// --- applications and credentials ------------------------------------------

#[tokio::test]
async fn application_and_credential_routes_pass_typed_queries() {
    let node = FakeNode::new();
    let id = FAKE_OBLIGATION.to_hex();
    let applicant = Address::of_key(&SecretKey::from_seed([2; 32]).public_key());
    let answer = send_to(
        &node,
        get(&format!(
            "/v1/applications?applicant={applicant}&org=immigration&status=decided&limit=7"
        )),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["items"][0]["service"], "passport_renewal");
    assert_eq!(
        node.calls.lock().unwrap().applications.clone().unwrap(),
        ApplicationQuery {
            applicant: Some(applicant),
            org: Some(OrgName::new("immigration").unwrap()),
            status: Some(ApplicationStatusFilter::Decided),
            cursor: None,
            limit: 7,
        }
    );
    let credential = send_to(&node, get(&format!("/v1/credentials/{id}"))).await;
    assert_eq!(credential.json()["status"], "valid");
    assert_eq!(
        credential.json()["history"][0]["change"]["change"],
        "issued"
    );
    for (query, moment) in [
        ("", StatusMoment::Now),
        ("?height=2", StatusMoment::Height(Height(2))),
        ("?at=1650000000000", StatusMoment::Time(1_650_000_000_000)),
    ] {
        let answer = send_to(&node, get(&format!("/v1/credentials/{id}/status{query}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}");
        assert_eq!(answer.json()["status"], "valid");
        assert_eq!(node.calls.lock().unwrap().status_moment, Some(moment));
    }
    let request = Request::get("/v1/status-lists/immigration/suspension/3")
        .header(header::HOST, "ledger.city.example:8080")
        .body(Body::empty())
        .unwrap();
    let answer = send_to(&node, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.json()["encoded_list"]
            .as_str()
            .unwrap()
            .starts_with('u')
    );
    assert_eq!(
        node.calls.lock().unwrap().status_list.clone().unwrap(),
        (
            OrgName::new("immigration").unwrap(),
            cityledger_vc::StatusPurpose::Suspension,
            3,
            "http://ledger.city.example:8080".to_string()
        )
    );
}

#[tokio::test]
async fn application_and_credential_routes_refuse_bad_input() {
    let unknown = Digest([0x0c; 32]).to_hex();
    let id = FAKE_OBLIGATION.to_hex();
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            "/v1/applications".into(),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("applicant"),
        ),
        (
            "/v1/applications?org=immigration&status=late".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_APPLICATION_STATUS,
            Some("status"),
        ),
        (
            "/v1/applications?applicant=cl1xyz".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_ADDRESS,
            Some("applicant"),
        ),
        (
            format!("/v1/applications/{unknown}"),
            StatusCode::NOT_FOUND,
            code::APPLICATION_NOT_FOUND,
            None,
        ),
        (
            format!("/v1/applications/{unknown}/history"),
            StatusCode::NOT_FOUND,
            code::APPLICATION_NOT_FOUND,
            None,
        ),
        (
            "/v1/credentials".into(),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("holder"),
        ),
        (
            "/v1/credentials?issuer=Immigration".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_ORG,
            Some("issuer"),
        ),
        (
            "/v1/credentials/xyz".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_HASH,
            Some("id"),
        ),
        (
            format!("/v1/credentials/{unknown}"),
            StatusCode::NOT_FOUND,
            code::CREDENTIAL_NOT_FOUND,
            None,
        ),
        (
            format!("/v1/credentials/{unknown}/status"),
            StatusCode::NOT_FOUND,
            code::CREDENTIAL_NOT_FOUND,
            None,
        ),
        (
            format!("/v1/credentials/{id}/status?height=-1"),
            StatusCode::BAD_REQUEST,
            code::BAD_MOMENT,
            Some("height"),
        ),
        (
            format!("/v1/credentials/{id}/status?at=soon"),
            StatusCode::BAD_REQUEST,
            code::BAD_MOMENT,
            Some("at"),
        ),
        (
            format!("/v1/credentials/{id}/status?height=1&at=2"),
            StatusCode::BAD_REQUEST,
            code::AMBIGUOUS_MOMENT,
            Some("at"),
        ),
        (
            "/v1/status-lists/immigration/expiry/0".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_PURPOSE,
            Some("purpose"),
        ),
        (
            "/v1/status-lists/immigration/revocation/x".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_LIST,
            Some("list"),
        ),
        (
            "/v1/status-lists/Immigration/revocation/0".into(),
            StatusCode::BAD_REQUEST,
            code::BAD_ORG,
            Some("org"),
        ),
    ];
    for (uri, status, code, field) in cases {
        check_problem(get(&uri), status, code, field).await;
    }
}

// --- records --------------------------------------------------------------

fn anchor_body(tx: &SignedTx, blob: &str) -> String {
    json!({ "tx": encode_tx(tx), "blob": blob, "keys": [] }).to_string()
}

fn keys_body(record: Digest) -> String {
    use cityledger_types::sealed::{KeyUpload, WrappedKeys};
    let upload = KeyUpload::sign(
        record,
        WrappedKeys::default(),
        &SecretKey::from_seed([2; 32]),
    );
    json!({ "upload": encode_bytes(&borsh::to_vec(&upload).unwrap()) }).to_string()
}

#[tokio::test]
async fn record_content_is_403_with_the_refused_access_and_410_with_the_tombstone() {
    let record = Digest([1; 32]).to_hex();
    let refused = check_problem(
        signed_get(
            &format!("/v1/records/{record}/content?access={REFUSED_ACCESS}"),
            1_000,
        ),
        StatusCode::FORBIDDEN,
        code::ACCESS_REFUSED,
        None,
    )
    .await;
    assert_eq!(refused["access"]["decision"], "refused");
    assert_eq!(refused["access"]["refused"], "no_grant");
    let gone = check_problem(
        signed_get(
            &format!(
                "/v1/records/{ERASED_RECORD}/content?access={}",
                Digest([1; 32])
            ),
            1_000,
        ),
        StatusCode::GONE,
        code::RECORD_ERASED,
        None,
    )
    .await;
    assert_eq!(gone["tombstone"]["erasure"]["reason"], "GDPR");
    assert_eq!(gone["tombstone"]["commitment"], Digest([1; 32]).to_hex());
    let granted = send(signed_get(
        &format!("/v1/records/{record}/content?access={}", Digest([1; 32])),
        1_000,
    ))
    .await;
    assert_eq!(granted.status, StatusCode::OK);
    assert_eq!(granted.json()["access"]["decision"], "granted");
}

#[tokio::test]
async fn record_routes_pass_typed_queries() {
    let node = FakeNode::new();
    let tx = sample_tx("anchor-1");
    let answer = send_to(&node, post_json("/v1/records", anchor_body(&tx, "Q0xTQg"))).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(node.calls.lock().unwrap().anchored, Some((4, 0)));
    let owner = Address::parse_or_alias("treasury:issuance").unwrap();
    let record = Digest([9; 32]);
    let answer = send_to(
        &node,
        signed_get(
            &format!("/v1/accesses?owner={owner}&record={record}&limit=5"),
            1_000,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let reader = crate::rest::SignedReader {
        key: signed_reader_key().public_key(),
        time_ms: 1_000,
    };
    assert_eq!(
        node.calls.lock().unwrap().accesses,
        Some(AccessQuery {
            owner,
            record: Some(record),
            cursor: None,
            limit: 5,
            reader: reader.clone(),
        })
    );
    let answer = send_to(
        &node,
        signed_get(&format!("/v1/records?recipient={owner}"), 1_000),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        node.calls
            .lock()
            .unwrap()
            .records
            .as_ref()
            .map(|q| (q.recipient, q.reader.clone())),
        Some((Some(owner), reader.clone()))
    );
    for (uri, listing) in [
        (
            format!("/v1/grants?owner={owner}&limit=7"),
            GrantListing::Owner(owner),
        ),
        (
            format!("/v1/grants?reader={owner}&limit=7"),
            GrantListing::Reader(owner),
        ),
    ] {
        let answer = send_to(&node, signed_get(&uri, 1_000)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(
            node.calls.lock().unwrap().grants,
            Some(GrantQuery {
                listing,
                cursor: None,
                limit: 7,
                signer: reader.clone(),
            })
        );
    }
}

#[tokio::test]
async fn private_record_reads_must_be_signed() {
    let owner = Address::parse_or_alias("treasury:issuance").unwrap();
    let record = Digest([1; 32]);
    for uri in [
        format!("/v1/records?owner={owner}"),
        format!("/v1/accesses?owner={owner}"),
        format!("/v1/grants?owner={owner}"),
        format!("/v1/grants?reader={owner}"),
        format!("/v1/records/{record}/content?access={record}"),
    ] {
        check_problem(get(&uri), StatusCode::FORBIDDEN, code::UNSIGNED_READ, None).await;
        // Signed for another request: the signature binds the path and query.
        let mut replayed = signed_get(&format!("/v1/accesses?owner={owner}&limit=1"), 1_000);
        *replayed.uri_mut() = uri.parse().unwrap();
        check_problem(
            replayed,
            StatusCode::FORBIDDEN,
            code::BAD_READ_SIGNATURE,
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn record_routes_refuse_bad_input() {
    let tx = sample_tx("anchor-2");
    let record = Digest([1; 32]).to_hex();
    let cases: Vec<(Request<Body>, StatusCode, &str, Option<&str>)> = vec![
        (
            post_json("/v1/records", anchor_body(&tx, "not base64!")),
            StatusCode::BAD_REQUEST,
            code::BAD_BASE64,
            Some("blob"),
        ),
        (
            post_json("/v1/records", submit_body(&tx)),
            StatusCode::BAD_REQUEST,
            code::MALFORMED_JSON,
            Some("blob"),
        ),
        (
            get(&format!("/v1/records/{record}/content")),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("access"),
        ),
        (
            get(&format!("/v1/records/{record}/content?access=xyz")),
            StatusCode::BAD_REQUEST,
            code::BAD_HASH,
            Some("access"),
        ),
        (
            get("/v1/records"),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("owner"),
        ),
        (
            get("/v1/accesses"),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("owner"),
        ),
        (
            get("/v1/grants"),
            StatusCode::BAD_REQUEST,
            code::MISSING_PARAMETER,
            Some("owner"),
        ),
        (
            get("/v1/grants?owner=treasury:issuance&reader=treasury:issuance"),
            StatusCode::BAD_REQUEST,
            code::BAD_QUERY,
            Some("reader"),
        ),
        (
            get("/v1/grants?reader=nobody"),
            StatusCode::BAD_REQUEST,
            code::BAD_ADDRESS,
            Some("reader"),
        ),
        (
            get("/v1/devices/not-a-key"),
            StatusCode::BAD_REQUEST,
            code::BAD_KEY,
            Some("key"),
        ),
        (
            post_json(
                &format!("/v1/records/{record}/keys"),
                keys_body(Digest([2; 32])),
            ),
            StatusCode::BAD_REQUEST,
            code::BAD_KEYS,
            Some("upload"),
        ),
    ];
    for (request, status, problem_code, field) in cases {
        check_problem(request, status, problem_code, field).await;
    }
}

#[tokio::test]
async fn stream_filters_are_validated() {
    let cases = [
        ("/v1/stream?severity=urgent", code::BAD_SEVERITY, "severity"),
        ("/v1/stream?area=District%207", code::BAD_AREA, "area"),
        ("/v1/stream?org=Fire", code::BAD_ORG, "org"),
    ];
    for (uri, problem, field) in cases {
        check_problem(get(uri), StatusCode::BAD_REQUEST, problem, Some(field)).await;
    }
    // A filter no fake event matches sends no block at all.
    let answer = send(get("/v1/stream?from_height=1&severity=critical")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(sse_messages(&answer.body).is_empty());
}

#[tokio::test]
async fn incident_reads_must_be_signed_by_the_reader() {
    let path = format!("/v1/incidents/{}", Digest([4; 32]));
    check_problem(get(&path), StatusCode::FORBIDDEN, code::UNSIGNED_READ, None).await;
    // Signed for another path: refused at the edge.
    let mut moved = signed_get("/v1/incidents/other", 1_000);
    *moved.uri_mut() = path.parse().unwrap();
    check_problem(moved, StatusCode::FORBIDDEN, code::BAD_READ_SIGNATURE, None).await;
    // Signed right: the node answers (the fake knows no such incident).
    check_problem(
        signed_get(&path, 1_000),
        StatusCode::NOT_FOUND,
        code::INCIDENT_NOT_FOUND,
        None,
    )
    .await;
    check_problem(
        get(&format!(
            "/v1/receipts/case/{}/{}?version=0",
            Digest([1; 32]),
            Digest([2; 32])
        )),
        StatusCode::BAD_REQUEST,
        code::BAD_VERSION,
        Some("version"),
    )
    .await;
}
