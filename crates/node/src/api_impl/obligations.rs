//! Obligation queries: records from the finalized state, listings and
//! history from the derived indexes, reports from the day totals.

use super::internal;
use crate::indexes::{self, Group, Listing};
use crate::rest::{ApiError, ObligationQuery, ReportQuery};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_api::limits::OBLIGATION_SCAN_MAX;
use cityledger_api::problem::code;
use cityledger_api::{
    ObligationHistoryItem, ObligationHistoryPage, ObligationReport, ObligationStatusFilter,
    ObligationView, ObligationsPage,
};
use cityledger_state::obligations::day_of;
use cityledger_storage::{ScanOrder, Store};
use cityledger_types::obligation::{ObligationRecord, ObligationStatus, ObligationTotals};
use cityledger_types::records::{CurrencyRecord, OrgRecord, StateKey};
use cityledger_types::smt::SparseMerkleTree;
use cityledger_types::{Digest, Height};

/// What a query reads: the finalized state and its block time.
pub(super) struct Snapshot<'a> {
    /// The finalized state.
    pub state: &'a SparseMerkleTree,
    /// Its height.
    pub height: Height,
    /// Block time of the finalized tip, at which penalties are computed.
    pub as_of_ms: u64,
}

impl Snapshot<'_> {
    /// The record under `key` in the finalized state.
    pub(super) fn load<T: borsh::BorshDeserialize>(
        &self,
        key: &StateKey,
    ) -> Result<Option<T>, ApiError> {
        self.state
            .get(&key.to_bytes())
            .map(|bytes| borsh::from_slice(bytes).map_err(internal))
            .transpose()
    }

    fn record(&self, id: &Digest) -> Result<Option<ObligationRecord>, ApiError> {
        self.load(&StateKey::Obligation(*id))
    }
}

/// The obligation `id`.
pub(super) fn obligation(
    snapshot: &Snapshot<'_>,
    id: Digest,
) -> Result<Option<ObligationView>, ApiError> {
    Ok(snapshot
        .record(&id)?
        .map(|record| ObligationView::new(id, &record, snapshot.as_of_ms)))
}

/// A page of a listing. The index chosen is the narrowest the query
/// allows; filters it does not cover are applied to the records, reading
/// at most `OBLIGATION_SCAN_MAX` index entries per page.
pub(super) fn obligations(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &ObligationQuery,
) -> Result<ObligationsPage, ApiError> {
    let listing = match (&query.payer, &query.issuer) {
        (Some(payer), _) => Listing::Payer(*payer),
        (None, Some(issuer)) => Listing::Issuer(issuer.clone()),
        (None, None) => {
            return Err(ApiError::bad_request(
                code::MISSING_PARAMETER,
                "payer",
                "give payer, issuer or both",
            ));
        }
    };
    let prefix = indexes::listing_prefix(&listing, query.status.map(group_of));
    let mut after = query
        .cursor
        .as_deref()
        .map(|cursor| decode_cursor(cursor, &prefix))
        .transpose()?;
    let mut items = Vec::with_capacity(query.limit);
    let mut scanned = 0usize;
    loop {
        let batch_size = (query.limit - items.len()).min(OBLIGATION_SCAN_MAX - scanned);
        let entries = store
            .index_scan(&prefix, after.as_deref(), batch_size, ScanOrder::Descending)
            .map_err(internal)?;
        scanned += entries.len();
        let exhausted = entries.len() < batch_size;
        for (key, _) in &entries {
            let id = indexes::listed_id(key).ok_or_else(|| internal("malformed index key"))?;
            // Indexed by the block being committed, whose state is not the
            // tip's yet: it appears once the tip moves.
            let Some(record) = snapshot.record(&id)? else {
                continue;
            };
            if keeps(query, &record, snapshot.as_of_ms) {
                items.push(ObligationView::new(id, &record, snapshot.as_of_ms));
            }
        }
        after = entries.last().map(|(key, _)| key.clone()).or(after);
        if exhausted {
            return Ok(ObligationsPage {
                items,
                next_cursor: None,
            });
        }
        if items.len() >= query.limit || scanned >= OBLIGATION_SCAN_MAX {
            return Ok(ObligationsPage {
                items,
                next_cursor: after.map(|key| URL_SAFE_NO_PAD.encode(key)),
            });
        }
    }
}

fn keeps(query: &ObligationQuery, record: &ObligationRecord, as_of_ms: u64) -> bool {
    let issuer_matches = query
        .issuer
        .as_ref()
        .is_none_or(|issuer| *issuer == record.issuer);
    let status_matches = query
        .status
        .is_none_or(|filter| filter.keeps(record, as_of_ms));
    issuer_matches && status_matches
}

/// The index group a status filter scans.
fn group_of(filter: ObligationStatusFilter) -> Group {
    match filter {
        ObligationStatusFilter::Open
        | ObligationStatusFilter::PartiallyPaid
        | ObligationStatusFilter::Overdue
        | ObligationStatusFilter::Payable => Group::Payable,
        ObligationStatusFilter::Paid => Group::of(ObligationStatus::Paid),
        ObligationStatusFilter::Waived => Group::of(ObligationStatus::Waived),
        ObligationStatusFilter::Appealed => Group::of(ObligationStatus::Appealed),
        ObligationStatusFilter::Cancelled => Group::of(ObligationStatus::Cancelled),
    }
}

pub(super) fn bad_cursor() -> ApiError {
    ApiError::bad_request(
        code::BAD_CURSOR,
        "cursor",
        "cursor is not a next_cursor this listing returned",
    )
}

/// A cursor is the last index key of a page, base64url; it must belong to
/// the listing it continues.
pub(super) fn decode_cursor(cursor: &str, prefix: &[u8]) -> Result<Vec<u8>, ApiError> {
    let key = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    if !key.starts_with(prefix) || key.len() <= prefix.len() {
        return Err(bad_cursor());
    }
    Ok(key)
}

/// A page of the history of `id`, oldest first.
pub(super) fn history(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    id: Digest,
    cursor: Option<String>,
    limit: usize,
) -> Result<ObligationHistoryPage, ApiError> {
    if snapshot.record(&id)?.is_none() {
        return Err(ApiError::not_found(
            code::OBLIGATION_NOT_FOUND,
            format!("no obligation {id}"),
        ));
    }
    history_page(store, &indexes::history_prefix(&id), cursor, limit)
}

/// A page of the history stored under `prefix`, oldest first: every
/// domain's history has the one shape of [`indexes::history_change`].
pub(super) fn history_page(
    store: &dyn Store,
    prefix: &[u8],
    cursor: Option<String>,
    limit: usize,
) -> Result<ObligationHistoryPage, ApiError> {
    let prefix = prefix.to_vec();
    let after = cursor
        .as_deref()
        .map(|cursor| decode_cursor(cursor, &prefix))
        .transpose()?;
    let entries = store
        .index_scan(&prefix, after.as_deref(), limit, ScanOrder::Ascending)
        .map_err(internal)?;
    let items = entries
        .iter()
        .map(|(_, value)| serde_json::from_slice::<ObligationHistoryItem>(value).map_err(internal))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = (entries.len() == limit)
        .then(|| entries.last().map(|(key, _)| URL_SAFE_NO_PAD.encode(key)))
        .flatten();
    Ok(ObligationHistoryPage { items, next_cursor })
}

/// The report of `query`: the day totals of its period summed, and the
/// running book.
pub(super) fn report(
    snapshot: &Snapshot<'_>,
    query: &ReportQuery,
) -> Result<ObligationReport, ApiError> {
    if snapshot
        .load::<OrgRecord>(&StateKey::Org(query.issuer.clone()))?
        .is_none()
    {
        return Err(ApiError::not_found(
            code::ORG_NOT_FOUND,
            format!("organisation {} does not exist", query.issuer),
        ));
    }
    let currency: CurrencyRecord = snapshot
        .load(&StateKey::Currency(query.currency.clone()))?
        .ok_or_else(|| {
            ApiError::not_found(
                code::CURRENCY_NOT_FOUND,
                format!("currency {} does not exist", query.currency),
            )
        })?;
    let mut period = ObligationTotals::default();
    for day in query.from_day..=query.to_day.min(day_of(snapshot.as_of_ms)) {
        let key = StateKey::ObligationTotals(query.issuer.clone(), query.currency.clone(), day);
        if let Some(totals) = snapshot.load::<ObligationTotals>(&key)? {
            period.add(&totals);
        }
    }
    let book: ObligationTotals = snapshot
        .load(&StateKey::ObligationBook(
            query.issuer.clone(),
            query.currency.clone(),
        ))?
        .unwrap_or_default();
    Ok(ObligationReport::new(
        query.issuer.clone(),
        query.currency.clone(),
        currency.decimals,
        (query.from_day, query.to_day),
        &period,
        &book,
        snapshot.height,
    ))
}
