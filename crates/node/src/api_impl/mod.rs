//! The node behind the REST API: answers [`NodeApi`] from the chain, the
//! store and the mempool, and serves the router.

mod credentials;
mod obligations;
mod records;
mod safety;

use crate::admission::{Admission, AdmitError};
use crate::consensus::app::now_ms;
use crate::core::NodeCore;
use crate::receipts::{self, ReceiptError, StateSubject};
use crate::rest::{
    AccessQuery, ApiError, ApplicationQuery, CredentialQuery, DecodedTx, GrantQuery, NodeApi,
    ObligationQuery, RecordQuery, ReportQuery, StatusMoment, router,
};
use cityledger_api::limits::RECENT_TXS_SCAN_BLOCKS_MAX;
use cityledger_api::problem::code;
use cityledger_api::{
    AccessesPage, BatchProof, DeviceView, DevicesPage, GrantsPage, RecordContentView, RecordView,
    RecordsPage,
};
use cityledger_api::{
    AccountTxItem, AccountTxsPage, AccountView, ApplicationView, ApplicationsPage, BalanceView,
    BlockSummary, BlockView, BlocksPage, CheckpointView, ConsistencyProofView,
    CredentialStatusProof, CredentialView, CredentialsPage, EquivocationView,
    ObligationHistoryPage, ObligationReport, ObligationView, ObligationsPage, OutcomeView,
    ReceiptView, StatusListView, StatusView, StreamEvent, StreamEventItem, SubmitTxResponse,
    TxStatusView, TxSummary, TxsPage, ValidatorView,
};
use cityledger_storage::{Store, TxLocation};
use cityledger_types::PublicKey;
use cityledger_types::genesis::Genesis;
use cityledger_types::records::{AccountRecord, BalanceRecord, CurrencyRecord, StateKey};
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::{Address, Block, CurrencyCode, Digest, Height, OrgName, TxOutcome};
use commonware_runtime::{Clock, Handle, Metrics, Spawner};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tracing::error;

/// Decoded finalized blocks kept for status and history queries.
const BLOCK_CACHE_BLOCKS_MAX: usize = 32;

/// A finalized block as read back from the store.
struct LoadedBlock {
    block: Block,
    outcomes: Vec<TxOutcome>,
    certificate: Vec<u8>,
    events: Vec<(Option<u32>, serde_json::Value)>,
}

/// Recently read blocks, oldest first.
type BlockCache = VecDeque<(Height, Arc<LoadedBlock>)>;

/// The node as the REST API sees it.
pub struct ApiService<E> {
    core: Arc<NodeCore>,
    admission: Admission,
    runtime: Arc<E>,
    cache: Arc<Mutex<BlockCache>>,
}

impl<E> Clone for ApiService<E> {
    fn clone(&self) -> Self {
        ApiService {
            core: self.core.clone(),
            admission: self.admission.clone(),
            runtime: self.runtime.clone(),
            cache: self.cache.clone(),
        }
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    error!(%error, "internal error serving the API");
    ApiError::Internal {
        detail: "the node failed to read its store; see its log".into(),
    }
}

impl<E: Clock + Metrics + Send + Sync + 'static> ApiService<E> {
    /// Serves `core` through `admission`, reading time and metrics from `runtime`.
    pub fn new(core: Arc<NodeCore>, admission: Admission, runtime: E) -> Self {
        ApiService {
            core,
            admission,
            runtime: Arc::new(runtime),
            cache: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.core.chain.store()
    }

    fn load(&self, height: Height) -> Result<Option<Arc<LoadedBlock>>, ApiError> {
        if let Some(hit) = self.cached(height) {
            return Ok(Some(hit));
        }
        let Some(loaded) = self.load_uncached(height)? else {
            return Ok(None);
        };
        let mut cache = self.cache.lock().expect("block cache lock");
        if cache.len() >= BLOCK_CACHE_BLOCKS_MAX {
            cache.pop_front();
        }
        cache.push_back((height, loaded.clone()));
        Ok(Some(loaded))
    }

    /// The block at `height` from the cache, or from the store without
    /// adding it to the cache.
    fn load_uncached(&self, height: Height) -> Result<Option<Arc<LoadedBlock>>, ApiError> {
        if let Some(hit) = self.cached(height) {
            return Ok(Some(hit));
        }
        let Some(stored) = self.store().block(height).map_err(internal)? else {
            return Ok(None);
        };
        let block = Block::from_bytes(&stored.block_bytes).map_err(internal)?;
        let outcomes: Vec<TxOutcome> =
            borsh::from_slice(&stored.outcomes_bytes).map_err(internal)?;
        let events = serde_json::from_slice(&stored.events_bytes).map_err(internal)?;
        Ok(Some(Arc::new(LoadedBlock {
            block,
            outcomes,
            certificate: stored.certificate,
            events,
        })))
    }

    fn cached(&self, height: Height) -> Option<Arc<LoadedBlock>> {
        let cache = self.cache.lock().expect("block cache lock");
        cache
            .iter()
            .find(|(h, _)| *h == height)
            .map(|(_, b)| b.clone())
    }

    fn finalized_status(
        &self,
        hash: Digest,
        location: TxLocation,
    ) -> Result<TxStatusView, ApiError> {
        let loaded = self
            .load(location.height)?
            .ok_or_else(|| internal(format!("indexed block {} is missing", location.height)))?;
        let outcome = loaded
            .outcomes
            .get(location.position as usize)
            .ok_or_else(|| internal("indexed position is outside its block"))?;
        Ok(TxStatusView::Finalized {
            hash,
            height: location.height,
            block_id: loaded.block.id(),
            position: location.position,
            outcome: OutcomeView::from(outcome),
        })
    }

    fn admit_error(&self, error: AdmitError) -> ApiError {
        let bad = |code: &'static str, field: &str| ApiError::BadRequest {
            code,
            field: Some(field.to_owned()),
            detail: error.to_string(),
        };
        match &error {
            AdmitError::WrongChain { .. } => bad("wrong_chain_id", "tx.body.chain_id"),
            AdmitError::Expired { .. } => bad("expired", "tx.body.expires_at_ms"),
            AdmitError::ExpiryTooFar { .. } => bad("expiry_too_far", "tx.body.expires_at_ms"),
            AdmitError::BadSignature { .. } => bad("bad_signature", "tx.signature"),
            AdmitError::DuplicateId { first_tx } => ApiError::Conflict {
                code: "duplicate_tx_id",
                detail: error.to_string(),
                first_result: self.tx_status(*first_tx).ok().map(Box::new),
            },
            AdmitError::Full { retry_after_s } => ApiError::MempoolFull {
                retry_after_s: *retry_after_s,
            },
            AdmitError::Closed => ApiError::Unavailable {
                detail: error.to_string(),
            },
        }
    }

    fn stream_event(&self, height: Height) -> Result<Option<StreamEvent>, ApiError> {
        let Some(loaded) = self.load(height)? else {
            return Ok(None);
        };
        let hashes: Vec<Digest> = loaded.block.txs.0.iter().map(|tx| tx.hash()).collect();
        let events = loaded
            .events
            .iter()
            .map(|(position, event)| StreamEventItem {
                tx: position.and_then(|p| hashes.get(p as usize).copied()),
                event: event.clone(),
            })
            .collect();
        Ok(Some(StreamEvent {
            height,
            block_id: loaded.block.id(),
            timestamp_ms: loaded.block.header.timestamp_ms,
            tx_count: loaded.block.header.tx_count,
            events,
        }))
    }
}

impl<E: Clock + Metrics + Send + Sync + 'static> NodeApi for ApiService<E> {
    fn submit(&self, tx: DecodedTx) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>> {
        let service = self.clone();
        async move {
            let now = now_ms(service.runtime.as_ref());
            match service.admission.submit(tx.tx, tx.encoded_bytes, now).await {
                Ok(hash) => Ok(SubmitTxResponse {
                    hash,
                    status: TxStatusView::Pending { hash },
                }),
                Err(error) => Err(service.admit_error(error)),
            }
        }
        .boxed()
    }

    fn submit_many(
        &self,
        txs: Vec<DecodedTx>,
    ) -> BoxFuture<'static, Vec<Result<SubmitTxResponse, ApiError>>> {
        let submissions: Vec<_> = txs.into_iter().map(|tx| self.submit(tx)).collect();
        futures::future::join_all(submissions).boxed()
    }

    fn tx_status(&self, hash: Digest) -> Result<TxStatusView, ApiError> {
        if let Some(location) = self.store().tx_location(&hash).map_err(internal)? {
            return self.finalized_status(hash, location);
        }
        if self.core.mempool().contains(&hash) {
            return Ok(TxStatusView::Pending { hash });
        }
        Ok(TxStatusView::Unknown { hash })
    }

    fn block_by_height(&self, height: Height) -> Result<Option<BlockView>, ApiError> {
        Ok(self.load(height)?.map(|loaded| {
            let certificate =
                (!loaded.certificate.is_empty()).then_some(loaded.certificate.as_slice());
            BlockView::new(&loaded.block, &loaded.outcomes, certificate)
        }))
    }

    fn block_by_id(&self, id: Digest) -> Result<Option<BlockView>, ApiError> {
        match self.store().height_of(&id).map_err(internal)? {
            Some(height) => self.block_by_height(height),
            None => Ok(None),
        }
    }

    fn blocks(&self, before: Option<Height>, limit: usize) -> Result<BlocksPage, ApiError> {
        let tip = self.core.chain.finalized().block.header.height;
        // Heights `first_below` down to 0; nothing to list below genesis.
        let Some(first) = before.map_or(Some(tip.0), |before| before.0.checked_sub(1)) else {
            return Ok(BlocksPage {
                items: Vec::new(),
                next_before: None,
            });
        };
        let first = first.min(tip.0);
        let mut items = Vec::with_capacity(limit);
        let mut height = Some(first);
        while let Some(current) = height {
            if items.len() == limit {
                break;
            }
            // Read past the cache: a page of old blocks must not push out
            // the newest ones that status and the stream read.
            let loaded = self
                .load_uncached(Height(current))?
                .ok_or_else(|| internal(format!("finalized block {current} is missing")))?;
            items.push(BlockSummary::new(
                &loaded.block,
                &loaded.outcomes,
                !loaded.certificate.is_empty(),
            ));
            height = current.checked_sub(1);
        }
        Ok(BlocksPage {
            items,
            next_before: height.map(|below| Height(below + 1)),
        })
    }

    fn recent_txs(&self, cursor: Option<String>, limit: usize) -> Result<TxsPage, ApiError> {
        let tip = self.core.chain.finalized().block.header.height;
        // The cursor is the location of the last transaction returned; the
        // next page starts just before it.
        let (mut height, mut end) = match cursor.as_deref().map(parse_cursor).transpose()? {
            Some(location) => (Some(location.height.0.min(tip.0)), Some(location.position)),
            None => (Some(tip.0), None),
        };
        let mut items = Vec::with_capacity(limit);
        let mut scanned = 0;
        while let Some(current) = height {
            if items.len() == limit || scanned == RECENT_TXS_SCAN_BLOCKS_MAX {
                break;
            }
            scanned += 1;
            let loaded = self
                .load_uncached(Height(current))?
                .ok_or_else(|| internal(format!("finalized block {current} is missing")))?;
            let count = loaded.block.txs.0.len() as u32;
            let below = end.take().unwrap_or(count).min(count);
            let mut position = below;
            while position > 0 && items.len() < limit {
                position -= 1;
                let (Some(tx), Some(outcome)) = (
                    loaded.block.txs.0.get(position as usize),
                    loaded.outcomes.get(position as usize),
                ) else {
                    return Err(internal("an outcome is missing in a stored block"));
                };
                items.push(TxSummary::new(
                    tx,
                    Height(current),
                    position,
                    loaded.block.header.timestamp_ms,
                    outcome,
                ));
            }
            if position > 0 {
                // The page filled inside this block: go on from here.
                return Ok(TxsPage {
                    items,
                    next_cursor: Some(format!("{current}:{position}")),
                });
            }
            height = current.checked_sub(1);
        }
        // Every block above `height` is done: the next page starts at its
        // end (a position past any block's last transaction).
        let next_cursor = height.map(|next| format!("{next}:{}", u32::MAX));
        Ok(TxsPage { items, next_cursor })
    }

    fn genesis(&self) -> Genesis {
        self.core.chain.genesis().clone()
    }

    fn account(&self, address: Address) -> Result<AccountView, ApiError> {
        let state = self.core.chain.finalized().state;
        let load = |key: StateKey| state.get(&key.to_bytes()).map(<[u8]>::to_vec);
        let record: Option<AccountRecord> =
            load(StateKey::Account(address)).and_then(|bytes| borsh::from_slice(&bytes).ok());
        let mut balances = Vec::new();
        for currency in &self.core.chain.genesis().currencies {
            let Some(bytes) = load(StateKey::Balance(address, currency.code.clone())) else {
                continue;
            };
            let balance: BalanceRecord = borsh::from_slice(&bytes).map_err(internal)?;
            let currency = CurrencyRecord {
                code: currency.code.clone(),
                decimals: currency.decimals,
            };
            balances.push(BalanceView::new(&currency, &balance));
        }
        if record.is_none()
            && balances.is_empty()
            && address.kind() != Some(cityledger_types::AddressKind::Key)
        {
            return Err(ApiError::NotFound {
                code: "account_not_found",
                detail: format!("account {address} does not exist"),
            });
        }
        Ok(AccountView::new(address, record.as_ref(), balances))
    }

    fn account_txs(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<AccountTxsPage, ApiError> {
        let before = cursor.as_deref().map(parse_cursor).transpose()?;
        let locations = self
            .store()
            .account_txs(&address, before, limit)
            .map_err(internal)?;
        let mut items = Vec::with_capacity(locations.len());
        for location in &locations {
            let loaded = self
                .load(location.height)?
                .ok_or_else(|| internal("indexed block is missing"))?;
            let position = location.position as usize;
            let (Some(tx), Some(outcome)) = (
                loaded.block.txs.0.get(position),
                loaded.outcomes.get(position),
            ) else {
                return Err(internal("indexed position is outside its block"));
            };
            items.push(AccountTxItem {
                height: location.height,
                position: location.position,
                hash: tx.hash(),
                outcome: OutcomeView::from(outcome),
            });
        }
        let next_cursor = (locations.len() == limit)
            .then(|| {
                locations
                    .last()
                    .map(|l| format!("{}:{}", l.height, l.position))
            })
            .flatten();
        Ok(AccountTxsPage { items, next_cursor })
    }

    fn status(&self) -> StatusView {
        let tip = self.core.chain.finalized();
        let genesis = self.core.chain.genesis();
        let now_ms = now_ms(self.runtime.as_ref());
        let network = self.core.network();
        let validators = genesis
            .validators
            .iter()
            .zip(network.validators(now_ms))
            .map(|(validator, (liveness, live))| {
                debug_assert_eq!(validator.key, liveness.key);
                ValidatorView {
                    org: validator.org.clone(),
                    key: validator.key,
                    last_view: liveness.last_vote.map(|(view, _)| view),
                    last_seen_ms: liveness.last_vote.map(|(_, seen)| seen),
                    live,
                }
            })
            .collect();
        StatusView {
            chain_id: genesis.chain_id.clone(),
            node_name: self.core.name.clone(),
            height: tip.block.header.height,
            block_id: tip.block.id(),
            state_root: tip.block.header.state_root,
            timestamp_ms: tip.block.header.timestamp_ms,
            mempool_size: self.core.mempool().len() as u64,
            validators,
            validator_set_hash: genesis.validator_set_hash(),
            genesis_hash: genesis.hash(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            syncing: network.syncing(),
            view: network.highest_view(),
            views_behind: network.views_behind(),
            validators_live: network.live_count(now_ms) as u32,
            equivocations: network
                .equivocations()
                .map(|e| EquivocationView {
                    validator: e.validator,
                    view: e.view,
                    kind: e.kind.as_str().to_owned(),
                    detected_ms: e.detected_ms,
                })
                .collect(),
        }
    }

    fn stream(&self, from_height: Option<Height>) -> BoxStream<'static, StreamEvent> {
        let service = self.clone();
        let watch = self.core.watch_finalized();
        let start =
            from_height.unwrap_or_else(|| self.core.chain.finalized().block.header.height.next());
        futures::stream::unfold(
            (service, watch, start),
            |(service, mut watch, next)| async move {
                loop {
                    let tip = *watch.borrow_and_update();
                    if next.0 <= tip {
                        let event = service.stream_event(next).ok().flatten()?;
                        return Some((event, (service, watch, next.next())));
                    }
                    watch.changed().await.ok()?;
                }
            },
        )
        .boxed()
    }

    fn metrics_text(&self) -> String {
        self.runtime.encode()
    }

    fn obligation(&self, id: Digest) -> Result<Option<ObligationView>, ApiError> {
        let tip = self.core.chain.finalized();
        obligations::obligation(&snapshot(&tip), id)
    }

    fn obligations(&self, query: ObligationQuery) -> Result<ObligationsPage, ApiError> {
        let tip = self.core.chain.finalized();
        obligations::obligations(self.store().as_ref(), &snapshot(&tip), &query)
    }

    fn obligation_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        let tip = self.core.chain.finalized();
        obligations::history(self.store().as_ref(), &snapshot(&tip), id, cursor, limit)
    }

    fn obligation_report(&self, query: ReportQuery) -> Result<ObligationReport, ApiError> {
        let tip = self.core.chain.finalized();
        obligations::report(&snapshot(&tip), &query)
    }

    fn application(&self, id: Digest) -> Result<Option<ApplicationView>, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::application(&snapshot(&tip), id)
    }

    fn applications(&self, query: ApplicationQuery) -> Result<ApplicationsPage, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::applications(self.store().as_ref(), &snapshot(&tip), &query)
    }

    fn application_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::application_history(self.store().as_ref(), &snapshot(&tip), id, cursor, limit)
    }

    fn credential(&self, id: Digest) -> Result<Option<CredentialView>, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::credential(&snapshot(&tip), id)
    }

    fn credentials(&self, query: CredentialQuery) -> Result<CredentialsPage, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::credentials(self.store().as_ref(), &snapshot(&tip), &query)
    }

    fn credential_history(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<ObligationHistoryPage, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::credential_history(self.store().as_ref(), &snapshot(&tip), id, cursor, limit)
    }

    fn credential_status(
        &self,
        id: Digest,
        moment: StatusMoment,
    ) -> Result<CredentialStatusProof, ApiError> {
        let tip = self.core.chain.finalized();
        let block_time = |height: Height| {
            Ok(self
                .load(height)?
                .map(|loaded| loaded.block.header.timestamp_ms))
        };
        credentials::credential_status(&snapshot(&tip), tip.block.id(), id, moment, block_time)
    }

    fn status_list(
        &self,
        org: OrgName,
        purpose: cityledger_vc::StatusPurpose,
        list: u32,
        base_url: String,
    ) -> Result<StatusListView, ApiError> {
        let tip = self.core.chain.finalized();
        credentials::status_list(
            self.store().as_ref(),
            &snapshot(&tip),
            &org,
            purpose,
            list,
            &base_url,
        )
    }

    fn anchor_record(
        &self,
        tx: DecodedTx,
        blob: Vec<u8>,
        keys: WrappedKeys,
    ) -> BoxFuture<'static, Result<SubmitTxResponse, ApiError>> {
        // The blob is stored before the transaction is admitted, so that a
        // record is never finalized without its content on this node. A
        // transaction that never lands leaves an unreferenced blob, which
        // no read serves (reads start from a finalized record).
        if let Err(error) = records::store_blob(self.core.blobs.as_ref(), &tx.tx, &blob, &keys) {
            return futures::future::ready(Err(error)).boxed();
        }
        self.submit(tx)
    }

    fn add_record_keys(&self, upload: KeyUpload) -> Result<usize, ApiError> {
        let tip = self.core.chain.finalized();
        let merged = records::add_keys(&snapshot(&tip), self.core.blobs.as_ref(), &upload)?;
        self.core
            .notify_replication(crate::replication::Notice::KeysAccepted(upload));
        Ok(merged)
    }

    fn record(&self, id: Digest) -> Result<Option<RecordView>, ApiError> {
        let tip = self.core.chain.finalized();
        records::record(&snapshot(&tip), id)
    }

    fn records(&self, query: RecordQuery) -> Result<RecordsPage, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        records::records(self.store().as_ref(), &snapshot(&tip), &query, now)
    }

    fn record_content(
        &self,
        id: Digest,
        access: Digest,
        reader: crate::rest::SignedReader,
    ) -> Result<RecordContentView, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        let read = records::ContentRead { id, access, reader };
        records::content(&snapshot(&tip), self.core.blobs.as_ref(), &read, now)
    }

    fn accesses(&self, query: AccessQuery) -> Result<AccessesPage, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        records::accesses(self.store().as_ref(), &snapshot(&tip), &query, now)
    }

    fn grants(&self, query: GrantQuery) -> Result<GrantsPage, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        records::grants(self.store().as_ref(), &snapshot(&tip), &query, now)
    }

    fn device(&self, key: PublicKey) -> Result<Option<DeviceView>, ApiError> {
        let tip = self.core.chain.finalized();
        records::device(&snapshot(&tip), key)
    }

    fn devices(
        &self,
        org: OrgName,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DevicesPage, ApiError> {
        let tip = self.core.chain.finalized();
        records::devices(
            self.store().as_ref(),
            &snapshot(&tip),
            &org,
            cursor.as_deref(),
            limit,
        )
    }

    fn batch(&self, id: Digest) -> Result<BatchProof, ApiError> {
        let tip = self.core.chain.finalized();
        records::batch(&snapshot(&tip), tip.block.id(), id)
    }

    fn alerts(
        &self,
        org: OrgName,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<cityledger_api::AlertsPage, ApiError> {
        let tip = self.core.chain.finalized();
        safety::alerts(
            self.store().as_ref(),
            &snapshot(&tip),
            &org,
            cursor.as_deref(),
            limit,
        )
    }

    fn incident(
        &self,
        id: Digest,
        reader: crate::rest::SignedReader,
    ) -> Result<cityledger_api::IncidentView, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        safety::incident(&snapshot(&tip), id, &reader, now)
    }

    fn incidents(
        &self,
        org: OrgName,
        reader: crate::rest::SignedReader,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<cityledger_api::IncidentsPage, ApiError> {
        let tip = self.core.chain.finalized();
        let now = now_ms(self.runtime.as_ref());
        safety::incidents(
            self.store().as_ref(),
            &snapshot(&tip),
            &org,
            &reader,
            now,
            cursor.as_deref(),
            limit,
        )
    }

    fn evidence(&self, id: Digest) -> Result<Option<cityledger_api::EvidenceView>, ApiError> {
        let tip = self.core.chain.finalized();
        safety::evidence(&snapshot(&tip), id)
    }

    fn case(&self, id: Digest) -> Result<Option<cityledger_api::CaseView>, ApiError> {
        let tip = self.core.chain.finalized();
        safety::case(&snapshot(&tip), id)
    }

    fn exam_results(
        &self,
        id: Digest,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<cityledger_api::ExamResultsPage, ApiError> {
        let tip = self.core.chain.finalized();
        safety::exam_results(
            self.store().as_ref(),
            &snapshot(&tip),
            id,
            cursor.as_deref(),
            limit,
        )
    }

    fn custody_receipt(&self, id: Digest) -> Result<ReceiptView, ApiError> {
        receipts::custody_receipt(&self.core.chain, id)
            .map(|r| receipts::view(&r))
            .map_err(receipt_error)
    }

    fn case_item_receipt(
        &self,
        case: Digest,
        item: Digest,
        version: Option<u32>,
    ) -> Result<ReceiptView, ApiError> {
        match receipts::case_item_receipt(&self.core.chain, case, version, item) {
            Ok(Some(receipt)) => Ok(receipts::view(&receipt)),
            Ok(None) => Err(ApiError::not_found(
                code::CASE_ITEM_NOT_FOUND,
                match version {
                    Some(version) => format!(
                        "evidence {item} is not in version {version} of case {case}, or that case or version does not exist"
                    ),
                    None => format!(
                        "evidence {item} is not in the newest version of case {case}, or the case does not exist"
                    ),
                },
            )),
            Err(error) => Err(receipt_error(error)),
        }
    }

    fn tx_receipt(&self, hash: Digest) -> Result<ReceiptView, ApiError> {
        let receipt = if self.core.mempool().contains(&hash) {
            Err(ReceiptError::NotFinalized { hash })
        } else {
            receipts::tx_receipt(&self.core.chain, hash)
        };
        receipt.map(|r| receipts::view(&r)).map_err(receipt_error)
    }

    fn balance_receipt(
        &self,
        address: Address,
        currency: CurrencyCode,
    ) -> Result<ReceiptView, ApiError> {
        receipts::balance_receipt(&self.core.chain, address, &currency)
            .map(|r| receipts::view(&r))
            .map_err(receipt_error)
    }

    fn obligation_receipt(&self, id: Digest) -> Result<ReceiptView, ApiError> {
        receipts::obligation_receipt(&self.core.chain, id)
            .map(|r| receipts::view(&r))
            .map_err(receipt_error)
    }

    fn credential_receipt(&self, id: Digest, at: Option<Height>) -> Result<ReceiptView, ApiError> {
        receipts::credential_receipt(&self.core.chain, id, at)
            .map(|r| receipts::view(&r))
            .map_err(receipt_error)
    }

    fn subject_receipt(&self, subject: StateSubject) -> Result<ReceiptView, ApiError> {
        receipts::subject_receipt(&self.core.chain, subject)
            .map(|r| receipts::view(&r))
            .map_err(receipt_error)
    }

    fn checkpoint(&self) -> Result<CheckpointView, ApiError> {
        receipts::checkpoint(&self.core.chain)
            .map(|c| receipts::checkpoint_view(&c))
            .map_err(receipt_error)
    }

    fn consistency_proof(
        &self,
        old: Height,
        new: Height,
    ) -> Result<ConsistencyProofView, ApiError> {
        receipts::consistency_proof(&self.core.chain, old, new)
            .map(|p| receipts::consistency_view(&p))
            .map_err(receipt_error)
    }
}

fn receipt_error(error: ReceiptError) -> ApiError {
    match &error {
        ReceiptError::NotFinalized { .. } => {
            ApiError::not_found(code::TX_NOT_FINALIZED, error.to_string())
        }
        ReceiptError::UnknownCurrency { .. } => {
            ApiError::not_found(code::CURRENCY_NOT_FOUND, error.to_string())
        }
        ReceiptError::HeightNotFinalized { .. } | ReceiptError::AboveTip { .. } => {
            ApiError::not_found(code::HEIGHT_NOT_FINALIZED, error.to_string())
        }
        ReceiptError::HeightsOutOfOrder { .. } => {
            ApiError::bad_request(code::HEIGHTS_OUT_OF_ORDER, "old", error.to_string())
        }
        ReceiptError::NoCertificateYet { .. } => ApiError::Unavailable {
            detail: error.to_string(),
        },
        ReceiptError::Store(_)
        | ReceiptError::Corrupt { .. }
        | ReceiptError::Assemble(_)
        | ReceiptError::History(_) => internal(error),
    }
}

/// What obligation queries read from the finalized tip. The state and the
/// indexes may be one block apart while a commit lands (the store is
/// written before the tip moves): a listing then skips an obligation whose
/// record is not in the tip's state yet, and shows records as of the tip.
fn snapshot(tip: &crate::chain::ExecutedBlock) -> obligations::Snapshot<'_> {
    obligations::Snapshot {
        state: &tip.state,
        height: tip.block.header.height,
        as_of_ms: tip.block.header.timestamp_ms,
    }
}

fn parse_cursor(text: &str) -> Result<TxLocation, ApiError> {
    let bad = || ApiError::BadRequest {
        code: "bad_cursor",
        field: Some("cursor".into()),
        detail: "cursor must be `height:position` as returned in next_cursor".into(),
    };
    let (height, position) = text.split_once(':').ok_or_else(bad)?;
    Ok(TxLocation {
        height: Height(height.parse().map_err(|_| bad())?),
        position: position.parse().map_err(|_| bad())?,
    })
}

/// Serves the REST API on `listener` until the runtime stops, behind the
/// protections of `config`, over TLS with `tls`'s certificates when given.
pub fn serve<E, S>(
    runtime: S,
    listener: std::net::TcpListener,
    api: ApiService<E>,
    config: crate::config::ApiConfig,
    tls: Option<crate::tls::ApiTls>,
) -> Handle<()>
where
    E: Clock + Metrics + Send + Sync + 'static,
    S: Spawner,
{
    runtime.spawn(move |_| async move {
        if let Err(error) = listener.set_nonblocking(true) {
            error!(%error, "cannot configure the API listener");
            return;
        }
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(error) => {
                error!(%error, "cannot use the API listener");
                return;
            }
        };
        let app = crate::rest::protect(router(api), &config)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = match tls {
            Some(tls) => serve_tls(listener, app, tls, &config.tls).await,
            None => axum::serve(listener, app).await,
        };
        if let Err(error) = served {
            error!(%error, "the API server stopped");
        }
    })
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<
        axum::Router,
        std::net::SocketAddr,
    >,
    tls: crate::tls::ApiTls,
    config: &crate::config::TlsConfig,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let crate::tls::ApiTls {
        store,
        metrics,
        hangup,
    } = tls;
    let server_config = crate::tls::server_config(store.clone()).map_err(std::io::Error::other)?;
    let listener = crate::tls::TlsListener::new(listener, server_config, metrics.clone())?
        // `tap_io` only for axum's connect info, which it gives listeners
        // it wraps; the client's address is what rate limits go by.
        .tap_io(|_| ());
    let check_interval = std::time::Duration::from_secs(config.reload_check_s);
    let watcher = tokio::spawn(crate::tls::watch(store, check_interval, metrics, hangup));
    let served = axum::serve(listener, app).await;
    watcher.abort();
    served
}
